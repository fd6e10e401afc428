//! A step log in memory.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::{LogRecord, LogReplay, PendingSaga, StepLog};
use crate::Error;

/// A [`StepLog`] in memory: a run whose future is dropped half way (a cancelled task, a
/// timeout around the whole saga) stays pending, and [`Saga::recover`](super::Saga::recover)
/// compensates it. It does not survive the process: use [`FileLog`](super::FileLog) for that.
///
/// Cheap to clone; clones share the log. Memory holds only the runs in flight.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::saga::{InMemoryLog, LogRecord, SagaId, StepLog};
///
/// let log = InMemoryLog::new();
/// let id = SagaId::random();
/// log.append(LogRecord::Completed {
///     saga: "s".into(), id, step: 0, name: "a".into(), context: serde_json::Value::Null,
/// }).await?;
/// assert_eq!(log.pending().await?.len(), 1);
/// log.finish("s", id, false).await?;
/// assert!(log.pending().await?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    replay: LogReplay,
    records: usize,
}

impl InMemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A replay is only changed after a successful check; a panic cannot leave it half done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StepLog for InMemoryLog {
    async fn append(&self, record: LogRecord) -> Result<(), Error> {
        let mut inner = self.lock();
        let line = inner.records + 1;
        inner
            .replay
            .apply(record)
            .map_err(|reason| Error::StepLogCorrupt {
                path: PathBuf::from("(in memory)"),
                line,
                reason: format!("refused to append a record that contradicts the log: {reason}"),
            })?;
        inner.records = line;
        Ok(())
    }

    async fn pending(&self) -> Result<Vec<PendingSaga>, Error> {
        Ok(self.lock().replay.pending())
    }
}
