//! One configuration for the market and the chain, and how the chain follows the market.

use std::collections::BTreeSet;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

use crate::chain::{ChainConfig, MintConfig as ChainMint, VenueConfig as ChainVenue};
use crate::error::SimError;
use crate::market::{Market, MarketConfig};

/// Worth of each user's balance of a mint the chain adds for the market, in the market's
/// quote unit.
const USER_WORTH: f64 = 100_000.0;

/// Pools hold this many times the deepest venue's depth, so no quote the market allows runs a
/// pool dry.
const POOL_DEPTH_FACTOR: f64 = 10.0;

/// The market and the chain.
///
/// The chain follows the market: every market venue is a chain venue (same name) and every
/// market mint a chain mint (same address and decimals). Mints and venues the `[chain]`
/// section lists itself keep their settings (and extra ones are allowed); a market mint the
/// chain does not list gets pools worth ten times the deepest venue and user balances worth
/// 100,000 quote units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorldConfig {
    /// When set, seeds both the market and the chain (overriding their own seeds).
    pub seed: Option<u64>,
    /// The market model.
    pub market: MarketConfig,
    /// The chain.
    pub chain: ChainConfig,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            seed: None,
            market: MarketConfig::default(),
            chain: ChainConfig {
                venues: Vec::new(),
                ..ChainConfig::default()
            },
        }
    }
}

impl WorldConfig {
    /// The market's and the chain's configurations, the chain completed from the market.
    pub fn resolve(&self) -> Result<(MarketConfig, ChainConfig), SimError> {
        let mut market = self.market.clone();
        let mut chain = self.chain.clone();
        if let Some(seed) = self.seed {
            market.seed = seed;
            chain.seed = seed;
        }
        market
            .validate()
            .map_err(|e| SimError::config("market", e.to_string()))?;
        // The market derives mint addresses from symbols: ask it.
        let probe = Market::new(market.clone(), tokio::time::Instant::now())
            .map_err(|e| SimError::config("market", e.to_string()))?;
        for venue in &market.venues {
            if !chain.venues.iter().any(|v| v.name == venue.name) {
                chain.venues.push(ChainVenue {
                    name: venue.name.clone(),
                    liquidity: Default::default(),
                });
            }
        }
        let deepest = market.venues.iter().map(|v| v.depth).max().unwrap_or(0) as f64;
        let mut symbols: BTreeSet<String> = chain.mints.iter().map(|m| m.symbol.clone()).collect();
        for (id, mint) in probe.mint_ids().zip(&market.mints) {
            let address = probe.mint_info(id).address();
            let listed = chain.mints.iter().find(|m| {
                m.address
                    .as_deref()
                    .and_then(|a| Pubkey::from_str(a).ok())
                    .is_some_and(|a| a == address)
            });
            match listed {
                Some(m) if m.decimals != mint.decimals => {
                    return Err(SimError::config(
                        "chain",
                        format!(
                            "mint {address} has {} decimals in [chain.mints] but {} in \
                             [market.mints]: make them equal",
                            m.decimals, mint.decimals
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    let symbol = unique_symbol(&mint.id, &mut symbols);
                    let whole = |worth: f64| (worth / mint.price).ceil().max(1.0) as u64;
                    chain.mints.push(ChainMint {
                        symbol,
                        decimals: mint.decimals,
                        address: Some(address.to_string()),
                        pool_liquidity: whole(deepest * POOL_DEPTH_FACTOR),
                        user_balance: whole(USER_WORTH),
                    });
                }
            }
        }
        chain
            .validate()
            .map_err(|e| SimError::config("chain", e.to_string()))?;
        Ok((market, chain))
    }
}

/// A chain symbol for a market mint id (a symbol, or an address shortened), not yet taken.
fn unique_symbol(id: &str, taken: &mut BTreeSet<String>) -> String {
    let base = if Pubkey::from_str(id).is_ok() {
        id.chars().take(6).collect()
    } else {
        id.to_owned()
    };
    let mut symbol = base.clone();
    let mut n = 2;
    while taken.contains(&symbol) {
        symbol = format!("{base}{n}");
        n += 1;
    }
    taken.insert(symbol.clone());
    symbol
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::MintConfig as MarketMint;

    #[test]
    fn the_chain_follows_the_market() {
        let mut cfg = WorldConfig::default();
        cfg.market.mints.push(MarketMint {
            id: "WIF".into(),
            decimals: 6,
            price: 2.0,
            volatility_bps: None,
        });
        let (market, chain) = cfg.resolve().unwrap();
        let probe = Market::new(market.clone(), tokio::time::Instant::now()).unwrap();
        for id in probe.mint_ids() {
            let info = probe.mint_info(id);
            let m = chain
                .mints
                .iter()
                .find(|m| m.address.as_deref() == Some(&info.address().to_string()))
                .unwrap_or_else(|| panic!("chain lacks {}", info.id()));
            assert_eq!(m.decimals, info.decimals());
        }
        for v in &market.venues {
            assert!(chain.venues.iter().any(|c| c.name == v.name), "{}", v.name);
        }
        let wif = chain.mints.iter().find(|m| m.symbol == "WIF").unwrap();
        assert_eq!(wif.user_balance, 50_000);
        assert_eq!(wif.pool_liquidity, 25_000_000);
    }

    #[test]
    fn a_seed_seeds_both_and_conflicts_are_named() {
        let cfg = WorldConfig {
            seed: Some(42),
            ..WorldConfig::default()
        };
        let (market, chain) = cfg.resolve().unwrap();
        assert_eq!((market.seed, chain.seed), (42, 42));

        let mut cfg = WorldConfig::default();
        let usdc = cfg
            .chain
            .mints
            .iter_mut()
            .find(|m| m.symbol == "USDC")
            .unwrap();
        usdc.decimals = 9;
        let e = cfg.resolve().unwrap_err();
        assert!(e.is_config());
        assert!(e.to_string().contains("decimals"), "{e}");
    }
}
