//! The Jupiter swap API (v1) simulator: `GET /quote`, `POST /swap-instructions`,
//! `POST /swap`, under `/swap/v1` and at the root (self-hosted style).
//!
//! Quotes come from the market at the request's arrival; instructions from the [`Ledger`]. The
//! echoed quote of `/swap-instructions` is taken as the client sends it: a merged circular
//! quote (`inputMint == outputMint`, totals that are not the steps') is accepted, and each
//! `routePlan` step becomes one ledger swap, in order.

mod config;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use solana_pubkey::Pubkey;
use tokio::time::Instant;

pub use config::JupiterConfig;
use wire::{
    BlockhashWithMetadata, ErrorBody, PlatformFee, PrioritizationFee, QuoteResponse, RoutePlanStep,
    SwapInfo, SwapInstructionsResponse, SwapMode, SwapRequest, SwapResponse,
};

use super::endpoint;
use super::journal::{Journal, ServedInstructions, ServedQuote};
use super::ledger::{BlockhashInfo, Ledger, SwapLeg};
use super::plan::{self, Plan, PlanRequest, Priority, Tip};
use super::problem::Problem;
use super::route::{self, EchoedStep, VenueFilter};
use super::wire::query::Query;
use super::wire::{WireInstruction, decimal_string, min_out, tx};
use crate::market::SharedMarket;
use crate::service::json;
use crate::{RequestContext, Service, SimBody, SimError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Quote,
    SwapInstructions,
    Swap,
}

const ENDPOINTS: [(&str, Endpoint); 3] = [
    ("/quote", Endpoint::Quote),
    ("/swap-instructions", Endpoint::SwapInstructions),
    ("/swap", Endpoint::Swap),
];

/// The Jupiter simulator. Cheap to clone; clones serve the same state.
#[derive(Debug)]
pub struct JupiterService<L: Ledger> {
    inner: Arc<Inner<L>>,
}

impl<L: Ledger> Clone for JupiterService<L> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
struct Inner<L> {
    cfg: JupiterConfig,
    market: SharedMarket,
    ledger: L,
    knobs: JupiterKnobs,
}

/// What a test can see of a running Jupiter simulator: the quotes and instructions it served.
#[derive(Clone, Debug)]
pub struct JupiterKnobs {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    quotes: Journal<ServedQuote>,
    instructions: Journal<ServedInstructions>,
}

impl JupiterKnobs {
    /// The quotes served, oldest first.
    pub fn quotes(&self) -> Vec<ServedQuote> {
        self.state.quotes.all()
    }

    /// The instruction sets (and `/swap` transactions) served, oldest first.
    pub fn instructions(&self) -> Vec<ServedInstructions> {
        self.state.instructions.all()
    }

    /// Forgets what was served.
    pub fn clear(&self) {
        self.state.quotes.clear();
        self.state.instructions.clear();
    }
}

impl<L: Ledger> JupiterService<L> {
    /// A simulator quoting from `market` and building on `ledger`.
    pub fn new(cfg: JupiterConfig, market: SharedMarket, ledger: L) -> Result<Self, SimError> {
        cfg.validate()?;
        let knobs = JupiterKnobs {
            state: Arc::new(State {
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

    /// Its journal (keep it before handing the service to a sandbox).
    pub fn knobs(&self) -> JupiterKnobs {
        self.inner.knobs.clone()
    }

    /// Its configuration.
    pub fn config(&self) -> &JupiterConfig {
        &self.inner.cfg
    }
}

impl<L: Ledger> Service for JupiterService<L> {
    fn name(&self) -> &'static str {
        "jupiter"
    }

    fn api_key(&self, req: &Request<Bytes>) -> Option<String> {
        self.inner.cfg.api_keys.key_of(req)
    }

    async fn handle(&self, req: Request<Bytes>, ctx: RequestContext) -> Response<SimBody> {
        let started = Instant::now();
        self.inner
            .respond(&req, &ctx, started)
            .unwrap_or_else(|p| render(&p))
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response<SimBody> {
        let code = match status {
            StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
            StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
            StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
            _ => "INTERNAL_ERROR",
        };
        json(
            status,
            &ErrorBody {
                error: message.to_owned(),
                error_code: code.to_owned(),
            },
        )
    }
}

/// Jupiter's error body for `p`.
fn render(p: &Problem) -> Response<SimBody> {
    let code = match p {
        Problem::BadRequest(_) => "INVALID_REQUEST",
        Problem::UnknownMint(_) => "TOKEN_NOT_TRADABLE",
        Problem::SameMint => "CIRCULAR_ARBITRAGE_IS_DISABLED",
        Problem::NoRoute(_) => "COULD_NOT_FIND_ANY_ROUTE",
        Problem::Unauthorized(_) => "UNAUTHORIZED",
        Problem::NotFound(_) => "NOT_FOUND",
        Problem::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
        Problem::Internal(_) => "INTERNAL_ERROR",
    };
    json(
        p.status(),
        &ErrorBody {
            error: p.message(),
            error_code: code.to_owned(),
        },
    )
}

fn key(name: &str, v: &str) -> Result<Pubkey, Problem> {
    v.parse()
        .map_err(|_| Problem::BadRequest(format!("{name}: {v:?} is not a valid public key")))
}

fn opt_key(name: &str, v: Option<&String>) -> Result<Option<Pubkey>, Problem> {
    v.map(|v| key(name, v)).transpose()
}

/// What `/swap-instructions` and `/swap` share.
struct Built {
    user: Pubkey,
    payer: Option<Pubkey>,
    legacy: bool,
    plan: Plan,
    legs: Vec<SwapLeg>,
    blockhash: BlockhashInfo,
}

impl<L: Ledger> Inner<L> {
    fn respond(
        &self,
        req: &Request<Bytes>,
        ctx: &RequestContext,
        started: Instant,
    ) -> Result<Response<SimBody>, Problem> {
        self.cfg.api_keys.authorize(req)?;
        let path = req.uri().path();
        let ep = endpoint::find(&self.cfg.prefixes, path, &ENDPOINTS)
            .ok_or_else(|| Problem::NotFound(format!("no endpoint {path}")))?;
        match (ep, req.method()) {
            (Endpoint::Quote, &Method::GET) => {
                let q = Query::parse(req.uri().query());
                let quote = self.quote(&q, ctx, started)?;
                Ok(json(StatusCode::OK, &quote))
            }
            (Endpoint::SwapInstructions, &Method::POST) => {
                let b = self.build(req.body(), ctx)?;
                let resp = self.instructions_response(&b);
                self.record(ctx, &b, false);
                Ok(json(StatusCode::OK, &resp))
            }
            (Endpoint::Swap, &Method::POST) => {
                let b = self.build(req.body(), ctx)?;
                let resp = self.swap_response(&b)?;
                self.record(ctx, &b, true);
                Ok(json(StatusCode::OK, &resp))
            }
            (_, m) => Err(Problem::MethodNotAllowed(format!(
                "{m} is not allowed on {path}"
            ))),
        }
    }

    fn quote(
        &self,
        q: &Query,
        ctx: &RequestContext,
        started: Instant,
    ) -> Result<QuoteResponse, Problem> {
        let input = q.pubkey("inputMint")?;
        let output = q.pubkey("outputMint")?;
        let amount = q.u64("amount")?;
        let slippage = q
            .opt_u16("slippageBps")?
            .unwrap_or(self.cfg.default_slippage_bps);
        if slippage > 10_000 {
            return Err(Problem::BadRequest(format!(
                "query parameter slippageBps: {slippage} is over 10000"
            )));
        }
        match q.get("swapMode") {
            None | Some("ExactIn") => {}
            Some("ExactOut") => {
                return Err(Problem::NoRoute(
                    "no ExactOut route: the simulated venues quote ExactIn only".into(),
                ));
            }
            Some(other) => {
                return Err(Problem::BadRequest(format!(
                    "query parameter swapMode: {other:?} is not ExactIn or ExactOut"
                )));
            }
        }
        for flag in [
            "onlyDirectRoutes",
            "restrictIntermediateTokens",
            "asLegacyTransaction",
            "dynamicSlippage",
        ] {
            q.opt_bool(flag)?;
        }
        q.opt_u32("maxAccounts")?;
        if let Some(v) = q.get("instructionVersion")
            && v != "V1"
            && v != "V2"
        {
            return Err(Problem::BadRequest(format!(
                "query parameter instructionVersion: {v:?} is not V1 or V2"
            )));
        }
        let platform_fee_bps = q.opt_u16("platformFeeBps")?.unwrap_or(0);
        if platform_fee_bps > 10_000 {
            return Err(Problem::BadRequest(
                "query parameter platformFeeBps: over 10000".into(),
            ));
        }
        let filter = VenueFilter {
            include: q.list("dexes"),
            exclude: q.list("excludeDexes").unwrap_or_default(),
        };
        let now = ctx.received;
        let priced = route::best(&self.market.read(), &input, &output, amount, now, |v| {
            filter.allows(v)
        })?;
        let slot = self.ledger.slot(now);
        let venue_out = priced.quote.out_amount;
        let platform_amount = plan_fee(venue_out, platform_fee_bps);
        let out = venue_out - platform_amount;
        let threshold = min_out(out, slippage);
        let q = &priced.quote;
        let response = QuoteResponse {
            input_mint: input.to_string(),
            in_amount: amount,
            output_mint: output.to_string(),
            out_amount: out,
            other_amount_threshold: threshold,
            swap_mode: SwapMode::ExactIn,
            slippage_bps: slippage,
            platform_fee: (platform_fee_bps > 0).then_some(PlatformFee {
                amount: platform_amount,
                fee_bps: platform_fee_bps,
            }),
            price_impact_pct: decimal_string(q.price_impact_ppb, false),
            route_plan: vec![RoutePlanStep {
                swap_info: SwapInfo {
                    amm_key: q.pool.to_string(),
                    label: Some(priced.venue.clone()),
                    input_mint: input.to_string(),
                    output_mint: output.to_string(),
                    in_amount: amount,
                    out_amount: venue_out,
                    fee_amount: q.fee_amount,
                    fee_mint: output.to_string(),
                },
                percent: 100,
                bps: Some(10_000),
            }],
            context_slot: Some(slot),
            time_taken: Some(
                started
                    .saturating_duration_since(ctx.received)
                    .as_secs_f64(),
            ),
        };
        self.knobs.state.quotes.push(ServedQuote {
            request: ctx.request_id,
            peer: ctx.peer.ip(),
            received: now,
            input_mint: input,
            output_mint: output,
            in_amount: amount,
            out_amount: out,
            other_amount_threshold: threshold,
            slippage_bps: slippage,
            venue: priced.venue,
            pool: q.pool,
            context_slot: slot,
        });
        Ok(response)
    }

    fn build(&self, body: &[u8], ctx: &RequestContext) -> Result<Built, Problem> {
        let req: SwapRequest = serde_json::from_slice(body).map_err(|e| Problem::body(&e))?;
        let user = key("userPublicKey", &req.user_public_key)?;
        let payer = opt_key("payer", req.payer.as_ref())?;
        opt_key("feeAccount", req.fee_account.as_ref())?;
        opt_key("trackingAccount", req.tracking_account.as_ref())?;
        opt_key(
            "destinationTokenAccount",
            req.destination_token_account.as_ref(),
        )?;
        opt_key(
            "nativeDestinationAccount",
            req.native_destination_account.as_ref(),
        )?;
        let quote = &req.quote_response;
        if quote.swap_mode == SwapMode::ExactOut {
            return Err(Problem::BadRequest(
                "quoteResponse: ExactOut is not supported by the simulated venues".into(),
            ));
        }
        let steps: Vec<EchoedStep<'_>> = quote
            .route_plan
            .iter()
            .map(|s| EchoedStep {
                label: s.swap_info.label.as_deref(),
                pool: &s.swap_info.amm_key,
                input_mint: &s.swap_info.input_mint,
                output_mint: &s.swap_info.output_mint,
                in_amount: s.swap_info.in_amount,
                out_amount: s.swap_info.out_amount,
            })
            .collect();
        let legs = route::resolve(&self.market.read(), &steps)?;
        let mut tip = None;
        let priority = match (
            req.compute_unit_price_micro_lamports,
            &req.prioritization_fee_lamports,
        ) {
            (Some(p), _) => Priority::MicroLamports(p),
            (None, None | Some(PrioritizationFee::Auto(_))) => Priority::None,
            (None, Some(PrioritizationFee::Lamports(l))) => Priority::Lamports(*l),
            (None, Some(PrioritizationFee::Level {
                priority_level_with_max_lamports: l,
            })) => Priority::Level {
                price: plan::level_price(&l.priority_level).ok_or_else(|| {
                    Problem::BadRequest(format!(
                        "prioritizationFeeLamports: unknown priorityLevel {:?} (medium, high, veryHigh)",
                        l.priority_level
                    ))
                })?,
                max_lamports: l.max_lamports,
            },
            (None, Some(PrioritizationFee::JitoTip { jito_tip_lamports })) => {
                tip = Some(Tip {
                    payer: None,
                    lamports: *jito_tip_lamports,
                });
                Priority::None
            }
            (None, Some(PrioritizationFee::JitoTipWithPayer {
                jito_tip_lamports_with_payer: t,
            })) => {
                tip = Some(Tip {
                    payer: Some(key("jitoTipLamportsWithPayer.payer", &t.payer)?),
                    lamports: t.lamports,
                });
                Priority::None
            }
        };
        let plan = plan::build(
            &self.ledger,
            &self.cfg.compute,
            &PlanRequest {
                user: &user,
                legs: &legs,
                slippage_bps: quote.slippage_bps,
                platform_fee_bps: quote.platform_fee.as_ref().map_or(0, |f| f.fee_bps),
                dynamic_limit: req.dynamic_compute_unit_limit.unwrap_or(false),
                priority,
                tip,
                always_price: false,
                tip_pick: ctx.request_id,
            },
        )?;
        Ok(Built {
            user,
            payer,
            legacy: req.as_legacy_transaction.unwrap_or(false),
            plan,
            legs,
            blockhash: self.ledger.latest_blockhash(ctx.received),
        })
    }

    fn instructions_response(&self, b: &Built) -> SwapInstructionsResponse {
        let wire = |ixs: &[solana_instruction::Instruction]| -> Vec<WireInstruction> {
            ixs.iter().map(WireInstruction::from).collect()
        };
        let (first, rest) = b
            .plan
            .swaps
            .split_first()
            .expect("a resolved route has at least one leg");
        let mut other = wire(rest);
        other.extend(wire(&b.plan.tips));
        SwapInstructionsResponse {
            compute_budget_instructions: wire(&b.plan.compute_budget),
            setup_instructions: wire(&b.plan.setup),
            swap_instruction: first.into(),
            cleanup_instruction: None,
            other_instructions: other,
            address_lookup_table_addresses: self
                .ledger
                .lookup_tables()
                .iter()
                .map(|t| t.key.to_string())
                .collect(),
            prioritization_fee_lamports: b.plan.prioritization_fee_lamports,
            compute_unit_limit: b.plan.compute_unit_limit,
            blockhash_with_metadata: BlockhashWithMetadata {
                blockhash: b.blockhash.blockhash.to_bytes(),
                last_valid_block_height: b.blockhash.last_valid_block_height,
            },
        }
    }

    fn swap_response(&self, b: &Built) -> Result<SwapResponse, Problem> {
        let payer = b.payer.unwrap_or(b.user);
        let ixs = b.plan.all();
        let internal = |e: tx::TxError| Problem::Internal(e.to_string());
        let (transaction, tables) = if b.legacy {
            (
                tx::unsigned_legacy(&payer, &ixs, b.blockhash.blockhash).map_err(internal)?,
                None,
            )
        } else {
            let tables = self.ledger.lookup_tables();
            let t =
                tx::unsigned_v0(&payer, &ixs, &tables, b.blockhash.blockhash).map_err(internal)?;
            let used: BTreeMap<String, Vec<String>> = t
                .message
                .address_table_lookups()
                .unwrap_or_default()
                .iter()
                .filter_map(|l| tables.iter().find(|t| t.key == l.account_key))
                .map(|t| {
                    (
                        t.key.to_string(),
                        t.addresses.iter().map(Pubkey::to_string).collect(),
                    )
                })
                .collect();
            (t, Some(used))
        };
        Ok(SwapResponse {
            swap_transaction: tx::encode(&transaction),
            last_valid_block_height: b.blockhash.last_valid_block_height,
            prioritization_fee_lamports: b.plan.prioritization_fee_lamports,
            compute_unit_limit: b.plan.compute_unit_limit,
            addresses_by_lookup_table_address: tables,
        })
    }

    fn record(&self, ctx: &RequestContext, b: &Built, transaction: bool) {
        self.knobs.state.instructions.push(ServedInstructions {
            request: ctx.request_id,
            peer: ctx.peer.ip(),
            user: b.user,
            legs: b.legs.clone(),
            compute_unit_limit: b.plan.compute_unit_limit,
            compute_unit_price: b.plan.compute_unit_price,
            transaction,
        });
    }
}

/// A platform fee of `bps` on `amount`, rounded down.
fn plan_fee(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / 10_000) as u64
}
