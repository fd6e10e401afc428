//! The tasks of one service (connections, HTTP/2 streams, WebSocket sessions), kept together
//! so stopping the service stops every one of them.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::task::JoinSet;

/// A service's task set. Cheap to clone. Finished tasks are reaped as new ones come.
#[derive(Clone, Debug, Default)]
pub struct Tasks {
    set: Arc<Mutex<JoinSet<()>>>,
}

impl Tasks {
    fn set(&self) -> MutexGuard<'_, JoinSet<()>> {
        self.set.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `fut` until it ends or the service stops. Must be called within a Tokio runtime.
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.set();
        while set.try_join_next().is_some() {}
        set.spawn(fut);
    }

    /// Tasks still running (or finished and not reaped yet).
    pub fn len(&self) -> usize {
        self.set().len()
    }

    /// Whether no task is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every task.
    pub(crate) fn abort_all(&self) {
        self.set().abort_all();
    }

    /// Waits for every task to end (after [`Tasks::abort_all`]: to be stopped).
    pub(crate) async fn join_all(&self) {
        // Take the set out so the lock is not held across awaits.
        let mut set = std::mem::take(&mut *self.set());
        while set.join_next().await.is_some() {}
    }
}

/// Lets hyper run HTTP/2 streams as the service's tasks.
impl<F> hyper::rt::Executor<F> for Tasks
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        self.spawn(fut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn abort_all_stops_running_tasks() {
        let tasks = Tasks::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await;
        });
        assert_eq!(tasks.len(), 1);
        tasks.abort_all();
        tasks.join_all().await;
        // The task was dropped, and with it the sender.
        assert!(rx.await.is_err());
        assert!(tasks.is_empty());
    }
}
