//! The Ultra simulator's configuration.

use serde::Deserialize;

use crate::SimError;
use crate::aggregators::endpoint::validate_prefixes;
use crate::aggregators::keys::ApiKeys;
use crate::aggregators::plan::ComputeConfig;

/// Router names the real `/order` accepts in `routers` / `excludeRouters`.
pub const KNOWN_ROUTERS: [&str; 4] = ["metis", "jupiterz", "dflow", "okx"];

/// How the Ultra simulator behaves. Every field has a default; unknown keys are refused.
///
/// ```toml
/// prefixes = ["/ultra/v1", ""]
/// api_keys = ["my-key"]             # x-api-key values; none: open
/// default_slippage_bps = 50
/// dynamic_compute_unit_limit = true
/// order_ttl_ms = 60000              # an order's requestId works this long in /execute
/// max_orders = 100000               # remembered at most (the oldest go first)
/// signature_fee_lamports = 5000     # per signature
/// success_code = 0                  # /execute's code on success
/// journal_capacity = 4096
/// # error_code = 2                  # every order with a taker fails with this errorCode
/// [[routers]]
/// name = "metis"                    # as in routers= / excludeRouters=
/// label = "aggregator"              # the answer's router / swapType
/// venues = []                       # market venues it routes over; empty: all
/// [[routers]]
/// name = "dflow"
/// label = "dflow"
/// venues = ["TesseraV"]
/// [compute]
/// unit_limit = 1400000
/// dynamic_units_per_instruction = 60000
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UltraConfig {
    /// Path prefixes the endpoints are served under.
    pub prefixes: Vec<String>,
    /// Accepted `x-api-key` values (none: no key needed). Never shown in `Debug`.
    pub api_keys: ApiKeys,
    /// The slippage when an order does not say.
    pub default_slippage_bps: u16,
    /// Set the compute-unit limit from the instructions (as if simulated) rather than
    /// `compute.unit_limit`.
    pub dynamic_compute_unit_limit: bool,
    /// Compute budgets.
    pub compute: ComputeConfig,
    /// How long an order can be executed, in milliseconds.
    pub order_ttl_ms: u64,
    /// How many orders are remembered at most.
    pub max_orders: usize,
    /// The base fee per signature, in lamports.
    pub signature_fee_lamports: u64,
    /// The `code` of a successful `/execute`.
    pub success_code: i64,
    /// Inject this `errorCode` (1–3) into every order with a taker (an empty transaction).
    pub error_code: Option<u8>,
    /// The routers and the venues each routes over.
    pub routers: Vec<RouterConfig>,
    /// How many served orders and executions to remember for tests.
    pub journal_capacity: usize,
}

/// One of Ultra's routers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Its name in `routers` / `excludeRouters` (lower case).
    pub name: String,
    /// What the answer's `router` and `swapType` say when it wins.
    pub label: String,
    /// The market venues it routes over (empty: all).
    #[serde(default)]
    pub venues: Vec<String>,
    /// Whether `excludeDexes` applies to it (as to Metis).
    #[serde(default)]
    pub honours_exclude_dexes: bool,
}

impl Default for UltraConfig {
    fn default() -> Self {
        Self {
            prefixes: vec!["/ultra/v1".into(), String::new()],
            api_keys: ApiKeys::default(),
            default_slippage_bps: 50,
            dynamic_compute_unit_limit: true,
            compute: ComputeConfig::default(),
            order_ttl_ms: 60_000,
            max_orders: 100_000,
            signature_fee_lamports: 5_000,
            success_code: 0,
            error_code: None,
            routers: vec![RouterConfig {
                name: "metis".into(),
                label: "aggregator".into(),
                venues: Vec::new(),
                honours_exclude_dexes: true,
            }],
            journal_capacity: 4096,
        }
    }
}

impl UltraConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |r: String| SimError::config("ultra", r);
        validate_prefixes(&self.prefixes).map_err(bad)?;
        self.api_keys.validate().map_err(bad)?;
        self.compute.validate().map_err(bad)?;
        if self.default_slippage_bps > 10_000 {
            return Err(bad(format!(
                "default_slippage_bps = {} is over 10000 (100 %)",
                self.default_slippage_bps
            )));
        }
        if self.order_ttl_ms == 0 {
            return Err(bad("order_ttl_ms must be at least 1".into()));
        }
        if self.max_orders == 0 || self.journal_capacity == 0 {
            return Err(bad(
                "max_orders and journal_capacity must be at least 1".into()
            ));
        }
        if let Some(c) = self.error_code
            && !(1..=3).contains(&c)
        {
            return Err(bad(format!(
                "error_code = {c}: Ultra's error codes are 1, 2 and 3"
            )));
        }
        if self.routers.is_empty() {
            return Err(bad("routers: at least one is needed".into()));
        }
        for (i, r) in self.routers.iter().enumerate() {
            if r.name.is_empty() || r.name != r.name.to_ascii_lowercase() || r.label.is_empty() {
                return Err(bad(format!(
                    "routers[{i}]: name must be lower case and name and label not empty"
                )));
            }
            if self.routers[..i].iter().any(|o| o.name == r.name) {
                return Err(bad(format!("routers[{i}]: {:?} is there twice", r.name)));
            }
        }
        Ok(())
    }
}
