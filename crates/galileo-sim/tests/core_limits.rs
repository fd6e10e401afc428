//! The core's limits over real sockets: per source IP (each 127.0.0.x its own client), per API
//! key, global, the three `Retry-After` forms, and `503` overload.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, SystemTime};

use galileo_sim::{BucketConfig, LimitsConfig, RetryAfterMode, Sandbox, ServiceConfig};
use http::{Request, StatusCode};
use http_body_util::Full;
use support::{Echo, get, http1, ip};

/// A bucket that holds `burst` and practically never refills within a test.
fn burst(burst: u32) -> Option<BucketConfig> {
    Some(BucketConfig { rate: 0.001, burst })
}

fn sandbox(limits: LimitsConfig) -> (Sandbox, std::net::SocketAddr) {
    let sb = Sandbox::builder()
        .service(
            Echo::new(),
            ServiceConfig {
                limits,
                ..ServiceConfig::default()
            },
        )
        .start()
        .unwrap();
    let addr = sb.service("echo").unwrap().addr();
    (sb, addr)
}

#[tokio::test]
async fn each_source_ip_has_its_own_bucket() {
    let (sb, addr) = sandbox(LimitsConfig {
        per_ip: burst(3),
        ..LimitsConfig::default()
    });
    for src in ["127.0.0.2", "127.0.0.3"] {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(get(ip(src), addr, "/echo").await.unwrap().status.as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 429, 429], "{src}");
    }
    let stats = sb.service("echo").unwrap().stats();
    for src in ["127.0.0.2", "127.0.0.3"] {
        let c = stats.ip(ip(src));
        assert_eq!(
            (c.requests, c.rate_limited, c.status(200)),
            (5, 2, 3),
            "{src}"
        );
    }
    // The server saw the source IPs the client bound.
    let a = get(ip("127.0.0.4"), addr, "/echo").await.unwrap();
    assert_eq!(a.json()["peer"], "127.0.0.4");
}

#[tokio::test]
async fn a_429_says_when_to_come_back_in_the_configured_form() {
    let limits = LimitsConfig {
        per_ip: Some(BucketConfig {
            rate: 0.5,
            burst: 1,
        }),
        ..LimitsConfig::default()
    };
    let (sb, addr) = sandbox(limits);
    let src = ip("127.0.0.5");
    assert_eq!(get(src, addr, "/").await.unwrap().status, StatusCode::OK);
    let a = get(src, addr, "/").await.unwrap();
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    // The next token is at most 2 s away: rounded up, 1 or 2 seconds.
    let secs: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&secs), "{secs}");
    assert!(
        a.json()["error"].as_str().unwrap().contains("your IP"),
        "{:?}",
        a.body
    );

    let ctl = sb.controls("echo").unwrap();
    ctl.set_limits(LimitsConfig {
        retry_after: RetryAfterMode::HttpDate,
        ..limits
    })
    .unwrap();
    get(src, addr, "/").await.unwrap();
    let a = get(src, addr, "/").await.unwrap();
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    let when = httpdate::parse_http_date(a.headers["retry-after"].to_str().unwrap()).unwrap();
    let ahead = when
        .duration_since(SystemTime::now() - Duration::from_secs(1))
        .unwrap();
    assert!(ahead <= Duration::from_secs(4), "{ahead:?}");

    ctl.set_limits(LimitsConfig {
        retry_after: RetryAfterMode::None,
        ..limits
    })
    .unwrap();
    get(src, addr, "/").await.unwrap();
    let a = get(src, addr, "/").await.unwrap();
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.get("retry-after").is_none());
}

#[tokio::test]
async fn api_keys_and_the_global_bucket_are_counted_across_ips() {
    let (sb, addr) = sandbox(LimitsConfig {
        per_key: burst(2),
        ..LimitsConfig::default()
    });
    let with_key = |key: &str| {
        Request::get("/echo")
            .header("host", addr.to_string())
            .header("x-api-key", key)
            .body(Full::default())
            .unwrap()
    };
    // One key from three IPs: the key's bucket is shared.
    let mut statuses = Vec::new();
    for src in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        statuses.push(
            http1(ip(src), addr, with_key("alpha"))
                .await
                .unwrap()
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 429]);
    let a = http1(ip("127.0.0.2"), addr, with_key("beta"))
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["key"], "beta");
    // No key, no key bucket.
    for _ in 0..3 {
        assert_eq!(
            get(ip("127.0.0.2"), addr, "/").await.unwrap().status,
            StatusCode::OK
        );
    }
    let stats = sb.service("echo").unwrap().stats();
    assert_eq!(stats.key("alpha").rate_limited, 1);
    let json = serde_json::to_string(&stats).unwrap();
    assert!(
        !json.contains("alpha") && !json.contains("beta"),
        "a key leaked: {json}"
    );

    let (_sb, addr) = sandbox(LimitsConfig {
        global: burst(2),
        ..LimitsConfig::default()
    });
    let mut statuses = Vec::new();
    for src in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        statuses.push(get(ip(src), addr, "/").await.unwrap().status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn beyond_max_concurrent_requests_get_503() {
    let echo = Echo::new();
    let gate = echo.gate.clone();
    let sb = Sandbox::builder()
        .service(
            echo,
            ServiceConfig {
                limits: LimitsConfig {
                    max_concurrent: Some(2),
                    ..LimitsConfig::default()
                },
                ..ServiceConfig::default()
            },
        )
        .start()
        .unwrap();
    let addr = sb.service("echo").unwrap().addr();
    let stats = sb.controls("echo").unwrap().stats().clone();
    let held: Vec<_> = (0..2)
        .map(|i| tokio::spawn(get(ip(&format!("127.0.0.{}", 2 + i)), addr, "/hold")))
        .collect();
    stats.wait_until(|s| s.total.in_flight == 2).await;
    let a = get(ip("127.0.0.9"), addr, "/echo").await.unwrap();
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(a.headers.get("retry-after").is_none());
    gate.add_permits(2);
    for h in held {
        assert_eq!(h.await.unwrap().unwrap().status, StatusCode::OK);
    }
    // Capacity is back.
    assert_eq!(
        get(ip("127.0.0.9"), addr, "/echo").await.unwrap().status,
        StatusCode::OK
    );
    let s = stats.snapshot();
    assert_eq!((s.total.overloaded, s.total.max_in_flight), (1, 3));
}
