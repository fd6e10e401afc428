//! The Jito block-engine service: bundles over the simulated chain.
//!
//! `POST /api/v1/bundles` answers `sendBundle`, `getBundleStatuses`,
//! `getInflightBundleStatuses` and `getTipAccounts`; `POST /api/v1/transactions` answers
//! `sendTransaction` (the paths are configurable). Like the real block engine it works in two
//! stages:
//!
//! - **Ingress** refuses malformed bundles with HTTP 400 and a named reason: bad parameters,
//!   no transaction or more than 5, a transaction that does not decode, sanitize or verify
//!   (`transaction <signature> is invalid`), and no write-locked tip account (`Bundles must
//!   write lock at least one tip account to be eligible for the auction.`).
//! - Otherwise it answers 200 with the bundle id, and the **auction** runs the bundle on a
//!   copy of the chain: every transaction must land without error and the tip accounts must
//!   receive at least `min_tip_lamports`. Then all land at once in the current slot;
//!   otherwise nothing changes and the bundle is `Failed` / `Invalid` in
//!   `getInflightBundleStatuses` and `null` in `getBundleStatuses`. The real engine also
//!   accepts bundles with expired blockhashes or unfunded payers and drops them later.
//!
//! The bundle id is Jito's `derive_bundle_id`: the lowercase hex SHA-256 of the transactions'
//! first signatures in base58, joined by `,`. Authentication is by uuid, from the `uuid` query
//! parameter (what the reference client sends) or the `x-jito-auth` header; [`Service::api_key`]
//! returns it so the server core applies its per-key limit. The real engine's codes for these
//! errors are not documented: they are [`INGRESS_ERROR_CODE`] and [`UNAUTHORIZED_CODE`], in one
//! place.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use tokio::time::Instant;
use tracing::debug;

use crate::chain::{BundleRejection, Chain, Commitment, Origin, SharedChain, SubmitOutcome, Via};
use crate::config::BucketConfig;
use crate::limits::{TokenBucket, retry_after};
use crate::service::{RequestContext, Service, SimBody};
use crate::solana::encoding::{BinaryEncoding, decode_transaction};
use crate::solana::jsonrpc::{self, Body, Call, Params, RpcError, RpcResponse, error_response};
use crate::solana::wire::{RpcContext, SendTransactionConfig, TransactionEncoding, WithContext};

/// Code of ingress refusals (the real one is not documented).
pub const INGRESS_ERROR_CODE: i64 = jsonrpc::INVALID_PARAMS;
/// Code of authentication refusals (the real one is not documented).
pub const UNAUTHORIZED_CODE: i64 = -32001;
/// The message of a bundle without a write-locked tip account.
pub const NO_TIP_ACCOUNT: &str =
    "Bundles must write lock at least one tip account to be eligible for the auction.";
/// Most bundle ids per status request.
pub const MAX_STATUS_IDS: usize = 5;

/// Who may use the block engine. `Debug` shows how many uuids, never them.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JitoAuthConfig {
    /// Refuse requests without a known uuid (the public engine does not).
    pub required: bool,
    /// The known uuids.
    pub uuids: Vec<String>,
}

/// Configuration of the block engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JitoConfig {
    /// Paths answering the bundle methods.
    pub bundle_paths: Vec<String>,
    /// Paths answering `sendTransaction`.
    pub transaction_paths: Vec<String>,
    /// Most transactions per bundle.
    pub max_bundle_transactions: usize,
    /// Least the tip accounts must receive for a bundle to land.
    pub min_tip_lamports: u64,
    /// Whether a bundle must write-lock a tip account and pay the minimum tip.
    pub require_tip: bool,
    /// Authentication.
    pub auth: JitoAuthConfig,
    /// How long `getInflightBundleStatuses` remembers a bundle, in seconds.
    pub inflight_retention_secs: u64,
    /// A token bucket per tip payer (the fee payer of each transaction that write-locks a
    /// tip account): a bundle whose payer has no token left gets `429` with `Retry-After`,
    /// whatever IP or uuid sent it. `None`: no such limit.
    pub tip_payer_limit: Option<BucketConfig>,
}

impl std::fmt::Debug for JitoAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitoAuthConfig")
            .field("required", &self.required)
            .field("uuids", &format_args!("[{} redacted]", self.uuids.len()))
            .finish()
    }
}

impl JitoConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), crate::SimError> {
        if let Some(b) = &self.tip_payer_limit {
            b.validate("jito", "tip_payer_limit")?;
        }
        if self.max_bundle_transactions == 0 {
            return Err(crate::SimError::config(
                "jito",
                "max_bundle_transactions must be at least 1",
            ));
        }
        Ok(())
    }
}

impl Default for JitoConfig {
    fn default() -> Self {
        JitoConfig {
            bundle_paths: vec!["/api/v1/bundles".to_string()],
            transaction_paths: vec!["/api/v1/transactions".to_string()],
            max_bundle_transactions: 5,
            min_tip_lamports: 1_000,
            require_tip: true,
            auth: JitoAuthConfig::default(),
            inflight_retention_secs: 300,
            tip_payer_limit: None,
        }
    }
}

/// Jito's bundle id of transactions with these first signatures.
pub fn bundle_id<'a>(first_signatures: impl IntoIterator<Item = &'a Signature>) -> String {
    let joined = first_signatures
        .into_iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Sha256::digest(joined.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What became of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleState {
    /// Landed in `slot`.
    Landed {
        /// The slot.
        slot: u64,
    },
    /// Lost in the auction; nothing of it remains.
    Rejected(BundleRejection),
}

/// A bundle the engine accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleRecord {
    /// Its transactions' first signatures.
    pub signatures: Vec<Signature>,
    /// When it arrived.
    pub received: Instant,
    /// What became of it.
    pub state: BundleState,
}

/// `sendBundle`'s options; unknown keys (`bundleId`, `uuid`...) are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleOptions {
    /// `base58` (default) or `base64`.
    #[serde(default)]
    pub encoding: Option<TransactionEncoding>,
}

/// `getBundleStatuses` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleStatus {
    /// The bundle id.
    pub bundle_id: String,
    /// Its transactions' signatures.
    pub transactions: Vec<String>,
    /// Where it landed.
    pub slot: u64,
    /// `processed`, `confirmed` or `finalized`.
    pub confirmation_status: Commitment,
    /// `{"Ok": null}`.
    pub err: Value,
}

/// `getInflightBundleStatuses` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InflightBundleStatus {
    /// The bundle id.
    pub bundle_id: String,
    /// `Landed`, `Failed`, `Invalid` or `Pending`.
    pub status: String,
    /// Where it landed.
    pub landed_slot: Option<u64>,
}

/// The Jito block-engine service.
#[derive(Debug)]
pub struct JitoBlockEngine {
    chain: SharedChain,
    config: JitoConfig,
    bundles: Mutex<HashMap<String, BundleRecord>>,
    payers: Mutex<HashMap<Pubkey, TokenBucket>>,
}

/// How long `getBundleStatuses` remembers a landed bundle.
const LANDED_RETENTION: Duration = Duration::from_secs(3_600);

/// Beyond this many tip payers tracked, full buckets are forgotten.
const MAX_TRACKED_PAYERS: usize = 65_536;

/// A refusal: its HTTP status and JSON-RPC error.
struct Refusal(StatusCode, RpcError, Option<Duration>);

impl From<RpcError> for Refusal {
    fn from(e: RpcError) -> Self {
        Refusal(StatusCode::BAD_REQUEST, e, None)
    }
}

fn ingress(message: impl Into<String>) -> Refusal {
    Refusal(
        StatusCode::BAD_REQUEST,
        RpcError::new(INGRESS_ERROR_CODE, message),
        None,
    )
}

fn query_param<'a>(req: &'a Request<Bytes>, name: &str) -> Option<&'a str> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

impl JitoBlockEngine {
    /// The engine over `chain`.
    pub fn new(chain: SharedChain, config: JitoConfig) -> Self {
        JitoBlockEngine {
            chain,
            config,
            bundles: Mutex::new(HashMap::new()),
            payers: Mutex::new(HashMap::new()),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &JitoConfig {
        &self.config
    }

    /// The chain it lands on.
    pub fn chain(&self) -> &SharedChain {
        &self.chain
    }

    /// What became of bundle `id`, if it was accepted.
    pub fn bundle(&self, id: &str) -> Option<BundleRecord> {
        self.book().get(id).cloned()
    }

    fn book(&self) -> std::sync::MutexGuard<'_, HashMap<String, BundleRecord>> {
        self.bundles.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn uuid(req: &Request<Bytes>) -> Option<String> {
        query_param(req, "uuid")
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .or_else(|| {
                req.headers()
                    .get("x-jito-auth")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
    }

    /// Answers one HTTP request.
    pub fn respond(&self, req: &Request<Bytes>, ctx: &RequestContext) -> Response<SimBody> {
        if let Some(resp) = jsonrpc::http_refusal(req) {
            return resp;
        }
        let path = req.uri().path();
        let bundles = self.config.bundle_paths.iter().any(|p| p == path);
        let transactions = self.config.transaction_paths.iter().any(|p| p == path);
        if !bundles && !transactions {
            return jsonrpc::plain(StatusCode::NOT_FOUND, "Not Found\n");
        }
        let body = match Body::parse(req.body()) {
            Ok(b) => b,
            Err(e) => return error_response(StatusCode::BAD_REQUEST, Value::Null, e),
        };
        let uuid = Self::uuid(req);
        let auth = &self.config.auth;
        if auth.required && !uuid.as_ref().is_some_and(|u| auth.uuids.contains(u)) {
            return error_response(
                StatusCode::UNAUTHORIZED,
                Value::Null,
                RpcError::new(UNAUTHORIZED_CODE, "unauthorized: unknown or missing uuid"),
            );
        }
        let bundle_only = query_param(req, "bundleOnly") == Some("true");
        match body {
            Body::Single(Err(e)) => error_response(StatusCode::BAD_REQUEST, Value::Null, e),
            Body::Single(Ok(call)) => {
                let id = call.id.clone().unwrap_or(Value::Null);
                match self.call(call, ctx, bundles, bundle_only) {
                    Ok((result, bundle_header)) => {
                        let v = serde_json::to_value(RpcResponse::result(id, result))
                            .expect("serializable");
                        let mut resp = crate::service::json(StatusCode::OK, &v);
                        if let Some(h) = bundle_header.and_then(|b| HeaderValue::from_str(&b).ok())
                        {
                            resp.headers_mut().insert("x-bundle-id", h);
                        }
                        resp
                    }
                    Err(Refusal(status, e, wait)) => {
                        let mut resp = error_response(status, id, e);
                        let mode = ctx.controls.limits().retry_after;
                        if let Some(v) = wait
                            .and_then(|w| retry_after(mode, w, std::time::SystemTime::now()))
                            .and_then(|v| HeaderValue::from_str(&v).ok())
                        {
                            resp.headers_mut().insert(header::RETRY_AFTER, v);
                        }
                        resp
                    }
                }
            }
            batch @ Body::Batch(_) => {
                let out = jsonrpc::answer(batch, |call| {
                    self.call(call, ctx, bundles, bundle_only)
                        .map(|(v, _)| v)
                        .map_err(|Refusal(_, e, _)| e)
                });
                jsonrpc::json_response(StatusCode::OK, out.as_ref())
            }
        }
    }

    fn call(
        &self,
        call: Call,
        ctx: &RequestContext,
        bundle_path: bool,
        bundle_only: bool,
    ) -> Result<(Value, Option<String>), Refusal> {
        debug!(method = %call.method, peer = %ctx.peer, "jito");
        let params = Params::new(call.params)?;
        match (call.method.as_str(), bundle_path) {
            ("getTipAccounts", _) => {
                params.none()?;
                let tips: Vec<String> = self
                    .chain
                    .lock()
                    .tip_accounts()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                Ok((json!(tips), None))
            }
            ("sendBundle", true) => self
                .send_bundle(params, ctx)
                .map(|id| (Value::String(id), None)),
            ("getBundleStatuses", true) => Ok((self.bundle_statuses(params, ctx.received)?, None)),
            ("getInflightBundleStatuses", true) => {
                Ok((self.inflight_statuses(params, ctx.received)?, None))
            }
            ("sendTransaction", false) => self.send_transaction(params, ctx, bundle_only),
            _ => Err(Refusal(
                StatusCode::BAD_REQUEST,
                RpcError::method_not_found(),
                None,
            )),
        }
    }

    /// Decodes, sanitizes and verifies one transaction at ingress.
    fn admit(
        chain: &Chain,
        data: &str,
        encoding: BinaryEncoding,
    ) -> Result<(VersionedTransaction, bool), Refusal> {
        let (_, tx) = decode_transaction(data, encoding).map_err(|e| ingress(e.message))?;
        let first = tx.signatures.first().copied().unwrap_or_default();
        let invalid = || ingress(format!("transaction {first} is invalid"));
        let resolved = chain.resolve(&tx).map_err(|_| invalid())?;
        Chain::verify_signatures(&tx).map_err(|_| invalid())?;
        let tips = chain.tip_accounts();
        let locks_tip = resolved.writable_keys().any(|k| tips.contains(k));
        Ok((tx, locks_tip))
    }

    fn send_bundle(&self, params: Params, ctx: &RequestContext) -> Result<String, Refusal> {
        let (encoded, options): (Vec<String>, Option<BundleOptions>) = params.parse(1, 2)?;
        let max = self.config.max_bundle_transactions;
        if encoded.is_empty() {
            return Err(ingress("bundle must contain at least one transaction"));
        }
        if encoded.len() > max {
            return Err(ingress(format!(
                "bundle exceeded maximum number of transactions: {} > {max}",
                encoded.len()
            )));
        }
        let encoding = BinaryEncoding::of(
            options
                .unwrap_or_default()
                .encoding
                .unwrap_or(TransactionEncoding::Base58),
        )?;
        let now = ctx.received;
        let mut chain = self.chain.lock();
        chain.advance(now);
        let mut txs = Vec::with_capacity(encoded.len());
        let mut locks_tip = false;
        let mut payers = Vec::new();
        for data in &encoded {
            let (tx, tip) = Self::admit(&chain, data, encoding)?;
            if tip {
                payers.extend(tx.message.static_account_keys().first().copied());
            }
            locks_tip |= tip;
            txs.push(tx);
        }
        if self.config.require_tip && !locks_tip {
            return Err(ingress(NO_TIP_ACCOUNT));
        }
        self.pace_tip_payers(payers, now)?;
        let signatures: Vec<Signature> = txs
            .iter()
            .map(|t| t.signatures.first().copied().unwrap_or_default())
            .collect();
        let id = bundle_id(&signatures);
        let min_tip = if self.config.require_tip {
            self.config.min_tip_lamports
        } else {
            0
        };
        let origin = Origin {
            peer: Some(ctx.peer.ip()),
            via: Via::JitoBundle {
                bundle_id: id.clone(),
            },
        };
        let state = match chain.submit_bundle(now, txs, origin, min_tip) {
            Ok((slot, _)) => BundleState::Landed { slot },
            Err(rejection) => BundleState::Rejected(rejection),
        };
        drop(chain);
        debug!(bundle_id = %id, ?state, "sendBundle");
        self.remember(id.clone(), signatures, now, state);
        Ok(id)
    }

    /// Takes a token of the bucket of every payer of a transaction that write-locks a tip
    /// account (lookup tables included), or none if one is empty.
    fn pace_tip_payers(&self, mut payers: Vec<Pubkey>, now: Instant) -> Result<(), Refusal> {
        let Some(cfg) = &self.config.tip_payer_limit else {
            return Ok(());
        };
        payers.sort_unstable();
        payers.dedup();
        let mut buckets = self.payers.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_TRACKED_PAYERS {
            // Full buckets carry no state: forget them.
            buckets.retain(|_, b| b.available(now) < u64::from(cfg.burst));
        }
        for p in &payers {
            let bucket = buckets
                .entry(*p)
                .or_insert_with(|| TokenBucket::new(cfg, now));
            if let Err(wait) = bucket.peek(now) {
                return Err(Refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    RpcError::new(
                        RATE_LIMITED_CODE,
                        format!(
                            "Rate limit exceeded for tip payer {p}: {} per second",
                            cfg.rate
                        ),
                    ),
                    Some(wait),
                ));
            }
        }
        for p in &payers {
            buckets.get_mut(p).expect("inserted above").take();
        }
        Ok(())
    }

    fn remember(&self, id: String, signatures: Vec<Signature>, now: Instant, state: BundleState) {
        let retention = Duration::from_secs(self.config.inflight_retention_secs);
        let mut book = self.book();
        book.retain(|_, r| {
            let age = now.saturating_duration_since(r.received);
            age <= retention
                || (matches!(r.state, BundleState::Landed { .. }) && age <= LANDED_RETENTION)
        });
        let landed =
            matches!(book.get(&id), Some(r) if matches!(r.state, BundleState::Landed { .. }));
        if !landed {
            book.insert(
                id,
                BundleRecord {
                    signatures,
                    received: now,
                    state,
                },
            );
        }
    }

    fn send_transaction(
        &self,
        params: Params,
        ctx: &RequestContext,
        bundle_only: bool,
    ) -> Result<(Value, Option<String>), Refusal> {
        let (data, config): (String, Option<SendTransactionConfig>) = params.parse(1, 2)?;
        let encoding = BinaryEncoding::of(
            config
                .unwrap_or_default()
                .encoding
                .unwrap_or(TransactionEncoding::Base58),
        )?;
        let (_, tx) = decode_transaction(&data, encoding)?;
        let now = ctx.received;
        let mut chain = self.chain.lock();
        chain.advance(now);
        let resolved = chain
            .resolve(&tx)
            .map_err(|e| RpcError::invalid_params(format!("invalid transaction: {e}")))?;
        let tips = chain.tip_accounts();
        // Only a transaction its payer really signed counts against the payer.
        if resolved.writable_keys().any(|k| tips.contains(k))
            && Chain::verify_signatures(&tx).is_ok()
        {
            let payer = tx.message.static_account_keys().first().copied();
            self.pace_tip_payers(payer.into_iter().collect(), now)?;
        }
        let signature = tx.signatures.first().copied().unwrap_or_default();
        let id = bundle_id([&signature]);
        let peer = Some(ctx.peer.ip());
        let state = if bundle_only {
            let origin = Origin {
                peer,
                via: Via::JitoBundle {
                    bundle_id: id.clone(),
                },
            };
            let min_tip = if self.config.require_tip {
                self.config.min_tip_lamports
            } else {
                0
            };
            match chain.submit_bundle(now, vec![tx], origin, min_tip) {
                Ok((slot, _)) => BundleState::Landed { slot },
                Err(r) => BundleState::Rejected(r),
            }
        } else {
            let origin = Origin {
                peer,
                via: Via::JitoTransaction,
            };
            match chain.submit(now, tx, origin) {
                SubmitOutcome::Landed { slot, err: None } => BundleState::Landed { slot },
                SubmitOutcome::Landed {
                    err: Some(error), ..
                }
                | SubmitOutcome::Dropped(error) => {
                    BundleState::Rejected(BundleRejection::Transaction { index: 0, error })
                }
            }
        };
        drop(chain);
        self.remember(id.clone(), vec![signature], now, state);
        Ok((Value::String(signature.to_string()), Some(id)))
    }

    fn status_ids(params: Params) -> Result<Vec<String>, Refusal> {
        let (ids,): (Vec<String>,) = params.parse(1, 1)?;
        if ids.len() > MAX_STATUS_IDS {
            return Err(ingress(format!(
                "too many bundle ids provided; max {MAX_STATUS_IDS}"
            )));
        }
        Ok(ids)
    }

    fn bundle_statuses(&self, params: Params, now: Instant) -> Result<Value, Refusal> {
        let ids = Self::status_ids(params)?;
        let book = self.book().clone();
        let mut chain = self.chain.lock();
        let current = chain.advance(now);
        let value: Vec<Option<BundleStatus>> = ids
            .iter()
            .map(|id| {
                let rec = book.get(id)?;
                let BundleState::Landed { slot } = rec.state else {
                    return None;
                };
                let (confirmation_status, _) = chain.confirmation(slot, current);
                Some(BundleStatus {
                    bundle_id: id.clone(),
                    transactions: rec.signatures.iter().map(ToString::to_string).collect(),
                    slot,
                    confirmation_status,
                    err: json!({ "Ok": null }),
                })
            })
            .collect();
        Ok(serde_json::to_value(WithContext {
            context: RpcContext {
                slot: current,
                api_version: None,
            },
            value,
        })
        .expect("serializable"))
    }

    fn inflight_statuses(&self, params: Params, now: Instant) -> Result<Value, Refusal> {
        let ids = Self::status_ids(params)?;
        let retention = Duration::from_secs(self.config.inflight_retention_secs);
        let book = self.book().clone();
        let current = self.chain.lock().advance(now);
        let value: Vec<InflightBundleStatus> = ids
            .iter()
            .map(|id| {
                let rec = book
                    .get(id)
                    .filter(|r| now.saturating_duration_since(r.received) <= retention);
                let (status, landed_slot) = match rec.map(|r| &r.state) {
                    None => ("Invalid", None),
                    Some(BundleState::Landed { slot }) => ("Landed", Some(*slot)),
                    Some(BundleState::Rejected(r)) => (inflight_failure(r), None),
                };
                InflightBundleStatus {
                    bundle_id: id.clone(),
                    status: status.to_string(),
                    landed_slot,
                }
            })
            .collect();
        Ok(serde_json::to_value(WithContext {
            context: RpcContext {
                slot: current,
                api_version: None,
            },
            value,
        })
        .expect("serializable"))
    }
}

/// How `getInflightBundleStatuses` reports a bundle that lost the auction: `Failed` when a
/// transaction failed executing, `Invalid` when it could never run (expired blockhash,
/// duplicate, unpaid fee, tip too low).
fn inflight_failure(r: &BundleRejection) -> &'static str {
    match r {
        BundleRejection::Transaction {
            error:
                TransactionError::InstructionError(..)
                | TransactionError::InsufficientFundsForRent { .. }
                | TransactionError::ProgramAccountNotFound
                | TransactionError::InvalidProgramForExecution,
            ..
        } => "Failed",
        _ => "Invalid",
    }
}

/// JSON-RPC code of the block engine's rate-limit refusals (with HTTP `429`).
pub const RATE_LIMITED_CODE: i64 = -32097;

impl Service for JitoBlockEngine {
    fn name(&self) -> &'static str {
        "jito"
    }

    fn api_key(&self, req: &Request<Bytes>) -> Option<String> {
        Self::uuid(req)
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response<SimBody> {
        jsonrpc::core_error(status, message, RATE_LIMITED_CODE)
    }

    fn handle(
        &self,
        req: Request<Bytes>,
        ctx: RequestContext,
    ) -> impl Future<Output = Response<SimBody>> + Send {
        std::future::ready(self.respond(&req, &ctx))
    }
}
