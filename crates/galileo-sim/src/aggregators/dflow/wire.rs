//! DFlow on the wire, from `spec/dflow.md` (close to Jupiter's, not identical: another route
//! shape, `{code, msg}` errors, mandatory `blockhashWithMetadata` and `computeUnitLimit`).

use serde::{Deserialize, Serialize};

use crate::aggregators::wire::{Nullable, WireInstruction, u64_string};

/// The `GET /quote` answer, also echoed in `/swap-instructions`. Besides the spec's fields it
/// reads the open-transaction variant (`feeBudget`, `openTransaction`, `lastValidBlockHeight`,
/// `expiry`); what is absent stays absent and a `null` stays `null` when written back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteResponse {
    /// The slot the quote was computed at (always in `/quote` answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
    /// Raw input.
    #[serde(with = "u64_string")]
    pub in_amount: u64,
    /// Sold.
    pub input_mint: String,
    /// The minimum output (same as `otherAmountThreshold`).
    #[serde(with = "u64_string")]
    pub min_out_amount: u64,
    /// The minimum output after fees and slippage.
    #[serde(with = "u64_string")]
    pub other_amount_threshold: u64,
    /// Expected output, fees deducted.
    #[serde(with = "u64_string")]
    pub out_amount: u64,
    /// Bought.
    pub output_mint: String,
    /// Plain decimal fraction.
    pub price_impact_pct: String,
    /// The legs (always in `/quote` answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_plan: Option<Vec<RouteLeg>>,
    /// The slippage.
    pub slippage_bps: u16,
    /// Token-2022 transfer fee of the output.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub out_transfer_fee: Nullable<String>,
    /// The integrator fee.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub platform_fee: Nullable<PlatformFee>,
    /// Names the quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Compute units a simulation used.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub simulated_compute_units: Nullable<u64>,
    /// The open-transaction variant's fee budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_budget: Option<u64>,
    /// The open-transaction variant's transaction (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_transaction: Option<String>,
    /// The open transaction's last valid block height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_valid_block_height: Option<u64>,
    /// The open transaction's expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<Expiry>,
}

/// An open transaction's expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expiry {
    /// Slots it stays valid after opening.
    pub slots_after_open: u64,
}

/// The integrator fee (every member required).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformFee {
    /// Raw amount.
    #[serde(with = "u64_string")]
    pub amount: u64,
    /// Where it goes.
    pub fee_account: String,
    /// Basis points.
    pub fee_bps: u16,
    /// The segmenter's part.
    #[serde(with = "u64_string")]
    pub segmenter_fee_amount: u64,
    /// The segmenter's percentage.
    pub segmenter_fee_pct: u8,
}

/// One leg of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteLeg {
    /// Raw input.
    #[serde(with = "u64_string")]
    pub in_amount: u64,
    /// Sold.
    pub input_mint: String,
    /// Its decimals.
    pub input_mint_decimals: u8,
    /// The pool.
    pub market_key: String,
    /// Raw output.
    #[serde(with = "u64_string")]
    pub out_amount: u64,
    /// Bought.
    pub output_mint: String,
    /// Its decimals.
    pub output_mint_decimals: u8,
    /// The venue's name.
    pub venue: String,
    /// Venue data (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// `prioritizationFeeLamports`: lamports, `"auto"`, `"disabled"`, or a level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PrioritizationFee {
    /// Lamports in total.
    Lamports(u64),
    /// `"auto"` or `"disabled"`.
    Keyword(FeeKeyword),
    /// A priority level.
    Level {
        /// The level and cap.
        #[serde(rename = "priorityLevelWithMaxLamports")]
        priority_level_with_max_lamports: PriorityLevelWithMax,
        /// Multiplier of the automatic estimate.
        #[serde(rename = "autoMultiplier", default)]
        auto_multiplier: Option<u64>,
    },
}

/// `"auto"` or `"disabled"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeeKeyword {
    /// Server-chosen, capped at 0.005 SOL.
    Auto,
    /// No priority fee.
    Disabled,
}

/// `{priorityLevel, maxLamports}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityLevelWithMax {
    /// `medium`, `high` or `veryHigh`.
    pub priority_level: String,
    /// The most to pay.
    pub max_lamports: u64,
}

/// `destinationTokenAccount`: an address or `{associatedTokenAccount: {owner}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DestinationTokenAccount {
    /// A token account.
    Address(String),
    /// The associated token account of an owner.
    Associated {
        /// The owner.
        #[serde(rename = "associatedTokenAccount")]
        associated_token_account: AtaOwner,
    },
}

/// `{owner}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtaOwner {
    /// The owner.
    pub owner: String,
}

/// `{referralAccount}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFeeAccount {
    /// The referral account.
    pub referral_account: String,
}

/// `{limitPct, feeAccount?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositiveSlippage {
    /// Percent kept.
    pub limit_pct: u16,
    /// Where it goes.
    #[serde(default)]
    pub fee_account: Option<String>,
}

/// The `POST /swap-instructions` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapRequest {
    /// The quote, echoed.
    pub quote_response: QuoteResponse,
    /// The signer.
    pub user_public_key: String,
    /// An exact compute-unit price (exclusive with `prioritizationFeeLamports`).
    #[serde(default)]
    pub compute_unit_price_micro_lamports: Option<u64>,
    /// Create a missing fee account.
    #[serde(default)]
    pub create_fee_account: Option<CreateFeeAccount>,
    /// Output account override.
    #[serde(default)]
    pub destination_token_account: Option<DestinationTokenAccount>,
    /// A simulated compute-unit limit.
    #[serde(default)]
    pub dynamic_compute_unit_limit: Option<bool>,
    /// Platform fee account.
    #[serde(default)]
    pub fee_account: Option<String>,
    /// Jito sandwich mitigation.
    #[serde(default)]
    pub include_jito_sandwich_mitigation_account: Option<bool>,
    /// Positive slippage capture.
    #[serde(default)]
    pub positive_slippage: Option<PositiveSlippage>,
    /// Keep the input token account.
    #[serde(default)]
    pub preserve_input_ata: Option<bool>,
    /// Priority fee.
    #[serde(default)]
    pub prioritization_fee_lamports: Option<PrioritizationFee>,
    /// A co-signing fee sponsor.
    #[serde(default)]
    pub sponsor: Option<String>,
    /// Wrap and unwrap SOL.
    #[serde(default)]
    pub wrap_and_unwrap_sol: Option<bool>,
}

/// A blockhash as DFlow writes it (base58).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockhashWithMetadata {
    /// Base58.
    pub blockhash: String,
    /// The last block height it is valid at.
    pub last_valid_block_height: u64,
}

/// How the priority fee is paid (externally tagged, camelCase).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PrioritizationType {
    /// A Jito tip.
    Jito {
        /// Lamports.
        lamports: u64,
    },
    /// A compute-unit price.
    ComputeBudget {
        /// The price set.
        micro_lamports: u64,
        /// The automatic estimate, when one was used.
        estimated_micro_lamports: Option<u64>,
    },
}

/// The `POST /swap-instructions` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapInstructionsResponse {
    /// Lookup tables.
    pub address_lookup_table_addresses: Vec<String>,
    /// The blockhash to sign with.
    pub blockhash_with_metadata: BlockhashWithMetadata,
    /// Compute-unit limit, then price when one was set.
    pub compute_budget_instructions: Vec<WireInstruction>,
    /// The compute-unit limit set.
    pub compute_unit_limit: u32,
    /// Account creation.
    pub setup_instructions: Vec<WireInstruction>,
    /// The route's first swap (data ends in `slippage_bps | platform_fee_bps`).
    pub swap_instruction: WireInstruction,
    /// Nothing to clean up.
    pub cleanup_instructions: Vec<WireInstruction>,
    /// The route's further swaps, in order.
    pub other_instructions: Vec<WireInstruction>,
    /// The priority fee.
    pub prioritization_fee_lamports: u64,
    /// How it is paid.
    pub prioritization_type: Option<PrioritizationType>,
}

/// An error body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A machine-readable code (`failed_to_compute_swap`, `route_not_found`, ...).
    pub code: String,
    /// The message.
    pub msg: String,
}
