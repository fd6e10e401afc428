//! When a lost connection tries again (sans-IO): galileo-resilience's backoff (1 s doubling
//! to 30 s with equal jitter by default), started over after a connection that delivered
//! quotes, so a healthy stream that drops comes back within the first backoff.

use galileo_resilience::retry::Backoff;
use rand::Rng;
use tokio::time::Instant;

/// The reconnect schedule of one connection.
#[derive(Clone, Debug)]
pub(crate) struct ReconnectSchedule {
    backoff: Backoff,
}

impl ReconnectSchedule {
    pub(crate) fn new(backoff: Backoff) -> Self {
        ReconnectSchedule { backoff }
    }

    /// The connection was lost (or never made) at `now`; `healthy` when it had delivered
    /// quotes. Returns when to try again.
    pub(crate) fn next_attempt<R: Rng + ?Sized>(
        &mut self,
        now: Instant,
        healthy: bool,
        rng: &mut R,
    ) -> Instant {
        if healthy {
            self.backoff.reset();
        }
        now + self.backoff.next_delay(rng)
    }

    /// Attempts since the last healthy connection.
    #[cfg(test)]
    fn failures(&self) -> u32 {
        self.backoff.retries()
    }

    /// The longest wait the schedule can give (the policy's cap).
    #[cfg(test)]
    fn cap(&self) -> std::time::Duration {
        self.backoff.base_delay(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use galileo_resilience::retry::{Jitter, RetryPolicy};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn policy() -> RetryPolicy {
        crate::TitanConfig::default().reconnect
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_from_one_second_to_thirty_and_a_healthy_run_starts_over() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut s =
            ReconnectSchedule::new(Backoff::new(&policy().with_jitter(Jitter::None)).unwrap());
        assert_eq!(s.cap(), Duration::from_secs(30));
        let mut waits = Vec::new();
        for _ in 0..7 {
            let now = Instant::now();
            let at = s.next_attempt(now, false, &mut rng);
            waits.push((at - now).as_secs());
            tokio::time::sleep_until(at).await;
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(s.failures(), 7);
        let now = Instant::now();
        assert_eq!(
            s.next_attempt(now, true, &mut rng) - now,
            Duration::from_secs(1)
        );
        assert_eq!(s.failures(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_keeps_each_wait_between_half_and_all_of_its_backoff() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut s = ReconnectSchedule::new(Backoff::new(&policy()).unwrap());
        let mut base = Duration::from_secs(1);
        for _ in 0..8 {
            let now = Instant::now();
            let wait = s.next_attempt(now, false, &mut rng) - now;
            assert!(wait >= base / 2 && wait <= base, "{wait:?} for {base:?}");
            base = (base * 2).min(Duration::from_secs(30));
        }
    }
}
