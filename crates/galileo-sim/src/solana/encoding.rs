//! Transactions and account data on the wire, with the validator's limits and messages.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bincode::Options as _;
use solana_account::Account;
use solana_transaction::versioned::VersionedTransaction;

use super::jsonrpc::RpcError;
use super::wire::{AccountEncoding, DataSlice, TransactionEncoding, UiAccount, UiAccountData};

/// Largest serialized transaction (`PACKET_DATA_SIZE`).
pub const PACKET_DATA_SIZE: usize = 1232;
/// Largest base58 transaction string.
pub const MAX_BASE58_SIZE: usize = 1683;
/// Largest base64 transaction string.
pub const MAX_BASE64_SIZE: usize = 1644;
/// Largest account data returned in base58.
pub const MAX_BASE58_BYTES: usize = 128;

const TX_TYPE: &str = "solana_transaction::versioned::VersionedTransaction";

/// The binary encodings a transaction may arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryEncoding {
    /// Base58.
    Base58,
    /// Base64.
    Base64,
}

impl BinaryEncoding {
    /// The binary encoding of a requested transaction encoding, or the validator's error.
    pub fn of(encoding: TransactionEncoding) -> Result<BinaryEncoding, RpcError> {
        match encoding {
            TransactionEncoding::Binary | TransactionEncoding::Base58 => Ok(BinaryEncoding::Base58),
            TransactionEncoding::Base64 => Ok(BinaryEncoding::Base64),
            other => Err(RpcError::invalid_params(format!(
                "unsupported encoding: {}. Supported encodings: base58, base64",
                other.name()
            ))),
        }
    }
}

/// Decodes and deserializes a wire transaction, with the validator's size limits and error
/// messages (all `-32602`).
pub fn decode_transaction(
    data: &str,
    encoding: BinaryEncoding,
) -> Result<(Vec<u8>, VersionedTransaction), RpcError> {
    let wire = match encoding {
        BinaryEncoding::Base58 => {
            if data.len() > MAX_BASE58_SIZE {
                return Err(RpcError::invalid_params(format!(
                    "base58 encoded {TX_TYPE} too large: {} bytes (max: encoded/raw {MAX_BASE58_SIZE}/{PACKET_DATA_SIZE})",
                    data.len()
                )));
            }
            bs58::decode(data)
                .into_vec()
                .map_err(|e| RpcError::invalid_params(format!("invalid base58 encoding: {e:?}")))?
        }
        BinaryEncoding::Base64 => {
            if data.len() > MAX_BASE64_SIZE {
                return Err(RpcError::invalid_params(format!(
                    "base64 encoded {TX_TYPE} too large: {} bytes (max: encoded/raw {MAX_BASE64_SIZE}/{PACKET_DATA_SIZE})",
                    data.len()
                )));
            }
            BASE64
                .decode(data)
                .map_err(|e| RpcError::invalid_params(format!("invalid base64 encoding: {e:?}")))?
        }
    };
    if wire.len() > PACKET_DATA_SIZE {
        return Err(RpcError::invalid_params(format!(
            "decoded {TX_TYPE} too large: {} bytes (max: {PACKET_DATA_SIZE} bytes)",
            wire.len()
        )));
    }
    let tx = bincode::options()
        .with_limit(PACKET_DATA_SIZE as u64)
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .deserialize::<VersionedTransaction>(&wire)
        .map_err(|e| RpcError::invalid_params(format!("failed to deserialize {TX_TYPE}: {e}")))?;
    Ok((wire, tx))
}

/// Encodes a transaction for the wire.
pub fn encode_transaction(tx: &VersionedTransaction, encoding: BinaryEncoding) -> String {
    let bytes = bincode::serialize(tx).expect("a transaction serializes");
    match encoding {
        BinaryEncoding::Base58 => bs58::encode(bytes).into_string(),
        BinaryEncoding::Base64 => BASE64.encode(bytes),
    }
}

/// Encodes an account as `getAccountInfo` does. `jsonParsed` falls back to base64.
pub fn encode_account(
    acc: &Account,
    encoding: AccountEncoding,
    slice: Option<DataSlice>,
) -> Result<UiAccount, RpcError> {
    let data: &[u8] = match slice {
        Some(s) => {
            let start = s.offset.min(acc.data.len());
            let end = s.offset.saturating_add(s.length).min(acc.data.len());
            &acc.data[start..end]
        }
        None => &acc.data,
    };
    let data = match encoding {
        AccountEncoding::Binary | AccountEncoding::Base58 => {
            if data.len() > MAX_BASE58_BYTES {
                return Err(RpcError::invalid_params(format!(
                    "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, please use Base64 encoding."
                )));
            }
            let s = bs58::encode(data).into_string();
            if encoding == AccountEncoding::Binary {
                UiAccountData::LegacyBinary(s)
            } else {
                UiAccountData::Binary(s, AccountEncoding::Base58)
            }
        }
        AccountEncoding::Base64 | AccountEncoding::JsonParsed => {
            UiAccountData::Binary(BASE64.encode(data), AccountEncoding::Base64)
        }
        AccountEncoding::Base64Zstd => {
            let compressed = zstd::encode_all(data, 0)
                .map_err(|e| RpcError::new(super::jsonrpc::INTERNAL_ERROR, e.to_string()))?;
            UiAccountData::Binary(BASE64.encode(compressed), AccountEncoding::Base64Zstd)
        }
    };
    Ok(UiAccount {
        lamports: acc.lamports,
        data,
        owner: acc.owner.to_string(),
        executable: acc.executable,
        rent_epoch: acc.rent_epoch,
        space: acc.data.len() as u64,
    })
}
