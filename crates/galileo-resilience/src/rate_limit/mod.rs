//! Rate limiting: GCRA cells, keyed maps of them, and an async wrapper that waits for them.
//!
//! Everything here is sans-IO except [`AsyncKeyedLimiter`]: the state machines take `now` as a
//! [`tokio::time::Instant`], so tests drive them on paused time.

mod gcra;
mod keyed;
mod quota;
mod wait;

pub use gcra::{Admitted, Denied, Gcra};
pub use keyed::KeyedGcra;
pub use quota::Quota;
pub use quota::QuotaSpec;
pub use wait::AsyncKeyedLimiter;
