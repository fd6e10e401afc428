//! [`TitanConfig`]: where Titan is, how to authenticate, what to ask for, and the stream
//! manager's timings. Every key has a default; unknown keys are refused.
//!
//! ```toml
//! url = "wss://api.titan.exchange/api/v1/ws"
//! jwt_env = "TITAN_JWT"              # or jwt = "<token>" (never logged)
//! auth = "header"                    # Authorization: Bearer; "query" sends ?auth=<jwt>
//! compression = ["zstd", "brotli", "gzip", "none"]
//! user_public_key = "<base58 wallet the routes are built for>"
//! slippage_bps = 0
//! providers = ["Titan", "Metis"]
//! interval_ms = 1000
//! num_quotes = 3
//! streams_per_ip = 2
//! silence_timeout_ms = 10000
//! max_quote_age_ms = 2000
//! reconnect = { initial_delay_ms = 1000, max_delay_ms = 30000, multiplier = 2.0, jitter = "equal" }
//! ```

use std::fmt;
use std::time::Duration;

use galileo_resilience::retry::{Jitter, RetryPolicy};
use serde::Deserialize;
use solana_pubkey::Pubkey;

use crate::codec::Compression;
use crate::{Jwt, TitanError};

/// How the JWT travels in the handshake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// `Authorization: Bearer <jwt>` (the default).
    #[default]
    Header,
    /// `?auth=<jwt>`, replacing the URL's whole query string (the reference client's way).
    Query,
}

/// A JWT written in the configuration. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct JwtText(String);

impl JwtText {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        JwtText(token.into())
    }
}

impl fmt::Debug for JwtText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The Titan client's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TitanConfig {
    /// The WebSocket URL (`ws://` or `wss://`).
    pub url: String,
    /// The JWT itself. Prefer `jwt_env`: configuration files get copied around.
    pub jwt: Option<JwtText>,
    /// The environment variable holding the JWT when `jwt` is unset.
    pub jwt_env: String,
    /// How the JWT is sent.
    pub auth: AuthMode,
    /// Sub-protocols offered, in order of preference.
    pub compression: Vec<Compression>,
    /// The wallet the routes' instructions are built for (base58): the signer.
    pub user_public_key: Option<String>,
    /// Slippage in basis points (server default when unset).
    pub slippage_bps: Option<u16>,
    /// Only these providers (`Titan`, `Metis`, `Okx`, ...).
    pub providers: Option<Vec<String>>,
    /// Only these venue labels.
    pub dexes: Option<Vec<String>>,
    /// Never these venue labels.
    pub exclude_dexes: Option<Vec<String>>,
    /// Direct routes only.
    pub only_direct_routes: bool,
    /// Have Titan add an idempotent create-ATA for the output token.
    pub create_output_token_account: bool,
    /// Push interval asked for, in milliseconds (server default when unset).
    pub interval_ms: Option<u64>,
    /// Quotes per update asked for (server default when unset).
    pub num_quotes: Option<u32>,
    /// Streams per source IP (1 or 2; Titan serves at most 2 per connection in practice).
    pub streams_per_ip: usize,
    /// A stream silent this long is resubscribed.
    pub silence_timeout_ms: u64,
    /// The oldest quote [`QuoteSource::quote`](galileo_quote::QuoteSource::quote) returns.
    pub max_quote_age_ms: u64,
    /// A ping goes out this often; a connection silent for three of them is dropped.
    pub ping_interval_ms: u64,
    /// The WebSocket handshake's limit (the TCP/TLS connect has galileo-net's).
    pub handshake_timeout_ms: u64,
    /// How long `GetInfo` may take before streams open without it.
    pub info_timeout_ms: u64,
    /// The largest message accepted, after decompression.
    pub max_message_bytes: usize,
    /// Warn this long before the JWT expires.
    pub jwt_warn_before_secs: u64,
    /// The backoff between reconnects (and between resubscribes of a stream the server
    /// ended); `max_retries` is ignored: streams retry for as long as they are planned.
    pub reconnect: RetryPolicy,
}

impl Default for TitanConfig {
    fn default() -> Self {
        TitanConfig {
            url: "wss://api.titan.exchange/api/v1/ws".into(),
            jwt: None,
            jwt_env: "TITAN_JWT".into(),
            auth: AuthMode::Header,
            compression: Compression::ALL.to_vec(),
            user_public_key: None,
            slippage_bps: None,
            providers: None,
            dexes: None,
            exclude_dexes: None,
            only_direct_routes: false,
            create_output_token_account: false,
            interval_ms: None,
            num_quotes: None,
            streams_per_ip: 2,
            silence_timeout_ms: 10_000,
            max_quote_age_ms: 2_000,
            ping_interval_ms: 5_000,
            handshake_timeout_ms: 10_000,
            info_timeout_ms: 5_000,
            max_message_bytes: 16 << 20,
            jwt_warn_before_secs: 120,
            reconnect: default_reconnect(),
        }
    }
}

/// 1 s doubling to 30 s with equal jitter, as the reference client.
fn default_reconnect() -> RetryPolicy {
    RetryPolicy::new(
        u32::MAX,
        Duration::from_secs(1),
        2.0,
        Duration::from_secs(30),
    )
    .with_jitter(Jitter::Equal)
}

impl TitanConfig {
    /// Parses a `[titan]` table.
    pub fn from_toml(text: &str) -> Result<Self, TitanError> {
        let cfg: TitanConfig =
            toml_de(text).map_err(|e| TitanError::Config(e.trim().to_owned()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks that the configuration can work, saying what to change when it cannot.
    pub fn validate(&self) -> Result<(), TitanError> {
        let bad = |m: String| Err(TitanError::Config(m));
        let uri: http::Uri = match self.url.parse() {
            Ok(u) => u,
            Err(_) => {
                return bad(
                    "url is not a URL: write e.g. wss://api.titan.exchange/api/v1/ws".into(),
                );
            }
        };
        if !matches!(uri.scheme_str(), Some("ws" | "wss")) || uri.host().is_none() {
            return bad("url must be ws://host/path or wss://host/path".into());
        }
        if self.compression.is_empty() {
            return bad(
                "compression is empty: offer at least one of zstd, brotli, gzip, none".into(),
            );
        }
        for (i, c) in self.compression.iter().enumerate() {
            if self.compression[..i].contains(c) {
                return bad(format!("compression lists {c} twice"));
            }
        }
        if !(1..=2).contains(&self.streams_per_ip) {
            return bad(format!(
                "streams_per_ip is {}: use 1 or 2 (Titan serves at most 2 streams per \
                 connection in practice)",
                self.streams_per_ip
            ));
        }
        for (name, v) in [
            ("silence_timeout_ms", self.silence_timeout_ms),
            ("max_quote_age_ms", self.max_quote_age_ms),
            ("ping_interval_ms", self.ping_interval_ms),
            ("handshake_timeout_ms", self.handshake_timeout_ms),
            ("info_timeout_ms", self.info_timeout_ms),
        ] {
            if v == 0 {
                return bad(format!("{name} is 0: set it to at least 1"));
            }
            if v > 86_400_000 {
                return bad(format!("{name} is {v}: at most a day (86400000)"));
            }
        }
        if self.max_message_bytes < 1024 {
            return bad("max_message_bytes is below 1024: quotes do not fit".into());
        }
        if self.jwt.is_none() && self.jwt_env.trim().is_empty() {
            return bad("set jwt_env (the environment variable holding the JWT) or jwt".into());
        }
        self.user_key()?;
        self.reconnect
            .validate()
            .map_err(|e| TitanError::Config(format!("reconnect: {e}")))
    }

    /// The JWT: `jwt` when set, else the environment variable `jwt_env`.
    pub fn jwt(&self) -> Result<Jwt, TitanError> {
        match &self.jwt {
            Some(JwtText(t)) => Jwt::new(t.as_str()),
            None => Jwt::from_env(&self.jwt_env),
        }
    }

    /// The user key, parsed (`None` when unset).
    pub fn user_key(&self) -> Result<Option<Pubkey>, TitanError> {
        self.user_public_key
            .as_deref()
            .map(|s| {
                s.trim().parse::<Pubkey>().map_err(|_| {
                    TitanError::Config(format!(
                        "user_public_key {s:?} is not a base58 Solana pubkey"
                    ))
                })
            })
            .transpose()
    }

    pub(crate) fn silence_timeout(&self) -> Duration {
        Duration::from_millis(self.silence_timeout_ms)
    }

    pub(crate) fn max_quote_age(&self) -> Duration {
        Duration::from_millis(self.max_quote_age_ms)
    }

    pub(crate) fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    pub(crate) fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }

    pub(crate) fn info_timeout(&self) -> Duration {
        Duration::from_millis(self.info_timeout_ms)
    }
}

fn toml_de(text: &str) -> Result<TitanConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_unknown_keys_are_refused() {
        TitanConfig::default().validate().unwrap();
        let e = TitanConfig::from_toml("urll = \"ws://x/\"").unwrap_err();
        assert!(e.to_string().contains("urll"), "{e}");
    }

    #[test]
    fn contradictions_say_what_to_change() {
        for (text, needle) in [
            ("url = \"http://x/\"", "ws://"),
            ("compression = []", "at least one"),
            ("compression = [\"gzip\", \"gzip\"]", "twice"),
            ("streams_per_ip = 3", "1 or 2"),
            ("silence_timeout_ms = 0", "silence_timeout_ms"),
            ("user_public_key = \"nope\"", "base58"),
            ("reconnect = { initial_delay_ms = 0 }", "reconnect"),
        ] {
            let e = TitanConfig::from_toml(text).unwrap_err();
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn an_inline_jwt_never_shows_in_debug() {
        let cfg = TitanConfig::from_toml(
            "jwt = \"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0LXNpZ25hdHVyZQ\"",
        )
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("c2VjcmV0LXNpZ25hdHVyZQ"), "{shown}");
        assert!(!shown.contains("eyJleHAiOjF9"), "{shown}");
        assert_eq!(cfg.jwt().unwrap().expires_at_unix(), Some(1));
    }
}
