//! What a circuit breaker trips on and how it recovers: [`BreakerConfig`].

use std::time::Duration;

use crate::Error;

const WHAT: &str = "circuit breaker";

/// The configuration of one circuit breaker, usually a TOML table.
///
/// Every key is optional; the defaults trip after 5 consecutive failures, stay open 5 s, and
/// close again after 2 successful probes made one at a time. Durations are in milliseconds.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `failure_threshold` | `5` | consecutive failures that open the breaker; `0` turns this off |
/// | `failure_rate` | off | share of failures (0–1] in the window that opens the breaker |
/// | `slow_call_ms` | off | a call at least this long is *slow* |
/// | `slow_call_rate` | off | share of slow calls (0–1] in the window that opens the breaker (needs `slow_call_ms`) |
/// | `window_calls` | `100` | count-based window: the last N recorded calls |
/// | `window_ms` | unset | time-based window instead: the calls of the last `window_ms` |
/// | `window_buckets` | `10` | buckets of a time-based window (it slides one bucket at a time) |
/// | `min_calls` | `20` | rates are not judged on fewer calls than this in the window |
/// | `open_ms` | `5000` | how long the breaker stays open after it trips |
/// | `open_multiplier` | `1.0` | each re-open straight from half-open multiplies the open time |
/// | `open_max_ms` | unset | cap of the growing open time (required when `open_multiplier > 1`) |
/// | `open_jitter` | `0.0` | spread the open time by ± this fraction (0–1), so a fleet does not probe in step |
/// | `half_open_successes` | `2` | successful probes in a row that close the breaker |
/// | `half_open_max_probes` | `1` | probes allowed in flight at once while half-open |
/// | `call_timeout_ms` | off | [`Breaker`](super::Breaker) fails a call that runs longer (a failure) |
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::breaker::BreakerConfig;
///
/// let cfg: BreakerConfig = toml::from_str(r#"
///     failure_threshold = 5
///     failure_rate = 0.5
///     slow_call_ms = 800
///     slow_call_rate = 0.8
///     window_ms = 30000
///     window_buckets = 10
///     min_calls = 20
///     open_ms = 2000
///     open_multiplier = 2.0
///     open_max_ms = 60000
///     open_jitter = 0.2
///     half_open_successes = 3
///     half_open_max_probes = 2
///     call_timeout_ms = 1500
/// "#).unwrap();
/// cfg.validate()?;
/// assert_eq!(cfg.open(), Duration::from_secs(2));
/// assert_eq!(cfg.call_timeout(), Some(Duration::from_millis(1500)));
///
/// let bad: BreakerConfig = toml::from_str("failure_rate = 50").unwrap();
/// assert!(bad.validate().unwrap_err().to_string().contains("0.5 for 50%"));
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failures (in the closed state) that open the breaker; 0 = off.
    pub failure_threshold: u32,
    /// Share of failed calls in the window, in (0, 1], that opens the breaker; `None` = off.
    pub failure_rate: Option<f64>,
    /// Calls taking at least this long count as slow; `None` = nothing is slow.
    pub slow_call_ms: Option<u64>,
    /// Share of slow calls in the window, in (0, 1], that opens the breaker; `None` = off.
    pub slow_call_rate: Option<f64>,
    /// Count-based window size (the last N calls). Default 100 when `window_ms` is unset.
    pub window_calls: Option<u32>,
    /// Time-based window length; excludes `window_calls`.
    pub window_ms: Option<u64>,
    /// Buckets of a time-based window.
    pub window_buckets: u32,
    /// Fewest calls in the window before a rate can open the breaker.
    pub min_calls: u32,
    /// Time spent open after the first trip.
    pub open_ms: u64,
    /// Growth of the open time on each re-open from half-open (1.0 = constant).
    pub open_multiplier: f64,
    /// Cap of the grown open time.
    pub open_max_ms: Option<u64>,
    /// ± fraction of jitter applied to each open time, in [0, 1).
    pub open_jitter: f64,
    /// Successful probes in a row that close a half-open breaker.
    pub half_open_successes: u32,
    /// Probes in flight at once while half-open.
    pub half_open_max_probes: u32,
    /// Per-call timeout applied by the async [`Breaker`](super::Breaker); `None` = none.
    pub call_timeout_ms: Option<u64>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            failure_rate: None,
            slow_call_ms: None,
            slow_call_rate: None,
            window_calls: None,
            window_ms: None,
            window_buckets: 10,
            min_calls: 20,
            open_ms: 5_000,
            open_multiplier: 1.0,
            open_max_ms: None,
            open_jitter: 0.0,
            half_open_successes: 2,
            half_open_max_probes: 1,
            call_timeout_ms: None,
        }
    }
}

/// The sliding window rates are judged over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowSpec {
    /// The last `calls` recorded calls.
    Count {
        /// Window size in calls.
        calls: u32,
    },
    /// The calls recorded in the last `length`, in `buckets` steps.
    Time {
        /// Window length.
        length: Duration,
        /// Number of buckets; the window slides one bucket (`length / buckets`) at a time.
        buckets: u32,
    },
}

impl BreakerConfig {
    /// The count-based window size used when neither `window_calls` nor `window_ms` is set.
    pub const DEFAULT_WINDOW_CALLS: u32 = 100;
    /// The largest count-based window (memory is one byte per call).
    pub const MAX_WINDOW_CALLS: u32 = 100_000;
    /// The most buckets a time-based window may have.
    pub const MAX_WINDOW_BUCKETS: u32 = 1_000;
    /// The longest duration any `*_ms` key may hold: one day.
    pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

    /// Checks that the configuration can work; the error says what to change.
    pub fn validate(&self) -> Result<(), Error> {
        for (key, rate) in [
            ("failure_rate", self.failure_rate),
            ("slow_call_rate", self.slow_call_rate),
        ] {
            if let Some(r) = rate
                && !(r > 0.0 && r <= 1.0)
            {
                let hint = if r > 1.0 && r <= 100.0 {
                    format!(" (write {} for {r}%)", r / 100.0)
                } else {
                    String::new()
                };
                return invalid(format!(
                    "{key} = {r} is not a share between 0 and 1{hint}; remove the key to turn it off"
                ));
            }
        }
        if self.slow_call_rate.is_some() && self.slow_call_ms.is_none() {
            return invalid(
                "slow_call_rate is set but slow_call_ms is not: set slow_call_ms to say how long a slow call takes"
                    .into(),
            );
        }
        if self.failure_threshold == 0
            && self.failure_rate.is_none()
            && self.slow_call_rate.is_none()
        {
            return invalid(
                "nothing can open this breaker: set failure_threshold above 0, or failure_rate, or slow_call_rate"
                    .into(),
            );
        }
        for (key, ms) in [
            ("slow_call_ms", self.slow_call_ms),
            ("window_ms", self.window_ms),
            ("open_ms", Some(self.open_ms)),
            ("open_max_ms", self.open_max_ms),
            ("call_timeout_ms", self.call_timeout_ms),
        ] {
            match ms {
                Some(0) => {
                    return invalid(format!(
                        "{key} must be at least 1 (remove the key to turn it off where that is allowed)"
                    ));
                }
                Some(ms) if Duration::from_millis(ms) > Self::MAX_DURATION => {
                    return invalid(format!(
                        "{key} = {ms} is longer than a day ({} ms); use a shorter one",
                        Self::MAX_DURATION.as_millis()
                    ));
                }
                _ => {}
            }
        }
        match (self.window_calls, self.window_ms) {
            (Some(_), Some(_)) => {
                return invalid(
                    "window_calls and window_ms are both set: keep window_calls for a count-based window or window_ms for a time-based one"
                        .into(),
                );
            }
            (Some(n), None) if n == 0 || n > Self::MAX_WINDOW_CALLS => {
                return invalid(format!(
                    "window_calls = {n} must be between 1 and {}",
                    Self::MAX_WINDOW_CALLS
                ));
            }
            (None, Some(ms)) => {
                if self.window_buckets == 0 || self.window_buckets > Self::MAX_WINDOW_BUCKETS {
                    return invalid(format!(
                        "window_buckets = {} must be between 1 and {}",
                        self.window_buckets,
                        Self::MAX_WINDOW_BUCKETS
                    ));
                }
                if ms < u64::from(self.window_buckets) {
                    return invalid(format!(
                        "window_ms = {ms} is shorter than window_buckets = {} milliseconds: lengthen the window or use fewer buckets",
                        self.window_buckets
                    ));
                }
            }
            _ => {}
        }
        if self.min_calls == 0 {
            return invalid(
                "min_calls must be at least 1 (1 judges rates from the first call)".into(),
            );
        }
        if let WindowSpec::Count { calls } = self.window()
            && self.min_calls > calls
            && (self.failure_rate.is_some() || self.slow_call_rate.is_some())
        {
            return invalid(format!(
                "min_calls = {} exceeds the window of {calls} calls, so no rate could ever open the breaker: lower min_calls or raise window_calls",
                self.min_calls
            ));
        }
        if !(self.open_multiplier.is_finite() && self.open_multiplier >= 1.0) {
            return invalid(format!(
                "open_multiplier = {} must be a number of at least 1.0 (1.0 keeps the open time constant)",
                self.open_multiplier
            ));
        }
        match self.open_max_ms {
            None if self.open_multiplier > 1.0 => {
                return invalid(
                    "open_multiplier grows the open time without bound: set open_max_ms to cap it"
                        .into(),
                );
            }
            Some(max) if max < self.open_ms => {
                return invalid(format!(
                    "open_max_ms = {max} is below open_ms = {}: raise open_max_ms to at least open_ms",
                    self.open_ms
                ));
            }
            _ => {}
        }
        if !(self.open_jitter >= 0.0 && self.open_jitter < 1.0) {
            return invalid(format!(
                "open_jitter = {} must be a fraction in [0, 1) (0.1 spreads the open time by ±10%)",
                self.open_jitter
            ));
        }
        if self.half_open_successes == 0 {
            return invalid("half_open_successes must be at least 1".into());
        }
        if self.half_open_max_probes == 0 {
            return invalid(
                "half_open_max_probes must be at least 1, or a half-open breaker could never close"
                    .into(),
            );
        }
        Ok(())
    }

    /// The sliding window rates are judged over.
    pub fn window(&self) -> WindowSpec {
        match self.window_ms {
            Some(ms) => WindowSpec::Time {
                length: Duration::from_millis(ms),
                buckets: self.window_buckets.max(1),
            },
            None => WindowSpec::Count {
                calls: self
                    .window_calls
                    .unwrap_or(Self::DEFAULT_WINDOW_CALLS)
                    .max(1),
            },
        }
    }

    /// The duration from which a call is slow, if slowness is tracked.
    pub fn slow_call(&self) -> Option<Duration> {
        self.slow_call_ms.map(Duration::from_millis)
    }

    /// Time spent open after the first trip.
    pub fn open(&self) -> Duration {
        Duration::from_millis(self.open_ms)
    }

    /// Cap of the grown open time (`open_ms` when unset).
    pub fn open_max(&self) -> Duration {
        Duration::from_millis(self.open_max_ms.unwrap_or(self.open_ms).max(self.open_ms))
    }

    /// The per-call timeout, if any.
    pub fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout_ms.map(Duration::from_millis)
    }
}

fn invalid(reason: String) -> Result<(), Error> {
    Err(Error::InvalidConfig { what: WHAT, reason })
}
