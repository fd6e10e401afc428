//! The Titan handshake over real sockets: JWT on each carrier and every refusal (401 before
//! any upgrade), sub-protocol negotiation and compression both ways, the core's per-IP limit
//! on upgrades, and the secret kept out of `Debug`.
#![allow(clippy::unwrap_used)]

mod titan_support;

use galileo_sim::ServiceConfig;
use galileo_sim::config::{BucketConfig, LimitsConfig};
use galileo_sim::titan::jwt::{self, Claims};
use galileo_sim::titan::wire::{
    ClientRequest, GetInfoRequest, RequestData, ResponseData, ServerMessage,
};
use galileo_sim::titan::{Compression, JwtSecret, SyntheticRoutes, TitanConfig, TitanService};
use titan_support::*;

fn get_info(id: u32) -> ClientRequest {
    ClientRequest {
        id,
        data: RequestData::GetInfo(GetInfoRequest {}),
    }
}

async fn info_round_trip(c: &mut Client, id: u32) {
    c.send(&get_info(id)).await;
    match c.recv().await {
        ServerMessage::Response(r) => {
            assert_eq!(r.request_id, id);
            assert!(matches!(r.data, ResponseData::GetInfo(_)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_good_token_is_accepted_on_each_carrier_and_sub_is_recorded() {
    let sim = start(config());
    for (n, carrier) in [
        Carrier::Query,
        Carrier::Authorization,
        Carrier::Authentication,
    ]
    .into_iter()
    .enumerate()
    {
        let sub = format!("user-{n}");
        let mut c = open(
            ip("127.0.0.2"),
            sim.addr,
            Some(&token(&sub)),
            carrier,
            &["v1.api.titan.ag"],
        )
        .await
        .unwrap_or_else(|e| panic!("{carrier:?}: {e}"));
        info_round_trip(&mut c, 1).await;
        let rec = sim.handle.record();
        let conn = rec.by_peer(c.local).unwrap();
        assert_eq!(conn.sub, sub, "{carrier:?}");
        assert_eq!(conn.peer.ip(), ip("127.0.0.2"));
    }
}

#[tokio::test]
async fn bad_tokens_get_401_before_any_upgrade() {
    let sim = start(config());
    let now = unix_now();
    let signed = |c: &Claims| jwt::sign(c, SECRET.as_bytes());
    let mut expired = Claims::new("u", now - 2000, 900);
    expired.iat = now - 2000;
    let mut future_iat = Claims::new("u", now, 900);
    future_iat.iat = now + 3600;
    let mut future_nbf = Claims::new("u", now, 900);
    future_nbf.nbf = Some(now + 3600);
    let mut wrong_aud = Claims::new("u", now, 900);
    wrong_aud.aud = "api.titan.exchange".into();
    let bad_sig = jwt::sign(&Claims::new("u", now, 900), b"not the shared secret");
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("expired", Some(signed(&expired)), "expired"),
        ("future iat", Some(signed(&future_iat)), "in the future"),
        ("future nbf", Some(signed(&future_nbf)), "nbf"),
        ("wrong aud", Some(signed(&wrong_aud)), "audience"),
        ("bad signature", Some(bad_sig), "signature"),
        ("garbage", Some("not.a.jwt".into()), "malformed"),
        ("missing", None, "missing token"),
    ];
    for carrier in [Carrier::Query, Carrier::Authorization] {
        for (what, tok, needle) in &cases {
            let h = open(
                ip("127.0.0.3"),
                sim.addr,
                tok.as_deref(),
                carrier,
                &["v1.api.titan.ag"],
            )
            .await;
            let (status, body) = refused(h);
            assert_eq!(status, 401, "{what} via {carrier:?}");
            let msg = body["message"].as_str().unwrap();
            assert!(msg.contains(needle), "{what}: {msg}");
            if let Some(t) = tok {
                assert!(!msg.contains(t.as_str()), "the token leaks in {msg}");
            }
        }
    }
    // None of them became a connection.
    assert!(sim.handle.record().connections.is_empty());
}

#[tokio::test]
async fn each_compression_is_negotiated_and_used_both_ways() {
    let sim = start(config());
    for zip in Zip::ALL {
        // Offer the one token (plus an unknown one, which is skipped).
        let mut c = open(
            ip("127.0.0.4"),
            sim.addr,
            Some(&token("z")),
            Carrier::Authorization,
            &["v2.api.titan.ag", zip.token()],
        )
        .await
        .unwrap();
        assert_eq!(c.protocol, zip.token());
        assert_eq!(c.zip, zip);
        // The client compresses its request itself and decompresses the answer itself:
        // both directions use the negotiated compression, or decoding fails.
        info_round_trip(&mut c, 7).await;
        let rec = sim.handle.record();
        let conn = rec.by_peer(c.local).unwrap();
        assert_eq!(conn.protocol, zip.token());
        assert_eq!(conn.requests().count(), 1, "{zip:?}: the server decoded it");
    }
}

#[tokio::test]
async fn the_echoed_token_is_the_preferred_one_among_those_offered() {
    let sim = start(config());
    let all = [
        "v1.api.titan.ag",
        "v1.api.titan.ag+brotli",
        "v1.api.titan.ag+zstd",
        "v1.api.titan.ag+gzip",
    ];
    let c = open(
        ip("127.0.0.5"),
        sim.addr,
        Some(&token("p")),
        Carrier::Query,
        &all,
    )
    .await
    .unwrap();
    assert_eq!(c.protocol, "v1.api.titan.ag+gzip");
    let c = open(
        ip("127.0.0.5"),
        sim.addr,
        Some(&token("p")),
        Carrier::Query,
        &["v1.api.titan.ag", "v1.api.titan.ag+brotli"],
    )
    .await
    .unwrap();
    assert_eq!(c.protocol, "v1.api.titan.ag+brotli");

    // A server preferring plain MessagePack over zstd.
    let sim2 = start(TitanConfig {
        compression: vec![Compression::None, Compression::Zstd],
        ..config()
    });
    let c = open(
        ip("127.0.0.5"),
        sim2.addr,
        Some(&token("p")),
        Carrier::Query,
        &all,
    )
    .await
    .unwrap();
    assert_eq!(c.protocol, "v1.api.titan.ag");
    // Only gzip offered, which this server does not take: refused.
    let (status, body) = refused(
        open(
            ip("127.0.0.5"),
            sim2.addr,
            Some(&token("p")),
            Carrier::Query,
            &["v1.api.titan.ag+gzip"],
        )
        .await,
    );
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("v1.api.titan.ag+zstd")
    );
}

#[tokio::test]
async fn no_acceptable_sub_protocol_is_refused() {
    let sim = start(config());
    for offered in [
        &[][..],
        &["vi.api.titan.ag+gzip"][..],
        &["v1.api.titan.ag+lz4", "chat"][..],
    ] {
        let (status, body) = refused(
            open(
                ip("127.0.0.6"),
                sim.addr,
                Some(&token("p")),
                Carrier::Query,
                offered,
            )
            .await,
        );
        assert_eq!(status, 400, "{offered:?}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("Sec-WebSocket-Protocol"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn wrong_paths_and_plain_requests_are_answered_as_a_server_would() {
    let sim = start(config());
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let get = |path: &str| {
        http::Request::get(format!("http://{}{path}", sim.addr))
            .header("authorization", format!("Bearer {}", token("h")))
            .body(http_body_util::Full::default())
            .unwrap()
    };
    let r = client.request(get("/api/v2/ws")).await.unwrap();
    assert_eq!(r.status(), 404);
    let r = client.request(get("/api/v1/ws")).await.unwrap();
    assert_eq!(r.status(), 400, "a GET without upgrade");
}

#[tokio::test]
async fn the_per_ip_limit_applies_to_upgrades_through_the_core() {
    let sim = start_with(
        config(),
        ServiceConfig {
            limits: LimitsConfig {
                per_ip: Some(BucketConfig {
                    rate: 0.001,
                    burst: 2,
                }),
                ..LimitsConfig::default()
            },
            ..ServiceConfig::default()
        },
    );
    let _a = connect(&sim, "127.0.0.7").await;
    let _b = connect(&sim, "127.0.0.7").await;
    let h = open(
        ip("127.0.0.7"),
        sim.addr,
        Some(&token("t")),
        Carrier::Query,
        &["v1.api.titan.ag"],
    )
    .await;
    match h {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 429);
            assert!(resp.headers().get("retry-after").is_some());
        }
        other => panic!("expected 429, got {:?}", other.map(|c| c.protocol)),
    }
    // Another IP is its own client.
    connect(&sim, "127.0.0.8").await;
    let stats = sim.sandbox.service("titan").unwrap().stats();
    assert_eq!(stats.ip(ip("127.0.0.7")).rate_limited, 1);
}

#[tokio::test]
async fn one_connection_per_jti_when_enforced() {
    let sim = start(TitanConfig {
        one_connection_per_jti: true,
        ..config()
    });
    let mut claims = Claims::new("j", unix_now(), 900);
    claims.jti = Some("token-1".into());
    let tok = jwt::sign(&claims, SECRET.as_bytes());
    let first = open(
        ip("127.0.0.9"),
        sim.addr,
        Some(&tok),
        Carrier::Query,
        &["v1.api.titan.ag"],
    )
    .await
    .unwrap();
    let (status, body) = refused(
        open(
            ip("127.0.0.9"),
            sim.addr,
            Some(&tok),
            Carrier::Query,
            &["v1.api.titan.ag"],
        )
        .await,
    );
    assert_eq!(status, 401);
    assert!(body["message"].as_str().unwrap().contains("jti"));
    // Once the first connection is gone, the token is free again.
    drop(first);
    sim.handle.wait_until(|r| r.open_connections() == 0).await;
    open(
        ip("127.0.0.9"),
        sim.addr,
        Some(&tok),
        Carrier::Query,
        &["v1.api.titan.ag"],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_secret_never_shows_in_debug() {
    let secret = "s3cr3t-shared-with-the-tests-only";
    let cfg = TitanConfig {
        jwt_secret: JwtSecret::new(secret),
        ..TitanConfig::default()
    };
    let svc = TitanService::new(
        cfg.clone(),
        market(),
        SyntheticRoutes::new(tokio::time::Instant::now(), 0),
    )
    .unwrap();
    for text in [format!("{cfg:?}"), format!("{svc:?}"), format!("{svc:#?}")] {
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
    // And the service still checks tokens against it.
    let tok = svc.sign(&Claims::new("x", unix_now(), 60));
    jwt::verify(&tok, secret.as_bytes(), "api.titan.ag", unix_now(), 0).unwrap();
}

#[tokio::test]
async fn wss_works_through_the_core_tls() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let sim = start_with(
        config(),
        ServiceConfig {
            tls: true,
            ..ServiceConfig::default()
        },
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(sim.sandbox.ca().cert_der()).unwrap();
    let mut tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tcp(ip("127.0.0.10"), sim.addr).await;
    let name = rustls_pki_types::ServerName::IpAddress(sim.addr.ip().into());
    let stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut req = format!("wss://{}/api/v1/ws?auth={}", sim.addr, token("tls"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "v1.api.titan.ag".parse().unwrap());
    let (mut ws, resp) = tokio_tungstenite::client_async(req, stream).await.unwrap();
    assert_eq!(resp.headers()["sec-websocket-protocol"], "v1.api.titan.ag");
    ws.send(Message::Binary(
        rmp_serde::to_vec_named(&get_info(3)).unwrap().into(),
    ))
    .await
    .unwrap();
    let Some(Ok(Message::Binary(b))) = ws.next().await else {
        panic!("no answer over TLS")
    };
    let ServerMessage::Response(r) = rmp_serde::from_slice(&b).unwrap() else {
        panic!()
    };
    assert_eq!(r.request_id, 3);
}
