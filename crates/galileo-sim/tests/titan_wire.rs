//! Titan's wire types against the real captures and the spec's exact bytes, and properties of
//! the codec: arbitrary requests round-trip through MessagePack and every compression, and no
//! byte string makes the decoder panic.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use galileo_sim::titan::wire::*;
use galileo_sim::titan::{Compression, decode_request, encode};
use proptest::prelude::*;
use solana_pubkey::Pubkey;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/titan");

/// The fixtures' JSON rendering of MessagePack, back to MessagePack values:
/// `{"type":"bytes","base64":…}` is a `bin`.
fn to_msgpack(v: &serde_json::Value) -> rmpv::Value {
    use serde_json::Value as J;
    match v {
        J::Null => rmpv::Value::Nil,
        J::Bool(b) => rmpv::Value::Boolean(*b),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => rmpv::Value::from(u),
            (None, Some(i)) => rmpv::Value::from(i),
            _ => rmpv::Value::F64(n.as_f64().unwrap()),
        },
        J::String(s) => rmpv::Value::from(s.as_str()),
        J::Array(a) => rmpv::Value::Array(a.iter().map(to_msgpack).collect()),
        J::Object(o) if o.get("type").and_then(|t| t.as_str()) == Some("bytes") => {
            let bytes = STANDARD.decode(o["base64"].as_str().unwrap()).unwrap();
            assert_eq!(bytes.len() as u64, o["length"].as_u64().unwrap());
            rmpv::Value::Binary(bytes)
        }
        J::Object(o) => rmpv::Value::Map(
            o.iter()
                .map(|(k, v)| (rmpv::Value::from(k.as_str()), to_msgpack(v)))
                .collect(),
        ),
    }
}

/// Nil-valued map entries dropped (the spec makes `nil` and absent the same), map entries
/// sorted by key: the value a decoder sees.
fn normalize(v: rmpv::Value) -> rmpv::Value {
    match v {
        rmpv::Value::Map(m) => {
            let mut m: Vec<_> = m
                .into_iter()
                .filter(|(_, v)| !v.is_nil())
                .map(|(k, v)| (k, normalize(v)))
                .collect();
            m.sort_by_key(|a| a.0.to_string());
            rmpv::Value::Map(m)
        }
        rmpv::Value::Array(a) => rmpv::Value::Array(a.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn bytes_of(v: &rmpv::Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

fn value_of(bytes: &[u8]) -> rmpv::Value {
    rmpv::decode::read_value(&mut &bytes[..]).unwrap()
}

fn fixture(name: &str) -> rmpv::Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    to_msgpack(&serde_json::from_str(&text).unwrap())
}

#[test]
fn every_fixture_decodes_and_re_encodes_to_the_same_value() {
    let names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    for name in names {
        let original = fixture(&name);
        let bytes = bytes_of(&original);
        let again = if name.contains("request") {
            let r = decode_request(&bytes).unwrap();
            encode(&r)
        } else {
            let m: ServerMessage = rmp_serde::from_slice(&bytes).unwrap();
            encode(&m)
        };
        assert_eq!(
            normalize(value_of(&again)),
            normalize(original),
            "{name} changed in a round trip"
        );
    }
}

#[test]
fn the_fixtures_mean_what_they_say() {
    let bytes = bytes_of(&fixture("new_swap_quote_stream_request.json"));
    let r = decode_request(&bytes).unwrap();
    assert_eq!(r.id, 1);
    let RequestData::NewSwapQuoteStream(q) = r.data else {
        panic!()
    };
    let wsol: Pubkey = "So11111111111111111111111111111111111111112"
        .parse()
        .unwrap();
    let usdc: Pubkey = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
        .parse()
        .unwrap();
    assert_eq!(q.swap.input_mint.0, wsol);
    assert_eq!(q.swap.output_mint.0, usdc);
    assert_eq!(q.swap.amount, 1_000_000_000);
    assert_eq!(q.swap.swap_mode, Some(SwapMode::ExactIn));
    assert_eq!(q.swap.slippage_bps, Some(50));
    assert!(
        q.swap
            .dexes
            .as_ref()
            .unwrap()
            .iter()
            .any(|d| d == "HumidiFi")
    );
    assert_eq!(q.update, None);
    assert_eq!(q.transaction.close_input_token_account, None);

    let bytes = bytes_of(&fixture("stream_data_swap_quotes.json"));
    let ServerMessage::StreamData(d) = rmp_serde::from_slice(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!((d.id, d.seq), (0, 0));
    let StreamPayload::SwapQuotes(sq) = d.payload;
    assert_eq!(sq.id, "swap:212046444710911484282953856024573369887:0");
    let keys: Vec<&str> = sq.quotes.keys().map(String::as_str).collect();
    assert_eq!(keys, ["Metis", "Titan"]);
    let metis = &sq.quotes["Metis"];
    assert_eq!(metis.out_amount, 202_133_139);
    assert_eq!(metis.context_slot, Some(373_550_663));
    assert_eq!(metis.compute_units_safe, Some(136_197));
    assert_eq!(metis.instructions.len(), 6);
    // create-ATA-idempotent's data is 01; the steps omit or carry the fee fields.
    assert_eq!(metis.instructions[0].d.0, [1]);
    assert_eq!(metis.steps[0].fee_amount, Some(0));
    assert_eq!(sq.quotes["Titan"].steps[0].fee_mint, None);
    assert_eq!(sq.quotes["Titan"].address_lookup_tables.len(), 2);
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn the_spec_example_bytes_are_produced_exactly() {
    // C→S StopStream and GetInfo.
    let stop = ClientRequest {
        id: 3,
        data: RequestData::StopStream(StopStreamRequest { id: 0 }),
    };
    assert_eq!(
        encode(&stop),
        hex("82 a2 69 64 03 a4 64 61 74 61 81 aa 53 74 6f 70 53 74 72 65 61 6d 81 a2 69 64 00")
    );
    assert_eq!(decode_request(&encode(&stop)).unwrap(), stop);
    let info = ClientRequest {
        id: 1,
        data: RequestData::GetInfo(GetInfoRequest {}),
    };
    assert_eq!(
        encode(&info),
        hex("82 a2 69 64 01 a4 64 61 74 61 81 a7 47 65 74 49 6e 66 6f 80")
    );
    // S→C StreamStopped and StreamEnd, with their nils.
    let stopped = ServerMessage::Response(ResponseMessage {
        request_id: 3,
        data: ResponseData::StreamStopped(StopStreamResponse { id: 0 }),
        stream: None,
    });
    assert_eq!(
        encode(&stopped),
        hex(
            "81 a8 52 65 73 70 6f 6e 73 65 83 a9 72 65 71 75 65 73 74 49 64 03 a4 64 61 74 61 81
             ad 53 74 72 65 61 6d 53 74 6f 70 70 65 64 81 a2 69 64 00 a6 73 74 72 65 61 6d c0"
        )
    );
    let end = ServerMessage::StreamEnd(StreamEnd {
        id: 0,
        error_code: None,
        error_message: None,
    });
    assert_eq!(
        encode(&end),
        hex(
            "81 a9 53 74 72 65 61 6d 45 6e 64 83 a2 69 64 00 a9 65 72 72 6f 72 43 6f 64 65 c0
             ac 65 72 72 6f 72 4d 65 73 73 61 67 65 c0"
        )
    );
    // WSOL as a bin 8 of 32 bytes.
    let wsol = Key("So11111111111111111111111111111111111111112"
        .parse()
        .unwrap());
    assert_eq!(
        encode(&wsol),
        hex(
            "c4 20 06 9b 88 57 fe ab 81 84 fb 68 7f 63 46 18 c0 35 da c4 39 dc 1a eb 3b 55 98 a0
             f0 00 00 00 00 01"
        )
    );
    // Instruction data decodes from an int array too.
    let ix: CompactInstruction = rmp_serde::from_slice(&bytes_of(&rmpv::Value::Map(vec![
        ("p".into(), rmpv::Value::Binary(vec![7; 32])),
        ("a".into(), rmpv::Value::Array(vec![])),
        ("d".into(), rmpv::Value::Array(vec![1.into(), 2.into()])),
    ])))
    .unwrap();
    assert_eq!(ix.d.0, [1, 2]);
}

// ----- properties --------------------------------------------------------------------------

fn key() -> impl Strategy<Value = Key> {
    any::<[u8; 32]>().prop_map(|b| Key(Pubkey::new_from_array(b)))
}

fn names() -> impl Strategy<Value = Option<Vec<String>>> {
    proptest::option::of(proptest::collection::vec("[A-Za-z .]{0,12}", 0..4))
}

fn swap_request() -> impl Strategy<Value = SwapQuoteRequest> {
    (
        (
            key(),
            key(),
            any::<u64>(),
            proptest::option::of(prop_oneof![
                Just(SwapMode::ExactIn),
                Just(SwapMode::ExactOut)
            ]),
            any::<Option<u16>>(),
            names(),
            names(),
            any::<Option<bool>>(),
        ),
        (
            any::<Option<bool>>(),
            any::<Option<u32>>(),
            names(),
            any::<Option<u16>>(),
            any::<Option<u16>>(),
        ),
        (
            key(),
            any::<Option<bool>>(),
            any::<Option<bool>>(),
            proptest::option::of(key()),
            any::<Option<u16>>(),
            any::<Option<bool>>(),
            proptest::option::of(key()),
        ),
        proptest::option::of((any::<Option<u64>>(), any::<Option<u32>>())),
    )
        .prop_map(
            |(
                (im, om, amount, mode, slip, dexes, ex, direct),
                (asc, sc, prov, alt, alw),
                (upk, close, create, fee_acc, fee_bps, fee_in, out_acc),
                update,
            )| {
                SwapQuoteRequest {
                    swap: SwapParams {
                        input_mint: im,
                        output_mint: om,
                        amount,
                        swap_mode: mode,
                        slippage_bps: slip,
                        dexes,
                        exclude_dexes: ex,
                        only_direct_routes: direct,
                        add_size_constraint: asc,
                        size_constraint: sc,
                        providers: prov,
                        accounts_limit_total: alt,
                        accounts_limit_writable: alw,
                    },
                    transaction: TransactionParams {
                        user_public_key: upk,
                        close_input_token_account: close,
                        create_output_token_account: create,
                        fee_account: fee_acc,
                        fee_bps,
                        fee_from_input_mint: fee_in,
                        output_account: out_acc,
                    },
                    update: update.map(|(interval_ms, num_quotes)| QuoteUpdateParams {
                        interval_ms,
                        num_quotes,
                    }),
                }
            },
        )
}

fn request() -> impl Strategy<Value = ClientRequest> {
    let data = prop_oneof![
        Just(RequestData::GetInfo(GetInfoRequest {})),
        swap_request().prop_map(|r| RequestData::NewSwapQuoteStream(Box::new(r))),
        any::<u32>().prop_map(|id| RequestData::StopStream(StopStreamRequest { id })),
        any::<Option<bool>>().prop_map(|b| RequestData::GetVenues(GetVenuesRequest {
            include_program_ids: b
        })),
        any::<Option<bool>>()
            .prop_map(|b| RequestData::ListProviders(ListProvidersRequest { include_icons: b })),
    ];
    (any::<u32>(), data).prop_map(|(id, data)| ClientRequest { id, data })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any request survives encode → compress → decompress → decode under every compression,
    /// and also when its nil optionals are left out (the decoder treats both the same).
    #[test]
    fn requests_round_trip_through_the_codec(r in request()) {
        let bytes = encode(&r);
        for c in Compression::ALL {
            let frame = c.compress(&bytes);
            let back = c.decompress(&frame, 1 << 20).unwrap();
            prop_assert_eq!(&decode_request(&back).unwrap(), &r);
        }
        let sparse = bytes_of(&normalize(value_of(&bytes)));
        prop_assert_eq!(decode_request(&sparse).unwrap(), r);
    }

    /// No byte string panics the decoder; whatever fails is an error that names the request id
    /// only when one could be read.
    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_request(&bytes);
        for c in Compression::ALL {
            let _ = c.decompress(&bytes, 1 << 16);
        }
    }

    /// A request with one byte changed decodes to something or to an error: never a panic.
    #[test]
    fn mutated_requests_never_panic(r in request(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut bytes = encode(&r);
        let i = at.index(bytes.len());
        bytes[i] = b;
        let _ = decode_request(&bytes);
    }
}
