//! Shared by the aggregator tests: a fake ledger that records what it is asked and builds
//! plausible instructions, a quiet market, request helpers, and JSON type checks.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use galileo_sim::aggregators::{
    BlockhashInfo, ExecutionFailure, Landed, Ledger, LedgerError, LookupTable, SwapLeg,
};
use galileo_sim::market::{Market, MarketConfig, SharedMarket};
use galileo_sim::{RequestContext, Service, SimBody};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use solana_hash::Hash;
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use tokio::time::Instant;

pub const WSOL: &str = "So11111111111111111111111111111111111111112";
pub const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
pub const JUP: &str = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN";
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The fake venue program.
pub const VENUE_PROGRAM: Pubkey =
    Pubkey::from_str_const("FakeVenue1111111111111111111111111111111111");
pub const TOKEN_PROGRAM: Pubkey =
    Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const SLOT_MS: u64 = 400;
pub const GENESIS_SLOT: u64 = 1_000;
/// Blockhashes stay valid this many slots.
pub const WINDOW: u64 = 150;

/// A venue's swap instruction as the fake builds it (23 bytes of data, as the chain's).
pub fn fake_swap(user: &Pubkey, leg: &SwapLeg) -> Instruction {
    let ata = |m: &Pubkey| {
        spl_associated_token_account_interface::address::get_associated_token_address(user, m)
    };
    let mut data = vec![1u8];
    data.extend_from_slice(&(leg.venue.len() as u16).to_le_bytes());
    data.extend_from_slice(&leg.in_amount.to_le_bytes());
    data.extend_from_slice(&leg.out_amount.to_le_bytes());
    data.extend_from_slice(&[0xee; 4]); // slippage and platform fee: the services write them
    Instruction {
        program_id: VENUE_PROGRAM,
        accounts: vec![
            AccountMeta::new(*user, true),
            AccountMeta::new(ata(&leg.input_mint), false),
            AccountMeta::new(ata(&leg.output_mint), false),
            AccountMeta::new(leg.pool, false),
            AccountMeta::new_readonly(leg.input_mint, false),
            AccountMeta::new_readonly(leg.output_mint, false),
            AccountMeta::new_readonly(TOKEN_PROGRAM, false),
        ],
        data,
    }
}

/// What a fake ledger saw and holds.
#[derive(Debug, Default)]
pub struct FakeState {
    /// Every swap asked for, in order.
    pub calls: Vec<(Pubkey, SwapLeg)>,
    /// What each call returned.
    pub built: Vec<Vec<Instruction>>,
    /// Token accounts that exist (no create-ATA for them).
    pub existing: HashSet<(Pubkey, Pubkey)>,
    /// Landed transactions: signature, slot, origin, transaction.
    pub landed: Vec<(Signature, u64, IpAddr, VersionedTransaction)>,
    /// Every submit attempt.
    pub submits: usize,
    /// The next builds fail with this.
    pub fail_build: Option<LedgerError>,
    /// Landed transactions fail in execution with this.
    pub fail_execution: Option<ExecutionFailure>,
}

/// A ledger for tests: a slot clock from `genesis` (400 ms slots from slot 1000), blockhashes
/// derived from the slot, a lookup table of the given addresses, real signature checks.
#[derive(Clone, Debug)]
pub struct FakeLedger {
    pub genesis: Instant,
    pub table: LookupTable,
    pub tips: Vec<Pubkey>,
    pub state: Arc<Mutex<FakeState>>,
}

impl FakeLedger {
    pub fn new(genesis: Instant, lookup: Vec<Pubkey>) -> Self {
        Self {
            genesis,
            table: LookupTable {
                key: Pubkey::from_str_const("FakeALT111111111111111111111111111111111111"),
                addresses: lookup,
            },
            tips: (1..=8u8).map(|i| Pubkey::new_from_array([i; 32])).collect(),
            state: Arc::default(),
        }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    pub fn hash_of(slot: u64) -> Hash {
        Hash::new_from_array(Sha256::digest(slot.to_le_bytes()).into())
    }

    pub fn slot_at(&self, now: Instant) -> u64 {
        GENESIS_SLOT + (now.saturating_duration_since(self.genesis).as_millis() as u64) / SLOT_MS
    }
}

impl Ledger for FakeLedger {
    fn swap_instructions(
        &self,
        user: &Pubkey,
        leg: &SwapLeg,
    ) -> Result<Vec<Instruction>, LedgerError> {
        let mut s = self.state();
        if let Some(e) = s.fail_build.clone() {
            return Err(e);
        }
        let mut ixs = Vec::new();
        if !s.existing.contains(&(*user, leg.output_mint)) {
            ixs.push(
                spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                    user,
                    user,
                    &leg.output_mint,
                    &TOKEN_PROGRAM,
                ),
            );
        }
        ixs.push(fake_swap(user, leg));
        s.calls.push((*user, leg.clone()));
        s.built.push(ixs.clone());
        Ok(ixs)
    }

    fn latest_blockhash(&self, now: Instant) -> BlockhashInfo {
        let slot = self.slot_at(now);
        BlockhashInfo {
            blockhash: Self::hash_of(slot),
            last_valid_block_height: slot + WINDOW,
            slot,
        }
    }

    fn slot(&self, now: Instant) -> u64 {
        self.slot_at(now)
    }

    fn lookup_tables(&self) -> Vec<LookupTable> {
        vec![self.table.clone()]
    }

    fn tip_accounts(&self) -> Vec<Pubkey> {
        self.tips.clone()
    }

    fn submit(
        &self,
        tx: VersionedTransaction,
        origin: IpAddr,
        now: Instant,
    ) -> Result<Landed, LedgerError> {
        let slot = self.slot_at(now);
        let mut s = self.state();
        s.submits += 1;
        if tx.signatures.is_empty() || !tx.verify_with_results().iter().all(|ok| *ok) {
            return Err(LedgerError::SignatureFailure);
        }
        let hash = *tx.message.recent_blockhash();
        if !(slot.saturating_sub(WINDOW)..=slot).any(|sl| Self::hash_of(sl) == hash) {
            return Err(LedgerError::BlockhashNotFound);
        }
        let signature = tx.signatures[0];
        if s.landed.iter().any(|(sig, ..)| *sig == signature) {
            return Err(LedgerError::AlreadyProcessed);
        }
        s.landed.push((signature, slot, origin, tx));
        Ok(Landed {
            signature,
            slot,
            failure: s.fail_execution.clone(),
        })
    }
}

/// A market without dislocations or basis (prices still walk).
pub fn quiet_config() -> MarketConfig {
    let mut cfg = MarketConfig::default();
    cfg.dislocations.per_minute = 0.0;
    for v in &mut cfg.venues {
        v.basis_bps = 0;
    }
    cfg
}

/// A shared market and a fake ledger whose lookup table holds every pool and mint.
pub fn world() -> (SharedMarket, FakeLedger, Instant) {
    let epoch = Instant::now();
    let market = Market::new(quiet_config(), epoch).unwrap();
    let mut lookup: Vec<Pubkey> = market
        .mint_ids()
        .map(|m| market.mint_info(m).address())
        .collect();
    for v in market.venue_ids() {
        for a in market.mint_ids() {
            for b in market.mint_ids() {
                if a != b {
                    lookup.push(market.pool_address(v, a, b));
                }
            }
        }
    }
    lookup.push(TOKEN_PROGRAM);
    (
        SharedMarket::new(market),
        FakeLedger::new(epoch, lookup),
        epoch,
    )
}

/// A context for a request from `peer` arriving at `received`, numbered `id`.
pub fn ctx(peer: &str, received: Instant, id: u64) -> RequestContext {
    let mut c = RequestContext::for_peer(SocketAddr::new(peer.parse().unwrap(), 40_000));
    c.received = received;
    c.request_id = id;
    c
}

/// Calls a service directly; returns the status and the JSON body.
pub async fn call<S: Service>(
    svc: &S,
    req: Request<Bytes>,
    cx: RequestContext,
) -> (StatusCode, Value) {
    let resp: Response<SimBody> = svc.handle(req, cx).await;
    let status = resp.status();
    assert_eq!(
        resp.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "{status}"
    );
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {bytes:?}")),
    )
}

pub fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

pub fn post(path: &str, body: &Value) -> Request<Bytes> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

pub fn post_raw(path: &str, body: &'static str) -> Request<Bytes> {
    Request::post(path)
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

pub fn with_key(mut req: Request<Bytes>, key: &str) -> Request<Bytes> {
    req.headers_mut().insert("x-api-key", key.parse().unwrap());
    req
}

// ----- JSON type checks ------------------------------------------------------------------

/// `v[field]` is a string of u64 digits; returns it.
pub fn amount(v: &Value, field: &str) -> u64 {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} must be a string: {v}"));
    assert!(
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
        "{field}: {s:?}"
    );
    s.parse().unwrap()
}

/// `v[field]` is a base58 public key; returns it.
pub fn key(v: &Value, field: &str) -> Pubkey {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} must be a string: {v}"))
        .parse()
        .unwrap_or_else(|_| panic!("{field} is not a public key: {v}"))
}

/// `v[field]` is a JSON integer (not a string, not a float).
pub fn int(v: &Value, field: &str) -> u64 {
    assert!(v[field].is_u64(), "{field} must be an integer: {v}");
    v[field].as_u64().unwrap()
}

/// A plain decimal string: digits, optionally a sign and one dot, never an exponent.
pub fn plain_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|b| *b == b'.').count() <= 1
        && !body.starts_with('.')
        && !body.ends_with('.')
}

/// The keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A JSON instruction back to an instruction, checking its shape.
pub fn instruction(v: &Value) -> Instruction {
    assert_eq!(keys(v), ["accounts", "data", "programId"], "{v}");
    let data = v["data"].as_str().unwrap();
    use base64::Engine;
    Instruction {
        program_id: key(v, "programId"),
        accounts: v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(keys(a), ["isSigner", "isWritable", "pubkey"], "{a}");
                AccountMeta {
                    pubkey: key(a, "pubkey"),
                    is_signer: a["isSigner"].as_bool().unwrap(),
                    is_writable: a["isWritable"].as_bool().unwrap(),
                }
            })
            .collect(),
        data: base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    }
}

/// The compute-budget program.
pub const COMPUTE_BUDGET: Pubkey =
    Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");

/// `SetComputeUnitLimit(n)`.
pub fn cu_limit(n: u32) -> Instruction {
    let mut data = vec![2u8];
    data.extend_from_slice(&n.to_le_bytes());
    Instruction {
        program_id: COMPUTE_BUDGET,
        accounts: vec![],
        data,
    }
}

/// `SetComputeUnitPrice(p)`.
pub fn cu_price(p: u64) -> Instruction {
    let mut data = vec![3u8];
    data.extend_from_slice(&p.to_le_bytes());
    Instruction {
        program_id: COMPUTE_BUDGET,
        accounts: vec![],
        data,
    }
}

/// `ix` with its last four data bytes set to `slippage | fee`.
pub fn patched(mut ix: Instruction, slippage: u16, fee: u16) -> Instruction {
    let n = ix.data.len();
    ix.data[n - 4..n - 2].copy_from_slice(&slippage.to_le_bytes());
    ix.data[n - 2..].copy_from_slice(&fee.to_le_bytes());
    ix
}

/// An instruction's program, account keys and data (a compiled message merges the signer and
/// writable flags of an account over all its instructions, so they are compared apart).
pub type Shape = (Pubkey, Vec<Pubkey>, Vec<u8>);

pub fn shape(ix: &Instruction) -> Shape {
    (
        ix.program_id,
        ix.accounts.iter().map(|a| a.pubkey).collect(),
        ix.data.clone(),
    )
}

/// The instructions of a compiled transaction, accounts resolved through `tables`.
pub fn decompile(tx: &VersionedTransaction, tables: &[LookupTable]) -> Vec<Shape> {
    let msg = &tx.message;
    let mut keys: Vec<Pubkey> = msg.static_account_keys().to_vec();
    let mut ro = Vec::new();
    for l in msg.address_table_lookups().unwrap_or_default() {
        let t = tables.iter().find(|t| t.key == l.account_key).unwrap();
        keys.extend(l.writable_indexes.iter().map(|i| t.addresses[*i as usize]));
        ro.extend(l.readonly_indexes.iter().map(|i| t.addresses[*i as usize]));
    }
    keys.extend(ro);
    msg.instructions()
        .iter()
        .map(|ci| {
            (
                keys[ci.program_id_index as usize],
                ci.accounts.iter().map(|i| keys[*i as usize]).collect(),
                ci.data.clone(),
            )
        })
        .collect()
}

/// Lets paused time run `d` forward.
pub async fn advance(d: Duration) {
    tokio::time::advance(d).await;
}
