//! `DflowConfig`: where DFlow's API is and how to quote on it.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::Deserialize;

use crate::QuoteError;
use crate::checks;
use crate::secret::ApiKey;

/// DFlow's public API.
pub const DEFAULT_BASE_URL: &str = "https://quote-api.dflow.net";

/// DFlow's aggregator API: base URLs, key, quote parameters, timeouts.
///
/// Every key has a default; unknown keys are refused. The API key never appears in `Debug`.
///
/// ```
/// use galileo_quote::dflow::DflowConfig;
///
/// let cfg: DflowConfig = toml::from_str(r#"
///     api_key = "my-key"
///     slippage_bps = 2
///     exclude_dexes = ["DFlow JIT Router"]
///     max_route_length = 3
/// "#).unwrap();
/// cfg.validate().unwrap();
/// assert_eq!(cfg.quote_url(), "https://quote-api.dflow.net/quote");
/// assert!(!format!("{cfg:?}").contains("my-key"));
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DflowConfig {
    /// Base of `/quote` (`https://` added when missing, trailing `/` removed).
    pub base_url: String,
    /// Base of `/swap-instructions`; unset: `base_url`.
    pub swap_base_url: Option<String>,
    /// The API key, sent in `api_key_header`. Unset: no key (DFlow's public limits apply).
    pub api_key: Option<ApiKey>,
    /// The header the key goes in.
    pub api_key_header: String,
    /// `slippageBps`, always sent; the client also recomputes `minOutAmount` and
    /// `otherAmountThreshold` with it, as the reference client does.
    pub slippage_bps: u16,
    /// `dexes`: only these venues; empty: all.
    pub dexes: Vec<String>,
    /// `excludeDexes`: never these venues.
    pub exclude_dexes: Vec<String>,
    /// `onlyDirectRoutes=true`, sent only when true.
    pub only_direct_routes: bool,
    /// `maxRouteLength`, sent when set.
    pub max_route_length: Option<u32>,
    /// Timeout of `/quote`, milliseconds.
    pub quote_timeout_ms: u64,
    /// Timeout of `/swap-instructions`, milliseconds.
    pub swap_timeout_ms: u64,
    /// A soft cap on quotes in flight on this backend (unset: unbounded).
    pub backend_limit: Option<NonZeroUsize>,
    /// `wrapAndUnwrapSol` in swap requests.
    pub wrap_and_unwrap_sol: bool,
    /// `dynamicComputeUnitLimit` in swap requests.
    pub dynamic_compute_unit_limit: bool,
    /// `computeUnitPriceMicroLamports` in swap requests, sent when above 0.
    pub compute_unit_price_micro_lamports: Option<u64>,
}

impl Default for DflowConfig {
    fn default() -> Self {
        DflowConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            swap_base_url: None,
            api_key: None,
            api_key_header: "x-api-key".to_owned(),
            slippage_bps: 0,
            dexes: Vec::new(),
            exclude_dexes: Vec::new(),
            only_direct_routes: false,
            max_route_length: None,
            quote_timeout_ms: 2_000,
            swap_timeout_ms: 10_000,
            backend_limit: None,
            wrap_and_unwrap_sol: true,
            dynamic_compute_unit_limit: false,
            compute_unit_price_micro_lamports: None,
        }
    }
}

impl DflowConfig {
    /// Checks what serde cannot; the error names the key and what to change.
    pub fn validate(&self) -> Result<(), QuoteError> {
        const B: &str = "dflow";
        checks::url(B, "base_url", &self.quote_url(), DEFAULT_BASE_URL)?;
        checks::url(
            B,
            "swap_base_url",
            &self.swap_instructions_url(),
            DEFAULT_BASE_URL,
        )?;
        checks::auth(B, &self.api_key_header, self.api_key.as_ref())?;
        checks::slippage(B, "slippage_bps", self.slippage_bps)?;
        checks::list(B, "dexes", &self.dexes)?;
        checks::list(B, "exclude_dexes", &self.exclude_dexes)?;
        checks::disjoint(
            B,
            ("dexes", &self.dexes),
            ("exclude_dexes", &self.exclude_dexes),
        )?;
        checks::timeout(B, "quote_timeout_ms", self.quote_timeout_ms)?;
        checks::timeout(B, "swap_timeout_ms", self.swap_timeout_ms)?;
        Ok(())
    }

    /// `{base_url}/quote`.
    pub fn quote_url(&self) -> String {
        format!("{}/quote", checks::normalise_base(&self.base_url))
    }

    /// `{swap_base_url or base_url}/swap-instructions`.
    pub fn swap_instructions_url(&self) -> String {
        let base = self.swap_base_url.as_deref().unwrap_or(&self.base_url);
        format!("{}/swap-instructions", checks::normalise_base(base))
    }

    pub(crate) fn quote_timeout(&self) -> Duration {
        Duration::from_millis(self.quote_timeout_ms)
    }

    pub(crate) fn swap_timeout(&self) -> Duration {
        Duration::from_millis(self.swap_timeout_ms)
    }
}
