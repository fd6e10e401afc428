//! Tests of the breaker module: configuration, every threshold on explicit or paused time,
//! properties of the state machine, the async shell, the registry and the metrics.

use std::time::Duration;

use tokio::time::Instant;

use super::{BreakerConfig, CircuitBreaker, Outcome, Transition};

mod config;
mod metrics;
mod props;
mod registry;
mod shell;
mod thresholds;

/// A sans-IO breaker whose jitter sample is fixed by a plain function.
type Cb = CircuitBreaker<fn() -> f64>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn half() -> f64 {
    0.5
}

fn cb(config: BreakerConfig) -> Cb {
    CircuitBreaker::with_jitter(config, half as fn() -> f64).unwrap()
}

/// A configuration that trips on nothing but what the test turns on.
fn only(f: impl FnOnce(&mut BreakerConfig)) -> BreakerConfig {
    let mut c = BreakerConfig {
        failure_threshold: 0,
        half_open_successes: 1,
        ..BreakerConfig::default()
    };
    f(&mut c);
    c.validate().unwrap();
    c
}

/// One call admitted at `at` that ends `took` later with `outcome`.
fn call(cb: &mut Cb, at: Instant, took: Duration, outcome: Outcome) -> Option<Transition> {
    let p = cb.acquire(at).expect("the breaker let the call through");
    cb.record(p, outcome, at + took)
}

/// Awaits `f`, failing the test instead of hanging if it never completes. On paused time the
/// guard costs nothing: the clock jumps to it only once every task is idle.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(24 * 3600), f)
        .await
        .expect("waited for something that never happened")
}
