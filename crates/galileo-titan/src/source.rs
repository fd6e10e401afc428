//! The [`QuoteSource`] over the streams: a quote is the freshest streamed update for the
//! (pair, amount), read from memory; no request is made (`cost()` is 0).

use std::fmt;
use std::future::{Future, ready};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;

use galileo_net::IpLease;
use galileo_quote::{QuoteError, QuoteRequest, QuoteSource, Quoted};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use tokio::time::Instant;

use crate::TitanStreams;
use crate::metrics;
use crate::plan::Subscription;
use crate::table::{Stale, StreamQuote};
use crate::wire::SwapRoute;

/// The backend's name (metrics, errors).
pub const BACKEND: &str = "titan";

static NO_ROUTE: SwapRoute = SwapRoute {
    in_amount: 0,
    out_amount: 0,
    slippage_bps: 0,
    platform_fee: None,
    steps: Vec::new(),
    instructions: Vec::new(),
    address_lookup_tables: Vec::new(),
    context_slot: None,
    time_taken_ns: None,
    expires_at_ms: None,
    expires_after_slot: None,
    compute_units: None,
    compute_units_safe: None,
    transaction: None,
    reference_id: None,
};

/// A streamed quote: the best provider's route of one update.
#[derive(Clone)]
pub struct TitanQuote {
    update: Arc<StreamQuote>,
    provider: String,
}

impl TitanQuote {
    /// The source IP of the stream it came from.
    pub fn ip(&self) -> IpAddr {
        self.update.key.ip
    }

    /// The provider with the largest `outAmount` (`Titan`, `Metis`, ...).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The whole update (every provider's route).
    pub fn update(&self) -> &StreamQuote {
        &self.update
    }

    /// The best route.
    pub fn route(&self) -> &SwapRoute {
        // The provider was taken from this update's routes, so the fallback never serves.
        self.update
            .quotes
            .quotes
            .get(&self.provider)
            .unwrap_or(&NO_ROUTE)
    }

    /// When the update arrived.
    pub fn received_at(&self) -> Instant {
        self.update.received_at
    }
}

impl fmt::Debug for TitanQuote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.route();
        f.debug_struct("TitanQuote")
            .field("stream", &self.update.key)
            .field("seq", &self.update.seq)
            .field("provider", &self.provider)
            .field("in_amount", &r.in_amount)
            .field("out_amount", &r.out_amount)
            .field("context_slot", &r.context_slot)
            .finish()
    }
}

impl Quoted for TitanQuote {
    fn input_mint(&self) -> Pubkey {
        self.update.quotes.input_mint
    }

    fn output_mint(&self) -> Pubkey {
        self.update.quotes.output_mint
    }

    fn in_amount(&self) -> u64 {
        self.route().in_amount
    }

    fn out_amount(&self) -> u64 {
        self.route().out_amount
    }

    fn min_out_amount(&self) -> u64 {
        let r = self.route();
        let keep = 10_000u128.saturating_sub(u128::from(r.slippage_bps));
        u64::try_from(u128::from(r.out_amount) * keep / 10_000).unwrap_or(r.out_amount)
    }

    fn context_slot(&self) -> Option<u64> {
        self.route().context_slot
    }
}

/// What executes a [`TitanQuote`]: the route's own instructions, as Titan built them for
/// `user_public_key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitanInstructions {
    /// The provider whose route this is.
    pub provider: String,
    /// The instructions, in order (no compute-budget instructions: the lander sets those).
    pub instructions: Vec<Instruction>,
    /// The lookup tables they need.
    pub address_lookup_tables: Vec<Pubkey>,
    /// The compute-unit limit Titan recommends.
    pub compute_units_safe: Option<u64>,
    /// Titan's compute-unit estimate.
    pub compute_units: Option<u64>,
    /// The last slot the quote is good for.
    pub expires_after_slot: Option<u64>,
    /// A whole transaction, for routes given as one (RFQ) instead of instructions.
    pub transaction: Option<Vec<u8>>,
}

impl TitanStreams {
    // The error type is the trait's (galileo-quote's `QuoteError`); its size is not ours.
    fn quote_now(&self, request: &QuoteRequest) -> Result<TitanQuote, QuoteError> {
        let sub = Subscription::new(request.input_mint, request.output_mint, request.amount);
        let now = Instant::now();
        let update = self.freshest_at(&sub, now).map_err(|stale| {
            let why = match stale {
                Stale::NotPlanned => "it is not subscribed".to_owned(),
                Stale::NoUpdate => "no update has arrived yet".to_owned(),
                Stale::TooOld(age) => format!(
                    "the newest update is {:.1}s old (max_quote_age_ms {})",
                    age.as_secs_f64(),
                    self.max_quote_age().as_millis()
                ),
            };
            QuoteError::NoFreshQuote {
                backend: BACKEND.into(),
                what: format!("{sub:?}: {why}"),
            }
        })?;
        let Some(provider) = update.best.clone() else {
            return Err(QuoteError::NoRoute {
                backend: BACKEND.into(),
                message: format!(
                    "the latest update for {sub:?} (from {}) has no route",
                    update.key.ip
                ),
            });
        };
        metrics::quote_age(update.age(now));
        Ok(TitanQuote { update, provider })
    }

    fn instructions_of(
        &self,
        quote: &TitanQuote,
        user: &Pubkey,
    ) -> Result<TitanInstructions, QuoteError> {
        let built_for = self.client().template().user;
        if *user != built_for {
            return Err(QuoteError::Config(format!(
                "Titan's routes are built for user_public_key {built_for}, but the signer is \
                 {user}: set titan.user_public_key to the signer's key"
            )));
        }
        let r = quote.route();
        Ok(TitanInstructions {
            provider: quote.provider.clone(),
            instructions: r.instructions.iter().map(Instruction::from).collect(),
            address_lookup_tables: r.address_lookup_tables.clone(),
            compute_units_safe: r.compute_units_safe,
            compute_units: r.compute_units,
            expires_after_slot: r.expires_after_slot,
            transaction: r.transaction.clone(),
        })
    }
}

/// Titan as the buy leg of a round trip. `lease` is not used: the quote was streamed from
/// its stream's own IP (held by a long-lived lease), and the lease serves the other leg.
impl QuoteSource for TitanStreams {
    type Quote = TitanQuote;
    type Instructions = TitanInstructions;

    fn name(&self) -> &str {
        BACKEND
    }

    fn cost(&self) -> u32 {
        0
    }

    /// 2 × the planned IPs: no more quotes at once than there are streams.
    fn backend_limit(&self) -> Option<NonZeroUsize> {
        NonZeroUsize::new(self.streams_per_ip() * self.planned_ips().max(1))
    }

    fn quote(
        &self,
        _lease: &IpLease,
        request: &QuoteRequest,
    ) -> impl Future<Output = Result<TitanQuote, QuoteError>> + Send {
        ready(self.quote_now(request))
    }

    fn swap_instructions(
        &self,
        _lease: &IpLease,
        quote: &TitanQuote,
        user: &Pubkey,
    ) -> impl Future<Output = Result<TitanInstructions, QuoteError>> + Send {
        ready(self.instructions_of(quote, user))
    }
}
