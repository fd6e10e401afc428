//! `Guarded`: a [`QuoteSource`] behind its backend's circuit breaker and retry policy.

use std::future::Future;
use std::num::NonZeroUsize;

use galileo_net::{BackendId, IpLease};
use galileo_resilience::breaker::{Breaker, BreakerConfig, BreakerError, Outcome};
use galileo_resilience::retry::{Retry, RetryDecision, RetryPolicy};
use serde::Deserialize;
use solana_pubkey::Pubkey;

use crate::{QuoteError, QuoteRequest, QuoteSource};

/// A backend's breaker and retry settings. In TOML, under the backend's section:
///
/// ```toml
/// [breaker]                  # galileo-resilience BreakerConfig (docs/resilience-breaker.md)
/// failure_threshold = 5
/// open_ms = 2000
/// [quote_retry]              # RetryPolicy (docs/resilience-retry.md)
/// max_retries = 0
/// [swap_retry]
/// max_retries = 1
/// initial_delay_ms = 50
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// When the backend counts as down, and for how long.
    pub breaker: BreakerConfig,
    /// Retries of a quote. Default: none. A quote goes stale in a second, and a retry is a
    /// request the lease's budget did not reserve.
    pub quote_retry: RetryPolicy,
    /// Retries of a swap-instructions call (an opportunity is at stake). Default: one, after
    /// 50–100 ms.
    pub swap_retry: RetryPolicy,
}

impl Default for GuardConfig {
    fn default() -> Self {
        let mut swap_retry = RetryPolicy::fast().with_max_retries(1);
        swap_retry.initial_delay_ms = 100;
        Self {
            breaker: BreakerConfig::default(),
            quote_retry: RetryPolicy::fast().with_max_retries(0),
            swap_retry,
        }
    }
}

type Condition = fn(&BreakerError<QuoteError>) -> RetryDecision;

/// Retry only what a retry on the same lease can fix: a provider 5xx (it does not rest the
/// IP). 429s, timeouts and connect failures rest the IP; "no route" is an answer.
fn retryable(e: &BreakerError<QuoteError>) -> RetryDecision {
    RetryDecision::retry_if(matches!(e, BreakerError::Inner(e) if e.is_retryable()))
}

/// What the breaker counts: provider failures only. Rate limits are the IP's business (the
/// allocator rests it), "no route" and rejected requests are not the provider failing.
fn classify(e: &QuoteError) -> Outcome {
    if e.is_provider_failure() {
        Outcome::Failure
    } else {
        Outcome::Ignored
    }
}

/// `inner` behind a circuit breaker (named after the backend) and two retry policies. Every
/// quote and swap-instructions call goes through both; the breaker refuses calls while open
/// ([`QuoteError::BreakerOpen`]), so a failing provider is left alone until it recovers.
#[derive(Debug)]
pub struct Guarded<S> {
    inner: S,
    breaker: Breaker,
    quote_retry: Retry<Condition>,
    swap_retry: Retry<Condition>,
}

impl<S: QuoteSource> Guarded<S> {
    /// Guards `inner` as `config` says; fails on an invalid configuration.
    pub fn new(inner: S, config: &GuardConfig) -> Result<Self, QuoteError> {
        let name = inner.name().to_owned();
        let bad = |e: galileo_resilience::Error| QuoteError::Config(format!("{name}: {e}"));
        let breaker = Breaker::new(name.clone(), config.breaker.clone()).map_err(bad)?;
        Self::with_breaker(inner, breaker, config)
    }

    /// Guards `inner` with a breaker built elsewhere (e.g. from a `BreakerRegistry`).
    pub fn with_breaker(
        inner: S,
        breaker: Breaker,
        config: &GuardConfig,
    ) -> Result<Self, QuoteError> {
        let name = inner.name().to_owned();
        let bad = |e: galileo_resilience::Error| QuoteError::Config(format!("{name}: {e}"));
        let quote_retry = Retry::new(format!("{name}_quote"), config.quote_retry)
            .map_err(bad)?
            .with_condition(retryable as Condition);
        let swap_retry = Retry::new(format!("{name}_swap"), config.swap_retry)
            .map_err(bad)?
            .with_condition(retryable as Condition);
        Ok(Self {
            inner,
            breaker,
            quote_retry,
            swap_retry,
        })
    }

    /// The source inside.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The breaker (state, stats, events).
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    async fn guarded<T, F, Fut>(&self, retry: &Retry<Condition>, op: F) -> Result<T, QuoteError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, QuoteError>>,
    {
        let run = retry.run(|| self.breaker.call_with(op(), classify)).await;
        run.map_err(|e| match e.into_inner() {
            BreakerError::Inner(e) => e,
            BreakerError::Open {
                retry_at, retry_in, ..
            } => QuoteError::BreakerOpen {
                backend: self.inner.name().to_owned(),
                retry_at,
                retry_in,
            },
            BreakerError::Timeout { after, .. } => QuoteError::Timeout {
                backend: self.inner.name().to_owned(),
                after,
            },
        })
    }
}

impl<S: QuoteSource> QuoteSource for Guarded<S> {
    type Quote = S::Quote;
    type Instructions = S::Instructions;

    fn name(&self) -> &str {
        self.inner.name()
    }
    fn backend(&self) -> Option<BackendId> {
        self.inner.backend()
    }
    fn cost(&self) -> u32 {
        self.inner.cost()
    }
    fn backend_limit(&self) -> Option<NonZeroUsize> {
        self.inner.backend_limit()
    }

    async fn quote(&self, lease: &IpLease, request: &QuoteRequest) -> Result<S::Quote, QuoteError> {
        self.guarded(&self.quote_retry, || self.inner.quote(lease, request))
            .await
    }

    async fn swap_instructions(
        &self,
        lease: &IpLease,
        quote: &S::Quote,
        user: &Pubkey,
    ) -> Result<S::Instructions, QuoteError> {
        self.guarded(&self.swap_retry, || {
            self.inner.swap_instructions(lease, quote, user)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use galileo_net::TaskKind;
    use galileo_resilience::breaker::State;
    use solana_pubkey::Pubkey;

    use super::*;
    use crate::Leg;
    use crate::test_support::{Fake, allocator};

    fn request() -> QuoteRequest {
        QuoteRequest::new(Pubkey::new_unique(), Pubkey::new_unique(), 10, Leg::Buy)
    }

    fn config(threshold: u32, quote_retries: u32) -> GuardConfig {
        GuardConfig {
            breaker: BreakerConfig {
                failure_threshold: threshold,
                open_ms: 1_000,
                ..Default::default()
            },
            quote_retry: RetryPolicy::fast().with_max_retries(quote_retries),
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn provider_failures_open_the_breaker_and_it_refuses_calls() {
        let fake = Fake::new(1);
        fake.fail_buy.store(true, Ordering::SeqCst);
        let guarded = Guarded::new(fake.clone(), &config(3, 0)).unwrap();
        let alloc = allocator(1, None);
        let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
        for _ in 0..3 {
            let e = guarded.quote(&lease, &request()).await.unwrap_err();
            assert_eq!(e.status(), Some(500));
        }
        assert_eq!(guarded.breaker().state(), State::Open);
        let e = guarded.quote(&lease, &request()).await.unwrap_err();
        assert!(e.is_breaker_open(), "{e}");
        assert_eq!(fake.calls(Leg::Buy), 3, "refused without calling");
        // After open_ms a probe goes through and, succeeding, closes it.
        fake.fail_buy.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        guarded.quote(&lease, &request()).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limits_do_not_count_against_the_provider() {
        let fake = Fake::new(1);
        fake.rate_limit.store(true, Ordering::SeqCst);
        let guarded = Guarded::new(fake.clone(), &config(2, 3)).unwrap();
        let alloc = allocator(1, None);
        let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
        for _ in 0..5 {
            assert!(
                guarded
                    .quote(&lease, &request())
                    .await
                    .unwrap_err()
                    .is_rate_limited()
            );
        }
        assert_eq!(guarded.breaker().state(), State::Closed);
        assert_eq!(
            fake.calls(Leg::Buy),
            5,
            "a 429 is never retried on its resting IP"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_5xx_is_retried_as_configured() {
        let fake = Fake::new(1);
        fake.fail_buy.store(true, Ordering::SeqCst);
        let guarded = Guarded::new(fake.clone(), &config(10, 2)).unwrap();
        let alloc = allocator(1, None);
        let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
        assert!(guarded.quote(&lease, &request()).await.is_err());
        assert_eq!(fake.calls(Leg::Buy), 3, "the first attempt and 2 retries");
    }

    #[test]
    fn bad_policies_are_refused_with_the_backend_named() {
        let mut cfg = GuardConfig::default();
        cfg.swap_retry.max_delay_ms = 1;
        cfg.swap_retry.initial_delay_ms = 5;
        let err = Guarded::new(Fake::new(1), &cfg).unwrap_err();
        assert!(err.is_config() && err.to_string().contains("fake"), "{err}");
    }
}
