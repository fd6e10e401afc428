//! The async runner on paused time.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::{Instant, advance, timeout};

use crate::retry::{
    Jitter, Retry, RetryBudgetConfig, RetryDecision, RetryPolicy, SeededRng, SharedRetryBudget,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// 100 ms doubling to 1 s, no jitter, `retries` retries.
fn exact(retries: u32) -> Retry {
    Retry::new(
        "test",
        RetryPolicy::fast()
            .with_jitter(Jitter::None)
            .with_max_retries(retries),
    )
    .unwrap()
}

/// An operation that fails `failures` times (with errors 1, 2, ...) and then returns the
/// attempt number, recording when each attempt started.
struct Flaky {
    failures: u32,
    calls: Cell<u32>,
    started: RefCell<Vec<Duration>>,
    t0: Instant,
}

impl Flaky {
    fn new(failures: u32) -> Self {
        Self {
            failures,
            calls: Cell::new(0),
            started: RefCell::new(Vec::new()),
            t0: Instant::now(),
        }
    }

    fn call(&self) -> impl Future<Output = Result<u32, u32>> + use<> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        self.started.borrow_mut().push(self.t0.elapsed());
        let fail = n <= self.failures;
        async move { if fail { Err(n) } else { Ok(n) } }
    }

    fn starts_ms(&self) -> Vec<u128> {
        self.started
            .borrow()
            .iter()
            .map(Duration::as_millis)
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn succeeds_after_failures_with_exponential_pauses() {
    let op = Flaky::new(2);
    let got = exact(3).run(|| op.call()).await;
    assert_eq!(got.unwrap(), 3);
    assert_eq!(op.starts_ms(), [0, 100, 300]);
}

#[tokio::test(start_paused = true)]
async fn a_first_success_never_waits() {
    let op = Flaky::new(0);
    assert_eq!(exact(3).run(|| op.call()).await.unwrap(), 1);
    assert_eq!(op.starts_ms(), [0]);
}

#[tokio::test(start_paused = true)]
async fn exhaustion_reports_every_attempt_and_the_last_error() {
    let op = Flaky::new(u32::MAX);
    let err = exact(3).run(|| op.call()).await.unwrap_err();
    assert!(err.is_exhausted(), "{err}");
    assert_eq!(err.attempts(), 4);
    assert_eq!(
        err.into_inner(),
        4,
        "the last attempt's error, not the first"
    );
    assert_eq!(op.starts_ms(), [0, 100, 300, 700]);
    // No pause after the last attempt.
    assert_eq!(op.t0.elapsed(), ms(700));
}

#[tokio::test(start_paused = true)]
async fn max_delay_caps_the_pauses() {
    let op = Flaky::new(u32::MAX);
    exact(6).run(|| op.call()).await.unwrap_err();
    // 100, 200, 400, 800, then capped at 1000.
    assert_eq!(op.starts_ms(), [0, 100, 300, 700, 1500, 2500, 3500]);
}

#[tokio::test(start_paused = true)]
async fn a_non_retryable_error_stops_at_once() {
    let op = Flaky::new(u32::MAX);
    let retry = exact(3).with_condition(|e: &u32| RetryDecision::retry_if(*e < 2));
    let err = retry.run(|| op.call()).await.unwrap_err();
    assert!(err.is_not_retryable(), "{err}");
    assert_eq!((err.attempts(), *err.inner()), (2, 2));
    assert_eq!(op.starts_ms(), [0, 100]);
    assert_eq!(op.t0.elapsed(), ms(100), "no pause after a refusal");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_clamped() {
    // Hints: 450 ms (kept), 1 ms (raised to initial_delay 100 ms), 1 h (cut to max_delay 1 s).
    let hints = [ms(450), ms(1), Duration::from_secs(3600)];
    let op = Flaky::new(3);
    let retry =
        exact(5).with_condition(move |e: &u32| RetryDecision::RetryAfter(hints[*e as usize - 1]));
    assert_eq!(retry.run(|| op.call()).await.unwrap(), 4);
    assert_eq!(op.starts_ms(), [0, 450, 550, 1550]);
}

#[tokio::test(start_paused = true)]
async fn the_hook_sees_each_error_attempt_and_pause() {
    let seen = RefCell::new(Vec::new());
    let op = Flaky::new(3);
    let retry = exact(5).with_hook(|e: &u32, attempt: u32, delay: Duration| {
        seen.borrow_mut().push((*e, attempt, delay.as_millis()));
    });
    retry.run(|| op.call()).await.unwrap();
    assert_eq!(*seen.borrow(), [(1, 1, 100), (2, 2, 200), (3, 3, 400)]);
}

#[tokio::test(start_paused = true)]
async fn the_budget_stops_retries_across_loops_and_refills_with_time() {
    // A floor of 2 retries per 1 s window, nothing earned from requests.
    let budget = SharedRetryBudget::new(&RetryBudgetConfig {
        window_ms: 1000,
        min_retries_per_sec: 2,
        retry_ratio: 0.0,
    })
    .unwrap();
    let retry = exact(5).with_budget(budget.clone());

    // The first loop spends both retries, then is refused.
    let op = Flaky::new(u32::MAX);
    let err = retry.run(|| op.call()).await.unwrap_err();
    assert!(err.is_budget_exhausted(), "{err}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(op.starts_ms(), [0, 100, 300]);

    // A second loop sharing the budget may not retry at all.
    let op = Flaky::new(1);
    let err = retry.run(|| op.call()).await.unwrap_err();
    assert!(err.is_budget_exhausted() && err.attempts() == 1, "{err}");

    // Once the window has passed, retries are allowed again.
    advance(Duration::from_secs(1)).await;
    let op = Flaky::new(1);
    assert_eq!(retry.run(|| op.call()).await.unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn requests_earn_retries_for_other_loops() {
    let budget = SharedRetryBudget::new(&RetryBudgetConfig {
        window_ms: 10_000,
        min_retries_per_sec: 0,
        retry_ratio: 0.5,
    })
    .unwrap();
    let retry = exact(5).with_budget(budget.clone());
    // Two successful calls deposit 2 × 0.5 = 1 retry.
    for _ in 0..2 {
        let op = Flaky::new(0);
        retry.run(|| op.call()).await.unwrap();
    }
    // This call deposits 0.5 more: it may retry once (1.5 available), not twice.
    let op = Flaky::new(u32::MAX);
    let err = retry.run(|| op.call()).await.unwrap_err();
    assert!(err.is_budget_exhausted() && err.attempts() == 2, "{err}");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_mid_pause_stops_the_loop() {
    let calls = Arc::new(AtomicU32::new(0));
    let retry = Arc::new(exact(5));
    let op = {
        let calls = calls.clone();
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>("down") }
        }
    };
    // Pauses at 100 ms and 300 ms; give up waiting at 200 ms, during the second pause.
    let r = timeout(ms(200), retry.run(op)).await;
    assert!(r.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    advance(Duration::from_secs(60)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "no attempt after cancellation"
    );
    // The Retry itself is unharmed.
    let err = retry
        .run(|| async { Err::<(), _>("still down") })
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 6);
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_have_their_own_attempts_and_backoff() {
    let retry = Arc::new(exact(2));
    let mut tasks = Vec::new();
    for delay in [0u64, 50] {
        let retry = retry.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(ms(delay)).await;
            let t0 = Instant::now();
            let calls = AtomicU32::new(0);
            let err = retry
                .run(|| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err::<(), _>(()) }
                })
                .await
                .unwrap_err();
            (err.attempts(), t0.elapsed())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), (3, ms(300)));
    }
}

#[tokio::test(start_paused = true)]
async fn a_seed_makes_jittered_runs_reproducible() {
    let policy = RetryPolicy::fast()
        .with_jitter(Jitter::Full)
        .with_max_retries(4);
    let run = |seed| async move {
        let op = Flaky::new(u32::MAX);
        let retry = Retry::new("seeded", policy)
            .unwrap()
            .with_rng(SeededRng::new(seed));
        retry.run(|| op.call()).await.unwrap_err();
        op.starts_ms()
    };
    let a = run(5).await;
    assert_eq!(a, run(5).await);
    assert_ne!(a, run(6).await);
    // Full jitter: each pause within [0, base].
    let pauses: Vec<u128> = a.windows(2).map(|w| w[1] - w[0]).collect();
    for (pause, base) in pauses.iter().zip([100, 200, 400, 800]) {
        assert!(*pause <= base, "{pauses:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_invalid_policy_is_refused_at_construction() {
    let mut p = RetryPolicy::fast();
    p.multiplier = 0.5;
    let err = Retry::new("bad", p).unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("multiplier"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_future_is_send_for_send_operations() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let retry = exact(1);
    let fut = assert_send(retry.run(|| async { Ok::<_, std::io::Error>(1) }));
    assert_eq!(fut.await.unwrap(), 1);
}
