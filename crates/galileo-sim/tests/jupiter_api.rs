//! The Jupiter simulator's endpoints against `spec/jupiter.md`, called directly: field types,
//! quotes equal to the market's best at the request's arrival, validation errors, merged
//! circular quotes, instructions equal to what the ledger built, `/swap` transactions.
#![allow(clippy::unwrap_used)]

mod aggr_support;
mod support;

use aggr_support::*;
use galileo_sim::aggregators::jupiter::wire::QuoteResponse;
use galileo_sim::aggregators::{JupiterConfig, JupiterService, Ledger, LedgerError};
use galileo_sim::market::{QuoteError, SharedMarket};
use http::StatusCode;
use serde_json::{Value, json};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use tokio::time::Instant;

fn jupiter() -> (
    JupiterService<FakeLedger>,
    SharedMarket,
    FakeLedger,
    Instant,
) {
    let (market, ledger, epoch) = world();
    let svc =
        JupiterService::new(JupiterConfig::default(), market.clone(), ledger.clone()).unwrap();
    (svc, market, ledger, epoch)
}

fn quote_path(prefix: &str, input: &str, output: &str, amount: u64, extra: &str) -> String {
    format!(
        "{prefix}/quote?inputMint={input}&outputMint={output}&amount={amount}&swapMode=ExactIn{extra}"
    )
}

/// Checks every field of a quote against the spec's types; returns it typed too.
fn check_quote_shape(v: &Value) -> QuoteResponse {
    for k in [
        "inputMint",
        "inAmount",
        "outputMint",
        "outAmount",
        "otherAmountThreshold",
        "swapMode",
        "slippageBps",
        "priceImpactPct",
        "routePlan",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    key(v, "inputMint");
    key(v, "outputMint");
    for a in ["inAmount", "outAmount", "otherAmountThreshold"] {
        amount(v, a);
    }
    assert_eq!(v["swapMode"], "ExactIn");
    assert!(int(v, "slippageBps") <= 10_000);
    assert!(plain_decimal(v["priceImpactPct"].as_str().unwrap()), "{v}");
    assert!(v["platformFee"].is_null());
    int(v, "contextSlot");
    assert!(v["timeTaken"].is_f64() || v["timeTaken"].is_u64(), "{v}");
    for step in v["routePlan"].as_array().unwrap() {
        let info = &step["swapInfo"];
        for k in ["ammKey", "inputMint", "outputMint", "feeMint"] {
            key(info, k);
        }
        assert!(info["label"].is_string());
        for a in ["inAmount", "outAmount", "feeAmount"] {
            amount(info, a);
        }
        assert!(int(step, "percent") <= 100);
        assert!(int(step, "bps") <= 10_000);
    }
    serde_json::from_value(v.clone()).unwrap()
}

#[tokio::test]
async fn quotes_have_the_spec_types_and_the_markets_best_price() {
    let (svc, market, ledger, epoch) = jupiter();
    for (i, prefix) in ["/swap/v1", ""].into_iter().enumerate() {
        let at = epoch + std::time::Duration::from_millis(1_234 + 5_000 * i as u64);
        let (status, v) = call(
            &svc,
            get(&quote_path(prefix, WSOL, USDC, 1_000_000_000, "&slippageBps=37&restrictIntermediateTokens=false&maxAccounts=28&unknownParam=whatever")),
            ctx("127.0.0.2", at, i as u64),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let q = check_quote_shape(&v);

        let m = market.read();
        let (sol, usdc) = (m.mint(WSOL).unwrap(), m.mint(USDC).unwrap());
        let best = m
            .best_quote(sol, usdc, 1_000_000_000, at, |_, _| true)
            .unwrap();
        assert_eq!(q.in_amount, 1_000_000_000);
        assert_eq!(q.out_amount, best.out_amount);
        assert_eq!(
            q.other_amount_threshold,
            best.out_amount * (10_000 - 37) / 10_000
        );
        assert_eq!(q.slippage_bps, 37);
        assert_eq!(q.price_impact_pct, best.price_impact_decimal());
        assert_eq!(q.context_slot, Some(ledger.slot_at(at)));
        let step = &q.route_plan[0].swap_info;
        assert_eq!(q.route_plan.len(), 1);
        assert_eq!(step.label.as_deref(), Some(m.venue_info(best.venue).name()));
        assert_eq!(step.amm_key, best.pool.to_string());
        assert_eq!(step.fee_amount, best.fee_amount);
        assert_eq!(step.fee_mint, USDC);
        assert_eq!(
            (step.in_amount, step.out_amount),
            (1_000_000_000, best.out_amount)
        );

        let served = svc.knobs().quotes();
        let last = served.last().unwrap();
        assert_eq!(
            (
                last.received,
                last.out_amount,
                last.peer.to_string().as_str()
            ),
            (at, best.out_amount, "127.0.0.2")
        );
    }
}

#[tokio::test]
async fn venue_filters_route_like_the_market_and_the_default_slippage_is_50() {
    let (svc, market, _, epoch) = jupiter();
    let at = epoch + std::time::Duration::from_secs(3);
    let (sol, usdc, winner) = {
        let m = market.read();
        let (sol, usdc) = (m.mint(WSOL).unwrap(), m.mint(USDC).unwrap());
        let unfiltered = m
            .best_quote(sol, usdc, 5_000_000_000, at, |_, _| true)
            .unwrap();
        (sol, usdc, m.venue_info(unfiltered.venue).name().to_owned())
    };
    let exclude = winner.replace(' ', "+");
    let (status, v) = call(
        &svc,
        get(&quote_path(
            "/swap/v1",
            WSOL,
            USDC,
            5_000_000_000,
            &format!("&excludeDexes={exclude}"),
        )),
        ctx("127.0.0.2", at, 1),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let q = check_quote_shape(&v);
    let expect = market
        .read()
        .best_quote(sol, usdc, 5_000_000_000, at, |_, venue| {
            venue.name() != winner
        })
        .unwrap();
    assert_ne!(
        q.route_plan[0].swap_info.label.as_deref(),
        Some(winner.as_str())
    );
    assert_eq!(q.out_amount, expect.out_amount);
    assert_eq!(q.slippage_bps, 50);
    assert_eq!(q.other_amount_threshold, expect.out_amount * 9_950 / 10_000);

    // Only one venue allowed: it quotes, whatever the others say.
    let (_, v) = call(
        &svc,
        get(&quote_path(
            "",
            WSOL,
            USDC,
            1_000_000,
            "&dexes=Meteora+DLMM",
        )),
        ctx("127.0.0.2", at, 2),
    )
    .await;
    assert_eq!(v["routePlan"][0]["swapInfo"]["label"], "Meteora DLMM");
    let only = {
        let m = market.read();
        m.quote(m.venue("Meteora DLMM").unwrap(), sol, usdc, 1_000_000, at)
            .unwrap()
    };
    assert_eq!(amount(&v, "outAmount"), only.out_amount);

    // A platform fee comes off the output and is reported.
    let (_, v) = call(
        &svc,
        get(&quote_path(
            "",
            WSOL,
            USDC,
            1_000_000_000,
            "&platformFeeBps=20&slippageBps=0",
        )),
        ctx("127.0.0.2", at, 3),
    )
    .await;
    let best = market
        .read()
        .best_quote(sol, usdc, 1_000_000_000, at, |_, _| true)
        .unwrap();
    let fee = best.out_amount * 20 / 10_000;
    assert_eq!(amount(&v, "outAmount"), best.out_amount - fee);
    assert_eq!(amount(&v["platformFee"], "amount"), fee);
    assert_eq!(v["platformFee"]["feeBps"], 20);
    assert_eq!(
        amount(&v["routePlan"][0]["swapInfo"], "outAmount"),
        best.out_amount
    );
}

#[tokio::test]
async fn bad_requests_get_400_with_jupiters_error_shape() {
    let (svc, market, _, epoch) = jupiter();
    let max = {
        let m = market.read();
        let sol = m.mint(WSOL).unwrap();
        m.venue_ids()
            .map(|v| m.max_in_amount(v, sol, epoch))
            .max()
            .unwrap()
    };
    let unknown_mint = Pubkey::new_unique().to_string();
    let at_most = format!("at most {max}");
    let cases: Vec<(String, StatusCode, &str, &str)> = vec![
        (
            format!("/swap/v1/quote?outputMint={USDC}&amount=1"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "inputMint",
        ),
        (
            format!("/swap/v1/quote?inputMint=nope&outputMint={USDC}&amount=1"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "inputMint",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "amount",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1.5"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "amount",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=-3"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "amount",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=0"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "greater than 0",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1&slippageBps=10001"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "slippageBps",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1&slippageBps=x"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "slippageBps",
        ),
        (
            format!(
                "/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1&onlyDirectRoutes=yes"
            ),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "onlyDirectRoutes",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1&swapMode=Sideways"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "swapMode",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1&swapMode=ExactOut"),
            StatusCode::BAD_REQUEST,
            "COULD_NOT_FIND_ANY_ROUTE",
            "ExactOut",
        ),
        (
            format!("/swap/v1/quote?inputMint={unknown_mint}&outputMint={USDC}&amount=1"),
            StatusCode::BAD_REQUEST,
            "TOKEN_NOT_TRADABLE",
            "not tradable",
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={WSOL}&amount=1"),
            StatusCode::BAD_REQUEST,
            "CIRCULAR_ARBITRAGE_IS_DISABLED",
            "differ",
        ),
        (
            format!(
                "/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount={}",
                max + 1
            ),
            StatusCode::BAD_REQUEST,
            "COULD_NOT_FIND_ANY_ROUTE",
            &at_most,
        ),
        (
            format!("/swap/v1/quote?inputMint={WSOL}&outputMint={USDC}&amount=1&dexes=Nowhere"),
            StatusCode::BAD_REQUEST,
            "COULD_NOT_FIND_ANY_ROUTE",
            "no venue",
        ),
        (
            "/swap/v2/quote".to_owned(),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "/swap/v2/quote",
        ),
    ];
    for (i, (path, status, code, needle)) in cases.iter().enumerate() {
        let (s, v) = call(&svc, get(path), ctx("127.0.0.2", epoch, i as u64)).await;
        assert_eq!(
            (s, v["errorCode"].as_str().unwrap()),
            (*status, *code),
            "{path}: {v}"
        );
        assert_eq!(keys(&v), ["error", "errorCode"], "{v}");
        assert!(v["error"].as_str().unwrap().contains(needle), "{path}: {v}");
    }
    // The market agrees on the depth limit.
    let err = {
        let m = market.read();
        m.best_quote(
            m.mint(WSOL).unwrap(),
            m.mint(USDC).unwrap(),
            max + 1,
            epoch,
            |_, _| true,
        )
        .unwrap_err()
    };
    assert_eq!(err, QuoteError::ExceedsDepth { max_in_amount: max });
    let (s, v) = call(
        &svc,
        post("/swap/v1/quote", &json!({})),
        ctx("127.0.0.2", epoch, 99),
    )
    .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED"))
    );
    assert!(
        svc.knobs().quotes().is_empty(),
        "refused quotes are not recorded"
    );
}

/// A quote from the service at `at`, as JSON.
async fn quote(
    svc: &JupiterService<FakeLedger>,
    input: &str,
    output: &str,
    amount: u64,
    at: Instant,
    extra: &str,
) -> Value {
    let (s, v) = call(
        svc,
        get(&quote_path("/swap/v1", input, output, amount, extra)),
        ctx("127.0.0.2", at, 0),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn swap_instructions_are_what_the_ledger_built() {
    let (svc, _, ledger, epoch) = jupiter();
    let at = epoch + std::time::Duration::from_secs(2);
    let mut q = quote(&svc, WSOL, USDC, 2_000_000_000, at, "&slippageBps=25").await;
    // The client's re-serialization adds marketInfos; unknown keys are fine.
    q["marketInfos"] = json!([]);
    let user = Pubkey::new_unique();
    let later = at + std::time::Duration::from_millis(900);
    let body = json!({
        "quoteResponse": q,
        "userPublicKey": user.to_string(),
        "wrapAndUnwrapSol": false,
        "skipUserAccountsRpcCalls": false,
        "useSharedAccounts": false,
        "someFutureOption": {"x": 1},
    });
    let (s, v) = call(
        &svc,
        post("/swap/v1/swap-instructions", &body),
        ctx("127.0.0.3", later, 7),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        keys(&v),
        [
            "addressLookupTableAddresses",
            "blockhashWithMetadata",
            "cleanupInstruction",
            "computeBudgetInstructions",
            "computeUnitLimit",
            "otherInstructions",
            "prioritizationFeeLamports",
            "setupInstructions",
            "swapInstruction",
        ]
    );
    let state = ledger.state();
    assert_eq!(state.calls.len(), 1);
    let (asked_user, leg) = &state.calls[0];
    assert_eq!(*asked_user, user);
    let step = &q["routePlan"][0]["swapInfo"];
    assert_eq!(leg.venue, step["label"].as_str().unwrap());
    assert_eq!(leg.pool, key(step, "ammKey"));
    assert_eq!(
        (leg.in_amount, leg.out_amount),
        (amount(step, "inAmount"), amount(step, "outAmount"))
    );
    assert_eq!(
        (leg.input_mint.to_string(), leg.output_mint.to_string()),
        (WSOL.into(), USDC.into())
    );

    let built = &state.built[0];
    let budget: Vec<_> = v["computeBudgetInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(budget, [cu_limit(1_400_000)]);
    assert_eq!(v["computeUnitLimit"], 1_400_000);
    let setup: Vec<_> = v["setupInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(setup, built[..built.len() - 1]);
    assert_eq!(
        instruction(&v["swapInstruction"]),
        patched(built.last().unwrap().clone(), 25, 0)
    );
    assert!(v["cleanupInstruction"].is_null());
    assert_eq!(v["otherInstructions"], json!([]));
    assert_eq!(
        v["addressLookupTableAddresses"],
        json!([ledger.table.key.to_string()])
    );
    assert_eq!(v["prioritizationFeeLamports"], 0);
    let bh = ledger.latest_blockhash(later);
    let bytes: Vec<u8> = v["blockhashWithMetadata"]["blockhash"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
        .collect();
    assert_eq!(bytes, bh.blockhash.to_bytes());
    assert_eq!(
        int(&v["blockhashWithMetadata"], "lastValidBlockHeight"),
        bh.last_valid_block_height
    );
    drop(state);
    let served = svc.knobs().instructions();
    assert_eq!(served.len(), 1);
    assert_eq!(
        (served[0].user, served[0].legs.len(), served[0].transaction),
        (user, 1, false)
    );
}

/// The merged circular quote the blind strategy sends (strategy-semantics §5.6).
fn merge(forward: &Value, reverse: &Value, tip: u64) -> Value {
    let size = amount(forward, "inAmount");
    let mut plan = forward["routePlan"].as_array().unwrap().clone();
    plan.extend(reverse["routePlan"].as_array().unwrap().iter().cloned());
    let mut m = forward.clone();
    m["outputMint"] = forward["inputMint"].clone();
    m["outAmount"] = json!((size + tip).to_string());
    m["otherAmountThreshold"] = json!((size + tip).to_string());
    m["priceImpactPct"] = json!("0");
    m["routePlan"] = json!(plan);
    m["contextSlot"] = json!(
        forward["contextSlot"]
            .as_u64()
            .max(reverse["contextSlot"].as_u64())
    );
    m["marketInfos"] = json!([]);
    m
}

#[tokio::test]
async fn a_merged_circular_quote_becomes_one_ledger_swap_per_step_in_order() {
    let (svc, _, ledger, epoch) = jupiter();
    let at = epoch + std::time::Duration::from_secs(1);
    let fwd = quote(&svc, WSOL, USDC, 1_000_000_000, at, "&slippageBps=0").await;
    let rev = quote(
        &svc,
        USDC,
        WSOL,
        amount(&fwd, "outAmount"),
        at,
        "&slippageBps=0",
    )
    .await;
    let merged = merge(&fwd, &rev, 5_000);
    // The totals deliberately disagree with the steps: never checked.
    assert_ne!(amount(&merged, "outAmount"), amount(&rev, "outAmount"));
    let user = Pubkey::new_unique();
    ledger
        .state()
        .existing
        .insert((user, Pubkey::from_str_const(WSOL)));
    let body = json!({"quoteResponse": merged, "userPublicKey": user.to_string(), "wrapAndUnwrapSol": false, "dynamicComputeUnitLimit": true});
    let (s, v) = call(
        &svc,
        post("/swap-instructions", &body),
        ctx("127.0.0.4", at, 1),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
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
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            (
                WSOL.to_owned(),
                USDC.to_owned(),
                1_000_000_000,
                amount(&fwd, "outAmount")
            ),
            (
                USDC.to_owned(),
                WSOL.to_owned(),
                amount(&fwd, "outAmount"),
                amount(&rev, "outAmount")
            ),
        ]
    );
    // Hop 1 is the swap instruction, hop 2 follows it in otherInstructions; the only setup is
    // hop 1's USDC account (the user holds WSOL).
    assert_eq!(
        instruction(&v["swapInstruction"]),
        patched(state.built[0].last().unwrap().clone(), 0, 0)
    );
    let other: Vec<_> = v["otherInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(
        other,
        [patched(state.built[1].last().unwrap().clone(), 0, 0)]
    );
    let setup: Vec<_> = v["setupInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(setup, [state.built[0][0].clone()]);
    assert_eq!(state.built[1].len(), 1);
    // Dynamic limit: 60k per instruction (setup + two swaps).
    assert_eq!(v["computeUnitLimit"], 180_000);
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][0]),
        cu_limit(180_000)
    );
}

#[tokio::test]
async fn priority_options_set_price_instructions_and_tips() {
    let (svc, _, ledger, epoch) = jupiter();
    let q = quote(&svc, WSOL, USDC, 1_000_000_000, epoch, "").await;
    let user = Pubkey::new_unique();
    let ask = |extra: Value| {
        let mut b = json!({"quoteResponse": q, "userPublicKey": user.to_string()});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let (_, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &ask(json!({"computeUnitPriceMicroLamports": 5000})),
        ),
        ctx("127.0.0.2", epoch, 1),
    )
    .await;
    let budget: Vec<_> = v["computeBudgetInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(instruction)
        .collect();
    assert_eq!(budget, [cu_limit(1_400_000), cu_price(5_000)]);
    assert_eq!(v["prioritizationFeeLamports"], 7_000);

    let (_, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &ask(json!({"prioritizationFeeLamports": 14_000})),
        ),
        ctx("127.0.0.2", epoch, 2),
    )
    .await;
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][1]),
        cu_price(10_000)
    );
    assert_eq!(v["prioritizationFeeLamports"], 14_000);

    let (_, v) = call(&svc, post("/swap/v1/swap-instructions", &ask(json!({"prioritizationFeeLamports": {"priorityLevelWithMaxLamports": {"priorityLevel": "veryHigh", "maxLamports": 1_400, "global": false}}}))), ctx("127.0.0.2", epoch, 3)).await;
    assert_eq!(
        instruction(&v["computeBudgetInstructions"][1]),
        cu_price(1_000)
    );
    assert_eq!(v["prioritizationFeeLamports"], 1_400);

    let (_, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &ask(json!({"prioritizationFeeLamports": {"jitoTipLamports": 10_000}})),
        ),
        ctx("127.0.0.2", epoch, 11),
    )
    .await;
    assert_eq!(v["computeBudgetInstructions"].as_array().unwrap().len(), 1);
    let tip = instruction(&v["otherInstructions"][0]);
    assert_eq!(
        tip,
        solana_system_interface::instruction::transfer(&user, &ledger.tips[11 % 8], 10_000)
    );
    assert_eq!(v["prioritizationFeeLamports"], 10_000);

    let (_, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &ask(json!({"prioritizationFeeLamports": "auto"})),
        ),
        ctx("127.0.0.2", epoch, 4),
    )
    .await;
    assert_eq!(v["computeBudgetInstructions"].as_array().unwrap().len(), 1);

    let (s, v) = call(&svc, post("/swap/v1/swap-instructions", &ask(json!({"prioritizationFeeLamports": {"priorityLevelWithMaxLamports": {"priorityLevel": "ludicrous", "maxLamports": 1}}}))), ctx("127.0.0.2", epoch, 5)).await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST"))
    );
    assert!(v["error"].as_str().unwrap().contains("ludicrous"));
}

#[tokio::test]
async fn swap_returns_an_unsigned_transaction_of_the_same_instructions() {
    let (svc, _, ledger, epoch) = jupiter();
    let q = quote(&svc, USDC, JUP, 50_000_000, epoch, "&slippageBps=10").await;
    let user = Pubkey::new_unique();
    let body = json!({"quoteResponse": q, "userPublicKey": user.to_string(), "wrapAndUnwrapSol": true, "computeUnitPriceMicroLamports": 3});
    for (path, legacy) in [("/swap/v1/swap", false), ("/swap", true)] {
        let mut b = body.clone();
        b["asLegacyTransaction"] = json!(legacy);
        let (s, v) = call(&svc, post(path, &b), ctx("127.0.0.2", epoch, 0)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let tx = galileo_sim::aggregators::wire::tx::decode(v["swapTransaction"].as_str().unwrap())
            .unwrap();
        assert_eq!(tx.signatures, [Signature::default()]);
        assert_eq!(tx.message.static_account_keys()[0], user);
        let bh = ledger.latest_blockhash(epoch);
        assert_eq!(*tx.message.recent_blockhash(), bh.blockhash);
        assert_eq!(int(&v, "lastValidBlockHeight"), bh.last_valid_block_height);
        assert_eq!(int(&v, "computeUnitLimit"), 1_400_000);
        let built = ledger.state().built.last().unwrap().clone();
        let mut expect = vec![shape(&cu_limit(1_400_000)), shape(&cu_price(3))];
        expect.extend(built[..built.len() - 1].iter().map(shape));
        expect.push(shape(&patched(built.last().unwrap().clone(), 10, 0)));
        assert_eq!(decompile(&tx, &ledger.lookup_tables()), expect);
        if legacy {
            assert!(v.get("addressesByLookupTableAddress").is_none());
        } else {
            assert!(
                tx.message
                    .address_table_lookups()
                    .is_some_and(|l| !l.is_empty())
            );
            let map = v["addressesByLookupTableAddress"].as_object().unwrap();
            assert_eq!(map.len(), 1);
            assert_eq!(
                map[&ledger.table.key.to_string()].as_array().unwrap().len(),
                ledger.table.addresses.len()
            );
        }
    }
    let served = svc.knobs().instructions();
    assert!(served.iter().all(|s| s.transaction));
}

#[tokio::test]
async fn bad_swap_bodies_get_400_and_ledger_failures_500() {
    let (svc, _, ledger, epoch) = jupiter();
    let q = quote(&svc, WSOL, USDC, 1_000_000, epoch, "").await;
    let user = Pubkey::new_unique().to_string();
    let mut no_route = q.clone();
    no_route["routePlan"] = json!([]);
    let mut bad_mint = q.clone();
    bad_mint["routePlan"][0]["swapInfo"]["inputMint"] = json!("xyz");
    let mut unknown_venue = q.clone();
    unknown_venue["routePlan"][0]["swapInfo"]["label"] = json!("Nowhere");
    unknown_venue["routePlan"][0]["swapInfo"]["ammKey"] = json!(Pubkey::new_unique().to_string());
    let mut by_pool = q.clone();
    by_pool["routePlan"][0]["swapInfo"]
        .as_object_mut()
        .unwrap()
        .remove("label");
    let mut number_amount = q.clone();
    number_amount["inAmount"] = json!(1_000_000);
    let cases = [
        (json!({"quoteResponse": q}), "userPublicKey"),
        (
            json!({"quoteResponse": q, "userPublicKey": "nope"}),
            "userPublicKey",
        ),
        (
            json!({"quoteResponse": no_route, "userPublicKey": user}),
            "routePlan is empty",
        ),
        (
            json!({"quoteResponse": bad_mint, "userPublicKey": user}),
            "routePlan[0].inputMint",
        ),
        (
            json!({"quoteResponse": unknown_venue, "userPublicKey": user}),
            "no venue",
        ),
        (
            json!({"quoteResponse": number_amount, "userPublicKey": user}),
            "expected a string",
        ),
        (
            json!({"quoteResponse": q, "userPublicKey": user, "payer": "bad"}),
            "payer",
        ),
        (json!({"userPublicKey": user}), "quoteResponse"),
    ];
    for (i, (body, needle)) in cases.iter().enumerate() {
        let (s, v) = call(
            &svc,
            post("/swap/v1/swap-instructions", body),
            ctx("127.0.0.2", epoch, i as u64),
        )
        .await;
        assert_eq!(
            (s, v["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST")),
            "{needle}: {v}"
        );
        assert!(
            v["error"].as_str().unwrap().contains(needle),
            "{needle}: {v}"
        );
    }
    let (s, v) = call(
        &svc,
        post_raw("/swap/v1/swap-instructions", "{not json"),
        ctx("127.0.0.2", epoch, 50),
    )
    .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST"))
    );
    assert!(
        ledger.state().calls.is_empty(),
        "nothing reached the ledger"
    );

    // Without a label the pool names the venue.
    let (s, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &json!({"quoteResponse": by_pool, "userPublicKey": user}),
        ),
        ctx("127.0.0.2", epoch, 60),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        ledger.state().calls[0].1.venue,
        q["routePlan"][0]["swapInfo"]["label"].as_str().unwrap()
    );

    ledger.state().fail_build = Some(LedgerError::Unavailable("chain down".into()));
    let (s, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &json!({"quoteResponse": q, "userPublicKey": user}),
        ),
        ctx("127.0.0.2", epoch, 61),
    )
    .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL_ERROR"))
    );
    ledger.state().fail_build = Some(LedgerError::Invalid("no such pool on chain".into()));
    let (s, v) = call(
        &svc,
        post(
            "/swap/v1/swap-instructions",
            &json!({"quoteResponse": q, "userPublicKey": user}),
        ),
        ctx("127.0.0.2", epoch, 62),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("no such pool"));
}

#[test]
fn configuration_mistakes_are_explained_and_keys_never_shown() {
    let bad = [
        ("prefixes = []", "at least one"),
        ("prefixes = [\"swap\"]", "start with '/'"),
        ("default_slippage_bps = 20000", "over 10000"),
        ("journal_capacity = 0", "journal_capacity"),
        ("api_keys = [\"a\", \"a\"]", "repeats"),
        ("[compute]\nunit_limit = 2000000", "unit_limit"),
        ("prefix = []", "unknown field"),
    ];
    for (text, needle) in bad {
        let e = toml::from_str::<JupiterConfig>(text)
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate().map_err(|e| e.to_string()))
            .unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
    let doc = include_str!("../src/aggregators/jupiter/config.rs")
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
    let cfg: JupiterConfig = toml::from_str(&doc).unwrap();
    assert_eq!(cfg, JupiterConfig::default());
    let keyed: JupiterConfig = toml::from_str("api_keys = [\"hunter2-secret\"]").unwrap();
    assert!(!format!("{keyed:?}").contains("hunter2"));
}
