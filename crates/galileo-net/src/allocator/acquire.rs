//! The `Acquire` future: a pending lease request.
//!
//! First poll: served at once if an IP is eligible, refused at once if it never will be, else
//! queued. The core hands the lease to the queued waiter directly and wakes it; the next poll
//! takes it. Dropping the future while queued removes it from the queue; dropping it after a
//! lease was handed to it but before it was polled releases that lease. Nothing leaks either
//! way.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;

use super::core::{Blocked, Want};
use super::waiters::{WaitState, WaiterId};
use super::{Shared, driver};
use crate::{IpLease, NetError};

/// A pending [`IpLease`]; see [`IpAllocator::acquire`](crate::IpAllocator::acquire).
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    shared: &'a Arc<Shared>,
    state: State,
}

#[derive(Debug)]
enum State {
    Start(Result<Want, NetError>),
    Waiting(WaiterId),
    Done,
}

impl std::fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Start(_) => "start",
            State::Waiting(_) => "waiting",
            State::Done => "done",
        };
        f.debug_struct("Acquire").field("state", &state).finish()
    }
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(shared: &'a Arc<Shared>, want: Result<Want, NetError>) -> Self {
        Self {
            shared,
            state: State::Start(want),
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<IpLease, NetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let shared = this.shared;
        match std::mem::replace(&mut this.state, State::Done) {
            State::Start(Err(e)) => Poll::Ready(Err(e)),
            State::Start(Ok(want)) => {
                let now = Instant::now();
                let mut wake = Vec::new();
                let mut core = shared.lock();
                let result = match core.try_grant(&want, now, &mut wake) {
                    Ok(grant) => Poll::Ready(Ok(grant)),
                    Err(Blocked::Refused(r)) => Poll::Ready(Err(r.into())),
                    Err(Blocked::Wait { .. }) => {
                        let id = core.enqueue(want, cx.waker().clone(), now, &mut wake);
                        match core.waiters.poll(id, cx.waker()) {
                            Some(state) => Poll::Ready(outcome(state)),
                            None => {
                                this.state = State::Waiting(id);
                                Poll::Pending
                            }
                        }
                    }
                };
                shared.finish(core, wake);
                if result.is_pending() {
                    driver::ensure(shared);
                }
                result.map_ok(|grant| IpLease::new(shared.clone(), grant))
            }
            State::Waiting(id) => {
                let mut core = shared.lock();
                let polled = core.waiters.poll(id, cx.waker());
                drop(core);
                match polled {
                    Some(state) => {
                        Poll::Ready(outcome(state).map(|g| IpLease::new(shared.clone(), g)))
                    }
                    None => {
                        this.state = State::Waiting(id);
                        Poll::Pending
                    }
                }
            }
            State::Done => panic!("Acquire polled after completion"),
        }
    }
}

fn outcome(state: WaitState) -> Result<super::core::Grant, NetError> {
    match state {
        WaitState::Granted(g) => Ok(g),
        WaitState::Failed(r) => Err(r.into()),
        WaitState::Waiting(_) => unreachable!("poll returns final states only"),
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let State::Waiting(id) = self.state {
            let mut wake = Vec::new();
            let mut core = self.shared.lock();
            core.cancel(id, &mut wake, Instant::now);
            self.shared.finish(core, wake);
        }
    }
}
