//! The Jupiter Ultra simulator: `GET /order` and `POST /execute`, under `/ultra/v1` and at the
//! root.
//!
//! An order quotes from the market over the allowed routers (each a subset of the market's
//! venues) and, with a `taker`, carries an unsigned v0 transaction paid by the taker (or
//! `payer`): compute-unit limit and price, the ledger's setup and swap, one all-zero
//! signature per signer. Orders are remembered by `requestId` for `order_ttl_ms` (at most
//! `max_orders`), so `/execute` can check the signed transaction against its order and land
//! it through the [`Ledger`].

mod config;
mod orders;
pub mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use tokio::time::Instant;

pub use config::{KNOWN_ROUTERS, RouterConfig, UltraConfig};
use orders::{Order, OrderBook};
use wire::{
    ErrorBody, ExecuteRequest, ExecuteResponse, ExecuteStatus, OrderResponse, RoutePlanStep,
    SwapEvent, SwapInfo,
};

use super::endpoint;
use super::journal::{Journal, ServedExecution, ServedOrder, ServedQuote};
use super::ledger::{Landed, Ledger, LedgerError, SwapLeg};
use super::plan::{self, PlanRequest, Priority, Tip};
use super::problem::Problem;
use super::route::{self, Priced, VenueFilter};
use super::wire::query::Query;
use super::wire::{decimal_string, min_out, tx};
use crate::market::Market;
use crate::market::SharedMarket;
use crate::service::json;
use crate::{RequestContext, Service, SimBody, SimError};

/// Rent of one token account, in lamports (165 bytes, rent-exempt).
pub const TOKEN_ACCOUNT_RENT_LAMPORTS: u64 = 2_039_280;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Order,
    Execute,
}

const ENDPOINTS: [(&str, Endpoint); 2] =
    [("/order", Endpoint::Order), ("/execute", Endpoint::Execute)];

/// The Ultra simulator. Cheap to clone; clones serve the same orders.
#[derive(Debug)]
pub struct UltraService<L: Ledger> {
    inner: Arc<Inner<L>>,
}

impl<L: Ledger> Clone for UltraService<L> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
struct Inner<L> {
    cfg: UltraConfig,
    market: SharedMarket,
    ledger: L,
    knobs: UltraKnobs,
}

/// A running Ultra simulator's switches and journal.
#[derive(Clone, Debug)]
pub struct UltraKnobs {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    /// The injected `errorCode`.
    error_code: Mutex<Option<u8>>,
    book: Mutex<OrderBook>,
    next_order: AtomicU64,
    orders: Journal<ServedOrder>,
    executions: Journal<ServedExecution>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl UltraKnobs {
    /// From now on every order with a taker fails with `code` (1, 2 or 3; `None`: stop).
    pub fn set_error_code(&self, code: Option<u8>) -> Result<(), SimError> {
        if let Some(c) = code
            && !(1..=3).contains(&c)
        {
            return Err(SimError::config(
                "ultra",
                format!("error code {c}: Ultra's error codes are 1, 2 and 3"),
            ));
        }
        *lock(&self.state.error_code) = code;
        Ok(())
    }

    /// The injected `errorCode`, if any.
    pub fn error_code(&self) -> Option<u8> {
        *lock(&self.state.error_code)
    }

    /// Orders remembered now (not expired, not evicted), as of the last order or execution.
    pub fn open_orders(&self) -> usize {
        lock(&self.state.book).len()
    }

    /// The orders served, oldest first.
    pub fn orders(&self) -> Vec<ServedOrder> {
        self.state.orders.all()
    }

    /// The executions answered, oldest first.
    pub fn executions(&self) -> Vec<ServedExecution> {
        self.state.executions.all()
    }

    /// Forgets the journal (not the orders).
    pub fn clear(&self) {
        self.state.orders.clear();
        self.state.executions.clear();
    }
}

impl<L: Ledger> UltraService<L> {
    /// A simulator quoting from `market` and building on and landing through `ledger`.
    pub fn new(cfg: UltraConfig, market: SharedMarket, ledger: L) -> Result<Self, SimError> {
        cfg.validate()?;
        let knobs = UltraKnobs {
            state: Arc::new(State {
                error_code: Mutex::new(cfg.error_code),
                book: Mutex::new(OrderBook::new(
                    Duration::from_millis(cfg.order_ttl_ms),
                    cfg.max_orders,
                )),
                next_order: AtomicU64::new(0),
                orders: Journal::new(cfg.journal_capacity),
                executions: Journal::new(cfg.journal_capacity),
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

    /// Its switches and journal (keep them before handing the service to a sandbox).
    pub fn knobs(&self) -> UltraKnobs {
        self.inner.knobs.clone()
    }

    /// Its configuration.
    pub fn config(&self) -> &UltraConfig {
        &self.inner.cfg
    }
}

impl<L: Ledger> Service for UltraService<L> {
    fn name(&self) -> &'static str {
        "ultra"
    }

    fn api_key(&self, req: &Request<Bytes>) -> Option<String> {
        self.inner.cfg.api_keys.key_of(req)
    }

    async fn handle(&self, req: Request<Bytes>, ctx: RequestContext) -> Response<SimBody> {
        // The only clock reads: the handler's start (for totalTime) and the wall clock (for
        // expireAt); the rest works from these and the request's arrival.
        let clocks = Clocks {
            started: Instant::now(),
            wall: SystemTime::now(),
        };
        self.inner
            .respond(&req, &ctx, clocks)
            .unwrap_or_else(|p| render(&p, None))
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response<SimBody> {
        json(
            status,
            &ErrorBody {
                error: message.to_owned(),
                code: None,
            },
        )
    }
}

/// Ultra's error body for `p` (with an `/execute` code when given).
fn render(p: &Problem, code: Option<i64>) -> Response<SimBody> {
    json(
        p.status(),
        &ErrorBody {
            error: p.message(),
            code,
        },
    )
}

/// An `/execute` refusal: status, Ultra code, message.
fn refuse(status: StatusCode, code: i64, msg: impl Into<String>) -> (StatusCode, ExecuteAnswer) {
    (
        status,
        ExecuteAnswer::Error(ErrorBody {
            error: msg.into(),
            code: Some(code),
        }),
    )
}

#[derive(Debug)]
enum ExecuteAnswer {
    Done(ExecuteResponse),
    Error(ErrorBody),
}

fn failed(code: i64, error: impl Into<String>, signature: Option<&Signature>) -> ExecuteResponse {
    ExecuteResponse {
        status: ExecuteStatus::Failed,
        code,
        signature: signature.map(Signature::to_string),
        slot: None,
        error: Some(error.into()),
        total_input_amount: None,
        total_output_amount: None,
        input_amount_result: None,
        output_amount_result: None,
        swap_events: None,
    }
}

/// A unique, UUID-shaped `requestId` for the `n`-th order.
fn request_id(n: u64) -> String {
    let d = Sha256::new()
        .chain_update(b"galileo-sim/ultra/order")
        .chain_update(n.to_le_bytes())
        .finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// When the handler started and the wall-clock time then.
#[derive(Clone, Copy, Debug)]
struct Clocks {
    started: Instant,
    wall: SystemTime,
}

/// The display message of an injected `errorCode`.
fn error_message(code: u8) -> &'static str {
    match code {
        1 => "Insufficient funds",
        2 => "Top up `0.01` SOL for gas",
        _ => "Minimum `10` for gasless",
    }
}

/// USD (quote units) worth of `amount` base units of `mint` at `now`.
fn usd(market: &Market, mint: &Pubkey, amount: u64, decimals: u8, now: Instant) -> f64 {
    market.mint_by_address(mint).map_or(0.0, |id| {
        amount as f64 / 10f64.powi(i32::from(decimals)) * market.fair_price(id, now)
    })
}

impl<L: Ledger> Inner<L> {
    fn respond(
        &self,
        req: &Request<Bytes>,
        ctx: &RequestContext,
        clocks: Clocks,
    ) -> Result<Response<SimBody>, Problem> {
        self.cfg.api_keys.authorize(req)?;
        let path = req.uri().path();
        let ep = endpoint::find(&self.cfg.prefixes, path, &ENDPOINTS)
            .ok_or_else(|| Problem::NotFound(format!("no endpoint {path}")))?;
        match (ep, req.method()) {
            (Endpoint::Order, &Method::GET) => {
                let q = Query::parse(req.uri().query());
                Ok(json(StatusCode::OK, &self.order(&q, ctx, clocks)?))
            }
            (Endpoint::Execute, &Method::POST) => {
                let (status, answer) = self.execute(req.body(), ctx);
                Ok(match answer {
                    ExecuteAnswer::Done(r) => json(status, &r),
                    ExecuteAnswer::Error(e) => json(status, &e),
                })
            }
            (_, m) => Err(Problem::MethodNotAllowed(format!(
                "{m} is not allowed on {path}"
            ))),
        }
    }

    /// The routers a request allows, in configuration order.
    fn routers(&self, q: &Query) -> Result<Vec<&RouterConfig>, Problem> {
        let check = |list: Option<Vec<String>>,
                     name: &str|
         -> Result<Option<Vec<String>>, Problem> {
            let Some(list) = list else { return Ok(None) };
            let list: Vec<String> = list.iter().map(|r| r.to_ascii_lowercase()).collect();
            for r in &list {
                if !KNOWN_ROUTERS.contains(&r.as_str())
                    && !self.cfg.routers.iter().any(|c| &c.name == r)
                {
                    return Err(Problem::BadRequest(format!(
                        "query parameter {name}: unknown router {r:?} (metis, jupiterz, dflow, okx)"
                    )));
                }
            }
            Ok(Some(list))
        };
        let include = check(q.list("routers"), "routers")?;
        let exclude = check(q.list("excludeRouters"), "excludeRouters")?.unwrap_or_default();
        Ok(self
            .cfg
            .routers
            .iter()
            .filter(|r| include.as_ref().is_none_or(|i| i.contains(&r.name)))
            .filter(|r| !exclude.contains(&r.name))
            .collect())
    }

    fn order(
        &self,
        q: &Query,
        ctx: &RequestContext,
        clocks: Clocks,
    ) -> Result<OrderResponse, Problem> {
        let input = q.pubkey("inputMint")?;
        let output = q.pubkey("outputMint")?;
        let amount = q.u64("amount")?;
        let taker = q.opt_pubkey("taker")?;
        let payer = q.opt_pubkey("payer")?;
        q.opt_pubkey("referralAccount")?;
        if let Some(f) = q.opt_u16("referralFee")?
            && !(50..=255).contains(&f)
        {
            return Err(Problem::BadRequest(format!(
                "query parameter referralFee: {f} is not in [50, 255]"
            )));
        }
        match q.get("swapMode") {
            None | Some("ExactIn") => {}
            Some(other) => {
                return Err(Problem::BadRequest(format!(
                    "query parameter swapMode: {other:?} is not supported (ExactIn)"
                )));
            }
        }
        let slippage = q
            .opt_u16("slippageBps")?
            .unwrap_or(self.cfg.default_slippage_bps);
        if slippage > 10_000 {
            return Err(Problem::BadRequest(format!(
                "query parameter slippageBps: {slippage} is over 10000"
            )));
        }
        q.opt_bool("useWsol")?;
        if let Some(b) = q.get("broadcastFeeType")
            && b != "exactFee"
            && b != "maxCap"
        {
            return Err(Problem::BadRequest(format!(
                "query parameter broadcastFeeType: {b:?} is not exactFee or maxCap"
            )));
        }
        let priority_fee = q.opt_u64("priorityFeeLamports")?;
        let jito_tip = q.opt_u64("jitoTipLamports")?;
        let routers = self.routers(q)?;
        let exclude_dexes = q.list("excludeDexes").unwrap_or_default();
        let now = ctx.received;

        let (priced, router, in_usd, out_usd) = {
            let market = self.market.read();
            let mut best: Option<(Priced, &RouterConfig)> = None;
            let mut error = Problem::NoRoute("no route found: every router is excluded".into());
            for r in routers {
                let filter = VenueFilter {
                    include: (!r.venues.is_empty()).then(|| r.venues.clone()),
                    exclude: if r.honours_exclude_dexes {
                        exclude_dexes.clone()
                    } else {
                        Vec::new()
                    },
                };
                match route::best(&market, &input, &output, amount, now, |v| filter.allows(v)) {
                    Ok(p) => {
                        if best
                            .as_ref()
                            .is_none_or(|(b, _)| p.quote.out_amount > b.quote.out_amount)
                        {
                            best = Some((p, r));
                        }
                    }
                    Err(e) => error = e,
                }
            }
            let (p, r) = best.ok_or(error)?;
            let in_usd = usd(&market, &input, amount, p.input_decimals, now);
            let out_usd = usd(&market, &output, p.quote.out_amount, p.output_decimals, now);
            (p, r, in_usd, out_usd)
        };
        let quote = &priced.quote;
        let out = quote.out_amount;
        let threshold = min_out(out, slippage);
        let leg = SwapLeg {
            venue: priced.venue.clone(),
            pool: quote.pool,
            input_mint: input,
            output_mint: output,
            in_amount: amount,
            out_amount: out,
        };
        let error_code = taker.and(self.knobs.error_code());
        let n = self.knobs.state.next_order.fetch_add(1, Ordering::Relaxed);
        let id = request_id(n);

        let mut signatures = 1u64;
        let mut prioritization = priority_fee
            .unwrap_or(0)
            .saturating_add(jito_tip.unwrap_or(0));
        let mut rent = 0;
        let mut message = None;
        let transaction = match (taker, error_code) {
            (None, _) => None,
            (Some(_), Some(_)) => Some(String::new()),
            (Some(taker), None) => {
                let legs = [leg.clone()];
                let plan = plan::build(
                    &self.ledger,
                    &self.cfg.compute,
                    &PlanRequest {
                        user: &taker,
                        legs: &legs,
                        slippage_bps: slippage,
                        platform_fee_bps: 0,
                        dynamic_limit: self.cfg.dynamic_compute_unit_limit,
                        priority: priority_fee.map_or(Priority::None, Priority::Lamports),
                        tip: jito_tip.map(|lamports| Tip {
                            payer: None,
                            lamports,
                        }),
                        always_price: true,
                        tip_pick: ctx.request_id,
                    },
                )?;
                let blockhash = self.ledger.latest_blockhash(now);
                let t = tx::unsigned_v0(
                    &payer.unwrap_or(taker),
                    &plan.all(),
                    &self.ledger.lookup_tables(),
                    blockhash.blockhash,
                )
                .map_err(|e| Problem::Internal(e.to_string()))?;
                signatures = t.signatures.len() as u64;
                prioritization = plan.prioritization_fee_lamports;
                rent = plan.accounts_created as u64 * TOKEN_ACCOUNT_RENT_LAMPORTS;
                message = Some(tx::message_bytes(&t));
                Some(tx::encode(&t))
            }
        };
        let with_transaction = message.is_some();
        lock(&self.knobs.state.book).insert(
            id.clone(),
            Order {
                message,
                in_amount: amount,
                out_amount: out,
                legs: vec![leg],
                executed: None,
            },
            now,
        );
        let expire_at = clocks
            .wall
            .checked_add(Duration::from_millis(self.cfg.order_ttl_ms))
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis().to_string());
        let impact = quote.price_impact_ppb;
        let response = OrderResponse {
            mode: "ultra".into(),
            input_mint: input.to_string(),
            output_mint: output.to_string(),
            in_amount: amount,
            out_amount: out,
            other_amount_threshold: threshold,
            swap_mode: "ExactIn".into(),
            slippage_bps: slippage,
            in_usd_value: in_usd,
            out_usd_value: out_usd,
            swap_usd_value: in_usd,
            price_impact: -(f64::from(impact) / 1e9),
            price_impact_pct: decimal_string(impact, true),
            route_plan: vec![RoutePlanStep {
                swap_info: SwapInfo {
                    amm_key: quote.pool.to_string(),
                    label: priced.venue.clone(),
                    input_mint: input.to_string(),
                    output_mint: output.to_string(),
                    in_amount: amount,
                    out_amount: out,
                    fee_amount: quote.fee_amount,
                    fee_mint: output.to_string(),
                },
                percent: 100.0,
                bps: Some(10_000),
            }],
            fee_mint: Some(output.to_string()),
            fee_bps: 0,
            signature_fee_lamports: self.cfg.signature_fee_lamports.saturating_mul(signatures),
            prioritization_fee_lamports: prioritization,
            rent_fee_lamports: rent,
            swap_type: router.label.clone(),
            router: router.label.clone(),
            transaction,
            gasless: false,
            request_id: id.clone(),
            total_time: u64::try_from(clocks.started.saturating_duration_since(now).as_millis())
                .unwrap_or(u64::MAX),
            taker: taker.map(|t| t.to_string()),
            expire_at,
            error_code,
            error_message: error_code.map(|c| error_message(c).to_owned()),
        };
        self.knobs.state.orders.push(ServedOrder {
            quote: ServedQuote {
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
                pool: quote.pool,
                context_slot: self.ledger.slot(now),
            },
            request_id: id,
            taker,
            router: router.label.clone(),
            error_code,
            with_transaction,
        });
        Ok(response)
    }

    fn execute(&self, body: &[u8], ctx: &RequestContext) -> (StatusCode, ExecuteAnswer) {
        let parsed: Result<ExecuteRequest, _> = serde_json::from_slice(body);
        let request_id = parsed
            .as_ref()
            .ok()
            .and_then(|r| r.request_id.clone())
            .unwrap_or_default();
        let (status, answer, signature) = self.execute_inner(parsed, &request_id, ctx);
        let (st, code) = match &answer {
            ExecuteAnswer::Done(r) => (format!("{:?}", r.status), r.code),
            ExecuteAnswer::Error(e) => (String::new(), e.code.unwrap_or(0)),
        };
        self.knobs.state.executions.push(ServedExecution {
            request: ctx.request_id,
            peer: ctx.peer.ip(),
            request_id,
            http_status: status.as_u16(),
            status: st,
            code,
            signature,
        });
        (status, answer)
    }

    fn execute_inner(
        &self,
        parsed: Result<ExecuteRequest, serde_json::Error>,
        request_id: &str,
        ctx: &RequestContext,
    ) -> (StatusCode, ExecuteAnswer, Option<Signature>) {
        let bad = StatusCode::BAD_REQUEST;
        let no_sig = |(s, a)| (s, a, None);
        let req = match parsed {
            Ok(r) => r,
            Err(e) => return no_sig(refuse(bad, -2, format!("invalid request body: {e}"))),
        };
        if request_id.is_empty() {
            return no_sig(refuse(bad, -4, "Missing request id: requestId is required"));
        }
        let Some(signed) = req.signed_transaction.filter(|s| !s.is_empty()) else {
            return no_sig(refuse(
                bad,
                -5,
                "Missing signed transaction: signedTransaction is required",
            ));
        };
        let now = ctx.received;
        let order = match lock(&self.knobs.state.book).get_mut(request_id, now) {
            Some(o) => o.clone(),
            None => {
                return no_sig(refuse(
                    bad,
                    -1,
                    "Missing cached order: requestId not found or expired",
                ));
            }
        };
        let Some(message) = &order.message else {
            return no_sig(refuse(
                bad,
                -3,
                "Invalid message bytes: the order carries no transaction",
            ));
        };
        let tx = match tx::decode(&signed) {
            Ok(t) => t,
            Err(e) => return no_sig(refuse(bad, -2, format!("Invalid signed transaction: {e}"))),
        };
        if &tx::message_bytes(&tx) != message {
            return no_sig(refuse(
                bad,
                -3,
                "Invalid message bytes: the signed transaction is not the order's",
            ));
        }
        let signature = tx.signatures.first().copied();
        if let Some(done) = order.executed
            && done.signature == signature.map(|s| s.to_string())
        {
            return (StatusCode::OK, ExecuteAnswer::Done(done), signature);
        }
        if tx.signatures.iter().any(|s| *s == Signature::default()) {
            return (
                StatusCode::OK,
                ExecuteAnswer::Done(failed(-1003, "Transaction not fully signed", None)),
                None,
            );
        }
        let outcome = self.ledger.submit(tx, ctx.peer.ip(), now);
        let sig = signature.as_ref();
        let answer = match outcome {
            Ok(Landed {
                signature,
                slot,
                failure,
            }) => {
                let mut r = match failure {
                    None => ExecuteResponse {
                        status: ExecuteStatus::Success,
                        code: self.cfg.success_code,
                        signature: None,
                        slot: None,
                        error: None,
                        total_input_amount: Some(order.in_amount),
                        total_output_amount: Some(order.out_amount),
                        input_amount_result: Some(order.in_amount),
                        output_amount_result: Some(order.out_amount),
                        swap_events: Some(
                            order
                                .legs
                                .iter()
                                .map(|l| SwapEvent {
                                    input_mint: l.input_mint.to_string(),
                                    input_amount: l.in_amount,
                                    output_mint: l.output_mint.to_string(),
                                    output_amount: l.out_amount,
                                })
                                .collect(),
                        ),
                    },
                    Some(f) => failed(f.custom_code.map_or(-1000, i64::from), f.message, None),
                };
                r.signature = Some(signature.to_string());
                r.slot = Some(slot.to_string());
                if let Some(o) = lock(&self.knobs.state.book).get_mut(request_id, now) {
                    o.executed = Some(r.clone());
                }
                return (StatusCode::OK, ExecuteAnswer::Done(r), Some(signature));
            }
            Err(LedgerError::BlockhashNotFound) => failed(
                -1005,
                "Expired: the transaction's blockhash is no longer valid",
                sig,
            ),
            Err(LedgerError::SignatureFailure) => {
                return (
                    bad,
                    ExecuteAnswer::Error(ErrorBody {
                        error: "Invalid signed transaction: signature verification failed".into(),
                        code: Some(-2),
                    }),
                    signature,
                );
            }
            Err(LedgerError::Invalid(m)) => failed(-1002, format!("Invalid transaction: {m}"), sig),
            Err(LedgerError::Unavailable(m)) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ExecuteAnswer::Error(ErrorBody {
                        error: format!("Unknown error: {m}"),
                        code: Some(-1001),
                    }),
                    signature,
                );
            }
            Err(e) => failed(-1000, format!("Failed to land: {e}"), sig),
        };
        (StatusCode::OK, ExecuteAnswer::Done(answer), signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(request_id).collect();
        assert_eq!(ids.len(), 10_000);
        let id = request_id(7);
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{id}");
    }
}
