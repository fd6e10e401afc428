//! The driver of `cargo xtask bench`: the measuring stick of the project.
//!
//! `cargo xtask bench [--quick] [--scenario NAME]` builds this crate's `galileo-bench` binary
//! and the `galileo-sim` binary, and runs the first against the second, started as its own
//! process on loopback (`SimProcess`). Five scenarios, each a set of ratios:
//!
//! 1. `known-limits`: the share of the quota ceiling `N·r` Galileo reaches when told `r`, and
//!    its 429 share, next to two peers written here (naive round-robin; the reference bot's
//!    reqwest-per-IP, fixed-cooldown, spin-wait style), for N in 1, 4, 16, 64 loopback IPs;
//! 2. `unknown-limits`: the same with nobody told `r`, as a curve over time;
//! 3. `client-overhead`: requests/s and CPU per request of galileo-net's bound client next
//!    to raw hyper-util (the floor) and reqwest;
//! 4. `lease-scaling`: lease acquire + release cost at 8 to 4,096 slots;
//! 5. `memory`: RSS with 1,024 IPs each holding a live HTTPS connection.
//!
//! Every figure is the median of several runs with min and max; the report is printed as a
//! table and written to `report.json` and `report.svg`.
//!
//! The driver is its own crate, not part of xtask, so that `cargo xtask` builds in seconds
//! (clap and anyhow) while the bench brings galileo-net, reqwest and hyper-util, and so that
//! the bench can be built in release while xtask is not.
#![deny(missing_docs)]

mod error;
mod progress;
pub mod quota;
pub mod report;
pub mod scenario;
mod sim;
mod sources;
mod summary;
mod timeline;
pub mod usage;

pub use error::BenchError;
pub use progress::Progress;
pub use sim::{Bucket, Limits, Sim, SimCounters, SimProcess, SimStats};
pub use sources::{MAX_SOURCES, inventory, loopback_sources};
pub use summary::Summary;
pub use timeline::{Answer, Counts, Timeline};
