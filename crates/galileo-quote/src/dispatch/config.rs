//! The dispatcher's configuration: `engine.quote_parallelism`, the per-backend override and
//! the batch interval.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::learn::LearnConfig;
use crate::QuoteError;

/// How many round trips may be in flight at once.
///
/// In TOML: `"auto"` or a positive integer (`1` is serial).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuoteParallelism {
    /// `min(ready sizes, IP capacity, backend limit)`.
    #[default]
    Auto,
    /// At most this many, still capped by IP capacity and the backend limit.
    Fixed(NonZeroUsize),
}

impl QuoteParallelism {
    /// One round trip at a time.
    pub const SERIAL: QuoteParallelism = QuoteParallelism::Fixed(NonZeroUsize::MIN);

    /// The configured cap (`None` for auto).
    pub fn cap(self) -> Option<usize> {
        match self {
            QuoteParallelism::Auto => None,
            QuoteParallelism::Fixed(n) => Some(n.get()),
        }
    }
}

impl fmt::Display for QuoteParallelism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuoteParallelism::Auto => f.write_str("auto"),
            QuoteParallelism::Fixed(n) => write!(f, "{n}"),
        }
    }
}

impl<'de> Deserialize<'de> for QuoteParallelism {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = QuoteParallelism;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#""auto" or a positive integer (1 = serial)"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.eq_ignore_ascii_case("auto") {
                    return Ok(QuoteParallelism::Auto);
                }
                let n: u64 = v
                    .parse()
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))?;
                self.visit_u64(n)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                usize::try_from(v)
                    .ok()
                    .and_then(NonZeroUsize::new)
                    .map(QuoteParallelism::Fixed)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|v| self.visit_u64(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// How a [`QuoteDispatcher`](crate::QuoteDispatcher) runs. Every key is optional.
///
/// ```toml
/// strategy = "blind"
/// quote_parallelism = "auto"        # or 8, or 1 (serial)
/// parallelism_override = 4          # this backend's own cap, replacing quote_parallelism
/// quote_batch_interval_ms = 0       # pause of a worker between two round trips
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// The `strategy` label of the metrics.
    pub strategy: String,
    /// `engine.quote_parallelism`.
    pub quote_parallelism: QuoteParallelism,
    /// The backend's `parallelism_override`: replaces `quote_parallelism` when set.
    pub parallelism_override: Option<QuoteParallelism>,
    /// `engine.quote_batch_interval_ms`: how long a worker waits after a round trip before it
    /// takes the next. Widened automatically while IPs cool down.
    pub quote_batch_interval_ms: u64,
    /// The first widened interval when `quote_batch_interval_ms` is 0 (doubles per step).
    pub batch_interval_step_ms: u64,
    /// The widest the interval grows.
    pub max_batch_interval_ms: u64,
    /// How often the interval may move one step (wider while IPs cool down, narrower after).
    pub batch_interval_period_ms: u64,
    /// Learn the provider's per-IP rate instead of being told (`[learn_rate]`; unset: pace
    /// only as the allocator's backend is configured). Needs the source registered as an
    /// allocator backend (`with_backend`).
    pub learn_rate: Option<LearnConfig>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            strategy: "blind".into(),
            quote_parallelism: QuoteParallelism::Auto,
            parallelism_override: None,
            quote_batch_interval_ms: 0,
            batch_interval_step_ms: 50,
            max_batch_interval_ms: 5_000,
            batch_interval_period_ms: 500,
            learn_rate: None,
        }
    }
}

impl DispatchConfig {
    /// Checks the configuration; the error says what to change.
    pub fn validate(&self) -> Result<(), QuoteError> {
        const DAY_MS: u64 = 86_400_000;
        let bad = |m: String| Err(QuoteError::Config(m));
        if self.strategy.is_empty() {
            return bad("strategy must name the strategy (the metrics' label)".into());
        }
        if self.batch_interval_step_ms == 0 {
            return bad("batch_interval_step_ms must be at least 1".into());
        }
        if self.max_batch_interval_ms > DAY_MS || self.quote_batch_interval_ms > DAY_MS {
            return bad("batch intervals are capped at a day (86400000 ms)".into());
        }
        if self.max_batch_interval_ms < self.quote_batch_interval_ms {
            return bad(format!(
                "max_batch_interval_ms ({}) is below quote_batch_interval_ms ({}): raise it",
                self.max_batch_interval_ms, self.quote_batch_interval_ms
            ));
        }
        if self.batch_interval_period_ms == 0 || self.batch_interval_period_ms > DAY_MS {
            return bad("batch_interval_period_ms must be in 1..=86400000".into());
        }
        if let Some(learn) = &self.learn_rate {
            learn.validate()?;
        }
        Ok(())
    }

    /// The parallelism in force: the override when set, else `quote_parallelism`.
    pub fn parallelism(&self) -> QuoteParallelism {
        self.parallelism_override.unwrap_or(self.quote_parallelism)
    }

    pub(crate) fn interval(&self) -> Duration {
        Duration::from_millis(self.quote_batch_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        engine: DispatchConfig,
    }

    fn parse(s: &str) -> Result<DispatchConfig, String> {
        serde_json::from_str::<Doc>(s)
            .map(|d| d.engine)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parallelism_parses_auto_numbers_and_refuses_zero() {
        let c =
            parse(r#"{"engine":{"quote_parallelism":"auto","parallelism_override":4}}"#).unwrap();
        assert_eq!(c.quote_parallelism, QuoteParallelism::Auto);
        assert_eq!(c.parallelism().cap(), Some(4));
        assert_eq!(
            parse(r#"{"engine":{"quote_parallelism":1}}"#)
                .unwrap()
                .parallelism(),
            QuoteParallelism::SERIAL
        );
        assert!(
            parse(r#"{"engine":{"quote_parallelism":0}}"#)
                .unwrap_err()
                .contains("positive integer")
        );
        assert!(
            parse(r#"{"engine":{"quote_parallelism":"many"}}"#)
                .unwrap_err()
                .contains("auto")
        );
        assert!(
            parse(r#"{"engine":{"quote_paralelism":2}}"#)
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn validate_names_the_fix() {
        let c = DispatchConfig {
            quote_batch_interval_ms: 10_000,
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("raise it"));
        assert!(DispatchConfig::default().validate().is_ok());
    }
}
