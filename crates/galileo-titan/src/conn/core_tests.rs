//! The connection core on paused time: the real 10 s silence, GetInfo's limit, stream
//! lifecycles, retries, pings, and no timer that spins.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use galileo_resilience::retry::{Backoff, Jitter};
use proptest::prelude::*;
use solana_pubkey::Pubkey;
use tokio::time::{Instant, advance};

use super::*;
use crate::TitanConfig;
use crate::plan::Subscription;
use crate::wire::{
    ConnectionSettings, ErrorMessage, ResponseMessage, ServerInfo, ServerSettings, StreamData,
    StreamDataType, StreamEnd, StreamStart, SwapMode, SwapQuotes,
};

const SEC: Duration = Duration::from_secs(1);

fn cfg(per_connection: usize) -> CoreConfig {
    let d = TitanConfig::default();
    CoreConfig {
        silence: d.silence_timeout(),
        ping_interval: d.ping_interval(),
        info_timeout: d.info_timeout(),
        per_connection,
        backoff: Backoff::new(&d.reconnect.with_jitter(Jitter::None)).unwrap(),
    }
}

fn template() -> SwapTemplate {
    let c = TitanConfig {
        user_public_key: Some(Pubkey::new_from_array([9; 32]).to_string()),
        ..TitanConfig::default()
    };
    SwapTemplate::from_config(&c).unwrap()
}

fn key(amount: u64) -> StreamKey {
    Subscription::new(
        Pubkey::new_from_array([1; 32]),
        Pubkey::new_from_array([2; 32]),
        amount,
    )
    .on(IpAddr::from([127, 0, 0, 2]))
}

fn sent(effects: &[Effect]) -> Vec<(u32, RequestData)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(r) => Some((r.id, r.data.clone())),
            _ => None,
        })
        .collect()
}

/// The request ids of `NewSwapQuoteStream`s sent, with their amounts.
fn subscribes(effects: &[Effect]) -> Vec<(u32, u64)> {
    sent(effects)
        .into_iter()
        .filter_map(|(id, d)| match d {
            RequestData::NewSwapQuoteStream(q) => Some((id, q.swap.amount)),
            _ => None,
        })
        .collect()
}

fn stops(effects: &[Effect]) -> Vec<u32> {
    sent(effects)
        .into_iter()
        .filter_map(|(_, d)| match d {
            RequestData::StopStream(s) => Some(s.id),
            _ => None,
        })
        .collect()
}

fn info(concurrent_streams: u32, request_id: u32) -> ServerMessage {
    ServerMessage::Response(ResponseMessage {
        request_id,
        data: ResponseData::GetInfo(ServerInfo {
            settings: ServerSettings {
                connection: ConnectionSettings { concurrent_streams },
                ..ServerSettings::default()
            },
            ..ServerInfo::default()
        }),
        stream: None,
    })
}

fn opened(request_id: u32, id: u32) -> ServerMessage {
    ServerMessage::Response(ResponseMessage {
        request_id,
        data: ResponseData::NewSwapQuoteStream(crate::wire::QuoteSwapStreamResponse {
            interval_ms: 1000,
        }),
        stream: Some(StreamStart {
            id,
            data_type: StreamDataType::SwapQuotes,
        }),
    })
}

fn update(id: u32, seq: u64, amount: u64) -> ServerMessage {
    ServerMessage::StreamData(StreamData {
        id,
        seq,
        payload: StreamPayload::SwapQuotes(SwapQuotes {
            id: format!("swap:{id}:{seq}"),
            input_mint: Pubkey::new_from_array([1; 32]),
            output_mint: Pubkey::new_from_array([2; 32]),
            swap_mode: SwapMode::ExactIn,
            amount,
            quotes: BTreeMap::new(),
        }),
    })
}

fn published(effects: &[Effect]) -> Vec<(u64, u64)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Publish(q) => Some((q.key.amount, q.seq)),
            _ => None,
        })
        .collect()
}

/// A core holding `amounts`, past GetInfo, each stream open with one update; returns the
/// stream ids by amount.
fn open_core(amounts: &[u64]) -> (ConnCore, Vec<(u64, u32)>) {
    let now = Instant::now();
    let keys: Vec<StreamKey> = amounts.iter().map(|a| key(*a)).collect();
    let (mut core, first) = ConnCore::new(cfg(2), template(), &keys, 1, now);
    assert_eq!(sent(&first), [(1, RequestData::GetInfo(GetInfoRequest {}))]);
    let subs = subscribes(&core.on_message(info(4, 1), now));
    let mut ids = Vec::new();
    for (i, (rid, amount)) in subs.iter().enumerate() {
        let sid = i as u32;
        core.on_message(opened(*rid, sid), now);
        assert_eq!(
            published(&core.on_message(update(sid, 0, *amount), now)),
            [(*amount, 0)]
        );
        ids.push((*amount, sid));
    }
    (core, ids)
}

#[tokio::test(start_paused = true)]
async fn streams_open_after_get_info_and_its_limit_bounds_them() {
    let now = Instant::now();
    let (mut core, first) = ConnCore::new(cfg(2), template(), &[key(1), key(2)], 1, now);
    assert_eq!(sent(&first).len(), 1, "GetInfo only");
    assert!(core.on_tick(now).is_empty() || subscribes(&core.on_tick(now)).is_empty());
    let after = core.on_message(info(1, 1), now);
    assert!(matches!(after.first(), Some(Effect::Limit(1))), "{after:?}");
    assert_eq!(
        subscribes(&after),
        [(2, 1)],
        "one stream: the server allows one"
    );
    // The second waits for room without a timer that would spin.
    assert!(core.next_deadline() > now);
    // An unanswered GetInfo does not hold streams back for ever.
    let (mut slow, _) = ConnCore::new(cfg(2), template(), &[key(1)], 1, now);
    advance(TitanConfig::default().info_timeout()).await;
    let t = Instant::now();
    assert_eq!(slow.next_deadline(), t);
    assert_eq!(subscribes(&slow.on_tick(t)), [(2, 1)]);
}

#[tokio::test(start_paused = true)]
async fn a_stream_silent_for_ten_seconds_is_resubscribed() {
    let (mut core, ids) = open_core(&[7]);
    let sid = ids[0].1;
    let t0 = Instant::now();
    assert_eq!(
        core.next_deadline(),
        t0 + 5 * SEC,
        "the first ping comes first"
    );
    // Pings keep the connection alive; the stream itself stays silent.
    advance(5 * SEC).await;
    let e = core.on_tick(Instant::now());
    assert!(matches!(e.as_slice(), [Effect::Ping]), "{e:?}");
    core.on_activity(Instant::now()); // the pong
    advance(5 * SEC - Duration::from_millis(1)).await;
    let e = core.on_tick(Instant::now());
    assert!(
        subscribes(&e).is_empty() && stops(&e).is_empty(),
        "9.999 s: {e:?}"
    );
    assert_eq!(core.next_deadline(), t0 + 10 * SEC);
    advance(Duration::from_millis(1)).await;
    let e = core.on_tick(Instant::now());
    assert_eq!(stops(&e), [sid], "the silent stream is stopped");
    let again = subscribes(&e);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1, 7, "and asked for again");
    // Its late StreamEnd is expected; the new stream's updates flow.
    assert!(
        core.on_message(
            ServerMessage::StreamEnd(StreamEnd {
                id: sid,
                error_code: None,
                error_message: None
            }),
            Instant::now()
        )
        .is_empty()
    );
    core.on_message(opened(again[0].0, 9), Instant::now());
    assert!(
        published(&core.on_message(update(sid, 1, 7), Instant::now())).is_empty(),
        "old stream ignored"
    );
    assert_eq!(
        published(&core.on_message(update(9, 0, 7), Instant::now())),
        [(7, 0)]
    );
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_subscription_is_asked_again_and_a_late_answer_stopped() {
    let now = Instant::now();
    let (mut core, _) = ConnCore::new(cfg(2), template(), &[key(5)], 1, now);
    let first = subscribes(&core.on_message(info(2, 1), now));
    advance(10 * SEC).await;
    let e = core.on_tick(Instant::now());
    let second = subscribes(&e);
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].0, first[0].0);
    // The first request's Response finally comes: that stream is not wanted.
    let late = core.on_message(opened(first[0].0, 3), Instant::now());
    assert_eq!(stops(&late), [3]);
    assert_eq!(core.open_streams(), 0);
    core.on_message(opened(second[0].0, 4), Instant::now());
    assert_eq!(core.open_streams(), 1);
}

#[tokio::test(start_paused = true)]
async fn refused_and_ended_streams_retry_after_their_backoff() {
    let now = Instant::now();
    let (mut core, _) = ConnCore::new(cfg(2), template(), &[key(5)], 1, now);
    let rid = subscribes(&core.on_message(info(2, 1), now))[0].0;
    let e = core.on_message(
        ServerMessage::Error(ErrorMessage {
            request_id: rid,
            code: 429,
            message: "too many streams".into(),
        }),
        now,
    );
    assert!(matches!(e.as_slice(), [Effect::Warn { .. }]), "{e:?}");
    assert_eq!(core.next_deadline(), now + SEC, "1 s backoff");
    advance(SEC).await;
    let rid = subscribes(&core.on_tick(Instant::now()))[0].0;
    core.on_message(opened(rid, 0), Instant::now());
    // The server ends it with an error: again after a backoff, which has grown.
    let e = core.on_message(
        ServerMessage::StreamEnd(StreamEnd {
            id: 0,
            error_code: Some(503),
            error_message: Some("provider down".into()),
        }),
        Instant::now(),
    );
    assert!(matches!(&e[..], [Effect::Warn { what, .. }] if what.contains("provider down")));
    assert_eq!(core.next_deadline(), Instant::now() + 2 * SEC);
    advance(2 * SEC).await;
    let rid = subscribes(&core.on_tick(Instant::now()))[0].0;
    core.on_message(opened(rid, 1), Instant::now());
    // An update resets the backoff.
    core.on_message(update(1, 0, 5), Instant::now());
    core.on_message(
        ServerMessage::StreamEnd(StreamEnd {
            id: 1,
            error_code: Some(1),
            error_message: None,
        }),
        Instant::now(),
    );
    assert_eq!(core.next_deadline(), Instant::now() + SEC);
}

#[tokio::test(start_paused = true)]
async fn replanning_stops_what_goes_and_opens_what_comes() {
    let (mut core, ids) = open_core(&[1, 2]);
    let e = core.set_desired(&[key(2), key(3)], Instant::now());
    assert_eq!(stops(&e), [ids[0].1]);
    assert_eq!(subscribes(&e).iter().map(|s| s.1).collect::<Vec<_>>(), [3]);
    // Updates of the stopped stream, still in flight, are dropped.
    assert!(published(&core.on_message(update(ids[0].1, 1, 1), Instant::now())).is_empty());
    let e = core.set_desired(&[], Instant::now());
    assert_eq!(stops(&e), [ids[1].1]);
}

#[tokio::test(start_paused = true)]
async fn a_connection_silent_for_three_pings_is_dead() {
    let (mut core, _) = open_core(&[1]);
    for _ in 0..2 {
        advance(5 * SEC).await;
        let e = core.on_tick(Instant::now());
        assert!(e.iter().any(|e| matches!(e, Effect::Ping)));
        assert!(!e.iter().any(|e| matches!(e, Effect::Dead(_))));
    }
    advance(5 * SEC).await;
    let e = core.on_tick(Instant::now());
    assert!(
        matches!(e.as_slice(), [Effect::Dead("ping_timeout")]),
        "{e:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_mismatched_update_is_not_published() {
    let (mut core, ids) = open_core(&[1]);
    let e = core.on_message(update(ids[0].1, 1, 999), Instant::now());
    assert!(published(&e).is_empty());
    assert!(matches!(e.as_slice(), [Effect::Warn { .. }]));
}

#[derive(Clone, Debug)]
enum Event {
    Tick(u16),
    Info(u32),
    Open(u8),
    Refuse(u8),
    Update(u8),
    End(u8),
    Desire(Vec<u8>),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0u16..15_000).prop_map(Event::Tick),
        (0u32..4).prop_map(Event::Info),
        (0u8..8).prop_map(Event::Open),
        (0u8..8).prop_map(Event::Refuse),
        (0u8..8).prop_map(Event::Update),
        (0u8..8).prop_map(Event::End),
        proptest::collection::vec(0u8..4, 0..4).prop_map(Event::Desire),
    ]
}

proptest! {
    /// Whatever the server does: never more streams asked for or open than the limit, never
    /// a timer due at once after a tick (no spin), every request id unique and non-zero.
    #[test]
    fn the_core_never_exceeds_its_limit_nor_spins(events in proptest::collection::vec(event(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        rt.block_on(async {
            let mut now = Instant::now();
            let (mut core, first) = ConnCore::new(cfg(2), template(), &[key(0), key(1)], 3, now);
            let mut ids: Vec<u32> = sent(&first).iter().map(|s| s.0).collect();
            let mut next_stream = 0u32;
            let mut pending: Vec<u32> = Vec::new();
            for ev in events {
                let out = match ev {
                    Event::Tick(ms) => {
                        now += Duration::from_millis(u64::from(ms));
                        let out = core.on_tick(now);
                        if !out.iter().any(|e| matches!(e, Effect::Dead(_))) {
                            prop_assert!(core.next_deadline() > now, "a tick leaves nothing due");
                        }
                        out
                    }
                    Event::Info(c) => core.on_message(info(c, 1), now),
                    Event::Open(i) => match pending.get(usize::from(i) % pending.len().max(1)) {
                        Some(rid) => { next_stream += 1; core.on_message(opened(*rid, next_stream), now) }
                        None => Vec::new(),
                    },
                    Event::Refuse(i) => match pending.get(usize::from(i) % pending.len().max(1)) {
                        Some(rid) => core.on_message(ServerMessage::Error(ErrorMessage { request_id: *rid, code: 400, message: "no".into() }), now),
                        None => Vec::new(),
                    },
                    Event::Update(i) => core.on_message(update(u32::from(i) % (next_stream + 1), 0, 1), now),
                    Event::End(i) => core.on_message(ServerMessage::StreamEnd(StreamEnd { id: u32::from(i) % (next_stream + 1), error_code: Some(1), error_message: None }), now),
                    Event::Desire(a) => {
                        let keys: Vec<StreamKey> = a.iter().map(|x| key(u64::from(*x))).collect();
                        core.set_desired(&keys, now)
                    }
                };
                for (id, d) in sent(&out) {
                    prop_assert!(id != 0 && !ids.contains(&id), "request id {id} reused");
                    ids.push(id);
                    if matches!(d, RequestData::NewSwapQuoteStream(_)) {
                        pending.push(id);
                    }
                }
                prop_assert!(core.active() <= core.limit, "{} active, limit {}", core.active(), core.limit);
                prop_assert!(core.open_streams() <= 2);
            }
            Ok(())
        })?;
    }
}
