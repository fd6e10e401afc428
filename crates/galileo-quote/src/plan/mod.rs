//! What to quote: trade pairs from base × intermediate mints, trade sizes from lanes.
//!
//! Both are computed once at start (strategy semantics §2–3): the pairs and each base mint's
//! sizes feed a [`Schedule`](crate::Schedule).

mod lanes;
mod pairs;

pub use lanes::{Lane, LaneStrategy, SizeJitter, trade_sizes};
pub use pairs::{TradePair, trade_pairs};
