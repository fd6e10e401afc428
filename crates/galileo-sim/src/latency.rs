//! Added latency: a delay drawn per request from the configured model.

use std::time::Duration;

use rand::RngExt;
use rand::rngs::StdRng;

use crate::config::LatencyConfig;

/// Draws one delay from `model` with `rng`.
///
/// The log-normal draw is `median × exp(σ·z)` with `z` a standard normal from the Box–Muller
/// transform, so half the draws fall below the median and the spread of their logarithm is σ.
pub(crate) fn sample(model: &LatencyConfig, rng: &mut StdRng) -> Duration {
    match *model {
        LatencyConfig::None => Duration::ZERO,
        LatencyConfig::Fixed { ms } => Duration::from_millis(ms),
        LatencyConfig::Uniform { min_ms, max_ms } => {
            Duration::from_micros(rng.random_range(min_ms * 1000..=max_ms * 1000))
        }
        LatencyConfig::Lognormal { median_ms, sigma } => {
            // u1 in (0, 1]: ln(0) is never taken.
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let ms = median_ms as f64 * (sigma * z).exp();
            // A day is a timeout by any measure; it also keeps the conversion finite.
            Duration::from_secs_f64((ms / 1000.0).min(86_400.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn draws(model: LatencyConfig, n: usize) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(7);
        let mut v: Vec<f64> = (0..n)
            .map(|_| sample(&model, &mut rng).as_secs_f64() * 1000.0)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn fixed_and_none() {
        assert!(draws(LatencyConfig::None, 10).iter().all(|&d| d == 0.0));
        assert!(
            draws(LatencyConfig::Fixed { ms: 12 }, 10)
                .iter()
                .all(|&d| d == 12.0)
        );
    }

    #[test]
    fn uniform_stays_in_bounds_and_spreads() {
        let v = draws(
            LatencyConfig::Uniform {
                min_ms: 10,
                max_ms: 30,
            },
            10_000,
        );
        assert!(v[0] >= 10.0 && v[v.len() - 1] <= 30.0);
        let median = v[v.len() / 2];
        assert!((median - 20.0).abs() < 1.0, "median {median}");
    }

    #[test]
    fn lognormal_has_the_configured_median_and_spread() {
        let v = draws(
            LatencyConfig::Lognormal {
                median_ms: 40,
                sigma: 0.5,
            },
            20_000,
        );
        let median = v[v.len() / 2];
        assert!((median - 40.0).abs() < 2.0, "median {median}");
        // The 84th percentile of a log-normal sits at median × e^σ.
        let p84 = v[(v.len() as f64 * 0.8413) as usize];
        let want = 40.0 * 0.5f64.exp();
        assert!((p84 - want).abs() / want < 0.05, "p84 {p84}, want {want}");
    }

    #[test]
    fn the_same_seed_draws_the_same_delays() {
        let m = LatencyConfig::Lognormal {
            median_ms: 5,
            sigma: 1.0,
        };
        assert_eq!(draws(m, 100), draws(m, 100));
    }
}
