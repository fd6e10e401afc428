//! Compensation order, failures, and what errors say.

use super::{Call, Ctx, compensated, saga};
use crate::saga::{Saga, SagaConfig, SagaError, SagaId, StepPolicy};

#[tokio::test(start_paused = true)]
async fn a_failing_step_compensates_the_completed_ones_in_reverse_once() {
    let (saga, calls) = saga(5, &SagaConfig::default(), |s| {
        s.fail = u32::from(s.index == 3);
    });
    let id = SagaId::from(0xabu128);
    let mut ctx = Ctx::default();
    let err = saga.run(id, &mut ctx).await.unwrap_err();
    let key = |i: usize| format!("{id}-{i}");
    // Each compensation sees the context the later compensations left: itself on top.
    let comps: Vec<Call> = super::calls(&calls)
        .into_iter()
        .filter(|c| matches!(c, Call::Compensate { .. }))
        .collect();
    assert_eq!(
        comps,
        [
            Call::Compensate {
                step: 2,
                key: key(2),
                seen: vec![0, 1, 2]
            },
            Call::Compensate {
                step: 1,
                key: key(1),
                seen: vec![0, 1]
            },
            Call::Compensate {
                step: 0,
                key: key(0),
                seen: vec![0]
            },
        ]
    );
    assert!(ctx.done.is_empty());
    let SagaError::Failed {
        failure,
        compensated,
        id: eid,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (
            failure.step.index(),
            failure.step.name(),
            *compensated,
            *eid
        ),
        (3, "s3", 3, id)
    );
    assert!(!err.needs_recovery());
    assert!(
        err.to_string().ends_with("the 3 steps completed before it were compensated, so nothing of this run remains in effect"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_completed_saga_compensates_nothing() {
    let (saga, calls) = saga(4, &SagaConfig::default(), |_| {});
    let mut ctx = Ctx::default();
    saga.run(SagaId::random(), &mut ctx).await.unwrap();
    assert_eq!(ctx.done, [0, 1, 2, 3]);
    assert!(compensated(&calls).is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_first_step_failing_compensates_nothing() {
    let (saga, calls) = saga(3, &SagaConfig::default(), |s| s.fail = 1);
    let err = saga
        .run(SagaId::random(), &mut Ctx::default())
        .await
        .unwrap_err();
    assert!(compensated(&calls).is_empty());
    assert!(
        err.to_string()
            .contains("the 0 steps completed before it were compensated"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_compensation_stops_and_says_what_is_still_in_effect() {
    let config = SagaConfig::default().with_compensate(
        "s1",
        StepPolicy {
            max_retries: 2,
            ..StepPolicy::COMPENSATE
        },
    );
    let (saga, calls) = saga(4, &config, |s| {
        s.fail = u32::from(s.index == 3);
        s.comp_fail = if s.index == 1 { 99 } else { 0 };
    });
    let err = saga
        .run(SagaId::from(9u128), &mut Ctx::default())
        .await
        .unwrap_err();
    // s1's compensation is tried 3 times; s0 is never compensated, since s1 is still in effect.
    assert_eq!(compensated(&calls), [2, 1, 1, 1]);
    assert!(err.is_compensation_failed() && err.needs_recovery() && !err.is_timeout());
    assert_eq!(err.failed_step().map(|s| s.name()), Some("s3"));
    let msg = err.to_string();
    for want in [
        "saga 00000000000000000000000000000009: compensating step 1 `s1` failed after 3 attempts: undoing s1 attempt 3 failed",
        "(compensating because step 3 `s3` failed after 1 attempt: s3 attempt 1 failed)",
        "steps 0 to 1 are still in effect",
        "run Saga::recover on the step log",
    ] {
        assert!(msg.contains(want), "{want}\n{msg}");
    }
    assert_eq!(
        err.into_inner().as_deref(),
        Some("undoing s1 attempt 3 failed")
    );
}

#[test]
fn bad_definitions_are_refused_with_the_fix() {
    use crate::saga::tests::TestStep;
    let calls = super::Calls::default();
    let steps = |idx: &[usize]| {
        idx.iter()
            .map(|&i| TestStep::new(i, &calls))
            .collect::<Vec<_>>()
    };
    let err = |r: Result<Saga<TestStep, Ctx>, crate::Error>| r.unwrap_err().to_string();
    let d = SagaConfig::default();
    assert!(err(Saga::new("x", steps(&[]), &d)).contains("at least one step"));
    assert!(err(Saga::new("", steps(&[0]), &d)).contains("needs a name"));
    assert!(
        err(Saga::new("x", steps(&[0, 1, 0]), &d))
            .contains("two steps called `s0`: give each step its own name")
    );
    let typo = SagaConfig::default().with_execute("lnad", StepPolicy::EXECUTE);
    assert!(
        err(Saga::new("x", steps(&[0, 1]), &typo))
            .contains("steps.lnad names no step of saga `x` (its steps: s0, s1): fix the name")
    );
    let zero = SagaConfig::default().with_execute(
        "s1",
        StepPolicy {
            timeout_ms: 0,
            ..StepPolicy::EXECUTE
        },
    );
    assert!(
        err(Saga::new("x", steps(&[0, 1]), &zero)).contains("steps.s1.execute.timeout_ms is 0")
    );
    assert!(
        format!("{:?}", Saga::new("x", steps(&[0, 1]), &d).unwrap())
            .contains(r#"steps: ["s0", "s1"]"#)
    );
}
