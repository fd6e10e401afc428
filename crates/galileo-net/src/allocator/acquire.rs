//! The `Acquire` future: a pending lease request.
//!
//! First poll: the request is admitted by the core: served at once, refused at once, or queued
//! in its rightful place. The core hands a lease to a queued waiter directly and wakes it; the
//! next poll takes it. A waiter that heads a line blocked by the clock (a rest, a budget refill)
//! gets a deadline from the core and sleeps until then itself, on whatever runtime polls it,
//! then runs a service pass. Dropping the future while queued removes it from the queue;
//! dropping it after a lease was handed to it but before it was polled releases that lease.
//! Nothing leaks either way.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::time::{Instant, Sleep, sleep_until};

use super::Shared;
use super::core::{Admission, Grant, Want};
use super::waiters::{WaitState, WaiterId};
use crate::{IpLease, NetError};

/// A pending [`IpLease`]; see [`IpAllocator::acquire`](crate::IpAllocator::acquire).
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    shared: &'a Arc<Shared>,
    state: State,
    /// Armed while this waiter holds its line's timer. Boxed (once) so the future stays `Unpin`.
    timer: Option<Pin<Box<Sleep>>>,
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
            timer: None,
        }
    }

    fn lease(&self, grant: Grant) -> IpLease {
        IpLease::new(self.shared.clone(), grant)
    }

    /// Sleeps to the waiter's deadline, if it has one; Ready when it has passed.
    fn poll_timer(&mut self, deadline: Option<Instant>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(at) = deadline else {
            return Poll::Pending;
        };
        match &mut self.timer {
            Some(t) if t.deadline() == at => {}
            Some(t) => t.as_mut().reset(at),
            None => self.timer = Some(Box::pin(sleep_until(at))),
        }
        let timer = self.timer.as_mut().expect("armed above");
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(())
    }
}

impl Future for Acquire<'_> {
    type Output = Result<IpLease, NetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let shared = this.shared;
        let id = match std::mem::replace(&mut this.state, State::Done) {
            State::Start(Err(e)) => return Poll::Ready(Err(e)),
            State::Start(Ok(want)) => {
                let mut wake = Vec::new();
                let mut core = shared.lock();
                let admission = core.admit(&want, cx.waker(), Instant::now(), &mut wake);
                shared.finish(core, wake);
                match admission {
                    Admission::Granted(g) => return Poll::Ready(Ok(this.lease(g))),
                    Admission::Refused(r) => return Poll::Ready(Err(r.into())),
                    Admission::Queued(id) => id,
                }
            }
            State::Waiting(id) => id,
            State::Done => panic!("Acquire polled after completion"),
        };
        loop {
            let mut core = shared.lock();
            let state = core.waiters.poll(id, cx.waker());
            let deadline = core.waiters.deadline(id);
            drop(core);
            match state {
                Some(WaitState::Granted(g)) => return Poll::Ready(Ok(this.lease(g))),
                Some(WaitState::Failed(r)) => return Poll::Ready(Err(r.into())),
                Some(WaitState::Waiting(_)) => unreachable!("poll returns final states only"),
                None => {}
            }
            this.state = State::Waiting(id);
            if this.poll_timer(deadline, cx).is_pending() {
                return Poll::Pending;
            }
            // Our deadline passed: run the service pass the clock was waiting for. A pass leaves
            // every deadline after `now` or clears it (`Core::service`), so this loop goes round
            // at most once more before it sleeps or returns.
            this.state = State::Done;
            let mut wake = Vec::new();
            let mut core = shared.lock();
            core.on_timer(Instant::now(), &mut wake);
            shared.finish(core, wake);
        }
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
