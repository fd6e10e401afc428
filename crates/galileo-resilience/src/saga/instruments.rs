//! The saga's metric handles, registered once per saga definition so recording costs an
//! atomic operation.

use metrics::{Counter, Gauge, Histogram};

use crate::metrics::{SAGA_ACTIVE, SAGA_DURATION, SAGA_EXECUTIONS, SAGA_STEPS};

/// Results of `galileo_saga_executions_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RunResult {
    Completed,
    Compensated,
    CompensationFailed,
    LogFailed,
    Recovered,
    Cancelled,
}

impl RunResult {
    const ALL: [RunResult; 6] = [
        RunResult::Completed,
        RunResult::Compensated,
        RunResult::CompensationFailed,
        RunResult::LogFailed,
        RunResult::Recovered,
        RunResult::Cancelled,
    ];

    fn label(self) -> &'static str {
        match self {
            RunResult::Completed => "completed",
            RunResult::Compensated => "compensated",
            RunResult::CompensationFailed => "compensation_failed",
            RunResult::LogFailed => "log_failed",
            RunResult::Recovered => "recovered",
            RunResult::Cancelled => "cancelled",
        }
    }
}

/// Results of `galileo_saga_steps_total`, one per attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AttemptLabel {
    Completed,
    Failed,
    TimedOut,
    Compensated,
    CompensationFailed,
    CompensationTimedOut,
}

impl AttemptLabel {
    const ALL: [AttemptLabel; 6] = [
        AttemptLabel::Completed,
        AttemptLabel::Failed,
        AttemptLabel::TimedOut,
        AttemptLabel::Compensated,
        AttemptLabel::CompensationFailed,
        AttemptLabel::CompensationTimedOut,
    ];

    fn label(self) -> &'static str {
        match self {
            AttemptLabel::Completed => "completed",
            AttemptLabel::Failed => "failed",
            AttemptLabel::TimedOut => "timed_out",
            AttemptLabel::Compensated => "compensated",
            AttemptLabel::CompensationFailed => "compensation_failed",
            AttemptLabel::CompensationTimedOut => "compensation_timed_out",
        }
    }
}

#[derive(Debug)]
pub(super) struct Instruments {
    runs: [Counter; 6],
    steps: Vec<[Counter; 6]>,
    pub(super) duration: Histogram,
    pub(super) active: Gauge,
}

impl Instruments {
    pub(super) fn new(saga: &str, steps: &[&str]) -> Self {
        let runs = RunResult::ALL.map(|r| {
            metrics::counter!(SAGA_EXECUTIONS, "saga" => saga.to_owned(), "result" => r.label())
        });
        let steps = steps
            .iter()
            .map(|step| {
                AttemptLabel::ALL.map(|r| {
                    metrics::counter!(
                        SAGA_STEPS,
                        "saga" => saga.to_owned(),
                        "step" => (*step).to_owned(),
                        "result" => r.label()
                    )
                })
            })
            .collect();
        Self {
            runs,
            steps,
            duration: metrics::histogram!(SAGA_DURATION, "saga" => saga.to_owned()),
            active: metrics::gauge!(SAGA_ACTIVE, "saga" => saga.to_owned()),
        }
    }

    pub(super) fn run(&self, result: RunResult) {
        let i = RunResult::ALL
            .iter()
            .position(|r| *r == result)
            .unwrap_or(0);
        self.runs[i].increment(1);
    }

    pub(super) fn attempt(&self, step: usize, result: AttemptLabel) {
        let i = AttemptLabel::ALL
            .iter()
            .position(|r| *r == result)
            .unwrap_or(0);
        if let Some(s) = self.steps.get(step) {
            s[i].increment(1);
        }
    }
}
