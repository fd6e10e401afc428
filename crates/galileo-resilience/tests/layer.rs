//! The inbound rate-limit layer, checked with a real HTTP server and client.
#![cfg(feature = "tower")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use galileo_resilience::rate_limit::{LocalLimiter, OwnedSubject, RateLimitLayer};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::{ServiceBuilder, ServiceExt};

#[derive(Clone, Copy)]
struct Peer(SocketAddr);

/// What the admin API would do: the peer's IP and the caller's key.
fn subject(req: &Request<Incoming>) -> OwnedSubject {
    OwnedSubject {
        ip: req.extensions().get::<Peer>().map(|p| p.0.ip().to_string()),
        api_key: req
            .headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        endpoint: Some(format!("{} {}", req.method(), req.uri().path())),
    }
}

async fn serve(limiter: Arc<LocalLimiter>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer = RateLimitLayer::new(limiter, subject as fn(&Request<Incoming>) -> OwnedSubject);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = listener.accept().await.unwrap();
            let svc = ServiceBuilder::new().layer(layer.clone()).service_fn(
                |_req: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                },
            );
            tokio::spawn(async move {
                let hyper_svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(Peer(peer));
                    svc.clone().oneshot(req)
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), hyper_svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn headers_count_down_and_the_limit_answers_429() {
    let limiter = Arc::new(
        LocalLimiter::new(
            &toml::from_str(
                r#"
                ip = { algorithm = "gcra", requests = 3, period_ms = 60000 }
                key = { algorithm = "sliding_window", requests = 2, window_ms = 60000 }
                "#,
            )
            .unwrap(),
        )
        .unwrap(),
    );
    let addr = serve(limiter).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let get = |key: Option<&str>| {
        let mut b = Request::get(format!("http://{addr}/status"));
        if let Some(k) = key {
            b = b.header("x-api-key", k);
        }
        client.request(b.body(Empty::new()).unwrap())
    };
    let header = |r: &Response<Incoming>, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };

    // Alice's key allows 2 per minute, the IP 3.
    let r = get(Some("alice")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "x-ratelimit-limit").as_deref(),
        Some("2"),
        "the tightest tier's numbers"
    );
    assert_eq!(header(&r, "x-ratelimit-remaining").as_deref(), Some("1"));
    assert_eq!(header(&r, "x-ratelimit-reset").as_deref(), Some("60"));
    assert_eq!(r.into_body().collect().await.unwrap().to_bytes(), "ok");
    assert_eq!(get(Some("alice")).await.unwrap().status(), StatusCode::OK);
    let r = get(Some("alice")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "x-ratelimit-remaining").as_deref(), Some("0"));
    let retry: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry), "{retry}");

    // Bob has his own key budget, but shares the IP: its third cell, then the IP denies.
    let r = get(Some("bob")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "x-ratelimit-limit").as_deref(),
        Some("3"),
        "the IP tier is tighter now"
    );
    assert_eq!(header(&r, "x-ratelimit-remaining").as_deref(), Some("0"));
    let r = get(Some("carol")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!(
        (19..=20).contains(&retry),
        "one GCRA interval (60 s / 3): {retry}"
    );
}

#[tokio::test]
async fn a_request_that_can_never_fit_gets_no_retry_after() {
    let limiter = Arc::new(
        LocalLimiter::new(&toml::from_str(r#"ip = { algorithm = "gcra", requests = 2 }"#).unwrap())
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer =
        RateLimitLayer::new(limiter, subject as fn(&Request<Incoming>) -> OwnedSubject).cost(3);
    tokio::spawn(async move {
        let (tcp, peer) = listener.accept().await.unwrap();
        let svc = ServiceBuilder::new()
            .layer(layer)
            .service_fn(|_req: Request<Incoming>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            });
        let hyper_svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(Peer(peer));
            svc.clone().oneshot(req)
        });
        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(tcp), hyper_svc)
            .await;
    });
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let r = client
        .request(
            Request::get(format!("http://{addr}/"))
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers().get("retry-after").is_none(),
        "no Retry-After can be true"
    );
    assert_eq!(r.headers().get("x-ratelimit-limit").unwrap(), "2");
}
