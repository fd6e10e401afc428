//! One chain shared by every service, and the market it reports landed swaps to.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use tracing::debug;

use super::Chain;
use super::trades::LandedSwap;
use crate::market::{Hop, SharedMarket};

/// A chain shared by services; lock it briefly and never across an `.await`.
///
/// Built [`with_market`](SharedChain::with_market), every venue swap that lands (through the
/// RPC, a bundle or an aggregator's execute) is reported to the market once the chain's lock
/// is released ([`Market::record_trade`](crate::market::Market::record_trade)), so a traded
/// dislocation closes for everyone.
#[derive(Clone, Debug)]
pub struct SharedChain {
    chain: Arc<Mutex<Chain>>,
    market: Option<SharedMarket>,
}

impl SharedChain {
    /// Shares `chain`; landed swaps are reported to no market.
    pub fn new(chain: Chain) -> Self {
        SharedChain {
            chain: Arc::new(Mutex::new(chain)),
            market: None,
        }
    }

    /// Shares `chain` and reports its landed swaps to `market`. The chain's venues must carry
    /// the market's venue names and its mints the market's addresses; swaps the market does
    /// not know are skipped.
    pub fn with_market(chain: Chain, market: SharedMarket) -> Self {
        SharedChain {
            chain: Arc::new(Mutex::new(chain)),
            market: Some(market),
        }
    }

    /// The market landed swaps are reported to.
    pub fn market(&self) -> Option<&SharedMarket> {
        self.market.as_ref()
    }

    /// Locks the chain. A panic while it was held (a bug) does not poison it for the others.
    /// Dropping the guard reports the swaps that landed meanwhile, after unlocking: never hold
    /// a guard of the market while dropping a guard that submitted.
    pub fn lock(&self) -> ChainGuard<'_> {
        ChainGuard {
            guard: Some(self.chain.lock().unwrap_or_else(|e| e.into_inner())),
            market: self.market.as_ref(),
        }
    }
}

/// A locked [`SharedChain`].
#[derive(Debug)]
pub struct ChainGuard<'a> {
    guard: Option<MutexGuard<'a, Chain>>,
    market: Option<&'a SharedMarket>,
}

impl Deref for ChainGuard<'_> {
    type Target = Chain;

    fn deref(&self) -> &Chain {
        self.guard.as_ref().expect("held until drop")
    }
}

impl DerefMut for ChainGuard<'_> {
    fn deref_mut(&mut self) -> &mut Chain {
        self.guard.as_mut().expect("held until drop")
    }
}

impl Drop for ChainGuard<'_> {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        let trades = guard.take_trades();
        drop(guard);
        let Some(market) = self.market else {
            return;
        };
        if !trades.is_empty() {
            report(market, &trades);
        }
    }
}

/// Tells the market about `trades`, one call per transaction.
fn report(market: &SharedMarket, trades: &[LandedSwap]) {
    let mut m = market.write();
    for tx in trades.chunk_by(|a, b| a.signature == b.signature) {
        let hops: Vec<Hop> = tx
            .iter()
            .filter_map(|s| {
                Some(Hop {
                    venue: m.venue(&s.venue).ok()?,
                    input_mint: m.mint_by_address(&s.input_mint).ok()?,
                    output_mint: m.mint_by_address(&s.output_mint).ok()?,
                })
            })
            .collect();
        let closed = m.record_trade(&hops, tx[0].landed_at);
        if !closed.is_empty() {
            debug!(signature = %tx[0].signature, ?closed, "a landed trade closed dislocations");
        }
    }
}
