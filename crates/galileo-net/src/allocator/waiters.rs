//! Pending acquires: a queue ordered by task kind then arrival, and the slot each waiter's
//! future polls.
//!
//! The core hands a lease straight to a waiter (the grant is parked here until its future
//! polls), so a release wakes exactly the task it serves: no thundering herd, no re-checking.
//!
//! Waits that only the clock can end are timed by the waiters themselves: the core gives a
//! deadline to each waiter that heads a blocked line (see `Core::service`) and wakes it when
//! that deadline moves earlier; its future sleeps until then on whatever runtime polls it.

use std::collections::{BTreeSet, HashSet};
use std::task::Waker;

use tokio::time::Instant;

use super::core::{Grant, Refusal, Want};
use super::request::TaskKind;

pub(crate) type WaiterId = u32;

#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub(crate) enum WaitState {
    Waiting(Waker),
    Granted(Grant),
    Failed(Refusal),
}

#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
struct Entry {
    want: Want,
    key: (TaskKind, u64),
    state: WaitState,
    /// When this waiter must run a service pass itself (it heads a line blocked by the clock).
    deadline: Option<Instant>,
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(Clone))]
pub(crate) struct Waiters {
    slab: Vec<Option<Entry>>,
    free: Vec<WaiterId>,
    /// Waiting entries only, in service order.
    queue: BTreeSet<(TaskKind, u64, WaiterId)>,
    seq: u64,
    /// Queued "any IP" waiters per group (see [`Want::group`]).
    per_group: Vec<usize>,
    /// Queued waiters for a particular IP, or long-lived ones.
    targeted: usize,
    /// Queued waiters holding a deadline (a handful: one per blocked line, plus blocked
    /// targeted waiters).
    timed: HashSet<WaiterId>,
}

impl Waiters {
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn push(&mut self, want: Want, waker: Waker) -> WaiterId {
        self.seq += 1;
        let key = (want.kind, self.seq);
        let entry = Entry {
            want,
            key,
            state: WaitState::Waiting(waker),
            deadline: None,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slab[id as usize] = Some(entry);
                id
            }
            None => {
                self.slab.push(Some(entry));
                (self.slab.len() - 1) as WaiterId
            }
        };
        self.queue.insert((key.0, key.1, id));
        self.count(&want, true);
        id
    }

    /// The queue in service order, with each waiter's request.
    pub(crate) fn queued(&self) -> impl Iterator<Item = (WaiterId, &Want)> + '_ {
        self.queue.iter().map(|&(_, _, id)| {
            let e = self.slab[id as usize]
                .as_ref()
                .expect("queued waiter exists");
            (id, &e.want)
        })
    }

    pub(crate) fn per_group(&self) -> &[usize] {
        &self.per_group
    }

    pub(crate) fn targeted(&self) -> usize {
        self.targeted
    }

    /// Ends a queued waiter's wait with `state`; returns its waker.
    pub(crate) fn complete(&mut self, id: WaiterId, state: WaitState) -> Option<Waker> {
        let e = self.slab[id as usize]
            .as_mut()
            .expect("completed waiter exists");
        let old = std::mem::replace(&mut e.state, state);
        let WaitState::Waiting(waker) = old else {
            unreachable!("only queued waiters are completed");
        };
        let (key, want) = (e.key, e.want);
        self.queue.remove(&(key.0, key.1, id));
        self.count(&want, false);
        self.timed.remove(&id);
        Some(waker)
    }

    /// The instant the waiter's future must run a service pass at, if it holds a timer.
    pub(crate) fn deadline(&self, id: WaiterId) -> Option<Instant> {
        self.slab[id as usize].as_ref().and_then(|e| e.deadline)
    }

    /// Sets a queued waiter's deadline; returns its waker when the deadline moved earlier (or
    /// appeared), so its future re-arms its timer.
    pub(crate) fn set_deadline(
        &mut self,
        id: WaiterId,
        deadline: Option<Instant>,
    ) -> Option<Waker> {
        let e = self.slab[id as usize].as_mut()?;
        let old = std::mem::replace(&mut e.deadline, deadline);
        if deadline.is_some() {
            self.timed.insert(id);
        } else {
            self.timed.remove(&id);
        }
        let earlier = match (deadline, old) {
            (Some(new), Some(old)) => new < old,
            (Some(_), None) => true,
            (None, _) => false,
        };
        match &e.state {
            WaitState::Waiting(w) if earlier => Some(w.clone()),
            _ => None,
        }
    }

    /// Called by the waiter's future: takes a final state, or refreshes the waker.
    pub(crate) fn poll(&mut self, id: WaiterId, waker: &Waker) -> Option<WaitState> {
        let e = self.slab[id as usize]
            .as_mut()
            .expect("polled waiter exists");
        if let WaitState::Waiting(w) = &mut e.state {
            w.clone_from(waker);
            return None;
        }
        self.take(id).map(|e| e.state)
    }

    /// Removes a waiter whatever its state (its future was dropped); returns a grant it held.
    pub(crate) fn cancel(&mut self, id: WaiterId) -> Option<Grant> {
        let e = self.take(id)?;
        match e.state {
            WaitState::Waiting(_) => {
                self.queue.remove(&(e.key.0, e.key.1, id));
                self.count(&e.want, false);
                None
            }
            WaitState::Granted(g) => Some(g),
            WaitState::Failed(_) => None,
        }
    }

    /// Queued waiters holding a deadline.
    pub(crate) fn timed(&self) -> impl Iterator<Item = WaiterId> + '_ {
        self.timed.iter().copied()
    }

    /// The earliest deadline any waiter holds.
    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        self.timed.iter().filter_map(|id| self.deadline(*id)).min()
    }

    fn take(&mut self, id: WaiterId) -> Option<Entry> {
        let e = self.slab.get_mut(id as usize)?.take()?;
        self.timed.remove(&id);
        self.free.push(id);
        Some(e)
    }

    fn count(&mut self, want: &Want, add: bool) {
        let n = match want.group() {
            Some(g) => {
                if g >= self.per_group.len() {
                    self.per_group.resize(g + 1, 0);
                }
                &mut self.per_group[g]
            }
            None => &mut self.targeted,
        };
        if add {
            *n += 1;
        } else {
            *n -= 1;
        }
    }
}
