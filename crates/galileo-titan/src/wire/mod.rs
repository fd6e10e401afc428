//! Titan's MessagePack wire types (spec §2–§5), written from the spec: structs are maps with
//! camelCase keys, unit enums their variant name, data enums single-entry maps, pubkeys
//! 32-byte `bin`s, optional fields omitted when sending and `nil` or absent accepted when
//! reading, unknown keys ignored.
//!
//! Encode with [`rmp_serde::to_vec_named`] (or [`codec::encode`](crate::codec::encode)),
//! never `to_vec`: the protocol wants maps, not arrays.

pub(crate) mod key;
mod quotes;
mod request;
mod response;

pub use quotes::{
    AccountMeta, Instruction, PlatformFee, RoutePlanStep, SwapMode, SwapQuotes, SwapRoute,
};
pub use request::{
    ClientRequest, GetInfoRequest, GetVenuesRequest, ListProvidersRequest, QuoteUpdateParams,
    RequestData, StopStreamRequest, SwapParams, SwapQuoteRequest, TransactionParams,
};
pub use response::{
    Bounds, ConnectionSettings, ErrorMessage, ProtocolVersion, ProviderInfo, ProviderKind,
    QuoteSwapStreamResponse, QuoteUpdateSettings, ResponseData, ResponseMessage, ServerInfo,
    ServerMessage, ServerSettings, StopStreamResponse, StreamData, StreamDataType, StreamEnd,
    StreamPayload, StreamStart, SwapSettings, TransactionSettings, VenueInfo,
};
