//! Circuit breakers: a sans-IO state machine per protected dependency, an async wrapper with a
//! per-call timeout and fallback, and a registry keyed by name.
//!
//! - [`CircuitBreaker`] is the policy: `acquire(now)` gives a [`Permit`] or [`Rejected`], and
//!   `record(permit, outcome, now)` returns the [`Transition`] it caused. It never reads a
//!   clock. It opens on consecutive failures, on a failure rate or a slow-call rate over a
//!   count- or time-based window (after a minimum number of calls), stays open for a time that
//!   can grow and carries jitter, and closes after enough successful half-open probes.
//! - [`Breaker`] is the shared async shell: [`call`](Breaker::call),
//!   [`call_with`](Breaker::call_with) (a [`Classify`] says which errors are the dependency's
//!   fault), [`call_or`](Breaker::call_or) (fallback), the per-call timeout, metrics and
//!   events. A dropped call frees its probe slot.
//! - [`BreakerRegistry`] holds breakers by name, gives a [`BreakerStats`] snapshot of all of
//!   them, and broadcasts every [`BreakerEvent`].
//!
//! The only transitions are Closed → Open, Open → HalfOpen, HalfOpen → Closed and
//! HalfOpen → Open.
//!
//! Metrics (names in [`crate::metrics`]): `galileo_circuit_breaker_state{name}` (0 closed,
//! 1 open, 2 half-open), `galileo_circuit_breaker_calls_total{name,result}` with `result` one
//! of `success`, `slow` (a success of at least `slow_call_ms`), `failure` (however long),
//! `timeout`, `ignored` (an error the classifier ignored), `rejected`, `cancelled` (dropped
//! before finishing), and `galileo_circuit_breaker_latency_seconds{name}` for every call that
//! finished (rejected and cancelled calls excluded).

mod async_breaker;
mod circuit_breaker;
mod config;
mod error;
mod event;
mod guard;
mod jitter;
mod outcome;
mod registry;
mod state;
mod stats;
mod telemetry;
mod window;

#[cfg(test)]
mod tests;

pub use async_breaker::{Breaker, BreakerBuilder};
pub use circuit_breaker::{CircuitBreaker, Permit, Rejected};
pub use config::{BreakerConfig, WindowSpec};
pub use error::BreakerError;
pub use event::BreakerEvent;
pub use guard::BreakerPermit;
pub use jitter::{JitterSource, SeededJitter};
pub use outcome::{AllFailures, Classify, Outcome};
pub use registry::BreakerRegistry;
pub use state::{State, Transition, TransitionReason};
pub use stats::{BreakerStats, Totals};
pub use window::WindowCounts;
