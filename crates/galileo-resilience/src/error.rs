//! The crate's error type.

/// Errors from galileo-resilience.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A quota that cannot be enforced, with the reason and what to change.
    #[error("invalid rate limit: {reason}")]
    InvalidQuota {
        /// What is wrong with it.
        reason: String,
    },
    /// A request asked for more cells than a full bucket holds, so no wait would admit it.
    #[error(
        "a request of cost {cost} can never fit a rate limit whose burst is {burst}: raise the burst to at least {cost} or lower the cost"
    )]
    CostExceedsBurst {
        /// The cost asked for.
        cost: u32,
        /// The configured burst.
        burst: u32,
    },
}

impl Error {
    /// True when the error comes from a configuration that can never work; retrying is useless.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            Error::InvalidQuota { .. } | Error::CostExceedsBurst { .. }
        )
    }
}
