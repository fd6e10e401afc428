//! How a saga run fails.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use super::{SagaId, StepRef};

/// Why one attempt of a step (or of its compensation) failed.
#[derive(Debug)]
pub enum StepError<E> {
    /// The step returned an error.
    Failed(E),
    /// The attempt reached its timeout and was cancelled.
    TimedOut {
        /// The timeout it was given.
        after: Duration,
    },
}

impl<E> StepError<E> {
    /// True when the attempt timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, StepError::TimedOut { .. })
    }

    /// The step's own error, unless the attempt timed out.
    pub fn into_inner(self) -> Option<E> {
        match self {
            StepError::Failed(e) => Some(e),
            StepError::TimedOut { .. } => None,
        }
    }

    /// The step's own error, by reference.
    pub fn inner(&self) -> Option<&E> {
        match self {
            StepError::Failed(e) => Some(e),
            StepError::TimedOut { .. } => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for StepError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Failed(e) => e.fmt(f),
            StepError::TimedOut { after } => write!(
                f,
                "timed out after {after:?} (raise its timeout_ms if it legitimately needs longer)"
            ),
        }
    }
}

impl<E: StdError + 'static> StdError for StepError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            StepError::Failed(e) => Some(e),
            StepError::TimedOut { .. } => None,
        }
    }
}

/// A step (or compensation) that failed for good: which, after how many attempts, and the
/// last attempt's error.
#[derive(Debug)]
pub struct StepFailure<E> {
    /// The step.
    pub step: StepRef,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub error: StepError<E>,
}

impl<E: fmt::Display> fmt::Display for StepFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed after {} attempt{}: {}",
            self.step,
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.error
        )
    }
}

/// How a saga run failed. `E` is the steps' error type.
///
/// - [`Failed`](Self::Failed): a step failed and everything before it was undone. Nothing of
///   the run is in effect; the caller may simply try again later.
/// - [`CompensationFailed`](Self::CompensationFailed): undoing failed part way. Some steps are
///   still in effect; with a step log the run stays pending there and
///   [`Saga::recover`](super::Saga::recover) retries the compensations.
/// - [`Log`](Self::Log): the step log failed, so durability is lost for this run. The saga
///   stopped executing and compensated what it could in memory; the counts say what remains.
///   A log failure is reported even when a step failed too (that failure is in the events and
///   traces).
#[derive(Debug)]
#[non_exhaustive]
pub enum SagaError<E> {
    /// A step failed for good; every step completed before it was compensated.
    Failed {
        /// The run.
        id: SagaId,
        /// The step that failed.
        failure: StepFailure<E>,
        /// Steps compensated (all the ones completed before the failure).
        compensated: usize,
    },
    /// A compensation failed for good. The steps up to and including `compensation.step` are
    /// still in effect.
    CompensationFailed {
        /// The run.
        id: SagaId,
        /// The step failure that started compensating; `None` when recovery was compensating.
        cause: Option<StepFailure<E>>,
        /// The compensation that failed.
        compensation: StepFailure<E>,
    },
    /// The step log failed.
    Log {
        /// The run.
        id: SagaId,
        /// The log's error.
        error: crate::Error,
        /// Steps that had executed.
        completed: usize,
        /// Of those, how many (the last ones) were compensated.
        compensated: usize,
    },
}

impl<E> SagaError<E> {
    /// The run.
    pub fn id(&self) -> SagaId {
        match self {
            SagaError::Failed { id, .. }
            | SagaError::CompensationFailed { id, .. }
            | SagaError::Log { id, .. } => *id,
        }
    }

    /// True when a step failed and everything was undone.
    pub fn is_failed(&self) -> bool {
        matches!(self, SagaError::Failed { .. })
    }

    /// True when a compensation failed and some steps remain in effect.
    pub fn is_compensation_failed(&self) -> bool {
        matches!(self, SagaError::CompensationFailed { .. })
    }

    /// True when the step log failed.
    pub fn is_log(&self) -> bool {
        matches!(self, SagaError::Log { .. })
    }

    /// True when the attempt that ended the saga timed out: the failed step's last attempt, or
    /// the failed compensation's.
    pub fn is_timeout(&self) -> bool {
        match self {
            SagaError::Failed { failure, .. } => failure.error.is_timeout(),
            SagaError::CompensationFailed { compensation, .. } => compensation.error.is_timeout(),
            SagaError::Log { .. } => false,
        }
    }

    /// True when some steps may still be in effect, so someone must finish compensating:
    /// [`Saga::recover`](super::Saga::recover) with a step log, by hand without one.
    pub fn needs_recovery(&self) -> bool {
        match self {
            SagaError::Failed { .. } => false,
            SagaError::CompensationFailed { .. } => true,
            SagaError::Log {
                completed,
                compensated,
                ..
            } => completed > compensated,
        }
    }

    /// The step whose execution failed, if one did.
    pub fn failed_step(&self) -> Option<&StepRef> {
        match self {
            SagaError::Failed { failure, .. } => Some(&failure.step),
            SagaError::CompensationFailed { cause, .. } => cause.as_ref().map(|c| &c.step),
            SagaError::Log { .. } => None,
        }
    }

    /// The step error that ended the saga: the failed step's for [`Failed`](Self::Failed), the
    /// failed compensation's for [`CompensationFailed`](Self::CompensationFailed). `None` for
    /// timeouts and log failures.
    pub fn into_inner(self) -> Option<E> {
        match self {
            SagaError::Failed { failure, .. } => failure.error.into_inner(),
            SagaError::CompensationFailed { compensation, .. } => compensation.error.into_inner(),
            SagaError::Log { .. } => None,
        }
    }

    /// The step log's error, for [`Log`](Self::Log).
    pub fn log_error(&self) -> Option<&crate::Error> {
        match self {
            SagaError::Log { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for SagaError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SagaError::Failed {
                id,
                failure,
                compensated,
            } => write!(
                f,
                "saga {id}: {failure}; the {compensated} step{} completed before it {} compensated, so nothing of this run remains in effect",
                if *compensated == 1 { "" } else { "s" },
                if *compensated == 1 { "was" } else { "were" },
            ),
            SagaError::CompensationFailed {
                id,
                cause,
                compensation,
            } => {
                write!(f, "saga {id}: compensating {compensation}")?;
                if let Some(cause) = cause {
                    write!(f, " (compensating because {cause})")?;
                }
                write!(
                    f,
                    "; steps 0 to {} are still in effect: fix the cause, then run Saga::recover on the step log to finish compensating (without a step log, undo them by hand)",
                    compensation.step.index()
                )
            }
            SagaError::Log {
                id,
                error,
                completed,
                compensated,
            } => write!(
                f,
                "saga {id}: {error}; {completed} step(s) had completed and {compensated} of them were compensated in memory. Fix the log (disk space, permissions), then restart: recovery compensates what the log shows pending"
            ),
        }
    }
}

impl<E: StdError + 'static> StdError for SagaError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            SagaError::Failed { failure, .. } => Some(&failure.error),
            SagaError::CompensationFailed { compensation, .. } => Some(&compensation.error),
            SagaError::Log { error, .. } => Some(error),
        }
    }
}
