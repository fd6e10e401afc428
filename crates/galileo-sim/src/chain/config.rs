//! What the simulated chain starts with: mints, venues, users, tip accounts and its clock.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

/// The 8 Jito mainnet tip accounts (the block engine's `getTipAccounts`).
pub const JITO_TIP_ACCOUNTS: [&str; 8] = [
    "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5",
    "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe",
    "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY",
    "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49",
    "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh",
    "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
    "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL",
    "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT",
];

/// How many slots a blockhash stays usable after its own slot (`MAX_PROCESSING_AGE`).
pub const MAX_PROCESSING_AGE: u64 = 150;

/// An address lookup table holds at most this many addresses.
pub const LOOKUP_TABLE_MAX_ADDRESSES: usize = 256;

/// The simulated chain's configuration. Deterministic: the same config (seed included) gives
/// the same keys, accounts and blockhashes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// Seed of every derived keypair and blockhash.
    pub seed: u64,
    /// Length of a slot in milliseconds (mainnet: 400).
    pub slot_ms: u64,
    /// The slot at genesis (at least 1, so the lookup table is active from the start).
    pub start_slot: u64,
    /// Unix time of genesis, for `blockTime`.
    pub genesis_unix_time: i64,
    /// Slots after which a landed transaction counts as `confirmed`.
    pub confirmed_depth: u64,
    /// Slots after which a landed transaction counts as `finalized` (mainnet: 32).
    pub finalized_depth: u64,
    /// The SPL mints.
    pub mints: Vec<MintConfig>,
    /// The venues: each holds one pool token account per mint. A file that omits the key has
    /// none (the defaults are for code that builds a chain alone; in a world the chain gets
    /// the market's venues).
    #[serde(default)]
    pub venues: Vec<VenueConfig>,
    /// The sandbox's user wallets.
    pub users: UsersConfig,
    /// The Jito tip accounts (base58), created as system accounts.
    pub tip_accounts: Vec<String>,
    /// Landed transactions kept for statuses, `getTransaction` and assertions. The oldest are
    /// dropped beyond this, but never while their blockhash could still be replayed.
    pub history_capacity: usize,
}

/// One SPL mint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintConfig {
    /// Its symbol (`"USDC"`), unique.
    pub symbol: String,
    /// Decimals of the raw amount.
    pub decimals: u8,
    /// Its address (base58); derived from the seed when absent. Any address works, since the
    /// simulator writes accounts directly; `So11111111111111111111111111111111111111112`
    /// makes native (wrapped SOL) token accounts.
    #[serde(default)]
    pub address: Option<String>,
    /// Liquidity of each venue's pool in whole tokens (a venue may override it).
    #[serde(default = "default_pool_liquidity")]
    pub pool_liquidity: u64,
    /// Balance of each user's associated token account in whole tokens.
    #[serde(default = "default_user_balance")]
    pub user_balance: u64,
}

/// One venue (an AMM in the simulation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Its name (`"raydium"`), unique.
    pub name: String,
    /// Pool liquidity per mint symbol in whole tokens, overriding the mint's `pool_liquidity`.
    #[serde(default)]
    pub liquidity: BTreeMap<String, u64>,
}

/// The sandbox's user wallets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsersConfig {
    /// How many.
    pub count: usize,
    /// SOL of each, in lamports.
    pub lamports: u64,
}

fn default_pool_liquidity() -> u64 {
    1_000_000
}

fn default_user_balance() -> u64 {
    10_000
}

impl Default for UsersConfig {
    fn default() -> Self {
        UsersConfig {
            count: 4,
            lamports: 100_000_000_000,
        }
    }
}

impl Default for ChainConfig {
    fn default() -> Self {
        let mint = |symbol: &str, decimals, address: &str, pool, user| MintConfig {
            symbol: symbol.to_string(),
            decimals,
            address: Some(address.to_string()),
            pool_liquidity: pool,
            user_balance: user,
        };
        ChainConfig {
            seed: 7,
            slot_ms: 400,
            start_slot: 1_000,
            genesis_unix_time: 1_750_000_000,
            confirmed_depth: 1,
            finalized_depth: 32,
            mints: vec![
                mint(
                    "USDC",
                    6,
                    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
                    10_000_000,
                    100_000,
                ),
                mint(
                    "SOL",
                    9,
                    "So11111111111111111111111111111111111111112",
                    50_000,
                    1_000,
                ),
                mint(
                    "JUP",
                    6,
                    "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN",
                    10_000_000,
                    100_000,
                ),
                mint(
                    "BONK",
                    5,
                    "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263",
                    1_000_000_000_000,
                    10_000_000_000,
                ),
            ],
            venues: ["raydium", "orca", "meteora"]
                .into_iter()
                .map(|name| VenueConfig {
                    name: name.to_string(),
                    liquidity: BTreeMap::new(),
                })
                .collect(),
            users: UsersConfig::default(),
            tip_accounts: JITO_TIP_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
            history_capacity: 100_000,
        }
    }
}

/// Why a [`ChainConfig`] was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainConfigError {
    /// `slot_ms` is 0.
    #[error("slot_ms must be at least 1")]
    ZeroSlot,
    /// `start_slot` is 0.
    #[error("start_slot must be at least 1 (the lookup table must be older than the first slot)")]
    ZeroStartSlot,
    /// The commitment depths are out of order or beyond the blockhash window.
    #[error(
        "need confirmed_depth <= finalized_depth <= {MAX_PROCESSING_AGE}, got {confirmed} and {finalized}"
    )]
    Depths {
        /// `confirmed_depth`.
        confirmed: u64,
        /// `finalized_depth`.
        finalized: u64,
    },
    /// Two mints share a symbol.
    #[error("mint symbol {0:?} appears twice")]
    DuplicateSymbol(String),
    /// Two mints share an address.
    #[error("mint address {0} appears twice")]
    DuplicateMint(String),
    /// A symbol is empty.
    #[error("a mint symbol is empty")]
    EmptySymbol,
    /// Not a base58 public key.
    #[error("{field}: {value:?} is not a base58 public key")]
    BadAddress {
        /// Which setting.
        field: &'static str,
        /// What it said.
        value: String,
    },
    /// Whole tokens times `10^decimals` overflow a u64 (or the supply does).
    #[error("amounts of {symbol} overflow a u64 at {decimals} decimals; lower them")]
    Overflow {
        /// The mint.
        symbol: String,
        /// Its decimals.
        decimals: u8,
    },
    /// Two venues share a name.
    #[error("venue {0:?} appears twice")]
    DuplicateVenue(String),
    /// A venue name is empty.
    #[error("a venue name is empty")]
    EmptyVenue,
    /// A venue overrides the liquidity of a mint that does not exist.
    #[error("venue {venue:?} sets liquidity for unknown mint {symbol:?}")]
    UnknownMint {
        /// The venue.
        venue: String,
        /// The symbol it named.
        symbol: String,
    },
    /// More venues than a `u16` index.
    #[error("at most 65536 venues")]
    TooManyVenues,
    /// The lookup table would hold more than 256 addresses.
    #[error(
        "the lookup table would hold {0} addresses (max {LOOKUP_TABLE_MAX_ADDRESSES}); use fewer venues or mints"
    )]
    LookupTableFull(usize),
    /// No tip account.
    #[error("at least one tip account is needed")]
    NoTipAccounts,
    /// `history_capacity` is 0.
    #[error("history_capacity must be at least 1")]
    ZeroHistory,
}

/// A mint after validation.
#[derive(Clone, Debug)]
pub(crate) struct ValidMint {
    pub(crate) symbol: String,
    pub(crate) decimals: u8,
    pub(crate) address: Option<Pubkey>,
    pub(crate) user_balance: u64,
}

pub(crate) fn parse_pubkey(field: &'static str, value: &str) -> Result<Pubkey, ChainConfigError> {
    Pubkey::from_str(value).map_err(|_| ChainConfigError::BadAddress {
        field,
        value: value.to_string(),
    })
}

fn raw(whole: u64, decimals: u8, symbol: &str) -> Result<u64, ChainConfigError> {
    10u64
        .checked_pow(u32::from(decimals))
        .and_then(|unit| whole.checked_mul(unit))
        .ok_or_else(|| ChainConfigError::Overflow {
            symbol: symbol.to_string(),
            decimals,
        })
}

impl ChainConfig {
    /// The length of a slot.
    pub fn slot_duration(&self) -> Duration {
        Duration::from_millis(self.slot_ms)
    }

    /// Checks the configuration; every error says what to change.
    pub fn validate(&self) -> Result<(), ChainConfigError> {
        self.checked().map(|_| ())
    }

    /// Validates and returns the mints with raw amounts, plus the raw pool liquidity per
    /// (venue index, mint index).
    pub(crate) fn checked(&self) -> Result<(Vec<ValidMint>, Vec<Vec<u64>>), ChainConfigError> {
        if self.slot_ms == 0 {
            return Err(ChainConfigError::ZeroSlot);
        }
        if self.start_slot == 0 {
            return Err(ChainConfigError::ZeroStartSlot);
        }
        if self.confirmed_depth > self.finalized_depth || self.finalized_depth > MAX_PROCESSING_AGE
        {
            return Err(ChainConfigError::Depths {
                confirmed: self.confirmed_depth,
                finalized: self.finalized_depth,
            });
        }
        if self.history_capacity == 0 {
            return Err(ChainConfigError::ZeroHistory);
        }
        if self.tip_accounts.is_empty() {
            return Err(ChainConfigError::NoTipAccounts);
        }
        for tip in &self.tip_accounts {
            parse_pubkey("tip_accounts", tip)?;
        }
        let mut symbols = BTreeSet::new();
        let mut addresses = BTreeSet::new();
        let mut mints = Vec::with_capacity(self.mints.len());
        for m in &self.mints {
            if m.symbol.is_empty() {
                return Err(ChainConfigError::EmptySymbol);
            }
            if !symbols.insert(m.symbol.clone()) {
                return Err(ChainConfigError::DuplicateSymbol(m.symbol.clone()));
            }
            let address = match &m.address {
                Some(a) => {
                    let key = parse_pubkey("mints.address", a)?;
                    if !addresses.insert(key) {
                        return Err(ChainConfigError::DuplicateMint(a.clone()));
                    }
                    Some(key)
                }
                None => None,
            };
            mints.push(ValidMint {
                symbol: m.symbol.clone(),
                decimals: m.decimals,
                address,
                user_balance: raw(m.user_balance, m.decimals, &m.symbol)?,
            });
        }
        if self.venues.len() > usize::from(u16::MAX) + 1 {
            return Err(ChainConfigError::TooManyVenues);
        }
        let mut names = BTreeSet::new();
        let mut liquidity = Vec::with_capacity(self.venues.len());
        for v in &self.venues {
            if v.name.is_empty() {
                return Err(ChainConfigError::EmptyVenue);
            }
            if !names.insert(v.name.clone()) {
                return Err(ChainConfigError::DuplicateVenue(v.name.clone()));
            }
            if let Some(symbol) = v.liquidity.keys().find(|s| !symbols.contains(*s)) {
                return Err(ChainConfigError::UnknownMint {
                    venue: v.name.clone(),
                    symbol: symbol.clone(),
                });
            }
            let row = self
                .mints
                .iter()
                .map(|m| {
                    let whole = v
                        .liquidity
                        .get(&m.symbol)
                        .copied()
                        .unwrap_or(m.pool_liquidity);
                    raw(whole, m.decimals, &m.symbol)
                })
                .collect::<Result<Vec<_>, _>>()?;
            liquidity.push(row);
        }
        // The supply of each mint must fit too.
        for (i, m) in mints.iter().enumerate() {
            let users = (self.users.count as u64).checked_mul(m.user_balance);
            let pools = liquidity
                .iter()
                .try_fold(0u64, |acc, row| acc.checked_add(row[i]));
            if users
                .zip(pools)
                .and_then(|(u, p)| u.checked_add(p))
                .is_none()
            {
                return Err(ChainConfigError::Overflow {
                    symbol: m.symbol.clone(),
                    decimals: m.decimals,
                });
            }
        }
        let table = 2 + self.mints.len() + self.venues.len() * (1 + self.mints.len());
        if table > LOOKUP_TABLE_MAX_ADDRESSES {
            return Err(ChainConfigError::LookupTableFull(table));
        }
        Ok((mints, liquidity))
    }
}
