//! The crate's error type, for configuration and infrastructure. The outcome of a guarded call
//! (a breaker, a retry loop, a saga) is each module's own generic error type, which wraps the
//! caller's error.

use std::path::PathBuf;

/// Errors from galileo-resilience's configuration and infrastructure.
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
    /// A policy configuration that cannot work (a breaker, a retry policy, a saga, a tier).
    #[error("invalid {what} configuration: {reason}")]
    InvalidConfig {
        /// Which configuration (`circuit breaker`, `retry policy`, ...).
        what: &'static str,
        /// What is wrong and what to change.
        reason: String,
    },
    /// Redis could not be reached or answered something unexpected.
    #[error("redis: {reason}")]
    Redis {
        /// What happened (never the connection URL's password).
        reason: String,
    },
    /// The saga step log could not be read or written.
    #[error("saga step log {}: {source}", path.display())]
    StepLog {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The saga step log holds a record that cannot be understood.
    #[error("saga step log {}, line {line}: {reason}", path.display())]
    StepLogCorrupt {
        /// The log file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// True when the error comes from a configuration that can never work; retrying is useless.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            Error::InvalidQuota { .. }
                | Error::CostExceedsBurst { .. }
                | Error::InvalidConfig { .. }
        )
    }

    /// True for infrastructure failures (Redis, the step log) that may pass.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Redis { .. } | Error::StepLog { .. })
    }
}
