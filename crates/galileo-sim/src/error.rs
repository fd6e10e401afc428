//! The simulator's one error type.

use std::net::SocketAddr;

/// What can go wrong starting or steering the simulator. Request-level problems never show up
/// here: they become the HTTP answer the real service would give.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A configuration value is out of range or inconsistent.
    #[error("galileo-sim: bad configuration for `{service}`: {reason}")]
    Config {
        /// The service (or `sandbox`) whose section is wrong.
        service: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The configuration file could not be read or parsed.
    #[error("galileo-sim: cannot load {path}: {reason}")]
    ConfigFile {
        /// The file.
        path: String,
        /// The reader's or parser's message.
        reason: String,
    },
    /// A listener could not be opened.
    #[error(
        "galileo-sim: cannot listen on {addr} for `{service}`: {source} (is the address \
         configured on this host and the port free?)"
    )]
    Bind {
        /// The service.
        service: String,
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The sandbox's certificate authority or a server certificate could not be made.
    #[error("galileo-sim: TLS setup failed: {0}")]
    Tls(String),
    /// A service name the sandbox does not know.
    #[error("galileo-sim: no service named `{0}` in this sandbox")]
    UnknownService(String),
}

impl SimError {
    /// Whether the error is a configuration mistake (fix the file or the builder call).
    pub fn is_config(&self) -> bool {
        matches!(self, SimError::Config { .. } | SimError::ConfigFile { .. })
    }

    pub(crate) fn config(service: &str, reason: impl Into<String>) -> Self {
        SimError::Config {
            service: service.to_owned(),
            reason: reason.into(),
        }
    }
}
