//! The sans-IO backoff: the delay before each retry, from a validated policy and a random
//! source.

use std::time::Duration;

use rand::Rng;

use super::jitter::{nanos, uniform};
use super::{Jitter, RetryPolicy};
use crate::Error;

/// The delays before successive retries of one call, computed from a [`RetryPolicy`].
///
/// Sans-IO: it never reads a clock or sleeps; it hands out delays. The random source is
/// passed in, so a seeded [`StdRng`](rand::rngs::StdRng) makes the sequence reproducible.
/// Create one per call (or [`reset`](Self::reset) it); it is cheap to clone.
///
/// Every delay lies in the policy's window: at most `max_delay`, and at least `initial_delay`
/// except under `full` jitter (which may return zero) and `equal` jitter (at least half the
/// exponential backoff).
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::retry::{Backoff, Jitter, RetryPolicy};
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let policy = RetryPolicy::fast().with_jitter(Jitter::None);
/// let mut backoff = Backoff::new(&policy)?;
/// let mut rng = StdRng::seed_from_u64(7);
/// let delays: Vec<u128> = (0..5).map(|_| backoff.next_delay(&mut rng).as_millis()).collect();
/// assert_eq!(delays, [100, 200, 400, 800, 1000]);
/// // A server's Retry-After is clamped to [initial_delay, max_delay].
/// assert_eq!(backoff.next_delay_after(Duration::from_secs(30)), Duration::from_secs(1));
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    multiplier: f64,
    jitter: Jitter,
    /// Delays handed out so far (the exponent of the next one).
    retries: u32,
    /// The last delay handed out (`initial` before the first), for decorrelated jitter.
    previous: Duration,
}

impl Backoff {
    /// A backoff for `policy`, or an error saying what to change in it.
    pub fn new(policy: &RetryPolicy) -> Result<Self, Error> {
        policy.validate()?;
        Ok(Self {
            initial: policy.initial_delay(),
            max: policy.max_delay(),
            multiplier: policy.multiplier,
            jitter: policy.jitter,
            retries: 0,
            previous: policy.initial_delay(),
        })
    }

    /// The un-jittered backoff before retry `n` (0-based): `min(max_delay, initial_delay ×
    /// multiplier^n)`. Never decreases as `n` grows.
    pub fn base_delay(&self, n: u32) -> Duration {
        let exponent = i32::try_from(n).unwrap_or(i32::MAX);
        let ns = nanos(self.initial) as f64 * self.multiplier.powi(exponent);
        let max_ns = nanos(self.max);
        if !ns.is_finite() || ns >= max_ns as f64 {
            self.max
        } else {
            // Below max_ns, so it fits; `as` truncates towards zero.
            Duration::from_nanos(ns as u64)
        }
    }

    /// The delay before the next retry, jittered with `rng`.
    pub fn next_delay<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let base = self.base_delay(self.retries);
        let delay = match self.jitter {
            Jitter::None => base,
            Jitter::Full => uniform(rng, Duration::ZERO, base),
            Jitter::Equal => {
                let half = base / 2;
                half + uniform(rng, Duration::ZERO, base - half)
            }
            Jitter::Decorrelated => {
                let high = self.previous.saturating_mul(3);
                uniform(rng, self.initial, high).min(self.max)
            }
        };
        self.advance(delay)
    }

    /// The delay before the next retry when the server said when to come back
    /// (`Retry-After`): `server` clamped to `[initial_delay, max_delay]`.
    ///
    /// A shorter hint (such as `Retry-After: 0` from a server shedding load) would have us
    /// hammer it; a longer one would stall the caller past what the policy allows. A caller
    /// that prefers to give up on long hints can say so in its
    /// [`RetryCondition`](super::RetryCondition).
    pub fn next_delay_after(&mut self, server: Duration) -> Duration {
        self.advance(server.clamp(self.initial, self.max))
    }

    /// Delays handed out so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Starts over, as for a new call.
    pub fn reset(&mut self) {
        self.retries = 0;
        self.previous = self.initial;
    }

    fn advance(&mut self, delay: Duration) -> Duration {
        self.retries = self.retries.saturating_add(1);
        self.previous = delay;
        delay
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn backoff(jitter: Jitter) -> Backoff {
        let p = RetryPolicy::new(10, Duration::from_millis(100), 2.0, Duration::from_secs(1))
            .with_jitter(jitter);
        Backoff::new(&p).unwrap()
    }

    #[test]
    fn exponential_growth_is_capped() {
        let b = backoff(Jitter::None);
        let ms: Vec<u128> = (0..6).map(|n| b.base_delay(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn a_fractional_multiplier_grows_slowly() {
        let p = RetryPolicy::new(10, Duration::from_millis(100), 1.5, Duration::from_secs(1));
        let b = Backoff::new(&p).unwrap();
        let ms: Vec<u128> = (0..4).map(|n| b.base_delay(n).as_millis()).collect();
        assert_eq!(ms, [100, 150, 225, 337]);
    }

    #[test]
    fn jittered_delays_vary_within_their_band() {
        let mut rng = StdRng::seed_from_u64(1);
        for (jitter, low, high) in [(Jitter::Full, 0, 400), (Jitter::Equal, 200, 400)] {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let mut b = backoff(jitter);
                b.next_delay(&mut rng);
                b.next_delay(&mut rng);
                let d = b.next_delay(&mut rng).as_millis();
                assert!((low..=high).contains(&d), "{jitter:?}: {d}");
                seen.insert(d / 50);
            }
            // The draws spread over the band rather than sticking to one value.
            assert!(
                seen.len() >= (high - low) as usize / 50 - 1,
                "{jitter:?}: {seen:?}"
            );
        }
    }

    #[test]
    fn decorrelated_stays_between_initial_and_three_times_the_previous() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut b = backoff(Jitter::Decorrelated);
        let mut previous = Duration::from_millis(100);
        let mut hit_max = false;
        for _ in 0..200 {
            let d = b.next_delay(&mut rng);
            assert!(d >= Duration::from_millis(100), "{d:?}");
            assert!(
                d <= (previous * 3).min(Duration::from_secs(1)),
                "{d:?} after {previous:?}"
            );
            hit_max |= d == Duration::from_secs(1);
            previous = d;
        }
        assert!(hit_max, "200 draws should reach the cap");
    }

    #[test]
    fn the_same_seed_gives_the_same_delays() {
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut b = backoff(Jitter::Full);
            (0..5).map(|_| b.next_delay(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn retry_after_is_clamped_to_the_window_and_counts_as_a_retry() {
        let mut b = backoff(Jitter::None);
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(
            b.next_delay_after(Duration::from_millis(350)),
            Duration::from_millis(350)
        );
        assert_eq!(
            b.next_delay_after(Duration::ZERO),
            Duration::from_millis(100)
        );
        assert_eq!(
            b.next_delay_after(Duration::from_secs(3600)),
            Duration::from_secs(1)
        );
        assert_eq!(b.retries(), 3);
        // The exponent kept counting: the fourth delay is initial × 2³.
        assert_eq!(b.next_delay(&mut rng), Duration::from_millis(800));
        b.reset();
        assert_eq!(b.next_delay(&mut rng), Duration::from_millis(100));
    }

    #[test]
    fn an_invalid_policy_is_refused() {
        let p = RetryPolicy::new(3, Duration::from_secs(2), 2.0, Duration::from_secs(1));
        let err = Backoff::new(&p).unwrap_err();
        assert!(
            err.is_config() && err.to_string().contains("max_delay_ms"),
            "{err}"
        );
    }
}
