//! `GET /quote`'s answer (spec §2.2), and the merged circular quote of a round trip (§3.2).

use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

use crate::Quoted;
use crate::wire::{self, PriceImpact};

/// `ExactIn` or `ExactOut` (`exactIn` / `exactOut` accepted too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SwapMode {
    /// The amount is the input.
    #[default]
    #[serde(alias = "exactIn")]
    ExactIn,
    /// The amount is the output.
    #[serde(alias = "exactOut")]
    ExactOut,
}

/// An integrator fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformFee {
    /// Raw amount.
    #[serde(with = "wire::amount")]
    pub amount: u64,
    /// Basis points.
    pub fee_bps: u16,
}

/// One swap of a route. Every member is required except `label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapInfo {
    /// The pool.
    #[serde(with = "wire::pubkey")]
    pub amm_key: Pubkey,
    /// The venue's label (`"SolFiV2"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Raw input.
    #[serde(with = "wire::amount")]
    pub in_amount: u64,
    /// Raw output.
    #[serde(with = "wire::amount")]
    pub out_amount: u64,
    /// The venue's fee.
    #[serde(with = "wire::amount")]
    pub fee_amount: u64,
    /// The fee's mint.
    #[serde(with = "wire::pubkey")]
    pub fee_mint: Pubkey,
}

/// One step of a route: a swap and its share of the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePlanStep {
    /// The swap.
    pub swap_info: SwapInfo,
    /// Share of the input, 0–100.
    pub percent: u8,
    /// Share in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bps: Option<u16>,
}

/// Jupiter's quote (`GET /quote`), echoed back in `/swap-instructions` and `/swap`.
///
/// Required members are enforced; unknown keys (and the legacy `marketInfos`) are ignored.
/// Amounts are JSON strings, `priceImpactPct` a plain decimal kept as sent. Written back, it
/// omits what was absent or `null` (the reference client strips nulls).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JupiterQuote {
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// Raw input.
    #[serde(with = "wire::amount")]
    pub in_amount: u64,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Raw output of the best route, fees included, before slippage.
    #[serde(with = "wire::amount")]
    pub out_amount: u64,
    /// `outAmount` reduced by the slippage (ExactIn).
    #[serde(with = "wire::amount")]
    pub other_amount_threshold: u64,
    /// The mode.
    pub swap_mode: SwapMode,
    /// The slippage tolerance.
    pub slippage_bps: u16,
    /// The integrator fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_fee: Option<PlatformFee>,
    /// Price impact as a plain decimal fraction.
    pub price_impact_pct: PriceImpact,
    /// The route.
    pub route_plan: Vec<RoutePlanStep>,
    /// The slot the quote was computed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_slot: Option<u64>,
    /// How long the quote took (the unit is not documented; values look like seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_taken: Option<f64>,
}

impl Quoted for JupiterQuote {
    fn input_mint(&self) -> Pubkey {
        self.input_mint
    }
    fn output_mint(&self) -> Pubkey {
        self.output_mint
    }
    fn in_amount(&self) -> u64 {
        self.in_amount
    }
    fn out_amount(&self) -> u64 {
        self.out_amount
    }
    fn min_out_amount(&self) -> u64 {
        self.other_amount_threshold
    }
    fn context_slot(&self) -> Option<u64> {
        self.context_slot
    }
}

/// The circular quote of a round trip (spec §3.2), for `/swap-instructions`: `buy`'s input
/// mint in and out, `inAmount` = `buy.inAmount`, `outAmount` = `otherAmountThreshold` =
/// `min_return` (the minimum-return guard, e.g. trade size + tip), `priceImpactPct` = `"0"`,
/// the buy leg's steps then the sell leg's, and the later `contextSlot` and longer
/// `timeTaken` of the two. No platform fee. `slippageBps` is the buy leg's.
///
/// `sell` should be the quote for `buy`'s output back into its input (the dispatcher asks for
/// exactly that); the swap program enforces `min_return` on chain whatever the steps say.
///
/// ```
/// # use galileo_quote::jupiter::{merge_round_trip, JupiterQuote};
/// # fn demo(buy: &JupiterQuote, sell: &JupiterQuote) {
/// let merged = merge_round_trip(buy, sell, buy.in_amount + 10_000);
/// assert_eq!(merged.input_mint, merged.output_mint);
/// assert_eq!(merged.route_plan.len(), buy.route_plan.len() + sell.route_plan.len());
/// # }
/// ```
pub fn merge_round_trip(buy: &JupiterQuote, sell: &JupiterQuote, min_return: u64) -> JupiterQuote {
    JupiterQuote {
        input_mint: buy.input_mint,
        in_amount: buy.in_amount,
        output_mint: buy.input_mint,
        out_amount: min_return,
        other_amount_threshold: min_return,
        swap_mode: SwapMode::ExactIn,
        slippage_bps: buy.slippage_bps,
        platform_fee: None,
        price_impact_pct: PriceImpact::zero(),
        route_plan: buy
            .route_plan
            .iter()
            .chain(&sell.route_plan)
            .cloned()
            .collect(),
        context_slot: buy.context_slot.max(sell.context_slot),
        time_taken: match (buy.time_taken, sell.time_taken) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
    }
}
