//! The runner's metrics: retries made (not first attempts) and whole-loop durations.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};

use crate::metrics::{RETRY_ATTEMPTS, RETRY_DURATION};
use crate::retry::{Jitter, Retry, RetryDecision, RetryPolicy};

fn retry(recorder: &DebuggingRecorder, name: &str) -> Retry {
    let policy = RetryPolicy::fast()
        .with_jitter(Jitter::None)
        .with_max_retries(3);
    metrics::with_local_recorder(recorder, || Retry::new(name, policy).unwrap())
}

/// (retries counted, durations recorded) for the loop `name` since the previous snapshot
/// (a snapshot drains what it reports).
fn observed(snapshotter: &Snapshotter, name: &str) -> (u64, Vec<f64>) {
    let mut retries = 0;
    let mut durations = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<(String, String)> = key
            .key()
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        assert_eq!(labels.len(), 1, "{key:?}");
        if labels[0] != ("name".to_owned(), name.to_owned()) {
            continue;
        }
        match (key, value) {
            (k, DebugValue::Counter(n)) if is(&k, MetricKind::Counter, RETRY_ATTEMPTS) => {
                retries = n
            }
            (k, DebugValue::Histogram(v)) if is(&k, MetricKind::Histogram, RETRY_DURATION) => {
                durations = v.into_iter().map(|x| x.into_inner()).collect()
            }
            (k, v) => panic!("unexpected metric {k:?} = {v:?}"),
        }
    }
    (retries, durations)
}

fn is(key: &CompositeKey, kind: MetricKind, name: &str) -> bool {
    key.kind() == kind && key.key().name() == name
}

#[tokio::test(start_paused = true)]
async fn counts_retries_not_first_attempts_and_times_whole_loops() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let quotes = retry(&recorder, "quotes");

    // A first-try success: no retry, one duration of zero.
    quotes.run(|| async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(observed(&snapshotter, "quotes"), (0, vec![0.0]));

    // Two failures then success: two retries, one loop of 300 ms.
    let mut n = 0;
    quotes
        .run(|| {
            n += 1;
            let fail = n <= 2;
            async move { if fail { Err(()) } else { Ok(()) } }
        })
        .await
        .unwrap();
    assert_eq!(observed(&snapshotter, "quotes"), (2, vec![0.3]));

    // Exhausted: three retries, and the failed loop is timed too (100 + 200 + 400 ms).
    quotes.run(|| async { Err::<(), _>(()) }).await.unwrap_err();
    assert_eq!(observed(&snapshotter, "quotes"), (3, vec![0.7]));

    // A refused retry is not a retry.
    let refusing = quotes.with_condition(|_: &()| RetryDecision::DontRetry);
    refusing
        .run(|| async { Err::<(), _>(()) })
        .await
        .unwrap_err();
    assert_eq!(observed(&snapshotter, "quotes"), (0, vec![0.0]));
}

#[tokio::test(start_paused = true)]
async fn loops_are_labelled_by_name() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let a = retry(&recorder, "jupiter");
    let b = retry(&recorder, "dflow");
    let mut first = true;
    a.run(|| {
        let fail = std::mem::take(&mut first);
        async move { if fail { Err(()) } else { Ok(()) } }
    })
    .await
    .unwrap();
    b.run(|| async { Ok::<_, ()>(()) }).await.unwrap();
    let snapshot = snapshotter.snapshot().into_vec();
    let retries = |name: &str| {
        snapshot.iter().find_map(|(k, _, _, v)| {
            let labelled = k.key().labels().any(|l| l.value() == name);
            match v {
                DebugValue::Counter(n) if labelled && k.key().name() == RETRY_ATTEMPTS => Some(*n),
                _ => None,
            }
        })
    };
    assert_eq!((retries("jupiter"), retries("dflow")), (Some(1), Some(0)));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_pause_is_not_a_retry_and_the_loop_is_not_timed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let quotes = retry(&recorder, "quotes");
    // Attempts at 0 and 100 ms; the pause before the third (at 300 ms) is cut off at 200 ms.
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        quotes.run(|| async { Err::<(), _>(()) }),
    )
    .await;
    assert!(cut.is_err());
    assert_eq!(observed(&snapshotter, "quotes"), (1, vec![]));
}
