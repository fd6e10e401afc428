//! galileo-net over real sockets: a TLS server on loopback, requests leased over 127.0.0.x.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use galileo_net::{
    BoundHttpClient, HttpClient, HttpConfig, IpAllocator, NetError, Outcome, RequestTimeout,
    SlotState, TaskKind,
};
use http::Version;
use hyper_util::client::legacy::connect::HttpInfo;
use support::{Reply, ServerBuilder, TestCa, allocator, get, loopback};
use tokio::task::JoinSet;

const ALPN_BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];

/// A client refusing response bodies over 1 KiB.
fn one_kib_client() -> BoundHttpClient {
    let cfg = HttpConfig {
        max_response_bytes: 1024,
        ..HttpConfig::default()
    };
    BoundHttpClient::new(&cfg).unwrap()
}

/// Runs `total` requests with `concurrency` tasks; each acquires, sends, checks the server saw
/// its lease's IP, and releases. Returns per-IP counts from the client's side.
async fn run(
    alloc: &IpAllocator,
    client: &BoundHttpClient,
    url: &str,
    total: usize,
    concurrency: usize,
) -> HashMap<std::net::IpAddr, usize> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (alloc, client, url, next) =
            (alloc.clone(), client.clone(), url.to_string(), next.clone());
        tasks.spawn(async move {
            let mut mine = HashMap::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
                let resp = client.send(&lease, get(&url)).await.unwrap();
                assert_eq!(resp.status(), 200);
                // The server echoes the peer address it saw: it must be the leased IP.
                assert_eq!(
                    std::str::from_utf8(resp.body()).unwrap(),
                    lease.ip().to_string()
                );
                let local = resp.extensions().get::<HttpInfo>().unwrap().local_addr();
                assert_eq!(local.ip(), lease.ip());
                *mine.entry(lease.ip()).or_insert(0) += 1;
            }
            mine
        });
    }
    let mut all = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        for (ip, n) in r.unwrap() {
            *all.entry(ip).or_insert(0) += n;
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_hundred_requests_leave_from_their_leased_ips_evenly() {
    let ca = TestCa::new();
    // Least-loaded spreading follows each IP's service rate, so the server must be bound by
    // latency (as real providers are), not by this machine's two cores.
    let server = ServerBuilder::new()
        .tls(ca.server_config(ALPN_BOTH))
        .reply(|h| Reply::ok(h.peer.to_string()).delay(Duration::from_millis(15)))
        .start()
        .await;
    let alloc = allocator(2, 8, None);
    let client = ca.client(&HttpConfig::default());
    let counts = run(&alloc, &client, &server.url("https", "/quote"), 800, 32).await;

    let seen = server.per_peer();
    assert_eq!(seen.values().sum::<usize>(), 800);
    assert_eq!(
        seen, counts,
        "server and client agree on every request's source"
    );
    for n in 2..=9 {
        let c = seen.get(&loopback(n)).copied().unwrap_or(0);
        assert!((75..=125).contains(&c), "127.0.0.{n} carried {c}: {seen:?}");
    }
    assert!(server.hits().iter().all(|h| h.version == Version::HTTP_2));
    assert_eq!(client.clients(), 8, "one client per IP");
    assert!(
        alloc
            .snapshot()
            .iter()
            .all(|s| s.inflight == 0 && s.total.requests >= 75)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_never_sees_more_than_the_inflight_limit_from_one_ip() {
    let server = ServerBuilder::new()
        .reply(|h| Reply::ok(h.peer.to_string()).delay(Duration::from_millis(20)))
        .start()
        .await;
    let alloc = allocator(2, 4, Some(2));
    let client = BoundHttpClient::new(&HttpConfig::default()).unwrap();
    run(&alloc, &client, &server.url("http", "/"), 240, 32).await;
    let max = server.max_active();
    assert_eq!(max.len(), 4);
    for (ip, m) in &max {
        assert!(*m <= 2, "{ip} had {m} requests in flight at once: {max:?}");
    }
    assert!(
        max.values().any(|m| *m == 2),
        "the limit was reached: {max:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_keeps_an_ip_idle_while_the_others_serve() {
    let server = ServerBuilder::new()
        .reply(|h| {
            if h.peer == loopback(2) && h.nth_from_peer == 0 {
                Reply::status(429).header("retry-after", "2")
            } else {
                Reply::ok(h.peer.to_string()).delay(Duration::from_millis(10))
            }
        })
        .start()
        .await;
    // One request in flight per IP: when the 429 arrives nothing else from 127.0.0.2 is on the
    // wire, so any later request the server sees from it was sent after the client knew.
    let alloc = allocator(2, 4, Some(1));
    let client = BoundHttpClient::new(&HttpConfig::default()).unwrap();
    let url = server.url("http", "/");
    // Keep 8 requests going for 3.2 s of real time.
    let stop_at = tokio::time::Instant::now() + Duration::from_millis(3200);
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let (alloc, client, url) = (alloc.clone(), client.clone(), url.clone());
        tasks.spawn(async move {
            while tokio::time::Instant::now() < stop_at {
                let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
                let _ = client.send(&lease, get(&url)).await.unwrap();
            }
        });
    }
    while tasks.join_next().await.is_some() {}

    let hits = server.hits();
    let limited = hits
        .iter()
        .find(|h| h.peer == loopback(2) && h.nth_from_peer == 0)
        .unwrap();
    let window_end = limited.at + Duration::from_secs(2);
    let from_2: Vec<_> = hits
        .iter()
        .filter(|h| h.peer == loopback(2) && h.nth_from_peer > 0)
        .collect();
    assert!(
        from_2.iter().all(|h| h.at >= window_end),
        "127.0.0.2 was used inside its Retry-After window"
    );
    assert!(!from_2.is_empty(), "127.0.0.2 serves again after its rest");
    let others_inside = hits
        .iter()
        .filter(|h| h.peer != loopback(2) && h.at > limited.at && h.at < window_end)
        .count();
    assert!(
        others_inside > 50,
        "the other IPs kept serving: {others_inside}"
    );
    let s = &alloc.snapshot()[0];
    assert_eq!(s.total.rate_limited, 1);
}

#[tokio::test]
async fn http2_by_alpn_and_http1_when_the_server_offers_only_that() {
    let ca = TestCa::new();
    let client = ca.client(&HttpConfig::default());
    let alloc = allocator(2, 1, None);
    for (alpn, want) in [
        (ALPN_BOTH, Version::HTTP_2),
        (&[b"http/1.1".as_slice()][..], Version::HTTP_11),
    ] {
        let server = ServerBuilder::new()
            .tls(ca.server_config(alpn))
            .start()
            .await;
        let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
        let resp = client
            .send(&lease, get(&server.url("https", "/")))
            .await
            .unwrap();
        assert_eq!(resp.version(), want);
        assert_eq!(server.hits()[0].version, want);
    }
    // Plain HTTP is HTTP/1.1.
    let server = ServerBuilder::new().start().await;
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    let resp = client
        .send(&lease, get(&server.url("http", "/")))
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
}

#[tokio::test]
async fn an_unknown_ca_fails_the_handshake_as_a_connect_error() {
    let ca = TestCa::new();
    let server = ServerBuilder::new()
        .tls(ca.server_config(ALPN_BOTH))
        .start()
        .await;
    let stranger = TestCa::new().client(&HttpConfig::default());
    let alloc = allocator(2, 1, None);
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    let err = stranger
        .send(&lease, get(&server.url("https", "/")))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(alloc.snapshot()[0].state, SlotState::CoolingDown);
}

#[tokio::test]
async fn timeouts_and_refused_connections_rest_the_ip_and_name_no_secret() {
    let server = ServerBuilder::new().reply(|_| Reply::hang()).start().await;
    let alloc = allocator(2, 2, None);
    let client = BoundHttpClient::new(&HttpConfig {
        request_timeout_ms: 200,
        ..HttpConfig::default()
    })
    .unwrap();
    let secret = "sk-live-0123456789abcdef";

    let lease = alloc
        .acquire_specific(loopback(2), TaskKind::Quote, 1)
        .await
        .unwrap();
    let err = client
        .send(
            &lease,
            get(&server.url("http", &format!("/quote?api-key={secret}"))),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let msg = format!("{err} / {err:?}");
    assert!(!msg.contains(secret) && !msg.contains("/quote"), "{msg}");
    assert_eq!(
        err.to_string(),
        format!(
            "request from 127.0.0.2 to 127.0.0.1:{} timed out after 200ms",
            server.addr.port()
        )
    );
    drop(lease);
    let s = &alloc.snapshot()[0];
    assert_eq!((s.state, s.total.timeouts), (SlotState::CoolingDown, 1));
    assert_eq!(
        s.cooldown_reason,
        Some(galileo_net::slot::CooldownReason::Timeout)
    );

    // A per-request timeout overrides the default.
    let lease = alloc
        .acquire_specific(loopback(3), TaskKind::Quote, 1)
        .await
        .unwrap();
    let mut req = get(&server.url("http", "/"));
    req.extensions_mut()
        .insert(RequestTimeout(Duration::from_millis(50)));
    let err = client.send(&lease, req).await.unwrap_err();
    assert!(err.to_string().ends_with("timed out after 50ms"), "{err}");
    drop(lease);

    // Nobody listens on this port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    tokio::time::sleep(Duration::from_millis(600)).await; // let 127.0.0.3's 250 ms rest end
    let lease = alloc
        .acquire_specific(loopback(3), TaskKind::Quote, 1)
        .await
        .unwrap();
    let err = client
        .send(&lease, get(&format!("http://{closed}/x?token={secret}")))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert!(!format!("{err} {err:?}").contains(secret));
    assert!(
        err.to_string()
            .starts_with("cannot connect from 127.0.0.3 to 127.0.0.1:"),
        "{err}"
    );
    assert!(err.to_string().contains("refused"), "{err}");
}

#[tokio::test]
async fn server_errors_are_counted_without_rest_and_oversized_bodies_refused() {
    let server = ServerBuilder::new()
        .reply(|h| match h.path.as_str() {
            "/500" => Reply::status(500),
            "/big" => Reply::ok(vec![b'x'; 4096]),
            _ => Reply::status(404),
        })
        .start()
        .await;
    let alloc = allocator(2, 1, None);
    let client = one_kib_client();
    let lease = alloc.acquire(TaskKind::Quote, 3).await.unwrap();
    assert_eq!(
        client
            .send(&lease, get(&server.url("http", "/500")))
            .await
            .unwrap()
            .status(),
        500
    );
    assert_eq!(
        client
            .send(&lease, get(&server.url("http", "/nope")))
            .await
            .unwrap()
            .status(),
        404
    );
    let err = client
        .send(&lease, get(&server.url("http", "/big")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NetError::BodyTooLarge { limit: 1024, .. }),
        "{err}"
    );
    let s = &alloc.snapshot()[0];
    assert_eq!(s.state, SlotState::Busy, "no rest for 5xx");
    assert_eq!((s.total.requests, s.total.errors), (3, 1));
}

#[tokio::test]
async fn a_429_is_a_429_even_when_its_body_is_too_large() {
    let server = ServerBuilder::new()
        .reply(|_| Reply {
            body: vec![b'x'; 4096].into(),
            ..Reply::status(429).header("retry-after", "30")
        })
        .start()
        .await;
    let alloc = allocator(2, 1, None);
    let client = one_kib_client();
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    let err = client
        .send(&lease, get(&server.url("http", "/")))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::BodyTooLarge { .. }), "{err}");
    let s = &alloc.snapshot()[0];
    assert_eq!((s.state, s.total.rate_limited), (SlotState::CoolingDown, 1));
    let rest = s.cooldown_remaining.unwrap();
    assert!(
        rest > Duration::from_secs(29) && rest <= Duration::from_secs(30),
        "{rest:?}"
    );
}

#[tokio::test]
async fn bound_streams_leave_from_the_leased_ip_with_or_without_tls() {
    let ca = TestCa::new();
    let client = ca.client(&HttpConfig::default());
    let alloc = allocator(5, 2, None);
    for tls in [false, true] {
        let mut b = ServerBuilder::new();
        if tls {
            b = b.tls(ca.server_config(&[b"http/1.1"]));
        }
        let server = b.start().await;
        let lease = alloc
            .acquire_long_lived(TaskKind::StreamConnect)
            .await
            .unwrap();
        let scheme = if tls { "wss" } else { "ws" };
        let url = server.url(scheme, "/ws").parse().unwrap();
        let stream = client.connect_stream(&lease, &url).await.unwrap();
        assert_eq!(stream.is_tls(), tls);
        assert_eq!(stream.local_addr().unwrap().ip(), lease.ip());
        // Speak HTTP/1.1 on it by hand: the server sees the leased IP.
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get("/ws")
            .header("host", "localhost")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(server.hits()[0].peer, lease.ip());
    }
}

#[tokio::test]
async fn outcomes_reach_the_metrics() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let alloc = metrics::with_local_recorder(&recorder, || allocator(2, 1, None));
    let server = ServerBuilder::new()
        .reply(|h| {
            if h.nth_from_peer == 0 {
                Reply::status(429)
            } else {
                Reply::ok("")
            }
        })
        .start()
        .await;
    let client = BoundHttpClient::new(&HttpConfig::default()).unwrap();
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    let _ = client
        .send(&lease, get(&server.url("http", "/")))
        .await
        .unwrap();
    let _ = client
        .send(&lease, get(&server.url("http", "/")))
        .await
        .unwrap();
    lease.report(Outcome::Success);
    drop(lease);

    let mut seen = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        seen.insert(
            format!("{}{{{}}}", key.key().name(), labels.join(",")),
            value,
        );
    }
    use metrics_util::debugging::DebugValue::{Counter, Gauge};
    assert_eq!(
        seen["galileo_ip_requests_total{ip=127.0.0.2,result=rate_limited}"],
        Counter(1)
    );
    assert_eq!(
        seen["galileo_ip_requests_total{ip=127.0.0.2,result=success}"],
        Counter(2)
    );
    assert_eq!(
        seen["galileo_ip_cooldown_total{ip=127.0.0.2,reason=rate_limited}"],
        Counter(1)
    );
    assert_eq!(seen["galileo_ip_inflight{ip=127.0.0.2}"], Gauge(0.0.into()));
    assert_eq!(
        seen["galileo_ip_inventory_total{state=usable}"],
        Gauge(1.0.into())
    );

    // Runtime quarantines add to those made at start (here: none).
    metrics::with_local_recorder(&recorder, || alloc.quarantine(loopback(2), "test").unwrap());
    let gauges: HashMap<String, _> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, ..)| k.key().name() == "galileo_ip_inventory_total")
        .map(|(k, _, _, v)| (k.key().labels().next().unwrap().value().to_string(), v))
        .collect();
    assert_eq!(gauges["usable"], Gauge(0.0.into()));
    assert_eq!(gauges["quarantined"], Gauge(1.0.into()));
}
