//! Jupiter's swap API (v1): `GET /quote`, `POST /swap-instructions`, `POST /swap`
//! (`spec/jupiter.md`).
//!
//! ```no_run
//! # async fn demo(allocator: galileo_net::IpAllocator, http: galileo_net::BoundHttpClient)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use galileo_net::TaskKind;
//! use galileo_quote::jupiter::{JupiterClient, JupiterConfig, merge_round_trip};
//! use galileo_quote::{Leg, QuoteRequest, QuoteSource};
//!
//! let jupiter = JupiterClient::new(JupiterConfig::default(), http)?;
//! let (sol, usdc) = ("So11111111111111111111111111111111111111112".parse()?,
//!                    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v".parse()?);
//! let lease = allocator.acquire(TaskKind::Quote, 2).await?;
//! let buy = jupiter.quote(&lease, &QuoteRequest::new(sol, usdc, 1_000_000_000, Leg::Buy)).await?;
//! let sell = jupiter.quote(&lease, &QuoteRequest::new(usdc, sol, buy.out_amount, Leg::Sell)).await?;
//! if sell.out_amount > buy.in_amount {
//!     let merged = merge_round_trip(&buy, &sell, buy.in_amount + 10_000);
//!     # let user = sol;
//!     let ixs = jupiter.swap_instructions(&lease, &merged, &user).await?;
//!     let _all = ixs.flatten();
//! }
//! # Ok(()) }
//! ```

mod config;
mod quote;
mod swap;

use std::fmt;
use std::num::NonZeroUsize;

use galileo_net::{BackendId, HttpClient, IpLease};
use solana_pubkey::Pubkey;

pub use config::{DEFAULT_QUOTE_URL, DEFAULT_SWAP_INSTRUCTIONS_URL, JupiterConfig};
pub use quote::{JupiterQuote, PlatformFee, RoutePlanStep, SwapInfo, SwapMode, merge_round_trip};
pub use swap::JupiterSwap;

use crate::checks::{self, Query};
use crate::http::{self, Api, Caller};
use crate::{QuoteError, QuoteRequest, QuoteSource, SwapInstructions};

const API: Api = Api::Jupiter;

/// A Jupiter client over any [`HttpClient`]: each call leaves from the lease's IP and the
/// outcome is reported to the lease.
#[derive(Clone)]
pub struct JupiterClient<C> {
    config: JupiterConfig,
    caller: Caller<C>,
    backend: Option<BackendId>,
}

impl<C: HttpClient> JupiterClient<C> {
    /// A client; the configuration is validated first.
    pub fn new(config: JupiterConfig, http: C) -> Result<Self, QuoteError> {
        config.validate()?;
        let caller = Caller::new(API, &config.api_key_header, config.api_key.as_ref(), http)?;
        Ok(JupiterClient {
            config,
            caller,
            backend: None,
        })
    }

    /// Spend `backend`'s per-IP budget (the allocator's `[network.backends.jupiter]`): returned
    /// by [`QuoteSource::backend`] so the dispatcher leases against it.
    #[must_use]
    pub fn with_backend(mut self, backend: BackendId) -> Self {
        self.backend = Some(backend);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &JupiterConfig {
        &self.config
    }

    /// The query of `/quote`, in the reference client's order: `inputMint, outputMint, amount,
    /// swapMode, slippageBps, onlyDirectRoutes, restrictIntermediateTokens, dexes,
    /// excludeDexes, maxAccounts` (unset options left out).
    pub fn quote_query(&self, request: &QuoteRequest) -> String {
        let c = &self.config;
        Query::new()
            .put("inputMint", request.input_mint)
            .put("outputMint", request.output_mint)
            .put("amount", request.amount)
            .put("swapMode", "ExactIn")
            .put("slippageBps", c.slippage_bps)
            .opt("onlyDirectRoutes", c.only_direct_routes.then_some(true))
            .opt("restrictIntermediateTokens", c.restrict_intermediate_tokens)
            .list("dexes", &c.dexes)
            .list("excludeDexes", &c.exclude_dexes)
            .opt("maxAccounts", c.max_accounts)
            .finish()
    }

    fn swap_body<'a>(&self, quote: &'a JupiterQuote, user: &Pubkey) -> swap::SwapBody<'a> {
        swap::SwapBody {
            quote_response: quote,
            user_public_key: *user,
            wrap_and_unwrap_sol: self.config.wrap_and_unwrap_sol,
            dynamic_compute_unit_limit: self.config.dynamic_compute_unit_limit,
            compute_unit_price_micro_lamports: self
                .config
                .compute_unit_price_micro_lamports
                .filter(|p| *p > 0),
        }
    }

    /// `POST /swap`: an unsigned transaction that executes `quote` for `user`. Needs
    /// `swap_url`.
    pub async fn swap(
        &self,
        lease: &IpLease,
        quote: &JupiterQuote,
        user: &Pubkey,
    ) -> Result<JupiterSwap, QuoteError> {
        let url = self.config.swap_url.as_deref().ok_or_else(|| {
            checks::config_error(
                API.name(),
                "swap_url",
                "is not set: set it to the /swap URL (e.g. https://lite-api.jup.ag/swap/v1/swap)",
            )
        })?;
        let body = self.swap_body(quote, user);
        let answer: swap::SwapAnswer = self
            .caller
            .post(lease, url, &body, self.config.swap_timeout(), WHAT_SWAP)
            .await?;
        answer
            .into_swap()
            .map_err(|reason| decode_error(WHAT_SWAP, reason))
    }
}

const WHAT_QUOTE: &str = "a quote";
const WHAT_INSTRUCTIONS: &str = "swap instructions";
const WHAT_SWAP: &str = "a swap transaction";

fn decode_error(what: &'static str, reason: String) -> QuoteError {
    QuoteError::Decode {
        backend: API.name().to_owned(),
        what,
        reason,
    }
}

/// Reads a `/quote` answer body as the client does.
pub fn decode_quote(body: &[u8]) -> Result<JupiterQuote, QuoteError> {
    http::decode(API, WHAT_QUOTE, body, None)
}

/// Reads a `/swap-instructions` answer body as the client does.
pub fn decode_swap_instructions(body: &[u8]) -> Result<SwapInstructions, QuoteError> {
    http::decode::<swap::InstructionsAnswer>(API, WHAT_INSTRUCTIONS, body, None).map(Into::into)
}

/// Reads a `/swap` answer body as the client does.
pub fn decode_swap(body: &[u8]) -> Result<JupiterSwap, QuoteError> {
    http::decode::<swap::SwapAnswer>(API, WHAT_SWAP, body, None)?
        .into_swap()
        .map_err(|reason| decode_error(WHAT_SWAP, reason))
}

impl<C: HttpClient> QuoteSource for JupiterClient<C> {
    type Quote = JupiterQuote;
    type Instructions = SwapInstructions;

    fn name(&self) -> &str {
        API.name()
    }

    fn backend(&self) -> Option<BackendId> {
        self.backend
    }

    fn backend_limit(&self) -> Option<NonZeroUsize> {
        self.config.backend_limit
    }

    async fn quote(
        &self,
        lease: &IpLease,
        request: &QuoteRequest,
    ) -> Result<JupiterQuote, QuoteError> {
        let query = self.quote_query(request);
        let quote: JupiterQuote = self
            .caller
            .get(
                lease,
                &self.config.quote_url,
                &query,
                self.config.quote_timeout(),
                WHAT_QUOTE,
            )
            .await?;
        checks::answer(API.name(), WHAT_QUOTE, request, &quote, true)?;
        Ok(quote)
    }

    async fn swap_instructions(
        &self,
        lease: &IpLease,
        quote: &JupiterQuote,
        user: &Pubkey,
    ) -> Result<SwapInstructions, QuoteError> {
        let body = self.swap_body(quote, user);
        let answer: swap::InstructionsAnswer = self
            .caller
            .post(
                lease,
                &self.config.swap_instructions_url,
                &body,
                self.config.swap_timeout(),
                WHAT_INSTRUCTIONS,
            )
            .await?;
        Ok(answer.into())
    }
}

impl<C> fmt::Debug for JupiterClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JupiterClient")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}
