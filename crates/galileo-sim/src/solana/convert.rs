//! From the chain's records to wire types.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use solana_message::VersionedMessage;
use solana_pubkey::Pubkey;
use solana_transaction::versioned::{TransactionVersion as SdkVersion, VersionedTransaction};
use solana_transaction_error::TransactionError;

use super::encoding::{BinaryEncoding, encode_transaction};
use super::jsonrpc::RpcError;
use super::wire::{
    ConfirmedTransaction, EncodedTransaction, Maybe, TransactionEncoding, TransactionVersion,
    UiAddressTableLookup, UiCompiledInstruction, UiInnerInstructions, UiLoadedAddresses,
    UiMessageHeader, UiRawMessage, UiReturnData, UiStatus, UiTokenAmount, UiTokenBalance,
    UiTransaction, UiTransactionStatusMeta,
};
use crate::chain::token::{TOKEN_PROGRAM, ui_amount, ui_amount_string};
use crate::chain::{InnerInstructions, LandedTransaction, TokenBalance};

/// `-32015`: a v0 transaction asked for without `maxSupportedTransactionVersion`.
pub const UNSUPPORTED_TRANSACTION_VERSION: i64 = -32015;

/// The JSON of a transaction error (`"BlockhashNotFound"`, `{"InstructionError":[0,...]}`).
pub fn error_json(err: &TransactionError) -> Value {
    serde_json::to_value(err).expect("a transaction error serializes")
}

/// `{"Ok":null}` or `{"Err":...}`.
pub fn status(err: Option<&TransactionError>) -> UiStatus {
    err.map_or(UiStatus::Ok(()), |e| UiStatus::Err(error_json(e)))
}

/// A token amount on the wire.
pub fn token_amount(amount: u64, decimals: u8) -> UiTokenAmount {
    UiTokenAmount {
        ui_amount: Some(ui_amount(amount, decimals)),
        decimals,
        amount: amount.to_string(),
        ui_amount_string: ui_amount_string(amount, decimals),
    }
}

/// Token balances on the wire.
pub fn token_balances(balances: &[TokenBalance]) -> Vec<UiTokenBalance> {
    balances
        .iter()
        .map(|b| UiTokenBalance {
            account_index: b.account_index,
            mint: b.mint.to_string(),
            ui_token_amount: token_amount(b.amount, b.decimals),
            owner: Maybe::Value(b.owner.to_string()),
            program_id: Maybe::Value(TOKEN_PROGRAM.to_string()),
        })
        .collect()
}

/// Inner instructions on the wire.
pub fn inner_instructions(inner: &[InnerInstructions]) -> Vec<UiInnerInstructions> {
    inner
        .iter()
        .map(|i| UiInnerInstructions {
            index: i.index,
            instructions: i
                .instructions
                .iter()
                .map(|ix| UiCompiledInstruction {
                    program_id_index: ix.instruction.program_id_index,
                    accounts: ix.instruction.accounts.clone(),
                    data: bs58::encode(&ix.instruction.data).into_string(),
                    stack_height: Some(ix.stack_height),
                })
                .collect(),
        })
        .collect()
}

/// Return data on the wire.
pub fn return_data(rd: &Option<(Pubkey, Vec<u8>)>) -> Option<UiReturnData> {
    rd.as_ref().map(|(program, data)| UiReturnData {
        program_id: program.to_string(),
        data: (BASE64.encode(data), "base64".to_string()),
    })
}

/// Addresses loaded from lookup tables on the wire.
pub fn loaded_addresses(writable: &[Pubkey], readonly: &[Pubkey]) -> UiLoadedAddresses {
    UiLoadedAddresses {
        writable: writable.iter().map(Pubkey::to_string).collect(),
        readonly: readonly.iter().map(Pubkey::to_string).collect(),
    }
}

fn json_transaction(tx: &VersionedTransaction) -> UiTransaction {
    let message = &tx.message;
    let header = message.header();
    let lookups = match message {
        VersionedMessage::Legacy(_) => None,
        VersionedMessage::V0(m) => Some(
            m.address_table_lookups
                .iter()
                .map(|l| UiAddressTableLookup {
                    account_key: l.account_key.to_string(),
                    writable_indexes: l.writable_indexes.clone(),
                    readonly_indexes: l.readonly_indexes.clone(),
                })
                .collect(),
        ),
    };
    UiTransaction {
        signatures: tx.signatures.iter().map(ToString::to_string).collect(),
        message: UiRawMessage {
            header: UiMessageHeader {
                num_required_signatures: header.num_required_signatures,
                num_readonly_signed_accounts: header.num_readonly_signed_accounts,
                num_readonly_unsigned_accounts: header.num_readonly_unsigned_accounts,
            },
            account_keys: message
                .static_account_keys()
                .iter()
                .map(Pubkey::to_string)
                .collect(),
            recent_blockhash: message.recent_blockhash().to_string(),
            instructions: message
                .instructions()
                .iter()
                .map(|ix| UiCompiledInstruction {
                    program_id_index: ix.program_id_index,
                    accounts: ix.accounts.clone(),
                    data: bs58::encode(&ix.data).into_string(),
                    stack_height: Some(1),
                })
                .collect(),
            address_table_lookups: lookups,
        },
    }
}

/// `getTransaction`'s result for a landed transaction.
pub fn confirmed_transaction(
    rec: &LandedTransaction,
    encoding: TransactionEncoding,
    max_supported_version: Option<u8>,
) -> Result<ConfirmedTransaction, RpcError> {
    let version = match rec.transaction.version() {
        SdkVersion::Legacy(_) => TransactionVersion::Legacy,
        SdkVersion::Number(n) => {
            if max_supported_version.is_none_or(|max| n > max) {
                return Err(RpcError::new(
                    UNSUPPORTED_TRANSACTION_VERSION,
                    format!(
                        "Transaction version ({n}) is not supported by the requesting client. \
                         Please try the request again with the following configuration \
                         parameter: \"maxSupportedTransactionVersion\": {n}"
                    ),
                ));
            }
            TransactionVersion::Number(n)
        }
    };
    let transaction = match encoding {
        TransactionEncoding::Json => EncodedTransaction::Json(json_transaction(&rec.transaction)),
        TransactionEncoding::Binary | TransactionEncoding::Base58 => EncodedTransaction::Binary(
            encode_transaction(&rec.transaction, BinaryEncoding::Base58),
            TransactionEncoding::Base58,
        ),
        TransactionEncoding::Base64 => EncodedTransaction::Binary(
            encode_transaction(&rec.transaction, BinaryEncoding::Base64),
            TransactionEncoding::Base64,
        ),
        TransactionEncoding::JsonParsed => {
            return Err(RpcError::invalid_params(
                "Invalid params: the simulator does not implement the jsonParsed encoding; use json, base58 or base64.",
            ));
        }
    };
    let meta = UiTransactionStatusMeta {
        err: rec.err.as_ref().map(error_json),
        status: status(rec.err.as_ref()),
        fee: rec.fee,
        pre_balances: rec.pre_balances.clone(),
        post_balances: rec.post_balances.clone(),
        inner_instructions: Maybe::Value(inner_instructions(&rec.inner_instructions)),
        log_messages: Maybe::Value(rec.logs.clone()),
        pre_token_balances: Maybe::Value(token_balances(&rec.pre_token_balances)),
        post_token_balances: Maybe::Value(token_balances(&rec.post_token_balances)),
        rewards: Maybe::Value(Vec::new()),
        loaded_addresses: Maybe::Value(loaded_addresses(
            &rec.loaded_writable,
            &rec.loaded_readonly,
        )),
        return_data: return_data(&rec.return_data).map_or(Maybe::Absent, Maybe::Value),
        compute_units_consumed: Maybe::Value(rec.compute_units_consumed),
        cost_units: Maybe::Absent,
    };
    Ok(ConfirmedTransaction {
        slot: rec.slot,
        transaction,
        meta: Some(meta),
        version: max_supported_version.map(|_| version),
        block_time: Some(rec.block_time),
    })
}
