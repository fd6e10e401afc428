//! The Redis limiter against a real `redis-server` that each test starts on a private unix
//! socket (`cargo xtask test` installs redis-server when missing).
#![cfg(feature = "redis")]

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use galileo_resilience::rate_limit::{
    OnFailure, RateLimiter, RedisConfig, RedisLimiter, Subject, Tier, TiersConfig,
};
use support::RedisServer;
use tokio::process::Command;
use tokio::time::Instant;

fn tiers(text: &str) -> TiersConfig {
    toml::from_str(text).unwrap()
}

fn config(url: String) -> RedisConfig {
    RedisConfig {
        url,
        namespace: format!("test{}", std::process::id()),
        ..RedisConfig::default()
    }
}

const IP_A: Subject<'static> = Subject {
    ip: Some("10.0.0.1"),
    api_key: Some("alice"),
    endpoint: None,
};

#[tokio::test]
async fn decisions_match_the_local_semantics_and_tiers_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path(), &[]).await;
    let limiter = RedisLimiter::new(
        &config(redis.url()),
        &tiers(
            r#"
            global = { algorithm = "sliding_window", requests = 5, window_ms = 10000 }
            ip = { algorithm = "sliding_window", requests = 3, window_ms = 10000 }
            key = { algorithm = "sliding_window", requests = 2, window_ms = 10000 }
            "#,
        ),
    )
    .unwrap();
    let d = limiter.check(&IP_A, 1).await;
    assert!(d.allowed() && limiter.backend_up());
    assert_eq!(
        (d.tier, d.decision.remaining, d.decision.limit),
        (Some(Tier::ApiKey), 1, 2)
    );
    assert!(limiter.check(&IP_A, 1).await.allowed());
    let denied = limiter.check(&IP_A, 1).await;
    assert_eq!(denied.tier, Some(Tier::ApiKey));
    let wait = denied.decision.retry_after.unwrap();
    assert!(
        wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
        "{wait:?}"
    );
    // The denial took nothing from the IP or global tiers.
    let bob = Subject {
        api_key: Some("bob"),
        ..IP_A
    };
    assert!(limiter.check(&bob, 1).await.allowed());
    assert_eq!(limiter.check(&bob, 1).await.tier, Some(Tier::SourceIp));
    let carol = Subject {
        ip: Some("10.0.0.2"),
        api_key: Some("carol"),
        endpoint: None,
    };
    assert!(limiter.check(&carol, 2).await.allowed());
    assert_eq!(limiter.check(&carol, 1).await.tier, Some(Tier::Global));
    // Too costly never fits.
    let d = limiter.check(&carol, 6).await;
    assert_eq!((d.allowed(), d.decision.retry_after), (false, None));
}

#[tokio::test]
async fn gcra_tiers_are_refused_with_a_reason() {
    let e = RedisLimiter::new(
        &config("redis://127.0.0.1/".into()),
        &tiers(r#"ip = { algorithm = "gcra", requests = 3 }"#),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("tier ip") && e.contains("sliding_window"), "{e}");
}

/// Not a test of its own: the child process of `three_processes_share_one_limit`. It does
/// nothing unless that test started it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_hammer() {
    let Ok(url) = std::env::var("GALILEO_HAMMER_REDIS") else {
        return;
    };
    let seconds: u64 = std::env::var("GALILEO_HAMMER_SECS")
        .unwrap()
        .parse()
        .unwrap();
    let namespace = std::env::var("GALILEO_HAMMER_NAMESPACE").unwrap();
    let limiter = Arc::new(
        RedisLimiter::new(
            &RedisConfig {
                url,
                namespace,
                ..RedisConfig::default()
            },
            &tiers(
                r#"global = { algorithm = "sliding_window", requests = 200, window_ms = 1000 }"#,
            ),
        )
        .unwrap(),
    );
    let stop = Instant::now() + Duration::from_secs(seconds);
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (limiter, admitted) = (limiter.clone(), admitted.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < stop {
                let (d, at) = limiter.check_at(&Subject::default(), 1).await;
                assert!(limiter.backend_up(), "Redis must serve every decision");
                if d.allowed() {
                    admitted.lock().unwrap().push(at.unwrap());
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut out = String::new();
    for at in admitted.lock().unwrap().iter() {
        out.push_str(&format!("ADMIT {at}\n"));
    }
    // The parent reads these lines.
    print!("{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_limit() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path(), &[]).await;
    let namespace = format!("hammer{}", std::process::id());
    let secs = 5u64;
    let mut children = Vec::new();
    for _ in 0..3 {
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_hammer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("GALILEO_HAMMER_REDIS", redis.url())
            .env("GALILEO_HAMMER_SECS", secs.to_string())
            .env("GALILEO_HAMMER_NAMESPACE", &namespace)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        children.push(child);
    }
    let mut admitted: Vec<u64> = Vec::new();
    let mut per_child = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success(), "a child failed: {out:?}");
        let mine: Vec<u64> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("ADMIT "))
            .map(|n| n.parse().unwrap())
            .collect();
        per_child.push(mine.len());
        admitted.extend(mine);
    }
    admitted.sort_unstable();
    // Exact: in every window of 1 s (on Redis's clock), at most 200 admissions.
    let window = 1_000_000u64;
    let mut worst = 0;
    let mut j = 0;
    for i in 0..admitted.len() {
        while j < admitted.len() && admitted[j] < admitted[i] + window {
            j += 1;
        }
        worst = worst.max(j - i);
    }
    eprintln!(
        "3 processes × 4 tasks, {secs} s: {} admitted (per process {per_child:?}), busiest 1 s window {worst}/200",
        admitted.len()
    );
    assert!(worst <= 200, "{worst} admissions within one window");
    // And the quota is used: at least 95 % of 200/s over the 5 s.
    let floor = (200 * secs) as f64 * 0.95;
    assert!(
        admitted.len() as f64 >= floor,
        "{} admitted (per process {per_child:?}), expected at least {floor}",
        admitted.len()
    );
    assert!(
        per_child.iter().all(|n| *n > 0),
        "every process got a share: {per_child:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_falls_back_within_a_second_and_comes_back() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let up_gauge = || {
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .find(|(k, ..)| k.key().name() == galileo_resilience::metrics::RATELIMIT_BACKEND_UP)
            .map(|(.., v)| format!("{v:?}"))
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path(), &[]).await;
    let cfg = RedisConfig {
        probe_interval_ms: 300,
        local_share: 0.5,
        ..config(redis.url())
    };
    let limiter = metrics::with_local_recorder(&recorder, || {
        RedisLimiter::new(
            &cfg,
            &tiers(
                r#"global = { algorithm = "sliding_window", requests = 100, window_ms = 10000 }"#,
            ),
        )
        .unwrap()
    });
    let (d, at) = limiter.check_at(&IP_A, 1).await;
    assert!(d.allowed() && at.is_some(), "served by Redis");

    redis.kill().await;
    let killed = Instant::now();
    let (d, at) = limiter.check_at(&IP_A, 1).await;
    assert!(
        killed.elapsed() < Duration::from_secs(1),
        "fallback within a second: {:?}",
        killed.elapsed()
    );
    assert!(
        d.allowed() && at.is_none() && !limiter.backend_up(),
        "answered locally"
    );
    assert_eq!(up_gauge(), "Gauge(0.0)");
    // While down: local limits at half the size (50 of 100), answered at once.
    let start = Instant::now();
    let mut allowed = 1;
    for _ in 0..80 {
        let (d, at) = limiter.check_at(&IP_A, 1).await;
        assert!(at.is_none());
        allowed += usize::from(d.allowed());
    }
    assert_eq!(allowed, 50, "the local share of the limit");
    assert!(
        start.elapsed() < Duration::from_millis(300),
        "no Redis wait per request while down"
    );

    // Redis comes back (same socket). After one probe interval, a decision finds it.
    let redis = RedisServer::start(dir.path(), &[]).await;
    tokio::time::sleep(Duration::from_millis(cfg.probe_interval_ms)).await;
    let (d, at) = limiter.check_at(&IP_A, 1).await;
    assert!(
        at.is_some() && limiter.backend_up(),
        "shared limits are back"
    );
    assert!(d.allowed(), "a fresh Redis has the whole limit");
    assert_eq!(up_gauge(), "Gauge(1.0)");
    drop(redis);
}

#[tokio::test]
async fn fail_closed_denies_until_redis_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path(), &[]).await;
    let cfg = RedisConfig {
        on_failure: OnFailure::Deny,
        probe_interval_ms: 500,
        ..config(redis.url())
    };
    let limiter = RedisLimiter::new(
        &cfg,
        &tiers(r#"ip = { algorithm = "sliding_window", requests = 100, window_ms = 1000 }"#),
    )
    .unwrap();
    assert!(limiter.check(&IP_A, 1).await.allowed());
    redis.kill().await;
    for _ in 0..3 {
        let d = limiter.check(&IP_A, 1).await;
        assert!(!d.allowed());
        let wait = d.decision.retry_after.unwrap();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path(), &[]).await;
    let cfg = RedisConfig {
        probe_interval_ms: 200,
        ..config(redis.url())
    };
    let limiter = Arc::new(
        RedisLimiter::new(
            &cfg,
            &tiers(r#"ip = { algorithm = "sliding_window", requests = 50, window_ms = 1000 }"#),
        )
        .unwrap(),
    );
    let stop = Instant::now() + Duration::from_millis(2500);
    let mut tasks = Vec::new();
    for t in 0..4 {
        let limiter = limiter.clone();
        tasks.push(tokio::spawn(async move {
            let ip = format!("10.2.0.{t}");
            let (mut slowest, mut from_redis, mut local, mut last_from_redis) =
                (Duration::ZERO, 0u32, 0u32, false);
            while Instant::now() < stop {
                let s = Subject {
                    ip: Some(&ip),
                    ..Subject::default()
                };
                let started = Instant::now();
                let (_, at) = limiter.check_at(&s, 1).await;
                slowest = slowest.max(started.elapsed());
                last_from_redis = at.is_some();
                if last_from_redis {
                    from_redis += 1
                } else {
                    local += 1
                }
                // Pace each task a little so the local fallback does not spin the CPU.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (slowest, from_redis, local, last_from_redis)
        }));
    }
    // The fault schedule: kill at 0.5 s, restart at 1.5 s.
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let restarted = RedisServer::start(dir.path(), &[]).await;
    for t in tasks {
        let (slowest, from_redis, local, last_from_redis) = t.await.unwrap();
        assert!(
            slowest < Duration::from_secs(1),
            "a decision took {slowest:?}"
        );
        assert!(
            from_redis > 0 && local > 0,
            "served by Redis, then locally: {from_redis}/{local}"
        );
        assert!(last_from_redis, "back on Redis after the restart");
    }
    assert!(limiter.backend_up());
    drop(restarted);
}

/// A Redis that stops answering without closing its connections (a lost host, a paused VM,
/// a failover moving the address) while a healthy one serves at the same address: the limiter
/// must drop its hung connection and reach the healthy one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_is_replaced_by_a_healthy_one_at_the_same_address() {
    let dir = tempfile::tempdir().unwrap();
    let old = RedisServer::start(dir.path(), &[]).await;
    let cfg = RedisConfig {
        probe_interval_ms: 100,
        ..config(old.url())
    };
    let limiter = RedisLimiter::new(
        &cfg,
        &tiers(r#"ip = { algorithm = "sliding_window", requests = 1000, window_ms = 1000 }"#),
    )
    .unwrap();
    assert!(limiter.check_at(&IP_A, 1).await.1.is_some());
    old.stop();
    // redis-server unlinks the socket path and binds it anew.
    let healthy = RedisServer::start(dir.path(), &[]).await;
    let hung = Instant::now();
    let (_, at) = limiter.check_at(&IP_A, 1).await;
    assert!(
        at.is_none() && !limiter.backend_up(),
        "the hung connection times out"
    );
    assert!(hung.elapsed() < Duration::from_secs(1));
    // After one probe interval, the probe connects afresh: to the healthy server.
    tokio::time::sleep(Duration::from_millis(cfg.probe_interval_ms)).await;
    let (_, at) = limiter.check_at(&IP_A, 1).await;
    assert!(
        at.is_some() && limiter.backend_up(),
        "back on the healthy Redis"
    );
    drop((old, healthy));
}

#[tokio::test]
async fn api_keys_never_reach_redis() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path(), &[]).await;
    let cfg = RedisConfig {
        key_secret: Some("fleet-secret".into()),
        ..config(redis.url())
    };
    let limiter = RedisLimiter::new(
        &cfg,
        &tiers(r#"key = { algorithm = "sliding_window", requests = 10, window_ms = 10000 }"#),
    )
    .unwrap();
    let me = Subject {
        api_key: Some("sk-live-SECRET-0001"),
        ..Subject::default()
    };
    assert!(limiter.check(&me, 1).await.allowed());
    assert_eq!(
        limiter.check(&me, 1).await.decision.remaining,
        8,
        "the same key name each time"
    );
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].contains(":key:") && !keys[0].contains("SECRET"),
        "{keys:?}"
    );
    // Another instance of the fleet (same secret) uses the same key name.
    let other = RedisLimiter::new(
        &cfg,
        &tiers(r#"key = { algorithm = "sliding_window", requests = 10, window_ms = 10000 }"#),
    )
    .unwrap();
    assert_eq!(other.check(&me, 1).await.decision.remaining, 7);
}
