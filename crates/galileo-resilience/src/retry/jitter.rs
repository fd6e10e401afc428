//! How a delay is randomised so that many clients failing together do not retry together.

use std::time::Duration;

use rand::{Rng, RngExt};

/// The randomisation applied to each backoff delay.
///
/// With `base` = `min(max_delay, initial_delay × multiplier^n)` for the n-th retry (0-based):
///
/// | kind | delay |
/// |---|---|
/// | `none` | `base` |
/// | `full` | uniform in `[0, base]` |
/// | `equal` | `base / 2` + uniform in `[0, base / 2]` |
/// | `decorrelated` | `min(max_delay, uniform in [initial_delay, 3 × previous delay])`; the first previous delay is `initial_delay`; ignores `multiplier` |
///
/// In configuration it is written in lower case: `jitter = "equal"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// No randomness: every client waits exactly the exponential backoff.
    None,
    /// Anywhere between nothing and the exponential backoff (spreads retries the most; a retry
    /// may follow at once).
    Full,
    /// At least half the exponential backoff, plus a random share of the other half (the
    /// default: spreads retries but never retries sooner than half the backoff).
    #[default]
    Equal,
    /// Each delay drawn between `initial_delay` and three times the previous one, capped at
    /// `max_delay` (AWS's "decorrelated jitter").
    Decorrelated,
}

impl Jitter {
    /// The word used in configuration (`"none"`, `"full"`, `"equal"`, `"decorrelated"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated => "decorrelated",
        }
    }
}

/// A uniform draw in `[low, high]` (`low` when `high <= low`).
pub(super) fn uniform<R: Rng + ?Sized>(rng: &mut R, low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    // Delays are capped at a day (see `RetryPolicy::MAX_DELAY_LIMIT`), so nanoseconds fit u64.
    let lo = nanos(low);
    let hi = nanos(high);
    Duration::from_nanos(rng.random_range(lo..=hi))
}

/// A duration in nanoseconds, saturating at `u64::MAX` (584 years).
pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
