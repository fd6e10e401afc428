//! The HTTP aggregator simulators: Jupiter's swap API, Jupiter Ultra and DFlow.
//!
//! Each is a [`Service`](crate::Service) the core hosts (limits, faults, latency, TLS, stats
//! come from there). Quotes come from the shared [`market`](crate::market) at the request's
//! arrival; everything chain-related (instructions, blockhashes, lookup tables, landing Ultra
//! orders) goes through the [`Ledger`] trait the chain implements. The wire types are the
//! simulator's own, written from the specs.
//!
//! ```no_run
//! # fn demo<L: galileo_sim::aggregators::Ledger>(market: galileo_sim::market::SharedMarket, ledger: L)
//! # -> Result<(), galileo_sim::SimError> {
//! use galileo_sim::aggregators::{DflowConfig, DflowService, JupiterConfig, JupiterService};
//! use galileo_sim::{Sandbox, ServiceConfig};
//!
//! let jupiter = JupiterService::new(JupiterConfig::default(), market.clone(), ledger.clone())?;
//! let dflow = DflowService::new(DflowConfig::default(), market, ledger)?;
//! let dflow_knobs = dflow.knobs();
//! let sandbox = Sandbox::builder()
//!     .service(jupiter, ServiceConfig::default())
//!     .service(dflow, ServiceConfig::default())
//!     .start()?;
//! dflow_knobs.set_failed_to_compute(true); // the next swap-instructions answer 500
//! # Ok(()) }
//! ```

pub mod dflow;
mod endpoint;
mod journal;
pub mod jupiter;
mod keys;
pub mod ledger;
mod plan;
mod problem;
mod route;
pub mod ultra;
pub mod wire;

pub use dflow::{DflowConfig, DflowKnobs, DflowService};
pub use journal::{ServedExecution, ServedInstructions, ServedOrder, ServedQuote};
pub use jupiter::{JupiterConfig, JupiterKnobs, JupiterService};
pub use keys::{API_KEY_HEADER, ApiKeys};
pub use ledger::{
    BlockhashInfo, ExecutionFailure, Landed, Ledger, LedgerError, LookupTable, SwapLeg,
};
pub use plan::{ComputeConfig, MAX_COMPUTE_UNIT_LIMIT, PRIORITY_LEVELS};
pub use ultra::{RouterConfig, UltraConfig, UltraKnobs, UltraService};
