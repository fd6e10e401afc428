//! What the aggregator simulators need from the chain, as a trait the chain implements.
//!
//! The aggregators build instructions that must execute on the simulated chain, sign with its
//! blockhashes, name its lookup tables and, for Ultra's `/execute`, land transactions on it.
//! They reach it only through [`Ledger`], so they can be tested with a small fake and wired to
//! the real chain (LiteSVM) by whoever assembles the sandbox.

use std::net::IpAddr;

use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use tokio::time::Instant;

/// One swap of a route, as the ledger is asked to build it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapLeg {
    /// The venue's label (the market's venue name).
    pub venue: String,
    /// The venue's pool for the pair (the quote's `ammKey` / `marketKey`).
    pub pool: Pubkey,
    /// The mint the user pays.
    pub input_mint: Pubkey,
    /// The mint the user receives.
    pub output_mint: Pubkey,
    /// Raw units of `input_mint` the user pays.
    pub in_amount: u64,
    /// Raw units of `output_mint` the user receives.
    pub out_amount: u64,
}

/// A recent blockhash and how long a transaction using it can land.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockhashInfo {
    /// The blockhash.
    pub blockhash: Hash,
    /// The last block height at which a transaction using it can land.
    pub last_valid_block_height: u64,
    /// The slot it was taken at.
    pub slot: u64,
}

/// An address lookup table the ledger serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTable {
    /// The table's address.
    pub key: Pubkey,
    /// What it holds, in order.
    pub addresses: Vec<Pubkey>,
}

/// A transaction the ledger accepted into a block (it may still have failed in execution).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landed {
    /// Its first signature.
    pub signature: Signature,
    /// The slot it landed in.
    pub slot: u64,
    /// Why it failed, if it did (it landed and paid its fee anyway).
    pub failure: Option<ExecutionFailure>,
}

/// Why a landed transaction failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionFailure {
    /// The error as the validator words it (`"custom program error: 0x1771"`, ...).
    pub message: String,
    /// A program's custom error code, when that is the cause.
    pub custom_code: Option<u32>,
}

/// Why the ledger refused something.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The request names something the chain does not have (an unknown venue, mint or
    /// account): the client's mistake.
    #[error("{0}")]
    Invalid(String),
    /// The transaction's blockhash is unknown or expired.
    #[error("blockhash not found")]
    BlockhashNotFound,
    /// The transaction (its signature) was processed already.
    #[error("this transaction has already been processed")]
    AlreadyProcessed,
    /// A signature is missing or does not verify.
    #[error("transaction signature verification failure")]
    SignatureFailure,
    /// Dropped before execution for another reason (the fee payer cannot pay, ...).
    #[error("transaction rejected: {0}")]
    Rejected(String),
    /// The chain could not do it (a bug or an unavailable chain): the server's problem.
    #[error("ledger unavailable: {0}")]
    Unavailable(String),
}

/// The simulated chain, as the aggregator services see it.
///
/// Implementations are cheap handles (`Clone`) onto one shared chain; every method is called
/// with the request's arrival time and must not block for long (lock, read or execute, return).
/// The aggregators never report trades to the market: a ledger that lands swaps is where the
/// market learns about them (`Market::record_trade`), whichever service sent them.
pub trait Ledger: Clone + Send + Sync + 'static {
    /// The instructions of one swap by `user`: any setup first (e.g. an idempotent creation of
    /// the user's output token account; it may run before every swap of a route), the swap
    /// instruction last. The swap instruction has `user` as a signer and data of at least 12
    /// bytes ending in `slippage_bps: u16 LE | platform_fee_bps: u16 LE` (the services write
    /// those four bytes).
    fn swap_instructions(
        &self,
        user: &Pubkey,
        leg: &SwapLeg,
    ) -> Result<Vec<Instruction>, LedgerError>;

    /// The latest blockhash at `now`.
    fn latest_blockhash(&self, now: Instant) -> BlockhashInfo;

    /// The current slot at `now` (a quote's `contextSlot`).
    fn slot(&self, now: Instant) -> u64;

    /// The lookup tables swap transactions may use (the RPC serves them).
    fn lookup_tables(&self) -> Vec<LookupTable>;

    /// Accounts a Jito tip may be paid to.
    fn tip_accounts(&self) -> Vec<Pubkey>;

    /// Lands a signed transaction sent by `origin` at `now`, or says why it was dropped.
    fn submit(
        &self,
        tx: VersionedTransaction,
        origin: IpAddr,
        now: Instant,
    ) -> Result<Landed, LedgerError>;
}
