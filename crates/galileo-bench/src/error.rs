//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can stop a bench run. Messages say what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The simulator process could not be started or said something unexpected.
    #[error("galileo-sim: {0}")]
    Sim(String),
    /// A simulator admin endpoint (`/__sim/...`) refused or failed.
    #[error("galileo-sim admin {what}: {reason}")]
    Admin {
        /// Which call (`PUT /__sim/limits`, ...).
        what: &'static str,
        /// Why, with the server's answer when there was one.
        reason: String,
    },
    /// galileo-net refused its setup or a lease.
    #[error("galileo-net: {0}")]
    Net(#[from] galileo_net::NetError),
    /// A peer client (reqwest, hyper-util) could not be built.
    #[error("peer client: {0}")]
    Client(String),
    /// A measurement did not hold what the scenario needs (no request succeeded, a probe's
    /// connection count is off, ...).
    #[error("{scenario}: {reason}")]
    Measurement {
        /// The scenario.
        scenario: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// Reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The bench's arguments do not make sense.
    #[error("{0}")]
    Usage(String),
}

impl BenchError {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A measurement error of `scenario`.
    pub fn measurement(scenario: &'static str, reason: impl Into<String>) -> Self {
        Self::Measurement {
            scenario,
            reason: reason.into(),
        }
    }
}
