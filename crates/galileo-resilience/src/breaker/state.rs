//! The three states of a breaker and the transitions between them.

use std::fmt;

use tokio::time::Instant;

/// Where a breaker stands.
///
/// The only transitions are Closed → Open, Open → HalfOpen, HalfOpen → Closed and
/// HalfOpen → Open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Calls pass; outcomes are counted against the thresholds.
    Closed,
    /// Calls are refused until the open time has passed.
    Open,
    /// A few probe calls pass; their outcomes decide between Closed and Open.
    HalfOpen,
}

impl State {
    /// The value of the `galileo_circuit_breaker_state` gauge: 0 closed, 1 open, 2 half-open.
    pub fn gauge_value(self) -> f64 {
        match self {
            State::Closed => 0.0,
            State::Open => 1.0,
            State::HalfOpen => 2.0,
        }
    }

    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }

    /// Whether `from → to` is one of the four legal edges.
    pub fn can_move_to(self, to: State) -> bool {
        matches!(
            (self, to),
            (State::Closed, State::Open)
                | (State::Open, State::HalfOpen)
                | (State::HalfOpen, State::Closed)
                | (State::HalfOpen, State::Open)
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a breaker changed state.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TransitionReason {
    /// Closed → Open: this many failures in a row reached `failure_threshold`.
    ConsecutiveFailures {
        /// Failures in a row.
        count: u32,
    },
    /// Closed → Open: the window's failure rate reached `failure_rate`.
    FailureRate {
        /// Failed share of the window's calls.
        rate: f64,
        /// Calls in the window.
        calls: u32,
    },
    /// Closed → Open: the window's slow-call rate reached `slow_call_rate`.
    SlowCallRate {
        /// Slow share of the window's calls.
        rate: f64,
        /// Calls in the window.
        calls: u32,
    },
    /// Open → HalfOpen: the open time has passed and a call asked to go through.
    OpenTimeElapsed,
    /// HalfOpen → Open: a probe failed (or timed out).
    ProbeFailed,
    /// HalfOpen → Open: a probe succeeded but was slow while `slow_call_rate` is set.
    ProbeSlow,
    /// HalfOpen → Closed: `half_open_successes` probes succeeded in a row.
    ProbesSucceeded {
        /// Successful probes.
        successes: u32,
    },
}

impl fmt::Display for TransitionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionReason::ConsecutiveFailures { count } => {
                write!(f, "{count} consecutive failures")
            }
            TransitionReason::FailureRate { rate, calls } => {
                write!(f, "failure rate {:.1}% over {calls} calls", rate * 100.0)
            }
            TransitionReason::SlowCallRate { rate, calls } => {
                write!(f, "slow-call rate {:.1}% over {calls} calls", rate * 100.0)
            }
            TransitionReason::OpenTimeElapsed => f.write_str("open time elapsed"),
            TransitionReason::ProbeFailed => f.write_str("a probe failed"),
            TransitionReason::ProbeSlow => f.write_str("a probe was slow"),
            TransitionReason::ProbesSucceeded { successes } => {
                write!(f, "{successes} probes succeeded")
            }
        }
    }
}

/// A state change, as returned by [`CircuitBreaker`](super::CircuitBreaker) and broadcast by
/// the registry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// Why.
    pub reason: TransitionReason,
    /// When (the `now` of the call that caused it).
    pub at: Instant,
    /// When entering Open: the instant a probe will be let through.
    pub open_until: Option<Instant>,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.from, self.to, self.reason)?;
        if let Some(until) = self.open_until {
            write!(
                f,
                ", probing again in {:?}",
                until.saturating_duration_since(self.at)
            )?;
        }
        Ok(())
    }
}
