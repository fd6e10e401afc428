//! The generic cell rate algorithm (GCRA) for one key, as a sans-IO state machine.
//!
//! A GCRA keeps a single timestamp, the *theoretical arrival time* (TAT) of the next cell. A
//! request of `cost` cells at `now` is admitted when `max(TAT, now) + cost × T ≤ now + B × T`
//! (T = [`Quota::interval`], B = [`Quota::burst`]), and then moves TAT forward by `cost × T`.
//! That is a token bucket of capacity B refilled every T, held in 16 bytes and updated in O(1),
//! with exact "ready at" answers for waiters. It never reads a clock: callers pass `now`.
//!
//! Overflow cannot happen: a quota's window (burst × interval) is at most a year, TAT never runs
//! more than one window past `now`, and a cost is checked against the burst before it is used.

use std::time::Duration;

use tokio::time::Instant;

use super::{Algorithm, Decision, Quota};

/// GCRA state of one key. `Default` is a full bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gcra {
    tat: Option<Instant>,
}

/// What an admitted request learns about the bucket it drew from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// Cells still available right now after this admission.
    pub remaining: u32,
    /// When the bucket is full again if nothing else is admitted.
    pub reset: Instant,
}

/// Why a request was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// Not enough cells now; the same request fits at this instant.
    Until(Instant),
    /// The request costs more than a full bucket holds, so it can never be admitted.
    ExceedsBurst {
        /// The cost asked for.
        cost: u32,
        /// The quota's burst.
        burst: u32,
    },
}

impl Denied {
    /// When the same request fits, or `None` if it never will.
    pub fn ready_at(&self) -> Option<Instant> {
        match self {
            Denied::Until(at) => Some(*at),
            Denied::ExceedsBurst { .. } => None,
        }
    }
}

impl Gcra {
    /// A full bucket.
    pub const fn new() -> Self {
        Self { tat: None }
    }

    /// How far the theoretical arrival time is ahead of `now`, in nanoseconds (0: full bucket).
    #[inline]
    fn ahead(&self, now: Instant) -> u64 {
        match self.tat {
            // TAT never runs more than one window (≤ a year) ahead: the cast is exact.
            Some(t) if t > now => (t - now).as_nanos() as u64,
            _ => 0,
        }
    }

    /// Admits `cost` cells at `now` if the bucket holds them, consuming them; otherwise changes
    /// nothing and says when they would fit.
    #[inline]
    pub fn check(&mut self, quota: &Quota, now: Instant, cost: u32) -> Result<Admitted, Denied> {
        if cost > quota.burst() {
            return Err(Denied::ExceedsBurst {
                cost,
                burst: quota.burst(),
            });
        }
        let (i, tol) = (quota.interval_ns(), quota.tolerance_ns());
        // ahead ≤ tol and cost·i ≤ tol, both ≤ a year in ns: no overflow.
        let need = self.ahead(now) + u64::from(cost) * i;
        if need > tol {
            return Err(Denied::Until(now + Duration::from_nanos(need - tol)));
        }
        let tat = now + Duration::from_nanos(need);
        self.tat = Some(tat);
        Ok(Admitted {
            remaining: ((tol - need) / i) as u32,
            reset: tat,
        })
    }

    /// The earliest instant at or after `now` when `cost` cells fit, without consuming anything.
    pub fn ready_at(&self, quota: &Quota, now: Instant, cost: u32) -> Result<Instant, Denied> {
        if cost > quota.burst() {
            return Err(Denied::ExceedsBurst {
                cost,
                burst: quota.burst(),
            });
        }
        let need = self.ahead(now) + u64::from(cost) * quota.interval_ns();
        Ok(now + Duration::from_nanos(need.saturating_sub(quota.tolerance_ns())))
    }

    /// Cells available at `now` (at most the burst).
    pub fn available(&self, quota: &Quota, now: Instant) -> u32 {
        let tol = quota.tolerance_ns();
        // Whole cells only: a partly refilled cell is not a cell yet.
        ((tol - self.ahead(now).min(tol)) / quota.interval_ns()) as u32
    }

    /// The theoretical arrival time; `None` or a past instant means a full bucket.
    pub fn tat(&self) -> Option<Instant> {
        self.tat
    }

    /// True when the bucket is full at `now`, i.e. this state carries no information and a
    /// keyed limiter may forget it.
    pub fn is_full(&self, now: Instant) -> bool {
        self.tat.is_none_or(|t| t <= now)
    }
}

/// GCRA as an [`Algorithm`]: the quota is the parameter, [`Gcra`] the per-key state.
impl Algorithm for Quota {
    type State = Gcra;

    fn limit(&self) -> u32 {
        self.burst()
    }

    #[inline]
    fn peek(&self, g: &mut Gcra, now: Instant, cost: u32) -> Decision {
        let (i, tol, burst) = (self.interval_ns(), self.tolerance_ns(), self.burst());
        let ahead = g.ahead(now);
        let need = ahead + u64::from(cost.min(burst)) * i;
        if cost <= burst && need <= tol {
            return Decision::allow(burst, ((tol - need) / i) as u32, Duration::from_nanos(need));
        }
        let left = ((tol - ahead.min(tol)) / i) as u32;
        let wait = (cost <= burst).then(|| Duration::from_nanos(need - tol));
        Decision::deny(burst, left, Duration::from_nanos(ahead), wait)
    }

    fn commit(&self, g: &mut Gcra, now: Instant, cost: u32) {
        let admitted = g.check(self, now, cost);
        debug_assert!(admitted.is_ok(), "commit without a successful peek");
    }

    fn is_idle(&self, g: &Gcra, now: Instant) -> bool {
        g.is_full(now)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn quota(per_sec: u32, burst: u32) -> Quota {
        Quota::per_second(NonZeroU32::new(per_sec).unwrap())
            .with_burst(NonZeroU32::new(burst).unwrap())
    }

    #[test]
    fn full_bucket_admits_the_burst_then_paces() {
        let q = quota(10, 3);
        let t0 = Instant::now();
        let mut g = Gcra::new();
        for left in [2, 1, 0] {
            assert_eq!(g.check(&q, t0, 1).unwrap().remaining, left);
        }
        let denied = g.check(&q, t0, 1).unwrap_err();
        assert_eq!(denied, Denied::Until(t0 + Duration::from_millis(100)));
        // Exactly at the ready instant it fits; a nanosecond before it does not.
        let at = denied.ready_at().unwrap();
        assert!(g.check(&q, at - Duration::from_nanos(1), 1).is_err());
        assert!(g.check(&q, at, 1).is_ok());
    }

    #[test]
    fn cost_counts_cells_and_a_too_large_cost_never_fits() {
        let q = quota(10, 2);
        let t0 = Instant::now();
        let mut g = Gcra::new();
        let a = g.check(&q, t0, 2).unwrap();
        assert_eq!(a.remaining, 0);
        assert_eq!(a.reset, t0 + Duration::from_millis(200));
        assert_eq!(
            g.check(&q, t0, 2).unwrap_err(),
            Denied::Until(t0 + Duration::from_millis(200))
        );
        assert_eq!(
            g.check(&q, t0, 3).unwrap_err(),
            Denied::ExceedsBurst { cost: 3, burst: 2 }
        );
    }

    #[test]
    fn as_an_algorithm_it_reports_what_headers_need() {
        let q = quota(10, 2);
        let t0 = Instant::now();
        let mut g = Gcra::new();
        let d = q.check(&mut g, t0, 1);
        assert_eq!(
            (d.allowed, d.limit, d.remaining, d.reset),
            (true, 2, 1, Duration::from_millis(100))
        );
        q.check(&mut g, t0, 1);
        let d = q.check(&mut g, t0, 1);
        assert_eq!(
            (d.allowed, d.remaining, d.retry_after),
            (false, 0, Some(Duration::from_millis(100)))
        );
        assert_eq!(d.reset, Duration::from_millis(200));
        let d = q.check(&mut g, t0, 3);
        assert_eq!((d.allowed, d.retry_after), (false, None));
    }

    #[test]
    fn idle_time_refills_but_never_beyond_the_burst() {
        let q = quota(10, 2);
        let t0 = Instant::now();
        let mut g = Gcra::new();
        g.check(&q, t0, 2).unwrap();
        assert_eq!(g.available(&q, t0 + Duration::from_millis(150)), 1);
        assert!(!g.is_full(t0 + Duration::from_millis(150)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!(g.available(&q, later), 2);
        assert!(g.is_full(later));
        g.check(&q, later, 2).unwrap();
        assert!(g.check(&q, later, 1).is_err());
    }

    proptest! {
        /// In any window of length w, admitted cells ≤ burst + w / interval: the limiter never
        /// lets through more than its quota, whatever the arrival pattern.
        #[test]
        fn no_window_admits_more_than_the_quota(
            per_sec in 1u32..50,
            burst in 1u32..8,
            steps in proptest::collection::vec((0u64..300, 1u32..4), 1..200),
        ) {
            let q = quota(per_sec, burst);
            let t0 = Instant::now();
            let mut g = Gcra::new();
            let mut now = t0;
            let mut admitted: Vec<(Instant, u32)> = Vec::new();
            for (dt_ms, cost) in steps {
                now += Duration::from_millis(dt_ms);
                if g.check(&q, now, cost).is_ok() {
                    admitted.push((now, cost));
                }
            }
            for (i, &(start, _)) in admitted.iter().enumerate() {
                let mut cells = 0u64;
                for &(t, c) in &admitted[i..] {
                    cells += u64::from(c);
                    let w = t - start;
                    let allowed = u64::from(q.burst())
                        + (w.as_nanos() / q.interval().as_nanos()) as u64;
                    prop_assert!(cells <= allowed, "{cells} cells in {w:?}, allowed {allowed}");
                }
            }
        }

        /// A denial names the exact instant the same request fits.
        #[test]
        fn ready_at_is_exact(per_sec in 1u32..50, burst in 1u32..8, pre in 0u32..20, cost in 1u32..8) {
            let q = quota(per_sec, burst);
            let cost = cost.min(burst);
            let t0 = Instant::now();
            let mut g = Gcra::new();
            for _ in 0..pre { let _ = g.check(&q, t0, 1); }
            match g.check(&q, t0, cost) {
                Ok(_) => {}
                Err(d) => {
                    let at = d.ready_at().unwrap();
                    let mut g2 = g;
                    prop_assert!(g2.check(&q, at - Duration::from_nanos(1), cost).is_err());
                    prop_assert!(g.check(&q, at, cost).is_ok());
                }
            }
        }
    }
}
