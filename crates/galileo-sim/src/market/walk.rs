//! Bounded Brownian-like noise readable at any tick: a sum of octaves of value noise.
//!
//! Octave `o` puts a seeded random level on every `2^o`-th tick and interpolates linearly in
//! between; its amplitude grows like `sqrt(2^o)`, as a Brownian motion's spread does over `2^o`
//! ticks. Summed, the octaves move like a random walk of the configured per-tick volatility up
//! to the slowest octave's period, and past it revert: the level never leaves the sum of the
//! amplitudes, which is what bounds a mint's drift. Reading tick `t` costs two draws per
//! octave, allocates nothing, keeps no state, and gives the same answer whatever was read
//! before, so the market is deterministic whatever the query pattern.

use super::math::draw;

/// Octaves at most: 2^40 ticks outlast any run.
pub(crate) const MAX_OCTAVES: usize = 40;

/// One noise source's amplitudes (in ppb), finest octave first.
#[derive(Clone, Debug)]
pub(crate) struct Noise {
    amplitudes: [i64; MAX_OCTAVES],
    octaves: usize,
}

impl Noise {
    /// Noise whose per-tick move has a standard deviation of about `volatility_ppb`, with as
    /// many octaves as fit under `bound_ppb`.
    ///
    /// The per-tick step of octave `o` has variance `(2/3)·A_o²/4^o`; with `A_o = a·2^(o/2)`
    /// the octaves sum to about `(4/3)·a²`, hence `a = volatility·sqrt(3)/2`.
    pub(crate) fn brownian(volatility_ppb: f64, bound_ppb: i64) -> Self {
        let base = volatility_ppb * 3f64.sqrt() / 2.0;
        let mut noise = Noise {
            amplitudes: [0; MAX_OCTAVES],
            octaves: 0,
        };
        if base < 1.0 {
            return noise;
        }
        let mut total = 0i64;
        for o in 0..MAX_OCTAVES {
            let amplitude = (base * 2f64.sqrt().powi(o as i32)).floor() as i64;
            if total + amplitude > bound_ppb {
                break;
            }
            total += amplitude;
            noise.amplitudes[o] = amplitude;
            noise.octaves = o + 1;
        }
        noise
    }

    /// Noise over `octaves` octaves whose amplitudes (growing like `sqrt(2^o)`) sum to at most
    /// `bound_ppb`: a venue's basis, which changes every few ticks and never exceeds its bound.
    pub(crate) fn bounded(bound_ppb: i64, octaves: usize) -> Self {
        let weight = |o: usize| 2f64.sqrt().powi(o as i32);
        let sum: f64 = (0..octaves).map(weight).sum();
        let mut noise = Noise {
            amplitudes: [0; MAX_OCTAVES],
            octaves: 0,
        };
        if bound_ppb <= 0 {
            return noise;
        }
        for o in 0..octaves {
            noise.amplitudes[o] = (bound_ppb as f64 * weight(o) / sum).floor() as i64;
        }
        noise.octaves = octaves;
        noise
    }

    #[cfg(test)]
    /// The number of octaves in use (0: the noise is constant zero).
    pub(crate) fn octaves(&self) -> usize {
        self.octaves
    }

    #[cfg(test)]
    /// The sum of the amplitudes: no reading exceeds it in magnitude.
    pub(crate) fn bound(&self) -> i64 {
        self.amplitudes.iter().sum()
    }

    /// The level at `tick` of the stream `stream` of the generator seeded with `seed`, in ppb.
    pub(crate) fn at(&self, seed: u64, stream: u64, tick: u64) -> i64 {
        let mut level: i128 = 0;
        for (o, &amplitude) in self.amplitudes[..self.octaves].iter().enumerate() {
            let lattice = tick >> o;
            let frac = i128::from(tick & ((1u64 << o) - 1));
            let u0 = signed(draw(seed, stream, o as u64, lattice));
            let u1 = signed(draw(seed, stream, o as u64, lattice.wrapping_add(1)));
            // Linear interpolation; stays within [-2^31, 2^31).
            let u = u0 + (((u1 - u0) * frac) >> o);
            level += (u * i128::from(amplitude)) >> 31;
        }
        level as i64
    }
}

/// A draw as a signed level in `[-2^31, 2^31)`.
fn signed(h: u64) -> i128 {
    i128::from((h >> 32) as u32 as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brownian_noise_stays_in_its_bound_and_moves_about_as_configured() {
        let noise = Noise::brownian(50_000.0, 30_000_000);
        assert!(noise.octaves() >= 10, "{}", noise.octaves());
        assert!(noise.bound() <= 30_000_000);
        let n = 200_000u64;
        let mut sq = 0f64;
        let mut prev = noise.at(9, 1, 0);
        for t in 1..n {
            let level = noise.at(9, 1, t);
            assert!(level.abs() <= noise.bound());
            sq += ((level - prev) as f64).powi(2);
            prev = level;
        }
        let step_sd = (sq / n as f64).sqrt();
        assert!((40_000.0..60_000.0).contains(&step_sd), "{step_sd}");
    }

    #[test]
    fn no_volatility_no_noise() {
        let noise = Noise::brownian(0.0, 1_000_000);
        assert_eq!(noise.octaves(), 0);
        assert_eq!(noise.at(1, 2, 3), 0);
        assert_eq!(Noise::bounded(0, 4).at(1, 2, 3), 0);
    }

    #[test]
    fn bounded_noise_never_exceeds_its_bound() {
        let noise = Noise::bounded(100_000, 4);
        assert!(noise.bound() <= 100_000);
        let peak = (0..100_000).map(|t| noise.at(3, 4, t).abs()).max();
        assert!(peak.is_some_and(|p| p <= 100_000 && p > 50_000), "{peak:?}");
    }
}
