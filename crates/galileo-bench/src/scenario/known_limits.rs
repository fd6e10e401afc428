//! Scenario 1: quota utilization when the limit is known. The simulator allows `r` quotes/s
//! per source IP (a token bucket); for each `N` of 1, 4, 16 and 64 loopback IPs, each client
//! runs for a warm-up and a measured window; the figures are successful quotes/s over the
//! window ÷ `N·r`, and the share of answers that were 429.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Context;
use crate::quota::{self, Knowledge, Peer, QuotaSetup};
use crate::report::{Figure, ScenarioReport, Target, Unit};
use crate::sim::{Bucket, Limits};
use crate::{BenchError, Progress, Sim, loopback_sources};

/// The simulator's median latency for the quota scenarios (log-normal, σ 0.3).
pub const LATENCY_MS: u64 = 20;
/// Galileo's targets.
pub const UTILIZATION_TARGET: f64 = 0.98;
/// At most this share of 429s.
pub const SHARE_429_TARGET: f64 = 0.005;

/// Sizes of one scenario-1 run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The IP counts.
    pub ips: Vec<usize>,
    /// `r`: the simulator's per-IP rate (requests/s).
    pub rate: f64,
    /// The simulator's per-IP burst.
    pub burst: u32,
    /// Requests in flight at most, the same for every client.
    pub workers: usize,
    /// Not counted: the first requests drain the simulator's full buckets.
    pub warmup: Duration,
    /// Counted.
    pub window: Duration,
    /// Repetitions; each figure is their median.
    pub runs: usize,
    /// The clients.
    pub peers: Vec<Peer>,
}

impl Plan {
    /// The plan for `ctx`'s mode.
    pub fn new(ctx: &Context) -> Self {
        Self {
            ips: vec![1, 4, 16, 64],
            rate: 20.0,
            burst: 4,
            workers: 64,
            warmup: Duration::from_millis(if ctx.quick { 500 } else { 2_000 }),
            window: Duration::from_millis(if ctx.quick { 1_500 } else { 10_000 }),
            runs: ctx.runs(2, 3),
            peers: Peer::ALL.to_vec(),
        }
    }
}

/// Scenario 1's measurements, for each (client, N): utilization and 429 share per run.
#[derive(Debug, Default)]
pub struct Samples {
    /// (client, N) → per-run (utilization, 429 share).
    pub runs: BTreeMap<(usize, usize), Vec<(f64, f64)>>,
}

/// Runs every client at every `N`, `plan.runs` times, interleaved so drift hits all alike.
pub async fn measure(sim: &Sim, plan: &Plan, progress: &Progress) -> Result<Samples, BenchError> {
    let mut samples = Samples::default();
    for run in 0..plan.runs {
        for &n in &plan.ips {
            for (pi, &peer) in plan.peers.iter().enumerate() {
                progress.step(format!(
                    "known-limits: run {}/{}, N={n}, {}",
                    run + 1,
                    plan.runs,
                    peer.label()
                ));
                // Fresh, full buckets for every client.
                sim.set_limits(Limits {
                    per_ip: Some(Bucket {
                        rate: plan.rate,
                        burst: plan.burst,
                    }),
                })
                .await?;
                let setup = QuotaSetup {
                    quote_url: sim.quote_url(),
                    sources: loopback_sources(n),
                    rate: plan.rate,
                    sim_burst: plan.burst,
                    workers: plan.workers,
                    duration: plan.warmup + plan.window,
                };
                let t = quota::run(peer, &setup, Knowledge::Known).await?;
                let c = t.window(plan.warmup, plan.warmup + plan.window);
                if c.total() == 0 {
                    return Err(BenchError::measurement(
                        "known-limits",
                        format!(
                            "{} got no answer at N={n}; see the simulator's log",
                            peer.label()
                        ),
                    ));
                }
                let utilization = c.quotes as f64 / (plan.window.as_secs_f64() * setup.ceiling());
                samples
                    .runs
                    .entry((pi, n))
                    .or_default()
                    .push((utilization, c.share_429()));
            }
        }
    }
    Ok(samples)
}

/// Scenario 1 from start to report.
pub async fn run(
    sim: &Sim,
    plan: &Plan,
    progress: &Progress,
) -> Result<ScenarioReport, BenchError> {
    let samples = measure(sim, plan, progress).await?;
    let mut figures = Vec::new();
    for metric in ["utilization", "share_429"] {
        for &n in &plan.ips {
            for (pi, peer) in plan.peers.iter().enumerate() {
                let Some(runs) = samples.runs.get(&(pi, n)) else {
                    continue;
                };
                let galileo = *peer == Peer::Galileo;
                let (values, unit, target): (Vec<f64>, _, _) = if metric == "utilization" {
                    (
                        runs.iter().map(|r| r.0).collect(),
                        Unit::Ratio,
                        galileo.then_some(Target::AtLeast(UTILIZATION_TARGET)),
                    )
                } else {
                    (
                        runs.iter().map(|r| r.1).collect(),
                        Unit::Share,
                        galileo.then_some(Target::AtMost(SHARE_429_TARGET)),
                    )
                };
                figures.extend(Figure::new(
                    peer.label(),
                    format!("N={n}"),
                    metric,
                    unit,
                    &values,
                    target,
                ));
            }
        }
    }
    Ok(ScenarioReport {
        id: "known-limits",
        title: "Quota utilization, known limits",
        setup: format!(
            "simulator: r = {} quotes/s per IP (burst {}), latency log-normal median {} ms; \
             {} requests in flight per client; {:?} warm-up + {:?} counted; {} runs",
            plan.rate, plan.burst, LATENCY_MS, plan.workers, plan.warmup, plan.window, plan.runs
        ),
        figures,
        series: Vec::new(),
        notes: vec![
            "galileo = galileo-quote's QuoteDispatcher with its Jupiter client: round trips, one \
             lease of cost 2 each, the allocator's backend paced to r per IP (burst 2 below the \
             simulator's, at least 2)"
                .into(),
        ],
    })
}
