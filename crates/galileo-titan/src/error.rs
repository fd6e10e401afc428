//! The crate's error type.

use std::net::IpAddr;
use std::time::Duration;

use galileo_net::NetError;

use crate::codec::FrameError;

/// Errors from galileo-titan.
///
/// Messages say what to do. They never carry the JWT (not in the URL, not in a header, not in
/// a server's message quoting it) nor the URL's query string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TitanError {
    /// The configuration cannot work; the message says what to change.
    #[error("invalid Titan configuration: {0}")]
    Config(String),

    /// No JWT was configured, or it cannot be read.
    #[error("Titan JWT: {0}")]
    Jwt(String),

    /// Titan refused the JWT at the handshake (401/403). `message` is the server's reason
    /// (expired, wrong audience, bad signature, ...).
    #[error(
        "Titan refused the JWT from {ip} ({status}): {message}; supply a valid token \
         (config `jwt` or the environment variable named by `jwt_env`)"
    )]
    Unauthorized {
        /// The source IP.
        ip: IpAddr,
        /// 401 or 403.
        status: u16,
        /// The server's reason.
        message: String,
    },

    /// Titan rate limited the handshake (429). The IP rests (the lease was told).
    #[error("Titan rate limited the connection from {ip} (429){}; the IP rests and the connection retries", after(.retry_after))]
    RateLimited {
        /// The source IP.
        ip: IpAddr,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },

    /// The handshake was refused otherwise (400, 404, 426, 5xx, ...).
    #[error("Titan refused the WebSocket upgrade from {ip} ({status}): {message}")]
    Handshake {
        /// The source IP.
        ip: IpAddr,
        /// The HTTP status.
        status: u16,
        /// The server's reason.
        message: String,
    },

    /// The server chose no sub-protocol, or one that was not offered.
    #[error(
        "Titan answered sub-protocol {answered:?}, which is not one offered ({offered}); \
         check `compression` in the Titan configuration"
    )]
    SubProtocol {
        /// What the server echoed.
        answered: Option<String>,
        /// What was offered.
        offered: String,
    },

    /// Connecting the TCP (or TLS) stream failed; the IP was told.
    #[error("Titan connection from {ip}: {source}")]
    Net {
        /// The source IP.
        ip: IpAddr,
        /// The transport's error.
        #[source]
        source: NetError,
    },

    /// No lease on the IP (quarantined, allocator closed, ...).
    #[error("no lease on {ip} for a Titan stream: {source}")]
    Lease {
        /// The source IP.
        ip: IpAddr,
        /// The allocator's error.
        #[source]
        source: NetError,
    },

    /// The WebSocket failed (handshake or protocol).
    #[error("Titan WebSocket from {ip}: {reason}")]
    WebSocket {
        /// The source IP.
        ip: IpAddr,
        /// What happened.
        reason: String,
    },

    /// Something took longer than allowed.
    #[error("Titan {what} from {ip} took longer than {after:?}")]
    Timeout {
        /// The source IP.
        ip: IpAddr,
        /// What was waited for.
        what: &'static str,
        /// The limit.
        after: Duration,
    },

    /// Titan answered a request with `Error`.
    #[error("Titan refused the request ({code}): {message}")]
    Refused {
        /// The server's code.
        code: i64,
        /// The server's message.
        message: String,
    },

    /// A frame could not be read.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

fn after(d: &Option<Duration>) -> String {
    d.map(|d| format!(", Retry-After {}s", d.as_secs_f64()))
        .unwrap_or_default()
}

impl TitanError {
    /// Titan refused the token: waiting will not help until the token is replaced.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, TitanError::Unauthorized { .. })
    }

    /// The configuration (or the token's presence) is wrong.
    pub fn is_config(&self) -> bool {
        matches!(self, TitanError::Config(_) | TitanError::Jwt(_))
    }

    /// The label of `galileo_titan_reconnects_total{reason}` for a connection attempt that
    /// failed with this error.
    pub fn reason(&self) -> &'static str {
        match self {
            TitanError::Unauthorized { .. } | TitanError::Jwt(_) => "unauthorized",
            TitanError::RateLimited { .. } => "rate_limited",
            TitanError::Handshake { .. } | TitanError::SubProtocol { .. } => "handshake",
            TitanError::Net { .. } | TitanError::WebSocket { .. } => "connect",
            TitanError::Timeout { .. } => "timeout",
            TitanError::Lease { .. } => "no_lease",
            TitanError::Config(_) => "config",
            TitanError::Frame(_) | TitanError::Refused { .. } => "protocol",
        }
    }
}
