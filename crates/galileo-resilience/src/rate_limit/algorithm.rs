//! What every limiting algorithm offers, and what every decision says.

use std::time::Duration;

use tokio::time::Instant;

/// The answer of a rate limiter, with what a client needs to pace itself (the
/// `X-RateLimit-*` and `Retry-After` headers carry it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The request is admitted (and its cost consumed).
    pub allowed: bool,
    /// The most cells the deciding limit admits at once (its burst or window limit).
    pub limit: u32,
    /// Cells left after this request (when admitted) or now (when denied).
    pub remaining: u32,
    /// Time until the limit is back to full if nothing else is admitted.
    pub reset: Duration,
    /// When denied: how long until the same request fits. `None` when it never will (its cost
    /// is larger than the limit).
    pub retry_after: Option<Duration>,
}

impl Decision {
    /// An admission with `remaining` cells left.
    pub fn allow(limit: u32, remaining: u32, reset: Duration) -> Self {
        Self {
            allowed: true,
            limit,
            remaining,
            reset,
            retry_after: None,
        }
    }

    /// A denial; the request fits after `retry_after` (`None`: never).
    pub fn deny(
        limit: u32,
        remaining: u32,
        reset: Duration,
        retry_after: Option<Duration>,
    ) -> Self {
        Self {
            allowed: false,
            limit,
            remaining,
            reset,
            retry_after,
        }
    }

    /// Share of the limit in use after this decision, 0 to 1.
    pub fn usage(&self) -> f64 {
        if self.limit == 0 {
            return 1.0;
        }
        1.0 - f64::from(self.remaining.min(self.limit)) / f64::from(self.limit)
    }
}

/// A limiting algorithm: its parameters (`self`) and the per-key state it updates.
///
/// Sans-IO: every call takes `now`. [`peek`](Self::peek) and [`commit`](Self::commit) are
/// separate so that several limits can be checked first and consumed only if all admit (see
/// [`TieredLimiter`](super::TieredLimiter)).
pub trait Algorithm: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Per-key state; `Default` is "nothing admitted yet".
    type State: Default + Clone + std::fmt::Debug + Send + Sync + 'static;

    /// The most cells admitted at once.
    fn limit(&self) -> u32;

    /// Whether `cost` cells fit at `now`, and what the state would be after taking them.
    /// Consumes nothing; may forget history that has expired.
    fn peek(&self, state: &mut Self::State, now: Instant, cost: u32) -> Decision;

    /// Takes `cost` cells at `now`; call only after a `peek` at the same `now` allowed it.
    fn commit(&self, state: &mut Self::State, now: Instant, cost: u32);

    /// `peek`, then `commit` if allowed.
    fn check(&self, state: &mut Self::State, now: Instant, cost: u32) -> Decision {
        let d = self.peek(state, now, cost);
        if d.allowed {
            self.commit(state, now, cost);
        }
        d
    }

    /// True when the state carries no information any more (a keyed map may forget it).
    fn is_idle(&self, state: &Self::State, now: Instant) -> bool;
}
