//! The retry policy: how many retries, how long to wait between them, and how to jitter.

use std::time::Duration;

use super::Jitter;
use crate::Error;

const WHAT: &str = "retry policy";

/// How a call is retried: at most `max_retries` retries after the first attempt, waiting an
/// exponential, jittered backoff between `initial_delay_ms` and `max_delay_ms` before each.
///
/// `max_retries` counts retries, not attempts: `max_retries = 3` makes up to four attempts
/// (the first try and three retries). `0` never retries.
///
/// The backoff before the n-th retry (0-based) is `min(max_delay, initial_delay ×
/// multiplier^n)`, randomised by [`jitter`](Jitter). A server's `Retry-After` (see
/// [`RetryDecision::RetryAfter`](super::RetryDecision::RetryAfter)) replaces the backoff,
/// clamped to the policy's window `[initial_delay, max_delay]`.
///
/// The default is the [`standard`](RetryPolicy::standard) preset; in TOML every key is
/// optional and defaults to it:
///
/// ```
/// use std::time::Duration;
/// use galileo_resilience::retry::{Jitter, RetryPolicy};
///
/// let policy: RetryPolicy = toml::from_str(
///     r#"
///     max_retries = 4
///     initial_delay_ms = 200
///     multiplier = 2.0
///     max_delay_ms = 5000
///     jitter = "decorrelated"
///     "#,
/// )?;
/// policy.validate()?;
/// assert_eq!(policy.initial_delay(), Duration::from_millis(200));
/// assert_eq!(policy.jitter, Jitter::Decorrelated);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Retries after the first attempt (`3` = up to four attempts; `0` = never retry).
    pub max_retries: u32,
    /// The backoff before the first retry, in milliseconds (at least 1).
    pub initial_delay_ms: u64,
    /// How much each backoff grows over the previous one (at least 1.0; unused by
    /// `decorrelated` jitter).
    pub multiplier: f64,
    /// The longest backoff, in milliseconds (at least `initial_delay_ms`, at most a day).
    pub max_delay_ms: u64,
    /// How each backoff is randomised.
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetryPolicy {
    /// The longest `max_delay_ms` accepted: one day. Longer is almost surely a unit mistake.
    pub const MAX_DELAY_LIMIT: Duration = Duration::from_secs(24 * 3600);

    /// A policy from its parts, with [`Jitter::Equal`] (change [`jitter`](Self::jitter) for
    /// another kind). Delays are kept in whole milliseconds (rounded down). Call [`validate`](Self::validate) before use, or let
    /// [`Retry::new`](super::Retry::new) do it.
    pub fn new(
        max_retries: u32,
        initial_delay: Duration,
        multiplier: f64,
        max_delay: Duration,
    ) -> Self {
        Self {
            max_retries,
            initial_delay_ms: millis(initial_delay),
            multiplier,
            max_delay_ms: millis(max_delay),
            jitter: Jitter::default(),
        }
    }

    /// The same policy with another jitter.
    #[must_use]
    pub fn with_jitter(self, jitter: Jitter) -> Self {
        Self { jitter, ..self }
    }

    /// The same policy with another retry count.
    #[must_use]
    pub fn with_max_retries(self, max_retries: u32) -> Self {
        Self {
            max_retries,
            ..self
        }
    }

    /// The backoff before the first retry.
    pub fn initial_delay(&self) -> Duration {
        Duration::from_millis(self.initial_delay_ms)
    }

    /// The longest backoff.
    pub fn max_delay(&self) -> Duration {
        Duration::from_millis(self.max_delay_ms)
    }

    /// Checks that the policy can work, saying what to change when it cannot.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidConfig { what: WHAT, reason });
        if self.initial_delay_ms == 0 {
            return invalid(
                "initial_delay_ms is 0: set it to at least 1 (retrying without a pause hammers a \
                 failing provider)"
                    .into(),
            );
        }
        if !self.multiplier.is_finite() || self.multiplier < 1.0 {
            return invalid(format!(
                "multiplier is {}: set it to 1.0 (constant backoff) or more (2.0 doubles each delay)",
                self.multiplier
            ));
        }
        if self.max_delay_ms < self.initial_delay_ms {
            return invalid(format!(
                "max_delay_ms ({}) is below initial_delay_ms ({}): raise max_delay_ms to at least \
                 {} or lower initial_delay_ms",
                self.max_delay_ms, self.initial_delay_ms, self.initial_delay_ms
            ));
        }
        if self.max_delay() > Self::MAX_DELAY_LIMIT {
            return invalid(format!(
                "max_delay_ms is {} ms, more than a day: delays are in milliseconds \
                 (60000 = one minute); use at most {}",
                self.max_delay_ms,
                Self::MAX_DELAY_LIMIT.as_millis()
            ));
        }
        Ok(())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<RetryPolicy, String> {
        let p: RetryPolicy = toml::from_str(s).map_err(|e| e.to_string())?;
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }

    #[test]
    fn an_empty_table_is_the_standard_preset() {
        assert_eq!(parse("").unwrap(), RetryPolicy::standard());
    }

    #[test]
    fn every_example_in_the_user_guide_parses_and_validates() {
        let guide = include_str!("../../../../docs/resilience-retry.md");
        let mut found = 0;
        for block in toml_blocks(guide) {
            let table: toml::Table =
                toml::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
            if let Some(policy) = table.get("retry") {
                let p: RetryPolicy = policy.clone().try_into().unwrap();
                p.validate().unwrap();
                found += 1;
            }
            if let Some(budget) = table.get("retry_budget") {
                let b: super::super::RetryBudgetConfig = budget.clone().try_into().unwrap();
                b.validate().unwrap();
                found += 1;
            }
        }
        assert!(
            found >= 2,
            "the guide should show a [retry] and a [retry_budget] table"
        );
    }

    fn toml_blocks(md: &str) -> Vec<String> {
        let mut blocks = Vec::new();
        let mut current: Option<String> = None;
        for line in md.lines() {
            match (&mut current, line.trim_start()) {
                (None, "```toml") => current = Some(String::new()),
                (Some(_), "```") => blocks.push(current.take().unwrap_or_default()),
                (Some(b), _) => {
                    b.push_str(line);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
        blocks
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = parse("max_retry = 3").unwrap_err();
        assert!(err.contains("unknown field `max_retry`"), "{err}");
        assert!(
            err.contains("max_retries"),
            "should list the valid keys: {err}"
        );
    }

    #[test]
    fn an_unknown_jitter_lists_the_kinds() {
        let err = parse(r#"jitter = "random""#).unwrap_err();
        for kind in ["none", "full", "equal", "decorrelated"] {
            assert!(err.contains(kind), "{err}");
        }
    }

    #[test]
    fn a_zero_initial_delay_says_what_to_set() {
        let err = parse("initial_delay_ms = 0").unwrap_err();
        assert!(
            err.contains("initial_delay_ms is 0") && err.contains("at least 1"),
            "{err}"
        );
    }

    #[test]
    fn a_shrinking_or_absurd_multiplier_is_refused() {
        for m in ["0.5", "nan", "inf", "-2.0"] {
            let err = parse(&format!("multiplier = {m}")).unwrap_err();
            assert!(
                err.contains("multiplier is") && err.contains("1.0"),
                "{m}: {err}"
            );
        }
        assert!(parse("multiplier = 1.0").is_ok());
    }

    #[test]
    fn max_below_initial_says_both_numbers() {
        let err = parse("initial_delay_ms = 500\nmax_delay_ms = 100").unwrap_err();
        assert!(
            err.contains("max_delay_ms (100) is below initial_delay_ms (500)"),
            "{err}"
        );
        assert!(parse("initial_delay_ms = 500\nmax_delay_ms = 500").is_ok());
    }

    #[test]
    fn a_delay_in_the_wrong_unit_is_caught() {
        let err = parse("max_delay_ms = 86400001").unwrap_err();
        assert!(
            err.contains("more than a day") && err.contains("milliseconds"),
            "{err}"
        );
        assert!(parse("max_delay_ms = 86400000").is_ok());
    }

    #[test]
    fn duration_accessors_and_builders() {
        let p = RetryPolicy::new(2, Duration::from_millis(150), 3.0, Duration::from_secs(2))
            .with_jitter(Jitter::Full)
            .with_max_retries(7);
        assert_eq!(p.initial_delay(), Duration::from_millis(150));
        assert_eq!(p.max_delay(), Duration::from_secs(2));
        assert_eq!(
            (p.max_retries, p.jitter, p.multiplier),
            (7, Jitter::Full, 3.0)
        );
        assert!(p.validate().is_ok());
    }
}
