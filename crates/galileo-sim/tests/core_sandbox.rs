//! The sandbox and the server core: protocols, upgrades, per-IP concurrency, shutdown, and
//! clear errors for what cannot start.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::ErrorKind;
use std::time::Duration;

use galileo_sim::{Sandbox, ServiceConfig, SimError};
use http::{Request, StatusCode, Version};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use support::{Echo, connect, get_req, h2c, ip, read};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn http1_keep_alive_and_http2_multiplexing_are_served_and_counted_per_ip() {
    let echo = Echo::new();
    let gate = echo.gate.clone();
    let sb = Sandbox::builder()
        .service(
            echo,
            ServiceConfig {
                bind: ip("127.0.0.20"),
                ..ServiceConfig::default()
            },
        )
        .start()
        .unwrap();
    let svc = sb.service("echo").unwrap();
    assert_eq!(svc.addr().ip(), ip("127.0.0.20"));
    assert!(svc.url().starts_with("http://127.0.0.20:"));

    // Three requests on one HTTP/1.1 connection.
    let io = TokioIo::new(connect(ip("127.0.0.2"), svc.addr()).await.unwrap());
    let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let a = read(
            send.send_request(get_req(svc.addr(), "/echo"))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(a.status, StatusCode::OK);
    }
    assert_eq!(svc.stats().connections, 1);

    // Two held requests multiplexed on one HTTP/2 connection: concurrency 2 from that IP.
    let h2 = h2c(ip("127.0.0.3"), svc.addr()).await;
    let held: Vec<_> = (0..2)
        .map(|_| {
            let mut h2 = h2.clone();
            let req = get_req(svc.addr(), "/hold");
            tokio::spawn(async move { read(h2.send_request(req).await.unwrap()).await.unwrap() })
        })
        .collect();
    let stats = svc.controls().stats().clone();
    stats
        .wait_until(|s| s.ip(ip("127.0.0.3")).in_flight == 2)
        .await;
    gate.add_permits(2);
    for h in held {
        assert_eq!(h.await.unwrap().status, StatusCode::OK);
    }
    let s = svc.stats();
    assert_eq!(s.ip(ip("127.0.0.3")).max_in_flight, 2);
    assert_eq!(s.ip(ip("127.0.0.2")).max_in_flight, 1);
    assert_eq!(s.connections, 2);
    assert!(s.ip(ip("127.0.0.3")).bytes_out > 0);
}

#[tokio::test]
async fn upgrades_reach_the_service_and_shutdown_ends_them() {
    let sb = Sandbox::builder()
        .service(Echo::new(), ServiceConfig::default())
        .start()
        .unwrap();
    let addr = sb.service("echo").unwrap().addr();
    let io = TokioIo::new(connect(ip("127.0.0.2"), addr).await.unwrap());
    let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn.with_upgrades());
    let req = Request::get("/upgrade")
        .header("host", addr.to_string())
        .header("connection", "upgrade")
        .header("upgrade", "echo")
        .body(Full::<bytes::Bytes>::default())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    let mut io = TokioIo::new(hyper::upgrade::on(resp).await.unwrap());
    io.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    io.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");

    // An idle keep-alive connection from another client, open across the shutdown.
    let io3 = TokioIo::new(connect(ip("127.0.0.3"), addr).await.unwrap());
    let (mut idle, conn) = hyper::client::conn::http1::handshake(io3).await.unwrap();
    let idle_conn = tokio::spawn(conn);
    let ok = read(idle.send_request(get_req(addr, "/echo")).await.unwrap())
        .await
        .unwrap();
    assert_eq!(ok.status, StatusCode::OK);

    sb.shutdown().await;
    // The keep-alive connection was closed by the server.
    tokio::time::timeout(Duration::from_secs(5), idle_conn)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // The session was a service task: it is gone, and the listener too.
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), io.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(n.map_or(true, |n| n == 0));
    let e = connect(ip("127.0.0.2"), addr).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn http2_works_over_clear_text_with_prior_knowledge() {
    let sb = Sandbox::builder()
        .service(Echo::new(), ServiceConfig::default())
        .start()
        .unwrap();
    let addr = sb.service("echo").unwrap().addr();
    let mut h2 = h2c(ip("127.0.0.2"), addr).await;
    let resp = h2.send_request(get_req(addr, "/echo")).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(read(resp).await.unwrap().json()["path"], "/echo");
}

#[tokio::test]
async fn what_cannot_start_says_why() {
    let first = Sandbox::builder()
        .service(Echo::new(), ServiceConfig::default())
        .start()
        .unwrap();
    let taken = first.service("echo").unwrap().addr();
    let e = Sandbox::builder()
        .service(
            Echo::new(),
            ServiceConfig {
                port: taken.port(),
                ..ServiceConfig::default()
            },
        )
        .start()
        .unwrap_err();
    assert!(matches!(e, SimError::Bind { .. }), "{e:?}");
    assert!(e.to_string().contains(&taken.to_string()), "{e}");

    let e = Sandbox::builder()
        .service(Echo::new(), ServiceConfig::default())
        .service(Echo::new(), ServiceConfig::default())
        .start()
        .unwrap_err();
    assert!(e.is_config() && e.to_string().contains("twice"), "{e}");

    let mut cfg = ServiceConfig::default();
    cfg.faults.server_error = -1.0;
    let e = Sandbox::builder()
        .service(Echo::new(), cfg)
        .start()
        .unwrap_err();
    assert!(e.to_string().contains("faults.server_error"), "{e}");

    assert!(matches!(
        first.service("jupiter"),
        Err(SimError::UnknownService(_))
    ));
}
