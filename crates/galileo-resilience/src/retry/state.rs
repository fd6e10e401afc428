//! The sans-IO retry loop: after each failed attempt, retry when, or give up why.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::{Backoff, RetryBudget, RetryDecision, RetryPolicy};
use crate::Error;

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Retry at `at` (`now + delay`).
    RetryAt {
        /// When to start the retry.
        at: Instant,
        /// The pause before it.
        delay: Duration,
        /// Which retry it is (1-based): also the number of the attempt that failed.
        retry: u32,
    },
    /// Stop and report the error.
    GiveUp(GiveUp),
}

/// Why a retry loop stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GiveUp {
    /// The retry condition said retrying cannot help.
    NotRetryable,
    /// `max_retries` retries were made already.
    Exhausted,
    /// The retry budget holds no retry.
    BudgetExhausted,
}

/// The state of one call's retry loop, without IO: feed it each failure, it says when to retry
/// or why to stop. [`Retry`](super::Retry) is the async shell around it; use this one to drive
/// retries from your own event loop.
///
/// The checks run in this order: the condition (a [`DontRetry`](RetryDecision::DontRetry)
/// stops at once), the retry count, then the budget, so a retry is withdrawn from the budget
/// only when it will be made. Deposit the call itself in the budget before the first attempt.
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::retry::{GiveUp, Jitter, Next, RetryDecision, RetryPolicy, RetryState};
/// use rand::{SeedableRng, rngs::StdRng};
/// use tokio::time::Instant;
///
/// let policy = RetryPolicy::fast().with_jitter(Jitter::None).with_max_retries(1);
/// let mut state = RetryState::new(&policy)?;
/// let mut rng = StdRng::seed_from_u64(0);
/// let now = Instant::now();
/// let next = state.on_failure(RetryDecision::Retry, now, None, &mut rng);
/// assert_eq!(
///     next,
///     Next::RetryAt { at: now + Duration::from_millis(100), delay: Duration::from_millis(100), retry: 1 }
/// );
/// let next = state.on_failure(RetryDecision::Retry, now, None, &mut rng);
/// assert_eq!(next, Next::GiveUp(GiveUp::Exhausted));
/// assert_eq!(state.attempts(), 2);
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RetryState {
    max_retries: u32,
    backoff: Backoff,
    attempts: u32,
}

impl RetryState {
    /// The state of a new call under `policy`, or an error saying what to change in it.
    pub fn new(policy: &RetryPolicy) -> Result<Self, Error> {
        Ok(Self {
            max_retries: policy.max_retries,
            backoff: Backoff::new(policy)?,
            attempts: 0,
        })
    }

    /// Attempts that have failed so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// An attempt failed and the retry condition said `decision`: retry when, or give up why.
    pub fn on_failure<R: Rng + ?Sized>(
        &mut self,
        decision: RetryDecision,
        now: Instant,
        budget: Option<&mut RetryBudget>,
        rng: &mut R,
    ) -> Next {
        self.attempts = self.attempts.saturating_add(1);
        if decision == RetryDecision::DontRetry {
            return Next::GiveUp(GiveUp::NotRetryable);
        }
        if self.attempts > self.max_retries {
            return Next::GiveUp(GiveUp::Exhausted);
        }
        if let Some(budget) = budget
            && !budget.try_withdraw(now)
        {
            return Next::GiveUp(GiveUp::BudgetExhausted);
        }
        let delay = match decision {
            RetryDecision::RetryAfter(server) => self.backoff.next_delay_after(server),
            _ => self.backoff.next_delay(rng),
        };
        Next::RetryAt {
            at: now + delay,
            delay,
            retry: self.attempts,
        }
    }

    /// Starts over, as for a new call.
    pub fn reset(&mut self) {
        self.attempts = 0;
        self.backoff.reset();
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::retry::{Jitter, RetryBudgetConfig};

    fn state(max_retries: u32) -> RetryState {
        let p = RetryPolicy::fast()
            .with_jitter(Jitter::None)
            .with_max_retries(max_retries);
        RetryState::new(&p).unwrap()
    }

    fn delay(next: Next) -> Option<u128> {
        match next {
            Next::RetryAt { delay, .. } => Some(delay.as_millis()),
            Next::GiveUp(_) => None,
        }
    }

    #[test]
    fn retries_up_to_max_then_gives_up() {
        let mut s = state(3);
        let mut rng = StdRng::seed_from_u64(0);
        let t = Instant::now();
        let got: Vec<Next> = (0..4)
            .map(|_| s.on_failure(RetryDecision::Retry, t, None, &mut rng))
            .collect();
        assert_eq!(
            got.iter().map(|n| delay(*n)).collect::<Vec<_>>(),
            [Some(100), Some(200), Some(400), None]
        );
        assert_eq!(got[3], Next::GiveUp(GiveUp::Exhausted));
        assert!(matches!(got[2], Next::RetryAt { retry: 3, .. }));
        assert_eq!(s.attempts(), 4);
        s.reset();
        assert_eq!(
            delay(s.on_failure(RetryDecision::Retry, t, None, &mut rng)),
            Some(100)
        );
    }

    #[test]
    fn zero_retries_never_retries() {
        let mut s = state(0);
        let mut rng = StdRng::seed_from_u64(0);
        let next = s.on_failure(RetryDecision::Retry, Instant::now(), None, &mut rng);
        assert_eq!(next, Next::GiveUp(GiveUp::Exhausted));
    }

    #[test]
    fn dont_retry_wins_over_everything_and_spends_no_budget() {
        let mut s = state(3);
        let mut rng = StdRng::seed_from_u64(0);
        let cfg = RetryBudgetConfig {
            window_ms: 1000,
            min_retries_per_sec: 1,
            retry_ratio: 0.0,
        };
        let mut budget = RetryBudget::new(&cfg).unwrap();
        let t = Instant::now();
        let next = s.on_failure(RetryDecision::DontRetry, t, Some(&mut budget), &mut rng);
        assert_eq!(next, Next::GiveUp(GiveUp::NotRetryable));
        assert_eq!(budget.available(t), 1);
    }

    #[test]
    fn an_empty_budget_stops_the_loop_and_exhaustion_spends_none() {
        let cfg = RetryBudgetConfig {
            window_ms: 1000,
            min_retries_per_sec: 2,
            retry_ratio: 0.0,
        };
        let mut budget = RetryBudget::new(&cfg).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let t = Instant::now();
        // A one-retry loop uses one retry and gives up without touching the second.
        let mut s = state(1);
        assert!(
            delay(s.on_failure(RetryDecision::Retry, t, Some(&mut budget), &mut rng)).is_some()
        );
        let next = s.on_failure(RetryDecision::Retry, t, Some(&mut budget), &mut rng);
        assert_eq!(next, Next::GiveUp(GiveUp::Exhausted));
        assert_eq!(budget.available(t), 1);
        // Another loop takes the last retry, then finds the budget empty.
        let mut s = state(5);
        assert!(
            delay(s.on_failure(RetryDecision::Retry, t, Some(&mut budget), &mut rng)).is_some()
        );
        let next = s.on_failure(RetryDecision::Retry, t, Some(&mut budget), &mut rng);
        assert_eq!(next, Next::GiveUp(GiveUp::BudgetExhausted));
    }

    #[test]
    fn retry_after_replaces_the_backoff_within_the_window() {
        let mut s = state(5);
        let mut rng = StdRng::seed_from_u64(0);
        let t = Instant::now();
        let after = |ms| RetryDecision::RetryAfter(Duration::from_millis(ms));
        assert_eq!(
            delay(s.on_failure(after(650), t, None, &mut rng)),
            Some(650)
        );
        assert_eq!(delay(s.on_failure(after(5), t, None, &mut rng)), Some(100));
        assert_eq!(
            delay(s.on_failure(after(60_000), t, None, &mut rng)),
            Some(1000)
        );
        let next = s.on_failure(after(300), t, None, &mut rng);
        assert_eq!(
            next,
            Next::RetryAt {
                at: t + Duration::from_millis(300),
                delay: Duration::from_millis(300),
                retry: 4
            }
        );
    }
}
