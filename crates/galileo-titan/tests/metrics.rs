//! The metrics, through a global debugging recorder (its own test binary: one recorder per
//! process).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

#[path = "integration/support.rs"]
mod support;

use std::collections::HashMap;

use galileo_net::TaskKind;
use galileo_quote::{Leg, QuoteRequest, QuoteSource};
use galileo_sim::Fault;
use galileo_titan::TitanStreams;
use galileo_titan::metrics::{FRAMES, QUOTE_AGE, RECONNECTS, STREAMS};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_reconnects_frames_and_quote_ages_are_measured() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let sim = Sim::start(sim_config());
    sim.controls().force(Fault::WsCloseMidStream);
    let alloc = allocator(2, 1);
    let mut cfg = config(&sim);
    cfg.reconnect.initial_delay_ms = 50;
    cfg.reconnect.max_delay_ms = 50;
    let streams = TitanStreams::start(client(cfg, &alloc), sizes(2)).unwrap();
    // The first connection drops after its first update; wait until the second one has
    // delivered quotes on both streams.
    sim.until("a second connection with 2 streams", |r| {
        r.connections.len() == 2 && r.connections[1].open_streams == 2
    })
    .await;
    let second = sim.handle.record().connections[1].id;
    sim.until("updates on both new streams", |r| {
        let mut s: Vec<u32> = r
            .updates
            .iter()
            .filter(|u| u.connection == second)
            .map(|u| u.stream)
            .collect();
        s.sort_unstable();
        s.dedup();
        s.len() == 2
    })
    .await;
    for k in streams.plan() {
        let mut rx = streams.watch(&k);
        tokio::time::timeout(
            PATIENCE,
            rx.wait_for(|q| q.as_ref().is_some_and(|q| q.key == k)),
        )
        .await
        .unwrap()
        .unwrap();
    }
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    let k = streams.plan()[0];
    streams
        .quote(
            &lease,
            &QuoteRequest::new(k.input_mint, k.output_mint, k.amount, Leg::Buy),
        )
        .await
        .unwrap();

    let mut values: HashMap<(String, Vec<(String, String)>), DebugValue> = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let mut labels: Vec<(String, String)> = key
            .key()
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        values.insert((key.key().name().to_owned(), labels), value);
    }
    let get = |name: &str, labels: &[(&str, &str)]| {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        values.get(&(name.to_owned(), labels))
    };
    let ip = ip(2).to_string();
    // Two streams open now: the dropped connection took its share of the gauge back.
    assert_eq!(
        get(STREAMS, &[("ip", &ip)]),
        Some(&DebugValue::Gauge(2.0.into()))
    );
    assert_eq!(
        get(RECONNECTS, &[("ip", &ip), ("reason", "dropped")]),
        Some(&DebugValue::Counter(1))
    );
    // GetInfo and two subscriptions per connection at least.
    match get(FRAMES, &[("direction", "sent")]) {
        Some(DebugValue::Counter(n)) => assert!(*n >= 6, "{n}"),
        other => panic!("{other:?}"),
    }
    match get(FRAMES, &[("direction", "received")]) {
        Some(DebugValue::Counter(n)) => assert!(*n >= 8, "{n}"),
        other => panic!("{other:?}"),
    }
    match get(QUOTE_AGE, &[]) {
        Some(DebugValue::Histogram(v)) => {
            assert_eq!(v.len(), 1);
            assert!(v[0].into_inner() >= 0.0 && v[0].into_inner() < 5.0, "{v:?}");
        }
        other => panic!("{other:?}"),
    }
}
