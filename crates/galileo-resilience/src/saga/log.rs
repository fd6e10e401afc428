//! The durable step log's interface.

use std::future::Future;

use super::{LogRecord, PendingSaga, SagaId};
use crate::Error;

/// Where a saga records its progress, so that runs cut short (a crash, a cancelled future)
/// can be compensated later by [`Saga::recover`](super::Saga::recover).
///
/// A run appends a [`LogRecord::Completed`] after each step (with the context as it is then),
/// a [`LogRecord::Compensated`] after each compensation, and finishes with
/// [`finish`](Self::finish). A run with records and no finish is pending.
///
/// Implementations: [`InMemoryLog`](super::InMemoryLog) (survives cancellation, not a crash)
/// and [`FileLog`](super::FileLog) (survives a crash). Another store (a database, Redis) can
/// implement this trait; [`LogReplay`](super::LogReplay) does the bookkeeping.
pub trait StepLog: Send + Sync {
    /// Appends `record`; once this returns `Ok` the record must survive what the log promises
    /// to survive (for a file: a crash of the process or the machine). Refuses records that
    /// contradict the log (see [`LogReplay::check`](super::LogReplay::check)).
    fn append(&self, record: LogRecord) -> impl Future<Output = Result<(), Error>> + Send;

    /// The runs with records and no finish.
    fn pending(&self) -> impl Future<Output = Result<Vec<PendingSaga>, Error>> + Send;

    /// Records that run `id` of saga `saga` is over. Appends a [`LogRecord::Finished`].
    fn finish(
        &self,
        saga: &str,
        id: SagaId,
        compensated: bool,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        self.append(LogRecord::Finished {
            saga: saga.to_owned(),
            id,
            compensated,
        })
    }
}
