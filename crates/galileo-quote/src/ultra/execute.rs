//! `POST /execute`: the request body and the answer (spec §3).

use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

use crate::wire;

/// The body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecuteBody<'a> {
    pub(crate) signed_transaction: String,
    pub(crate) request_id: &'a str,
}

/// `Success` or `Failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExecuteStatus {
    /// Landed and succeeded.
    Success,
    /// Failed (landed and failed, dropped, expired, ...); see `code` and `error`.
    Failed,
}

/// One swap of an executed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltraSwapEvent {
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// Raw input.
    #[serde(with = "wire::amount")]
    pub input_amount: u64,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Raw output.
    #[serde(with = "wire::amount")]
    pub output_amount: u64,
}

/// `/execute`'s answer. A `Failed` status is an answer, not an error: look at `code` and
/// `error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltraExecution {
    /// The outcome.
    pub status: ExecuteStatus,
    /// Ultra's result code (its catalogue is not documented).
    pub code: i64,
    /// The transaction's signature.
    #[serde(default)]
    pub signature: Option<String>,
    /// The slot it landed in.
    #[serde(default, with = "wire::amount::opt")]
    pub slot: Option<u64>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Total input.
    #[serde(default, with = "wire::amount::opt")]
    pub total_input_amount: Option<u64>,
    /// Total output.
    #[serde(default, with = "wire::amount::opt")]
    pub total_output_amount: Option<u64>,
    /// Input swapped.
    #[serde(default, with = "wire::amount::opt")]
    pub input_amount_result: Option<u64>,
    /// Output received.
    #[serde(default, with = "wire::amount::opt")]
    pub output_amount_result: Option<u64>,
    /// Each swap.
    #[serde(default)]
    pub swap_events: Option<Vec<UltraSwapEvent>>,
}

impl UltraExecution {
    /// `status` is `Success`.
    pub fn is_success(&self) -> bool {
        self.status == ExecuteStatus::Success
    }
}
