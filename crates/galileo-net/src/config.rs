//! The `[network]` configuration: where source IPs come from, how they are paced, and the HTTP
//! client's limits. Every field has a default; unknown keys are rejected so typos fail loudly.
//!
//! ```toml
//! [network]
//! enable_multiple_ip = true
//! manual_ips = ["203.0.113.7"]          # explicit sources, probed at start
//! ranges = [{ cidr = "2001:db8:1::/120", freebind = true }]
//! blacklist = ["10.0.0.0/8"]
//! per_ip_inflight_limit = 8
//!
//! [network.cooldown_ms]
//! rate_limited_start = 500
//! timeout_start = 250
//!
//! [network.backends.jupiter]
//! per_ip_rate = { requests = 10, period_ms = 1000 }
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use galileo_resilience::Quota;
use ipnet::IpNet;
use serde::Deserialize;

use crate::NetError;

/// `[network]`: the source IPs Galileo may use and how it paces them.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Use the IPs from `auto_discover`, `manual_ips` and `ranges`. When false (the default),
    /// Galileo uses one slot on the OS default source address, like a plain HTTP client.
    pub enable_multiple_ip: bool,
    /// Add the addresses of this host's interfaces that are up, except loopback (unless
    /// `allow_loopback`), link-local, documentation, broadcast and unspecified ones.
    pub auto_discover: bool,
    /// Allow loopback addresses (127.0.0.0/8, ::1) as sources. For tests and local simulators.
    pub allow_loopback: bool,
    /// Explicit source IPs. Each one is probe-bound at start; one that fails is quarantined with
    /// its reason and the others serve.
    pub manual_ips: Vec<IpAddr>,
    /// CIDR ranges whose every address is a source (IPv4 or IPv6).
    pub ranges: Vec<RangeConfig>,
    /// Addresses or ranges never to use, whatever source proposed them.
    pub blacklist: Vec<IpNet>,
    /// Fail at start unless at least this many IPs pass the probe. Unset: with no usable IP,
    /// fall back to the OS default source with a warning.
    pub require_ips: Option<usize>,
    /// Refuse ranges that would expand to more addresses than this.
    pub max_range_addresses: usize,
    /// Most requests in flight at once from one IP (unset: unlimited). Repeated 429s lower an
    /// IP's effective limit below this; successes raise it back.
    pub per_ip_inflight_limit: Option<NonZeroU32>,
    /// How long an IP rests after a 429 or a timeout.
    pub cooldown_ms: CooldownConfig,
    /// Per-backend settings, keyed by the name clients register with.
    pub backends: BTreeMap<String, BackendConfig>,
    /// The IP-bound HTTP client.
    pub http: HttpConfig,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            enable_multiple_ip: false,
            auto_discover: true,
            allow_loopback: false,
            manual_ips: Vec::new(),
            ranges: Vec::new(),
            blacklist: Vec::new(),
            require_ips: None,
            max_range_addresses: 65_536,
            per_ip_inflight_limit: None,
            cooldown_ms: CooldownConfig::default(),
            backends: BTreeMap::new(),
            http: HttpConfig::default(),
        }
    }
}

/// A CIDR range of source addresses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RangeConfig {
    /// The range, e.g. `2001:db8:1::/120`. IPv4 ranges exclude their network and broadcast
    /// addresses.
    pub cidr: IpNet,
    /// Bind with `IP_FREEBIND` / `IPV6_FREEBIND`, so addresses routed to this host (e.g. an IPv6
    /// prefix with `ip -6 route add local <prefix> dev lo`) serve without being assigned one
    /// by one.
    #[serde(default)]
    pub freebind: bool,
}

/// `[network.cooldown_ms]`: exponential rest after failures, in milliseconds.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct CooldownConfig {
    /// First rest after a 429; doubles with each further 429 burst.
    pub rate_limited_start: u64,
    /// First rest after a timeout or connect failure; doubles likewise.
    pub timeout_start: u64,
    /// The longest exponential rest.
    pub max: u64,
    /// The longest `Retry-After` honoured; longer ones are clamped with a warning.
    pub retry_after_max: u64,
}

impl Default for CooldownConfig {
    fn default() -> Self {
        Self {
            rate_limited_start: 500,
            timeout_start: 250,
            max: 30_000,
            retry_after_max: 300_000,
        }
    }
}

/// `[network.backends.<name>]`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct BackendConfig {
    /// Proactive pacing: at most this rate of requests to the backend from each IP,
    /// e.g. `{ requests = 10, period_ms = 1000, burst = 2 }`.
    pub per_ip_rate: Option<Quota>,
}

/// `[network.http]`: the IP-bound HTTP(S) client.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Whole request, from connect to the last body byte.
    pub request_timeout_ms: u64,
    /// TCP connect plus TLS handshake.
    pub connect_timeout_ms: u64,
    /// Most per-IP clients kept at once; the least recently used is evicted past it.
    pub max_clients: usize,
    /// A per-IP client unused this long is dropped with its connections.
    pub client_idle_timeout_ms: u64,
    /// An idle pooled connection is closed after this long.
    pub pool_idle_timeout_ms: u64,
    /// Idle connections kept per (IP, server).
    pub max_idle_per_host: usize,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// Trust the public web PKI (Mozilla's roots, compiled in).
    pub webpki_roots: bool,
    /// Extra PEM files of CA certificates to trust (private CAs, simulators).
    pub extra_ca_files: Vec<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            max_clients: 1_024,
            client_idle_timeout_ms: 300_000,
            pool_idle_timeout_ms: 90_000,
            max_idle_per_host: 8,
            max_response_bytes: 16 * 1024 * 1024,
            webpki_roots: true,
            extra_ca_files: Vec::new(),
        }
    }
}

impl HttpConfig {
    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}

impl NetworkConfig {
    /// Parses a `[network]` table's body from TOML and validates it.
    pub fn from_toml(text: &str) -> Result<Self, NetError> {
        let cfg: Self =
            toml::from_str(text).map_err(|e| NetError::Config(format!("[network]: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what serde cannot: contradictions and values that can never work.
    pub fn validate(&self) -> Result<(), NetError> {
        let bad = |m: String| Err(NetError::Config(m));
        if !self.enable_multiple_ip && (!self.manual_ips.is_empty() || !self.ranges.is_empty()) {
            return bad("manual_ips or ranges are set but enable_multiple_ip = false; set enable_multiple_ip = true to use them".into());
        }
        if self.require_ips == Some(0) {
            return bad("require_ips = 0 means nothing; remove it or set at least 1".into());
        }
        if self.require_ips.is_some_and(|n| n > 1) && !self.enable_multiple_ip {
            return bad("require_ips > 1 needs enable_multiple_ip = true".into());
        }
        let c = &self.cooldown_ms;
        if c.rate_limited_start == 0 || c.timeout_start == 0 {
            return bad(
                "cooldown_ms.rate_limited_start and timeout_start must be at least 1".into(),
            );
        }
        if c.max < c.rate_limited_start.max(c.timeout_start) {
            return bad(format!(
                "cooldown_ms.max ({}) is below a start value; raise it to at least {}",
                c.max,
                c.rate_limited_start.max(c.timeout_start)
            ));
        }
        let day_ms = crate::slot::MAX_REST.as_millis() as u64;
        if c.max > day_ms || c.retry_after_max > day_ms {
            return bad(format!(
                "cooldown_ms.max and retry_after_max must be at most {day_ms} (a day)"
            ));
        }
        let h = &self.http;
        if h.request_timeout_ms == 0 || h.connect_timeout_ms == 0 {
            return bad(
                "http.request_timeout_ms and http.connect_timeout_ms must be at least 1".into(),
            );
        }
        if h.max_clients == 0 {
            return bad("http.max_clients must be at least 1".into());
        }
        for r in &self.ranges {
            if r.cidr.trunc() != r.cidr {
                return bad(format!(
                    "range {} has host bits set; did you mean {}?",
                    r.cidr,
                    r.cidr.trunc()
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn cooldown_policy(&self) -> crate::slot::CooldownPolicy {
        let c = &self.cooldown_ms;
        crate::slot::CooldownPolicy {
            rate_limited_start: Duration::from_millis(c.rate_limited_start),
            timeout_start: Duration::from_millis(c.timeout_start),
            max: Duration::from_millis(c.max),
            retry_after_max: Duration::from_millis(c.retry_after_max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let cfg = NetworkConfig::from_toml(
            r#"
            enable_multiple_ip = true
            manual_ips = ["203.0.113.7"]
            ranges = [{ cidr = "2001:db8:1::/120", freebind = true }]
            blacklist = ["10.0.0.0/8", "192.168.1.1/32"]
            per_ip_inflight_limit = 8
            [cooldown_ms]
            rate_limited_start = 500
            timeout_start = 250
            [backends.jupiter]
            per_ip_rate = { requests = 10, period_ms = 1000 }
            "#,
        )
        .unwrap();
        assert_eq!(cfg.per_ip_inflight_limit.map(NonZeroU32::get), Some(8));
        assert!(cfg.ranges[0].freebind);
        let q = cfg.backends["jupiter"].per_ip_rate.unwrap();
        assert_eq!(q.interval(), Duration::from_millis(100));
        assert_eq!(cfg.cooldown_ms.max, 30_000);
    }

    #[test]
    fn defaults_are_a_plain_client() {
        let cfg = NetworkConfig::from_toml("").unwrap();
        assert!(!cfg.enable_multiple_ip);
        assert_eq!(cfg.cooldown_ms, CooldownConfig::default());
        assert_eq!(cfg.http.request_timeout(), Duration::from_secs(10));
    }

    proptest::proptest! {
        /// Arbitrary text is a clean error or a valid config, never a panic.
        #[test]
        fn any_text_is_an_error_or_a_config(text in "(?s).{0,200}") {
            let _ = NetworkConfig::from_toml(&text);
        }

        /// Arbitrary values for the documented keys are a clean error or a valid config.
        #[test]
        fn any_values_are_an_error_or_a_config(
            key in proptest::sample::select(vec![
                "enable_multiple_ip", "manual_ips", "ranges", "blacklist", "require_ips",
                "per_ip_inflight_limit", "max_range_addresses", "cooldown_ms", "http", "backends",
            ]),
            value in proptest::sample::select(vec![
                "true", "0", "-1", "18446744073709551616", "\"x\"", "[]", "[\"::\"]",
                "[{ cidr = \"10.0.0.0/8\" }]", "{}", "{ max = 0 }", "{ a = { per_ip_rate = { requests = 1, period_ms = 0 } } }",
            ]),
        ) {
            let _ = NetworkConfig::from_toml(&format!("{key} = {value}"));
        }
    }

    #[test]
    fn mistakes_get_errors_that_say_what_to_do() {
        for (text, needle) in [
            (
                "manual_ips = [\"10.0.0.1\"]",
                "set enable_multiple_ip = true",
            ),
            (
                "enable_multiple_ip = true\nrequire_ips = 0",
                "require_ips = 0",
            ),
            ("per_ip_inflight_limit = 0", "nonzero"),
            (
                "enable_multiple_ip = true\nmanual_ips = [\"10.0.0.300\"]",
                "invalid",
            ),
            ("enable_multipl_ip = true", "unknown field"),
            (
                "enable_multiple_ip = true\nranges = [{ cidr = \"10.0.0.5/24\" }]",
                "did you mean 10.0.0.0/24",
            ),
            ("[cooldown_ms]\nmax = 100", "raise it to at least 500"),
            ("[http]\nmax_clients = 0", "max_clients"),
            (
                "[cooldown_ms]\nretry_after_max = 18446744073709551615",
                "at most 86400000",
            ),
            (
                "[backends.x]\nper_ip_rate = { requests = 0 }",
                "requests must be at least 1",
            ),
        ] {
            let err = NetworkConfig::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
