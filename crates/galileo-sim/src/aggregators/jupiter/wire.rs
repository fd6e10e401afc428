//! Jupiter's swap API (v1) on the wire, from `spec/jupiter.md`: amounts are strings,
//! `priceImpactPct` a plain decimal string, unknown request keys ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregators::wire::{WireInstruction, u64_string};

/// `ExactIn` or `ExactOut` (clients may also write `exactIn` / `exactOut`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SwapMode {
    /// The amount is the input.
    #[serde(alias = "exactIn")]
    ExactIn,
    /// The amount is the output.
    #[serde(alias = "exactOut")]
    ExactOut,
}

/// An integrator fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformFee {
    /// Raw amount.
    #[serde(with = "u64_string")]
    pub amount: u64,
    /// Basis points.
    pub fee_bps: u16,
}

/// The `GET /quote` answer, also echoed in `/swap-instructions` and `/swap`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteResponse {
    /// Sold.
    pub input_mint: String,
    /// Raw input.
    #[serde(with = "u64_string")]
    pub in_amount: u64,
    /// Bought.
    pub output_mint: String,
    /// Raw output, before slippage.
    #[serde(with = "u64_string")]
    pub out_amount: u64,
    /// `outAmount` reduced by the slippage (ExactIn).
    #[serde(with = "u64_string")]
    pub other_amount_threshold: u64,
    /// The mode.
    pub swap_mode: SwapMode,
    /// The slippage tolerance.
    pub slippage_bps: u16,
    /// The integrator fee (`null` when none).
    #[serde(default)]
    pub platform_fee: Option<PlatformFee>,
    /// Price impact, a plain decimal fraction.
    pub price_impact_pct: String,
    /// The route.
    pub route_plan: Vec<RoutePlanStep>,
    /// The slot the quote was computed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
    /// Seconds the quote took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_taken: Option<f64>,
}

/// One step of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePlanStep {
    /// The swap.
    pub swap_info: SwapInfo,
    /// Share of the input, 0–100.
    pub percent: u8,
    /// Share in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bps: Option<u16>,
}

/// One swap of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapInfo {
    /// The pool.
    pub amm_key: String,
    /// The venue's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Sold.
    pub input_mint: String,
    /// Bought.
    pub output_mint: String,
    /// Raw input.
    #[serde(with = "u64_string")]
    pub in_amount: u64,
    /// Raw output.
    #[serde(with = "u64_string")]
    pub out_amount: u64,
    /// The venue's fee.
    #[serde(with = "u64_string")]
    pub fee_amount: u64,
    /// The fee's mint.
    pub fee_mint: String,
}

/// `prioritizationFeeLamports`: a number of lamports, `"auto"`, or one of the objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PrioritizationFee {
    /// Lamports in total.
    Lamports(u64),
    /// `"auto"`.
    Auto(AutoFee),
    /// A priority level.
    Level {
        /// The level and cap.
        #[serde(rename = "priorityLevelWithMaxLamports")]
        priority_level_with_max_lamports: PriorityLevelWithMax,
    },
    /// A Jito tip paid by the user.
    JitoTip {
        /// Lamports.
        #[serde(rename = "jitoTipLamports")]
        jito_tip_lamports: u64,
    },
    /// A Jito tip paid by someone else.
    JitoTipWithPayer {
        /// Lamports and payer.
        #[serde(rename = "jitoTipLamportsWithPayer")]
        jito_tip_lamports_with_payer: JitoTipWithPayer,
    },
}

/// The literal `"auto"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoFee {
    /// `"auto"`.
    Auto,
}

/// `{priorityLevel, maxLamports, global}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityLevelWithMax {
    /// `medium`, `high` or `veryHigh`.
    pub priority_level: String,
    /// The most to pay.
    pub max_lamports: u64,
    /// Global or local fee market.
    #[serde(default)]
    pub global: Option<bool>,
}

/// `{lamports, payer}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JitoTipWithPayer {
    /// Lamports.
    pub lamports: u64,
    /// Who pays.
    pub payer: String,
}

/// The `POST /swap-instructions` and `POST /swap` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapRequest {
    /// The signer.
    pub user_public_key: String,
    /// The quote, echoed.
    pub quote_response: QuoteResponse,
    /// A custom fee payer.
    #[serde(default)]
    pub payer: Option<String>,
    /// Wrap and unwrap SOL (default true; the simulator trades WSOL as a token either way).
    #[serde(default)]
    pub wrap_and_unwrap_sol: Option<bool>,
    /// Shared intermediate accounts.
    #[serde(default)]
    pub use_shared_accounts: Option<bool>,
    /// Platform fee account.
    #[serde(default)]
    pub fee_account: Option<String>,
    /// Analytics key.
    #[serde(default)]
    pub tracking_account: Option<String>,
    /// Priority fee.
    #[serde(default)]
    pub prioritization_fee_lamports: Option<PrioritizationFee>,
    /// Legacy transaction (`/swap`).
    #[serde(default)]
    pub as_legacy_transaction: Option<bool>,
    /// Output token account.
    #[serde(default)]
    pub destination_token_account: Option<String>,
    /// Native SOL destination.
    #[serde(default)]
    pub native_destination_account: Option<String>,
    /// A simulated compute-unit limit.
    #[serde(default)]
    pub dynamic_compute_unit_limit: Option<bool>,
    /// Skip account lookups.
    #[serde(default)]
    pub skip_user_accounts_rpc_calls: Option<bool>,
    /// Unmaintained.
    #[serde(default)]
    pub dynamic_slippage: Option<bool>,
    /// An exact compute-unit price.
    #[serde(default)]
    pub compute_unit_price_micro_lamports: Option<u64>,
    /// Validity window in slots.
    #[serde(default)]
    pub blockhash_slots_to_expiry: Option<u8>,
}

/// A blockhash as Jupiter writes it: 32 bytes as a JSON array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockhashWithMetadata {
    /// The hash's bytes.
    pub blockhash: [u8; 32],
    /// The last block height it is valid at.
    pub last_valid_block_height: u64,
}

/// The `POST /swap-instructions` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapInstructionsResponse {
    /// Compute-unit limit, then price when one was asked for.
    pub compute_budget_instructions: Vec<WireInstruction>,
    /// Account creation.
    pub setup_instructions: Vec<WireInstruction>,
    /// The route's first swap.
    pub swap_instruction: WireInstruction,
    /// Unwrapping (`null`: the simulator trades WSOL as a token).
    pub cleanup_instruction: Option<WireInstruction>,
    /// The route's further swaps, in order, then any Jito tip.
    pub other_instructions: Vec<WireInstruction>,
    /// Lookup tables the transaction should use.
    pub address_lookup_table_addresses: Vec<String>,
    /// Priority fee plus tip.
    pub prioritization_fee_lamports: u64,
    /// The compute-unit limit set.
    pub compute_unit_limit: u32,
    /// The blockhash to sign with.
    pub blockhash_with_metadata: BlockhashWithMetadata,
}

/// The `POST /swap` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapResponse {
    /// Base64 of an unsigned versioned transaction.
    pub swap_transaction: String,
    /// The last block height its blockhash is valid at.
    pub last_valid_block_height: u64,
    /// Priority fee plus tip.
    pub prioritization_fee_lamports: u64,
    /// The compute-unit limit set.
    pub compute_unit_limit: u32,
    /// The lookup tables the transaction uses and what they hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses_by_lookup_table_address: Option<BTreeMap<String, Vec<String>>>,
}

/// An error body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The message.
    pub error: String,
    /// A machine-readable code (`COULD_NOT_FIND_ANY_ROUTE`, ...).
    pub error_code: String,
}
