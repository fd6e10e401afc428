//! Lease acquire + release: uncontended, at 8 and 4,096 slots, and 16 tasks over 64 IPs.
//!
//! Targets (issue: workspace foundation): ≤ 150 ns uncontended; 4,096 slots ≤ 1.5× 8 slots.
//! Run: `cargo bench -p galileo-net --bench lease`.
#![allow(clippy::disallowed_types, missing_docs)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use galileo_net::{Inventory, IpAllocator, SourceIp, TaskKind};

fn allocator(slots: u32) -> IpAllocator {
    let sources = (0..slots)
        .map(|i| SourceIp::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))))
        .collect();
    IpAllocator::builder(&Inventory::from_sources(sources).unwrap()).build()
}

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lease/uncontended");
    for slots in [8u32, 64, 1024, 4096] {
        let a = allocator(slots);
        // Keep one lease on every slot so the index is populated the way it is under load.
        let _held: Vec<_> = (0..slots)
            .map(|_| a.try_acquire(TaskKind::Quote, 1).unwrap())
            .collect();
        g.bench_with_input(BenchmarkId::new("try_acquire+drop", slots), &a, |b, a| {
            b.iter(|| drop(black_box(a.try_acquire(TaskKind::Quote, 1).unwrap())));
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let a = allocator(8);
    g.bench_function("acquire.await+drop/8", |b| {
        b.to_async(&rt)
            .iter(|| async { drop(black_box(a.acquire(TaskKind::Quote, 1).await.unwrap())) });
    });
    g.finish();
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lease/contended");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let a = allocator(64);
    g.bench_function("16_tasks_64_ips", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(16);
            let a = a.clone();
            rt.block_on(async move {
                let start = Instant::now();
                let barrier = Arc::new(tokio::sync::Barrier::new(16));
                let tasks: Vec<_> = (0..16)
                    .map(|_| {
                        let (a, barrier) = (a.clone(), barrier.clone());
                        tokio::spawn(async move {
                            barrier.wait().await;
                            for _ in 0..per_task {
                                drop(black_box(a.acquire(TaskKind::Quote, 1).await.unwrap()));
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                // Per acquire+release, over all tasks.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * 16) as f64)
            })
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = uncontended, contended
}
criterion_main!(benches);
