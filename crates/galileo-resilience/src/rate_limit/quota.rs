//! How much a limiter admits: a steady rate and a burst.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::Error;

/// A rate limit: `burst` cells at once, refilled at one cell per [`interval`](Quota::interval).
///
/// `Quota::new(10, 1 s)` admits 10 requests per second, at most 10 of them back to back; a
/// smaller [`with_burst`](Quota::with_burst) spreads them out (burst 1 = one every 100 ms).
///
/// ```
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// use galileo_resilience::Quota;
///
/// let q = Quota::new(NonZeroU32::new(10).unwrap(), Duration::from_secs(1))?;
/// assert_eq!(q.interval(), Duration::from_millis(100));
/// assert_eq!(q.burst(), 10);
/// assert_eq!(q.with_burst(NonZeroU32::MIN).burst(), 1);
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
///
/// A full bucket never spans more than [`Quota::MAX_WINDOW`] (a year): that bounds every
/// timestamp a limiter computes, so no input can overflow the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "QuotaSpec")]
pub struct Quota {
    interval: Duration,
    /// `interval` in nanoseconds (≥ 1): GCRA works in `u64` nanoseconds.
    interval_ns: u64,
    burst: NonZeroU32,
}

fn nanos(d: Duration) -> u64 {
    // Intervals are at most a year (a window bounds them), far below u64 nanoseconds.
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

impl Quota {
    /// The longest a full bucket may span (`burst × interval`): one year.
    pub const MAX_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);

    /// `count` cells per `period`, with a burst of `count`.
    ///
    /// Fails when `period` is too short to give each cell at least a nanosecond, or longer than
    /// [`MAX_WINDOW`](Self::MAX_WINDOW).
    pub fn new(count: NonZeroU32, period: Duration) -> Result<Self, Error> {
        // Rounded up to whole nanoseconds: a rounded-down interval would refill faster than
        // configured (600,001 per ms would become one per ns).
        let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
        let interval = Duration::from_nanos(period_ns.div_ceil(u64::from(count.get())));
        if period_ns < u64::from(count.get()) {
            return Err(Error::InvalidQuota {
                reason: format!(
                    "{count} per {period:?} is faster than one per nanosecond; use a longer period"
                ),
            });
        }
        if period > Self::MAX_WINDOW {
            return Err(Error::InvalidQuota {
                reason: format!("a period of {period:?} is longer than a year; use a shorter one"),
            });
        }
        Ok(Self {
            interval,
            interval_ns: nanos(interval),
            burst: count,
        })
    }

    /// `count` cells per second, with a burst of `count`.
    pub fn per_second(count: NonZeroU32) -> Self {
        // One second divided by at most u32::MAX is at least a nanosecond... except for counts
        // above 10^9, where we clamp the interval to 1 ns.
        let interval = Duration::from_nanos(1_000_000_000u64.div_ceil(u64::from(count.get())));
        Self {
            interval,
            interval_ns: nanos(interval),
            burst: count,
        }
    }

    /// The same rate with another burst, clamped so the bucket spans at most
    /// [`MAX_WINDOW`](Self::MAX_WINDOW) (see [`try_with_burst`](Self::try_with_burst) to refuse
    /// instead).
    #[must_use]
    pub fn with_burst(self, burst: NonZeroU32) -> Self {
        let most =
            (Self::MAX_WINDOW.as_nanos() / self.interval.as_nanos()).min(u128::from(u32::MAX));
        let most = NonZeroU32::new(most as u32).unwrap_or(NonZeroU32::MIN);
        Self {
            burst: burst.min(most),
            ..self
        }
    }

    /// The same rate with another burst, or an error if the bucket would span more than
    /// [`MAX_WINDOW`](Self::MAX_WINDOW).
    pub fn try_with_burst(self, burst: NonZeroU32) -> Result<Self, Error> {
        let q = self.with_burst(burst);
        if q.burst != burst {
            return Err(Error::InvalidQuota {
                reason: format!(
                    "a burst of {burst} at one per {:?} spans more than a year; lower the burst",
                    self.interval
                ),
            });
        }
        Ok(q)
    }

    /// Time between two cells at the steady rate.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Cells admitted back to back from a full bucket.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    /// The steady rate in cells per second.
    pub fn per_second_f64(&self) -> f64 {
        1.0 / self.interval.as_secs_f64()
    }

    /// The time a full bucket represents (`burst × interval`): the GCRA's tolerance.
    #[cfg(test)]
    pub(crate) fn tolerance(&self) -> Duration {
        self.interval * self.burst.get()
    }

    /// The interval in nanoseconds (≥ 1).
    #[inline]
    pub(crate) fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// The tolerance in nanoseconds; at most a year's worth, so it fits `u64` with room.
    #[inline]
    pub(crate) fn tolerance_ns(&self) -> u64 {
        self.interval_ns * u64::from(self.burst.get())
    }
}

/// The configuration form of a [`Quota`]: `{ requests = 10, period_ms = 1000, burst = 5 }`.
///
/// `burst` defaults to `requests`.
#[derive(Clone, Copy, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    /// Cells per period.
    pub requests: u32,
    /// The period in milliseconds (default 1000).
    #[serde(default = "one_second_ms")]
    pub period_ms: u64,
    /// Cells admitted back to back (default: `requests`).
    #[serde(default)]
    pub burst: Option<u32>,
}

fn one_second_ms() -> u64 {
    1000
}

impl TryFrom<QuotaSpec> for Quota {
    type Error = Error;

    fn try_from(spec: QuotaSpec) -> Result<Self, Error> {
        let count = NonZeroU32::new(spec.requests).ok_or_else(|| Error::InvalidQuota {
            reason: "requests must be at least 1 (remove the limit instead of setting 0)".into(),
        })?;
        if spec.period_ms == 0 {
            return Err(Error::InvalidQuota {
                reason: "period_ms must be at least 1".into(),
            });
        }
        let quota = Quota::new(count, Duration::from_millis(spec.period_ms))?;
        match spec.burst {
            None => Ok(quota),
            Some(b) => {
                let b = NonZeroU32::new(b).ok_or_else(|| Error::InvalidQuota {
                    reason: "burst must be at least 1".into(),
                })?;
                quota.try_with_burst(b)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn interval_and_burst() {
        let q = Quota::new(nz(4), Duration::from_secs(2)).unwrap();
        assert_eq!(q.interval(), Duration::from_millis(500));
        assert_eq!(q.burst(), 4);
        assert!((q.per_second_f64() - 2.0).abs() < 1e-9);
        assert_eq!(q.tolerance(), Duration::from_secs(2));
    }

    #[test]
    fn a_bucket_never_spans_more_than_a_year() {
        let year = Quota::MAX_WINDOW;
        assert!(
            Quota::new(nz(1), year * 2)
                .unwrap_err()
                .to_string()
                .contains("longer than a year")
        );
        let daily = Quota::new(nz(1), Duration::from_secs(86_400)).unwrap();
        assert_eq!(daily.with_burst(nz(u32::MAX)).burst(), 365);
        assert!(daily.try_with_burst(nz(366)).is_err());
        assert_eq!(daily.try_with_burst(nz(365)).unwrap().tolerance(), year);
    }

    #[test]
    fn intervals_round_up_never_faster_than_configured() {
        let q = Quota::new(nz(600_001), Duration::from_millis(1)).unwrap();
        assert_eq!(q.interval(), Duration::from_nanos(2));
        assert_eq!(
            Quota::per_second(nz(3)).interval(),
            Duration::from_nanos(333_333_334)
        );
        assert_eq!(
            Quota::per_second(nz(4_000_000_000)).interval(),
            Duration::from_nanos(1)
        );
    }

    #[test]
    fn too_fast_is_an_error_that_says_what_to_do() {
        let err = Quota::new(nz(10), Duration::from_nanos(5)).unwrap_err();
        assert!(err.to_string().contains("longer period"), "{err}");
    }

    #[test]
    fn spec_parses_and_validates() {
        #[derive(Debug, serde::Deserialize)]
        struct W {
            q: Quota,
        }
        let w: W = toml::from_str("q = { requests = 5, period_ms = 500, burst = 2 }").unwrap();
        assert_eq!(w.q.interval(), Duration::from_millis(100));
        assert_eq!(w.q.burst(), 2);
        let w: W = toml::from_str("q = { requests = 20 }").unwrap();
        assert_eq!(w.q.interval(), Duration::from_millis(50));
        assert_eq!(w.q.burst(), 20);
        let e = toml::from_str::<W>("q = { requests = 0 }").unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
        let e = toml::from_str::<W>("q = { requests = 1, per = 3 }").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = toml::from_str::<W>(
            "q = { requests = 1, period_ms = 1000000000000000, burst = 1000000000 }",
        )
        .unwrap_err();
        assert!(e.to_string().contains("longer than a year"), "{e}");
        let e = toml::from_str::<W>("q = { requests = 1, period_ms = 86400000, burst = 1000 }")
            .unwrap_err();
        assert!(e.to_string().contains("lower the burst"), "{e}");
    }
}
