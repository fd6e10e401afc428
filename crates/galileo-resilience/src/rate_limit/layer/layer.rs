//! The layer.

use std::sync::Arc;

use super::RateLimitService;

/// Wraps a service so every request first passes the limiter.
///
/// `subject` tells what a request is (its source IP, API key, endpoint); `cost` how many cells
/// it takes. See [`RateLimitService`].
///
/// ```
/// use std::sync::Arc;
/// use galileo_resilience::rate_limit::{LocalLimiter, OwnedSubject, RateLimitLayer};
///
/// let limiter = Arc::new(LocalLimiter::new(&toml::from_str(
///     r#"ip = { algorithm = "gcra", requests = 5 }"#,
/// ).unwrap())?);
/// let layer = RateLimitLayer::new(limiter, |req: &http::Request<()>| OwnedSubject {
///     ip: req.headers().get("x-peer").and_then(|v| v.to_str().ok()).map(str::to_owned),
///     ..OwnedSubject::default()
/// });
/// # let _ = layer;
/// # Ok::<(), galileo_resilience::Error>(())
/// ```
#[derive(Debug)]
pub struct RateLimitLayer<L, F> {
    limiter: Arc<L>,
    subject: F,
    cost: u32,
}

impl<L, F: Clone> Clone for RateLimitLayer<L, F> {
    fn clone(&self) -> Self {
        Self {
            limiter: self.limiter.clone(),
            subject: self.subject.clone(),
            cost: self.cost,
        }
    }
}

impl<L, F> RateLimitLayer<L, F> {
    /// Every request costs one cell.
    pub fn new(limiter: Arc<L>, subject: F) -> Self {
        Self {
            limiter,
            subject,
            cost: 1,
        }
    }

    /// Every request costs `cost` cells.
    #[must_use]
    pub fn cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }
}

impl<S, L, F: Clone> tower_layer::Layer<S> for RateLimitLayer<L, F> {
    type Service = RateLimitService<S, L, F>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService::new(inner, self.limiter.clone(), self.subject.clone(), self.cost)
    }
}
