//! Scenario 4: what a lease costs as the slot count grows. Acquire + release at 8, 64, 1,024
//! and 4,096 slots, uncontended (`try_acquire` + drop on one thread, with one lease already held
//! on every slot so the index is as populated as under load, as in the criterion bench
//! `crates/galileo-net/benches/lease.rs`) and with 16 tasks on the runtime's workers
//! (`acquire().await` + drop). No sockets: the allocator never touches them.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use galileo_net::{Inventory, IpAllocator, SourceIp, TaskKind};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Context;
use crate::report::{Figure, ScenarioReport, Target, Unit};
use crate::{BenchError, Progress};

/// The slot counts.
pub const SLOTS: [u32; 4] = [8, 64, 1024, 4096];
/// Tasks in the contended case.
pub const TASKS: usize = 16;

/// Sizes of one scenario-4 run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Acquire + release pairs per uncontended measurement.
    pub iterations: u64,
    /// Pairs per task in the contended measurement.
    pub per_task: u64,
    /// Repetitions.
    pub runs: usize,
}

impl Plan {
    /// The plan for `ctx`'s mode.
    pub fn new(ctx: &Context) -> Self {
        Self {
            iterations: if ctx.quick { 50_000 } else { 1_000_000 },
            per_task: if ctx.quick { 5_000 } else { 50_000 },
            runs: ctx.runs(3, 5),
        }
    }
}

fn allocator(slots: u32) -> Result<IpAllocator, BenchError> {
    let sources = (0..slots)
        .map(|i| SourceIp::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))))
        .collect();
    Ok(IpAllocator::builder(&Inventory::from_sources(sources)?).build())
}

/// Nanoseconds per `try_acquire` + drop at `slots` slots, one lease held on each.
pub fn uncontended(slots: u32, iterations: u64) -> Result<f64, BenchError> {
    let a = allocator(slots)?;
    let _held = (0..slots)
        .map(|_| a.try_acquire(TaskKind::Quote, 1))
        .collect::<Result<Vec<_>, _>>()?;
    // Warm the caches and the branch predictors before timing.
    for _ in 0..iterations / 10 {
        drop(black_box(a.try_acquire(TaskKind::Quote, 1)?));
    }
    let t = Instant::now();
    for _ in 0..iterations {
        drop(black_box(a.try_acquire(TaskKind::Quote, 1)?));
    }
    Ok(t.elapsed().as_nanos() as f64 / iterations.max(1) as f64)
}

/// Nanoseconds per `acquire().await` + drop with `TASKS` tasks at once, over all of them.
pub async fn contended(slots: u32, per_task: u64) -> Result<f64, BenchError> {
    let a = allocator(slots)?;
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS + 1));
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let (a, barrier) = (a.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            for _ in 0..per_task {
                drop(black_box(a.acquire(TaskKind::Quote, 1).await?));
            }
            Ok::<_, galileo_net::NetError>(())
        });
    }
    barrier.wait().await;
    let t = Instant::now();
    crate::quota::join_all(tasks).await?;
    Ok(t.elapsed().as_nanos() as f64 / (per_task * TASKS as u64).max(1) as f64)
}

/// Scenario 4 from start to report.
pub async fn run(plan: &Plan, progress: &Progress) -> Result<ScenarioReport, BenchError> {
    // [slot index][run] for each case.
    let mut solo = vec![Vec::new(); SLOTS.len()];
    let mut many = vec![Vec::new(); SLOTS.len()];
    for run in 0..plan.runs {
        for (i, &slots) in SLOTS.iter().enumerate() {
            progress.step(format!(
                "lease-scaling: run {}/{}, {slots} slots",
                run + 1,
                plan.runs
            ));
            let iterations = plan.iterations;
            // Off the async workers: this loop never yields.
            let ns = tokio::task::spawn_blocking(move || uncontended(slots, iterations))
                .await
                .map_err(|e| BenchError::measurement("lease-scaling", e.to_string()))??;
            solo[i].push(ns);
            many[i].push(contended(slots, plan.per_task).await?);
        }
    }
    let mut figures = Vec::new();
    for (case, samples, target_ns) in [
        ("uncontended", &solo, Some(Target::AtMost(150.0))),
        ("16 tasks", &many, None),
    ] {
        for (i, slots) in SLOTS.iter().enumerate() {
            figures.extend(Figure::new(
                format!("{slots} slots"),
                case,
                "ns_per_acquire_release",
                Unit::Nanos,
                &samples[i],
                target_ns,
            ));
        }
        let last = SLOTS.len() - 1;
        let ratio: Vec<f64> = samples[last]
            .iter()
            .zip(&samples[0])
            .map(|(big, small)| big / small)
            .collect();
        figures.extend(Figure::new(
            "4096 ÷ 8 slots",
            case,
            "cost_ratio",
            Unit::Ratio,
            &ratio,
            Some(Target::AtMost(1.5)),
        ));
    }
    Ok(ScenarioReport {
        id: "lease-scaling",
        title: "Lease scaling",
        setup: format!(
            "uncontended: {} try_acquire + drop on one thread, one lease held per slot; \
             {TASKS} tasks: {} acquire().await + drop each on the bench's runtime \
             ({} workers); {} runs",
            plan.iterations,
            plan.per_task,
            tokio::runtime::Handle::current().metrics().num_workers(),
            plan.runs
        ),
        figures,
        series: Vec::new(),
        notes: vec![
            "nanoseconds are this machine's; the ratio 4096 ÷ 8 is the figure that travels".into(),
        ],
    })
}
