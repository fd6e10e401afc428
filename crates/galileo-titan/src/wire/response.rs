//! Server → client messages (spec §5), except the quotes themselves (`quotes.rs`).

use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

use super::{SwapQuotes, key};

/// Everything the server sends: a single-entry map `{ "<Variant>": payload }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// The answer to a request.
    Response(ResponseMessage),
    /// A request failed.
    Error(ErrorMessage),
    /// A stream's update.
    StreamData(StreamData),
    /// A stream ended (stopped, or ended by the server with an error).
    StreamEnd(StreamEnd),
}

/// The answer to request `requestId`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseMessage {
    /// The request answered.
    pub request_id: u32,
    /// The answer.
    pub data: ResponseData,
    /// The stream the request started, if it started one.
    #[serde(default)]
    pub stream: Option<StreamStart>,
}

/// A stream started by a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamStart {
    /// The stream id (unique on the connection).
    pub id: u32,
    /// What the stream carries.
    pub data_type: StreamDataType,
}

/// What a stream carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamDataType {
    /// [`SwapQuotes`].
    SwapQuotes,
}

/// The answer's data, by procedure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseData {
    /// `GetInfo`.
    GetInfo(ServerInfo),
    /// `NewSwapQuoteStream`: the effective interval.
    NewSwapQuoteStream(QuoteSwapStreamResponse),
    /// `StopStream`.
    StreamStopped(StopStreamResponse),
    /// `GetVenues`.
    GetVenues(VenueInfo),
    /// `ListProviders`.
    ListProviders(Vec<ProviderInfo>),
}

/// `NewSwapQuoteStream`'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteSwapStreamResponse {
    /// The push interval in force.
    pub interval_ms: u64,
}

/// `StopStream`'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopStreamResponse {
    /// The stream stopped.
    pub id: u32,
}

/// A request failed. Codes are the server's (the catalogue is not published).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// The failed request (0 when the server could not read it).
    pub request_id: u32,
    /// The server's code (the reference client reads an `i32`).
    pub code: i64,
    /// What went wrong.
    pub message: String,
}

/// One update of a stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamData {
    /// The stream id.
    pub id: u32,
    /// 0, 1, 2, ... per stream.
    pub seq: u64,
    /// The update.
    pub payload: StreamPayload,
}

/// A stream's update, by data type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StreamPayload {
    /// Quotes of a swap stream.
    SwapQuotes(SwapQuotes),
}

/// A stream ended: after `StopStream` (no error), or by the server (with one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEnd {
    /// The stream id.
    pub id: u32,
    /// The server's code, when it ended the stream on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `GetInfo`: the protocol version and the server's limits. Missing sections read as their
/// defaults, so a server that says less still answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerInfo {
    /// The protocol version.
    pub protocol_version: ProtocolVersion,
    /// The limits.
    pub settings: ServerSettings,
}

/// `major.minor.patch`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProtocolVersion {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch.
    pub patch: u16,
}

/// The server's limits and defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerSettings {
    /// Push interval and quotes per update.
    pub quote_update: QuoteUpdateSettings,
    /// Swap parameters.
    pub swap: SwapSettings,
    /// Transaction parameters.
    pub transaction: TransactionSettings,
    /// Per-connection limits.
    pub connection: ConnectionSettings,
}

/// `{ min, max, default }` of a parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bounds<T> {
    /// Smallest accepted.
    pub min: T,
    /// Largest accepted.
    pub max: T,
    /// Used when the request says nothing.
    pub default: T,
}

/// Push interval and quotes per update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuoteUpdateSettings {
    /// Milliseconds between updates.
    pub interval_ms: Bounds<u64>,
    /// Quotes per update.
    pub num_quotes: Bounds<u32>,
}

/// Swap defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SwapSettings {
    /// Slippage bounds.
    pub slippage_bps: Bounds<u16>,
    /// Direct routes only by default.
    pub only_direct_routes: bool,
    /// Size constraint by default.
    pub add_size_constraint: bool,
}

/// Transaction defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TransactionSettings {
    /// Close the input token account by default.
    pub close_input_token_account: bool,
    /// Create the output token account by default.
    pub create_output_token_account: bool,
}

/// Per-connection limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectionSettings {
    /// Streams one connection may hold at once (0: not said).
    pub concurrent_streams: u32,
}

/// `GetVenues`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VenueInfo {
    /// Venue labels.
    pub labels: Vec<String>,
    /// Their program ids, parallel to `labels` (only when asked).
    #[serde(
        default,
        with = "key::vec::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub program_ids: Option<Vec<Pubkey>>,
}

/// One quote provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    /// The id (the key in [`SwapQuotes::quotes`]).
    pub id: String,
    /// The display name.
    pub name: String,
    /// Aggregator or RFQ.
    pub kind: ProviderKind,
    /// A 48 px icon (only when asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_uri48: Option<String>,
}

/// What kind of provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderKind {
    /// Routes over on-chain venues.
    DexAggregator,
    /// Request for quote: a market maker.
    #[serde(rename = "RFQ")]
    Rfq,
}
