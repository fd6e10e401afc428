//! Titan's wire types, written from `spec/titan.md` (§2, §4, §5): MessagePack maps with
//! camelCase keys, data-carrying enums as single-entry maps, unit enums as their variant name,
//! pubkeys as `bin` of exactly 32 bytes.
//!
//! Decoding tolerates `nil` for every optional field and ignores unknown keys, as the spec
//! demands. Encoding follows what the real server sends: `nil` for the envelope's optional
//! fields (`stream`, `errorCode`, `errorMessage`, matching the spec's exact bytes), omitted
//! optional route fields (as in the real capture). Client requests encode `nil` for unset
//! optionals, as the reference client does.
//!
//! Both directions derive `Serialize` and `Deserialize`, so tests speak the protocol with the
//! same types the server uses, and every fixture round-trips through them.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use solana_pubkey::Pubkey;

// ----- building blocks ---------------------------------------------------------------------

/// A pubkey on the wire: a msgpack `bin` of exactly 32 bytes (never an array of ints, which
/// the reference decoder refuses too).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Key(pub Pubkey);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.0)
    }
}

impl From<Pubkey> for Key {
    fn from(p: Pubkey) -> Self {
        Key(p)
    }
}

impl From<Key> for Pubkey {
    fn from(k: Key) -> Self {
        k.0
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0.as_ref())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a pubkey as a msgpack bin of 32 bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
                let arr: [u8; 32] = v.try_into().map_err(|_| {
                    E::custom(format_args!(
                        "a pubkey must be a bin of exactly 32 bytes, got {} bytes",
                        v.len()
                    ))
                })?;
                Ok(Key(Pubkey::new_from_array(arr)))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Instruction data: encoded as `bin`; decoded from `bin` or from an array of ints (the
/// reference decoder accepts both).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Data(pub Vec<u8>);

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Data({:02x?})", self.0)
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("instruction data as a bin or an array of bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Data, E> {
                Ok(Data(v.to_vec()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Data(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `ExactIn` or `ExactOut`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SwapMode {
    /// `amount` is the input.
    ExactIn,
    /// `amount` is the output.
    ExactOut,
}

// ----- client → server ---------------------------------------------------------------------

/// `ClientRequest = { id, data }` (§4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    /// Chosen by the client, unique among its in-flight requests.
    pub id: u32,
    /// The procedure and its parameters.
    pub data: RequestData,
}

/// The procedures (§3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestData {
    /// The server's limits and defaults.
    GetInfo(GetInfoRequest),
    /// Starts a stream of swap quotes (boxed: it is by far the largest).
    NewSwapQuoteStream(Box<SwapQuoteRequest>),
    /// Stops a stream.
    StopStream(StopStreamRequest),
    /// The venue labels.
    GetVenues(GetVenuesRequest),
    /// The providers.
    ListProviders(ListProvidersRequest),
}

/// `GetInfo`'s parameters: none (`{}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetInfoRequest {}

/// `NewSwapQuoteStream`'s parameters (§4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapQuoteRequest {
    /// What to swap.
    pub swap: SwapParams,
    /// For whom.
    pub transaction: TransactionParams,
    /// How often and how many quotes; server defaults when absent.
    pub update: Option<QuoteUpdateParams>,
}

/// The swap of a quote request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapParams {
    /// The mint sold.
    pub input_mint: Key,
    /// The mint bought.
    pub output_mint: Key,
    /// Raw units: input for `ExactIn`, output for `ExactOut`.
    pub amount: u64,
    /// Default `ExactIn`.
    pub swap_mode: Option<SwapMode>,
    /// Slippage tolerance.
    pub slippage_bps: Option<u16>,
    /// Only these venue labels.
    pub dexes: Option<Vec<String>>,
    /// Not these venue labels.
    pub exclude_dexes: Option<Vec<String>>,
    /// Direct routes only.
    pub only_direct_routes: Option<bool>,
    /// Only quotes whose transaction fits `size_constraint`.
    pub add_size_constraint: Option<bool>,
    /// The byte budget of `add_size_constraint`.
    pub size_constraint: Option<u32>,
    /// Only these provider ids.
    pub providers: Option<Vec<String>>,
    /// At most this many accounts in a route.
    pub accounts_limit_total: Option<u16>,
    /// At most this many writable accounts in a route.
    pub accounts_limit_writable: Option<u16>,
}

/// The transaction side of a quote request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionParams {
    /// The user the instructions are built for.
    pub user_public_key: Key,
    /// Close the input token account.
    pub close_input_token_account: Option<bool>,
    /// Create the output token account idempotently.
    pub create_output_token_account: Option<bool>,
    /// Fee account (output mint).
    pub fee_account: Option<Key>,
    /// Fee.
    pub fee_bps: Option<u16>,
    /// Charge the fee in the input mint.
    pub fee_from_input_mint: Option<bool>,
    /// Destination token account.
    pub output_account: Option<Key>,
}

/// Push interval and quotes per update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteUpdateParams {
    /// Milliseconds between updates.
    pub interval_ms: Option<u64>,
    /// Routes per update at most.
    pub num_quotes: Option<u32>,
}

/// `StopStream`'s parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopStreamRequest {
    /// The stream id.
    pub id: u32,
}

/// `GetVenues`'s parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVenuesRequest {
    /// Also return each label's program id.
    pub include_program_ids: Option<bool>,
}

/// `ListProviders`'s parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListProvidersRequest {
    /// Also return icon URIs.
    pub include_icons: Option<bool>,
}

// ----- server → client ---------------------------------------------------------------------

/// Everything the server sends (§5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum ServerMessage {
    /// The answer to a request.
    Response(ResponseMessage),
    /// A request failed.
    Error(ErrorMessage),
    /// One update of a stream.
    StreamData(StreamData),
    /// A stream ended.
    StreamEnd(StreamEnd),
}

/// `Response { requestId, data, stream }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseMessage {
    /// The request answered.
    pub request_id: u32,
    /// The answer.
    pub data: ResponseData,
    /// The stream the request started (`nil` otherwise).
    pub stream: Option<StreamStart>,
}

/// A started stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamStart {
    /// The stream id (from 0 per connection).
    pub id: u32,
    /// What it carries.
    pub data_type: StreamDataType,
}

/// What a stream carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamDataType {
    /// Swap quotes.
    SwapQuotes,
}

/// The answers, one per procedure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseData {
    /// To `GetInfo`.
    GetInfo(ServerInfo),
    /// To `NewSwapQuoteStream`: the effective interval.
    NewSwapQuoteStream(QuoteSwapStreamResponse),
    /// To `StopStream`.
    StreamStopped(StopStreamResponse),
    /// To `GetVenues`.
    GetVenues(VenueInfo),
    /// To `ListProviders`.
    ListProviders(Vec<ProviderInfo>),
}

/// `{ intervalMs }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteSwapStreamResponse {
    /// The interval in force (the request's, clamped to the server's bounds).
    pub interval_ms: u64,
}

/// `{ id }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopStreamResponse {
    /// The stopped stream.
    pub id: u32,
}

/// `Error { requestId, code, message }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// The failed request (0 when it could not be read).
    pub request_id: u32,
    /// See [`codes`](super::codes).
    pub code: u32,
    /// What went wrong.
    pub message: String,
}

/// `StreamData { id, seq, payload }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamData {
    /// The stream.
    pub id: u32,
    /// 0, 1, 2, ... per stream.
    pub seq: u32,
    /// The update.
    pub payload: StreamPayload,
}

/// What a stream update carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamPayload {
    /// Swap quotes.
    SwapQuotes(SwapQuotes),
}

/// `StreamEnd { id, errorCode, errorMessage }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEnd {
    /// The stream.
    pub id: u32,
    /// Why, when the server ended it.
    pub error_code: Option<u32>,
    /// Why, in words.
    pub error_message: Option<String>,
}

/// One update of a quote stream (§5.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapQuotes {
    /// The quote id (`swap:<n>:<seq>`).
    pub id: String,
    /// The mint sold.
    pub input_mint: Key,
    /// The mint bought.
    pub output_mint: Key,
    /// As requested.
    pub swap_mode: SwapMode,
    /// As requested.
    pub amount: u64,
    /// One route per provider id.
    pub quotes: BTreeMap<String, SwapRoute>,
}

/// One provider's route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapRoute {
    /// Input amount.
    pub in_amount: u64,
    /// Output amount.
    pub out_amount: u64,
    /// Slippage tolerance applied.
    pub slippage_bps: u16,
    /// Platform fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_fee: Option<PlatformFee>,
    /// The route's steps, in topological order.
    pub steps: Vec<RoutePlanStep>,
    /// Ready-to-use instructions.
    pub instructions: Vec<CompactInstruction>,
    /// Lookup tables the instructions need.
    pub address_lookup_tables: Vec<Key>,
    /// The slot the quote was computed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
    /// How long the provider took, in ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_taken_ns: Option<u64>,
    /// Expiry, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// Expiry, slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_slot: Option<u64>,
    /// Compute-unit estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_units: Option<u64>,
    /// Recommended compute-unit limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_units_safe: Option<u64>,
    /// A whole transaction, when there is no instruction list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Data>,
    /// RFQ reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
}

/// `{ amount, feeBps }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformFee {
    /// Fee amount.
    pub amount: u64,
    /// Fee rate.
    pub fee_bps: u16,
}

/// One step of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePlanStep {
    /// The pool.
    pub amm_key: Key,
    /// The venue label.
    pub label: String,
    /// Sold.
    pub input_mint: Key,
    /// Bought.
    pub output_mint: Key,
    /// In.
    pub in_amount: u64,
    /// Out.
    pub out_amount: u64,
    /// Share of the flow, parts per billion.
    pub alloc_ppb: u32,
    /// The fee's mint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_mint: Option<Key>,
    /// The fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_amount: Option<u64>,
    /// The slot the step was priced at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
}

/// `Instruction = { p, a, d }` (§2.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactInstruction {
    /// Program id.
    pub p: Key,
    /// Accounts.
    pub a: Vec<CompactAccountMeta>,
    /// Data.
    pub d: Data,
}

/// `AccountMeta = { p, s, w }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactAccountMeta {
    /// The account.
    pub p: Key,
    /// Signer.
    pub s: bool,
    /// Writable.
    pub w: bool,
}

impl From<&solana_instruction::Instruction> for CompactInstruction {
    fn from(ix: &solana_instruction::Instruction) -> Self {
        CompactInstruction {
            p: Key(ix.program_id),
            a: ix
                .accounts
                .iter()
                .map(|m| CompactAccountMeta {
                    p: Key(m.pubkey),
                    s: m.is_signer,
                    w: m.is_writable,
                })
                .collect(),
            d: Data(ix.data.clone()),
        }
    }
}

impl From<&CompactInstruction> for solana_instruction::Instruction {
    fn from(ix: &CompactInstruction) -> Self {
        solana_instruction::Instruction {
            program_id: ix.p.0,
            accounts: ix
                .a
                .iter()
                .map(|m| solana_instruction::AccountMeta {
                    pubkey: m.p.0,
                    is_signer: m.s,
                    is_writable: m.w,
                })
                .collect(),
            data: ix.d.0.clone(),
        }
    }
}

/// `GetInfo`'s answer (§5.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The protocol version.
    pub protocol_version: ProtocolVersion,
    /// Limits and defaults.
    pub settings: ServerSettings,
}

/// `{ major, minor, patch }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolVersion {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch.
    pub patch: u16,
}

/// The server's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSettings {
    /// Update bounds.
    pub quote_update: QuoteUpdateSettings,
    /// Swap defaults.
    pub swap: SwapSettings,
    /// Transaction defaults.
    pub transaction: TransactionSettings,
    /// Per-connection limits.
    pub connection: ConnectionSettings,
}

/// `{ min, max, default }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundsU64 {
    /// Smallest accepted.
    pub min: u64,
    /// Largest accepted.
    pub max: u64,
    /// When absent.
    pub default: u64,
}

/// `{ min, max, default }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundsU32 {
    /// Smallest accepted.
    pub min: u32,
    /// Largest accepted.
    pub max: u32,
    /// When absent.
    pub default: u32,
}

/// `{ min, max, default }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundsU16 {
    /// Smallest accepted.
    pub min: u16,
    /// Largest accepted.
    pub max: u16,
    /// When absent.
    pub default: u16,
}

/// `quoteUpdate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteUpdateSettings {
    /// Interval bounds.
    pub interval_ms: BoundsU64,
    /// Quotes-per-update bounds.
    pub num_quotes: BoundsU32,
}

/// `swap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapSettings {
    /// Slippage bounds.
    pub slippage_bps: BoundsU16,
    /// Default of `onlyDirectRoutes`.
    pub only_direct_routes: bool,
    /// Default of `addSizeConstraint`.
    pub add_size_constraint: bool,
}

/// `transaction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionSettings {
    /// Default of `closeInputTokenAccount`.
    pub close_input_token_account: bool,
    /// Default of `createOutputTokenAccount`.
    pub create_output_token_account: bool,
}

/// `connection`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSettings {
    /// Streams open at once per connection, at most.
    pub concurrent_streams: u32,
}

/// `GetVenues`' answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VenueInfo {
    /// Venue labels.
    pub labels: Vec<String>,
    /// Their program ids, parallel to `labels`, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_ids: Option<Vec<Key>>,
}

/// One provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    /// Its id (the key in `SwapQuotes.quotes`).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Aggregator or RFQ.
    pub kind: ProviderKind,
    /// A 48 px icon, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_uri48: Option<String>,
}

/// What kind of provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderKind {
    /// Routes over DEX venues.
    DexAggregator,
    /// Request-for-quote market maker.
    #[serde(rename = "RFQ")]
    Rfq,
}
