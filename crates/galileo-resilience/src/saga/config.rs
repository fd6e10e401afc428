//! Saga configuration: timeouts and retries for executions and compensations, per step.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Error;

/// How one step's execution (or compensation) is attempted: a timeout per attempt, and how
/// many times a failed or timed-out attempt is retried, after what delay.
///
/// In TOML, every key is optional: `{ timeout_ms = 10000, max_retries = 0, retry_delay_ms = 100 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepPolicy {
    /// Longest an attempt may run before it is cancelled and counts as failed (ms, 1 to
    /// 86 400 000).
    pub timeout_ms: u64,
    /// Attempts after the first one (0 to 100). Errors the step calls not retryable
    /// ([`Step::is_retryable`](super::Step::is_retryable)) are never retried.
    pub max_retries: u32,
    /// Pause before each retry (ms, at most 3 600 000).
    pub retry_delay_ms: u64,
}

impl StepPolicy {
    /// The longest accepted timeout: a day.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
    /// The longest accepted retry delay: an hour.
    pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3_600);
    /// The most retries accepted.
    pub const MAX_RETRIES: u32 = 100;

    /// The default for executions: 10 s timeout, no retry.
    pub const EXECUTE: StepPolicy = StepPolicy {
        timeout_ms: 10_000,
        max_retries: 0,
        retry_delay_ms: 100,
    };

    /// The default for compensations: 10 s timeout, 3 retries 200 ms apart. Compensations
    /// retry by default because giving up leaves the saga half done.
    pub const COMPENSATE: StepPolicy = StepPolicy {
        timeout_ms: 10_000,
        max_retries: 3,
        retry_delay_ms: 200,
    };

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The pause before a retry.
    pub fn retry_delay(&self) -> Duration {
        Duration::from_millis(self.retry_delay_ms)
    }

    /// Attempts in all: the first one plus the retries.
    pub fn max_attempts(&self) -> u32 {
        self.max_retries.saturating_add(1)
    }

    /// Checks the bounds; `at` names the policy in the message (`compensate`,
    /// `steps.land.execute`).
    pub fn validate(&self, at: &str) -> Result<(), Error> {
        let bad = |reason: String| Error::InvalidConfig {
            what: "saga",
            reason,
        };
        if self.timeout_ms == 0 {
            return Err(bad(format!(
                "{at}.timeout_ms is 0: give every attempt a positive timeout (e.g. 10000), an attempt that never ends would hold the saga forever"
            )));
        }
        if self.timeout() > Self::MAX_TIMEOUT {
            return Err(bad(format!(
                "{at}.timeout_ms = {} is longer than a day: use at most 86400000",
                self.timeout_ms
            )));
        }
        if self.max_retries > Self::MAX_RETRIES {
            return Err(bad(format!(
                "{at}.max_retries = {} is more than {}: lower it (a step failing that often needs a fix, not more tries)",
                self.max_retries,
                Self::MAX_RETRIES
            )));
        }
        if self.retry_delay() > Self::MAX_RETRY_DELAY {
            return Err(bad(format!(
                "{at}.retry_delay_ms = {} is longer than an hour: use at most 3600000",
                self.retry_delay_ms
            )));
        }
        Ok(())
    }
}

impl Default for StepPolicy {
    fn default() -> Self {
        Self::EXECUTE
    }
}

/// The policies of one named step, overriding the saga-wide ones. A policy given here
/// replaces the saga-wide one whole: keys it leaves out take [`StepPolicy`]'s defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepOverride {
    /// How this step executes.
    pub execute: Option<StepPolicy>,
    /// How this step compensates.
    pub compensate: Option<StepPolicy>,
}

/// A saga's configuration.
///
/// ```
/// use galileo_resilience::saga::SagaConfig;
///
/// let config: SagaConfig = toml::from_str(r#"
///     events_capacity = 64
///
///     [execute]            # every step, unless overridden
///     timeout_ms = 2000
///     max_retries = 1
///     retry_delay_ms = 50
///
///     [compensate]         # every compensation, unless overridden
///     max_retries = 5
///
///     [steps.land.execute] # one step
///     timeout_ms = 30000
/// "#)?;
/// config.validate()?;
/// assert_eq!(config.execute_policy("land").timeout().as_secs(), 30);
/// assert_eq!(config.execute_policy("land").max_retries, 0); // replaced whole
/// assert_eq!(config.execute_policy("reserve").max_retries, 1);
/// assert_eq!(config.compensate_policy("land").max_retries, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SagaConfig {
    /// How every step executes unless [`steps`](Self::steps) says otherwise
    /// (default [`StepPolicy::EXECUTE`]).
    pub execute: StepPolicy,
    /// How every step compensates unless [`steps`](Self::steps) says otherwise
    /// (default [`StepPolicy::COMPENSATE`]).
    pub compensate: StepPolicy,
    /// Overrides by step name. A name that is not a step of the saga is an error when the saga
    /// is built, so a typo cannot silently leave the default in force.
    pub steps: BTreeMap<String, StepOverride>,
    /// Events a slow subscriber may fall behind by before it loses the oldest (1 to 65 536,
    /// default 256).
    pub events_capacity: usize,
}

impl SagaConfig {
    /// The most events a subscriber may lag by.
    pub const MAX_EVENTS_CAPACITY: usize = 65_536;

    /// The execution policy of the step called `step`.
    pub fn execute_policy(&self, step: &str) -> StepPolicy {
        self.steps
            .get(step)
            .and_then(|o| o.execute)
            .unwrap_or(self.execute)
    }

    /// The compensation policy of the step called `step`.
    pub fn compensate_policy(&self, step: &str) -> StepPolicy {
        self.steps
            .get(step)
            .and_then(|o| o.compensate)
            .unwrap_or(self.compensate)
    }

    /// Sets the execution policy of one step (builder style, for configuration in code).
    #[must_use]
    pub fn with_execute(mut self, step: &str, policy: StepPolicy) -> Self {
        self.steps.entry(step.to_owned()).or_default().execute = Some(policy);
        self
    }

    /// Sets the compensation policy of one step (builder style).
    #[must_use]
    pub fn with_compensate(mut self, step: &str, policy: StepPolicy) -> Self {
        self.steps.entry(step.to_owned()).or_default().compensate = Some(policy);
        self
    }

    /// Checks every policy and the event capacity. Step names are checked against the saga's
    /// steps by [`Saga::new`](super::Saga::new).
    pub fn validate(&self) -> Result<(), Error> {
        self.execute.validate("execute")?;
        self.compensate.validate("compensate")?;
        for (name, o) in &self.steps {
            if let Some(p) = &o.execute {
                p.validate(&format!("steps.{name}.execute"))?;
            }
            if let Some(p) = &o.compensate {
                p.validate(&format!("steps.{name}.compensate"))?;
            }
        }
        if self.events_capacity == 0 || self.events_capacity > Self::MAX_EVENTS_CAPACITY {
            return Err(Error::InvalidConfig {
                what: "saga",
                reason: format!(
                    "events_capacity = {} is out of range: use 1 to {}",
                    self.events_capacity,
                    Self::MAX_EVENTS_CAPACITY
                ),
            });
        }
        Ok(())
    }
}

impl Default for SagaConfig {
    fn default() -> Self {
        Self {
            execute: StepPolicy::EXECUTE,
            compensate: StepPolicy::COMPENSATE,
            steps: BTreeMap::new(),
            events_capacity: 256,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SagaConfig, String> {
        let c: SagaConfig = toml::from_str(s).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    /// The example in the user guide parses, validates and means what the guide says.
    #[test]
    fn the_guides_example_parses() {
        let guide = include_str!("../../../../docs/resilience-saga.md");
        let start = guide
            .find("```toml\n")
            .expect("the guide has a TOML example")
            + 8;
        let len = guide[start..].find("```").unwrap();
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Doc {
            sagas: BTreeMap<String, SagaConfig>,
        }
        let doc: Doc = toml::from_str(&guide[start..start + len]).unwrap();
        let c = &doc.sagas["execution"];
        c.validate().unwrap();
        assert_eq!(
            c.execute_policy("reserve"),
            StepPolicy {
                timeout_ms: 2_000,
                max_retries: 1,
                retry_delay_ms: 50,
            }
        );
        assert_eq!(c.execute_policy("land").timeout(), Duration::from_secs(30));
        assert_eq!(c.execute_policy("land").max_retries, 0);
        assert_eq!(c.compensate_policy("reserve").max_retries, 10);
        assert_eq!(c.compensate_policy("land").max_retries, 5);
        assert_eq!(c.events_capacity, 1024);
    }

    #[test]
    fn defaults() {
        let c = parse("").unwrap();
        assert_eq!(c, SagaConfig::default());
        assert_eq!(c.execute_policy("x").timeout(), Duration::from_secs(10));
        assert_eq!(c.execute_policy("x").max_attempts(), 1);
        assert_eq!(c.compensate_policy("x").max_attempts(), 4);
        assert_eq!(
            c.compensate_policy("x").retry_delay(),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn mistakes_say_what_to_change() {
        let cases = [
            ("[execute]\ntimeout = 5", "unknown field `timeout`"),
            ("[steps.land]\ntimeout_ms = 5", "unknown field `timeout_ms`"),
            (
                "[execute]\ntimeout_ms = 0",
                "execute.timeout_ms is 0: give every attempt a positive timeout",
            ),
            (
                "[steps.land.compensate]\ntimeout_ms = 86400001",
                "steps.land.compensate.timeout_ms = 86400001 is longer than a day",
            ),
            (
                "[compensate]\nmax_retries = 101",
                "compensate.max_retries = 101 is more than 100",
            ),
            (
                "[steps.x.execute]\nretry_delay_ms = 3600001",
                "steps.x.execute.retry_delay_ms = 3600001 is longer than an hour",
            ),
            (
                "events_capacity = 0",
                "events_capacity = 0 is out of range: use 1 to 65536",
            ),
            ("[execute]\nmax_retries = -1", "invalid value"),
        ];
        for (toml, want) in cases {
            let e = parse(toml).unwrap_err();
            assert!(e.contains(want), "{toml:?}: {e}");
        }
    }

    #[test]
    fn builder_overrides_one_step() {
        let fast = StepPolicy {
            timeout_ms: 5,
            ..StepPolicy::EXECUTE
        };
        let c = SagaConfig::default()
            .with_execute("a", fast)
            .with_compensate("b", fast);
        assert_eq!(c.execute_policy("a"), fast);
        assert_eq!(c.compensate_policy("a"), StepPolicy::COMPENSATE);
        assert_eq!(c.execute_policy("b"), StepPolicy::EXECUTE);
        assert_eq!(c.compensate_policy("b"), fast);
    }
}
