//! The JWT against galileo-sim's handshake: both carriers work; an expired or wrong-audience
//! token is a clear error naming the cause; the token appears in no error, no `Debug` and no
//! log line (every log line of this binary is captured, at trace level).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::support::*;
use galileo_sim::titan::jwt::{self, Claims};
use galileo_titan::{AuthMode, Jwt, TitanStreams};

/// Every log line of this test binary.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

fn signed(claims: &Claims) -> String {
    jwt::sign(claims, SECRET.as_bytes())
}

fn assert_hidden(token: &str, shown: &str) {
    // The signature alone identifies the token: check for it, and for the whole.
    let sig = token.rsplit('.').next().unwrap();
    assert!(!shown.contains(token), "token leaked: {shown}");
    assert!(!shown.contains(sig), "token signature leaked: {shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_rides_in_the_header_or_the_query_as_configured() {
    logs();
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    for (auth, sub) in [
        (AuthMode::Header, "by-header"),
        (AuthMode::Query, "by-query"),
    ] {
        let mut cfg = config(&sim);
        cfg.auth = auth;
        let client = client_with(cfg, &alloc, &token(sub));
        let mut conn = client.connect(ip(2)).await.unwrap();
        assert_eq!(conn.local_addr().ip(), ip(2));
        let info = conn.get_info().await.unwrap();
        assert_eq!(info.settings.connection.concurrent_streams, 4);
        assert_eq!(info.protocol_version.major, 1);
        let r = sim.handle.record();
        assert_eq!(r.connections.last().unwrap().sub, sub);
        conn.close().await;
    }
    assert_hidden(&token("by-query"), &logged());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_with_the_cause_and_never_shown() {
    logs();
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    // Issued 1000 s ago for 900 s: expired 100 s ago (the simulator allows 5 s of skew).
    let expired = signed(&Claims::new("late", unix_now() - 1_000, 900));
    for auth in [AuthMode::Header, AuthMode::Query] {
        let mut cfg = config(&sim);
        cfg.auth = auth;
        let client = client_with(cfg, &alloc, &expired);
        let err = client.connect(ip(2)).await.unwrap_err();
        assert!(err.is_unauthorized(), "{err}");
        let text = err.to_string();
        assert!(text.contains("401") && text.contains("expired"), "{text}");
        assert_hidden(&expired, &text);
        assert_hidden(&expired, &format!("{err:?}"));
        assert_hidden(&expired, &format!("{:?}", client));
    }
    // Run as streams: the manager logs the refusal and the expiry, never the token.
    let client = client_with(config(&sim), &alloc, &expired);
    let streams = TitanStreams::start(client, sizes(1)).unwrap();
    let mut changes = streams.health_changes();
    let health = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(h) = streams.health_of(ip(2)).filter(|h| h.last_error.is_some()) {
                return h;
            }
            changes.changed().await.unwrap();
        }
    })
    .await
    .unwrap();
    let last = health.last_error.unwrap();
    assert!(last.contains("expired"), "{last}");
    assert_hidden(&expired, &last);
    let log = logged();
    assert!(
        log.contains("the Titan JWT expired"),
        "the expiry was announced"
    );
    assert!(
        log.contains("Titan connection refused"),
        "the refusal was logged"
    );
    drop(streams);
    assert_hidden(&expired, &logged());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_audience_is_refused_with_the_cause() {
    logs();
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    let mut claims = Claims::new("elsewhere", unix_now(), 900);
    claims.aud = "api.example.org".into();
    let wrong = signed(&claims);
    let client = client_with(config(&sim), &alloc, &wrong);
    let err = client.connect(ip(2)).await.unwrap_err();
    let text = err.to_string();
    assert!(err.is_unauthorized(), "{text}");
    assert!(
        text.contains("audience") && text.contains("api.titan.ag"),
        "{text}"
    );
    assert_hidden(&wrong, &text);
    assert_hidden(&wrong, &format!("{err:?}"));
    // The client itself warned that the audience was not Titan's.
    assert!(logged().contains("does not name audience api.titan.ag"));
    assert_hidden(&wrong, &logged());
    assert!(!format!("{:?}", Jwt::new(&wrong).unwrap()).contains(&wrong));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_close_to_expiry_is_warned_about_once_ahead() {
    logs();
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 1);
    // 60 s left; the default lead is 120 s.
    let soon = signed(&Claims::new("soon", unix_now(), 60));
    let client = client_with(config(&sim), &alloc, &soon);
    let streams = TitanStreams::start(client, sizes(1)).unwrap();
    sim.until("a stream open", |r| r.open_streams() == 1).await;
    let warned = |log: &str| log.matches("the Titan JWT expires in").count();
    assert_eq!(warned(&logged()), 1, "{}", logged());
    // A fresh token re-arms the watch; with 900 s left there is nothing to say.
    streams.client().set_jwt(Jwt::new(token("fresh")).unwrap());
    assert_eq!(warned(&logged()), 1);
    drop(streams);
    assert_hidden(&soon, &logged());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_parallelism_is_clamped_to_two_per_ip_with_one_warning() {
    logs();
    let sim = Sim::start(sim_config());
    let alloc = allocator(2, 2);
    let streams = TitanStreams::start(client(config(&sim), &alloc), sizes(9)).unwrap();
    assert_eq!(streams.quote_parallelism(3), 3, "within 2 × 2 IPs: kept");
    assert_eq!(streams.quote_parallelism(17), 4);
    assert_eq!(streams.quote_parallelism(17), 4);
    let log = logged();
    assert_eq!(
        log.matches("quote_parallelism 17 is more than").count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("configured=17"),
        "the configured value is a field too"
    );
}
