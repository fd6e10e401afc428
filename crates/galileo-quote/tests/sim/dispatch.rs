//! The dispatcher against galileo-sim's Jupiter over loopback, with the real client: sizes
//! overlap inside one delay window, load spreads over every IP, pacing holds the provider's
//! per-IP limit for 30 s, a 429 storm widens the batch interval and recovery narrows it, and a
//! failed buy leg sends no sell leg.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{Net, SOL, USDC, key, sim, url};
use galileo_net::HttpClient;
use galileo_quote::jupiter::{JupiterClient, JupiterConfig};
use galileo_quote::plan::TradePair;
use galileo_quote::{
    BatchResult, DispatchConfig, LearnConfig, Leg, QuoteDispatcher, QuoteParallelism, QuoteSource,
    Schedule,
};
use galileo_sim::config::LimitsConfig;
use galileo_sim::faults::Fault;
use galileo_sim::stats::StatsSnapshot;
use tokio::time::{Instant, timeout};

fn jupiter<C: HttpClient>(
    app: &galileo_sim::app::App,
    http: C,
    limit: Option<usize>,
) -> JupiterClient<C> {
    let base = url(app, "jupiter");
    let cfg = JupiterConfig {
        quote_url: format!("{base}/swap/v1/quote"),
        swap_instructions_url: format!("{base}/swap/v1/swap-instructions"),
        slippage_bps: 0,
        backend_limit: limit.and_then(NonZeroUsize::new),
        ..JupiterConfig::default()
    };
    JupiterClient::new(cfg, http).unwrap()
}

fn ips(first: u8, n: u8) -> Vec<String> {
    (first..first + n).map(|i| format!("127.0.0.{i}")).collect()
}

fn net(ips: &[String], extra: &str) -> Net {
    let refs: Vec<&str> = ips.iter().map(String::as_str).collect();
    Net::new(&refs, extra)
}

fn schedule(sizes: usize, delay: Duration) -> Schedule {
    let pair = TradePair::new(key(SOL), key(USDC));
    let sizes: Vec<u64> = (1..=sizes as u64).map(|i| i * 100_000_000).collect();
    let mut s = Schedule::new(Instant::now());
    s.add_pair(pair, &sizes, delay);
    s
}

fn config(p: QuoteParallelism) -> DispatchConfig {
    DispatchConfig {
        quote_parallelism: p,
        ..DispatchConfig::default()
    }
}

/// Runs `d` for `how_long` of real time; the results it handed over.
async fn run_for<B: QuoteSource, S: QuoteSource>(
    d: &mut QuoteDispatcher<B, S>,
    s: &mut Schedule,
    how_long: Duration,
) -> Vec<BatchResult<B::Quote, S::Quote>> {
    let mut out = Vec::new();
    let _ = timeout(how_long, d.run(s, |r| out.push(r))).await;
    out
}

fn stats(app: &galileo_sim::app::App) -> StatsSnapshot {
    app.sandbox().service("jupiter").unwrap().stats()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sizes_on_one_ip_overlap_inside_one_delay_window() {
    // Every quote takes 200 ms; the delay window is 1 s.
    let app = sim("[services.jupiter]\nlatency = { model = \"fixed\", ms = 200 }");
    let net = net(&ips(41, 1), "per_ip_inflight_limit = 4");
    let source = Arc::new(jupiter(&app, net.http.clone(), None));
    let mut d = QuoteDispatcher::new(
        net.allocator.clone(),
        source.clone(),
        source,
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(3, Duration::from_secs(1));
    let results = run_for(&mut d, &mut s, Duration::from_millis(950)).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        3,
        "{results:?}"
    );
    assert_eq!(d.parallelism(), 3);
    let seen = stats(&app).ip(ip("127.0.0.41"));
    assert_eq!(seen.requests, 6, "3 buy + 3 sell legs");
    assert_eq!(seen.max_in_flight, 3, "the sim saw the three sizes at once");

    // Serial: one round trip (400 ms) at a time; two fit in the window, never overlapping.
    let app = sim("[services.jupiter]\nlatency = { model = \"fixed\", ms = 200 }");
    let source = Arc::new(jupiter(&app, net.http.clone(), None));
    let mut d = QuoteDispatcher::new(
        net.allocator.clone(),
        source.clone(),
        source,
        config(QuoteParallelism::SERIAL),
    )
    .unwrap();
    let mut s = schedule(3, Duration::from_secs(1));
    let results = run_for(&mut d, &mut s, Duration::from_millis(950)).await;
    assert!(
        results.len() < 3,
        "serial cannot quote three sizes in one window"
    );
    assert_eq!(stats(&app).ip(ip("127.0.0.41")).max_in_flight, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_sizes_spread_over_eight_ips() {
    let app = sim("[services.jupiter]\nlatency = { model = \"fixed\", ms = 50 }");
    let sources = ips(51, 8);
    let net = net(&sources, "per_ip_inflight_limit = 2");
    let source = Arc::new(jupiter(&app, net.http.clone(), None));
    let mut d = QuoteDispatcher::new(
        net.allocator.clone(),
        source.clone(),
        source,
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    assert_eq!(
        d.effective_parallelism(32),
        16,
        "min(32 sizes, 8 IPs × 2, unbounded)"
    );
    let mut s = schedule(32, Duration::from_secs(5));
    let results = run_for(&mut d, &mut s, Duration::from_millis(1500)).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        32,
        "every size once"
    );
    let seen = stats(&app);
    for src in &sources {
        let c = seen.ip(ip(src));
        assert!(
            (6..=10).contains(&c.requests),
            "{src}: {} requests; every IP carries its share",
            c.requests
        );
        assert!(c.max_in_flight <= 2, "{src}: the per-IP limit holds");
    }
    assert!(
        seen.total.max_in_flight > 2,
        "more than one IP worked at once"
    );
    assert!(seen.total.max_in_flight <= 16);

    // A backend limit of 5 caps it below the IP capacity.
    let app = sim("[services.jupiter]\nlatency = { model = \"fixed\", ms = 50 }");
    let capped = Arc::new(jupiter(&app, net.http.clone(), Some(5)));
    let mut d = QuoteDispatcher::new(
        net.allocator.clone(),
        capped.clone(),
        capped,
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    assert_eq!(d.effective_parallelism(32), 5);
    let mut s = schedule(32, Duration::from_secs(5));
    run_for(&mut d, &mut s, Duration::from_millis(800)).await;
    assert!(stats(&app).total.max_in_flight <= 5);
}

/// The provider allows r = 10 requests/s per source IP (burst 4); Galileo is told r and leases
/// round trips of cost 2. Over 30 s the 429 share stays at or under 1 % and the successful
/// requests reach at least 90 % of 8·r.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_uses_the_quota_without_429s_for_thirty_seconds() {
    const R: u32 = 10;
    const SECS: u64 = 30;
    let app = sim(&format!(
        "[services.jupiter]\nlimits.per_ip = {{ rate = {R}.0, burst = 4 }}\nlatency = {{ model = \"fixed\", ms = 5 }}"
    ));
    let sources = ips(61, 8);
    let net = net(
        &sources,
        &format!(
            "per_ip_inflight_limit = 2\n[backends.jupiter]\nper_ip_rate = {{ requests = {R}, period_ms = 1000, burst = 2 }}"
        ),
    );
    let backend = net.allocator.backend("jupiter").unwrap();
    let source = Arc::new(jupiter(&app, net.http.clone(), None).with_backend(backend));
    let mut d = QuoteDispatcher::new(
        net.allocator.clone(),
        source.clone(),
        source,
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(32, Duration::from_millis(50));
    let results = run_for(&mut d, &mut s, Duration::from_secs(SECS)).await;

    let seen = stats(&app);
    let ok = seen.total.status(200);
    let limited = seen.total.rate_limited;
    let share = limited as f64 / seen.total.requests as f64;
    let use_ = ok as f64 / f64::from(8 * R * SECS as u32);
    eprintln!(
        "{ok} ok, {limited} 429s ({:.3} %), quota use {:.3}, {} round trips",
        share * 100.0,
        use_,
        results.len()
    );
    assert!(share <= 0.01, "429 share {share}");
    assert!(use_ >= 0.90, "quota use {use_}");
    for src in &sources {
        assert!(
            seen.ip(ip(src)).status(200) > u64::from(R) * SECS * 8 / 10,
            "{src} under-used"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_widens_the_interval_and_recovery_narrows_it() {
    let app = sim("[services.jupiter]");
    let net = net(&ips(71, 2), "per_ip_inflight_limit = 2");
    let source = Arc::new(jupiter(&app, net.http.clone(), None));
    let mut d = QuoteDispatcher::new(
        net.allocator.clone(),
        source.clone(),
        source,
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(4, Duration::from_millis(100));
    let controls = app.sandbox().controls("jupiter").unwrap();

    // The storm: the provider now allows 1 request per 2 s per IP.
    controls
        .set_limits(toml::from_str::<LimitsConfig>("per_ip = { rate = 0.5, burst = 1 }").unwrap())
        .unwrap();
    let storm = run_for(&mut d, &mut s, Duration::from_secs(3)).await;
    assert!(
        storm
            .iter()
            .any(|r| r.as_ref().is_err_and(|f| f.error.is_rate_limited()))
    );
    assert!(stats(&app).total.rate_limited > 0);
    let widened = d.batch_interval();
    assert!(
        widened > Duration::ZERO,
        "the interval widened during the storm"
    );
    assert!(
        net.allocator
            .snapshot()
            .iter()
            .any(|s| s.cooldown_streak > 0),
        "IPs rested"
    );

    // The storm passes: limits lifted. Rests end, the interval narrows back to 0.
    controls.set_limits(LimitsConfig::default()).unwrap();
    let calm = run_for(&mut d, &mut s, Duration::from_secs(8)).await;
    assert!(
        calm.iter().filter(|r| r.is_ok()).count() >= 4,
        "quoting resumed"
    );
    assert_eq!(
        d.batch_interval(),
        Duration::ZERO,
        "recovered from {widened:?}"
    );
    assert_eq!(net.allocator.capacity().cooling, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_buy_leg_sends_no_sell_leg() {
    let app = sim("[services.jupiter]");
    let net = net(&ips(81, 1), "");
    let source = Arc::new(jupiter(&app, net.http.clone(), None));
    let d = QuoteDispatcher::new(
        net.allocator.clone(),
        source.clone(),
        source,
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(1, Duration::from_secs(1));
    let plan = s.drain_ready_batches(Instant::now(), 1)[0];
    app.sandbox()
        .controls("jupiter")
        .unwrap()
        .force(Fault::ServerError);
    let failure = d.run_batch(plan).await.unwrap_err();
    assert_eq!(failure.leg, Some(Leg::Buy));
    assert_eq!(failure.error.status(), Some(500));
    let seen = stats(&app);
    assert_eq!(
        seen.total.requests, 1,
        "no sell-leg request reached the sim"
    );
    let inputs: BTreeSet<bool> = seen
        .recent
        .iter()
        .map(|r| r.path.contains(&format!("inputMint={SOL}")))
        .collect();
    assert_eq!(
        inputs,
        BTreeSet::from([true]),
        "only the buy leg (SOL in) was asked"
    );
    assert_eq!(net.allocator.capacity().inflight, 0);

    // Without the fault, the same batch prices both legs on one IP.
    let q = d.run_batch(plan).await.unwrap();
    assert_eq!(q.buy_ip, q.sell_ip);
    assert_eq!(stats(&app).total.requests, 3);
}

/// The provider allows r = 10 requests/s per IP, and nobody tells Galileo. The dispatcher
/// learns it (slow start, then probing at the edge): from the 10th second on, the successful
/// requests reach at least 85 % of 8·r with few 429s. (The bench measures this further.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_limit_is_learned_within_ten_seconds() {
    const R: u32 = 10;
    let app = sim(&format!(
        "[services.jupiter]\nlimits.per_ip = {{ rate = {R}.0, burst = 4 }}\nlatency = {{ model = \"fixed\", ms = 5 }}"
    ));
    let sources = ips(91, 8);
    // The backend is registered with no rate: only the learner paces it.
    let net = net(&sources, "per_ip_inflight_limit = 2\n[backends.jupiter]");
    let backend = net.allocator.backend("jupiter").unwrap();
    let source = Arc::new(jupiter(&app, net.http.clone(), None).with_backend(backend));
    let cfg = DispatchConfig {
        learn_rate: Some(LearnConfig::default()),
        ..config(QuoteParallelism::Auto)
    };
    let mut d = QuoteDispatcher::new(net.allocator.clone(), source.clone(), source, cfg).unwrap();
    let mut s = schedule(32, Duration::from_millis(50));
    run_for(&mut d, &mut s, Duration::from_secs(10)).await;
    let at_10 = stats(&app).total;
    run_for(&mut d, &mut s, Duration::from_secs(10)).await;
    let at_20 = stats(&app).total;
    let ok = at_20.status(200) - at_10.status(200);
    let limited = at_20.rate_limited - at_10.rate_limited;
    let use_ = ok as f64 / f64::from(8 * R * 10);
    let share = limited as f64 / (at_20.requests - at_10.requests) as f64;
    eprintln!(
        "seconds 10-20: quota use {use_:.3}, 429 share {:.2} %, learned {:?}/s",
        share * 100.0,
        d.learned_rate()
    );
    assert!(use_ >= 0.85, "quota use {use_}");
    assert!(share <= 0.03, "429 share {share}");
}
