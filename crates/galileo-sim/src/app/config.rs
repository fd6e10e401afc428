//! The `galileo-sim` TOML file: the world, which services run, and each one's settings.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::aggregators::{DflowConfig, JupiterConfig, UltraConfig};
use crate::chain::ChainConfig;
use crate::config::ServiceConfig;
use crate::error::SimError;
use crate::jito::JitoConfig;
use crate::market::MarketConfig;
use crate::solana::SolanaRpcConfig;
use crate::titan::TitanConfig;
use crate::world::WorldConfig;

/// The whole file.
///
/// ```toml
/// seed = 7                      # seeds the market and the chain
/// [market]                      # MarketConfig: mints, venues, walk, dislocations
/// [chain]                       # ChainConfig: slots, users, mints' balances
/// [services.solana]             # present = runs; ServiceConfig: bind, port, tls, limits...
/// port = 8899
/// [services.jito]
/// [solana]                      # the service's own settings
/// [jito]
/// tip_payer_limit = { rate = 5.0, burst = 5 }
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seeds both the market and the chain when set.
    pub seed: Option<u64>,
    /// The market model.
    pub market: Option<MarketConfig>,
    /// The chain (its venues and mints follow the market; see [`WorldConfig`]).
    pub chain: Option<ChainConfig>,
    /// Which services run, and how they are served.
    pub services: Services,
    /// The Solana JSON-RPC service.
    pub solana: SolanaRpcConfig,
    /// The Jito block engine.
    pub jito: JitoConfig,
    /// The Titan WebSocket service.
    pub titan: TitanConfig,
    /// Jupiter's swap API.
    pub jupiter: JupiterConfig,
    /// Jupiter Ultra.
    pub ultra: UltraConfig,
    /// DFlow.
    pub dflow: DflowConfig,
}

/// The services to run: a section present runs that service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Services {
    /// Solana JSON-RPC.
    pub solana: Option<ServiceConfig>,
    /// A second Solana JSON-RPC endpoint on the same chain (the "staked" role).
    pub solana_staked: Option<ServiceConfig>,
    /// The Jito block engine.
    pub jito: Option<ServiceConfig>,
    /// Titan's WebSocket API.
    pub titan: Option<ServiceConfig>,
    /// Jupiter's swap API.
    pub jupiter: Option<ServiceConfig>,
    /// Jupiter Ultra.
    pub ultra: Option<ServiceConfig>,
    /// DFlow.
    pub dflow: Option<ServiceConfig>,
}

impl SimConfig {
    /// Parses a TOML document; errors name the line and the key.
    pub fn parse(text: &str, origin: &str) -> Result<SimConfig, SimError> {
        toml::from_str(text).map_err(|e| SimError::ConfigFile {
            path: origin.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<SimConfig, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::ConfigFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Every service, default settings, on 127.0.0.1 with ephemeral ports.
    pub fn all_services() -> SimConfig {
        SimConfig {
            services: Services {
                solana: Some(ServiceConfig::default()),
                solana_staked: None,
                jito: Some(ServiceConfig::default()),
                titan: Some(ServiceConfig::default()),
                jupiter: Some(ServiceConfig::default()),
                ultra: Some(ServiceConfig::default()),
                dflow: Some(ServiceConfig::default()),
            },
            ..SimConfig::default()
        }
    }

    /// The world's part.
    pub fn world(&self) -> WorldConfig {
        let default = WorldConfig::default();
        WorldConfig {
            seed: self.seed,
            market: self.market.clone().unwrap_or(default.market),
            chain: self.chain.clone().unwrap_or(default.chain),
        }
    }
}
