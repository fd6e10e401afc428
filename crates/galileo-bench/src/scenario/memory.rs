//! Scenario 5: memory with 1,024 IPs each holding one live HTTPS connection. Each run is a
//! fresh process (`galileo-bench probe-memory`), so the allocator's freed memory of one run
//! cannot flatter the next: it builds a `BoundHttpClient` trusting the simulator's CA, sends
//! one quote from every IP (one TLS connection each, left idle in the per-IP pools), reads its
//! RSS from /proc/self/status, then sends a second round. The simulator must have accepted
//! exactly one connection per IP over both rounds: the connections measured were live and
//! reused.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use bytes::Bytes;
use galileo_net::{BoundHttpClient, HttpClient, HttpConfig, IpAllocator, TaskKind};
use http_body_util::Full;
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::Context;
use crate::report::{Figure, ScenarioReport, Target, Unit};
use crate::{BenchError, Progress, Sim, loopback_sources, sources, usage};

const MIB: f64 = 1024.0 * 1024.0;
/// The ceiling.
pub const RSS_TARGET_MIB: f64 = 200.0;

/// Sizes of one scenario-5 run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// IPs, one connection each.
    pub ips: usize,
    /// Connections opened at once.
    pub concurrency: usize,
    /// Repetitions (a process each).
    pub runs: usize,
}

impl Plan {
    /// The plan for `ctx`'s mode.
    pub fn new(ctx: &Context) -> Self {
        Self {
            ips: 1024,
            concurrency: 32,
            runs: ctx.runs(2, 3),
        }
    }
}

/// What one probe process measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// RSS before the client existed, bytes.
    pub baseline_rss: u64,
    /// RSS with every IP holding its connection, bytes.
    pub rss: u64,
    /// Per-IP clients alive in the `BoundHttpClient`.
    pub clients: usize,
    /// IPs used.
    pub ips: usize,
}

/// Opens one HTTPS connection from each of `ips` loopback IPs to `quote_url` (trusting `ca`),
/// measures RSS, then sends a second round over the same connections.
pub async fn probe(
    quote_url: &str,
    ca: CertificateDer<'static>,
    ips: usize,
    concurrency: usize,
) -> Result<ProbeResult, BenchError> {
    let baseline_rss = usage::rss_bytes()?;
    let cfg = HttpConfig {
        max_clients: ips.max(HttpConfig::default().max_clients),
        ..HttpConfig::default()
    };
    let client = BoundHttpClient::builder(&cfg)
        .add_root_certificate(ca)
        .build()?;
    let sources = loopback_sources(ips);
    let allocator = IpAllocator::builder(&sources::inventory(&sources)?).build();
    let uri: http::Uri = quote_url
        .parse()
        .map_err(|e| BenchError::Usage(format!("bad URL {quote_url}: {e}")))?;
    round(&allocator, &client, &uri, &sources, concurrency).await?;
    let rss = usage::rss_bytes()?;
    round(&allocator, &client, &uri, &sources, concurrency).await?;
    Ok(ProbeResult {
        baseline_rss,
        rss,
        clients: client.clients(),
        ips,
    })
}

/// One quote from every IP, `concurrency` at a time; each must be answered 200.
async fn round(
    allocator: &IpAllocator,
    client: &BoundHttpClient,
    uri: &http::Uri,
    sources: &[std::net::IpAddr],
    concurrency: usize,
) -> Result<(), BenchError> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for &ip in sources {
        let (allocator, client, uri, permits) = (
            allocator.clone(),
            client.clone(),
            uri.clone(),
            permits.clone(),
        );
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|e| BenchError::Client(e.to_string()))?;
            let lease = allocator.acquire_specific(ip, TaskKind::Quote, 1).await?;
            let request = http::Request::get(uri)
                .body(Full::new(Bytes::new()))
                .map_err(|e| BenchError::Usage(e.to_string()))?;
            let status = client.send(&lease, request).await?.status();
            if status != 200 {
                return Err(BenchError::measurement(
                    "memory",
                    format!("the simulator answered {status} to {ip}; it should serve every IP"),
                ));
            }
            Ok(())
        });
    }
    crate::quota::join_all(tasks).await
}

/// Runs `self_exe probe-memory ...` once and reads its result.
async fn probe_process(
    self_exe: &Path,
    sim: &Sim,
    ca_path: &Path,
    plan: &Plan,
) -> Result<ProbeResult, BenchError> {
    let out = tokio::process::Command::new(self_exe)
        .arg("probe-memory")
        .arg("--url")
        .arg(sim.quote_url())
        .arg("--ca")
        .arg(ca_path)
        .arg("--ips")
        .arg(plan.ips.to_string())
        .arg("--concurrency")
        .arg(plan.concurrency.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| BenchError::io(self_exe, e))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(BenchError::measurement(
            "memory",
            format!(
                "the probe process failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .map_err(|e| BenchError::measurement("memory", format!("the probe printed {line:?}: {e}")))
}

/// Checks the simulator's view of a probe: one connection per IP, two requests per IP.
pub async fn check_connections(sim: &Sim, ips: usize) -> Result<(), BenchError> {
    let stats = sim.stats().await?;
    let expected = ips as u64;
    if stats.connections != expected || stats.total.requests != 2 * expected {
        return Err(BenchError::measurement(
            "memory",
            format!(
                "the simulator accepted {} connections and {} requests for {ips} IPs × 2 rounds; \
                 each IP should have opened one connection and reused it",
                stats.connections, stats.total.requests
            ),
        ));
    }
    Ok(())
}

/// Scenario 5 from start to report; `sim_dir` is the simulator process's directory (its CA is
/// `state/ca.pem` there).
pub async fn run(
    sim: &Sim,
    plan: &Plan,
    self_exe: &Path,
    sim_dir: &Path,
    progress: &Progress,
) -> Result<ScenarioReport, BenchError> {
    let ca_path = sim_dir.join("state").join("ca.pem");
    let mut results = Vec::new();
    for run in 0..plan.runs {
        progress.step(format!(
            "memory: run {}/{}, {} IPs over HTTPS",
            run + 1,
            plan.runs,
            plan.ips
        ));
        sim.reset_stats().await?;
        let r = probe_process(self_exe, sim, &ca_path, plan).await?;
        check_connections(sim, plan.ips).await?;
        if r.clients != plan.ips {
            return Err(BenchError::measurement(
                "memory",
                format!("{} per-IP clients alive for {} IPs", r.clients, plan.ips),
            ));
        }
        results.push(r);
    }
    let rss: Vec<f64> = results.iter().map(|r| r.rss as f64 / MIB).collect();
    let delta: Vec<f64> = results
        .iter()
        .map(|r| r.rss.saturating_sub(r.baseline_rss) as f64 / MIB)
        .collect();
    let per_conn: Vec<f64> = results
        .iter()
        .map(|r| r.rss.saturating_sub(r.baseline_rss) as f64 / 1024.0 / r.ips.max(1) as f64)
        .collect();
    let group = format!("{} IPs", plan.ips);
    let mut figures = Vec::new();
    figures.extend(Figure::new(
        "galileo",
        group.clone(),
        "rss",
        Unit::Mebibytes,
        &rss,
        Some(Target::AtMost(RSS_TARGET_MIB)),
    ));
    figures.extend(Figure::new(
        "galileo",
        group.clone(),
        "rss_over_baseline",
        Unit::Mebibytes,
        &delta,
        None,
    ));
    figures.extend(Figure::new(
        "galileo",
        group,
        "per_connection",
        Unit::Kibibytes,
        &per_conn,
        None,
    ));
    Ok(ScenarioReport {
        id: "memory",
        title: "Memory",
        setup: format!(
            "simulator: TLS (its own CA), HTTP/2 by ALPN; {} IPs, one connection each, opened {} \
             at a time; RSS of a fresh probe process per run (/proc/self/status VmRSS); {} runs",
            plan.ips, plan.concurrency, plan.runs
        ),
        figures,
        series: Vec::new(),
        notes: vec![
            "the simulator accepted exactly one connection per IP over two rounds in every run: \
             the connections measured were live"
                .into(),
        ],
    })
}
