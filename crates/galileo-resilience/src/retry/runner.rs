//! The async retry loop: a thin shell over [`RetryState`] that sleeps on tokio's clock.

use std::future::Future;

use metrics::{Counter, Histogram};
use tokio::time::{Instant, sleep_until};

use super::{
    GiveUp, Next, NoHook, OnRetry, RetryAll, RetryCondition, RetryError, RetryPolicy, RetryState,
    RngSource, SharedRetryBudget, ThreadRngSource,
};
use crate::Error;
use crate::metrics::{RETRY_ATTEMPTS, RETRY_DURATION};

/// Retries an async operation under a [`RetryPolicy`], optionally limited by a shared
/// [`SharedRetryBudget`], with a [`RetryCondition`] that decides which errors are worth
/// retrying and an [`OnRetry`] hook.
///
/// One `Retry` serves any number of calls and tasks: [`run`](Self::run) takes `&self`, and
/// each call has its own attempt count and backoff. The type parameters are the condition, the
/// hook and the random source, so everything is monomorphized; nothing is boxed.
///
/// Metrics (labelled `name`): `galileo_retry_attempts_total` counts retries made (not first
/// attempts; a retry counts once its pause is over and it starts) and
/// `galileo_retry_duration_seconds` records each finished loop's whole duration, success or
/// failure (a cancelled loop records nothing). The handles are registered when the `Retry` is
/// built, so install the metrics recorder first.
///
/// **Cancellation.** Dropping the future returned by `run` (a `timeout`, a `select!`) stops
/// the loop wherever it is: no further attempt starts, the pause is abandoned, and nothing
/// is left behind. A retry withdrawn from the budget for an abandoned pause stays spent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use std::cell::Cell;
/// use std::time::Duration;
/// use galileo_resilience::retry::{
///     Jitter, Retry, RetryBudgetConfig, RetryDecision, RetryPolicy, SharedRetryBudget, classify,
/// };
/// use tokio::time::Instant;
///
/// let budget = SharedRetryBudget::new(&RetryBudgetConfig::default())?;
/// let retry = Retry::new("quotes", RetryPolicy::fast().with_jitter(Jitter::None))?
///     .with_budget(budget)
///     // The HTTP layer hands us (status, Retry-After).
///     .with_condition(|e: &(u16, Option<Duration>)| classify::status(e.0, e.1));
///
/// let start = Instant::now();
/// let calls = Cell::new(0);
/// let answer = retry
///     .run(|| {
///         calls.set(calls.get() + 1);
///         let n = calls.get();
///         async move {
///             match n {
///                 1 => Err((503, None)),                              // backoff: 100 ms
///                 2 => Err((429, Some(Duration::from_millis(700)))), // server says 700 ms
///                 _ => Ok("quote"),
///             }
///         }
///     })
///     .await;
/// assert_eq!(answer.unwrap(), "quote");
/// assert_eq!(start.elapsed(), Duration::from_millis(800));
///
/// // A 400 is not retried.
/// let err = retry.run(|| async { Err::<(), _>((400, None)) }).await.unwrap_err();
/// assert!(err.is_not_retryable() && err.attempts() == 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Retry<C = RetryAll, H = NoHook, G = ThreadRngSource> {
    name: String,
    policy: RetryPolicy,
    fresh: RetryState,
    budget: Option<SharedRetryBudget>,
    condition: C,
    hook: H,
    rng: G,
    retries_made: Counter,
    duration: Histogram,
}

impl Retry {
    /// A retry loop called `name` (the `name` label of its metrics and logs: keep it to a
    /// small set, such as the dependency's name) under `policy`, retrying every error.
    ///
    /// Fails when the policy cannot work, saying what to change.
    pub fn new(name: impl Into<String>, policy: RetryPolicy) -> Result<Self, Error> {
        let name = name.into();
        Ok(Self {
            fresh: RetryState::new(&policy)?,
            policy,
            budget: None,
            condition: RetryAll,
            hook: NoHook,
            rng: ThreadRngSource,
            retries_made: metrics::counter!(RETRY_ATTEMPTS, "name" => name.clone()),
            duration: metrics::histogram!(RETRY_DURATION, "name" => name.clone()),
            name,
        })
    }
}

impl<C, H, G> Retry<C, H, G> {
    /// Retries are also limited by `budget`, shared with the other loops that hold it.
    #[must_use]
    pub fn with_budget(self, budget: SharedRetryBudget) -> Self {
        Self {
            budget: Some(budget),
            ..self
        }
    }

    /// Decides per error whether and when to retry (default: [`RetryAll`]).
    pub fn with_condition<C2>(self, condition: C2) -> Retry<C2, H, G> {
        Retry {
            condition,
            name: self.name,
            policy: self.policy,
            fresh: self.fresh,
            budget: self.budget,
            hook: self.hook,
            rng: self.rng,
            retries_made: self.retries_made,
            duration: self.duration,
        }
    }

    /// Calls `hook` before each retry's pause (default: [`NoHook`]).
    pub fn with_hook<H2>(self, hook: H2) -> Retry<C, H2, G> {
        Retry {
            hook,
            name: self.name,
            policy: self.policy,
            fresh: self.fresh,
            budget: self.budget,
            condition: self.condition,
            rng: self.rng,
            retries_made: self.retries_made,
            duration: self.duration,
        }
    }

    /// Draws jitter from `rng` (default: [`ThreadRngSource`]; a [`SeededRng`](super::SeededRng)
    /// makes the delays reproducible).
    pub fn with_rng<G2: RngSource>(self, rng: G2) -> Retry<C, H, G2> {
        Retry {
            rng,
            name: self.name,
            policy: self.policy,
            fresh: self.fresh,
            budget: self.budget,
            condition: self.condition,
            hook: self.hook,
            retries_made: self.retries_made,
            duration: self.duration,
        }
    }

    /// The loop's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy it follows.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The budget it draws retries from, if any.
    pub fn budget(&self) -> Option<&SharedRetryBudget> {
        self.budget.as_ref()
    }

    /// Calls `op` until it succeeds, the condition refuses a retry, `max_retries` retries have
    /// failed, or the budget refuses one; pauses on tokio's clock between attempts.
    ///
    /// The call is deposited in the budget (if any) before the first attempt.
    pub async fn run<T, E, F, Fut>(&self, mut op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: RetryCondition<E>,
        H: OnRetry<E>,
        G: RngSource,
    {
        let start = Instant::now();
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
        let mut state = self.fresh.clone();
        let outcome = loop {
            let error = match op().await {
                Ok(value) => break Ok(value),
                Err(error) => error,
            };
            let decision = self.condition.decide(&error);
            let now = Instant::now();
            let next = self.rng.with_rng(|rng| match &self.budget {
                Some(budget) => state.on_failure(decision, now, Some(&mut budget.lock()), rng),
                None => state.on_failure(decision, now, None, rng),
            });
            let attempts = state.attempts();
            match next {
                Next::RetryAt { at, delay, retry } => {
                    self.hook.on_retry(&error, retry, delay);
                    tracing::debug!(
                        retry = %self.name,
                        attempt = retry,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "attempt failed; retrying"
                    );
                    drop(error);
                    sleep_until(at).await;
                    self.retries_made.increment(1);
                }
                Next::GiveUp(why) => {
                    tracing::debug!(retry = %self.name, attempts, reason = ?why, "giving up");
                    break Err(match why {
                        GiveUp::NotRetryable => RetryError::NotRetryable { attempts, error },
                        GiveUp::Exhausted => RetryError::Exhausted {
                            attempts,
                            last: error,
                        },
                        GiveUp::BudgetExhausted => RetryError::BudgetExhausted {
                            attempts,
                            last: error,
                        },
                    });
                }
            }
        };
        self.duration.record(start.elapsed().as_secs_f64());
        outcome
    }
}
