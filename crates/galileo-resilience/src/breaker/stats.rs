//! What a breaker reports about itself: [`BreakerStats`].

use std::time::Duration;

use super::State;
use super::window::WindowCounts;

/// Counts since the breaker was made (never reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Calls that succeeded.
    pub successes: u64,
    /// Calls that failed (timeouts excluded).
    pub failures: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls refused because the breaker was open or its half-open probes were all busy.
    pub rejected: u64,
    /// Calls whose error the classifier ignored.
    pub ignored: u64,
    /// Calls abandoned before they finished (a dropped future, a released permit).
    pub cancelled: u64,
    /// Finished calls that were slow (whatever their outcome).
    pub slow: u64,
    /// Times the breaker opened.
    pub opened: u64,
}

/// A breaker's state and counts at one instant.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BreakerStats {
    /// The breaker's name (empty for a bare [`CircuitBreaker`](super::CircuitBreaker)).
    pub name: String,
    /// Its state.
    pub state: State,
    /// Calls, failures and slow calls in the sliding window (kept while open, cleared on
    /// closing).
    pub window: WindowCounts,
    /// Failed share of the window's calls (0 with none).
    pub failure_rate: f64,
    /// Slow share of the window's calls (0 with none).
    pub slow_rate: f64,
    /// Failures in a row in the closed state.
    pub consecutive_failures: u32,
    /// Probes in flight while half-open.
    pub probes_in_flight: u32,
    /// Successful probes so far while half-open.
    pub probe_successes: u32,
    /// While open: the time left until a call may probe (zero once it is due; the breaker turns
    /// half-open at the next call).
    #[serde(rename = "half_open_in_ms", serialize_with = "millis")]
    pub half_open_in: Option<Duration>,
    /// Opens in a row without closing in between (drives the growing open time).
    pub open_streak: u32,
    /// Counts since the breaker was made.
    pub totals: Totals,
}

fn millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&(d.as_millis() as u64)),
        None => s.serialize_none(),
    }
}
