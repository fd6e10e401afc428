//! `GET /quote`'s answer (spec §3.2), the open-transaction variant, and the merged circular
//! quote of a round trip (§4.1).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize};
use solana_pubkey::Pubkey;

use crate::Quoted;
use crate::wire::{self, PriceImpact};

/// One leg of a DFlow route. All members are required except `data`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DflowRouteLeg {
    /// Raw input.
    #[serde(with = "wire::amount")]
    pub in_amount: u64,
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// Decimals of the input mint.
    pub input_mint_decimals: u8,
    /// The market (pool) key, as DFlow writes it.
    pub market_key: String,
    /// Raw output.
    #[serde(with = "wire::amount")]
    pub out_amount: u64,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Decimals of the output mint.
    pub output_mint_decimals: u8,
    /// The venue (`"Tessera V"`, `"Meteora DLMM"`).
    pub venue: String,
    /// Venue data (base64), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// DFlow's integrator fee (every member required).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DflowPlatformFee {
    /// Raw amount.
    #[serde(with = "wire::amount")]
    pub amount: u64,
    /// Where it goes.
    pub fee_account: String,
    /// Basis points.
    pub fee_bps: u16,
    /// The segmenter's part.
    #[serde(with = "wire::amount")]
    pub segmenter_fee_amount: u64,
    /// The segmenter's percentage.
    pub segmenter_fee_pct: u8,
}

/// DFlow's quote (`GET /quote`), echoed back in `/swap-instructions`.
///
/// Every member the spec marks required is enforced (`contextSlot`, `routePlan`, both
/// thresholds, ...); unknown keys are ignored. Written back, absent options are left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DflowQuote {
    /// The slot the quote was computed at.
    pub context_slot: u64,
    /// Raw input.
    #[serde(with = "wire::amount")]
    pub in_amount: u64,
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// The minimum output (same meaning as `otherAmountThreshold`).
    #[serde(with = "wire::amount")]
    pub min_out_amount: u64,
    /// The minimum output after fees and slippage.
    #[serde(with = "wire::amount")]
    pub other_amount_threshold: u64,
    /// Expected output, fees deducted.
    #[serde(with = "wire::amount")]
    pub out_amount: u64,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Price impact as a plain decimal fraction.
    pub price_impact_pct: PriceImpact,
    /// The legs.
    pub route_plan: Vec<DflowRouteLeg>,
    /// The slippage (the client overwrites it with its configured value).
    pub slippage_bps: u16,
    /// Token-2022 transfer fee of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_transfer_fee: Option<String>,
    /// The integrator fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_fee: Option<DflowPlatformFee>,
    /// Names the quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Compute units a simulation used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated_compute_units: Option<u64>,
}

impl DflowQuote {
    /// Sets `slippageBps` and recomputes `minOutAmount = otherAmountThreshold =
    /// floor(outAmount × (10000 − slippage) / 10000)`, as the reference client does with its
    /// configured slippage (at most 10 000).
    pub fn apply_slippage(&mut self, slippage_bps: u16) {
        let keep = 10_000u128.saturating_sub(u128::from(slippage_bps));
        let min = u128::from(self.out_amount) * keep / 10_000;
        // min <= out_amount, so it fits.
        let min = u64::try_from(min).unwrap_or(self.out_amount);
        self.slippage_bps = slippage_bps;
        self.min_out_amount = min;
        self.other_amount_threshold = min;
    }
}

impl Quoted for DflowQuote {
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
        self.min_out_amount
    }
    fn context_slot(&self) -> Option<u64> {
        Some(self.context_slot)
    }
}

/// The circular quote of a round trip (spec §4.1): `buy`'s input mint in and out, `inAmount`
/// = `buy.inAmount`, `outAmount` = `otherAmountThreshold` = `minOutAmount` = `min_return`,
/// `priceImpactPct` = `"0"`, the buy legs then the sell legs, the later `contextSlot`;
/// `slippageBps` and `requestId` are the buy leg's, fees none.
///
/// `sell` should quote `buy`'s output back into its input (the dispatcher asks for exactly
/// that); the minimum return is enforced on chain whatever the legs say.
pub fn merge_round_trip(buy: &DflowQuote, sell: &DflowQuote, min_return: u64) -> DflowQuote {
    DflowQuote {
        context_slot: buy.context_slot.max(sell.context_slot),
        in_amount: buy.in_amount,
        input_mint: buy.input_mint,
        min_out_amount: min_return,
        other_amount_threshold: min_return,
        out_amount: min_return,
        output_mint: buy.input_mint,
        price_impact_pct: PriceImpact::zero(),
        route_plan: buy
            .route_plan
            .iter()
            .chain(&sell.route_plan)
            .cloned()
            .collect(),
        slippage_bps: buy.slippage_bps,
        out_transfer_fee: None,
        platform_fee: None,
        request_id: buy.request_id.clone(),
        simulated_compute_units: None,
    }
}

/// How long an open transaction stays valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DflowExpiry {
    /// Slots after it is opened.
    pub slots_after_open: u64,
}

/// DFlow's open-transaction answer (the captured fixture
/// `quote_response_with_open_transaction.json`): a quote that carries a ready, unsigned
/// transaction instead of a route. It has no `contextSlot` and no `routePlan`, so it is not a
/// [`DflowQuote`]; this type reads it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DflowOpenQuote {
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// Raw input.
    #[serde(with = "wire::amount")]
    pub in_amount: u64,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Expected output.
    #[serde(with = "wire::amount")]
    pub out_amount: u64,
    /// Minimum output after slippage.
    #[serde(with = "wire::amount")]
    pub other_amount_threshold: u64,
    /// Same as `otherAmountThreshold`.
    #[serde(with = "wire::amount")]
    pub min_out_amount: u64,
    /// The slippage.
    pub slippage_bps: u16,
    /// The integrator fee.
    #[serde(default)]
    pub platform_fee: Option<DflowPlatformFee>,
    /// The fee budget in lamports.
    #[serde(default)]
    pub fee_budget: Option<u64>,
    /// Price impact as a plain decimal fraction.
    pub price_impact_pct: PriceImpact,
    /// The unsigned transaction (Solana wire bytes, base64-decoded).
    #[serde(deserialize_with = "base64_bytes")]
    pub open_transaction: Vec<u8>,
    /// The last block height at which it lands.
    pub last_valid_block_height: u64,
    /// How long it stays valid.
    #[serde(default)]
    pub expiry: Option<DflowExpiry>,
}

impl std::fmt::Debug for DflowOpenQuote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DflowOpenQuote")
            .field("input_mint", &self.input_mint)
            .field("in_amount", &self.in_amount)
            .field("output_mint", &self.output_mint)
            .field("out_amount", &self.out_amount)
            .field("other_amount_threshold", &self.other_amount_threshold)
            .field(
                "open_transaction",
                &format_args!("{} bytes", self.open_transaction.len()),
            )
            .field("last_valid_block_height", &self.last_valid_block_height)
            .finish_non_exhaustive()
    }
}

fn base64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    STANDARD
        .decode(s.as_bytes())
        .map_err(|e| serde::de::Error::custom(format!("openTransaction is not base64: {e}")))
}
