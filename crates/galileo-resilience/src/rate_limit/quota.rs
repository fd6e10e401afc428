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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "QuotaSpec"))]
pub struct Quota {
    interval: Duration,
    burst: NonZeroU32,
}

impl Quota {
    /// `count` cells per `period`, with a burst of `count`.
    ///
    /// Fails when `period` is zero or too short to give each cell at least a nanosecond.
    pub fn new(count: NonZeroU32, period: Duration) -> Result<Self, Error> {
        let interval = period / count.get();
        if interval.is_zero() {
            return Err(Error::InvalidQuota {
                reason: format!(
                    "{count} per {period:?} is faster than one per nanosecond; use a longer period"
                ),
            });
        }
        Ok(Self {
            interval,
            burst: count,
        })
    }

    /// `count` cells per second, with a burst of `count`.
    pub fn per_second(count: NonZeroU32) -> Self {
        // One second divided by at most u32::MAX is at least a nanosecond... except for counts
        // above 10^9, where we clamp the interval to 1 ns.
        let interval = (Duration::from_secs(1) / count.get()).max(Duration::from_nanos(1));
        Self {
            interval,
            burst: count,
        }
    }

    /// The same rate with another burst.
    #[must_use]
    pub fn with_burst(self, burst: NonZeroU32) -> Self {
        Self { burst, ..self }
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
    pub(crate) fn tolerance(&self) -> Duration {
        self.interval * self.burst.get()
    }
}

/// The configuration form of a [`Quota`]: `{ requests = 10, period_ms = 1000, burst = 5 }`.
///
/// `burst` defaults to `requests`.
#[cfg(feature = "serde")]
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

#[cfg(feature = "serde")]
fn one_second_ms() -> u64 {
    1000
}

#[cfg(feature = "serde")]
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
            Some(b) => NonZeroU32::new(b)
                .map(|b| quota.with_burst(b))
                .ok_or_else(|| Error::InvalidQuota {
                    reason: "burst must be at least 1".into(),
                }),
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
    fn too_fast_is_an_error_that_says_what_to_do() {
        let err = Quota::new(nz(10), Duration::from_nanos(5)).unwrap_err();
        assert!(err.to_string().contains("longer period"), "{err}");
    }

    #[cfg(feature = "serde")]
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
    }
}
