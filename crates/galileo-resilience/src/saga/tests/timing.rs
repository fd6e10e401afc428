//! Timeouts and retries, on paused time: every instant is exact.

use std::time::Duration;

use tokio::time::Instant;

use super::{Call, Ctx, compensated, saga};
use crate::saga::{SagaConfig, SagaError, SagaId, StepError, StepPolicy};

fn policy(timeout_ms: u64, max_retries: u32, retry_delay_ms: u64) -> StepPolicy {
    StepPolicy {
        timeout_ms,
        max_retries,
        retry_delay_ms,
    }
}

/// Milliseconds since `start` of each call matching `pick`.
fn times(calls: &super::Calls, start: Instant, pick: impl Fn(&Call) -> bool) -> Vec<u128> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| pick(c))
        .map(|(_, at)| (*at - start).as_millis())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_step_that_overruns_its_timeout_is_cancelled_at_the_deadline() {
    let config = SagaConfig::default().with_execute("s1", policy(1_000, 0, 0));
    let (saga, calls) = saga(3, &config, |s| {
        if s.index == 1 {
            s.delay = Duration::from_secs(5);
        }
    });
    let start = Instant::now();
    let mut ctx = Ctx::default();
    let err = saga.run(SagaId::from(1u128), &mut ctx).await.unwrap_err();
    // Cancelled at exactly 1 s, not when the step would have finished.
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert!(err.is_timeout() && err.is_failed(), "{err}");
    let SagaError::Failed { failure, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(failure.error, StepError::TimedOut { after } if after == Duration::from_secs(1))
    );
    assert!(err.to_string().contains("timed out after 1s"), "{err}");
    // Step 1 never completed, so only step 0 is compensated, right at the deadline.
    assert_eq!(compensated(&calls), [0]);
    assert_eq!(
        times(&calls, start, |c| matches!(c, Call::Compensate { .. })),
        [1_000]
    );
    assert!(ctx.done.is_empty());
}

#[tokio::test(start_paused = true)]
async fn retries_wait_their_delay_and_stop_once_an_attempt_succeeds() {
    // Each attempt takes 100 ms; two failures, then success.
    let config = SagaConfig::default().with_execute("s0", policy(1_000, 2, 300));
    let (saga, calls) = saga(2, &config, |s| {
        s.delay = Duration::from_millis(100);
        if s.index == 0 {
            s.fail = 2;
        }
    });
    let start = Instant::now();
    let mut ctx = Ctx::default();
    saga.run(SagaId::from(1u128), &mut ctx).await.unwrap();
    let step0 = times(&calls, start, |c| {
        matches!(c, Call::Execute { step: 0, .. })
    });
    assert_eq!(step0, [0, 400, 800]);
    let step1 = times(&calls, start, |c| {
        matches!(c, Call::Execute { step: 1, .. })
    });
    assert_eq!(step1, [900]);
    assert_eq!(start.elapsed(), Duration::from_millis(1_000));
    assert_eq!(ctx.done, [0, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_step_fails_for_good_after_max_retries() {
    let config = SagaConfig::default().with_execute("s1", policy(1_000, 2, 50));
    let (saga, calls) = saga(2, &config, |s| {
        if s.index == 1 {
            s.fail = 10;
        }
    });
    let start = Instant::now();
    let err = saga
        .run(SagaId::from(1u128), &mut Ctx::default())
        .await
        .unwrap_err();
    assert_eq!(
        times(&calls, start, |c| matches!(
            c,
            Call::Execute { step: 1, .. }
        )),
        [0, 50, 100]
    );
    assert!(err.is_failed() && !err.is_timeout());
    assert!(
        err.to_string()
            .contains("step 1 `s1` failed after 3 attempts: s1 attempt 3 failed"),
        "{err}"
    );
    assert_eq!(err.into_inner().as_deref(), Some("s1 attempt 3 failed"));
    assert_eq!(compensated(&calls), [0]);
}

#[tokio::test(start_paused = true)]
async fn timed_out_attempts_are_retried() {
    let config = SagaConfig::default().with_execute("s0", policy(1_000, 1, 500));
    let (saga, calls) = saga(1, &config, |s| s.delay = Duration::from_secs(2));
    let start = Instant::now();
    let err = saga
        .run(SagaId::from(1u128), &mut Ctx::default())
        .await
        .unwrap_err();
    assert_eq!(times(&calls, start, |_| true), [0, 1_500]);
    assert_eq!(start.elapsed(), Duration::from_millis(2_500));
    assert!(err.is_timeout());
    assert!(err.to_string().contains("after 2 attempts"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn errors_the_step_calls_permanent_are_not_retried() {
    let config = SagaConfig::default().with_execute("s0", policy(1_000, 5, 10));
    let (saga, calls) = saga(1, &config, |s| {
        s.fail = 10;
        s.retryable = false;
    });
    let err = saga
        .run(SagaId::from(1u128), &mut Ctx::default())
        .await
        .unwrap_err();
    assert_eq!(super::calls(&calls).len(), 1);
    assert!(err.to_string().contains("after 1 attempt:"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn compensations_time_out_and_retry_per_their_own_policy() {
    let config = SagaConfig::default()
        .with_execute("s1", policy(1_000, 0, 0))
        .with_compensate("s0", policy(1_000, 2, 100));
    let (saga, calls) = saga(2, &config, |s| {
        s.fail = u32::from(s.index == 1);
        s.comp_delay = Duration::from_secs(3);
    });
    let start = Instant::now();
    let err = saga
        .run(SagaId::from(1u128), &mut Ctx::default())
        .await
        .unwrap_err();
    assert_eq!(
        times(&calls, start, |c| matches!(c, Call::Compensate { .. })),
        [0, 1_100, 2_200]
    );
    assert_eq!(start.elapsed(), Duration::from_millis(3_200));
    assert!(err.is_compensation_failed() && err.is_timeout() && err.needs_recovery());
    assert_eq!(err.failed_step().map(|s| s.index()), Some(1));
}
