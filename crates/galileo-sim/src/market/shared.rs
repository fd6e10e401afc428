//! The handle the simulated services share.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::Market;

/// A [`Market`] behind a read-write lock, cheap to clone. Quotes take the read lock (they
/// never write), trades and scripting the write lock; no lock is held across an `.await`.
#[derive(Clone, Debug)]
pub struct SharedMarket(Arc<RwLock<Market>>);

impl SharedMarket {
    /// Shares `market`.
    pub fn new(market: Market) -> Self {
        SharedMarket(Arc::new(RwLock::new(market)))
    }

    /// Reads the market (quotes, prices, snapshots).
    pub fn read(&self) -> RwLockReadGuard<'_, Market> {
        // A panic elsewhere cannot leave a market half-updated in a way that matters to a
        // simulator: keep serving.
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the market (trades, scripting).
    pub fn write(&self) -> RwLockWriteGuard<'_, Market> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}
