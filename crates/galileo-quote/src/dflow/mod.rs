//! DFlow's aggregator API: `GET /quote`, `POST /swap-instructions` (`spec/dflow.md`).
//!
//! Close to Jupiter's, not identical: another route shape, `{code, msg}` errors, and
//! `blockhashWithMetadata` and `computeUnitLimit` always in the instructions. A
//! `failed_to_compute_swap` answer (any status) is [`QuoteError::NoRoute`]: skip the
//! opportunity, DFlow is not down.

mod config;
mod quote;
mod swap;

use std::fmt;
use std::num::NonZeroUsize;

use galileo_net::{BackendId, HttpClient, IpLease};
use solana_pubkey::Pubkey;

pub use config::{DEFAULT_BASE_URL, DflowConfig};
pub use quote::{
    DflowExpiry, DflowOpenQuote, DflowPlatformFee, DflowQuote, DflowRouteLeg, merge_round_trip,
};

use crate::checks::{self, Query};
use crate::http::{self, Api, Caller};
use crate::{QuoteError, QuoteRequest, QuoteSource, SwapInstructions};

const API: Api = Api::Dflow;
const WHAT_QUOTE: &str = "a quote";
const WHAT_INSTRUCTIONS: &str = "swap instructions";

/// A DFlow client over any [`HttpClient`]: each call leaves from the lease's IP and the
/// outcome is reported to the lease.
#[derive(Clone)]
pub struct DflowClient<C> {
    config: DflowConfig,
    quote_url: String,
    swap_instructions_url: String,
    caller: Caller<C>,
    backend: Option<BackendId>,
}

impl<C: HttpClient> DflowClient<C> {
    /// A client; the configuration is validated first.
    pub fn new(config: DflowConfig, http: C) -> Result<Self, QuoteError> {
        config.validate()?;
        let caller = Caller::new(API, &config.api_key_header, config.api_key.as_ref(), http)?;
        Ok(DflowClient {
            quote_url: config.quote_url(),
            swap_instructions_url: config.swap_instructions_url(),
            config,
            caller,
            backend: None,
        })
    }

    /// Spend `backend`'s per-IP budget: returned by [`QuoteSource::backend`].
    #[must_use]
    pub fn with_backend(mut self, backend: BackendId) -> Self {
        self.backend = Some(backend);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &DflowConfig {
        &self.config
    }

    /// The query of `/quote`, in the reference client's order: `inputMint, outputMint,
    /// amount, slippageBps, dexes, excludeDexes, onlyDirectRoutes, maxRouteLength` (unset
    /// options left out).
    pub fn quote_query(&self, request: &QuoteRequest) -> String {
        let c = &self.config;
        Query::new()
            .put("inputMint", request.input_mint)
            .put("outputMint", request.output_mint)
            .put("amount", request.amount)
            .put("slippageBps", c.slippage_bps)
            .list("dexes", &c.dexes)
            .list("excludeDexes", &c.exclude_dexes)
            .opt("onlyDirectRoutes", c.only_direct_routes.then_some(true))
            .opt("maxRouteLength", c.max_route_length)
            .finish()
    }
}

/// Reads a `/quote` answer body as the client does (before it applies its slippage).
pub fn decode_quote(body: &[u8]) -> Result<DflowQuote, QuoteError> {
    http::decode(API, WHAT_QUOTE, body, None)
}

/// Reads an open-transaction answer body (see [`DflowOpenQuote`]).
pub fn decode_open_quote(body: &[u8]) -> Result<DflowOpenQuote, QuoteError> {
    http::decode(API, WHAT_QUOTE, body, None)
}

/// Reads a `/swap-instructions` answer body as the client does.
pub fn decode_swap_instructions(body: &[u8]) -> Result<SwapInstructions, QuoteError> {
    http::decode::<swap::InstructionsAnswer>(API, WHAT_INSTRUCTIONS, body, None).map(Into::into)
}

impl<C: HttpClient> QuoteSource for DflowClient<C> {
    type Quote = DflowQuote;
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
    ) -> Result<DflowQuote, QuoteError> {
        let query = self.quote_query(request);
        let mut quote: DflowQuote = self
            .caller
            .get(
                lease,
                &self.quote_url,
                &query,
                self.config.quote_timeout(),
                WHAT_QUOTE,
            )
            .await?;
        checks::answer(API.name(), WHAT_QUOTE, request, &quote, true)?;
        quote.apply_slippage(self.config.slippage_bps);
        Ok(quote)
    }

    async fn swap_instructions(
        &self,
        lease: &IpLease,
        quote: &DflowQuote,
        user: &Pubkey,
    ) -> Result<SwapInstructions, QuoteError> {
        let body = swap::SwapBody {
            quote_response: quote,
            user_public_key: *user,
            wrap_and_unwrap_sol: self.config.wrap_and_unwrap_sol,
            dynamic_compute_unit_limit: self.config.dynamic_compute_unit_limit,
            compute_unit_price_micro_lamports: self
                .config
                .compute_unit_price_micro_lamports
                .filter(|p| *p > 0),
        };
        let answer: swap::InstructionsAnswer = self
            .caller
            .post(
                lease,
                &self.swap_instructions_url,
                &body,
                self.config.swap_timeout(),
                WHAT_INSTRUCTIONS,
            )
            .await?;
        Ok(answer.into())
    }
}

impl<C> fmt::Debug for DflowClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DflowClient")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}
