//! Another bot embedding galileo-net: build the IP inventory from config, lease an IP per
//! request, send from it, let the client report the outcome, and look at the per-IP state.
//!
//! ```text
//! cargo run -p embed-net -- --demo               # against a local rate-limiting server
//! cargo run -p embed-net -- --demo --no-pacing   # same, without proactive pacing: see 429s
//! cargo run -p embed-net -- --config my.toml     # against the [bot] url of your config
//! ```

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::Parser;
use galileo_net::{
    BoundHttpClient, HttpClient, Inventory, IpAllocator, LeaseRequest, NetworkConfig, TaskKind,
};
use galileo_resilience::{KeyedGcra, Quota};
use http_body_util::Full;
use serde::Deserialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

#[derive(Parser)]
struct Args {
    /// The bot's config: `[bot]` and galileo-net's `[network]`.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/embed-net.toml"))]
    config: PathBuf,
    /// Start a local server that rate-limits per source IP, and send to it.
    #[arg(long)]
    demo: bool,
    /// Ignore `[network.backends.*]` rates: rely on 429s and cooldowns alone.
    #[arg(long)]
    no_pacing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    bot: Bot,
    #[serde(default)]
    network: NetworkConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bot {
    url: String,
    requests: usize,
    concurrency: usize,
    demo_limit_per_ip: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let mut cfg: Config =
        toml::from_str(&text).with_context(|| format!("parsing {}", args.config.display()))?;
    if args.no_pacing {
        cfg.network.backends.clear();
    }
    cfg.network.validate()?;

    let mut url = cfg.bot.url.clone();
    if args.demo {
        let addr = demo_server(cfg.bot.demo_limit_per_ip).await?;
        url = format!("http://{addr}/quote?inputMint=So11111111111111111111111111111111111111112");
        println!(
            "demo server on {addr}: {} requests/s per source IP, 429 beyond",
            cfg.bot.demo_limit_per_ip
        );
    }

    // 1. Inventory: probe-binds every configured IP; failures are quarantined with a reason.
    let inventory = Inventory::discover(&cfg.network)?;
    for q in inventory.quarantined() {
        println!("quarantined at start: {q}");
    }
    // 2. Allocator and client, from the same config.
    let allocator = IpAllocator::from_config(&cfg.network, &inventory)?;
    let client = BoundHttpClient::new(&cfg.network.http)?;
    let request = match allocator.backend("demo") {
        Some(backend) => LeaseRequest::new(TaskKind::Quote).backend(backend),
        None => LeaseRequest::new(TaskKind::Quote),
    };

    // 3. Lease, send, and let the client report each outcome to the lease.
    let started = Instant::now();
    let left = Arc::new(Mutex::new(cfg.bot.requests));
    let mut tasks = JoinSet::new();
    for _ in 0..cfg.bot.concurrency {
        let (allocator, client, url, left) =
            (allocator.clone(), client.clone(), url.clone(), left.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            loop {
                {
                    let mut n = left.lock().unwrap();
                    if *n == 0 {
                        break;
                    }
                    *n -= 1;
                }
                let lease = allocator.acquire_with(request).await?;
                let req = http::Request::get(&url).body(Full::new(Bytes::new()))?;
                match client.send(&lease, req).await {
                    Ok(resp) => statuses.push(resp.status().as_u16()),
                    Err(e) => {
                        tracing::warn!(error = %e, "request failed");
                        statuses.push(0);
                    }
                }
            }
            anyhow::Ok(statuses)
        });
    }
    let mut ok = 0;
    let mut limited = 0;
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        for s in r?? {
            match s {
                200..=299 => ok += 1,
                429 => limited += 1,
                _ => failed += 1,
            }
        }
    }
    let elapsed = started.elapsed();

    // 4. What each IP did.
    println!(
        "\n{} requests in {:.2?}: {ok} ok, {limited} rate-limited (429), {failed} failed",
        ok + limited + failed,
        elapsed
    );
    println!(
        "{:<16} {:>8} {:>6} {:>9} {:>7}  state",
        "source IP", "requests", "429s", "timeouts", "limit"
    );
    for s in allocator.snapshot() {
        println!(
            "{:<16} {:>8} {:>6} {:>9} {:>7}  {:?}",
            s.ip,
            s.total.requests,
            s.total.rate_limited,
            s.total.timeouts,
            s.effective_limit.map_or("-".to_string(), |l| l.to_string()),
            s.state
        );
    }
    Ok(())
}

/// A server that allows `per_ip` requests per second from each source IP (by TCP peer
/// address) and answers 429 with `Retry-After` beyond.
async fn demo_server(per_ip: u32) -> Result<SocketAddr> {
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let per_ip = NonZeroU32::new(per_ip).context("demo_limit_per_ip must be at least 1")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let limits = Arc::new(Mutex::new(KeyedGcra::new(Quota::per_second(per_ip))));
    tokio::spawn(async move {
        while let Ok((tcp, peer)) = listener.accept().await {
            let limits = limits.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: http::Request<hyper::body::Incoming>| {
                    let decision = limits.lock().unwrap().check(&peer.ip(), Instant::now(), 1);
                    async move {
                        tokio::time::sleep(Duration::from_millis(20)).await; // a quote takes a while
                        let resp = match decision.allowed {
                            true => http::Response::new(Full::new(Bytes::from_static(
                                b"{\"outAmount\":\"1000\"}",
                            ))),
                            false => {
                                // Whole seconds, rounded up, as Retry-After's delta-seconds.
                                let wait = decision
                                    .retry_after
                                    .map_or(1, |w| w.as_secs() + u64::from(w.subsec_nanos() > 0));
                                let mut r = http::Response::new(Full::new(Bytes::new()));
                                *r.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
                                r.headers_mut().insert("retry-after", wait.into());
                                r
                            }
                        };
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    Ok(addr)
}
