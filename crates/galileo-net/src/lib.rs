//! Source-IP ownership for Solana bots: find the IPs this host may use, lease them to
//! requests with pacing and backoff, and send HTTP(S) from exactly the leased IP.
//!
//! - [`Inventory`]: source IPs from interfaces, a manual list and CIDR ranges (IPv6 ranges via
//!   freebind), minus a blacklist, each probe-bound at start; failures are quarantined with
//!   their reason.
//! - [`IpAllocator`] and [`IpLease`]: leases by task kind and cost; least loaded then least
//!   recently used; per-IP in-flight limits that shrink on 429 bursts and grow back (AIMD);
//!   exponential cooldowns that honour `Retry-After`; proactive per-(IP, backend) rates;
//!   sticky, specific and excluding targets; priority so landing never waits behind quotes.
//!   Waiting never spins: releases hand capacity to the next waiter, and a waiter heading a
//!   line blocked by the clock sleeps to the exact instant a cooldown ends or a budget refills.
//!   No background task: it works on any tokio runtime with time enabled.
//! - [`HttpClient`] and [`BoundHttpClient`]: hyper + rustls clients, one per IP (so a connection
//!   opened from one IP never carries a request leased to another), HTTP/1.1 and HTTP/2 by
//!   ALPN, a timeout, response classification, and the outcome reported to the lease.
//! - [`BoundHttpClient::connect_stream`]: a TCP (+TLS) stream from the leased IP, for WebSocket
//!   clients.
//!
//! The policies are sans-IO state machines that take `now` ([`tokio::time::Instant`]); the
//! async parts are thin, so tests run them on paused time.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod allocator;
mod config;
mod error;
mod inventory;
mod lease;
pub mod metrics;
mod outcome;
pub mod slot;
mod socket;
mod transport;

pub use allocator::{
    Acquire, AllocatorBuilder, BackendId, Capacity, IpAllocator, LeaseRequest, SlotSnapshot,
    Target, TaskKind,
};
pub use config::{BackendConfig, CooldownConfig, HttpConfig, NetworkConfig, RangeConfig};
pub use error::{HttpFailure, NetError};
pub use inventory::{Inventory, Origin, QuarantineReason, Quarantined, SourceIp};
pub use lease::IpLease;
pub use outcome::{Outcome, parse_retry_after};
pub use slot::{LeaseMode, SlotState};
pub use transport::{
    BoundHttpClient, BoundHttpClientBuilder, BoundStream, HttpClient, RequestTimeout,
};
