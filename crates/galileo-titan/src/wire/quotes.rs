//! The stream payload: quotes per provider, each with its route and instructions (spec §5.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use solana_instruction::{AccountMeta as SolanaAccountMeta, Instruction as SolanaInstruction};
use solana_pubkey::Pubkey;

use super::key;

/// `ExactIn` or `ExactOut` (a unit enum: its name as a string).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SwapMode {
    /// `amount` is the input.
    #[default]
    ExactIn,
    /// `amount` is the output.
    ExactOut,
}

/// One update of a swap stream: the route of each provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapQuotes {
    /// The quote id (`swap:<stream>:<seq>`).
    pub id: String,
    /// The token sold.
    #[serde(with = "key")]
    pub input_mint: Pubkey,
    /// The token bought.
    #[serde(with = "key")]
    pub output_mint: Pubkey,
    /// The mode.
    pub swap_mode: SwapMode,
    /// The amount of the request.
    pub amount: u64,
    /// Routes by provider id (`Titan`, `Metis`, `Okx`, ...). May be empty.
    pub quotes: BTreeMap<String, SwapRoute>,
}

impl SwapQuotes {
    /// The provider and route with the largest `outAmount` (ties: the first by provider id).
    pub fn best(&self) -> Option<(&str, &SwapRoute)> {
        self.quotes
            .iter()
            .fold(
                None,
                |best: Option<(&String, &SwapRoute)>, (p, r)| match best {
                    Some((_, b)) if b.out_amount >= r.out_amount => best,
                    _ => Some((p, r)),
                },
            )
            .map(|(p, r)| (p.as_str(), r))
    }
}

/// One provider's route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapRoute {
    /// Raw units in.
    pub in_amount: u64,
    /// Raw units out.
    pub out_amount: u64,
    /// The slippage applied.
    pub slippage_bps: u16,
    /// The platform fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_fee: Option<PlatformFee>,
    /// The route's steps, topologically ordered.
    #[serde(default)]
    pub steps: Vec<RoutePlanStep>,
    /// The instructions that execute the route.
    #[serde(default)]
    pub instructions: Vec<Instruction>,
    /// Lookup tables the instructions need.
    #[serde(default, with = "key::vec")]
    pub address_lookup_tables: Vec<Pubkey>,
    /// The slot it was priced at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
    /// How long the provider took, in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_taken_ns: Option<u64>,
    /// When the quote expires (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// The last slot the quote is good for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_slot: Option<u64>,
    /// Compute units, estimated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_units: Option<u64>,
    /// The compute-unit limit recommended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_units_safe: Option<u64>,
    /// A whole transaction, when the provider gives no instruction list.
    #[serde(default, with = "serde_bytes", skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Vec<u8>>,
    /// The RFQ provider's reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
}

/// A platform fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformFee {
    /// Raw units.
    pub amount: u64,
    /// Basis points.
    pub fee_bps: u16,
}

/// One step of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePlanStep {
    /// The pool.
    #[serde(with = "key")]
    pub amm_key: Pubkey,
    /// The venue label.
    pub label: String,
    /// The token sold.
    #[serde(with = "key")]
    pub input_mint: Pubkey,
    /// The token bought.
    #[serde(with = "key")]
    pub output_mint: Pubkey,
    /// Raw units in.
    pub in_amount: u64,
    /// Raw units out.
    pub out_amount: u64,
    /// Its share of the flow, in parts per billion.
    pub alloc_ppb: u32,
    /// The fee's mint.
    #[serde(default, with = "key::option", skip_serializing_if = "Option::is_none")]
    pub fee_mint: Option<Pubkey>,
    /// The fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_amount: Option<u64>,
    /// The slot it was priced at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
}

/// A Solana instruction in its compact wire form `{ p, a, d }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    /// The program.
    #[serde(rename = "p", with = "key")]
    pub program_id: Pubkey,
    /// The accounts.
    #[serde(rename = "a")]
    pub accounts: Vec<AccountMeta>,
    /// The data (`bin`; an int array is accepted too).
    #[serde(rename = "d", with = "serde_bytes")]
    pub data: Vec<u8>,
}

/// An account of an instruction, `{ p, s, w }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMeta {
    /// The account.
    #[serde(rename = "p", with = "key")]
    pub pubkey: Pubkey,
    /// It signs.
    #[serde(rename = "s")]
    pub is_signer: bool,
    /// It is written.
    #[serde(rename = "w")]
    pub is_writable: bool,
}

impl From<&Instruction> for SolanaInstruction {
    fn from(ix: &Instruction) -> Self {
        SolanaInstruction {
            program_id: ix.program_id,
            accounts: ix
                .accounts
                .iter()
                .map(|a| SolanaAccountMeta {
                    pubkey: a.pubkey,
                    is_signer: a.is_signer,
                    is_writable: a.is_writable,
                })
                .collect(),
            data: ix.data.clone(),
        }
    }
}
