//! The Ultra simulator against `spec/ultra.md`: orders with and without a taker, the
//! transaction's contents, order → sign → execute through the ledger, the execute error codes,
//! expiry on paused time, `errorCode` injection, routers, API keys.
#![allow(clippy::unwrap_used)]

mod aggr_support;
mod support;

use std::time::Duration;

use aggr_support::*;
use galileo_sim::aggregators::ultra::wire::OrderResponse;
use galileo_sim::aggregators::wire::tx;
use galileo_sim::aggregators::{
    ApiKeys, ExecutionFailure, Ledger, RouterConfig, UltraConfig, UltraService,
};
use galileo_sim::market::SharedMarket;
use http::StatusCode;
use serde_json::{Value, json};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use tokio::time::Instant;

fn ultra(cfg: UltraConfig) -> (UltraService<FakeLedger>, SharedMarket, FakeLedger, Instant) {
    let (market, ledger, epoch) = world();
    let svc = UltraService::new(cfg, market.clone(), ledger.clone()).unwrap();
    (svc, market, ledger, epoch)
}

fn order_path(prefix: &str, amount: u64, extra: &str) -> String {
    format!(
        "{prefix}/order?inputMint={WSOL}&outputMint={USDC}&amount={amount}&swapMode=ExactIn&slippageBps=0&useWsol=true&broadcastFeeType=exactFee&priorityFeeLamports=10{extra}"
    )
}

/// `path` with each `&key=value` of `extra` replacing that key's value, or appended.
fn replace_param(path: &str, extra: &str) -> String {
    let mut out = path.to_owned();
    for pair in extra.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split('=').next().unwrap();
        let found = out
            .split(['?', '&'])
            .find(|p| p.split('=').next() == Some(key))
            .map(str::to_owned);
        out = match found {
            Some(old) => out.replacen(&old, pair, 1),
            None => format!("{out}&{pair}"),
        };
    }
    out
}

/// Every field the spec calls required, with its type.
fn check_order_shape(v: &Value) -> OrderResponse {
    for k in [
        "mode",
        "inputMint",
        "outputMint",
        "inAmount",
        "outAmount",
        "otherAmountThreshold",
        "priceImpactPct",
        "swapMode",
        "slippageBps",
        "routePlan",
        "feeBps",
        "signatureFeeLamports",
        "prioritizationFeeLamports",
        "rentFeeLamports",
        "swapType",
        "router",
        "transaction",
        "gasless",
        "requestId",
        "totalTime",
        "taker",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert!(v["mode"].is_string());
    key(v, "inputMint");
    key(v, "outputMint");
    for a in ["inAmount", "outAmount", "otherAmountThreshold"] {
        assert!(amount(v, a) > 0, "{a}");
    }
    for n in ["inUsdValue", "outUsdValue", "swapUsdValue", "priceImpact"] {
        assert!(v[n].is_number(), "{n}: {v}");
    }
    assert!(plain_decimal(v["priceImpactPct"].as_str().unwrap()));
    for i in [
        "slippageBps",
        "feeBps",
        "signatureFeeLamports",
        "prioritizationFeeLamports",
        "rentFeeLamports",
        "totalTime",
    ] {
        int(v, i);
    }
    assert!(v["gasless"].is_boolean());
    assert_eq!(v["router"], v["swapType"]);
    let id = v["requestId"].as_str().unwrap();
    assert_eq!(
        id.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(v["expireAt"].as_str().unwrap().parse::<u64>().is_ok());
    for step in v["routePlan"].as_array().unwrap() {
        let info = &step["swapInfo"];
        for k in ["ammKey", "inputMint", "outputMint", "feeMint"] {
            key(info, k);
        }
        assert!(info["label"].is_string());
        for a in ["inAmount", "outAmount", "feeAmount"] {
            amount(info, a);
        }
        assert!(step["percent"].is_number());
    }
    serde_json::from_value(v.clone()).unwrap()
}

#[tokio::test]
async fn an_order_without_taker_quotes_the_market_and_has_no_transaction() {
    let (svc, market, _, epoch) = ultra(UltraConfig::default());
    let at = epoch + Duration::from_millis(777);
    for prefix in ["/ultra/v1", ""] {
        let (s, v) = call(
            &svc,
            get(&order_path(prefix, 2_000_000_000, "")),
            ctx("127.0.0.2", at, 1),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let o = check_order_shape(&v);
        assert!(v["transaction"].is_null() && v["taker"].is_null());
        assert!(v.get("errorCode").is_none());
        let m = market.read();
        let best = m
            .best_quote(
                m.mint(WSOL).unwrap(),
                m.mint(USDC).unwrap(),
                2_000_000_000,
                at,
                |_, _| true,
            )
            .unwrap();
        assert_eq!(
            (o.in_amount, o.out_amount, o.other_amount_threshold),
            (2_000_000_000, best.out_amount, best.out_amount)
        );
        assert_eq!(
            o.route_plan[0].swap_info.label,
            m.venue_info(best.venue).name()
        );
        assert_eq!(o.route_plan[0].swap_info.amm_key, best.pool.to_string());
        assert_eq!(o.router, "aggregator");
        assert_eq!(o.prioritization_fee_lamports, 10);
        let sol = 2.0 * m.fair_price(m.mint(WSOL).unwrap(), at);
        assert!(
            (o.in_usd_value - sol).abs() < 1e-6,
            "{} vs {sol}",
            o.in_usd_value
        );
    }
    let orders = svc.knobs().orders();
    assert_eq!(orders.len(), 2);
    assert_ne!(orders[0].request_id, orders[1].request_id);
    assert!(!orders[0].with_transaction);
}

#[tokio::test]
async fn an_order_with_taker_carries_the_ledgers_swap_in_an_unsigned_v0_transaction() {
    let (svc, _, ledger, epoch) = ultra(UltraConfig::default());
    let taker = Pubkey::new_unique();
    let at = epoch + Duration::from_secs(4);
    let (s, v) = call(
        &svc,
        get(&order_path(
            "/ultra/v1",
            1_000_000_000,
            &format!("&taker={taker}&jitoTipLamports=1000"),
        )),
        ctx("127.0.0.2", at, 5),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let o = check_order_shape(&v);
    assert_eq!(o.taker.as_deref(), Some(taker.to_string().as_str()));
    let t = tx::decode(o.transaction.as_deref().unwrap()).unwrap();
    assert!(matches!(t.message, solana_message::VersionedMessage::V0(_)));
    assert_eq!(t.signatures, [Signature::default()]);
    assert_eq!(t.message.static_account_keys()[0], taker);
    assert_eq!(
        *t.message.recent_blockhash(),
        ledger.latest_blockhash(at).blockhash
    );

    let state = ledger.state();
    let (user, leg) = &state.calls[0];
    assert_eq!(*user, taker);
    assert_eq!((leg.in_amount, leg.out_amount), (o.in_amount, o.out_amount));
    let built = &state.built[0];
    // Setup (a create-ATA and a swap): 3 instructions with the tip → 180k units.
    let mut expect = vec![
        shape(&cu_limit(180_000)),
        shape(&cu_price(10 * 1_000_000 / 180_000)),
    ];
    expect.extend(built[..built.len() - 1].iter().map(shape));
    expect.push(shape(&patched(built.last().unwrap().clone(), 0, 0)));
    expect.push(shape(&solana_system_interface::instruction::transfer(
        &taker,
        &ledger.tips[5],
        1_000,
    )));
    assert_eq!(decompile(&t, &ledger.lookup_tables()), expect);
    assert_eq!(o.signature_fee_lamports, 5_000);
    assert_eq!(o.rent_fee_lamports, 2_039_280);
    // 55 µL × 180k = 9.9 → 10 lamports, plus the tip.
    assert_eq!(o.prioritization_fee_lamports, 10 + 1_000);
}

/// Orders for `taker`, returning the response and the decoded transaction.
async fn order_for(
    svc: &UltraService<FakeLedger>,
    taker: &Keypair,
    at: Instant,
    id: u64,
) -> (Value, VersionedTransaction) {
    let (s, v) = call(
        svc,
        get(&order_path(
            "/ultra/v1",
            1_000_000_000,
            &format!("&taker={}", taker.pubkey()),
        )),
        ctx("127.0.0.2", at, id),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t = tx::decode(v["transaction"].as_str().unwrap()).unwrap();
    (v, t)
}

fn sign(t: &VersionedTransaction, kp: &Keypair) -> String {
    tx::encode(&VersionedTransaction::try_new(t.message.clone(), &[kp]).unwrap())
}

fn execute_body(signed: &str, id: &Value) -> Value {
    json!({"signedTransaction": signed, "requestId": id})
}

#[tokio::test(start_paused = true)]
async fn order_sign_execute_lands_through_the_ledger_once() {
    let (svc, _, ledger, epoch) = ultra(UltraConfig::default());
    let kp = Keypair::new();
    let (o, t) = order_for(&svc, &kp, epoch, 1).await;
    advance(Duration::from_millis(2_000)).await;
    let now = Instant::now();
    let signed = sign(&t, &kp);
    let body = execute_body(&signed, &o["requestId"]);
    let (s, v) = call(
        &svc,
        post("/ultra/v1/execute", &body),
        ctx("127.0.0.3", now, 2),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let sig = VersionedTransaction::try_new(t.message.clone(), &[&kp])
        .unwrap()
        .signatures[0];
    assert_eq!(v["status"], "Success");
    assert_eq!(v["code"], 0);
    assert_eq!(v["signature"], sig.to_string());
    assert_eq!(v["slot"], ledger.slot_at(now).to_string());
    assert_eq!(amount(&v, "totalInputAmount"), 1_000_000_000);
    assert_eq!(amount(&v, "outputAmountResult"), amount(&o, "outAmount"));
    assert_eq!(amount(&v, "inputAmountResult"), amount(&o, "inAmount"));
    assert_eq!(amount(&v, "totalOutputAmount"), amount(&o, "outAmount"));
    let ev = &v["swapEvents"][0];
    assert_eq!(
        (ev["inputMint"].as_str(), ev["outputMint"].as_str()),
        (Some(WSOL), Some(USDC))
    );
    assert_eq!(amount(ev, "outputAmount"), amount(&o, "outAmount"));
    {
        let st = ledger.state();
        assert_eq!(st.landed.len(), 1);
        assert_eq!(st.landed[0].0, sig);
        assert_eq!(st.landed[0].2.to_string(), "127.0.0.3");
    }
    // Asking again answers the same without landing twice.
    let (s, again) = call(&svc, post("/execute", &body), ctx("127.0.0.3", now, 3)).await;
    assert_eq!((s, &again), (StatusCode::OK, &v));
    assert_eq!(ledger.state().submits, 1);
    let ex = svc.knobs().executions();
    assert_eq!(ex.len(), 2);
    assert_eq!(
        (ex[0].status.as_str(), ex[0].code, ex[0].signature),
        ("Success", 0, Some(sig))
    );
}

#[tokio::test(start_paused = true)]
async fn execute_refusals_carry_ultras_codes() {
    let cfg = UltraConfig {
        order_ttl_ms: 120_000,
        ..UltraConfig::default()
    };
    let (svc, _, ledger, epoch) = ultra(cfg);
    let kp = Keypair::new();
    let (o, t) = order_for(&svc, &kp, epoch, 1).await;
    let id = &o["requestId"];
    let signed = sign(&t, &kp);
    let now = epoch;
    let mut tampered = t.clone();
    if let solana_message::VersionedMessage::V0(m) = &mut tampered.message {
        m.recent_blockhash = solana_hash::Hash::new_from_array([9; 32]);
    }
    let other = Keypair::new();
    let wrong_signer = {
        let mut w = t.clone();
        w.signatures[0] = other.sign_message(&w.message.serialize());
        tx::encode(&w)
    };
    let cases: Vec<(Value, StatusCode, i64, &str)> = vec![
        (
            json!({"signedTransaction": signed}),
            StatusCode::BAD_REQUEST,
            -4,
            "requestId",
        ),
        (
            json!({"requestId": id}),
            StatusCode::BAD_REQUEST,
            -5,
            "signedTransaction",
        ),
        (
            execute_body(&signed, &json!("0193f6c1-fake-4e1d-9a8e-000000000001")),
            StatusCode::BAD_REQUEST,
            -1,
            "Missing cached order",
        ),
        (
            execute_body("!!!", id),
            StatusCode::BAD_REQUEST,
            -2,
            "base64",
        ),
        (
            execute_body("AAAA", id),
            StatusCode::BAD_REQUEST,
            -2,
            "versioned transaction",
        ),
        (
            execute_body(&sign(&tampered, &kp), id),
            StatusCode::BAD_REQUEST,
            -3,
            "not the order's",
        ),
        (
            execute_body(&tx::encode(&t), id),
            StatusCode::OK,
            -1003,
            "not fully signed",
        ),
        (
            execute_body(&wrong_signer, id),
            StatusCode::BAD_REQUEST,
            -2,
            "signature verification",
        ),
    ];
    for (i, (body, status, code, needle)) in cases.iter().enumerate() {
        let (s, v) = call(
            &svc,
            post("/ultra/v1/execute", body),
            ctx("127.0.0.2", now, 10 + i as u64),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_i64()),
            (*status, Some(*code)),
            "{needle}: {v}"
        );
        assert!(
            v["error"].as_str().unwrap().contains(needle),
            "{needle}: {v}"
        );
        if *status == StatusCode::OK {
            assert_eq!(v["status"], "Failed");
        } else {
            assert_eq!(keys(&v), ["code", "error"]);
        }
    }
    let (s, v) = call(
        &svc,
        post_raw("/ultra/v1/execute", "[1,2"),
        ctx("127.0.0.2", now, 30),
    )
    .await;
    assert_eq!((s, v["code"].as_i64()), (StatusCode::BAD_REQUEST, Some(-2)));
    // Only the wrong signer reached the ledger (which refused it).
    assert_eq!(ledger.state().submits, 1);
    assert!(ledger.state().landed.is_empty());

    // The blockhash's window (150 slots of 400 ms) ends before the order does.
    advance(Duration::from_secs(61)).await;
    let (s, v) = call(
        &svc,
        post("/ultra/v1/execute", &execute_body(&signed, id)),
        ctx("127.0.0.2", Instant::now(), 40),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str(), v["code"].as_i64()),
        (StatusCode::OK, Some("Failed"), Some(-1005)),
        "{v}"
    );

    // A fresh order lands, but fails in execution with a program error.
    let (o2, t2) = order_for(&svc, &kp, Instant::now(), 41).await;
    ledger.state().fail_execution = Some(ExecutionFailure {
        message: "custom program error: 0x1771".into(),
        custom_code: Some(6001),
    });
    let (s, v) = call(
        &svc,
        post(
            "/ultra/v1/execute",
            &execute_body(&sign(&t2, &kp), &o2["requestId"]),
        ),
        ctx("127.0.0.2", Instant::now(), 42),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str(), v["code"].as_i64()),
        (StatusCode::OK, Some("Failed"), Some(6001)),
        "{v}"
    );
    assert!(v["signature"].is_string() && v["slot"].is_string());
    assert!(v["error"].as_str().unwrap().contains("0x1771"));

    // After its ttl the order is gone.
    advance(Duration::from_secs(60)).await;
    let (s, v) = call(
        &svc,
        post("/ultra/v1/execute", &execute_body(&signed, id)),
        ctx("127.0.0.2", Instant::now(), 50),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(-1)),
        "{v}"
    );
    assert_eq!(svc.knobs().open_orders(), 1);
}

#[tokio::test(start_paused = true)]
async fn orders_expire_after_their_ttl() {
    let cfg = UltraConfig {
        order_ttl_ms: 5_000,
        ..UltraConfig::default()
    };
    let (svc, _, _, epoch) = ultra(cfg);
    let kp = Keypair::new();
    let (o, t) = order_for(&svc, &kp, epoch, 1).await;
    let body = execute_body(&sign(&t, &kp), &o["requestId"]);
    advance(Duration::from_millis(5_000)).await;
    let (s, v) = call(
        &svc,
        post("/execute", &body),
        ctx("127.0.0.2", Instant::now(), 2),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(-1)),
        "{v}"
    );
    assert_eq!(svc.knobs().open_orders(), 0);
}

#[tokio::test]
async fn error_codes_are_injected_into_orders_with_a_taker() {
    let (svc, _, ledger, epoch) = ultra(UltraConfig::default());
    let knobs = svc.knobs();
    assert!(knobs.set_error_code(Some(4)).is_err());
    let taker = Pubkey::new_unique();
    for code in [1u8, 2, 3] {
        knobs.set_error_code(Some(code)).unwrap();
        let (s, v) = call(
            &svc,
            get(&order_path("", 1_000_000, &format!("&taker={taker}"))),
            ctx("127.0.0.2", epoch, 1),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["transaction"], "");
        assert_eq!(v["errorCode"], code);
        assert!(!v["errorMessage"].as_str().unwrap().is_empty());
        // The quote is still there.
        assert!(amount(&v, "outAmount") > 0);
        // Without a taker no error code applies.
        let (_, v) = call(
            &svc,
            get(&order_path("", 1_000_000, "")),
            ctx("127.0.0.2", epoch, 2),
        )
        .await;
        assert!(
            v["transaction"].is_null() && v.get("errorCode").is_none(),
            "{v}"
        );
    }
    assert!(ledger.state().calls.is_empty(), "no transaction was built");
    let (_, v) = call(
        &svc,
        get(&order_path("", 1_000_000, &format!("&taker={taker}"))),
        ctx("127.0.0.2", epoch, 3),
    )
    .await;
    let id = v["requestId"].clone();
    let (s, v) = call(
        &svc,
        post("/execute", &execute_body("AAAA", &id)),
        ctx("127.0.0.2", epoch, 4),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(-3)),
        "{v}"
    );
    knobs.set_error_code(None).unwrap();
    let (_, v) = call(
        &svc,
        get(&order_path("", 1_000_000, &format!("&taker={taker}"))),
        ctx("127.0.0.2", epoch, 5),
    )
    .await;
    assert!(v.get("errorCode").is_none());
    assert!(tx::decode(v["transaction"].as_str().unwrap()).is_ok());
    let served: Vec<Option<u8>> = knobs
        .orders()
        .iter()
        .filter(|o| o.taker.is_some())
        .map(|o| o.error_code)
        .collect();
    assert_eq!(served, [Some(1), Some(2), Some(3), Some(3), None]);
}

#[tokio::test]
async fn routers_are_venue_subsets_and_bad_parameters_get_400() {
    let cfg = UltraConfig {
        routers: vec![
            RouterConfig {
                name: "metis".into(),
                label: "aggregator".into(),
                venues: vec!["HumidiFi".into(), "TesseraV".into(), "SolFiV2".into()],
                honours_exclude_dexes: true,
            },
            RouterConfig {
                name: "dflow".into(),
                label: "dflow".into(),
                venues: vec!["Meteora DLMM".into()],
                honours_exclude_dexes: false,
            },
        ],
        ..UltraConfig::default()
    };
    let (svc, market, _, epoch) = ultra(cfg);
    let (_, v) = call(
        &svc,
        get(&order_path("", 1_000_000, "&excludeRouters=metis")),
        ctx("127.0.0.2", epoch, 1),
    )
    .await;
    assert_eq!(
        (
            v["router"].as_str(),
            v["routePlan"][0]["swapInfo"]["label"].as_str()
        ),
        (Some("dflow"), Some("Meteora DLMM"))
    );
    let (_, v) = call(
        &svc,
        get(&order_path(
            "",
            1_000_000,
            "&routers=metis&excludeDexes=HumidiFi,TesseraV",
        )),
        ctx("127.0.0.2", epoch, 2),
    )
    .await;
    assert_eq!(
        (
            v["router"].as_str(),
            v["routePlan"][0]["swapInfo"]["label"].as_str()
        ),
        (Some("aggregator"), Some("SolFiV2"))
    );
    // excludeDexes does not bind the dflow router.
    let (_, v) = call(
        &svc,
        get(&order_path(
            "",
            1_000_000,
            "&routers=dflow&excludeDexes=Meteora+DLMM",
        )),
        ctx("127.0.0.2", epoch, 3),
    )
    .await;
    assert_eq!(v["router"], "dflow");
    // Both allowed: the best wins, as the market's best over all venues.
    let (_, v) = call(
        &svc,
        get(&order_path("", 1_000_000, "")),
        ctx("127.0.0.2", epoch, 4),
    )
    .await;
    let best = {
        let m = market.read();
        m.best_quote(
            m.mint(WSOL).unwrap(),
            m.mint(USDC).unwrap(),
            1_000_000,
            epoch,
            |_, _| true,
        )
        .unwrap()
    };
    assert_eq!(amount(&v, "outAmount"), best.out_amount);

    let taker = "&taker=nope";
    for (extra, needle) in [
        ("&excludeRouters=metis,dflow", "every router is excluded"),
        ("&routers=warp", "unknown router"),
        (taker, "taker"),
        ("&referralFee=20", "referralFee"),
        ("&broadcastFeeType=whatever", "broadcastFeeType"),
        ("&useWsol=maybe", "useWsol"),
    ] {
        // The bad value replaces the one the client always sends (a repeated key keeps its
        // first value, so appending would leave the good one in force).
        let (s, v) = call(
            &svc,
            get(&replace_param(&order_path("", 1_000_000, ""), extra)),
            ctx("127.0.0.2", epoch, 9),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{extra}: {v}");
        assert_eq!(keys(&v), ["error"]);
        assert!(
            v["error"].as_str().unwrap().contains(needle),
            "{extra}: {v}"
        );
    }
    let (s, v) = call(
        &svc,
        get(&format!(
            "/order?inputMint={WSOL}&outputMint={USDC}&amount=5&swapMode=ExactOut"
        )),
        ctx("127.0.0.2", epoch, 10),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("swapMode"));
    let (s, v) = call(
        &svc,
        get("/ultra/v1/order?inputMint=So11111111111111111111111111111111111111112"),
        ctx("127.0.0.2", epoch, 10),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("outputMint"));
    let (s, _) = call(&svc, get("/ultra/v1/execute"), ctx("127.0.0.2", epoch, 11)).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn with_keys_configured_an_accepted_x_api_key_is_needed() {
    let cfg = UltraConfig {
        api_keys: ApiKeys::new(["k1"]),
        ..UltraConfig::default()
    };
    let (svc, _, _, epoch) = ultra(cfg);
    let (s, v) = call(
        &svc,
        get(&order_path("", 1_000_000, "")),
        ctx("127.0.0.2", epoch, 1),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"].as_str().unwrap().contains("x-api-key"));
    let (s, _) = call(
        &svc,
        with_key(get(&order_path("", 1_000_000, "")), "k2"),
        ctx("127.0.0.2", epoch, 2),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &svc,
        with_key(get(&order_path("", 1_000_000, "")), "k1"),
        ctx("127.0.0.2", epoch, 3),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[test]
fn configuration_mistakes_are_explained() {
    for (text, needle) in [
        ("error_code = 7", "1, 2 and 3"),
        ("order_ttl_ms = 0", "order_ttl_ms"),
        ("routers = []", "at least one"),
        (
            "[[routers]]\nname = \"Metis\"\nlabel = \"aggregator\"",
            "lower case",
        ),
        (
            "[[routers]]\nname = \"a\"\nlabel = \"x\"\n[[routers]]\nname = \"a\"\nlabel = \"y\"",
            "twice",
        ),
        ("max_orders = 0", "max_orders"),
        ("order_tll_ms = 5", "unknown field"),
    ] {
        let e = toml::from_str::<UltraConfig>(text)
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate().map_err(|e| e.to_string()))
            .unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
    let doc = include_str!("../src/aggregators/ultra/config.rs")
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
    let cfg: UltraConfig = toml::from_str(&doc).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.routers.len(), 2);
    assert!(!format!("{cfg:?}").contains("my-key"));
}
