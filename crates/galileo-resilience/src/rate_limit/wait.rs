//! The thin async shell over [`KeyedLimiter`]: wait for cells without spinning.

use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use tokio::time::{Instant, sleep_until};

use super::{Algorithm, Decision, KeyedLimiter};
use crate::Error;

/// A keyed limiter shared between tasks.
///
/// [`acquire`](Self::acquire) sleeps until the exact instant the limit holds the cells it
/// needs (the algorithm knows it), re-checks, and returns. It never polls in a loop and consumes
/// nothing until it is admitted, so dropping the future mid-wait loses nothing. Waiters are not
/// queued: when several wait on one key, whoever re-checks first after a refill wins.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use std::num::NonZeroU32;
/// use galileo_resilience::{AsyncKeyedLimiter, Quota};
/// use tokio::time::Instant;
///
/// let limiter = AsyncKeyedLimiter::new(Quota::per_second(NonZeroU32::new(5).unwrap()));
/// let start = Instant::now();
/// for _ in 0..10 {
///     limiter.acquire(&"jupiter", 1).await?;
/// }
/// // 5 at once from the full bucket, then one every 200 ms.
/// assert_eq!(start.elapsed().as_millis(), 1000);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AsyncKeyedLimiter<K, A: Algorithm> {
    inner: Mutex<KeyedLimiter<K, A>>,
}

impl<K: Hash + Eq + Clone, A: Algorithm> AsyncKeyedLimiter<K, A> {
    /// A limiter holding every key to `algorithm`.
    pub fn new(algorithm: A) -> Self {
        Self {
            inner: Mutex::new(KeyedLimiter::new(algorithm)),
        }
    }

    /// Admits `cost` cells for `key` now, or says when they would fit.
    pub fn try_acquire(&self, key: &K, cost: u32) -> Decision {
        let mut limiter = self.lock();
        limiter.check(key, Instant::now(), cost)
    }

    /// Waits until `cost` cells for `key` are available and takes them.
    ///
    /// Fails at once, without waiting, when `cost` exceeds the limit.
    pub async fn acquire(&self, key: &K, cost: u32) -> Result<Decision, Error> {
        loop {
            let (now, decision) = {
                let mut limiter = self.lock();
                // The clock is read under the lock, so decisions are made in time order.
                let now = Instant::now();
                (now, limiter.check(key, now, cost))
            };
            match (decision.allowed, decision.retry_after) {
                (true, _) => return Ok(decision),
                (false, Some(wait)) => sleep_until(now + wait).await,
                (false, None) => {
                    return Err(Error::CostExceedsBurst {
                        cost,
                        burst: decision.limit,
                    });
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, KeyedLimiter<K, A>> {
        // The state is a map of timestamps; a panic elsewhere cannot leave it inconsistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use crate::Quota;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiters_sleep_to_the_refill_instant() {
        let q = Quota::per_second(NonZeroU32::new(4).unwrap()).with_burst(NonZeroU32::MIN);
        let l = Arc::new(AsyncKeyedLimiter::new(q));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire(&1u8, 1).await.unwrap();
                start.elapsed()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        let ms: Vec<u128> = times.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![0, 250, 500, 750]);
    }

    #[tokio::test(start_paused = true)]
    async fn too_large_a_cost_fails_without_waiting() {
        let l = AsyncKeyedLimiter::new(Quota::per_second(NonZeroU32::new(2).unwrap()));
        let err = l.acquire(&(), 3).await.unwrap_err();
        assert!(err.to_string().contains("burst"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_consumes_nothing() {
        let q = Quota::per_second(NonZeroU32::new(1).unwrap());
        let l = AsyncKeyedLimiter::new(q);
        l.acquire(&(), 1).await.unwrap();
        // Give up waiting half-way.
        let r = tokio::time::timeout(Duration::from_millis(500), l.acquire(&(), 1)).await;
        assert!(r.is_err());
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(l.try_acquire(&(), 1).allowed);
    }
}
