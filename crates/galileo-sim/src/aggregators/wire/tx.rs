//! Unsigned transactions as the aggregators return them (base64 of the Solana wire bytes, one
//! all-zero signature per required signer), and signed ones as clients send them back.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bincode::Options;
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_message::{AddressLookupTableAccount, VersionedMessage, legacy, v0};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;

use crate::aggregators::ledger::LookupTable;

/// The largest transaction Solana accepts, in bytes (`PACKET_DATA_SIZE`).
pub const MAX_TRANSACTION_BYTES: usize = 1232;

/// Why a transaction could not be built or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The message does not compile (too many accounts, a bad lookup table, ...).
    #[error("cannot compile the transaction message: {0}")]
    Compile(String),
    /// The transaction is over [`MAX_TRANSACTION_BYTES`].
    #[error("the transaction is {0} bytes, over the {MAX_TRANSACTION_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not base64.
    #[error("the transaction is not valid base64")]
    Base64,
    /// Not a transaction.
    #[error("the bytes are not a versioned transaction: {0}")]
    Decode(String),
}

/// A v0 transaction paid by `payer`, compiled against `tables`, unsigned.
pub fn unsigned_v0(
    payer: &Pubkey,
    instructions: &[Instruction],
    tables: &[LookupTable],
    blockhash: Hash,
) -> Result<VersionedTransaction, TxError> {
    let tables: Vec<AddressLookupTableAccount> = tables
        .iter()
        .map(|t| AddressLookupTableAccount {
            key: t.key,
            addresses: t.addresses.clone(),
        })
        .collect();
    let message = v0::Message::try_compile(payer, instructions, &tables, blockhash)
        .map_err(|e| TxError::Compile(e.to_string()))?;
    unsigned(VersionedMessage::V0(message))
}

/// A legacy transaction paid by `payer`, unsigned.
pub fn unsigned_legacy(
    payer: &Pubkey,
    instructions: &[Instruction],
    blockhash: Hash,
) -> Result<VersionedTransaction, TxError> {
    let message = legacy::Message::new_with_blockhash(instructions, Some(payer), &blockhash);
    unsigned(VersionedMessage::Legacy(message))
}

fn unsigned(message: VersionedMessage) -> Result<VersionedTransaction, TxError> {
    let n = usize::from(message.header().num_required_signatures);
    let tx = VersionedTransaction {
        signatures: vec![Signature::default(); n],
        message,
    };
    let len = wire_bytes(&tx).len();
    if len > MAX_TRANSACTION_BYTES {
        return Err(TxError::TooLarge(len));
    }
    Ok(tx)
}

/// The Solana wire bytes of `tx`.
pub fn wire_bytes(tx: &VersionedTransaction) -> Vec<u8> {
    bincode::serialize(tx).expect("a transaction always serializes")
}

/// `tx` as base64 of its wire bytes.
pub fn encode(tx: &VersionedTransaction) -> String {
    STANDARD.encode(wire_bytes(tx))
}

/// Reads a base64 transaction as a validator would: at most [`MAX_TRANSACTION_BYTES`], fixed
/// integers, nothing trailing.
pub fn decode(b64: &str) -> Result<VersionedTransaction, TxError> {
    let bytes = STANDARD.decode(b64.trim()).map_err(|_| TxError::Base64)?;
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(TxError::TooLarge(bytes.len()));
    }
    bincode::options()
        .with_limit(MAX_TRANSACTION_BYTES as u64)
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .deserialize(&bytes)
        .map_err(|e| TxError::Decode(e.to_string()))
}

/// The serialized message of `tx` (what its signatures sign).
pub fn message_bytes(tx: &VersionedTransaction) -> Vec<u8> {
    tx.message.serialize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use solana_instruction::AccountMeta;

    fn ix(user: Pubkey, other: Pubkey) -> Instruction {
        Instruction::new_with_bytes(
            Pubkey::new_unique(),
            &[1, 2, 3],
            vec![AccountMeta::new(user, true), AccountMeta::new(other, false)],
        )
    }

    #[test]
    fn unsigned_transactions_round_trip_with_one_placeholder_per_signer() {
        let user = Pubkey::new_unique();
        let pooled = Pubkey::new_unique();
        let table = LookupTable {
            key: Pubkey::new_unique(),
            addresses: vec![pooled],
        };
        let hash = Hash::new_from_array([7; 32]);
        let tx = unsigned_v0(
            &user,
            &[ix(user, pooled)],
            std::slice::from_ref(&table),
            hash,
        )
        .unwrap();
        assert_eq!(tx.signatures, vec![Signature::default()]);
        assert_eq!(tx.message.static_account_keys()[0], user);
        let lookups = tx.message.address_table_lookups().unwrap();
        assert_eq!(lookups.len(), 1);
        assert_eq!(lookups[0].account_key, table.key);
        assert_eq!(*tx.message.recent_blockhash(), hash);
        assert_eq!(decode(&encode(&tx)).unwrap(), tx);

        let legacy = unsigned_legacy(&user, &[ix(user, pooled)], hash).unwrap();
        assert!(matches!(legacy.message, VersionedMessage::Legacy(_)));
        assert_eq!(decode(&encode(&legacy)).unwrap(), legacy);
    }

    #[test]
    fn bad_transactions_are_named() {
        assert_eq!(decode("not base64!"), Err(TxError::Base64));
        assert!(matches!(decode("AAAA"), Err(TxError::Decode(_))));
        let big = STANDARD.encode(vec![1u8; 2000]);
        assert_eq!(decode(&big), Err(TxError::TooLarge(2000)));
        let user = Pubkey::new_unique();
        let many: Vec<Instruction> = (0..40).map(|_| ix(user, Pubkey::new_unique())).collect();
        assert!(matches!(
            unsigned_v0(&user, &many, &[], Hash::default()),
            Err(TxError::TooLarge(_))
        ));
    }

    proptest! {
        /// Any bytes: decoding answers, never panics.
        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1300)) {
            let _ = decode(&STANDARD.encode(&bytes));
        }
    }
}
