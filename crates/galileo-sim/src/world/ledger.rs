//! The chain as the quoting services see it.

use std::net::IpAddr;

use solana_instruction::Instruction;
use solana_instruction::error::InstructionError;
use solana_pubkey::Pubkey;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use tokio::time::Instant;

use crate::aggregators::{
    BlockhashInfo, ExecutionFailure, Landed, Ledger, LedgerError, LookupTable, SwapLeg,
};
use crate::chain::{Commitment, Origin, SharedChain, SubmitOutcome, Via};
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

impl Ledger for ChainLedger {
    fn swap_instructions(
        &self,
        user: &Pubkey,
        leg: &SwapLeg,
    ) -> Result<Vec<Instruction>, LedgerError> {
        self.chain
            .lock()
            .swap_instructions(
                user,
                &leg.venue,
                &leg.input_mint,
                &leg.output_mint,
                leg.in_amount,
                leg.out_amount,
            )
            .map_err(|e| LedgerError::Invalid(e.to_string()))
    }

    /// The confirmed blockhash, as aggregators fetch theirs.
    fn latest_blockhash(&self, now: Instant) -> BlockhashInfo {
        let b = self
            .chain
            .lock()
            .latest_blockhash(now, Commitment::Confirmed);
        BlockhashInfo {
            blockhash: b.blockhash,
            last_valid_block_height: b.last_valid_block_height,
            slot: b.slot,
        }
    }

    fn slot(&self, now: Instant) -> u64 {
        self.chain.lock().slot(now)
    }

    fn lookup_tables(&self) -> Vec<LookupTable> {
        let chain = self.chain.lock();
        vec![LookupTable {
            key: chain.lookup_table(),
            addresses: chain.lookup_table_addresses().to_vec(),
        }]
    }

    fn tip_accounts(&self) -> Vec<Pubkey> {
        self.chain.lock().tip_accounts().to_vec()
    }

    fn submit(
        &self,
        tx: VersionedTransaction,
        origin: IpAddr,
        now: Instant,
    ) -> Result<Landed, LedgerError> {
        let signature = tx.signatures.first().copied().unwrap_or_default();
        let origin = Origin {
            peer: Some(origin),
            via: Via::Aggregator,
        };
        match self.chain.lock().submit(now, tx, origin) {
            SubmitOutcome::Landed { slot, err } => Ok(Landed {
                signature,
                slot,
                failure: err.map(failure),
            }),
            SubmitOutcome::Dropped(e) => Err(match e {
                TransactionError::BlockhashNotFound => LedgerError::BlockhashNotFound,
                TransactionError::AlreadyProcessed => LedgerError::AlreadyProcessed,
                TransactionError::SignatureFailure => LedgerError::SignatureFailure,
                other => LedgerError::Rejected(other.to_string()),
            }),
        }
    }
}

/// A landed transaction's error as the validator words it.
fn failure(err: TransactionError) -> ExecutionFailure {
    let custom_code = match &err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
        _ => None,
    };
    let message = match &err {
        TransactionError::InstructionError(_, ie) => ie.to_string(),
        other => other.to_string(),
    };
    ExecutionFailure {
        message,
        custom_code,
    }
}
