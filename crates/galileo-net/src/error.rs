//! The crate's error type.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::inventory::Quarantined;

/// Errors from galileo-net.
///
/// Messages name the source IP and the server's authority (`host:port`), never a full URI: query
/// strings carry API keys and tokens, and errors end up in logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The network configuration cannot work; the message says what to change.
    #[error("invalid network configuration: {0}")]
    Config(String),

    /// Fewer usable source IPs than the configuration requires.
    #[error("{usable} usable source IP(s), but require_ips = {required}; quarantined: {}", list(.quarantined))]
    NotEnoughIps {
        /// `network.require_ips`.
        required: usize,
        /// How many passed the bind probe.
        usable: usize,
        /// Every candidate that was refused, with its reason.
        quarantined: Vec<Quarantined>,
    },

    /// The interfaces of this host could not be listed.
    #[error("cannot list this host's network interfaces (needed by auto discovery): {0}")]
    Interfaces(#[source] io::Error),

    /// An IP that is not in the allocator's inventory.
    #[error("{0} is not one of the allocator's source IPs")]
    UnknownIp(IpAddr),

    /// An IP that is quarantined and cannot be leased until restored.
    #[error("{ip} is quarantined: {reason}")]
    Quarantined {
        /// The IP asked for.
        ip: IpAddr,
        /// Why it is out of service.
        reason: String,
    },

    /// A backend id from another allocator.
    #[error("backend #{0} is not registered with this allocator")]
    UnknownBackend(u16),

    /// A lease asks for more requests than the backend's per-IP burst allows at once.
    #[error(
        "a lease of cost {cost} can never fit backend {backend}'s per-IP burst of {burst}: raise its burst to at least {cost} or lease fewer requests at a time"
    )]
    CostExceedsBurst {
        /// The backend's name.
        backend: String,
        /// The lease's cost.
        cost: u32,
        /// The backend's per-IP burst.
        burst: u32,
    },

    /// `try_acquire` found no eligible IP (or others wait ahead of it).
    #[error("no source IP is eligible right now")]
    WouldBlock {
        /// When the clock alone may change that (a rest ending, a budget refilling); `None` when
        /// only a release can (or the request queued behind others that must go first).
        retry_at: Option<Instant>,
    },

    /// The allocator was closed; no more leases are handed out.
    #[error("the IP allocator is closed")]
    Closed,

    /// No response within the request timeout.
    #[error("request from {local_ip} to {authority} timed out after {after:?}")]
    Timeout {
        /// The leased source IP.
        local_ip: IpAddr,
        /// `host:port` of the server.
        authority: String,
        /// The timeout that expired.
        after: Duration,
    },

    /// The TCP connection (or the TLS handshake on it) could not be made.
    #[error("cannot connect from {local_ip} to {authority}: {source}")]
    Connect {
        /// The leased source IP.
        local_ip: IpAddr,
        /// `host:port` of the server.
        authority: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The HTTP exchange failed after the connection was made.
    #[error("HTTP exchange from {local_ip} with {authority} failed: {source}")]
    Http {
        /// The leased source IP.
        local_ip: IpAddr,
        /// `host:port` of the server.
        authority: String,
        /// The underlying error.
        #[source]
        source: HttpFailure,
    },

    /// The response body was larger than `http.max_response_bytes`.
    #[error(
        "response from {authority} exceeds {limit} bytes (raise http.max_response_bytes if it is legitimate)"
    )]
    BodyTooLarge {
        /// `host:port` of the server.
        authority: String,
        /// The configured limit.
        limit: usize,
    },

    /// The request cannot be sent as given.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The TLS trust configuration could not be built.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

fn list(q: &[Quarantined]) -> String {
    if q.is_empty() {
        return "none".into();
    }
    q.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl NetError {
    /// The request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, NetError::Timeout { .. })
    }

    /// The connection could not be made (refused, unreachable, TLS handshake failed).
    pub fn is_connect(&self) -> bool {
        matches!(self, NetError::Connect { .. })
    }

    /// `try_acquire` found nothing eligible; [`retry_at`](Self::retry_at) says when to look again.
    pub fn is_would_block(&self) -> bool {
        matches!(self, NetError::WouldBlock { .. })
    }

    /// The allocator is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, NetError::Closed)
    }

    /// The error comes from configuration or a request that can never succeed: retrying is useless.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            NetError::Config(_)
                | NetError::NotEnoughIps { .. }
                | NetError::UnknownIp(_)
                | NetError::UnknownBackend(_)
                | NetError::CostExceedsBurst { .. }
                | NetError::InvalidRequest(_)
                | NetError::Tls(_)
        )
    }

    /// For [`WouldBlock`](NetError::WouldBlock): when an IP becomes eligible by the clock alone.
    pub fn retry_at(&self) -> Option<Instant> {
        match self {
            NetError::WouldBlock { retry_at } => *retry_at,
            _ => None,
        }
    }

    /// True for transport failures worth retrying on another IP.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            NetError::Timeout { .. } | NetError::Connect { .. } | NetError::Http { .. }
        )
    }
}

/// The hyper error behind [`NetError::Http`]: a failed exchange or a broken response body.
#[derive(Debug)]
pub struct HttpFailure(HttpFailureKind);

#[derive(Debug)]
enum HttpFailureKind {
    Exchange(hyper_util::client::legacy::Error),
    Body(hyper::Error),
}

impl HttpFailure {
    pub(crate) fn exchange(e: hyper_util::client::legacy::Error) -> Self {
        Self(HttpFailureKind::Exchange(e))
    }

    pub(crate) fn body(e: hyper::Error) -> Self {
        Self(HttpFailureKind::Body(e))
    }
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            HttpFailureKind::Exchange(e) => match std::error::Error::source(e) {
                // hyper-util's own message is only "client error (SendRequest)"; say what broke.
                Some(cause) => write!(f, "{e}: {cause}"),
                None => write!(f, "{e}"),
            },
            HttpFailureKind::Body(e) => write!(f, "reading the response body: {e}"),
        }
    }
}

impl std::error::Error for HttpFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            HttpFailureKind::Exchange(e) => Some(e),
            HttpFailureKind::Body(e) => Some(e),
        }
    }
}
