//! The stream table: the latest quote of every planned stream, each in a `watch` channel,
//! and the freshness rule the [`QuoteSource`](galileo_quote::QuoteSource) applies.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::plan::{StreamKey, Subscription};
use crate::wire::{SwapQuotes, SwapRoute};

/// The latest update of one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamQuote {
    /// The stream.
    pub key: StreamKey,
    /// The update's `seq` on its stream.
    pub seq: u64,
    /// When it arrived.
    pub received_at: Instant,
    /// The provider with the largest `outAmount`, if the update has any route.
    pub best: Option<String>,
    /// The update.
    pub quotes: Arc<SwapQuotes>,
}

impl StreamQuote {
    /// Wraps an update received at `now`, picking the best provider by `outAmount`.
    pub fn new(key: StreamKey, seq: u64, quotes: SwapQuotes, now: Instant) -> Self {
        let best = quotes.best().map(|(p, _)| p.to_owned());
        StreamQuote {
            key,
            seq,
            received_at: now,
            best,
            quotes: Arc::new(quotes),
        }
    }

    /// The best route.
    pub fn best_route(&self) -> Option<(&str, &SwapRoute)> {
        let p = self.best.as_deref()?;
        self.quotes.quotes.get(p).map(|r| (p, r))
    }

    /// How old it is at `now`.
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.received_at)
    }
}

/// Why there is no fresh quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// The (pair, amount) is not planned on any IP.
    NotPlanned,
    /// Planned, but no stream has had an update yet.
    NoUpdate,
    /// The freshest update is this old.
    TooOld(Duration),
}

type Slot = watch::Sender<Option<Arc<StreamQuote>>>;

#[derive(Debug, Default)]
struct Inner {
    streams: HashMap<StreamKey, Slot>,
    /// The IPs each planned (pair, amount) is held on.
    planned: HashMap<Subscription, Vec<IpAddr>>,
    /// The plan, in the planner's order.
    plan: Vec<StreamKey>,
}

/// Latest quotes by stream. Cheap to read from many tasks.
#[derive(Debug, Default)]
pub(crate) struct StreamTable {
    inner: RwLock<Inner>,
}

impl StreamTable {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Installs a plan: streams no longer planned are cleared (their watchers see `None`).
    pub(crate) fn set_plan(&self, plan: &[StreamKey]) {
        let mut t = self.write();
        let mut planned: HashMap<Subscription, Vec<IpAddr>> = HashMap::new();
        for k in plan {
            planned.entry(k.subscription()).or_default().push(k.ip);
            t.streams
                .entry(*k)
                .or_insert_with(|| watch::Sender::new(None));
        }
        for (k, slot) in &t.streams {
            if !plan.contains(k) {
                slot.send_replace(None);
            }
        }
        t.planned = planned;
        t.plan = plan.to_vec();
    }

    /// The plan in force.
    pub(crate) fn plan(&self) -> Vec<StreamKey> {
        self.read().plan.clone()
    }

    /// The planned IPs.
    pub(crate) fn planned_ips(&self) -> usize {
        let t = self.read();
        let mut ips: Vec<IpAddr> = t.planned.values().flatten().copied().collect();
        ips.sort_unstable();
        ips.dedup();
        ips.len()
    }

    /// Publishes a stream's update (ignored for a stream no longer planned).
    pub(crate) fn publish(&self, quote: StreamQuote) {
        let t = self.read();
        if let Some(slot) = t.streams.get(&quote.key)
            && t.planned
                .get(&quote.key.subscription())
                .is_some_and(|ips| ips.contains(&quote.key.ip))
        {
            slot.send_replace(Some(Arc::new(quote)));
        }
    }

    /// The latest update of `key`.
    pub(crate) fn latest(&self, key: &StreamKey) -> Option<Arc<StreamQuote>> {
        self.read()
            .streams
            .get(key)
            .and_then(|s| s.borrow().clone())
    }

    /// A receiver of `key`'s updates (`None` until the first, and after it is unplanned).
    pub(crate) fn watch(&self, key: &StreamKey) -> watch::Receiver<Option<Arc<StreamQuote>>> {
        if let Some(s) = self.read().streams.get(key) {
            return s.subscribe();
        }
        self.write()
            .streams
            .entry(*key)
            .or_insert_with(|| watch::Sender::new(None))
            .subscribe()
    }

    /// The freshest update of `sub` over the IPs it is planned on, if at most `max_age` old.
    pub(crate) fn freshest(
        &self,
        sub: &Subscription,
        now: Instant,
        max_age: Duration,
    ) -> Result<Arc<StreamQuote>, Stale> {
        let t = self.read();
        let ips = t.planned.get(sub).ok_or(Stale::NotPlanned)?;
        let best = ips
            .iter()
            .filter_map(|ip| t.streams.get(&sub.on(*ip)))
            .filter_map(|s| s.borrow().clone())
            .max_by_key(|q| q.received_at)
            .ok_or(Stale::NoUpdate)?;
        let age = best.age(now);
        if age > max_age {
            return Err(Stale::TooOld(age));
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use solana_pubkey::Pubkey;

    use super::*;
    use crate::wire::SwapMode;

    fn route(out: u64) -> SwapRoute {
        SwapRoute {
            in_amount: 10,
            out_amount: out,
            slippage_bps: 0,
            platform_fee: None,
            steps: vec![],
            instructions: vec![],
            address_lookup_tables: vec![],
            context_slot: Some(7),
            time_taken_ns: None,
            expires_at_ms: None,
            expires_after_slot: None,
            compute_units: None,
            compute_units_safe: None,
            transaction: None,
            reference_id: None,
        }
    }

    fn quotes(sub: &Subscription, outs: &[(&str, u64)]) -> SwapQuotes {
        SwapQuotes {
            id: "swap:1:0".into(),
            input_mint: sub.input_mint,
            output_mint: sub.output_mint,
            swap_mode: SwapMode::ExactIn,
            amount: sub.amount,
            quotes: outs
                .iter()
                .map(|(p, o)| ((*p).to_owned(), route(*o)))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_freshest_planned_update_within_the_age_wins() {
        let sub = Subscription::new(Pubkey::new_unique(), Pubkey::new_unique(), 10);
        let (a, b) = (IpAddr::from([127, 0, 0, 2]), IpAddr::from([127, 0, 0, 3]));
        let t = StreamTable::default();
        let max = Duration::from_secs(2);
        let t0 = Instant::now();
        assert_eq!(t.freshest(&sub, t0, max), Err(Stale::NotPlanned));
        t.set_plan(&[sub.on(a), sub.on(b)]);
        assert_eq!(t.freshest(&sub, t0, max), Err(Stale::NoUpdate));
        let mut rx = t.watch(&sub.on(b));
        t.publish(StreamQuote::new(
            sub.on(a),
            0,
            quotes(&sub, &[("Titan", 5), ("Metis", 9)]),
            t0,
        ));
        let q = t.freshest(&sub, t0, max).unwrap();
        assert_eq!((q.key.ip, q.best.as_deref()), (a, Some("Metis")));
        let t1 = t0 + Duration::from_secs(1);
        t.publish(StreamQuote::new(
            sub.on(b),
            0,
            quotes(&sub, &[("Titan", 6)]),
            t1,
        ));
        assert!(rx.has_changed().unwrap());
        assert_eq!(rx.borrow_and_update().as_ref().unwrap().seq, 0);
        assert_eq!(
            t.freshest(&sub, t1, max).unwrap().key.ip,
            b,
            "the newer one"
        );
        let late = t1 + Duration::from_millis(2_001);
        assert_eq!(
            t.freshest(&sub, late, max),
            Err(Stale::TooOld(Duration::from_millis(2_001)))
        );
        // Unplanning b clears it; a's older quote is all that is left.
        t.set_plan(&[sub.on(a)]);
        assert!(rx.borrow().is_none());
        assert_eq!(t.freshest(&sub, t1, max).unwrap().key.ip, a);
        assert_eq!(t.planned_ips(), 1);
        // Updates of unplanned streams are dropped.
        t.publish(StreamQuote::new(
            sub.on(b),
            1,
            quotes(&sub, &[("Titan", 6)]),
            t1,
        ));
        assert!(t.latest(&sub.on(b)).is_none());
    }
}
