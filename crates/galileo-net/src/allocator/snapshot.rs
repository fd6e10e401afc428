//! Read-only views of the allocator for status displays, metrics and planners.

use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::slot::{CooldownReason, Counts, Slot, SlotState};

/// One slot's state at the time of [`IpAllocator::snapshot`](crate::IpAllocator::snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotSnapshot {
    /// The source IP.
    pub ip: IpAddr,
    /// Idle, busy, cooling down, long-lived or quarantined.
    pub state: SlotState,
    /// Ephemeral leases held.
    pub inflight: u32,
    /// Long-lived leases held.
    pub long_lived: u32,
    /// The in-flight limit in force (`None`: unlimited).
    pub effective_limit: Option<u32>,
    /// Time left resting.
    pub cooldown_remaining: Option<Duration>,
    /// Why it rests.
    pub cooldown_reason: Option<CooldownReason>,
    /// Failure bursts not yet decayed by successes (the cooldown doubles with each).
    pub cooldown_streak: u32,
    /// Counts of the last [`STATS_WINDOW`](crate::slot::STATS_WINDOW).
    pub window: Counts,
    /// Counts since start.
    pub total: Counts,
    /// Why it is quarantined.
    pub quarantine_reason: Option<String>,
}

impl SlotSnapshot {
    pub(crate) fn of(s: &Slot, now: Instant) -> Self {
        let limit = s.effective_limit();
        Self {
            ip: s.ip(),
            state: s.state(now),
            inflight: s.inflight(),
            long_lived: s.long_lived(),
            effective_limit: (limit != u32::MAX).then_some(limit),
            cooldown_remaining: s.cooldown_remaining(now),
            cooldown_reason: s.cooldown_remaining(now).and(s.cooldown_reason()),
            cooldown_streak: s.cooldown_streak(),
            window: s.window_counts(now),
            total: s.total_counts(),
            quarantine_reason: s.quarantine_reason().map(str::to_owned),
        }
    }
}

/// Totals over all slots; see [`IpAllocator::capacity`](crate::IpAllocator::capacity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// All slots.
    pub slots: usize,
    /// Slots that can take leases now or once a lease is released (not resting, not
    /// quarantined).
    pub available: usize,
    /// Slots resting.
    pub cooling: usize,
    /// Slots quarantined.
    pub quarantined: usize,
    /// Ephemeral leases held across all slots.
    pub inflight: u64,
    /// Sum of the effective in-flight limits of the available slots (`None`: some slot is
    /// unlimited).
    pub inflight_limit: Option<u64>,
}

impl Capacity {
    pub(crate) fn of(slots: &[Slot], now: Instant) -> Self {
        let mut c = Capacity {
            slots: slots.len(),
            available: 0,
            cooling: 0,
            quarantined: 0,
            inflight: 0,
            inflight_limit: Some(0),
        };
        for s in slots {
            c.inflight += u64::from(s.inflight());
            match s.state(now) {
                SlotState::Quarantined => c.quarantined += 1,
                SlotState::CoolingDown => c.cooling += 1,
                _ => {
                    c.available += 1;
                    let l = s.effective_limit();
                    c.inflight_limit = match c.inflight_limit {
                        Some(sum) if l != u32::MAX => Some(sum + u64::from(l)),
                        _ => None,
                    };
                }
            }
        }
        c
    }
}
