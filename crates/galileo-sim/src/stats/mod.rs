//! What a service saw: counters per source IP and per API key, and a bounded log of recent
//! requests. Read in process with [`Stats::snapshot`], over HTTP at `GET /__sim/stats` (JSON)
//! and `GET /__sim/metrics` (Prometheus text).
//!
//! API keys never appear: they are shown as a short SHA-256 tag, and secret-looking query
//! parameters are masked in the request log.

mod prometheus;

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::faults::Fault;

/// How many recent requests the log keeps.
pub const RECENT_CAPACITY: usize = 1024;

/// Counters of one client (source IP or API key) or of the whole service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests received (admin endpoints excluded).
    pub requests: u64,
    /// Requests refused with `429`.
    pub rate_limited: u64,
    /// Requests refused with `503` (overload).
    pub overloaded: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Faults injected, by name.
    pub faults: BTreeMap<String, u64>,
    /// Requests in progress now (from arrival until the response head is ready).
    pub in_flight: u64,
    /// The most requests ever in progress at once.
    pub max_in_flight: u64,
    /// Request body bytes received.
    pub bytes_in: u64,
    /// Response body bytes sent (or queued, for a trickled body).
    pub bytes_out: u64,
}

impl Counters {
    fn arrive(&mut self, bytes_in: u64) {
        self.requests += 1;
        self.in_flight += 1;
        self.max_in_flight = self.max_in_flight.max(self.in_flight);
        self.bytes_in += bytes_in;
    }

    fn respond(&mut self, status: u16, bytes_out: u64) {
        *self.statuses.entry(status).or_default() += 1;
        self.bytes_out += bytes_out;
        match status {
            429 => self.rate_limited += 1,
            503 => self.overloaded += 1,
            _ => {}
        }
    }

    fn fault(&mut self, fault: Fault) {
        *self.faults.entry(fault.name().to_owned()).or_default() += 1;
    }

    /// Responses with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Injections of this fault.
    pub fn fault_count(&self, fault: Fault) -> u64 {
        self.faults.get(fault.name()).copied().unwrap_or(0)
    }
}

/// One request in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The request number within the service.
    pub id: u64,
    /// The source IP.
    pub ip: IpAddr,
    /// The API key's tag, if the request had a key.
    pub key: Option<String>,
    /// The method.
    pub method: String,
    /// Path and query, secret-looking query values masked.
    pub path: String,
    /// The status answered; `None` for a reset or a request never answered.
    pub status: Option<u16>,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
}

/// Everything a service counted, at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// The service.
    pub service: String,
    /// TCP connections accepted.
    pub connections: u64,
    /// All clients together.
    pub total: Counters,
    /// Per source IP.
    pub per_ip: BTreeMap<IpAddr, Counters>,
    /// Per API key tag.
    pub per_key: BTreeMap<String, Counters>,
    /// The most recent requests, oldest first.
    pub recent: VecDeque<RequestRecord>,
}

impl StatsSnapshot {
    /// The counters of one source IP (all zero if it never came).
    pub fn ip(&self, ip: IpAddr) -> Counters {
        self.per_ip.get(&ip).cloned().unwrap_or_default()
    }

    /// The counters of one API key (all zero if it never came).
    pub fn key(&self, key: &str) -> Counters {
        self.per_key.get(&key_tag(key)).cloned().unwrap_or_default()
    }

    /// The Prometheus text exposition of these counters.
    pub fn to_prometheus(&self) -> String {
        prometheus::render(self)
    }
}

/// The tag shown for an API key: the first 12 hex digits of its SHA-256.
pub fn key_tag(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// A service's counters, shared by its connections.
#[derive(Clone, Debug)]
pub struct Stats {
    inner: Arc<Mutex<StatsSnapshot>>,
    /// Bumped on every change, so [`Stats::wait_until`] wakes without polling.
    changes: watch::Sender<u64>,
}

impl Stats {
    pub(crate) fn new(service: &str) -> Self {
        Self {
            inner: Arc::new(Mutex::new(StatsSnapshot {
                service: service.to_owned(),
                ..StatsSnapshot::default()
            })),
            changes: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StatsSnapshot> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with<R>(&self, f: impl FnOnce(&mut StatsSnapshot) -> R) -> R {
        let r = f(&mut self.lock());
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        r
    }

    /// A copy of the counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.lock().clone()
    }

    /// Waits until the counters satisfy `pred` and returns them. Wakes on every change, never
    /// polls; wrap it in a timeout.
    pub async fn wait_until(&self, mut pred: impl FnMut(&StatsSnapshot) -> bool) -> StatsSnapshot {
        let mut changes = self.changes.subscribe();
        loop {
            let snap = self.snapshot();
            if pred(&snap) {
                return snap;
            }
            // The sender lives in `self`: `changed` cannot fail while we hold it.
            let _ = changes.changed().await;
        }
    }

    /// Forgets everything counted so far (requests in progress stay counted as in flight).
    pub fn reset(&self) {
        self.with(|s| {
            let keep = |c: &Counters| Counters {
                in_flight: c.in_flight,
                max_in_flight: c.in_flight,
                ..Counters::default()
            };
            s.connections = 0;
            s.total = keep(&s.total);
            s.per_ip = s
                .per_ip
                .iter()
                .filter(|(_, c)| c.in_flight > 0)
                .map(|(ip, c)| (*ip, keep(c)))
                .collect();
            s.per_key = s
                .per_key
                .iter()
                .filter(|(_, c)| c.in_flight > 0)
                .map(|(k, c)| (k.clone(), keep(c)))
                .collect();
            s.recent.clear();
        });
    }

    pub(crate) fn connection(&self) {
        self.with(|s| s.connections += 1);
    }

    /// Counts an arriving request; it stays in flight until the returned guard drops.
    pub(crate) fn arrive(&self, record: RequestRecord, bytes_in: u64) -> InFlight {
        self.with(|s| {
            s.total.arrive(bytes_in);
            s.per_ip.entry(record.ip).or_default().arrive(bytes_in);
            if let Some(k) = &record.key {
                s.per_key.entry(k.clone()).or_default().arrive(bytes_in);
            }
        });
        InFlight {
            stats: self.clone(),
            record,
            logged: false,
        }
    }

    /// Counts a fault injected outside a request's life (a TLS handshake, a stream).
    pub(crate) fn fault(&self, ip: IpAddr, fault: Fault) {
        self.with(|s| {
            s.total.fault(fault);
            s.per_ip.entry(ip).or_default().fault(fault);
        });
    }

    fn each<'a>(
        s: &'a mut StatsSnapshot,
        r: &RequestRecord,
    ) -> impl Iterator<Item = &'a mut Counters> {
        let key = match &r.key {
            Some(k) => s.per_key.get_mut(k),
            None => None,
        };
        [Some(&mut s.total), s.per_ip.get_mut(&r.ip), key]
            .into_iter()
            .flatten()
    }
}

/// A request being served. Dropping it ends the request's time in flight and logs it (as
/// unanswered if [`InFlight::respond`] was never called).
#[derive(Debug)]
pub(crate) struct InFlight {
    stats: Stats,
    record: RequestRecord,
    logged: bool,
}

impl InFlight {
    /// Counts a fault injected into this request.
    pub(crate) fn fault(&mut self, fault: Fault) {
        self.record.fault = Some(fault);
        let r = &self.record;
        self.stats
            .with(|s| Stats::each(s, r).for_each(|c| c.fault(fault)));
    }

    /// Counts the response and logs the request.
    pub(crate) fn respond(&mut self, status: u16, bytes_out: u64) {
        self.record.status = Some(status);
        let r = &self.record;
        self.stats
            .with(|s| Stats::each(s, r).for_each(|c| c.respond(status, bytes_out)));
        self.log();
    }

    fn log(&mut self) {
        if !std::mem::replace(&mut self.logged, true) {
            let r = self.record.clone();
            self.stats.with(|s| {
                if s.recent.len() == RECENT_CAPACITY {
                    s.recent.pop_front();
                }
                s.recent.push_back(r);
            });
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.log();
        let r = &self.record;
        self.stats.with(|s| {
            Stats::each(s, r).for_each(|c| c.in_flight = c.in_flight.saturating_sub(1));
        });
    }
}

/// The path and query of a request with the values of secret-looking query parameters
/// (`api-key`, `token`, `uuid`, `auth`, ...) replaced by `***`.
pub fn redact(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", masked.join("&"))
}

fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "key", "token", "secret", "auth", "uuid", "jwt", "pass", "sig",
    ]
    .iter()
    .any(|s| n.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ip: &str, key: Option<&str>) -> RequestRecord {
        RequestRecord {
            id: 0,
            ip: ip.parse().unwrap(),
            key: key.map(key_tag),
            method: "GET".into(),
            path: "/".into(),
            status: None,
            fault: None,
        }
    }

    #[test]
    fn counts_per_ip_and_key_and_in_flight() {
        let s = Stats::new("t");
        let mut a = s.arrive(rec("127.0.0.2", Some("k")), 10);
        let b = s.arrive(rec("127.0.0.2", None), 5);
        let mut c = s.arrive(rec("127.0.0.3", None), 0);
        let snap = s.snapshot();
        assert_eq!(snap.ip("127.0.0.2".parse().unwrap()).max_in_flight, 2);
        assert_eq!(snap.total.in_flight, 3);
        assert_eq!(snap.total.bytes_in, 15);
        a.respond(200, 7);
        c.fault(Fault::ServerError);
        c.respond(429, 3);
        drop((a, b, c));
        let snap = s.snapshot();
        assert_eq!(snap.total.in_flight, 0);
        assert_eq!(snap.total.max_in_flight, 3);
        assert_eq!(snap.key("k").status(200), 1);
        assert_eq!(snap.key("k").requests, 1);
        assert_eq!(snap.ip("127.0.0.3".parse().unwrap()).rate_limited, 1);
        assert_eq!(snap.total.fault_count(Fault::ServerError), 1);
        assert_eq!(snap.total.bytes_out, 10);
        // The unanswered one is logged too, without a status.
        assert_eq!(snap.recent.len(), 3);
        assert_eq!(snap.recent.iter().filter(|r| r.status.is_none()).count(), 1);
        let json = serde_json::to_string(&snap).unwrap();
        assert!(!json.contains("\"k\""), "{json}");
        assert_eq!(serde_json::from_str::<StatsSnapshot>(&json).unwrap(), snap);
    }

    #[test]
    fn the_log_is_bounded() {
        let s = Stats::new("t");
        for i in 0..(RECENT_CAPACITY as u64 + 10) {
            let mut r = rec("127.0.0.2", None);
            r.id = i;
            s.arrive(r, 0).respond(200, 0);
        }
        let snap = s.snapshot();
        assert_eq!(snap.recent.len(), RECENT_CAPACITY);
        assert_eq!(snap.recent[0].id, 10);
        s.reset();
        assert_eq!(s.snapshot().total, Counters::default());
    }

    #[test]
    fn secrets_in_queries_are_masked() {
        assert_eq!(
            redact("/api/v1/bundles?uuid=abc-123&x=1"),
            "/api/v1/bundles?uuid=***&x=1"
        );
        assert_eq!(
            redact("/quote?api-key=s3cret&inputMint=So1&amount=5"),
            "/quote?api-key=***&inputMint=So1&amount=5"
        );
        assert_eq!(
            redact("/swap?token=t&Authorization=z"),
            "/swap?token=***&Authorization=***"
        );
        assert_eq!(redact("/health"), "/health");
    }
}
