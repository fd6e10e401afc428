//! [`SwapInstructions`]: what Jupiter's and DFlow's `/swap-instructions` answer, in one shape.

use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

use crate::wire::BlockhashMeta;

/// The instructions that execute a quote, grouped as the providers group them.
///
/// Jupiter's singular `cleanupInstruction` and the plural `cleanupInstructions` (DFlow's, and
/// what the reference client read from Jupiter) both land in
/// [`cleanup_instructions`](Self::cleanup_instructions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapInstructions {
    /// Compute-unit limit and price (`ComputeBudget111…`).
    pub compute_budget_instructions: Vec<Instruction>,
    /// Account creation, SOL wrapping.
    pub setup_instructions: Vec<Instruction>,
    /// The route.
    pub swap_instruction: Instruction,
    /// SOL unwrapping and the like.
    pub cleanup_instructions: Vec<Instruction>,
    /// Anything else the provider adds (further route legs, a Jito tip).
    pub other_instructions: Vec<Instruction>,
    /// Address lookup tables the transaction should use (v0).
    pub address_lookup_table_addresses: Vec<Pubkey>,
    /// The compute-unit limit the provider set or simulated (DFlow always says; Jupiter may
    /// not, in which case the reference client assumed 200 000).
    pub compute_unit_limit: Option<u32>,
    /// The priority fee (plus tip) in lamports, when the provider says.
    pub prioritization_fee_lamports: Option<u64>,
    /// A blockhash the provider suggests signing with (DFlow always gives one).
    pub blockhash: Option<BlockhashMeta>,
}

impl SwapInstructions {
    /// Every instruction in execution order: compute budget, setup, swap, other, cleanup.
    ///
    /// ```
    /// use galileo_quote::SwapInstructions;
    /// use solana_instruction::Instruction;
    /// use solana_pubkey::Pubkey;
    ///
    /// let ix = |tag: u8| Instruction::new_with_bytes(Pubkey::default(), &[tag], vec![]);
    /// let set = SwapInstructions {
    ///     compute_budget_instructions: vec![ix(0)],
    ///     setup_instructions: vec![ix(1)],
    ///     swap_instruction: ix(2),
    ///     cleanup_instructions: vec![ix(4)],
    ///     other_instructions: vec![ix(3)],
    ///     address_lookup_table_addresses: vec![],
    ///     compute_unit_limit: None,
    ///     prioritization_fee_lamports: None,
    ///     blockhash: None,
    /// };
    /// let order: Vec<u8> = set.flatten().iter().map(|i| i.data[0]).collect();
    /// assert_eq!(order, [0, 1, 2, 3, 4]);
    /// ```
    pub fn flatten(&self) -> Vec<Instruction> {
        let mut all = Vec::with_capacity(self.len());
        all.extend_from_slice(&self.compute_budget_instructions);
        all.extend_from_slice(&self.setup_instructions);
        all.push(self.swap_instruction.clone());
        all.extend_from_slice(&self.other_instructions);
        all.extend_from_slice(&self.cleanup_instructions);
        all
    }

    /// How many instructions [`flatten`](Self::flatten) returns.
    pub fn len(&self) -> usize {
        self.compute_budget_instructions.len()
            + self.setup_instructions.len()
            + 1
            + self.other_instructions.len()
            + self.cleanup_instructions.len()
    }

    /// Never empty: there is always the swap instruction.
    pub fn is_empty(&self) -> bool {
        false
    }
}
