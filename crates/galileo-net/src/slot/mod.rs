//! One source IP's state: what is in flight, whether it rests, its adaptive limit and counters.
//!
//! A sans-IO state machine: it never reads a clock (callers pass `now`) and never touches a
//! socket. The allocator owns one per IP and keeps its indexes in step with it.

mod aimd;
mod cooldown;
mod stats;

use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

pub(crate) use cooldown::Penalty;
pub use cooldown::{CooldownPolicy, CooldownReason, MAX_REST};
pub use stats::{Counts, STATS_WINDOW};

use crate::Outcome;
use aimd::Aimd;
use cooldown::Cooldown;
use stats::SlotStats;

/// The state of an IP slot as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotState {
    /// Nothing in flight, no long-lived lease.
    Idle,
    /// Requests in flight.
    Busy,
    /// Resting after a 429, timeout or connect failure.
    CoolingDown,
    /// Holds a long-lived lease (e.g. a WebSocket) and nothing else in flight; still serves
    /// requests.
    LongLived,
    /// Out of service until restored.
    Quarantined,
}

impl SlotState {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            SlotState::Idle => "idle",
            SlotState::Busy => "busy",
            SlotState::CoolingDown => "cooling_down",
            SlotState::LongLived => "long_lived",
            SlotState::Quarantined => "quarantined",
        }
    }
}

/// How a lease occupies its IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum LeaseMode {
    /// Requests in flight for the lease's lifetime; counts against the in-flight limit.
    #[default]
    Ephemeral,
    /// A long-lived connection (WebSocket); shares the IP with requests and does not count
    /// against its in-flight limit.
    LongLived,
}

/// What a report changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// The IP must rest until this instant (for this reason).
    pub(crate) penalty: Option<(Penalty, CooldownReason)>,
    /// The effective in-flight limit changed.
    pub(crate) limit_changed: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Slot {
    ip: IpAddr,
    inflight: u32,
    long_lived: u32,
    ceiling: Option<u32>,
    aimd: Aimd,
    cooldown: Cooldown,
    quarantine: Option<String>,
    stats: SlotStats,
}

impl Slot {
    pub(crate) fn new(ip: IpAddr, ceiling: Option<u32>, now: Instant) -> Self {
        Self {
            ip,
            inflight: 0,
            long_lived: 0,
            ceiling,
            aimd: Aimd::default(),
            cooldown: Cooldown::default(),
            quarantine: None,
            stats: SlotStats::new(now),
        }
    }

    pub(crate) fn ip(&self) -> IpAddr {
        self.ip
    }

    pub(crate) fn inflight(&self) -> u32 {
        self.inflight
    }

    pub(crate) fn long_lived(&self) -> u32 {
        self.long_lived
    }

    pub(crate) fn state(&self, now: Instant) -> SlotState {
        if self.quarantine.is_some() {
            SlotState::Quarantined
        } else if self.cooldown.is_cooling(now) {
            SlotState::CoolingDown
        } else if self.inflight > 0 {
            SlotState::Busy
        } else if self.long_lived > 0 {
            SlotState::LongLived
        } else {
            SlotState::Idle
        }
    }

    /// The in-flight limit in force: the configured one, lowered by AIMD after 429 bursts.
    /// `u32::MAX` means unlimited.
    pub(crate) fn effective_limit(&self) -> u32 {
        let ceiling = self.ceiling.unwrap_or(u32::MAX);
        self.aimd.limit().map_or(ceiling, |a| a.min(ceiling))
    }

    /// Not quarantined and not resting (as far as the allocator has seen: a rest that ended
    /// counts until [`expire`](Self::expire) is called).
    pub(crate) fn is_healthy(&self) -> bool {
        self.quarantine.is_none() && self.cooldown.until().is_none()
    }

    /// Healthy and below its in-flight limit: may take another ephemeral lease.
    pub(crate) fn is_eligible(&self) -> bool {
        self.is_healthy() && self.inflight < self.effective_limit()
    }

    pub(crate) fn cooldown_until(&self) -> Option<Instant> {
        self.cooldown.until()
    }

    pub(crate) fn cooldown_reason(&self) -> Option<CooldownReason> {
        self.cooldown.reason()
    }

    pub(crate) fn cooldown_streak(&self) -> u32 {
        self.cooldown.streak()
    }

    pub(crate) fn quarantine_reason(&self) -> Option<&str> {
        self.quarantine.as_deref()
    }

    /// A lease starts.
    pub(crate) fn begin(&mut self, mode: LeaseMode) {
        match mode {
            LeaseMode::Ephemeral => self.inflight += 1,
            LeaseMode::LongLived => self.long_lived += 1,
        }
    }

    /// A lease ends.
    pub(crate) fn end(&mut self, mode: LeaseMode) {
        let n = match mode {
            LeaseMode::Ephemeral => &mut self.inflight,
            LeaseMode::LongLived => &mut self.long_lived,
        };
        debug_assert!(*n > 0, "lease released twice on {}", self.ip);
        *n = n.saturating_sub(1);
    }

    /// The outcome of one request.
    pub(crate) fn report(
        &mut self,
        outcome: &Outcome,
        now: Instant,
        policy: &CooldownPolicy,
    ) -> Report {
        self.stats.record(outcome, now);
        let reason = match outcome {
            Outcome::Success => {
                self.cooldown.success();
                return Report {
                    penalty: None,
                    limit_changed: self.aimd.increase(),
                };
            }
            Outcome::ServerError => return Report::default(),
            Outcome::RateLimited { .. } => CooldownReason::RateLimited,
            Outcome::Timeout => CooldownReason::Timeout,
            Outcome::Connect => CooldownReason::Connect,
        };
        let retry_after = match outcome {
            Outcome::RateLimited { retry_after } => *retry_after,
            _ => None,
        };
        let penalty = self.cooldown.failure(reason, retry_after, now, policy);
        // Only 429s say "too much concurrency"; a timeout may be the network's fault.
        let limit_changed = penalty.new_event
            && reason == CooldownReason::RateLimited
            && self.aimd.decrease(self.inflight, self.ceiling);
        Report {
            penalty: (penalty.until > now).then_some((penalty, reason)),
            limit_changed,
        }
    }

    /// Ends a rest whose time has come; true if the slot changed.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        self.cooldown.expire(now)
    }

    pub(crate) fn set_quarantine(&mut self, reason: Option<String>) {
        self.quarantine = reason;
    }

    pub(crate) fn window_counts(&self, now: Instant) -> Counts {
        self.stats.window(now)
    }

    pub(crate) fn total_counts(&self) -> Counts {
        self.stats.total()
    }

    pub(crate) fn cooldown_remaining(&self, now: Instant) -> Option<Duration> {
        self.cooldown
            .until()
            .filter(|u| *u > now)
            .map(|u| u.duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip() -> IpAddr {
        "127.0.0.2".parse().unwrap()
    }

    #[test]
    fn states_follow_what_the_slot_holds() {
        let now = Instant::now();
        let p = CooldownPolicy::default();
        let mut s = Slot::new(ip(), Some(4), now);
        assert_eq!(s.state(now), SlotState::Idle);
        s.begin(LeaseMode::LongLived);
        assert_eq!(s.state(now), SlotState::LongLived);
        s.begin(LeaseMode::Ephemeral);
        assert_eq!(s.state(now), SlotState::Busy);
        let r = s.report(&Outcome::RateLimited { retry_after: None }, now, &p);
        let (pen, reason) = r.penalty.unwrap();
        assert_eq!(reason, CooldownReason::RateLimited);
        assert_eq!(s.state(now), SlotState::CoolingDown);
        assert!(!s.is_eligible());
        assert_eq!(s.state(pen.until), SlotState::Busy);
        assert!(s.expire(pen.until));
        // A 429 with one request in flight: AIMD allows one at a time until successes.
        assert_eq!(s.effective_limit(), 1);
        assert!(!s.is_eligible());
        s.end(LeaseMode::Ephemeral);
        assert!(s.is_eligible());
        s.set_quarantine(Some("gone".into()));
        assert_eq!(s.state(now), SlotState::Quarantined);
        assert!(!s.is_eligible());
    }

    #[test]
    fn a_429_burst_lowers_the_limit_once_and_successes_raise_it() {
        let now = Instant::now();
        let p = CooldownPolicy::default();
        let mut s = Slot::new(ip(), Some(8), now);
        for _ in 0..8 {
            s.begin(LeaseMode::Ephemeral);
        }
        for _ in 0..8 {
            s.report(&Outcome::RateLimited { retry_after: None }, now, &p);
        }
        assert_eq!(s.effective_limit(), 4, "one burst halves once");
        assert_eq!(s.cooldown_streak(), 1);
        let until = s.cooldown_until().unwrap();
        s.expire(until);
        for _ in 0..8 {
            s.end(LeaseMode::Ephemeral);
        }
        let mut n = 0;
        while s.effective_limit() < 8 {
            s.begin(LeaseMode::Ephemeral);
            s.report(&Outcome::Success, until, &p);
            s.end(LeaseMode::Ephemeral);
            n += 1;
            assert!(n < 100);
        }
        assert_eq!(s.window_counts(until).requests, 8 + n);
    }

    #[test]
    fn server_errors_count_without_resting() {
        let now = Instant::now();
        let mut s = Slot::new(ip(), None, now);
        s.begin(LeaseMode::Ephemeral);
        let r = s.report(&Outcome::ServerError, now, &CooldownPolicy::default());
        assert_eq!(r, Report::default());
        assert!(s.is_eligible());
        assert_eq!(s.total_counts().errors, 1);
        assert_eq!(s.effective_limit(), u32::MAX);
    }
}
