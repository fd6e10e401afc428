//! Shared helpers of the chain, Solana RPC and Jito tests.
#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use galileo_sim::chain::{Chain, ChainConfig, Commitment, SharedChain};
use galileo_sim::{RequestContext, Service};
use http::{Request, header};
use http_body_util::BodyExt as _;
use serde_json::Value;
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::{AddressLookupTableAccount, Message, VersionedMessage, v0};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction::versioned::VersionedTransaction;
use tokio::time::Instant;

/// The default chain with genesis now.
pub fn chain() -> (Chain, Instant) {
    let now = Instant::now();
    (
        Chain::new(ChainConfig::default(), now).expect("valid config"),
        now,
    )
}

/// A shared default chain.
pub fn shared() -> (SharedChain, Instant) {
    let (c, now) = chain();
    (SharedChain::new(c), now)
}

/// The peer every in-process request comes from.
pub fn peer() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 7)), 40_000)
}

/// A request context at `now`.
pub fn ctx(now: Instant) -> RequestContext {
    RequestContext {
        received: now,
        ..RequestContext::for_peer(peer())
    }
}

/// A JSON POST to `path`.
pub fn post(path: &str, body: &Value) -> Request<Bytes> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

/// A JSON-RPC request body.
pub fn request(method: &str, params: Value) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

/// Sends `req` to `svc` and returns the status, headers and JSON body.
pub async fn send<S: Service>(
    svc: &S,
    req: Request<Bytes>,
    now: Instant,
) -> (http::StatusCode, http::HeaderMap, Value) {
    let resp = svc.handle(req, ctx(now)).await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (parts.status, parts.headers, v)
}

/// Calls `method` at `path` and returns the JSON response.
pub async fn rpc_at<S: Service>(
    svc: &S,
    path: &str,
    now: Instant,
    method: &str,
    params: Value,
) -> Value {
    send(svc, post(path, &request(method, params)), now).await.2
}

/// Calls `method` on the RPC service and returns the JSON response.
pub async fn rpc<S: Service>(svc: &S, now: Instant, method: &str, params: Value) -> Value {
    rpc_at(svc, "/", now, method, params).await
}

/// The `result` of a response, failing the test on an error.
pub fn result(v: &Value) -> &Value {
    assert!(v.get("error").is_none(), "unexpected error: {v}");
    v.get("result").unwrap_or_else(|| panic!("no result: {v}"))
}

/// The `(code, message)` of an error response, failing the test on a result.
pub fn error(v: &Value) -> (i64, String) {
    let e = v
        .get("error")
        .unwrap_or_else(|| panic!("expected an error: {v}"));
    (
        e["code"].as_i64().unwrap(),
        e["message"].as_str().unwrap().to_string(),
    )
}

/// A signed legacy transaction of `ixs` paid by `payer`.
pub fn legacy_tx(payer: &Keypair, ixs: &[Instruction], blockhash: Hash) -> VersionedTransaction {
    let msg = Message::new_with_blockhash(ixs, Some(&payer.pubkey()), &blockhash);
    VersionedTransaction::from(Transaction::new(&[payer], msg, blockhash))
}

/// A signed v0 transaction of `ixs` paid by `payer`, compressing keys with `tables`.
pub fn v0_tx(
    payer: &Keypair,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> VersionedTransaction {
    let msg = v0::Message::try_compile(&payer.pubkey(), ixs, tables, blockhash).unwrap();
    VersionedTransaction::try_new(VersionedMessage::V0(msg), &[payer]).unwrap()
}

/// A System transfer transaction.
pub fn transfer_tx(
    from: &Keypair,
    to: &Pubkey,
    lamports: u64,
    blockhash: Hash,
) -> VersionedTransaction {
    legacy_tx(
        from,
        &[solana_system_interface::instruction::transfer(
            &from.pubkey(),
            to,
            lamports,
        )],
        blockhash,
    )
}

/// The chain's lookup table as the compiler wants it.
pub fn table(chain: &Chain) -> AddressLookupTableAccount {
    AddressLookupTableAccount {
        key: chain.lookup_table(),
        addresses: chain.lookup_table_addresses().to_vec(),
    }
}

/// The processed blockhash at `now`.
pub fn blockhash(chain: &mut Chain, now: Instant) -> Hash {
    chain.latest_blockhash(now, Commitment::Processed).blockhash
}

/// Base64 wire form.
pub fn b64(tx: &VersionedTransaction) -> String {
    BASE64.encode(bincode::serialize(tx).unwrap())
}

/// Base58 wire form.
pub fn b58(tx: &VersionedTransaction) -> String {
    bs58::encode(bincode::serialize(tx).unwrap()).into_string()
}

/// The same transaction with its first signature's first byte flipped.
pub fn corrupt(tx: &VersionedTransaction) -> VersionedTransaction {
    let mut tx = tx.clone();
    let mut bytes: [u8; 64] = tx.signatures[0].into();
    bytes[0] ^= 0xff;
    tx.signatures[0] = bytes.into();
    tx
}
