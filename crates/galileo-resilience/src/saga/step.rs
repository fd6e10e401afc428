//! What a saga is made of.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::StepKey;

/// One step of a saga over a context `C`: an action and the action that undoes it.
///
/// A saga runs steps of one type `S: Step<C>`. Steps of different kinds go in an enum that
/// implements `Step` by matching, so every call is statically dispatched and nothing is boxed
/// per run (see the [module example](super)).
///
/// Implementations write `async fn execute` / `async fn compensate`; the futures must be
/// `Send` so a saga can run on a multi-threaded runtime.
///
/// - `execute` may be attempted several times (retries, see
///   [`StepPolicy`](super::StepPolicy)); an attempt that reaches its timeout is dropped
///   (cancelled at an `.await`). An attempt that fails or times out is not compensated, so
///   `execute` should leave nothing behind when it fails, or make its retries and its
///   compensation cover what it may have left (the [`StepKey`] helps).
/// - `compensate` must be idempotent: after a crash it may run again for a step it already
///   compensated, with the same key. It runs on the context as the later steps' compensations
///   left it, or, after a crash, as the step log last recorded it.
pub trait Step<C>: Send + Sync {
    /// What `execute` and `compensate` fail with (`Display` for traces and messages).
    type Error: fmt::Display + Send;

    /// The step's name, unique within its saga: it labels metrics and events, selects
    /// per-step configuration, and is checked against the step log on recovery.
    fn name(&self) -> &str;

    /// Does the step's work, recording in `ctx` what later steps and compensations need.
    fn execute(
        &self,
        ctx: &mut C,
        key: StepKey,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Undoes what a successful `execute` did. Idempotent.
    fn compensate(
        &self,
        ctx: &mut C,
        key: StepKey,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Whether another attempt might succeed after `error`. Default: always. Timeouts are
    /// always retryable (within the policy's `max_retries`).
    fn is_retryable(&self, error: &Self::Error) -> bool {
        let _ = error;
        true
    }
}

/// A step as events and errors name it: its index and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StepRef {
    index: usize,
    name: Arc<str>,
}

impl StepRef {
    pub(crate) fn new(index: usize, name: Arc<str>) -> Self {
        Self { index, name }
    }

    /// The step's 0-based index in its saga.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} `{}`", self.index, self.name)
    }
}
