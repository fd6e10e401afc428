//! The four named policies Galileo's seed configuration uses.

use std::time::Duration;

use super::{Jitter, RetryPolicy};

/// A named [`RetryPolicy`], as written in configuration (`preset = "blockchain"`).
///
/// | preset | `max_retries` | `initial_delay_ms` | `max_delay_ms` | for |
/// |---|---|---|---|---|
/// | `fast` | 3 | 100 | 1 000 | quotes and other calls whose answer goes stale within a second |
/// | `standard` | 3 | 1 000 | 10 000 | ordinary API calls |
/// | `slow` | 5 | 2 000 | 60 000 | background work that may wait out an outage |
/// | `blockchain` | 5 | 3 000 | 30 000 | RPC calls that wait for slots and confirmations |
///
/// All use `multiplier = 2.0` and [`Jitter::Equal`]. "3 tries" in the seed means three
/// retries after the first attempt.
///
/// ```
/// use galileo_resilience::retry::{RetryPolicy, RetryPreset};
///
/// let preset: RetryPreset = "blockchain".parse()?;
/// assert_eq!(preset.policy(), RetryPolicy::blockchain());
/// assert_eq!(RetryPolicy::blockchain().max_retries, 5);
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryPreset {
    /// 3 retries, 100 ms to 1 s.
    Fast,
    /// 3 retries, 1 s to 10 s.
    Standard,
    /// 5 retries, 2 s to 60 s.
    Slow,
    /// 5 retries, 3 s to 30 s.
    Blockchain,
}

impl RetryPreset {
    /// Every preset, in the order of the table above.
    pub const ALL: [RetryPreset; 4] = [Self::Fast, Self::Standard, Self::Slow, Self::Blockchain];

    /// The policy this preset names.
    pub fn policy(self) -> RetryPolicy {
        let (retries, initial_ms, max_ms) = match self {
            RetryPreset::Fast => (3, 100, 1_000),
            RetryPreset::Standard => (3, 1_000, 10_000),
            RetryPreset::Slow => (5, 2_000, 60_000),
            RetryPreset::Blockchain => (5, 3_000, 30_000),
        };
        RetryPolicy::new(
            retries,
            Duration::from_millis(initial_ms),
            2.0,
            Duration::from_millis(max_ms),
        )
        .with_jitter(Jitter::Equal)
    }

    /// The word used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryPreset::Fast => "fast",
            RetryPreset::Standard => "standard",
            RetryPreset::Slow => "slow",
            RetryPreset::Blockchain => "blockchain",
        }
    }
}

impl std::str::FromStr for RetryPreset {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| crate::Error::InvalidConfig {
                what: "retry policy",
                reason: format!(
                    "unknown preset `{s}`: use one of fast, standard, slow, blockchain"
                ),
            })
    }
}

impl RetryPolicy {
    /// 3 retries, 100 ms to 1 s: for quotes and other calls whose answer goes stale quickly.
    pub fn fast() -> Self {
        RetryPreset::Fast.policy()
    }

    /// 3 retries, 1 s to 10 s: ordinary API calls (the default).
    pub fn standard() -> Self {
        RetryPreset::Standard.policy()
    }

    /// 5 retries, 2 s to 60 s: background work that may wait out an outage.
    pub fn slow() -> Self {
        RetryPreset::Slow.policy()
    }

    /// 5 retries, 3 s to 30 s: RPC calls that wait for slots and confirmations.
    pub fn blockchain() -> Self {
        RetryPreset::Blockchain.policy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_seed() {
        let table = [
            (RetryPolicy::fast(), 3, 100, 1_000),
            (RetryPolicy::standard(), 3, 1_000, 10_000),
            (RetryPolicy::slow(), 5, 2_000, 60_000),
            (RetryPolicy::blockchain(), 5, 3_000, 30_000),
        ];
        for (p, retries, initial, max) in table {
            assert_eq!(
                (p.max_retries, p.initial_delay_ms, p.max_delay_ms),
                (retries, initial, max)
            );
            assert_eq!((p.multiplier, p.jitter), (2.0, Jitter::Equal));
            p.validate().unwrap();
        }
    }

    #[test]
    fn preset_names_round_trip_and_typos_are_explained() {
        for p in RetryPreset::ALL {
            assert_eq!(p.as_str().parse::<RetryPreset>().unwrap(), p);
            let from_toml: RetryPreset = toml::Value::String(p.as_str().into()).try_into().unwrap();
            assert_eq!(from_toml, p);
        }
        let err = "blockchian".parse::<RetryPreset>().unwrap_err().to_string();
        assert!(
            err.contains("unknown preset `blockchian`") && err.contains("blockchain"),
            "{err}"
        );
    }
}
