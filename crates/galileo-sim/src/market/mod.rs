//! The market model: mints with a price per venue on a seeded random walk, venue spreads and
//! depth, and dislocations that open profitable round trips.
//!
//! [`Market`] is sans-IO: every method takes `now` and the market never reads a clock. Prices
//! move in fixed ticks of walk time. A mint's fair price is its reference price times a
//! bounded Brownian-like walk; a venue's mid is the fair price times its own small basis
//! (bounded so it never pays for a round trip) times any open dislocation on that venue and
//! mint. A quote converts at the two mids, loses half the venue's spread and its fee, and
//! loses price impact `v / (depth + v)` for a trade worth `v` (a constant-product pool), in
//! integer base units and always rounded in the venue's favour. Outside dislocations every
//! round trip therefore loses; a dislocation moves one venue's price for one mint by more
//! than the costliest round trip, for a while, or until a trade through it is recorded.
//!
//! Every random draw is a hash of (seed, what, when), not a step of a stateful generator, so
//! the walk and the dislocation schedule can be read at any tick in any order: the same seed
//! and the same query times give the same quotes whatever the query pattern. Scripting
//! (setting a price, opening or closing a dislocation, freezing the walk) is recorded with
//! the tick it applies from, and trades with the tick they closed a dislocation at, so even
//! those leave earlier instants as they were.
//!
//! [`SharedMarket`] is the handle the simulated services share.

mod config;
mod dislocation;
mod math;
mod shared;
mod snapshot;
mod walk;

use std::collections::HashMap;
use std::time::Duration;

use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use tokio::time::Instant;

use config::mint_address;
pub use config::{
    ConfigError, DislocationConfig, MAX_MINTS, MAX_VENUES, MarketConfig, MintConfig, VenueConfig,
    WalkConfig,
};
pub use dislocation::DislocationId;
pub use shared::SharedMarket;
pub use snapshot::{DislocationView, MarketSnapshot, MintPrices, VenuePrice};

use dislocation::{SCRIPTED_BIT, Schedule};
use math::{BPS, PPB, QUANTA, fnv1a, mix, mul_div, mul_div_rem, pow10, scale_ppb};
use walk::Noise;

/// How far back the market keeps what it needs to answer for past instants exactly (trades
/// that closed random dislocations, expired scripted ones). Requests are never older.
const HISTORY: Duration = Duration::from_secs(600);
/// A venue's basis changes over `2^BASIS_OCTAVES` ticks at most.
const BASIS_OCTAVES: usize = 4;
/// The combined dislocation offset on one venue and mint stays within these (ppb), so
/// overlapping dislocations never make a price zero or absurd.
const OFFSET_RANGE: (i64, i64) = (-900_000_000, 4_000_000_000);

/// Names a mint of one market (an index into its configuration). Quotes refuse another
/// market's ids they cannot know; the info accessors panic on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MintId(u16);

/// Names a venue of one market (an index into its configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VenueId(u16);

impl MintId {
    /// The mint's position in [`MarketConfig::mints`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl VenueId {
    /// The venue's position in [`MarketConfig::venues`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// What a quote could not do. The services map these onto their own error bodies.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuoteError {
    /// No mint has this id or address.
    #[error("unknown mint {0}")]
    UnknownMint(String),
    /// No venue has this name (or none was allowed).
    #[error("unknown venue {0}")]
    UnknownVenue(String),
    /// A zero input amount.
    #[error("the amount must be greater than zero")]
    ZeroAmount,
    /// Input and output are the same mint.
    #[error("input and output mints are the same")]
    SameMint,
    /// The trade is worth more than the venue's depth.
    #[error("the amount exceeds the venue's depth; at most {max_in_amount} fits")]
    ExceedsDepth {
        /// The largest input amount the venue would quote now.
        max_in_amount: u64,
    },
    /// The output does not fit a `u64` of base units (only after an extreme `set_price`).
    #[error("the output amount does not fit in a u64")]
    OutputOverflow,
}

/// A mint as the market knows it.
#[derive(Clone, Debug)]
pub struct Mint {
    id: String,
    address: Pubkey,
    decimals: u8,
    /// `10^decimals`.
    unit: u128,
    /// Keys the mint's walk (from its id, so neither order nor other mints change it).
    key: u64,
    walk: Noise,
    /// Reference prices (quanta per whole token) by the real tick they apply from.
    anchors: Vec<(u64, u128)>,
}

impl Mint {
    /// The id it was configured with (an address or a symbol).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its address: the configured one, or one derived from the symbol.
    pub fn address(&self) -> Pubkey {
        self.address
    }

    /// Decimals of the token.
    pub fn decimals(&self) -> u8 {
        self.decimals
    }

    fn reference_at(&self, tick: u64) -> u128 {
        let i = self.anchors.partition_point(|&(from, _)| from <= tick);
        self.anchors[i.saturating_sub(1)].1
    }
}

/// A venue as the market knows it.
#[derive(Clone, Debug)]
pub struct Venue {
    cfg: VenueConfig,
    half_spread_ppb: i64,
    fee_ppb: i64,
    /// Depth in quanta.
    depth: u128,
    key: u64,
    basis: Noise,
}

impl Venue {
    /// Its label.
    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// Its configuration.
    pub fn config(&self) -> &VenueConfig {
        &self.cfg
    }
}

/// One swap on one venue, as quoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// The venue quoting.
    pub venue: VenueId,
    /// What is sold.
    pub input_mint: MintId,
    /// What is bought.
    pub output_mint: MintId,
    /// Base units sold.
    pub in_amount: u64,
    /// Base units bought, after spread, fee and price impact.
    pub out_amount: u64,
    /// The venue's fee, in base units of the output mint (already taken from `out_amount`).
    pub fee_amount: u64,
    /// Price impact as a fraction, in parts per billion.
    pub price_impact_ppb: u32,
    /// The venue's pool for this pair (an `ammKey` / `marketKey`), stable for its mints.
    pub pool: Pubkey,
    /// The tick the price was taken at (quotes of one tick are identical).
    pub tick: u64,
}

impl Quote {
    /// Price impact as a fraction.
    pub fn price_impact(&self) -> f64 {
        f64::from(self.price_impact_ppb) / PPB as f64
    }

    /// Price impact as the plain decimal fraction the aggregators' `priceImpactPct` carries
    /// (`"0.000012"`, `"0"`; never exponent notation).
    pub fn price_impact_decimal(&self) -> String {
        let (whole, frac) = (
            self.price_impact_ppb / 1_000_000_000,
            self.price_impact_ppb % 1_000_000_000,
        );
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:09}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }

    /// The hop to report to [`Market::record_trade`] once this swap has landed.
    pub fn hop(&self) -> Hop {
        Hop {
            venue: self.venue,
            input_mint: self.input_mint,
            output_mint: self.output_mint,
        }
    }
}

/// One swap of a landed trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    /// Where it traded.
    pub venue: VenueId,
    /// What it sold.
    pub input_mint: MintId,
    /// What it bought.
    pub output_mint: MintId,
}

/// A round trip `base → intermediate → base` through the best venue of each leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundTrip {
    /// `base → intermediate` for the trade size.
    pub forward: Quote,
    /// `intermediate → base` for exactly `forward.out_amount`.
    pub reverse: Quote,
}

impl RoundTrip {
    /// `reverse.out_amount − forward.in_amount`, in base units of the base mint.
    pub fn profit(&self) -> i128 {
        i128::from(self.reverse.out_amount) - i128::from(self.forward.in_amount)
    }

    /// Both hops, for [`Market::record_trade`].
    pub fn hops(&self) -> [Hop; 2] {
        [self.forward.hop(), self.reverse.hop()]
    }
}

/// An open dislocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dislocation {
    /// Its name.
    pub id: DislocationId,
    /// The venue whose price moved.
    pub venue: VenueId,
    /// The mint whose price moved there.
    pub mint: MintId,
    /// The move: negative means the mint is cheaper on this venue than elsewhere.
    pub offset_bps: i32,
    /// When its life ends unless traded or closed first (`None`: a scripted one without a
    /// duration, or a random one while the walk is frozen).
    pub expires_at: Option<Instant>,
}

/// When a dislocation ends by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// A random one, at this walk tick.
    Walk(u64),
    /// A scripted one, at this real tick, or never.
    Real(Option<u64>),
}

/// An open dislocation as the scans see it.
#[derive(Clone, Copy, Debug)]
struct Open {
    id: DislocationId,
    venue: usize,
    mint: usize,
    offset_bps: i32,
    end: End,
}

#[derive(Clone, Debug)]
struct Scripted {
    id: DislocationId,
    venue: usize,
    mint: usize,
    offset_bps: i32,
    /// Open on real ticks `[start, min(end, closed))`.
    start: u64,
    /// Where its duration ends it, if it has one.
    end: Option<u64>,
    /// Where a trade or `close_dislocation` ended it.
    closed: Option<u64>,
}

impl Scripted {
    /// The tick it stops being open at, if any.
    fn stop(&self) -> Option<u64> {
        match (self.end, self.closed) {
            (Some(e), Some(c)) => Some(e.min(c)),
            (e, c) => e.or(c),
        }
    }
}

/// From real tick `from`, walk time stands at `walk` (frozen) or runs from it.
#[derive(Clone, Copy, Debug)]
struct Segment {
    from: u64,
    walk: u64,
    frozen: bool,
}

/// A pair at one instant: what all venues' quotes for it share.
#[derive(Clone, Copy, Debug)]
struct Pair {
    input: MintId,
    output: MintId,
    tick: u64,
    walk: u64,
    fair_in: u128,
    fair_out: u128,
}

/// The market: sans-IO, driven by `now`. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Market {
    config: MarketConfig,
    seed: u64,
    epoch: Instant,
    tick_nanos: u128,
    mints: Vec<Mint>,
    venues: Vec<Venue>,
    /// Ids and base58 addresses.
    mint_names: HashMap<String, MintId>,
    mint_addresses: HashMap<Pubkey, MintId>,
    venue_names: HashMap<String, VenueId>,
    schedule: Option<Schedule>,
    clock: Vec<Segment>,
    scripted: Vec<Scripted>,
    next_scripted: u64,
    /// Random dislocations closed early: real tick of the close, walk tick of their end.
    closed: HashMap<DislocationId, (u64, u64)>,
    closed_by_trade: u64,
    /// Script actions apply from this real tick on at the earliest (they stay in order).
    last_script: u64,
}

impl Market {
    /// A market as configured, whose tick 0 starts at `epoch`.
    pub fn new(config: MarketConfig, epoch: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut mint_names = HashMap::new();
        let mut mint_addresses = HashMap::new();
        let mut mints = Vec::with_capacity(config.mints.len());
        for (i, m) in config.mints.iter().enumerate() {
            let id = MintId(i as u16);
            let address = mint_address(&m.id);
            let volatility = m.volatility_bps.unwrap_or(config.walk.volatility_bps);
            let reference = (m.price * QUANTA as f64).round() as u128;
            // Unique after validation; a symbol is found by its address too.
            mint_names.insert(m.id.clone(), id);
            mint_names.insert(address.to_string(), id);
            mint_addresses.insert(address, id);
            mints.push(Mint {
                id: m.id.clone(),
                address,
                decimals: m.decimals,
                unit: pow10(u32::from(m.decimals)),
                key: fnv1a(&m.id),
                walk: Noise::brownian(
                    volatility * BPS as f64,
                    i64::from(config.walk.max_drift_bps) * BPS,
                ),
                anchors: vec![(0, reference)],
            });
        }
        let venues: Vec<Venue> = config
            .venues
            .iter()
            .map(|v| Venue {
                half_spread_ppb: i64::from(v.spread_bps) * BPS / 2,
                fee_ppb: i64::from(v.fee_bps) * BPS,
                depth: u128::from(v.depth) * QUANTA,
                key: fnv1a(&v.name),
                basis: Noise::bounded(i64::from(v.basis_bps) * BPS, BASIS_OCTAVES),
                cfg: v.clone(),
            })
            .collect();
        let venue_names = venues
            .iter()
            .enumerate()
            .map(|(i, v)| (v.cfg.name.clone(), VenueId(i as u16)))
            .collect();
        Ok(Market {
            seed: config.seed,
            epoch,
            tick_nanos: u128::from(config.tick_ms) * 1_000_000,
            schedule: Schedule::new(
                &config.dislocations,
                config.tick_ms,
                venues.len(),
                mints.len(),
            ),
            mints,
            venues,
            mint_names,
            mint_addresses,
            venue_names,
            clock: vec![Segment {
                from: 0,
                walk: 0,
                frozen: false,
            }],
            scripted: Vec::new(),
            next_scripted: 0,
            closed: HashMap::new(),
            closed_by_trade: 0,
            last_script: 0,
            config,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// The instant tick 0 starts.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// The length of one tick.
    pub fn tick_duration(&self) -> Duration {
        Duration::from_millis(self.config.tick_ms)
    }

    // ----- names -------------------------------------------------------------------------

    /// The mint with this id or base58 address.
    pub fn mint(&self, key: &str) -> Result<MintId, QuoteError> {
        self.mint_names
            .get(key)
            .copied()
            .ok_or_else(|| QuoteError::UnknownMint(key.to_owned()))
    }

    /// The mint at this address (as Titan sends it: 32 raw bytes).
    pub fn mint_by_address(&self, address: &Pubkey) -> Result<MintId, QuoteError> {
        self.mint_addresses
            .get(address)
            .copied()
            .ok_or_else(|| QuoteError::UnknownMint(address.to_string()))
    }

    /// The venue with this label.
    pub fn venue(&self, name: &str) -> Result<VenueId, QuoteError> {
        self.venue_names
            .get(name)
            .copied()
            .ok_or_else(|| QuoteError::UnknownVenue(name.to_owned()))
    }

    /// A mint's details.
    pub fn mint_info(&self, id: MintId) -> &Mint {
        &self.mints[id.index()]
    }

    /// A venue's details.
    pub fn venue_info(&self, id: VenueId) -> &Venue {
        &self.venues[id.index()]
    }

    /// Every mint, in configuration order.
    pub fn mint_ids(&self) -> impl ExactSizeIterator<Item = MintId> + use<> {
        (0..self.mints.len() as u16).map(MintId)
    }

    /// Every venue, in configuration order.
    pub fn venue_ids(&self) -> impl ExactSizeIterator<Item = VenueId> + use<> {
        (0..self.venues.len() as u16).map(VenueId)
    }

    /// The pool `venue` trades `a` against `b` in (either order): a stable address derived
    /// from the venue's name and both mints' addresses, for `ammKey`s and the chain's pools.
    pub fn pool_address(&self, venue: VenueId, a: MintId, b: MintId) -> Pubkey {
        let (a, b) = (self.mints[a.index()].address, self.mints[b.index()].address);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h = Sha256::new();
        h.update(b"galileo-sim:pool:");
        h.update(self.venues[venue.index()].cfg.name.as_bytes());
        h.update(lo.as_ref());
        h.update(hi.as_ref());
        Pubkey::new_from_array(h.finalize().into())
    }

    /// The venue whose pool for `a` and `b` is `pool`, if any: how a landed swap instruction
    /// (which names its pool and token accounts) becomes a [`Hop`] for [`Market::record_trade`].
    pub fn venue_by_pool(&self, pool: &Pubkey, a: MintId, b: MintId) -> Option<VenueId> {
        self.venue_ids()
            .find(|&v| self.pool_address(v, a, b) == *pool)
    }

    // ----- time --------------------------------------------------------------------------

    /// The real tick `now` falls in (0 before the epoch).
    pub fn tick_at(&self, now: Instant) -> u64 {
        let nanos = now.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(nanos / self.tick_nanos).unwrap_or(u64::MAX)
    }

    fn instant_of(&self, tick: u64) -> Instant {
        let nanos = u64::try_from(u128::from(tick) * self.tick_nanos).unwrap_or(u64::MAX);
        self.epoch + Duration::from_nanos(nanos)
    }

    fn segment(&self, tick: u64) -> Segment {
        let i = self.clock.partition_point(|s| s.from <= tick);
        self.clock[i.saturating_sub(1)]
    }

    /// The walk tick at real tick `tick`: walk time stands still while frozen.
    fn walk_tick(&self, tick: u64) -> u64 {
        let seg = self.segment(tick);
        if seg.frozen {
            seg.walk
        } else {
            seg.walk + (tick - seg.from)
        }
    }

    /// The tick a script action at `now` applies from: never before an earlier action.
    fn script_tick(&mut self, now: Instant) -> u64 {
        self.last_script = self.last_script.max(self.tick_at(now));
        self.last_script
    }

    // ----- prices ------------------------------------------------------------------------

    /// A mint's fair price (before any venue's basis or dislocation), quanta per whole token.
    fn fair(&self, mint: usize, tick: u64, walk: u64) -> u128 {
        let m = &self.mints[mint];
        let w = m.walk.at(self.seed, m.key, walk);
        scale_ppb(m.reference_at(tick), w).unwrap_or(u128::MAX)
    }

    /// A venue's mid for a mint, quanta per whole token, from the mint's fair price and the
    /// dislocation offset on that venue and mint.
    fn mid(&self, venue: usize, mint: usize, fair: u128, walk: u64, offset_ppb: i64) -> u128 {
        let v = &self.venues[venue];
        let stream = v.key ^ mix(self.mints[mint].key);
        let basis = v.basis.at(self.seed, stream, walk);
        let offset = offset_ppb.clamp(OFFSET_RANGE.0, OFFSET_RANGE.1);
        scale_ppb(fair, basis)
            .and_then(|p| scale_ppb(p, offset))
            .unwrap_or(u128::MAX)
            .max(1)
    }

    /// Calls `f` with every dislocation open at real tick `tick` (walk tick `walk`).
    fn for_each_open(&self, tick: u64, walk: u64, mut f: impl FnMut(Open)) {
        if let Some(schedule) = &self.schedule {
            schedule.for_each_open(self.seed, walk, |a| {
                let closed = self.closed.get(&a.id).is_some_and(|&(at, _)| at <= tick);
                if !closed {
                    f(Open {
                        id: a.id,
                        venue: a.venue,
                        mint: a.mint,
                        offset_bps: a.offset_bps,
                        end: End::Walk(a.end),
                    });
                }
            });
        }
        for s in &self.scripted {
            if s.start <= tick && s.stop().is_none_or(|stop| tick < stop) {
                f(Open {
                    id: s.id,
                    venue: s.venue,
                    mint: s.mint,
                    offset_bps: s.offset_bps,
                    end: End::Real(s.end),
                });
            }
        }
    }

    /// The summed dislocation offsets (ppb) on `venue` for mints `a` and `b`.
    fn offsets(&self, venue: usize, a: usize, b: usize, tick: u64, walk: u64) -> (i64, i64) {
        let (mut oa, mut ob) = (0i64, 0i64);
        self.for_each_open(tick, walk, |d| {
            if d.venue == venue {
                let ppb = i64::from(d.offset_bps) * BPS;
                if d.mint == a {
                    oa += ppb;
                } else if d.mint == b {
                    ob += ppb;
                }
            }
        });
        (oa, ob)
    }

    /// A mint's fair price at `now` in quote units per whole token (for display and tests;
    /// quotes use the exact integer).
    pub fn fair_price(&self, mint: MintId, now: Instant) -> f64 {
        let tick = self.tick_at(now);
        self.fair(mint.index(), tick, self.walk_tick(tick)) as f64 / QUANTA as f64
    }

    /// A venue's mid for a mint at `now`, dislocations included, in quote units per token.
    pub fn venue_price(&self, venue: VenueId, mint: MintId, now: Instant) -> f64 {
        let tick = self.tick_at(now);
        let walk = self.walk_tick(tick);
        let (offset, _) = self.offsets(venue.index(), mint.index(), usize::MAX, tick, walk);
        let fair = self.fair(mint.index(), tick, walk);
        self.mid(venue.index(), mint.index(), fair, walk, offset) as f64 / QUANTA as f64
    }

    // ----- quotes ------------------------------------------------------------------------

    /// `venue`'s quote for selling `in_amount` base units of `input` for `output` at `now`.
    pub fn quote(
        &self,
        venue: VenueId,
        input: MintId,
        output: MintId,
        in_amount: u64,
        now: Instant,
    ) -> Result<Quote, QuoteError> {
        self.check(input, output, in_amount)?;
        if venue.index() >= self.venues.len() {
            return Err(QuoteError::UnknownVenue(format!("#{}", venue.index())));
        }
        let pair = self.pair(input, output, now);
        let mut quote = self.price(&pair, venue, in_amount)?;
        quote.pool = self.pool_address(venue, input, output);
        Ok(quote)
    }

    /// What every venue's quote for a pair at one instant shares: the fair prices.
    fn pair(&self, input: MintId, output: MintId, now: Instant) -> Pair {
        let tick = self.tick_at(now);
        let walk = self.walk_tick(tick);
        Pair {
            input,
            output,
            tick,
            walk,
            fair_in: self.fair(input.index(), tick, walk),
            fair_out: self.fair(output.index(), tick, walk),
        }
    }

    /// One venue's quote for `pair`, but for its pool (left default: only the quote returned
    /// needs one).
    fn price(&self, pair: &Pair, venue: VenueId, in_amount: u64) -> Result<Quote, QuoteError> {
        let (v, i, o) = (venue.index(), pair.input.index(), pair.output.index());
        let (off_in, off_out) = self.offsets(v, i, o, pair.tick, pair.walk);
        let p_in = self.mid(v, i, pair.fair_in, pair.walk, off_in);
        let p_out = self.mid(v, o, pair.fair_out, pair.walk, off_out);
        let venue_ref = &self.venues[v];
        let (unit_in, unit_out) = (self.mints[i].unit, self.mints[o].unit);
        let depth = venue_ref.depth;
        let exceeds = || QuoteError::ExceedsDepth {
            max_in_amount: max_in(depth, unit_in, p_in),
        };

        // The trade's value in quanta; beyond the depth it is refused.
        let value = mul_div(u128::from(in_amount), p_in, unit_in).ok_or_else(exceeds)?;
        if value > depth {
            return Err(exceeds());
        }
        let ideal = mul_div(value, unit_out, p_out).ok_or(QuoteError::OutputOverflow)?;
        let impacted = mul_div(ideal, depth, depth + value).ok_or(QuoteError::OutputOverflow)?;
        let after_spread =
            scale_ppb(impacted, -venue_ref.half_spread_ppb).ok_or(QuoteError::OutputOverflow)?;
        let out = scale_ppb(after_spread, -venue_ref.fee_ppb).ok_or(QuoteError::OutputOverflow)?;
        let out_amount = u64::try_from(out).map_err(|_| QuoteError::OutputOverflow)?;
        let impact = mul_div(value, PPB as u128, depth + value).unwrap_or(0);
        Ok(Quote {
            venue,
            input_mint: pair.input,
            output_mint: pair.output,
            in_amount,
            out_amount,
            // A fee of at most 50 %: after_spread − out ≤ out ≤ u64::MAX.
            fee_amount: (after_spread - out) as u64,
            price_impact_ppb: impact as u32,
            pool: Pubkey::default(),
            tick: pair.tick,
        })
    }

    fn check(&self, input: MintId, output: MintId, in_amount: u64) -> Result<(), QuoteError> {
        for m in [input, output] {
            if m.index() >= self.mints.len() {
                return Err(QuoteError::UnknownMint(format!("#{}", m.index())));
            }
        }
        if input == output {
            return Err(QuoteError::SameMint);
        }
        if in_amount == 0 {
            return Err(QuoteError::ZeroAmount);
        }
        Ok(())
    }

    /// The largest amount of `input` that `venue` quotes at `now` (its depth's worth).
    pub fn max_in_amount(&self, venue: VenueId, input: MintId, now: Instant) -> u64 {
        let tick = self.tick_at(now);
        let walk = self.walk_tick(tick);
        let (offset, _) = self.offsets(venue.index(), input.index(), usize::MAX, tick, walk);
        let fair = self.fair(input.index(), tick, walk);
        let price = self.mid(venue.index(), input.index(), fair, walk, offset);
        let mint = &self.mints[input.index()];
        max_in(self.venues[venue.index()].depth, mint.unit, price)
    }

    /// The best quote (largest output) over the venues `allow` accepts, as an aggregator
    /// routes a direct swap. Ties go to the venue configured first.
    pub fn best_quote(
        &self,
        input: MintId,
        output: MintId,
        in_amount: u64,
        now: Instant,
        mut allow: impl FnMut(VenueId, &Venue) -> bool,
    ) -> Result<Quote, QuoteError> {
        self.check(input, output, in_amount)?;
        let pair = self.pair(input, output, now);
        let mut best: Option<Quote> = None;
        let mut error = QuoteError::UnknownVenue("(none allowed)".into());
        for id in self.venue_ids() {
            if !allow(id, &self.venues[id.index()]) {
                continue;
            }
            match self.price(&pair, id, in_amount) {
                Ok(q) if best.as_ref().is_none_or(|b| q.out_amount > b.out_amount) => {
                    best = Some(q);
                }
                Ok(_) => {}
                // Report the roomiest venue's limit.
                Err(QuoteError::ExceedsDepth { max_in_amount }) => {
                    let roomier = match &error {
                        QuoteError::ExceedsDepth { max_in_amount: m } => max_in_amount > *m,
                        _ => true,
                    };
                    if roomier {
                        error = QuoteError::ExceedsDepth { max_in_amount };
                    }
                }
                Err(e) => error = e,
            }
        }
        let mut best = best.ok_or(error)?;
        best.pool = self.pool_address(best.venue, input, output);
        Ok(best)
    }

    /// The round trip the blind strategy quotes: the best `base → intermediate` for
    /// `amount`, then the best `intermediate → base` for exactly what that returns.
    pub fn best_round_trip(
        &self,
        base: MintId,
        intermediate: MintId,
        amount: u64,
        now: Instant,
        mut allow: impl FnMut(VenueId, &Venue) -> bool,
    ) -> Result<RoundTrip, QuoteError> {
        let forward = self.best_quote(base, intermediate, amount, now, &mut allow)?;
        let reverse = self.best_quote(intermediate, base, forward.out_amount, now, allow)?;
        Ok(RoundTrip { forward, reverse })
    }

    // ----- dislocations and trades -------------------------------------------------------

    /// Every dislocation open at `now`, random ones first.
    pub fn open_dislocations(&self, now: Instant) -> Vec<Dislocation> {
        let tick = self.tick_at(now);
        let walk = self.walk_tick(tick);
        let frozen = self.segment(tick).frozen;
        let mut open = Vec::new();
        self.for_each_open(tick, walk, |d| {
            let expires_at = match d.end {
                End::Walk(_) if frozen => None,
                End::Walk(end) => Some(self.instant_of(tick + (end - walk))),
                End::Real(end) => end.map(|end| self.instant_of(end)),
            };
            open.push(Dislocation {
                id: d.id,
                venue: VenueId(d.venue as u16),
                mint: MintId(d.mint as u16),
                offset_bps: d.offset_bps,
                expires_at,
            });
        });
        open
    }

    /// Reports a landed trade. Every dislocation it traded through in the profitable
    /// direction closes from `now` on (buying the mint where it was cheap, or selling it
    /// where it was dear): arbitrage takes the opportunity away. Returns the ones closed.
    pub fn record_trade(&mut self, hops: &[Hop], now: Instant) -> Vec<DislocationId> {
        let tick = self.tick_at(now);
        let walk = self.walk_tick(tick);
        let mut hit = Vec::new();
        self.for_each_open(tick, walk, |d| {
            let through = hops.iter().any(|h| {
                h.venue.index() == d.venue
                    && ((d.offset_bps < 0 && h.output_mint.index() == d.mint)
                        || (d.offset_bps > 0 && h.input_mint.index() == d.mint))
            });
            if through {
                hit.push((d.id, d.end));
            }
        });
        for &(id, end) in &hit {
            self.close(id, end, tick);
        }
        self.closed_by_trade += hit.len() as u64;
        self.prune(tick);
        hit.into_iter().map(|(id, _)| id).collect()
    }

    fn close(&mut self, id: DislocationId, end: End, tick: u64) {
        match end {
            End::Walk(end) => {
                self.closed.insert(id, (tick, end));
            }
            End::Real(_) => {
                if let Some(s) = self.scripted.iter_mut().find(|s| s.id == id) {
                    s.closed = Some(s.closed.map_or(tick, |c| c.min(tick)));
                }
            }
        }
    }

    /// Forgets what no request can ask about any more.
    fn prune(&mut self, tick: u64) {
        let history = u64::try_from(HISTORY.as_nanos() / self.tick_nanos).unwrap_or(u64::MAX);
        let horizon = tick.saturating_sub(history);
        let walk_horizon = self.walk_tick(horizon);
        self.closed.retain(|_, &mut (_, end)| end > walk_horizon);
        self.scripted
            .retain(|s| s.stop().is_none_or(|stop| stop > horizon));
    }

    // ----- scripting ---------------------------------------------------------------------

    /// Sets `mint`'s fair price to `price` quote units from `now` on; the walk continues from
    /// there (and stays there while frozen).
    pub fn set_price(&mut self, mint: MintId, price: f64, now: Instant) -> Result<(), ConfigError> {
        let Some(m) = self.mints.get(mint.index()) else {
            return Err(ConfigError::Mint {
                mint: format!("#{}", mint.index()),
                problem: "no such mint".into(),
            });
        };
        if !(price.is_finite() && (1e-9..=1e9).contains(&price)) {
            return Err(ConfigError::Mint {
                mint: m.id.clone(),
                problem: format!("set_price({price}): use 1e-9 to 1e9"),
            });
        }
        let tick = self.script_tick(now);
        let walk = self.walk_tick(tick);
        let m = &self.mints[mint.index()];
        let w = m.walk.at(self.seed, m.key, walk);
        let target = (price * QUANTA as f64).round() as u128;
        // fair = reference × (1 + w): choose the reference that lands on the target.
        let reference = mul_div(target, PPB as u128, (PPB + w) as u128).unwrap_or(u128::MAX);
        self.mints[mint.index()].anchors.push((tick, reference));
        Ok(())
    }

    /// Opens a dislocation now: `venue`'s price for `mint` moves by `offset_bps` (negative:
    /// cheaper there) for `duration`, or until traded or closed when `None`.
    pub fn open_dislocation(
        &mut self,
        venue: VenueId,
        mint: MintId,
        offset_bps: i32,
        duration: Option<Duration>,
        now: Instant,
    ) -> Result<DislocationId, ConfigError> {
        if venue.index() >= self.venues.len()
            || mint.index() >= self.mints.len()
            || !(-5_000..=5_000).contains(&offset_bps)
            || offset_bps == 0
        {
            return Err(ConfigError::Dislocations(format!(
                "open_dislocation(venue #{}, mint #{}, {offset_bps} bps): use a venue and mint \
                 of this market and a non-zero offset within ±5000 bps",
                venue.index(),
                mint.index()
            )));
        }
        let start = self.script_tick(now);
        let end = duration.map(|d| {
            let ticks = d.as_nanos().div_ceil(self.tick_nanos).max(1);
            start.saturating_add(u64::try_from(ticks).unwrap_or(u64::MAX))
        });
        self.prune(start);
        let id = DislocationId(SCRIPTED_BIT | self.next_scripted);
        self.next_scripted += 1;
        self.scripted.push(Scripted {
            id,
            venue: venue.index(),
            mint: mint.index(),
            offset_bps,
            start,
            end,
            closed: None,
        });
        Ok(id)
    }

    /// Closes a dislocation (random or scripted) from `now` on. `false` if it was not open.
    pub fn close_dislocation(&mut self, id: DislocationId, now: Instant) -> bool {
        let tick = self.script_tick(now);
        let walk = self.walk_tick(tick);
        let mut end = None;
        self.for_each_open(tick, walk, |d| {
            if d.id == id {
                end = Some(d.end);
            }
        });
        match end {
            Some(end) => {
                self.close(id, end, tick);
                true
            }
            None => false,
        }
    }

    /// Stops walk time from `now` on: fair prices, venue bases and the random dislocation
    /// schedule all stand still (scripted dislocations still expire in real time).
    pub fn freeze(&mut self, now: Instant) {
        self.set_frozen(true, now);
    }

    /// Lets walk time run again from `now` on, from where it stood.
    pub fn unfreeze(&mut self, now: Instant) {
        self.set_frozen(false, now);
    }

    fn set_frozen(&mut self, frozen: bool, now: Instant) {
        let tick = self.script_tick(now);
        if self.segment(tick).frozen != frozen {
            let walk = self.walk_tick(tick);
            self.clock.push(Segment {
                from: tick,
                walk,
                frozen,
            });
        }
    }

    /// Whether walk time stands still at `now`.
    pub fn is_frozen(&self, now: Instant) -> bool {
        self.segment(self.tick_at(now)).frozen
    }

    // ----- observability -----------------------------------------------------------------

    /// Prices per venue and the open dislocations at `now`.
    pub fn snapshot(&self, now: Instant) -> MarketSnapshot {
        let tick = self.tick_at(now);
        let walk = self.walk_tick(tick);
        let dislocations = self.open_dislocations(now);
        let mints = self
            .mint_ids()
            .map(|m| {
                let fair = self.fair(m.index(), tick, walk);
                let venues = self
                    .venue_ids()
                    .map(|v| {
                        let offset: i64 = dislocations
                            .iter()
                            .filter(|d| d.venue == v && d.mint == m)
                            .map(|d| i64::from(d.offset_bps) * BPS)
                            .sum();
                        VenuePrice {
                            venue: self.venues[v.index()].cfg.name.clone(),
                            mid: self.mid(v.index(), m.index(), fair, walk, offset) as f64
                                / QUANTA as f64,
                        }
                    })
                    .collect();
                MintPrices {
                    id: self.mints[m.index()].id.clone(),
                    fair: fair as f64 / QUANTA as f64,
                    venues,
                }
            })
            .collect();
        MarketSnapshot {
            tick,
            walk_tick: walk,
            frozen: self.segment(tick).frozen,
            mints,
            dislocations: dislocations
                .iter()
                .map(|d| DislocationView {
                    id: d.id.to_string(),
                    venue: self.venues[d.venue.index()].cfg.name.clone(),
                    mint: self.mints[d.mint.index()].id.clone(),
                    offset_bps: d.offset_bps,
                    expires_in_ms: d
                        .expires_at
                        .map(|at| at.saturating_duration_since(now).as_millis() as u64),
                })
                .collect(),
            closed_by_trade: self.closed_by_trade,
        }
    }
}

/// The largest `amount` with `floor(amount · price / unit) ≤ depth`, saturated to `u64`.
fn max_in(depth: u128, unit: u128, price: u128) -> u64 {
    // amount · price < (depth + 1) · unit  ⟺  amount ≤ ceil((depth + 1) · unit / price) − 1
    match mul_div_rem(depth + 1, unit, price) {
        Some((q, r)) => {
            let max = if r == 0 { q.saturating_sub(1) } else { q };
            u64::try_from(max).unwrap_or(u64::MAX)
        }
        None => u64::MAX,
    }
}
