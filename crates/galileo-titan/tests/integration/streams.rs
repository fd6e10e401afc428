//! The stream manager against galileo-sim's Titan over loopback: planning over source IPs
//! (as the simulator sees them), GetInfo's limit, reconnects, resubscribes, re-planning.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::support::*;
use galileo_sim::Fault;
use galileo_titan::TitanStreams;
use tokio::time::Instant;

/// Open streams per source IP, as the simulator counts them (open connections only).
fn streams_by_ip(r: &galileo_sim::titan::TitanRecord) -> BTreeMap<std::net::IpAddr, usize> {
    let mut m = BTreeMap::new();
    for c in r.connections.iter().filter(|c| !c.closed) {
        *m.entry(c.peer.ip()).or_default() += c.open_streams;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ip_five_sizes_hold_two_streams_on_one_connection() {
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    let streams = TitanStreams::start(client(config(&sim), &alloc), sizes(5)).unwrap();
    let plan = streams.plan();
    assert_eq!(
        plan.iter().map(|k| k.amount).collect::<Vec<_>>(),
        [100_000_000, 200_000_000]
    );
    let r = sim.until("2 streams open", |r| r.open_streams() == 2).await;
    assert_eq!(r.connections.len(), 1, "one connection");
    let c = &r.connections[0];
    assert_eq!(c.peer.ip(), ip(2));
    assert_eq!(subscribed(c), [100_000_000, 200_000_000]);
    assert_eq!(
        c.protocol, "v1.api.titan.ag+gzip",
        "the simulator prefers gzip"
    );
    // Both streams deliver quotes, and a third size was never asked for.
    for k in &plan {
        let mut rx = streams.watch(k);
        tokio::time::timeout(PATIENCE, rx.wait_for(Option::is_some))
            .await
            .unwrap()
            .unwrap();
    }
    assert!(streams.freshest(&sizes(3)[2]).is_err());
    // GetInfo was read first.
    let first = c.requests().next().unwrap();
    assert!(matches!(
        first.data,
        galileo_sim::titan::wire::RequestData::GetInfo(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ips_hold_six_streams_on_three_connections_from_their_own_ips() {
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 3);
    let streams = TitanStreams::start(client(config(&sim), &alloc), sizes(5)).unwrap();
    let r = sim
        .until("6 streams on 3 IPs", |r| {
            r.open_streams() == 6 && streams_by_ip(r).len() == 3
        })
        .await;
    assert_eq!(r.open_connections(), 3);
    assert_eq!(
        streams_by_ip(&r),
        BTreeMap::from([(ip(2), 2), (ip(3), 2), (ip(4), 2)])
    );
    // Each connection asked for exactly what the plan put on its IP.
    for c in r.connections.iter().filter(|c| !c.closed) {
        let planned: BTreeSet<u64> = streams
            .plan()
            .iter()
            .filter(|k| k.ip == c.peer.ip())
            .map(|k| k.amount)
            .collect();
        let asked: BTreeSet<u64> = subscribed(c).into_iter().collect();
        assert_eq!(asked, planned, "{}", c.peer);
    }
    // The first size is cycled onto two IPs; every size gets quotes.
    let first_ips: BTreeSet<_> = streams
        .plan()
        .iter()
        .filter(|k| k.amount == 100_000_000)
        .map(|k| k.ip)
        .collect();
    assert_eq!(first_ips.len(), 2);
    for s in sizes(5) {
        let k = streams
            .plan()
            .into_iter()
            .find(|k| k.subscription() == s)
            .unwrap();
        let mut rx = streams.watch(&k);
        tokio::time::timeout(PATIENCE, rx.wait_for(Option::is_some))
            .await
            .unwrap()
            .unwrap();
        assert!(streams.freshest(&s).is_ok());
    }
    assert_eq!(streams.planned_ips(), 3);
    assert_eq!(streams.quote_parallelism(64), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_allowing_one_stream_per_connection_gets_two_connections() {
    let mut cfg = sim_config();
    cfg.concurrent_streams = 1;
    let sim = Sim::start(cfg);
    let alloc = allocator(2, 1);
    let _streams = TitanStreams::start(client(config(&sim), &alloc), sizes(2)).unwrap();
    let r = sim
        .until("2 connections of 1 stream", |r| {
            r.connections
                .iter()
                .filter(|c| !c.closed && c.open_streams == 1)
                .count()
                == 2
        })
        .await;
    let asked: BTreeSet<u64> = r
        .connections
        .iter()
        .filter(|c| !c.closed)
        .flat_map(|c| {
            assert_eq!(c.peer.ip(), ip(2));
            subscribed(c)
        })
        .collect();
    assert!(asked.contains(&100_000_000) && asked.contains(&200_000_000));
    // Nothing was refused for exceeding the limit once the split took effect.
    let r = sim.handle.record();
    let refused = r
        .connections
        .iter()
        .flat_map(|c| &c.messages)
        .filter(|m| matches!(m, galileo_sim::titan::RecordedMessage::Malformed { .. }))
        .count();
    assert_eq!(refused, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_stream_reconnects_and_resubscribes_within_the_backoff() {
    let sim = Sim::start(sim_config());
    sim.controls().force(Fault::WsCloseMidStream);
    let alloc = allocator(2, 1);
    let mut cfg = config(&sim);
    // Equal jitter over 200 ms: the reconnect waits 100-200 ms.
    cfg.reconnect.initial_delay_ms = 200;
    cfg.reconnect.max_delay_ms = 200;
    let streams = TitanStreams::start(client(cfg, &alloc), sizes(1)).unwrap();
    let r = sim
        .until("the first connection dropped", |r| {
            r.connections.first().is_some_and(|c| c.closed)
        })
        .await;
    assert_eq!(r.updates.len(), 1, "dropped right after its first update");
    let dropped_at = Instant::now();
    let r = sim
        .until("a second connection with the stream open", |r| {
            r.connections.len() == 2 && r.connections[1].open_streams == 1
        })
        .await;
    let waited = dropped_at.elapsed();
    // Within the backoff, plus room for a handshake on a loaded machine.
    assert!(
        waited < Duration::from_secs(3),
        "reconnected after {waited:?}"
    );
    let again = &r.connections[1];
    assert_eq!(again.peer.ip(), ip(2));
    assert_eq!(subscribed(again), [100_000_000], "resubscribed");
    // Quotes flow again on the new connection.
    let k = streams.plan()[0];
    let seen = streams.latest(&k).map(|q| q.received_at);
    let mut rx = streams.watch(&k);
    tokio::time::timeout(
        PATIENCE,
        rx.wait_for(|q| q.as_ref().map(|q| q.received_at) != seen),
    )
    .await
    .unwrap()
    .unwrap();
    let h = streams.health_of(ip(2)).unwrap();
    assert_eq!((h.connected, h.reconnects), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_is_resubscribed_on_its_connection() {
    let sim = Sim::start(sim_config());
    sim.controls().force(Fault::StreamSilence);
    let alloc = allocator(2, 1);
    let mut cfg = config(&sim);
    cfg.silence_timeout_ms = 300;
    let streams = TitanStreams::start(client(cfg, &alloc), sizes(1)).unwrap();
    let r = sim
        .until("a stop and a second subscription", |r| {
            r.connections
                .first()
                .is_some_and(|c| subscribed(c).len() == 2 && c.open_streams == 1)
        })
        .await;
    let c = &r.connections[0];
    assert_eq!(r.connections.len(), 1, "same connection");
    assert_eq!(stopped(c), [0], "the silent stream 0 was stopped");
    assert_eq!(subscribed(c), [100_000_000, 100_000_000]);
    // The silent stream sent exactly one update; the new one (id 1) streams.
    sim.until("stream 1 updates", |r| {
        r.updates.iter().any(|u| u.stream == 1)
    })
    .await;
    let k = streams.plan()[0];
    let mut rx = streams.watch(&k);
    tokio::time::timeout(
        PATIENCE,
        rx.wait_for(|q| q.as_ref().is_some_and(|q| q.seq >= 1)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        sim.handle
            .record()
            .updates
            .iter()
            .filter(|u| u.stream == 0)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_the_server_ends_are_asked_for_again() {
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    let mut cfg = config(&sim);
    cfg.reconnect.initial_delay_ms = 50;
    let _streams = TitanStreams::start(client(cfg, &alloc), sizes(2)).unwrap();
    sim.until("2 streams", |r| r.open_streams() == 2).await;
    sim.handle.end_streams(503, "provider maintenance");
    let r = sim
        .until("4 subscriptions, 2 open", |r| {
            r.connections
                .first()
                .is_some_and(|c| subscribed(c).len() == 4 && c.open_streams == 2)
        })
        .await;
    assert_eq!(r.connections.len(), 1, "the connection stayed up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_moves_streams_off_an_ip_and_restore_brings_them_back() {
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 2);
    let streams = TitanStreams::start(client(config(&sim), &alloc), sizes(2)).unwrap();
    sim.until("2 streams on each IP", |r| {
        streams_by_ip(r) == BTreeMap::from([(ip(2), 2), (ip(3), 2)])
    })
    .await;
    alloc.quarantine(ip(3), "test").unwrap();
    let r = sim
        .until("both sizes on 127.0.0.2 only", |r| {
            streams_by_ip(r) == BTreeMap::from([(ip(2), 2)])
        })
        .await;
    assert!(
        r.from_ip(ip(3)).all(|c| c.closed),
        "the quarantined IP's connection closed"
    );
    assert!(streams.plan().iter().all(|k| k.ip == ip(2)));
    assert_eq!(streams.plan().len(), 2);
    alloc.restore(ip(3)).unwrap();
    sim.until("back on both IPs", |r| {
        streams_by_ip(r) == BTreeMap::from([(ip(2), 2), (ip(3), 2)])
    })
    .await;
    assert_eq!(streams.planned_ips(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_streams_closes_every_connection() {
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 2);
    let streams = TitanStreams::start(client(config(&sim), &alloc), sizes(2)).unwrap();
    sim.until("4 streams", |r| r.open_streams() == 4).await;
    drop(streams);
    sim.until("all closed", |r| r.open_connections() == 0).await;
    // The long-lived leases went with them (a connection drops its lease before its socket).
    assert!(alloc.snapshot().iter().all(|s| s.long_lived == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_run_over_tls_with_rustls() {
    let sim = Sim::start_with(
        sim_config(),
        galileo_sim::ServiceConfig {
            tls: true,
            ..Default::default()
        },
    );
    assert!(sim.url.starts_with("wss://"), "{}", sim.url);
    let alloc = allocator(2, 1);
    let http = galileo_net::BoundHttpClient::builder(&galileo_net::HttpConfig::default())
        .add_root_certificate(sim.sandbox.ca().cert_der())
        .build()
        .unwrap();
    let client = galileo_titan::TitanClient::with_jwt(
        config(&sim),
        galileo_titan::Jwt::new(token("tls")).unwrap(),
        alloc.clone(),
        http,
    )
    .unwrap();
    let streams = TitanStreams::start(client, sizes(1)).unwrap();
    let k = streams.plan()[0];
    tokio::time::timeout(PATIENCE, streams.watch(&k).wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap();
    let r = sim.handle.record();
    assert_eq!(r.connections[0].peer.ip(), ip(2));
    // Without the simulator's CA the handshake fails, and the IP is told (it rests).
    let untrusted = galileo_titan::TitanClient::with_jwt(
        config(&sim),
        galileo_titan::Jwt::new(token("tls")).unwrap(),
        alloc.clone(),
        galileo_net::BoundHttpClient::new(&galileo_net::HttpConfig::default()).unwrap(),
    )
    .unwrap();
    let e = untrusted.connect(ip(2)).await.unwrap_err();
    assert_eq!(e.reason(), "connect", "{e}");
    assert_eq!(
        alloc.snapshot()[0].state,
        galileo_net::SlotState::CoolingDown
    );
}
