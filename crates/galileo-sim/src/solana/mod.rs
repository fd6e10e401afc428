//! The Solana JSON-RPC service over the simulated chain.
//!
//! Speaks JSON-RPC 2.0 on `POST` with the validator's codes and messages: `-32700` for bodies
//! that are not JSON, `-32600` for invalid requests, `-32601` for unknown methods, `-32602` for
//! malformed parameters (and undecodable or unsanitizable transactions), `-32002` for preflight
//! failures (`BlockhashNotFound`, `AlreadyProcessed`, instruction errors...) carrying the
//! simulation result, `-32003` for signatures that do not verify during preflight, `-32005`
//! when unhealthy, `-32015` for v0 transactions requested without
//! `maxSupportedTransactionVersion`, `-32016` for an unreachable `minContextSlot`.
//!
//! Transactions land immediately in the current slot. With `skipPreflight`, a transaction
//! that cannot land (bad signature, expired blockhash, duplicate, fee payer unable to pay) is
//! dropped silently after its signature is returned, as a validator does.

pub mod convert;
pub mod encoding;
pub mod jsonrpc;
pub mod wire;

use std::future::Future;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use tokio::time::Instant;
use tracing::debug;

use crate::chain::{Chain, Commitment, Origin, SharedChain, SimulateOptions, Simulation, Via};
use crate::service::{RequestContext, Service, SimBody};
use encoding::{BinaryEncoding, decode_transaction, encode_account};
use jsonrpc::{Body, Call, Params, RpcError};
use wire::{
    AccountEncoding, AccountInfoConfig, BlockhashValue, CommitmentConfig, RpcContext,
    SendTransactionConfig, SignatureStatusConfig, SimulateResult, SimulateTransactionConfig,
    TransactionConfigParam, TransactionEncoding, TransactionStatus, VersionInfo, WithContext,
};

/// `-32002`: preflight simulation failed.
pub const SEND_TRANSACTION_PREFLIGHT_FAILURE: i64 = -32002;
/// `-32003`: a signature did not verify.
pub const TRANSACTION_SIGNATURE_VERIFICATION_FAILURE: i64 = -32003;
/// `-32005`: the node is unhealthy.
pub const NODE_UNHEALTHY: i64 = -32005;
/// `-32016`: `minContextSlot` not reached.
pub const MIN_CONTEXT_SLOT_NOT_REACHED: i64 = -32016;

/// Most keys in one `getMultipleAccounts`.
pub const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// Most signatures in one `getSignatureStatuses`.
pub const MAX_SIGNATURE_STATUSES: usize = 256;

/// What `getHealth` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RpcHealth {
    /// `"ok"`.
    #[default]
    Ok,
    /// Behind the cluster by this many slots.
    Behind(u64),
    /// Unknown (no slot information).
    Unknown,
}

/// Configuration of the RPC service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolanaRpcConfig {
    /// `getVersion`'s `solana-core`, also the `apiVersion` of response contexts.
    pub version: String,
    /// `getVersion`'s `feature-set`.
    pub feature_set: u32,
    /// The initial health.
    pub health: RpcHealth,
}

impl Default for SolanaRpcConfig {
    fn default() -> Self {
        SolanaRpcConfig {
            version: "3.1.14".to_string(),
            feature_set: 3_294_202_862,
            health: RpcHealth::Ok,
        }
    }
}

/// The Solana JSON-RPC service.
#[derive(Debug)]
pub struct SolanaRpc {
    name: &'static str,
    chain: SharedChain,
    config: SolanaRpcConfig,
    health: Mutex<RpcHealth>,
}

/// Reads a base58 public key as the validator does (`Invalid param: WrongSize | Invalid`).
pub fn parse_pubkey(s: &str) -> Result<Pubkey, RpcError> {
    parse_base58::<32>(s, 44).map(Pubkey::new_from_array)
}

/// Reads a base58 signature as the validator does.
pub fn parse_signature(s: &str) -> Result<Signature, RpcError> {
    parse_base58::<64>(s, 88).map(Signature::from)
}

/// Reads a base58 hash as the validator does.
pub fn parse_hash(s: &str) -> Result<Hash, RpcError> {
    parse_base58::<32>(s, 44).map(Hash::new_from_array)
}

fn parse_base58<const N: usize>(s: &str, max_len: usize) -> Result<[u8; N], RpcError> {
    if s.len() > max_len {
        return Err(RpcError::invalid_param("WrongSize"));
    }
    let bytes = bs58::decode(s)
        .into_vec()
        .map_err(|_| RpcError::invalid_param("Invalid"))?;
    bytes
        .try_into()
        .map_err(|_| RpcError::invalid_param("WrongSize"))
}

fn to_value<T: Serialize>(v: T) -> Result<Value, RpcError> {
    serde_json::to_value(v).map_err(|e| RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string()))
}

impl SolanaRpc {
    /// The service over `chain`.
    pub fn new(chain: SharedChain, config: SolanaRpcConfig) -> Self {
        let health = Mutex::new(config.health);
        SolanaRpc {
            name: "solana",
            chain,
            config,
            health,
        }
    }

    /// The same service under another name (a second endpoint on the same chain, such as a
    /// staked RPC, needs its own name in the sandbox).
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The chain it serves.
    pub fn chain(&self) -> &SharedChain {
        &self.chain
    }

    /// Changes what `getHealth` (and the preflight health check) says.
    pub fn set_health(&self, health: RpcHealth) {
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = health;
    }

    fn health(&self) -> RpcHealth {
        *self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn health_error(&self) -> Option<RpcError> {
        match self.health() {
            RpcHealth::Ok => None,
            RpcHealth::Behind(n) => Some(
                RpcError::new(NODE_UNHEALTHY, format!("Node is behind by {n} slots"))
                    .with_data(json!({ "numSlotsBehind": n })),
            ),
            RpcHealth::Unknown => Some(
                RpcError::new(NODE_UNHEALTHY, "Node is unhealthy")
                    .with_data(json!({ "numSlotsBehind": null })),
            ),
        }
    }

    fn context(&self, slot: u64) -> RpcContext {
        RpcContext {
            slot,
            api_version: Some(self.config.version.clone()),
        }
    }

    fn with_context<T: Serialize>(&self, slot: u64, value: T) -> Result<Value, RpcError> {
        to_value(WithContext {
            context: self.context(slot),
            value,
        })
    }

    /// The slot a read at `commitment` answers from, or `-32016` if that is before
    /// `min_context_slot`.
    fn read_slot(
        chain: &mut Chain,
        now: Instant,
        commitment: Option<Commitment>,
        min_context_slot: Option<u64>,
    ) -> Result<u64, RpcError> {
        let slot = chain.commitment_slot(now, commitment.unwrap_or_default());
        match min_context_slot {
            Some(min) if min > slot => Err(RpcError::new(
                MIN_CONTEXT_SLOT_NOT_REACHED,
                "Minimum context slot has not been reached",
            )
            .with_data(json!({ "contextSlot": slot }))),
            _ => Ok(slot),
        }
    }

    /// Answers one HTTP request.
    pub fn respond(&self, req: &Request<Bytes>, ctx: &RequestContext) -> Response<SimBody> {
        if let Some(resp) = jsonrpc::http_refusal(req) {
            return resp;
        }
        let body = match Body::parse(req.body()) {
            Ok(b) => b,
            Err(e) => return jsonrpc::error_response(StatusCode::OK, Value::Null, e),
        };
        let out = jsonrpc::answer(body, |call| self.call(call, ctx));
        jsonrpc::json_response(StatusCode::OK, out.as_ref())
    }

    /// Answers one call.
    pub fn call(&self, call: Call, ctx: &RequestContext) -> Result<Value, RpcError> {
        debug!(method = %call.method, peer = %ctx.peer, "solana rpc");
        let params = Params::new(call.params)?;
        let now = ctx.received;
        match call.method.as_str() {
            "getVersion" => {
                params.none()?;
                to_value(VersionInfo {
                    solana_core: self.config.version.clone(),
                    feature_set: Some(self.config.feature_set),
                })
            }
            "getHealth" => {
                params.none()?;
                match self.health_error() {
                    None => Ok(Value::String("ok".to_string())),
                    Some(e) => Err(e),
                }
            }
            "getSlot" => {
                let (config,): (Option<CommitmentConfig>,) = params.parse(0, 1)?;
                let config = config.unwrap_or_default();
                let mut chain = self.chain.lock();
                to_value(Self::read_slot(
                    &mut chain,
                    now,
                    config.commitment,
                    config.min_context_slot,
                )?)
            }
            "getBlockHeight" => {
                let (config,): (Option<CommitmentConfig>,) = params.parse(0, 1)?;
                let config = config.unwrap_or_default();
                let mut chain = self.chain.lock();
                let slot =
                    Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                to_value(chain.block_height(slot))
            }
            "getLatestBlockhash" => {
                let (config,): (Option<CommitmentConfig>,) = params.parse(0, 1)?;
                let config = config.unwrap_or_default();
                let mut chain = self.chain.lock();
                Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                let info = chain.latest_blockhash(now, config.commitment.unwrap_or_default());
                self.with_context(
                    info.slot,
                    BlockhashValue {
                        blockhash: info.blockhash.to_string(),
                        last_valid_block_height: info.last_valid_block_height,
                    },
                )
            }
            "isBlockhashValid" => {
                let (hash, config): (String, Option<CommitmentConfig>) = params.parse(1, 2)?;
                let config = config.unwrap_or_default();
                let hash = parse_hash(&hash)?;
                let mut chain = self.chain.lock();
                let slot =
                    Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                let valid = chain.is_blockhash_valid(now, &hash);
                self.with_context(slot, valid)
            }
            "getBalance" => {
                let (key, config): (String, Option<CommitmentConfig>) = params.parse(1, 2)?;
                let config = config.unwrap_or_default();
                let key = parse_pubkey(&key)?;
                let mut chain = self.chain.lock();
                let slot =
                    Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                let balance = chain.balance(&key);
                self.with_context(slot, balance)
            }
            "getAccountInfo" => {
                let (key, config): (String, Option<AccountInfoConfig>) = params.parse(1, 2)?;
                let config = config.unwrap_or_default();
                let key = parse_pubkey(&key)?;
                let mut chain = self.chain.lock();
                let slot =
                    Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                let encoding = config.encoding.unwrap_or(AccountEncoding::Binary);
                let value = chain
                    .account(&key)
                    .map(|a| encode_account(&a, encoding, config.data_slice))
                    .transpose()?;
                self.with_context(slot, value)
            }
            "getMultipleAccounts" => {
                let (keys, config): (Vec<String>, Option<AccountInfoConfig>) =
                    params.parse(1, 2)?;
                if keys.len() > MAX_MULTIPLE_ACCOUNTS {
                    return Err(RpcError::invalid_params(format!(
                        "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
                    )));
                }
                let config = config.unwrap_or_default();
                let keys = keys
                    .iter()
                    .map(|k| parse_pubkey(k))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut chain = self.chain.lock();
                let slot =
                    Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                let encoding = config.encoding.unwrap_or(AccountEncoding::Base64);
                let value = keys
                    .iter()
                    .map(|k| {
                        chain
                            .account(k)
                            .map(|a| encode_account(&a, encoding, config.data_slice))
                            .transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.with_context(slot, value)
            }
            "getTokenAccountBalance" => {
                let (key, config): (String, Option<CommitmentConfig>) = params.parse(1, 2)?;
                let config = config.unwrap_or_default();
                let key = parse_pubkey(&key)?;
                let mut chain = self.chain.lock();
                let slot =
                    Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
                if chain.account(&key).is_none() {
                    return Err(RpcError::invalid_param("could not find account"));
                }
                let b = chain
                    .token_balance(&key)
                    .ok_or_else(|| RpcError::invalid_param("not a Token account"))?;
                self.with_context(slot, convert::token_amount(b.amount, b.decimals))
            }
            "getMinimumBalanceForRentExemption" => {
                let (len, _config): (usize, Option<CommitmentConfig>) = params.parse(1, 2)?;
                to_value(self.chain.lock().minimum_balance_for_rent_exemption(len))
            }
            "getSignatureStatuses" => {
                let (sigs, config): (Vec<String>, Option<SignatureStatusConfig>) =
                    params.parse(1, 2)?;
                if sigs.len() > MAX_SIGNATURE_STATUSES {
                    return Err(RpcError::invalid_params(format!(
                        "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
                    )));
                }
                let search = config.unwrap_or_default().search_transaction_history;
                let sigs = sigs
                    .iter()
                    .map(|s| parse_signature(s))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut chain = self.chain.lock();
                let slot = chain.advance(now);
                let value: Vec<Option<TransactionStatus>> = sigs
                    .iter()
                    .map(|s| {
                        chain
                            .signature_status(now, s, search)
                            .map(|st| TransactionStatus {
                                slot: st.slot,
                                confirmations: st.confirmations,
                                err: st.err.as_ref().map(convert::error_json),
                                status: convert::status(st.err.as_ref()),
                                confirmation_status: Some(st.confirmation_status),
                            })
                    })
                    .collect();
                self.with_context(slot, value)
            }
            "getTransaction" => self.get_transaction(params, now),
            "sendTransaction" => self.send_transaction(params, ctx),
            "simulateTransaction" => self.simulate_transaction(params, now),
            _ => Err(RpcError::method_not_found()),
        }
    }

    fn get_transaction(&self, params: Params, now: Instant) -> Result<Value, RpcError> {
        let (sig, config): (String, Option<TransactionConfigParam>) = params.parse(1, 2)?;
        let config = match config {
            None => wire::TransactionConfig::default(),
            Some(TransactionConfigParam::Encoding(e)) => wire::TransactionConfig {
                encoding: Some(e),
                ..Default::default()
            },
            Some(TransactionConfigParam::Config(c)) => c,
        };
        let commitment = config.commitment.unwrap_or_default();
        if commitment == Commitment::Processed {
            return Err(RpcError::invalid_params(
                "Method does not support commitment below `confirmed`",
            ));
        }
        let sig = parse_signature(&sig)?;
        let mut chain = self.chain.lock();
        let current = chain.advance(now);
        let Some(rec) = chain.transaction(&sig) else {
            return Ok(Value::Null);
        };
        let (status, _) = chain.confirmation(rec.slot, current);
        let settled = match commitment {
            Commitment::Finalized => status == Commitment::Finalized,
            _ => status != Commitment::Processed,
        };
        if !settled {
            return Ok(Value::Null);
        }
        to_value(convert::confirmed_transaction(
            rec,
            config.encoding.unwrap_or(TransactionEncoding::Json),
            config.max_supported_transaction_version,
        )?)
    }

    fn send_transaction(&self, params: Params, ctx: &RequestContext) -> Result<Value, RpcError> {
        let (data, config): (String, Option<SendTransactionConfig>) = params.parse(1, 2)?;
        let config = config.unwrap_or_default();
        let encoding = BinaryEncoding::of(config.encoding.unwrap_or(TransactionEncoding::Base58))?;
        let (_, tx) = decode_transaction(&data, encoding)?;
        let now = ctx.received;
        let mut chain = self.chain.lock();
        let commitment = if config.skip_preflight {
            Commitment::Processed
        } else {
            config.preflight_commitment.unwrap_or_default()
        };
        Self::read_slot(&mut chain, now, Some(commitment), config.min_context_slot)?;
        chain
            .resolve(&tx)
            .map_err(|e| RpcError::invalid_params(format!("invalid transaction: {e}")))?;
        if !config.skip_preflight {
            if Chain::verify_signatures(&tx).is_err() {
                return Err(RpcError::new(
                    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
                    "Transaction signature verification failure",
                ));
            }
            if let Some(e) = self.health_error() {
                return Err(e);
            }
            let sim = chain
                .simulate(now, &tx, SimulateOptions::default())
                .map_err(|e| RpcError::invalid_params(format!("invalid transaction: {e}")))?;
            if let Some(err) = &sim.err {
                let result = simulate_result(&sim, None, false);
                return Err(RpcError::new(
                    SEND_TRANSACTION_PREFLIGHT_FAILURE,
                    format!("Transaction simulation failed: {err}"),
                )
                .with_data(to_value(result)?));
            }
        }
        let signature = tx.signatures.first().copied().unwrap_or_default();
        let outcome = chain.submit(
            now,
            tx,
            Origin {
                peer: Some(ctx.peer.ip()),
                via: Via::Rpc,
            },
        );
        debug!(%signature, ?outcome, "sendTransaction");
        Ok(Value::String(signature.to_string()))
    }

    fn simulate_transaction(&self, params: Params, now: Instant) -> Result<Value, RpcError> {
        let (data, config): (String, Option<SimulateTransactionConfig>) = params.parse(1, 2)?;
        let config = config.unwrap_or_default();
        let encoding = BinaryEncoding::of(config.encoding.unwrap_or(TransactionEncoding::Base58))?;
        let (_, tx) = decode_transaction(&data, encoding)?;
        if config.sig_verify && config.replace_recent_blockhash {
            return Err(RpcError::invalid_params(
                "sigVerify may not be used with replaceRecentBlockhash",
            ));
        }
        let mut chain = self.chain.lock();
        let slot = Self::read_slot(&mut chain, now, config.commitment, config.min_context_slot)?;
        let resolved = chain
            .resolve(&tx)
            .map_err(|e| RpcError::invalid_params(format!("invalid transaction: {e}")))?;
        if config.sig_verify && Chain::verify_signatures(&tx).is_err() {
            return Err(RpcError::new(
                TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
                "Transaction signature verification failure",
            ));
        }
        let accounts = match &config.accounts {
            None => None,
            Some(a) => {
                let encoding = a.encoding.unwrap_or(AccountEncoding::Base64);
                if matches!(encoding, AccountEncoding::Binary | AccountEncoding::Base58) {
                    return Err(RpcError::invalid_params("base58 encoding not supported"));
                }
                if a.addresses.len() > resolved.account_keys.len() {
                    return Err(RpcError::invalid_params(format!(
                        "Too many accounts provided; max {}",
                        resolved.account_keys.len()
                    )));
                }
                let keys = a
                    .addresses
                    .iter()
                    .map(|k| parse_pubkey(k))
                    .collect::<Result<Vec<_>, _>>()?;
                Some((keys, encoding))
            }
        };
        let sim = chain
            .simulate(
                now,
                &tx,
                SimulateOptions {
                    sig_verify: config.sig_verify,
                    replace_recent_blockhash: config.replace_recent_blockhash,
                },
            )
            .map_err(|e| RpcError::invalid_params(format!("invalid transaction: {e}")))?;
        let accounts = match accounts {
            None => None,
            Some((keys, encoding)) => Some(
                keys.iter()
                    .map(|k| {
                        let acc = sim
                            .post_accounts
                            .iter()
                            .find(|(key, _)| key == k)
                            .map_or_else(|| chain.account(k), |(_, a)| a.clone());
                        acc.map(|a| encode_account(&a, encoding, None)).transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let result = simulate_result(&sim, accounts, config.inner_instructions);
        self.with_context(slot, result)
    }
}

/// A simulation on the wire.
fn simulate_result(
    sim: &Simulation,
    accounts: Option<Vec<Option<wire::UiAccount>>>,
    inner: bool,
) -> SimulateResult {
    let loaded = sim.resolved.as_ref();
    let data_size: usize = sim
        .post_accounts
        .iter()
        .filter_map(|(_, a)| a.as_ref().map(|a| a.data.len()))
        .sum();
    SimulateResult {
        err: sim.err.as_ref().map(convert::error_json),
        logs: Some(sim.logs.clone()),
        accounts,
        units_consumed: Some(sim.units_consumed),
        loaded_accounts_data_size: Some(u32::try_from(data_size).unwrap_or(u32::MAX)),
        return_data: convert::return_data(&sim.return_data),
        inner_instructions: inner.then(|| convert::inner_instructions(&sim.inner_instructions)),
        replacement_blockhash: sim.replacement_blockhash.map(|b| BlockhashValue {
            blockhash: b.blockhash.to_string(),
            last_valid_block_height: b.last_valid_block_height,
        }),
        fee: Some(sim.fee),
        pre_balances: Some(sim.pre_balances.clone()),
        post_balances: Some(sim.post_balances.clone()),
        pre_token_balances: Some(convert::token_balances(&sim.pre_token_balances)),
        post_token_balances: Some(convert::token_balances(&sim.post_token_balances)),
        loaded_addresses: loaded
            .map(|r| convert::loaded_addresses(&r.loaded_writable, &r.loaded_readonly)),
    }
}

/// JSON-RPC code of a `429` (the HTTP status, as RPC providers send it).
pub const RATE_LIMITED_CODE: i64 = 429;

impl Service for SolanaRpc {
    fn name(&self) -> &'static str {
        self.name
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
