//! The DFlow simulator: `GET /quote` and `POST /swap-instructions`.
//!
//! Like Jupiter's, but with DFlow's shapes: legs with decimals, `{code, msg}` errors,
//! `blockhashWithMetadata` (base58) and `computeUnitLimit` always present, the swap
//! instruction's data ending in `slippage_bps | platform_fee_bps`, `401` without an accepted
//! `x-api-key` when keys are configured, and a switch that makes `/swap-instructions` answer
//! `500 failed_to_compute_swap`.

mod config;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use solana_pubkey::Pubkey;

pub use config::{AUTO_PRIORITY_CAP_LAMPORTS, DflowConfig};
use wire::{
    BlockhashWithMetadata, DestinationTokenAccount, ErrorBody, FeeKeyword, PrioritizationFee,
    PrioritizationType, QuoteResponse, RouteLeg, SwapInstructionsResponse, SwapRequest,
};

use super::endpoint;
use super::journal::{Journal, ServedInstructions, ServedQuote};
use super::ledger::Ledger;
use super::plan::{self, PlanRequest, Priority};
use super::problem::Problem;
use super::route::{self, EchoedStep, VenueFilter};
use super::wire::query::Query;
use super::wire::{Nullable, WireInstruction, decimal_string, min_out};
use crate::market::SharedMarket;
use crate::service::json;
use crate::{RequestContext, Service, SimBody, SimError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Quote,
    SwapInstructions,
}

const ENDPOINTS: [(&str, Endpoint); 2] = [
    ("/quote", Endpoint::Quote),
    ("/swap-instructions", Endpoint::SwapInstructions),
];

/// The code of DFlow's "skip this opportunity" failure.
pub const FAILED_TO_COMPUTE_SWAP: &str = "failed_to_compute_swap";

/// The DFlow simulator. Cheap to clone; clones serve the same state.
#[derive(Debug)]
pub struct DflowService<L: Ledger> {
    inner: Arc<Inner<L>>,
}

impl<L: Ledger> Clone for DflowService<L> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
struct Inner<L> {
    cfg: DflowConfig,
    market: SharedMarket,
    ledger: L,
    knobs: DflowKnobs,
}

/// A running DFlow simulator's switch and journal.
#[derive(Clone, Debug)]
pub struct DflowKnobs {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    failed_to_compute: AtomicBool,
    quotes: Journal<ServedQuote>,
    instructions: Journal<ServedInstructions>,
}

impl DflowKnobs {
    /// From now on every `/swap-instructions` answers `500 failed_to_compute_swap` (or, with
    /// `false`, no longer).
    pub fn set_failed_to_compute(&self, on: bool) {
        self.state.failed_to_compute.store(on, Ordering::Relaxed);
    }

    /// Whether `/swap-instructions` fails.
    pub fn failed_to_compute(&self) -> bool {
        self.state.failed_to_compute.load(Ordering::Relaxed)
    }

    /// The quotes served, oldest first.
    pub fn quotes(&self) -> Vec<ServedQuote> {
        self.state.quotes.all()
    }

    /// The instruction sets served, oldest first.
    pub fn instructions(&self) -> Vec<ServedInstructions> {
        self.state.instructions.all()
    }

    /// Forgets what was served.
    pub fn clear(&self) {
        self.state.quotes.clear();
        self.state.instructions.clear();
    }
}

impl<L: Ledger> DflowService<L> {
    /// A simulator quoting from `market` and building on `ledger`.
    pub fn new(cfg: DflowConfig, market: SharedMarket, ledger: L) -> Result<Self, SimError> {
        cfg.validate()?;
        let knobs = DflowKnobs {
            state: Arc::new(State {
                failed_to_compute: AtomicBool::new(cfg.failed_to_compute_swap),
                quotes: Journal::new(cfg.journal_capacity),
                instructions: Journal::new(cfg.journal_capacity),
            }),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                market,
                ledger,
                knobs,
            }),
        })
    }

    /// Its switch and journal (keep them before handing the service to a sandbox).
    pub fn knobs(&self) -> DflowKnobs {
        self.inner.knobs.clone()
    }

    /// Its configuration.
    pub fn config(&self) -> &DflowConfig {
        &self.inner.cfg
    }
}

impl<L: Ledger> Service for DflowService<L> {
    fn name(&self) -> &'static str {
        "dflow"
    }

    fn api_key(&self, req: &Request<Bytes>) -> Option<String> {
        self.inner.cfg.api_keys.key_of(req)
    }

    async fn handle(&self, req: Request<Bytes>, ctx: RequestContext) -> Response<SimBody> {
        self.inner
            .respond(&req, &ctx)
            .unwrap_or_else(|p| render(&p))
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response<SimBody> {
        let code = match status {
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "internal_error",
        };
        body(status, code, message)
    }
}

fn body(status: StatusCode, code: &str, msg: &str) -> Response<SimBody> {
    json(
        status,
        &ErrorBody {
            code: code.to_owned(),
            msg: msg.to_owned(),
        },
    )
}

/// DFlow's `{code, msg}` body for `p`.
fn render(p: &Problem) -> Response<SimBody> {
    let code = match p {
        Problem::BadRequest(_) | Problem::SameMint => "invalid_request",
        Problem::UnknownMint(_) => "token_not_supported",
        Problem::NoRoute(_) => "route_not_found",
        Problem::Unauthorized(_) => "unauthorized",
        Problem::NotFound(_) => "not_found",
        Problem::MethodNotAllowed(_) => "method_not_allowed",
        Problem::Internal(_) => "internal_error",
    };
    body(p.status(), code, &p.message())
}

fn key(name: &str, v: &str) -> Result<Pubkey, Problem> {
    v.parse()
        .map_err(|_| Problem::BadRequest(format!("{name}: {v:?} is not a valid public key")))
}

impl<L: Ledger> Inner<L> {
    fn respond(
        &self,
        req: &Request<Bytes>,
        ctx: &RequestContext,
    ) -> Result<Response<SimBody>, Problem> {
        self.cfg.api_keys.authorize(req)?;
        let path = req.uri().path();
        let ep = endpoint::find(&self.cfg.prefixes, path, &ENDPOINTS)
            .ok_or_else(|| Problem::NotFound(format!("no endpoint {path}")))?;
        match (ep, req.method()) {
            (Endpoint::Quote, &Method::GET) => {
                let q = Query::parse(req.uri().query());
                Ok(json(StatusCode::OK, &self.quote(&q, ctx)?))
            }
            (Endpoint::SwapInstructions, &Method::POST) => self.swap_instructions(req.body(), ctx),
            (_, m) => Err(Problem::MethodNotAllowed(format!(
                "{m} is not allowed on {path}"
            ))),
        }
    }

    fn quote(&self, q: &Query, ctx: &RequestContext) -> Result<QuoteResponse, Problem> {
        let input = q.pubkey("inputMint")?;
        let output = q.pubkey("outputMint")?;
        let amount = q.u64("amount")?;
        let slippage = match q.get("slippageBps") {
            None | Some("auto") => self.cfg.default_slippage_bps,
            Some(_) => q.opt_u16("slippageBps")?.unwrap_or_default(),
        };
        if slippage > 10_000 {
            return Err(Problem::BadRequest(format!(
                "query parameter slippageBps: {slippage} is over 10000"
            )));
        }
        q.opt_u16("platformFeeBps")?;
        if let Some(m) = q.get("platformFeeMode")
            && m != "outputMint"
            && m != "inputMint"
        {
            return Err(Problem::BadRequest(format!(
                "query parameter platformFeeMode: {m:?} is not outputMint or inputMint"
            )));
        }
        for flag in ["sponsoredSwap", "destinationSwap", "onlyDirectRoutes"] {
            q.opt_bool(flag)?;
        }
        q.opt_u32("maxRouteLength")?;
        let filter = VenueFilter {
            include: q.list("dexes"),
            exclude: q.list("excludeDexes").unwrap_or_default(),
        };
        let now = ctx.received;
        let priced = route::best(&self.market.read(), &input, &output, amount, now, |v| {
            filter.allows(v)
        })?;
        let slot = self.ledger.slot(now);
        let q = &priced.quote;
        let threshold = min_out(q.out_amount, slippage);
        let response = QuoteResponse {
            context_slot: Some(slot),
            in_amount: amount,
            input_mint: input.to_string(),
            min_out_amount: threshold,
            other_amount_threshold: threshold,
            out_amount: q.out_amount,
            output_mint: output.to_string(),
            price_impact_pct: decimal_string(q.price_impact_ppb, false),
            route_plan: Some(vec![RouteLeg {
                in_amount: amount,
                input_mint: input.to_string(),
                input_mint_decimals: priced.input_decimals,
                market_key: q.pool.to_string(),
                out_amount: q.out_amount,
                output_mint: output.to_string(),
                output_mint_decimals: priced.output_decimals,
                venue: priced.venue.clone(),
                data: None,
            }]),
            slippage_bps: slippage,
            out_transfer_fee: Nullable::Null,
            platform_fee: Nullable::Null,
            request_id: Some(format!("sim-{:016x}", ctx.request_id)),
            // A setup and a swap, as if simulated.
            simulated_compute_units: Nullable::Value(
                u64::from(self.cfg.compute.dynamic_units_per_instruction) * 2,
            ),
            fee_budget: None,
            open_transaction: None,
            last_valid_block_height: None,
            expiry: None,
        };
        self.knobs.state.quotes.push(ServedQuote {
            request: ctx.request_id,
            peer: ctx.peer.ip(),
            received: now,
            input_mint: input,
            output_mint: output,
            in_amount: amount,
            out_amount: q.out_amount,
            other_amount_threshold: threshold,
            slippage_bps: slippage,
            venue: priced.venue,
            pool: q.pool,
            context_slot: slot,
        });
        Ok(response)
    }

    fn swap_instructions(
        &self,
        body_bytes: &[u8],
        ctx: &RequestContext,
    ) -> Result<Response<SimBody>, Problem> {
        let req: SwapRequest = serde_json::from_slice(body_bytes).map_err(|e| Problem::body(&e))?;
        let user = key("userPublicKey", &req.user_public_key)?;
        for (name, v) in [
            ("feeAccount", req.fee_account.as_ref()),
            ("sponsor", req.sponsor.as_ref()),
            (
                "createFeeAccount.referralAccount",
                req.create_fee_account.as_ref().map(|c| &c.referral_account),
            ),
            (
                "destinationTokenAccount",
                req.destination_token_account.as_ref().map(|d| match d {
                    DestinationTokenAccount::Address(a) => a,
                    DestinationTokenAccount::Associated {
                        associated_token_account,
                    } => &associated_token_account.owner,
                }),
            ),
        ] {
            if let Some(v) = v {
                key(name, v)?;
            }
        }
        let quote = &req.quote_response;
        let Some(route_plan) = &quote.route_plan else {
            return Err(Problem::BadRequest(
                "quoteResponse.routePlan is required".into(),
            ));
        };
        let steps: Vec<EchoedStep<'_>> = route_plan
            .iter()
            .map(|l| EchoedStep {
                label: Some(&l.venue),
                pool: &l.market_key,
                input_mint: &l.input_mint,
                output_mint: &l.output_mint,
                in_amount: l.in_amount,
                out_amount: l.out_amount,
            })
            .collect();
        let legs = route::resolve(&self.market.read(), &steps)?;
        let (priority, estimated) = match (
            req.compute_unit_price_micro_lamports,
            &req.prioritization_fee_lamports,
        ) {
            (Some(_), Some(_)) => {
                return Err(Problem::BadRequest(
                    "computeUnitPriceMicroLamports and prioritizationFeeLamports are exclusive"
                        .into(),
                ));
            }
            (Some(p), None) => (Priority::MicroLamports(p), None),
            (None, None | Some(PrioritizationFee::Keyword(FeeKeyword::Disabled))) => {
                (Priority::None, None)
            }
            (None, Some(PrioritizationFee::Keyword(FeeKeyword::Auto))) => (
                Priority::Level {
                    price: self.cfg.auto_price_micro_lamports,
                    max_lamports: AUTO_PRIORITY_CAP_LAMPORTS,
                },
                Some(self.cfg.auto_price_micro_lamports),
            ),
            (None, Some(PrioritizationFee::Lamports(l))) => (Priority::Lamports(*l), None),
            (
                None,
                Some(PrioritizationFee::Level {
                    priority_level_with_max_lamports: l,
                    ..
                }),
            ) => {
                let price = plan::level_price(&l.priority_level).ok_or_else(|| {
                    Problem::BadRequest(format!(
                        "prioritizationFeeLamports: unknown priorityLevel {:?} (medium, high, veryHigh)",
                        l.priority_level
                    ))
                })?;
                (
                    Priority::Level {
                        price,
                        max_lamports: l.max_lamports,
                    },
                    Some(price),
                )
            }
        };
        if self.knobs.failed_to_compute() {
            return Ok(body(
                StatusCode::INTERNAL_SERVER_ERROR,
                FAILED_TO_COMPUTE_SWAP,
                "Failed to compute swap",
            ));
        }
        let plan = plan::build(
            &self.ledger,
            &self.cfg.compute,
            &PlanRequest {
                user: &user,
                legs: &legs,
                slippage_bps: quote.slippage_bps,
                platform_fee_bps: quote.platform_fee.value().map_or(0, |f| f.fee_bps),
                dynamic_limit: req.dynamic_compute_unit_limit.unwrap_or(false),
                priority,
                tip: None,
                always_price: false,
                tip_pick: ctx.request_id,
            },
        )?;
        let blockhash = self.ledger.latest_blockhash(ctx.received);
        let wire = |ixs: &[solana_instruction::Instruction]| -> Vec<WireInstruction> {
            ixs.iter().map(WireInstruction::from).collect()
        };
        let (first, rest) = plan
            .swaps
            .split_first()
            .expect("a resolved route has at least one leg");
        let response = SwapInstructionsResponse {
            address_lookup_table_addresses: self
                .ledger
                .lookup_tables()
                .iter()
                .map(|t| t.key.to_string())
                .collect(),
            blockhash_with_metadata: BlockhashWithMetadata {
                blockhash: blockhash.blockhash.to_string(),
                last_valid_block_height: blockhash.last_valid_block_height,
            },
            compute_budget_instructions: wire(&plan.compute_budget),
            compute_unit_limit: plan.compute_unit_limit,
            setup_instructions: wire(&plan.setup),
            swap_instruction: first.into(),
            cleanup_instructions: Vec::new(),
            other_instructions: wire(rest),
            prioritization_fee_lamports: plan.prioritization_fee_lamports,
            prioritization_type: plan.compute_unit_price.map(|p| {
                PrioritizationType::ComputeBudget {
                    micro_lamports: p,
                    estimated_micro_lamports: estimated,
                }
            }),
        };
        self.knobs.state.instructions.push(ServedInstructions {
            request: ctx.request_id,
            peer: ctx.peer.ip(),
            user,
            legs,
            compute_unit_limit: plan.compute_unit_limit,
            compute_unit_price: plan.compute_unit_price,
            transaction: false,
        });
        Ok(json(StatusCode::OK, &response))
    }
}
