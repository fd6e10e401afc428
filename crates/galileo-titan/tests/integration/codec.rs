//! The wire format: the captured fixtures decode and re-encode to the same values; the
//! encoding rules of spec §2; every compression round-trips (here and against galileo-sim);
//! malformed frames are errors, never panics (property-tested for every compression).

use std::collections::BTreeMap;

use crate::support::*;
use base64::Engine;
use galileo_titan::codec::{self, Compression, FrameError, decode, decode_server_frame, encode};
use galileo_titan::wire::*;
use proptest::prelude::*;
use rmpv::Value;
use solana_pubkey::Pubkey;

const LIMIT: usize = 1 << 20;

/// The fixtures' JSON rendering of MessagePack: `{"type":"bytes","base64":...}` is a `bin`.
fn to_msgpack(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => Value::from(u),
            None => Value::from(n.as_i64().unwrap()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(to_msgpack).collect()),
        serde_json::Value::Object(o) if o.get("type").and_then(|t| t.as_str()) == Some("bytes") => {
            let b64 = o["base64"].as_str().unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            assert_eq!(bytes.len() as u64, o["length"].as_u64().unwrap());
            Value::Binary(bytes)
        }
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_msgpack(v)))
                .collect(),
        ),
    }
}

/// Maps sorted by key and `nil` entries dropped: "omitted" and `nil` are the same value.
fn normalize(v: Value) -> Value {
    match v {
        Value::Map(m) => {
            let mut m: Vec<(Value, Value)> = m
                .into_iter()
                .filter(|(_, v)| !v.is_nil())
                .map(|(k, v)| (k, normalize(v)))
                .collect();
            m.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
            Value::Map(m)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/titan/{name}", env!("CARGO_MANIFEST_DIR"));
    to_msgpack(&serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn bytes_of(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

fn value_of(bytes: &[u8]) -> Value {
    rmpv::decode::read_value(&mut &bytes[..]).unwrap()
}

#[test]
fn the_captured_request_decodes_and_reencodes_to_the_same_values() {
    let original = fixture("new_swap_quote_stream_request.json");
    let req: ClientRequest = decode(&bytes_of(&original)).unwrap();
    let RequestData::NewSwapQuoteStream(q) = &req.data else {
        panic!("{req:?}")
    };
    assert_eq!(q.swap.input_mint, mint(WSOL));
    assert_eq!(q.swap.output_mint, mint(USDC));
    assert_eq!(q.swap.amount, 1_000_000_000);
    assert_eq!(q.swap.swap_mode, Some(SwapMode::ExactIn));
    assert_eq!(q.swap.dexes.as_ref().map(Vec::len), Some(73));
    assert_eq!(q.update, None, "nil read as absent");
    assert_eq!(normalize(value_of(&encode(&req))), normalize(original));
}

#[test]
fn the_captured_stream_data_decodes_and_reencodes_to_the_same_values() {
    let original = fixture("stream_data_swap_quotes.json");
    let msg: ServerMessage = decode(&bytes_of(&original)).unwrap();
    let ServerMessage::StreamData(d) = &msg else {
        panic!("{msg:?}")
    };
    assert_eq!((d.id, d.seq), (0, 0));
    let StreamPayload::SwapQuotes(q) = &d.payload;
    assert_eq!(q.id, "swap:212046444710911484282953856024573369887:0");
    assert_eq!(q.quotes.keys().collect::<Vec<_>>(), ["Metis", "Titan"]);
    let metis = &q.quotes["Metis"];
    assert_eq!(metis.out_amount, 202_133_139);
    assert_eq!(
        metis.instructions.len(),
        6,
        "the six instructions of spec §5.3"
    );
    assert_eq!(metis.instructions[2].data, [0x11], "SyncNative");
    assert_eq!(metis.compute_units_safe, Some(136_197));
    assert_eq!(q.quotes["Titan"].compute_units_safe, Some(178_740));
    // Both quoted 202133139: a tie goes to the first provider by id.
    let (best, route) = q.best().unwrap();
    assert_eq!((best, route.out_amount), ("Metis", 202_133_139));
    assert_eq!(normalize(value_of(&encode(&msg))), normalize(original));
    // The compact instructions convert to Solana's.
    let ix = solana_instruction::Instruction::from(&metis.instructions[0]);
    assert_eq!(ix.accounts.len(), metis.instructions[0].accounts.len());
}

#[test]
fn the_encoding_follows_the_spec_rules() {
    let wsol = mint(WSOL);
    let swap = SwapParams {
        input_mint: wsol,
        output_mint: mint(USDC),
        amount: 5,
        swap_mode: Some(SwapMode::ExactIn),
        slippage_bps: None,
        dexes: None,
        exclude_dexes: None,
        only_direct_routes: Some(false),
        add_size_constraint: None,
        size_constraint: None,
        providers: None,
        accounts_limit_total: None,
        accounts_limit_writable: None,
    };
    let v = value_of(&encode(&swap));
    let get = |k: &str| {
        v.as_map()
            .unwrap()
            .iter()
            .find(|(x, _)| x.as_str() == Some(k))
            .map(|(_, v)| v.clone())
    };
    // Pubkeys are bin 8 of 32 bytes: c4 20 + the key (WSOL's bytes of spec §2.5).
    let bytes = encode(&swap);
    let mut wsol_bin = vec![0xc4, 0x20];
    wsol_bin.extend_from_slice(wsol.as_ref());
    assert!(bytes.windows(34).any(|w| w == wsol_bin.as_slice()));
    assert_eq!(
        get("swapMode"),
        Some(Value::from("ExactIn")),
        "unit enums are strings"
    );
    assert_eq!(get("slippageBps"), None, "unset optionals are omitted");
    assert_eq!(get("onlyDirectRoutes"), Some(Value::Boolean(false)));
    // Unknown keys are ignored; nil optionals read as absent.
    let mut with_extra = v.as_map().unwrap().clone();
    with_extra.push((Value::from("futureField"), Value::from(42)));
    with_extra.push((Value::from("dexes"), Value::Nil));
    let back: SwapParams = decode(&bytes_of(&Value::Map(with_extra))).unwrap();
    assert_eq!(back, swap);
}

#[test]
fn malformed_messages_are_errors_that_say_why() {
    let key_as = |v: Value| {
        Value::Map(vec![
            (Value::from("inputMint"), v),
            (Value::from("outputMint"), Value::Binary(vec![1; 32])),
            (Value::from("amount"), Value::from(1)),
        ])
    };
    // A 31-byte pubkey, and a pubkey as an int array: refused.
    for bad in [
        Value::Binary(vec![1; 31]),
        Value::Array((0..32).map(Value::from).collect()),
        Value::from("So11111111111111111111111111111111111111112"),
    ] {
        let e = decode::<SwapParams>(&bytes_of(&key_as(bad))).unwrap_err();
        assert!(matches!(e, FrameError::Decode(_)), "{e}");
    }
    // An unknown variant.
    let unknown = Value::Map(vec![(Value::from("Gossip"), Value::Map(vec![]))]);
    assert!(decode::<ServerMessage>(&bytes_of(&unknown)).is_err());
    // Instruction data may come as an int array.
    let ix = Value::Map(vec![
        (Value::from("p"), Value::Binary(vec![3; 32])),
        (Value::from("a"), Value::Array(vec![])),
        (
            Value::from("d"),
            Value::Array(vec![Value::from(1), Value::from(2)]),
        ),
    ]);
    assert_eq!(decode::<Instruction>(&bytes_of(&ix)).unwrap().data, [1, 2]);
    // Not MessagePack at all, and not the negotiated compression.
    assert!(decode_server_frame(Compression::None, &[0xc1], LIMIT).is_err());
    let e = decode_server_frame(Compression::Gzip, b"plain", LIMIT).unwrap_err();
    assert!(e.to_string().contains("gzip"), "{e}");
}

#[test]
fn a_decompression_bomb_is_refused_not_allocated() {
    let zeros = vec![0u8; 8 << 20];
    for c in [Compression::Gzip, Compression::Zstd, Compression::Brotli] {
        let frame = c.compress(&zeros);
        assert!(frame.len() < 1 << 20, "{c}: {} bytes", frame.len());
        assert_eq!(
            c.decompress(&frame, LIMIT).unwrap_err(),
            FrameError::TooLarge { limit: LIMIT }
        );
    }
}

/// One of every message both ways.
fn messages() -> (Vec<ClientRequest>, Vec<ServerMessage>) {
    let key = Pubkey::new_from_array([5; 32]);
    let stream_data =
        decode::<ServerMessage>(&bytes_of(&fixture("stream_data_swap_quotes.json"))).unwrap();
    let requests = vec![
        ClientRequest {
            id: 1,
            data: RequestData::GetInfo(GetInfoRequest {}),
        },
        decode(&bytes_of(&fixture("new_swap_quote_stream_request.json"))).unwrap(),
        ClientRequest {
            id: 3,
            data: RequestData::StopStream(StopStreamRequest { id: 9 }),
        },
        ClientRequest {
            id: 4,
            data: RequestData::GetVenues(GetVenuesRequest {
                include_program_ids: Some(true),
            }),
        },
        ClientRequest {
            id: 5,
            data: RequestData::ListProviders(ListProvidersRequest {
                include_icons: None,
            }),
        },
    ];
    let response = |data, stream| {
        ServerMessage::Response(ResponseMessage {
            request_id: 2,
            data,
            stream,
        })
    };
    let server = vec![
        response(ResponseData::GetInfo(ServerInfo::default()), None),
        response(
            ResponseData::NewSwapQuoteStream(QuoteSwapStreamResponse { interval_ms: 50 }),
            Some(StreamStart {
                id: 0,
                data_type: StreamDataType::SwapQuotes,
            }),
        ),
        response(
            ResponseData::StreamStopped(StopStreamResponse { id: 0 }),
            None,
        ),
        response(
            ResponseData::GetVenues(VenueInfo {
                labels: vec!["HumidiFi".into()],
                program_ids: Some(vec![key]),
            }),
            None,
        ),
        response(
            ResponseData::ListProviders(vec![ProviderInfo {
                id: "Okx".into(),
                name: "OKX".into(),
                kind: ProviderKind::Rfq,
                icon_uri48: Some("https://x/icon.png".into()),
            }]),
            None,
        ),
        ServerMessage::Error(ErrorMessage {
            request_id: 7,
            code: 429,
            message: "too many".into(),
        }),
        stream_data,
        ServerMessage::StreamEnd(StreamEnd {
            id: 0,
            error_code: Some(3),
            error_message: Some("bye".into()),
        }),
    ];
    (requests, server)
}

#[test]
fn every_message_round_trips_through_every_compression() {
    let (requests, server) = messages();
    for c in Compression::ALL {
        assert_eq!(Compression::from_token(c.token()), Some(c));
        for r in &requests {
            let frame = codec::encode_frame(c, r);
            let back: ClientRequest = decode(&c.decompress(&frame, LIMIT).unwrap()).unwrap();
            assert_eq!(&back, r, "{c}");
        }
        for m in &server {
            let frame = codec::encode_frame(c, m);
            assert_eq!(&decode_server_frame(c, &frame, LIMIT).unwrap(), m, "{c}");
        }
    }
    // The RFQ kind is spelt as the spec says.
    assert!(String::from_utf8_lossy(&encode(&ProviderKind::Rfq)).contains("RFQ"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_compression_is_negotiated_and_applied_both_ways_with_the_simulator() {
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    for c in Compression::ALL {
        let mut cfg = config(&sim);
        cfg.compression = vec![c];
        let client = client(cfg, &alloc);
        let mut conn = client.connect(ip(2)).await.unwrap();
        assert_eq!(conn.compression(), c);
        assert_eq!(
            conn.get_info()
                .await
                .unwrap()
                .settings
                .connection
                .concurrent_streams,
            4
        );
        let sub = sizes(1)[0];
        conn.send(&ClientRequest {
            id: 2,
            data: RequestData::NewSwapQuoteStream(Box::new(SwapQuoteRequest {
                swap: SwapParams {
                    input_mint: sub.input_mint,
                    output_mint: sub.output_mint,
                    amount: sub.amount,
                    swap_mode: None,
                    slippage_bps: None,
                    dexes: None,
                    exclude_dexes: None,
                    only_direct_routes: None,
                    add_size_constraint: None,
                    size_constraint: None,
                    providers: None,
                    accounts_limit_total: None,
                    accounts_limit_writable: None,
                },
                transaction: TransactionParams {
                    user_public_key: user(),
                    close_input_token_account: None,
                    create_output_token_account: None,
                    fee_account: None,
                    fee_bps: None,
                    fee_from_input_mint: None,
                    output_account: None,
                },
                update: None,
            })),
        })
        .await
        .unwrap();
        let mut got = BTreeMap::new();
        while got.len() < 2 {
            match conn.recv().await.unwrap() {
                ServerMessage::Response(r) => {
                    got.insert("response", r.stream.is_some());
                }
                ServerMessage::StreamData(d) => {
                    let StreamPayload::SwapQuotes(q) = d.payload;
                    got.insert("data", q.amount == sub.amount && !q.quotes.is_empty());
                }
                other => panic!("{c}: {other:?}"),
            }
        }
        assert!(got.values().all(|ok| *ok), "{c}: {got:?}");
        let r = sim.handle.record();
        let seen = r.connections.last().unwrap();
        assert_eq!(seen.protocol, c.token());
        assert!(
            seen.messages
                .iter()
                .all(|m| matches!(m, galileo_sim::titan::RecordedMessage::Request(_))),
            "{c}: the server read every frame"
        );
        conn.close().await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes, under any compression: a message or an error, never a panic.
    #[test]
    fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for c in Compression::ALL {
            let _ = decode_server_frame(c, &bytes, LIMIT);
            let _ = c.decompress(&bytes, LIMIT).map(|p| decode::<ClientRequest>(&p));
        }
    }

    /// Real frames, truncated or with bytes flipped: still never a panic.
    #[test]
    fn damaged_frames_never_panic(
        which in 0usize..8,
        cut in any::<proptest::sample::Index>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let (_, server) = messages();
        let msg = &server[which % server.len()];
        for c in Compression::ALL {
            let mut frame = codec::encode_frame(c, msg);
            for (at, x) in &flips {
                let i = at.index(frame.len());
                frame[i] ^= x;
            }
            frame.truncate(cut.index(frame.len() + 1));
            let _ = decode_server_frame(c, &frame, LIMIT);
            // The payload damaged after decompression too.
            let mut payload = encode(msg);
            for (at, x) in &flips {
                let i = at.index(payload.len());
                payload[i] ^= x;
            }
            let _ = decode::<ServerMessage>(&payload);
        }
    }
}
