//! The DFlow simulator's endpoints against `spec/dflow.md`, called directly: field types,
//! quotes equal to the market's best at the request's arrival, the fixture and the spec's
//! examples through the wire types, `{code, msg}` errors, `401` without an accepted key, the
//! `failed_to_compute_swap` switch, merged circular quotes, instructions equal to what the
//! ledger built with the trailing slippage/fee bytes, and priority-fee options.
#![allow(clippy::unwrap_used)]

mod aggr_support;

use std::time::Duration;

use aggr_support::*;
use galileo_sim::Service;
use galileo_sim::aggregators::dflow::wire::{QuoteResponse, SwapInstructionsResponse};
use galileo_sim::aggregators::{ApiKeys, DflowConfig, DflowService, LedgerError};
use galileo_sim::market::SharedMarket;
use http::StatusCode;
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use solana_pubkey::Pubkey;
use tokio::time::Instant;

fn dflow(cfg: DflowConfig) -> (DflowService<FakeLedger>, SharedMarket, FakeLedger, Instant) {
    let (market, ledger, epoch) = world();
    let svc = DflowService::new(cfg, market.clone(), ledger.clone()).unwrap();
    (svc, market, ledger, epoch)
}

/// The query the reference client sends (spec §3.1), plus `extra`.
fn quote_path(input: &str, output: &str, amount: u64, extra: &str) -> String {
    format!(
        "/quote?inputMint={input}&outputMint={output}&amount={amount}&slippageBps=2&excludeDexes=DFlow+JIT+Router&maxRouteLength=3{extra}"
    )
}

async fn quote(
    svc: &DflowService<FakeLedger>,
    input: &str,
    output: &str,
    amount: u64,
    at: Instant,
) -> Value {
    let (s, v) = call(
        svc,
        get(&quote_path(input, output, amount, "")),
        ctx("127.0.0.2", at, 0),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Every field §3.2 calls required, with its JSON type; returns the quote typed too.
fn check_quote_shape(v: &Value) -> QuoteResponse {
    for k in [
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
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    int(v, "contextSlot");
    key(v, "inputMint");
    key(v, "outputMint");
    for a in [
        "inAmount",
        "minOutAmount",
        "otherAmountThreshold",
        "outAmount",
    ] {
        amount(v, a);
    }
    assert_eq!(v["minOutAmount"], v["otherAmountThreshold"]);
    assert!(plain_decimal(v["priceImpactPct"].as_str().unwrap()), "{v}");
    assert!(int(v, "slippageBps") <= 10_000);
    // The optional ones, when present, have their types.
    assert!(v["outTransferFee"].is_null() || v["outTransferFee"].is_string());
    assert!(v["platformFee"].is_null() || v["platformFee"].is_object());
    assert!(v["requestId"].is_string());
    assert!(v["simulatedComputeUnits"].is_null() || v["simulatedComputeUnits"].is_u64());
    let legs = v["routePlan"].as_array().unwrap();
    assert!(!legs.is_empty());
    for leg in legs {
        for k in [
            "inAmount",
            "inputMint",
            "inputMintDecimals",
            "marketKey",
            "outAmount",
            "outputMint",
            "outputMintDecimals",
            "venue",
        ] {
            assert!(leg.get(k).is_some(), "{k} missing: {leg}");
        }
        amount(leg, "inAmount");
        amount(leg, "outAmount");
        key(leg, "inputMint");
        key(leg, "outputMint");
        key(leg, "marketKey");
        assert!(int(leg, "inputMintDecimals") <= 255);
        assert!(int(leg, "outputMintDecimals") <= 255);
        assert!(leg["venue"].is_string());
        assert!(leg.get("data").is_none_or(Value::is_string));
    }
    serde_json::from_value(v.clone()).unwrap()
}

/// Every field §4.2 calls required, with its JSON type; returns the answer typed too.
fn check_swap_shape(v: &Value) -> SwapInstructionsResponse {
    for k in [
        "swapInstruction",
        "blockhashWithMetadata",
        "computeUnitLimit",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    let bh = &v["blockhashWithMetadata"];
    assert_eq!(keys(bh), ["blockhash", "lastValidBlockHeight"]);
    let hash = bs58::decode(bh["blockhash"].as_str().unwrap())
        .into_vec()
        .unwrap();
    assert_eq!(hash.len(), 32);
    int(bh, "lastValidBlockHeight");
    assert!(int(v, "computeUnitLimit") <= u64::from(u32::MAX));
    instruction(&v["swapInstruction"]);
    for list in [
        "computeBudgetInstructions",
        "setupInstructions",
        "cleanupInstructions",
        "otherInstructions",
    ] {
        v[list].as_array().unwrap().iter().for_each(|i| {
            instruction(i);
        });
    }
    assert!(v.get("cleanupInstruction").is_none(), "plural only: {v}");
    for a in v["addressLookupTableAddresses"].as_array().unwrap() {
        a.as_str().unwrap().parse::<Pubkey>().unwrap();
    }
    int(v, "prioritizationFeeLamports");
    serde_json::from_value(v.clone()).unwrap()
}

fn fixture() -> Value {
    let path = format!("{FIXTURES}/dflow/quote_response_with_open_transaction.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn quotes_have_the_spec_types_and_the_markets_best_price() {
    let (svc, market, ledger, epoch) = dflow(DflowConfig::default());
    let at = epoch + Duration::from_millis(2_345);
    let (s, v) = call(
        &svc,
        get(&quote_path(
            WSOL,
            USDC,
            1_000_000_000,
            "&unknownParam=1&onlyDirectRoutes=false",
        )),
        ctx("127.0.0.2", at, 7),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let q = check_quote_shape(&v);
    let (best, venue) = {
        let m = market.read();
        let best = m
            .best_quote(
                m.mint(WSOL).unwrap(),
                m.mint(USDC).unwrap(),
                1_000_000_000,
                at,
                |_, _| true,
            )
            .unwrap();
        let venue = m.venue_info(best.venue).name().to_owned();
        (best, venue)
    };
    assert_eq!(q.in_amount, 1_000_000_000);
    assert_eq!(q.out_amount, best.out_amount);
    let floor = best.out_amount * (10_000 - 2) / 10_000;
    assert_eq!((q.other_amount_threshold, q.min_out_amount), (floor, floor));
    assert_eq!(q.slippage_bps, 2);
    assert_eq!(q.price_impact_pct, best.price_impact_decimal());
    assert_eq!(q.context_slot, Some(ledger.slot_at(at)));
    let legs = q.route_plan.unwrap();
    assert_eq!(legs.len(), 1);
    let leg = &legs[0];
    assert_eq!(leg.venue, venue);
    assert_eq!(leg.market_key, best.pool.to_string());
    assert_eq!(
        (leg.in_amount, leg.out_amount),
        (1_000_000_000, best.out_amount)
    );
    assert_eq!(
        (leg.input_mint.as_str(), leg.output_mint.as_str()),
        (WSOL, USDC)
    );
    assert_eq!((leg.input_mint_decimals, leg.output_mint_decimals), (9, 6));
    // The journal saw it.
    let served = svc.knobs().quotes();
    assert_eq!(served.len(), 1);
    assert_eq!(
        (
            served[0].received,
            served[0].out_amount,
            served[0].request,
            served[0].peer.to_string()
        ),
        (at, best.out_amount, 7, "127.0.0.2".to_owned())
    );

    // `auto` or no slippage: the configured default; venue filters as the market's.
    for extra in ["&slippageBps=auto", ""] {
        let path = format!("/quote?inputMint={WSOL}&outputMint={USDC}&amount=1000000{extra}");
        let (_, v) = call(&svc, get(&path), ctx("127.0.0.2", at, 8)).await;
        assert_eq!(v["slippageBps"], 50, "{extra}: {v}");
        assert_eq!(
            amount(&v, "otherAmountThreshold"),
            amount(&v, "outAmount") * 9_950 / 10_000
        );
    }
    let (_, v) = call(
        &svc,
        get(&quote_path(WSOL, USDC, 1_000_000, "&dexes=Meteora+DLMM")),
        ctx("127.0.0.2", at, 9),
    )
    .await;
    assert_eq!(v["routePlan"][0]["venue"], "Meteora DLMM");
    let only = {
        let m = market.read();
        m.quote(
            m.venue("Meteora DLMM").unwrap(),
            m.mint(WSOL).unwrap(),
            m.mint(USDC).unwrap(),
            1_000_000,
            at,
        )
        .unwrap()
    };
    assert_eq!(amount(&v, "outAmount"), only.out_amount);
    // (A repeated key keeps its first value, so the client's excludeDexes is left out here.)
    let path = format!(
        "/quote?inputMint={WSOL}&outputMint={USDC}&amount=1000000000&excludeDexes={}",
        venue.replace(' ', "+")
    );
    let (_, v) = call(&svc, get(&path), ctx("127.0.0.2", at, 10)).await;
    let expect = {
        let m = market.read();
        m.best_quote(
            m.mint(WSOL).unwrap(),
            m.mint(USDC).unwrap(),
            1_000_000_000,
            at,
            |_, v| v.name() != venue,
        )
        .unwrap()
    };
    assert_eq!(amount(&v, "outAmount"), expect.out_amount);
    assert_ne!(v["routePlan"][0]["venue"], venue.as_str());
}

#[test]
fn the_fixture_and_the_spec_examples_go_through_the_wire_types() {
    // The captured open-transaction quote reads into the quote type and writes back the same.
    let raw = fixture();
    let q: QuoteResponse = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&q).unwrap(), raw);
    assert_eq!(q.out_amount, 165_074_021);
    assert_eq!(q.fee_budget, Some(110_000));
    assert!(q.open_transaction.is_some());
    assert!(q.route_plan.is_none() && q.context_slot.is_none());

    // The spec's examples (§3.2, §4.2).
    let spec = std::fs::read_to_string(format!("{FIXTURES}/spec/dflow.md")).unwrap();
    let blocks: Vec<&str> = spec
        .split("```json\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2);
    let example_quote: Value = serde_json::from_str(blocks[0]).unwrap();
    let typed: QuoteResponse = serde_json::from_value(example_quote.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), example_quote);
    let example_swap: Value = serde_json::from_str(blocks[1]).unwrap();
    let typed: SwapInstructionsResponse = serde_json::from_value(example_swap.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), example_swap);
    // "AQIDBAUGBwgCAAAA": 12 bytes ending in slippage 2, fee 0.
    let data = instruction_data(&example_swap["swapInstruction"]);
    assert_eq!(data.len(), 12);
    assert_eq!(&data[8..], [2, 0, 0, 0]);
}

fn instruction_data(v: &Value) -> Vec<u8> {
    instruction(v).data
}

#[tokio::test]
async fn swap_instructions_are_what_the_ledger_built() {
    let (svc, _, ledger, epoch) = dflow(DflowConfig::default());
    let at = epoch + Duration::from_secs(2);
    let q = quote(&svc, WSOL, USDC, 1_000_000_000, at).await;
    let user = Pubkey::new_unique();
    // As the reference client sends it: slippage overwritten locally, unknown keys kept.
    let mut echoed = q.clone();
    echoed["slippageBps"] = json!(3);
    echoed["somethingNew"] = json!({"x": 1});
    let body = json!({
        "quoteResponse": echoed,
        "userPublicKey": user.to_string(),
        "wrapAndUnwrapSol": true,
        "dynamicComputeUnitLimit": true,
        "computeUnitPriceMicroLamports": 1_000,
        "unknownField": [1, 2],
    });
    let later = at + Duration::from_millis(900);
    let (s, v) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.3", later, 11),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let typed = check_swap_shape(&v);

    {
        let state = ledger.state();
        assert_eq!(state.calls.len(), 1);
        let (asked_user, leg) = &state.calls[0];
        assert_eq!(*asked_user, user);
        assert_eq!(leg.venue, q["routePlan"][0]["venue"].as_str().unwrap());
        assert_eq!(
            leg.pool.to_string(),
            q["routePlan"][0]["marketKey"].as_str().unwrap()
        );
        assert_eq!(
            (leg.in_amount, leg.out_amount),
            (1_000_000_000, amount(&q, "outAmount"))
        );
        // The ledger's create-ATA is the setup; its swap is swapInstruction with the quote's
        // slippage (3, as echoed) and no platform fee in the last four bytes.
        let built = &state.built[0];
        let setup: Vec<_> = v["setupInstructions"]
            .as_array()
            .unwrap()
            .iter()
            .map(instruction)
            .collect();
        assert_eq!(setup, [built[0].clone()]);
        let swap = instruction(&v["swapInstruction"]);
        assert_eq!(swap, patched(built[1].clone(), 3, 0));
        assert!(swap.data.len() >= 12);
        assert_eq!(&swap.data[swap.data.len() - 4..], [3, 0, 0, 0]);
        assert!(swap.accounts[0].is_signer && swap.accounts[0].pubkey == user);
        assert!(v["otherInstructions"].as_array().unwrap().is_empty());
        assert!(v["cleanupInstructions"].as_array().unwrap().is_empty());

        // Budget: dynamic limit of 60k per instruction (setup + swap), the exact price asked.
        assert_eq!(typed.compute_unit_limit, 120_000);
        let budget: Vec<_> = v["computeBudgetInstructions"]
            .as_array()
            .unwrap()
            .iter()
            .map(instruction)
            .collect();
        assert_eq!(budget, [cu_limit(120_000), cu_price(1_000)]);
        assert_eq!(v["prioritizationFeeLamports"], 120);
        assert_eq!(
            v["prioritizationType"],
            json!({"computeBudget": {"microLamports": 1_000, "estimatedMicroLamports": null}})
        );
        // The blockhash is the ledger's at the request's arrival; the lookup table its.
        let slot = ledger.slot_at(later);
        assert_eq!(
            v["blockhashWithMetadata"],
            json!({"blockhash": FakeLedger::hash_of(slot).to_string(), "lastValidBlockHeight": slot + WINDOW})
        );
        assert_eq!(
            v["addressLookupTableAddresses"],
            json!([ledger.table.key.to_string()])
        );
    }

    let served = svc.knobs().instructions();
    assert_eq!(served.len(), 1);
    assert_eq!(
        (
            served[0].user,
            served[0].compute_unit_limit,
            served[0].transaction
        ),
        (user, 120_000, false)
    );

    // Without a dynamic limit the configured one is set, and a platform fee in the echoed
    // quote lands in the last two bytes; computeUnitLimit is still there.
    let mut with_fee = q.clone();
    with_fee["platformFee"] = json!({
        "amount": "10", "feeAccount": Pubkey::new_unique().to_string(), "feeBps": 7,
        "segmenterFeeAmount": "0", "segmenterFeePct": 0
    });
    let (s, v) = call(
        &svc,
        post(
            "/swap-instructions",
            &json!({"quoteResponse": with_fee, "userPublicKey": user.to_string()}),
        ),
        ctx("127.0.0.3", later, 12),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    check_swap_shape(&v);
    assert_eq!(v["computeUnitLimit"], 1_400_000);
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][0]),
        cu_limit(1_400_000)
    );
    assert_eq!(v["computeBudgetInstructions"].as_array().unwrap().len(), 1);
    assert_eq!(v["prioritizationType"], Value::Null);
    assert_eq!(v["prioritizationFeeLamports"], 0);
    let data = instruction_data(&v["swapInstruction"]);
    assert_eq!(&data[data.len() - 4..], [2, 0, 7, 0]);
}

/// The merged circular quote the blind strategy echoes (spec §4.1, strategy-semantics).
fn merge(forward: &Value, reverse: &Value, tip: u64) -> Value {
    let size = amount(forward, "inAmount");
    let mut plan = forward["routePlan"].as_array().unwrap().clone();
    plan.extend(reverse["routePlan"].as_array().unwrap().iter().cloned());
    let mut m = forward.clone();
    m["outputMint"] = forward["inputMint"].clone();
    for k in ["outAmount", "otherAmountThreshold", "minOutAmount"] {
        m[k] = json!((size + tip).to_string());
    }
    m["priceImpactPct"] = json!("0");
    m["routePlan"] = json!(plan);
    m["contextSlot"] = json!(
        forward["contextSlot"]
            .as_u64()
            .max(reverse["contextSlot"].as_u64())
    );
    m
}

#[tokio::test]
async fn a_merged_circular_quote_becomes_one_ledger_swap_per_leg_in_order() {
    let (svc, _, ledger, epoch) = dflow(DflowConfig::default());
    let at = epoch + Duration::from_secs(1);
    let fwd = quote(&svc, WSOL, USDC, 1_000_000_000, at).await;
    let rev = quote(
        &svc,
        USDC,
        WSOL,
        amount(&fwd, "outAmount"),
        at + Duration::from_millis(500),
    )
    .await;
    let merged = merge(&fwd, &rev, 5_000);
    assert_eq!(merged["inputMint"], merged["outputMint"]);
    // The totals disagree with the legs: never checked.
    assert_ne!(amount(&merged, "outAmount"), amount(&rev, "outAmount"));
    let user = Pubkey::new_unique();
    let body = json!({"quoteResponse": merged, "userPublicKey": user.to_string(),
        "wrapAndUnwrapSol": true, "dynamicComputeUnitLimit": true});
    let (s, v) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.4", at, 1),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    check_swap_shape(&v);
    let state = ledger.state();
    let legs: Vec<_> = state
        .calls
        .iter()
        .map(|(_, l)| {
            (
                l.input_mint.to_string(),
                l.output_mint.to_string(),
                l.in_amount,
                l.out_amount,
                l.pool.to_string(),
            )
        })
        .collect();
    let pool = |q: &Value| q["routePlan"][0]["marketKey"].as_str().unwrap().to_owned();
    assert_eq!(
        legs,
        [
            (
                WSOL.to_owned(),
                USDC.to_owned(),
                1_000_000_000,
                amount(&fwd, "outAmount"),
                pool(&fwd)
            ),
            (
                USDC.to_owned(),
                WSOL.to_owned(),
                amount(&fwd, "outAmount"),
                amount(&rev, "outAmount"),
                pool(&rev)
            ),
        ]
    );
    // Flattened in the client's order (budget, setup, swap, other, cleanup) the swaps come
    // in route order; each carries the slippage bytes.
    assert_eq!(
        instruction(&v["swapInstruction"]),
        patched(state.built[0].last().unwrap().clone(), 2, 0)
    );
    let other: Vec<_> = v["otherInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(
        other,
        [patched(state.built[1].last().unwrap().clone(), 2, 0)]
    );
    // Both output accounts may be missing: two idempotent creations, in leg order.
    let setup: Vec<_> = v["setupInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(
        setup,
        [state.built[0][0].clone(), state.built[1][0].clone()]
    );
    assert_eq!(v["computeUnitLimit"], 4 * 60_000);
}

#[tokio::test]
async fn bad_requests_get_400_in_dflows_error_shape() {
    let (svc, market, ledger, epoch) = dflow(DflowConfig::default());
    let max = {
        let m = market.read();
        let sol = m.mint(WSOL).unwrap();
        m.venue_ids()
            .map(|v| m.max_in_amount(v, sol, epoch))
            .max()
            .unwrap()
    };
    let unknown = Pubkey::new_unique().to_string();
    let base = format!("/quote?inputMint={WSOL}&outputMint={USDC}");
    let cases: Vec<(String, StatusCode, &str, String)> = vec![
        (
            format!("/quote?outputMint={USDC}&amount=1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "inputMint".into(),
        ),
        (
            format!("/quote?inputMint={WSOL}&amount=1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "outputMint".into(),
        ),
        (
            format!("/quote?inputMint=nope&outputMint={USDC}&amount=1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "inputMint".into(),
        ),
        (
            base.clone(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount".into(),
        ),
        (
            format!("{base}&amount=-5"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount".into(),
        ),
        (
            format!("{base}&amount=1.5"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount".into(),
        ),
        (
            format!("{base}&amount=0"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "greater than 0".into(),
        ),
        (
            format!("{base}&amount=1&slippageBps=10001"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "slippageBps".into(),
        ),
        (
            format!("{base}&amount=1&slippageBps=abc"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "slippageBps".into(),
        ),
        (
            format!("{base}&amount=1&platformFeeBps=x"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "platformFeeBps".into(),
        ),
        (
            format!("{base}&amount=1&platformFeeMode=both"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "platformFeeMode".into(),
        ),
        (
            format!("{base}&amount=1&onlyDirectRoutes=yes"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "onlyDirectRoutes".into(),
        ),
        (
            format!("{base}&amount=1&sponsoredSwap=1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "sponsoredSwap".into(),
        ),
        (
            format!("{base}&amount=1&maxRouteLength=-1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "maxRouteLength".into(),
        ),
        (
            format!("/quote?inputMint={unknown}&outputMint={USDC}&amount=1"),
            StatusCode::BAD_REQUEST,
            "token_not_supported",
            unknown.clone(),
        ),
        (
            format!("/quote?inputMint={WSOL}&outputMint={WSOL}&amount=1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "differ".into(),
        ),
        (
            format!("{base}&amount={}", max + 1),
            StatusCode::BAD_REQUEST,
            "route_not_found",
            format!("at most {max}"),
        ),
        (
            format!("{base}&amount=1&dexes=Nowhere"),
            StatusCode::BAD_REQUEST,
            "route_not_found",
            "no venue".into(),
        ),
        (
            "/v1/quote".into(),
            StatusCode::NOT_FOUND,
            "not_found",
            "/v1/quote".into(),
        ),
    ];
    for (path, status, code, needle) in &cases {
        let (s, v) = call(&svc, get(path), ctx("127.0.0.2", epoch, 1)).await;
        assert_eq!(
            (s, v["code"].as_str().unwrap()),
            (*status, *code),
            "{path}: {v}"
        );
        assert_eq!(keys(&v), ["code", "msg"], "{v}");
        assert!(
            v["msg"].as_str().unwrap().contains(needle.as_str()),
            "{path}: {v}"
        );
    }
    let (s, v) = call(&svc, post("/quote", &json!({})), ctx("127.0.0.2", epoch, 2)).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let (s, v) = call(&svc, get("/swap-instructions"), ctx("127.0.0.2", epoch, 3)).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );

    // Swap bodies.
    let q = quote(&svc, WSOL, USDC, 1_000_000, epoch).await;
    let user = Pubkey::new_unique().to_string();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = json!({"quoteResponse": q, "userPublicKey": user});
        f(&mut b);
        b
    };
    let bodies: Vec<(Value, &str)> = vec![
        (json!({"userPublicKey": user}), "quoteResponse"),
        (json!({"quoteResponse": q}), "userPublicKey"),
        (
            with(&|b| b["userPublicKey"] = json!("nope")),
            "userPublicKey",
        ),
        (
            with(&|b| b["quoteResponse"]["outAmount"] = json!(5)),
            "string",
        ),
        (
            with(&|b| b["quoteResponse"]["routePlan"] = json!([])),
            "routePlan is empty",
        ),
        (
            with(&|b| {
                b["quoteResponse"]
                    .as_object_mut()
                    .unwrap()
                    .remove("routePlan");
            }),
            "routePlan is required",
        ),
        (
            with(&|b| b["quoteResponse"]["routePlan"][0]["marketKey"] = json!("x")),
            "routePlan[0]",
        ),
        (
            with(&|b| {
                b["quoteResponse"]["routePlan"][0]["inputMint"] =
                    json!(Pubkey::new_unique().to_string())
            }),
            "not tradable",
        ),
        (
            with(&|b| b["quoteResponse"]["routePlan"][0]["inAmount"] = json!("0")),
            "inAmount is 0",
        ),
        (
            with(&|b| {
                b["computeUnitPriceMicroLamports"] = json!(5);
                b["prioritizationFeeLamports"] = json!(5);
            }),
            "exclusive",
        ),
        (
            with(
                &|b| b["prioritizationFeeLamports"] = json!({"priorityLevelWithMaxLamports": {"priorityLevel": "ludicrous", "maxLamports": 1}}),
            ),
            "priorityLevel",
        ),
        (
            with(&|b| b["prioritizationFeeLamports"] = json!("sometimes")),
            "invalid request body",
        ),
        (with(&|b| b["feeAccount"] = json!("nope")), "feeAccount"),
        (
            with(&|b| {
                b["destinationTokenAccount"] = json!({"associatedTokenAccount": {"owner": "nope"}})
            }),
            "destinationTokenAccount",
        ),
        (
            with(&|b| b["dynamicComputeUnitLimit"] = json!("yes")),
            "invalid request body",
        ),
    ];
    for (i, (body, needle)) in bodies.iter().enumerate() {
        let (s, v) = call(
            &svc,
            post("/swap-instructions", body),
            ctx("127.0.0.2", epoch, 10 + i as u64),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{i}: {v}");
        assert_eq!(keys(&v), ["code", "msg"], "{v}");
        assert!(
            v["msg"].as_str().unwrap().contains(needle),
            "{i} {needle}: {v}"
        );
    }
    for raw in ["", "{", "[]", "null", "{\"quoteResponse\": 1}"] {
        let (s, v) = call(
            &svc,
            post_raw("/swap-instructions", raw),
            ctx("127.0.0.2", epoch, 40),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str().unwrap()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{raw}: {v}"
        );
    }
    assert!(
        ledger.state().calls.is_empty(),
        "nothing was built for a bad request"
    );

    // A ledger that cannot build: its client mistakes are 400, its own failures 500.
    let body = with(&|_| {});
    ledger.state().fail_build = Some(LedgerError::Invalid("no such pool".into()));
    let (s, v) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.2", epoch, 50),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap(), v["msg"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_request", "no such pool")
    );
    ledger.state().fail_build = Some(LedgerError::Unavailable("chain down".into()));
    let (s, v) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.2", epoch, 51),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    );
    assert!(v["msg"].as_str().unwrap().contains("chain down"));
}

#[tokio::test]
async fn the_failed_to_compute_swap_switch() {
    let (svc, _, ledger, epoch) = dflow(DflowConfig::default());
    let knobs = svc.knobs();
    let q = quote(&svc, WSOL, USDC, 1_000_000, epoch).await;
    let body = json!({"quoteResponse": q, "userPublicKey": Pubkey::new_unique().to_string()});
    assert!(!knobs.failed_to_compute());
    knobs.set_failed_to_compute(true);
    for i in 0..2 {
        let (s, v) = call(
            &svc,
            post("/swap-instructions", &body),
            ctx("127.0.0.2", epoch, i),
        )
        .await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(keys(&v), ["code", "msg"]);
        assert_eq!(v["code"], "failed_to_compute_swap");
    }
    assert!(ledger.state().calls.is_empty());
    assert!(knobs.instructions().is_empty());
    // Quotes are unaffected.
    quote(&svc, WSOL, USDC, 1_000_000, epoch).await;
    knobs.set_failed_to_compute(false);
    let (s, _) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.2", epoch, 3),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Switched on from the configuration.
    let (svc, _, _, epoch) = dflow(DflowConfig {
        failed_to_compute_swap: true,
        ..DflowConfig::default()
    });
    assert!(svc.knobs().failed_to_compute());
    let (s, v) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.2", epoch, 1),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::INTERNAL_SERVER_ERROR, "failed_to_compute_swap")
    );
}

#[tokio::test]
async fn priority_fee_options() {
    let (svc, _, _, epoch) = dflow(DflowConfig::default());
    let q = quote(&svc, WSOL, USDC, 1_000_000_000, epoch).await;
    let user = Pubkey::new_unique().to_string();
    let (q, user, svc) = (&q, &user, &svc);
    let ask = |fee: Value| async move {
        let body = json!({"quoteResponse": q, "userPublicKey": user, "dynamicComputeUnitLimit": true, "prioritizationFeeLamports": fee});
        let (s, v) = call(
            svc,
            post("/swap-instructions", &body),
            ctx("127.0.0.2", epoch, 1),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    };
    // Limit 120k (setup + swap). "auto": the configured price, capped at 0.005 SOL in total.
    let v = ask(json!("auto")).await;
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][1]),
        cu_price(10_000)
    );
    assert_eq!(v["prioritizationFeeLamports"], 1_200);
    assert_eq!(
        v["prioritizationType"],
        json!({"computeBudget": {"microLamports": 10_000, "estimatedMicroLamports": 10_000}})
    );
    // A total in lamports: the largest price within it.
    let v = ask(json!(600)).await;
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][1]),
        cu_price(5_000)
    );
    assert_eq!(v["prioritizationFeeLamports"], 600);
    // A level, capped by maxLamports.
    let v = ask(json!({"priorityLevelWithMaxLamports": {"priorityLevel": "high", "maxLamports": 1_000_000}, "autoMultiplier": 1})).await;
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][1]),
        cu_price(50_000)
    );
    let v = ask(
        json!({"priorityLevelWithMaxLamports": {"priorityLevel": "veryHigh", "maxLamports": 12}}),
    )
    .await;
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][1]),
        cu_price(100)
    );
    assert_eq!(v["prioritizationFeeLamports"], 12);
    // Disabled: no price instruction at all.
    let v = ask(json!("disabled")).await;
    assert_eq!(v["computeBudgetInstructions"].as_array().unwrap().len(), 1);
    assert_eq!(v["prioritizationFeeLamports"], 0);
    assert_eq!(v["prioritizationType"], Value::Null);
}

#[tokio::test]
async fn with_keys_configured_an_accepted_x_api_key_is_needed() {
    let (svc, _, _, epoch) = dflow(DflowConfig {
        api_keys: ApiKeys::new(["k1", "k2"]),
        ..DflowConfig::default()
    });
    let path = quote_path(WSOL, USDC, 1_000_000, "");
    for (req, ok) in [
        (get(&path), false),
        (with_key(get(&path), "k3"), false),
        (with_key(get(&path), ""), false),
        (with_key(get(&path), "k2"), true),
    ] {
        // The core counts only an accepted key.
        let counted = svc.api_key(&req);
        assert_eq!(counted.is_some(), ok);
        let (s, v) = call(&svc, req, ctx("127.0.0.2", epoch, 1)).await;
        if ok {
            assert_eq!(s, StatusCode::OK, "{v}");
        } else {
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            assert_eq!(keys(&v), ["code", "msg"]);
            assert_eq!(v["code"], "unauthorized");
            assert!(!v["msg"].as_str().unwrap().contains("k3"), "{v}");
        }
    }
    // swap-instructions too, before its body is even read.
    let (s, v) = call(
        &svc,
        post_raw("/swap-instructions", "{"),
        ctx("127.0.0.2", epoch, 2),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (s, v) = call(
        &svc,
        with_key(post_raw("/swap-instructions", "{"), "k1"),
        ctx("127.0.0.2", epoch, 3),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    // Without keys configured anyone may ask, and a sent key is still counted.
    let (open, _, _, _) = dflow(DflowConfig::default());
    assert_eq!(
        open.api_key(&with_key(get(&path), "anything")).as_deref(),
        Some("anything")
    );
    let (s, _) = call(&open, get(&path), ctx("127.0.0.2", epoch, 4)).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn the_cores_errors_come_in_dflows_shape() {
    let (svc, _, _, _) = dflow(DflowConfig::default());
    for (status, code) in [
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    ] {
        let resp = svc.error_response(status, "the core says no");
        assert_eq!(resp.status(), status);
        assert_eq!(resp.headers()["content-type"], "application/json");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, json!({"code": code, "msg": "the core says no"}));
    }
}

#[test]
fn configuration_mistakes_are_explained_and_keys_never_shown() {
    for (text, needle) in [
        ("prefixes = []", "at least one"),
        ("prefixes = [\"quote\"]", "start with '/'"),
        ("api_keys = [\"a\", \"a\"]", "repeats"),
        ("api_keys = [\"\"]", "empty"),
        ("default_slippage_bps = 10001", "default_slippage_bps"),
        ("journal_capacity = 0", "journal_capacity"),
        ("[compute]\nunit_limit = 0", "unit_limit"),
        ("[compute]\nunit_limit = 1400001", "unit_limit"),
        ("failed_to_compute = true", "unknown field"),
    ] {
        let e = toml::from_str::<DflowConfig>(text)
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate().map_err(|e| e.to_string()))
            .unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
    let doc = include_str!("../src/aggregators/dflow/config.rs")
        .split("/// ```toml\n")
        .nth(1)
        .unwrap()
        .split("/// ```")
        .next()
        .unwrap()
        .lines()
        .map(|l| l.trim_start().trim_start_matches("///").trim_start())
        .collect::<Vec<_>>()
        .join("\n");
    let cfg: DflowConfig = toml::from_str(&doc).unwrap();
    cfg.validate().unwrap();
    assert!(cfg.api_keys.accepts("my-key"));
    assert_eq!(
        cfg,
        DflowConfig {
            api_keys: ApiKeys::new(["my-key"]),
            ..DflowConfig::default()
        }
    );
    assert!(!format!("{cfg:?}").contains("my-key"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any query or body gets an answer in DFlow's shape (200, or 4xx with `{code, msg}`),
    /// never a panic.
    #[test]
    fn arbitrary_input_never_panics(query in ".{0,120}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let (svc, _, _, epoch) = dflow(DflowConfig::default());
            let uri = format!("/quote?{}", query.replace([' ', '#'], "%20"));
            let Ok(req) = http::Request::get(uri).body(bytes::Bytes::new()) else { return };
            let (s, v) = call(&svc, req, ctx("127.0.0.2", epoch, 1)).await;
            assert!(s == StatusCode::OK || (s.is_client_error() && keys(&v) == ["code", "msg"]), "{s} {v}");
            let req = http::Request::post("/swap-instructions").body(bytes::Bytes::from(body)).unwrap();
            let (s, v) = call(&svc, req, ctx("127.0.0.2", epoch, 2)).await;
            assert!(s.is_client_error() && keys(&v) == ["code", "msg"], "{s} {v}");
        });
    }
}
