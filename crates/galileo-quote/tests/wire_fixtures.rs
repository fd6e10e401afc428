//! Every captured fixture and every JSON example of the three specs goes through the decoders
//! the clients use; malformed answers become `Decode` errors with a reason, never panics.

use galileo_quote::dflow::{self, DflowQuote};
use galileo_quote::jupiter::{self, SwapMode};
use galileo_quote::ultra::{self, ExecuteStatus};
use galileo_quote::{QuoteError, Quoted};
use serde_json::{Value, json};
use solana_pubkey::Pubkey;
use solana_transaction::versioned::VersionedTransaction;

const SOL: &str = "So11111111111111111111111111111111111111112";
const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn key(s: &str) -> Pubkey {
    s.parse().unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// `v` without its `null` members (what the clients write back).
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn decode_reason(e: QuoteError) -> String {
    match e {
        QuoteError::Decode { reason, .. } => reason,
        other => panic!("expected a Decode error, got {other:?}"),
    }
}

#[test]
fn jupiter_quote_example_reads_and_writes_back_the_same() {
    let raw = json("spec/jupiter_quote_response.json");
    let q = jupiter::decode_quote(&bytes(&raw)).unwrap();
    assert_eq!((q.input_mint, q.output_mint), (key(SOL), key(USDC)));
    assert_eq!(
        (q.in_amount(), q.out_amount(), q.min_out_amount()),
        (1_000_000_000, 165_074_021, 165_074_021)
    );
    assert_eq!(q.swap_mode, SwapMode::ExactIn);
    assert_eq!(q.price_impact_pct.as_str(), "0.000012");
    assert_eq!(q.context_slot(), Some(377_885_100));
    assert_eq!(q.route_plan.len(), 1);
    let step = &q.route_plan[0];
    assert_eq!(
        (step.percent, step.bps, step.swap_info.label.as_deref()),
        (100, Some(10_000), Some("SolFiV2"))
    );
    assert_eq!(
        step.swap_info.amm_key,
        key("FakeAmm111111111111111111111111111111111111")
    );
    // Echoed back: the same JSON, minus the nulls the reference client strips.
    assert_eq!(serde_json::to_value(&q).unwrap(), strip_nulls(&raw));
}

#[test]
fn jupiter_swap_instructions_example_reads_in_flatten_order() {
    let set =
        jupiter::decode_swap_instructions(&fixture("spec/jupiter_swap_instructions_response.json"))
            .unwrap();
    assert_eq!(
        set.compute_budget_instructions[0].data,
        [0x02, 0xc0, 0x5c, 0x15, 0x00]
    );
    assert_eq!(
        set.swap_instruction.program_id,
        key("JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4")
    );
    assert!(set.swap_instruction.accounts[0].is_signer);
    assert!(!set.swap_instruction.accounts[1].is_signer);
    assert!(
        set.cleanup_instructions.is_empty(),
        "cleanupInstruction: null"
    );
    assert_eq!(
        set.address_lookup_table_addresses,
        [key("FakeALT111111111111111111111111111111111111")]
    );
    assert_eq!(set.compute_unit_limit, Some(1_400_000));
    assert_eq!(set.prioritization_fee_lamports, Some(0));
    let bh = set.blockhash.unwrap();
    assert_eq!(bh.last_valid_block_height, 355_956_910);
    assert_eq!(
        bh.blockhash.to_string(),
        "FakeHash11111111111111111111111111111111111"
    );
    let flat = set.flatten();
    assert_eq!(flat.len(), 2);
    assert_eq!(flat[1], set.swap_instruction);
}

#[test]
fn jupiter_cleanup_singular_and_plural_and_every_blockhash_form() {
    let mut v = json("spec/jupiter_swap_instructions_response.json");
    let ix = v["swapInstruction"].clone();
    let mut cleanup = ix.clone();
    cleanup["data"] = json!("AQ==");
    v["cleanupInstruction"] = cleanup.clone();
    let mut plural = ix.clone();
    plural["data"] = json!("Ag==");
    v["cleanupInstructions"] = json!([plural]);
    let mut other = ix;
    other["data"] = json!("Aw==");
    v["otherInstructions"] = json!([other]);
    let set = jupiter::decode_swap_instructions(&bytes(&v)).unwrap();
    let tail: Vec<Vec<u8>> = set.flatten()[2..].iter().map(|i| i.data.clone()).collect();
    assert_eq!(
        tail,
        [vec![3], vec![1], vec![2]],
        "other, then cleanup (singular, plural)"
    );

    // The byte-array blockhash, and the priority of the forms.
    let hash = [7u8; 32];
    let mut v = json("spec/jupiter_swap_instructions_response.json");
    v["blockhashWithMetadata"] = json!({"blockhash": hash, "lastValidBlockHeight": 9});
    let set = jupiter::decode_swap_instructions(&bytes(&v)).unwrap();
    assert_eq!(set.blockhash.unwrap().blockhash.to_bytes(), hash);
    v["blockhashWithExpiryBlockHeight"] =
        json!({"blockhash": vec![8u8; 32], "lastValidBlockHeight": 10});
    let set = jupiter::decode_swap_instructions(&bytes(&v)).unwrap();
    assert_eq!(set.blockhash.unwrap().last_valid_block_height, 10);
    let mut v = json("spec/jupiter_swap_instructions_response.json");
    v.as_object_mut().unwrap().remove("blockhashWithMetadata");
    v["recentBlockhash"] = json!("FakeHash11111111111111111111111111111111111");
    v["lastValidBlockHeight"] = json!(11);
    let set = jupiter::decode_swap_instructions(&bytes(&v)).unwrap();
    assert_eq!(set.blockhash.unwrap().last_valid_block_height, 11);
    v.as_object_mut().unwrap().remove("lastValidBlockHeight");
    let set = jupiter::decode_swap_instructions(&bytes(&v)).unwrap();
    assert_eq!(
        set.blockhash, None,
        "a blockhash without its height is not used"
    );
    // Wrong blockhash lengths.
    for bad in [
        json!([1, 2, 3]),
        json!([0u8; 33].to_vec()),
        json!("short"),
        json!(5),
    ] {
        let mut v = json("spec/jupiter_swap_instructions_response.json");
        v["blockhashWithMetadata"]["blockhash"] = bad.clone();
        let e = jupiter::decode_swap_instructions(&bytes(&v)).unwrap_err();
        assert!(decode_reason(e).contains("blockhash"), "{bad}");
    }
}

#[test]
fn jupiter_instruction_shape_example_is_a_template_the_decoder_refuses() {
    // §3.3 shows the shape with placeholders ("<base58>"): the keys are what the decoder
    // reads and writes; the placeholder values are not keys, and are refused with the reason.
    let shape = json("spec/jupiter_instruction_shape.json");
    let mut v = json("spec/jupiter_swap_instructions_response.json");
    let written = v["swapInstruction"].clone();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&shape), keys(&written));
    assert_eq!(keys(&shape["accounts"][0]), keys(&written["accounts"][0]));
    v["swapInstruction"] = shape;
    let reason = decode_reason(jupiter::decode_swap_instructions(&bytes(&v)).unwrap_err());
    assert!(
        reason.contains("\"<base58>\" is not a base58 public key"),
        "{reason}"
    );
}

#[test]
fn ultra_order_example_reads_and_its_placeholder_transaction_is_refused_clearly() {
    let o = ultra::decode_order(&fixture("spec/ultra_order_response.json")).unwrap();
    assert_eq!((o.input_mint, o.output_mint), (key(SOL), key(USDC)));
    assert_eq!(
        (o.in_amount(), o.out_amount(), o.min_out_amount()),
        (1_000_000_000, 165_070_000, 165_070_000)
    );
    assert_eq!(o.router, "aggregator");
    assert_eq!(o.request_id, "0193f6c1-fake-4e1d-9a8e-000000000001");
    assert_eq!(o.total_time, 212.0);
    assert_eq!(o.route_plan[0].percent, 100.0);
    assert_eq!(o.expire_at.as_deref(), Some("1761298154000"));
    let taker = key("FakeTaker1111111111111111111111111111111111");
    assert_eq!(o.taker, Some(taker));
    // "AQAAAAAAAAAA...base64..." is a placeholder, not base64.
    let e = o.transaction_for(&taker).unwrap_err();
    assert!(
        matches!(&e, QuoteError::NoTransaction { reason, .. } if reason.contains("not base64")),
        "{e:?}"
    );
}

#[test]
fn ultra_execute_example_reads() {
    let x = ultra::decode_execution(&fixture("spec/ultra_execute_response.json")).unwrap();
    assert_eq!(x.status, ExecuteStatus::Success);
    assert!(x.is_success());
    assert_eq!((x.code, x.slot), (200, Some(377_885_119)));
    assert_eq!(x.total_output_amount, Some(165_070_000));
    let ev = &x.swap_events.unwrap()[0];
    assert_eq!(
        (ev.input_mint, ev.input_amount, ev.output_amount),
        (key(SOL), 1_000_000_000, 165_070_000)
    );
    // The request example's placeholders are only keys: see tests/requests.rs.
    let req = json("spec/ultra_execute_request.json");
    assert!(req["signedTransaction"].is_string() && req["requestId"].is_string());
}

#[test]
fn dflow_examples_read() {
    let raw = json("spec/dflow_quote_response.json");
    let q = dflow::decode_quote(&bytes(&raw)).unwrap();
    assert_eq!(q.context_slot, 377_885_100);
    assert_eq!(
        (q.out_amount, q.min_out_amount, q.other_amount_threshold),
        (165_074_021, 165_041_006, 165_041_006)
    );
    assert_eq!(q.route_plan[0].venue, "Tessera V");
    assert_eq!(
        (
            q.route_plan[0].input_mint_decimals,
            q.route_plan[0].output_mint_decimals
        ),
        (9, 6)
    );
    assert_eq!(q.request_id.as_deref(), Some("fake-req-0001"));
    assert_eq!(serde_json::to_value(&q).unwrap(), strip_nulls(&raw));

    let set =
        dflow::decode_swap_instructions(&fixture("spec/dflow_swap_instructions_response.json"))
            .unwrap();
    assert_eq!(set.compute_unit_limit, Some(1_400_000));
    assert_eq!(
        set.blockhash.unwrap().blockhash.to_string(),
        "FakeHash11111111111111111111111111111111111"
    );
    assert_eq!(
        set.swap_instruction.data,
        [1, 2, 3, 4, 5, 6, 7, 8, 2, 0, 0, 0],
        "12 bytes ending in slippage 2, fee 0"
    );
    assert_eq!(set.flatten().len(), 2);
}

#[test]
fn dflow_slippage_is_reapplied_with_floor_arithmetic() {
    let mut q = dflow::decode_quote(&fixture("spec/dflow_quote_response.json")).unwrap();
    q.apply_slippage(50);
    // floor(165074021 × 9950 / 10000) = 164248650.895
    assert_eq!(
        (q.slippage_bps, q.min_out_amount, q.other_amount_threshold),
        (50, 164_248_650, 164_248_650)
    );
    q.out_amount = u64::MAX;
    q.apply_slippage(1);
    assert_eq!(
        q.min_out_amount,
        u64::MAX / 10_000 * 9_999 + (u64::MAX % 10_000) * 9_999 / 10_000
    );
    q.apply_slippage(10_000);
    assert_eq!(q.min_out_amount, 0);
}

#[test]
fn the_captured_open_transaction_answer_reads_as_what_it_is() {
    let raw = fixture("dflow/quote_response_with_open_transaction.json");
    let open = dflow::decode_open_quote(&raw).unwrap();
    assert_eq!(
        (open.in_amount, open.out_amount, open.other_amount_threshold),
        (1_000_000_000, 165_074_021, 165_074_021)
    );
    assert_eq!(
        (open.fee_budget, open.last_valid_block_height),
        (Some(110_000), 355_956_910)
    );
    assert_eq!(open.expiry.unwrap().slots_after_open, 0);
    // The transaction is real Solana wire bytes.
    let tx: VersionedTransaction = bincode::deserialize(&open.open_transaction).unwrap();
    assert_eq!(tx.signatures.len(), 1);
    assert!(!tx.message.instructions().is_empty());
    // It has no routePlan and no contextSlot, which a /quote answer must have.
    let reason = decode_reason(dflow::decode_quote(&raw).unwrap_err());
    assert!(
        reason.contains("contextSlot") || reason.contains("routePlan"),
        "{reason}"
    );
}

/// Each required member of `name`, removed in turn, makes `decoder` fail with a reason that
/// names it.
fn each_required_member_is_enforced<T: std::fmt::Debug>(
    name: &str,
    pointer: &str,
    required: &[&str],
    decoder: fn(&[u8]) -> Result<T, QuoteError>,
) {
    for member in required {
        let mut v = json(name);
        let obj = v.pointer_mut(pointer).unwrap().as_object_mut().unwrap();
        assert!(obj.remove(*member).is_some(), "{name}: no {member}");
        let reason = decode_reason(decoder(&bytes(&v)).unwrap_err());
        assert!(reason.contains(member), "{name} without {member}: {reason}");
    }
}

#[test]
fn required_members_are_enforced() {
    each_required_member_is_enforced(
        "spec/jupiter_quote_response.json",
        "",
        &[
            "inputMint",
            "inAmount",
            "outputMint",
            "outAmount",
            "otherAmountThreshold",
            "swapMode",
            "slippageBps",
            "priceImpactPct",
            "routePlan",
        ],
        jupiter::decode_quote,
    );
    each_required_member_is_enforced(
        "spec/jupiter_quote_response.json",
        "/routePlan/0/swapInfo",
        &[
            "ammKey",
            "inputMint",
            "outputMint",
            "inAmount",
            "outAmount",
            "feeAmount",
            "feeMint",
        ],
        jupiter::decode_quote,
    );
    each_required_member_is_enforced(
        "spec/jupiter_swap_instructions_response.json",
        "",
        &[
            "computeBudgetInstructions",
            "setupInstructions",
            "swapInstruction",
            "otherInstructions",
            "addressLookupTableAddresses",
        ],
        jupiter::decode_swap_instructions,
    );
    each_required_member_is_enforced(
        "spec/jupiter_swap_instructions_response.json",
        "/swapInstruction",
        &["programId", "accounts", "data"],
        jupiter::decode_swap_instructions,
    );
    each_required_member_is_enforced(
        "spec/jupiter_swap_instructions_response.json",
        "/swapInstruction/accounts/0",
        &["pubkey", "isSigner", "isWritable"],
        jupiter::decode_swap_instructions,
    );
    each_required_member_is_enforced(
        "spec/dflow_quote_response.json",
        "",
        &[
            "contextSlot",
            "inAmount",
            "inputMint",
            "minOutAmount",
            "otherAmountThreshold",
            "outAmount",
            "outputMint",
            "priceImpactPct",
            "routePlan",
            "slippageBps",
        ],
        dflow::decode_quote,
    );
    each_required_member_is_enforced(
        "spec/dflow_quote_response.json",
        "/routePlan/0",
        &[
            "inAmount",
            "inputMint",
            "inputMintDecimals",
            "marketKey",
            "outAmount",
            "outputMint",
            "outputMintDecimals",
            "venue",
        ],
        dflow::decode_quote,
    );
    each_required_member_is_enforced(
        "spec/dflow_swap_instructions_response.json",
        "",
        &[
            "swapInstruction",
            "blockhashWithMetadata",
            "computeUnitLimit",
        ],
        dflow::decode_swap_instructions,
    );
    each_required_member_is_enforced(
        "spec/ultra_order_response.json",
        "",
        &[
            "mode",
            "inputMint",
            "outputMint",
            "inAmount",
            "outAmount",
            "otherAmountThreshold",
            "swapMode",
            "slippageBps",
            "routePlan",
            "feeBps",
            "signatureFeeLamports",
            "prioritizationFeeLamports",
            "rentFeeLamports",
            "router",
            "gasless",
            "requestId",
            "totalTime",
        ],
        ultra::decode_order,
    );
    each_required_member_is_enforced(
        "spec/ultra_execute_response.json",
        "",
        &["status", "code"],
        ultra::decode_execution,
    );
}

/// A decoder, answering its error if any.
type Decoder = fn(&[u8]) -> Option<QuoteError>;

#[test]
fn malformed_answers_are_decode_errors_with_a_reason() {
    type Case = (&'static str, &'static str, Value, &'static str);
    let cases: Vec<Case> = vec![
        ("jq", "/inAmount", json!(1_000_000_000), "string of digits"),
        ("jq", "/inAmount", json!("1e9"), "string of digits"),
        ("jq", "/inAmount", json!("-1"), "string of digits"),
        ("jq", "/inAmount", json!(" 1"), "string of digits"),
        ("jq", "/inAmount", json!("1.5"), "string of digits"),
        ("jq", "/inAmount", json!(""), "empty string"),
        ("jq", "/outAmount", json!("abc"), "string of digits"),
        ("jq", "/outAmount", json!("18446744073709551616"), "64 bits"),
        ("jq", "/priceImpactPct", json!("1.2e-5"), "no exponent"),
        ("jq", "/priceImpactPct", json!(0.0012), "plain decimal"),
        ("jq", "/slippageBps", json!("50"), "invalid type"),
        ("jq", "/slippageBps", json!(70_000), "invalid value"),
        ("jq", "/swapMode", json!("Sideways"), "unknown variant"),
        ("jq", "/routePlan", json!({}), "invalid type"),
        ("jq", "/inputMint", json!("not-a-key"), "base58 public key"),
        ("jq", "/routePlan/0/percent", json!(101.5), "invalid type"),
        (
            "ji",
            "/swapInstruction/data",
            json!("not base64!"),
            "base64",
        ),
        ("ji", "/swapInstruction/data", json!("AQ"), "base64"),
        (
            "ji",
            "/swapInstruction/accounts/0/isSigner",
            json!("yes"),
            "invalid type",
        ),
        (
            "ji",
            "/addressLookupTableAddresses",
            json!(["x"]),
            "base58 public key",
        ),
        ("ji", "/computeUnitLimit", json!(-1), "invalid value"),
        ("dq", "/contextSlot", json!("377885100"), "invalid type"),
        ("dq", "/priceImpactPct", json!("1E2"), "no exponent"),
        (
            "dq",
            "/routePlan/0/inputMintDecimals",
            json!(300),
            "invalid value",
        ),
        ("dq", "/minOutAmount", json!(null), "invalid type"),
        (
            "di",
            "/blockhashWithMetadata/blockhash",
            json!("zz"),
            "blockhash",
        ),
        ("di", "/computeUnitLimit", json!(null), "invalid type"),
        ("uo", "/inAmount", json!("0"), "amount is 0"),
        ("uo", "/outAmount", json!("0"), "amount is 0"),
        ("uo", "/otherAmountThreshold", json!("0"), "amount is 0"),
        (
            "uo",
            "/routePlan/0/swapInfo/feeMint",
            json!("nope"),
            "base58 public key",
        ),
        ("uo", "/gasless", json!("false"), "invalid type"),
        ("ux", "/status", json!("Maybe"), "unknown variant"),
        ("ux", "/slot", json!(377_885_119), "string of digits"),
    ];
    for (which, pointer, value, expect) in cases {
        let (name, decode): (&str, Decoder) = match which {
            "jq" => ("spec/jupiter_quote_response.json", |b| {
                jupiter::decode_quote(b).err()
            }),
            "ji" => ("spec/jupiter_swap_instructions_response.json", |b| {
                jupiter::decode_swap_instructions(b).err()
            }),
            "dq" => ("spec/dflow_quote_response.json", |b| {
                dflow::decode_quote(b).err()
            }),
            "di" => ("spec/dflow_swap_instructions_response.json", |b| {
                dflow::decode_swap_instructions(b).err()
            }),
            "uo" => ("spec/ultra_order_response.json", |b| {
                ultra::decode_order(b).err()
            }),
            _ => ("spec/ultra_execute_response.json", |b| {
                ultra::decode_execution(b).err()
            }),
        };
        let mut v = json(name);
        *v.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{name}{pointer}")) = value.clone();
        let e = decode(&bytes(&v)).expect("a Decode error");
        assert!(!e.is_no_route() && !e.is_rate_limited());
        let text = e.to_string();
        let reason = decode_reason(e);
        assert!(
            reason.contains(expect),
            "{name}{pointer} = {value}: {reason}"
        );
        assert!(text.contains("cannot be read"), "{text}");
    }
}

#[test]
fn truncated_and_non_json_bodies_are_decode_errors() {
    let names = [
        "spec/jupiter_quote_response.json",
        "spec/jupiter_swap_instructions_response.json",
        "spec/dflow_quote_response.json",
        "spec/dflow_swap_instructions_response.json",
        "spec/ultra_order_response.json",
        "spec/ultra_execute_response.json",
        "dflow/quote_response_with_open_transaction.json",
    ];
    for name in names {
        let full = fixture(name);
        for cut in [0, 1, full.len() / 3, full.len() / 2, full.len() - 2] {
            let part = &full[..cut];
            let results = [
                jupiter::decode_quote(part).map(drop),
                jupiter::decode_swap_instructions(part).map(drop),
                jupiter::decode_swap(part).map(drop),
                dflow::decode_quote(part).map(drop),
                dflow::decode_open_quote(part).map(drop),
                dflow::decode_swap_instructions(part).map(drop),
                ultra::decode_order(part).map(drop),
                ultra::decode_execution(part).map(drop),
            ];
            for r in results {
                let reason = decode_reason(r.unwrap_err());
                assert!(
                    reason.contains("EOF") || reason.contains("line"),
                    "{name}[..{cut}]: {reason}"
                );
            }
        }
    }
    for body in [
        &b"<html>502 Bad Gateway</html>"[..],
        b"null",
        b"[]",
        b"\"quote\"",
        b"{}",
    ] {
        assert!(matches!(
            jupiter::decode_quote(body),
            Err(QuoteError::Decode { .. })
        ));
        assert!(matches!(
            ultra::decode_order(body),
            Err(QuoteError::Decode { .. })
        ));
    }
}

#[test]
fn unknown_keys_and_legacy_market_infos_are_tolerated() {
    let mut v = json("spec/jupiter_quote_response.json");
    v["marketInfos"] = json!([{"id": "legacy", "anything": [1, 2]}]);
    v["mostReliableAmmsQuoteReport"] = json!({"info": {}});
    v["routePlan"][0]["swapInfo"]["newField"] = json!(true);
    let q = jupiter::decode_quote(&bytes(&v)).unwrap();
    let back = serde_json::to_value(&q).unwrap();
    assert!(back.get("marketInfos").is_none() && back.get("mostReliableAmmsQuoteReport").is_none());

    let mut v = json("spec/dflow_swap_instructions_response.json");
    v["prioritizationType"] =
        json!({"computeBudget": {"microLamports": 5, "estimatedMicroLamports": null}});
    v["somethingNew"] = json!(1);
    for list in [
        "setupInstructions",
        "cleanupInstructions",
        "otherInstructions",
        "addressLookupTableAddresses",
    ] {
        v[list] = Value::Null;
    }
    let set = dflow::decode_swap_instructions(&bytes(&v)).unwrap();
    assert!(set.setup_instructions.is_empty() && set.address_lookup_table_addresses.is_empty());

    let mut v = json("spec/ultra_order_response.json");
    v["newRouterField"] = json!("x");
    v["transaction"] = Value::Null;
    v["taker"] = Value::Null;
    let o = ultra::decode_order(&bytes(&v)).unwrap();
    let e = o.transaction_for(&key(SOL)).unwrap_err();
    assert!(e.to_string().contains("set ultra.taker"), "{e}");
}

#[test]
fn a_merged_circular_quote_is_the_spec_shape() {
    let buy = jupiter::decode_quote(&fixture("spec/jupiter_quote_response.json")).unwrap();
    let mut sell = buy.clone();
    std::mem::swap(&mut sell.input_mint, &mut sell.output_mint);
    sell.in_amount = buy.out_amount;
    sell.out_amount = 1_000_300_000;
    sell.context_slot = Some(377_885_105);
    sell.time_taken = Some(0.0042);
    sell.route_plan[0].swap_info.label = Some("HumidiFi".into());
    let merged = jupiter::merge_round_trip(&buy, &sell, 1_000_010_000);
    assert_eq!(
        (merged.input_mint, merged.output_mint),
        (key(SOL), key(SOL))
    );
    assert_eq!(merged.in_amount, 1_000_000_000);
    assert_eq!(
        (merged.out_amount, merged.other_amount_threshold),
        (1_000_010_000, 1_000_010_000)
    );
    assert_eq!(merged.price_impact_pct.as_str(), "0");
    assert_eq!(merged.context_slot, Some(377_885_105));
    assert_eq!(merged.time_taken, Some(0.0042));
    let labels: Vec<_> = merged
        .route_plan
        .iter()
        .map(|s| s.swap_info.label.clone().unwrap())
        .collect();
    assert_eq!(labels, ["SolFiV2", "HumidiFi"]);
    // It survives its own decoder (what the simulator will read).
    let again = jupiter::decode_quote(&serde_json::to_vec(&merged).unwrap()).unwrap();
    assert_eq!(again, merged);

    let dbuy: DflowQuote = dflow::decode_quote(&fixture("spec/dflow_quote_response.json")).unwrap();
    let mut dsell = dbuy.clone();
    std::mem::swap(&mut dsell.input_mint, &mut dsell.output_mint);
    dsell.context_slot = 1;
    let m = dflow::merge_round_trip(&dbuy, &dsell, 1_000_000_001);
    assert_eq!((m.input_mint, m.output_mint), (key(SOL), key(SOL)));
    assert_eq!(
        (m.out_amount, m.min_out_amount, m.other_amount_threshold),
        (1_000_000_001, 1_000_000_001, 1_000_000_001)
    );
    assert_eq!((m.context_slot, m.route_plan.len()), (377_885_100, 2));
    assert_eq!(m.price_impact_pct.as_str(), "0");
    assert_eq!(
        dflow::decode_quote(&serde_json::to_vec(&m).unwrap()).unwrap(),
        m
    );
}
