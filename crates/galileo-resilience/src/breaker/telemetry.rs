//! A breaker's metric handles, registered once when it is made so each call costs an atomic add.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

use super::{Outcome, State};
use crate::metrics::{BREAKER_CALLS, BREAKER_LATENCY, BREAKER_STATE};

/// The `result` label of `galileo_circuit_breaker_calls_total`: one per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallResult {
    /// Succeeded in less than `slow_call_ms`.
    Success,
    /// Succeeded, but slowly.
    Slow,
    /// Failed (classified as a failure), however long it took.
    Failure,
    /// Timed out.
    Timeout,
    /// Failed with an error the classifier ignored.
    Ignored,
    /// Refused by the breaker.
    Rejected,
    /// Abandoned before it finished.
    Cancelled,
}

impl CallResult {
    pub(crate) const ALL: [CallResult; 7] = [
        CallResult::Success,
        CallResult::Slow,
        CallResult::Failure,
        CallResult::Timeout,
        CallResult::Ignored,
        CallResult::Rejected,
        CallResult::Cancelled,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            CallResult::Success => "success",
            CallResult::Slow => "slow",
            CallResult::Failure => "failure",
            CallResult::Timeout => "timeout",
            CallResult::Ignored => "ignored",
            CallResult::Rejected => "rejected",
            CallResult::Cancelled => "cancelled",
        }
    }

    pub(crate) fn of(outcome: Outcome, slow: bool) -> Self {
        match outcome {
            Outcome::Success if slow => CallResult::Slow,
            Outcome::Success => CallResult::Success,
            Outcome::Failure => CallResult::Failure,
            Outcome::Timeout => CallResult::Timeout,
            Outcome::Ignored => CallResult::Ignored,
        }
    }
}

#[derive(Debug)]
pub(crate) struct BreakerMetrics {
    state: Gauge,
    calls: [Counter; 7],
    latency: Histogram,
}

impl BreakerMetrics {
    pub(crate) fn new(name: &str) -> Self {
        let m = Self {
            state: gauge!(BREAKER_STATE, "name" => name.to_owned()),
            calls: CallResult::ALL
                .map(|r| counter!(BREAKER_CALLS, "name" => name.to_owned(), "result" => r.label())),
            latency: histogram!(BREAKER_LATENCY, "name" => name.to_owned()),
        };
        m.state(State::Closed);
        m
    }

    pub(crate) fn state(&self, state: State) {
        self.state.set(state.gauge_value());
    }

    pub(crate) fn call(&self, result: CallResult) {
        // `ALL` lists the variants in declaration order.
        self.calls[result as usize].increment(1);
    }

    pub(crate) fn latency(&self, elapsed: Duration) {
        self.latency.record(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_the_results_in_declaration_order() {
        for (i, r) in CallResult::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r:?}");
        }
    }
}
