//! `POST /swap-instructions`: the request body (spec §4.1) and the answer (§4.2).

use serde::{Deserialize, Serialize};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

use super::DflowQuote;
use crate::SwapInstructions;
use crate::wire::{self, BlockhashMeta};

/// The body; `None`s are left out (the reference client strips nulls).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SwapBody<'a> {
    pub(crate) quote_response: &'a DflowQuote,
    #[serde(with = "wire::pubkey")]
    pub(crate) user_public_key: Pubkey,
    pub(crate) wrap_and_unwrap_sol: bool,
    pub(crate) dynamic_compute_unit_limit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) compute_unit_price_micro_lamports: Option<u64>,
}

/// The answer as sent: `swapInstruction`, `blockhashWithMetadata` and `computeUnitLimit`
/// required (the reference parser fails without them), the lists optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstructionsAnswer {
    #[serde(with = "wire::instruction")]
    swap_instruction: Instruction,
    blockhash_with_metadata: BlockhashMeta,
    compute_unit_limit: u32,
    #[serde(default, with = "opt_list")]
    compute_budget_instructions: Vec<Instruction>,
    #[serde(default, with = "opt_list")]
    setup_instructions: Vec<Instruction>,
    #[serde(default, with = "opt_list")]
    cleanup_instructions: Vec<Instruction>,
    #[serde(default, with = "opt_list")]
    other_instructions: Vec<Instruction>,
    #[serde(default, with = "opt_keys")]
    address_lookup_table_addresses: Vec<Pubkey>,
    #[serde(default)]
    prioritization_fee_lamports: Option<u64>,
}

/// A list that may also be `null`.
mod opt_list {
    use serde::{Deserialize, Deserializer};
    use solana_instruction::Instruction;

    #[derive(Deserialize)]
    struct List(#[serde(with = "crate::wire::instruction::vec")] Vec<Instruction>);

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Instruction>, D::Error> {
        Ok(Option::<List>::deserialize(d)?
            .map(|l| l.0)
            .unwrap_or_default())
    }
}

/// A key list that may also be `null`.
mod opt_keys {
    use serde::{Deserialize, Deserializer};
    use solana_pubkey::Pubkey;

    #[derive(Deserialize)]
    struct List(#[serde(with = "crate::wire::pubkey::vec")] Vec<Pubkey>);

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pubkey>, D::Error> {
        Ok(Option::<List>::deserialize(d)?
            .map(|l| l.0)
            .unwrap_or_default())
    }
}

impl From<InstructionsAnswer> for SwapInstructions {
    fn from(a: InstructionsAnswer) -> Self {
        SwapInstructions {
            compute_budget_instructions: a.compute_budget_instructions,
            setup_instructions: a.setup_instructions,
            swap_instruction: a.swap_instruction,
            cleanup_instructions: a.cleanup_instructions,
            other_instructions: a.other_instructions,
            address_lookup_table_addresses: a.address_lookup_table_addresses,
            compute_unit_limit: Some(a.compute_unit_limit),
            prioritization_fee_lamports: a.prioritization_fee_lamports,
            blockhash: Some(a.blockhash_with_metadata),
        }
    }
}
