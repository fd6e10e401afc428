//! `GET /order`'s answer (spec §2.2) and the transaction it carries.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

use crate::http::summarise;
use crate::jupiter::SwapMode;
use crate::wire;
use crate::{QuoteError, Quoted};

/// One swap of an Ultra route; every member required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltraSwapInfo {
    /// The pool (or the RFQ maker's market), as Ultra writes it.
    pub amm_key: String,
    /// The venue's label.
    pub label: String,
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
    /// The fee's mint (must be a valid key).
    #[serde(with = "wire::pubkey")]
    pub fee_mint: Pubkey,
}

/// One step of an Ultra route (`percent` may be fractional).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltraRoutePlanStep {
    /// The swap.
    pub swap_info: UltraSwapInfo,
    /// Share of the input, 0–100.
    pub percent: f64,
    /// Share in basis points.
    #[serde(default)]
    pub bps: Option<u16>,
}

/// An integrator fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltraPlatformFee {
    /// Raw amount.
    #[serde(with = "wire::amount")]
    pub amount: u64,
    /// Basis points.
    pub fee_bps: u16,
}

/// An Ultra order: a quote plus, when a `taker` was given, a ready unsigned transaction.
///
/// The officially required members are enforced, and the three amounts must be above zero
/// (an order that moves nothing is useless for planning). Unknown keys are ignored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltraOrder {
    /// Free text (`"ultra"`, `"ExactIn"`, ...).
    pub mode: String,
    /// Sold.
    #[serde(with = "wire::pubkey")]
    pub input_mint: Pubkey,
    /// Bought.
    #[serde(with = "wire::pubkey")]
    pub output_mint: Pubkey,
    /// Raw input.
    #[serde(with = "wire::amount::nonzero")]
    pub in_amount: u64,
    /// Raw output.
    #[serde(with = "wire::amount::nonzero")]
    pub out_amount: u64,
    /// The minimum output after slippage.
    #[serde(with = "wire::amount::nonzero")]
    pub other_amount_threshold: u64,
    /// The mode.
    pub swap_mode: SwapMode,
    /// The slippage.
    pub slippage_bps: u16,
    /// USD value of the input.
    #[serde(default)]
    pub in_usd_value: Option<f64>,
    /// USD value of the output.
    #[serde(default)]
    pub out_usd_value: Option<f64>,
    /// USD value of the swap.
    #[serde(default)]
    pub swap_usd_value: Option<f64>,
    /// Price impact as a fraction.
    #[serde(default)]
    pub price_impact: Option<f64>,
    /// Deprecated; any string.
    #[serde(default)]
    pub price_impact_pct: Option<String>,
    /// The route.
    pub route_plan: Vec<UltraRoutePlanStep>,
    /// The fee's mint.
    #[serde(default, with = "wire::pubkey::opt")]
    pub fee_mint: Option<Pubkey>,
    /// Ultra's fee.
    pub fee_bps: u16,
    /// Base fee the taker pays (0 if gasless).
    pub signature_fee_lamports: u64,
    /// Priority fee plus Jito tip embedded in the transaction.
    pub prioritization_fee_lamports: u64,
    /// Rent estimate.
    pub rent_fee_lamports: u64,
    /// Deprecated alias of `router`.
    #[serde(default)]
    pub swap_type: Option<String>,
    /// The router that won (`aggregator`, `jupiterz`, `dflow`, `okx`).
    pub router: String,
    /// Base64 unsigned transaction: `null` without a taker, `""` with an `errorCode`.
    #[serde(default)]
    pub transaction: Option<String>,
    /// Whether Jupiter pays the fees.
    pub gasless: bool,
    /// Names the order in `/execute`.
    pub request_id: String,
    /// How long the order took (milliseconds in practice).
    pub total_time: f64,
    /// The taker.
    #[serde(default, with = "wire::pubkey::opt")]
    pub taker: Option<Pubkey>,
    /// The RFQ quote id.
    #[serde(default)]
    pub quote_id: Option<String>,
    /// The RFQ maker.
    #[serde(default)]
    pub maker: Option<String>,
    /// When the order expires (Unix milliseconds, as a string).
    #[serde(default)]
    pub expire_at: Option<String>,
    /// The integrator fee.
    #[serde(default)]
    pub platform_fee: Option<UltraPlatformFee>,
    /// 1–3 when no transaction could be made for the taker.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// Why (display only).
    #[serde(default)]
    pub error_message: Option<String>,
}

impl UltraOrder {
    /// The transaction to sign as `user`, with the order's `requestId`.
    ///
    /// Fails with [`QuoteError::NoTransaction`], saying what to change, when the order has an
    /// `errorCode`, has no transaction (no `taker` was configured), was made for another
    /// taker, or carries a transaction that is not base64.
    pub fn transaction_for(&self, user: &Pubkey) -> Result<UltraTransaction, QuoteError> {
        let fail = |reason: String| QuoteError::NoTransaction {
            backend: "ultra".to_owned(),
            reason,
        };
        if let Some(code) = self.error_code {
            let message = self
                .error_message
                .as_deref()
                .map(|m| summarise(m, None))
                .unwrap_or_else(|| "no message".to_owned());
            return Err(fail(format!(
                "errorCode {code}: {message} (fund the taker or pick another size)"
            )));
        }
        if let Some(taker) = self.taker
            && taker != *user
        {
            return Err(fail(format!(
                "the order was made for taker {taker}, not {user}; sign with the taker's key or \
                 set ultra.taker to {user}"
            )));
        }
        let encoded = match self.transaction.as_deref() {
            None => {
                return Err(fail(
                    "the order has no transaction because it was made without a taker; set \
                     ultra.taker to the signer's public key"
                        .to_owned(),
                ));
            }
            Some("") => return Err(fail("the order's transaction is empty".to_owned())),
            Some(t) => t,
        };
        let transaction = STANDARD
            .decode(encoded.as_bytes())
            .map_err(|e| fail(format!("the order's transaction is not base64: {e}")))?;
        Ok(UltraTransaction {
            request_id: self.request_id.clone(),
            transaction,
        })
    }
}

impl fmt::Debug for UltraOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UltraOrder")
            .field("input_mint", &self.input_mint)
            .field("in_amount", &self.in_amount)
            .field("output_mint", &self.output_mint)
            .field("out_amount", &self.out_amount)
            .field("other_amount_threshold", &self.other_amount_threshold)
            .field("router", &self.router)
            .field("request_id", &self.request_id)
            .field("taker", &self.taker)
            .field(
                "transaction",
                &self
                    .transaction
                    .as_ref()
                    .map(|t| format!("{} chars", t.len())),
            )
            .field("error_code", &self.error_code)
            .finish_non_exhaustive()
    }
}

impl Quoted for UltraOrder {
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
}

/// What Ultra's "swap instructions" are: the order's unsigned transaction, to sign and pass
/// to [`UltraClient::execute`](super::UltraClient::execute) with its `request_id`.
#[derive(Clone, PartialEq, Eq)]
pub struct UltraTransaction {
    /// The order's `requestId`.
    pub request_id: String,
    /// An unsigned bincode `VersionedTransaction` (Solana wire bytes).
    pub transaction: Vec<u8>,
}

impl fmt::Debug for UltraTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UltraTransaction")
            .field("request_id", &self.request_id)
            .field(
                "transaction",
                &format_args!("{} bytes", self.transaction.len()),
            )
            .finish()
    }
}
