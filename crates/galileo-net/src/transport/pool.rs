//! One hyper client per source IP, built lazily, capped, and evicted when idle.
//!
//! hyper-util pools connections by (scheme, authority) only. Giving each IP its own client
//! makes the key (IP, scheme, authority): a connection opened from one IP can never carry a
//! request leased to another.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::ClientConfig;
use tokio::time::Instant;

use super::connector::BoundConnector;
use crate::{HttpConfig, SourceIp};

pub(crate) type PooledClient = Client<HttpsConnector<BoundConnector>, Full<Bytes>>;

/// Sweep idle clients every this many lookups (and whenever one is created).
const SWEEP_EVERY: u64 = 4096;

#[derive(Debug)]
pub(crate) struct ClientPool {
    inner: Mutex<Inner>,
    tls: Arc<ClientConfig>,
    max_clients: usize,
    client_idle: Duration,
    pool_idle: Duration,
    max_idle_per_host: usize,
    connect_timeout: Duration,
}

#[derive(Debug, Default)]
struct Inner {
    clients: HashMap<IpAddr, Entry>,
    lookups: u64,
}

#[derive(Debug)]
struct Entry {
    client: PooledClient,
    last_used: Instant,
}

impl ClientPool {
    pub(crate) fn new(cfg: &HttpConfig, tls: Arc<ClientConfig>) -> Self {
        Self {
            inner: Mutex::default(),
            tls,
            max_clients: cfg.max_clients,
            client_idle: Duration::from_millis(cfg.client_idle_timeout_ms),
            pool_idle: Duration::from_millis(cfg.pool_idle_timeout_ms),
            max_idle_per_host: cfg.max_idle_per_host,
            connect_timeout: cfg.connect_timeout(),
        }
    }

    /// The client for `source`, created on first use.
    pub(crate) fn client(&self, source: &SourceIp, now: Instant) -> PooledClient {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.lookups += 1;
        if inner.lookups.is_multiple_of(SWEEP_EVERY) {
            inner.sweep(now, self.client_idle);
        }
        if let Some(e) = inner.clients.get_mut(&source.ip()) {
            e.last_used = now;
            return e.client.clone();
        }
        inner.sweep(now, self.client_idle);
        if inner.clients.len() >= self.max_clients {
            inner.evict_lru();
        }
        let client = self.build(source);
        inner.clients.insert(
            source.ip(),
            Entry {
                client: client.clone(),
                last_used: now,
            },
        );
        client
    }

    /// Per-IP clients alive now.
    pub(crate) fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clients
            .len()
    }

    fn build(&self, source: &SourceIp) -> PooledClient {
        let tcp = BoundConnector::new(source.clone(), self.connect_timeout);
        let https = HttpsConnector::from((tcp, self.tls.clone()));
        Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle)
            .pool_max_idle_per_host(self.max_idle_per_host)
            .build(https)
    }
}

impl Inner {
    /// Drops clients unused for `idle`; their connections close once in-flight requests end.
    fn sweep(&mut self, now: Instant, idle: Duration) {
        self.clients
            .retain(|_, e| now.saturating_duration_since(e.last_used) < idle);
    }

    fn evict_lru(&mut self) {
        if let Some(ip) = self
            .clients
            .iter()
            .min_by_key(|(_, e)| e.last_used)
            .map(|(ip, _)| *ip)
        {
            self.clients.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn pool(max_clients: usize, idle_ms: u64) -> ClientPool {
        let cfg = HttpConfig {
            max_clients,
            client_idle_timeout_ms: idle_ms,
            ..HttpConfig::default()
        };
        let roots = super::super::tls::root_store(&cfg, &[]).unwrap();
        ClientPool::new(
            &cfg,
            super::super::tls::client_config(roots, super::super::tls::ALPN_HTTP).unwrap(),
        )
    }

    fn src(n: u8) -> SourceIp {
        SourceIp::new(IpAddr::from([127, 0, 0, n]))
    }

    fn ips(p: &ClientPool) -> Vec<IpAddr> {
        let inner = p.inner.lock().unwrap();
        let mut v: Vec<IpAddr> = inner.clients.keys().copied().collect();
        v.sort();
        v
    }

    #[test]
    fn the_cap_evicts_the_least_recently_used_client() {
        let p = pool(2, 60_000);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        p.client(&src(2), t0);
        p.client(&src(3), t0 + ms(1));
        p.client(&src(2), t0 + ms(2)); // 127.0.0.2 used again: 127.0.0.3 is now the LRU
        p.client(&src(4), t0 + ms(3));
        assert_eq!(ips(&p), [src(2).ip(), src(4).ip()]);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn idle_clients_are_dropped() {
        let p = pool(16, 100);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        p.client(&src(2), t0);
        p.client(&src(3), t0 + ms(80));
        // Creating a client sweeps: 127.0.0.2 has been idle 120 ms, 127.0.0.3 only 40 ms.
        p.client(&src(4), t0 + ms(120));
        assert_eq!(ips(&p), [src(3).ip(), src(4).ip()]);
        // Lookups of existing clients sweep too, every SWEEP_EVERY of them.
        let later = t0 + ms(1_000);
        for _ in 0..SWEEP_EVERY {
            p.client(&src(4), later);
        }
        assert_eq!(ips(&p), [src(4).ip()]);
    }
}
