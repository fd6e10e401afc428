//! `[ratelimit.redis]`: where the shared limits live and what to do when they can't be reached.

use std::time::Duration;

use serde::Deserialize;

use crate::Error;

/// What a [`RedisLimiter`](super::RedisLimiter) does while Redis cannot be reached.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Admit by the same tiers in this process, at `local_share` of each limit (each instance
    /// of a fleet gets its share, so together they stay near the shared limit).
    #[default]
    LocalShare,
    /// Deny everything until Redis is back.
    Deny,
}

/// `[ratelimit.redis]`.
///
/// ```toml
/// url = "redis://:secret@10.0.0.5:6379/0"   # or rediss://, or redis+unix:///run/redis.sock
/// namespace = "galileo"
/// timeout_ms = 250
/// probe_interval_ms = 1000
/// on_failure = "local_share"                # or "deny"
/// local_share = 0.25                        # e.g. 1 / the number of instances
/// ```
#[derive(Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// The server; a password in it is never logged.
    pub url: String,
    /// Keys live under the hash tag `{galileo:rl:<namespace>}`: one limiter's keys share a
    /// cluster slot, different namespaces spread over the cluster.
    pub namespace: String,
    /// Longest wait for one decision from Redis before falling back.
    pub timeout_ms: u64,
    /// While Redis is down, how often a decision tries it again.
    pub probe_interval_ms: u64,
    /// What to do while Redis is down.
    pub on_failure: OnFailure,
    /// With `on_failure = "local_share"`, the share (0–1] of each limit one instance admits
    /// alone.
    pub local_share: f64,
    /// A fleet-wide secret keying the HMAC that turns API keys into Redis key names (the same
    /// on every instance). Without it the namespace keys the HMAC: key names stay stable, but
    /// someone reading Redis could test guesses of an API key against them.
    pub key_secret: Option<String>,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379/".into(),
            namespace: "galileo".into(),
            timeout_ms: 250,
            probe_interval_ms: 1000,
            on_failure: OnFailure::LocalShare,
            local_share: 0.5,
            key_secret: None,
        }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redacted(&self.url))
            .field("namespace", &self.namespace)
            .field("timeout_ms", &self.timeout_ms)
            .field("probe_interval_ms", &self.probe_interval_ms)
            .field("on_failure", &self.on_failure)
            .field("local_share", &self.local_share)
            .field(
                "key_secret",
                &self.key_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The URL without its credentials, for logs: `redis://***@host:port/db?***`. Everything up to
/// the last `@` is credentials (a password may hold `?` or `@`), and the query string (where
/// `redis+unix://` URLs carry `pass=`) is dropped whole.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<a Redis URL that does not parse>".to_owned();
    };
    let (userinfo, rest) = match rest.rfind('@') {
        Some(at) => ("***@", &rest[at + 1..]),
        None => ("", rest),
    };
    let rest = match rest.split_once('?') {
        Some((base, _)) => format!("{base}?***"),
        None => rest.to_owned(),
    };
    format!("{scheme}://{userinfo}{rest}")
}

impl RedisConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| {
            Err(Error::InvalidConfig {
                what: "redis rate limiter",
                reason,
            })
        };
        if self.timeout_ms == 0 || self.timeout_ms > 1000 {
            return bad(format!(
                "timeout_ms = {} must be between 1 and 1000 (fallback must start within a second)",
                self.timeout_ms
            ));
        }
        if self.probe_interval_ms == 0 {
            return bad("probe_interval_ms must be at least 1".into());
        }
        if !(self.local_share > 0.0 && self.local_share <= 1.0) {
            return bad(format!(
                "local_share = {} must be in (0, 1]",
                self.local_share
            ));
        }
        if self.namespace.contains(['{', '}']) {
            return bad("namespace must not contain braces (it goes inside a hash tag)".into());
        }
        Ok(())
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub(crate) fn probe_interval(&self) -> Duration {
        Duration::from_millis(self.probe_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let cfg = RedisConfig {
            url: "redis://user:hunter2@10.0.0.5:6379/0".into(),
            ..RedisConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("redis://***@10.0.0.5:6379/0"),
            "{shown}"
        );
        assert_eq!(
            redacted("redis+unix:///run/redis.sock"),
            "redis+unix:///run/redis.sock"
        );
        assert_eq!(
            redacted("redis+unix:///run/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///run/redis.sock?***"
        );
        assert_eq!(
            redacted("rediss://:hunter2@h:6380/0?protocol=resp3"),
            "rediss://***@h:6380/0?***"
        );
    }

    #[test]
    fn mistakes_are_explained() {
        let parse = |t: &str| {
            toml::from_str::<RedisConfig>(t)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string()))
        };
        assert!(parse("").is_ok());
        for (text, needle) in [
            ("timeout_ms = 5000", "within a second"),
            ("local_share = 0.0", "(0, 1]"),
            ("namespace = \"a{b}\"", "braces"),
            ("on_failure = \"shrug\"", "unknown variant"),
            ("urll = \"x\"", "unknown field"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
