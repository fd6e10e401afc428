//! Allocator behaviour on paused time, and property tests of the sans-IO core.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use galileo_resilience::Quota;
use tokio::time::{Instant, advance, timeout};

use super::*;
use crate::{LeaseMode, Outcome, SlotState};

fn ip(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

fn inventory(n: u8) -> Inventory {
    Inventory::from_sources((2..2 + n).map(|i| SourceIp::new(ip(i))).collect()).unwrap()
}

fn alloc(n: u8, limit: Option<u32>) -> IpAllocator {
    IpAllocator::builder(&inventory(n))
        .per_ip_inflight_limit(limit.and_then(NonZeroU32::new))
        .build()
}

fn inflight(a: &IpAllocator) -> Vec<u32> {
    a.snapshot().iter().map(|s| s.inflight).collect()
}

/// One IP with backend "b" paced at `per_sec` with `burst`, its budget already spent.
fn one_ip_spent(per_sec: u32, burst: u32) -> (IpAllocator, BackendId) {
    let mut b = IpAllocator::builder(&inventory(1));
    let q = Quota::per_second(NonZeroU32::new(per_sec).unwrap())
        .with_burst(NonZeroU32::new(burst).unwrap());
    let be = b.backend("b", Some(q));
    let a = b.build();
    let spend = LeaseRequest::new(TaskKind::Quote).cost(burst).backend(be);
    drop(a.try_acquire_with(spend).unwrap());
    (a, be)
}

/// True if the future is still pending after the runtime has run everything runnable.
async fn pending<F: Future + Unpin>(f: &mut F) -> bool {
    timeout(Duration::ZERO, f).await.is_err()
}

#[tokio::test(start_paused = true)]
async fn spreads_least_loaded_then_least_recently_used() {
    let a = alloc(4, None);
    let leases: Vec<IpLease> =
        futures_util::future::try_join_all((0..8).map(|_| a.acquire(TaskKind::Quote, 1)))
            .await
            .unwrap();
    assert_eq!(inflight(&a), [2, 2, 2, 2]);
    let order: Vec<u8> = leases
        .iter()
        .map(|l| match l.ip() {
            IpAddr::V4(v4) => v4.octets()[3],
            IpAddr::V6(_) => unreachable!(),
        })
        .collect();
    assert_eq!(order, [2, 3, 4, 5, 2, 3, 4, 5]);
    drop(leases);
    assert_eq!(inflight(&a), [0, 0, 0, 0]);
}

#[tokio::test(start_paused = true)]
async fn waits_for_a_release_when_every_ip_is_at_its_limit() {
    let a = alloc(2, Some(2));
    let mut held: Vec<IpLease> = (0..4)
        .map(|_| a.try_acquire(TaskKind::Quote, 1).unwrap())
        .collect();
    let err = a.try_acquire(TaskKind::Quote, 1).unwrap_err();
    assert!(err.is_would_block() && err.retry_at().is_none(), "{err}");
    let mut next = Box::pin(a.acquire(TaskKind::Quote, 1));
    assert!(pending(&mut next).await);
    assert_eq!(a.waiting(), 1);
    let one = held.swap_remove(1);
    let freed = one.ip();
    drop(one);
    let got = next.await.unwrap();
    assert_eq!(got.ip(), freed, "the first IP released goes to the waiter");
}

#[tokio::test(start_paused = true)]
async fn landing_is_served_before_quotes_that_waited_longer() {
    let a = alloc(1, Some(1));
    let held = a.try_acquire(TaskKind::Quote, 1).unwrap();
    let mut quote = Box::pin(a.acquire(TaskKind::Quote, 1));
    assert!(pending(&mut quote).await);
    let mut land = Box::pin(a.acquire(TaskKind::Land, 1));
    assert!(pending(&mut land).await);
    drop(held);
    let l = land.await.unwrap();
    assert_eq!(l.kind(), TaskKind::Land);
    assert!(
        pending(&mut quote).await,
        "the quote waits until landing is done"
    );
    drop(l);
    let _lease = quote.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn retry_after_rests_the_ip_exactly_that_long_while_others_serve() {
    let a = alloc(2, None);
    let l = a.acquire_specific(ip(2), TaskKind::Quote, 1).await.unwrap();
    l.report(Outcome::RateLimited {
        retry_after: Some(Duration::from_secs(2)),
    });
    drop(l);
    let t0 = Instant::now();
    assert_eq!(a.snapshot()[0].state, SlotState::CoolingDown);
    for _ in 0..5 {
        assert_eq!(a.acquire(TaskKind::Quote, 1).await.unwrap().ip(), ip(3));
    }
    let back = a.acquire_specific(ip(2), TaskKind::Quote, 1).await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
    assert_eq!(back.ip(), ip(2));
}

#[tokio::test(start_paused = true)]
async fn every_ip_resting_means_waiting_for_the_first_to_wake() {
    let a = alloc(2, None);
    for (n, ms) in [(2, 800), (3, 300)] {
        let l = a.acquire_specific(ip(n), TaskKind::Quote, 1).await.unwrap();
        l.report(Outcome::RateLimited {
            retry_after: Some(Duration::from_millis(ms)),
        });
    }
    let err = a.try_acquire(TaskKind::Quote, 1).unwrap_err();
    let t0 = Instant::now();
    assert_eq!(err.retry_at(), Some(t0 + Duration::from_millis(300)));
    let l = a.acquire(TaskKind::Quote, 1).await.unwrap();
    assert_eq!((l.ip(), t0.elapsed()), (ip(3), Duration::from_millis(300)));
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_429s_escalates_once_and_shrinks_the_limit() {
    let a = alloc(1, Some(4));
    let held: Vec<IpLease> = (0..4)
        .map(|_| a.try_acquire(TaskKind::Quote, 1).unwrap())
        .collect();
    for l in &held {
        l.report(Outcome::RateLimited { retry_after: None });
    }
    let s = &a.snapshot()[0];
    assert_eq!(s.cooldown_remaining, Some(Duration::from_millis(500)));
    assert_eq!((s.cooldown_streak, s.effective_limit), (1, Some(2)));
    drop(held);
    advance(Duration::from_millis(500)).await;
    let two: Vec<IpLease> = (0..2)
        .map(|_| a.try_acquire(TaskKind::Quote, 1).unwrap())
        .collect();
    assert!(
        a.try_acquire(TaskKind::Quote, 1).is_err(),
        "AIMD limit of 2"
    );
    for l in &two {
        l.report(Outcome::Success);
    }
    drop(two);
    // A second burst doubles the rest.
    let l = a.try_acquire(TaskKind::Quote, 1).unwrap();
    l.report(Outcome::Timeout);
    assert_eq!(
        a.snapshot()[0].cooldown_remaining,
        Some(Duration::from_millis(250))
    );
}

#[tokio::test(start_paused = true)]
async fn a_backend_rate_paces_each_ip() {
    let mut b = IpAllocator::builder(&inventory(2));
    let q = Quota::per_second(NonZeroU32::new(10).unwrap()).with_burst(NonZeroU32::new(2).unwrap());
    let jup = b.backend("jupiter", Some(q));
    let a = b.build();
    assert_eq!(a.backend("jupiter"), Some(jup));
    let t0 = Instant::now();
    let mut per_ip = [0u32; 2];
    // 2 IPs × 10/s: 20 round trips of cost 2 spend 40 cells; 4 come from the full buckets,
    // the other 36 refill at 20/s.
    for _ in 0..20 {
        let l = a
            .acquire_with(LeaseRequest::new(TaskKind::Quote).cost(2).backend(jup))
            .await
            .unwrap();
        per_ip[usize::from(l.ip() == ip(3))] += 1;
    }
    assert_eq!(t0.elapsed(), Duration::from_millis(1800));
    assert_eq!(per_ip, [10, 10]);
    let err = a
        .acquire_with(LeaseRequest::new(TaskKind::Quote).cost(3).backend(jup))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("backend jupiter's per-IP burst of 2"),
        "{err}"
    );
    // Lifting the rate frees the waiters at once.
    let mut w = Box::pin(a.acquire_with(LeaseRequest::new(TaskKind::Quote).cost(2).backend(jup)));
    let mut w2 = Box::pin(a.acquire_with(LeaseRequest::new(TaskKind::Quote).cost(2).backend(jup)));
    let _ = pending(&mut w).await;
    assert!(pending(&mut w2).await);
    a.set_backend_rate(jup, None).unwrap();
    let _lease = w2.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn sticky_keys_keep_their_ip_while_it_is_healthy() {
    let a = alloc(8, None);
    let key = "https://mainnet.block-engine.jito.wtf";
    let first = a.acquire_sticky(key, TaskKind::Land, 1).await.unwrap().ip();
    for _ in 0..10 {
        assert_eq!(
            a.acquire_sticky(key, TaskKind::Land, 1).await.unwrap().ip(),
            first
        );
    }
    let other = a
        .acquire_sticky("another endpoint", TaskKind::Land, 1)
        .await
        .unwrap()
        .ip();
    let l = a.acquire_sticky(key, TaskKind::Land, 1).await.unwrap();
    l.report(Outcome::RateLimited { retry_after: None });
    drop(l);
    let moved = a.acquire_sticky(key, TaskKind::Land, 1).await.unwrap().ip();
    assert_ne!(moved, first, "moves off a resting IP");
    advance(Duration::from_secs(5)).await;
    assert_eq!(
        a.acquire_sticky(key, TaskKind::Land, 1).await.unwrap().ip(),
        moved,
        "and stays where it moved"
    );
    assert_eq!(
        a.acquire_sticky("another endpoint", TaskKind::Land, 1)
            .await
            .unwrap()
            .ip(),
        other
    );
}

#[tokio::test(start_paused = true)]
async fn excluding_never_returns_the_excluded_ip() {
    let a = alloc(3, Some(1));
    let held = a
        .acquire_excluding(ip(2), TaskKind::Quote, 1)
        .await
        .unwrap();
    assert_ne!(held.ip(), ip(2));
    let second = a
        .acquire_excluding(ip(2), TaskKind::Quote, 1)
        .await
        .unwrap();
    assert_ne!(second.ip(), ip(2));
    let mut third = Box::pin(a.acquire_excluding(ip(2), TaskKind::Quote, 1));
    assert!(
        pending(&mut third).await,
        "only 127.0.0.2 is free, and it is excluded"
    );
    drop(held);
    assert_ne!(third.await.unwrap().ip(), ip(2));
}

#[tokio::test(start_paused = true)]
async fn long_lived_leases_spread_and_leave_room_for_requests() {
    let a = alloc(2, Some(1));
    let ws: Vec<IpLease> = futures_util::future::try_join_all(
        (0..4).map(|_| a.acquire_long_lived(TaskKind::StreamConnect)),
    )
    .await
    .unwrap();
    let snap = a.snapshot();
    assert_eq!((snap[0].long_lived, snap[1].long_lived), (2, 2));
    assert_eq!(snap[0].state, SlotState::LongLived);
    assert!(ws.iter().all(|l| l.mode() == LeaseMode::LongLived));
    let req = a.try_acquire(TaskKind::Quote, 1).unwrap();
    assert_eq!(a.snapshot()[0].state, SlotState::Busy);
    drop((req, ws));
    assert_eq!(a.snapshot()[0].state, SlotState::Idle);
}

#[tokio::test(start_paused = true)]
async fn dropped_acquires_leak_nothing() {
    let a = alloc(2, Some(1));
    let held: Vec<IpLease> = (0..2)
        .map(|_| a.try_acquire(TaskKind::Quote, 1).unwrap())
        .collect();
    // Pending and dropped.
    let mut w = Box::pin(a.acquire(TaskKind::Quote, 1));
    assert!(pending(&mut w).await);
    drop(w);
    assert_eq!(a.waiting(), 0);
    // Granted while pending, then dropped without being polled again.
    let mut w = Box::pin(a.acquire(TaskKind::Quote, 1));
    assert!(pending(&mut w).await);
    drop(held);
    assert_eq!(inflight(&a).iter().sum::<u32>(), 1, "handed to the waiter");
    drop(w);
    assert_eq!(inflight(&a), [0, 0]);
    assert_eq!(a.waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_head_of_line_does_not_stall_the_queue() {
    let (a, be) = one_ip_spent(1, 2);
    let mut big = Box::pin(a.acquire_with(LeaseRequest::new(TaskKind::Quote).cost(2).backend(be)));
    assert!(pending(&mut big).await);
    let small = a.acquire_with(LeaseRequest::new(TaskKind::Quote).cost(1).backend(be));
    let t0 = Instant::now();
    let mut small = Box::pin(small);
    assert!(
        pending(&mut small).await,
        "FIFO: waits behind the cost-2 head"
    );
    drop(big);
    let _lease = small.await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(1), "one cell refilled");
}

#[tokio::test(start_paused = true)]
async fn quarantine_and_restore() {
    let a = alloc(2, None);
    a.quarantine(ip(2), "operator: upstream ban").unwrap();
    let err = a
        .acquire_specific(ip(2), TaskKind::Land, 1)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "127.0.0.2 is quarantined: operator: upstream ban"
    );
    for _ in 0..4 {
        assert_eq!(a.acquire(TaskKind::Quote, 1).await.unwrap().ip(), ip(3));
    }
    assert_eq!(a.capacity().quarantined, 1);
    a.restore(ip(2)).unwrap();
    let _lease = a.acquire_specific(ip(2), TaskKind::Land, 1).await.unwrap();
    let err = a
        .acquire_specific(ip(9), TaskKind::Land, 1)
        .await
        .unwrap_err();
    assert!(err.is_config(), "{err}");
}

#[tokio::test]
async fn quarantine_changes_are_announced_without_polling() {
    let a = alloc(2, None);
    let mut changes = a.quarantine_changes();
    assert!(!changes.has_changed().unwrap(), "nothing happened yet");
    // Leases and reports are not health changes.
    let lease = a.acquire(TaskKind::Quote, 1).await.unwrap();
    lease.report(Outcome::RateLimited { retry_after: None });
    drop(lease);
    assert!(!changes.has_changed().unwrap());
    a.quarantine(ip(3), "test").unwrap();
    timeout(Duration::from_secs(5), changes.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.snapshot()[1].state, SlotState::Quarantined);
    a.restore(ip(3)).unwrap();
    timeout(Duration::from_secs(5), changes.changed())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(a.snapshot()[1].state, SlotState::Quarantined);
    // An unknown IP changes nothing.
    assert!(a.quarantine(ip(9), "x").is_err());
    assert!(!changes.has_changed().unwrap());
}

#[test]
fn the_inventory_gauge_counts_start_and_runtime_quarantines() {
    let cfg = crate::NetworkConfig::from_toml(
        r#"
        enable_multiple_ip = true
        auto_discover = false
        allow_loopback = true
        manual_ips = ["127.0.0.2", "127.0.0.3", "192.0.2.1"]
        "#,
    )
    .unwrap();
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    use metrics_util::debugging::DebugValue::Gauge;
    // (usable, quarantined), from one snapshot: taking a snapshot consumes what it reports.
    let gauges = || {
        let snap = snapshotter.snapshot().into_vec();
        let get = |state: &str| {
            snap.iter()
                .find(|(k, ..)| {
                    k.key().name() == crate::metrics::IP_INVENTORY
                        && k.key().labels().any(|l| l.value() == state)
                })
                .map(|(.., v)| match v {
                    Gauge(g) => g.into_inner(),
                    other => panic!("not a gauge: {other:?}"),
                })
                .unwrap()
        };
        (get("usable"), get("quarantined"))
    };
    metrics::with_local_recorder(&recorder, || {
        let inv = Inventory::discover(&cfg).unwrap();
        let a = IpAllocator::from_config(&cfg, &inv).unwrap();
        assert_eq!(gauges(), (2.0, 1.0));
        a.quarantine(ip(2), "test").unwrap();
        assert_eq!(gauges(), (1.0, 2.0));
        a.restore(ip(2)).unwrap();
        assert_eq!(gauges(), (2.0, 1.0));
    });
}

#[tokio::test(start_paused = true)]
async fn close_fails_waiters_and_later_acquires() {
    let a = alloc(1, Some(1));
    let held = a.try_acquire(TaskKind::Quote, 1).unwrap();
    let mut waiter = Box::pin(a.acquire(TaskKind::Quote, 1));
    assert!(pending(&mut waiter).await);
    a.close();
    assert!(waiter.await.unwrap_err().is_closed());
    assert!(a.try_acquire(TaskKind::Land, 1).unwrap_err().is_closed());
    drop(held);
    assert_eq!(inflight(&a), [0]);
}

#[tokio::test(start_paused = true)]
async fn debug_output_stays_short() {
    let mut b = IpAllocator::builder(&inventory(200));
    b.backend("jupiter", None);
    let a = b.build();
    assert_eq!(
        format!("{a:?}"),
        r#"IpAllocator { slots: 200, backends: ["jupiter"], .. }"#
    );
    let l = a.try_acquire(TaskKind::Quote, 1).unwrap();
    assert_eq!(
        format!("{l:?}"),
        "IpLease { ip: 127.0.0.2, kind: Quote, mode: Ephemeral }"
    );
    assert_eq!(
        format!("{:?}", a.acquire(TaskKind::Quote, 1)),
        r#"Acquire { state: "start" }"#
    );
}

#[tokio::test(start_paused = true)]
async fn cheap_requests_cannot_starve_a_waiting_land() {
    let (a, be) = one_ip_spent(1, 2);
    let mut land = Box::pin(a.acquire_with(LeaseRequest::new(TaskKind::Land).cost(2).backend(be)));
    assert!(pending(&mut land).await);
    // A cost-1 quote arrives each second; each would fit the cell that has refilled, and
    // taking it would push the Land's two cells back forever.
    let quote = || a.try_acquire_with(LeaseRequest::new(TaskKind::Quote).cost(1).backend(be));
    advance(Duration::from_secs(1)).await;
    assert!(
        quote().unwrap_err().is_would_block(),
        "the Land's first cell"
    );
    advance(Duration::from_secs(1)).await;
    assert!(
        quote().unwrap_err().is_would_block(),
        "the Land's second cell: it is served now"
    );
    assert!(!pending(&mut land).await, "the Land holds its lease");
    advance(Duration::from_secs(1)).await;
    let _quote = quote().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_targeted_quote_waits_behind_a_land_short_of_the_same_budget() {
    let (a, be) = one_ip_spent(1, 2);
    let t0 = Instant::now();
    let mut land = Box::pin(a.acquire_with(LeaseRequest::new(TaskKind::Land).cost(2).backend(be)));
    assert!(pending(&mut land).await);
    // The quote runs in its own task, so its own timer (a cell for it refills at t0+1s) fires.
    let a2 = a.clone();
    let quote = tokio::spawn(async move {
        let req = LeaseRequest::new(TaskKind::Quote)
            .cost(1)
            .backend(be)
            .specific(ip(2));
        let _lease = a2.acquire_with(req).await.unwrap();
        t0.elapsed()
    });
    let l = land.await.unwrap();
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(2),
        "the Land is served as soon as its cells are there"
    );
    drop(l);
    assert_eq!(
        quote.await.unwrap(),
        Duration::from_secs(3),
        "then the quote, one cell later"
    );
}

#[tokio::test(start_paused = true)]
async fn a_land_arriving_as_a_rest_ends_goes_before_queued_quotes() {
    let a = alloc(1, Some(1));
    let l = a.try_acquire(TaskKind::Quote, 1).unwrap();
    l.report(Outcome::RateLimited {
        retry_after: Some(Duration::from_secs(1)),
    });
    drop(l);
    let mut quote = Box::pin(a.acquire(TaskKind::Quote, 1));
    assert!(pending(&mut quote).await);
    // The rest ends before anyone polls the quote's timer.
    advance(Duration::from_secs(1)).await;
    let land = a.try_acquire(TaskKind::Land, 1).unwrap();
    assert!(pending(&mut quote).await);
    drop(land);
    let _q = quote.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_lease_held_across_rests_makes_its_ip_rest_every_time() {
    let a = alloc(1, None);
    let ws = a.acquire_long_lived(TaskKind::StreamConnect).await.unwrap();
    let mut rests = Vec::new();
    for _ in 0..4 {
        ws.report(Outcome::Connect);
        let s = a.snapshot()[0].clone();
        assert_eq!(s.state, SlotState::CoolingDown);
        rests.push(s.cooldown_remaining.unwrap().as_millis());
        advance(s.cooldown_remaining.unwrap()).await;
        assert_ne!(a.snapshot()[0].state, SlotState::CoolingDown);
    }
    assert_eq!(
        rests,
        [250, 500, 1000, 2000],
        "each reconnect failure is a new burst"
    );
    // Failures during a rest belong to its burst: they do not escalate.
    ws.report(Outcome::Connect);
    let streak = a.snapshot()[0].cooldown_streak;
    ws.report(Outcome::Connect);
    ws.report(Outcome::RateLimited { retry_after: None });
    assert_eq!(a.snapshot()[0].cooldown_streak, streak);
}

#[tokio::test(start_paused = true)]
async fn one_burst_escalates_once_however_its_failures_are_spread() {
    // A buy + sell round trip sent together on one lease, both answered 429...
    let one_lease = alloc(1, None);
    let l = one_lease.try_acquire(TaskKind::Quote, 2).unwrap();
    l.report(Outcome::RateLimited { retry_after: None });
    l.report(Outcome::RateLimited { retry_after: None });
    // ...and the same two 429s on two leases.
    let two_leases = alloc(1, None);
    let (l1, l2) = (
        two_leases.try_acquire(TaskKind::Quote, 1).unwrap(),
        two_leases.try_acquire(TaskKind::Quote, 1).unwrap(),
    );
    l1.report(Outcome::RateLimited { retry_after: None });
    l2.report(Outcome::RateLimited { retry_after: None });
    for a in [&one_lease, &two_leases] {
        let s = &a.snapshot()[0];
        assert_eq!(
            (s.cooldown_streak, s.cooldown_remaining),
            (1, Some(Duration::from_millis(500)))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_land_short_of_budget_on_one_ip_does_not_stall_the_others() {
    let mut b = IpAllocator::builder(&inventory(2));
    let q = Quota::per_second(NonZeroU32::new(1).unwrap()).with_burst(NonZeroU32::new(2).unwrap());
    let be = b.backend("b", Some(q));
    let a = b.build();
    // 127.0.0.2's budget is spent; a Land bound to it waits 2 s for its two cells.
    let spent = LeaseRequest::new(TaskKind::Quote)
        .cost(2)
        .backend(be)
        .specific(ip(2));
    drop(a.try_acquire_with(spent).unwrap());
    let t0 = Instant::now();
    let land_req = LeaseRequest::new(TaskKind::Land)
        .cost(2)
        .backend(be)
        .specific(ip(2));
    let mut land = Box::pin(a.acquire_with(land_req));
    assert!(pending(&mut land).await);
    // Quotes for any IP go to 127.0.0.3 at once, and never take 127.0.0.2's refilling cells.
    let quote = LeaseRequest::new(TaskKind::Quote).cost(1).backend(be);
    for _ in 0..2 {
        assert_eq!(a.try_acquire_with(quote).unwrap().ip(), ip(3));
    }
    assert!(a.try_acquire_with(quote).is_err());
    advance(Duration::from_secs(1)).await;
    assert_eq!(
        a.try_acquire_with(quote).unwrap().ip(),
        ip(3),
        "not the cell the Land waits for"
    );
    // A long-lived lease of cost 0 spends no budget and is never held back.
    let ws = LeaseRequest::new(TaskKind::StreamConnect)
        .cost(0)
        .backend(be)
        .long_lived();
    assert!(a.try_acquire_with(ws).is_ok());
    let l = land.await.unwrap();
    assert_eq!((l.ip(), t0.elapsed()), (ip(2), Duration::from_secs(2)));
}

/// Clock-driven waits are timed by the waiting futures themselves, on the runtime polling
/// them: a runtime that once waited and then went idle takes nothing with it. (Under the former
/// design, one timer task lived on whichever runtime first waited, and every later clock wait
/// in the process depended on that runtime being driven.)
#[test]
fn clock_waits_are_timed_by_the_runtime_that_waits() {
    let a = alloc(1, None);
    let rest = |a: &IpAllocator| {
        let l = a.try_acquire(TaskKind::Quote, 1).unwrap();
        l.report(Outcome::RateLimited {
            retry_after: Some(Duration::from_millis(200)),
        });
    };
    rest(&a);
    let idle = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    idle.block_on(async {
        let mut w = Box::pin(a.acquire(TaskKind::Quote, 1));
        assert!(pending(&mut w).await);
    });
    // `idle` is alive but never driven again. Another runtime waits out two rests.
    let busy = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    busy.block_on(async {
        for _ in 0..2 {
            let l = timeout(Duration::from_secs(5), a.acquire(TaskKind::Quote, 1)).await;
            drop(l.expect("timed by this runtime").unwrap());
            rest(&a);
        }
    });
    drop(idle);
}

/// A newcomer ranking ahead of a line's timer holder blocks the line; the deposed holder must
/// lose its deadline, or its timer fires into passes that never move it and its future spins.
#[test]
fn a_deposed_line_holder_holds_no_timer() {
    use super::core::{Admission, Core, Resolved, Want};
    let t0 = Instant::now();
    let q = Quota::per_second(NonZeroU32::new(1).unwrap()).with_burst(NonZeroU32::new(2).unwrap());
    let policy = crate::slot::CooldownPolicy::default();
    let mut core = Core::new(&[ip(2)], None, policy, vec![("b".into(), Some(q))], t0);
    let mut wake = Vec::new();
    let want = |kind, cost| Want {
        kind,
        cost,
        backend: Some(0),
        target: Resolved::Any,
        mode: LeaseMode::Ephemeral,
    };
    let noop = std::task::Waker::noop();
    let Admission::Granted(g) = core.admit(&want(TaskKind::Quote, 2), noop, t0, &mut wake) else {
        panic!("the full bucket serves the first request")
    };
    core.release(g, &mut wake, || t0);
    let Admission::Queued(quote) = core.admit(&want(TaskKind::Quote, 1), noop, t0, &mut wake)
    else {
        panic!()
    };
    assert_eq!(
        core.waiters.deadline(quote),
        Some(t0 + Duration::from_secs(1))
    );
    let Admission::Queued(land) = core.admit(&want(TaskKind::Land, 2), noop, t0, &mut wake) else {
        panic!()
    };
    assert_eq!(
        core.waiters.deadline(land),
        Some(t0 + Duration::from_secs(2))
    );
    assert_eq!(core.waiters.deadline(quote), None, "behind the Land now");
}

/// The same end to end on paused time: a spinning waiter would keep the runtime busy and the
/// clock would never advance to the Land's deadline.
#[test]
fn a_deposed_line_holder_neither_spins_nor_hangs() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let polls = rt.block_on(async {
            let (a, be) = one_ip_spent(10, 2); // cost 1 fits at +100 ms, cost 2 at +200 ms
            let polls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            // The quote queues (and arms its timer for +100 ms) here, then lives in its own task.
            let a2: &'static IpAllocator = Box::leak(Box::new(a.clone()));
            let mut acq =
                Box::pin(a2.acquire_with(LeaseRequest::new(TaskKind::Quote).cost(1).backend(be)));
            assert!(pending(&mut acq).await);
            let p2 = polls.clone();
            let quote = tokio::spawn(async move {
                let lease = std::future::poll_fn(|cx| {
                    p2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    acq.as_mut().poll(cx)
                })
                .await;
                drop(lease.unwrap());
            });
            let land = LeaseRequest::new(TaskKind::Land).cost(2).backend(be);
            drop(a.acquire_with(land).await.unwrap());
            quote.await.unwrap();
            polls.load(std::sync::atomic::Ordering::Relaxed)
        });
        tx.send(polls).unwrap();
    });
    let polls = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("hung: paused time never advanced");
    assert!(polls < 10, "the quote's Acquire was polled {polls} times");
}

/// Property tests of the sans-IO core: random operations, invariants after each.
mod props {
    use std::task::Waker;

    use proptest::prelude::*;

    use super::super::core::{Admission, Core, Grant, Resolved, Want};
    use super::super::waiters::WaitState;
    use super::*;
    use crate::slot::CooldownPolicy;

    #[derive(Clone, Debug)]
    enum Op {
        Try(Want),
        Enqueue(Want),
        SetRate(u16, Option<u32>),
        Cancel(usize),
        Poll,
        Release(usize),
        Report(usize, u8),
        Advance(u16),
        Quarantine(u8, bool),
        Timer,
    }

    const SLOTS: u8 = 4;

    enum OpKind {
        Advance,
        Other,
    }

    fn want() -> impl Strategy<Value = Want> {
        (
            prop_oneof![
                Just(TaskKind::Land),
                Just(TaskKind::Quote),
                Just(TaskKind::Background)
            ],
            0u32..3,
            proptest::option::of(0u16..2),
            prop_oneof![
                Just(Resolved::Any),
                (0..u32::from(SLOTS)).prop_map(Resolved::Excluding),
                (0..u32::from(SLOTS)).prop_map(Resolved::Specific),
                (0u64..3).prop_map(Resolved::Sticky),
            ],
            prop_oneof![4 => Just(LeaseMode::Ephemeral), 1 => Just(LeaseMode::LongLived)],
        )
            .prop_map(|(kind, cost, backend, target, mode)| Want {
                kind,
                cost,
                backend,
                target,
                mode,
            })
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => want().prop_map(Op::Try),
            3 => want().prop_map(Op::Enqueue),
            1 => any::<usize>().prop_map(Op::Cancel),
            2 => Just(Op::Poll),
            3 => any::<usize>().prop_map(Op::Release),
            3 => (any::<usize>(), 0u8..5).prop_map(|(i, o)| Op::Report(i, o)),
            2 => (0u16..1500).prop_map(Op::Advance),
            1 => (0..SLOTS, any::<bool>()).prop_map(|(s, q)| Op::Quarantine(s, q)),
            1 => Just(Op::Timer),
            1 => (0u16..2, proptest::option::of(1u32..4)).prop_map(|(b, r)| Op::SetRate(b, r)),
        ]
    }

    fn quota(burst: u32) -> Quota {
        Quota::per_second(NonZeroU32::new(5).unwrap()).with_burst(NonZeroU32::new(burst).unwrap())
    }

    fn outcome(o: u8) -> Outcome {
        match o {
            0 => Outcome::Success,
            1 => Outcome::RateLimited { retry_after: None },
            2 => Outcome::RateLimited {
                retry_after: Some(Duration::from_millis(700)),
            },
            3 => Outcome::Timeout,
            _ => Outcome::ServerError,
        }
    }

    struct Model {
        core: Core,
        now: Instant,
        /// Leases out.
        held: Vec<Grant>,
        waiting: Vec<u32>,
    }

    impl Model {
        /// A grant just made must be on a slot that is neither resting nor quarantined, and (for
        /// ephemeral leases) within its in-flight limit.
        fn check_grant(&self, g: &Grant) {
            let s = &self.core.pool.slots[g.slot as usize];
            let state = s.state(self.now);
            assert!(
                !matches!(state, SlotState::CoolingDown | SlotState::Quarantined),
                "granted a {state:?} slot"
            );
            if g.mode == LeaseMode::Ephemeral {
                assert!(
                    s.inflight() <= s.effective_limit(),
                    "in-flight above the limit"
                );
            }
        }

        /// Every lease is counted exactly once: the slots' counters equal the grants held by the
        /// model plus those parked for waiters.
        fn check_counts(&self) {
            self.core.pool.check_invariants();
            let mut eph = vec![0u32; SLOTS as usize];
            let mut ll = vec![0u32; SLOTS as usize];
            for g in &self.held {
                match g.mode {
                    LeaseMode::Ephemeral => eph[g.slot as usize] += 1,
                    LeaseMode::LongLived => ll[g.slot as usize] += 1,
                }
            }
            for (i, s) in self.core.pool.slots.iter().enumerate() {
                assert_eq!(s.inflight(), eph[i], "slot {i} in-flight");
                assert_eq!(s.long_lived(), ll[i], "slot {i} long-lived");
            }
        }

        /// Collects grants handed to waiters (as their futures would on poll).
        fn collect(&mut self) {
            let waker = Waker::noop();
            let mut still = Vec::new();
            for id in std::mem::take(&mut self.waiting) {
                match self.core.waiters.poll(id, waker) {
                    Some(WaitState::Granted(g)) => {
                        self.check_grant(&g);
                        self.held.push(g);
                    }
                    Some(WaitState::Failed(_)) => {}
                    Some(WaitState::Waiting(_)) => unreachable!(),
                    None => still.push(id),
                }
            }
            self.waiting = still;
        }
    }

    /// Clock liveness, checked on a copy of the core by doing what the futures do: fire the
    /// earliest deadline, run a pass, repeat. A deadline at or before `now` after a pass means
    /// the future holding it spins; a waiter served by a pass far in the future, once every
    /// deadline is gone, had a wait the clock would end but no timer in its line.
    fn clock_liveness(core: &Core, now: Instant) -> Result<(), String> {
        let mut c = core.clone();
        let mut wake = Vec::new();
        for (id, _) in c.waiters.queued() {
            if let Some(d) = c.waiters.deadline(id)
                && d <= now
            {
                return Err(format!(
                    "waiter {id} holds a deadline {:?} before now",
                    now - d
                ));
            }
        }
        let mut t = now;
        for _ in 0..10_000 {
            let Some(d) = c.next_deadline() else { break };
            t = d;
            c.on_timer(t, &mut wake);
            if let Some(d2) = c.next_deadline()
                && d2 <= t
            {
                return Err(format!(
                    "after a timer pass a deadline stays at {:?}: spin",
                    d2 - now
                ));
            }
        }
        let far = t + Duration::from_secs(3 * 86_400);
        let before = c.waiters.len();
        c.on_timer(far, &mut wake);
        if c.waiters.len() != before {
            return Err(format!(
                "{} waiter(s) the clock would serve had no timer",
                before - c.waiters.len()
            ));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn leases_are_counted_once_and_never_break_limits(
            limit in proptest::option::of(1u32..3),
            rated in any::<bool>(),
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let t0 = Instant::now();
            let ips: Vec<IpAddr> = (0..SLOTS).map(|i| ip(i + 2)).collect();
            let backends = vec![("b".into(), rated.then(|| quota(2))), ("c".into(), Some(quota(3)))];
            let core = Core::new(&ips, limit, CooldownPolicy::default(), backends, t0);
            let mut m = Model { core, now: t0, held: Vec::new(), waiting: Vec::new() };
            let mut wake = Vec::new();
            for op in ops {
                let op_kind = if matches!(op, Op::Advance(_)) { OpKind::Advance } else { OpKind::Other };
                match op {
                    Op::Try(w) => match m.core.admit(&w, Waker::noop(), m.now, &mut wake) {
                        Admission::Granted(g) => { m.check_grant(&g); m.held.push(g); }
                        Admission::Refused(_) => {}
                        Admission::Queued(id) => {
                            if let Some(d) = m.core.waiters.deadline(id) { prop_assert!(d > m.now); }
                            let now = m.now;
                            m.core.cancel(id, &mut wake, || now);
                        }
                    },
                    Op::Enqueue(w) => match m.core.admit(&w, Waker::noop(), m.now, &mut wake) {
                        Admission::Granted(g) => { m.check_grant(&g); m.held.push(g); }
                        Admission::Refused(_) => {}
                        Admission::Queued(id) => m.waiting.push(id),
                    },
                    Op::SetRate(b, burst) => m.core.set_backend_rate(b, burst.map(quota), m.now, &mut wake),
                    Op::Cancel(i) if !m.waiting.is_empty() => {
                        let id = m.waiting.remove(i % m.waiting.len());
                        let now = m.now;
                        m.core.cancel(id, &mut wake, || now);
                    }
                    Op::Poll => m.collect(),
                    Op::Release(i) if !m.held.is_empty() => {
                        let g = m.held.swap_remove(i % m.held.len());
                        let now = m.now;
                        m.core.release(g, &mut wake, || now);
                    }
                    Op::Report(i, o) if !m.held.is_empty() => {
                        let g = m.held[i % m.held.len()];
                        m.core.report(&g, &outcome(o), m.now, &mut wake);
                    }
                    Op::Advance(ms) => m.now += Duration::from_millis(u64::from(ms)),
                    Op::Quarantine(s, q) => {
                        let reason = q.then(|| "test".to_string());
                        m.core.set_quarantine(u32::from(s), reason, m.now, &mut wake);
                    }
                    Op::Timer => {
                        if let Some(d) = m.core.next_deadline() {
                            m.now = m.now.max(d);
                        }
                        m.core.on_timer(m.now, &mut wake);
                    }
                    _ => {}
                }
                if matches!(op_kind, OpKind::Advance) {
                    // What the waiting futures do: a timer fires once its deadline has passed.
                    if m.core.next_deadline().is_some_and(|d| d <= m.now) {
                        m.core.on_timer(m.now, &mut wake);
                    }
                }
                m.collect();
                m.check_counts();
                // Every path that can serve someone runs a pass, and every wait the clock can
                // end has a deadline: so a second pass now must find nobody more to serve.
                if let Err(e) = clock_liveness(&m.core, m.now) {
                    prop_assert!(false, "{}", e);
                }
                let queued = m.core.waiters.len();
                m.core.on_timer(m.now, &mut wake);
                prop_assert_eq!(m.core.waiters.len(), queued, "a servable waiter was left waiting");
            }
            // Drain: cancel every waiter, release every lease: nothing is left in flight.
            for id in std::mem::take(&mut m.waiting) {
                let now = m.now;
                m.core.cancel(id, &mut wake, || now);
            }
            for g in std::mem::take(&mut m.held) {
                let now = m.now;
                m.core.release(g, &mut wake, || now);
            }
            m.check_counts();
            prop_assert!(m.core.waiters.is_empty());
        }

        /// A waiter that could be served never sits in the queue: after any service pass, the
        /// head of each "any IP" group is blocked for real.
        #[test]
        fn no_servable_waiter_is_left_waiting(
            ops in proptest::collection::vec(op(), 1..80),
        ) {
            let t0 = Instant::now();
            let ips: Vec<IpAddr> = (0..SLOTS).map(|i| ip(i + 2)).collect();
            let backends = vec![("b".into(), None), ("c".into(), None)];
            let core = Core::new(&ips, Some(1), CooldownPolicy::default(), backends, t0);
            let mut m = Model { core, now: t0, held: Vec::new(), waiting: Vec::new() };
            let mut wake = Vec::new();
            for op in ops {
                match op {
                    Op::Enqueue(w) | Op::Try(w) => match m.core.admit(&w, Waker::noop(), m.now, &mut wake) {
                        Admission::Granted(g) => m.held.push(g),
                        Admission::Refused(_) => {}
                        Admission::Queued(id) => m.waiting.push(id),
                    },
                    Op::Release(i) if !m.held.is_empty() => {
                        let g = m.held.swap_remove(i % m.held.len());
                        let now = m.now;
                        m.core.release(g, &mut wake, || now);
                    }
                    Op::Advance(ms) => {
                        m.now += Duration::from_millis(u64::from(ms));
                        m.core.on_timer(m.now, &mut wake);
                    }
                    Op::Report(i, o) if !m.held.is_empty() => {
                        let g = m.held[i % m.held.len()];
                        m.core.report(&g, &outcome(o), m.now, &mut wake);
                    }
                    _ => {}
                }
                m.collect();
                // Every queued waiter must be unservable right now.
                let queued: Vec<Want> = m.core.waiters.queued().map(|(_, w)| *w).collect();
                for w in queued {
                    let r = m.core.pool.pick(&w, m.now, &[]);
                    prop_assert!(r.is_err(), "servable waiter left queued: {w:?}");
                }
            }
        }
    }
}
