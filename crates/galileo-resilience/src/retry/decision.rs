//! What to do after a failed attempt: the retry condition and its decision.

use std::time::Duration;

/// What a [`RetryCondition`] says about a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetryDecision {
    /// Retry after the policy's backoff.
    Retry,
    /// Retry after the server's stated pause (`Retry-After`), clamped to the policy's window
    /// `[initial_delay, max_delay]`.
    RetryAfter(Duration),
    /// Give up: retrying cannot help (a bad request, a rejected signature, ...).
    DontRetry,
}

impl RetryDecision {
    /// [`Retry`](Self::Retry) when `retryable`, otherwise [`DontRetry`](Self::DontRetry).
    pub fn retry_if(retryable: bool) -> Self {
        if retryable {
            Self::Retry
        } else {
            Self::DontRetry
        }
    }

    /// [`RetryAfter`](Self::RetryAfter) when the server gave a pause and the error is
    /// retryable, [`Retry`](Self::Retry) when it is retryable without one, otherwise
    /// [`DontRetry`](Self::DontRetry).
    pub fn retry_if_after(retryable: bool, retry_after: Option<Duration>) -> Self {
        match (retryable, retry_after) {
            (false, _) => Self::DontRetry,
            (true, Some(d)) => Self::RetryAfter(d),
            (true, None) => Self::Retry,
        }
    }

    /// True unless [`DontRetry`](Self::DontRetry).
    pub fn is_retry(&self) -> bool {
        !matches!(self, Self::DontRetry)
    }
}

/// Decides, from a failed attempt's error, whether and when to retry.
///
/// Implemented by any `Fn(&E) -> RetryDecision` closure, and by [`RetryAll`].
///
/// ```
/// use std::io;
/// use galileo_resilience::retry::{RetryCondition, RetryDecision, classify};
///
/// let transient_io = |e: &io::Error| RetryDecision::retry_if(classify::is_transient_io(e));
/// let reset = io::Error::from(io::ErrorKind::ConnectionReset);
/// let denied = io::Error::from(io::ErrorKind::PermissionDenied);
/// assert_eq!(transient_io.decide(&reset), RetryDecision::Retry);
/// assert_eq!(transient_io.decide(&denied), RetryDecision::DontRetry);
/// ```
pub trait RetryCondition<E> {
    /// The decision for `error`.
    fn decide(&self, error: &E) -> RetryDecision;
}

impl<E, F> RetryCondition<E> for F
where
    F: Fn(&E) -> RetryDecision,
{
    fn decide(&self, error: &E) -> RetryDecision {
        self(error)
    }
}

/// The default condition: every error is retried with the policy's backoff.
#[derive(Clone, Copy, Debug, Default)]
pub struct RetryAll;

impl<E> RetryCondition<E> for RetryAll {
    fn decide(&self, _: &E) -> RetryDecision {
        RetryDecision::Retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_map_to_decisions() {
        assert_eq!(RetryDecision::retry_if(true), RetryDecision::Retry);
        assert_eq!(RetryDecision::retry_if(false), RetryDecision::DontRetry);
        let d = Duration::from_secs(2);
        assert_eq!(
            RetryDecision::retry_if_after(true, Some(d)),
            RetryDecision::RetryAfter(d)
        );
        assert_eq!(
            RetryDecision::retry_if_after(true, None),
            RetryDecision::Retry
        );
        assert_eq!(
            RetryDecision::retry_if_after(false, Some(d)),
            RetryDecision::DontRetry
        );
        assert!(RetryDecision::RetryAfter(d).is_retry() && !RetryDecision::DontRetry.is_retry());
        assert_eq!(RetryAll.decide(&"anything"), RetryDecision::Retry);
    }
}
