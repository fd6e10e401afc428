//! Metrics: the state gauge, calls by result, latency.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tokio::time::{advance, sleep};

use super::*;
use crate::breaker::Breaker;
use crate::metrics::{BREAKER_CALLS, BREAKER_LATENCY, BREAKER_STATE};

/// The state gauge of breaker `name`, from one snapshot.
fn gauge(s: &Snapshotter, name: &str) -> f64 {
    s.snapshot()
        .into_vec()
        .into_iter()
        .find(|(k, ..)| {
            k.key().name() == BREAKER_STATE && k.key().labels().any(|l| l.value() == name)
        })
        .map(|(.., v)| match v {
            DebugValue::Gauge(g) => g.into_inner(),
            other => panic!("not a gauge: {other:?}"),
        })
        .expect("the state gauge is registered")
}

#[tokio::test(start_paused = true)]
async fn the_state_gauge_follows_the_breaker() {
    let recorder = DebuggingRecorder::new();
    let s = recorder.snapshotter();
    let b = ::metrics::with_local_recorder(&recorder, || {
        Breaker::new(
            "jupiter",
            only(|c| {
                c.failure_threshold = 1;
                c.open_ms = 100;
                c.half_open_successes = 2;
            }),
        )
        .unwrap()
    });
    assert_eq!(gauge(&s, "jupiter"), 0.0);
    let _ = b.call(async { Err::<(), _>(()) }).await;
    assert_eq!(gauge(&s, "jupiter"), 1.0);
    advance(ms(100)).await;
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(gauge(&s, "jupiter"), 2.0);
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(gauge(&s, "jupiter"), 0.0);
}

#[tokio::test(start_paused = true)]
async fn every_call_is_counted_once_under_a_result_and_finished_calls_are_timed() {
    let recorder = DebuggingRecorder::new();
    let s = recorder.snapshotter();
    let b = ::metrics::with_local_recorder(&recorder, || {
        Breaker::new(
            "dflow",
            only(|c| {
                c.failure_threshold = 5;
                c.slow_call_ms = Some(100);
                c.call_timeout_ms = Some(1000);
            }),
        )
        .unwrap()
    });
    let sleepy = |d, r: Result<(), &'static str>| async move {
        sleep(ms(d)).await;
        r
    };
    let ignore = |_: &&str| Outcome::Ignored;
    b.call(sleepy(10, Ok(()))).await.unwrap(); // success
    b.call(sleepy(150, Ok(()))).await.unwrap(); // slow
    b.call(sleepy(150, Err("x"))).await.unwrap_err(); // failure (slow, but a failure)
    b.call(sleepy(5000, Ok(()))).await.unwrap_err(); // timeout
    b.call_with(sleepy(10, Err("x")), ignore).await.unwrap_err(); // ignored
    drop(b.try_acquire::<()>().unwrap()); // cancelled
    for _ in 0..3 {
        b.call(sleepy(10, Err("x"))).await.unwrap_err(); // failures: the 5th in a row trips
    }
    b.call(sleepy(10, Ok(()))).await.unwrap_err(); // rejected
    let snap = s.snapshot().into_vec();
    let count = |result: &str| {
        snap.iter()
            .find(|(k, ..)| {
                k.key().name() == BREAKER_CALLS
                    && k.key()
                        .labels()
                        .any(|l| l.key() == "result" && l.value() == result)
            })
            .map(|(.., v)| match v {
                DebugValue::Counter(c) => *c,
                other => panic!("not a counter: {other:?}"),
            })
            .unwrap_or_else(|| panic!("no counter for {result}"))
    };
    let got: Vec<u64> = [
        "success",
        "slow",
        "failure",
        "timeout",
        "ignored",
        "rejected",
        "cancelled",
    ]
    .iter()
    .map(|r| count(r))
    .collect();
    assert_eq!(got, [1, 1, 4, 1, 1, 1, 1]);
    let latencies = snap
        .iter()
        .find(|(k, ..)| k.key().name() == BREAKER_LATENCY)
        .map(|(.., v)| match v {
            DebugValue::Histogram(h) => h.iter().map(|f| f.into_inner()).collect::<Vec<f64>>(),
            other => panic!("not a histogram: {other:?}"),
        })
        .unwrap();
    assert_eq!(
        latencies,
        [0.01, 0.15, 0.15, 1.0, 0.01, 0.01, 0.01, 0.01],
        "finished calls only, in seconds"
    );
}
