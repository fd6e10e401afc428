//! What a saga tells its subscribers.

use super::{SagaId, StepRef};

/// Something that happened in a saga run, sent to every
/// [`Saga::subscribe`](super::Saga::subscribe) receiver.
///
/// Events go through a `tokio::sync::broadcast` channel: the saga never waits for a
/// subscriber; one that falls behind by more than `events_capacity` loses the oldest events
/// (its `recv` says how many).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SagaEvent {
    /// A step executed successfully.
    Completed {
        /// The run.
        id: SagaId,
        /// The step.
        step: StepRef,
        /// Attempts it took.
        attempts: u32,
    },
    /// A step failed for good: its retries are spent, or the error is not retryable. The
    /// completed steps are compensated next.
    Failed {
        /// The run.
        id: SagaId,
        /// The step.
        step: StepRef,
        /// Attempts made.
        attempts: u32,
        /// Whether the last attempt timed out (rather than returned an error).
        timed_out: bool,
    },
    /// A step was compensated.
    Compensated {
        /// The run.
        id: SagaId,
        /// The step.
        step: StepRef,
        /// True when recovery did it, after a crash or a cancelled run.
        recovered: bool,
    },
    /// A compensation failed for good; the saga stays pending in its step log.
    CompensationFailed {
        /// The run.
        id: SagaId,
        /// The step.
        step: StepRef,
        /// Attempts made.
        attempts: u32,
    },
    /// The run is over and recorded as finished: every step completed (`compensated` false),
    /// or every completed step was compensated (`compensated` true).
    Finished {
        /// The run.
        id: SagaId,
        /// Whether the saga was undone rather than completed.
        compensated: bool,
    },
}

impl SagaEvent {
    /// The run the event belongs to.
    pub fn id(&self) -> SagaId {
        match self {
            SagaEvent::Completed { id, .. }
            | SagaEvent::Failed { id, .. }
            | SagaEvent::Compensated { id, .. }
            | SagaEvent::CompensationFailed { id, .. }
            | SagaEvent::Finished { id, .. } => *id,
        }
    }
}
