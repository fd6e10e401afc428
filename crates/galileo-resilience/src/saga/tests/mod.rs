//! Tests of the saga driver, its logs and recovery. Timing runs on paused tokio time.

mod compensation;
mod crash;
mod events_metrics;
mod props;
mod recovery;
mod timing;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{Saga, SagaConfig, Step, StepKey};

/// What a test step did, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Call {
    Execute {
        step: usize,
        attempt: u32,
    },
    Compensate {
        step: usize,
        key: String,
        seen: Vec<usize>,
    },
}

pub(super) type Calls = Arc<Mutex<Vec<(Call, Instant)>>>;

/// The context: the steps executed and not compensated, as the steps themselves saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Ctx {
    pub(super) done: Vec<usize>,
}

/// A scripted step: fails its first `fail` executions (and first `comp_fail` compensations),
/// each attempt taking `delay` (`comp_delay`) of tokio time.
#[derive(Debug)]
pub(super) struct TestStep {
    pub(super) index: usize,
    pub(super) fail: u32,
    pub(super) retryable: bool,
    pub(super) delay: Duration,
    pub(super) comp_fail: u32,
    pub(super) comp_delay: Duration,
    pub(super) calls: Calls,
    executions: AtomicU32,
    compensations: AtomicU32,
}

impl TestStep {
    pub(super) fn new(index: usize, calls: &Calls) -> Self {
        Self {
            index,
            fail: 0,
            retryable: true,
            delay: Duration::ZERO,
            comp_fail: 0,
            comp_delay: Duration::ZERO,
            calls: calls.clone(),
            executions: AtomicU32::new(0),
            compensations: AtomicU32::new(0),
        }
    }
}

pub(super) const NAMES: [&str; 8] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"];

impl Step<Ctx> for TestStep {
    type Error = String;

    fn name(&self) -> &str {
        NAMES[self.index]
    }

    async fn execute(&self, ctx: &mut Ctx, key: StepKey) -> Result<(), String> {
        assert_eq!(key.step(), self.index);
        let attempt = self.executions.fetch_add(1, Ordering::SeqCst) + 1;
        self.calls.lock().unwrap().push((
            Call::Execute {
                step: self.index,
                attempt,
            },
            Instant::now(),
        ));
        tokio::time::sleep(self.delay).await;
        if attempt <= self.fail {
            return Err(format!("{} attempt {attempt} failed", self.name()));
        }
        ctx.done.push(self.index);
        Ok(())
    }

    async fn compensate(&self, ctx: &mut Ctx, key: StepKey) -> Result<(), String> {
        let attempt = self.compensations.fetch_add(1, Ordering::SeqCst) + 1;
        self.calls.lock().unwrap().push((
            Call::Compensate {
                step: self.index,
                key: key.to_string(),
                seen: ctx.done.clone(),
            },
            Instant::now(),
        ));
        tokio::time::sleep(self.comp_delay).await;
        if attempt <= self.comp_fail {
            return Err(format!("undoing {} attempt {attempt} failed", self.name()));
        }
        if ctx.done.last() == Some(&self.index) {
            ctx.done.pop();
        }
        Ok(())
    }

    fn is_retryable(&self, _: &String) -> bool {
        self.retryable
    }
}

/// A saga of `n` default test steps, adjusted by `tweak`.
pub(super) fn saga(
    n: usize,
    config: &SagaConfig,
    tweak: impl Fn(&mut TestStep),
) -> (Saga<TestStep, Ctx>, Calls) {
    let calls = Calls::default();
    let steps = (0..n)
        .map(|i| {
            let mut s = TestStep::new(i, &calls);
            tweak(&mut s);
            s
        })
        .collect();
    (Saga::new("test", steps, config).unwrap(), calls)
}

pub(super) fn calls(calls: &Calls) -> Vec<Call> {
    calls
        .lock()
        .unwrap()
        .iter()
        .map(|(c, _)| c.clone())
        .collect()
}

/// The steps compensated, in order.
pub(super) fn compensated(calls: &Calls) -> Vec<usize> {
    self::calls(calls)
        .into_iter()
        .filter_map(|c| match c {
            Call::Compensate { step, .. } => Some(step),
            Call::Execute { .. } => None,
        })
        .collect()
}

fn assert_send<T: Send>(_: &T) {}

/// Runs of a saga are `Send` futures, so they can be spawned on a multi-threaded runtime.
#[test]
fn runs_are_send() {
    let (s, _) = saga(1, &SagaConfig::default(), |_| {});
    let log = super::InMemoryLog::new();
    let mut ctx = Ctx::default();
    assert_send(&s.run(super::SagaId::from(1u128), &mut ctx));
    let mut ctx = Ctx::default();
    assert_send(&s.run_logged(super::SagaId::from(1u128), &mut ctx, &log));
    assert_send(&s.recover(&log));
}
