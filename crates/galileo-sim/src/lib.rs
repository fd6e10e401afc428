//! Local simulators of the APIs Galileo speaks: Jupiter, Ultra, DFlow, Titan, Solana JSON-RPC
//! and the Jito block engine, with per-source-IP, per-key and global limits, latency and fault
//! knobs, a seeded market model, and a Solana chain (LiteSVM) where transactions really run.
//!
//! Dev and sandbox only: no library crate depends on it. Its wire types are its own, written
//! from the specs, so tests compare two independent implementations.
//!
//! Start services in process with [`Sandbox`], or as a separate process with the
//! `galileo-sim` binary. Any [`Service`] can be hosted: the core gives it limits, faults,
//! latency, TLS, HTTP/1.1 and HTTP/2, and stats.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod aggregators;
pub mod app;
pub mod chain;
pub mod config;
mod controls;
mod error;
pub mod faults;
pub mod jito;
mod latency;
pub mod limits;
pub mod market;
mod sandbox;
mod server;
pub mod service;
pub mod solana;
pub mod stats;
mod tasks;
pub mod titan;
mod tls;
pub mod world;

pub use config::{
    BucketConfig, FaultsConfig, LatencyConfig, LimitsConfig, RetryAfterMode, ServiceConfig,
};
pub use controls::Controls;
pub use error::SimError;
pub use faults::Fault;
pub use sandbox::{Sandbox, SandboxBuilder};
pub use server::RunningService;
pub use service::{RequestContext, Service, SimBody};
pub use stats::{Counters, RequestRecord, Stats, StatsSnapshot};
pub use tasks::Tasks;
pub use tls::Ca;
