//! The world the services share: one seeded market and one chain that agree on mints and
//! venues, so a quote from any aggregator turns into instructions that really execute, and a
//! landed swap closes the dislocation it traded.
//!
//! ```
//! # fn demo() -> Result<(), galileo_sim::SimError> {
//! use galileo_sim::world::{World, WorldConfig};
//!
//! let world = World::new(WorldConfig::default(), tokio::time::Instant::now())?;
//! let user = world.users()[0].insecure_clone();
//! let ledger = world.ledger(); // Titan's RouteInstructions, the aggregators' Ledger
//! # let _ = (user, ledger);
//! # Ok(()) }
//! ```

mod config;
mod ledger;

pub use config::WorldConfig;
pub use ledger::ChainLedger;

use solana_keypair::Keypair;
use tokio::time::Instant;

use crate::chain::{Chain, SharedChain};
use crate::error::SimError;
use crate::market::{Market, SharedMarket};

/// A market and a chain built from one [`WorldConfig`]; cheap to clone.
#[derive(Clone, Debug)]
pub struct World {
    market: SharedMarket,
    chain: SharedChain,
}

impl World {
    /// Builds the world; the market's first tick and the chain's first slot start at `now`.
    pub fn new(config: WorldConfig, now: Instant) -> Result<World, SimError> {
        let (market_cfg, chain_cfg) = config.resolve()?;
        let market =
            Market::new(market_cfg, now).map_err(|e| SimError::config("market", e.to_string()))?;
        let chain =
            Chain::new(chain_cfg, now).map_err(|e| SimError::config("chain", e.to_string()))?;
        let market = SharedMarket::new(market);
        let chain = SharedChain::with_market(chain, market.clone());
        Ok(World { market, chain })
    }

    /// The market every quote comes from.
    pub fn market(&self) -> &SharedMarket {
        &self.market
    }

    /// The chain every transaction lands on.
    pub fn chain(&self) -> &SharedChain {
        &self.chain
    }

    /// The chain as the quoting services see it.
    pub fn ledger(&self) -> ChainLedger {
        ChainLedger::new(self.chain.clone())
    }

    /// The funded user wallets (copies: keep them out of logs).
    pub fn users(&self) -> Vec<Keypair> {
        self.chain
            .lock()
            .users()
            .iter()
            .map(Keypair::insecure_clone)
            .collect()
    }
}
