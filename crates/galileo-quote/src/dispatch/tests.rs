//! The dispatcher on paused time with an in-memory source: parallelism, the buy → sell rule,
//! cancellation and the widening interval. The same behaviours over real sockets against
//! galileo-sim are in `tests/dispatch.rs`.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use solana_pubkey::Pubkey;
use tokio::time::{Instant, sleep, timeout};

use super::*;
use crate::Leg;
use crate::plan::TradePair;
use crate::test_support::{Fake, allocator};

fn pair() -> TradePair {
    TradePair::new(
        Pubkey::new_from_array([1; 32]),
        Pubkey::new_from_array([2; 32]),
    )
}

fn schedule(sizes: &[u64], delay_ms: u64) -> Schedule {
    let mut s = Schedule::new(Instant::now());
    s.add_pair(pair(), sizes, Duration::from_millis(delay_ms));
    s
}

fn config(p: QuoteParallelism) -> DispatchConfig {
    DispatchConfig {
        quote_parallelism: p,
        ..Default::default()
    }
}

/// Runs the dispatcher for `d` of (paused) time, collecting results.
async fn run_for<B: QuoteSource, S: QuoteSource>(
    d: &mut QuoteDispatcher<B, S>,
    s: &mut Schedule,
    how_long: Duration,
) -> Vec<BatchResult<B::Quote, S::Quote>> {
    let mut out = Vec::new();
    let _ = timeout(how_long, d.run(s, |r| out.push(r))).await;
    out
}

#[tokio::test(start_paused = true)]
async fn auto_quotes_every_size_in_one_window_and_serial_one_at_a_time() {
    // 3 sizes, 1 IP with room for 4, process_delay 1 s, 100 ms per quote.
    let fake = Fake::new(100);
    let mut d = QuoteDispatcher::new(
        allocator(1, Some(4)),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[100, 200, 300], 1000);
    assert_eq!(d.effective_parallelism(3), 3);
    let results = run_for(&mut d, &mut s, Duration::from_millis(999)).await;
    assert_eq!(results.len(), 3, "all three sizes inside the first window");
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|q| q.gross_profit == 1))
    );
    assert_eq!(
        fake.max_in_flight.load(Ordering::SeqCst),
        3,
        "the three overlapped"
    );
    assert_eq!(d.parallelism(), 3);

    let serial = Fake::new(100);
    let mut d = QuoteDispatcher::new(
        allocator(1, Some(4)),
        serial.clone(),
        serial.clone(),
        config(QuoteParallelism::SERIAL),
    )
    .unwrap();
    let mut s = schedule(&[100, 200, 300], 1000);
    let results = run_for(&mut d, &mut s, Duration::from_millis(999)).await;
    assert_eq!(results.len(), 3, "200 ms per round trip, one after another");
    assert_eq!(serial.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn process_delay_paces_each_size() {
    let fake = Fake::new(10);
    let mut d = QuoteDispatcher::new(
        allocator(2, Some(4)),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[100, 200], 1000);
    // Windows start at 0, 1 s, 2 s: three rounds of two sizes in 2.5 s.
    let results = run_for(&mut d, &mut s, Duration::from_millis(2500)).await;
    assert_eq!(results.len(), 6);
    assert_eq!(fake.calls(Leg::Buy), 6);
}

#[tokio::test(start_paused = true)]
async fn effective_parallelism_is_the_minimum_of_its_bounds() {
    let fake = Fake::new(10);
    let d = QuoteDispatcher::new(
        allocator(8, Some(1)),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    assert_eq!(d.effective_parallelism(32), 8, "8 IPs × 1 in flight");
    assert_eq!(d.effective_parallelism(3), 3, "3 sizes");
    let capped = Arc::new(Fake {
        limit: NonZeroUsize::new(5),
        ..Default::default()
    });
    let d = QuoteDispatcher::new(
        allocator(8, Some(2)),
        capped.clone(),
        capped.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    assert_eq!(d.effective_parallelism(32), 5, "backend limit");
    let cfg = DispatchConfig {
        parallelism_override: Some(QuoteParallelism::Fixed(NonZeroUsize::new(2).unwrap())),
        ..config(QuoteParallelism::Auto)
    };
    let d = QuoteDispatcher::new(allocator(8, None), capped.clone(), capped, cfg).unwrap();
    assert_eq!(d.effective_parallelism(32), 2, "per-backend override");
}

#[tokio::test(start_paused = true)]
async fn a_failed_buy_leg_never_starts_the_sell_leg() {
    let fake = Fake::new(10);
    fake.fail_buy.store(true, Ordering::SeqCst);
    let d = QuoteDispatcher::new(
        allocator(1, None),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[100], 1000);
    let plan = s.drain_ready_batches(Instant::now(), 1)[0];
    let failure = d.run_batch(plan).await.unwrap_err();
    assert_eq!(failure.leg, Some(Leg::Buy));
    assert_eq!(failure.plan.batch_id, plan.batch_id);
    assert_eq!(fake.calls(Leg::Buy), 1);
    assert_eq!(fake.calls(Leg::Sell), 0);
    assert!(d.tracker().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_sell_leg_uses_the_buy_legs_out_amount_on_the_same_ip() {
    let fake = Fake::new(10);
    let d = QuoteDispatcher::new(
        allocator(4, None),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[1000], 1000);
    let plan = s.drain_ready_batches(Instant::now(), 1)[0];
    let q = d.run_batch(plan).await.unwrap();
    assert_eq!(q.sell.amount, q.buy.out);
    assert_eq!(q.buy_ip, q.sell_ip);
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [(1000, Leg::Buy, q.buy_ip), (2000, Leg::Sell, q.buy_ip)]
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_mid_batch_leaks_nothing() {
    let fake = Fake::new(1000);
    let alloc = allocator(2, Some(4));
    let mut d = QuoteDispatcher::new(
        alloc.clone(),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[1, 2, 3, 4, 5, 6], 10_000);
    {
        let run = d.run(&mut s, |_| panic!("no batch finishes in 1.5 s"));
        // Mid-way: buy legs done, sell legs in flight.
        let _ = timeout(Duration::from_millis(1500), run).await;
    }
    assert_eq!(fake.calls(Leg::Sell), 6, "cancelled during the sell legs");
    assert_eq!(alloc.capacity().inflight, 0, "every lease released");
    assert!(d.tracker().is_empty(), "no half-recorded batch");
    // The dispatcher runs again afterwards.
    let mut s = schedule(&[7], 10_000);
    let results = run_for(&mut d, &mut s, Duration::from_millis(2500)).await;
    assert_eq!(results.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_finishes_the_batches_in_flight() {
    let fake = Fake::new(100);
    let mut d = QuoteDispatcher::new(
        allocator(1, None),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[1, 2], 10_000);
    let mut got = 0;
    d.run_until(
        &mut s,
        |r| got += usize::from(r.is_ok()),
        sleep(Duration::from_millis(50)),
    )
    .await
    .unwrap();
    assert_eq!(got, 2, "both round trips finished after the stop");
}

#[tokio::test(start_paused = true)]
async fn a_closed_allocator_ends_the_run() {
    let fake = Fake::new(10);
    let alloc = allocator(1, Some(1));
    let mut d = QuoteDispatcher::new(
        alloc.clone(),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[1], 100);
    alloc.close();
    let err = timeout(Duration::from_secs(5), d.run(&mut s, |_| {}))
        .await
        .expect("run returns")
        .unwrap_err();
    assert!(matches!(err, QuoteError::Lease { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_429_storm_widens_the_interval_and_recovery_narrows_it() {
    let fake = Fake::new(10);
    let alloc = allocator(2, Some(4));
    let mut d = QuoteDispatcher::new(
        alloc.clone(),
        fake.clone(),
        fake.clone(),
        config(QuoteParallelism::Auto),
    )
    .unwrap();
    let mut s = schedule(&[1, 2, 3, 4], 100);
    assert_eq!(d.batch_interval(), Duration::ZERO);
    fake.rate_limit.store(true, Ordering::SeqCst);
    let storm = run_for(&mut d, &mut s, Duration::from_secs(3)).await;
    assert!(
        storm
            .iter()
            .all(|r| r.as_ref().is_err_and(|f| f.error.is_rate_limited()))
    );
    assert!(
        d.batch_interval() > Duration::ZERO,
        "widened while IPs rest"
    );
    assert!(alloc.capacity().cooling > 0 || alloc.snapshot().iter().any(|s| s.cooldown_streak > 0));

    fake.rate_limit.store(false, Ordering::SeqCst);
    let calm = run_for(&mut d, &mut s, Duration::from_secs(30)).await;
    assert!(calm.iter().filter(|r| r.is_ok()).count() > 10);
    assert_eq!(
        d.batch_interval(),
        Duration::ZERO,
        "back to the configured 0"
    );
}

#[test]
fn metrics_count_requests_batches_and_429s() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let fake = Fake::new(10);
            let mut d = QuoteDispatcher::new(
                allocator(1, None),
                fake.clone(),
                fake.clone(),
                config(QuoteParallelism::Auto),
            )
            .unwrap();
            let mut s = schedule(&[1, 2], 10_000);
            assert_eq!(
                run_for(&mut d, &mut s, Duration::from_millis(100))
                    .await
                    .len(),
                2
            );
            fake.rate_limit.store(true, Ordering::SeqCst);
            let mut s = schedule(&[3], 10_000);
            assert_eq!(
                run_for(&mut d, &mut s, Duration::from_millis(100))
                    .await
                    .len(),
                1
            );
        });
    });
    let mut counters = std::collections::HashMap::new();
    let mut batches = 0;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        match (key.name(), value) {
            (crate::metrics::QUOTE_BATCH_DURATION, DebugValue::Histogram(v)) => {
                assert!(
                    labels.contains(&"strategy=blind".to_owned())
                        && labels.contains(&"backend=fake".to_owned())
                );
                batches += v.len();
            }
            (name, DebugValue::Counter(n)) => {
                counters.insert(format!("{name}{{{}}}", labels.join(",")), n);
            }
            _ => {}
        }
    }
    assert_eq!(batches, 3);
    assert_eq!(
        counters["galileo_quote_requests_total{backend=fake,leg=buy,result=success}"],
        2
    );
    assert_eq!(
        counters["galileo_quote_requests_total{backend=fake,leg=sell,result=success}"],
        2
    );
    assert_eq!(
        counters["galileo_quote_requests_total{backend=fake,leg=buy,result=rate_limited}"],
        1
    );
    assert_eq!(
        counters["galileo_quote_rate_limited_total{backend=fake,ip=127.0.1.10}"],
        1
    );
}
