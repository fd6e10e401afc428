//! Rate-limiter costs: in-process checks (target ≤ 50 ns) and Redis decisions per second from
//! one process (target ≥ 20,000).
//!
//! `cargo bench -p galileo-resilience --all-features --bench limiter`. The Redis case starts its
//! own redis-server on a unix socket, and is skipped (with a note) when there is none.
#![allow(clippy::disallowed_types, clippy::print_stderr, missing_docs)]

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use galileo_resilience::rate_limit::{
    Algorithm, KeyedLimiter, LocalLimiter, Quota, SlidingWindow, Subject, TieredLimiter,
};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn in_process(c: &mut Criterion) {
    let mut g = c.benchmark_group("limiter");
    // A quota so large the bench never runs it dry: the admitting path is measured.
    let quota = Quota::per_second(nz(1_000_000_000));
    let t0 = tokio::time::Instant::now();

    let mut cell = galileo_resilience::Gcra::new();
    g.bench_function("gcra_cell", |b| {
        b.iter(|| black_box(quota.check(&mut cell, t0, 1)));
    });

    let keys: Vec<String> = (0..1024)
        .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
        .collect();
    let mut keyed = KeyedLimiter::new(quota);
    let mut i = 0usize;
    g.bench_function("keyed_gcra_1024_keys", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(keyed.check(keys[i].as_str(), t0, 1))
        });
    });

    let window = SlidingWindow::new(nz(u32::MAX), Duration::from_secs(1)).unwrap();
    let mut sliding = KeyedLimiter::new(window);
    g.bench_function("keyed_sliding_1024_keys", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(sliding.check(keys[i].as_str(), t0, 1))
        });
    });

    let cfg = toml::from_str(
        r#"
        global = { algorithm = "gcra", requests = 1000000000 }
        ip = { algorithm = "gcra", requests = 1000000000 }
        endpoint = { algorithm = "sliding_window", requests = 4000000000, window_ms = 1000 }
        "#,
    )
    .unwrap();
    let mut tiered = TieredLimiter::new(&cfg).unwrap();
    g.bench_function("tiered_3_tiers", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            let s = Subject {
                ip: Some(&keys[i]),
                api_key: None,
                endpoint: Some("GET /quote"),
            };
            black_box(tiered.check(&s, t0, 1))
        });
    });

    let local = LocalLimiter::from(
        TieredLimiter::new(
            &toml::from_str(r#"ip = { algorithm = "gcra", requests = 1000000000 }"#).unwrap(),
        )
        .unwrap(),
    );
    g.bench_function("local_limiter_check_now_1_tier", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            let s = Subject {
                ip: Some(&keys[i]),
                ..Subject::default()
            };
            black_box(local.check_now(&s, 1))
        });
    });
    let _ = quota.limit();
    g.finish();
}

#[cfg(feature = "redis")]
fn redis_throughput(c: &mut Criterion) {
    use std::sync::Arc;

    use galileo_resilience::rate_limit::{RateLimiter, RedisConfig, RedisLimiter};

    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("redis.sock");
    let Ok(mut server) = std::process::Command::new("redis-server")
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&socket)
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!(
            "redis-server not found: Redis throughput skipped (cargo xtask test installs it)"
        );
        return;
    };
    // Ready when it says so.
    let out = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut lines = std::io::BufRead::lines(out);
    let ready = lines.by_ref().map_while(Result::ok).any(|l| {
        l.to_ascii_lowercase()
            .contains("ready to accept connections")
    });
    assert!(ready, "redis-server exited before it was ready");
    std::thread::spawn(move || lines.for_each(drop));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let limiter = Arc::new(
        RedisLimiter::new(
            &RedisConfig {
                url: format!("redis+unix://{}", socket.display()),
                ..RedisConfig::default()
            },
            &toml::from_str(
                r#"ip = { algorithm = "sliding_window", requests = 1000, window_ms = 1000 }"#,
            )
            .unwrap(),
        )
        .unwrap(),
    );
    let mut g = c.benchmark_group("limiter");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("redis_decision_64_concurrent", |b| {
        b.iter_custom(|iters| {
            let limiter = limiter.clone();
            rt.block_on(async move {
                let per_task = iters.div_ceil(64).max(1);
                let start = Instant::now();
                let tasks: Vec<_> = (0..64u64)
                    .map(|t| {
                        let limiter = limiter.clone();
                        tokio::spawn(async move {
                            let ip = format!("10.1.0.{t}");
                            for _ in 0..per_task {
                                let s = Subject {
                                    ip: Some(&ip),
                                    ..Subject::default()
                                };
                                black_box(limiter.check(&s, 1).await);
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                assert!(limiter.backend_up(), "Redis served every decision");
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * 64) as f64)
            })
        });
    });
    g.finish();
    let _ = server.kill();
}

#[cfg(not(feature = "redis"))]
fn redis_throughput(_: &mut Criterion) {}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = in_process, redis_throughput
}
criterion_main!(benches);
