//! Client → server messages (spec §4).

use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

use super::{SwapMode, key};

/// A request: `{ "id": u32, "data": RequestData }`. Ids are unique among a connection's
/// requests in flight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    /// The request id; the server's `Response` / `Error` carries it back.
    pub id: u32,
    /// What is asked.
    pub data: RequestData,
}

/// The procedure and its parameters: a single-entry map `{ "<Variant>": payload }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestData {
    /// The server's protocol version and limits.
    GetInfo(GetInfoRequest),
    /// Opens a stream of swap quotes.
    NewSwapQuoteStream(Box<SwapQuoteRequest>),
    /// Stops a stream.
    StopStream(StopStreamRequest),
    /// The venue labels (and program ids).
    GetVenues(GetVenuesRequest),
    /// The quote providers.
    ListProviders(ListProvidersRequest),
}

/// `GetInfo`'s parameters: none (`{}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetInfoRequest {}

/// `StopStream`'s parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopStreamRequest {
    /// The stream id.
    pub id: u32,
}

/// `GetVenues`' parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVenuesRequest {
    /// Also return the venues' program ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_program_ids: Option<bool>,
}

/// `ListProviders`' parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListProvidersRequest {
    /// Also return icon URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_icons: Option<bool>,
}

/// `NewSwapQuoteStream`'s parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapQuoteRequest {
    /// The swap.
    pub swap: SwapParams,
    /// How the transaction is built.
    pub transaction: TransactionParams,
    /// Push interval and quotes per update (server defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<QuoteUpdateParams>,
}

/// What to swap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapParams {
    /// The token sold.
    #[serde(with = "key")]
    pub input_mint: Pubkey,
    /// The token bought.
    #[serde(with = "key")]
    pub output_mint: Pubkey,
    /// Raw units: input for `ExactIn`, output for `ExactOut`.
    pub amount: u64,
    /// `ExactIn` (the default) or `ExactOut`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_mode: Option<SwapMode>,
    /// Slippage tolerance in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage_bps: Option<u16>,
    /// Only these venue labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dexes: Option<Vec<String>>,
    /// Never these venue labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_dexes: Option<Vec<String>>,
    /// Direct routes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_direct_routes: Option<bool>,
    /// Only quotes whose transaction fits `sizeConstraint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_size_constraint: Option<bool>,
    /// The transaction byte budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_constraint: Option<u32>,
    /// Only these provider ids (`Titan`, `Metis`, `Okx`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<String>>,
    /// Most accounts in a route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts_limit_total: Option<u16>,
    /// Most writable accounts in a route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts_limit_writable: Option<u16>,
}

/// How the route's instructions are built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionParams {
    /// The wallet that signs (a read-only system account gets no quotes).
    #[serde(with = "key")]
    pub user_public_key: Pubkey,
    /// Close the input token account in the transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_input_token_account: Option<bool>,
    /// Create the output token account (idempotently).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_output_token_account: Option<bool>,
    /// The output-token fee account.
    #[serde(default, with = "key::option", skip_serializing_if = "Option::is_none")]
    pub fee_account: Option<Pubkey>,
    /// The fee in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_bps: Option<u16>,
    /// Charge the fee in the input mint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_from_input_mint: Option<bool>,
    /// The destination token account.
    #[serde(default, with = "key::option", skip_serializing_if = "Option::is_none")]
    pub output_account: Option<Pubkey>,
}

/// How often and how much the server pushes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteUpdateParams {
    /// Push interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Most quotes per update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_quotes: Option<u32>,
}
