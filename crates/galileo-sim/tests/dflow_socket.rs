//! The DFlow simulator hosted by the core on real sockets: `401` for a missing or unknown
//! `x-api-key`, per-key limits counted per key (across source IPs) as well as per-IP limits,
//! the core's 429 in DFlow's `{code, msg}` shape with `Retry-After`, a forced 500 in the same
//! shape, keys never shown in the stats, and quote → swap-instructions over HTTP.
#![allow(clippy::unwrap_used)]

mod aggr_support;
mod support;

use std::net::SocketAddr;

use aggr_support::*;
use bytes::Bytes;
use galileo_sim::aggregators::{ApiKeys, DflowConfig, DflowService};
use galileo_sim::{BucketConfig, Fault, LimitsConfig, Sandbox, ServiceConfig};
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use solana_pubkey::Pubkey;
use support::{Answer, http1, ip};

const KEY_A: &str = "dflow-key-aaaa";
const KEY_B: &str = "dflow-key-bbbb";

fn quote_path() -> String {
    format!(
        "/quote?inputMint={WSOL}&outputMint={USDC}&amount=1000000000&slippageBps=2&excludeDexes=DFlow+JIT+Router&maxRouteLength=3"
    )
}

async fn send(
    src: &str,
    addr: SocketAddr,
    key: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("accept", "application/json")
        .header("user-agent", "galileo/test");
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    let bytes = body.map_or_else(Bytes::new, |v| Bytes::from(serde_json::to_vec(v).unwrap()));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    http1(ip(src), addr, b.body(Full::new(bytes)).unwrap())
        .await
        .unwrap()
}

fn error(a: &Answer) -> (StatusCode, String, String) {
    let v = a.json();
    assert_eq!(keys(&v), ["code", "msg"], "{v}");
    (
        a.status,
        v["code"].as_str().unwrap().to_owned(),
        v["msg"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn keys_and_limits_through_the_core_in_dflows_shape() {
    let (market, ledger, _) = world();
    let svc = DflowService::new(
        DflowConfig {
            api_keys: ApiKeys::new([KEY_A, KEY_B]),
            ..DflowConfig::default()
        },
        market,
        ledger.clone(),
    )
    .unwrap();
    let knobs = svc.knobs();
    let sb = Sandbox::builder()
        .service(
            svc,
            ServiceConfig {
                bind: ip("127.0.0.40"),
                limits: LimitsConfig {
                    per_ip: Some(BucketConfig {
                        rate: 0.001,
                        burst: 3,
                    }),
                    per_key: Some(BucketConfig {
                        rate: 0.001,
                        burst: 2,
                    }),
                    ..LimitsConfig::default()
                },
                ..ServiceConfig::default()
            },
        )
        .start()
        .unwrap();
    let running = sb.service("dflow").unwrap();
    let addr = running.addr();
    let q = quote_path();

    // Key A: two quotes, then its bucket is empty, from this IP and from any other.
    let first = send("127.0.0.2", addr, Some(KEY_A), "GET", &q, None).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let quote = first.json();
    let a2 = send("127.0.0.2", addr, Some(KEY_A), "GET", &q, None).await;
    assert_eq!(a2.status, StatusCode::OK);
    for src in ["127.0.0.2", "127.0.0.3"] {
        let a = send(src, addr, Some(KEY_A), "GET", &q, None).await;
        let (status, code, msg) = error(&a);
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        );
        assert!(msg.contains("your API key"), "{msg}");
        let secs: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(secs >= 1);
    }
    // Key B has its own bucket; the IP's bucket (3) is what stops it next.
    let b1 = send("127.0.0.2", addr, Some(KEY_B), "GET", &q, None).await;
    assert_eq!(b1.status, StatusCode::OK);
    let b2 = send("127.0.0.2", addr, Some(KEY_B), "GET", &q, None).await;
    let (status, code, msg) = error(&b2);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(msg.contains("your IP"), "{msg}");
    assert!(b2.headers.contains_key("retry-after"));
    // Missing and unknown keys: 401 in DFlow's shape.
    let none = send("127.0.0.4", addr, None, "GET", &q, None).await;
    let (status, code, _) = error(&none);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let wrong = send("127.0.0.4", addr, Some("not-a-key"), "GET", &q, None).await;
    let (status, code, msg) = error(&wrong);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert!(!msg.contains("not-a-key"));

    // Quote → swap-instructions with key B from another IP.
    let user = Pubkey::new_unique();
    let body = json!({"quoteResponse": quote, "userPublicKey": user.to_string(),
        "wrapAndUnwrapSol": true, "dynamicComputeUnitLimit": true});
    let swap = send(
        "127.0.0.5",
        addr,
        Some(KEY_B),
        "POST",
        "/swap-instructions",
        Some(&body),
    )
    .await;
    assert_eq!(swap.status, StatusCode::OK, "{:?}", swap.body);
    let v = swap.json();
    assert!(v["blockhashWithMetadata"]["blockhash"].is_string());
    assert!(v["computeUnitLimit"].is_u64());
    let data = instruction(&v["swapInstruction"]).data;
    assert!(data.len() >= 12);
    assert_eq!(&data[data.len() - 4..], [2, 0, 0, 0]);
    assert_eq!(ledger.state().calls.len(), 1);

    // A forced 500 from the core, then the failed_to_compute_swap switch: both {code, msg}.
    running.controls().force(Fault::ServerError);
    // (The core injects it before the service sees the request: no key needed.)
    let forced = send("127.0.0.6", addr, None, "GET", &q, None).await;
    let (status, code, _) = error(&forced);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    );
    knobs.set_failed_to_compute(true);
    // Key B is spent by now (b1, swap): lift the per-key limit for this last call.
    running
        .controls()
        .set_limits(LimitsConfig {
            per_key: None,
            ..running.controls().limits()
        })
        .unwrap();
    let failed = send(
        "127.0.0.7",
        addr,
        Some(KEY_B),
        "POST",
        "/swap-instructions",
        Some(&body),
    )
    .await;
    let (status, code, _) = error(&failed);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "failed_to_compute_swap")
    );
    assert!(String::from_utf8_lossy(&failed.body).contains("failed_to_compute_swap"));

    // Counted per key and per IP; the keys themselves are never shown.
    let stats = running.stats();
    let a = stats.key(KEY_A);
    assert_eq!((a.status(200), a.rate_limited), (2, 2));
    assert_eq!(stats.ip(ip("127.0.0.2")).rate_limited, 2);
    assert_eq!(stats.ip(ip("127.0.0.3")).rate_limited, 1);
    assert_eq!(stats.ip(ip("127.0.0.4")).status(401), 2);
    let shown = serde_json::to_string(&stats).unwrap() + &stats.to_prometheus();
    for secret in [KEY_A, KEY_B, "not-a-key"] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
    assert!(stats.recent.iter().all(|r| r.path.starts_with('/')));
}
