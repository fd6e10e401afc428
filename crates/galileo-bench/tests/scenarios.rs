//! The scenarios at small sizes against an in-process simulator (the same `App` the
//! `galileo-sim` binary runs, reached over loopback sockets through the same admin endpoints).

use std::time::Duration;

use galileo_bench::quota::{self, Knowledge, Peer, QuotaSetup};
use galileo_bench::scenario::{client_overhead, known_limits, lease_scaling, memory, sim_config};
use galileo_bench::{BenchError, Bucket, Limits, Progress, Sim, loopback_sources};
use galileo_sim::app::{App, SimConfig};

async fn start(tls: bool, latency_ms: Option<u64>) -> (App, Sim) {
    let cfg = SimConfig::parse(&sim_config(tls, latency_ms), "test").unwrap();
    let app = App::start(cfg).unwrap();
    let url = app.sandbox().service("jupiter").unwrap().url();
    let ca = tls.then(|| app.sandbox().ca().cert_pem().as_bytes().to_vec());
    let sim = Sim::new(url, ca).unwrap();
    (app, sim)
}

const RATE: f64 = 20.0;
const BURST: u32 = 4;

async fn limit(sim: &Sim) {
    sim.set_limits(Limits {
        per_ip: Some(Bucket {
            rate: RATE,
            burst: BURST,
        }),
    })
    .await
    .unwrap();
    sim.reset_stats().await.unwrap();
}

fn setup(sim: &Sim, ips: usize, duration: Duration) -> QuotaSetup {
    QuotaSetup {
        quote_url: sim.quote_url(),
        sources: loopback_sources(ips),
        rate: RATE,
        sim_burst: BURST,
        workers: 16,
        duration,
    }
}

/// The key property of scenario 1: told `r`, Galileo fills the quota without a 429, where the
/// naive peer fills it only by being refused most of the time, and the reference's fixed
/// cooldown leaves most of it unused. The simulator's own counters agree with the client's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn told_the_rate_galileo_fills_the_quota_without_429s() {
    let (_app, sim) = start(false, Some(5)).await;
    let (warmup, window) = (Duration::from_millis(500), Duration::from_secs(2));
    let s = setup(&sim, 2, warmup + window);
    let utilization =
        |c: galileo_bench::Counts| c.quotes as f64 / (window.as_secs_f64() * s.ceiling());

    limit(&sim).await;
    let t = quota::run(Peer::Galileo, &s, Knowledge::Known)
        .await
        .unwrap();
    let g = t.window(warmup, warmup + window);
    let server = sim.stats().await.unwrap();
    assert!(utilization(g) >= 0.9, "galileo: {g:?}");
    assert_eq!(g.rate_limited, 0, "galileo: {g:?}");
    assert_eq!(
        server.total.rate_limited, 0,
        "the simulator refused galileo: {server:?}"
    );

    limit(&sim).await;
    let t = quota::run(Peer::Naive, &s, Knowledge::Known).await.unwrap();
    let n = t.window(warmup, warmup + window);
    assert!(utilization(n) >= 0.9, "naive: {n:?}");
    assert!(n.share_429() > 0.5, "naive: {n:?}");
    assert!(sim.stats().await.unwrap().total.rate_limited > 0);

    limit(&sim).await;
    let t = quota::run(Peer::Reference, &s, Knowledge::Known)
        .await
        .unwrap();
    let r = t.window(warmup, warmup + window);
    assert!(r.share_429() > 0.05, "reference: {r:?}");
    assert!(utilization(r) < 0.8, "reference: {r:?}");
}

/// Scenario 1's report at a small size: every client at every N, both metrics, targets on
/// Galileo's figures only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_known_limits_report_has_every_client_at_every_n() {
    let (_app, sim) = start(false, Some(5)).await;
    let plan = known_limits::Plan {
        ips: vec![1, 2],
        rate: RATE,
        burst: BURST,
        workers: 8,
        warmup: Duration::from_millis(300),
        window: Duration::from_millis(1_000),
        runs: 1,
        peers: Peer::ALL.to_vec(),
    };
    let r = known_limits::run(&sim, &plan, &Progress::hidden())
        .await
        .unwrap();
    assert_eq!(r.figures.len(), 2 * 2 * 3);
    for f in &r.figures {
        assert_eq!(f.target.is_some(), f.subject == "galileo", "{f:?}");
        assert!(f.summary.median.is_finite());
    }
    let galileo_n2 = r
        .figures
        .iter()
        .find(|f| f.subject == "galileo" && f.group == "N=2" && f.metric == "utilization")
        .unwrap();
    assert!(galileo_n2.summary.median > 0.8, "{galileo_n2:?}");
}

/// Scenario 3 measures each client, and refuses to report a window the simulator did not serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_overhead_measures_all_three_and_rejects_refusals() {
    let (_app, sim) = start(false, None).await;
    let plan = client_overhead::Plan {
        ips: 2,
        workers: 4,
        warmup: Duration::from_millis(200),
        window: Duration::from_millis(500),
        runs: 1,
    };
    for c in client_overhead::Client::ALL {
        let s = client_overhead::measure(c, &sim, &plan).await.unwrap();
        assert!(s.requests > 10, "{c:?}: {s:?}");
        assert_eq!(s.errors, 0, "{c:?}: {s:?}");
        assert!(s.cpu > Duration::ZERO, "{c:?}: {s:?}");
    }
    // One request per second per IP: almost every request is a 429.
    sim.set_limits(Limits {
        per_ip: Some(Bucket {
            rate: 1.0,
            burst: 1,
        }),
    })
    .await
    .unwrap();
    let e = client_overhead::measure(client_overhead::Client::HyperUtil, &sim, &plan)
        .await
        .unwrap_err();
    assert!(matches!(e, BenchError::Measurement { .. }), "{e}");
    assert!(e.to_string().contains("failed in the window"), "{e}");
}

/// Scenario 5's probe at 8 IPs: one live TLS connection per IP, reused by the second round,
/// and the simulator-side check catches a probe that opened more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_probe_holds_one_live_connection_per_ip() {
    let (_app, sim) = start(true, None).await;
    assert!(sim.url().starts_with("https://"));
    let ca = sim.ca_der().unwrap().unwrap();
    sim.reset_stats().await.unwrap();
    let r = memory::probe(&sim.quote_url(), ca.clone(), 8, 4)
        .await
        .unwrap();
    assert_eq!((r.clients, r.ips), (8, 8));
    assert!(r.rss > 0 && r.baseline_rss > 0);
    memory::check_connections(&sim, 8).await.unwrap();

    // A second probe without a reset: 16 connections for 8 IPs is not "one each".
    memory::probe(&sim.quote_url(), ca, 8, 4).await.unwrap();
    let e = memory::check_connections(&sim, 8).await.unwrap_err();
    assert!(e.to_string().contains("accepted 16 connections"), "{e}");
}

/// Scenario 4's two measurements give a cost at both ends of the slot range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_scaling_measures_both_cases() {
    for slots in [8, 4096] {
        let solo = lease_scaling::uncontended(slots, 2_000).unwrap();
        let many = lease_scaling::contended(slots, 200).await.unwrap();
        assert!(solo > 0.0 && solo.is_finite(), "{slots}: {solo}");
        assert!(many > 0.0 && many.is_finite(), "{slots}: {many}");
    }
}
