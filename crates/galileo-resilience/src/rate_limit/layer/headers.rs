//! The rate-limit response headers.

use std::time::Duration;

use http::{HeaderMap, HeaderValue};

use crate::rate_limit::TierDecision;

/// Whole seconds, rounded up (a client told "0" would come back too early).
fn secs(d: Duration) -> HeaderValue {
    HeaderValue::from(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

/// Writes `X-RateLimit-*` (and `Retry-After` on a denial). Nothing when no tier applied.
pub(crate) fn write(headers: &mut HeaderMap, d: &TierDecision) {
    if d.tier.is_none() {
        return;
    }
    let d = &d.decision;
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", secs(d.reset));
    // A request whose cost exceeds the limit never fits: no Retry-After would be true, so none
    // is sent (a "0" would make clients retry at once, forever).
    if let (false, Some(wait)) = (d.allowed, d.retry_after) {
        headers.insert(http::header::RETRY_AFTER, secs(wait));
    }
}
