//! The outcome of a call through a [`Breaker`](super::Breaker) that did not succeed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// Why a call through a [`Breaker`](super::Breaker) gave no value: the breaker refused it, it
/// timed out, or the call itself failed with the caller's error `E`.
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::breaker::BreakerError;
///
/// let e: BreakerError<std::io::Error> = BreakerError::Timeout { name: "jupiter".into(), after: Duration::from_secs(2) };
/// assert!(e.is_timeout() && !e.is_open());
/// assert!(e.to_string().contains("raise call_timeout_ms"));
/// assert!(e.into_inner().is_none());
/// ```
#[derive(Debug)]
pub enum BreakerError<E> {
    /// The breaker refused the call without running it.
    Open {
        /// The breaker's name.
        name: Arc<str>,
        /// When open: the instant a probe will be let through. `None` when the breaker is
        /// half-open and every probe slot is busy.
        retry_at: Option<Instant>,
        /// `retry_at` as a delay from the moment of refusal.
        retry_in: Option<Duration>,
    },
    /// The call ran longer than `call_timeout_ms` and was dropped; the breaker counted a
    /// failure.
    Timeout {
        /// The breaker's name.
        name: Arc<str>,
        /// The timeout that passed.
        after: Duration,
    },
    /// The call ran and returned this error (classified by the caller's classifier).
    Inner(E),
}

impl<E> BreakerError<E> {
    /// True when the breaker refused the call (open, or half-open with its probes busy).
    pub fn is_open(&self) -> bool {
        matches!(self, BreakerError::Open { .. })
    }

    /// True when the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, BreakerError::Timeout { .. })
    }

    /// True when the call ran and failed with the caller's error.
    pub fn is_inner(&self) -> bool {
        matches!(self, BreakerError::Inner(_))
    }

    /// The caller's error, if the call ran and returned one.
    pub fn into_inner(self) -> Option<E> {
        match self {
            BreakerError::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// A reference to the caller's error, if any.
    pub fn inner(&self) -> Option<&E> {
        match self {
            BreakerError::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// When a refused call may be tried again (`None` for other errors, and when half-open).
    pub fn retry_at(&self) -> Option<Instant> {
        match self {
            BreakerError::Open { retry_at, .. } => *retry_at,
            _ => None,
        }
    }

    /// The breaker's name, unless the error is the caller's.
    pub fn breaker_name(&self) -> Option<&str> {
        match self {
            BreakerError::Open { name, .. } | BreakerError::Timeout { name, .. } => Some(name),
            BreakerError::Inner(_) => None,
        }
    }

    /// The same error with the caller's error mapped.
    pub fn map_inner<F, E2>(self, f: F) -> BreakerError<E2>
    where
        F: FnOnce(E) -> E2,
    {
        match self {
            BreakerError::Open {
                name,
                retry_at,
                retry_in,
            } => BreakerError::Open {
                name,
                retry_at,
                retry_in,
            },
            BreakerError::Timeout { name, after } => BreakerError::Timeout { name, after },
            BreakerError::Inner(e) => BreakerError::Inner(f(e)),
        }
    }
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerError::Open {
                name,
                retry_in: Some(d),
                ..
            } => write!(
                f,
                "circuit breaker `{name}` is open after repeated failures; it lets a probe through in {d:?}: skip this call or use a fallback until then"
            ),
            BreakerError::Open { name, .. } => write!(
                f,
                "circuit breaker `{name}` is half-open and its probe calls are all in flight: skip this call or use a fallback until they decide"
            ),
            BreakerError::Timeout { name, after } => write!(
                f,
                "call through circuit breaker `{name}` timed out after {after:?} and counted as a failure; raise call_timeout_ms if the dependency is legitimately this slow"
            ),
            BreakerError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BreakerError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BreakerError::Inner(e) => e.source(),
            _ => None,
        }
    }
}
