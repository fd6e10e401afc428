//! The Jupiter simulator hosted by the core on real sockets: both path styles, each source IP
//! seen, the core's 429 in Jupiter's error shape with `Retry-After`, and a whole round of
//! quote → swap-instructions over HTTP.
#![allow(clippy::unwrap_used)]

mod aggr_support;
mod support;

use aggr_support::*;
use bytes::Bytes;
use galileo_sim::aggregators::{JupiterConfig, JupiterService};
use galileo_sim::{BucketConfig, LimitsConfig, Sandbox, ServiceConfig};
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::json;
use solana_pubkey::Pubkey;
use support::{get as get_from, http1, ip};

#[tokio::test]
async fn served_over_sockets_with_the_cores_limits_in_jupiters_shape() {
    let (market, ledger, _) = world();
    let svc =
        JupiterService::new(JupiterConfig::default(), market.clone(), ledger.clone()).unwrap();
    let knobs = svc.knobs();
    let sb = Sandbox::builder()
        .service(
            svc,
            ServiceConfig {
                bind: ip("127.0.0.30"),
                limits: LimitsConfig {
                    per_ip: Some(BucketConfig {
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
    let addr = sb.service("jupiter").unwrap().addr();
    let path = |prefix: &str| {
        format!("{prefix}/quote?inputMint={WSOL}&outputMint={USDC}&amount=1000000000&slippageBps=0")
    };

    let a = get_from(ip("127.0.0.2"), addr, &path("/swap/v1"))
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::OK);
    let quote = a.json();
    let b = get_from(ip("127.0.0.2"), addr, &path("")).await.unwrap();
    assert_eq!(b.status, StatusCode::OK);
    let c = get_from(ip("127.0.0.2"), addr, &path("/swap/v1"))
        .await
        .unwrap();
    assert_eq!(c.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(keys(&c.json()), ["error", "errorCode"]);
    assert_eq!(c.json()["errorCode"], "RATE_LIMITED");
    assert!(c.json()["error"].as_str().unwrap().contains("your IP"));
    let secs: u64 = c.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(secs >= 1);
    // Another source IP has its own bucket.
    let d = get_from(ip("127.0.0.3"), addr, &path("")).await.unwrap();
    assert_eq!(d.status, StatusCode::OK);

    let served = knobs.quotes();
    let peers: Vec<String> = served.iter().map(|q| q.peer.to_string()).collect();
    assert_eq!(peers, ["127.0.0.2", "127.0.0.2", "127.0.0.3"]);
    // Each quote is the market's best at the instant it arrived.
    {
        let m = market.read();
        let (sol, usdc) = (m.mint(WSOL).unwrap(), m.mint(USDC).unwrap());
        for q in &served {
            let best = m
                .best_quote(sol, usdc, 1_000_000_000, q.received, |_, _| true)
                .unwrap();
            assert_eq!((q.out_amount, q.pool), (best.out_amount, best.pool));
        }
        assert_eq!(amount(&quote, "outAmount"), served[0].out_amount);
    }

    let body = json!({"quoteResponse": quote, "userPublicKey": Pubkey::new_unique().to_string(), "wrapAndUnwrapSol": false});
    let req = Request::post("/swap/v1/swap-instructions")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(&body).unwrap())))
        .unwrap();
    let e = http1(ip("127.0.0.4"), addr, req).await.unwrap();
    assert_eq!(e.status, StatusCode::OK, "{:?}", e.body);
    assert!(e.json()["swapInstruction"]["programId"].is_string());
    assert_eq!(ledger.state().calls.len(), 1);
    let stats = sb.service("jupiter").unwrap().stats();
    assert_eq!(stats.ip(ip("127.0.0.2")).rate_limited, 1);
    assert_eq!(stats.ip(ip("127.0.0.4")).status(200), 1);
}
