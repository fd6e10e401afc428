//! The thin async shell: [`Breaker`], shared between tasks, with a per-call timeout and
//! fallback.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::{Instant, timeout_at};

use super::circuit_breaker::CircuitBreaker;
use super::guard::BreakerPermit;
use super::telemetry::{BreakerMetrics, CallResult};
use super::{
    AllFailures, BreakerConfig, BreakerError, BreakerEvent, BreakerStats, Classify, Outcome,
    SeededJitter, State, Transition,
};
use crate::Error;

/// Events a standalone breaker's channel holds for a slow subscriber.
pub(crate) const EVENT_CAPACITY: usize = 256;

/// A circuit breaker shared between tasks: a [`CircuitBreaker`] behind a short lock, plus
/// metrics, events and the per-call timeout. Cloning is cheap (an `Arc`).
///
/// A call through it reads the clock twice (before and after) and takes the lock twice, briefly;
/// nothing is boxed. If the future is dropped mid-call, the call counts as cancelled and a
/// half-open probe slot is freed.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::breaker::{Breaker, BreakerConfig, Outcome, State};
///
/// let cfg = BreakerConfig { failure_threshold: 3, call_timeout_ms: Some(500), ..Default::default() };
/// let breaker = Breaker::new("jupiter", cfg)?;
///
/// // "No route" is not the provider's fault: a classifier says it counts as a success.
/// let no_route = |e: &&str| if *e == "no route" { Outcome::Success } else { Outcome::Failure };
/// let r = breaker.call_with(async { Err::<u32, _>("no route") }, no_route).await;
/// assert_eq!(r.unwrap_err().into_inner(), Some("no route"));
///
/// // With `call`, every error counts as a failure.
/// for _ in 0..2 {
///     let _ = breaker.call(async { Err::<u32, &str>("502 bad gateway") }).await;
/// }
/// // A call that hangs times out: a failure too, the third in a row.
/// let r = breaker.call(std::future::pending::<Result<u32, &str>>()).await;
/// assert!(r.unwrap_err().is_timeout());
/// assert_eq!(breaker.state(), State::Open);
///
/// // Open: calls are refused without running; a fallback answers instead.
/// let quote = breaker.call_or(async { Ok::<u32, &str>(1) }, |e| async move {
///     assert!(e.is_open());
///     0
/// }).await;
/// assert_eq!(quote, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Breaker {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) name: Arc<str>,
    core: Mutex<CircuitBreaker<SeededJitter>>,
    call_timeout: Option<Duration>,
    pub(crate) slow_call: Option<Duration>,
    pub(crate) metrics: BreakerMetrics,
    events: broadcast::Sender<BreakerEvent>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, CircuitBreaker<SeededJitter>> {
        // A panic while the lock is held cannot leave the breaker inconsistent: every method
        // finishes its update before anything that could panic.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes a transition. Called with the lock held, so one breaker's events are ordered.
    pub(crate) fn on_transition(&self, t: &Transition) {
        self.metrics.state(t.to);
        let event = BreakerEvent {
            name: self.name.clone(),
            transition: *t,
        };
        if t.to == State::Open {
            tracing::warn!(breaker = %self.name, "{event}");
        } else {
            tracing::info!(breaker = %self.name, "{event}");
        }
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }
}

/// Builds a [`Breaker`] with a chosen jitter seed or event channel.
///
/// ```
/// use galileo_resilience::breaker::{Breaker, BreakerConfig};
///
/// let (tx, _rx) = tokio::sync::broadcast::channel(16);
/// let b = Breaker::builder("titan", BreakerConfig::default()).jitter_seed(7).events(tx).build()?;
/// assert_eq!(b.name(), "titan");
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "call build()"]
pub struct BreakerBuilder {
    name: Arc<str>,
    config: BreakerConfig,
    jitter: Option<SeededJitter>,
    events: Option<broadcast::Sender<BreakerEvent>>,
}

impl BreakerBuilder {
    /// Draws the open-time jitter from a source seeded with `seed` (reproducible runs).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter = Some(SeededJitter::new(seed));
        self
    }

    /// Sends state changes on this channel instead of a channel of the breaker's own.
    pub fn events(mut self, sender: broadcast::Sender<BreakerEvent>) -> Self {
        self.events = Some(sender);
        self
    }

    /// Validates the configuration and registers the breaker's metrics (install the metrics
    /// recorder before this).
    pub fn build(self) -> Result<Breaker, Error> {
        if self.name.trim().is_empty() {
            return Err(Error::InvalidConfig {
                what: "circuit breaker",
                reason: "a breaker needs a name (it labels its metrics and events)".into(),
            });
        }
        let jitter = self.jitter.unwrap_or_else(SeededJitter::from_entropy);
        let core = CircuitBreaker::with_jitter(self.config, jitter).map_err(|e| match e {
            Error::InvalidConfig { what, reason } => Error::InvalidConfig {
                what,
                reason: format!("breaker `{}`: {reason}", self.name),
            },
            other => other,
        })?;
        let events = self
            .events
            .unwrap_or_else(|| broadcast::channel(EVENT_CAPACITY).0);
        Ok(Breaker {
            shared: Arc::new(Shared {
                call_timeout: core.config().call_timeout(),
                slow_call: core.config().slow_call(),
                metrics: BreakerMetrics::new(&self.name),
                core: Mutex::new(core),
                name: self.name,
                events,
            }),
        })
    }
}

impl Breaker {
    /// A closed breaker named `name` (the `name` label of its metrics). Fails if the
    /// configuration does not [`validate`](BreakerConfig::validate) or the name is empty.
    pub fn new(name: impl Into<Arc<str>>, config: BreakerConfig) -> Result<Self, Error> {
        Self::builder(name, config).build()
    }

    /// A builder, to choose the jitter seed or the event channel.
    pub fn builder(name: impl Into<Arc<str>>, config: BreakerConfig) -> BreakerBuilder {
        BreakerBuilder {
            name: name.into(),
            config,
            jitter: None,
            events: None,
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Its configuration.
    pub fn config(&self) -> BreakerConfig {
        self.shared.lock().config().clone()
    }

    /// Its state now (an open breaker whose time is up turns half-open at the next call).
    pub fn state(&self) -> State {
        self.shared.lock().state()
    }

    /// Its state and counts now.
    pub fn stats(&self) -> BreakerStats {
        let mut stats = self.shared.lock().stats(Instant::now());
        stats.name = self.shared.name.to_string();
        stats
    }

    /// State changes from now on. A breaker made by a
    /// [`BreakerRegistry`](super::BreakerRegistry) shares the registry's channel, which carries
    /// every breaker's events (each names its breaker).
    pub fn subscribe(&self) -> broadcast::Receiver<BreakerEvent> {
        self.shared.events.subscribe()
    }

    /// Asks to make one call now, for calls that are not a single future; see
    /// [`BreakerPermit`]. `E` is the caller's error type of the resulting [`BreakerError`].
    pub fn try_acquire<E>(&self) -> Result<BreakerPermit<'_>, BreakerError<E>> {
        self.acquire_at(Instant::now())
    }

    fn acquire_at<E>(&self, now: Instant) -> Result<BreakerPermit<'_>, BreakerError<E>> {
        let decision = {
            let mut core = self.shared.lock();
            let decision = core.acquire(now);
            if let Ok(p) = &decision
                && let Some(t) = p.transition()
            {
                self.shared.on_transition(t);
            }
            decision
        };
        match decision {
            Ok(permit) => Ok(BreakerPermit {
                shared: &self.shared,
                permit: Some(permit),
            }),
            Err(rejected) => {
                self.shared.metrics.call(CallResult::Rejected);
                Err(BreakerError::Open {
                    name: self.shared.name.clone(),
                    retry_at: rejected.retry_at,
                    retry_in: rejected.retry_at.map(|t| t.saturating_duration_since(now)),
                })
            }
        }
    }

    /// Runs `fut` through the breaker; every error counts as a failure.
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, BreakerError<E>>
    where
        F: IntoFuture<Output = Result<T, E>>,
    {
        self.call_with(fut, AllFailures).await
    }

    /// Runs `fut` through the breaker, with `classify` deciding what each error means.
    ///
    /// Refused at once with [`BreakerError::Open`] while the breaker is open. With
    /// `call_timeout_ms`, a call running longer is dropped and fails with
    /// [`BreakerError::Timeout`] (a failure for the breaker).
    pub async fn call_with<F, T, E, C>(&self, fut: F, classify: C) -> Result<T, BreakerError<E>>
    where
        F: IntoFuture<Output = Result<T, E>>,
        C: Classify<E>,
    {
        let start = Instant::now();
        let permit = self.acquire_at(start)?;
        let result = match self.shared.call_timeout {
            None => Ok(fut.await),
            Some(after) => timeout_at(start + after, fut).await.map_err(|_| after),
        };
        let end = Instant::now();
        match result {
            Ok(Ok(value)) => {
                permit.record_at(Outcome::Success, end);
                Ok(value)
            }
            Ok(Err(e)) => {
                permit.record_at(classify.classify(&e), end);
                Err(BreakerError::Inner(e))
            }
            Err(after) => {
                permit.record_at(Outcome::Timeout, end);
                Err(BreakerError::Timeout {
                    name: self.shared.name.clone(),
                    after,
                })
            }
        }
    }

    /// Runs `fut` through the breaker (every error a failure) and, when it gives no value
    /// (refused, timed out or failed), answers with `fallback(error)` instead.
    ///
    /// To classify errors as well, match on [`call_with`](Self::call_with)'s result.
    pub async fn call_or<F, T, E, Fb, FbFut>(&self, fut: F, fallback: Fb) -> T
    where
        F: IntoFuture<Output = Result<T, E>>,
        Fb: FnOnce(BreakerError<E>) -> FbFut,
        FbFut: Future<Output = T>,
    {
        match self.call(fut).await {
            Ok(value) => value,
            Err(e) => fallback(e).await,
        }
    }
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &&*self.shared.name)
            .field("state", &self.state())
            .finish()
    }
}
