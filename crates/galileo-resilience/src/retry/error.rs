//! How a retry loop ends without a result.

/// Why a [`Retry`](super::Retry) loop gave up, with the last attempt's error.
///
/// `attempts` counts every attempt, the first included (so retries made = `attempts - 1`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::retry::{Retry, RetryPolicy};
///
/// let retry = Retry::new("doc", RetryPolicy::fast().with_max_retries(2))?;
/// let err = retry.run(|| async { Err::<(), _>("still down") }).await.unwrap_err();
/// assert!(err.is_exhausted());
/// assert_eq!(err.attempts(), 3);
/// assert_eq!(err.into_inner(), "still down");
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum RetryError<E> {
    /// Every attempt the policy allows failed.
    #[error(
        "still failing after {attempts} attempts, all the retry policy allows: {last}; the \
         dependency keeps failing, so check it (raise max_retries only if its failures are brief)"
    )]
    Exhausted {
        /// Attempts made, the first included.
        attempts: u32,
        /// The last attempt's error.
        #[source]
        last: E,
    },
    /// The retry condition said retrying cannot help.
    #[error(
        "failed with an error that retrying cannot fix (attempt {attempts}): {error}; fix its \
         cause, or change the retry condition if it is in fact transient"
    )]
    NotRetryable {
        /// Attempts made, the first included.
        attempts: u32,
        /// The error.
        #[source]
        error: E,
    },
    /// The shared retry budget is spent: too many calls to this dependency are failing for
    /// retries to help.
    #[error(
        "retry budget exhausted after {attempts} attempts: {last}; so many calls are failing \
         that retrying would only add load (the dependency is probably down; raise retry_ratio \
         or min_retries_per_sec only if retries are known to succeed)"
    )]
    BudgetExhausted {
        /// Attempts made, the first included.
        attempts: u32,
        /// The last attempt's error.
        #[source]
        last: E,
    },
}

impl<E> RetryError<E> {
    /// True when every attempt the policy allows failed.
    pub fn is_exhausted(&self) -> bool {
        matches!(self, Self::Exhausted { .. })
    }

    /// True when the retry condition refused to retry.
    pub fn is_not_retryable(&self) -> bool {
        matches!(self, Self::NotRetryable { .. })
    }

    /// True when the retry budget refused a retry.
    pub fn is_budget_exhausted(&self) -> bool {
        matches!(self, Self::BudgetExhausted { .. })
    }

    /// Attempts made, the first included.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Exhausted { attempts, .. }
            | Self::NotRetryable { attempts, .. }
            | Self::BudgetExhausted { attempts, .. } => *attempts,
        }
    }

    /// The last attempt's error.
    pub fn inner(&self) -> &E {
        match self {
            Self::Exhausted { last, .. }
            | Self::NotRetryable { error: last, .. }
            | Self::BudgetExhausted { last, .. } => last,
        }
    }

    /// The last attempt's error, by value.
    pub fn into_inner(self) -> E {
        match self {
            Self::Exhausted { last, .. }
            | Self::NotRetryable { error: last, .. }
            | Self::BudgetExhausted { last, .. } => last,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;

    use super::*;

    #[test]
    fn messages_say_what_happened_and_what_to_do() {
        let e = RetryError::Exhausted {
            attempts: 4,
            last: io::Error::from(io::ErrorKind::TimedOut),
        };
        let s = e.to_string();
        assert!(
            s.contains("after 4 attempts") && s.contains("timed out") && s.contains("max_retries"),
            "{s}"
        );
        assert!(e.source().is_some());

        let e = RetryError::NotRetryable {
            attempts: 1,
            error: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        let s = e.to_string();
        assert!(
            s.contains("attempt 1") && s.contains("retry condition"),
            "{s}"
        );

        let e = RetryError::BudgetExhausted {
            attempts: 2,
            last: io::Error::from(io::ErrorKind::ConnectionReset),
        };
        let s = e.to_string();
        assert!(
            s.contains("budget exhausted after 2") && s.contains("retry_ratio"),
            "{s}"
        );
        assert!(e.is_budget_exhausted() && !e.is_exhausted() && !e.is_not_retryable());
        assert_eq!(
            (e.attempts(), e.inner().kind()),
            (2, io::ErrorKind::ConnectionReset)
        );
        assert_eq!(e.into_inner().kind(), io::ErrorKind::ConnectionReset);
    }
}
