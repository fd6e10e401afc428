//! [`BreakerPermit`]: a permit of the async [`Breaker`](super::Breaker) that hands itself back.

use std::fmt;

use tokio::time::Instant;

use super::async_breaker::Shared;
use super::circuit_breaker::Permit;
use super::telemetry::CallResult;
use super::{Outcome, Transition};

/// Leave to make one call through a [`Breaker`](super::Breaker), for calls that are not a
/// single future (a stream, a request sent by other means).
///
/// Report the outcome with [`record`](Self::record). Dropping it unreported counts the call as
/// cancelled (neither success nor failure) and frees a half-open probe slot, so a task that is
/// aborted mid-call never wedges the breaker.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use galileo_resilience::breaker::{Breaker, BreakerConfig, BreakerError, Outcome};
///
/// let breaker = Breaker::new("rpc", BreakerConfig::default())?;
/// let permit = breaker.try_acquire::<std::io::Error>()?;
/// // ... send the request some other way ...
/// permit.record(Outcome::Success);
/// # Ok(()) }
/// ```
#[must_use = "report the call with record(); dropping the permit counts it as cancelled"]
pub struct BreakerPermit<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) permit: Option<Permit>,
}

impl BreakerPermit<'_> {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.permit.as_ref().is_some_and(Permit::is_probe)
    }

    /// When the call was let through.
    pub fn started(&self) -> Option<Instant> {
        self.permit.as_ref().map(Permit::started)
    }

    /// Reports the outcome now; returns the state change it caused, if any.
    pub fn record(self, outcome: Outcome) -> Option<Transition> {
        self.record_at(outcome, Instant::now())
    }

    /// Reports the outcome as of `now` (for callers that already read the clock).
    pub fn record_at(mut self, outcome: Outcome, now: Instant) -> Option<Transition> {
        let permit = self.permit.take()?;
        let elapsed = now.saturating_duration_since(permit.started());
        let transition = {
            let mut core = self.shared.lock();
            let t = core.record(permit, outcome, now);
            if let Some(t) = &t {
                self.shared.on_transition(t);
            }
            t
        };
        let slow = self.shared.slow_call.is_some_and(|s| elapsed >= s);
        self.shared.metrics.call(CallResult::of(outcome, slow));
        self.shared.metrics.latency(elapsed);
        transition
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.shared.lock().release(permit);
            self.shared.metrics.call(CallResult::Cancelled);
        }
    }
}

impl fmt::Debug for BreakerPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerPermit")
            .field("breaker", &&*self.shared.name)
            .field("probe", &self.is_probe())
            .finish()
    }
}
