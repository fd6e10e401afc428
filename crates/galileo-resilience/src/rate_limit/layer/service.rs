//! The service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};

use super::{ResponseFuture, headers};
use crate::rate_limit::{OwnedSubject, RateLimiter};

/// A service behind a rate limiter; built by [`RateLimitLayer`](super::RateLimitLayer).
#[derive(Debug)]
pub struct RateLimitService<S, L, F> {
    inner: S,
    limiter: Arc<L>,
    subject: F,
    cost: u32,
}

impl<S: Clone, L, F: Clone> Clone for RateLimitService<S, L, F> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            limiter: self.limiter.clone(),
            subject: self.subject.clone(),
            cost: self.cost,
        }
    }
}

impl<S, L, F> RateLimitService<S, L, F> {
    pub(crate) fn new(inner: S, limiter: Arc<L>, subject: F, cost: u32) -> Self {
        Self {
            inner,
            limiter,
            subject,
            cost,
        }
    }
}

impl<S, L, F, B, RB> tower_service::Service<Request<B>> for RateLimitService<S, L, F>
where
    S: tower_service::Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    L: RateLimiter + 'static,
    F: Fn(&Request<B>) -> OwnedSubject,
    B: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = ResponseFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let subject = (self.subject)(&req);
        let limiter = self.limiter.clone();
        let cost = self.cost;
        // The ready service goes into the future; a fresh clone waits for the next poll_ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(async move {
            let decision = limiter.check(&subject.as_subject(), cost).await;
            if !decision.allowed() {
                if decision.decision.retry_after.is_none() {
                    tracing::warn!(
                        tier = ?decision.tier,
                        cost,
                        limit = decision.decision.limit,
                        "a request costs more than its rate limit allows at once, so it is always denied: lower the layer's cost or raise the limit"
                    );
                }
                let mut denied = Response::new(RB::default());
                *denied.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                headers::write(denied.headers_mut(), &decision);
                return Ok(denied);
            }
            let mut response = inner.call(req).await?;
            headers::write(response.headers_mut(), &decision);
            Ok(response)
        })
    }
}
