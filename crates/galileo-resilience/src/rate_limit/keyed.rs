//! Many buckets under one limit, keyed, with bounded memory for idle keys.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};

use tokio::time::Instant;

use super::{Algorithm, Decision, Quota};

/// One state per key, all under the same [`Algorithm`]. Sans-IO: every call takes `now`.
///
/// A key whose state carries no information any more (a refilled bucket, an empty window) is
/// forgotten: the map is swept whenever it has doubled since the last sweep, which keeps memory
/// proportional to the keys active within one window and the cost amortised O(1) per call.
///
/// ```
/// use std::num::NonZeroU32;
/// use galileo_resilience::{KeyedGcra, Quota};
/// use tokio::time::Instant;
///
/// let mut per_ip = KeyedGcra::new(Quota::per_second(NonZeroU32::new(2).unwrap()));
/// let now = Instant::now();
/// assert!(per_ip.check(&"10.0.0.1", now, 2).allowed);
/// assert!(!per_ip.check(&"10.0.0.1", now, 1).allowed);
/// assert!(per_ip.check(&"10.0.0.2", now, 1).allowed); // other keys have their own bucket
/// ```
#[derive(Debug, Clone)]
pub struct KeyedLimiter<K, A: Algorithm, S = RandomState> {
    algorithm: A,
    states: HashMap<K, A::State, S>,
    sweep_at: usize,
}

/// A [`KeyedLimiter`] using GCRA.
pub type KeyedGcra<K> = KeyedLimiter<K, Quota>;

const MIN_SWEEP: usize = 64;

impl<K: Hash + Eq + Clone, A: Algorithm> KeyedLimiter<K, A> {
    /// An empty limiter: every key starts with nothing admitted.
    pub fn new(algorithm: A) -> Self {
        Self::with_hasher(algorithm)
    }
}

impl<K: Hash + Eq + Clone, A: Algorithm, S: BuildHasher + Default> KeyedLimiter<K, A, S> {
    /// An empty limiter hashing keys with `S`.
    pub fn with_hasher(algorithm: A) -> Self {
        Self {
            algorithm,
            states: HashMap::default(),
            sweep_at: MIN_SWEEP,
        }
    }

    /// The limit every key is held to.
    pub fn algorithm(&self) -> &A {
        &self.algorithm
    }

    /// Admits `cost` cells for `key` at `now` (consuming them), or says when they fit.
    pub fn check<Q>(&mut self, key: &Q, now: Instant, cost: u32) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let d = self.peek(key, now, cost);
        if d.allowed {
            self.commit(key, now, cost);
        }
        d
    }

    /// Whether `cost` cells fit for `key` at `now`, without consuming them.
    pub fn peek<Q>(&mut self, key: &Q, now: Instant, cost: u32) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.states.get_mut(key) {
            Some(state) => self.algorithm.peek(state, now, cost),
            None => self.algorithm.peek(&mut A::State::default(), now, cost),
        }
    }

    /// Consumes `cost` cells for `key` at `now`, after a `peek` that allowed them.
    pub fn commit<Q>(&mut self, key: &Q, now: Instant, cost: u32)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(state) = self.states.get_mut(key) {
            return self.algorithm.commit(state, now, cost);
        }
        self.maybe_sweep(now);
        let mut state = A::State::default();
        self.algorithm.commit(&mut state, now, cost);
        self.states.insert(key.to_owned(), state);
    }

    /// The algorithm and the state of `key` (created empty if absent), with one lookup: for
    /// callers that peek and commit themselves. An empty state left unused is forgotten by the
    /// next sweep.
    pub fn entry(&mut self, key: K, now: Instant) -> (&A, &mut A::State) {
        self.maybe_sweep(now);
        (&self.algorithm, self.states.entry(key).or_default())
    }

    /// Number of keys currently remembered.
    pub fn tracked_keys(&self) -> usize {
        self.states.len()
    }

    /// Forgets every key whose state is idle at `now`.
    pub fn sweep(&mut self, now: Instant) {
        let algorithm = &self.algorithm;
        self.states.retain(|_, s| !algorithm.is_idle(s, now));
        self.sweep_at = (self.states.len() * 2).max(MIN_SWEEP);
    }

    fn maybe_sweep(&mut self, now: Instant) {
        if self.states.len() >= self.sweep_at {
            self.sweep(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;
    use crate::rate_limit::SlidingWindow;

    #[test]
    fn idle_keys_are_forgotten_so_memory_stays_bounded() {
        let q = Quota::per_second(NonZeroU32::new(10).unwrap());
        let w =
            SlidingWindow::new(NonZeroU32::new(10).unwrap(), Duration::from_millis(100)).unwrap();
        let mut gcra = KeyedLimiter::new(q);
        let mut window = KeyedLimiter::new(w);
        let mut now = Instant::now();
        // 100k distinct keys, each used once, one every millisecond: a key's state is idle
        // within 100 ms, so at most ~100 keys can be live at once.
        for i in 0..100_000u32 {
            assert!(gcra.check(&i, now, 1).allowed);
            assert!(window.check(&i, now, 1).allowed);
            now += Duration::from_millis(1);
        }
        assert!(
            gcra.tracked_keys() <= 256,
            "{} keys tracked",
            gcra.tracked_keys()
        );
        assert!(
            window.tracked_keys() <= 256,
            "{} keys tracked",
            window.tracked_keys()
        );
    }

    #[test]
    fn forgetting_a_key_never_admits_more() {
        let q = Quota::per_second(NonZeroU32::new(1).unwrap());
        let mut k = KeyedLimiter::new(q);
        let now = Instant::now();
        assert!(k.check(&"a", now, 1).allowed);
        k.sweep(now); // "a" is not idle yet: it must survive the sweep
        let d = k.check(&"a", now, 1);
        assert_eq!(
            (d.allowed, d.retry_after),
            (false, Some(Duration::from_secs(1)))
        );
        assert_eq!(k.peek(&"b", now, 1).remaining, 0);
        assert_eq!(k.tracked_keys(), 1, "a peek creates nothing");
    }
}
