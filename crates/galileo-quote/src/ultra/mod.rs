//! Jupiter Ultra: `GET /order`, `POST /execute` (`spec/ultra.md`).
//!
//! An order is a quote plus, when a `taker` is configured, a ready unsigned transaction: the
//! [`QuoteSource::swap_instructions`] of this client makes no request, it hands over that
//! transaction ([`UltraTransaction`]); sign it as the taker and pass it to
//! [`UltraClient::execute`].

mod config;
mod execute;
mod order;

use std::fmt;
use std::num::NonZeroUsize;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use galileo_net::{BackendId, HttpClient, IpLease};
use solana_pubkey::Pubkey;

pub use config::{DEFAULT_BASE_URL, ROUTERS, UltraConfig};
pub use execute::{ExecuteStatus, UltraExecution, UltraSwapEvent};
pub use order::{
    UltraOrder, UltraPlatformFee, UltraRoutePlanStep, UltraSwapInfo, UltraTransaction,
};

use crate::checks::{self, Query};
use crate::http::{self, Api, Caller};
use crate::{QuoteError, QuoteRequest, QuoteSource};

const API: Api = Api::Ultra;
const WHAT_ORDER: &str = "an order";
const WHAT_EXECUTE: &str = "an execute answer";

/// An Ultra client over any [`HttpClient`]: each call leaves from the lease's IP and the
/// outcome is reported to the lease.
#[derive(Clone)]
pub struct UltraClient<C> {
    config: UltraConfig,
    order_url: String,
    execute_url: String,
    caller: Caller<C>,
    backend: Option<BackendId>,
}

impl<C: HttpClient> UltraClient<C> {
    /// A client; the configuration is validated first.
    pub fn new(config: UltraConfig, http: C) -> Result<Self, QuoteError> {
        config.validate()?;
        let caller = Caller::new(API, &config.api_key_header, config.api_key.as_ref(), http)?;
        Ok(UltraClient {
            order_url: config.order_url(),
            execute_url: config.execute_url(),
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
    pub fn config(&self) -> &UltraConfig {
        &self.config
    }

    /// The query of `/order`, in the reference client's order: `inputMint, outputMint, amount,
    /// slippageBps, useWsol, broadcastFeeType, jitoTipLamports, priorityFeeLamports,
    /// excludeDexes, taker, referralAccount, referralFee, excludeRouters, payer, routers`
    /// (unset ones left out; `swapMode` is never sent, `ExactIn` being Ultra's only mode).
    pub fn order_query(&self, request: &QuoteRequest) -> String {
        let c = &self.config;
        Query::new()
            .put("inputMint", request.input_mint)
            .put("outputMint", request.output_mint)
            .put("amount", request.amount)
            .opt("slippageBps", c.slippage_bps)
            .opt("useWsol", c.use_wsol)
            .opt("broadcastFeeType", c.broadcast_fee_type.as_deref())
            .opt("jitoTipLamports", c.jito_tip_lamports.filter(|l| *l > 0))
            .opt(
                "priorityFeeLamports",
                c.priority_fee_lamports.filter(|l| *l > 0),
            )
            .list("excludeDexes", &c.exclude_dexes)
            .opt("taker", c.taker)
            .opt("referralAccount", c.referral_account)
            .opt("referralFee", c.referral_fee)
            .list("excludeRouters", &c.exclude_routers)
            .opt("payer", c.payer)
            .list("routers", &c.routers)
            .finish()
    }

    /// `POST /execute`: submits `signed_transaction` (Solana wire bytes, signed by the taker)
    /// for the order `request_id`. A `Failed` status comes back as an answer
    /// ([`UltraExecution::is_success`]); 4xx/5xx answers are errors (`{error, code}`).
    pub async fn execute(
        &self,
        lease: &IpLease,
        signed_transaction: &[u8],
        request_id: &str,
    ) -> Result<UltraExecution, QuoteError> {
        let body = execute::ExecuteBody {
            signed_transaction: STANDARD.encode(signed_transaction),
            request_id,
        };
        self.caller
            .post(
                lease,
                &self.execute_url,
                &body,
                self.config.execute_timeout(),
                WHAT_EXECUTE,
            )
            .await
    }
}

/// Reads an `/order` answer body as the client does.
pub fn decode_order(body: &[u8]) -> Result<UltraOrder, QuoteError> {
    http::decode(API, WHAT_ORDER, body, None)
}

/// Reads an `/execute` answer body as the client does.
pub fn decode_execution(body: &[u8]) -> Result<UltraExecution, QuoteError> {
    http::decode(API, WHAT_EXECUTE, body, None)
}

impl<C: HttpClient> QuoteSource for UltraClient<C> {
    type Quote = UltraOrder;
    type Instructions = UltraTransaction;

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
    ) -> Result<UltraOrder, QuoteError> {
        let query = self.order_query(request);
        let order: UltraOrder = self
            .caller
            .get(
                lease,
                &self.order_url,
                &query,
                self.config.order_timeout(),
                WHAT_ORDER,
            )
            .await?;
        // Ultra may take fees from the input; only the mints must match.
        checks::answer(API.name(), WHAT_ORDER, request, &order, false)?;
        Ok(order)
    }

    /// No request: the order's own transaction (see [`UltraOrder::transaction_for`]).
    async fn swap_instructions(
        &self,
        _lease: &IpLease,
        quote: &UltraOrder,
        user: &Pubkey,
    ) -> Result<UltraTransaction, QuoteError> {
        quote.transaction_for(user)
    }
}

impl<C> fmt::Debug for UltraClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UltraClient")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}
