//! The quote cadence: which (pair, size) batches are ready, and when the next one will be.
//!
//! `process_delay` paces *batches*, not requests: a ready size is handed out now and becomes
//! ready again at `now + process_delay`. How many ready sizes are handed out at once is the
//! caller's parallelism hint, so concurrency unfolds inside one delay window instead of one
//! size per window. Sans-IO: every call takes `now`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use tokio::time::Instant;

use crate::plan::TradePair;

/// One round trip to quote: the buy leg `pair.base → pair.intermediate` for `size`, then the
/// sell leg back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteBatchPlan {
    /// Unique and increasing within a [`Schedule`].
    pub batch_id: u64,
    /// The route.
    pub pair: TradePair,
    /// The trade size, in the base mint's raw units.
    pub size: u64,
    /// How long this (pair, size) rests before it is ready again.
    pub process_delay: Duration,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    pair: TradePair,
    size: u64,
    delay: Duration,
}

/// Ready times of every (pair, size), earliest first.
///
/// ```
/// use std::time::Duration;
/// use galileo_quote::{Schedule, plan::TradePair};
/// use solana_pubkey::Pubkey;
/// use tokio::time::Instant;
///
/// let pair = TradePair::new(Pubkey::new_unique(), Pubkey::new_unique());
/// let now = Instant::now();
/// let delay = Duration::from_secs(1);
/// let mut schedule = Schedule::new(now);
/// schedule.add_pair(pair, &[100, 200, 300], delay);
///
/// // Parallelism 3: all three sizes in this window, not one per window.
/// let batches = schedule.drain_ready_batches(now, 3);
/// assert_eq!(batches.len(), 3);
/// assert!(schedule.drain_ready_batches(now, 3).is_empty());
/// assert_eq!(schedule.next_wake(), Some(now + delay)); // exact
/// ```
#[derive(Debug)]
pub struct Schedule {
    entries: Vec<Entry>,
    /// (ready at, tie-break sequence, entry index).
    ready: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    start: Instant,
    seq: u64,
    next_batch_id: u64,
}

impl Schedule {
    /// An empty schedule whose sizes become ready at `start`.
    pub fn new(start: Instant) -> Self {
        Self {
            entries: Vec::new(),
            ready: BinaryHeap::new(),
            start,
            seq: 0,
            next_batch_id: 1,
        }
    }

    /// Adds `pair` with its sizes, each ready at the start and then every `process_delay`.
    /// Sizes of different pairs interleave, so a small parallelism still visits every pair.
    pub fn add_pair(&mut self, pair: TradePair, sizes: &[u64], process_delay: Duration) {
        self.add_pairs(&[(pair, sizes, process_delay)]);
    }

    /// Adds several pairs, their sizes interleaved: the first size of each pair, then the
    /// second of each, and so on.
    pub fn add_pairs(&mut self, pairs: &[(TradePair, &[u64], Duration)]) {
        let longest = pairs.iter().map(|(_, s, _)| s.len()).max().unwrap_or(0);
        for i in 0..longest {
            for (pair, sizes, delay) in pairs {
                if let Some(&size) = sizes.get(i) {
                    self.entries.push(Entry {
                        pair: *pair,
                        size,
                        delay: *delay,
                    });
                    let idx = self.entries.len() - 1;
                    self.push(self.start, idx);
                }
            }
        }
    }

    fn push(&mut self, at: Instant, idx: usize) {
        self.ready.push(Reverse((at, self.seq, idx)));
        self.seq += 1;
    }

    /// Every (pair, size) in the schedule.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many sizes are ready at `now`.
    pub fn ready_count(&self, now: Instant) -> usize {
        self.ready
            .iter()
            .filter(|Reverse((at, ..))| *at <= now)
            .count()
    }

    /// Takes up to `parallelism_hint` ready sizes, earliest ready first (ties in the order
    /// they became ready), and marks each ready again at `now + process_delay`.
    pub fn drain_ready_batches(
        &mut self,
        now: Instant,
        parallelism_hint: usize,
    ) -> Vec<QuoteBatchPlan> {
        let mut out = Vec::with_capacity(parallelism_hint.min(self.entries.len()));
        while out.len() < parallelism_hint {
            match self.ready.peek() {
                Some(Reverse((at, ..))) if *at <= now => {}
                _ => break,
            }
            let Some(Reverse((_, _, idx))) = self.ready.pop() else {
                break;
            };
            let e = self.entries[idx];
            out.push(QuoteBatchPlan {
                batch_id: self.next_batch_id,
                pair: e.pair,
                size: e.size,
                process_delay: e.delay,
            });
            self.next_batch_id += 1;
            self.push(now + e.delay, idx);
        }
        out
    }

    /// When the earliest size is (or was) ready; `None` for an empty schedule. Exact: a
    /// caller that sleeps until then finds at least one ready size.
    pub fn next_wake(&self) -> Option<Instant> {
        self.ready.peek().map(|Reverse((at, ..))| *at)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use solana_pubkey::Pubkey;

    use super::*;

    fn pair(n: u8) -> TradePair {
        TradePair::new(
            Pubkey::new_from_array([n; 32]),
            Pubkey::new_from_array([n + 100; 32]),
        )
    }

    #[test]
    fn serial_needs_one_window_per_size_parallel_needs_one() {
        let t0 = Instant::now();
        let d = Duration::from_secs(1);
        let mut serial = Schedule::new(t0);
        serial.add_pair(pair(1), &[1, 2, 3], d);
        let mut windows = 0;
        let mut now = t0;
        let mut quoted = 0;
        while quoted < 3 {
            let b = serial.drain_ready_batches(now, 1);
            quoted += b.len();
            windows += 1;
            // The next size is ready at once (it has never been quoted).
            now = serial.next_wake().unwrap().max(now);
        }
        assert_eq!(windows, 3);

        let mut par = Schedule::new(t0);
        par.add_pair(pair(1), &[1, 2, 3], d);
        let b = par.drain_ready_batches(t0, 3);
        let sizes: Vec<u64> = b.iter().map(|b| b.size).collect();
        assert_eq!(sizes, [1, 2, 3]);
        assert_eq!(par.next_wake(), Some(t0 + d));
        assert_eq!(par.ready_count(t0 + d - Duration::from_nanos(1)), 0);
        assert_eq!(par.ready_count(t0 + d), 3);
    }

    #[test]
    fn pairs_interleave_and_batch_ids_increase() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0);
        s.add_pairs(&[
            (pair(1), &[10, 20], Duration::from_secs(1)),
            (pair(2), &[30], Duration::from_secs(2)),
        ]);
        let b = s.drain_ready_batches(t0, 2);
        assert_eq!((b[0].pair, b[0].size), (pair(1), 10));
        assert_eq!((b[1].pair, b[1].size), (pair(2), 30));
        assert!(b[0].batch_id < b[1].batch_id);
        let c = s.drain_ready_batches(t0, 5);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].size, 20);
        assert_eq!(s.next_wake(), Some(t0 + Duration::from_secs(1)));
    }

    proptest! {
        /// Each size is handed out at most once per its delay window, and `next_wake` is
        /// exact: nothing is ready before it, something is ready at it.
        #[test]
        fn pacing_holds_and_next_wake_is_exact(
            sizes in proptest::collection::vec(1u64..1000, 1..12),
            delay_ms in 1u64..5000,
            hints in proptest::collection::vec(0usize..6, 1..60),
            steps in proptest::collection::vec(0u64..3000, 1..60),
        ) {
            let t0 = Instant::now();
            let delay = Duration::from_millis(delay_ms);
            let mut s = Schedule::new(t0);
            s.add_pair(pair(1), &sizes, delay);
            let mut last: std::collections::HashMap<usize, Instant> = Default::default();
            let mut now = t0;
            for (hint, step) in hints.iter().zip(steps.iter().cycle()) {
                let wake = s.next_wake().unwrap();
                prop_assert_eq!(s.ready_count(now) > 0, wake <= now);
                for b in s.drain_ready_batches(now, *hint) {
                    let idx = sizes.iter().position(|v| *v == b.size).unwrap();
                    if let Some(prev) = last.insert(idx, now) {
                        prop_assert!(now - prev >= delay || sizes.iter().filter(|v| **v == b.size).count() > 1);
                    }
                }
                now += Duration::from_millis(*step);
            }
        }
    }
}
