//! [`TitanConfig`]: the Titan simulator's knobs. Every field has a default; unknown keys are
//! refused; [`TitanConfig::validate`] says what to fix.
//!
//! ```toml
//! path = "/api/v1/ws"
//! jwt_secret = "a secret shared with the tests"
//! audience = "api.titan.ag"
//! leeway_secs = 5
//! enforce_user_key = true
//! one_connection_per_jti = false
//! compression = ["gzip", "zstd", "brotli", "none"]   # preference order
//! concurrent_streams = 4
//! first_update_delay_ms = 5
//! interval_ms = { min = 10, max = 60000, default = 1000 }
//! num_quotes = { min = 1, max = 10, default = 3 }
//!
//! [[providers]]
//! id = "Titan"
//! kind = "DexAggregator"
//! venues = []                                        # every venue of the market
//!
//! [[providers]]
//! id = "Metis"
//! venues = ["HumidiFi", "SolFiV2", "Meteora DLMM"]
//! compute_units = 110000
//! ```

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::codec::Compression;
use super::wire::ProviderKind;
use crate::SimError;

/// The service name in configuration, stats and errors.
pub const SERVICE: &str = "titan";

/// The HS256 secret shared with the tests. Never shown: `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct JwtSecret(String);

impl JwtSecret {
    /// A secret.
    pub fn new(secret: impl Into<String>) -> Self {
        JwtSecret(secret.into())
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

impl Default for JwtSecret {
    fn default() -> Self {
        JwtSecret(DEFAULT_JWT_SECRET.into())
    }
}

/// The secret of a default configuration: a development value, public by definition.
pub const DEFAULT_JWT_SECRET: &str = "galileo-sim-titan-development-secret";

/// `{ min, max, default }` of a request parameter: GetInfo reports them, requests are clamped
/// into `[min, max]`, and an absent value takes `default`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds<T> {
    /// Smallest accepted.
    pub min: T,
    /// Largest accepted.
    pub max: T,
    /// When the request has none.
    pub default: T,
}

impl<T: Copy + Ord> Bounds<T> {
    /// `value` clamped into the bounds, or the default.
    pub fn apply(&self, value: Option<T>) -> T {
        value.map_or(self.default, |v| v.clamp(self.min, self.max))
    }

    fn is_valid(&self) -> bool {
        self.min <= self.default && self.default <= self.max
    }
}

/// One quote provider: a key of `SwapQuotes.quotes`, routing over a subset of the market's
/// venues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The id (`Titan`, `Metis`, `Okx`).
    pub id: String,
    /// The display name (`ListProviders`); the id when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Aggregator or RFQ.
    #[serde(default = "dex_aggregator")]
    pub kind: ProviderKind,
    /// The market venues it routes over, by name; empty: all of them.
    #[serde(default)]
    pub venues: Vec<String>,
    /// `iconUri48` in `ListProviders` (with `includeIcons`).
    #[serde(default)]
    pub icon_uri48: Option<String>,
    /// The route's `computeUnits`; `computeUnitsSafe` is 6/5 of it.
    #[serde(default = "default_compute_units")]
    pub compute_units: u64,
    /// The route's `timeTakenNs`.
    #[serde(default = "default_time_taken_ns")]
    pub time_taken_ns: u64,
}

fn dex_aggregator() -> ProviderKind {
    ProviderKind::DexAggregator
}

fn default_compute_units() -> u64 {
    120_000
}

fn default_time_taken_ns() -> u64 {
    2_000_000
}

impl ProviderConfig {
    /// A DEX aggregator over `venues` (empty: all).
    pub fn new(id: &str, venues: &[&str]) -> Self {
        ProviderConfig {
            id: id.into(),
            name: None,
            kind: ProviderKind::DexAggregator,
            venues: venues.iter().map(|v| (*v).to_owned()).collect(),
            icon_uri48: None,
            compute_units: default_compute_units(),
            time_taken_ns: default_time_taken_ns(),
        }
    }
}

/// A `GetVenues` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueLabel {
    /// The label.
    pub label: String,
    /// Its program id, base58; a stable id derived from the label when absent.
    #[serde(default)]
    pub program_id: Option<String>,
}

/// How much the service remembers for assertions (oldest forgotten first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordLimits {
    /// Connections kept.
    pub connections: usize,
    /// Client messages kept per connection.
    pub messages_per_connection: usize,
    /// Stream updates kept (all connections).
    pub updates: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        RecordLimits {
            connections: 256,
            messages_per_connection: 1024,
            updates: 4096,
        }
    }
}

/// The Titan simulator's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TitanConfig {
    /// The WebSocket path.
    pub path: String,
    /// The HS256 secret tokens are signed with.
    pub jwt_secret: JwtSecret,
    /// The `aud` tokens must name.
    pub audience: String,
    /// Clock skew allowed on `exp`, `iat` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Refuse requests whose `userPublicKey` differs from the token's `upk_b58` claim.
    pub enforce_user_key: bool,
    /// Refuse a second connection with a token `jti` already connected.
    pub one_connection_per_jti: bool,
    /// Sub-protocols accepted, most preferred first.
    pub compression: Vec<Compression>,
    /// Streams open at once per connection (`concurrentStreams`).
    pub concurrent_streams: u32,
    /// `intervalMs` bounds and default.
    pub interval_ms: Bounds<u64>,
    /// `numQuotes` bounds and default.
    pub num_quotes: Bounds<u32>,
    /// `slippageBps` bounds and default.
    pub slippage_bps: Bounds<u16>,
    /// The first update of a stream comes this long after its `Response` (0 reproduces the
    /// reference client's race, spec §5.4).
    pub first_update_delay_ms: u64,
    /// `expiresAfterSlot` = `contextSlot` + this.
    pub expires_after_slots: u64,
    /// The providers, in `ListProviders` order.
    pub providers: Vec<ProviderConfig>,
    /// What `GetVenues` lists; the market's venues when absent.
    pub venues: Option<Vec<VenueLabel>>,
    /// The largest client message, after decompression, in bytes.
    pub max_message_bytes: usize,
    /// How much is recorded for assertions.
    pub record: RecordLimits,
}

impl Default for TitanConfig {
    fn default() -> Self {
        TitanConfig {
            path: "/api/v1/ws".into(),
            jwt_secret: JwtSecret::default(),
            audience: "api.titan.ag".into(),
            leeway_secs: 5,
            enforce_user_key: true,
            one_connection_per_jti: false,
            compression: Compression::ALL.to_vec(),
            concurrent_streams: 4,
            interval_ms: Bounds {
                min: 10,
                max: 60_000,
                default: 1_000,
            },
            num_quotes: Bounds {
                min: 1,
                max: 10,
                default: 3,
            },
            slippage_bps: Bounds {
                min: 0,
                max: 10_000,
                default: 50,
            },
            first_update_delay_ms: 5,
            expires_after_slots: 150,
            // Mapped onto the default market's venues: Titan sees them all, the two others a
            // different subset each, so their best routes differ.
            providers: vec![
                ProviderConfig::new("Titan", &[]),
                ProviderConfig {
                    compute_units: 110_000,
                    ..ProviderConfig::new("Metis", &["HumidiFi", "SolFiV2", "Meteora DLMM"])
                },
                ProviderConfig {
                    name: Some("OKX".into()),
                    compute_units: 140_000,
                    ..ProviderConfig::new("Okx", &["TesseraV", "SolFiV2", "Meteora DLMM"])
                },
            ],
            venues: None,
            max_message_bytes: 1 << 20,
            record: RecordLimits::default(),
        }
    }
}

impl TitanConfig {
    /// Checks what serde cannot. (Provider venues are checked against the market when the
    /// service is built.)
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |reason: String| Err(SimError::config(SERVICE, reason));
        if !self.path.starts_with('/') || self.path.contains(['?', '#']) {
            return bad(format!(
                "path `{}` must start with `/` and have no query or fragment",
                self.path
            ));
        }
        if self.jwt_secret.expose().is_empty() {
            return bad("jwt_secret is empty; set the secret the tests sign tokens with".into());
        }
        if self.audience.is_empty() {
            return bad("audience is empty; Titan's is `api.titan.ag`".into());
        }
        if self.compression.is_empty() {
            return bad(
                "compression lists no sub-protocol: every upgrade would be refused; \
                 list some of \"gzip\", \"zstd\", \"brotli\", \"none\""
                    .into(),
            );
        }
        let mut seen = HashSet::new();
        if let Some(c) = self.compression.iter().find(|c| !seen.insert(**c)) {
            return bad(format!("compression lists {c:?} twice"));
        }
        if self.concurrent_streams == 0 {
            return bad("concurrent_streams = 0 would refuse every stream; use at least 1".into());
        }
        if !self.interval_ms.is_valid() || self.interval_ms.min == 0 {
            return bad("interval_ms needs 1 ≤ min ≤ default ≤ max".into());
        }
        if !self.num_quotes.is_valid() || self.num_quotes.min == 0 {
            return bad("num_quotes needs 1 ≤ min ≤ default ≤ max".into());
        }
        if !self.slippage_bps.is_valid() || self.slippage_bps.max > 10_000 {
            return bad("slippage_bps needs min ≤ default ≤ max ≤ 10000".into());
        }
        if self.providers.is_empty() {
            return bad("providers is empty: streams would carry no quotes; add one".into());
        }
        let mut ids = HashSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            if p.id.is_empty() {
                return bad(format!("providers[{i}].id is empty"));
            }
            if !ids.insert(p.id.as_str()) {
                return bad(format!("provider id `{}` appears twice", p.id));
            }
            if p.compute_units == 0 {
                return bad(format!("providers[{i}].compute_units must be at least 1"));
            }
        }
        if let Some(venues) = &self.venues {
            for (i, v) in venues.iter().enumerate() {
                if let Some(id) = &v.program_id
                    && id.parse::<solana_pubkey::Pubkey>().is_err()
                {
                    return bad(format!(
                        "venues[{i}].program_id `{id}` is not a base58 pubkey"
                    ));
                }
            }
        }
        if self.max_message_bytes < 1024 {
            return bad("max_message_bytes must be at least 1024".into());
        }
        let r = &self.record;
        if r.connections == 0 || r.messages_per_connection == 0 || r.updates == 0 {
            return bad("record limits must each be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_example() -> String {
        include_str!("config.rs")
            .split("//! ```toml\n")
            .nth(1)
            .unwrap()
            .split("//! ```")
            .next()
            .unwrap()
            .lines()
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_documented_example_parses_and_defaults_validate() {
        TitanConfig::default().validate().unwrap();
        let cfg: TitanConfig = toml::from_str(&doc_example()).unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.providers.len(), 2);
        assert_eq!(cfg.providers[1].compute_units, 110_000);
        assert_eq!(cfg.providers[1].kind, ProviderKind::DexAggregator);
        assert_eq!(cfg.jwt_secret.expose(), b"a secret shared with the tests");
    }

    #[test]
    fn the_guide_shows_the_defaults() {
        let guide = include_str!("../../../../docs/sim-titan.md");
        let toml_block = guide
            .split("```toml\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let cfg: TitanConfig = toml::from_str(toml_block).unwrap();
        assert_eq!(cfg, TitanConfig::default());
    }

    #[test]
    fn mistakes_are_explained() {
        for (text, needle) in [
            ("path = \"ws\"", "must start with `/`"),
            ("jwt_secret = \"\"", "jwt_secret is empty"),
            ("compression = []", "every upgrade would be refused"),
            ("compression = [\"gzip\", \"gzip\"]", "twice"),
            ("compression = [\"lz4\"]", "unknown variant"),
            ("concurrent_streams = 0", "at least 1"),
            (
                "interval_ms = { min = 100, max = 50, default = 60 }",
                "interval_ms",
            ),
            (
                "num_quotes = { min = 0, max = 5, default = 1 }",
                "num_quotes",
            ),
            ("providers = []", "providers is empty"),
            (
                "[[providers]]\nid = \"A\"\n[[providers]]\nid = \"A\"",
                "appears twice",
            ),
            ("concurrentStreams = 2", "unknown field"),
        ] {
            let e = toml::from_str::<TitanConfig>(text)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string()))
                .unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn bounds_clamp_and_default() {
        let b = Bounds {
            min: 10u64,
            max: 100,
            default: 50,
        };
        assert_eq!(b.apply(None), 50);
        assert_eq!(b.apply(Some(1)), 10);
        assert_eq!(b.apply(Some(1000)), 100);
        assert_eq!(b.apply(Some(20)), 20);
    }

    #[test]
    fn the_secret_never_shows() {
        let cfg = TitanConfig {
            jwt_secret: JwtSecret::new("hunter2-very-secret"),
            ..TitanConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
