//! A backend's per-IP rate budget: one GCRA cell per slot, and an indexed min-heap of the
//! eligible slots by theoretical arrival time, so the slot with the most budget is found in O(1)
//! and kept in place in O(log n).

use galileo_resilience::{Denied, Gcra, Quota};
use tokio::time::Instant;

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub(crate) struct Budget {
    quota: Quota,
    cells: Vec<Gcra>,
    heap: Vec<u32>,
    pos: Vec<u32>,
}

impl Budget {
    pub(crate) fn new(quota: Quota, slots: usize) -> Self {
        Self {
            quota,
            cells: vec![Gcra::new(); slots],
            heap: Vec::with_capacity(slots),
            pos: vec![NIL; slots],
        }
    }

    pub(crate) fn set_quota(&mut self, quota: Quota) {
        self.quota = quota;
    }

    pub(crate) fn contains(&self, slot: u32) -> bool {
        self.pos[slot as usize] != NIL
    }

    /// Makes the heap hold `slot` or not.
    pub(crate) fn set_member(&mut self, slot: u32, member: bool) {
        match (member, self.contains(slot)) {
            (true, false) => {
                self.pos[slot as usize] = self.heap.len() as u32;
                self.heap.push(slot);
                self.sift_up(self.heap.len() - 1);
            }
            (false, true) => self.remove(slot),
            _ => {}
        }
    }

    /// The member with the most budget outside `avoid` (a handful of slots): a best-first walk
    /// down the heap that only descends below avoided members, so O(k log k) for k avoided.
    pub(crate) fn best_outside(&self, avoid: &[u32]) -> Option<u32> {
        if avoid.is_empty() {
            return self.heap.first().copied();
        }
        let mut frontier = std::collections::BinaryHeap::new();
        let key = |i: usize| {
            std::cmp::Reverse((self.cells[self.heap[i] as usize].tat(), self.heap[i], i))
        };
        if !self.heap.is_empty() {
            frontier.push(key(0));
        }
        while let Some(std::cmp::Reverse((_, slot, i))) = frontier.pop() {
            if !avoid.contains(&slot) {
                return Some(slot);
            }
            for child in [2 * i + 1, 2 * i + 2] {
                if child < self.heap.len() {
                    frontier.push(key(child));
                }
            }
        }
        None
    }

    /// When `slot` can spend `cost`.
    pub(crate) fn ready_at(&self, slot: u32, now: Instant, cost: u32) -> Result<Instant, Denied> {
        self.cells[slot as usize].ready_at(&self.quota, now, cost)
    }

    /// Spends `cost` from `slot`, which must have it (see [`ready_at`](Self::ready_at)).
    pub(crate) fn spend(&mut self, slot: u32, now: Instant, cost: u32) {
        let spent = self.cells[slot as usize].check(&self.quota, now, cost);
        debug_assert!(spent.is_ok(), "spent budget that was not there");
        if self.contains(slot) {
            // TAT only grows here: the slot can only sink.
            self.sift_down(self.pos[slot as usize] as usize);
        }
    }

    fn remove(&mut self, slot: u32) {
        let i = self.pos[slot as usize] as usize;
        let last = self.heap.len() - 1;
        self.swap(i, last);
        self.heap.pop();
        self.pos[slot as usize] = NIL;
        if i < self.heap.len() {
            self.sift_down(i);
            self.sift_up(i);
        }
    }

    /// Orders by TAT (a never-used cell first), then by slot for determinism.
    fn less(&self, a: u32, b: u32) -> bool {
        let ta = self.cells[a as usize].tat();
        let tb = self.cells[b as usize].tat();
        (ta, a) < (tb, b)
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.pos[self.heap[i] as usize] = i as u32;
        self.pos[self.heap[j] as usize] = j as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(self.heap[i], self.heap[parent]) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut best = i;
            if l < self.heap.len() && self.less(self.heap[l], self.heap[best]) {
                best = l;
            }
            if r < self.heap.len() && self.less(self.heap[r], self.heap[best]) {
                best = r;
            }
            if best == i {
                return;
            }
            self.swap(i, best);
            i = best;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;

    #[test]
    fn spreads_spending_over_the_members_with_most_budget() {
        let q = Quota::per_second(NonZeroU32::new(10).unwrap()).with_burst(NonZeroU32::MIN);
        let mut b = Budget::new(q, 3);
        for s in 0..3 {
            b.set_member(s, true);
        }
        let now = Instant::now();
        let mut order = Vec::new();
        for _ in 0..3 {
            let s = b.best_outside(&[]).unwrap();
            assert_eq!(b.ready_at(s, now, 1).unwrap(), now);
            b.spend(s, now, 1);
            order.push(s);
        }
        order.sort();
        assert_eq!(order, [0, 1, 2], "each slot spent once");
        // All empty: the best one is ready after one interval.
        let s = b.best_outside(&[]).unwrap();
        assert_eq!(
            b.ready_at(s, now, 1).unwrap(),
            now + Duration::from_millis(100)
        );
        let other = b.best_outside(&[s]).unwrap();
        assert_ne!(other, s);
        b.set_member(s, false);
        assert!(!b.contains(s));
        assert_ne!(b.best_outside(&[]), Some(s));
    }

    #[test]
    fn best_outside_skips_a_set_in_budget_order() {
        let q =
            Quota::per_second(NonZeroU32::new(10).unwrap()).with_burst(NonZeroU32::new(8).unwrap());
        let mut b = Budget::new(q, 6);
        let now = Instant::now();
        for s in 0..6 {
            b.set_member(s, true);
            b.spend(s, now, s + 1); // slot 0 has the most budget left, slot 5 the least
        }
        assert_eq!(b.best_outside(&[]), Some(0));
        assert_eq!(b.best_outside(&[0]), Some(1));
        assert_eq!(b.best_outside(&[0, 1, 2]), Some(3));
        assert_eq!(b.best_outside(&[1, 0, 3, 2, 4]), Some(5));
        assert_eq!(b.best_outside(&[0, 1, 2, 3, 4, 5]), None);
    }
}
