//! The simulator's own Solana JSON-RPC wire types, written from the validator's documented
//! shapes (and checked against captured responses), not imported from the client crates.

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::chain::Commitment;

/// A field that may be absent, `null`, or a value, and must stay what it was (the validator's
/// `OptionSerializer`).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Maybe<T> {
    /// Not in the object.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value.
    Value(T),
}

impl<T> Maybe<T> {
    /// For `skip_serializing_if`.
    pub fn is_absent(&self) -> bool {
        matches!(self, Maybe::Absent)
    }
}

impl<T> From<Option<T>> for Maybe<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Maybe::Null, Maybe::Value)
    }
}

impl<T: Serialize> Serialize for Maybe<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Maybe::Value(v) => v.serialize(s),
            Maybe::Null | Maybe::Absent => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Maybe::from)
    }
}

// ---------------------------------------------------------------- request configs

/// `{"commitment", "minContextSlot"}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitmentConfig {
    /// The commitment (default `finalized`).
    #[serde(default)]
    pub commitment: Option<Commitment>,
    /// Refuse to answer from an older slot.
    #[serde(default)]
    pub min_context_slot: Option<u64>,
}

/// How a transaction is encoded on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TransactionEncoding {
    /// Legacy name of base58.
    Binary,
    /// Base58.
    Base58,
    /// Base64.
    Base64,
    /// JSON.
    Json,
    /// Parsed JSON.
    JsonParsed,
}

impl TransactionEncoding {
    /// Its wire name.
    pub fn name(self) -> &'static str {
        match self {
            TransactionEncoding::Binary => "binary",
            TransactionEncoding::Base58 => "base58",
            TransactionEncoding::Base64 => "base64",
            TransactionEncoding::Json => "json",
            TransactionEncoding::JsonParsed => "jsonParsed",
        }
    }
}

/// How account data is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountEncoding {
    /// Legacy base58 string (no encoding tag).
    #[serde(rename = "binary")]
    Binary,
    /// Base58.
    #[serde(rename = "base58")]
    Base58,
    /// Base64.
    #[serde(rename = "base64")]
    Base64,
    /// Parsed JSON (the simulator falls back to base64).
    #[serde(rename = "jsonParsed")]
    JsonParsed,
    /// Zstandard-compressed, then base64.
    #[serde(rename = "base64+zstd")]
    Base64Zstd,
}

/// `sendTransaction` options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTransactionConfig {
    /// Skip signature verification and simulation.
    #[serde(default)]
    pub skip_preflight: bool,
    /// Commitment of the preflight.
    #[serde(default)]
    pub preflight_commitment: Option<Commitment>,
    /// `base58` (default) or `base64`.
    #[serde(default)]
    pub encoding: Option<TransactionEncoding>,
    /// Rebroadcast limit (accepted, unused).
    #[serde(default)]
    pub max_retries: Option<usize>,
    /// Refuse from an older slot.
    #[serde(default)]
    pub min_context_slot: Option<u64>,
}

/// `simulateTransaction` accounts to return.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateAccountsConfig {
    /// Their encoding.
    #[serde(default)]
    pub encoding: Option<AccountEncoding>,
    /// Their addresses.
    pub addresses: Vec<String>,
}

/// `simulateTransaction` options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateTransactionConfig {
    /// Verify signatures.
    #[serde(default)]
    pub sig_verify: bool,
    /// Use the latest blockhash instead of the transaction's.
    #[serde(default)]
    pub replace_recent_blockhash: bool,
    /// Commitment.
    #[serde(default)]
    pub commitment: Option<Commitment>,
    /// `base58` (default) or `base64`.
    #[serde(default)]
    pub encoding: Option<TransactionEncoding>,
    /// Accounts to return after the simulation.
    #[serde(default)]
    pub accounts: Option<SimulateAccountsConfig>,
    /// Refuse from an older slot.
    #[serde(default)]
    pub min_context_slot: Option<u64>,
    /// Return the inner instructions.
    #[serde(default)]
    pub inner_instructions: bool,
}

/// A slice of account data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSlice {
    /// First byte.
    pub offset: usize,
    /// How many bytes.
    pub length: usize,
}

/// `getAccountInfo` / `getMultipleAccounts` options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfoConfig {
    /// Data encoding (default `binary`).
    #[serde(default)]
    pub encoding: Option<AccountEncoding>,
    /// Only part of the data.
    #[serde(default)]
    pub data_slice: Option<DataSlice>,
    /// Commitment.
    #[serde(default)]
    pub commitment: Option<Commitment>,
    /// Refuse from an older slot.
    #[serde(default)]
    pub min_context_slot: Option<u64>,
}

/// `getSignatureStatuses` options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureStatusConfig {
    /// Look beyond the status cache.
    #[serde(default)]
    pub search_transaction_history: bool,
}

/// `getTransaction` options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionConfig {
    /// `json` (default), `base58` or `base64`.
    #[serde(default)]
    pub encoding: Option<TransactionEncoding>,
    /// `confirmed` or `finalized`.
    #[serde(default)]
    pub commitment: Option<Commitment>,
    /// Highest version the client reads (v0 transactions need `0`).
    #[serde(default)]
    pub max_supported_transaction_version: Option<u8>,
}

/// `getTransaction`'s second parameter: an options object, or (deprecated) an encoding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TransactionConfigParam {
    /// `"base64"`.
    Encoding(TransactionEncoding),
    /// `{...}`.
    Config(TransactionConfig),
}

// ---------------------------------------------------------------- responses

/// `context` of a response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcContext {
    /// The slot the answer is from.
    pub slot: u64,
    /// The node's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

/// `{"context", "value"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WithContext<T> {
    /// Where the value comes from.
    pub context: RpcContext,
    /// The value.
    pub value: T,
}

/// `getVersion`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VersionInfo {
    /// The node's version.
    pub solana_core: String,
    /// The feature set id.
    pub feature_set: Option<u32>,
}

/// `getLatestBlockhash`'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockhashValue {
    /// Base58 blockhash.
    pub blockhash: String,
    /// Last block height at which it can land.
    pub last_valid_block_height: u64,
}

/// Account data: a legacy base58 string, or `[data, encoding]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UiAccountData {
    /// `binary` encoding: a bare base58 string.
    LegacyBinary(String),
    /// `[data, "base58" | "base64" | "base64+zstd"]`.
    Binary(String, AccountEncoding),
}

/// An account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiAccount {
    /// Lamports.
    pub lamports: u64,
    /// Data.
    pub data: UiAccountData,
    /// Owner program.
    pub owner: String,
    /// Whether it is a program.
    pub executable: bool,
    /// Rent epoch.
    pub rent_epoch: u64,
    /// Data length.
    pub space: u64,
}

/// A token amount.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiTokenAmount {
    /// The amount as a float (`null` if not representable).
    pub ui_amount: Option<f64>,
    /// The mint's decimals.
    pub decimals: u8,
    /// The raw amount.
    pub amount: String,
    /// The exact decimal amount.
    pub ui_amount_string: String,
}

/// `{"Ok": null}` or `{"Err": <error>}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UiStatus {
    /// Success.
    Ok(()),
    /// Failure.
    Err(Value),
}

/// One entry of `getSignatureStatuses`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionStatus {
    /// Where it landed.
    pub slot: u64,
    /// Confirmations (`null` once rooted).
    pub confirmations: Option<u64>,
    /// Its error.
    pub err: Option<Value>,
    /// Deprecated status.
    pub status: UiStatus,
    /// `processed`, `confirmed` or `finalized`.
    pub confirmation_status: Option<Commitment>,
}

/// Return data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiReturnData {
    /// The program.
    pub program_id: String,
    /// `[base64, "base64"]`.
    pub data: (String, String),
}

/// A compiled instruction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiCompiledInstruction {
    /// Index of the program in the account keys.
    pub program_id_index: u8,
    /// Indexes of its accounts.
    pub accounts: Vec<u8>,
    /// Base58 data.
    pub data: String,
    /// Invocation depth (1 for top level; `null` from older nodes).
    #[serde(default)]
    pub stack_height: Option<u32>,
}

/// Inner instructions of one top-level instruction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UiInnerInstructions {
    /// The top-level instruction's index.
    pub index: u8,
    /// Its CPIs.
    pub instructions: Vec<UiCompiledInstruction>,
}

/// Addresses loaded from lookup tables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UiLoadedAddresses {
    /// Writable.
    pub writable: Vec<String>,
    /// Readonly.
    pub readonly: Vec<String>,
}

/// A token balance in transaction metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiTokenBalance {
    /// Index in the account keys.
    pub account_index: u8,
    /// The mint.
    pub mint: String,
    /// The amount.
    pub ui_token_amount: UiTokenAmount,
    /// The owner.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub owner: Maybe<String>,
    /// The token program.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub program_id: Maybe<String>,
}

/// A reward.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiReward {
    /// Who.
    pub pubkey: String,
    /// How much (may be negative).
    pub lamports: i64,
    /// Balance after.
    pub post_balance: u64,
    /// `fee`, `rent`, `staking` or `voting`.
    pub reward_type: Option<String>,
    /// Commission.
    pub commission: Option<u8>,
}

/// `simulateTransaction`'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateResult {
    /// Its error.
    pub err: Option<Value>,
    /// Logs.
    pub logs: Option<Vec<String>>,
    /// Requested accounts after the simulation.
    pub accounts: Option<Vec<Option<UiAccount>>>,
    /// Compute units.
    pub units_consumed: Option<u64>,
    /// Bytes of account data loaded.
    pub loaded_accounts_data_size: Option<u32>,
    /// Return data.
    pub return_data: Option<UiReturnData>,
    /// CPIs (when asked for).
    pub inner_instructions: Option<Vec<UiInnerInstructions>>,
    /// The blockhash used instead of the transaction's.
    pub replacement_blockhash: Option<BlockhashValue>,
    /// The fee.
    pub fee: Option<u64>,
    /// Lamports before.
    pub pre_balances: Option<Vec<u64>>,
    /// Lamports after.
    pub post_balances: Option<Vec<u64>>,
    /// Token balances before.
    pub pre_token_balances: Option<Vec<UiTokenBalance>>,
    /// Token balances after.
    pub post_token_balances: Option<Vec<UiTokenBalance>>,
    /// Addresses loaded from lookup tables.
    pub loaded_addresses: Option<UiLoadedAddresses>,
}

/// A message header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiMessageHeader {
    /// Signatures required.
    pub num_required_signatures: u8,
    /// Readonly signers.
    pub num_readonly_signed_accounts: u8,
    /// Readonly non-signers.
    pub num_readonly_unsigned_accounts: u8,
}

/// A lookup of a v0 message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiAddressTableLookup {
    /// The table.
    pub account_key: String,
    /// Writable indexes.
    pub writable_indexes: Vec<u8>,
    /// Readonly indexes.
    pub readonly_indexes: Vec<u8>,
}

/// A message in `json` encoding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiRawMessage {
    /// Its header.
    pub header: UiMessageHeader,
    /// Static account keys.
    pub account_keys: Vec<String>,
    /// Its blockhash.
    pub recent_blockhash: String,
    /// Its instructions.
    pub instructions: Vec<UiCompiledInstruction>,
    /// Lookups (v0 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_table_lookups: Option<Vec<UiAddressTableLookup>>,
}

/// A transaction in `json` encoding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UiTransaction {
    /// Base58 signatures.
    pub signatures: Vec<String>,
    /// The message.
    pub message: UiRawMessage,
}

/// A transaction as `getTransaction` encodes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EncodedTransaction {
    /// `[data, "base58" | "base64"]`.
    Binary(String, TransactionEncoding),
    /// JSON.
    Json(UiTransaction),
}

/// Transaction status metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiTransactionStatusMeta {
    /// Its error.
    pub err: Option<Value>,
    /// Deprecated status.
    pub status: UiStatus,
    /// Fee paid.
    pub fee: u64,
    /// Lamports before, per account key.
    pub pre_balances: Vec<u64>,
    /// Lamports after, per account key.
    pub post_balances: Vec<u64>,
    /// CPIs.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub inner_instructions: Maybe<Vec<UiInnerInstructions>>,
    /// Logs.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub log_messages: Maybe<Vec<String>>,
    /// Token balances before.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub pre_token_balances: Maybe<Vec<UiTokenBalance>>,
    /// Token balances after.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub post_token_balances: Maybe<Vec<UiTokenBalance>>,
    /// Rewards.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub rewards: Maybe<Vec<UiReward>>,
    /// Addresses loaded from lookup tables.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub loaded_addresses: Maybe<UiLoadedAddresses>,
    /// Return data.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub return_data: Maybe<UiReturnData>,
    /// Compute units.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub compute_units_consumed: Maybe<u64>,
    /// Cost units.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub cost_units: Maybe<u64>,
}

/// `"legacy"` or a version number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionVersion {
    /// A legacy message.
    Legacy,
    /// A versioned message.
    Number(u8),
}

impl Serialize for TransactionVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TransactionVersion::Legacy => s.serialize_str("legacy"),
            TransactionVersion::Number(n) => s.serialize_u8(*n),
        }
    }
}

impl<'de> Deserialize<'de> for TransactionVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "legacy" => Ok(TransactionVersion::Legacy),
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .map(TransactionVersion::Number)
                .ok_or_else(|| D::Error::custom("bad transaction version")),
            _ => Err(D::Error::custom("bad transaction version")),
        }
    }
}

/// `getTransaction`'s result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmedTransaction {
    /// Where it landed.
    pub slot: u64,
    /// The transaction.
    pub transaction: EncodedTransaction,
    /// Its status metadata.
    pub meta: Option<UiTransactionStatusMeta>,
    /// Its version (when the client said which it supports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<TransactionVersion>,
    /// Unix time of its block.
    pub block_time: Option<i64>,
}
