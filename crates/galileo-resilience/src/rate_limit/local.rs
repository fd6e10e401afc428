//! The `RateLimiter` trait, and its in-process implementation.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

use super::{Subject, TierDecision, TieredLimiter, TiersConfig};
use crate::Error;

/// A tiered rate limiter: in-process ([`LocalLimiter`]) or shared through Redis
/// (`RedisLimiter`, feature `redis`). Always answers: a distributed limiter whose backend is
/// down answers by its failure policy.
///
/// Generic, not object-safe by design: callers are monomorphized over their limiter.
pub trait RateLimiter: Send + Sync {
    /// Admits `cost` for `subject` if every tier that applies admits it.
    fn check(&self, subject: &Subject<'_>, cost: u32) -> impl Future<Output = TierDecision> + Send;
}

/// Tiered limits in this process, shared between tasks.
#[derive(Debug)]
pub struct LocalLimiter {
    inner: Mutex<TieredLimiter>,
}

impl LocalLimiter {
    /// The tiers `cfg` configures.
    pub fn new(cfg: &TiersConfig) -> Result<Self, Error> {
        Ok(Self::from(TieredLimiter::new(cfg)?))
    }

    /// Decides now, synchronously.
    pub fn check_now(&self, subject: &Subject<'_>, cost: u32) -> TierDecision {
        let mut tiers = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // Read the clock under the lock, so decisions are made in time order.
        let now = Instant::now();
        tiers.check(subject, now, cost)
    }
}

impl From<TieredLimiter> for LocalLimiter {
    fn from(tiers: TieredLimiter) -> Self {
        Self {
            inner: Mutex::new(tiers),
        }
    }
}

impl RateLimiter for LocalLimiter {
    async fn check(&self, subject: &Subject<'_>, cost: u32) -> TierDecision {
        self.check_now(subject, cost)
    }
}
