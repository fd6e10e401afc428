//! The Solana JSON-RPC service, method by method, against the validator's shapes and codes.

mod chain_support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chain_support::*;
use galileo_sim::chain::{Commitment, SharedChain, associated_token_address};
use galileo_sim::solana::wire::{
    ConfirmedTransaction, EncodedTransaction, TransactionVersion, UiStatus,
};
use galileo_sim::solana::{RpcHealth, SolanaRpc, SolanaRpcConfig};
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tokio::time::Instant;

fn service() -> (SolanaRpc, SharedChain, Instant) {
    let (chain, now) = shared();
    (
        SolanaRpc::new(chain.clone(), SolanaRpcConfig::default()),
        chain,
        now,
    )
}

fn slots(n: u64) -> Duration {
    Duration::from_millis(400 * n)
}

#[tokio::test(start_paused = true)]
async fn the_http_gate_is_the_validators() {
    let (svc, _, now) = service();
    let get = Request::get("/").body(Bytes::new()).unwrap();
    let (status, _, body) = send(&svc, get, now).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        body.as_str()
            .unwrap()
            .contains("POST or OPTIONS is required")
    );

    let text = Request::post("/")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let (status, _, body) = send(&svc, text, now).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        body.as_str()
            .unwrap()
            .contains("application/json is required")
    );

    let charset = Request::post("/")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Bytes::from(
            serde_json::to_vec(&request("getHealth", json!([]))).unwrap(),
        ))
        .unwrap();
    let (status, _, body) = send(&svc, charset, now).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result(&body), "ok");
}

#[tokio::test(start_paused = true)]
async fn malformed_requests_get_json_rpc_errors() {
    let (svc, _, now) = service();
    let raw = |b: &'static [u8]| {
        Request::post("/")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Bytes::from_static(b))
            .unwrap()
    };
    let (status, _, body) = send(&svc, raw(b"{not json"), now).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error(&body), (-32700, "Parse error".into()));
    assert_eq!(body["id"], Value::Null);

    let (_, _, body) = send(
        &svc,
        raw(br#"{"jsonrpc":"1.0","id":1,"method":"getHealth"}"#),
        now,
    )
    .await;
    assert_eq!(error(&body).0, -32600);
    let (_, _, body) = send(&svc, raw(br#"{"jsonrpc":"2.0","id":1}"#), now).await;
    assert_eq!(error(&body).0, -32600);
    let (_, _, body) = send(&svc, raw(b"[]"), now).await;
    assert_eq!(error(&body).0, -32600);

    let body = rpc(&svc, now, "getFoo", json!([])).await;
    assert_eq!(error(&body), (-32601, "Method not found".into()));
    assert_eq!(body["id"], 1);

    for (method, params) in [
        ("getBalance", json!([])),
        ("getBalance", json!([42])),
        (
            "getBalance",
            json!(["11111111111111111111111111111111", {"commitment": "soon"}]),
        ),
        ("getLatestBlockhash", json!([{"commitment": 3}])),
        ("getSignatureStatuses", json!(["not-a-list"])),
        ("sendTransaction", json!([])),
        ("sendTransaction", json!([1, 2, 3])),
        ("getHealth", json!([1])),
        ("getMultipleAccounts", json!({"keys": []})),
    ] {
        let body = rpc(&svc, now, method, params.clone()).await;
        let (code, message) = error(&body);
        assert_eq!(code, -32602, "{method} {params}: {message}");
        assert!(message.starts_with("Invalid params"), "{message}");
    }
    let body = rpc(&svc, now, "getBalance", json!(["xyz0"])).await;
    assert_eq!(error(&body), (-32602, "Invalid param: Invalid".into()));
    let body = rpc(&svc, now, "getBalance", json!(["111"])).await;
    assert_eq!(error(&body), (-32602, "Invalid param: WrongSize".into()));
}

#[tokio::test(start_paused = true)]
async fn batches_answer_each_call_and_skip_notifications() {
    let (svc, _, now) = service();
    let body = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "getHealth"},
        {"jsonrpc": "2.0", "method": "getHealth"},
        {"jsonrpc": "2.0", "id": "two", "method": "nope"},
        7
    ]);
    let (_, _, v) = send(&svc, post("/", &body), now).await;
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["result"], "ok");
    assert_eq!(arr[1]["id"], "two");
    assert_eq!(arr[1]["error"]["code"], -32601);
    assert_eq!(arr[2]["error"]["code"], -32600);
}

#[tokio::test(start_paused = true)]
async fn version_and_health() {
    let (svc, _, now) = service();
    let v = rpc(&svc, now, "getVersion", Value::Null).await;
    assert_eq!(result(&v)["solana-core"], "3.1.14");
    assert_eq!(result(&v)["feature-set"], 3_294_202_862u64);
    assert_eq!(result(&rpc(&svc, now, "getHealth", json!([])).await), "ok");
    svc.set_health(RpcHealth::Behind(42));
    let v = rpc(&svc, now, "getHealth", json!([])).await;
    assert_eq!(error(&v), (-32005, "Node is behind by 42 slots".into()));
    assert_eq!(v["error"]["data"]["numSlotsBehind"], 42);
    svc.set_health(RpcHealth::Unknown);
    let v = rpc(&svc, now, "getHealth", json!([])).await;
    assert_eq!(error(&v), (-32005, "Node is unhealthy".into()));
    assert_eq!(v["error"]["data"]["numSlotsBehind"], Value::Null);
}

#[tokio::test(start_paused = true)]
async fn latest_blockhash_and_validity_follow_the_clock() {
    let (svc, chain, _) = service();
    tokio::time::advance(slots(40)).await;
    let now = Instant::now();
    let start = chain.lock().config().start_slot;
    let v = rpc(
        &svc,
        now,
        "getLatestBlockhash",
        json!([{"commitment": "processed"}]),
    )
    .await;
    let r = result(&v);
    assert_eq!(r["context"]["slot"], start + 40);
    assert_eq!(r["context"]["apiVersion"], "3.1.14");
    assert_eq!(r["value"]["lastValidBlockHeight"], start + 40 + 150);
    let hash = r["value"]["blockhash"].as_str().unwrap().to_string();
    assert_eq!(
        hash,
        chain
            .lock()
            .latest_blockhash(now, Commitment::Processed)
            .blockhash
            .to_string()
    );
    // The default commitment is finalized: 32 slots behind.
    let v = rpc(&svc, now, "getLatestBlockhash", json!([])).await;
    assert_eq!(result(&v)["context"]["slot"], start + 8);
    assert_ne!(result(&v)["value"]["blockhash"], hash.as_str());

    let valid = |v: &Value| result(v)["value"].as_bool().unwrap();
    assert!(valid(
        &rpc(
            &svc,
            now,
            "isBlockhashValid",
            json!([hash, {"commitment": "processed"}])
        )
        .await
    ));
    tokio::time::advance(slots(151)).await;
    assert!(!valid(
        &rpc(&svc, Instant::now(), "isBlockhashValid", json!([hash])).await
    ));
    let v = rpc(&svc, now, "isBlockhashValid", json!(["abc"])).await;
    assert_eq!(error(&v).0, -32602);

    let v = rpc(
        &svc,
        Instant::now(),
        "getSlot",
        json!([{"commitment": "processed"}]),
    )
    .await;
    assert_eq!(result(&v), start + 191);
    let v = rpc(
        &svc,
        Instant::now(),
        "getBlockHeight",
        json!([{"commitment": "processed"}]),
    )
    .await;
    assert_eq!(result(&v), start + 191);
}

#[tokio::test(start_paused = true)]
async fn min_context_slot_not_reached() {
    let (svc, chain, now) = service();
    let slot = chain.lock().slot(now);
    let v = rpc(&svc, now, "getBalance", json!(["11111111111111111111111111111111", {"commitment": "processed", "minContextSlot": slot + 5}])).await;
    assert_eq!(
        error(&v),
        (-32016, "Minimum context slot has not been reached".into())
    );
    assert_eq!(v["error"]["data"]["contextSlot"], slot);
    let v = rpc(&svc, now, "getBalance", json!(["11111111111111111111111111111111", {"commitment": "processed", "minContextSlot": slot}])).await;
    assert!(v.get("result").is_some());
}

#[tokio::test(start_paused = true)]
async fn balances_accounts_and_token_balances() {
    let (svc, chain, now) = service();
    let (user, usdc, table_key, table_data) = {
        let c = chain.lock();
        let t = c.lookup_table();
        (
            c.users()[0].pubkey(),
            c.mint("USDC").unwrap().address,
            t,
            c.account(&t).unwrap().data,
        )
    };
    let v = rpc(&svc, now, "getBalance", json!([user.to_string()])).await;
    assert_eq!(result(&v)["value"], 100_000_000_000u64);
    let v = rpc(
        &svc,
        now,
        "getBalance",
        json!([Pubkey::new_unique().to_string()]),
    )
    .await;
    assert_eq!(result(&v)["value"], 0);

    // base64, base64+zstd (the stock client's default), base58 limit, legacy binary, dataSlice.
    let v = rpc(
        &svc,
        now,
        "getAccountInfo",
        json!([table_key.to_string(), {"encoding": "base64"}]),
    )
    .await;
    let acc = &result(&v)["value"];
    assert_eq!(acc["owner"], "AddressLookupTab1e1111111111111111111111111");
    assert_eq!(acc["space"], table_data.len());
    assert_eq!(acc["data"][1], "base64");
    assert_eq!(
        BASE64.decode(acc["data"][0].as_str().unwrap()).unwrap(),
        table_data
    );

    let v = rpc(
        &svc,
        now,
        "getAccountInfo",
        json!([table_key.to_string(), {"encoding": "base64+zstd"}]),
    )
    .await;
    let acc = &result(&v)["value"];
    assert_eq!(acc["data"][1], "base64+zstd");
    let compressed = BASE64.decode(acc["data"][0].as_str().unwrap()).unwrap();
    assert_eq!(zstd::decode_all(&compressed[..]).unwrap(), table_data);

    let v = rpc(
        &svc,
        now,
        "getAccountInfo",
        json!([table_key.to_string(), {"encoding": "base58"}]),
    )
    .await;
    assert_eq!(
        error(&v),
        (-32602, "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.".into())
    );
    let v = rpc(&svc, now, "getAccountInfo", json!([table_key.to_string(), {"encoding": "base58", "dataSlice": {"offset": 4, "length": 8}}])).await;
    let acc = &result(&v)["value"];
    assert_eq!(acc["data"][1], "base58");
    assert_eq!(
        bs58::decode(acc["data"][0].as_str().unwrap())
            .into_vec()
            .unwrap(),
        table_data[4..12]
    );
    let v = rpc(&svc, now, "getAccountInfo", json!([user.to_string()])).await;
    assert_eq!(
        result(&v)["value"]["data"],
        "",
        "legacy binary: a bare base58 string"
    );
    let v = rpc(
        &svc,
        now,
        "getAccountInfo",
        json!([Pubkey::new_unique().to_string()]),
    )
    .await;
    assert_eq!(result(&v)["value"], Value::Null);

    let missing = Pubkey::new_unique();
    let v = rpc(&svc, now, "getMultipleAccounts", json!([[table_key.to_string(), missing.to_string(), user.to_string()], {"encoding": "base64+zstd"}])).await;
    let list = result(&v)["value"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[1], Value::Null);
    assert_eq!(list[2]["lamports"], 100_000_000_000u64);
    let keys: Vec<String> = (0..101).map(|_| Pubkey::new_unique().to_string()).collect();
    let v = rpc(&svc, now, "getMultipleAccounts", json!([keys])).await;
    assert_eq!(
        error(&v),
        (-32602, "Too many inputs provided; max 100".into())
    );

    let ata = associated_token_address(&user, &usdc);
    let v = rpc(
        &svc,
        now,
        "getTokenAccountBalance",
        json!([ata.to_string()]),
    )
    .await;
    assert_eq!(
        result(&v)["value"],
        json!({"uiAmount": 100000.0, "decimals": 6, "amount": "100000000000", "uiAmountString": "100000"})
    );
    let v = rpc(
        &svc,
        now,
        "getTokenAccountBalance",
        json!([user.to_string()]),
    )
    .await;
    assert_eq!(
        error(&v),
        (-32602, "Invalid param: not a Token account".into())
    );
    let v = rpc(
        &svc,
        now,
        "getTokenAccountBalance",
        json!([missing.to_string()]),
    )
    .await;
    assert_eq!(
        error(&v),
        (-32602, "Invalid param: could not find account".into())
    );
}

#[tokio::test(start_paused = true)]
async fn send_transaction_in_base64_and_base58_lands_and_returns_the_first_signature() {
    let (svc, chain, now) = service();
    let (from, to) = (
        chain.lock().users()[0].insecure_clone(),
        Pubkey::new_unique(),
    );
    let bh = blockhash(&mut chain.lock(), now);
    let tx = transfer_tx(&from, &to, 1_500_000, bh);
    let v = rpc(
        &svc,
        now,
        "sendTransaction",
        json!([b64(&tx), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(result(&v), tx.signatures[0].to_string().as_str());
    let tx2 = transfer_tx(&from, &to, 2_500_000, bh);
    let v = rpc(&svc, now, "sendTransaction", json!([b58(&tx2)])).await;
    assert_eq!(result(&v), tx2.signatures[0].to_string().as_str());
    assert_eq!(chain.lock().balance(&to), 4_000_000);
    let c = chain.lock();
    let rec = c.transaction(&tx2.signatures[0]).unwrap();
    assert_eq!(rec.origin.peer, Some(peer().ip()));
    assert_eq!(rec.origin.via, galileo_sim::chain::Via::Rpc);
}

#[tokio::test(start_paused = true)]
async fn preflight_failures_use_the_validators_codes() {
    let (svc, chain, now) = service();
    let from = chain.lock().users()[0].insecure_clone();
    let to = Pubkey::new_unique();
    let bh = blockhash(&mut chain.lock(), now);

    // A signature that does not verify: -32003.
    let bad = corrupt(&transfer_tx(&from, &to, 1, bh));
    let v = rpc(
        &svc,
        now,
        "sendTransaction",
        json!([b64(&bad), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(
        error(&v),
        (-32003, "Transaction signature verification failure".into())
    );

    // A duplicate: -32002 AlreadyProcessed, with the simulation result as data.
    let tx = transfer_tx(&from, &to, 1_000_000, bh);
    result(
        &rpc(
            &svc,
            now,
            "sendTransaction",
            json!([b64(&tx), {"encoding": "base64"}]),
        )
        .await,
    );
    let v = rpc(
        &svc,
        now,
        "sendTransaction",
        json!([b64(&tx), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(
        error(&v),
        (
            -32002,
            "Transaction simulation failed: This transaction has already been processed".into()
        )
    );
    assert_eq!(v["error"]["data"]["err"], "AlreadyProcessed");
    assert_eq!(v["error"]["data"]["accounts"], Value::Null);

    // An instruction error: -32002 with the program's logs.
    let poor = Keypair::new();
    chain.lock().airdrop(&poor.pubkey(), 1_000_000);
    let overdraw = transfer_tx(&poor, &to, 5_000_000, bh);
    let v = rpc(
        &svc,
        now,
        "sendTransaction",
        json!([b64(&overdraw), {"encoding": "base64"}]),
    )
    .await;
    let (code, message) = error(&v);
    assert_eq!(code, -32002);
    assert!(
        message.starts_with("Transaction simulation failed: Error processing Instruction 0"),
        "{message}"
    );
    assert_eq!(
        v["error"]["data"]["err"],
        json!({"InstructionError": [0, {"Custom": 1}]})
    );
    assert!(!v["error"]["data"]["logs"].as_array().unwrap().is_empty());
    assert_eq!(
        chain.lock().balance(&poor.pubkey()),
        1_000_000,
        "a failed preflight charges nothing"
    );

    // An expired blockhash: -32002 BlockhashNotFound.
    tokio::time::advance(slots(151)).await;
    let later = Instant::now();
    let stale = transfer_tx(&from, &to, 3, bh);
    let v = rpc(
        &svc,
        later,
        "sendTransaction",
        json!([b64(&stale), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(
        error(&v),
        (
            -32002,
            "Transaction simulation failed: Blockhash not found".into()
        )
    );
    assert_eq!(v["error"]["data"]["err"], "BlockhashNotFound");

    // Unhealthy nodes refuse preflight with -32005.
    svc.set_health(RpcHealth::Behind(3));
    let bh = blockhash(&mut chain.lock(), later);
    let fresh = transfer_tx(&from, &to, 4, bh);
    let v = rpc(
        &svc,
        later,
        "sendTransaction",
        json!([b64(&fresh), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(error(&v).0, -32005);
    assert_eq!(chain.lock().balance(&to), 1_000_000);
}

#[tokio::test(start_paused = true)]
async fn skip_preflight_returns_the_signature_and_lands_or_drops_like_a_validator() {
    let (svc, chain, now) = service();
    let from = chain.lock().users()[0].insecure_clone();
    let to = Pubkey::new_unique();
    let bh = blockhash(&mut chain.lock(), now);
    let skip =
        json!({"encoding": "base64", "skipPreflight": true, "maxRetries": 0, "minContextSlot": 0});

    // A bad signature: accepted, never lands.
    let bad = corrupt(&transfer_tx(&from, &to, 1, bh));
    let v = rpc(&svc, now, "sendTransaction", json!([b64(&bad), skip])).await;
    assert_eq!(result(&v), bad.signatures[0].to_string().as_str());
    let v = rpc(
        &svc,
        now,
        "getSignatureStatuses",
        json!([[bad.signatures[0].to_string()]]),
    )
    .await;
    assert_eq!(result(&v)["value"], json!([null]));

    // A failing instruction: lands as failed and pays its fee.
    let poor = Keypair::new();
    chain.lock().airdrop(&poor.pubkey(), 1_000_000);
    let overdraw = transfer_tx(&poor, &to, 5_000_000, bh);
    let v = rpc(&svc, now, "sendTransaction", json!([b64(&overdraw), skip])).await;
    assert_eq!(result(&v), overdraw.signatures[0].to_string().as_str());
    assert_eq!(chain.lock().balance(&poor.pubkey()), 995_000);
    let v = rpc(
        &svc,
        now,
        "getSignatureStatuses",
        json!([[overdraw.signatures[0].to_string()]]),
    )
    .await;
    let st = &result(&v)["value"][0];
    assert_eq!(st["err"], json!({"InstructionError": [0, {"Custom": 1}]}));
    assert_eq!(
        st["status"],
        json!({"Err": {"InstructionError": [0, {"Custom": 1}]}})
    );
}

#[tokio::test(start_paused = true)]
async fn undecodable_transactions_are_invalid_params() {
    let (svc, chain, now) = service();
    let from = chain.lock().users()[0].insecure_clone();
    let bh = blockhash(&mut chain.lock(), now);
    let tx = transfer_tx(&from, &Pubkey::new_unique(), 1, bh);
    let cases = [
        (
            json!(["%%%", {"encoding": "base64"}]),
            "invalid base64 encoding",
        ),
        (json!(["0OIl", {}]), "invalid base58 encoding"),
        (
            json!([BASE64.encode([1u8, 2, 3]), {"encoding": "base64"}]),
            "failed to deserialize solana_transaction::versioned::VersionedTransaction",
        ),
        (
            json!([BASE64.encode(vec![0u8; 1300]), {"encoding": "base64"}]),
            "too large",
        ),
        (
            json!([b64(&tx), {"encoding": "json"}]),
            "unsupported encoding: json. Supported encodings: base58, base64",
        ),
    ];
    for (params, expected) in cases {
        let v = rpc(&svc, now, "sendTransaction", params.clone()).await;
        let (code, message) = error(&v);
        assert_eq!(code, -32602, "{params}");
        assert!(
            message.contains(expected),
            "{message} does not contain {expected}"
        );
        let v = rpc(&svc, now, "simulateTransaction", params).await;
        assert_eq!(error(&v).0, -32602);
    }
    // A message whose header claims more signatures than it carries.
    let mut unsanitary = tx.clone();
    unsanitary.signatures.clear();
    let v = rpc(
        &svc,
        now,
        "sendTransaction",
        json!([b64(&unsanitary), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(
        error(&v),
        (
            -32602,
            "invalid transaction: Transaction failed to sanitize accounts offsets correctly".into()
        )
    );
}

#[tokio::test(start_paused = true)]
async fn simulate_transaction_reports_without_landing() {
    let (svc, chain, now) = service();
    let from = chain.lock().users()[0].insecure_clone();
    let to = Pubkey::new_unique();
    let bh = blockhash(&mut chain.lock(), now);
    let tx = transfer_tx(&from, &to, 7_000_000, bh);
    let cfg = json!({"encoding": "base64", "sigVerify": true, "accounts": {"addresses": [to.to_string()], "encoding": "base64"}});
    let v = rpc(&svc, now, "simulateTransaction", json!([b64(&tx), cfg])).await;
    let value = &result(&v)["value"];
    assert_eq!(value["err"], Value::Null);
    assert!(value["unitsConsumed"].as_u64().unwrap() > 0);
    assert_eq!(value["fee"], 5_000);
    assert_eq!(value["accounts"][0]["lamports"], 7_000_000);
    assert_eq!(value["replacementBlockhash"], Value::Null);
    assert!(value["logs"][0].as_str().unwrap().contains("invoke [1]"));
    assert_eq!(chain.lock().balance(&to), 0);

    let v = rpc(
        &svc,
        now,
        "simulateTransaction",
        json!([b64(&corrupt(&tx)), {"encoding": "base64", "sigVerify": true}]),
    )
    .await;
    assert_eq!(error(&v).0, -32003);
    // Without sigVerify an unsigned transaction simulates (the preflight of Ultra orders).
    let v = rpc(
        &svc,
        now,
        "simulateTransaction",
        json!([b64(&corrupt(&tx)), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(result(&v)["value"]["err"], Value::Null);
    let v = rpc(&svc, now, "simulateTransaction", json!([b64(&tx), {"encoding": "base64", "sigVerify": true, "replaceRecentBlockhash": true}])).await;
    assert_eq!(
        error(&v),
        (
            -32602,
            "sigVerify may not be used with replaceRecentBlockhash".into()
        )
    );
    let v = rpc(&svc, now, "simulateTransaction", json!([b64(&tx), {"encoding": "base64", "accounts": {"addresses": [to.to_string()], "encoding": "base58"}}])).await;
    assert_eq!(error(&v), (-32602, "base58 encoding not supported".into()));

    tokio::time::advance(slots(200)).await;
    let later = Instant::now();
    let v = rpc(
        &svc,
        later,
        "simulateTransaction",
        json!([b64(&tx), {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(result(&v)["value"]["err"], "BlockhashNotFound");
    let v = rpc(
        &svc,
        later,
        "simulateTransaction",
        json!([b64(&tx), {"encoding": "base64", "replaceRecentBlockhash": true}]),
    )
    .await;
    let value = &result(&v)["value"];
    assert_eq!(value["err"], Value::Null);
    let latest = chain.lock().latest_blockhash(later, Commitment::Processed);
    assert_eq!(
        value["replacementBlockhash"]["blockhash"],
        latest.blockhash.to_string()
    );
    assert_eq!(
        value["replacementBlockhash"]["lastValidBlockHeight"],
        latest.last_valid_block_height
    );
}

#[tokio::test(start_paused = true)]
async fn signature_statuses_progress_and_limit_inputs() {
    let (svc, chain, now) = service();
    let from = chain.lock().users()[0].insecure_clone();
    let bh = blockhash(&mut chain.lock(), now);
    let tx = transfer_tx(&from, &Pubkey::new_unique(), 1_000_000, bh);
    let sig = tx.signatures[0].to_string();
    result(
        &rpc(
            &svc,
            now,
            "sendTransaction",
            json!([b64(&tx), {"encoding": "base64"}]),
        )
        .await,
    );
    let status = |v: &Value| result(v)["value"][0].clone();
    let v = rpc(&svc, now, "getSignatureStatuses", json!([[sig]])).await;
    let st = status(&v);
    assert_eq!(st["confirmationStatus"], "processed");
    assert_eq!(st["confirmations"], 0);
    assert_eq!(st["status"], json!({"Ok": null}));
    assert_eq!(st["err"], Value::Null);
    tokio::time::advance(slots(2)).await;
    let st = status(&rpc(&svc, Instant::now(), "getSignatureStatuses", json!([[sig]])).await);
    assert_eq!(
        (
            st["confirmationStatus"].as_str(),
            st["confirmations"].as_u64()
        ),
        (Some("confirmed"), Some(2))
    );
    tokio::time::advance(slots(40)).await;
    let st = status(
        &rpc(
            &svc,
            Instant::now(),
            "getSignatureStatuses",
            json!([[sig], {"searchTransactionHistory": true}]),
        )
        .await,
    );
    assert_eq!(st["confirmationStatus"], "finalized");
    assert_eq!(st["confirmations"], Value::Null);

    let many: Vec<String> = (0..257).map(|_| sig.clone()).collect();
    let v = rpc(&svc, now, "getSignatureStatuses", json!([many])).await;
    assert_eq!(
        error(&v),
        (-32602, "Too many inputs provided; max 256".into())
    );
    let v = rpc(&svc, now, "getSignatureStatuses", json!([["abc"]])).await;
    assert_eq!(error(&v), (-32602, "Invalid param: WrongSize".into()));
}

#[tokio::test(start_paused = true)]
async fn get_transaction_describes_a_landed_swap() {
    let (svc, chain, now) = service();
    let (tx, user, usdc, sol) = {
        let mut c = chain.lock();
        let user = c.users()[0].insecure_clone();
        let usdc = c.mint("USDC").unwrap().address;
        let sol = c.mint("SOL").unwrap().address;
        let ixs = c
            .swap_instructions(
                &user.pubkey(),
                "raydium",
                &usdc,
                &sol,
                2_000_000,
                30_000_000,
            )
            .unwrap();
        let bh = blockhash(&mut c, now);
        (v0_tx(&user, &ixs, &[table(&c)], bh), user, usdc, sol)
    };
    let sig = tx.signatures[0].to_string();
    result(
        &rpc(
            &svc,
            now,
            "sendTransaction",
            json!([b64(&tx), {"encoding": "base64"}]),
        )
        .await,
    );

    let v = rpc(
        &svc,
        now,
        "getTransaction",
        json!([sig, {"commitment": "processed"}]),
    )
    .await;
    assert_eq!(
        error(&v),
        (
            -32602,
            "Method does not support commitment below `confirmed`".into()
        )
    );
    let v = rpc(
        &svc,
        now,
        "getTransaction",
        json!([sig, {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
    )
    .await;
    assert_eq!(result(&v), &Value::Null, "not confirmed yet");
    tokio::time::advance(slots(1)).await;
    let later = Instant::now();
    let v = rpc(
        &svc,
        later,
        "getTransaction",
        json!([sig, {"commitment": "confirmed"}]),
    )
    .await;
    let (code, message) = error(&v);
    assert_eq!(code, -32015);
    assert!(
        message.contains("\"maxSupportedTransactionVersion\": 0"),
        "{message}"
    );

    let v = rpc(
        &svc,
        later,
        "getTransaction",
        json!([sig, {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
    )
    .await;
    let got: ConfirmedTransaction = serde_json::from_value(result(&v).clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        *result(&v),
        "our types round-trip our output"
    );
    assert_eq!(got.version, Some(TransactionVersion::Number(0)));
    let meta = got.meta.unwrap();
    assert_eq!(meta.fee, 5_000);
    assert_eq!(meta.status, UiStatus::Ok(()));
    let EncodedTransaction::Json(ui) = &got.transaction else {
        panic!("json")
    };
    assert_eq!(ui.signatures, vec![sig.clone()]);
    assert_eq!(ui.message.account_keys[0], user.pubkey().to_string());
    assert_eq!(ui.message.address_table_lookups.as_ref().unwrap().len(), 1);
    let galileo_sim::solana::wire::Maybe::Value(loaded) = meta.loaded_addresses else {
        panic!()
    };
    let keys: Vec<String> = ui
        .message
        .account_keys
        .iter()
        .cloned()
        .chain(loaded.writable)
        .chain(loaded.readonly)
        .collect();
    assert_eq!(keys.len(), meta.pre_balances.len());
    let galileo_sim::solana::wire::Maybe::Value(pre) = meta.pre_token_balances else {
        panic!()
    };
    let galileo_sim::solana::wire::Maybe::Value(post) = meta.post_token_balances else {
        panic!()
    };
    let amount = |list: &[galileo_sim::solana::wire::UiTokenBalance],
                  owner: &Pubkey,
                  mint: &Pubkey|
     -> u64 {
        let ata = associated_token_address(owner, mint).to_string();
        let b = list
            .iter()
            .find(|b| keys[usize::from(b.account_index)] == ata)
            .unwrap();
        b.ui_token_amount.amount.parse().unwrap()
    };
    assert_eq!(
        amount(&pre, &user.pubkey(), &usdc) - amount(&post, &user.pubkey(), &usdc),
        2_000_000
    );
    assert_eq!(
        amount(&post, &user.pubkey(), &sol) - amount(&pre, &user.pubkey(), &sol),
        30_000_000
    );

    // Binary encodings carry the exact wire transaction.
    let v = rpc(&svc, later, "getTransaction", json!([sig, {"commitment": "confirmed", "encoding": "base64", "maxSupportedTransactionVersion": 0}])).await;
    assert_eq!(result(&v)["transaction"], json!([b64(&tx), "base64"]));
    // Unknown signatures are null; finalized needs 32 slots.
    let v = rpc(
        &svc,
        later,
        "getTransaction",
        json!([sig, {"maxSupportedTransactionVersion": 0}]),
    )
    .await;
    assert_eq!(result(&v), &Value::Null);
    tokio::time::advance(slots(40)).await;
    let v = rpc(
        &svc,
        Instant::now(),
        "getTransaction",
        json!([sig, {"maxSupportedTransactionVersion": 0}]),
    )
    .await;
    assert_eq!(result(&v)["slot"], got.slot);
    let other = solana_signature::Signature::from([7u8; 64]).to_string();
    let v = rpc(
        &svc,
        Instant::now(),
        "getTransaction",
        json!([other, "json"]),
    )
    .await;
    assert_eq!(result(&v), &Value::Null);
    let _ = Hash::default();
}

#[tokio::test(start_paused = true)]
async fn rent_exemption_matches_the_chain() {
    let (svc, chain, now) = service();
    let v = rpc(&svc, now, "getMinimumBalanceForRentExemption", json!([165])).await;
    assert_eq!(
        result(&v),
        chain.lock().minimum_balance_for_rent_exemption(165)
    );
    assert_eq!(result(&v), 2_039_280);
}
