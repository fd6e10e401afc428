//! Many GCRA buckets under one quota, keyed, with bounded memory for idle keys.

use std::collections::HashMap;
use std::hash::Hash;

use tokio::time::Instant;

use super::{Admitted, Denied, Gcra, Quota};

/// One [`Gcra`] per key, all under the same [`Quota`]. Sans-IO: every call takes `now`.
///
/// A key whose bucket has refilled carries no state worth keeping, so the map forgets it: the
/// map is swept whenever it has doubled since the last sweep, which keeps memory proportional to
/// the keys active within one burst window and the cost amortised O(1) per call.
///
/// ```
/// use std::num::NonZeroU32;
/// use galileo_resilience::{KeyedGcra, Quota};
/// use tokio::time::Instant;
///
/// let mut per_ip = KeyedGcra::new(Quota::per_second(NonZeroU32::new(2).unwrap()));
/// let now = Instant::now();
/// assert!(per_ip.check(&"10.0.0.1", now, 2).is_ok());
/// assert!(per_ip.check(&"10.0.0.1", now, 1).is_err());
/// assert!(per_ip.check(&"10.0.0.2", now, 1).is_ok()); // other keys have their own bucket
/// ```
#[derive(Debug, Clone)]
pub struct KeyedGcra<K> {
    quota: Quota,
    cells: HashMap<K, Gcra>,
    sweep_at: usize,
}

const MIN_SWEEP: usize = 64;

impl<K: Hash + Eq + Clone> KeyedGcra<K> {
    /// An empty limiter: every key starts with a full bucket.
    pub fn new(quota: Quota) -> Self {
        Self {
            quota,
            cells: HashMap::new(),
            sweep_at: MIN_SWEEP,
        }
    }

    /// The quota every key is held to.
    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    /// Admits `cost` cells for `key` at `now`, or says when they fit.
    pub fn check(&mut self, key: &K, now: Instant, cost: u32) -> Result<Admitted, Denied> {
        if let Some(cell) = self.cells.get_mut(key) {
            return cell.check(&self.quota, now, cost);
        }
        let mut cell = Gcra::new();
        let decision = cell.check(&self.quota, now, cost);
        if decision.is_ok() {
            self.maybe_sweep(now);
            self.cells.insert(key.clone(), cell);
        }
        decision
    }

    /// When `cost` cells fit for `key`, without consuming anything.
    pub fn ready_at(&self, key: &K, now: Instant, cost: u32) -> Result<Instant, Denied> {
        self.cells
            .get(key)
            .copied()
            .unwrap_or_default()
            .ready_at(&self.quota, now, cost)
    }

    /// Cells `key` could spend at `now`.
    pub fn available(&self, key: &K, now: Instant) -> u32 {
        self.cells
            .get(key)
            .map_or(self.quota.burst(), |c| c.available(&self.quota, now))
    }

    /// Number of keys currently remembered (those whose bucket is not known to be full).
    pub fn tracked_keys(&self) -> usize {
        self.cells.len()
    }

    /// Forgets every key whose bucket has refilled by `now`.
    pub fn sweep(&mut self, now: Instant) {
        self.cells.retain(|_, c| !c.is_full(now));
        self.sweep_at = (self.cells.len() * 2).max(MIN_SWEEP);
    }

    fn maybe_sweep(&mut self, now: Instant) {
        if self.cells.len() >= self.sweep_at {
            self.sweep(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;

    #[test]
    fn idle_keys_are_forgotten_so_memory_stays_bounded() {
        let q = Quota::per_second(NonZeroU32::new(10).unwrap());
        let mut k = KeyedGcra::new(q);
        let mut now = Instant::now();
        // 100k distinct keys, each used once, one every millisecond: a key's bucket refills
        // within 100 ms, so at most ~100 keys can be live at once.
        for i in 0..100_000u32 {
            k.check(&i, now, 1).unwrap();
            now += Duration::from_millis(1);
        }
        assert!(k.tracked_keys() <= 256, "{} keys tracked", k.tracked_keys());
    }

    #[test]
    fn forgetting_a_key_never_admits_more() {
        let q = Quota::per_second(NonZeroU32::new(1).unwrap());
        let mut k = KeyedGcra::new(q);
        let now = Instant::now();
        k.check(&"a", now, 1).unwrap();
        k.sweep(now); // "a" is not full yet: it must survive the sweep
        assert!(k.check(&"a", now, 1).is_err());
        assert_eq!(
            k.ready_at(&"a", now, 1).unwrap(),
            now + Duration::from_secs(1)
        );
        assert_eq!(k.available(&"b", now), 1);
    }
}
