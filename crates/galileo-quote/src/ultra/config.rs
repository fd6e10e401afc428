//! `UltraConfig`: where Jupiter Ultra is and what to send to `/order`.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::Deserialize;
use solana_pubkey::Pubkey;

use crate::QuoteError;
use crate::checks;
use crate::secret::ApiKey;
use crate::wire;

/// The free tier's base URL.
pub const DEFAULT_BASE_URL: &str = "https://lite-api.jup.ag/ultra/v1";

/// Ultra's routers, as `excludeRouters` / `routers` name them.
pub const ROUTERS: &[&str] = &["metis", "jupiterz", "dflow", "okx"];

/// Jupiter Ultra (`/order`, `/execute`): base URL, key, order parameters, timeouts.
///
/// Only the official `/order` parameters are sent unless the unofficial ones (marked below,
/// all unset by default) are configured. Every key has a default; unknown keys are refused;
/// the API key never appears in `Debug`.
///
/// ```
/// use galileo_quote::ultra::UltraConfig;
///
/// let cfg: UltraConfig = toml::from_str(r#"
///     base_url = "api.jup.ag/ultra/v1/"
///     api_key = "my-key"
///     taker = "FakeTaker1111111111111111111111111111111111"
///     exclude_routers = ["okx"]
/// "#).unwrap();
/// cfg.validate().unwrap();
/// assert_eq!(cfg.order_url(), "https://api.jup.ag/ultra/v1/order");
/// assert!(!format!("{cfg:?}").contains("my-key"));
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UltraConfig {
    /// Base of `/order` and `/execute` (`https://` added when missing, trailing `/` removed).
    pub base_url: String,
    /// The API key (paid tier), sent in `api_key_header`.
    pub api_key: Option<ApiKey>,
    /// The header the key goes in.
    pub api_key_header: String,
    /// `taker`: the wallet that will sign. Unset: orders carry no transaction.
    #[serde(with = "wire::pubkey::opt")]
    pub taker: Option<Pubkey>,
    /// `referralAccount`: the integrator fee account.
    #[serde(with = "wire::pubkey::opt")]
    pub referral_account: Option<Pubkey>,
    /// `referralFee` in basis points, 50–255 (needs `referral_account`).
    pub referral_fee: Option<u16>,
    /// `excludeRouters`: any of `metis`, `jupiterz`, `dflow`, `okx`.
    pub exclude_routers: Vec<String>,
    /// `excludeDexes`: DEX labels (only the Metis router honours them).
    pub exclude_dexes: Vec<String>,
    /// `payer`: an external fee payer.
    #[serde(with = "wire::pubkey::opt")]
    pub payer: Option<Pubkey>,
    /// Unofficial: `slippageBps`.
    pub slippage_bps: Option<u16>,
    /// Unofficial: `useWsol`.
    pub use_wsol: Option<bool>,
    /// Unofficial: `broadcastFeeType` (`exactFee` or `maxCap`).
    pub broadcast_fee_type: Option<String>,
    /// Unofficial: `priorityFeeLamports`, sent when above 0.
    pub priority_fee_lamports: Option<u64>,
    /// Unofficial: `jitoTipLamports`, sent when above 0.
    pub jito_tip_lamports: Option<u64>,
    /// Unofficial: `routers`, only these routers.
    pub routers: Vec<String>,
    /// Timeout of `/order`, milliseconds.
    pub order_timeout_ms: u64,
    /// Timeout of `/execute`, milliseconds.
    pub execute_timeout_ms: u64,
    /// A soft cap on orders in flight on this backend (unset: unbounded).
    pub backend_limit: Option<NonZeroUsize>,
}

impl Default for UltraConfig {
    fn default() -> Self {
        UltraConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            api_key_header: "x-api-key".to_owned(),
            taker: None,
            referral_account: None,
            referral_fee: None,
            exclude_routers: Vec::new(),
            exclude_dexes: Vec::new(),
            payer: None,
            slippage_bps: None,
            use_wsol: None,
            broadcast_fee_type: None,
            priority_fee_lamports: None,
            jito_tip_lamports: None,
            routers: Vec::new(),
            order_timeout_ms: 2_000,
            execute_timeout_ms: 10_000,
            backend_limit: None,
        }
    }
}

impl UltraConfig {
    /// Checks what serde cannot; the error names the key and what to change.
    pub fn validate(&self) -> Result<(), QuoteError> {
        const B: &str = "ultra";
        checks::url(B, "base_url", &self.order_url(), DEFAULT_BASE_URL)?;
        checks::auth(B, &self.api_key_header, self.api_key.as_ref())?;
        if let Some(fee) = self.referral_fee {
            if !(50..=255).contains(&fee) {
                return Err(checks::config_error(
                    B,
                    "referral_fee",
                    format!("= {fee}: use 50 to 255 basis points"),
                ));
            }
            if self.referral_account.is_none() {
                return Err(checks::config_error(
                    B,
                    "referral_fee",
                    "needs referral_account (the account the fee goes to)",
                ));
            }
        }
        for (field, list) in [
            ("exclude_routers", &self.exclude_routers),
            ("routers", &self.routers),
        ] {
            checks::list(B, field, list)?;
            if let Some(r) = list.iter().find(|r| !ROUTERS.contains(&r.as_str())) {
                return Err(checks::config_error(
                    B,
                    field,
                    format!("has {r:?}: use {} (lower case)", ROUTERS.join(", ")),
                ));
            }
        }
        checks::disjoint(
            B,
            ("routers", &self.routers),
            ("exclude_routers", &self.exclude_routers),
        )?;
        checks::list(B, "exclude_dexes", &self.exclude_dexes)?;
        if let Some(bps) = self.slippage_bps {
            checks::slippage(B, "slippage_bps", bps)?;
        }
        if let Some(t) = &self.broadcast_fee_type
            && !["exactFee", "maxCap"].contains(&t.as_str())
        {
            return Err(checks::config_error(
                B,
                "broadcast_fee_type",
                format!("= {t:?}: use \"exactFee\" or \"maxCap\", or unset it"),
            ));
        }
        checks::timeout(B, "order_timeout_ms", self.order_timeout_ms)?;
        checks::timeout(B, "execute_timeout_ms", self.execute_timeout_ms)?;
        Ok(())
    }

    /// `{base_url}/order`.
    pub fn order_url(&self) -> String {
        format!("{}/order", checks::normalise_base(&self.base_url))
    }

    /// `{base_url}/execute`.
    pub fn execute_url(&self) -> String {
        format!("{}/execute", checks::normalise_base(&self.base_url))
    }

    pub(crate) fn order_timeout(&self) -> Duration {
        Duration::from_millis(self.order_timeout_ms)
    }

    pub(crate) fn execute_timeout(&self) -> Duration {
        Duration::from_millis(self.execute_timeout_ms)
    }
}
