//! Every fault knob, observed from a plain hyper client over real sockets.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::ErrorKind;
use std::time::Duration;

use bytes::Bytes;
use galileo_sim::{Fault, FaultsConfig, LatencyConfig, Sandbox, ServiceConfig};
use http::{Request, StatusCode, Version};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use support::{Echo, connect, get, get_req, h2c, has_io_kind, http1, ip, read, tls_client};

fn sandbox(cfg: ServiceConfig) -> Sandbox {
    Sandbox::builder()
        .seed(3)
        .service(Echo::new(), cfg)
        .start()
        .unwrap()
}

#[tokio::test]
async fn server_error_answers_500_in_the_services_shape_and_once() {
    let sb = sandbox(ServiceConfig::default());
    let svc = sb.service("echo").unwrap();
    svc.controls().force(Fault::ServerError);
    let src = ip("127.0.0.2");
    let a = get(src, svc.addr(), "/echo").await.unwrap();
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(a.json()["error"], "Internal Server Error");
    assert_eq!(
        get(src, svc.addr(), "/echo").await.unwrap().status,
        StatusCode::OK
    );
    let s = svc.stats();
    assert_eq!(s.ip(src).fault_count(Fault::ServerError), 1);
    assert_eq!(s.recent[0].fault, Some(Fault::ServerError));
}

#[tokio::test]
async fn malformed_json_is_cut_short() {
    let sb = sandbox(ServiceConfig::default());
    let svc = sb.service("echo").unwrap();
    let src = ip("127.0.0.2");
    let whole = get(src, svc.addr(), "/echo").await.unwrap().body;
    svc.controls().force(Fault::MalformedJson);
    let cut = get(src, svc.addr(), "/echo").await.unwrap();
    assert_eq!(cut.status, StatusCode::OK);
    assert!(serde_json::from_slice::<serde_json::Value>(&cut.body).is_err());
    assert!(!cut.body.is_empty() && cut.body.len() < whole.len());
    assert_eq!(cut.body[..], whole[..cut.body.len()]);
}

#[tokio::test]
async fn slow_body_arrives_in_small_chunks_and_whole() {
    let sb = sandbox(ServiceConfig::default());
    let svc = sb.service("echo").unwrap();
    svc.controls()
        .set_faults(FaultsConfig {
            slow_body: 1.0,
            slow_body_chunk: 16,
            slow_body_delay_ms: 5,
            ..FaultsConfig::default()
        })
        .unwrap();
    let a = get(ip("127.0.0.2"), svc.addr(), "/echo").await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.frames,
        a.body.len().div_ceil(16),
        "{} bytes",
        a.body.len()
    );
    assert_eq!(a.json()["peer"], "127.0.0.2");
}

#[tokio::test]
async fn reset_resets_the_connection_over_http1_and_http2() {
    let sb = sandbox(ServiceConfig::default());
    let svc = sb.service("echo").unwrap();
    svc.controls().force(Fault::Reset);
    let e = get(ip("127.0.0.2"), svc.addr(), "/echo").await.unwrap_err();
    assert!(has_io_kind(&e, ErrorKind::ConnectionReset), "{e:?}");

    let mut h2 = h2c(ip("127.0.0.3"), svc.addr()).await;
    let ok = read(h2.send_request(get_req(svc.addr(), "/echo")).await.unwrap())
        .await
        .unwrap();
    assert_eq!(ok.status, StatusCode::OK);
    svc.controls().force(Fault::Reset);
    let e = h2
        .send_request(get_req(svc.addr(), "/echo"))
        .await
        .unwrap_err();
    assert!(has_io_kind(&e, ErrorKind::ConnectionReset), "{e:?}");
    assert_eq!(svc.stats().total.fault_count(Fault::Reset), 2);
}

#[tokio::test]
async fn no_response_makes_the_client_time_out_and_leaks_nothing() {
    let sb = sandbox(ServiceConfig::default());
    let svc = sb.service("echo").unwrap();
    svc.controls().force(Fault::NoResponse);
    let src = ip("127.0.0.2");
    let r = tokio::time::timeout(Duration::from_millis(300), get(src, svc.addr(), "/echo")).await;
    assert!(r.is_err(), "answered: {r:?}");
    // The client gave up and closed; the server lets the request go.
    let s = tokio::time::timeout(
        Duration::from_secs(10),
        svc.controls()
            .stats()
            .wait_until(|s| s.total.in_flight == 0),
    )
    .await
    .expect("the abandoned request is still in flight");
    assert_eq!(s.ip(src).fault_count(Fault::NoResponse), 1);
    assert_eq!(s.recent[0].status, None);
    assert_eq!(
        get(src, svc.addr(), "/echo").await.unwrap().status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn latency_delays_the_handler() {
    let sb = sandbox(ServiceConfig {
        latency: LatencyConfig::Fixed { ms: 120 },
        ..ServiceConfig::default()
    });
    let svc = sb.service("echo").unwrap();
    let a = get(ip("127.0.0.2"), svc.addr(), "/echo").await.unwrap();
    // The handler ran at least the configured latency after the request arrived.
    assert!(
        a.json()["waited_ms"].as_u64().unwrap() >= 120,
        "{:?}",
        a.body
    );
    svc.controls().set_latency(LatencyConfig::None).unwrap();
    let a = get(ip("127.0.0.2"), svc.addr(), "/echo").await.unwrap();
    assert!(a.json()["waited_ms"].as_u64().unwrap() < 120);
}

#[tokio::test]
async fn tls_handshake_failure_is_a_fatal_alert_and_the_next_connection_works() {
    let sb = sandbox(ServiceConfig {
        tls: true,
        ..ServiceConfig::default()
    });
    let svc = sb.service("echo").unwrap();
    let connector = tls_client(sb.ca().cert_der(), &[b"h2", b"http/1.1"]);
    let name = ServerName::try_from("127.0.0.1").unwrap();
    svc.controls().force(Fault::TlsHandshakeFailure);
    let tcp = connect(ip("127.0.0.2"), svc.addr()).await.unwrap();
    let e = connector.connect(name.clone(), tcp).await.unwrap_err();
    assert!(e.to_string().contains("HandshakeFailure"), "{e}");

    let tcp = connect(ip("127.0.0.2"), svc.addr()).await.unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let resp = send
        .send_request(get_req(svc.addr(), "/echo"))
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(read(resp).await.unwrap().json()["peer"], "127.0.0.2");
    assert_eq!(
        svc.stats()
            .ip(ip("127.0.0.2"))
            .fault_count(Fault::TlsHandshakeFailure),
        1
    );
}

#[tokio::test]
async fn probabilities_are_seeded_and_honoured() {
    let run = || async {
        let sb = sandbox(ServiceConfig {
            faults: FaultsConfig {
                server_error: 0.3,
                ..FaultsConfig::default()
            },
            ..ServiceConfig::default()
        });
        let svc = sb.service("echo").unwrap();
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(
                get(ip("127.0.0.2"), svc.addr(), "/")
                    .await
                    .unwrap()
                    .status
                    .as_u16(),
            );
        }
        statuses
    };
    let first = run().await;
    let errors = first.iter().filter(|&&s| s == 500).count();
    // Binomial(200, 0.3): 60 ± 6.5; the seed fixes the draw, the range checks the knob.
    assert!((35..=85).contains(&errors), "{errors} errors");
    assert_eq!(run().await, first, "the same seed gave different faults");
}

#[tokio::test]
async fn the_admin_endpoints_steer_and_report_without_being_counted() {
    let sb = sandbox(ServiceConfig::default());
    let svc = sb.service("echo").unwrap();
    let (addr, src) = (svc.addr(), ip("127.0.0.7"));
    let post = |path: &str, method: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string())
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    };
    let a = http1(
        src,
        addr,
        post(
            "/__sim/force",
            "POST",
            r#"{"fault":"server_error","times":2}"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    for _ in 0..2 {
        assert_eq!(
            get(src, addr, "/echo?api-key=hunter2")
                .await
                .unwrap()
                .status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(
        get(src, addr, "/echo").await.unwrap().status,
        StatusCode::OK
    );

    let bad = http1(src, addr, post("/__sim/faults", "PUT", r#"{"reset": 7}"#))
        .await
        .unwrap();
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json()["error"]
            .as_str()
            .unwrap()
            .contains("faults.reset"),
        "{:?}",
        bad.body
    );
    let ok = http1(
        src,
        addr,
        post("/__sim/latency", "PUT", r#"{"model":"fixed","ms":3}"#),
    )
    .await
    .unwrap();
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let controls = get(src, addr, "/__sim/controls").await.unwrap().json();
    assert_eq!(
        controls["latency"],
        serde_json::json!({"model": "fixed", "ms": 3})
    );

    let stats = get(src, addr, "/__sim/stats").await.unwrap().json();
    let mine = &stats["per_ip"]["127.0.0.7"];
    assert_eq!(mine["requests"], 3, "{stats}");
    assert_eq!(mine["statuses"]["500"], 2);
    assert_eq!(stats["recent"][0]["path"], "/echo?api-key=***");
    assert!(!stats.to_string().contains("hunter2"));

    let metrics = get(src, addr, "/__sim/metrics").await.unwrap();
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert!(
        text.contains("galileo_sim_requests_total{service=\"echo\",ip=\"127.0.0.7\"} 3\n"),
        "{text}"
    );
    assert!(text.contains(
        "galileo_sim_faults_total{service=\"echo\",ip=\"127.0.0.7\",fault=\"server_error\"} 2\n"
    ));
    let reset = http1(src, addr, post("/__sim/stats/reset", "POST", ""))
        .await
        .unwrap();
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    assert_eq!(svc.stats().total.requests, 0);
    assert_eq!(
        get(src, addr, "/__sim/nope").await.unwrap().status,
        StatusCode::NOT_FOUND
    );
}
