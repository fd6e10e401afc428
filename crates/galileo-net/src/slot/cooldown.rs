//! Exponential rest after 429s, timeouts and connect failures, honouring `Retry-After`.

use std::time::Duration;

use tokio::time::Instant;

/// No rest lasts longer than this, whatever the policy or the server says.
pub const MAX_REST: Duration = Duration::from_secs(24 * 3600);

/// How long an IP rests. Built from `[network.cooldown_ms]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CooldownPolicy {
    /// First rest after a 429.
    pub rate_limited_start: Duration,
    /// First rest after a timeout or a connect failure.
    pub timeout_start: Duration,
    /// The longest exponential rest.
    pub max: Duration,
    /// The longest `Retry-After` honoured.
    pub retry_after_max: Duration,
}

impl Default for CooldownPolicy {
    fn default() -> Self {
        Self {
            rate_limited_start: Duration::from_millis(500),
            timeout_start: Duration::from_millis(250),
            max: Duration::from_secs(30),
            retry_after_max: Duration::from_secs(300),
        }
    }
}

/// Why an IP is resting (`reason` in `galileo_ip_cooldown_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CooldownReason {
    /// The server answered 429.
    RateLimited,
    /// A request timed out.
    Timeout,
    /// A connection could not be made.
    Connect,
}

impl CooldownReason {
    /// Every reason, in label order.
    pub const ALL: [CooldownReason; 3] = [
        CooldownReason::RateLimited,
        CooldownReason::Timeout,
        CooldownReason::Connect,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            CooldownReason::RateLimited => "rate_limited",
            CooldownReason::Timeout => "timeout",
            CooldownReason::Connect => "connect",
        }
    }
}

/// The cooldown state of one IP.
///
/// Failures come in bursts: when an IP is hit by a 429, every request in flight on it at that
/// moment tends to get one too, the two requests of a buy + sell round trip included. Counting
/// each as a new event would square the rest, so a failure escalates (streak + 1, a fresh
/// exponential rest, an AIMD cut) only when the IP is not resting already; a failure during a
/// rest is part of that burst and can only lengthen the rest with its own `Retry-After`. The
/// first failure after a rest has ended starts a new burst, whoever reports it, so a stream
/// that keeps failing to reconnect rests its IP every time.
///
/// The rest is the server's `Retry-After` when it gives one (clamped to `retry_after_max`),
/// else `start × 2^(streak − 1)` capped at `max`; each success takes one step off the streak.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cooldown {
    until: Option<Instant>,
    streak: u32,
    reason: Option<CooldownReason>,
}

/// What a failure did to the cooldown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Penalty {
    /// The IP rests until then.
    pub(crate) until: Instant,
    /// A new burst (the streak advanced), as opposed to a failure during the current rest.
    pub(crate) new_event: bool,
    /// `Retry-After` was longer than `retry_after_max` and was clamped.
    pub(crate) clamped: bool,
}

impl Cooldown {
    pub(crate) fn until(&self) -> Option<Instant> {
        self.until
    }

    pub(crate) fn streak(&self) -> u32 {
        self.streak
    }

    pub(crate) fn reason(&self) -> Option<CooldownReason> {
        self.reason
    }

    pub(crate) fn is_cooling(&self, now: Instant) -> bool {
        self.until.is_some_and(|u| u > now)
    }

    pub(crate) fn failure(
        &mut self,
        reason: CooldownReason,
        retry_after: Option<Duration>,
        now: Instant,
        policy: &CooldownPolicy,
    ) -> Penalty {
        let new_event = !self.is_cooling(now);
        let mut exponential = Duration::ZERO;
        if new_event {
            self.streak = self.streak.saturating_add(1);
            let start = match reason {
                CooldownReason::RateLimited => policy.rate_limited_start,
                CooldownReason::Timeout | CooldownReason::Connect => policy.timeout_start,
            };
            let doublings = (self.streak - 1).min(31);
            exponential = start.saturating_mul(1 << doublings).min(policy.max);
        }
        // A server that states its pause knows its own limiter: rest exactly that long (a
        // shorter rest would be refused, a longer one wastes quota). "0" from a server that is
        // rate limiting is not credible, so it gets the exponential rest.
        let (rest, clamped) = match retry_after {
            Some(asked) if !asked.is_zero() => (
                asked.min(policy.retry_after_max),
                asked > policy.retry_after_max,
            ),
            _ => (exponential, false),
        };
        // The rest is bounded (config caps `retry_after_max` and `max`), but `CooldownPolicy`
        // is public: never let a server's header overflow the clock.
        let rest = rest.min(MAX_REST);
        let until = now
            .checked_add(rest)
            .unwrap_or(now)
            .max(self.until.unwrap_or(now));
        if until > now {
            self.until = Some(until);
            self.reason = Some(reason);
        }
        Penalty {
            until,
            new_event,
            clamped,
        }
    }

    /// A success decays the streak by one step.
    pub(crate) fn success(&mut self) {
        self.streak = self.streak.saturating_sub(1);
    }

    /// Forgets a rest that has ended.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        if self.until.is_some_and(|u| u <= now) {
            self.until = None;
            self.reason = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_per_burst_up_to_the_cap_and_decays_on_success() {
        let p = CooldownPolicy {
            max: ms(3000),
            ..CooldownPolicy::default()
        };
        let mut c = Cooldown::default();
        let now = Instant::now();
        let mut rests = Vec::new();
        for _ in 0..5 {
            let pen = c.failure(CooldownReason::RateLimited, None, now, &p);
            assert!(pen.new_event);
            rests.push((pen.until - now).as_millis());
            c.expire(pen.until);
        }
        assert_eq!(rests, vec![500, 1000, 2000, 3000, 3000]);
        for _ in 0..5 {
            c.success();
        }
        assert_eq!(c.streak(), 0);
        let pen = c.failure(CooldownReason::Timeout, None, now, &p);
        assert_eq!(pen.until - now, ms(250));
    }

    #[test]
    fn failures_during_a_rest_do_not_escalate_but_may_lengthen() {
        let p = CooldownPolicy::default();
        let mut c = Cooldown::default();
        let now = Instant::now();
        let first = c.failure(CooldownReason::RateLimited, None, now, &p);
        assert!(first.new_event);
        let second = c.failure(CooldownReason::RateLimited, None, now + ms(10), &p);
        assert!(!second.new_event);
        assert_eq!(
            second.until, first.until,
            "a straggler must not extend the rest"
        );
        let third = c.failure(
            CooldownReason::RateLimited,
            Some(Duration::from_secs(2)),
            now + ms(20),
            &p,
        );
        assert_eq!(third.until, now + ms(2020));
        assert_eq!(c.streak(), 1);
        // Once the rest is over, the next failure is a new burst.
        let later = third.until;
        c.expire(later);
        let again = c.failure(CooldownReason::Connect, None, later, &p);
        assert!(again.new_event);
        assert_eq!(again.until - later, ms(500), "second burst: 250 ms doubled");
    }

    #[test]
    fn retry_after_is_the_rest_when_given() {
        let p = CooldownPolicy::default();
        let mut c = Cooldown::default();
        let now = Instant::now();
        // Shorter than the exponential start: the server knows best.
        let pen = c.failure(CooldownReason::RateLimited, Some(ms(300)), now, &p);
        assert_eq!(pen.until, now + ms(300));
        c.expire(pen.until);
        // "0" is not credible: exponential (second burst: 1 s).
        let then = pen.until;
        let pen = c.failure(CooldownReason::RateLimited, Some(Duration::ZERO), then, &p);
        assert_eq!(pen.until, then + ms(1000));
    }

    #[test]
    fn no_header_can_overflow_the_clock() {
        let p = CooldownPolicy {
            retry_after_max: Duration::MAX,
            max: Duration::MAX,
            ..CooldownPolicy::default()
        };
        let mut c = Cooldown::default();
        let now = Instant::now();
        let huge = Some(Duration::from_secs(u64::MAX));
        let pen = c.failure(CooldownReason::RateLimited, huge, now, &p);
        assert_eq!(pen.until, now + MAX_REST);
    }

    #[test]
    fn retry_after_is_honoured_and_clamped() {
        let p = CooldownPolicy::default();
        let mut c = Cooldown::default();
        let now = Instant::now();
        let two = Some(Duration::from_secs(2));
        let pen = c.failure(CooldownReason::RateLimited, two, now, &p);
        assert_eq!(pen.until, now + Duration::from_secs(2));
        assert!(c.is_cooling(now + ms(1999)));
        assert!(!c.is_cooling(now + ms(2000)));
        c.expire(pen.until);
        let then = pen.until;
        let day = Some(Duration::from_secs(86_400));
        let pen = c.failure(CooldownReason::RateLimited, day, then, &p);
        assert!(pen.clamped);
        assert_eq!(pen.until, then + p.retry_after_max);
    }
}
