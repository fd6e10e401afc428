//! The sans-IO circuit breaker: [`CircuitBreaker`], its [`Permit`]s and [`Rejected`] answers.

use std::time::Duration;

use tokio::time::Instant;

use super::config::BreakerConfig;
use super::jitter::{JitterSource, SeededJitter};
use super::outcome::Outcome;
use super::state::{State, Transition, TransitionReason};
use super::stats::{BreakerStats, Totals};
use super::window::Window;
use crate::Error;

/// Leave to make one call, from [`CircuitBreaker::acquire`].
///
/// Hand it back exactly once: to [`record`](CircuitBreaker::record) with the outcome, or to
/// [`release`](CircuitBreaker::release) if the call was abandoned. A half-open probe's permit
/// holds one of the few probe slots until then. (The async [`Breaker`](super::Breaker) does
/// this for you, also when its future is dropped.)
#[derive(Debug)]
#[must_use = "hand the permit back with record() or release(), or a half-open probe slot leaks"]
pub struct Permit {
    generation: u64,
    started: Instant,
    probe: bool,
    transition: Option<Transition>,
}

impl Permit {
    /// When the call was let through (the `now` given to `acquire`).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// The transition this acquire caused, if any: Open → HalfOpen when the open time had
    /// passed. Report it like the ones `record` returns.
    pub fn transition(&self) -> Option<&Transition> {
        self.transition.as_ref()
    }
}

/// A call the breaker refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// [`State::Open`], or [`State::HalfOpen`] when every probe slot is busy.
    pub state: State,
    /// When open: the instant a probe will be let through. `None` when half-open (the probes
    /// in flight decide; nobody knows when).
    pub retry_at: Option<Instant>,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

/// A circuit breaker as a sans-IO state machine: every method takes `now` and nothing reads a
/// clock, so it runs the same on paused test time as in production.
///
/// - **Closed**: calls pass. It opens after `failure_threshold` failures in a row, or when the
///   sliding window holds at least `min_calls` calls and its failure rate reaches
///   `failure_rate` or its slow-call rate reaches `slow_call_rate`.
/// - **Open**: calls are [`Rejected`] until the open time has passed (`open_ms`, multiplied by
///   `open_multiplier` for each re-open in a row up to `open_max_ms`, then ± `open_jitter`).
/// - **HalfOpen**: the first call after the open time turns the breaker half-open; at most
///   `half_open_max_probes` probes run at once. A failed (or, with `slow_call_rate`, slow)
///   probe opens it again; `half_open_successes` successful probes in a row close it with an
///   empty window.
///
/// A permit belongs to the state it was granted in: an outcome reported after the breaker has
/// changed state since (a slow call that started while closed and ends after the breaker
/// opened) is counted in the totals but cannot move the breaker again.
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::breaker::{BreakerConfig, CircuitBreaker, Outcome, State};
/// use tokio::time::Instant;
///
/// let cfg = BreakerConfig { failure_threshold: 2, open_ms: 1000, half_open_successes: 1, ..Default::default() };
/// let mut cb = CircuitBreaker::with_jitter(cfg, || 0.5)?;
/// let t0 = Instant::now();
/// for _ in 0..2 {
///     let p = cb.acquire(t0).unwrap();
///     cb.record(p, Outcome::Failure, t0);
/// }
/// assert_eq!(cb.state(), State::Open);
/// let rejected = cb.acquire(t0).unwrap_err();
/// assert_eq!(rejected.retry_at, Some(t0 + Duration::from_secs(1)));
///
/// let probe = cb.acquire(t0 + Duration::from_secs(1)).unwrap();
/// assert!(probe.is_probe());
/// let t = cb.record(probe, Outcome::Success, t0 + Duration::from_secs(1)).unwrap();
/// assert_eq!((t.from, t.to), (State::HalfOpen, State::Closed));
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Debug)]
pub struct CircuitBreaker<J = SeededJitter> {
    config: BreakerConfig,
    slow_call: Option<Duration>,
    phase: Phase,
    /// Bumped on every transition; a permit from another generation is stale.
    generation: u64,
    window: Window,
    consecutive_failures: u32,
    open_streak: u32,
    totals: Totals,
    jitter: J,
}

impl CircuitBreaker<SeededJitter> {
    /// A closed breaker with jitter seeded from the thread's RNG. Fails if the configuration
    /// does not [`validate`](BreakerConfig::validate).
    pub fn new(config: BreakerConfig) -> Result<Self, Error> {
        Self::with_jitter(config, SeededJitter::from_entropy())
    }
}

impl<J: JitterSource> CircuitBreaker<J> {
    /// A closed breaker drawing its open-time jitter from `jitter`.
    pub fn with_jitter(config: BreakerConfig, jitter: J) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            slow_call: config.slow_call(),
            window: Window::new(config.window()),
            config,
            phase: Phase::Closed,
            generation: 0,
            consecutive_failures: 0,
            open_streak: 0,
            totals: Totals::default(),
            jitter,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state. An open breaker whose time is up stays [`State::Open`] until the
    /// next [`acquire`](Self::acquire) turns it half-open.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Closed => State::Closed,
            Phase::Open { .. } => State::Open,
            Phase::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// While open: when the next call will be let through as a probe.
    pub fn open_until(&self) -> Option<Instant> {
        match self.phase {
            Phase::Open { until } => Some(until),
            _ => None,
        }
    }

    /// Whether a call of this duration counts as slow.
    pub fn is_slow(&self, elapsed: Duration) -> bool {
        self.slow_call.is_some_and(|s| elapsed >= s)
    }

    /// Asks to make a call at `now`.
    ///
    /// Closed: always granted. Open: refused until the open time has passed, then the breaker
    /// turns half-open (see [`Permit::transition`]) and this call is its first probe.
    /// HalfOpen: granted while fewer than `half_open_max_probes` probes are in flight.
    pub fn acquire(&mut self, now: Instant) -> Result<Permit, Rejected> {
        let mut transition = None;
        match self.phase {
            Phase::Closed => {
                return Ok(Permit {
                    generation: self.generation,
                    started: now,
                    probe: false,
                    transition: None,
                });
            }
            Phase::Open { until } if now < until => {
                self.totals.rejected += 1;
                return Err(Rejected {
                    state: State::Open,
                    retry_at: Some(until),
                });
            }
            Phase::Open { .. } => {
                transition = Some(self.enter(
                    Phase::HalfOpen {
                        in_flight: 0,
                        successes: 0,
                    },
                    TransitionReason::OpenTimeElapsed,
                    now,
                ));
            }
            Phase::HalfOpen { .. } => {}
        }
        let generation = self.generation;
        let max = self.config.half_open_max_probes;
        match &mut self.phase {
            Phase::HalfOpen { in_flight, .. } if *in_flight < max => {
                *in_flight += 1;
                Ok(Permit {
                    generation,
                    started: now,
                    probe: true,
                    transition,
                })
            }
            _ => {
                self.totals.rejected += 1;
                Err(Rejected {
                    state: State::HalfOpen,
                    retry_at: None,
                })
            }
        }
    }

    /// Reports how the call behind `permit` ended, at `now`; its duration is
    /// `now - permit.started()`. Returns the state change it caused, if any.
    pub fn record(&mut self, permit: Permit, outcome: Outcome, now: Instant) -> Option<Transition> {
        let elapsed = now.saturating_duration_since(permit.started);
        let slow = outcome != Outcome::Ignored && self.is_slow(elapsed);
        match outcome {
            Outcome::Success => self.totals.successes += 1,
            Outcome::Failure => self.totals.failures += 1,
            Outcome::Timeout => self.totals.timeouts += 1,
            Outcome::Ignored => self.totals.ignored += 1,
        }
        self.totals.slow += u64::from(slow);
        if permit.generation != self.generation {
            return None;
        }
        let failure = outcome.is_failure();
        match &mut self.phase {
            Phase::Closed => {
                if outcome == Outcome::Ignored {
                    return None;
                }
                let counts = self.window.record(now, failure, slow);
                if failure {
                    self.consecutive_failures += 1;
                } else {
                    self.consecutive_failures = 0;
                }
                let c = &self.config;
                let reason = if c.failure_threshold > 0
                    && self.consecutive_failures >= c.failure_threshold
                {
                    TransitionReason::ConsecutiveFailures {
                        count: self.consecutive_failures,
                    }
                } else if counts.calls < c.min_calls {
                    return None;
                } else if c.failure_rate.is_some_and(|r| counts.failure_rate() >= r) {
                    TransitionReason::FailureRate {
                        rate: counts.failure_rate(),
                        calls: counts.calls,
                    }
                } else if c.slow_call_rate.is_some_and(|r| counts.slow_rate() >= r) {
                    TransitionReason::SlowCallRate {
                        rate: counts.slow_rate(),
                        calls: counts.calls,
                    }
                } else {
                    return None;
                };
                Some(self.trip(reason, now))
            }
            Phase::HalfOpen {
                in_flight,
                successes,
            } => {
                *in_flight = in_flight.saturating_sub(1);
                if failure {
                    return Some(self.trip(TransitionReason::ProbeFailed, now));
                }
                if outcome == Outcome::Ignored {
                    return None;
                }
                if slow && self.config.slow_call_rate.is_some() {
                    return Some(self.trip(TransitionReason::ProbeSlow, now));
                }
                *successes += 1;
                let successes = *successes;
                if successes < self.config.half_open_successes {
                    return None;
                }
                self.window.clear();
                self.consecutive_failures = 0;
                self.open_streak = 0;
                Some(self.enter(
                    Phase::Closed,
                    TransitionReason::ProbesSucceeded { successes },
                    now,
                ))
            }
            // A permit of the current generation is never granted while open.
            Phase::Open { .. } => None,
        }
    }

    /// Hands back the permit of a call that was abandoned (cancelled, dropped): it counts as
    /// neither success nor failure, and a probe frees its slot.
    pub fn release(&mut self, permit: Permit) {
        self.totals.cancelled += 1;
        if permit.generation == self.generation
            && let Phase::HalfOpen { in_flight, .. } = &mut self.phase
        {
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    /// The state and counts as of `now`, under an empty name.
    pub fn stats(&self, now: Instant) -> BreakerStats {
        let window = self.window.counts_at(now);
        let (probes_in_flight, probe_successes) = match self.phase {
            Phase::HalfOpen {
                in_flight,
                successes,
            } => (in_flight, successes),
            _ => (0, 0),
        };
        BreakerStats {
            name: String::new(),
            state: self.state(),
            window,
            failure_rate: window.failure_rate(),
            slow_rate: window.slow_rate(),
            consecutive_failures: self.consecutive_failures,
            probes_in_flight,
            probe_successes,
            half_open_in: self.open_until().map(|u| u.saturating_duration_since(now)),
            open_streak: self.open_streak,
            totals: self.totals,
        }
    }

    /// Opens the breaker for the grown, jittered open time.
    fn trip(&mut self, reason: TransitionReason, now: Instant) -> Transition {
        self.open_streak = match self.phase {
            Phase::HalfOpen { .. } => self.open_streak.saturating_add(1),
            _ => 1,
        };
        self.totals.opened += 1;
        let until = now + self.open_time();
        self.enter(Phase::Open { until }, reason, now)
    }

    /// `open_ms × open_multiplier^(streak − 1)`, capped at `open_max_ms`, then ± jitter.
    fn open_time(&mut self) -> Duration {
        let c = &self.config;
        let exponent = i32::try_from(self.open_streak.saturating_sub(1)).unwrap_or(i32::MAX);
        let grown = c.open().as_secs_f64() * c.open_multiplier.powi(exponent);
        let base = grown.min(c.open_max().as_secs_f64());
        let secs = if c.open_jitter > 0.0 {
            let u = self.jitter.sample();
            let u = if u.is_finite() {
                u.clamp(0.0, 1.0)
            } else {
                0.5
            };
            base * (1.0 + c.open_jitter * (2.0 * u - 1.0))
        } else {
            base
        };
        // At least a millisecond; the config bounds the rest to a day (plus jitter).
        Duration::from_secs_f64(secs.max(0.001))
    }

    fn enter(&mut self, phase: Phase, reason: TransitionReason, now: Instant) -> Transition {
        let from = self.state();
        self.phase = phase;
        self.generation += 1;
        Transition {
            from,
            to: self.state(),
            reason,
            at: now,
            open_until: self.open_until(),
        }
    }
}
