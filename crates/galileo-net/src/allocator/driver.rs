//! The timer driver: one task per allocator that sleeps until the core's next deadline (a rest
//! ending or a budget refilling while someone waits) and runs a service pass then.
//!
//! Releases and reports serve waiters synchronously; only the passage of time needs a task. It
//! sleeps on the exact deadline (no polling) and is told when an earlier one appears. It holds
//! the allocator weakly and ends when the allocator is gone.

use std::sync::{Arc, Weak};

use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use super::Shared;

/// Starts the driver if it is not running (first wait, or the runtime it ran on has ended).
pub(crate) fn ensure(shared: &Arc<Shared>) {
    let mut slot = shared.driver.lock().unwrap_or_else(|e| e.into_inner());
    if slot.as_ref().is_some_and(|h| !h.is_finished()) {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            *slot = Some(handle.spawn(run(Arc::downgrade(shared), shared.timer.clone())));
        }
        Err(_) => tracing::warn!(
            "IpAllocator is waiting outside a tokio runtime: releases still serve waiters, but waits on cooldowns and rate budgets cannot end by themselves"
        ),
    }
}

async fn run(shared: Weak<Shared>, timer: Arc<Notify>) {
    loop {
        let notified = timer.notified();
        tokio::pin!(notified);
        // Register before reading the deadline, so a change made in between is not missed.
        notified.as_mut().enable();
        let deadline = match shared.upgrade() {
            Some(s) => s.lock().next_deadline(),
            None => return,
        };
        let fired = match deadline {
            Some(at) => tokio::select! {
                () = sleep_until(at) => true,
                () = &mut notified => false,
            },
            None => {
                notified.await;
                false
            }
        };
        let Some(s) = shared.upgrade() else {
            return;
        };
        if fired {
            let mut wake = Vec::new();
            let mut core = s.lock();
            core.on_timer(Instant::now(), &mut wake);
            s.finish(core, wake);
        }
    }
}
