//! Quote round trips on DEX aggregators, concurrently, inside the user's pacing, spread over
//! the IP pool.
//!
//! - Clients: [`jupiter`] (`/quote`, `/swap-instructions`, `/swap`), [`ultra`] (`/order`,
//!   `/execute`) and [`dflow`] (`/quote`, `/swap-instructions`), generic over galileo-net's
//!   [`HttpClient`](galileo_net::HttpClient): every request leaves from the leased IP and
//!   reports its outcome to the lease. Each implements [`QuoteSource`].
//! - [`Guarded`]: any source behind its own circuit breaker and retry policy.
//! - Planning ([`plan`]): trade pairs from base × intermediate mints, trade sizes from lanes.
//! - Cadence ([`Schedule`]): `process_delay` paces batches per (pair, size); concurrency unfolds
//!   inside a batch.
//! - Dispatch ([`QuoteDispatcher`]): bounded concurrency (`Semaphore` + `FuturesUnordered`),
//!   one lease of cost 2 per round trip, the sell leg for exactly the buy leg's out amount on
//!   the same IP, results as [`DoubleQuote`]s.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod checks;
pub mod dflow;
mod dispatch;
mod error;
mod guard;
mod http;
mod instructions;
pub mod jupiter;
pub mod metrics;
pub mod plan;
mod schedule;
mod secret;
mod source;
#[cfg(test)]
mod test_support;
pub mod ultra;
pub mod wire;

pub use error::QuoteError;
pub use instructions::SwapInstructions;
pub use secret::{ApiKey, REDACTED};
pub use source::{Leg, QuoteRequest, QuoteSource, Quoted};

pub use dispatch::{
    BatchFailure, BatchInterval, BatchResult, BatchState, BatchTracker, DispatchConfig,
    DoubleQuote, LearnConfig, QuoteDispatcher, QuoteParallelism, RateLearner,
};
pub use guard::{GuardConfig, Guarded};
pub use schedule::{QuoteBatchPlan, Schedule};
