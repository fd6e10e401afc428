//! The saga's policy as a sans-IO state machine: which step to run or compensate next, when,
//! with what deadline, and when to stop. It never reads a clock: every call takes `now`.

use tokio::time::Instant;

use super::config::StepPolicy;
use crate::Error;

/// The execution and compensation policies of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepPolicies {
    /// How the step executes.
    pub execute: StepPolicy,
    /// How the step compensates.
    pub compensate: StepPolicy,
}

/// The validated policies of a saga's steps, in order: what a [`SagaMachine`] runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaPlan {
    steps: Vec<StepPolicies>,
}

impl SagaPlan {
    /// A plan of at least one step, every policy within [`StepPolicy::validate`]'s bounds.
    pub fn new(steps: Vec<StepPolicies>) -> Result<Self, Error> {
        if steps.is_empty() {
            return Err(Error::InvalidConfig {
                what: "saga",
                reason: "a saga needs at least one step".into(),
            });
        }
        for (i, p) in steps.iter().enumerate() {
            p.execute.validate(&format!("step {i} execute"))?;
            p.compensate.validate(&format!("step {i} compensate"))?;
        }
        Ok(Self { steps })
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Always false: a plan has at least one step.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The policies of step `i`.
    pub fn step(&self, i: usize) -> Option<&StepPolicies> {
        self.steps.get(i)
    }
}

/// What the driver should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run attempt `attempt` (1-based) of step `step`'s execution, cancelling it at `deadline`.
    Execute {
        /// The step's index.
        step: usize,
        /// 1 for the first attempt.
        attempt: u32,
        /// When the attempt times out.
        deadline: Instant,
    },
    /// Run attempt `attempt` of step `step`'s compensation, cancelling it at `deadline`.
    Compensate {
        /// The step's index.
        step: usize,
        /// 1 for the first attempt.
        attempt: u32,
        /// When the attempt times out.
        deadline: Instant,
    },
    /// Nothing to do before `until` (a retry delay); poll again then.
    Sleep {
        /// When the next attempt may start.
        until: Instant,
    },
    /// The saga is over.
    Done(Outcome),
}

/// How an attempt ended, as the driver reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    /// The attempt succeeded.
    Succeeded,
    /// The attempt failed; `retryable` says whether another attempt may succeed.
    Failed {
        /// Whether the policy may retry.
        retryable: bool,
    },
    /// The attempt reached its deadline and was cancelled. Retryable.
    TimedOut,
}

/// How a saga ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step executed.
    Completed,
    /// Execution stopped (a step failed, or the driver aborted) and every completed step was
    /// compensated.
    Compensated,
    /// The compensation of `step` failed for good; the steps before it are still in effect.
    CompensationFailed {
        /// The step whose compensation failed.
        step: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Execute(usize),
    Compensate(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Ready {
        work: Work,
        attempt: u32,
        not_before: Option<Instant>,
    },
    Running {
        work: Work,
        attempt: u32,
        deadline: Instant,
    },
    Done(Outcome),
}

/// The state of one saga run: steps execute in order, each attempt under its step's timeout
/// and retried per its policy; when a step fails for good, the completed steps are compensated
/// in reverse order, each compensation retried per its own policy.
///
/// Drive it with [`poll`](Self::poll) and [`report`](Self::report): poll gives an
/// [`Action`], the driver carries it out and reports how it ended. [`Saga`](super::Saga) is
/// the async driver; this is for anyone who wants to drive sagas from their own loop.
///
/// ```
/// use galileo_resilience::saga::{
///     Action, AttemptResult, Outcome, SagaMachine, SagaPlan, StepPolicies, StepPolicy,
/// };
/// use tokio::time::Instant;
///
/// let p = StepPolicies { execute: StepPolicy::EXECUTE, compensate: StepPolicy::COMPENSATE };
/// let plan = SagaPlan::new(vec![p, p])?;
/// let mut m = SagaMachine::new(&plan);
/// let now = Instant::now();
/// assert!(matches!(m.poll(now), Action::Execute { step: 0, attempt: 1, .. }));
/// m.report(AttemptResult::Succeeded, now);
/// assert!(matches!(m.poll(now), Action::Execute { step: 1, .. }));
/// m.report(AttemptResult::Failed { retryable: false }, now);
/// // Step 1 failed: compensate step 0.
/// assert!(matches!(m.poll(now), Action::Compensate { step: 0, .. }));
/// m.report(AttemptResult::Succeeded, now);
/// assert_eq!(m.poll(now), Action::Done(Outcome::Compensated));
/// assert_eq!(m.failed_step(), Some(1));
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SagaMachine<'p> {
    plan: &'p SagaPlan,
    phase: Phase,
    completed: usize,
    compensated: usize,
    failed: Option<usize>,
}

impl<'p> SagaMachine<'p> {
    /// A run that starts by executing step 0.
    pub fn new(plan: &'p SagaPlan) -> Self {
        Self {
            plan,
            phase: Phase::Ready {
                work: Work::Execute(0),
                attempt: 1,
                not_before: None,
            },
            completed: 0,
            compensated: 0,
            failed: None,
        }
    }

    /// A run recovered from a step log: `completed` steps executed, the last `compensated` of
    /// them already compensated. It compensates the rest, in reverse.
    pub fn recovering(
        plan: &'p SagaPlan,
        completed: usize,
        compensated: usize,
    ) -> Result<Self, Error> {
        if completed > plan.len() || compensated > completed {
            return Err(Error::InvalidConfig {
                what: "saga",
                reason: format!(
                    "cannot recover {completed} completed and {compensated} compensated steps of a {}-step saga",
                    plan.len()
                ),
            });
        }
        let mut m = Self {
            plan,
            phase: Phase::Done(Outcome::Compensated),
            completed,
            compensated,
            failed: None,
        };
        m.next_compensation();
        Ok(m)
    }

    /// What to do at `now`. Polling again before reporting returns the same action.
    pub fn poll(&mut self, now: Instant) -> Action {
        match self.phase {
            Phase::Ready {
                not_before: Some(until),
                ..
            } if until > now => Action::Sleep { until },
            Phase::Ready { work, attempt, .. } => {
                let policy = self.policy(work);
                let deadline = now + policy.timeout();
                self.phase = Phase::Running {
                    work,
                    attempt,
                    deadline,
                };
                Self::action(work, attempt, deadline)
            }
            Phase::Running {
                work,
                attempt,
                deadline,
            } => Self::action(work, attempt, deadline),
            Phase::Done(outcome) => Action::Done(outcome),
        }
    }

    /// Reports how the running attempt ended, at `now`. Ignored when nothing is running (a
    /// report without a polled action is a driver bug).
    pub fn report(&mut self, result: AttemptResult, now: Instant) {
        let Phase::Running { work, attempt, .. } = self.phase else {
            debug_assert!(false, "report({result:?}) with nothing running");
            return;
        };
        let retry = match result {
            AttemptResult::Succeeded => None,
            AttemptResult::Failed { retryable } => Some(retryable),
            AttemptResult::TimedOut => Some(true),
        };
        let policy = self.policy(work);
        match (work, retry) {
            (Work::Execute(i), None) => {
                self.completed = i + 1;
                self.phase = if self.completed == self.plan.len() {
                    Phase::Done(Outcome::Completed)
                } else {
                    Phase::Ready {
                        work: Work::Execute(i + 1),
                        attempt: 1,
                        not_before: None,
                    }
                };
            }
            (Work::Compensate(_), None) => {
                self.compensated += 1;
                self.next_compensation();
            }
            (work, Some(true)) if attempt < policy.max_attempts() => {
                self.phase = Phase::Ready {
                    work,
                    attempt: attempt + 1,
                    not_before: Some(now + policy.retry_delay()),
                };
            }
            (Work::Execute(i), Some(_)) => {
                self.failed = Some(i);
                self.next_compensation();
            }
            (Work::Compensate(i), Some(_)) => {
                self.phase = Phase::Done(Outcome::CompensationFailed { step: i });
            }
        }
    }

    /// Stops executing: the driver cannot go on (its step log failed). Completed steps are
    /// compensated from the next poll. Does nothing once compensation has started or the saga
    /// is over.
    pub fn abort(&mut self) {
        if let Phase::Ready {
            work: Work::Execute(_),
            ..
        }
        | Phase::Running {
            work: Work::Execute(_),
            ..
        } = self.phase
        {
            self.next_compensation();
        }
    }

    /// Steps executed so far.
    pub fn completed(&self) -> usize {
        self.completed
    }

    /// Completed steps compensated so far (the last ones).
    pub fn compensated(&self) -> usize {
        self.compensated
    }

    /// The step whose execution failed for good, if one did.
    pub fn failed_step(&self) -> Option<usize> {
        self.failed
    }

    /// The outcome, once the saga is over.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.phase {
            Phase::Done(o) => Some(o),
            _ => None,
        }
    }

    fn next_compensation(&mut self) {
        self.phase = if self.compensated == self.completed {
            Phase::Done(Outcome::Compensated)
        } else {
            Phase::Ready {
                work: Work::Compensate(self.completed - self.compensated - 1),
                attempt: 1,
                not_before: None,
            }
        };
    }

    fn policy(&self, work: Work) -> StepPolicy {
        match work {
            Work::Execute(i) => self.plan.steps[i].execute,
            Work::Compensate(i) => self.plan.steps[i].compensate,
        }
    }

    fn action(work: Work, attempt: u32, deadline: Instant) -> Action {
        match work {
            Work::Execute(step) => Action::Execute {
                step,
                attempt,
                deadline,
            },
            Work::Compensate(step) => Action::Compensate {
                step,
                attempt,
                deadline,
            },
        }
    }
}
