//! Rate limiting: algorithms (GCRA, sliding window), keyed maps of them, an async wrapper that
//! waits for cells, tiered limits admitted all-or-nothing, and the [`RateLimiter`] trait with
//! an in-process implementation, and a Redis one shared by a fleet (feature `redis`).
//!
//! Everything here is sans-IO except the async wrappers: the state machines take `now` as a
//! [`tokio::time::Instant`], so tests drive them on paused time.

mod algorithm;
mod gcra;
mod keyed;
#[cfg(feature = "tower")]
mod layer;
mod limit;
mod local;
mod quota;
#[cfg(feature = "redis")]
mod redis;
mod sliding;
mod tier;
mod wait;

pub use algorithm::{Algorithm, Decision};
pub use gcra::{Admitted, Denied, Gcra};
pub use keyed::{KeyedGcra, KeyedLimiter};
#[cfg(feature = "tower")]
pub use layer::{RateLimitLayer, RateLimitService, ResponseFuture};
pub use limit::{Limit, LimitSpec, LimitState};
pub use local::{LocalLimiter, RateLimiter};
pub use quota::{Quota, QuotaSpec};
#[cfg(feature = "redis")]
pub use redis::{OnFailure, RedisConfig, RedisLimiter};
pub use sliding::{SlidingWindow, WindowLog};
pub use tier::{OwnedSubject, Subject, Tier, TierDecision, TieredLimiter, TiersConfig};
pub use wait::AsyncKeyedLimiter;
