//! Jupiter Ultra on the wire, from `spec/ultra.md`.

use serde::{Deserialize, Serialize};

use crate::aggregators::wire::{opt_u64_string, u64_string};

/// The `GET /order` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    /// Free text (`"ultra"`).
    pub mode: String,
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
    /// The minimum output after slippage.
    #[serde(with = "u64_string")]
    pub other_amount_threshold: u64,
    /// `ExactIn`.
    pub swap_mode: String,
    /// The slippage.
    pub slippage_bps: u16,
    /// USD value of the input.
    pub in_usd_value: f64,
    /// USD value of the output.
    pub out_usd_value: f64,
    /// USD value of the swap.
    pub swap_usd_value: f64,
    /// Price impact as a (negative) fraction.
    pub price_impact: f64,
    /// The same as a decimal string (deprecated).
    pub price_impact_pct: String,
    /// The route.
    pub route_plan: Vec<RoutePlanStep>,
    /// The fee's mint.
    pub fee_mint: Option<String>,
    /// Ultra's fee.
    pub fee_bps: u16,
    /// Base fee the taker pays.
    pub signature_fee_lamports: u64,
    /// Priority fee plus Jito tip in the transaction.
    pub prioritization_fee_lamports: u64,
    /// Rent of the accounts the transaction creates.
    pub rent_fee_lamports: u64,
    /// Deprecated alias of `router`.
    pub swap_type: String,
    /// The router that won.
    pub router: String,
    /// Base64 unsigned transaction; `null` without taker; `""` with an `errorCode`.
    pub transaction: Option<String>,
    /// Whether Jupiter pays the fees.
    pub gasless: bool,
    /// Names the order in `/execute`.
    pub request_id: String,
    /// Milliseconds the order took.
    pub total_time: u64,
    /// The taker.
    pub taker: Option<String>,
    /// When the order expires, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_at: Option<String>,
    /// 1–3 when no transaction could be made for the taker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u8>,
    /// Why (display only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// One step of a route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePlanStep {
    /// The swap.
    pub swap_info: SwapInfo,
    /// Share of the input (may be fractional).
    pub percent: f64,
    /// Share in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bps: Option<u16>,
}

/// One swap of a route (every member required).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapInfo {
    /// The pool.
    pub amm_key: String,
    /// The venue.
    pub label: String,
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
    /// Its mint.
    pub fee_mint: String,
}

/// The `POST /execute` body (both fields required; their absence has its own code).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteRequest {
    /// Base64 of the signed transaction.
    #[serde(default)]
    pub signed_transaction: Option<String>,
    /// From `/order`.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// `Success` or `Failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecuteStatus {
    /// Landed and succeeded.
    Success,
    /// Did not land, or failed.
    Failed,
}

/// The `POST /execute` answer (`200`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteResponse {
    /// The outcome.
    pub status: ExecuteStatus,
    /// `0` on success (configurable), Ultra's negative codes or a program's error code.
    pub code: i64,
    /// The transaction's signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The slot it landed in, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Total input.
    #[serde(
        default,
        with = "opt_u64_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_input_amount: Option<u64>,
    /// Total output.
    #[serde(
        default,
        with = "opt_u64_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_output_amount: Option<u64>,
    /// Input swapped.
    #[serde(
        default,
        with = "opt_u64_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub input_amount_result: Option<u64>,
    /// Output received.
    #[serde(
        default,
        with = "opt_u64_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_amount_result: Option<u64>,
    /// Each swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_events: Option<Vec<SwapEvent>>,
}

/// One swap of an executed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapEvent {
    /// Sold.
    pub input_mint: String,
    /// Raw input.
    #[serde(with = "u64_string")]
    pub input_amount: u64,
    /// Bought.
    pub output_mint: String,
    /// Raw output.
    #[serde(with = "u64_string")]
    pub output_amount: u64,
}

/// An error body: `{"error"}` for `/order`, `{"error", "code"}` for `/execute`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The message.
    pub error: String,
    /// Ultra's code (`/execute` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
}
