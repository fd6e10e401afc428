//! The async [`Breaker`] on paused time: timeout, classifier, fallback, cancellation, events.

use std::future::{Future, pending, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{advance, sleep};

use super::*;
use crate::breaker::{Breaker, BreakerError, State, TransitionReason};

fn breaker(f: impl FnOnce(&mut BreakerConfig)) -> Breaker {
    Breaker::builder("test", only(f))
        .jitter_seed(1)
        .build()
        .unwrap()
}

async fn fail(b: &Breaker) -> BreakerError<&'static str> {
    b.call(async { Err::<(), _>("boom") }).await.unwrap_err()
}

/// Polls a future once, so it runs up to its first pending point.
async fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let mut fut = Some(fut);
    poll_fn(|cx| Poll::Ready(fut.take().unwrap().poll(cx))).await
}

#[tokio::test(start_paused = true)]
async fn a_call_outliving_call_timeout_fails_as_a_timeout_exactly_then() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.call_timeout_ms = Some(500);
    });
    let start = Instant::now();
    let err = b
        .call(async {
            sleep(ms(2000)).await;
            Ok::<_, ()>(1)
        })
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), ms(500));
    assert!(err.is_timeout(), "{err:?}");
    assert!(matches!(err, BreakerError::Timeout { after, .. } if after == ms(500)));
    assert_eq!(b.state(), State::Open, "a timeout is a failure");
    assert_eq!(b.stats().totals.timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_call_within_call_timeout_returns_its_value() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.call_timeout_ms = Some(500);
    });
    let v = b
        .call(async {
            sleep(ms(499)).await;
            Ok::<_, ()>(7)
        })
        .await
        .unwrap();
    assert_eq!(v, 7);
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn errors_count_as_the_classifier_says() {
    let b = breaker(|c| c.failure_threshold = 2);
    #[derive(Debug, PartialEq)]
    enum E {
        NoRoute,
        BadRequest,
        Down,
    }
    let classify = |e: &E| match e {
        E::NoRoute => Outcome::Success,
        E::BadRequest => Outcome::Ignored,
        E::Down => Outcome::Failure,
    };
    let run = |e| b.call_with(async move { Err::<(), E>(e) }, classify);
    assert_eq!(run(E::Down).await.unwrap_err().into_inner(), Some(E::Down));
    // "No route" proves the provider is up: the streak restarts.
    run(E::NoRoute).await.unwrap_err();
    run(E::Down).await.unwrap_err();
    // A bad request is nobody's verdict: the streak neither restarts nor grows.
    for _ in 0..5 {
        run(E::BadRequest).await.unwrap_err();
    }
    assert_eq!(b.state(), State::Closed);
    run(E::Down).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    let t = b.stats().totals;
    assert_eq!((t.successes, t.ignored, t.failures), (1, 5, 3));
}

#[tokio::test(start_paused = true)]
async fn the_open_time_passes_on_the_paused_clock() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.open_ms = 3000;
    });
    fail(&b).await;
    advance(ms(2999)).await;
    let err = b.call(async { Ok::<_, ()>(()) }).await.unwrap_err();
    assert!(err.is_open());
    assert!(matches!(err, BreakerError::Open { retry_in: Some(d), .. } if d == ms(1)));
    assert_eq!(err.retry_at(), Some(Instant::now() + ms(1)));
    advance(ms(1)).await;
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn slow_calls_are_timed_on_the_paused_clock() {
    let b = breaker(|c| {
        c.slow_call_ms = Some(100);
        c.slow_call_rate = Some(0.5);
        c.min_calls = 2;
    });
    let slow = |d| async move {
        sleep(ms(d)).await;
        Ok::<_, ()>(())
    };
    b.call(slow(99)).await.unwrap();
    b.call(slow(100)).await.unwrap();
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.stats().totals.slow, 1);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_frees_its_slot_and_decides_nothing() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
    });
    fail(&b).await;
    advance(ms(100)).await;
    {
        let mut probe = pin!(b.call(pending::<Result<(), ()>>()));
        assert!(poll_once(probe.as_mut()).await.is_pending());
        assert_eq!(b.stats().probes_in_flight, 1);
        let busy = b.call(async { Ok::<_, ()>(()) }).await.unwrap_err();
        assert!(busy.is_open() && busy.retry_at().is_none(), "{busy:?}");
    } // the probe's future is dropped here
    let s = b.stats();
    assert_eq!((s.state, s.probes_in_flight), (State::HalfOpen, 0));
    assert_eq!((s.totals.cancelled, s.totals.successes), (1, 0));
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_aborted_task_frees_its_probe_slot() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
    });
    fail(&b).await;
    advance(ms(100)).await;
    let (started_tx, started_rx) = oneshot::channel();
    let task = tokio::spawn({
        let b = b.clone();
        async move {
            b.call(async move {
                started_tx.send(()).unwrap();
                pending::<Result<(), ()>>().await
            })
            .await
        }
    });
    within(started_rx).await.unwrap();
    assert_eq!(b.stats().probes_in_flight, 1);
    task.abort();
    assert!(within(task).await.unwrap_err().is_cancelled());
    assert_eq!(b.stats().probes_in_flight, 0);
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn half_open_lets_only_max_probes_through_at_once() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
        c.half_open_max_probes = 2;
        c.half_open_successes = 2;
    });
    fail(&b).await;
    advance(ms(100)).await;
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    for _ in 0..5 {
        let (b, gate, tx) = (b.clone(), gate.clone(), tx.clone());
        tokio::spawn(async move {
            let r = b
                .call(async {
                    let _p = gate.acquire().await.unwrap();
                    Ok::<_, ()>(())
                })
                .await;
            tx.send(r.map_err(|e| e.is_open())).unwrap();
        });
    }
    // Three are refused at once; two wait at the gate as probes.
    for _ in 0..3 {
        assert_eq!(within(rx.recv()).await.unwrap(), Err(true));
    }
    assert_eq!(b.stats().probes_in_flight, 2);
    gate.add_permits(2);
    for _ in 0..2 {
        assert_eq!(within(rx.recv()).await.unwrap(), Ok(()));
    }
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.stats().totals.rejected, 3);
}

#[tokio::test(start_paused = true)]
async fn call_or_falls_back_whenever_there_is_no_value() {
    let b = breaker(|c| {
        c.failure_threshold = 2;
        c.call_timeout_ms = Some(50);
    });
    let v = b
        .call_or(async { Ok::<_, ()>(1) }, |_| async {
            unreachable!("no fallback on success")
        })
        .await;
    assert_eq!(v, 1);
    let seen = |e: BreakerError<&'static str>| async move {
        if e.is_open() {
            "open"
        } else if e.is_timeout() {
            "timeout"
        } else {
            e.into_inner().unwrap()
        }
    };
    assert_eq!(b.call_or(async { Err("inner") }, seen).await, "inner");
    assert_eq!(within(b.call_or(pending(), seen)).await, "timeout");
    assert_eq!(b.call_or(async { Ok("value") }, seen).await, "open");
}

#[tokio::test(start_paused = true)]
async fn a_manual_permit_reports_or_counts_as_cancelled_when_dropped() {
    let b = breaker(|c| c.failure_threshold = 1);
    let p = b.try_acquire::<()>().unwrap();
    assert!(!p.is_probe());
    assert_eq!(p.started(), Some(Instant::now()));
    drop(p);
    assert_eq!(b.stats().totals.cancelled, 1);
    assert_eq!(b.state(), State::Closed);
    let p = b.try_acquire::<()>().unwrap();
    advance(ms(10)).await;
    let t = p.record(Outcome::Failure).unwrap();
    assert_eq!(t.at, Instant::now());
    assert!(b.try_acquire::<()>().unwrap_err().is_open());
}

#[tokio::test(start_paused = true)]
async fn state_changes_are_broadcast_in_order() {
    let b = breaker(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
    });
    let mut events = b.subscribe();
    fail(&b).await;
    advance(ms(100)).await;
    fail(&b).await;
    advance(ms(100)).await;
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        assert_eq!(&*e.name, "test");
        seen.push((e.transition.from, e.transition.to, e.transition.reason));
    }
    use State::*;
    use TransitionReason::*;
    assert_eq!(
        seen,
        [
            (Closed, Open, ConsecutiveFailures { count: 1 }),
            (Open, HalfOpen, OpenTimeElapsed),
            (HalfOpen, Open, ProbeFailed),
            (Open, HalfOpen, OpenTimeElapsed),
            (HalfOpen, Closed, ProbesSucceeded { successes: 1 }),
        ]
    );
}

#[test]
fn error_messages_say_what_to_do() {
    let open: BreakerError<std::io::Error> = BreakerError::Open {
        name: "jupiter".into(),
        retry_at: None,
        retry_in: Some(ms(1500)),
    };
    let msg = open.to_string();
    assert!(msg.contains("`jupiter` is open"), "{msg}");
    assert!(
        msg.contains("in 1.5s: skip this call or use a fallback"),
        "{msg}"
    );
    let busy: BreakerError<std::io::Error> = BreakerError::Open {
        name: "jupiter".into(),
        retry_at: None,
        retry_in: None,
    };
    assert!(busy.to_string().contains("half-open"), "{busy}");
    assert_eq!(busy.breaker_name(), Some("jupiter"));
    let inner = BreakerError::Inner(std::io::Error::other("connection reset"));
    assert_eq!(inner.to_string(), "connection reset");
    assert!(inner.is_inner() && !inner.is_open() && !inner.is_timeout());
    assert_eq!(inner.breaker_name(), None);
    let mapped = inner.map_inner(|e| e.kind());
    assert_eq!(mapped.inner(), Some(&std::io::ErrorKind::Other));
    let t: BreakerError<std::io::Error> = BreakerError::Timeout {
        name: "dflow".into(),
        after: ms(800),
    };
    assert_eq!(
        t.to_string(),
        "call through circuit breaker `dflow` timed out after 800ms and counted as a failure; raise call_timeout_ms if the dependency is legitimately this slow"
    );
    assert_eq!(t.map_inner(|_| ()).retry_at(), None);
}

#[tokio::test(start_paused = true)]
async fn debug_output_stays_short() {
    let b = breaker(|c| c.failure_threshold = 1);
    assert_eq!(
        format!("{b:?}"),
        r#"Breaker { name: "test", state: Closed }"#
    );
    let p = b.try_acquire::<()>().unwrap();
    assert_eq!(
        format!("{p:?}"),
        r#"BreakerPermit { breaker: "test", probe: false }"#
    );
    drop(p);
}
