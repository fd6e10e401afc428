//! A Redis password never reaches logs, errors or `Debug` output. In a test binary of its own:
//! tracing caches each log call site's interest process-wide, so a test on another thread
//! without a subscriber could hide this test's log lines.
#![cfg(feature = "redis")]

mod support;

use std::sync::{Arc, Mutex};

use galileo_resilience::rate_limit::{RateLimiter, RedisConfig, RedisLimiter, Subject};
use support::RedisServer;

#[tokio::test]
async fn a_wrong_password_never_reaches_logs_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path(), &["--requirepass", "right-horse"]).await;
    let url = format!("{}?pass=battery-staple", redis.url());
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = logs.clone();
    let subscriber = tracing_subscriber_like(writer);
    let _guard = tracing::subscriber::set_default(subscriber);
    let cfg = RedisConfig {
        url,
        ..RedisConfig::default()
    };
    let tiers = toml::from_str(
        r#"ip = { algorithm = "sliding_window", requests = 100, window_ms = 1000 }"#,
    )
    .unwrap();
    let limiter = RedisLimiter::new(&cfg, &tiers).unwrap();
    let me = Subject {
        ip: Some("10.0.0.1"),
        ..Subject::default()
    };
    let d = limiter.check(&me, 1).await;
    assert!(!limiter.backend_up(), "authentication fails");
    assert!(d.allowed(), "local share answers");
    let shown = format!("{limiter:?}");
    let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("Redis unreachable"),
        "the fallback is logged: {logged}"
    );
    for text in [shown, logged] {
        assert!(!text.contains("battery-staple"), "{text}");
    }
    assert_eq!(d.decision.limit, 50, "half of 100: the local share");
}

/// A minimal tracing subscriber writing formatted events into a buffer.
fn tracing_subscriber_like(out: Arc<Mutex<Vec<u8>>>) -> impl tracing::Subscriber + Send + Sync {
    struct W(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    tracing_subscriber::fmt()
        .with_writer(move || W(out.clone()))
        .with_ansi(false)
        .finish()
}
