//! A semaphore whose capacity follows the effective parallelism.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// `total` permits, resizable: shrinking forgets idle permits at once and the rest as they
/// come back, so in-flight work is never interrupted.
#[derive(Debug)]
pub(crate) struct Permits {
    sem: Arc<Semaphore>,
    total: usize,
    owed: usize,
}

impl Permits {
    pub(crate) fn new(total: usize) -> Self {
        Self {
            sem: Arc::new(Semaphore::new(total)),
            total,
            owed: 0,
        }
    }

    /// The capacity aimed at.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    pub(crate) fn resize(&mut self, target: usize) {
        if target > self.total {
            let mut grow = target - self.total;
            let cancel = grow.min(self.owed);
            self.owed -= cancel;
            grow -= cancel;
            self.sem.add_permits(grow);
        } else if target < self.total {
            self.owed += self.total - target;
        }
        self.total = target;
        self.settle();
    }

    /// Forgets permits owed from a shrink as they come back.
    pub(crate) fn settle(&mut self) {
        if self.owed > 0 {
            self.owed -= self.sem.forget_permits(self.owed);
        }
    }

    pub(crate) fn try_take(&mut self) -> Option<OwnedSemaphorePermit> {
        self.settle();
        self.sem.clone().try_acquire_owned().ok()
    }

    pub(crate) fn available(&mut self) -> usize {
        self.settle();
        self.sem.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_waits_for_permits_to_come_back() {
        let mut p = Permits::new(4);
        let a = p.try_take().unwrap();
        let b = p.try_take().unwrap();
        p.resize(1);
        assert_eq!(p.available(), 0, "2 idle forgotten, 1 still owed");
        drop(a);
        assert_eq!(p.available(), 0, "the returned permit pays the debt");
        drop(b);
        assert_eq!(p.available(), 1);
        p.resize(3);
        assert_eq!(p.available(), 3);
    }
}
