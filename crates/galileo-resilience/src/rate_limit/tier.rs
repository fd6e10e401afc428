//! Tiered limits: global → source IP → API key → endpoint, admitted all-or-nothing.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use metrics::{Counter, Gauge};
use serde::Deserialize;
use tokio::time::Instant;

use super::{Algorithm, Decision, KeyedLimiter, Limit, LimitSpec, LimitState};
use crate::Error;

/// A tier of limits. Checked in this order; the first that denies decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// One limit for everything.
    Global,
    /// Per source IP.
    SourceIp,
    /// Per API key or user.
    ApiKey,
    /// Per endpoint.
    Endpoint,
}

impl Tier {
    /// Every tier, in checking order.
    pub const ALL: [Tier; 4] = [Tier::Global, Tier::SourceIp, Tier::ApiKey, Tier::Endpoint];

    /// The metric label (`tier`) and the configuration key.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Global => "global",
            Tier::SourceIp => "ip",
            Tier::ApiKey => "key",
            Tier::Endpoint => "endpoint",
        }
    }
}

/// What a request is, as far as tiers go. A tier applies when the subject has a key for it
/// (the global tier always applies).
///
/// The API key is never stored: tiers key on a 64-bit hash of it, and `Debug` hides it.
#[derive(Clone, Copy, Default)]
pub struct Subject<'a> {
    /// The source IP (or any string naming the client's address).
    pub ip: Option<&'a str>,
    /// The API key or user.
    pub api_key: Option<&'a str>,
    /// The endpoint (e.g. `GET /quote`).
    pub endpoint: Option<&'a str>,
}

impl fmt::Debug for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("ip", &self.ip)
            .field("api_key", &self.api_key.map(|_| "<redacted>"))
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl<'a> Subject<'a> {
    /// The subject's value in `tier`, if the tier applies to it (`""` for the global tier).
    /// The API key is a secret: backends hash it before using it as a key, and it must never
    /// be logged.
    pub fn value(&self, tier: Tier) -> Option<&'a str> {
        match tier {
            Tier::Global => Some(""),
            Tier::SourceIp => self.ip,
            Tier::ApiKey => self.api_key,
            Tier::Endpoint => self.endpoint,
        }
    }
}

/// An owned [`Subject`], for futures that outlive the request it came from.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OwnedSubject {
    /// The source IP.
    pub ip: Option<String>,
    /// The API key or user.
    pub api_key: Option<String>,
    /// The endpoint.
    pub endpoint: Option<String>,
}

impl OwnedSubject {
    /// Borrows it as a [`Subject`].
    pub fn as_subject(&self) -> Subject<'_> {
        Subject {
            ip: self.ip.as_deref(),
            api_key: self.api_key.as_deref(),
            endpoint: self.endpoint.as_deref(),
        }
    }
}

impl fmt::Debug for OwnedSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_subject().fmt(f)
    }
}

/// A decision and the tier that made it: the one that denied, or, when all admitted, the one
/// with the least room left (whose numbers go in the response headers). `None`: no tier applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierDecision {
    /// The decision.
    pub decision: Decision,
    /// The deciding tier.
    pub tier: Option<Tier>,
}

impl TierDecision {
    /// Admitted by every tier that applies.
    pub fn allowed(&self) -> bool {
        self.decision.allowed
    }
}

/// `[ratelimit.tiers]`: a limit per tier; an absent tier does not limit.
///
/// ```toml
/// global = { algorithm = "sliding_window", requests = 1000, window_ms = 1000 }
/// ip = { algorithm = "gcra", requests = 10, period_ms = 1000, burst = 5 }
/// key = { algorithm = "sliding_window", requests = 600, window_ms = 60000 }
/// endpoint = { algorithm = "gcra", requests = 50 }
/// ```
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TiersConfig {
    /// One limit for everything.
    pub global: Option<LimitSpec>,
    /// Per source IP.
    pub ip: Option<LimitSpec>,
    /// Per API key or user.
    pub key: Option<LimitSpec>,
    /// Per endpoint.
    pub endpoint: Option<LimitSpec>,
}

impl TiersConfig {
    /// The configured limits, in checking order.
    pub fn limits(&self) -> Result<Vec<(Tier, Limit)>, Error> {
        let specs = [self.global, self.ip, self.key, self.endpoint];
        let mut out = Vec::new();
        for (tier, spec) in Tier::ALL.into_iter().zip(specs) {
            if let Some(spec) = spec {
                let limit = Limit::try_from(spec).map_err(|e| Error::InvalidConfig {
                    what: "rate limit tier",
                    reason: format!("{}: {e}", tier.label()),
                })?;
                out.push((tier, limit));
            }
        }
        Ok(out)
    }
}

/// Metric handles of one tier, registered once.
#[derive(Debug, Clone)]
struct TierMetrics {
    allowed: Counter,
    denied: Counter,
    usage: Gauge,
}

impl TierMetrics {
    fn new(tier: Tier, fallback: bool) -> Self {
        let (allowed, denied) = if fallback {
            ("fallback_allowed", "fallback_denied")
        } else {
            ("allowed", "denied")
        };
        let counter = |r: &'static str| metrics::counter!(crate::metrics::RATELIMIT_REQUESTS, "tier" => tier.label(), "result" => r);
        Self {
            allowed: counter(allowed),
            denied: counter(denied),
            usage: metrics::gauge!(crate::metrics::RATELIMIT_USAGE, "tier" => tier.label()),
        }
    }
}

/// A hasher for keys that are already 64-bit hashes.
#[derive(Clone, Copy, Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; fold anything else rather than panic.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
}

type TierMap = KeyedLimiter<u64, Limit, BuildHasherDefault<Prehashed>>;

/// Tiered limits in one process (sans-IO: calls take `now`).
///
/// A request is admitted only if every tier that applies admits it, and a denial at one tier
/// consumes nothing at any other: every tier is peeked first, and only then are all consumed.
///
/// Keys are kept as 64-bit SipHash values under a random key of this limiter: a lookup
/// compares integers, no key string is stored (API keys included), and nobody can aim for a
/// collision. An accidental one (about n²/2⁶⁵ for n live keys) would make two subjects share a
/// bucket: stricter, never laxer.
///
/// ```
/// use galileo_resilience::rate_limit::{Subject, Tier, TieredLimiter, TiersConfig};
/// use tokio::time::Instant;
///
/// let cfg: TiersConfig = toml::from_str(r#"
///     global = { algorithm = "sliding_window", requests = 100, window_ms = 1000 }
///     ip = { algorithm = "gcra", requests = 2 }
/// "#).unwrap();
/// let mut limiter = TieredLimiter::new(&cfg)?;
/// let now = Instant::now();
/// let me = Subject { ip: Some("10.0.0.1"), ..Subject::default() };
/// assert!(limiter.check(&me, now, 2).allowed());
/// let denied = limiter.check(&me, now, 1);
/// assert_eq!(denied.tier, Some(Tier::SourceIp));
/// // The denial consumed nothing at the global tier: 98 cells are left there.
/// let other = Subject { ip: Some("10.0.0.2"), ..Subject::default() };
/// assert!(limiter.check(&other, now, 1).allowed());
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TieredLimiter {
    /// At most one entry per [`Tier`], in checking order.
    tiers: Vec<(Tier, TierMap, TierMetrics)>,
    keys: RandomState,
}

impl TieredLimiter {
    /// The tiers `cfg` configures.
    pub fn new(cfg: &TiersConfig) -> Result<Self, Error> {
        Ok(Self::from_limits(cfg.limits()?, false))
    }

    /// Tiers from limits (in any order; they are checked in [`Tier`] order). `fallback` labels
    /// its decisions `fallback_allowed` / `fallback_denied` in metrics.
    pub fn from_limits(mut limits: Vec<(Tier, Limit)>, fallback: bool) -> Self {
        limits.sort_by_key(|(t, _)| *t);
        limits.dedup_by_key(|(t, _)| *t);
        Self {
            tiers: limits
                .into_iter()
                .map(|(t, l)| (t, TierMap::with_hasher(l), TierMetrics::new(t, fallback)))
                .collect(),
            keys: RandomState::new(),
        }
    }

    /// The tiers and their limits.
    pub fn limits(&self) -> Vec<(Tier, Limit)> {
        self.tiers
            .iter()
            .map(|(t, k, _)| (*t, *k.algorithm()))
            .collect()
    }

    /// Admits `cost` for `subject` at `now` if every applicable tier admits it.
    pub fn check(&mut self, subject: &Subject<'_>, now: Instant, cost: u32) -> TierDecision {
        // One lookup per tier: peek every applicable tier's state, then consume all or none.
        let mut states: [Option<(Tier, &Limit, &mut LimitState, &TierMetrics)>; Tier::ALL.len()] =
            Default::default();
        let keys = &self.keys;
        for (slot, (tier, limiter, m)) in states.iter_mut().zip(self.tiers.iter_mut()) {
            if let Some(text) = subject.value(*tier) {
                let (limit, state) = limiter.entry(keys.hash_one((*tier, text)), now);
                *slot = Some((*tier, limit, state, &*m));
            }
        }
        let mut decisive: Option<(Tier, Decision, &TierMetrics)> = None;
        for (tier, limit, state, m) in states.iter_mut().flatten() {
            let d = limit.peek(state, now, cost);
            if !d.allowed {
                m.denied.increment(1);
                m.usage.set(d.usage());
                return TierDecision {
                    decision: d,
                    tier: Some(*tier),
                };
            }
            if decisive.is_none_or(|(_, best, _)| d.usage() > best.usage()) {
                decisive = Some((*tier, d, *m));
            }
        }
        for (_, limit, state, m) in states.iter_mut().flatten() {
            limit.commit(state, now, cost);
            m.allowed.increment(1);
        }
        match decisive {
            Some((tier, decision, m)) => {
                m.usage.set(decision.usage());
                TierDecision {
                    decision,
                    tier: Some(tier),
                }
            }
            None => TierDecision {
                decision: Decision::allow(u32::MAX, u32::MAX, std::time::Duration::ZERO),
                tier: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn limiter(text: &str) -> TieredLimiter {
        TieredLimiter::new(&toml::from_str(text).unwrap()).unwrap()
    }

    fn subject<'a>(ip: &'a str, key: &'a str, endpoint: &'a str) -> Subject<'a> {
        Subject {
            ip: Some(ip),
            api_key: Some(key),
            endpoint: Some(endpoint),
        }
    }

    #[test]
    fn every_tier_must_admit_and_a_denial_consumes_nothing() {
        let mut l = limiter(
            r#"
            global = { algorithm = "sliding_window", requests = 5, window_ms = 1000 }
            ip = { algorithm = "sliding_window", requests = 3, window_ms = 1000 }
            key = { algorithm = "sliding_window", requests = 2, window_ms = 1000 }
            "#,
        );
        let now = Instant::now();
        let a = subject("10.0.0.1", "alice-key", "GET /quote");
        let d = l.check(&a, now, 1);
        assert!(d.allowed());
        assert_eq!(
            d.tier,
            Some(Tier::ApiKey),
            "the tier with the least room decides the numbers"
        );
        assert_eq!(d.decision.remaining, 1);
        assert!(l.check(&a, now, 1).allowed());
        let denied = l.check(&a, now, 1);
        assert_eq!(denied.tier, Some(Tier::ApiKey));
        // Alice's denial took nothing from the global or IP tiers: Bob on the same IP gets one
        // (IP tier: 3rd of 3), then the IP tier denies him.
        let b = subject("10.0.0.1", "bob-key", "GET /quote");
        assert!(l.check(&b, now, 1).allowed());
        assert_eq!(l.check(&b, now, 1).tier, Some(Tier::SourceIp));
        // Global: 3 used of 5; another IP gets the last 2.
        let c = subject("10.0.0.2", "carol-key", "GET /quote");
        assert!(l.check(&c, now, 2).allowed());
        assert_eq!(l.check(&c, now, 1).tier, Some(Tier::Global));
        let later = now + Duration::from_secs(1);
        assert!(l.check(&a, later, 1).allowed());
    }

    #[test]
    fn tiers_without_a_key_do_not_apply() {
        let mut l = limiter(
            r#"
            ip = { algorithm = "gcra", requests = 1 }
            endpoint = { algorithm = "gcra", requests = 1 }
            "#,
        );
        let now = Instant::now();
        let anon = Subject::default();
        for _ in 0..10 {
            let d = l.check(&anon, now, 1);
            assert!(d.allowed() && d.tier.is_none());
        }
        let e = Subject {
            endpoint: Some("POST /execute"),
            ..Subject::default()
        };
        assert!(l.check(&e, now, 1).allowed());
        assert_eq!(l.check(&e, now, 1).tier, Some(Tier::Endpoint));
    }

    #[test]
    fn the_api_key_never_shows() {
        let s = subject("10.0.0.1", "sk-secret-123", "GET /quote");
        assert!(!format!("{s:?}").contains("sk-secret"));
        let owned = OwnedSubject {
            api_key: Some("sk-secret-123".into()),
            ..OwnedSubject::default()
        };
        assert!(!format!("{owned:?}").contains("sk-secret"));
        // In-process tiers store no key text at all: only 64-bit hashes under a random key.
        let mut l = limiter(r#"key = { algorithm = "gcra", requests = 1 }"#);
        assert!(l.check(&s, Instant::now(), 1).allowed());
        assert!(!format!("{l:?}").contains("sk-secret"));
    }

    #[test]
    fn a_bad_tier_is_named() {
        let cfg: TiersConfig =
            toml::from_str(r#"key = { algorithm = "gcra", requests = 0 }"#).unwrap();
        let e = TieredLimiter::new(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("rate limit tier") && e.contains("key:") && e.contains("at least 1"),
            "{e}"
        );
    }

    proptest! {
        /// Whatever the traffic, no tier's key ever admits more than its window allows, and a
        /// denied request leaves every tier as it was.
        #[test]
        fn all_or_nothing(
            steps in proptest::collection::vec((0u64..300, 0u8..3, 0u8..3, 1u32..3), 1..150),
        ) {
            let mut l = limiter(
                r#"
                global = { algorithm = "sliding_window", requests = 6, window_ms = 1000 }
                ip = { algorithm = "sliding_window", requests = 3, window_ms = 1000 }
                key = { algorithm = "sliding_window", requests = 4, window_ms = 1000 }
                "#,
            );
            let ips = ["a", "b", "c"];
            let keys = ["k1", "k2", "k3"];
            let mut now = Instant::now();
            let mut admitted: Vec<(Instant, &str, &str, u32)> = Vec::new();
            for (dt, ip, key, cost) in steps {
                now += Duration::from_millis(dt);
                let s = Subject { ip: Some(ips[ip as usize]), api_key: Some(keys[key as usize]), endpoint: None };
                let before = l.clone();
                let d = l.check(&s, now, cost);
                if d.allowed() {
                    admitted.push((now, ips[ip as usize], keys[key as usize], cost));
                } else {
                    // Nothing was consumed anywhere: after the denial, every subject is judged
                    // exactly as it would have been before it.
                    for ip in ips {
                        for key in keys {
                            let probe = Subject { ip: Some(ip), api_key: Some(key), endpoint: None };
                            prop_assert_eq!(
                                l.clone().check(&probe, now, 1),
                                before.clone().check(&probe, now, 1)
                            );
                        }
                    }
                }
            }
            for (i, &(start, ..)) in admitted.iter().enumerate() {
                let window: Vec<_> = admitted[i..].iter().take_while(|a| a.0 < start + Duration::from_secs(1)).collect();
                prop_assert!(window.iter().map(|a| a.3).sum::<u32>() <= 6);
                for ip in ips {
                    prop_assert!(window.iter().filter(|a| a.1 == ip).map(|a| a.3).sum::<u32>() <= 3);
                }
                for key in keys {
                    prop_assert!(window.iter().filter(|a| a.2 == key).map(|a| a.3).sum::<u32>() <= 4);
                }
            }
        }
    }
}
