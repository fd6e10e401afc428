//! Scenario 3: what galileo-net's client costs per request. The same simulator (no limits, no
//! latency), the same concurrency and the same 16 source IPs for three clients:
//!
//! - galileo: one `IpAllocator` lease per request + `BoundHttpClient` (per-IP hyper clients);
//! - hyper-util: a raw hyper-util legacy client per IP, bound with `set_local_address`: the
//!   floor, nothing on top of hyper;
//! - reqwest: a `reqwest::Client` per IP (`local_address`).
//!
//! Figures: requests/s and CPU time of this process per 1,000 requests (getrusage; the
//! simulator runs in its own process), as ratios per run (galileo ÷ the other, paired).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use galileo_net::{BoundHttpClient, HttpClient, HttpConfig, IpAllocator, TaskKind};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Context;
use crate::quota::{reqwest_client, reqwest_url};
use crate::report::{Figure, ScenarioReport, Target, Unit};
use crate::{BenchError, Progress, Sim, loopback_sources, sources, usage};

/// The clients compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// galileo-net.
    Galileo,
    /// Raw hyper-util.
    HyperUtil,
    /// reqwest.
    Reqwest,
}

impl Client {
    /// All three.
    pub const ALL: [Client; 3] = [Client::Galileo, Client::HyperUtil, Client::Reqwest];

    /// The name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Client::Galileo => "galileo",
            Client::HyperUtil => "hyper-util",
            Client::Reqwest => "reqwest",
        }
    }
}

/// Sizes of one scenario-3 run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Source IPs.
    pub ips: usize,
    /// Requests in flight.
    pub workers: usize,
    /// Not counted: connections open.
    pub warmup: Duration,
    /// Counted.
    pub window: Duration,
    /// Repetitions.
    pub runs: usize,
}

impl Plan {
    /// The plan for `ctx`'s mode.
    pub fn new(ctx: &Context) -> Self {
        Self {
            ips: 16,
            workers: 32,
            warmup: Duration::from_millis(500),
            window: Duration::from_millis(if ctx.quick { 1_500 } else { 5_000 }),
            runs: ctx.runs(2, 5),
        }
    }
}

/// One client's window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// `200`s completed in the window.
    pub requests: u64,
    /// Anything else (should be none: the simulator has no limits here).
    pub errors: u64,
    /// CPU time of this process in the window.
    pub cpu: Duration,
    /// The window.
    pub window: Duration,
}

impl Sample {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// CPU milliseconds per 1,000 requests (CPU seconds per million).
    pub fn cpu_ms_per_1k(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.requests.max(1) as f64
    }
}

#[derive(Debug, Default)]
struct Tally {
    ok: AtomicU64,
    errors: AtomicU64,
}

impl Tally {
    fn count(&self, ok: bool) {
        let c = if ok { &self.ok } else { &self.errors };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Measures `client` against `sim` for one warm-up + window.
pub async fn measure(client: Client, sim: &Sim, plan: &Plan) -> Result<Sample, BenchError> {
    let ips = loopback_sources(plan.ips);
    let url = sim.quote_url();
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let end = start + plan.warmup + plan.window;
    let mut tasks = JoinSet::new();
    match client {
        Client::Galileo => spawn_galileo(&mut tasks, &ips, &url, plan.workers, &tally, end)?,
        Client::HyperUtil => spawn_hyper(&mut tasks, &ips, &url, plan.workers, &tally, end)?,
        Client::Reqwest => spawn_reqwest(&mut tasks, &ips, &url, plan.workers, &tally, end)?,
    }
    tokio::time::sleep_until(start + plan.warmup).await;
    let (ok0, err0, cpu0) = (
        tally.ok.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        usage::cpu_time()?,
    );
    let t0 = Instant::now();
    tokio::time::sleep_until(end).await;
    let (ok1, err1, cpu1) = (
        tally.ok.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        usage::cpu_time()?,
    );
    let window = t0.elapsed();
    crate::quota::join_all(tasks).await?;
    let sample = Sample {
        requests: ok1 - ok0,
        errors: err1 - err0,
        cpu: cpu1.saturating_sub(cpu0),
        window,
    };
    if sample.requests == 0 || sample.errors * 100 > sample.requests {
        return Err(BenchError::measurement(
            "client-overhead",
            format!(
                "{}: {} requests answered 200 and {} failed in the window; the simulator should \
                 answer every request here (see its log)",
                client.label(),
                sample.requests,
                sample.errors
            ),
        ));
    }
    Ok(sample)
}

fn spawn_galileo(
    tasks: &mut JoinSet<Result<(), BenchError>>,
    ips: &[IpAddr],
    url: &str,
    workers: usize,
    tally: &Arc<Tally>,
    end: Instant,
) -> Result<(), BenchError> {
    let allocator = IpAllocator::builder(&sources::inventory(ips)?).build();
    let client = BoundHttpClient::new(&HttpConfig::default())?;
    let uri: http::Uri = url
        .parse()
        .map_err(|e| BenchError::Usage(format!("bad URL {url}: {e}")))?;
    for _ in 0..workers {
        let (allocator, client, uri, tally) = (
            allocator.clone(),
            client.clone(),
            uri.clone(),
            tally.clone(),
        );
        tasks.spawn(async move {
            loop {
                let one = async {
                    let lease = allocator.acquire(TaskKind::Quote, 1).await?;
                    let request = http::Request::get(uri.clone())
                        .body(Full::new(Bytes::new()))
                        .map_err(|e| galileo_net::NetError::InvalidRequest(e.to_string()))?;
                    Ok::<_, galileo_net::NetError>(
                        client
                            .send(&lease, request)
                            .await
                            .is_ok_and(|r| r.status() == 200),
                    )
                };
                match tokio::time::timeout_at(end, one).await {
                    Err(_) => return Ok(()),
                    Ok(Err(e)) => return Err(e.into()),
                    Ok(Ok(ok)) => tally.count(ok),
                }
            }
        });
    }
    Ok(())
}

fn spawn_hyper(
    tasks: &mut JoinSet<Result<(), BenchError>>,
    ips: &[IpAddr],
    url: &str,
    workers: usize,
    tally: &Arc<Tally>,
    end: Instant,
) -> Result<(), BenchError> {
    let clients: Arc<[HyperClient<HttpConnector, Full<Bytes>>]> = ips
        .iter()
        .map(|ip| {
            let mut http = HttpConnector::new();
            http.set_local_address(Some(*ip));
            http.set_nodelay(true);
            HyperClient::builder(TokioExecutor::new()).build(http)
        })
        .collect();
    let uri: http::Uri = url
        .parse()
        .map_err(|e| BenchError::Usage(format!("bad URL {url}: {e}")))?;
    let next = Arc::new(AtomicU64::new(0));
    for _ in 0..workers {
        let (clients, uri, tally, next) =
            (clients.clone(), uri.clone(), tally.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = (next.fetch_add(1, Ordering::Relaxed) % clients.len() as u64) as usize;
                let one = async {
                    let request = http::Request::get(uri.clone())
                        .body(Full::new(Bytes::new()))
                        .ok()?;
                    let response = clients[i].request(request).await.ok()?;
                    let ok = response.status() == 200;
                    response.into_body().collect().await.ok()?;
                    Some(ok)
                };
                match tokio::time::timeout_at(end, one).await {
                    Err(_) => return Ok(()),
                    Ok(r) => tally.count(r == Some(true)),
                }
            }
        });
    }
    Ok(())
}

fn spawn_reqwest(
    tasks: &mut JoinSet<Result<(), BenchError>>,
    ips: &[IpAddr],
    url: &str,
    workers: usize,
    tally: &Arc<Tally>,
    end: Instant,
) -> Result<(), BenchError> {
    let clients: Arc<[reqwest::Client]> = ips
        .iter()
        .map(|ip| reqwest_client(*ip))
        .collect::<Result<Vec<_>, _>>()?
        .into();
    let url = reqwest_url(url)?;
    let next = Arc::new(AtomicU64::new(0));
    for _ in 0..workers {
        let (clients, url, tally, next) =
            (clients.clone(), url.clone(), tally.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = (next.fetch_add(1, Ordering::Relaxed) % clients.len() as u64) as usize;
                let one = async {
                    let response = clients[i].get(url.clone()).send().await.ok()?;
                    let ok = response.status() == 200;
                    response.bytes().await.ok()?;
                    Some(ok)
                };
                match tokio::time::timeout_at(end, one).await {
                    Err(_) => return Ok(()),
                    Ok(r) => tally.count(r == Some(true)),
                }
            }
        });
    }
    Ok(())
}

/// Scenario 3 from start to report.
pub async fn run(
    sim: &Sim,
    plan: &Plan,
    progress: &Progress,
) -> Result<ScenarioReport, BenchError> {
    sim.set_limits(Default::default()).await?;
    // Per run: one sample per client, in Client::ALL order.
    let mut runs: Vec<[Sample; 3]> = Vec::new();
    for run in 0..plan.runs {
        let mut got = Vec::new();
        for client in Client::ALL {
            progress.step(format!(
                "client-overhead: run {}/{}, {}",
                run + 1,
                plan.runs,
                client.label()
            ));
            got.push(measure(client, sim, plan).await?);
        }
        if let Ok(samples) = <[Sample; 3]>::try_from(got) {
            runs.push(samples);
        }
    }
    let col = |f: &dyn Fn(&[Sample; 3]) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let mut figures = Vec::new();
    for (i, c) in Client::ALL.iter().enumerate() {
        figures.extend(Figure::new(
            c.label(),
            "absolute",
            "requests_per_s",
            Unit::PerSecond,
            &col(&|r| r[i].rps()),
            None,
        ));
        figures.extend(Figure::new(
            c.label(),
            "absolute",
            "cpu_ms_per_1k_requests",
            Unit::Millis,
            &col(&|r| r[i].cpu_ms_per_1k()),
            None,
        ));
    }
    let (g, h, r) = (0, 1, 2);
    figures.extend(Figure::new(
        "galileo ÷ hyper-util",
        "throughput",
        "rps_ratio",
        Unit::Ratio,
        &col(&|s| s[g].rps() / s[h].rps()),
        Some(Target::AtLeast(0.95)),
    ));
    figures.extend(Figure::new(
        "galileo ÷ reqwest",
        "throughput",
        "rps_ratio",
        Unit::Ratio,
        &col(&|s| s[g].rps() / s[r].rps()),
        Some(Target::AtLeast(1.2)),
    ));
    // Efficiency: requests per CPU second, i.e. the other's CPU per request over galileo's.
    figures.extend(Figure::new(
        "galileo ÷ hyper-util",
        "requests per CPU second",
        "efficiency_ratio",
        Unit::Ratio,
        &col(&|s| s[h].cpu_ms_per_1k() / s[g].cpu_ms_per_1k()),
        Some(Target::AtLeast(0.95)),
    ));
    figures.extend(Figure::new(
        "galileo ÷ reqwest",
        "requests per CPU second",
        "efficiency_ratio",
        Unit::Ratio,
        &col(&|s| s[r].cpu_ms_per_1k() / s[g].cpu_ms_per_1k()),
        Some(Target::AtLeast(1.2)),
    ));
    Ok(ScenarioReport {
        id: "client-overhead",
        title: "Client overhead",
        setup: format!(
            "simulator: no limits, no latency, plain HTTP/1.1; {} source IPs, {} requests in \
             flight per client; {:?} warm-up + {:?} counted; {} runs, clients interleaved",
            plan.ips, plan.workers, plan.warmup, plan.window, plan.runs
        ),
        figures,
        series: Vec::new(),
        notes: vec![
            "the simulator shares this machine's cores, so requests/s is partly the server's \
             ceiling; CPU per request (this process only) is the client's own cost"
                .into(),
        ],
    })
}
