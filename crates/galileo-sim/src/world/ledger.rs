//! The chain as the quoting services see it.

use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use tokio::time::Instant;

use crate::chain::SharedChain;
use crate::titan::{RouteError, RouteInstructions};

/// A handle onto the shared chain for the services that quote: Titan's [`RouteInstructions`]
/// and the HTTP aggregators' ledger. Swap instructions are the chain's venue program, so a
/// quoted route really executes; the lookup table is the chain's, so the RPC serves it.
#[derive(Clone, Debug)]
pub struct ChainLedger {
    chain: SharedChain,
}

impl ChainLedger {
    /// A ledger over `chain`.
    pub fn new(chain: SharedChain) -> Self {
        ChainLedger { chain }
    }

    /// The chain.
    pub fn chain(&self) -> &SharedChain {
        &self.chain
    }
}

impl RouteInstructions for ChainLedger {
    fn swap_instructions(
        &self,
        user: &Pubkey,
        venue: &str,
        input_mint: &Pubkey,
        output_mint: &Pubkey,
        in_amount: u64,
        out_amount: u64,
    ) -> Result<Vec<Instruction>, RouteError> {
        self.chain
            .lock()
            .swap_instructions(user, venue, input_mint, output_mint, in_amount, out_amount)
            .map_err(|e| RouteError(e.to_string()))
    }

    fn lookup_tables(&self) -> Vec<Pubkey> {
        vec![self.chain.lock().lookup_table()]
    }

    fn slot(&self, now: Instant) -> u64 {
        self.chain.lock().slot(now)
    }
}
