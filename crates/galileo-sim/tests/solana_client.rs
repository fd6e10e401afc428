//! The stock `solana-client` `RpcClient` against the RPC service over a real socket: a second,
//! independent implementation of the wire format. Real time: the client sleeps 500 ms between
//! confirmation polls, and a slot is 400 ms.

mod chain_support;

use std::net::{IpAddr, Ipv4Addr};

use chain_support::*;
use galileo_sim::chain::{Via, associated_token_address};
use galileo_sim::solana::{SolanaRpc, SolanaRpcConfig};
use galileo_sim::{Sandbox, ServiceConfig};
use solana_client::client_error::ClientErrorKind;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_client::rpc_config::CommitmentConfig;
use solana_client::rpc_request::RpcError;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_transfer_sent_through_rpc_client_lands_and_moves_balances() {
    let (chain, _) = shared();
    let svc = SolanaRpc::new(chain.clone(), SolanaRpcConfig::default());
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let sandbox = Sandbox::builder()
        .service(svc, ServiceConfig::default())
        .start()
        .unwrap();
    let url = sandbox.service("solana").unwrap().url();
    let client = RpcClient::new_with_commitment(url, CommitmentConfig::confirmed());

    let version = client.get_version().await.unwrap();
    assert_eq!(version.solana_core, "3.1.14");

    let (from, sol) = {
        let c = chain.lock();
        (
            c.users()[0].insecure_clone(),
            c.mint("SOL").unwrap().address,
        )
    };
    let to = Keypair::new().pubkey();
    let before = client.get_balance(&from.pubkey()).await.unwrap();
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx = transfer_tx(&from, &to, 1_234_567, blockhash);
    let sig = client.send_and_confirm_transaction(&tx).await.unwrap();
    assert_eq!(sig, tx.signatures[0]);

    assert_eq!(client.get_balance(&to).await.unwrap(), 1_234_567);
    assert_eq!(
        client.get_balance(&from.pubkey()).await.unwrap(),
        before - 1_234_567 - 5_000
    );
    {
        let c = chain.lock();
        let rec = c.transaction(&sig).unwrap();
        assert_eq!(rec.origin.via, Via::Rpc);
        assert_eq!(rec.origin.peer, Some(ip), "the TCP peer is recorded");
    }
    let status = client.get_signature_status(&sig).await.unwrap();
    assert_eq!(status, Some(Ok(())));

    // The stock client reads accounts in base64+zstd and token balances in its own types.
    let table = chain.lock().lookup_table();
    let account = client.get_account(&table).await.unwrap();
    assert_eq!(account.data, chain.lock().account(&table).unwrap().data);
    let ata = associated_token_address(&from.pubkey(), &sol);
    let balance = client.get_token_account_balance(&ata).await.unwrap();
    assert_eq!(
        balance.amount,
        chain.lock().token_balance(&ata).unwrap().amount.to_string()
    );
    assert_eq!(balance.decimals, 9);
    let many = client
        .get_multiple_accounts(&[table, Pubkey::new_unique(), ata])
        .await
        .unwrap();
    assert!(many[0].is_some() && many[1].is_none() && many[2].is_some());

    // A bad signature is refused by preflight with the validator's error.
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let bad = corrupt(&transfer_tx(&from, &to, 1, blockhash));
    let err = client.send_transaction(&bad).await.unwrap_err();
    match err.kind() {
        ClientErrorKind::RpcError(RpcError::RpcResponseError { code, message, .. }) => {
            assert_eq!(*code, -32003);
            assert_eq!(message, "Transaction signature verification failure");
        }
        other => panic!("unexpected {other:?}"),
    }
    // A duplicate is a preflight failure the client parses (AlreadyProcessed).
    let err = client.send_transaction(&tx).await.unwrap_err();
    match err.kind() {
        ClientErrorKind::RpcError(RpcError::RpcResponseError { code, data, .. }) => {
            assert_eq!(*code, -32002);
            assert!(format!("{data:?}").contains("AlreadyProcessed"), "{data:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let sim = client
        .simulate_transaction(&transfer_tx(&from, &to, 2, blockhash))
        .await
        .unwrap();
    assert!(sim.value.err.is_none(), "{:?}", sim.value);
    assert!(sim.value.units_consumed.unwrap() > 0);
}
