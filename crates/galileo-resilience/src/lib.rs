//! Resilience policies for Galileo and for any bot that wants them.
//!
//! Each policy is a sans-IO state machine that takes `now` (so tests run it on paused time),
//! wrapped by a thin async shell. This release holds the in-process rate limiter that
//! galileo-net's IP allocator builds on:
//!
//! - [`Gcra`]: the generic cell rate algorithm for one key, O(1) and exact about when a denied
//!   request would fit;
//! - [`KeyedGcra`]: one bucket per key under a shared [`Quota`], with bounded memory;
//! - [`AsyncKeyedLimiter`]: waits for cells by sleeping to the refill instant, never spinning.
//!
//! Tiered and distributed limits, circuit breakers, retry policies and sagas come next
//! (see `docs/architecture.md`).
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod error;
pub mod rate_limit;

pub use error::Error;
pub use rate_limit::{Admitted, AsyncKeyedLimiter, Denied, Gcra, KeyedGcra, Quota};
