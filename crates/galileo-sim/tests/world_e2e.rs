//! The whole simulator as a bot meets it: one world (market + chain), the services started by
//! `App` on real sockets, and the stock `solana-client` `RpcClient` (an independent
//! implementation of the wire). Real time: the client polls for confirmations.

mod chain_support;
mod support;

use bytes::Bytes;
use chain_support::{b58, table, transfer_tx, v0_tx};
use galileo_sim::app::{App, SimConfig};
use galileo_sim::chain::{Via, associated_token_address};
use galileo_sim::config::{BucketConfig, LimitsConfig, ServiceConfig};
use galileo_sim::titan::RouteInstructions;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_client::rpc_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_signer::Signer;
use support::{Answer, http1, ip};
use tokio::time::Instant;

const JUP: &str = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN";
const SOL: &str = "So11111111111111111111111111111111111111112";

fn client(app: &App) -> RpcClient {
    let url = app.sandbox().service("solana").unwrap().url();
    RpcClient::new_with_commitment(url, CommitmentConfig::confirmed())
}

async fn post(app: &App, service: &str, path: &str, body: &Value) -> Answer {
    let addr = app.sandbox().service(service).unwrap().addr();
    let req = Request::post(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap())))
        .unwrap();
    http1(ip("127.0.0.1"), addr, req).await.unwrap()
}

fn call(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_through_rpc_client_lands_and_moves_balances() {
    let app = App::start(SimConfig::all_services()).unwrap();
    let rpc = client(&app);
    let from = app.world().users()[0].insecure_clone();
    let to = Keypair::new().pubkey();
    let before = rpc.get_balance(&from.pubkey()).await.unwrap();

    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx = transfer_tx(&from, &to, 5_000_000, blockhash);
    let sig = rpc.send_and_confirm_transaction(&tx).await.unwrap();

    assert_eq!(rpc.get_balance(&to).await.unwrap(), 5_000_000);
    let after = rpc.get_balance(&from.pubkey()).await.unwrap();
    assert_eq!(
        before - after,
        5_000_000 + 5_000,
        "the amount and one signature's fee"
    );
    let chain = app.world().chain().lock();
    let landed = chain.transaction(&sig).expect("recorded");
    assert_eq!(landed.origin.peer, Some(ip("127.0.0.1")));
    assert!(
        matches!(landed.origin.via, Via::Rpc),
        "{:?}",
        landed.origin.via
    );
    drop(chain);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quoted_round_trip_lands_moves_the_quoted_amounts_and_closes_its_dislocation() {
    let app = App::start(SimConfig::all_services()).unwrap();
    let world = app.world().clone();
    let user = world.users()[1].insecure_clone();
    let now = Instant::now();

    // JUP 3% cheaper at one venue: buying it there and selling it elsewhere pays.
    let (trip, dislocation, sol, jup) = {
        let mut m = world.market().write();
        let (sol, jup) = (m.mint(SOL).unwrap(), m.mint(JUP).unwrap());
        let venue = m.venue("SolFiV2").unwrap();
        let d = m.open_dislocation(venue, jup, -300, None, now).unwrap();
        let trip = m
            .best_round_trip(sol, jup, 1_000_000_000, now, |_, _| true)
            .unwrap();
        assert_eq!(trip.forward.venue, venue, "the cheap venue sells JUP");
        assert!(trip.profit() > 0, "{trip:?}");
        let addr = |id| m.mint_info(id).address();
        (trip, d, addr(sol), addr(jup))
    };

    // The quoting services' view of the chain builds the instructions.
    let ledger = world.ledger();
    let name = |v| world.market().read().venue_info(v).name().to_owned();
    let mut ixs = ledger
        .swap_instructions(
            &user.pubkey(),
            &name(trip.forward.venue),
            &sol,
            &jup,
            trip.forward.in_amount,
            trip.forward.out_amount,
        )
        .unwrap();
    ixs.extend(
        ledger
            .swap_instructions(
                &user.pubkey(),
                &name(trip.reverse.venue),
                &jup,
                &sol,
                trip.reverse.in_amount,
                trip.reverse.out_amount,
            )
            .unwrap(),
    );
    assert_eq!(
        ledger.lookup_tables(),
        vec![world.chain().lock().lookup_table()]
    );

    let rpc = client(&app);
    let sol_ata = associated_token_address(&user.pubkey(), &sol);
    let jup_ata = associated_token_address(&user.pubkey(), &jup);
    let amount = |a| {
        let rpc = &rpc;
        async move {
            rpc.get_token_account_balance(&a)
                .await
                .unwrap()
                .amount
                .parse::<u64>()
                .unwrap()
        }
    };
    let (sol_before, jup_before) = (amount(sol_ata).await, amount(jup_ata).await);

    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let alt = table(&world.chain().lock());
    let tx = v0_tx(&user, &ixs, &[alt], blockhash);
    rpc.send_and_confirm_transaction(&tx).await.unwrap();

    let profit = u64::try_from(trip.profit()).unwrap();
    assert_eq!(amount(sol_ata).await, sol_before + profit);
    assert_eq!(
        amount(jup_ata).await,
        jup_before,
        "JUP bought and sold in full"
    );
    let open = world.market().read().open_dislocations(Instant::now());
    assert!(
        open.iter().all(|d| d.id != dislocation),
        "the landed trade closed the dislocation: {open:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_with_a_failing_transaction_changes_nothing_and_tip_payers_are_paced() {
    let mut cfg = SimConfig::all_services();
    cfg.jito.tip_payer_limit = Some(BucketConfig {
        rate: 0.01,
        burst: 1,
    });
    let app = App::start(cfg).unwrap();
    let users = app.world().users();
    let (a, b) = (&users[2], &users[3]);
    let rpc = client(&app);
    let tip = app.world().chain().lock().tip_accounts()[3];
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let dest = Keypair::new().pubkey();
    let balances = || async {
        let mut v = Vec::new();
        for k in [a.pubkey(), b.pubkey(), tip, dest] {
            v.push(rpc.get_balance(&k).await.unwrap());
        }
        v
    };
    let before = balances().await;

    // Tip, a good transfer, then one that cannot pay: all or nothing.
    let bundle = [
        transfer_tx(a, &tip, 10_000, blockhash),
        transfer_tx(a, &dest, 2_000_000, blockhash),
        transfer_tx(b, &dest, u64::MAX / 2, blockhash),
    ];
    let encoded: Vec<String> = bundle.iter().map(b58).collect();
    let r = post(
        &app,
        "jito",
        "/api/v1/bundles",
        &call("sendBundle", json!([encoded])),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let id = r.json()["result"].as_str().unwrap().to_owned();
    let r = post(
        &app,
        "jito",
        "/api/v1/bundles",
        &call("getBundleStatuses", json!([[id]])),
    )
    .await;
    assert_eq!(
        r.json()["result"]["value"][0],
        Value::Null,
        "it never landed"
    );
    assert_eq!(balances().await, before, "nothing moved");

    // The same payer again within its pace: 429 in the engine's JSON-RPC shape.
    let paid = [transfer_tx(a, &tip, 20_000, blockhash)];
    let encoded: Vec<String> = paid.iter().map(b58).collect();
    let r = post(
        &app,
        "jito",
        "/api/v1/bundles",
        &call("sendBundle", json!([encoded])),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.json()["error"]["code"], -32097);
    assert!(
        r.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Another payer has its own bucket, and its tipped bundle lands.
    let other = [transfer_tx(b, &tip, 30_000, blockhash)];
    let encoded: Vec<String> = other.iter().map(b58).collect();
    let r = post(
        &app,
        "jito",
        "/api/v1/bundles",
        &call("sendBundle", json!([encoded])),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(rpc.get_balance(&tip).await.unwrap(), before[2] + 30_000);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cores_refusals_come_in_json_rpc_shape() {
    let mut cfg = SimConfig::default();
    cfg.services.solana = Some(ServiceConfig {
        limits: LimitsConfig {
            per_ip: Some(BucketConfig {
                rate: 0.01,
                burst: 1,
            }),
            ..LimitsConfig::default()
        },
        ..ServiceConfig::default()
    });
    let app = App::start(cfg).unwrap();
    assert_eq!(
        app.endpoints().len(),
        1,
        "only what the config enables runs"
    );
    let ok = post(&app, "solana", "/", &call("getHealth", json!([]))).await;
    assert_eq!(ok.json()["result"], "ok");
    let limited = post(&app, "solana", "/", &call("getHealth", json!([]))).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let v = limited.json();
    assert_eq!(
        (v["jsonrpc"].as_str(), v["error"]["code"].as_i64()),
        (Some("2.0"), Some(429))
    );
    assert!(limited.headers.contains_key("retry-after"));
    app.shutdown().await;
}

#[test]
fn the_config_file_names_its_mistakes() {
    let e = SimConfig::parse("[services.solana]\nprot = 8899\n", "sim.toml").unwrap_err();
    assert!(e.is_config());
    assert!(e.to_string().contains("prot"), "{e}");
    let e = SimConfig::parse("[servics.solana]\n", "sim.toml").unwrap_err();
    assert!(e.to_string().contains("servics"), "{e}");
    let cfg = SimConfig::parse(
        "seed = 9\n[services.jito]\nport = 0\n[jito]\ntip_payer_limit = { rate = 5.0, burst = 5 }\n",
        "sim.toml",
    )
    .unwrap();
    assert_eq!(cfg.seed, Some(9));
    assert!(cfg.services.jito.is_some() && cfg.services.solana.is_none());
    assert_eq!(cfg.jito.tip_payer_limit.map(|b| b.burst), Some(5));

    // A [chain] section without venues: the chain's venues are exactly the market's.
    let cfg = SimConfig::parse(
        "[chain.users]\ncount = 2\n[jito.auth]\nuuids = [\"uuid-secret-1\"]\n",
        "sim.toml",
    )
    .unwrap();
    let (market, chain) = cfg.world().resolve().unwrap();
    let names = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(chain.venues.iter().map(|v| &v.name).collect()),
        names(market.venues.iter().map(|v| &v.name).collect())
    );
    assert!(
        !format!("{cfg:?}").contains("uuid-secret-1"),
        "uuids stay out of Debug"
    );
    // Impossible paces are refused when the app starts.
    let mut bad = SimConfig::default();
    bad.jito.tip_payer_limit = Some(BucketConfig {
        rate: 1.0,
        burst: 0,
    });
    assert!(
        bad.jito
            .validate()
            .unwrap_err()
            .to_string()
            .contains("tip_payer_limit")
    );
}

#[test]
fn the_documented_file_parses_and_builds_its_world() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/sim.md")).unwrap();
    let start = doc
        .find("The file (every section optional")
        .expect("the section");
    let block = doc[start..].split("```toml\n").nth(1).unwrap();
    let toml = block.split("```").next().unwrap();
    let cfg = SimConfig::parse(toml, "docs/sim.md").unwrap();
    assert_eq!(cfg.seed, Some(7));
    let s = &cfg.services;
    for (name, on) in [
        ("solana", s.solana.is_some()),
        ("solana_staked", s.solana_staked.is_some()),
        ("jito", s.jito.is_some()),
        ("titan", s.titan.is_some()),
        ("jupiter", s.jupiter.is_some()),
        ("ultra", s.ultra.is_some()),
        ("dflow", s.dflow.is_some()),
    ] {
        assert!(on, "{name} is enabled in the example");
    }
    let world = galileo_sim::world::World::new(cfg.world(), Instant::now()).unwrap();
    assert_eq!(world.users().len(), 8);
}
