//! Secrets in request URLs (API keys, tokens) never reach logs or errors, whatever happens to
//! the request. Everything galileo-net, hyper and hyper-util log at TRACE level is captured.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use galileo_net::{BoundHttpClient, HttpClient, HttpConfig, TaskKind};
use support::{Reply, ServerBuilder, allocator, get};

const SECRET: &str = "sk-live-DEADBEEF0123456789";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_in_trace_logs_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let errors = tracing::subscriber::with_default(subscriber, || {
        // One thread: every task (hyper's connection tasks too) logs into this subscriber.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = ServerBuilder::new()
                .reply(|h| match h.path.as_str() {
                    p if p.starts_with("/slow") => Reply::hang(),
                    p if p.starts_with("/limited") => Reply::status(429).header("retry-after", "1"),
                    _ => Reply::ok("fine"),
                })
                .start()
                .await;
            let closed = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let alloc = allocator(2, 4, None);
            let client = BoundHttpClient::new(&HttpConfig {
                request_timeout_ms: 100,
                ..HttpConfig::default()
            })
            .unwrap();
            let mut errors = Vec::new();
            for url in [
                server.url("http", &format!("/ok?api-key={SECRET}")),
                server.url("http", &format!("/limited?api-key={SECRET}")),
                server.url("http", &format!("/slow?api-key={SECRET}")),
                format!("http://{closed}/x?token={SECRET}"),
            ] {
                let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
                match client.send(&lease, get(&url)).await {
                    Ok(r) => {
                        tracing::info!(status = %r.status(), local_ip = %lease.ip(), "answered")
                    }
                    Err(e) => {
                        errors.push(format!("{e} | {e:?} | {:?}", std::error::Error::source(&e)))
                    }
                }
            }
            errors
        })
    });
    assert_eq!(
        errors.len(),
        2,
        "a timeout and a refused connection: {errors:?}"
    );
    for e in &errors {
        assert!(!e.contains(SECRET), "secret in an error: {e}");
    }
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("127.0.0.2") && logs.contains("cooling down"),
        "logs were captured:\n{logs}"
    );
    assert!(!logs.contains(SECRET), "secret in the logs:\n{logs}");
}
