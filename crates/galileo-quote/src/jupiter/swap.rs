//! `POST /swap-instructions` and `POST /swap`: the request body (spec §3.1) and the answers
//! (§3.4, §4).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

use super::JupiterQuote;
use crate::SwapInstructions;
use crate::wire::{self, BlockhashMeta, HashValue};

/// The body of both calls; `None`s are left out (the reference client strips nulls).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SwapBody<'a> {
    pub(crate) quote_response: &'a JupiterQuote,
    #[serde(with = "wire::pubkey")]
    pub(crate) user_public_key: Pubkey,
    pub(crate) wrap_and_unwrap_sol: bool,
    pub(crate) dynamic_compute_unit_limit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) compute_unit_price_micro_lamports: Option<u64>,
}

/// `/swap-instructions`' answer as sent; required members per the official schema.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstructionsAnswer {
    #[serde(with = "wire::instruction::vec")]
    compute_budget_instructions: Vec<Instruction>,
    #[serde(with = "wire::instruction::vec")]
    setup_instructions: Vec<Instruction>,
    #[serde(with = "wire::instruction")]
    swap_instruction: Instruction,
    #[serde(default, with = "wire::instruction::opt")]
    cleanup_instruction: Option<Instruction>,
    #[serde(default, with = "opt_vec")]
    cleanup_instructions: Option<Vec<Instruction>>,
    #[serde(with = "wire::instruction::vec")]
    other_instructions: Vec<Instruction>,
    #[serde(with = "wire::pubkey::vec")]
    address_lookup_table_addresses: Vec<Pubkey>,
    #[serde(default)]
    prioritization_fee_lamports: Option<u64>,
    #[serde(default)]
    compute_unit_limit: Option<u32>,
    #[serde(default)]
    blockhash_with_expiry_block_height: Option<BlockhashMeta>,
    #[serde(default)]
    blockhash_with_metadata: Option<BlockhashMeta>,
    #[serde(default)]
    recent_blockhash: Option<HashValue>,
    #[serde(default)]
    last_valid_block_height: Option<u64>,
}

/// `null` or a list of instructions.
mod opt_vec {
    use serde::{Deserialize, Deserializer};
    use solana_instruction::Instruction;

    #[derive(Deserialize)]
    struct List(#[serde(with = "crate::wire::instruction::vec")] Vec<Instruction>);

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<Instruction>>, D::Error> {
        Ok(Option::<List>::deserialize(d)?.map(|l| l.0))
    }
}

impl From<InstructionsAnswer> for SwapInstructions {
    fn from(a: InstructionsAnswer) -> Self {
        // Singular (official) then plural (what the reference client read).
        let mut cleanup: Vec<Instruction> = a.cleanup_instruction.into_iter().collect();
        cleanup.extend(a.cleanup_instructions.unwrap_or_default());
        // Priority order of the spec: blockhashWithExpiryBlockHeight, blockhashWithMetadata,
        // then top-level recentBlockhash + lastValidBlockHeight.
        let top_level = match (a.recent_blockhash, a.last_valid_block_height) {
            (Some(hash), Some(height)) => Some(BlockhashMeta {
                blockhash: hash.0,
                last_valid_block_height: height,
            }),
            _ => None,
        };
        SwapInstructions {
            compute_budget_instructions: a.compute_budget_instructions,
            setup_instructions: a.setup_instructions,
            swap_instruction: a.swap_instruction,
            cleanup_instructions: cleanup,
            other_instructions: a.other_instructions,
            address_lookup_table_addresses: a.address_lookup_table_addresses,
            compute_unit_limit: a.compute_unit_limit,
            prioritization_fee_lamports: a.prioritization_fee_lamports,
            blockhash: a
                .blockhash_with_expiry_block_height
                .or(a.blockhash_with_metadata)
                .or(top_level),
        }
    }
}

/// `/swap`'s answer: an unsigned transaction and what the provider says about it.
#[derive(Clone, PartialEq, Eq)]
pub struct JupiterSwap {
    /// An unsigned bincode `VersionedTransaction` (Solana wire bytes), base64-decoded.
    pub transaction: Vec<u8>,
    /// The last block height at which it lands.
    pub last_valid_block_height: u64,
    /// Priority fee (plus tip), when given.
    pub prioritization_fee_lamports: Option<u64>,
    /// The compute-unit limit, when given.
    pub compute_unit_limit: Option<u32>,
    /// The addresses of each lookup table the transaction uses, when given (saves an RPC
    /// round trip to expand them).
    pub addresses_by_lookup_table_address: Option<BTreeMap<Pubkey, Vec<Pubkey>>>,
}

impl std::fmt::Debug for JupiterSwap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JupiterSwap")
            .field(
                "transaction",
                &format_args!("{} bytes", self.transaction.len()),
            )
            .field("last_valid_block_height", &self.last_valid_block_height)
            .field(
                "prioritization_fee_lamports",
                &self.prioritization_fee_lamports,
            )
            .field("compute_unit_limit", &self.compute_unit_limit)
            .field(
                "lookup_tables",
                &self
                    .addresses_by_lookup_table_address
                    .as_ref()
                    .map(BTreeMap::len),
            )
            .finish()
    }
}

/// `/swap`'s answer as sent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SwapAnswer {
    #[serde(deserialize_with = "base64_bytes")]
    swap_transaction: Vec<u8>,
    last_valid_block_height: u64,
    #[serde(default)]
    prioritization_fee_lamports: Option<u64>,
    #[serde(default)]
    compute_unit_limit: Option<u32>,
    #[serde(default)]
    addresses_by_lookup_table_address: Option<BTreeMap<String, Vec<String>>>,
}

fn base64_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(serde::de::Error::custom("swapTransaction is empty"));
    }
    STANDARD
        .decode(s.as_bytes())
        .map_err(|e| serde::de::Error::custom(format!("swapTransaction is not base64: {e}")))
}

impl SwapAnswer {
    pub(crate) fn into_swap(self) -> Result<JupiterSwap, String> {
        let tables = match self.addresses_by_lookup_table_address {
            None => None,
            Some(map) => {
                let mut out = BTreeMap::new();
                for (table, addresses) in map {
                    let keys = addresses
                        .iter()
                        .map(|a| wire::pubkey::parse(a))
                        .collect::<Result<Vec<_>, _>>()?;
                    out.insert(wire::pubkey::parse(&table)?, keys);
                }
                Some(out)
            }
        };
        Ok(JupiterSwap {
            transaction: self.swap_transaction,
            last_valid_block_height: self.last_valid_block_height,
            prioritization_fee_lamports: self.prioritization_fee_lamports,
            compute_unit_limit: self.compute_unit_limit,
            addresses_by_lookup_table_address: tables,
        })
    }
}
