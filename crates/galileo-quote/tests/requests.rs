//! What the clients put on the wire, seen by a recording `HttpClient`: headers, the key, the
//! per-request timeout, query order, request bodies against the specs' examples, and what the
//! clients do with canned answers.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use galileo_net::{
    HttpClient, Inventory, IpAllocator, IpLease, NetError, RequestTimeout, SourceIp, TaskKind,
};
use galileo_quote::dflow::{self, DflowClient, DflowConfig};
use galileo_quote::jupiter::{self, JupiterClient, JupiterConfig, merge_round_trip};
use galileo_quote::ultra::{UltraClient, UltraConfig};
use galileo_quote::{ApiKey, Leg, QuoteError, QuoteRequest, QuoteSource};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use solana_pubkey::Pubkey;

const SOL: &str = "So11111111111111111111111111111111111111112";
const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const JUP: &str = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN";
const FAKE_USER: &str = "FakeUser11111111111111111111111111111111111";

fn key(s: &str) -> Pubkey {
    s.parse().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// One request as sent.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: String,
    headers: HeaderMap,
    timeout: Option<Duration>,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// A canned answer: status and body.
type Answer = (u16, Vec<u8>);

/// Records every request and answers from a queue of canned answers.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

impl Recorder {
    fn answer(&self, status: u16, body: impl Into<Vec<u8>>) -> &Self {
        self.answers
            .lock()
            .unwrap()
            .push_back((status, body.into()));
        self
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn last(&self) -> Seen {
        self.seen().pop().unwrap()
    }
}

impl HttpClient for Recorder {
    async fn send(
        &self,
        _lease: &IpLease,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Bytes>, NetError> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.unwrap().to_bytes().to_vec();
        self.seen.lock().unwrap().push(Seen {
            method: parts.method,
            uri: parts.uri.to_string(),
            timeout: parts.extensions.get::<RequestTimeout>().map(|t| t.0),
            headers: parts.headers,
            body,
        });
        let (status, body) = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((200, b"{}".to_vec()));
        Ok(Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .body(Bytes::from(body))
            .unwrap())
    }
}

fn lease() -> IpLease {
    let inv = Inventory::from_sources(vec![SourceIp::new("127.0.0.9".parse().unwrap())]).unwrap();
    IpAllocator::builder(&inv)
        .build()
        .try_acquire(TaskKind::Quote, 1)
        .unwrap()
}

fn sol_usdc(amount: u64) -> QuoteRequest {
    QuoteRequest::new(key(SOL), key(USDC), amount, Leg::Buy)
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(has_null),
        Value::Object(m) => m.values().any(has_null),
        _ => false,
    }
}

#[tokio::test]
async fn every_request_carries_accept_user_agent_the_key_and_its_timeout() {
    let rec = Recorder::default();
    let jupiter = JupiterClient::new(
        JupiterConfig {
            quote_url: "http://jup.test/swap/v1/quote".into(),
            swap_instructions_url: "http://jup.test/swap/v1/swap-instructions".into(),
            api_key: Some(ApiKey::new("k-123")),
            api_key_header: "x-custom-key".into(),
            quote_timeout_ms: 1_234,
            swap_timeout_ms: 5_678,
            ..JupiterConfig::default()
        },
        rec.clone(),
    )
    .unwrap();
    let lease = lease();
    rec.answer(200, fixture("spec/jupiter_quote_response.json"));
    let q = jupiter
        .quote(&lease, &sol_usdc(1_000_000_000))
        .await
        .unwrap();
    rec.answer(200, fixture("spec/jupiter_swap_instructions_response.json"));
    jupiter
        .swap_instructions(&lease, &q, &key(FAKE_USER))
        .await
        .unwrap();

    let [get, post] = <[Seen; 2]>::try_from(rec.seen()).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    for (s, timeout) in [(&get, 1_234), (&post, 5_678)] {
        assert_eq!(s.header("accept"), Some("application/json"));
        assert_eq!(
            s.header("user-agent"),
            Some(format!("galileo/{version}").as_str())
        );
        assert_eq!(s.header("x-custom-key"), Some("k-123"));
        assert!(s.headers.get("x-custom-key").unwrap().is_sensitive());
        assert_eq!(s.header("x-api-key"), None);
        assert_eq!(s.timeout, Some(Duration::from_millis(timeout)));
        // Nothing a browser would send.
        for h in ["origin", "referer", "cookie", "sec-fetch-mode"] {
            assert_eq!(s.header(h), None);
        }
    }
    assert_eq!(
        (get.method.clone(), get.header("content-type")),
        (Method::GET, None)
    );
    assert!(get.body.is_empty());
    assert_eq!(post.method, Method::POST);
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.uri, "http://jup.test/swap/v1/swap-instructions");

    // Without a key, no key header at all.
    let rec = Recorder::default();
    let open = JupiterClient::new(JupiterConfig::default(), rec.clone()).unwrap();
    rec.answer(200, fixture("spec/jupiter_quote_response.json"));
    open.quote(&lease, &sol_usdc(1_000_000_000)).await.unwrap();
    assert_eq!(rec.last().header("x-api-key"), None);
    assert!(
        rec.last()
            .uri
            .starts_with("https://lite-api.jup.ag/swap/v1/quote?")
    );
}

#[tokio::test]
async fn queries_follow_the_reference_order_and_send_only_what_is_set() {
    let r = QuoteRequest::new(key(SOL), key(JUP), 42, Leg::Sell);
    let jupiter = JupiterClient::new(
        JupiterConfig {
            quote_url: "http://h/q?tenant=a".into(),
            slippage_bps: 3,
            only_direct_routes: true,
            restrict_intermediate_tokens: Some(false),
            dexes: vec!["Raydium".into(), "Orca V2".into()],
            exclude_dexes: vec!["Meteora DLMM".into()],
            max_accounts: Some(28),
            ..JupiterConfig::default()
        },
        Recorder::default(),
    )
    .unwrap();
    assert_eq!(
        jupiter.quote_query(&r),
        format!(
            "inputMint={SOL}&outputMint={JUP}&amount=42&swapMode=ExactIn&slippageBps=3\
             &onlyDirectRoutes=true&restrictIntermediateTokens=false\
             &dexes=Raydium%2COrca+V2&excludeDexes=Meteora+DLMM&maxAccounts=28"
        )
    );
    let plain = JupiterClient::new(JupiterConfig::default(), Recorder::default()).unwrap();
    assert_eq!(
        plain.quote_query(&r),
        format!("inputMint={SOL}&outputMint={JUP}&amount=42&swapMode=ExactIn&slippageBps=0")
    );
    // A URL with its own query keeps it.
    let rec = Recorder::default();
    let with_query = JupiterClient::new(
        JupiterConfig {
            quote_url: "http://h/q?tenant=a".into(),
            ..JupiterConfig::default()
        },
        rec.clone(),
    )
    .unwrap();
    let _ = with_query.quote(&lease(), &r).await;
    assert!(
        rec.last().uri.starts_with("http://h/q?tenant=a&inputMint="),
        "{}",
        rec.last().uri
    );

    let dflow = DflowClient::new(
        DflowConfig {
            slippage_bps: 2,
            dexes: vec!["Tessera V".into()],
            exclude_dexes: vec!["DFlow JIT Router".into()],
            only_direct_routes: true,
            max_route_length: Some(3),
            ..DflowConfig::default()
        },
        Recorder::default(),
    )
    .unwrap();
    assert_eq!(
        dflow.quote_query(&r),
        format!(
            "inputMint={SOL}&outputMint={JUP}&amount=42&slippageBps=2&dexes=Tessera+V\
             &excludeDexes=DFlow+JIT+Router&onlyDirectRoutes=true&maxRouteLength=3"
        )
    );

    let taker = key("FakeTaker1111111111111111111111111111111111");
    let all = UltraConfig {
        taker: Some(taker),
        referral_account: Some(key(FAKE_USER)),
        referral_fee: Some(50),
        exclude_routers: vec!["metis".into(), "dflow".into(), "jupiterz".into()],
        exclude_dexes: vec!["Obric V2".into()],
        payer: Some(key(SOL)),
        slippage_bps: Some(0),
        use_wsol: Some(true),
        broadcast_fee_type: Some("exactFee".into()),
        priority_fee_lamports: Some(10),
        jito_tip_lamports: Some(0),
        routers: vec!["okx".into()],
        ..UltraConfig::default()
    };
    let ultra = UltraClient::new(all, Recorder::default()).unwrap();
    assert_eq!(
        ultra.order_query(&r),
        format!(
            "inputMint={SOL}&outputMint={JUP}&amount=42&slippageBps=0&useWsol=true\
             &broadcastFeeType=exactFee&priorityFeeLamports=10&excludeDexes=Obric+V2\
             &taker={taker}&referralAccount={FAKE_USER}&referralFee=50\
             &excludeRouters=metis%2Cdflow%2Cjupiterz&payer={SOL}&routers=okx"
        ),
        "jitoTipLamports = 0 is not sent"
    );
    let official = UltraClient::new(UltraConfig::default(), Recorder::default()).unwrap();
    assert_eq!(
        official.order_query(&r),
        format!("inputMint={SOL}&outputMint={JUP}&amount=42"),
        "nothing unofficial by default"
    );
}

#[tokio::test]
async fn swap_bodies_have_the_spec_examples_keys_and_no_nulls() {
    let example: Value =
        serde_json::from_slice(&fixture("spec/jupiter_swap_instructions_request.json")).unwrap();
    let buy = jupiter::decode_quote(&fixture("spec/jupiter_quote_response.json")).unwrap();
    let merged = merge_round_trip(&buy, &buy, buy.in_amount + 1);
    let rec = Recorder::default();
    let lease = lease();
    for price in [None, Some(0), Some(7)] {
        let client = JupiterClient::new(
            JupiterConfig {
                dynamic_compute_unit_limit: true,
                wrap_and_unwrap_sol: false,
                compute_unit_price_micro_lamports: price,
                ..JupiterConfig::default()
            },
            rec.clone(),
        )
        .unwrap();
        rec.answer(200, fixture("spec/jupiter_swap_instructions_response.json"));
        client
            .swap_instructions(&lease, &merged, &key(FAKE_USER))
            .await
            .unwrap();
        let body = rec.last().json();
        assert!(!has_null(&body), "{body}");
        let mut expect = keys(&example);
        expect.retain(|k| k != "skipUserAccountsRpcCalls" && k != "useSharedAccounts");
        if price == Some(7) {
            expect.insert("computeUnitPriceMicroLamports".into());
            assert_eq!(body["computeUnitPriceMicroLamports"], 7);
        }
        assert_eq!(keys(&body), expect, "price {price:?}");
        let mut quote_keys = keys(&example["quoteResponse"]);
        quote_keys.remove("marketInfos");
        assert_eq!(keys(&body["quoteResponse"]), quote_keys);
        assert_eq!(body["userPublicKey"], FAKE_USER);
        assert_eq!(
            body["quoteResponse"]["inputMint"],
            body["quoteResponse"]["outputMint"]
        );
        assert_eq!(body["quoteResponse"]["outAmount"], "1000000001");
        assert_eq!(body["quoteResponse"]["priceImpactPct"], "0");
        assert_eq!(
            (
                body["wrapAndUnwrapSol"].clone(),
                body["dynamicComputeUnitLimit"].clone()
            ),
            (Value::Bool(false), Value::Bool(true))
        );
    }

    // DFlow: the echoed quote keeps the spec's members (nulls dropped).
    let raw: Value = serde_json::from_slice(&fixture("spec/dflow_quote_response.json")).unwrap();
    let q = dflow::decode_quote(&fixture("spec/dflow_quote_response.json")).unwrap();
    let rec = Recorder::default();
    let client = DflowClient::new(DflowConfig::default(), rec.clone()).unwrap();
    rec.answer(200, fixture("spec/dflow_swap_instructions_response.json"));
    client
        .swap_instructions(&lease, &q, &key(FAKE_USER))
        .await
        .unwrap();
    let body = rec.last().json();
    assert_eq!(
        rec.last().uri,
        "https://quote-api.dflow.net/swap-instructions"
    );
    assert!(!has_null(&body));
    assert_eq!(
        keys(&body),
        [
            "dynamicComputeUnitLimit",
            "quoteResponse",
            "userPublicKey",
            "wrapAndUnwrapSol"
        ]
        .map(String::from)
        .into()
    );
    let mut expect = keys(&raw);
    expect.retain(|k| !raw[k].is_null());
    assert_eq!(keys(&body["quoteResponse"]), expect);

    // Ultra /execute: exactly the example's members, the bytes in standard base64.
    let example: Value =
        serde_json::from_slice(&fixture("spec/ultra_execute_request.json")).unwrap();
    let rec = Recorder::default();
    let ultra = UltraClient::new(UltraConfig::default(), rec.clone()).unwrap();
    rec.answer(200, fixture("spec/ultra_execute_response.json"));
    let done = ultra
        .execute(&lease, &[1, 2, 3, 250], "req-1")
        .await
        .unwrap();
    assert!(done.is_success());
    let body = rec.last().json();
    assert_eq!(keys(&body), keys(&example));
    assert_eq!(
        (
            body["signedTransaction"].as_str(),
            body["requestId"].as_str()
        ),
        (Some("AQID+g=="), Some("req-1"))
    );
    assert_eq!(rec.last().uri, "https://lite-api.jup.ag/ultra/v1/execute");
    assert_eq!(rec.last().timeout, Some(Duration::from_millis(10_000)));
}

#[tokio::test]
async fn dflow_thresholds_are_recomputed_with_the_configured_slippage() {
    // The example answer says slippage 2 and min 165041006; configured 50, the client
    // recomputes floor(165074021 × 9950 / 10000).
    let rec = Recorder::default();
    let client = DflowClient::new(
        DflowConfig {
            slippage_bps: 50,
            ..DflowConfig::default()
        },
        rec.clone(),
    )
    .unwrap();
    rec.answer(200, fixture("spec/dflow_quote_response.json"));
    let q = client
        .quote(&lease(), &sol_usdc(1_000_000_000))
        .await
        .unwrap();
    assert_eq!(q.slippage_bps, 50);
    assert_eq!(
        (q.min_out_amount, q.other_amount_threshold),
        (164_248_650, 164_248_650)
    );
    assert_eq!(q.out_amount, 165_074_021);
}

#[tokio::test]
async fn an_answer_for_other_mints_or_another_amount_is_refused() {
    let rec = Recorder::default();
    let client = JupiterClient::new(JupiterConfig::default(), rec.clone()).unwrap();
    let lease = lease();
    for request in [
        QuoteRequest::new(key(SOL), key(JUP), 1_000_000_000, Leg::Buy),
        sol_usdc(2_000_000_000),
    ] {
        rec.answer(200, fixture("spec/jupiter_quote_response.json"));
        let e = client.quote(&lease, &request).await.unwrap_err();
        assert!(
            matches!(&e, QuoteError::Decode { reason, .. } if reason.starts_with("not the quote asked for")),
            "{e:?}"
        );
    }
    // Ultra: the mints must match; the amount may differ (fees from the input).
    let rec = Recorder::default();
    let ultra = UltraClient::new(UltraConfig::default(), rec.clone()).unwrap();
    rec.answer(200, fixture("spec/ultra_order_response.json"));
    ultra.quote(&lease, &sol_usdc(999)).await.unwrap();
    rec.answer(200, fixture("spec/ultra_order_response.json"));
    let e = ultra
        .quote(
            &lease,
            &QuoteRequest::new(key(USDC), key(SOL), 1_000_000_000, Leg::Sell),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not the quote asked for"), "{e}");
}

#[tokio::test]
async fn backend_limit_and_backend_come_from_the_config_and_the_builder() {
    let c = JupiterClient::new(
        JupiterConfig {
            backend_limit: std::num::NonZeroUsize::new(3),
            ..JupiterConfig::default()
        },
        Recorder::default(),
    )
    .unwrap();
    assert_eq!(c.backend_limit().map(|n| n.get()), Some(3));
    assert_eq!(c.backend(), None);
    assert_eq!((c.name(), c.cost()), ("jupiter", 1));
    let unbounded = DflowClient::new(DflowConfig::default(), Recorder::default()).unwrap();
    assert_eq!(unbounded.backend_limit(), None);

    let inv = Inventory::from_sources(vec![SourceIp::new("127.0.0.9".parse().unwrap())]).unwrap();
    let mut b = IpAllocator::builder(&inv);
    let id = b.backend("ultra", None);
    let u = UltraClient::new(UltraConfig::default(), Recorder::default())
        .unwrap()
        .with_backend(id);
    assert_eq!((u.backend(), u.name()), (Some(id), "ultra"));
}
