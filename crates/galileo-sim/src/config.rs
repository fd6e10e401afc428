//! Per-service knobs: where it listens, its limits, latency and faults. All have defaults and
//! reject unknown keys; everything is also changeable at run time through
//! [`Controls`](crate::Controls).
//!
//! ```toml
//! bind = "127.0.0.10"
//! tls = true
//! [limits]
//! per_ip = { rate = 10.0, burst = 10 }
//! global = { rate = 200.0, burst = 50 }
//! retry_after = "http_date"      # "seconds" (default), "http_date" or "none"
//! max_concurrent = 64            # beyond: 503
//! [latency]
//! model = "lognormal"
//! median_ms = 40
//! sigma = 0.4
//! [faults]
//! server_error = 0.01            # probability per request
//! reset = 0.001
//! ```

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::SimError;

/// One service's configuration.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// The IP to listen on (each 127.0.0.x is its own address on Linux).
    pub bind: IpAddr,
    /// The port (0: any free one).
    pub port: u16,
    /// Serve TLS with the sandbox's CA.
    pub tls: bool,
    /// Rate limits.
    pub limits: LimitsConfig,
    /// Added latency.
    pub latency: LatencyConfig,
    /// Fault probabilities.
    pub faults: FaultsConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls: false,
            limits: LimitsConfig::default(),
            latency: LatencyConfig::default(),
            faults: FaultsConfig::default(),
        }
    }
}

/// Token buckets and overload.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Per source IP (the TCP peer address).
    pub per_ip: Option<BucketConfig>,
    /// Per API key (when the service has keys).
    pub per_key: Option<BucketConfig>,
    /// For everyone together.
    pub global: Option<BucketConfig>,
    /// How a 429 says when to come back.
    pub retry_after: RetryAfterMode,
    /// More requests in progress than this: `503`.
    pub max_concurrent: Option<u32>,
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// Tokens per second (may be fractional, down to a millionth).
    pub rate: f64,
    /// Capacity.
    pub burst: u32,
}

/// The `Retry-After` form of a 429.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterMode {
    /// Delta-seconds, rounded up.
    #[default]
    Seconds,
    /// An HTTP-date.
    HttpDate,
    /// No header.
    None,
}

/// Latency added before a handler runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyConfig {
    /// None.
    #[default]
    None,
    /// Always `ms`.
    Fixed {
        /// Milliseconds.
        ms: u64,
    },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform {
        /// Lower bound.
        min_ms: u64,
        /// Upper bound.
        max_ms: u64,
    },
    /// Log-normal: half the requests faster than `median_ms`; `sigma` the spread of the log.
    Lognormal {
        /// The median.
        median_ms: u64,
        /// The standard deviation of the logarithm.
        sigma: f64,
    },
}

/// Per-request (and per-connection) fault probabilities, each in `[0, 1]`. Faults can also be
/// forced one at a time through [`Controls::force`](crate::Controls::force).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsConfig {
    /// Never answer (the client must time out).
    pub no_response: f64,
    /// Reset the TCP connection instead of answering.
    pub reset: f64,
    /// Trickle the body out.
    pub slow_body: f64,
    /// Bytes per trickled chunk.
    pub slow_body_chunk: usize,
    /// Pause before each trickled chunk, in ms.
    pub slow_body_delay_ms: u64,
    /// Cut the JSON body in half.
    pub malformed_json: f64,
    /// Answer `500`.
    pub server_error: f64,
    /// Fail the TLS handshake of a new connection.
    pub tls_handshake_failure: f64,
    /// WebSocket services: close the connection in the middle of a stream (per stream).
    pub ws_close_mid_stream: f64,
    /// Streaming services: stop sending a stream's updates without ending it (per stream).
    pub stream_silence: f64,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        Self {
            no_response: 0.0,
            reset: 0.0,
            slow_body: 0.0,
            slow_body_chunk: 16,
            slow_body_delay_ms: 50,
            malformed_json: 0.0,
            server_error: 0.0,
            tls_handshake_failure: 0.0,
            ws_close_mid_stream: 0.0,
            stream_silence: 0.0,
        }
    }
}

impl BucketConfig {
    /// Checks the rate and the burst; `key` names the setting in the error.
    pub fn validate(&self, service: &str, key: &str) -> Result<(), SimError> {
        if !(self.rate.is_finite() && self.rate >= 1e-6) || self.burst == 0 {
            return Err(SimError::config(
                service,
                format!("{key}: rate must be at least 0.000001 per second and burst at least 1"),
            ));
        }
        Ok(())
    }
}

impl ServiceConfig {
    /// Checks what serde cannot.
    pub fn validate(&self, service: &str) -> Result<(), SimError> {
        let bad = |reason: String| Err(SimError::config(service, reason));
        for (name, b) in [
            ("per_ip", self.limits.per_ip),
            ("per_key", self.limits.per_key),
            ("global", self.limits.global),
        ] {
            if let Some(b) = b {
                b.validate(service, &format!("limits.{name}"))?;
            }
        }
        if self.limits.max_concurrent == Some(0) {
            return bad("limits.max_concurrent = 0 would refuse everything; remove it".into());
        }
        match self.latency {
            LatencyConfig::Uniform { min_ms, max_ms } if min_ms > max_ms => {
                return bad("latency: min_ms is above max_ms".into());
            }
            LatencyConfig::Lognormal { median_ms, sigma }
                if median_ms == 0 || !(sigma.is_finite() && sigma >= 0.0) =>
            {
                return bad("latency: lognormal needs median_ms ≥ 1 and a finite sigma ≥ 0".into());
            }
            _ => {}
        }
        let f = &self.faults;
        for (name, p) in [
            ("no_response", f.no_response),
            ("reset", f.reset),
            ("slow_body", f.slow_body),
            ("malformed_json", f.malformed_json),
            ("server_error", f.server_error),
            ("tls_handshake_failure", f.tls_handshake_failure),
            ("ws_close_mid_stream", f.ws_close_mid_stream),
            ("stream_silence", f.stream_silence),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!(
                    "faults.{name} = {p} must be a probability in [0, 1]"
                ));
            }
        }
        if f.slow_body_chunk == 0 {
            return bad("faults.slow_body_chunk must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("config.rs")
            .split("//! ```toml\n")
            .nth(1)
            .unwrap()
            .split("//! ```")
            .next()
            .unwrap()
            .lines()
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        let cfg: ServiceConfig = toml::from_str(&text).unwrap();
        cfg.validate("x").unwrap();
        assert!(cfg.tls);
        assert_eq!(cfg.limits.retry_after, RetryAfterMode::HttpDate);
        assert_eq!(
            cfg.latency,
            LatencyConfig::Lognormal {
                median_ms: 40,
                sigma: 0.4
            }
        );
    }

    #[test]
    fn mistakes_are_explained() {
        for (text, needle) in [
            (
                "[limits]\nper_ip = { rate = 0.0, burst = 1 }",
                "rate must be",
            ),
            ("[limits]\nmax_concurrent = 0", "refuse everything"),
            (
                "[latency]\nmodel = \"uniform\"\nmin_ms = 5\nmax_ms = 1",
                "min_ms",
            ),
            ("[faults]\nreset = 2.0", "probability"),
            ("[faults]\nrest = 0.1", "unknown field"),
        ] {
            let e = toml::from_str::<ServiceConfig>(text)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate("svc").map_err(|e| e.to_string()))
                .unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
