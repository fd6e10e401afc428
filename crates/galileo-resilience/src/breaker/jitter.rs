//! Where a breaker's open-time jitter comes from: an injected source, so tests are exact.

/// A source of uniform samples in `[0, 1)` for the open-time jitter.
///
/// Implemented by [`SeededJitter`] (the default) and by any `FnMut() -> f64` closure, which
/// tests use to pin the sample:
///
/// ```
/// use galileo_resilience::breaker::{JitterSource, SeededJitter};
///
/// let mut fixed = || 0.5;
/// assert_eq!(fixed.sample(), 0.5);
/// let (mut a, mut b) = (SeededJitter::new(7), SeededJitter::new(7));
/// assert_eq!(a.sample(), b.sample());
/// ```
pub trait JitterSource {
    /// A sample in `[0, 1)`. Values outside are clamped by the breaker.
    fn sample(&mut self) -> f64;
}

impl<F: FnMut() -> f64> JitterSource for F {
    fn sample(&mut self) -> f64 {
        self()
    }
}

/// A small, fast pseudo-random source (SplitMix64): deterministic from a seed, or seeded from
/// the thread's RNG by [`from_entropy`](Self::from_entropy) so each breaker draws differently.
#[derive(Clone, Debug)]
pub struct SeededJitter {
    state: u64,
}

impl SeededJitter {
    /// A source that always yields the same sequence for the same seed.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A source seeded from `rand`'s thread-local generator.
    pub fn from_entropy() -> Self {
        use rand::Rng as _;
        Self::new(rand::rng().next_u64())
    }
}

impl Default for SeededJitter {
    fn default() -> Self {
        Self::from_entropy()
    }
}

impl JitterSource for SeededJitter {
    fn sample(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits as a fraction: uniform in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_in_range_and_spread() {
        let mut j = SeededJitter::new(1);
        let samples: Vec<f64> = (0..10_000).map(|_| j.sample()).collect();
        assert!(samples.iter().all(|s| (0.0..1.0).contains(s)));
        let low = samples.iter().filter(|s| **s < 0.5).count();
        assert!((4_500..5_500).contains(&low), "{low} of 10000 below 0.5");
        let mut other = SeededJitter::new(2);
        assert_ne!(other.sample(), samples[0]);
    }
}
