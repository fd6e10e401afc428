//! Titan sessions over real sockets: GetInfo, quote streams priced by the market, StopStream,
//! the per-connection stream limit, malformed frames, the forced stream faults and the
//! handle's stream ends and closes. Every wait is on a message, never on a sleep.
#![allow(clippy::unwrap_used)]

mod titan_support;

use std::collections::BTreeSet;

use futures_util::SinkExt;
use galileo_sim::Fault;
use galileo_sim::market::VenueId;
use galileo_sim::titan::wire::{
    ClientRequest, CompactInstruction, GetInfoRequest, GetVenuesRequest, ListProvidersRequest,
    ProviderKind, RequestData, ResponseData, ServerMessage, StopStreamRequest, StreamData,
    StreamDataType, StreamPayload, SwapQuotes,
};
use galileo_sim::titan::{Bounds, ProviderConfig, RouteInstructions, TitanConfig, codes};
use titan_support::*;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn req(id: u32, data: RequestData) -> ClientRequest {
    ClientRequest { id, data }
}

fn stop(id: u32, stream: u32) -> ClientRequest {
    req(
        id,
        RequestData::StopStream(StopStreamRequest { id: stream }),
    )
}

/// Opens a stream and returns its id, checking the Response.
async fn open_stream(c: &mut Client, r: ClientRequest, skip: &[u32]) -> (u32, u64) {
    let id = r.id;
    c.send(&r).await;
    match c.recv_skipping(skip).await {
        ServerMessage::Response(resp) => {
            assert_eq!(resp.request_id, id);
            let stream = resp.stream.expect("a stream Response carries `stream`");
            assert_eq!(stream.data_type, StreamDataType::SwapQuotes);
            let ResponseData::NewSwapQuoteStream(d) = resp.data else {
                panic!("{:?}", resp.data)
            };
            (stream.id, d.interval_ms)
        }
        other => panic!("{other:?}"),
    }
}

fn quotes(d: &StreamData) -> &SwapQuotes {
    let StreamPayload::SwapQuotes(q) = &d.payload;
    q
}

async fn next_data(c: &mut Client) -> StreamData {
    match c.recv().await {
        ServerMessage::StreamData(d) => d,
        other => panic!("expected StreamData, got {other:?}"),
    }
}

fn error_of(m: ServerMessage) -> (u32, u32, String) {
    match m {
        ServerMessage::Error(e) => (e.request_id, e.code, e.message),
        other => panic!("expected Error, got {other:?}"),
    }
}

#[tokio::test]
async fn get_info_reports_the_configured_limits() {
    let sim = start(TitanConfig {
        concurrent_streams: 3,
        interval_ms: Bounds {
            min: 20,
            max: 5_000,
            default: 800,
        },
        num_quotes: Bounds {
            min: 1,
            max: 4,
            default: 2,
        },
        ..config()
    });
    let mut c = connect(&sim, "127.0.0.20").await;
    c.send(&req(1, RequestData::GetInfo(GetInfoRequest {})))
        .await;
    let ServerMessage::Response(r) = c.recv().await else {
        panic!()
    };
    assert_eq!(r.request_id, 1);
    assert_eq!(r.stream, None);
    let ResponseData::GetInfo(info) = r.data else {
        panic!()
    };
    assert_eq!(info.settings.connection.concurrent_streams, 3);
    let q = info.settings.quote_update;
    assert_eq!(
        (q.interval_ms.min, q.interval_ms.max, q.interval_ms.default),
        (20, 5_000, 800)
    );
    assert_eq!(
        (q.num_quotes.min, q.num_quotes.max, q.num_quotes.default),
        (1, 4, 2)
    );
    assert_eq!(info.protocol_version.major, 1);
}

/// The venues a provider of the configuration may use, as a filter for `best_quote`.
fn provider_allows(p: &ProviderConfig, name: &str) -> bool {
    p.venues.is_empty() || p.venues.iter().any(|v| v == name)
}

#[tokio::test]
async fn a_stream_sends_consecutive_updates_priced_by_the_market_per_provider() {
    let cfg = config();
    let providers = cfg.providers.clone();
    let sim = start(cfg);
    let mut c = connect(&sim, "127.0.0.21").await;
    let amount = 1_000_000_000;
    let (stream, interval) = open_stream(&mut c, quote_request(1, amount, 20, 3), &[]).await;
    assert_eq!((stream, interval), (0, 20));
    let conn = sim.handle.record().by_peer(c.local).unwrap().id;

    let mut seen_routes = BTreeSet::new();
    for expected_seq in 0..6u32 {
        let d = next_data(&mut c).await;
        assert_eq!((d.id, d.seq), (0, expected_seq), "seq consecutive from 0");
        let q = quotes(&d);
        assert_eq!(q.amount, amount);
        assert_eq!(q.input_mint, key(WSOL));
        assert_eq!(q.output_mint, key(USDC));
        assert!(q.id.ends_with(&format!(":{expected_seq}")), "{}", q.id);
        let rec = sim.handle.record();
        let u = rec.update(conn, 0, expected_seq).unwrap().clone();
        assert_eq!(u.routes.len(), q.quotes.len());

        let market = sim.market.read();
        let at = market.epoch() + market.tick_duration() * u32::try_from(u.tick).unwrap();
        let sol = market.mint(WSOL).unwrap();
        let usdc = market.mint(USDC).unwrap();
        for (pid, route) in &q.quotes {
            seen_routes.insert(pid.clone());
            let p = providers.iter().find(|p| &p.id == pid).unwrap();
            let best = market
                .best_quote(sol, usdc, amount, at, |_: VenueId, v| {
                    provider_allows(p, v.name())
                })
                .unwrap();
            assert_eq!(
                route.out_amount, best.out_amount,
                "{pid} at tick {}",
                u.tick
            );
            assert_eq!(route.in_amount, amount);
            assert_eq!(route.steps.len(), 1);
            let step = &route.steps[0];
            let venue = market.venue_info(best.venue).name();
            assert_eq!(step.label, venue);
            assert_eq!(step.amm_key.0, best.pool);
            assert_eq!(step.alloc_ppb, 1_000_000_000);
            assert_eq!((step.in_amount, step.out_amount), (amount, best.out_amount));
            assert_eq!(step.fee_amount, Some(best.fee_amount));
            // The instructions are what RouteInstructions built, in the compact form.
            let want: Vec<CompactInstruction> = sim
                .routes
                .swap_instructions(
                    &user(),
                    venue,
                    &key(WSOL).0,
                    &key(USDC).0,
                    amount,
                    best.out_amount,
                )
                .unwrap()
                .iter()
                .map(CompactInstruction::from)
                .collect();
            assert_eq!(route.instructions, want);
            let ix: solana_instruction::Instruction = (&route.instructions[0]).into();
            assert_eq!(
                galileo_sim::titan::SyntheticRoutes::decode(&ix.data),
                Some((venue.to_owned(), amount, best.out_amount))
            );
            assert_eq!(
                route.address_lookup_tables,
                sim.routes
                    .lookup_tables
                    .iter()
                    .map(|k| galileo_sim::titan::wire::Key(*k))
                    .collect::<Vec<_>>()
            );
            assert_eq!(route.context_slot, Some(u.slot));
            assert!(route.expires_after_slot.unwrap() > u.slot);
            assert_eq!(route.compute_units, Some(p.compute_units));
            assert!(route.compute_units_safe.unwrap() > p.compute_units);
            assert!(route.time_taken_ns.is_some());
        }
        // Titan sees every venue: never worse than the others.
        let titan = q.quotes["Titan"].out_amount;
        assert!(q.quotes.values().all(|r| r.out_amount <= titan));
    }
    assert_eq!(
        seen_routes,
        ["Metis", "Okx", "Titan"]
            .map(String::from)
            .into_iter()
            .collect()
    );
}

#[tokio::test]
async fn intervals_and_quote_counts_are_clamped_and_trimmed_by_output() {
    let sim = start(TitanConfig {
        interval_ms: Bounds {
            min: 25,
            max: 40,
            default: 30,
        },
        ..config()
    });
    let mut c = connect(&sim, "127.0.0.22").await;
    let (_, i) = open_stream(&mut c, quote_request(1, 5_000_000_000, 1, 1), &[]).await;
    assert_eq!(i, 25, "below the minimum: clamped up");
    let (_, i) = open_stream(&mut c, quote_request(2, 5_000_000_000, 1_000_000, 1), &[0]).await;
    assert_eq!(i, 40, "above the maximum: clamped down");
    // numQuotes 1: one route per update, the best of all providers'.
    let mut seen = 0;
    while seen < 4 {
        let d = next_data(&mut c).await;
        let q = quotes(&d);
        assert_eq!(q.quotes.len(), 1);
        let conn = sim.handle.record().by_peer(c.local).unwrap().id;
        let rec = sim.handle.record();
        let u = rec.update(conn, d.id, d.seq).unwrap();
        let market = sim.market.read();
        let at = market.epoch() + market.tick_duration() * u32::try_from(u.tick).unwrap();
        let best = market
            .best_quote(
                market.mint(WSOL).unwrap(),
                market.mint(USDC).unwrap(),
                5_000_000_000,
                at,
                |_, _| true,
            )
            .unwrap();
        assert_eq!(
            q.quotes.values().next().unwrap().out_amount,
            best.out_amount
        );
        seen += 1;
    }
}

#[tokio::test]
async fn dexes_exclusions_and_providers_filter_the_routes() {
    let sim = start(config());
    let mut c = connect(&sim, "127.0.0.23").await;
    let mut r = quote_request(1, 1_000_000_000, 20, 3);
    let RequestData::NewSwapQuoteStream(q) = &mut r.data else {
        unreachable!()
    };
    q.swap.dexes = Some(vec![
        "SolFiV2".into(),
        "TesseraV".into(),
        "NotAVenue".into(),
    ]);
    q.swap.exclude_dexes = Some(vec!["TesseraV".into()]);
    q.swap.providers = Some(vec!["Metis".into(), "Okx".into(), "Nobody".into()]);
    open_stream(&mut c, r, &[]).await;
    for _ in 0..3 {
        let d = next_data(&mut c).await;
        let q = quotes(&d);
        let keys: Vec<&str> = q.quotes.keys().map(String::as_str).collect();
        assert_eq!(keys, ["Metis", "Okx"]);
        for route in q.quotes.values() {
            assert_eq!(route.steps[0].label, "SolFiV2");
        }
    }
    // Only unknown providers: refused.
    let mut r = quote_request(2, 1_000_000_000, 20, 3);
    let RequestData::NewSwapQuoteStream(q) = &mut r.data else {
        unreachable!()
    };
    q.swap.providers = Some(vec!["Nobody".into()]);
    c.send(&r).await;
    let (id, code, msg) = error_of(c.recv_skipping(&[0]).await);
    assert_eq!((id, code), (2, codes::BAD_REQUEST));
    assert!(msg.contains("Titan"), "{msg}");
}

#[tokio::test]
async fn stop_stream_answers_then_ends_exactly_once_and_no_data_follows() {
    let sim = start(config());
    let mut c = connect(&sim, "127.0.0.24").await;
    let (s0, _) = open_stream(&mut c, quote_request(1, 1_000_000_000, 20, 3), &[]).await;
    // Let it run a little: wait for two updates.
    next_data(&mut c).await;
    next_data(&mut c).await;
    c.send(&stop(2, s0)).await;
    match c.recv_skipping(&[s0]).await {
        ServerMessage::Response(r) => {
            assert_eq!(r.request_id, 2);
            assert_eq!(r.stream, None);
            assert!(matches!(r.data, ResponseData::StreamStopped(s) if s.id == s0));
        }
        other => panic!("{other:?}"),
    }
    match c.recv().await {
        ServerMessage::StreamEnd(e) => {
            assert_eq!(e.id, s0);
            assert_eq!((e.error_code, e.error_message), (None, None));
        }
        other => panic!("expected StreamEnd, got {other:?}"),
    }
    // A second stream on the same connection: its updates keep coming, and nothing of the
    // stopped stream (data or another end) is interleaved with them.
    let (s1, _) = open_stream(&mut c, quote_request(3, 1_000_000_000, 20, 3), &[]).await;
    assert_eq!(s1, 1, "stream ids are not reused");
    for seq in 0..5 {
        let d = next_data(&mut c).await;
        assert_eq!((d.id, d.seq), (s1, seq));
    }
    // Stopping it again is an error: it is not open.
    c.send(&stop(4, s0)).await;
    let (id, code, _) = error_of(c.recv_skipping(&[s1]).await);
    assert_eq!((id, code), (4, codes::NOT_FOUND));
    assert_eq!(
        sim.handle.record().by_peer(c.local).unwrap().open_streams,
        1
    );
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused_with_an_error() {
    let sim = start(TitanConfig {
        concurrent_streams: 2,
        ..config()
    });
    let mut c = connect(&sim, "127.0.0.25").await;
    let (a, _) = open_stream(&mut c, quote_request(1, 1_000_000_000, 1000, 3), &[]).await;
    let (b, _) = open_stream(&mut c, quote_request(2, 1_000_000_000, 1000, 3), &[a]).await;
    c.send(&quote_request(3, 1_000_000_000, 1000, 3)).await;
    let (id, code, msg) = error_of(c.recv_skipping(&[a, b]).await);
    assert_eq!((id, code), (3, codes::TOO_MANY_STREAMS));
    assert!(msg.contains("at most 2"), "{msg}");
    assert_eq!(sim.handle.record().open_streams(), 2);
    // Another connection has its own allowance.
    let mut other = connect(&sim, "127.0.0.25").await;
    open_stream(&mut other, quote_request(1, 1_000_000_000, 1000, 3), &[]).await;
    // After a stop, there is room again.
    c.send(&stop(4, a)).await;
    loop {
        if let ServerMessage::StreamEnd(e) = c.recv_skipping(&[a, b]).await {
            assert_eq!(e.id, a);
            break;
        }
    }
    let (d, _) = open_stream(&mut c, quote_request(5, 1_000_000_000, 1000, 3), &[a, b]).await;
    assert_eq!(d, 2);
}

#[tokio::test]
async fn malformed_frames_get_errors_and_the_session_survives() {
    let sim = start(config());
    let mut c = connect(&sim, "127.0.0.26").await;
    let map = |entries: Vec<(&str, rmpv::Value)>| {
        rmpv::Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    };
    let enc = |v: &rmpv::Value| {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    };
    // Not MessagePack at all.
    c.send_payload(b"\xc1\xc1\xc1").await;
    let (id, code, _) = error_of(c.recv().await);
    assert_eq!((id, code), (0, codes::BAD_REQUEST));
    // An unknown procedure: the request id is still named.
    c.send_payload(&enc(&map(vec![
        ("id", 5.into()),
        ("data", map(vec![("Frobnicate", map(vec![]))])),
    ])))
    .await;
    let (id, code, msg) = error_of(c.recv().await);
    assert_eq!((id, code), (5, codes::BAD_REQUEST));
    assert!(msg.contains("Frobnicate"), "{msg}");
    // A 31-byte pubkey.
    let mut bad = to_value(quote_request(6, 1, 20, 1)).unwrap();
    set_path(
        &mut bad,
        &["data", "NewSwapQuoteStream", "swap", "inputMint"],
        rmpv::Value::Binary(vec![1; 31]),
    );
    c.send_payload(&enc(&bad)).await;
    let (id, code, msg) = error_of(c.recv().await);
    assert_eq!((id, code), (6, codes::BAD_REQUEST));
    assert!(msg.contains("32 bytes"), "{msg}");
    // A pubkey as an array of ints (the reference decoder refuses it too).
    let mut arr = to_value(quote_request(7, 1, 20, 1)).unwrap();
    set_path(
        &mut arr,
        &["data", "NewSwapQuoteStream", "swap", "inputMint"],
        rmpv::Value::Array(vec![1.into(); 32]),
    );
    c.send_payload(&enc(&arr)).await;
    assert_eq!(error_of(c.recv().await).0, 7);
    // Uncompressed MessagePack on a gzip connection.
    assert_eq!(c.zip, Zip::Gzip);
    let get_info =
        rmp_serde::to_vec_named(&req(8, RequestData::GetInfo(GetInfoRequest {}))).unwrap();
    c.ws.send(Message::Binary(get_info.into())).await.unwrap();
    let (id, code, msg) = error_of(c.recv().await);
    assert_eq!((id, code), (0, codes::BAD_REQUEST));
    assert!(msg.contains("gzip"), "{msg}");
    // Unknown mint, ExactOut, zero amount, same mint.
    let mut r = quote_request(9, 1_000, 20, 1);
    let RequestData::NewSwapQuoteStream(q) = &mut r.data else {
        unreachable!()
    };
    q.swap.output_mint = galileo_sim::titan::wire::Key(solana_pubkey::Pubkey::new_unique());
    c.send(&r).await;
    let (id, code, msg) = error_of(c.recv().await);
    assert_eq!((id, code), (9, codes::BAD_REQUEST));
    assert!(msg.contains("unknown output mint"), "{msg}");
    let mut r = quote_request(10, 1_000, 20, 1);
    let RequestData::NewSwapQuoteStream(q) = &mut r.data else {
        unreachable!()
    };
    q.swap.swap_mode = Some(galileo_sim::titan::wire::SwapMode::ExactOut);
    c.send(&r).await;
    assert_eq!(error_of(c.recv().await).0, 10);
    c.send(&quote_request(11, 0, 20, 1)).await;
    assert_eq!(error_of(c.recv().await).0, 11);
    // Text frames are ignored, pings answered.
    c.ws.send(Message::Text("hello".into())).await.unwrap();
    c.ws.send(Message::Ping(b"p".to_vec().into()))
        .await
        .unwrap();
    match c.frame().await {
        Some(Ok(Message::Pong(p))) => assert_eq!(&p[..], b"p"),
        other => panic!("expected the pong, got {other:?}"),
    }
    // Still alive, with nil optionals and unknown keys tolerated: the spec's GetInfo bytes,
    // and a request carrying a key nobody knows.
    c.send_payload(&hex(
        "82 a2 69 64 01 a4 64 61 74 61 81 a7 47 65 74 49 6e 66 6f 80",
    ))
    .await;
    let ServerMessage::Response(r) = c.recv().await else {
        panic!()
    };
    assert_eq!(r.request_id, 1);
    let mut extra = to_value(quote_request(12, 1_000_000, 20, 1)).unwrap();
    if let rmpv::Value::Map(m) = &mut extra {
        m.push(("futureField".into(), "x".into()));
    }
    c.send_payload(&enc(&extra)).await;
    let (stream, _) = match c.recv().await {
        ServerMessage::Response(r) => (r.stream.unwrap().id, ()),
        other => panic!("{other:?}"),
    };
    assert_eq!(stream, 0);
    let rec = sim.handle.record();
    let conn = rec.by_peer(c.local).unwrap();
    let malformed = conn
        .messages
        .iter()
        .filter(|m| matches!(m, galileo_sim::titan::RecordedMessage::Malformed { .. }))
        .count();
    assert_eq!(malformed, 5);
}

fn set_path(v: &mut rmpv::Value, path: &[&str], new: rmpv::Value) {
    let mut cur = v;
    for k in path {
        let rmpv::Value::Map(m) = cur else {
            panic!("not a map at {k}")
        };
        cur = &mut m
            .iter_mut()
            .find(|(kk, _)| kk.as_str() == Some(k))
            .unwrap()
            .1;
    }
    *cur = new;
}

fn to_value<T: serde::Serialize>(v: T) -> Result<rmpv::Value, rmpv::decode::Error> {
    let bytes = rmp_serde::to_vec_named(&v).unwrap();
    rmpv::decode::read_value(&mut &bytes[..])
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[tokio::test]
async fn the_user_key_of_the_token_is_enforced() {
    let sim = start(config());
    let mut claims = galileo_sim::titan::jwt::Claims::new("u", unix_now(), 900);
    claims.upk_b58 = Some(solana_pubkey::Pubkey::new_unique().to_string());
    let tok = galileo_sim::titan::jwt::sign(&claims, SECRET.as_bytes());
    let mut c = open(
        ip("127.0.0.27"),
        sim.addr,
        Some(&tok),
        Carrier::Query,
        &["v1.api.titan.ag"],
    )
    .await
    .unwrap();
    c.send(&quote_request(1, 1_000_000_000, 20, 1)).await;
    let (id, code, msg) = error_of(c.recv().await);
    assert_eq!((id, code), (1, codes::FORBIDDEN));
    assert!(msg.contains("userPublicKey"), "{msg}");
    // Its own key is fine.
    let mut r = quote_request(2, 1_000_000_000, 20, 1);
    let RequestData::NewSwapQuoteStream(q) = &mut r.data else {
        unreachable!()
    };
    q.transaction.user_public_key =
        galileo_sim::titan::wire::Key(claims.upk_b58.as_ref().unwrap().parse().unwrap());
    open_stream(&mut c, r, &[]).await;
}

#[tokio::test]
async fn ws_close_mid_stream_drops_the_connection_after_the_first_update() {
    let sim = start(config());
    let controls = sim.sandbox.controls("titan").unwrap().clone();
    controls.force(Fault::WsCloseMidStream);
    let mut c = connect(&sim, "127.0.0.28").await;
    open_stream(&mut c, quote_request(1, 1_000_000_000, 20, 3), &[]).await;
    let d = next_data(&mut c).await;
    assert_eq!(d.seq, 0);
    // Then the connection ends without a close frame.
    match c.frame().await {
        None | Some(Err(_)) => {}
        Some(Ok(m)) => panic!("expected an abrupt end, got {m:?}"),
    }
    let stats = sim.sandbox.service("titan").unwrap().stats();
    assert_eq!(
        stats
            .ip(ip("127.0.0.28"))
            .fault_count(Fault::WsCloseMidStream),
        1
    );
    sim.handle.wait_until(|r| r.open_connections() == 0).await;
}

#[tokio::test]
async fn stream_silence_stops_updates_without_ending_the_stream() {
    let sim = start(config());
    let controls = sim.sandbox.controls("titan").unwrap().clone();
    controls.force(Fault::StreamSilence);
    let mut c = connect(&sim, "127.0.0.29").await;
    let (silent, _) = open_stream(&mut c, quote_request(1, 1_000_000_000, 20, 3), &[]).await;
    let d = next_data(&mut c).await;
    assert_eq!((d.id, d.seq), (silent, 0));
    // A healthy stream on the same connection keeps flowing; the silent one sends nothing
    // in between, not even a StreamEnd.
    let (live, _) = open_stream(&mut c, quote_request(2, 1_000_000_000, 20, 3), &[]).await;
    for seq in 0..5 {
        let d = next_data(&mut c).await;
        assert_eq!((d.id, d.seq), (live, seq));
    }
    let rec = sim.handle.record();
    assert_eq!(rec.by_peer(c.local).unwrap().open_streams, 2);
    assert_eq!(rec.updates.iter().filter(|u| u.stream == silent).count(), 1);
}

#[tokio::test]
async fn the_handle_ends_streams_with_an_error_and_closes_connections() {
    let sim = start(config());
    let mut c = connect(&sim, "127.0.0.30").await;
    let (a, _) = open_stream(&mut c, quote_request(1, 1_000_000_000, 20, 3), &[]).await;
    let (b, _) = open_stream(&mut c, quote_request(2, 1_000_000_000, 20, 3), &[a]).await;
    sim.handle.end_streams(503, "maintenance");
    let mut ended = BTreeSet::new();
    while ended.len() < 2 {
        if let ServerMessage::StreamEnd(e) = c.recv_skipping(&[a, b]).await {
            assert_eq!(e.error_code, Some(503));
            assert_eq!(e.error_message.as_deref(), Some("maintenance"));
            ended.insert(e.id);
        } else {
            panic!("unexpected message");
        }
    }
    assert_eq!(ended, [a, b].into_iter().collect());
    sim.handle.wait_until(|r| r.open_streams() == 0).await;

    // close_all: a close frame, going away.
    sim.handle.close_all();
    match c.frame().await {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(f.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // drop_all: no close frame.
    let mut d = connect(&sim, "127.0.0.30").await;
    sim.handle.wait_until(|r| r.open_connections() == 1).await;
    sim.handle.drop_all();
    match d.frame().await {
        None | Some(Err(_)) => {}
        Some(Ok(m)) => panic!("expected an abrupt end, got {m:?}"),
    }
    sim.handle.wait_until(|r| r.open_connections() == 0).await;
}

#[tokio::test]
async fn venues_and_providers_are_listed() {
    let mut cfg = config();
    cfg.providers[2].icon_uri48 = Some("https://example.invalid/okx.png".into());
    cfg.providers[2].kind = ProviderKind::Rfq;
    let sim = start(cfg);
    let mut c = connect(&sim, "127.0.0.31").await;
    c.send(&req(
        1,
        RequestData::GetVenues(GetVenuesRequest {
            include_program_ids: None,
        }),
    ))
    .await;
    let ServerMessage::Response(r) = c.recv().await else {
        panic!()
    };
    let ResponseData::GetVenues(v) = r.data else {
        panic!()
    };
    assert_eq!(
        v.labels,
        ["HumidiFi", "TesseraV", "SolFiV2", "Meteora DLMM"]
    );
    assert_eq!(v.program_ids, None);
    c.send(&req(
        2,
        RequestData::GetVenues(GetVenuesRequest {
            include_program_ids: Some(true),
        }),
    ))
    .await;
    let ServerMessage::Response(r) = c.recv().await else {
        panic!()
    };
    let ResponseData::GetVenues(v) = r.data else {
        panic!()
    };
    assert_eq!(v.program_ids.unwrap().len(), 4);

    c.send(&req(
        3,
        RequestData::ListProviders(ListProvidersRequest {
            include_icons: None,
        }),
    ))
    .await;
    let ServerMessage::Response(r) = c.recv().await else {
        panic!()
    };
    let ResponseData::ListProviders(list) = r.data else {
        panic!()
    };
    let ids: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["Titan", "Metis", "Okx"]);
    assert!(list.iter().all(|p| p.icon_uri48.is_none()));
    assert_eq!(list[2].kind, ProviderKind::Rfq);
    assert_eq!(list[2].name, "OKX");
    c.send(&req(
        4,
        RequestData::ListProviders(ListProvidersRequest {
            include_icons: Some(true),
        }),
    ))
    .await;
    let ServerMessage::Response(r) = c.recv().await else {
        panic!()
    };
    let ResponseData::ListProviders(list) = r.data else {
        panic!()
    };
    assert_eq!(
        list[2].icon_uri48.as_deref(),
        Some("https://example.invalid/okx.png")
    );
}

#[tokio::test]
async fn with_no_first_delay_the_first_update_follows_the_response_at_once() {
    let sim = start(TitanConfig {
        first_update_delay_ms: 0,
        ..config()
    });
    let mut c = connect(&sim, "127.0.0.32").await;
    // A long interval: the only update that can come now is the immediate first one.
    let (s, _) = open_stream(&mut c, quote_request(1, 1_000_000_000, 60_000, 3), &[]).await;
    let d = next_data(&mut c).await;
    assert_eq!((d.id, d.seq), (s, 0));
    // The client closes: the server answers the close frame and the session ends.
    c.ws.close(None).await.unwrap();
    match c.frame().await {
        Some(Ok(Message::Close(_))) => {}
        other => panic!("expected the close reply, got {other:?}"),
    }
    sim.handle.wait_until(|r| r.open_connections() == 0).await;
}

#[tokio::test]
async fn scripting_the_market_moves_the_streamed_routes() {
    let sim = start(config());
    let (sol, humidifi) = {
        let mut m = sim.market.write();
        let now = tokio::time::Instant::now();
        m.freeze(now);
        (m.mint(WSOL).unwrap(), m.venue("HumidiFi").unwrap())
    };
    let mut c = connect(&sim, "127.0.0.33").await;
    open_stream(&mut c, quote_request(1, 1_000_000_000, 20, 3), &[]).await;
    let before = quotes(&next_data(&mut c).await).quotes["Titan"].out_amount;
    // SOL 2 % dearer at HumidiFi: selling it there pays more, and Titan routes there.
    let from = tokio::time::Instant::now();
    let tick = {
        let mut m = sim.market.write();
        m.open_dislocation(humidifi, sol, 200, None, from).unwrap();
        m.tick_at(from)
    };
    let conn = sim.handle.record().by_peer(c.local).unwrap().id;
    loop {
        let d = next_data(&mut c).await;
        if sim.handle.record().update(conn, d.id, d.seq).unwrap().tick <= tick {
            continue;
        }
        let titan = &quotes(&d).quotes["Titan"];
        assert_eq!(titan.steps[0].label, "HumidiFi");
        assert!(
            titan.out_amount > before + before / 100,
            "{} vs {before}",
            titan.out_amount
        );
        // Metis routes over HumidiFi too; Okx does not, and is unmoved.
        assert_eq!(quotes(&d).quotes["Metis"].out_amount, titan.out_amount);
        assert!(quotes(&d).quotes["Okx"].out_amount < before + before / 100);
        break;
    }
}
