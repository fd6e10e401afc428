//! Serde helpers for the aggregators' JSON, shared by the three clients (and usable by any
//! other client of these APIs).
//!
//! - [`amount`]: `u64` amounts as JSON strings of digits (`"1000000000"`); numbers, signs,
//!   decimals and spaces are refused. [`amount::nonzero`] also refuses `"0"`.
//! - [`pubkey`]: [`Pubkey`](solana_pubkey::Pubkey)s as base58 strings.
//! - [`PriceImpact`]: a plain decimal string (`"0.0012"`, `"-0.0002"`), kept as sent; exponent
//!   notation is refused.
//! - [`instruction`]: `{programId, accounts: [{pubkey, isSigner, isWritable}], data}` (standard
//!   base64 with padding) as a [`solana_instruction::Instruction`].
//! - [`BlockhashMeta`]: `{blockhash, lastValidBlockHeight}` where the blockhash is a base58
//!   string or an array of 32 integers.
//!
//! Response types built with these ignore unknown keys and enforce the required ones.

pub mod amount;
mod blockhash;
mod decimal;
pub mod instruction;
pub mod pubkey;

pub use blockhash::BlockhashMeta;
pub(crate) use blockhash::HashValue;
pub use decimal::PriceImpact;
