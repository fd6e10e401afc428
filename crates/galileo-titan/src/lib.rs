//! Titan WebSocket quote streams bound to leased source IPs.
//!
//! - Protocol ([`wire`], [`codec`]): MessagePack types for every request, response and
//!   stream message of Titan's v1 API, structs as camelCase maps, pubkeys as 32-byte `bin`s;
//!   frames compressed per the negotiated sub-protocol (zstd, brotli, gzip or none).
//! - Client ([`TitanClient`]): a connection from a chosen IP over galileo-net's bound TCP
//!   (+TLS) stream, held by a long-lived lease; sub-protocols offered in order; the [`Jwt`]
//!   as `Authorization: Bearer` or `?auth=`, never logged, its expiry watched.
//! - Planning ([`plan`]): 2 streams per IP, `2 × N` over N IPs; sizes cycled when fewer,
//!   the first `2 × N` taken when more; re-planned when an IP is quarantined or restored.
//! - Streams ([`TitanStreams`]): one task per planned connection; `GetInfo`'s
//!   `concurrentStreams` bounds the streams per connection; a stream silent for
//!   `silence_timeout_ms` (10 s) is resubscribed; a lost connection reconnects with
//!   backoff and jitter and resubscribes; the latest quote of each stream in a `watch`.
//! - [`QuoteSource`](galileo_quote::QuoteSource) over the streams: the freshest quote for
//!   (pair, amount), best provider by `outAmount`, or a "no fresh quote" error; usable as
//!   the buy leg with an HTTP aggregator as the sell leg.
//!
//! The policies are sans-IO and take `now` (the planner, the stream table's freshness, a
//! connection's protocol core, the reconnect schedule, the JWT expiry watch); the async
//! shell only moves frames. See `docs/titan.md` for the user's guide.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod codec;
mod config;
mod conn;
mod error;
pub mod jwt;
pub mod metrics;
pub mod plan;
mod source;
mod streams;
mod table;
pub mod wire;

pub use config::{AuthMode, JwtText, TitanConfig};
pub use conn::{TitanClient, TitanConnection};
pub use error::TitanError;
pub use jwt::Jwt;
pub use plan::{StreamKey, Subscription, clamp_quote_parallelism};
pub use source::{BACKEND, TitanInstructions, TitanQuote};
pub use streams::{IpHealth, TitanStreams};
pub use table::{Stale, StreamQuote};
