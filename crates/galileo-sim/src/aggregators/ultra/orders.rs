//! Orders remembered between `/order` and `/execute`: bounded, each for a fixed time.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use super::wire::ExecuteResponse;
use crate::aggregators::ledger::SwapLeg;

/// What `/execute` needs of an order.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    /// The unsigned transaction's message bytes (`None`: the order had no transaction).
    pub(crate) message: Option<Vec<u8>>,
    pub(crate) in_amount: u64,
    pub(crate) out_amount: u64,
    pub(crate) legs: Vec<SwapLeg>,
    /// The answer once the transaction landed: a repeated `/execute` gets it again.
    pub(crate) executed: Option<ExecuteResponse>,
}

/// Orders by `requestId`, forgotten `ttl` after they were made or when more than `cap` are
/// held (the oldest first).
#[derive(Debug)]
pub(crate) struct OrderBook {
    ttl: Duration,
    cap: usize,
    orders: HashMap<String, (Instant, Order)>,
    /// Ids by creation, hence by expiry (one `ttl` for all).
    queue: VecDeque<String>,
}

impl OrderBook {
    pub(crate) fn new(ttl: Duration, cap: usize) -> Self {
        Self {
            ttl,
            cap: cap.max(1),
            orders: HashMap::new(),
            queue: VecDeque::new(),
        }
    }

    fn purge(&mut self, now: Instant) {
        while let Some(id) = self.queue.front() {
            match self.orders.get(id) {
                Some((expires, _)) if *expires > now => break,
                _ => {
                    let id = self.queue.pop_front().expect("a front");
                    self.orders.remove(&id);
                }
            }
        }
    }

    /// Remembers `order` as `id` from `now`. Returns whether the id was new.
    pub(crate) fn insert(&mut self, id: String, order: Order, now: Instant) -> bool {
        self.purge(now);
        if self.orders.contains_key(&id) {
            return false;
        }
        while self.orders.len() >= self.cap {
            match self.queue.pop_front() {
                Some(old) => {
                    self.orders.remove(&old);
                }
                None => break,
            }
        }
        self.orders.insert(id.clone(), (now + self.ttl, order));
        self.queue.push_back(id);
        true
    }

    /// The order `id` if it has not expired at `now`.
    pub(crate) fn get_mut(&mut self, id: &str, now: Instant) -> Option<&mut Order> {
        self.purge(now);
        self.orders.get_mut(id).map(|(_, o)| o)
    }

    /// How many orders are held.
    pub(crate) fn len(&self) -> usize {
        self.orders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order() -> Order {
        Order {
            message: None,
            in_amount: 1,
            out_amount: 1,
            legs: Vec::new(),
            executed: None,
        }
    }

    #[test]
    fn orders_expire_after_their_ttl() {
        let t0 = Instant::now();
        let mut book = OrderBook::new(Duration::from_secs(10), 10);
        assert!(book.insert("a".into(), order(), t0));
        assert!(!book.insert("a".into(), order(), t0));
        assert!(
            book.get_mut("a", t0 + Duration::from_millis(9_999))
                .is_some()
        );
        assert!(book.get_mut("a", t0 + Duration::from_secs(10)).is_none());
        assert_eq!(book.len(), 0);
    }

    proptest! {
        /// Whatever the sequence: never more than `cap` orders, every order findable until
        /// its ttl unless evicted by newer ones, never after.
        #[test]
        fn bounded_and_timely(steps in proptest::collection::vec((0u64..5_000, any::<bool>()), 1..200), cap in 1usize..20) {
            let ttl = Duration::from_millis(3_000);
            let t0 = Instant::now();
            let mut book = OrderBook::new(ttl, cap);
            let mut now = t0;
            let mut made: Vec<(String, Instant)> = Vec::new();
            for (i, (dt, insert)) in steps.into_iter().enumerate() {
                now += Duration::from_millis(dt / 10);
                if insert {
                    let id = format!("o{i}");
                    book.insert(id.clone(), order(), now);
                    made.push((id, now));
                }
                prop_assert!(book.len() <= cap);
                for (k, (id, at)) in made.iter().enumerate() {
                    let newer = made.len() - 1 - k;
                    let found = book.get_mut(id, now).is_some();
                    if now >= *at + ttl {
                        prop_assert!(!found, "{} outlived its ttl", id);
                    } else if newer < cap {
                        prop_assert!(found, "{} lost early", id);
                    }
                }
            }
        }
    }
}
