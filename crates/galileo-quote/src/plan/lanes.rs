//! Trade sizes: lanes of amounts, de-rounded by a random factor.

use std::collections::BTreeSet;

use rand::{Rng, RngExt};
use serde::Deserialize;

use crate::QuoteError;

/// How a lane spaces its amounts over `[min, max]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneStrategy {
    /// Evenly spaced, both ends included (`count = 1`: `max`).
    #[default]
    Linear,
    /// Geometric: `min · (max/min)^(i/(count−1))`. Needs `min > 0`.
    Exponential,
    /// `count` distinct uniform draws (linear when the range holds fewer than `count` values).
    Random,
}

/// One lane of trade sizes, in the base mint's raw units.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    /// Smallest amount.
    pub min: u64,
    /// Largest amount.
    pub max: u64,
    /// How many amounts (at least 1).
    pub count: u32,
    /// How they are spaced.
    #[serde(default)]
    pub strategy: LaneStrategy,
}

impl Lane {
    /// A linear lane.
    pub fn linear(min: u64, max: u64, count: u32) -> Self {
        Self {
            min,
            max,
            count,
            strategy: LaneStrategy::Linear,
        }
    }

    /// Checks the lane can produce amounts; the error says what to change.
    pub fn validate(&self) -> Result<(), QuoteError> {
        let bad = |why: &str| Err(QuoteError::Config(format!("lane {self:?}: {why}")));
        if self.count == 0 {
            return bad("count must be at least 1");
        }
        if self.max == 0 {
            return bad("max must be above 0: a trade of 0 prices nothing");
        }
        if self.min > self.max {
            return bad("min is above max: swap them");
        }
        if self.strategy == LaneStrategy::Exponential && self.min == 0 {
            return bad("an exponential lane needs min above 0 (use linear to start at 0)");
        }
        Ok(())
    }

    fn amounts(&self, rng: &mut impl Rng) -> Vec<u64> {
        let (min, max, count) = (self.min, self.max, u64::from(self.count));
        if count == 1 {
            return vec![max];
        }
        match self.strategy {
            LaneStrategy::Random if max - min + 1 >= count => {
                let mut set = BTreeSet::new();
                while set.len() < self.count as usize {
                    set.insert(rng.random_range(min..=max));
                }
                set.into_iter().collect()
            }
            LaneStrategy::Linear | LaneStrategy::Random => (0..count)
                .map(|i| {
                    let span = u128::from(max - min) * u128::from(i) / u128::from(count - 1);
                    min + span as u64
                })
                .collect(),
            LaneStrategy::Exponential => {
                let ratio = max as f64 / min as f64;
                (0..count)
                    .map(|i| {
                        if i == count - 1 {
                            return max;
                        }
                        let v = min as f64 * ratio.powf(i as f64 / (count - 1) as f64);
                        (v.round() as u64).clamp(min, max)
                    })
                    .collect()
            }
        }
    }
}

/// The random factor that keeps sizes off round numbers: each amount is multiplied by a
/// uniform draw in `[min, max]` and rounded up. The reference uses `[0.930, 0.999]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizeJitter {
    /// Lowest factor (above 0).
    pub min: f64,
    /// Highest factor (at most 1).
    pub max: f64,
}

impl Default for SizeJitter {
    fn default() -> Self {
        Self {
            min: 0.930,
            max: 0.999,
        }
    }
}

impl SizeJitter {
    /// No de-rounding: amounts are used as the lanes give them.
    pub const NONE: SizeJitter = SizeJitter { min: 1.0, max: 1.0 };

    fn validate(&self) -> Result<(), QuoteError> {
        if !(self.min > 0.0 && self.min <= self.max && self.max <= 1.0) {
            return Err(QuoteError::Config(format!(
                "size jitter [{}, {}] must satisfy 0 < min <= max <= 1",
                self.min, self.max
            )));
        }
        Ok(())
    }

    fn apply(&self, amount: u64, rng: &mut impl Rng) -> u64 {
        if self.min == 1.0 && self.max == 1.0 {
            return amount;
        }
        let factor = if self.min == self.max {
            self.min
        } else {
            rng.random_range(self.min..=self.max)
        };
        ((amount as f64 * factor).ceil() as u64).clamp(1, amount.max(1))
    }
}

/// A base mint's trade sizes: every lane's amounts, each de-rounded by `jitter`, then
/// de-duplicated and sorted ascending (strategy semantics §3).
///
/// ```
/// use galileo_quote::plan::{Lane, SizeJitter, trade_sizes};
///
/// let sizes = trade_sizes(&[Lane::linear(1_000, 3_000, 3)], SizeJitter::NONE, &mut rand::rng())?;
/// assert_eq!(sizes, [1_000, 2_000, 3_000]);
/// let jittered = trade_sizes(&[Lane::linear(1_000, 3_000, 3)], SizeJitter::default(), &mut rand::rng())?;
/// assert!(jittered.iter().zip(&sizes).all(|(j, s)| *j >= s * 930 / 1000 && j <= s));
/// # Ok::<(), galileo_quote::QuoteError>(())
/// ```
pub fn trade_sizes(
    lanes: &[Lane],
    jitter: SizeJitter,
    rng: &mut impl Rng,
) -> Result<Vec<u64>, QuoteError> {
    if lanes.is_empty() {
        return Err(QuoteError::Config(
            "a base mint needs at least one lane of trade sizes".into(),
        ));
    }
    jitter.validate()?;
    let mut out = BTreeSet::new();
    for lane in lanes {
        lane.validate()?;
        for amount in lane.amounts(rng) {
            out.insert(jitter.apply(amount, rng));
        }
    }
    out.remove(&0);
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn sizes(lane: Lane) -> Vec<u64> {
        trade_sizes(&[lane], SizeJitter::NONE, &mut StdRng::seed_from_u64(7)).unwrap()
    }

    #[test]
    fn linear_includes_both_ends() {
        assert_eq!(sizes(Lane::linear(10, 40, 4)), [10, 20, 30, 40]);
        assert_eq!(sizes(Lane::linear(10, 40, 1)), [40]);
    }

    #[test]
    fn exponential_is_geometric() {
        let lane = Lane {
            strategy: LaneStrategy::Exponential,
            ..Lane::linear(1_000, 1_000_000, 4)
        };
        assert_eq!(sizes(lane), [1_000, 10_000, 100_000, 1_000_000]);
    }

    #[test]
    fn random_draws_distinct_values_in_range() {
        let lane = Lane {
            strategy: LaneStrategy::Random,
            ..Lane::linear(100, 200, 10)
        };
        let s = sizes(lane);
        assert_eq!(s.len(), 10);
        assert!(s.iter().all(|v| (100..=200).contains(v)));
        // A range too small for `count` distinct values falls back to linear.
        let tight = Lane {
            strategy: LaneStrategy::Random,
            ..Lane::linear(5, 6, 3)
        };
        assert_eq!(sizes(tight), [5, 6]);
    }

    #[test]
    fn bad_lanes_are_refused_with_the_fix() {
        let err = |l: Lane| {
            trade_sizes(&[l], SizeJitter::NONE, &mut rand::rng())
                .unwrap_err()
                .to_string()
        };
        assert!(err(Lane::linear(0, 0, 3)).contains("max must be above 0"));
        assert!(err(Lane::linear(5, 1, 3)).contains("swap them"));
        assert!(err(Lane::linear(1, 5, 0)).contains("count must be at least 1"));
        let exp0 = Lane {
            strategy: LaneStrategy::Exponential,
            ..Lane::linear(0, 5, 3)
        };
        assert!(err(exp0).contains("exponential"));
        assert!(
            trade_sizes(&[], SizeJitter::NONE, &mut rand::rng())
                .unwrap_err()
                .is_config()
        );
    }

    proptest! {
        #[test]
        fn jittered_sizes_are_sorted_distinct_and_within_the_factor(
            min in 1u64..1_000_000_000_000,
            span in 0u64..1_000_000_000_000,
            count in 1u32..20,
            seed: u64,
        ) {
            let lane = Lane::linear(min, min + span, count);
            let mut rng = StdRng::seed_from_u64(seed);
            let out = trade_sizes(&[lane], SizeJitter::default(), &mut rng).unwrap();
            prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(!out.is_empty() && out.len() <= count as usize);
            let lo = (min as f64 * 0.93).floor() as u64;
            prop_assert!(out.iter().all(|v| *v >= lo && *v <= min + span));
        }
    }
}
