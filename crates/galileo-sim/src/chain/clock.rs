//! Slots from time, and the window of recent blockhashes. Sans-IO: everything takes `now`.

use std::collections::VecDeque;
use std::time::Duration;

use sha2::{Digest, Sha256};
use solana_hash::Hash;
use tokio::time::Instant;

use super::config::MAX_PROCESSING_AGE;

/// Maps instants to slots: slot `start_slot` begins at genesis, one slot per `slot_duration`.
#[derive(Clone, Debug)]
pub struct SlotClock {
    genesis: Instant,
    slot_duration: Duration,
    start_slot: u64,
}

impl SlotClock {
    /// A clock whose first slot starts at `genesis`.
    pub fn new(genesis: Instant, slot_duration: Duration, start_slot: u64) -> Self {
        SlotClock {
            genesis,
            slot_duration,
            start_slot,
        }
    }

    /// The slot running at `now` (the first slot for instants before genesis).
    pub fn slot_at(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.genesis).as_nanos();
        let per = self.slot_duration.as_nanos().max(1);
        self.start_slot
            .saturating_add(u64::try_from(elapsed / per).unwrap_or(u64::MAX))
    }

    /// When `slot` begins.
    pub fn slot_start(&self, slot: u64) -> Instant {
        let n = slot.saturating_sub(self.start_slot);
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.genesis + self.slot_duration.saturating_mul(n)
    }

    /// The first slot.
    pub fn start_slot(&self) -> u64 {
        self.start_slot
    }

    /// The length of a slot.
    pub fn slot_duration(&self) -> Duration {
        self.slot_duration
    }
}

/// The blockhash of `slot` for a chain seeded with `seed`.
pub fn blockhash_of(seed: u64, slot: u64) -> Hash {
    let mut h = Sha256::new();
    h.update(b"galileo-sim/blockhash/");
    h.update(seed.to_le_bytes());
    h.update(slot.to_le_bytes());
    Hash::new_from_array(h.finalize().into())
}

/// The blockhashes a transaction may reference: the current slot's and the
/// [`MAX_PROCESSING_AGE`] before it (151 in all), as a validator's blockhash queue.
#[derive(Clone, Debug)]
pub struct BlockhashWindow {
    seed: u64,
    entries: VecDeque<(u64, Hash)>,
}

impl BlockhashWindow {
    /// The window at `slot`.
    pub fn new(seed: u64, slot: u64) -> Self {
        let mut w = BlockhashWindow {
            seed,
            entries: VecDeque::with_capacity(MAX_PROCESSING_AGE as usize + 1),
        };
        w.entries.push_back((slot, blockhash_of(seed, slot)));
        w
    }

    /// Moves the window to `slot` (never backwards). Only the hashes still in the window are
    /// computed, whatever the jump.
    pub fn advance_to(&mut self, slot: u64) {
        let last = self.current_slot();
        if slot <= last {
            return;
        }
        let first_new = (last + 1).max(slot.saturating_sub(MAX_PROCESSING_AGE));
        for s in first_new..=slot {
            self.entries.push_back((s, blockhash_of(self.seed, s)));
        }
        while self
            .entries
            .front()
            .is_some_and(|(s, _)| slot - s > MAX_PROCESSING_AGE)
        {
            self.entries.pop_front();
        }
    }

    /// The newest slot.
    pub fn current_slot(&self) -> u64 {
        self.entries.back().map_or(0, |(s, _)| *s)
    }

    /// The newest blockhash.
    pub fn latest(&self) -> Hash {
        self.entries.back().map_or_else(Hash::default, |(_, h)| *h)
    }

    /// The blockhash of `slot` if it is still in the window.
    pub fn hash_at(&self, slot: u64) -> Option<Hash> {
        let front = self.entries.front()?.0;
        let i = usize::try_from(slot.checked_sub(front)?).ok()?;
        self.entries.get(i).map(|(_, h)| *h)
    }

    /// The slot of `hash` if it is still in the window (its age is `current_slot - slot`).
    pub fn slot_of(&self, hash: &Hash) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|(_, h)| h == hash)
            .map(|(s, _)| *s)
    }

    /// How many hashes the window holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true: the window always holds the current hash.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
