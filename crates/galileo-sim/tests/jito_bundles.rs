//! The Jito block engine: ingress refusals, the all-or-nothing auction, bundle ids, statuses,
//! `sendTransaction`, tip accounts and uuid auth.

mod chain_support;

use std::time::Duration;

use bytes::Bytes;
use chain_support::*;
use galileo_sim::Service;
use galileo_sim::chain::{BundleRejection, Chain, SharedChain, Via, associated_token_address};
use galileo_sim::jito::{
    BundleState, JitoAuthConfig, JitoBlockEngine, JitoConfig, NO_TIP_ACCOUNT, bundle_id,
};
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use solana_account::Account;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use tokio::time::Instant;

const BUNDLES: &str = "/api/v1/bundles";
const TRANSACTIONS: &str = "/api/v1/transactions";

fn engine(config: JitoConfig) -> (JitoBlockEngine, SharedChain, Instant) {
    let (chain, now) = shared();
    (JitoBlockEngine::new(chain.clone(), config), chain, now)
}

/// Sends a bundle; returns (HTTP status, body).
async fn send_bundle(
    svc: &JitoBlockEngine,
    now: Instant,
    txs: &[VersionedTransaction],
    options: Value,
) -> (StatusCode, Value) {
    let encoded: Vec<String> = if options["encoding"] == "base64" {
        txs.iter().map(b64).collect()
    } else {
        txs.iter().map(b58).collect()
    };
    let (status, _, body) = send(
        svc,
        post(BUNDLES, &request("sendBundle", json!([encoded, options]))),
        now,
    )
    .await;
    (status, body)
}

/// Everything a bundle could touch, to compare before and after.
fn snapshot(chain: &Chain, keys: &[Pubkey]) -> Vec<Option<Account>> {
    keys.iter().map(|k| chain.account(k)).collect()
}

fn watched(chain: &Chain, users: &[Pubkey]) -> Vec<Pubkey> {
    let mut keys: Vec<Pubkey> = users.to_vec();
    keys.extend(chain.tip_accounts());
    for m in chain.mints() {
        for u in users {
            keys.push(associated_token_address(u, &m.address));
        }
        for v in chain.venues() {
            keys.push(chain.pool(&v.name, &m.address).unwrap());
        }
    }
    keys
}

#[test]
fn the_bundle_id_is_jitos_derivation() {
    // derive_bundle_id: hex SHA-256 of the first signatures in base58, joined by ",".
    let sigs = [
        solana_signature::Signature::from([1u8; 64]),
        solana_signature::Signature::from([2u8; 64]),
    ];
    let text = format!("{},{}", sigs[0], sigs[1]);
    let expected: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(bundle_id(&sigs), expected);
    assert_eq!(bundle_id(&sigs).len(), 64);
    // Not the hash of the raw signature bytes, nor order-independent.
    let raw: Vec<u8> = sigs.iter().flat_map(|s| s.as_ref().to_vec()).collect();
    assert_ne!(bundle_id(&sigs), hex(&Sha256::digest(&raw)));
    assert_ne!(bundle_id(&sigs), bundle_id(&[sigs[1], sigs[0]]));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(start_paused = true)]
async fn a_tipped_bundle_lands_atomically_and_reports_its_status() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let (a, b, usdc, sol, tip, bh, tables) = {
        let mut c = chain.lock();
        let bh = blockhash(&mut c, now);
        (
            c.users()[0].insecure_clone(),
            c.users()[1].insecure_clone(),
            c.mint("USDC").unwrap().address,
            c.mint("SOL").unwrap().address,
            c.tip_accounts()[2],
            bh,
            table(&c),
        )
    };
    let swap = chain
        .lock()
        .swap_instructions(&a.pubkey(), "orca", &usdc, &sol, 5_000_000, 40_000_000)
        .unwrap();
    let first = v0_tx(&a, &swap, std::slice::from_ref(&tables), bh);
    let second = transfer_tx(&b, &tip, 25_000, bh);
    let before_tip = chain.lock().balance(&tip);
    let before_usdc = chain.lock().token_amount(&a.pubkey(), &usdc);
    let (status, body) = send_bundle(
        &svc,
        now,
        &[first.clone(), second.clone()],
        json!({"encoding": "base64", "bundleId": "abc-1", "uuid": "ignored"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = result(&body).as_str().unwrap().to_string();
    assert_eq!(id, bundle_id(&[first.signatures[0], second.signatures[0]]));

    {
        let c = chain.lock();
        assert_eq!(c.balance(&tip), before_tip + 25_000);
        assert_eq!(c.token_amount(&a.pubkey(), &usdc), before_usdc - 5_000_000);
        let r1 = c.transaction(&first.signatures[0]).unwrap();
        let r2 = c.transaction(&second.signatures[0]).unwrap();
        assert_eq!(r1.slot, r2.slot);
        assert_eq!(
            r1.origin.via,
            Via::JitoBundle {
                bundle_id: id.clone()
            }
        );
        assert_eq!(r2.tip_lamports(), 25_000);
        assert_eq!(r1.origin.peer, Some(peer().ip()));
    }
    assert_eq!(
        svc.bundle(&id).unwrap().state,
        BundleState::Landed {
            slot: chain.lock().slot(now)
        }
    );

    let v = rpc_at(&svc, BUNDLES, now, "getBundleStatuses", json!([[id]])).await;
    let st = &result(&v)["value"][0];
    assert_eq!(st["bundle_id"], id.as_str());
    assert_eq!(
        st["transactions"],
        json!([
            first.signatures[0].to_string(),
            second.signatures[0].to_string()
        ])
    );
    assert_eq!(st["confirmation_status"], "processed");
    assert_eq!(st["err"], json!({"Ok": null}));
    tokio::time::advance(Duration::from_millis(400 * 32)).await;
    let v = rpc_at(
        &svc,
        BUNDLES,
        Instant::now(),
        "getBundleStatuses",
        json!([[id, "00"]]),
    )
    .await;
    assert_eq!(result(&v)["value"][0]["confirmation_status"], "finalized");
    assert_eq!(result(&v)["value"][1], Value::Null);
    let v = rpc_at(
        &svc,
        BUNDLES,
        Instant::now(),
        "getInflightBundleStatuses",
        json!([[id]]),
    )
    .await;
    assert_eq!(result(&v)["value"][0]["status"], "Landed");
}

#[tokio::test(start_paused = true)]
async fn a_bundle_of_three_whose_last_fails_changes_no_balance() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let (users, keys, txs) = {
        let mut c = chain.lock();
        let bh = blockhash(&mut c, now);
        let users: Vec<Keypair> = c.users()[..3].iter().map(|k| k.insecure_clone()).collect();
        let usdc = c.mint("USDC").unwrap().address;
        let jup = c.mint("JUP").unwrap().address;
        let tip = c.tip_accounts()[0];
        let t = table(&c);
        let swap = c
            .swap_instructions(
                &users[0].pubkey(),
                "raydium",
                &usdc,
                &jup,
                1_000_000,
                2_000_000,
            )
            .unwrap();
        let tip_tx = transfer_tx(&users[1], &tip, 50_000, bh);
        let too_much = c.token_amount(&users[2].pubkey(), &jup) + 1;
        let bad = c
            .swap_instructions(&users[2].pubkey(), "raydium", &jup, &usdc, too_much, 1)
            .unwrap();
        let keys = watched(&c, &users.iter().map(|u| u.pubkey()).collect::<Vec<_>>());
        let txs = vec![
            v0_tx(&users[0], &swap, std::slice::from_ref(&t), bh),
            tip_tx,
            v0_tx(&users[2], &bad, &[t], bh),
        ];
        (users, keys, txs)
    };
    let before = snapshot(&chain.lock(), &keys);
    let (status, body) = send_bundle(&svc, now, &txs, json!({})).await;
    // Accepted at ingress (it is well formed and tips), lost in the auction.
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = result(&body).as_str().unwrap().to_string();
    assert_eq!(
        snapshot(&chain.lock(), &keys),
        before,
        "no balance changed, not even fees"
    );
    for tx in &txs {
        assert!(chain.lock().transaction(&tx.signatures[0]).is_none());
    }
    let rec = svc.bundle(&id).unwrap();
    assert!(
        matches!(
            rec.state,
            BundleState::Rejected(BundleRejection::Transaction {
                index: 2,
                error: TransactionError::InstructionError(..)
            })
        ),
        "{:?}",
        rec.state
    );
    let v = rpc_at(&svc, BUNDLES, now, "getBundleStatuses", json!([[id]])).await;
    assert_eq!(result(&v)["value"], json!([null]));
    let v = rpc_at(
        &svc,
        BUNDLES,
        now,
        "getInflightBundleStatuses",
        json!([[id]]),
    )
    .await;
    assert_eq!(result(&v)["value"][0]["status"], "Failed");
    assert_eq!(result(&v)["value"][0]["landed_slot"], Value::Null);
    drop(users);
}

#[tokio::test(start_paused = true)]
async fn bundles_without_a_tip_are_refused() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let (a, bh, tip) = {
        let mut c = chain.lock();
        let bh = blockhash(&mut c, now);
        (c.users()[0].insecure_clone(), bh, c.tip_accounts()[1])
    };
    let keys = watched(&chain.lock(), &[a.pubkey()]);
    let before = snapshot(&chain.lock(), &keys);

    // No tip account write-locked: refused at ingress.
    let plain = transfer_tx(&a, &Pubkey::new_unique(), 10_000, bh);
    let (status, body) = send_bundle(&svc, now, &[plain], json!({"encoding": "base64"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).1, NO_TIP_ACCOUNT);

    // A tip below the minimum: accepted, never lands.
    let small = transfer_tx(&a, &tip, 999, bh);
    let (status, body) = send_bundle(&svc, now, &[small], json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let id = result(&body).as_str().unwrap().to_string();
    assert_eq!(
        svc.bundle(&id).unwrap().state,
        BundleState::Rejected(BundleRejection::TipTooLow {
            paid: 999,
            required: 1_000
        })
    );
    let v = rpc_at(
        &svc,
        BUNDLES,
        now,
        "getInflightBundleStatuses",
        json!([[id]]),
    )
    .await;
    assert_eq!(result(&v)["value"][0]["status"], "Invalid");
    assert_eq!(snapshot(&chain.lock(), &keys), before);

    // Tips can be required off.
    let (svc, chain, now) = engine(JitoConfig {
        require_tip: false,
        ..JitoConfig::default()
    });
    let a = chain.lock().users()[0].insecure_clone();
    let bh = blockhash(&mut chain.lock(), now);
    // Above the rent-exempt minimum, so the new account may exist.
    let plain = transfer_tx(&a, &Pubkey::new_unique(), 1_000_000, bh);
    let (status, body) = send_bundle(&svc, now, std::slice::from_ref(&plain), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(chain.lock().transaction(&plain.signatures[0]).is_some());
}

#[tokio::test(start_paused = true)]
async fn ingress_refuses_malformed_bundles() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let (a, tip, bh) = {
        let mut c = chain.lock();
        let bh = blockhash(&mut c, now);
        (c.users()[0].insecure_clone(), c.tip_accounts()[0], bh)
    };
    let tipped = |n: u64| transfer_tx(&a, &tip, 1_000 + n, bh);

    let six: Vec<_> = (0..6).map(tipped).collect();
    let (status, body) = send_bundle(&svc, now, &six, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error(&body)
            .1
            .contains("exceeded maximum number of transactions"),
        "{body}"
    );

    let (status, body) = send_bundle(&svc, now, &[], json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).0, -32602);

    let bad = corrupt(&tipped(1));
    let (status, body) = send_bundle(&svc, now, &[tipped(2), bad.clone()], json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body).1,
        format!("transaction {} is invalid", bad.signatures[0])
    );

    // base58 is the default: base64 data without the option does not decode.
    let (status, _, body) = send(
        &svc,
        post(BUNDLES, &request("sendBundle", json!([[b64(&tipped(3))]]))),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&body).1.contains("base58"), "{body}");
    let (status, _, body) = send(
        &svc,
        post(
            BUNDLES,
            &request(
                "sendBundle",
                json!([[b64(&tipped(3))], {"encoding": "json"}]),
            ),
        ),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&body).1.contains("unsupported encoding"), "{body}");
    let (status, _, body) = send(
        &svc,
        post(BUNDLES, &request("sendBundle", json!(["not a list"]))),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).0, -32602);
    assert_eq!(chain.lock().landed().count(), 0);
}

#[tokio::test(start_paused = true)]
async fn expired_and_duplicate_bundles_are_accepted_then_dropped() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let (a, tip, bh) = {
        let mut c = chain.lock();
        let bh = blockhash(&mut c, now);
        (c.users()[0].insecure_clone(), c.tip_accounts()[0], bh)
    };
    let tx = transfer_tx(&a, &tip, 5_000, bh);
    let (status, body) = send_bundle(&svc, now, std::slice::from_ref(&tx), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let id = result(&body).as_str().unwrap().to_string();
    // Sending the same bundle again keeps its landed state.
    let (status, again) = send_bundle(&svc, now, std::slice::from_ref(&tx), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result(&again), id.as_str());
    assert!(matches!(
        svc.bundle(&id).unwrap().state,
        BundleState::Landed { .. }
    ));
    {
        let c = chain.lock();
        assert_eq!(
            c.balance(&tip) - c.minimum_balance_for_rent_exemption(0),
            5_000
        );
    }

    tokio::time::advance(Duration::from_millis(400 * 151)).await;
    let later = Instant::now();
    let stale = transfer_tx(&a, &tip, 6_000, bh);
    let (status, body) = send_bundle(&svc, later, &[stale], json!({})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the real engine answers an id first"
    );
    let id = result(&body).as_str().unwrap().to_string();
    assert_eq!(
        svc.bundle(&id).unwrap().state,
        BundleState::Rejected(BundleRejection::Transaction {
            index: 0,
            error: TransactionError::BlockhashNotFound
        })
    );
    let v = rpc_at(
        &svc,
        BUNDLES,
        later,
        "getInflightBundleStatuses",
        json!([[id, "unknown"]]),
    )
    .await;
    assert_eq!(result(&v)["value"][0]["status"], "Invalid");
    assert_eq!(result(&v)["value"][1]["status"], "Invalid");
}

#[tokio::test(start_paused = true)]
async fn tip_accounts_statuses_limits_and_routes() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let v = rpc_at(&svc, BUNDLES, now, "getTipAccounts", json!([])).await;
    let tips: Vec<String> = chain
        .lock()
        .tip_accounts()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(result(&v), &json!(tips));
    assert_eq!(tips.len(), 8);
    assert!(tips.contains(&"96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5".to_string()));

    let ids: Vec<String> = (0..6).map(|i| format!("{i}")).collect();
    let (status, _, body) = send(
        &svc,
        post(BUNDLES, &request("getBundleStatuses", json!([ids]))),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).0, -32602);

    let (status, _, body) = send(
        &svc,
        post(BUNDLES, &request("sendTransaction", json!(["x"]))),
        now,
    )
    .await;
    assert_eq!((status, error(&body).0), (StatusCode::BAD_REQUEST, -32601));
    let (status, _, body) = send(
        &svc,
        post(TRANSACTIONS, &request("sendBundle", json!([[]]))),
        now,
    )
    .await;
    assert_eq!((status, error(&body).0), (StatusCode::BAD_REQUEST, -32601));
    let (status, _, _) = send(
        &svc,
        post("/api/v1/nope", &request("getTipAccounts", json!([]))),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let get = Request::get(BUNDLES).body(Bytes::new()).unwrap();
    assert_eq!(send(&svc, get, now).await.0, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, body) = send(
        &svc,
        Request::post(BUNDLES)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Bytes::from_static(b"{oops"))
            .unwrap(),
        now,
    )
    .await;
    assert_eq!((status, error(&body).0), (StatusCode::BAD_REQUEST, -32700));
}

#[tokio::test(start_paused = true)]
async fn send_transaction_answers_the_signature_and_the_bundle_id() {
    let (svc, chain, now) = engine(JitoConfig::default());
    let (a, tip, bh) = {
        let mut c = chain.lock();
        let bh = blockhash(&mut c, now);
        (c.users()[0].insecure_clone(), c.tip_accounts()[4], bh)
    };
    // Through the RPC path a transaction without a tip still lands.
    let to = Pubkey::new_unique();
    let tx = transfer_tx(&a, &to, 3_000_000, bh);
    let (status, headers, body) = send(
        &svc,
        post(
            TRANSACTIONS,
            &request("sendTransaction", json!([b64(&tx), {"encoding": "base64"}])),
        ),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result(&body), tx.signatures[0].to_string().as_str());
    assert_eq!(
        headers["x-bundle-id"],
        bundle_id(&[tx.signatures[0]]).as_str()
    );
    assert_eq!(chain.lock().balance(&to), 3_000_000);
    assert_eq!(
        chain
            .lock()
            .transaction(&tx.signatures[0])
            .unwrap()
            .origin
            .via,
        Via::JitoTransaction
    );

    // bundleOnly: it must win the auction, so it must tip.
    let untipped = transfer_tx(&a, &to, 4_000_000, bh);
    let path = format!("{TRANSACTIONS}?bundleOnly=true");
    let (status, _, body) = send(
        &svc,
        post(&path, &request("sendTransaction", json!([b58(&untipped)]))),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result(&body), untipped.signatures[0].to_string().as_str());
    assert_eq!(chain.lock().balance(&to), 3_000_000, "not landed");
    let tipped = legacy_tx(
        &a,
        &[
            solana_system_interface::instruction::transfer(&a.pubkey(), &to, 4_000_000),
            solana_system_interface::instruction::transfer(&a.pubkey(), &tip, 2_000),
        ],
        bh,
    );
    let (status, headers, _) = send(
        &svc,
        post(&path, &request("sendTransaction", json!([b58(&tipped)]))),
        now,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = headers["x-bundle-id"].to_str().unwrap().to_string();
    assert!(matches!(
        svc.bundle(&id).unwrap().state,
        BundleState::Landed { .. }
    ));
    assert_eq!(chain.lock().balance(&to), 7_000_000);

    let (status, _, body) = send(
        &svc,
        post(TRANSACTIONS, &request("sendTransaction", json!(["%%"]))),
        now,
    )
    .await;
    assert_eq!((status, error(&body).0), (StatusCode::BAD_REQUEST, -32602));
}

#[tokio::test(start_paused = true)]
async fn the_uuid_is_the_api_key_and_can_be_required() {
    let auth = JitoAuthConfig {
        required: true,
        uuids: vec!["5a1b-known".to_string()],
    };
    let (svc, _, now) = engine(JitoConfig {
        auth,
        ..JitoConfig::default()
    });
    let with_query = post(
        &format!("{BUNDLES}?uuid=5a1b-known"),
        &request("getTipAccounts", json!([])),
    );
    assert_eq!(svc.api_key(&with_query).as_deref(), Some("5a1b-known"));
    let (status, _, body) = send(&svc, with_query, now).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut with_header = post(BUNDLES, &request("getTipAccounts", json!([])));
    with_header
        .headers_mut()
        .insert("x-jito-auth", "5a1b-known".parse().unwrap());
    assert_eq!(svc.api_key(&with_header).as_deref(), Some("5a1b-known"));
    assert_eq!(send(&svc, with_header, now).await.0, StatusCode::OK);

    let unknown = post(
        &format!("{BUNDLES}?uuid=stranger"),
        &request("getTipAccounts", json!([])),
    );
    assert_eq!(svc.api_key(&unknown).as_deref(), Some("stranger"));
    let (status, _, body) = send(&svc, unknown, now).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&body).0, galileo_sim::jito::UNAUTHORIZED_CODE);
    let anonymous = post(BUNDLES, &request("getTipAccounts", json!([])));
    assert_eq!(svc.api_key(&anonymous), None);
    assert_eq!(send(&svc, anonymous, now).await.0, StatusCode::UNAUTHORIZED);

    // The public engine takes anyone.
    let (open, _, now) = engine(JitoConfig::default());
    assert_eq!(
        send(
            &open,
            post(BUNDLES, &request("getTipAccounts", json!([]))),
            now
        )
        .await
        .0,
        StatusCode::OK
    );
}
