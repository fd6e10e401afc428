//! One batch, from lease to `DoubleQuote`: lease an IP for both legs, quote the buy leg, then
//! the sell leg for exactly the buy leg's out amount on the same IP.
//!
//! The life of a batch (also in [`BatchTracker`]): *leasing* → *buying* → *selling* → done.
//! The sell leg starts only from *buying*, once the buy quote succeeded, checked by batch id. Dropping the
//! future at any point drops the lease (released) and the batch's tracker entry; metrics are
//! recorded only for batches that finish, so a cancelled batch is never half recorded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use galileo_net::{BackendId, IpAllocator, IpLease, LeaseRequest, Target, TaskKind};
use tokio::time::Instant;
use tracing::Instrument;

use crate::metrics::LegCounters;
use crate::schedule::QuoteBatchPlan;
use crate::{Leg, QuoteError, QuoteRequest, QuoteSource, Quoted};

/// Both legs of a round trip, priced.
#[derive(Clone, Debug)]
pub struct DoubleQuote<B, S> {
    /// The batch it answers.
    pub plan: QuoteBatchPlan,
    /// `base → intermediate` for `plan.size`.
    pub buy: B,
    /// `intermediate → base` for exactly `buy`'s out amount.
    pub sell: S,
    /// The source IP of the buy leg.
    pub buy_ip: IpAddr,
    /// The source IP of the sell leg (the same IP).
    pub sell_ip: IpAddr,
    /// How long the buy quote took.
    pub buy_duration: Duration,
    /// How long the sell quote took.
    pub sell_duration: Duration,
    /// `sell.out_amount − plan.size`, in the base mint's raw units (negative: a loss).
    pub gross_profit: i128,
}

impl<B: Quoted, S: Quoted> DoubleQuote<B, S> {
    /// True when the round trip returns at least `min_profit` more than it puts in.
    pub fn is_profitable(&self, min_profit: u64) -> bool {
        self.gross_profit >= i128::from(min_profit) && self.gross_profit > 0
    }
}

/// A batch that yielded no [`DoubleQuote`].
#[derive(Debug, thiserror::Error)]
#[error("batch {} ({} {}): {} failed: {error}", plan.batch_id, plan.pair, plan.size, leg.map_or("lease", Leg::label))]
pub struct BatchFailure {
    /// The batch.
    pub plan: QuoteBatchPlan,
    /// The leg that failed (`None`: no IP could be leased).
    pub leg: Option<Leg>,
    /// Why.
    #[source]
    pub error: QuoteError,
}

impl BatchFailure {
    /// True when the allocator was closed: no batch can run any more.
    pub fn is_allocator_closed(&self) -> bool {
        matches!(&self.error, QuoteError::Lease { source, .. } if source.is_closed())
    }
}

/// What a finished batch gives: both quotes, or why not.
pub type BatchResult<B, S> = Result<DoubleQuote<B, S>, BatchFailure>;

/// Where each batch in flight stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchState {
    /// Waiting for an IP.
    Leasing,
    /// The buy quote is in flight.
    Buying,
    /// The buy quote succeeded; the sell leg (its lease, then its quote) is under way.
    Selling,
}

/// The batches in flight by id. Entries are removed when their batch's future ends or is
/// dropped.
#[derive(Debug, Default)]
pub struct BatchTracker {
    states: Mutex<HashMap<u64, BatchState>>,
}

impl BatchTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, BatchState>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state of batch `id`, if it is in flight.
    pub fn state(&self, id: u64) -> Option<BatchState> {
        self.lock().get(&id).copied()
    }

    /// Batches in flight.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no batch is in flight.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn begin(&self, id: u64) -> Entry<'_> {
        self.lock().insert(id, BatchState::Leasing);
        Entry { tracker: self, id }
    }
}

/// A batch's tracker entry; removed on drop.
struct Entry<'a> {
    tracker: &'a BatchTracker,
    id: u64,
}

impl Entry<'_> {
    /// Moves `from → to`; refuses any other move (the batch's state is not what this step
    /// needs, so the step must not run).
    fn advance(&self, from: BatchState, to: BatchState) -> Result<(), QuoteError> {
        let mut states = self.tracker.lock();
        match states.get_mut(&self.id) {
            Some(s) if *s == from => {
                *s = to;
                Ok(())
            }
            other => Err(QuoteError::Config(format!(
                "batch {} is {:?}, not {from:?}: step refused",
                self.id,
                other.copied()
            ))),
        }
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        self.tracker.lock().remove(&self.id);
    }
}

/// How to lease for a round trip: what the first lease costs and which budget it spends, and
/// whether the sell leg needs a second lease (on the same IP) for another paced backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LeasePlan {
    pub(crate) first: (u32, Option<BackendId>),
    pub(crate) second: Option<(u32, Option<BackendId>)>,
}

impl LeasePlan {
    pub(crate) fn of<B: QuoteSource, S: QuoteSource>(buy: &B, sell: &S) -> Self {
        let (bc, sc) = (buy.cost(), sell.cost());
        let (bb, sb) = (buy.backend(), sell.backend());
        if bb == sb {
            LeasePlan {
                first: (bc + sc, bb),
                second: None,
            }
        } else if bc == 0 {
            LeasePlan {
                first: (sc, sb),
                second: None,
            }
        } else if sc == 0 {
            LeasePlan {
                first: (bc, bb),
                second: None,
            }
        } else {
            LeasePlan {
                first: (bc, bb),
                second: Some((sc, sb)),
            }
        }
    }

    fn request(cost: u32, backend: Option<BackendId>) -> LeaseRequest {
        let r = LeaseRequest::new(TaskKind::Quote).cost(cost);
        match backend {
            Some(b) => r.backend(b),
            None => r,
        }
    }
}

/// What a round trip needs besides its plan.
pub(crate) struct RoundTrip<'a, B, S> {
    pub(crate) allocator: &'a IpAllocator,
    pub(crate) buy: &'a B,
    pub(crate) sell: &'a S,
    pub(crate) lease_plan: LeasePlan,
    pub(crate) tracker: &'a BatchTracker,
    pub(crate) label: &'a str,
    pub(crate) counters: &'a LegCounters,
}

impl<B: QuoteSource, S: QuoteSource> RoundTrip<'_, B, S> {
    /// Runs one batch. `parallelism` is for the span only.
    pub(crate) async fn run(
        &self,
        plan: QuoteBatchPlan,
        parallelism: usize,
    ) -> BatchResult<B::Quote, S::Quote> {
        let span = tracing::debug_span!(
            "quote_batch",
            batch_id = plan.batch_id,
            backend = self.label,
            quote_parallelism = parallelism,
            local_ip = tracing::field::Empty,
            ip_cooldown_ms = tracing::field::Empty,
        );
        self.legs(plan).instrument(span).await
    }

    async fn legs(&self, plan: QuoteBatchPlan) -> BatchResult<B::Quote, S::Quote> {
        let fail = |leg, error| BatchFailure { plan, leg, error };
        let entry = self.tracker.begin(plan.batch_id);
        let (cost, backend) = self.lease_plan.first;
        let lease = self
            .allocator
            .acquire_with(LeasePlan::request(cost, backend))
            .await
            .map_err(|source| {
                fail(
                    None,
                    QuoteError::Lease {
                        backend: self.label.to_owned(),
                        source: Box::new(source),
                    },
                )
            })?;
        let ip = lease.ip();
        tracing::Span::current().record("local_ip", tracing::field::display(ip));

        entry
            .advance(BatchState::Leasing, BatchState::Buying)
            .map_err(|e| fail(Some(Leg::Buy), e))?;
        let request =
            QuoteRequest::new(plan.pair.base, plan.pair.intermediate, plan.size, Leg::Buy);
        let (buy, buy_duration) = self
            .quote(self.buy, &lease, &request)
            .await
            .map_err(|e| fail(Some(Leg::Buy), e))?;
        if buy.out_amount() == 0 {
            return Err(fail(
                Some(Leg::Buy),
                QuoteError::ZeroOut {
                    backend: self.buy.name().to_owned(),
                },
            ));
        }
        // The sell leg: only after a successful buy, for exactly its out amount, same IP.
        entry
            .advance(BatchState::Buying, BatchState::Selling)
            .map_err(|e| fail(Some(Leg::Sell), e))?;
        let second;
        let sell_lease = match self.lease_plan.second {
            None => &lease,
            Some((cost, backend)) => {
                second = self
                    .allocator
                    .acquire_with(LeasePlan::request(cost, backend).target(Target::Specific(ip)))
                    .await
                    .map_err(|source| {
                        fail(
                            Some(Leg::Sell),
                            QuoteError::Lease {
                                backend: self.sell.name().to_owned(),
                                source: Box::new(source),
                            },
                        )
                    })?;
                &second
            }
        };
        let request = QuoteRequest::new(
            plan.pair.intermediate,
            plan.pair.base,
            buy.out_amount(),
            Leg::Sell,
        );
        let (sell, sell_duration) = self
            .quote(self.sell, sell_lease, &request)
            .await
            .map_err(|e| fail(Some(Leg::Sell), e))?;
        let gross_profit = i128::from(sell.out_amount()) - i128::from(plan.size);
        Ok(DoubleQuote {
            plan,
            buy,
            sell,
            buy_ip: ip,
            sell_ip: sell_lease.ip(),
            buy_duration,
            sell_duration,
            gross_profit,
        })
    }

    async fn quote<Q: QuoteSource>(
        &self,
        source: &Q,
        lease: &IpLease,
        request: &QuoteRequest,
    ) -> Result<(Q::Quote, Duration), QuoteError> {
        let started = Instant::now();
        let result = source.quote(lease, request).await;
        let took = started.elapsed();
        match &result {
            Ok(_) => self.counters.success(request.leg),
            Err(e) => {
                crate::metrics::request(source.name(), request.leg, e.label());
                if e.is_rate_limited() {
                    crate::metrics::rate_limited(source.name(), lease.ip());
                    let rest = e.retry_after().map_or(0, |d| d.as_millis() as u64);
                    tracing::Span::current().record("ip_cooldown_ms", rest);
                }
                tracing::debug!(leg = request.leg.label(), error = %e, "quote failed");
            }
        }
        result.map(|q| (q, took))
    }
}
