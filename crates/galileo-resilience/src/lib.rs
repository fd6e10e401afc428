//! Resilience policies for Galileo and for any bot that wants them.
//!
//! Each policy is a sans-IO state machine that takes `now` (so tests run it on paused time),
//! wrapped by a thin async shell:
//!
//! - [`rate_limit`]: GCRA and sliding-window limiters, keyed with bounded memory; tiered limits
//!   (global → source IP → API key → endpoint) admitted all-or-nothing; a Redis backend shared
//!   by a fleet (feature `redis`) that falls back to a local share when Redis is down; a tower
//!   layer for inbound HTTP (feature `tower`).
//! - [`breaker`]: circuit breakers with consecutive-failure, error-rate and slow-call
//!   thresholds, half-open probes, and a registry.
//! - [`retry`]: backoff with jitter, presets, a retry budget, classifiers.
//! - [`saga`]: steps with compensations, run in order and undone in reverse, with a durable log.
//!
//! Metric names are in [`metrics`].
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod breaker;
mod error;
pub mod metrics;
pub mod rate_limit;
pub mod retry;
pub mod saga;

pub use error::Error;
pub use rate_limit::{Admitted, AsyncKeyedLimiter, Denied, Gcra, KeyedGcra, Quota};
