//! The five scenarios of `cargo xtask bench`, each a set of ratios measured in one run.

pub mod client_overhead;
pub mod known_limits;
pub mod lease_scaling;
pub mod memory;
pub mod unknown_limits;

use std::path::PathBuf;

use crate::report::ScenarioReport;
use crate::{BenchError, Progress, SimProcess};

/// A scenario, by its `--scenario` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// 1: quota utilization with the limit told.
    KnownLimits,
    /// 2: quota utilization with the limit unknown.
    UnknownLimits,
    /// 3: client CPU and throughput next to raw hyper-util and reqwest.
    ClientOverhead,
    /// 4: lease acquire + release cost against the slot count.
    LeaseScaling,
    /// 5: RSS with 1,024 IPs each holding a live HTTPS connection.
    Memory,
}

impl Scenario {
    /// All, in the order.
    pub const ALL: [Scenario; 5] = [
        Scenario::KnownLimits,
        Scenario::UnknownLimits,
        Scenario::ClientOverhead,
        Scenario::LeaseScaling,
        Scenario::Memory,
    ];

    /// The `--scenario` name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::KnownLimits => "known-limits",
            Scenario::UnknownLimits => "unknown-limits",
            Scenario::ClientOverhead => "client-overhead",
            Scenario::LeaseScaling => "lease-scaling",
            Scenario::Memory => "memory",
        }
    }

    /// Whether it runs against a simulator process (all but `lease-scaling`).
    pub fn needs_sim(self) -> bool {
        self != Scenario::LeaseScaling
    }

    /// The scenario called `name`, or an error listing the names.
    pub fn parse(name: &str) -> Result<Self, BenchError> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.name()).collect();
                BenchError::Usage(format!(
                    "no scenario `{name}`; choose from {}",
                    names.join(", ")
                ))
            })
    }
}

/// What every scenario needs from the harness.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `galileo-sim` binary.
    pub sim_bin: PathBuf,
    /// Where simulator configs, states and logs go.
    pub work_dir: PathBuf,
    /// `--quick`: short runs, fewer repetitions (CI, no thresholds).
    pub quick: bool,
    /// Runs per figure, overriding the scenario's default.
    pub runs: Option<usize>,
    /// The bench binary itself, re-run for the memory probe.
    pub self_exe: PathBuf,
    /// The progress display.
    pub progress: Progress,
}

impl Context {
    /// Runs per figure: the override, or the scenario's default for this mode.
    pub fn runs(&self, quick: usize, full: usize) -> usize {
        self.runs
            .unwrap_or(if self.quick { quick } else { full })
            .max(1)
    }
}

/// The simulator's configuration: one Jupiter service on 127.0.0.1, with TLS or not, with a
/// log-normal latency of `median_ms` or none. Limits are set per run (`PUT /__sim/limits`).
pub fn sim_config(tls: bool, latency_median_ms: Option<u64>) -> String {
    let mut c = format!(
        "# written by galileo-bench\nseed = 7\n\n[services.jupiter]\nbind = \"127.0.0.1\"\ntls = {tls}\n"
    );
    if let Some(ms) = latency_median_ms {
        c.push_str(&format!(
            "\n[services.jupiter.latency]\nmodel = \"lognormal\"\nmedian_ms = {ms}\nsigma = 0.3\n"
        ));
    }
    c
}

/// Runs one scenario, with its own simulator process when it needs one.
pub async fn run(scenario: Scenario, ctx: &Context) -> Result<ScenarioReport, BenchError> {
    let dir = ctx.work_dir.join(format!("sim-{}", scenario.name()));
    let start = |tls, latency| {
        let dir = dir.clone();
        async move { SimProcess::start(&ctx.sim_bin, &sim_config(tls, latency), &dir).await }
    };
    match scenario {
        Scenario::KnownLimits => {
            let p = start(false, Some(known_limits::LATENCY_MS)).await?;
            let plan = known_limits::Plan::new(ctx);
            let r = known_limits::run(p.sim(), &plan, &ctx.progress).await;
            p.stop().await;
            r
        }
        Scenario::UnknownLimits => {
            let p = start(false, Some(known_limits::LATENCY_MS)).await?;
            let plan = unknown_limits::Plan::new(ctx);
            let r = unknown_limits::run(p.sim(), &plan, &ctx.progress).await;
            p.stop().await;
            r
        }
        Scenario::ClientOverhead => {
            let p = start(false, None).await?;
            let plan = client_overhead::Plan::new(ctx);
            let r = client_overhead::run(p.sim(), &plan, &ctx.progress).await;
            p.stop().await;
            r
        }
        Scenario::LeaseScaling => {
            lease_scaling::run(&lease_scaling::Plan::new(ctx), &ctx.progress).await
        }
        Scenario::Memory => {
            let p = start(true, None).await?;
            let plan = memory::Plan::new(ctx);
            let r = memory::run(p.sim(), &plan, &ctx.self_exe, p.dir(), &ctx.progress).await;
            p.stop().await;
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_listed() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::parse(s.name()).unwrap(), s);
        }
        let e = Scenario::parse("speed").unwrap_err().to_string();
        assert!(e.contains("known-limits, unknown-limits"), "{e}");
    }

    #[test]
    fn the_sim_config_is_what_the_simulator_parses() {
        for (tls, latency) in [(false, Some(20)), (true, None)] {
            let text = sim_config(tls, latency);
            let cfg = galileo_sim::app::SimConfig::parse(&text, "bench").unwrap();
            let j = cfg.services.jupiter.expect("jupiter enabled");
            assert_eq!(j.tls, tls);
        }
    }
}
