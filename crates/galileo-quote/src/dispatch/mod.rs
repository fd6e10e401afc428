//! `QuoteDispatcher`: round trips from a [`Schedule`], concurrently, bounded by a semaphore
//! whose capacity is the effective parallelism.
//!
//! ```text
//! Schedule ──drain_ready_batches(now, free permits)──► FuturesUnordered<round trip + permit>
//!     ▲                                                        │ lease(cost 2) → buy → sell
//!     └── sleep until next_wake / a permit frees ◄─────────────┘ result → on_result
//! ```
//!
//! `effective_parallelism = min(sizes, ip_capacity, backend_limit, configured)`, re-read from
//! the allocator as it changes (a 429 burst shrinks an IP's in-flight limit, a rest takes it
//! out). After each round trip its permit rests for the batch interval, widened while IPs
//! cool down. Everything in flight is owned by the `run` future: dropping it (or its task
//! being aborted) drops every batch, which releases their leases and tracker entries.

mod config;
mod interval;
mod learn;
mod permits;
mod round_trip;

use std::future::Future;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::pin;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use galileo_net::{BackendId, Capacity, IpAllocator};
use galileo_resilience::Quota;
use tokio::time::{Instant, sleep, sleep_until};

pub use config::{DispatchConfig, QuoteParallelism};
pub use interval::BatchInterval;
pub use learn::{LearnConfig, RateLearner};
pub use round_trip::{BatchFailure, BatchResult, BatchState, BatchTracker, DoubleQuote};

use crate::metrics::{LegCounters, QUOTE_BATCH_DURATION, QUOTE_BATCH_INTERVAL, QUOTE_PARALLELISM};
use crate::schedule::{QuoteBatchPlan, Schedule};
use crate::{QuoteError, QuoteSource};
use permits::Permits;
use round_trip::{LeasePlan, RoundTrip};

/// How often the run loop re-reads the allocator's capacity at most.
const OBSERVE_EVERY: Duration = Duration::from_millis(10);
/// How often it looks again while sizes are ready but every permit is out.
const RECHECK_EVERY: Duration = Duration::from_millis(100);

/// Runs round trips on a buy source and a sell source (the same aggregator twice for a
/// single-aggregator strategy, or two for a multi-leg pair).
///
/// ```no_run
/// # async fn demo<S: galileo_quote::QuoteSource + Clone>(
/// #     allocator: galileo_net::IpAllocator, jupiter: S, mut schedule: galileo_quote::Schedule,
/// # ) -> Result<(), galileo_quote::QuoteError> {
/// use galileo_quote::{DispatchConfig, QuoteDispatcher};
///
/// let mut dispatcher = QuoteDispatcher::new(allocator, jupiter.clone(), jupiter, DispatchConfig::default())?;
/// dispatcher
///     .run(&mut schedule, |result| match result {
///         Ok(trip) if trip.is_profitable(100) => println!("{} pays {}", trip.plan.pair, trip.gross_profit),
///         Ok(_) => {}
///         Err(failure) => tracing::debug!(%failure),
///     })
///     .await
/// # }
/// ```
#[derive(Debug)]
pub struct QuoteDispatcher<B, S> {
    allocator: IpAllocator,
    buy: B,
    sell: S,
    config: DispatchConfig,
    label: String,
    lease_plan: LeasePlan,
    tracker: BatchTracker,
    permits: Permits,
    interval: BatchInterval,
    observed: Option<Instant>,
    learner: Option<(RateLearner, BackendId)>,
    counters: LegCounters,
    batch_duration: metrics::Histogram,
    parallelism_gauge: metrics::Gauge,
    interval_gauge: metrics::Gauge,
}

impl<B: QuoteSource, S: QuoteSource> QuoteDispatcher<B, S> {
    /// A dispatcher quoting the buy leg on `buy` and the sell leg on `sell`, leasing IPs from
    /// `allocator`. Fails on an invalid configuration.
    pub fn new(
        allocator: IpAllocator,
        buy: B,
        sell: S,
        config: DispatchConfig,
    ) -> Result<Self, QuoteError> {
        config.validate()?;
        let label = if buy.name() == sell.name() {
            buy.name().to_owned()
        } else {
            format!("{}+{}", buy.name(), sell.name())
        };
        let labels = [
            ("strategy", config.strategy.clone()),
            ("backend", label.clone()),
        ];
        let interval = BatchInterval::new(
            config.interval(),
            Duration::from_millis(config.batch_interval_step_ms),
            Duration::from_millis(config.max_batch_interval_ms),
            Duration::from_millis(config.batch_interval_period_ms),
        );
        let lease_plan = LeasePlan::of(&buy, &sell);
        let learner = match (config.learn_rate, lease_plan.first) {
            (None, _) => None,
            (Some(cfg), (cost, Some(backend))) => {
                let learner = RateLearner::new(cfg, Instant::now());
                set_rate(&allocator, backend, learner.rate(), cost)?;
                Some((learner, backend))
            }
            (Some(_), (_, None)) => {
                return Err(QuoteError::Config(format!(
                    "learn_rate needs {label} registered as an allocator backend: \
                     register it (AllocatorBuilder::backend) and pass the id to the client's with_backend"
                )));
            }
        };
        Ok(Self {
            counters: LegCounters::new(buy.name(), sell.name()),
            lease_plan,
            learner,
            allocator,
            buy,
            sell,
            label,
            tracker: BatchTracker::default(),
            permits: Permits::new(0),
            interval,
            observed: None,
            batch_duration: metrics::histogram!(QUOTE_BATCH_DURATION, &labels),
            parallelism_gauge: metrics::gauge!(QUOTE_PARALLELISM, &labels),
            interval_gauge: metrics::gauge!(QUOTE_BATCH_INTERVAL, &labels),
            config,
        })
    }

    /// The `backend` label: the source's name, or `buy+sell` for two sources.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The configuration.
    pub fn config(&self) -> &DispatchConfig {
        &self.config
    }

    /// The batches in flight and their states.
    pub fn tracker(&self) -> &BatchTracker {
        &self.tracker
    }

    /// The batch interval in force (widened while IPs cool down).
    pub fn batch_interval(&self) -> Duration {
        self.interval.current()
    }

    /// The per-IP rate learned so far (requests/s), when `learn_rate` is configured.
    pub fn learned_rate(&self) -> Option<f64> {
        self.learner.as_ref().map(|(l, _)| l.rate())
    }

    /// The capacity the run loop last set: its effective parallelism.
    pub fn parallelism(&self) -> usize {
        self.permits.total()
    }

    /// `min(sizes, ip_capacity, backend_limit, configured)`, at least 1, with the allocator's
    /// capacity read now. `ip_capacity` is the sum of the in-flight limits of the IPs that
    /// are not resting or quarantined (unbounded when they have no limit).
    pub fn effective_parallelism(&self, sizes: usize) -> usize {
        effective_parallelism(
            sizes,
            &self.allocator.capacity(),
            backend_limit(&self.buy, &self.sell),
            self.config.parallelism(),
        )
    }

    /// Runs one batch now, outside the run loop (its permit and interval do not apply).
    pub async fn run_batch(&self, plan: QuoteBatchPlan) -> BatchResult<B::Quote, S::Quote> {
        let started = Instant::now();
        let result = self.round_trip().run(plan, self.permits.total()).await;
        self.batch_duration.record(started.elapsed().as_secs_f64());
        result
    }

    fn round_trip(&self) -> RoundTrip<'_, B, S> {
        RoundTrip {
            allocator: &self.allocator,
            buy: &self.buy,
            sell: &self.sell,
            lease_plan: self.lease_plan,
            tracker: &self.tracker,
            label: &self.label,
            counters: &self.counters,
        }
    }

    /// Quotes every ready batch of `schedule`, forever, handing each result to `on_result`.
    /// Returns only if the allocator is closed. Cancel it by dropping the future: nothing in
    /// flight leaks.
    pub async fn run<F>(&mut self, schedule: &mut Schedule, on_result: F) -> Result<(), QuoteError>
    where
        F: FnMut(BatchResult<B::Quote, S::Quote>),
    {
        self.run_until(schedule, on_result, std::future::pending())
            .await
    }

    /// [`run`](Self::run) until `shutdown` completes; then no new batch starts, the batches in
    /// flight finish and are handed over, and it returns `Ok(())`.
    pub async fn run_until<F, D>(
        &mut self,
        schedule: &mut Schedule,
        mut on_result: F,
        shutdown: D,
    ) -> Result<(), QuoteError>
    where
        F: FnMut(BatchResult<B::Quote, S::Quote>),
        D: Future<Output = ()>,
    {
        let Self {
            allocator,
            buy,
            sell,
            config,
            label,
            lease_plan,
            tracker,
            permits,
            interval,
            observed,
            learner,
            counters,
            batch_duration,
            parallelism_gauge,
            interval_gauge,
        } = self;
        let trip = RoundTrip {
            allocator,
            buy,
            sell,
            lease_plan: *lease_plan,
            tracker,
            label,
            counters,
        };
        let limit = backend_limit(buy, sell);
        let mut shutdown = pin!(shutdown);
        let mut stopping = false;
        let mut batches = FuturesUnordered::new();
        let mut resting = FuturesUnordered::new();
        loop {
            let now = Instant::now();
            if !stopping && observed.is_none_or(|t| now - t >= OBSERVE_EVERY) {
                *observed = Some(now);
                let capacity = allocator.capacity();
                let target =
                    effective_parallelism(schedule.len(), &capacity, limit, config.parallelism());
                if target != permits.total() {
                    tracing::debug!(backend = %label, parallelism = target, "effective parallelism changed");
                }
                permits.resize(target);
                parallelism_gauge.set(target as f64);
                if let Some((learner, backend)) = learner.as_mut()
                    && let Some(rate) = learner.tick(now)
                {
                    tracing::debug!(backend = %label, rate, "learned per-IP rate");
                    set_rate(allocator, *backend, rate, lease_plan.first.0)?;
                }
                interval_gauge.set(interval.observe(capacity.cooling, now).as_secs_f64());
            }
            let mut waiting = false;
            if !stopping {
                let free = permits.available();
                for plan in schedule.drain_ready_batches(now, free) {
                    let Some(permit) = permits.try_take() else {
                        break;
                    };
                    let parallelism = permits.total();
                    let trip = &trip;
                    batches.push(async move {
                        let started = Instant::now();
                        let result = trip.run(plan, parallelism).await;
                        (result, started.elapsed(), permit)
                    });
                }
                // Drained earliest first: anything still ready is at the top.
                waiting = schedule.next_wake().is_some_and(|at| at <= now);
            } else if batches.is_empty() {
                return Ok(());
            }
            let wake = schedule.next_wake().filter(|_| !stopping && !waiting);
            tokio::select! {
                biased;
                () = &mut shutdown, if !stopping => stopping = true,
                Some((result, took, permit)) = batches.next() => {
                    batch_duration.record(took.as_secs_f64());
                    let pause = interval.current();
                    if !pause.is_zero() {
                        resting.push(async move {
                            sleep(pause).await;
                            drop(permit);
                        });
                    }
                    if let Some((learner, _)) = learner.as_mut() {
                        learn_from(learner, &result);
                    }
                    match result {
                        Err(failure) if failure.is_allocator_closed() => return Err(failure.error),
                        result => on_result(result),
                    }
                }
                Some(()) = resting.next() => {}
                () = sleep_until(wake.unwrap_or(now)), if wake.is_some() => {}
                () = sleep(RECHECK_EVERY), if waiting => {}
            }
        }
    }
}

/// Paces `backend` to `rate` requests/s per IP, bursting one lease of `cost`.
fn set_rate(
    allocator: &IpAllocator,
    backend: BackendId,
    rate: f64,
    cost: u32,
) -> Result<(), QuoteError> {
    let cost = NonZeroU32::new(cost.max(1)).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::new(
        NonZeroU32::MIN,
        Duration::from_secs_f64(1.0 / rate.max(0.001)),
    )
    .map(|q| q.with_burst(cost))
    .map_err(|e| QuoteError::Config(format!("learned rate {rate}/s: {e}")))?;
    allocator
        .set_backend_rate(backend, Some(quota))
        .map_err(|e| QuoteError::Config(format!("learned rate: {e}")))
}

/// What a finished batch says about the provider's limit: legs answered, legs refused (429).
fn learn_from<B, S>(learner: &mut RateLearner, result: &BatchResult<B, S>) {
    match result {
        Ok(_) => {
            learner.success();
            learner.success();
        }
        Err(f) => {
            if f.leg == Some(crate::Leg::Sell) {
                learner.success();
            }
            if f.error.is_rate_limited() {
                learner.rate_limited();
            } else if f.error.status().is_some() {
                learner.success();
            }
        }
    }
}

fn backend_limit<B: QuoteSource, S: QuoteSource>(buy: &B, sell: &S) -> Option<NonZeroUsize> {
    match (buy.backend_limit(), sell.backend_limit()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `min(sizes, ip_capacity, backend_limit, configured)`, at least 1.
pub(crate) fn effective_parallelism(
    sizes: usize,
    capacity: &Capacity,
    backend_limit: Option<NonZeroUsize>,
    configured: QuoteParallelism,
) -> usize {
    let ip = capacity
        .inflight_limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let backend = backend_limit.map_or(usize::MAX, NonZeroUsize::get);
    let configured = configured.cap().unwrap_or(usize::MAX);
    sizes.min(ip).min(backend).min(configured).max(1)
}

#[cfg(test)]
mod tests;
