//! The retry budget: retries may be at most a share of recent requests plus a small floor, so
//! a failing provider sees a bounded amount of extra load instead of a retry storm.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::Error;

const WHAT: &str = "retry budget";

/// Buckets the window is split into: entries age out one tenth of the window at a time.
const BUCKETS: u64 = 10;

/// Fixed-point units per retry, so the ratio is exact to a millionth without floating point in
/// the hot path.
const UNITS: u128 = 1_000_000;

/// The configuration of a [`RetryBudget`].
///
/// Over its window, the budget allows `min_retries_per_sec × window seconds` retries plus
/// `retry_ratio` retries per request (first attempt) made in the window. With the defaults
/// (10 s, 10 per second, 0.2) a provider serving 1,000 requests a second sees at most 20 %
/// extra load from retries, and a quiet one can still be retried 100 times per window.
///
/// ```
/// use galileo_resilience::retry::RetryBudgetConfig;
///
/// let cfg: RetryBudgetConfig = toml::from_str("window_ms = 5000\nretry_ratio = 0.1")?;
/// cfg.validate()?;
/// assert_eq!(cfg.min_retries_per_sec, 10);
/// assert_eq!(cfg.window().as_secs(), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryBudgetConfig {
    /// How far back requests and retries count, in milliseconds (1 to 3,600,000).
    pub window_ms: u64,
    /// Retries allowed per second of the window whatever the traffic, so a quiet client can
    /// still retry.
    pub min_retries_per_sec: u32,
    /// Retries allowed per request in the window (0.2 = one retry for every five requests).
    pub retry_ratio: f64,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        Self {
            window_ms: 10_000,
            min_retries_per_sec: 10,
            retry_ratio: 0.2,
        }
    }
}

impl RetryBudgetConfig {
    /// The longest window accepted: an hour. A budget is about recent traffic.
    pub const MAX_WINDOW: Duration = Duration::from_secs(3600);
    /// The largest `retry_ratio` accepted.
    pub const MAX_RATIO: f64 = 1000.0;

    /// How far back requests and retries count.
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms)
    }

    /// Checks that the budget can work, saying what to change when it cannot.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidConfig { what: WHAT, reason });
        if self.window_ms == 0 {
            return invalid(
                "window_ms is 0: set it to the span of recent traffic that counts, \
                            such as 10000 (ten seconds)"
                    .into(),
            );
        }
        if self.window() > Self::MAX_WINDOW {
            return invalid(format!(
                "window_ms is {} ms, more than an hour: the window is in milliseconds \
                 (10000 = ten seconds); use at most {}",
                self.window_ms,
                Self::MAX_WINDOW.as_millis()
            ));
        }
        if !self.retry_ratio.is_finite()
            || self.retry_ratio < 0.0
            || self.retry_ratio > Self::MAX_RATIO
        {
            return invalid(format!(
                "retry_ratio is {}: set the share of requests that may be retried, from 0.0 to \
                 {} (0.2 = one retry per five requests)",
                self.retry_ratio,
                Self::MAX_RATIO
            ));
        }
        if self.min_retries_per_sec == 0 && self.retry_ratio == 0.0 {
            return invalid(
                "min_retries_per_sec and retry_ratio are both 0, so no retry would ever be \
                 allowed: raise either (defaults 10 and 0.2), or set max_retries = 0 to disable \
                 retries"
                    .into(),
            );
        }
        Ok(())
    }
}

/// How many retries the budget allows, over a sliding window. Sans-IO: every call takes `now`.
///
/// Call [`deposit`](Self::deposit) once per request (first attempts, not retries) and
/// [`try_withdraw`](Self::try_withdraw) before each retry; retry only when it returns true.
/// Share one budget between every retry loop that calls the same provider (see
/// [`SharedRetryBudget`]), so that together they cannot storm it.
///
/// The window is split into ten buckets that age out one at a time, so what counts is the
/// current bucket and the nine before it (between 90 % and 100 % of `window_ms`). At every
/// moment, the retries counted in the window are at most `min_retries_per_sec × window
/// seconds + retry_ratio × requests counted in the window`. The ratio is kept to a millionth
/// and rounded down, so the budget never allows more than the configuration says.
///
/// Time that seems to go backwards (an older `now`) is taken as the latest `now` seen.
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::retry::{RetryBudget, RetryBudgetConfig};
/// use tokio::time::Instant;
///
/// let cfg = RetryBudgetConfig { window_ms: 1000, min_retries_per_sec: 1, retry_ratio: 0.5 };
/// let mut budget = RetryBudget::new(&cfg)?;
/// let now = Instant::now();
/// for _ in 0..4 {
///     budget.deposit(now);
/// }
/// // A floor of 1 retry, plus half of 4 requests.
/// assert_eq!(budget.available(now), 3);
/// assert!((0..3).all(|_| budget.try_withdraw(now)));
/// assert!(!budget.try_withdraw(now));
/// // A window later, the floor is back.
/// assert!(budget.try_withdraw(now + Duration::from_secs(1)));
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RetryBudget {
    bucket_width: Duration,
    /// Units a request deposits: `retry_ratio × UNITS`, rounded down.
    credit: u128,
    /// Units the floor provides over a window: `min_retries_per_sec × window × UNITS`.
    reserve: u128,
    /// The instant bucket 0 starts: the first `now` seen.
    epoch: Option<Instant>,
    /// The latest bucket index seen.
    newest: u64,
    ring: [Bucket; BUCKETS as usize],
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    index: u64,
    deposits: u64,
    withdrawals: u64,
}

impl RetryBudget {
    /// A budget for `config`, or an error saying what to change in it.
    pub fn new(config: &RetryBudgetConfig) -> Result<Self, Error> {
        config.validate()?;
        // Validated: the ratio is finite and in [0, 1000], so the product fits and `as`
        // rounds down.
        let credit = (config.retry_ratio * UNITS as f64) as u128;
        let reserve =
            u128::from(config.min_retries_per_sec) * u128::from(config.window_ms) * UNITS / 1000;
        Ok(Self {
            bucket_width: config.window() / BUCKETS as u32,
            credit,
            reserve,
            epoch: None,
            newest: 0,
            ring: [Bucket::default(); BUCKETS as usize],
        })
    }

    /// Records a request (a first attempt), which earns `retry_ratio` retries for the window.
    pub fn deposit(&mut self, now: Instant) {
        let b = self.current(now);
        b.deposits = b.deposits.saturating_add(1);
    }

    /// Takes one retry from the budget if it holds one; false means do not retry.
    pub fn try_withdraw(&mut self, now: Instant) -> bool {
        self.current(now);
        if self.units(self.newest) < UNITS {
            return false;
        }
        let b = self.current(now);
        b.withdrawals = b.withdrawals.saturating_add(1);
        true
    }

    /// Retries the budget would allow now.
    pub fn available(&mut self, now: Instant) -> u64 {
        self.current(now);
        u64::try_from(self.units(self.newest) / UNITS).unwrap_or(u64::MAX)
    }

    /// The span of time the budget counts: `window_ms`.
    pub fn window(&self) -> Duration {
        self.bucket_width * BUCKETS as u32
    }

    /// The bucket `now` falls in, cleared if it held an older bucket's counts.
    fn current(&mut self, now: Instant) -> &mut Bucket {
        let epoch = *self.epoch.get_or_insert(now);
        let elapsed = now.saturating_duration_since(epoch).as_nanos();
        let index = u64::try_from(elapsed / self.bucket_width.as_nanos()).unwrap_or(u64::MAX);
        self.newest = self.newest.max(index);
        let index = self.newest;
        let b = &mut self.ring[(index % BUCKETS) as usize];
        if b.index != index {
            *b = Bucket {
                index,
                ..Bucket::default()
            };
        }
        b
    }

    /// Units left in the window ending with bucket `index`: reserve + credit × requests −
    /// UNITS × retries, or 0 if that is negative.
    fn units(&self, index: u64) -> u128 {
        let (deposits, withdrawals) = self
            .ring
            .iter()
            .filter(|b| b.index <= index && index - b.index < BUCKETS)
            .fold((0u128, 0u128), |(d, w), b| {
                (d + u128::from(b.deposits), w + u128::from(b.withdrawals))
            });
        (self.reserve + self.credit * deposits).saturating_sub(UNITS * withdrawals)
    }
}

/// A [`RetryBudget`] shared by many retry loops (and tasks), on tokio's clock. Cloning shares
/// it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::retry::{RetryBudgetConfig, SharedRetryBudget};
///
/// let budget = SharedRetryBudget::new(&RetryBudgetConfig::default())?;
/// let for_another_loop = budget.clone();
/// budget.deposit();
/// assert!(for_another_loop.try_withdraw());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SharedRetryBudget {
    inner: Arc<Mutex<RetryBudget>>,
}

impl SharedRetryBudget {
    /// A shared budget for `config`, or an error saying what to change in it.
    pub fn new(config: &RetryBudgetConfig) -> Result<Self, Error> {
        Ok(Self::from(RetryBudget::new(config)?))
    }

    /// Records a request (a first attempt) now.
    pub fn deposit(&self) {
        self.lock().deposit(Instant::now());
    }

    /// Takes one retry now if the budget holds one.
    pub fn try_withdraw(&self) -> bool {
        self.lock().try_withdraw(Instant::now())
    }

    /// Retries the budget would allow now.
    pub fn available(&self) -> u64 {
        self.lock().available(Instant::now())
    }

    /// The budget itself, for sans-IO use with an explicit `now`. Do not hold the guard across
    /// an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, RetryBudget> {
        // The state is counters; a panic elsewhere cannot leave them inconsistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<RetryBudget> for SharedRetryBudget {
    fn from(budget: RetryBudget) -> Self {
        Self {
            inner: Arc::new(Mutex::new(budget)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(window_ms: u64, floor: u32, ratio: f64) -> RetryBudget {
        RetryBudget::new(&RetryBudgetConfig {
            window_ms,
            min_retries_per_sec: floor,
            retry_ratio: ratio,
        })
        .unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_floor_alone_allows_floor_times_window_seconds() {
        let mut b = budget(2000, 3, 0.0);
        let t = Instant::now();
        let granted = (0..100).filter(|_| b.try_withdraw(t)).count();
        assert_eq!(granted, 6);
    }

    #[test]
    fn requests_earn_their_ratio() {
        let mut b = budget(1000, 0, 0.25);
        let t = Instant::now();
        for _ in 0..10 {
            b.deposit(t);
        }
        // 10 × 0.25 = 2.5, rounded down.
        assert_eq!(b.available(t), 2);
        assert!(b.try_withdraw(t) && b.try_withdraw(t) && !b.try_withdraw(t));
        b.deposit(t);
        b.deposit(t);
        // 12 × 0.25 = 3: one more.
        assert!(b.try_withdraw(t) && !b.try_withdraw(t));
    }

    #[test]
    fn a_ratio_that_is_not_exact_in_binary_never_rounds_up() {
        let mut b = budget(1000, 0, 0.1);
        let t = Instant::now();
        for _ in 0..10 {
            b.deposit(t);
        }
        assert_eq!(b.available(t), 1);
        for _ in 0..9 {
            b.deposit(t);
        }
        assert_eq!(b.available(t), 1, "19 × 0.1 = 1.9");
    }

    #[test]
    fn the_ratio_is_exact_to_a_millionth() {
        let t = Instant::now();
        let mut b = budget(1000, 0, 0.999_999);
        b.deposit(t);
        assert_eq!(b.available(t), 0, "0.999999 of a retry is not a retry");
        let mut b = budget(1000, 0, 1.0);
        b.deposit(t);
        assert_eq!(b.available(t), 1);
        let mut b = budget(1000, 0, 0.000_001);
        for _ in 0..999_999 {
            b.deposit(t);
        }
        assert_eq!(b.available(t), 0);
        b.deposit(t);
        assert_eq!(
            b.available(t),
            1,
            "a million requests at 0.000001 earn one retry"
        );
    }

    #[test]
    fn entries_age_out_a_tenth_of_the_window_at_a_time() {
        let mut b = budget(1000, 0, 1.0);
        let t0 = Instant::now();
        b.deposit(t0); // bucket 0
        b.deposit(t0 + ms(450)); // bucket 4
        assert_eq!(b.available(t0 + ms(999)), 2);
        // Bucket 0 leaves at 1000 ms, bucket 4 at 1400 ms.
        assert_eq!(b.available(t0 + ms(1000)), 1);
        assert_eq!(b.available(t0 + ms(1399)), 1);
        assert_eq!(b.available(t0 + ms(1400)), 0);
    }

    #[test]
    fn withdrawals_age_out_too() {
        let mut b = budget(1000, 1, 0.0);
        let t0 = Instant::now();
        assert!(b.try_withdraw(t0));
        assert!(!b.try_withdraw(t0 + ms(999)));
        assert!(b.try_withdraw(t0 + ms(1000)));
    }

    #[test]
    fn a_long_silence_clears_everything() {
        let mut b = budget(1000, 0, 1.0);
        let t0 = Instant::now();
        for _ in 0..5 {
            b.deposit(t0);
        }
        // Bucket 10 reuses bucket 0's slot; bucket 25 shares its slot with bucket 5 only.
        assert_eq!(b.available(t0 + ms(2500)), 0);
        assert_eq!(
            b.available(t0 + ms(1000)),
            0,
            "time going backwards counts as the latest"
        );
    }

    #[test]
    fn a_huge_floor_saturates_instead_of_overflowing() {
        let mut b = budget(3_600_000, u32::MAX, RetryBudgetConfig::MAX_RATIO);
        let t = Instant::now();
        b.deposit(t);
        assert!(b.available(t) > 1_000_000_000);
        assert!(b.try_withdraw(t));
    }

    #[test]
    fn the_shared_budget_is_one_budget() {
        let cfg = RetryBudgetConfig {
            window_ms: 1000,
            min_retries_per_sec: 1,
            retry_ratio: 0.0,
        };
        let a = SharedRetryBudget::new(&cfg).unwrap();
        let b = a.clone();
        assert_eq!(b.available(), 1);
        assert!(a.try_withdraw());
        assert!(!b.try_withdraw());
        a.deposit();
        assert_eq!(a.lock().available(Instant::now()), 0);
    }

    fn parse(s: &str) -> Result<RetryBudgetConfig, String> {
        let c: RetryBudgetConfig = toml::from_str(s).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn config_defaults_and_mistakes() {
        assert_eq!(parse("").unwrap(), RetryBudgetConfig::default());
        let err = parse("ratio = 0.2").unwrap_err();
        assert!(
            err.contains("unknown field `ratio`") && err.contains("retry_ratio"),
            "{err}"
        );
        let err = parse("window_ms = 0").unwrap_err();
        assert!(err.contains("window_ms is 0"), "{err}");
        let err = parse("window_ms = 3600001").unwrap_err();
        assert!(
            err.contains("more than an hour") && err.contains("milliseconds"),
            "{err}"
        );
        for r in ["-0.1", "nan", "1000.5"] {
            let err = parse(&format!("retry_ratio = {r}")).unwrap_err();
            assert!(
                err.contains("retry_ratio is") && err.contains("0.2 = one retry"),
                "{err}"
            );
        }
        let err = parse("min_retries_per_sec = 0\nretry_ratio = 0.0").unwrap_err();
        assert!(
            err.contains("both 0") && err.contains("max_retries = 0"),
            "{err}"
        );
        assert!(parse("min_retries_per_sec = 0").is_ok());
        assert!(parse("retry_ratio = 0.0").is_ok());
    }
}
