//! What the chain remembers of every landed transaction, for statuses, `getTransaction` and
//! test assertions.

use std::net::IpAddr;

use solana_message::compiled_instruction::CompiledInstruction;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// The compute budget program.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey =
    Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");

/// The system program.
pub const SYSTEM_PROGRAM: Pubkey = Pubkey::from_str_const("11111111111111111111111111111111");

/// How a transaction reached the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// JSON-RPC `sendTransaction`.
    Rpc,
    /// A Jito bundle.
    JitoBundle {
        /// The bundle id.
        bundle_id: String,
    },
    /// Jito's `sendTransaction` (not bundle-only).
    JitoTransaction,
    /// An aggregator's execute endpoint (Ultra's `/execute`).
    Aggregator,
    /// Submitted by code, not by a service.
    Direct,
}

/// Who sent a transaction and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The TCP peer's IP, if it came over the network.
    pub peer: Option<IpAddr>,
    /// The path.
    pub via: Via,
}

impl Origin {
    /// Submitted by code.
    pub fn direct() -> Self {
        Origin {
            peer: None,
            via: Via::Direct,
        }
    }
}

/// One instruction with its accounts resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedInstruction {
    /// The program.
    pub program_id: Pubkey,
    /// Its accounts, in order.
    pub accounts: Vec<Pubkey>,
    /// Its data.
    pub data: Vec<u8>,
}

/// A lamport transfer to a tip account (top level or by CPI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipTransfer {
    /// The payer.
    pub from: Pubkey,
    /// The tip account.
    pub to: Pubkey,
    /// The amount.
    pub lamports: u64,
}

/// A token balance before or after a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBalance {
    /// Index of the token account in the transaction's account keys.
    pub account_index: u8,
    /// The mint.
    pub mint: Pubkey,
    /// The token account's owner.
    pub owner: Pubkey,
    /// The raw amount.
    pub amount: u64,
    /// The mint's decimals.
    pub decimals: u8,
}

/// An instruction a program invoked (CPI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InnerInstruction {
    /// The instruction, indexes into the transaction's account keys.
    pub instruction: CompiledInstruction,
    /// Its invocation depth (2 for a CPI of a top-level instruction).
    pub stack_height: u32,
}

/// The inner instructions of one top-level instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InnerInstructions {
    /// Index of the top-level instruction.
    pub index: u8,
    /// What it invoked, in order.
    pub instructions: Vec<InnerInstruction>,
}

/// A landed transaction (succeeded, or failed but included and charged its fee).
#[derive(Clone, Debug, PartialEq)]
pub struct LandedTransaction {
    /// Its first signature.
    pub signature: Signature,
    /// The slot it landed in.
    pub slot: u64,
    /// Unix time of that slot.
    pub block_time: i64,
    /// Who sent it and how.
    pub origin: Origin,
    /// The transaction as received.
    pub transaction: VersionedTransaction,
    /// All account keys: static, then loaded writable, then loaded readonly.
    pub account_keys: Vec<Pubkey>,
    /// Keys loaded from lookup tables as writable.
    pub loaded_writable: Vec<Pubkey>,
    /// Keys loaded from lookup tables as readonly.
    pub loaded_readonly: Vec<Pubkey>,
    /// The top-level instructions, resolved.
    pub instructions: Vec<DecodedInstruction>,
    /// `SetComputeUnitLimit`, if present.
    pub compute_unit_limit: Option<u32>,
    /// `SetComputeUnitPrice` (micro-lamports per CU), if present.
    pub compute_unit_price: Option<u64>,
    /// Transfers to tip accounts.
    pub tips: Vec<TipTransfer>,
    /// Why it failed, if it did.
    pub err: Option<TransactionError>,
    /// Fee charged, in lamports.
    pub fee: u64,
    /// Compute units consumed.
    pub compute_units_consumed: u64,
    /// Program logs.
    pub logs: Vec<String>,
    /// Lamports of every account key before.
    pub pre_balances: Vec<u64>,
    /// Lamports of every account key after.
    pub post_balances: Vec<u64>,
    /// Token balances before.
    pub pre_token_balances: Vec<TokenBalance>,
    /// Token balances after.
    pub post_token_balances: Vec<TokenBalance>,
    /// CPIs, per top-level instruction.
    pub inner_instructions: Vec<InnerInstructions>,
    /// Return data (program, bytes), if any.
    pub return_data: Option<(Pubkey, Vec<u8>)>,
}

impl LandedTransaction {
    /// Whether it succeeded.
    pub fn is_ok(&self) -> bool {
        self.err.is_none()
    }

    /// Total lamports tipped.
    pub fn tip_lamports(&self) -> u64 {
        self.tips.iter().map(|t| t.lamports).sum()
    }
}

/// `SetComputeUnitLimit` and `SetComputeUnitPrice` of a list of instructions.
pub fn compute_budget(instructions: &[DecodedInstruction]) -> (Option<u32>, Option<u64>) {
    let mut limit = None;
    let mut price = None;
    for ix in instructions
        .iter()
        .filter(|ix| ix.program_id == COMPUTE_BUDGET_PROGRAM)
    {
        match ix.data.split_first() {
            Some((2, rest)) if rest.len() == 4 => {
                limit = Some(u32::from_le_bytes(rest.try_into().expect("4 bytes")));
            }
            Some((3, rest)) if rest.len() == 8 => {
                price = Some(u64::from_le_bytes(rest.try_into().expect("8 bytes")));
            }
            _ => {}
        }
    }
    (limit, price)
}

/// A System `Transfer` (`from`, `to`, lamports), if that is what this is.
pub fn system_transfer(
    program_id: &Pubkey,
    accounts: &[Pubkey],
    data: &[u8],
) -> Option<TipTransfer> {
    if program_id != &SYSTEM_PROGRAM || data.len() != 12 || data[..4] != 2u32.to_le_bytes() {
        return None;
    }
    Some(TipTransfer {
        from: *accounts.first()?,
        to: *accounts.get(1)?,
        lamports: u64::from_le_bytes(data[4..12].try_into().expect("8 bytes")),
    })
}

/// Resolves compiled instructions against the account keys.
pub fn decode_instructions(
    keys: &[Pubkey],
    instructions: &[CompiledInstruction],
) -> Vec<DecodedInstruction> {
    instructions
        .iter()
        .map(|ix| DecodedInstruction {
            program_id: keys
                .get(usize::from(ix.program_id_index))
                .copied()
                .unwrap_or_default(),
            accounts: ix
                .accounts
                .iter()
                .filter_map(|&a| keys.get(usize::from(a)).copied())
                .collect(),
            data: ix.data.clone(),
        })
        .collect()
}

/// Every transfer to one of `tip_accounts`, top level and inner.
pub fn tips(
    keys: &[Pubkey],
    top: &[DecodedInstruction],
    inner: &[InnerInstructions],
    tip_accounts: &[Pubkey],
) -> Vec<TipTransfer> {
    let inner = inner.iter().flat_map(|i| i.instructions.iter()).map(|i| {
        decode_instructions(keys, std::slice::from_ref(&i.instruction))
            .pop()
            .expect("one instruction")
    });
    top.iter()
        .cloned()
        .chain(inner)
        .filter_map(|ix| system_transfer(&ix.program_id, &ix.accounts, &ix.data))
        .filter(|t| tip_accounts.contains(&t.to))
        .collect()
}
