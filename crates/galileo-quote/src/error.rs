//! The crate's error type.

use std::time::Duration;

use galileo_net::NetError;
use tokio::time::Instant;

/// Errors from galileo-quote.
///
/// Messages name the backend and what to do; they never carry API keys, request paths or query
/// strings (a query may carry a key), only the backend's name and the server's own message
/// (cut to 512 characters).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuoteError {
    /// The configuration cannot work; the message says what to change.
    #[error("invalid quote configuration: {0}")]
    Config(String),

    /// The provider answered 429. The IP already rests (the lease was told); skip this quote.
    #[error("{backend} rate limited this IP (429){}; the IP rests and pacing adapts", after(.retry_after))]
    RateLimited {
        /// The backend.
        backend: String,
        /// The provider's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },

    /// The provider found no route for this trade (DFlow `failed_to_compute_swap`, Jupiter
    /// `COULD_NOT_FIND_ANY_ROUTE`, ...). Skip this opportunity; the provider is healthy.
    #[error("{backend} found no route: {message}")]
    NoRoute {
        /// The backend.
        backend: String,
        /// The provider's message.
        message: String,
    },

    /// The provider refused the API key (401 or 403).
    #[error("{backend} refused the API key ({status}): check the key configured for it: {message}")]
    Unauthorized {
        /// The backend.
        backend: String,
        /// 401 or 403.
        status: u16,
        /// The provider's message (never the key).
        message: String,
    },

    /// The provider refused the request (another 4xx): a bug on our side or an input it does
    /// not accept.
    #[error("{backend} rejected the request ({status}{}): {message}", code_of(.code))]
    Rejected {
        /// The backend.
        backend: String,
        /// The HTTP status.
        status: u16,
        /// The provider's error code, when its body has one.
        code: Option<String>,
        /// The provider's message.
        message: String,
    },

    /// The provider failed (5xx, or 408/504): its problem; the circuit breaker counts it.
    #[error("{backend} failed ({status}{}): {message}", code_of(.code))]
    Provider {
        /// The backend.
        backend: String,
        /// The HTTP status.
        status: u16,
        /// The provider's error code, when its body has one.
        code: Option<String>,
        /// The provider's message.
        message: String,
    },

    /// A 2xx answer that is not what the API specifies (bad JSON, a missing field, an amount
    /// that is not a number).
    #[error("{backend} answered {what} that cannot be read: {reason}")]
    Decode {
        /// The backend.
        backend: String,
        /// What was being read (`"a quote"`, `"swap instructions"`).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The request could not be sent or answered (timeout, connect failure, oversized body).
    #[error("{backend}: {source}")]
    Net {
        /// The backend.
        backend: String,
        /// The transport's error (boxed: it is large, and errors travel in every result).
        #[source]
        source: Box<NetError>,
    },

    /// The backend's circuit breaker is open: it failed repeatedly; calls resume on their own.
    #[error("{backend} is failing; its circuit breaker refuses calls for {retry_in:?}")]
    BreakerOpen {
        /// The backend.
        backend: String,
        /// When calls may resume, if known.
        retry_at: Option<Instant>,
        /// How long from the refusal, if known.
        retry_in: Option<Duration>,
    },

    /// The buy leg quoted nothing (`outAmount` 0): there is no round trip to price.
    #[error("{backend} quoted 0 out for the buy leg; no round trip to price")]
    ZeroOut {
        /// The backend.
        backend: String,
    },

    /// A streaming source has no quote recent enough for this request.
    #[error("{backend} has no fresh quote for {what}")]
    NoFreshQuote {
        /// The backend.
        backend: String,
        /// The pair and amount asked for.
        what: String,
    },

    /// The backend's guard gave up waiting for the call (`call_timeout_ms`).
    #[error("{backend} did not answer within {after:?} (its breaker's call_timeout_ms)")]
    Timeout {
        /// The backend.
        backend: String,
        /// The timeout that passed.
        after: Duration,
    },

    /// The quote carries no transaction to execute (Ultra: an order made without a `taker`,
    /// one with an `errorCode` 1–3, one made for another taker, or a transaction that is not
    /// base64). The message says what to change.
    #[error("{backend} order has no usable transaction: {reason}")]
    NoTransaction {
        /// The backend.
        backend: String,
        /// Why, and what to do.
        reason: String,
    },

    /// Leasing an IP failed (the allocator closed, the IP is quarantined, ...).
    #[error("no source IP for {backend}: {source}")]
    Lease {
        /// The backend.
        backend: String,
        /// The allocator's error.
        #[source]
        source: Box<NetError>,
    },
}

fn after(d: &Option<Duration>) -> String {
    d.map(|d| format!(", Retry-After {}s", d.as_secs_f64()))
        .unwrap_or_default()
}

fn code_of(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
}

impl QuoteError {
    /// The provider answered 429.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, QuoteError::RateLimited { .. })
    }

    /// The provider's requested pause, for a 429 that gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            QuoteError::RateLimited { retry_after, .. } => *retry_after,
            QuoteError::BreakerOpen { retry_in, .. } => *retry_in,
            _ => None,
        }
    }

    /// "Skip this opportunity": no route, or nothing out. Not a provider failure.
    pub fn is_no_route(&self) -> bool {
        matches!(
            self,
            QuoteError::NoRoute { .. } | QuoteError::ZeroOut { .. }
        )
    }

    /// The provider itself failed (5xx, timeout, connect failure, unreadable answer): what its
    /// circuit breaker counts.
    pub fn is_provider_failure(&self) -> bool {
        match self {
            QuoteError::Provider { .. }
            | QuoteError::Decode { .. }
            | QuoteError::Timeout { .. } => true,
            QuoteError::Net { source, .. } => source.is_transient(),
            _ => false,
        }
    }

    /// Worth retrying on the same lease: the provider failed with a 5xx (which does not rest
    /// the IP). Timeouts and connect failures rest the IP, so a retry belongs on another lease.
    pub fn is_retryable(&self) -> bool {
        matches!(self, QuoteError::Provider { status, .. } if *status >= 500 && *status != 504)
    }

    /// The breaker refused the call.
    pub fn is_breaker_open(&self) -> bool {
        matches!(self, QuoteError::BreakerOpen { .. })
    }

    /// The configuration is wrong.
    pub fn is_config(&self) -> bool {
        matches!(self, QuoteError::Config(_))
    }

    /// The HTTP status the provider answered, for errors that came from an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            QuoteError::RateLimited { .. } => Some(429),
            QuoteError::Unauthorized { status, .. }
            | QuoteError::Rejected { status, .. }
            | QuoteError::Provider { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A short label for metrics (`result` in `galileo_quote_requests_total`).
    pub fn label(&self) -> &'static str {
        match self {
            QuoteError::Config(_) => "config",
            QuoteError::RateLimited { .. } => "rate_limited",
            QuoteError::NoRoute { .. } | QuoteError::ZeroOut { .. } => "no_route",
            QuoteError::Unauthorized { .. } => "unauthorized",
            QuoteError::Rejected { .. } => "rejected",
            QuoteError::Provider { .. } => "provider_error",
            QuoteError::Decode { .. } => "decode_error",
            QuoteError::Net { source, .. } if source.is_timeout() => "timeout",
            QuoteError::Timeout { .. } => "timeout",
            QuoteError::Net { .. } => "network_error",
            QuoteError::BreakerOpen { .. } => "breaker_open",
            QuoteError::NoFreshQuote { .. } => "no_fresh_quote",
            QuoteError::Lease { .. } => "no_lease",
            QuoteError::NoTransaction { .. } => "no_transaction",
        }
    }
}
