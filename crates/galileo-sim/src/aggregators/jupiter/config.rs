//! The Jupiter simulator's configuration.

use serde::Deserialize;

use crate::SimError;
use crate::aggregators::endpoint::validate_prefixes;
use crate::aggregators::keys::ApiKeys;
use crate::aggregators::plan::ComputeConfig;

/// How the Jupiter simulator behaves. Every field has a default; unknown keys are refused.
///
/// ```toml
/// prefixes = ["/swap/v1", ""]     # "/swap/v1/quote" and the self-hosted "/quote"
/// api_keys = []                   # x-api-key values; none: open (lite-api)
/// default_slippage_bps = 50
/// journal_capacity = 4096
/// [compute]
/// unit_limit = 1400000
/// dynamic_units_per_instruction = 60000
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JupiterConfig {
    /// Path prefixes the endpoints are served under.
    pub prefixes: Vec<String>,
    /// Accepted `x-api-key` values (none: no key needed). Never shown in `Debug`.
    pub api_keys: ApiKeys,
    /// The slippage when a quote does not say.
    pub default_slippage_bps: u16,
    /// Compute budgets.
    pub compute: ComputeConfig,
    /// How many served quotes and instruction sets to remember for tests.
    pub journal_capacity: usize,
}

impl Default for JupiterConfig {
    fn default() -> Self {
        Self {
            prefixes: vec!["/swap/v1".into(), String::new()],
            api_keys: ApiKeys::default(),
            default_slippage_bps: 50,
            compute: ComputeConfig::default(),
            journal_capacity: 4096,
        }
    }
}

impl JupiterConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |r: String| SimError::config("jupiter", r);
        validate_prefixes(&self.prefixes).map_err(bad)?;
        self.api_keys.validate().map_err(bad)?;
        self.compute.validate().map_err(bad)?;
        if self.default_slippage_bps > 10_000 {
            return Err(bad(format!(
                "default_slippage_bps = {} is over 10000 (100 %)",
                self.default_slippage_bps
            )));
        }
        if self.journal_capacity == 0 {
            return Err(bad("journal_capacity must be at least 1".into()));
        }
        Ok(())
    }
}
