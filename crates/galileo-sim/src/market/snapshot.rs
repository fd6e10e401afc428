//! A read-only picture of the market for observability (`/__sim/stats`, logs, tests).

use serde::Serialize;

/// The market at one instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarketSnapshot {
    /// The real tick.
    pub tick: u64,
    /// The walk tick (behind the real one by the time spent frozen).
    pub walk_tick: u64,
    /// Whether the walk stands still.
    pub frozen: bool,
    /// Every mint's prices.
    pub mints: Vec<MintPrices>,
    /// The open dislocations.
    pub dislocations: Vec<DislocationView>,
    /// Dislocations closed by recorded trades so far.
    pub closed_by_trade: u64,
}

/// One mint's prices, in quote units per whole token.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MintPrices {
    /// The mint's configured id.
    pub id: String,
    /// Its fair price (the walk, before any venue's basis or dislocation).
    pub fair: f64,
    /// Each venue's mid, in configuration order.
    pub venues: Vec<VenuePrice>,
}

/// One venue's mid for one mint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VenuePrice {
    /// The venue's label.
    pub venue: String,
    /// Its mid (dislocations included).
    pub mid: f64,
}

/// One open dislocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DislocationView {
    /// Its id (`random-W.I` or `scripted-N`).
    pub id: String,
    /// The venue.
    pub venue: String,
    /// The mint's id.
    pub mint: String,
    /// The move (negative: cheaper on this venue).
    pub offset_bps: i32,
    /// Time left unless traded (`None`: until traded or closed, or while frozen).
    pub expires_in_ms: Option<u64>,
}
