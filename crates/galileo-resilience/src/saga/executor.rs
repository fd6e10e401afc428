//! The async driver: runs a saga's steps, compensates, logs, reports.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use tokio::time::{Instant, sleep_until, timeout_at};

use super::instruments::{AttemptLabel, Instruments, RunResult};
use super::journal::{Journal, Logged, Unlogged};
use super::{
    Action, AttemptResult, Outcome, SagaConfig, SagaError, SagaEvent, SagaId, SagaMachine,
    SagaPlan, Step, StepError, StepFailure, StepKey, StepLog, StepPolicies, StepRef,
};
use crate::Error;

/// A saga definition: named steps of one type `S` over a context `C`, with their policies.
/// Build it once, run it per request; runs share nothing but the definition.
///
/// - [`run`](Self::run) executes the steps in order, each attempt under its timeout and
///   retried per its policy; when a step fails for good it compensates the completed steps in
///   reverse order and returns [`SagaError::Failed`].
/// - [`run_logged`](Self::run_logged) does the same on a [`StepLog`], recording the context
///   after every step and compensation, so a run cut short (crash, cancelled future) can be
///   compensated by [`recover`](Self::recover).
/// - [`subscribe`](Self::subscribe) streams [`SagaEvent`]s.
///
/// Metrics (see [`crate::metrics`]): `galileo_saga_executions_total{saga,result}` with
/// `result` one of `completed`, `compensated`, `compensation_failed`, `log_failed`,
/// `recovered`, `cancelled`; `galileo_saga_steps_total{saga,step,result}`, one per attempt,
/// `result` one of `completed`, `failed`, `timed_out`, `compensated`, `compensation_failed`,
/// `compensation_timed_out`; `galileo_saga_duration_seconds{saga}` for runs (not recoveries);
/// `galileo_saga_active{saga}`, runs and recoveries in progress.
pub struct Saga<S, C> {
    name: Arc<str>,
    steps: Vec<S>,
    refs: Vec<StepRef>,
    plan: SagaPlan,
    events: broadcast::Sender<SagaEvent>,
    running: Mutex<HashSet<SagaId>>,
    instruments: Instruments,
    _context: PhantomData<fn(&mut C)>,
}

/// What [`Saga::recover`] did.
#[derive(Debug)]
pub struct Recovery<E> {
    /// Runs whose remaining steps were all compensated, now finished in the log.
    pub compensated: Vec<SagaId>,
    /// Runs recovery could not finish; they stay pending in the log for the next try.
    pub failed: Vec<SagaError<E>>,
}

impl<E> Recovery<E> {
    /// True when every pending run of the saga was compensated.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

impl<E> Default for Recovery<E> {
    fn default() -> Self {
        Self {
            compensated: Vec::new(),
            failed: Vec::new(),
        }
    }
}

impl<S: Step<C>, C: Send> Saga<S, C> {
    /// A saga called `name` (it labels metrics and log records, so keep it stable and short)
    /// with `steps` in execution order, configured by `config`.
    ///
    /// Fails with [`Error::InvalidConfig`] when there is no step, two steps share a name, the
    /// configuration is out of bounds, or it overrides a step the saga does not have.
    pub fn new(name: &str, steps: Vec<S>, config: &SagaConfig) -> Result<Self, Error> {
        let bad = |reason: String| Error::InvalidConfig {
            what: "saga",
            reason,
        };
        config.validate()?;
        if name.is_empty() {
            return Err(bad("the saga needs a name".into()));
        }
        let names: Vec<&str> = steps.iter().map(Step::name).collect();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(bad(format!("step {i} of saga `{name}` has an empty name")));
            }
            if names[..i].contains(n) {
                return Err(bad(format!(
                    "saga `{name}` has two steps called `{n}`: give each step its own name"
                )));
            }
        }
        if let Some(unknown) = config.steps.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(bad(format!(
                "steps.{unknown} names no step of saga `{name}` (its steps: {}): fix the name",
                names.join(", ")
            )));
        }
        let plan = SagaPlan::new(
            names
                .iter()
                .map(|n| StepPolicies {
                    execute: config.execute_policy(n),
                    compensate: config.compensate_policy(n),
                })
                .collect(),
        )?;
        let refs = names
            .iter()
            .enumerate()
            .map(|(i, n)| StepRef::new(i, Arc::from(*n)))
            .collect();
        let instruments = Instruments::new(name, &names);
        Ok(Self {
            name: Arc::from(name),
            refs,
            plan,
            events: broadcast::channel(config.events_capacity).0,
            running: Mutex::new(HashSet::new()),
            instruments,
            steps,
            _context: PhantomData,
        })
    }

    /// The saga's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[S] {
        &self.steps
    }

    /// The validated policies.
    pub fn plan(&self) -> &SagaPlan {
        &self.plan
    }

    /// A receiver of this saga's events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SagaEvent> {
        self.events.subscribe()
    }

    /// Runs the saga as run `id` on `ctx`, without a log: a crash or a dropped future leaves
    /// completed steps uncompensated. Returns once every step completed, or once the
    /// compensation is over.
    pub async fn run(&self, id: SagaId, ctx: &mut C) -> Result<(), SagaError<S::Error>>
    where
        C: Sync,
    {
        self.drive(id, SagaMachine::new(&self.plan), ctx, &Unlogged, false)
            .await
    }

    /// Runs the saga as run `id` on `ctx`, recording its progress in `log`.
    ///
    /// `id` must be new to the log (use [`SagaId::random`]); a second concurrent run with the
    /// same id is refused at once.
    pub async fn run_logged<L: StepLog>(
        &self,
        id: SagaId,
        ctx: &mut C,
        log: &L,
    ) -> Result<(), SagaError<S::Error>>
    where
        C: Serialize + Sync,
    {
        let Some(_claim) = self.claim(id) else {
            return Err(SagaError::Log {
                id,
                error: Error::InvalidConfig {
                    what: "saga",
                    reason: format!(
                        "run {id} of saga `{}` is already running: give each run its own id (SagaId::random())",
                        self.name
                    ),
                },
                completed: 0,
                compensated: 0,
            });
        };
        self.drive(id, SagaMachine::new(&self.plan), ctx, &Logged(log), false)
            .await
    }

    /// Compensates this saga's pending runs in `log`: runs that crashed or were cancelled
    /// before finishing. Each one's completed, not yet compensated steps are compensated in
    /// reverse order, on the context as the log last recorded it, and the run is marked
    /// finished. Runs of other sagas, and runs of this one in progress in this process, are
    /// left alone.
    ///
    /// Call it at startup, before new runs. Fails only when the log cannot list its pending
    /// runs; per-run failures are in [`Recovery::failed`] and those runs stay pending. A run
    /// whose records do not match this definition (other step names, a context that does not
    /// deserialize) fails with [`SagaError::Log`] carrying [`Error::InvalidConfig`].
    pub async fn recover<L: StepLog>(&self, log: &L) -> Result<Recovery<S::Error>, Error>
    where
        C: Serialize + DeserializeOwned + Sync,
    {
        let mut report = Recovery::default();
        for run in log.pending().await? {
            if *run.saga != *self.name {
                continue;
            }
            let Some(_claim) = self.claim(run.id) else {
                continue;
            };
            let mismatch = |reason: String| SagaError::Log {
                id: run.id,
                error: Error::InvalidConfig {
                    what: "saga",
                    reason,
                },
                completed: run.steps.len(),
                compensated: run.compensated,
            };
            let expected: Vec<&str> = self.refs.iter().map(StepRef::name).collect();
            if run.steps.len() > expected.len()
                || run.steps.iter().zip(&expected).any(|(a, b)| a != b)
            {
                report.failed.push(mismatch(format!(
                    "the step log's run {} of saga `{}` completed steps [{}], which this definition [{}] does not start with: recover with the definition that wrote the log",
                    run.id,
                    self.name,
                    run.steps.join(", "),
                    expected.join(", ")
                )));
                continue;
            }
            let mut ctx: C = match serde_json::from_value(run.context) {
                Ok(c) => c,
                Err(e) => {
                    report.failed.push(mismatch(format!(
                        "the step log's context of run {} of saga `{}` does not fit this definition's context type ({e}): recover with the context type that wrote the log",
                        run.id, self.name
                    )));
                    continue;
                }
            };
            let machine = SagaMachine::recovering(&self.plan, run.steps.len(), run.compensated)?;
            match self
                .drive(run.id, machine, &mut ctx, &Logged(log), true)
                .await
            {
                Ok(()) => report.compensated.push(run.id),
                Err(e) => report.failed.push(e),
            }
        }
        Ok(report)
    }

    /// Marks `id` as in progress here, so recovery leaves it alone; `None` if it already is.
    fn claim(&self, id: SagaId) -> Option<Claim<'_>> {
        let fresh = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
        // (Not `then_some`: it would build, and drop, a claim that removes the id.)
        fresh.then(|| Claim {
            running: &self.running,
            id,
        })
    }

    fn emit(&self, event: SagaEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    async fn drive<J: Journal<C>>(
        &self,
        id: SagaId,
        mut machine: SagaMachine<'_>,
        ctx: &mut C,
        journal: &J,
        recovering: bool,
    ) -> Result<(), SagaError<S::Error>> {
        let start = Instant::now();
        let mut active = Active::new(&self.instruments);
        let mut log_error: Option<Error> = None;
        let mut logged = recovering;
        let mut cause: Option<StepFailure<S::Error>> = None;
        let mut compensation_failure: Option<StepFailure<S::Error>> = None;
        let saga = &*self.name;
        let outcome = loop {
            match machine.poll(Instant::now()) {
                Action::Done(outcome) => break outcome,
                Action::Sleep { until } => sleep_until(until).await,
                Action::Execute {
                    step,
                    attempt,
                    deadline,
                } => {
                    let s = &self.steps[step];
                    let r = &self.refs[step];
                    let result = timeout_at(deadline, s.execute(ctx, StepKey::new(id, step))).await;
                    let now = Instant::now();
                    let error = match result {
                        Ok(Ok(())) => {
                            self.instruments.attempt(step, AttemptLabel::Completed);
                            machine.report(AttemptResult::Succeeded, now);
                            logged = true;
                            if let Err(e) = journal.completed(saga, id, r, ctx).await {
                                tracing::error!(saga, %id, step = r.name(), error = %e, "saga: cannot record a completed step; compensating");
                                log_error.get_or_insert(e);
                                machine.abort();
                            }
                            self.emit(SagaEvent::Completed {
                                id,
                                step: r.clone(),
                                attempts: attempt,
                            });
                            continue;
                        }
                        Ok(Err(e)) => {
                            self.instruments.attempt(step, AttemptLabel::Failed);
                            let retryable = s.is_retryable(&e);
                            machine.report(AttemptResult::Failed { retryable }, now);
                            StepError::Failed(e)
                        }
                        Err(_) => {
                            self.instruments.attempt(step, AttemptLabel::TimedOut);
                            machine.report(AttemptResult::TimedOut, now);
                            StepError::TimedOut {
                                after: self.plan_step(step).execute.timeout(),
                            }
                        }
                    };
                    if machine.failed_step() == Some(step) {
                        tracing::warn!(saga, %id, step = r.name(), attempts = attempt, %error, "saga: step failed; compensating");
                        self.emit(SagaEvent::Failed {
                            id,
                            step: r.clone(),
                            attempts: attempt,
                            timed_out: error.is_timeout(),
                        });
                        cause = Some(StepFailure {
                            step: r.clone(),
                            attempts: attempt,
                            error,
                        });
                    } else {
                        tracing::debug!(saga, %id, step = r.name(), attempt, %error, "saga: step attempt failed; retrying");
                    }
                }
                Action::Compensate {
                    step,
                    attempt,
                    deadline,
                } => {
                    let s = &self.steps[step];
                    let r = &self.refs[step];
                    let result =
                        timeout_at(deadline, s.compensate(ctx, StepKey::new(id, step))).await;
                    let now = Instant::now();
                    let error = match result {
                        Ok(Ok(())) => {
                            self.instruments.attempt(step, AttemptLabel::Compensated);
                            machine.report(AttemptResult::Succeeded, now);
                            if let Err(e) = journal.compensated(saga, id, r, ctx).await {
                                tracing::error!(saga, %id, step = r.name(), error = %e, "saga: cannot record a compensation");
                                log_error.get_or_insert(e);
                            }
                            self.emit(SagaEvent::Compensated {
                                id,
                                step: r.clone(),
                                recovered: recovering,
                            });
                            continue;
                        }
                        Ok(Err(e)) => {
                            self.instruments
                                .attempt(step, AttemptLabel::CompensationFailed);
                            let retryable = s.is_retryable(&e);
                            machine.report(AttemptResult::Failed { retryable }, now);
                            StepError::Failed(e)
                        }
                        Err(_) => {
                            self.instruments
                                .attempt(step, AttemptLabel::CompensationTimedOut);
                            machine.report(AttemptResult::TimedOut, now);
                            StepError::TimedOut {
                                after: self.plan_step(step).compensate.timeout(),
                            }
                        }
                    };
                    if machine.outcome().is_some() {
                        tracing::error!(saga, %id, step = r.name(), attempts = attempt, %error, "saga: compensation failed; the run stays pending");
                        self.emit(SagaEvent::CompensationFailed {
                            id,
                            step: r.clone(),
                            attempts: attempt,
                        });
                        compensation_failure = Some(StepFailure {
                            step: r.clone(),
                            attempts: attempt,
                            error,
                        });
                    } else {
                        tracing::debug!(saga, %id, step = r.name(), attempt, %error, "saga: compensation attempt failed; retrying");
                    }
                }
            }
        };
        let compensated = match outcome {
            Outcome::Completed => Some(false),
            Outcome::Compensated => Some(true),
            Outcome::CompensationFailed { .. } => None,
        };
        if let Some(compensated) = compensated {
            let recorded = if logged {
                journal.finish(saga, id, compensated).await
            } else {
                Ok(())
            };
            match recorded {
                Ok(()) => self.emit(SagaEvent::Finished { id, compensated }),
                Err(e) => {
                    tracing::error!(saga, %id, error = %e, "saga: cannot record the end of a run");
                    log_error.get_or_insert(e);
                }
            }
        }
        let (result, outcome) = match (log_error, compensation_failure) {
            (Some(error), _) => (
                RunResult::LogFailed,
                Err(SagaError::Log {
                    id,
                    error,
                    completed: machine.completed(),
                    compensated: machine.compensated(),
                }),
            ),
            (None, Some(compensation)) => (
                RunResult::CompensationFailed,
                Err(SagaError::CompensationFailed {
                    id,
                    cause,
                    compensation,
                }),
            ),
            (None, None) => match cause {
                Some(failure) => (
                    RunResult::Compensated,
                    Err(SagaError::Failed {
                        id,
                        failure,
                        compensated: machine.compensated(),
                    }),
                ),
                None if recovering => (RunResult::Recovered, Ok(())),
                None => (RunResult::Completed, Ok(())),
            },
        };
        active.finish(result);
        if !recovering {
            self.instruments
                .duration
                .record(start.elapsed().as_secs_f64());
        }
        outcome
    }

    fn plan_step(&self, step: usize) -> StepPolicies {
        *self
            .plan
            .step(step)
            .expect("the driver only runs planned steps")
    }
}

impl<S: Step<C>, C> fmt::Debug for Saga<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saga")
            .field("name", &self.name)
            .field(
                "steps",
                &self.refs.iter().map(StepRef::name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A run in progress in this process; removes itself from the set on drop.
struct Claim<'a> {
    running: &'a Mutex<HashSet<SagaId>>,
    id: SagaId,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// Counts a run in `galileo_saga_active`, and as `cancelled` if dropped before its end.
struct Active<'a> {
    instruments: &'a Instruments,
    done: bool,
}

impl<'a> Active<'a> {
    fn new(instruments: &'a Instruments) -> Self {
        instruments.active.increment(1.0);
        Self {
            instruments,
            done: false,
        }
    }

    fn finish(&mut self, result: RunResult) {
        self.instruments.run(result);
        self.done = true;
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.instruments.active.decrement(1.0);
        if !self.done {
            self.instruments.run(RunResult::Cancelled);
        }
    }
}
