//! The Ultra simulator hosted by the core on real sockets: order from one source IP, sign with
//! a real keypair, execute from another through the fake ledger; `401` without an accepted
//! `x-api-key`; per-key and per-IP limits with the core's 429 in Ultra's `{"error"}` shape and
//! `Retry-After`; a forced 500 in the same shape; keys never shown in the stats.
#![allow(clippy::unwrap_used)]

mod aggr_support;
mod support;

use std::net::SocketAddr;

use aggr_support::*;
use bytes::Bytes;
use galileo_sim::aggregators::wire::tx;
use galileo_sim::aggregators::{ApiKeys, UltraConfig, UltraService};
use galileo_sim::{BucketConfig, Fault, LimitsConfig, Sandbox, ServiceConfig};
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use support::{Answer, http1, ip};

const KEY: &str = "ultra-key-1234";
const OTHER_KEY: &str = "ultra-key-5678";

async fn send(
    src: &str,
    addr: SocketAddr,
    key: Option<&str>,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let mut b = Request::builder()
        .method(if body.is_some() { "POST" } else { "GET" })
        .uri(path)
        .header("host", addr.to_string())
        .header("accept", "application/json");
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    let bytes = body.map_or_else(Bytes::new, |v| Bytes::from(serde_json::to_vec(v).unwrap()));
    http1(ip(src), addr, b.body(Full::new(bytes)).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn order_and_execute_over_sockets_with_the_cores_limits_in_ultras_shape() {
    let (market, ledger, _) = world();
    let svc = UltraService::new(
        UltraConfig {
            api_keys: ApiKeys::new([KEY, OTHER_KEY]),
            ..UltraConfig::default()
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
                bind: ip("127.0.0.50"),
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
    let running = sb.service("ultra").unwrap();
    let addr = running.addr();
    let kp = Keypair::new();
    let order_path = format!(
        "/ultra/v1/order?inputMint={WSOL}&outputMint={USDC}&amount=1000000000&swapMode=ExactIn&slippageBps=0&useWsol=true&broadcastFeeType=exactFee&priorityFeeLamports=10&taker={}",
        kp.pubkey()
    );

    // Order from .2, execute from .3, both with the key.
    let o = send("127.0.0.2", addr, Some(KEY), &order_path, None).await;
    assert_eq!(o.status, StatusCode::OK, "{:?}", o.body);
    let o = o.json();
    let t = tx::decode(o["transaction"].as_str().unwrap()).unwrap();
    let signed = VersionedTransaction::try_new(t.message.clone(), &[&kp]).unwrap();
    let body = json!({"signedTransaction": tx::encode(&signed), "requestId": o["requestId"]});
    let e = send("127.0.0.3", addr, Some(KEY), "/execute", Some(&body)).await;
    assert_eq!(e.status, StatusCode::OK, "{:?}", e.body);
    let e = e.json();
    assert_eq!(e["status"], "Success");
    assert_eq!(e["signature"], signed.signatures[0].to_string());
    {
        let st = ledger.state();
        assert_eq!(st.landed.len(), 1);
        assert_eq!(st.landed[0].2, ip("127.0.0.3"));
    }

    // The key's bucket (2) is empty now, whichever IP asks.
    let limited = send("127.0.0.4", addr, Some(KEY), &order_path, None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(keys(&limited.json()), ["error"]);
    assert!(
        limited.json()["error"]
            .as_str()
            .unwrap()
            .contains("your API key")
    );
    let secs: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs >= 1);
    // The other key has its own; .2's IP bucket (3) stops it after one more.
    let b = send("127.0.0.2", addr, Some(OTHER_KEY), &order_path, None).await;
    assert_eq!(b.status, StatusCode::OK);
    let b = send("127.0.0.2", addr, Some(OTHER_KEY), &order_path, None).await;
    assert_eq!(b.status, StatusCode::OK);
    let c = send("127.0.0.2", addr, Some(OTHER_KEY), &order_path, None).await;
    assert_eq!(c.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(c.json()["error"].as_str().unwrap().contains("your IP"));

    // Missing and unknown keys: 401 {"error"}.
    for key in [None, Some("nope-nope")] {
        let u = send("127.0.0.5", addr, key, &order_path, None).await;
        assert_eq!(u.status, StatusCode::UNAUTHORIZED);
        assert_eq!(keys(&u.json()), ["error"]);
    }
    // A forced 500 from the core: Ultra's shape.
    running.controls().force(Fault::ServerError);
    let f = send("127.0.0.6", addr, None, &order_path, None).await;
    assert_eq!(f.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(keys(&f.json()), ["error"]);

    let orders = knobs.orders();
    let peers: Vec<String> = orders.iter().map(|o| o.quote.peer.to_string()).collect();
    assert_eq!(peers, ["127.0.0.2", "127.0.0.2", "127.0.0.2"]);
    for o in &orders {
        assert_eq!(o.quote.context_slot, ledger.slot_at(o.quote.received));
    }
    assert_eq!(knobs.executions()[0].peer, ip("127.0.0.3"));
    let stats = running.stats();
    assert_eq!(
        (stats.key(KEY).status(200), stats.key(KEY).rate_limited),
        (2, 1)
    );
    assert_eq!(stats.ip(ip("127.0.0.5")).status(401), 2);
    let shown = serde_json::to_string(&stats).unwrap() + &stats.to_prometheus();
    for secret in [KEY, OTHER_KEY, "nope-nope"] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
}
