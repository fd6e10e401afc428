//! [`BreakerRegistry`]: breakers by name, their stats, and one stream of their state changes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::broadcast;

use super::async_breaker::EVENT_CAPACITY;
use super::{Breaker, BreakerConfig, BreakerEvent, BreakerStats};
use crate::Error;

/// Breakers keyed by name, sharing one event channel. Cloning is cheap (an `Arc`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::breaker::{BreakerConfig, BreakerRegistry, State};
///
/// let registry = BreakerRegistry::new();
/// let mut events = registry.subscribe();
/// let cfg = BreakerConfig { failure_threshold: 1, ..Default::default() };
/// let dflow = registry.get_or_create("dflow", &cfg)?;
/// let _ = dflow.call(async { Err::<(), &str>("connection reset") }).await;
///
/// let event = events.recv().await.unwrap();
/// assert_eq!((&*event.name, event.transition.to), ("dflow", State::Open));
/// let stats = registry.snapshot();
/// assert_eq!((stats[0].name.as_str(), stats[0].state), ("dflow", State::Open));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BreakerRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    breakers: RwLock<BTreeMap<Arc<str>, Breaker>>,
    events: broadcast::Sender<BreakerEvent>,
}

impl Default for BreakerRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerRegistry {
    /// An empty registry whose event channel holds 256 events for a slow subscriber.
    pub fn new() -> Self {
        Self::with_event_capacity(EVENT_CAPACITY)
    }

    /// An empty registry whose event channel holds `capacity` events (at least 1).
    pub fn with_event_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                breakers: RwLock::new(BTreeMap::new()),
                events: broadcast::channel(capacity.max(1)).0,
            }),
        }
    }

    /// The breaker named `name`, made with `config` on first use.
    ///
    /// Asking again with the same configuration returns the same breaker (clones share
    /// state). Asking with a different one is an error: two parts of a program disagree about
    /// the breaker, and silently keeping either would hide it.
    pub fn get_or_create(&self, name: &str, config: &BreakerConfig) -> Result<Breaker, Error> {
        if let Some(b) = self.get(name) {
            return Self::same_config(b, config);
        }
        let mut map = self
            .inner
            .breakers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = map.get(name) {
            return Self::same_config(b.clone(), config);
        }
        let breaker = Breaker::builder(name, config.clone())
            .events(self.inner.events.clone())
            .build()?;
        map.insert(name.into(), breaker.clone());
        Ok(breaker)
    }

    fn same_config(b: Breaker, config: &BreakerConfig) -> Result<Breaker, Error> {
        if b.config() == *config {
            Ok(b)
        } else {
            Err(Error::InvalidConfig {
                what: "circuit breaker",
                reason: format!(
                    "breaker `{}` already exists with another configuration: give each configuration its own name, or share one configuration",
                    b.name()
                ),
            })
        }
    }

    /// The breaker named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Breaker> {
        self.inner
            .breakers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// The names of every breaker, sorted.
    pub fn names(&self) -> Vec<String> {
        self.breakers()
            .iter()
            .map(|b| b.name().to_owned())
            .collect()
    }

    /// The state and counts of every breaker, sorted by name.
    pub fn snapshot(&self) -> Vec<BreakerStats> {
        // Copy the list first so no breaker lock is taken under the registry's lock.
        self.breakers().iter().map(Breaker::stats).collect()
    }

    /// State changes of every breaker in the registry, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BreakerEvent> {
        self.inner.events.subscribe()
    }

    /// How many breakers there are.
    pub fn len(&self) -> usize {
        self.inner
            .breakers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn breakers(&self) -> Vec<Breaker> {
        self.inner
            .breakers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

impl fmt::Debug for BreakerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerRegistry")
            .field("breakers", &self.names())
            .finish()
    }
}
