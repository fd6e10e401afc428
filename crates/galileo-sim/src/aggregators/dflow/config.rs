//! The DFlow simulator's configuration.

use serde::Deserialize;

use crate::SimError;
use crate::aggregators::endpoint::validate_prefixes;
use crate::aggregators::keys::ApiKeys;
use crate::aggregators::plan::ComputeConfig;

/// The most an `"auto"` priority fee costs, in lamports (0.005 SOL).
pub const AUTO_PRIORITY_CAP_LAMPORTS: u64 = 5_000_000;

/// How the DFlow simulator behaves. Every field has a default; unknown keys are refused.
///
/// ```toml
/// prefixes = [""]                       # /quote and /swap-instructions at the root
/// api_keys = ["my-key"]                 # x-api-key values; missing or unknown: 401
/// default_slippage_bps = 50             # when slippageBps is absent or "auto"
/// auto_price_micro_lamports = 10000     # prioritizationFeeLamports = "auto"
/// failed_to_compute_swap = false        # every swap-instructions answers 500 failed_to_compute_swap
/// journal_capacity = 4096
/// [compute]
/// unit_limit = 1400000
/// dynamic_units_per_instruction = 60000
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DflowConfig {
    /// Path prefixes the endpoints are served under.
    pub prefixes: Vec<String>,
    /// Accepted `x-api-key` values (none: no key needed). Never shown in `Debug`.
    pub api_keys: ApiKeys,
    /// The slippage when a quote asks for none or `auto`.
    pub default_slippage_bps: u16,
    /// The compute-unit price an `"auto"` priority fee sets (the total capped at
    /// [`AUTO_PRIORITY_CAP_LAMPORTS`]).
    pub auto_price_micro_lamports: u64,
    /// Compute budgets.
    pub compute: ComputeConfig,
    /// Answer every `/swap-instructions` with `500 failed_to_compute_swap` (switchable at run
    /// time).
    pub failed_to_compute_swap: bool,
    /// How many served quotes and instruction sets to remember for tests.
    pub journal_capacity: usize,
}

impl Default for DflowConfig {
    fn default() -> Self {
        Self {
            prefixes: vec![String::new()],
            api_keys: ApiKeys::default(),
            default_slippage_bps: 50,
            auto_price_micro_lamports: 10_000,
            compute: ComputeConfig::default(),
            failed_to_compute_swap: false,
            journal_capacity: 4096,
        }
    }
}

impl DflowConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |r: String| SimError::config("dflow", r);
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
