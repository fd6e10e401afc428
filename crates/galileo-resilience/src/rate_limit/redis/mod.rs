//! Tiered sliding-window limits shared through Redis by many processes on many machines, with a
//! local fallback while Redis is down.
//!
//! One Lua script decides for every tier of a request at once (atomically, on Redis's clock via
//! `TIME`), so a fleet shares exact limits: no process's clock matters, and a denial at one tier
//! consumes nothing at the others. All keys of a limiter share the hash tag
//! `{galileo:rl:<namespace>}`, so a cluster keeps the script on one slot. Each admitted cell is
//! a sorted-set member named by a per-request nonce, so requests landing in the same
//! microsecond never collide.
//!
//! When Redis fails to answer within `timeout_ms` (at most a second), the limiter falls back at
//! once by its policy, says so in a log line and in `galileo_ratelimit_backend_up`, tries Redis
//! again every `probe_interval_ms` with a real decision, and returns to the shared limits as
//! soon as one succeeds.

mod config;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use metrics::Gauge;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::{Instant, timeout};

use config::redacted;
pub use config::{OnFailure, RedisConfig};

use super::{
    Decision, Limit, LocalLimiter, RateLimiter, SlidingWindow, Subject, Tier, TierDecision,
    TieredLimiter, TiersConfig,
};
use crate::Error;

const SCRIPT: &str = include_str!("sliding.lua");

/// Tiered sliding-window limits shared through Redis; see the [module docs](self).
///
/// ```no_run
/// # async fn demo() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::rate_limit::{RateLimiter, RedisConfig, RedisLimiter, Subject, TiersConfig};
///
/// let tiers: TiersConfig = toml::from_str(r#"
///     ip = { algorithm = "sliding_window", requests = 10, window_ms = 1000 }
///     key = { algorithm = "sliding_window", requests = 600, window_ms = 60000 }
/// "#).unwrap();
/// let redis = RedisConfig { url: "redis://10.0.0.5:6379/".into(), local_share: 0.25, ..RedisConfig::default() };
/// let limiter = RedisLimiter::new(&redis, &tiers)?;
/// let d = limiter.check(&Subject { ip: Some("203.0.113.7"), api_key: Some("sk-..."), endpoint: None }, 1).await;
/// if !d.allowed() {
///     println!("denied by {:?}; retry in {:?}", d.tier, d.decision.retry_after);
/// }
/// # Ok(()) }
/// ```
pub struct RedisLimiter {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    connecting: tokio::sync::Mutex<()>,
    script: redis::Script,
    tiers: Vec<(Tier, SlidingWindow)>,
    key_prefix: String,
    fallback: LocalLimiter,
    api_key_hmac: ring::hmac::Key,
    cfg: RedisConfig,
    health: Mutex<Health>,
    up_gauge: Gauge,
    nonce_prefix: u64,
    nonce: AtomicU64,
}

#[derive(Debug)]
struct Health {
    up: bool,
    /// While down: when the next probe may start.
    next_try: Option<Instant>,
    /// While down: a probe is in flight (at most one at a time).
    probing: bool,
}

/// How a decision uses Redis: as usual while it is up, or as the one probe while it is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    Normal,
    Probe,
}

/// Ends a probe however its future ends (answered, failed, or dropped by the caller).
struct ProbeGuard<'a> {
    health: &'a Mutex<Health>,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.health
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .probing = false;
        }
    }
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("url", &redacted(&self.cfg.url))
            .field("namespace", &self.cfg.namespace)
            .field("tiers", &self.tiers)
            .field("backend_up", &self.backend_up())
            .finish_non_exhaustive()
    }
}

/// What the script answers: see `sliding.lua`.
type Raw = (i64, i64, i64, i64, i64, i64, i64);

impl RedisLimiter {
    /// A limiter over `tiers` (sliding windows only: that is what Redis keeps) in the Redis
    /// `cfg` names. Does not connect yet: the first decision does, so a process can start while
    /// Redis is down (it starts in fallback).
    pub fn new(cfg: &RedisConfig, tiers: &TiersConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let limits = tiers.limits()?;
        let mut windows = Vec::with_capacity(limits.len());
        for (tier, limit) in &limits {
            match limit {
                Limit::SlidingWindow(w) => windows.push((*tier, *w)),
                Limit::Gcra(_) => {
                    return Err(Error::InvalidConfig {
                        what: "redis rate limiter",
                        reason: format!(
                            "tier {}: the Redis backend keeps sliding windows; set algorithm = \"sliding_window\"",
                            tier.label()
                        ),
                    });
                }
            }
        }
        let client = redis::Client::open(cfg.url.as_str()).map_err(|e| Error::Redis {
            reason: format!("{}: {}", redacted(&cfg.url), e.category()),
        })?;
        let share: Vec<(Tier, Limit)> = limits
            .iter()
            .map(|(t, l)| (*t, l.scaled(cfg.local_share)))
            .collect();
        let up_gauge = metrics::gauge!(crate::metrics::RATELIMIT_BACKEND_UP, "backend" => "redis");
        up_gauge.set(1.0);
        Ok(Self {
            client,
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            script: redis::Script::new(SCRIPT),
            tiers: windows,
            key_prefix: format!("{{galileo:rl:{}}}:", cfg.namespace),
            fallback: LocalLimiter::from(TieredLimiter::from_limits(share, true)),
            api_key_hmac: ring::hmac::Key::new(
                ring::hmac::HMAC_SHA256,
                cfg.key_secret
                    .as_deref()
                    .unwrap_or(&cfg.namespace)
                    .as_bytes(),
            ),
            cfg: cfg.clone(),
            health: Mutex::new(Health {
                up: true,
                next_try: None,
                probing: false,
            }),
            up_gauge,
            nonce_prefix: rand::random(),
            nonce: AtomicU64::new(0),
        })
    }

    /// True while decisions come from Redis; false while the fallback policy answers.
    pub fn backend_up(&self) -> bool {
        self.health().up
    }

    /// The decision, and Redis's clock (µs since the epoch) when Redis made it (`None` when the
    /// fallback policy answered).
    pub async fn check_at(&self, subject: &Subject<'_>, cost: u32) -> (TierDecision, Option<u64>) {
        let keys: Vec<(usize, String)> = self
            .tiers
            .iter()
            .enumerate()
            .filter_map(|(i, (tier, _))| subject.value(*tier).map(|v| (i, self.key_name(*tier, v))))
            .collect();
        if keys.is_empty() {
            return (
                TierDecision {
                    decision: Decision::allow(u32::MAX, u32::MAX, Duration::ZERO),
                    tier: None,
                },
                None,
            );
        }
        let now = Instant::now();
        if let Some(attempt) = self.should_try(now) {
            let mut guard = ProbeGuard {
                health: &self.health,
                armed: attempt == Attempt::Probe,
            };
            let answer = timeout(self.cfg.timeout(), self.eval(&keys, cost)).await;
            guard.armed = false;
            drop(guard);
            match answer {
                Ok(Ok(raw)) => {
                    self.answered(attempt);
                    return self.decide(raw, &keys);
                }
                Ok(Err(e)) => self.failed(attempt, now, &describe(&e)),
                Err(_) => self.failed(
                    attempt,
                    now,
                    &format!("no answer within {} ms", self.cfg.timeout_ms),
                ),
            }
        }
        (self.fall_back(subject, cost, now), None)
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Up: every decision uses Redis. Down: one probe at a time, at most one per interval, so
    /// a dead Redis costs one timeout per interval, not one per request.
    fn should_try(&self, now: Instant) -> Option<Attempt> {
        let mut h = self.health();
        if h.up {
            return Some(Attempt::Normal);
        }
        if h.probing || h.next_try.is_some_and(|t| now < t) {
            return None;
        }
        h.probing = true;
        h.next_try = Some(now + self.cfg.probe_interval());
        Some(Attempt::Probe)
    }

    /// Redis answered. Only a probe brings it back up: an ordinary request that started before
    /// the outage and answered late must not flip the state back and forth.
    fn answered(&self, attempt: Attempt) {
        let mut h = self.health();
        if attempt == Attempt::Probe {
            h.probing = false;
            if !h.up {
                h.up = true;
                h.next_try = None;
                drop(h);
                self.up_gauge.set(1.0);
                tracing::info!(redis = %redacted(&self.cfg.url), "Redis answers again: shared rate limits are back");
            }
        }
    }

    /// Redis failed or said nothing in time. The cached connection is dropped: redis-rs keeps a
    /// connection whose server stopped answering without closing it (a lost host, a paused VM,
    /// a failover moving the address), so only a fresh one can reach a healthy server.
    fn failed(&self, attempt: Attempt, now: Instant, reason: &str) {
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let mut h = self.health();
        if attempt == Attempt::Probe {
            h.probing = false;
        }
        h.next_try = Some(now + self.cfg.probe_interval());
        if h.up {
            h.up = false;
            drop(h);
            self.up_gauge.set(0.0);
            let policy = match self.cfg.on_failure {
                OnFailure::LocalShare => {
                    format!("local limits at {} of each tier", self.cfg.local_share)
                }
                OnFailure::Deny => "denying every request".to_owned(),
            };
            tracing::warn!(
                redis = %redacted(&self.cfg.url),
                %reason,
                "Redis unreachable; rate limiting falls back to {policy} and retries Redis every {} ms",
                self.cfg.probe_interval_ms
            );
        }
    }

    /// The Redis key of a tier value (without the hash tag): API keys go through an HMAC, so
    /// no key text lands in Redis and key names are the same on every instance and toolchain.
    fn key_name(&self, tier: Tier, value: &str) -> String {
        if tier == Tier::ApiKey {
            let tag = ring::hmac::sign(&self.api_key_hmac, value.as_bytes());
            let hex: String = tag.as_ref()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{}:{hex}", tier.label())
        } else {
            format!("{}:{value}", tier.label())
        }
    }

    fn cached(&self) -> Option<ConnectionManager> {
        self.conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.cfg.timeout()))
            .set_response_timeout(Some(self.cfg.timeout()))
            .set_number_of_retries(1);
        let c = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(c.clone());
        Ok(c)
    }

    async fn eval(&self, keys: &[(usize, String)], cost: u32) -> redis::RedisResult<Raw> {
        let mut conn = self.connection().await?;
        let nonce = format!(
            "{:016x}{:x}",
            self.nonce_prefix,
            self.nonce.fetch_add(1, Ordering::Relaxed)
        );
        let mut invocation = self.script.prepare_invoke();
        for (_, key) in keys {
            invocation.key(format!("{}{key}", self.key_prefix));
        }
        invocation.arg(cost).arg(nonce);
        for (i, _) in keys {
            let w = self.tiers[*i].1;
            invocation
                .arg(super::Algorithm::limit(&w))
                .arg(u64::try_from(w.window().as_micros()).unwrap_or(u64::MAX));
        }
        invocation.invoke_async(&mut conn).await
    }

    fn decide(&self, raw: Raw, keys: &[(usize, String)]) -> (TierDecision, Option<u64>) {
        let (allowed, index, limit, remaining, retry_us, reset_us, now_us) = raw;
        let us = |n: i64| Duration::from_micros(u64::try_from(n).unwrap_or(0));
        let tier = usize::try_from(index - 1)
            .ok()
            .and_then(|i| keys.get(i))
            .map(|(t, _)| self.tiers[*t].0);
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let remaining = u32::try_from(remaining).unwrap_or(0);
        let decision = if allowed == 1 {
            Decision::allow(limit, remaining, us(reset_us))
        } else {
            Decision::deny(
                limit,
                remaining,
                us(reset_us),
                (retry_us >= 0).then(|| us(retry_us)),
            )
        };
        record(keys.iter().map(|(i, _)| self.tiers[*i].0), tier, &decision);
        (TierDecision { decision, tier }, u64::try_from(now_us).ok())
    }

    fn fall_back(&self, subject: &Subject<'_>, cost: u32, now: Instant) -> TierDecision {
        match self.cfg.on_failure {
            OnFailure::LocalShare => self.fallback.check_now(subject, cost),
            OnFailure::Deny => {
                let retry = self
                    .health()
                    .next_try
                    .map_or(self.cfg.probe_interval(), |t| {
                        t.saturating_duration_since(now)
                    });
                // The first tier the subject is under (check_at only falls back when one is).
                let (tier, w) = *self
                    .tiers
                    .iter()
                    .find(|(t, _)| subject.value(*t).is_some())
                    .unwrap_or(&self.tiers[0]);
                let decision =
                    Decision::deny(super::Algorithm::limit(&w), 0, w.window(), Some(retry));
                metrics::counter!(crate::metrics::RATELIMIT_REQUESTS, "tier" => tier.label(), "result" => "fallback_denied")
                    .increment(1);
                TierDecision {
                    decision,
                    tier: Some(tier),
                }
            }
        }
    }
}

/// A Redis error as a short reason: its kind and, for I/O, the OS error; never the URL.
fn describe(e: &redis::RedisError) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.category()),
        None => e.category().to_owned(),
    }
}

/// Counts a Redis decision: allowed at every tier that applied, denied at the one that denied.
fn record(applied: impl Iterator<Item = Tier>, decided: Option<Tier>, d: &Decision) {
    let counter = |t: Tier, r: &'static str| {
        metrics::counter!(crate::metrics::RATELIMIT_REQUESTS, "tier" => t.label(), "result" => r)
            .increment(1);
    };
    if d.allowed {
        applied.for_each(|t| counter(t, "allowed"));
    } else if let Some(t) = decided {
        counter(t, "denied");
    }
    if let Some(t) = decided {
        metrics::gauge!(crate::metrics::RATELIMIT_USAGE, "tier" => t.label()).set(d.usage());
    }
}

impl RateLimiter for RedisLimiter {
    async fn check(&self, subject: &Subject<'_>, cost: u32) -> TierDecision {
        self.check_at(subject, cost).await.0
    }
}
