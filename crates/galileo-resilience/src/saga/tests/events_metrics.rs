//! What subscribers and metrics see.

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use super::{Ctx, saga};
use crate::metrics::{SAGA_ACTIVE, SAGA_DURATION, SAGA_EXECUTIONS, SAGA_STEPS};
use crate::saga::{InMemoryLog, SagaConfig, SagaEvent, SagaId, StepPolicy, StepRef};

#[tokio::test(start_paused = true)]
async fn subscribers_see_completed_failed_compensated_and_finished() {
    let config = SagaConfig::default().with_execute(
        "s2",
        StepPolicy {
            max_retries: 1,
            retry_delay_ms: 0,
            ..StepPolicy::EXECUTE
        },
    );
    let (saga, _) = saga(3, &config, |s| s.fail = if s.index == 2 { 9 } else { 0 });
    let mut rx = saga.subscribe();
    let id = SagaId::from(5u128);
    let log = InMemoryLog::new();
    saga.run_logged(id, &mut Ctx::default(), &log)
        .await
        .unwrap_err();
    let step = |i: usize| StepRef::new(i, super::NAMES[i].into());
    let mut got = Vec::new();
    while let Ok(e) = rx.try_recv() {
        assert_eq!(e.id(), id);
        got.push(e);
    }
    assert_eq!(
        got,
        [
            SagaEvent::Completed {
                id,
                step: step(0),
                attempts: 1
            },
            SagaEvent::Completed {
                id,
                step: step(1),
                attempts: 1
            },
            SagaEvent::Failed {
                id,
                step: step(2),
                attempts: 2,
                timed_out: false
            },
            SagaEvent::Compensated {
                id,
                step: step(1),
                recovered: false
            },
            SagaEvent::Compensated {
                id,
                step: step(0),
                recovered: false
            },
            SagaEvent::Finished {
                id,
                compensated: true
            },
        ]
    );
}

fn counter(
    snap: &[(
        metrics_util::CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
    name: &str,
    labels: &[(&str, &str)],
) -> u64 {
    snap.iter()
        .filter(|(k, ..)| {
            k.key().name() == name
                && labels
                    .iter()
                    .all(|(l, v)| k.key().labels().any(|x| x.key() == *l && x.value() == *v))
        })
        .map(|(.., v)| match v {
            DebugValue::Counter(c) => *c,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

fn gauge(
    snap: &[(
        metrics_util::CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
) -> f64 {
    snap.iter()
        .find(|(k, ..)| k.key().name() == SAGA_ACTIVE)
        .map(|(.., v)| match v {
            DebugValue::Gauge(g) => g.into_inner(),
            other => panic!("not a gauge: {other:?}"),
        })
        .unwrap()
}

fn snapshot(
    s: &Snapshotter,
) -> Vec<(
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)> {
    s.snapshot().into_vec()
}

#[tokio::test(start_paused = true)]
async fn metrics_count_runs_attempts_and_active_runs() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let config = SagaConfig::default().with_execute(
        "s1",
        StepPolicy {
            timeout_ms: 1_000,
            max_retries: 2,
            retry_delay_ms: 0,
        },
    );
    // s1 fails once then succeeds; s2 takes 10 s (more than its timeout in the third run).
    let (saga, _) = metrics::with_local_recorder(&recorder, || {
        saga(3, &config, |s| {
            s.fail = u32::from(s.index == 1);
            if s.index == 2 {
                s.delay = Duration::from_millis(500);
            }
        })
    });
    saga.run(SagaId::random(), &mut Ctx::default())
        .await
        .unwrap();

    let snap = snapshot(&snapshotter);
    let runs = |r| counter(&snap, SAGA_EXECUTIONS, &[("saga", "test"), ("result", r)]);
    assert_eq!(
        (runs("completed"), runs("compensated"), runs("cancelled")),
        (1, 0, 0)
    );
    let steps = |s, r| {
        counter(
            &snap,
            SAGA_STEPS,
            &[("saga", "test"), ("step", s), ("result", r)],
        )
    };
    assert_eq!(
        (
            steps("s0", "completed"),
            steps("s1", "failed"),
            steps("s1", "completed")
        ),
        (1, 1, 1)
    );
    assert_eq!(gauge(&snap), 0.0);
    let durations: Vec<f64> = snap
        .iter()
        .filter(|(k, ..)| k.key().name() == SAGA_DURATION)
        .flat_map(|(.., v)| match v {
            DebugValue::Histogram(h) => h.iter().map(|x| x.into_inner()).collect::<Vec<_>>(),
            other => panic!("not a histogram: {other:?}"),
        })
        .collect();
    assert_eq!(durations, [0.5]);

    // A run dropped half way counts as cancelled and is no longer active. (A snapshot resets
    // what it reports, gauges included: these are changes since the previous snapshot.)
    {
        let mut ctx = Ctx::default();
        let run = saga.run(SagaId::random(), &mut ctx);
        tokio::pin!(run);
        assert!(
            tokio::time::timeout(Duration::from_millis(100), &mut run)
                .await
                .is_err()
        );
        assert_eq!(gauge(&snapshot(&snapshotter)), 1.0);
    }
    let snap = snapshot(&snapshotter);
    assert_eq!(gauge(&snap), -1.0);
    assert_eq!(
        counter(&snap, SAGA_EXECUTIONS, &[("result", "cancelled")]),
        1
    );
    assert_eq!(
        counter(&snap, SAGA_EXECUTIONS, &[("result", "completed")]),
        0
    );
}
