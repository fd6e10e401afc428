//! The sliding-window log: exact "at most N in any window of length W".

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::time::Duration;

use tokio::time::Instant;

use super::{Algorithm, Decision};
use crate::Error;

/// At most `limit` cells in any window of length `window`, counted exactly: each admission is
/// remembered until it leaves the window. This is the seed's algorithm (and the Redis
/// backend's); it costs memory proportional to the limit per key, where GCRA
/// ([`Quota`](super::Quota)) costs 16 bytes but spreads a burst over the period.
///
/// ```
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// use galileo_resilience::rate_limit::{Algorithm, SlidingWindow, WindowLog};
/// use tokio::time::Instant;
///
/// let w = SlidingWindow::new(NonZeroU32::new(2).unwrap(), Duration::from_secs(1))?;
/// let mut log = WindowLog::default();
/// let t0 = Instant::now();
/// assert!(w.check(&mut log, t0, 1).allowed);
/// assert!(w.check(&mut log, t0, 1).allowed);
/// let denied = w.check(&mut log, t0, 1);
/// assert_eq!(denied.retry_after, Some(Duration::from_secs(1)));
/// assert!(w.check(&mut log, t0 + Duration::from_secs(1), 1).allowed);
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlidingWindow {
    limit: NonZeroU32,
    window: Duration,
}

impl SlidingWindow {
    /// The longest window accepted.
    pub const MAX_WINDOW: Duration = super::Quota::MAX_WINDOW;

    /// At most `limit` cells per `window`.
    pub fn new(limit: NonZeroU32, window: Duration) -> Result<Self, Error> {
        if window.is_zero() || window > Self::MAX_WINDOW {
            return Err(Error::InvalidQuota {
                reason: format!(
                    "a window of {window:?} must be longer than zero and at most a year"
                ),
            });
        }
        Ok(Self { limit, window })
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }
}

/// The admissions a [`SlidingWindow`] remembers for one key: (when, cells), oldest first.
#[derive(Clone, Debug, Default)]
pub struct WindowLog {
    entries: VecDeque<(Instant, u32)>,
    used: u32,
}

impl WindowLog {
    fn forget_before(&mut self, horizon: Option<Instant>) {
        let Some(horizon) = horizon else { return };
        while let Some(&(t, c)) = self.entries.front() {
            if t > horizon {
                break;
            }
            self.entries.pop_front();
            self.used -= c;
        }
    }
}

impl Algorithm for SlidingWindow {
    type State = WindowLog;

    fn limit(&self) -> u32 {
        self.limit.get()
    }

    fn peek(&self, log: &mut WindowLog, now: Instant, cost: u32) -> Decision {
        // An admission at t counts while t > now - window.
        log.forget_before(now.checked_sub(self.window));
        let limit = self.limit.get();
        let reset = log.entries.back().map_or(Duration::ZERO, |&(t, _)| {
            (t + self.window).saturating_duration_since(now)
        });
        let left = limit.saturating_sub(log.used);
        if cost > limit {
            return Decision::deny(limit, left, reset, None);
        }
        // cost ≤ limit and used ≤ limit: no overflow below.
        if cost <= left {
            let reset = if cost > 0 { self.window } else { reset };
            return Decision::allow(limit, left - cost, reset);
        }
        // Wait for the oldest admissions to leave until `cost` cells are free.
        let mut to_free = cost - left;
        let mut at = now;
        for &(t, c) in &log.entries {
            at = t + self.window;
            if c >= to_free {
                break;
            }
            to_free -= c;
        }
        Decision::deny(limit, left, reset, Some(at.saturating_duration_since(now)))
    }

    fn commit(&self, log: &mut WindowLog, now: Instant, cost: u32) {
        if cost == 0 {
            return;
        }
        // Keep the log in time order even if callers race with clocks read a little apart: a
        // late commit is recorded at the newest time (it then counts slightly longer: stricter).
        let now = log.entries.back().map_or(now, |&(t, _)| t.max(now));
        match log.entries.back_mut() {
            Some((t, c)) if *t == now => *c += cost,
            _ => log.entries.push_back((now, cost)),
        }
        log.used += cost;
    }

    fn is_idle(&self, log: &WindowLog, now: Instant) -> bool {
        log.entries
            .back()
            .is_none_or(|&(t, _)| t + self.window <= now)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn window(limit: u32, window_ms: u64) -> SlidingWindow {
        SlidingWindow::new(NonZeroU32::new(limit).unwrap(), ms(window_ms)).unwrap()
    }

    #[test]
    fn counts_exactly_and_frees_as_admissions_leave() {
        let w = window(3, 1000);
        let mut log = WindowLog::default();
        let t0 = Instant::now();
        assert_eq!(w.check(&mut log, t0, 2).remaining, 1);
        assert_eq!(w.check(&mut log, t0 + ms(400), 1).remaining, 0);
        let d = w.check(&mut log, t0 + ms(500), 2);
        assert!(!d.allowed);
        // Two cells must go: the first admission (2 cells at t0) leaves at t0 + 1 s.
        assert_eq!(d.retry_after, Some(ms(500)));
        assert_eq!(d.reset, ms(900), "empty once the last admission leaves");
        assert!(w.check(&mut log, t0 + ms(1000), 2).allowed);
        assert!(!w.check(&mut log, t0 + ms(1000), 1).allowed);
        assert!(w.check(&mut log, t0 + ms(1400), 1).allowed);
    }

    #[test]
    fn a_huge_cost_is_denied_not_overflowed() {
        let w = window(10, 1000);
        let mut log = WindowLog::default();
        let t0 = Instant::now();
        assert!(w.check(&mut log, t0, 1).allowed);
        let d = w.check(&mut log, t0, u32::MAX);
        assert_eq!((d.allowed, d.retry_after, d.remaining), (false, None, 9));
    }

    #[test]
    fn late_commits_keep_the_log_ordered_so_sweeps_never_forget_live_cells() {
        use crate::rate_limit::KeyedLimiter;
        let mut k: KeyedLimiter<u32, SlidingWindow> = KeyedLimiter::new(window(2, 1000));
        let t0 = Instant::now();
        assert!(k.check(&7, t0 + ms(1), 1).allowed); // clock read later, locked first
        assert!(k.check(&7, t0, 1).allowed); // clock read earlier, locked second
        let later = t0 + Duration::from_micros(1_000_500); // the t0 + 1 ms cell is still live
        k.sweep(later);
        let admitted = (0..2).filter(|_| k.check(&7, later, 1).allowed).count();
        assert_eq!(admitted, 0, "both cells still in the window");
    }

    #[test]
    fn too_costly_never_fits_and_zero_cost_always_does() {
        let w = window(2, 1000);
        let mut log = WindowLog::default();
        let t0 = Instant::now();
        let d = w.check(&mut log, t0, 3);
        assert_eq!((d.allowed, d.retry_after), (false, None));
        w.check(&mut log, t0, 2);
        assert!(w.check(&mut log, t0, 0).allowed);
        assert!(!w.is_idle(&log, t0 + ms(999)));
        assert!(w.is_idle(&log, t0 + ms(1000)));
        assert!(SlidingWindow::new(NonZeroU32::MIN, Duration::ZERO).is_err());
    }

    proptest! {
        /// In every window of length W, admitted cells ≤ limit; and a denial's retry_after is
        /// exactly when the same request fits.
        #[test]
        fn no_window_admits_more_than_its_limit(
            limit in 1u32..10,
            window_ms in 1u64..500,
            steps in proptest::collection::vec((0u64..200, 0u32..4), 1..200),
        ) {
            let w = window(limit, window_ms);
            let mut log = WindowLog::default();
            let mut now = Instant::now();
            let mut admitted: Vec<(Instant, u32)> = Vec::new();
            for (dt, cost) in steps {
                now += ms(dt);
                let d = w.check(&mut log, now, cost);
                if d.allowed {
                    admitted.push((now, cost));
                } else if let Some(wait) = d.retry_after {
                    let mut probe = log.clone();
                    prop_assert!(wait.is_zero() || !w.peek(&mut probe.clone(), now + wait - Duration::from_nanos(1), cost).allowed);
                    prop_assert!(w.peek(&mut probe, now + wait, cost).allowed);
                }
            }
            for (i, &(start, _)) in admitted.iter().enumerate() {
                let in_window: u32 = admitted[i..]
                    .iter()
                    .take_while(|(t, _)| *t < start + ms(window_ms))
                    .map(|(_, c)| c)
                    .sum();
                prop_assert!(in_window <= limit, "{in_window} cells within {window_ms} ms, limit {limit}");
            }
        }
    }
}
