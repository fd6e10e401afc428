//! A tower layer that rate-limits inbound HTTP (feature `tower`): a denied request gets
//! `429 Too Many Requests` with `Retry-After`; every limited response carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds).
//!
//! Meant for the binary's admin API, not the trading hot path: its response future is boxed
//! (one allocation per inbound request), because it holds the limiter's check.

mod future;
mod headers;
#[allow(clippy::module_inception)]
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::RateLimitLayer;
pub use service::RateLimitService;
