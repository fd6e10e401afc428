//! Properties: whatever fails, exactly the completed steps are compensated, in reverse, once.

use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::{Call, Ctx, saga};
use crate::saga::{
    Action, AttemptResult, InMemoryLog, Outcome, SagaConfig, SagaError, SagaId, SagaMachine,
    SagaPlan, StepLog, StepPolicies, StepPolicy,
};

fn policy() -> impl Strategy<Value = StepPolicy> {
    (1u64..5, 0u32..4, 0u64..4).prop_map(|(timeout_ms, max_retries, retry_delay_ms)| StepPolicy {
        timeout_ms,
        max_retries,
        retry_delay_ms,
    })
}

fn result() -> impl Strategy<Value = AttemptResult> {
    prop_oneof![
        4 => Just(AttemptResult::Succeeded),
        2 => Just(AttemptResult::Failed { retryable: true }),
        1 => Just(AttemptResult::Failed { retryable: false }),
        1 => Just(AttemptResult::TimedOut),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Execute(usize),
    Compensate(usize),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Driven by arbitrary attempt results, the core executes steps in order, retries within
    /// each policy after exactly its delay, and compensates exactly the completed steps, in
    /// reverse, each until it succeeds once, stopping at a compensation that fails for good.
    #[test]
    fn the_machine_compensates_exactly_the_completed_steps_in_reverse(
        steps in prop::collection::vec((policy(), policy()), 1..7),
        results in prop::collection::vec(result(), 1..64),
    ) {
        let plan = SagaPlan::new(
            steps.iter().map(|&(execute, compensate)| StepPolicies { execute, compensate }).collect(),
        ).unwrap();
        let mut m = SagaMachine::new(&plan);
        let mut now = Instant::now();
        let mut results = results.iter().cycle();
        let mut completed = 0;
        let mut undone: Vec<usize> = Vec::new();
        let mut failed: Option<usize> = None;
        // The last attempt and when a retry of it may start.
        let mut last: Option<(Work, u32, Option<Instant>)> = None;
        let mut budget = 10_000;
        let outcome = loop {
            budget -= 1;
            prop_assert!(budget > 0, "the machine does not terminate");
            let (work, attempt, deadline) = match m.poll(now) {
                Action::Done(o) => break o,
                Action::Sleep { until } => {
                    prop_assert!(until > now);
                    let Some((_, _, Some(retry_at))) = last else {
                        return Err(TestCaseError::fail("a sleep with no retry pending"));
                    };
                    prop_assert_eq!(until, retry_at);
                    now = until;
                    continue;
                }
                Action::Execute { step, attempt, deadline } => (Work::Execute(step), attempt, deadline),
                Action::Compensate { step, attempt, deadline } => (Work::Compensate(step), attempt, deadline),
            };
            let policy = match work {
                Work::Execute(i) => {
                    prop_assert_eq!(i, completed, "steps execute in order");
                    prop_assert!(failed.is_none(), "no execution after a failure");
                    steps[i].0
                }
                Work::Compensate(i) => {
                    prop_assert!(undone.len() < completed);
                    prop_assert_eq!(i, completed - 1 - undone.len(), "compensations go in reverse");
                    steps[i].1
                }
            };
            prop_assert_eq!(deadline, now + policy.timeout());
            match last {
                Some((w, a, Some(retry_at))) if w == work => {
                    prop_assert_eq!(attempt, a + 1);
                    prop_assert!(now >= retry_at);
                }
                _ => prop_assert_eq!(attempt, 1),
            }
            prop_assert!(attempt <= policy.max_attempts());
            let r = *results.next().unwrap();
            if r == AttemptResult::TimedOut {
                now = deadline;
            }
            m.report(r, now);
            last = match r {
                AttemptResult::Succeeded => {
                    match work {
                        Work::Execute(_) => completed += 1,
                        Work::Compensate(i) => undone.push(i),
                    }
                    None
                }
                AttemptResult::Failed { retryable: false } => Some((work, attempt, None)),
                _ if attempt < policy.max_attempts() => Some((work, attempt, Some(now + policy.retry_delay()))),
                _ => Some((work, attempt, None)),
            };
            if let (Some((Work::Execute(i), _, None)), None) = (last, failed) {
                failed = Some(i);
            }
            prop_assert_eq!(m.completed(), completed);
            prop_assert_eq!(m.compensated(), undone.len());
        };
        let reverse: Vec<usize> = (0..completed).rev().collect();
        match outcome {
            Outcome::Completed => {
                prop_assert_eq!(completed, steps.len());
                prop_assert!(undone.is_empty() && failed.is_none());
            }
            Outcome::Compensated => {
                prop_assert_eq!(failed, Some(completed));
                prop_assert_eq!(&undone, &reverse);
            }
            Outcome::CompensationFailed { step } => {
                prop_assert_eq!(Some(step), reverse.get(undone.len()).copied());
                prop_assert_eq!(&undone[..], &reverse[..undone.len()]);
            }
        }
        prop_assert_eq!(m.failed_step(), failed);
    }
}

/// One step's script for the full-run property.
#[derive(Clone, Copy, Debug)]
struct Script {
    fail: u32,
    retryable: bool,
    max_retries: u32,
    times_out: bool,
}

fn script() -> impl Strategy<Value = Script> {
    (
        0u32..4,
        prop::bool::weighted(0.8),
        0u32..3,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(fail, retryable, max_retries, times_out)| Script {
            fail,
            retryable,
            max_retries,
            times_out,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The real driver, on paused time and a step log: whichever step fails, after however
    /// many retries (or timeouts), exactly the steps before it are compensated, in reverse,
    /// once each, and the log ends with nothing pending.
    #[test]
    fn a_run_compensates_exactly_the_completed_steps_in_reverse_once(
        scripts in prop::collection::vec(script(), 1..7),
    ) {
        let mut config = SagaConfig::default();
        for (i, s) in scripts.iter().enumerate() {
            config = config.with_execute(super::NAMES[i], StepPolicy {
                timeout_ms: 1_000,
                max_retries: s.max_retries,
                retry_delay_ms: 10,
            });
        }
        let (saga, calls) = saga(scripts.len(), &config, |t| {
            let s = scripts[t.index];
            t.fail = s.fail;
            t.retryable = s.retryable;
            if s.times_out {
                t.delay = Duration::from_secs(2);
            }
        });
        let fails_for_good = |s: &Script| s.times_out || (s.fail > 0 && !s.retryable) || s.fail > s.max_retries;
        let k = scripts.iter().position(fails_for_good);
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        let log = InMemoryLog::new();
        let mut ctx = Ctx::default();
        let result = rt.block_on(saga.run_logged(SagaId::random(), &mut ctx, &log));
        let calls = super::calls(&calls);
        let attempts = |i: usize| calls.iter().filter(|c| matches!(c, Call::Execute { step, .. } if *step == i)).count();
        let comps: Vec<usize> = calls.iter().filter_map(|c| match c {
            Call::Compensate { step, .. } => Some(*step),
            Call::Execute { .. } => None,
        }).collect();
        let completed = k.unwrap_or(scripts.len());
        for (i, s) in scripts.iter().enumerate().take(completed) {
            prop_assert_eq!(attempts(i), s.fail as usize + 1, "step {} attempts", i);
        }
        if let Some(k) = k {
            let s = scripts[k];
            let expected = if !s.times_out && !s.retryable { 1 } else { s.max_retries as usize + 1 };
            prop_assert_eq!(attempts(k), expected, "failing step attempts");
            let as_expected = matches!(&result, Err(SagaError::Failed { failure, compensated, .. })
                if failure.step.index() == k && *compensated == k && failure.error.is_timeout() == s.times_out);
            prop_assert!(as_expected, "{:?}", result);
        } else {
            prop_assert!(result.is_ok());
        }
        prop_assert!(attempts(completed + 1) == 0, "nothing runs after the failing step");
        prop_assert_eq!(comps, (0..k.map_or(0, |k| k)).rev().collect::<Vec<_>>());
        prop_assert_eq!(ctx.done, if k.is_some() { vec![] } else { (0..scripts.len()).collect() });
        prop_assert!(rt.block_on(log.pending()).unwrap().is_empty());
    }
}
