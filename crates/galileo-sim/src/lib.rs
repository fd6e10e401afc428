//! Local simulators of the APIs Galileo speaks: Jupiter, Ultra, DFlow, Titan, Solana JSON-RPC
//! and the Jito block engine, with per-source-IP, per-key and global limits, latency and fault
//! knobs, a seeded market model, and a Solana chain (LiteSVM) where transactions really run.
//!
//! Dev and sandbox only: no library crate depends on it. Its wire types are its own, written
//! from the specs, so tests compare two independent implementations.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod chain;
pub mod jito;
pub mod market;
pub mod service;
pub mod solana;

pub use service::{RequestContext, Service, SimBody};
