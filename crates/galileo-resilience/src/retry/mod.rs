//! Retry: policies with backoff and jitter, presets, a retry budget so retries cannot storm a
//! failing provider, classifiers, and an async retry loop.
//!
//! - [`RetryPolicy`] (configuration, with the presets [`fast`](RetryPolicy::fast),
//!   [`standard`](RetryPolicy::standard), [`slow`](RetryPolicy::slow) and
//!   [`blockchain`](RetryPolicy::blockchain)) and [`Jitter`].
//! - Sans-IO cores that take `now` and an injected random source: [`Backoff`] (the delays),
//!   [`RetryState`] (one call's loop: retry when, or give up why) and [`RetryBudget`]
//!   (retries as a share of recent requests plus a floor per second).
//! - [`RetryCondition`] and [`RetryDecision`] (retry, retry after the server's pause, give
//!   up), the [`OnRetry`] hook, and the [`classify`] helpers for I/O errors and HTTP statuses.
//! - [`Retry`], the async loop, which ends in [`RetryError`] when it gives up.
//!
//! The user guide is `docs/resilience-retry.md`.

mod backoff;
mod budget;
pub mod classify;
mod decision;
mod error;
mod hook;
mod jitter;
mod policy;
mod presets;
mod rng;
mod runner;
mod state;

#[cfg(test)]
mod tests;

pub use backoff::Backoff;
pub use budget::{RetryBudget, RetryBudgetConfig, SharedRetryBudget};
pub use decision::{RetryAll, RetryCondition, RetryDecision};
pub use error::RetryError;
pub use hook::{NoHook, OnRetry};
pub use jitter::Jitter;
pub use policy::RetryPolicy;
pub use presets::RetryPreset;
pub use rng::{RngSource, SeededRng, ThreadRngSource};
pub use runner::Retry;
pub use state::{GiveUp, Next, RetryState};
