//! `JupiterConfig`: where Jupiter's swap API is and how to quote on it.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::Deserialize;

use crate::QuoteError;
use crate::checks;
use crate::secret::ApiKey;

/// The free tier's quote URL.
pub const DEFAULT_QUOTE_URL: &str = "https://lite-api.jup.ag/swap/v1/quote";
/// The free tier's swap-instructions URL.
pub const DEFAULT_SWAP_INSTRUCTIONS_URL: &str = "https://lite-api.jup.ag/swap/v1/swap-instructions";

/// Jupiter's swap API (v1): URLs, key, quote parameters, timeouts.
///
/// Every key has a default; unknown keys are refused. The API key never appears in `Debug`.
///
/// ```
/// use galileo_quote::jupiter::JupiterConfig;
///
/// let cfg: JupiterConfig = toml::from_str(r#"
///     quote_url = "https://api.jup.ag/swap/v1/quote"
///     swap_instructions_url = "https://api.jup.ag/swap/v1/swap-instructions"
///     api_key = "my-key"
///     slippage_bps = 0
///     restrict_intermediate_tokens = true
///     max_accounts = 28
///     exclude_dexes = ["Obric V2"]
/// "#).unwrap();
/// cfg.validate().unwrap();
/// assert!(!format!("{cfg:?}").contains("my-key"));
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JupiterConfig {
    /// The complete `/quote` URL, requested verbatim with the query appended.
    pub quote_url: String,
    /// The complete `/swap-instructions` URL.
    pub swap_instructions_url: String,
    /// The complete `/swap` URL, for [`JupiterClient::swap`](super::JupiterClient::swap);
    /// unset: `swap` is refused.
    pub swap_url: Option<String>,
    /// The API key (paid tier); sent in `api_key_header`. Unset: no key is sent.
    pub api_key: Option<ApiKey>,
    /// The header the key goes in.
    pub api_key_header: String,
    /// `slippageBps`, always sent (round trips guard their minimum return themselves).
    pub slippage_bps: u16,
    /// `onlyDirectRoutes=true`, sent only when true.
    pub only_direct_routes: bool,
    /// `restrictIntermediateTokens`, sent when set (Jupiter's default is `true`).
    pub restrict_intermediate_tokens: Option<bool>,
    /// `dexes`: only these DEX labels; empty: all.
    pub dexes: Vec<String>,
    /// `excludeDexes`: never these DEX labels.
    pub exclude_dexes: Vec<String>,
    /// `maxAccounts`, sent when set (Jupiter's default is 64; round trips use ~28).
    pub max_accounts: Option<u16>,
    /// Timeout of `/quote`, milliseconds (connect + whole body).
    pub quote_timeout_ms: u64,
    /// Timeout of `/swap-instructions` and `/swap`, milliseconds.
    pub swap_timeout_ms: u64,
    /// A soft cap on quotes in flight on this backend (unset: unbounded, the allocator's IP
    /// capacity is the limit).
    pub backend_limit: Option<NonZeroUsize>,
    /// `wrapAndUnwrapSol` in swap requests.
    pub wrap_and_unwrap_sol: bool,
    /// `dynamicComputeUnitLimit` in swap requests (the server simulates for the limit).
    pub dynamic_compute_unit_limit: bool,
    /// `computeUnitPriceMicroLamports` in swap requests, sent when above 0.
    pub compute_unit_price_micro_lamports: Option<u64>,
}

impl Default for JupiterConfig {
    fn default() -> Self {
        JupiterConfig {
            quote_url: DEFAULT_QUOTE_URL.to_owned(),
            swap_instructions_url: DEFAULT_SWAP_INSTRUCTIONS_URL.to_owned(),
            swap_url: None,
            api_key: None,
            api_key_header: "x-api-key".to_owned(),
            slippage_bps: 0,
            only_direct_routes: false,
            restrict_intermediate_tokens: None,
            dexes: Vec::new(),
            exclude_dexes: Vec::new(),
            max_accounts: None,
            quote_timeout_ms: 2_000,
            swap_timeout_ms: 10_000,
            backend_limit: None,
            wrap_and_unwrap_sol: true,
            dynamic_compute_unit_limit: false,
            compute_unit_price_micro_lamports: None,
        }
    }
}

impl JupiterConfig {
    /// Checks what serde cannot; the error names the key and what to change.
    pub fn validate(&self) -> Result<(), QuoteError> {
        const B: &str = "jupiter";
        checks::url(B, "quote_url", &self.quote_url, DEFAULT_QUOTE_URL)?;
        checks::url(
            B,
            "swap_instructions_url",
            &self.swap_instructions_url,
            DEFAULT_SWAP_INSTRUCTIONS_URL,
        )?;
        if let Some(u) = &self.swap_url {
            checks::url(B, "swap_url", u, "https://lite-api.jup.ag/swap/v1/swap")?;
        }
        checks::auth(B, &self.api_key_header, self.api_key.as_ref())?;
        checks::slippage(B, "slippage_bps", self.slippage_bps)?;
        checks::list(B, "dexes", &self.dexes)?;
        checks::list(B, "exclude_dexes", &self.exclude_dexes)?;
        checks::disjoint(
            B,
            ("dexes", &self.dexes),
            ("exclude_dexes", &self.exclude_dexes),
        )?;
        if self.max_accounts == Some(0) {
            return Err(checks::config_error(
                B,
                "max_accounts",
                "= 0 leaves no route: use at least 1 (round trips use ~28), or unset it",
            ));
        }
        checks::timeout(B, "quote_timeout_ms", self.quote_timeout_ms)?;
        checks::timeout(B, "swap_timeout_ms", self.swap_timeout_ms)?;
        Ok(())
    }

    pub(crate) fn quote_timeout(&self) -> Duration {
        Duration::from_millis(self.quote_timeout_ms)
    }

    pub(crate) fn swap_timeout(&self) -> Duration {
        Duration::from_millis(self.swap_timeout_ms)
    }
}
