//! Overhead of a closed circuit breaker (target: ≤ 300 ns per call).
//!
//! - `breaker/async_call_closed`: `Breaker::call` on an immediately ready future (two clock
//!   reads, two short locks, metric handles without a recorder).
//! - `breaker/async_call_closed_with_timeout`: the same with `call_timeout_ms` set, which adds
//!   the timeout wrapper (its timer is never registered for a ready future).
//! - `breaker/sans_io_acquire_record`: `CircuitBreaker::acquire` + `record` at a given `now`.
//! - `breaker/sans_io_acquire_record_with_clock`: the same, reading tokio's clock twice.
//!
//! Run: `cargo bench -p galileo-resilience --bench breaker`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use galileo_resilience::breaker::{Breaker, BreakerConfig, CircuitBreaker, Outcome};
use tokio::time::Instant;

fn config() -> BreakerConfig {
    // Every rule on, so the closed path does all its bookkeeping.
    BreakerConfig {
        failure_threshold: 5,
        failure_rate: Some(0.5),
        slow_call_ms: Some(1000),
        slow_call_rate: Some(0.8),
        window_calls: Some(100),
        ..BreakerConfig::default()
    }
}

fn async_call(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let breaker = Breaker::new("bench", config()).unwrap();
    c.bench_function("breaker/async_call_closed", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                breaker
                    .call(std::future::ready(Ok::<u64, ()>(black_box(1))))
                    .await,
            )
        })
    });
    let with_timeout = Breaker::new(
        "bench_timeout",
        BreakerConfig {
            call_timeout_ms: Some(1000),
            ..config()
        },
    )
    .unwrap();
    c.bench_function("breaker/async_call_closed_with_timeout", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                with_timeout
                    .call(std::future::ready(Ok::<u64, ()>(black_box(1))))
                    .await,
            )
        })
    });
}

fn sans_io(c: &mut Criterion) {
    let mut cb = CircuitBreaker::new(config()).unwrap();
    let mut now = Instant::now();
    c.bench_function("breaker/sans_io_acquire_record", |b| {
        b.iter(|| {
            now += Duration::from_nanos(1);
            let p = cb.acquire(black_box(now)).unwrap();
            black_box(cb.record(p, Outcome::Success, now))
        })
    });
    c.bench_function("breaker/sans_io_acquire_record_with_clock", |b| {
        b.iter(|| {
            let p = cb.acquire(Instant::now()).unwrap();
            black_box(cb.record(p, Outcome::Success, Instant::now()))
        })
    });
}

criterion_group!(benches, async_call, sans_io);
criterion_main!(benches);
