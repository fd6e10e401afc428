//! Learning a provider's per-IP rate when nobody says what it is. Sans-IO: takes `now`.
//!
//! TCP's congestion control, applied to a rate: *slow start* doubles the per-IP rate every
//! period without a 429, from a low first guess; the first 429s end it and fall back to the
//! last rate that drew none; from then on each period with 429s cuts the rate by
//! `decrease` and each period without them raises it by `increase`. The result feeds
//! galileo-net's per-(IP, backend) pacing (`IpAllocator::set_backend_rate`), so pacing stays
//! proactive: 429s become the rare probe at the edge of the limit, not the steady state.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use crate::QuoteError;

/// How the rate is learned. Every key is optional.
///
/// ```toml
/// [learn_rate]
/// initial_per_ip = 1.0     # requests/s per IP to start from
/// period_ms = 1000         # one adjustment per period at most
/// increase = 0.05          # +5 % per calm period (after slow start)
/// decrease = 0.2           # −20 % per period with 429s
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnConfig {
    /// The first guess, in requests per second per IP.
    pub initial_per_ip: f64,
    /// The least time between two adjustments.
    pub period_ms: u64,
    /// Growth per period without 429s once slow start is over (0.05 = +5 %).
    pub increase: f64,
    /// Cut per period with 429s (0.2 = −20 %).
    pub decrease: f64,
    /// Never above this many requests per second per IP.
    pub max_per_ip: f64,
}

impl Default for LearnConfig {
    fn default() -> Self {
        Self {
            initial_per_ip: 1.0,
            period_ms: 1_000,
            increase: 0.05,
            decrease: 0.2,
            max_per_ip: 100_000.0,
        }
    }
}

impl LearnConfig {
    /// Checks the configuration; the error says what to change.
    pub fn validate(&self) -> Result<(), QuoteError> {
        let bad = |m: &str| Err(QuoteError::Config(format!("learn_rate: {m}")));
        if !(self.initial_per_ip >= 0.001 && self.initial_per_ip <= self.max_per_ip) {
            return bad("initial_per_ip must be at least 0.001 and at most max_per_ip");
        }
        if !(1..=3_600_000).contains(&self.period_ms) {
            return bad("period_ms must be in 1..=3600000");
        }
        if !(self.increase > 0.0 && self.increase <= 1.0) {
            return bad("increase must be in (0, 1]: 0.05 is +5 % per calm period");
        }
        if !(self.decrease > 0.0 && self.decrease < 1.0) {
            return bad("decrease must be in (0, 1): 0.2 is −20 % per period with 429s");
        }
        Ok(())
    }
}

/// The learner: feed it outcomes, ask it each period for the rate in force.
#[derive(Clone, Debug)]
pub struct RateLearner {
    cfg: LearnConfig,
    rate: f64,
    last_good: f64,
    slow_start: bool,
    period_start: Instant,
    ok: u64,
    limited: u64,
}

impl RateLearner {
    /// A learner starting at `cfg.initial_per_ip` at `now`.
    pub fn new(cfg: LearnConfig, now: Instant) -> Self {
        Self {
            rate: cfg.initial_per_ip,
            last_good: cfg.initial_per_ip,
            cfg,
            slow_start: true,
            period_start: now,
            ok: 0,
            limited: 0,
        }
    }

    /// The per-IP rate in force, requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// True until the first 429.
    pub fn in_slow_start(&self) -> bool {
        self.slow_start
    }

    /// A request the provider answered (not 429).
    pub fn success(&mut self) {
        self.ok += 1;
    }

    /// A 429.
    pub fn rate_limited(&mut self) {
        self.limited += 1;
    }

    /// Ends the period if it is over: returns the new rate when it changed.
    pub fn tick(&mut self, now: Instant) -> Option<f64> {
        if now.saturating_duration_since(self.period_start)
            < Duration::from_millis(self.cfg.period_ms)
        {
            return None;
        }
        self.period_start = now;
        let (ok, limited) = (
            std::mem::take(&mut self.ok),
            std::mem::take(&mut self.limited),
        );
        let before = self.rate;
        if limited > 0 {
            if self.slow_start {
                // The doubling overshot: back to the last rate that drew no 429.
                self.slow_start = false;
                self.rate = self.last_good.min(self.rate * (1.0 - self.cfg.decrease));
            } else {
                self.rate *= 1.0 - self.cfg.decrease;
            }
        } else if ok > 0 {
            // A calm period with traffic: this rate is good; probe above it.
            self.last_good = self.rate;
            self.rate *= if self.slow_start {
                2.0
            } else {
                1.0 + self.cfg.increase
            };
        }
        self.rate = self.rate.clamp(0.001, self.cfg.max_per_ip);
        (self.rate != before).then_some(self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider allowing `r` per second per IP, as the learner sees it: each period, it is
    /// offered the learned rate and answers 429 to what is above `r`.
    fn converge(r: f64, periods: usize) -> Vec<f64> {
        let t0 = Instant::now();
        let mut l = RateLearner::new(LearnConfig::default(), t0);
        let mut rates = Vec::new();
        for i in 1..=periods {
            let offered = l.rate();
            let ok = offered.min(r).floor() as u64;
            for _ in 0..ok {
                l.success();
            }
            if offered > r * 1.001 {
                l.rate_limited();
            }
            l.tick(t0 + Duration::from_secs(i as u64));
            rates.push(l.rate());
        }
        rates
    }

    #[test]
    fn slow_start_then_hovers_just_under_the_limit() {
        let rates = converge(10.0, 40);
        // 1, 2, 4, 8, 16 → 429 → back to 8, then +5 % a period.
        assert_eq!(&rates[..4], &[2.0, 4.0, 8.0, 16.0]);
        assert_eq!(rates[4], 8.0);
        assert!(
            !rates[5..].iter().any(|r| *r > 10.0 * 1.05 + 1e-9),
            "{rates:?}"
        );
        let tail = &rates[20..];
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        assert!(
            (0.85..=1.05).contains(&(mean / 10.0)),
            "mean {mean}: {rates:?}"
        );
    }

    #[test]
    fn nothing_changes_within_a_period_or_without_traffic() {
        let t0 = Instant::now();
        let mut l = RateLearner::new(LearnConfig::default(), t0);
        l.success();
        assert_eq!(l.tick(t0 + Duration::from_millis(999)), None);
        assert_eq!(l.tick(t0 + Duration::from_millis(1000)), Some(2.0));
        assert_eq!(
            l.tick(t0 + Duration::from_millis(2000)),
            None,
            "no traffic, no news"
        );
    }

    #[test]
    fn bad_configs_are_refused() {
        let c = LearnConfig {
            decrease: 1.0,
            ..LearnConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("decrease"));
        assert!(LearnConfig::default().validate().is_ok());
    }
}
