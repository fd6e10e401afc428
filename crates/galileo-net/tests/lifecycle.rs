//! Leases over their whole life on real sockets: nothing leaks when futures are aborted
//! mid-request, and quarantined IPs never carry a request.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use galileo_net::{
    BoundHttpClient, HttpClient, HttpConfig, Inventory, IpAllocator, NetworkConfig, TaskKind,
};
use support::{Reply, ServerBuilder, TestCa, allocator, get, loopback};
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_leases_dropped_mid_request_leave_nothing_in_flight() {
    let ca = TestCa::new();
    let client = ca.client(&HttpConfig {
        request_timeout_ms: 60_000,
        ..HttpConfig::default()
    });
    // 8 IPs × 64 = 512 requests in flight per wave; 88 more tasks wait in `acquire`.
    let alloc = allocator(2, 8, Some(64));
    let mut dropped_mid_request = 0;
    for wave in 0..20 {
        let tls = wave % 2 == 1; // alternate HTTP/1.1 over TCP and HTTP/2 over TLS
        let mut b = ServerBuilder::new().reply(|_| Reply::hang());
        if tls {
            b = b.tls(ca.server_config(&[b"h2", b"http/1.1"]));
        }
        let server = b.start().await;
        let url = server.url(if tls { "https" } else { "http" }, "/hang?api-key=secret");
        let mut tasks = JoinSet::new();
        for _ in 0..600 {
            let (alloc, client, url) = (alloc.clone(), client.clone(), url.clone());
            tasks.spawn(async move {
                let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
                client.send(&lease, get(&url)).await
            });
        }
        server.until_active(512).await;
        assert_eq!(alloc.capacity().inflight, 512);
        assert_eq!(alloc.waiting(), 88);
        tasks.abort_all();
        while let Some(r) = tasks.join_next().await {
            assert!(r.unwrap_err().is_cancelled(), "no request may complete");
        }
        dropped_mid_request += 512;
        let snap = alloc.snapshot();
        assert!(
            snap.iter().all(|s| s.inflight == 0),
            "wave {wave}: {snap:?}"
        );
        assert_eq!(alloc.waiting(), 0);
    }
    assert!(dropped_mid_request >= 10_000);
    // The allocator still serves at full capacity afterwards.
    let ok = ServerBuilder::new().start().await;
    let leases: Vec<_> =
        futures_util::future::try_join_all((0..512).map(|_| alloc.acquire(TaskKind::Quote, 1)))
            .await
            .unwrap();
    assert!(
        alloc
            .try_acquire(TaskKind::Quote, 1)
            .unwrap_err()
            .is_would_block()
    );
    let r = client
        .send(&leases[0], get(&ok.url("http", "/")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_ip_is_named_at_start_and_never_used() {
    let cfg = NetworkConfig::from_toml(
        r#"
        enable_multiple_ip = true
        auto_discover = false
        allow_loopback = true
        manual_ips = ["127.0.0.2", "192.0.2.1", "127.0.0.3"]
        "#,
    )
    .unwrap();
    let inventory = Inventory::discover(&cfg).unwrap();
    let q: Vec<String> = inventory
        .quarantined()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        q,
        ["192.0.2.1: address not assigned to this host (EADDRNOTAVAIL)"]
    );
    let alloc = IpAllocator::from_config(&cfg, &inventory).unwrap();
    assert_eq!(alloc.len(), 2);

    let server = ServerBuilder::new()
        .reply(|h| Reply::ok(h.peer.to_string()).delay(Duration::from_millis(5)))
        .start()
        .await;
    let client = BoundHttpClient::new(&cfg.http).unwrap();
    let mut tasks = JoinSet::new();
    for _ in 0..40 {
        let (alloc, client, url) = (alloc.clone(), client.clone(), server.url("http", "/"));
        tasks.spawn(async move {
            let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
            client.send(&lease, get(&url)).await.unwrap().status()
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let peers: HashSet<_> = server.hits().iter().map(|h| h.peer).collect();
    assert_eq!(peers, HashSet::from([loopback(2), loopback(3)]));

    // Demanding all three fails at start with the reason.
    let strict = NetworkConfig {
        require_ips: Some(3),
        ..cfg
    };
    let err = Inventory::discover(&strict).unwrap_err().to_string();
    assert!(
        err.contains("require_ips = 3") && err.contains("192.0.2.1: address not assigned"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stranger_client_never_shares_connections_across_ips() {
    // Two allocators over different IPs share one client: requests still leave from each
    // lease's own IP, because the pool is keyed by source IP.
    let server = ServerBuilder::new().start().await;
    let client = BoundHttpClient::new(&HttpConfig::default()).unwrap();
    let a = allocator(10, 1, None);
    let b = allocator(11, 1, None);
    for _ in 0..5 {
        for alloc in [&a, &b] {
            let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
            let r = client
                .send(&lease, get(&server.url("http", "/")))
                .await
                .unwrap();
            assert_eq!(
                std::str::from_utf8(r.body()).unwrap(),
                lease.ip().to_string()
            );
        }
    }
    assert_eq!(client.clients(), 2);
}
