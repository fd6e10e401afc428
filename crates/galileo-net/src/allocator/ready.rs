//! The index of eligible slots, ordered by load then by least recent use, with O(1) updates.
//!
//! Slots are kept in intrusive doubly linked lists, one per in-flight count ("bucket"). Taking
//! a slot moves it to the back of the next bucket, releasing to the back of the previous one, so
//! the front of the lowest non-empty bucket is always the least loaded, least recently touched
//! eligible slot. Every operation is O(1) apart from moving the lowest-bucket mark past buckets
//! that emptied, which is bounded by the in-flight count, so acquire + release costs the same at
//! 8 slots as at 4,096.

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    prev: u32,
    next: u32,
    bucket: u32,
}

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

#[derive(Clone, Debug)]
pub(crate) struct ReadyIndex {
    nodes: Vec<Node>,
    buckets: Vec<List>,
    /// No bucket below this one is non-empty.
    min: usize,
    len: usize,
}

impl ReadyIndex {
    pub(crate) fn new(slots: usize) -> Self {
        Self {
            nodes: vec![
                Node {
                    prev: NIL,
                    next: NIL,
                    bucket: NIL,
                };
                slots
            ],
            buckets: vec![EMPTY; 4],
            min: 0,
            len: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, slot: u32) -> bool {
        self.nodes[slot as usize].bucket != NIL
    }

    /// Puts `slot` in `bucket` (or takes it out with `None`). Moving to another bucket puts it
    /// at the back; staying in the same bucket keeps its place.
    pub(crate) fn set(&mut self, slot: u32, bucket: Option<u32>) {
        let current = self.nodes[slot as usize].bucket;
        match bucket {
            Some(b) if b == current => {}
            Some(b) => {
                if current != NIL {
                    self.unlink(slot);
                }
                self.push_back(slot, b);
            }
            None if current != NIL => self.unlink(slot),
            None => {}
        }
    }

    /// The least loaded, least recently used slot, other than `except`.
    pub(crate) fn first_except(&self, except: Option<u32>) -> Option<u32> {
        let mut b = self.min;
        while b < self.buckets.len() {
            let mut s = self.buckets[b].head;
            while s != NIL {
                if Some(s) != except {
                    return Some(s);
                }
                s = self.nodes[s as usize].next;
            }
            b += 1;
        }
        None
    }

    fn push_back(&mut self, slot: u32, bucket: u32) {
        let b = bucket as usize;
        if b >= self.buckets.len() {
            self.buckets.resize(b + 1, EMPTY);
        }
        let tail = self.buckets[b].tail;
        self.nodes[slot as usize] = Node {
            prev: tail,
            next: NIL,
            bucket,
        };
        if tail == NIL {
            self.buckets[b].head = slot;
        } else {
            self.nodes[tail as usize].next = slot;
        }
        self.buckets[b].tail = slot;
        self.len += 1;
        if self.len == 1 || b < self.min {
            self.min = b;
        }
    }

    fn unlink(&mut self, slot: u32) {
        let Node { prev, next, bucket } = self.nodes[slot as usize];
        let b = bucket as usize;
        if prev == NIL {
            self.buckets[b].head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.buckets[b].tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        self.nodes[slot as usize] = Node {
            prev: NIL,
            next: NIL,
            bucket: NIL,
        };
        self.len -= 1;
        if self.len == 0 {
            self.min = 0;
        } else if b == self.min && self.buckets[b].head == NIL {
            while self.buckets[self.min].head == NIL {
                self.min += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_loaded_then_least_recently_touched() {
        let mut r = ReadyIndex::new(4);
        for s in 0..4 {
            r.set(s, Some(0));
        }
        assert_eq!(r.first_except(None), Some(0));
        // take 0 and 1: they move to bucket 1 in that order
        r.set(0, Some(1));
        r.set(1, Some(1));
        assert_eq!(r.first_except(None), Some(2));
        r.set(2, Some(1));
        r.set(3, Some(1));
        assert_eq!(r.first_except(None), Some(0));
        assert_eq!(r.first_except(Some(0)), Some(1));
        // release 3 first: it is now the least loaded
        r.set(3, Some(0));
        assert_eq!(r.first_except(None), Some(3));
        assert_eq!(r.first_except(Some(3)), Some(0));
        r.set(3, None);
        r.set(0, None);
        r.set(1, None);
        assert_eq!(r.first_except(None), Some(2));
        r.set(2, None);
        assert_eq!(r.first_except(None), None);
        assert_eq!(r.len(), 0);
        assert!(!r.contains(2));
    }

    #[test]
    fn the_low_mark_follows_sparse_buckets() {
        let mut r = ReadyIndex::new(2);
        r.set(0, Some(7));
        r.set(1, Some(3));
        assert_eq!(r.first_except(None), Some(1));
        r.set(1, None);
        assert_eq!(r.first_except(None), Some(0));
        r.set(1, Some(9));
        r.set(0, None);
        assert_eq!(r.first_except(None), Some(1));
    }
}
