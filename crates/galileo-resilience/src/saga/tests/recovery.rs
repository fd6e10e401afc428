//! Runs cut short, and recovery from the step log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::{Call, Ctx, compensated, saga};
use crate::Error;
use crate::saga::{
    InMemoryLog, LogRecord, PendingSaga, SagaConfig, SagaError, SagaEvent, SagaId, StepLog,
};

fn completed(saga: &str, id: SagaId, step: usize, name: &str, done: &[usize]) -> LogRecord {
    LogRecord::Completed {
        saga: saga.into(),
        id,
        step,
        name: name.into(),
        context: json!({ "done": done }),
    }
}

/// A log whose `fail_at`-th append (1-based) fails as a full disk would.
struct FlakyLog {
    inner: InMemoryLog,
    fail_at: usize,
    appends: AtomicUsize,
}

impl FlakyLog {
    fn new(fail_at: usize) -> Self {
        Self {
            inner: InMemoryLog::new(),
            fail_at,
            appends: AtomicUsize::new(0),
        }
    }
}

impl StepLog for FlakyLog {
    async fn append(&self, record: LogRecord) -> Result<(), Error> {
        if self.appends.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(Error::StepLog {
                path: "flaky".into(),
                source: std::io::Error::other("no space left on device"),
            });
        }
        self.inner.append(record).await
    }

    async fn pending(&self) -> Result<Vec<PendingSaga>, Error> {
        self.inner.pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_run_is_compensated_by_recovery_once() {
    let (saga, calls) = saga(4, &SagaConfig::default(), |s| {
        if s.index == 2 {
            s.delay = Duration::from_secs(10);
        }
    });
    let log = InMemoryLog::new();
    let id = SagaId::random();
    let mut ctx = Ctx::default();
    // The caller gives up while step 2 runs: the future is dropped mid-saga.
    let cut = tokio::time::timeout(Duration::from_secs(1), saga.run_logged(id, &mut ctx, &log));
    assert!(cut.await.is_err());
    let pending = log.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].id, &pending[0].steps[..]),
        (id, &["s0".to_owned(), "s1".to_owned()][..])
    );

    let mut events = saga.subscribe();
    let report = saga.recover(&log).await.unwrap();
    assert_eq!(report.compensated, [id]);
    assert!(report.is_complete());
    // Exactly the completed steps, in reverse, each on the context the log recorded.
    let comps: Vec<Call> = super::calls(&calls)
        .into_iter()
        .filter(|c| matches!(c, Call::Compensate { .. }))
        .collect();
    assert_eq!(
        comps,
        [
            Call::Compensate {
                step: 1,
                key: format!("{id}-1"),
                seen: vec![0, 1]
            },
            Call::Compensate {
                step: 0,
                key: format!("{id}-0"),
                seen: vec![0]
            },
        ]
    );
    assert!(matches!(
        events.try_recv().unwrap(),
        SagaEvent::Compensated {
            recovered: true,
            ..
        }
    ));
    assert!(log.pending().await.unwrap().is_empty());
    // Nothing is left for a second recovery.
    assert!(saga.recover(&log).await.unwrap().compensated.is_empty());
    assert_eq!(compensated(&calls), [1, 0]);
}

#[tokio::test(start_paused = true)]
async fn recovery_leaves_runs_in_progress_in_this_process_alone() {
    let (saga, calls) = saga(3, &SagaConfig::default(), |s| {
        if s.index == 1 {
            s.delay = Duration::from_secs(10);
        }
    });
    let log = InMemoryLog::new();
    let id = SagaId::random();
    let mut ctx = Ctx::default();
    {
        let run = saga.run_logged(id, &mut ctx, &log);
        tokio::pin!(run);
        let report = tokio::select! {
            _ = &mut run => panic!("the run should still be going"),
            r = async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                saga.recover(&log).await.unwrap()
            } => r,
        };
        assert_eq!(log.pending().await.unwrap().len(), 1, "step 0 is logged");
        assert!(report.compensated.is_empty() && report.failed.is_empty());
        // A second run with the same id is refused while the first one is going.
        let dup = tokio::select! {
            _ = &mut run => panic!("the run should still be going"),
            r = async { saga.run_logged(id, &mut Ctx::default(), &log).await } => r,
        };
        assert!(
            dup.unwrap_err()
                .to_string()
                .contains("is already running: give each run its own id")
        );
        run.await.unwrap();
    }
    assert!(compensated(&calls).is_empty());
    assert_eq!(ctx.done, [0, 1, 2]);
    assert!(log.pending().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn recovery_resumes_a_half_done_compensation() {
    let (saga, calls) = saga(4, &SagaConfig::default(), |_| {});
    let log = InMemoryLog::new();
    let id = SagaId::random();
    for (i, done) in [&[0][..], &[0, 1], &[0, 1, 2]].iter().enumerate() {
        log.append(completed("test", id, i, super::NAMES[i], done))
            .await
            .unwrap();
    }
    log.append(LogRecord::Compensated {
        saga: "test".into(),
        id,
        step: 2,
        name: "s2".into(),
        context: json!({ "done": [0, 1] }),
    })
    .await
    .unwrap();
    let report = saga.recover(&log).await.unwrap();
    assert_eq!(report.compensated, [id]);
    assert_eq!(compensated(&calls), [1, 0]);
}

#[tokio::test(start_paused = true)]
async fn a_log_from_another_definition_is_refused_and_stays_pending() {
    let (saga, calls) = saga(3, &SagaConfig::default(), |_| {});
    let log = InMemoryLog::new();
    let (a, b, c) = (
        SagaId::from(1u128),
        SagaId::from(2u128),
        SagaId::from(3u128),
    );
    log.append(completed("test", a, 0, "s0", &[0]))
        .await
        .unwrap();
    log.append(completed("test", a, 1, "renamed", &[0, 1]))
        .await
        .unwrap();
    log.append(LogRecord::Completed {
        saga: "test".into(),
        id: b,
        step: 0,
        name: "s0".into(),
        context: json!("not a context"),
    })
    .await
    .unwrap();
    log.append(completed("another saga", c, 0, "s0", &[0]))
        .await
        .unwrap();

    let report = saga.recover(&log).await.unwrap();
    assert!(report.compensated.is_empty());
    let msgs: Vec<String> = report.failed.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("completed steps [s0, renamed], which this definition [s0, s1, s2] does not start with: recover with the definition that wrote the log"), "{}", msgs[0]);
    assert!(
        msgs[1].contains("does not fit this definition's context type"),
        "{}",
        msgs[1]
    );
    assert!(
        report
            .failed
            .iter()
            .all(|e| e.is_log() && e.needs_recovery())
    );
    assert!(compensated(&calls).is_empty());
    // Nothing was touched: all three runs are still pending.
    assert_eq!(log.pending().await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_compensation_failing_in_recovery_is_retried_by_the_next_recovery() {
    // s1's compensation fails 4 times: the default policy gives it 4 attempts per recovery.
    let (saga, calls) = saga(3, &SagaConfig::default(), |s| {
        s.comp_fail = if s.index == 1 { 4 } else { 0 };
    });
    let log = InMemoryLog::new();
    let id = SagaId::random();
    log.append(completed("test", id, 0, "s0", &[0]))
        .await
        .unwrap();
    log.append(completed("test", id, 1, "s1", &[0, 1]))
        .await
        .unwrap();

    let first = saga.recover(&log).await.unwrap();
    assert_eq!(first.failed.len(), 1);
    let err = &first.failed[0];
    assert!(err.is_compensation_failed() && err.failed_step().is_none());
    assert!(!err.to_string().contains("compensating because"), "{err}");
    assert_eq!(log.pending().await.unwrap()[0].compensated, 0);

    let second = saga.recover(&log).await.unwrap();
    assert_eq!(second.compensated, [id]);
    assert_eq!(compensated(&calls), [1, 1, 1, 1, 1, 0]);
    assert!(log.pending().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failing_log_stops_the_run_and_compensates_in_memory() {
    let (saga, calls) = saga(4, &SagaConfig::default(), |_| {});
    // The second append (s1 completed) fails.
    let log = FlakyLog::new(2);
    let err = saga
        .run_logged(SagaId::random(), &mut Ctx::default(), &log)
        .await
        .unwrap_err();
    // s1 did run, so it is compensated with s0; s2 and s3 never run.
    let executed: Vec<usize> = super::calls(&calls)
        .into_iter()
        .filter_map(|c| match c {
            Call::Execute { step, .. } => Some(step),
            Call::Compensate { .. } => None,
        })
        .collect();
    assert_eq!(executed, [0, 1]);
    assert_eq!(compensated(&calls), [1, 0]);
    let SagaError::Log {
        completed,
        compensated,
        error,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*completed, *compensated), (2, 2));
    assert!(error.is_transient());
    assert!(!err.needs_recovery());
    assert!(err.to_string().contains("no space left on device; 2 step(s) had completed and 2 of them were compensated in memory. Fix the log"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_finish_that_cannot_be_recorded_is_reported() {
    let (saga, calls) = saga(2, &SagaConfig::default(), |_| {});
    // Appends: s0, s1, finish.
    let log = FlakyLog::new(3);
    let mut ctx = Ctx::default();
    let err = saga
        .run_logged(SagaId::random(), &mut ctx, &log)
        .await
        .unwrap_err();
    assert!(err.is_log() && err.needs_recovery());
    assert!(matches!(
        err,
        SagaError::Log {
            completed: 2,
            compensated: 0,
            ..
        }
    ));
    // The steps are in effect, and the log still says the run is pending.
    assert_eq!(ctx.done, [0, 1]);
    assert!(compensated(&calls).is_empty());
    assert_eq!(log.pending().await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_run_cancelled_mid_compensation_resumes_from_the_last_compensation() {
    // s3 fails; s2 is compensated; s1's compensation (5 s) is cut short by the caller.
    let (saga, calls) = saga(4, &SagaConfig::default(), |s| {
        s.fail = u32::from(s.index == 3);
        if s.index == 1 {
            s.comp_delay = Duration::from_secs(5);
        }
    });
    let log = InMemoryLog::new();
    let id = SagaId::random();
    let mut ctx = Ctx::default();
    let cut = tokio::time::timeout(Duration::from_secs(1), saga.run_logged(id, &mut ctx, &log));
    assert!(cut.await.is_err());
    let pending = log.pending().await.unwrap();
    assert_eq!((pending[0].steps.len(), pending[0].compensated), (3, 1));

    let report = saga.recover(&log).await.unwrap();
    assert_eq!(report.compensated, [id]);
    let comps: Vec<(usize, Vec<usize>)> = super::calls(&calls)
        .into_iter()
        .filter_map(|c| match c {
            Call::Compensate { step, seen, .. } => Some((step, seen)),
            Call::Execute { .. } => None,
        })
        .collect();
    // s1 runs again (idempotent) on the context s2's compensation left, then s0.
    assert_eq!(
        comps,
        [
            (2, vec![0, 1, 2]),
            (1, vec![0, 1]),
            (1, vec![0, 1]),
            (0, vec![0])
        ]
    );
}
