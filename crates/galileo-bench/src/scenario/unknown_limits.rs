//! Scenario 2: quota utilization when nobody is told the limit. The simulator allows `r`
//! quotes/s per IP over `N` = 16 IPs; the clients start with full buckets and have to find
//! the ceiling from 429s. The figures are the utilization after `settle` (10 s in a full run)
//! and the 429 share over the whole run; the curve is the utilization per second.

use std::time::Duration;

use super::Context;
use super::known_limits::LATENCY_MS;
use crate::quota::{self, Knowledge, Peer, QuotaSetup};
use crate::report::{Figure, ScenarioReport, Series, Target, Unit};
use crate::sim::{Bucket, Limits};
use crate::{BenchError, Progress, Sim, Summary, loopback_sources};

/// Galileo's target after `settle`.
pub const UTILIZATION_TARGET: f64 = 0.90;

/// Sizes of one scenario-2 run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `N`.
    pub ips: usize,
    /// `r` per IP (requests/s), unknown to the clients.
    pub rate: f64,
    /// The simulator's per-IP burst.
    pub burst: u32,
    /// Requests in flight at most, the same for every client.
    pub workers: usize,
    /// The whole run.
    pub duration: Duration,
    /// The utilization figure counts from here to the end.
    pub settle: Duration,
    /// Repetitions.
    pub runs: usize,
    /// The clients.
    pub peers: Vec<Peer>,
}

impl Plan {
    /// The plan for `ctx`'s mode.
    pub fn new(ctx: &Context) -> Self {
        Self {
            ips: 16,
            rate: 20.0,
            burst: 4,
            workers: 64,
            duration: Duration::from_secs(if ctx.quick { 6 } else { 20 }),
            settle: Duration::from_secs(if ctx.quick { 3 } else { 10 }),
            runs: ctx.runs(2, 3),
            peers: Peer::ALL.to_vec(),
        }
    }
}

/// Scenario 2 from start to report.
pub async fn run(
    sim: &Sim,
    plan: &Plan,
    progress: &Progress,
) -> Result<ScenarioReport, BenchError> {
    let step = Duration::from_secs(1);
    let mut figures = Vec::new();
    let mut series = Vec::new();
    // Per peer: per run (utilization after settle, 429 share, utilization per second).
    let mut per_peer: Vec<Vec<(f64, f64, Vec<f64>)>> = vec![Vec::new(); plan.peers.len()];
    for run in 0..plan.runs {
        for (pi, &peer) in plan.peers.iter().enumerate() {
            progress.step(format!(
                "unknown-limits: run {}/{}, {}",
                run + 1,
                plan.runs,
                peer.label()
            ));
            sim.set_limits(Limits {
                per_ip: Some(Bucket {
                    rate: plan.rate,
                    burst: plan.burst,
                }),
            })
            .await?;
            let setup = QuotaSetup {
                quote_url: sim.quote_url(),
                sources: loopback_sources(plan.ips),
                rate: plan.rate,
                sim_burst: plan.burst,
                workers: plan.workers,
                duration: plan.duration,
            };
            let t = quota::run(peer, &setup, Knowledge::Unknown).await?;
            let all = t.window(Duration::ZERO, plan.duration);
            if all.total() == 0 {
                return Err(BenchError::measurement(
                    "unknown-limits",
                    format!("{} got no answer; see the simulator's log", peer.label()),
                ));
            }
            let late = t.window(plan.settle, plan.duration);
            let span = (plan.duration - plan.settle).as_secs_f64();
            let curve = t
                .series(step)
                .iter()
                .map(|c| c.quotes as f64 / (step.as_secs_f64() * setup.ceiling()))
                .collect();
            per_peer[pi].push((
                late.quotes as f64 / (span * setup.ceiling()),
                all.share_429(),
                curve,
            ));
        }
    }
    let settle = format!("after {} s", plan.settle.as_secs());
    for (pi, peer) in plan.peers.iter().enumerate() {
        let runs = &per_peer[pi];
        let galileo = *peer == Peer::Galileo;
        let u: Vec<f64> = runs.iter().map(|r| r.0).collect();
        figures.extend(Figure::new(
            peer.label(),
            settle.clone(),
            "utilization",
            Unit::Ratio,
            &u,
            galileo.then_some(Target::AtLeast(UTILIZATION_TARGET)),
        ));
        let s: Vec<f64> = runs.iter().map(|r| r.1).collect();
        figures.extend(Figure::new(
            peer.label(),
            "whole run",
            "share_429",
            Unit::Share,
            &s,
            None,
        ));
        let len = runs.iter().map(|r| r.2.len()).min().unwrap_or(0);
        let points = (0..len)
            .filter_map(|i| Summary::of(&runs.iter().map(|r| r.2[i]).collect::<Vec<_>>()))
            .collect();
        series.push(Series {
            subject: peer.label().into(),
            metric: "utilization",
            step_s: step.as_secs_f64(),
            points,
        });
    }
    Ok(ScenarioReport {
        id: "unknown-limits",
        title: "Quota utilization, unknown limits",
        setup: format!(
            "simulator: r = {} quotes/s per IP (burst {}, 429 with Retry-After in whole seconds), \
             latency log-normal median {LATENCY_MS} ms; N = {} IPs; {} requests in flight; \
             {:?} per run, utilization counted after {:?}; {} runs",
            plan.rate, plan.burst, plan.ips, plan.workers, plan.duration, plan.settle, plan.runs
        ),
        figures,
        series,
        notes: vec![
            "galileo = galileo-quote's QuoteDispatcher learning the per-IP rate (slow start from \
             1/s doubling each second, then +5 % per calm second, -20 % per second with 429s), \
             pacing the allocator's backend with it"
                .into(),
        ],
    })
}
