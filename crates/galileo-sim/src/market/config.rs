//! The market's configuration: mints, venues, the walk and the dislocations.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;

/// The most mints a market may have.
pub const MAX_MINTS: usize = 1024;
/// The most venues a market may have.
pub const MAX_VENUES: usize = 256;

/// The whole market model. Every field has a default, so `MarketConfig::default()` (WSOL, USDC
/// and JUP on four venues, with dislocations) is usable as is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketConfig {
    /// Seeds every random draw: the same seed gives the same market.
    pub seed: u64,
    /// The walk's step: prices change at most once per tick (milliseconds, ≥ 1).
    pub tick_ms: u64,
    /// The tradable mints (at least two).
    pub mints: Vec<MintConfig>,
    /// The venues that quote them (at least one; two for dislocations).
    pub venues: Vec<VenueConfig>,
    /// The random walk of every mint's price.
    pub walk: WalkConfig,
    /// Random dislocations: one venue's price for one mint moving away from the others.
    pub dislocations: DislocationConfig,
}

/// One mint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintConfig {
    /// A base58 address (then that is the mint's address) or a symbol (then the address is
    /// derived from it). Quotes accept either.
    pub id: String,
    /// Decimals of the token (≤ 18): one whole token is `10^decimals` base units.
    pub decimals: u8,
    /// The reference price of one whole token in the quote unit (e.g. USD), in `[1e-9, 1e9]`.
    pub price: f64,
    /// This mint's walk volatility, overriding `walk.volatility_bps` (0 pins a stablecoin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volatility_bps: Option<f64>,
}

/// One venue (a DEX as the aggregators label it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// The label aggregators show (`"HumidiFi"`, `"Meteora DLMM"`, ...).
    pub name: String,
    /// Full bid-ask spread: every swap pays half of it.
    pub spread_bps: u32,
    /// Fee on every swap, taken from the output.
    pub fee_bps: u32,
    /// Reserves per side in quote units. A trade worth `v` loses `v / (depth + v)` to price
    /// impact (a constant-product pool), and trades worth more than `depth` are refused.
    pub depth: u64,
    /// How far (at most) this venue's mid wanders from the fair price, independently per mint.
    /// Kept small enough that no round trip profits from it (checked at validation).
    #[serde(default)]
    pub basis_bps: u32,
}

/// The random walk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WalkConfig {
    /// Typical (standard deviation of the) move of a mint's fair price per tick.
    pub volatility_bps: f64,
    /// Hard bound on the distance between a mint's fair price and its reference: the walk
    /// wanders like a Brownian motion up to the time scale where it would cross this bound,
    /// and no further, so long runs keep realistic prices.
    pub max_drift_bps: u32,
}

/// Random dislocations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DislocationConfig {
    /// Mean number opening per minute of (unfrozen) walk time, over the whole market; 0 turns
    /// them off.
    pub per_minute: f64,
    /// Smallest move of the venue's price. It must exceed the costliest round trip (spreads,
    /// fees and basis of two venues), so that every dislocation is profitable at small size.
    pub min_bps: u32,
    /// Largest move.
    pub max_bps: u32,
    /// Shortest life (milliseconds of walk time; at least one tick).
    pub min_duration_ms: u64,
    /// Longest life.
    pub max_duration_ms: u64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        let mint = |id: &str, decimals, price, volatility_bps| MintConfig {
            id: id.to_owned(),
            decimals,
            price,
            volatility_bps,
        };
        let venue = |name: &str, spread_bps, fee_bps, depth, basis_bps| VenueConfig {
            name: name.to_owned(),
            spread_bps,
            fee_bps,
            depth,
            basis_bps,
        };
        MarketConfig {
            seed: 0x06a1_11e0,
            tick_ms: 100,
            mints: vec![
                mint(
                    "So11111111111111111111111111111111111111112",
                    9,
                    165.0,
                    None,
                ),
                mint(
                    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
                    6,
                    1.0,
                    Some(0.0),
                ),
                mint("JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", 6, 0.5, None),
            ],
            venues: vec![
                venue("HumidiFi", 4, 2, 5_000_000, 1),
                venue("TesseraV", 5, 2, 3_000_000, 1),
                venue("SolFiV2", 6, 3, 2_000_000, 1),
                venue("Meteora DLMM", 10, 5, 1_000_000, 1),
            ],
            walk: WalkConfig::default(),
            dislocations: DislocationConfig::default(),
        }
    }
}

impl Default for WalkConfig {
    fn default() -> Self {
        WalkConfig {
            volatility_bps: 0.5,
            max_drift_bps: 300,
        }
    }
}

impl Default for DislocationConfig {
    fn default() -> Self {
        DislocationConfig {
            per_minute: 6.0,
            min_bps: 30,
            max_bps: 80,
            min_duration_ms: 2_000,
            max_duration_ms: 8_000,
        }
    }
}

/// A configuration the market refuses, with what to change.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `tick_ms` out of range.
    #[error("market.tick_ms = {0}: use 1 to 3,600,000 ms")]
    Tick(u64),
    /// Too few or too many mints.
    #[error("market.mints has {0} entries: configure 2 to {MAX_MINTS}")]
    MintCount(usize),
    /// Too few or too many venues.
    #[error("market.venues has {0} entries: configure 1 to {MAX_VENUES}")]
    VenueCount(usize),
    /// Two mints share an id or an address.
    #[error("market mint {0:?} is configured twice (ids and addresses must be unique)")]
    DuplicateMint(String),
    /// Two venues share a name.
    #[error("market venue {0:?} is configured twice")]
    DuplicateVenue(String),
    /// A mint field out of range.
    #[error("market mint {mint:?}: {problem}")]
    Mint {
        /// The mint's id.
        mint: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// A venue field out of range.
    #[error("market venue {venue:?}: {problem}")]
    Venue {
        /// The venue's name.
        venue: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// Two venues whose basis could pay for a round trip.
    #[error(
        "market venues {0:?} and {1:?}: their basis_bps could pay for a round trip through \
         both (half of each spread plus each fee), so round trips would profit with no \
         dislocation: lower basis_bps or raise spread_bps / fee_bps"
    )]
    BasisTooWide(String, String),
    /// The walk's parameters.
    #[error("market.walk: {0}")]
    Walk(String),
    /// The dislocations' parameters.
    #[error("market.dislocations: {0}")]
    Dislocations(String),
}

impl MarketConfig {
    /// Checks every field; [`super::Market::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=3_600_000).contains(&self.tick_ms) {
            return Err(ConfigError::Tick(self.tick_ms));
        }
        if !(2..=MAX_MINTS).contains(&self.mints.len()) {
            return Err(ConfigError::MintCount(self.mints.len()));
        }
        if !(1..=MAX_VENUES).contains(&self.venues.len()) {
            return Err(ConfigError::VenueCount(self.venues.len()));
        }
        self.walk.validate()?;
        for (i, m) in self.mints.iter().enumerate() {
            m.validate(&self.walk)?;
            let clash = self.mints[..i]
                .iter()
                .any(|o| o.id == m.id || mint_address(&o.id) == mint_address(&m.id));
            if clash {
                return Err(ConfigError::DuplicateMint(m.id.clone()));
            }
        }
        for v in &self.venues {
            v.validate()?;
        }
        for (i, v) in self.venues.iter().enumerate() {
            if self.venues[..i].iter().any(|o| o.name == v.name) {
                return Err(ConfigError::DuplicateVenue(v.name.clone()));
            }
            // Through one venue the basis cancels; through two it must not pay for the trip.
            for o in &self.venues[..i] {
                if round_trip_factor(o, v, true) >= 1.0 - 1e-12 {
                    return Err(ConfigError::BasisTooWide(o.name.clone(), v.name.clone()));
                }
            }
        }
        self.dislocations.validate(self)?;
        self.check_representable()
    }

    /// Every venue's depth, in any mint at its lowest possible price, fits a `u64` of base
    /// units: a quote within depth can always state its output.
    fn check_representable(&self) -> Result<(), ConfigError> {
        let low = (1.0 - f64::from(self.walk.max_drift_bps) / 1e4)
            * (1.0 - f64::from(self.dislocations.max_bps) / 1e4).max(0.1);
        for m in &self.mints {
            for v in &self.venues {
                let lowest = m.price * low * (1.0 - f64::from(v.basis_bps) / 1e4);
                let units = v.depth as f64 * 10f64.powi(i32::from(m.decimals)) / lowest;
                if units >= 2f64.powi(63) {
                    return Err(ConfigError::Mint {
                        mint: m.id.clone(),
                        problem: format!(
                            "venue {:?}'s depth of {} is {units:.3e} base units of this mint, \
                             beyond a u64: lower the depth or the decimals, or raise the price",
                            v.name, v.depth
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

impl MintConfig {
    fn validate(&self, walk: &WalkConfig) -> Result<(), ConfigError> {
        let problem = |p: String| ConfigError::Mint {
            mint: self.id.clone(),
            problem: p,
        };
        if self.id.is_empty() {
            return Err(problem(
                "the id is empty: give a base58 address or a symbol".into(),
            ));
        }
        if self.decimals > 18 {
            return Err(problem(format!(
                "decimals = {}: use 0 to 18",
                self.decimals
            )));
        }
        if !(self.price.is_finite() && (1e-9..=1e9).contains(&self.price)) {
            return Err(problem(format!("price = {}: use 1e-9 to 1e9", self.price)));
        }
        if let Some(v) = self.volatility_bps {
            check_volatility(v, walk.max_drift_bps).map_err(problem)?;
        }
        Ok(())
    }
}

/// What a round trip through venues `a` and `b` returns per unit at zero size with no
/// dislocation, at best (`favourable`) or at worst: both venues' half spreads and fees, and
/// bases that can move each cross rate by up to `(1 ± basis) / (1 ∓ basis)`.
fn round_trip_factor(a: &VenueConfig, b: &VenueConfig, favourable: bool) -> f64 {
    let swap = |v: &VenueConfig| {
        let basis = f64::from(v.basis_bps) / 1e4;
        let basis = if favourable { basis } else { -basis };
        (1.0 - f64::from(v.spread_bps) / 2e4) * (1.0 - f64::from(v.fee_bps) / 1e4) * (1.0 + basis)
            / (1.0 - basis)
    };
    swap(a) * swap(b)
}

impl VenueConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let problem = |p: String| ConfigError::Venue {
            venue: self.name.clone(),
            problem: p,
        };
        if self.name.is_empty() {
            return Err(problem("the name is empty".into()));
        }
        if self.spread_bps > 5_000 || self.fee_bps > 5_000 || self.basis_bps > 1_000 {
            return Err(problem(format!(
                "spread_bps = {}, fee_bps = {}, basis_bps = {}: use at most 5000, 5000 and 1000",
                self.spread_bps, self.fee_bps, self.basis_bps
            )));
        }
        if self.spread_bps + self.fee_bps == 0 {
            return Err(problem(
                "spread_bps + fee_bps = 0: a venue must charge something, or round trips \
                 through it would be free: raise spread_bps or fee_bps"
                    .into(),
            ));
        }
        if !(1..=100_000_000_000).contains(&self.depth) {
            return Err(problem(format!(
                "depth = {}: use 1 to 1e11 quote units",
                self.depth
            )));
        }
        Ok(())
    }
}

fn check_volatility(volatility_bps: f64, max_drift_bps: u32) -> Result<(), String> {
    if !(volatility_bps.is_finite() && (0.0..=1_000.0).contains(&volatility_bps)) {
        return Err(format!("volatility_bps = {volatility_bps}: use 0 to 1000"));
    }
    // The finest octave's amplitude alone must fit under the drift bound.
    if volatility_bps * 0.866 > f64::from(max_drift_bps) {
        return Err(format!(
            "volatility_bps = {volatility_bps} cannot move within max_drift_bps = \
             {max_drift_bps}: raise max_drift_bps or lower the volatility"
        ));
    }
    Ok(())
}

impl WalkConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_drift_bps > 5_000 {
            return Err(ConfigError::Walk(format!(
                "max_drift_bps = {}: use at most 5000 (50 %)",
                self.max_drift_bps
            )));
        }
        check_volatility(self.volatility_bps, self.max_drift_bps).map_err(ConfigError::Walk)
    }
}

impl DislocationConfig {
    fn validate(&self, market: &MarketConfig) -> Result<(), ConfigError> {
        let err = |p: String| Err(ConfigError::Dislocations(p));
        if !(self.per_minute.is_finite() && self.per_minute >= 0.0) {
            return err(format!("per_minute = {}: use 0 or more", self.per_minute));
        }
        if self.per_minute == 0.0 {
            return Ok(());
        }
        if market.venues.len() < 2 {
            return err("they need at least two venues: add one or set per_minute = 0".into());
        }
        if !(self.min_bps <= self.max_bps && self.max_bps <= 5_000 && self.min_bps > 0) {
            return err(format!(
                "min_bps = {}, max_bps = {}: use 0 < min_bps ≤ max_bps ≤ 5000",
                self.min_bps, self.max_bps
            ));
        }
        let tick = market.tick_ms;
        if !(tick <= self.min_duration_ms
            && self.min_duration_ms <= self.max_duration_ms
            && self.max_duration_ms <= 86_400_000)
        {
            return err(format!(
                "min_duration_ms = {}, max_duration_ms = {}: use tick_ms ({tick}) ≤ min ≤ max ≤ \
                 one day",
                self.min_duration_ms, self.max_duration_ms
            ));
        }
        if self.per_minute * tick as f64 / 60_000.0 > 4.0 {
            return err(format!(
                "per_minute = {} is more than 4 per tick: lower it or shorten tick_ms",
                self.per_minute
            ));
        }
        // The costliest round trip through two distinct venues, bases against it.
        let worst = market
            .venues
            .iter()
            .enumerate()
            .flat_map(|(i, a)| market.venues[i + 1..].iter().map(move |b| (a, b)))
            .map(|(a, b)| round_trip_factor(a, b, false))
            .fold(1.0f64, f64::min);
        // A basis point of margin: a dislocation must leave something after every cost.
        if (1.0 + f64::from(self.min_bps) / 1e4) * worst < 1.0001 {
            return err(format!(
                "min_bps = {} does not pay for the costliest round trip (spreads, fees and basis \
                 of two venues) with a basis point to spare: raise min_bps",
                self.min_bps
            ));
        }
        Ok(())
    }
}

/// A configured id's address: itself when it is a base58 address, else derived from it.
pub(crate) fn mint_address(id: &str) -> Pubkey {
    Pubkey::from_str(id).unwrap_or_else(|_| {
        let mut h = Sha256::new();
        h.update(b"galileo-sim:mint:");
        h.update(id.as_bytes());
        Pubkey::new_from_array(h.finalize().into())
    })
}
