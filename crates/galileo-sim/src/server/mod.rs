//! The core that hosts a [`Service`]: a listener on the service's address, optional TLS,
//! HTTP/1.1 and HTTP/2 on every connection (by ALPN, or by the HTTP/2 preface in clear
//! text), and per request the pipeline in [`pipeline`]: limits, faults, latency, the handler,
//! stats.

mod admin;
mod connection;
mod pipeline;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::ServiceConfig;
use crate::stats::{Stats, StatsSnapshot};
use crate::tls::Ca;
use crate::{Controls, Service, SimError, Tasks};

/// What every connection of a service shares.
struct Shared<S> {
    service: S,
    controls: Controls,
    tasks: Tasks,
    next_id: AtomicU64,
}

/// A service listening on its address. Stops when dropped (or, waiting until every task has
/// ended, with [`RunningService::shutdown`]).
#[derive(Debug)]
pub struct RunningService {
    name: &'static str,
    addr: SocketAddr,
    tls: bool,
    controls: Controls,
    tasks: Tasks,
    accept: AbortHandle,
}

impl RunningService {
    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Its base URL: `http://ip:port` or `https://ip:port` (the certificate names the IP).
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Its base WebSocket URL: `ws://ip:port` or `wss://ip:port`.
    pub fn ws_url(&self) -> String {
        format!("{}://{}", if self.tls { "wss" } else { "ws" }, self.addr)
    }

    /// Its knobs.
    pub fn controls(&self) -> &Controls {
        &self.controls
    }

    /// Its counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.controls.stats().snapshot()
    }

    /// Stops accepting, stops every connection and session, and waits until all are gone.
    pub async fn shutdown(self) {
        self.accept.abort();
        self.tasks.abort_all();
        self.tasks.join_all().await;
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.accept.abort();
        self.tasks.abort_all();
    }
}

/// A stable per-service seed: the sandbox seed mixed with the service name (FNV-1a).
pub(crate) fn service_seed(seed: u64, name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Starts `service` as `cfg` says. Must be called within a Tokio runtime.
pub(crate) fn serve<S: Service>(
    service: S,
    cfg: &ServiceConfig,
    ca: &Ca,
    seed: u64,
) -> Result<RunningService, SimError> {
    let name = service.name();
    cfg.validate(name)?;
    let want = SocketAddr::new(cfg.bind, cfg.port);
    let bind_err = |source| SimError::Bind {
        service: name.to_owned(),
        addr: want,
        source,
    };
    let std_listener = std::net::TcpListener::bind(want).map_err(bind_err)?;
    std_listener.set_nonblocking(true).map_err(bind_err)?;
    let listener = TcpListener::from_std(std_listener).map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let tls = if cfg.tls {
        Some(TlsAcceptor::from(ca.server_config(cfg.bind)?))
    } else {
        None
    };
    let controls = Controls::new(name, cfg, service_seed(seed, name), Stats::new(name));
    let tasks = Tasks::default();
    let shared = Arc::new(Shared {
        service,
        controls: controls.clone(),
        tasks: tasks.clone(),
        next_id: AtomicU64::new(0),
    });
    let accept = tokio::spawn(connection::accept_loop(listener, shared, tls)).abort_handle();
    tracing::info!(service = name, %addr, tls = cfg.tls, "galileo-sim service listening");
    Ok(RunningService {
        name,
        addr,
        tls: cfg.tls,
        controls,
        tasks,
        accept,
    })
}
