//! State-change events, broadcast to subscribers of a breaker or a registry.

use std::fmt;
use std::sync::Arc;

use super::Transition;

/// One breaker changed state.
///
/// Sent on a `tokio::sync::broadcast` channel from inside the breaker's lock, so the events of
/// one breaker arrive in the order its transitions happened. A subscriber that falls more than
/// the channel's capacity behind gets `RecvError::Lagged` and loses the oldest events; the
/// registry's [`snapshot`](super::BreakerRegistry::snapshot) always has the current state.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerEvent {
    /// The breaker's name.
    pub name: Arc<str>,
    /// What happened.
    pub transition: Transition,
}

impl fmt::Display for BreakerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circuit breaker `{}`: {}", self.name, self.transition)
    }
}
