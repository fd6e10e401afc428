//! The random dislocation schedule: a Poisson process on walk ticks, readable at any tick.
//!
//! Walk time is cut into windows of `window` ticks. The number of dislocations starting in a
//! window is a Poisson draw (inverted through a precomputed CDF table) and each one's start,
//! life, venue, mint, size and sign are further draws, all keyed by (window, index). The ones
//! open at tick `s` started within the longest life before it, so reading them scans a
//! bounded number of windows and allocates nothing.

use std::fmt;

use super::config::DislocationConfig;
use super::math::{draw, uniform};

const STREAM_COUNT: u64 = 0x000d_15c0;
const STREAM_ARRIVAL: u64 = 0x000d_15c1;
/// Ids of scripted dislocations have this bit set; random ones never do.
pub(crate) const SCRIPTED_BIT: u64 = 1 << 63;
/// A window holds at most this many arrivals (the CDF table's length).
const MAX_PER_WINDOW: usize = 64;

/// Names one dislocation, random or scripted, for its whole life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct DislocationId(pub(crate) u64);

impl DislocationId {
    /// Whether a test opened it (rather than the seeded schedule).
    pub fn is_scripted(self) -> bool {
        self.0 & SCRIPTED_BIT != 0
    }

    /// The raw number (stable for a seed).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for DislocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_scripted() {
            write!(f, "scripted-{}", self.0 & !SCRIPTED_BIT)
        } else {
            write!(f, "random-{}.{}", self.0 >> 8, self.0 & 0xff)
        }
    }
}

/// One random dislocation as the schedule draws it (ticks are walk ticks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arrival {
    pub(crate) id: DislocationId,
    pub(crate) venue: usize,
    pub(crate) mint: usize,
    pub(crate) offset_bps: i32,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// The schedule of a market whose dislocation rate is positive.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    window: u64,
    /// `cdf[k] = floor(P(N ≤ k) · 2^64)`, the last entry `u64::MAX`.
    cdf: Vec<u64>,
    min_duration: u64,
    max_duration: u64,
    min_bps: u64,
    max_bps: u64,
    venues: u64,
    mints: u64,
}

impl Schedule {
    /// The schedule for `cfg` with ticks of `tick_ms`, or `None` when the rate is zero.
    pub(crate) fn new(
        cfg: &DislocationConfig,
        tick_ms: u64,
        venues: usize,
        mints: usize,
    ) -> Option<Self> {
        if cfg.per_minute <= 0.0 {
            return None;
        }
        let ticks = |ms: u64| (ms / tick_ms).max(1);
        let (min_duration, max_duration) = (ticks(cfg.min_duration_ms), ticks(cfg.max_duration_ms));
        let per_tick = cfg.per_minute * tick_ms as f64 / 60_000.0;
        // About two arrivals per window at most: short windows when the rate is high, one
        // longest life when it is low (then two windows cover any lookback).
        let window = ((2.0 / per_tick).floor() as u64).clamp(1, max_duration);
        Some(Schedule {
            window,
            cdf: poisson_cdf(per_tick * window as f64),
            min_duration,
            max_duration,
            min_bps: u64::from(cfg.min_bps),
            max_bps: u64::from(cfg.max_bps),
            venues: venues as u64,
            mints: mints as u64,
        })
    }

    /// How many dislocations start in window `w`.
    fn count(&self, seed: u64, w: u64) -> usize {
        let h = draw(seed, STREAM_COUNT, w, 0);
        self.cdf
            .partition_point(|&c| c <= h)
            .min(self.cdf.len() - 1)
    }

    /// The `i`-th dislocation of window `w`.
    fn arrival(&self, seed: u64, w: u64, i: usize) -> Arrival {
        let h = |field: u64| draw(seed, STREAM_ARRIVAL, w, ((i as u64) << 8) | field);
        let start = w * self.window + h(0) % self.window;
        let size = uniform(h(1), self.min_bps, self.max_bps) as i32;
        Arrival {
            id: DislocationId((w << 8) | i as u64),
            venue: (h(2) % self.venues) as usize,
            mint: (h(3) % self.mints) as usize,
            offset_bps: if h(4) & 1 == 0 { size } else { -size },
            start,
            end: start + uniform(h(5), self.min_duration, self.max_duration),
        }
    }

    /// Calls `f` with every dislocation open at walk tick `s` (`start ≤ s < end`).
    pub(crate) fn for_each_open(&self, seed: u64, s: u64, mut f: impl FnMut(&Arrival)) {
        let first = s.saturating_sub(self.max_duration - 1) / self.window;
        for w in first..=s / self.window {
            for i in 0..self.count(seed, w) {
                let a = self.arrival(seed, w, i);
                if a.start <= s && s < a.end {
                    f(&a);
                }
            }
        }
    }

    /// The dislocation with this id, if the schedule has it.
    #[cfg(test)]
    pub(crate) fn get(&self, seed: u64, id: DislocationId) -> Option<Arrival> {
        if id.is_scripted() {
            return None;
        }
        let (w, i) = (id.0 >> 8, (id.0 & 0xff) as usize);
        (i < self.count(seed, w)).then(|| self.arrival(seed, w, i))
    }
}

/// The Poisson CDF of mean `mean` as fixed-point thresholds over `u64`.
fn poisson_cdf(mean: f64) -> Vec<u64> {
    let mut cdf = Vec::with_capacity(MAX_PER_WINDOW);
    let mut p = (-mean).exp();
    let mut cumulative = 0.0f64;
    for k in 0..MAX_PER_WINDOW - 1 {
        cumulative += p;
        if cumulative >= 1.0 - 1e-15 {
            break;
        }
        cdf.push((cumulative * 2f64.powi(64)) as u64);
        p *= mean / (k + 1) as f64;
    }
    cdf.push(u64::MAX);
    cdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_table_has_the_right_mean() {
        for mean in [0.01, 0.5, 2.0, 4.0] {
            let cdf = poisson_cdf(mean);
            let mut prev = 0f64;
            let mut m = 0f64;
            for (k, &c) in cdf.iter().enumerate() {
                let c = c as f64 / 2f64.powi(64);
                m += k as f64 * (c - prev);
                prev = c;
            }
            assert!((m - mean).abs() < 1e-6 * mean.max(1.0), "{mean}: {m}");
        }
    }

    #[test]
    fn ids_round_trip() {
        let cfg = DislocationConfig::default();
        let s = Schedule::new(&cfg, 100, 3, 4).expect("rate > 0");
        let mut seen = Vec::new();
        for t in 0..20_000 {
            s.for_each_open(5, t, |a| seen.push(*a));
        }
        assert!(!seen.is_empty());
        for a in seen {
            assert_eq!(s.get(5, a.id), Some(a));
            assert!(!a.id.is_scripted());
        }
    }
}
