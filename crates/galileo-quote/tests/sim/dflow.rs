//! The DFlow client against galileo-sim's DFlow over loopback: the leased IP, the API key
//! header, the recomputed thresholds, instructions that execute, a merged circular quote, and
//! `failed_to_compute_swap` as "no route".

use std::net::IpAddr;

use crate::support::{JUP, Net, SOL, balance, key, land, sim, url, v0_tx};
use galileo_quote::dflow::{DflowClient, DflowConfig, merge_round_trip};
use galileo_quote::{ApiKey, Leg, QuoteError, QuoteRequest, QuoteSource, Quoted};
use solana_signer::Signer;

const KEY: &str = "dflow-test-key-0001";

fn config(base: &str) -> DflowConfig {
    DflowConfig {
        base_url: format!("{base}/"),
        api_key: Some(ApiKey::new(KEY)),
        slippage_bps: 30,
        max_route_length: Some(3),
        exclude_dexes: vec!["Meteora DLMM".into()],
        ..DflowConfig::default()
    }
}

fn with_keys() -> galileo_sim::app::App {
    sim(&format!("[services.dflow]\n[dflow]\napi_keys = [{KEY:?}]"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_and_instructions_from_the_leased_ip_with_the_key_execute_as_quoted() {
    let app = with_keys();
    let net = Net::new(&["127.0.0.2", "127.0.0.3"], "");
    let dflow = DflowClient::new(config(&url(&app, "dflow")), net.http.clone()).unwrap();
    let user = app.world().users()[0].insecure_clone();
    let lease = net.lease("127.0.0.2", 2).await;

    let q = dflow
        .quote(
            &lease,
            &QuoteRequest::new(key(SOL), key(JUP), 2_000_000_000, Leg::Buy),
        )
        .await
        .unwrap();
    assert_eq!((q.in_amount(), q.output_mint()), (2_000_000_000, key(JUP)));
    assert_ne!(
        q.route_plan[0].venue, "Meteora DLMM",
        "excludeDexes honoured"
    );
    // Thresholds recomputed with the configured slippage (the sim also used 30, as sent).
    assert_eq!(q.slippage_bps, 30);
    let floor = q.out_amount * 9_970 / 10_000;
    assert_eq!((q.min_out_amount, q.other_amount_threshold), (floor, floor));
    assert_eq!(
        q.context_slot(),
        Some(app.dflow().unwrap().quotes()[0].context_slot)
    );

    let set = dflow
        .swap_instructions(&lease, &q, &user.pubkey())
        .await
        .unwrap();
    let bh = set
        .blockhash
        .expect("DFlow always sends blockhashWithMetadata");
    assert!(set.compute_unit_limit.is_some());
    let data = &set.swap_instruction.data;
    assert_eq!(
        &data[data.len() - 4..data.len() - 2],
        &30u16.to_le_bytes(),
        "slippage patched by the sim from our quote"
    );

    let stats = app.sandbox().service("dflow").unwrap().stats();
    let leased: IpAddr = "127.0.0.2".parse().unwrap();
    assert_eq!(stats.ip(leased).status(200), 2);
    assert_eq!(stats.ip("127.0.0.3".parse().unwrap()).requests, 0);
    assert_eq!(stats.key(KEY).requests, 2, "both counted against our key");
    assert_eq!(
        stats.recent[0].path,
        format!(
            "/quote?inputMint={SOL}&outputMint={JUP}&amount=2000000000&slippageBps=30\
             &excludeDexes=Meteora+DLMM&maxRouteLength=3"
        )
    );

    let (sol0, jup0) = (
        balance(&app, &user.pubkey(), SOL),
        balance(&app, &user.pubkey(), JUP),
    );
    let tx = v0_tx(&app, &user, &set.flatten(), bh.blockhash);
    assert_eq!(land(&app, tx, leased).failure, None);
    assert_eq!(sol0 - balance(&app, &user.pubkey(), SOL), q.in_amount);
    assert_eq!(balance(&app, &user.pubkey(), JUP) - jup0, q.out_amount);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_circular_quote_is_accepted() {
    let app = with_keys();
    let net = Net::new(&["127.0.0.6"], "");
    let dflow = DflowClient::new(config(&url(&app, "dflow")), net.http.clone()).unwrap();
    let user = app.world().users()[1].insecure_clone();
    let lease = net.lease("127.0.0.6", 3).await;
    let buy = dflow
        .quote(
            &lease,
            &QuoteRequest::new(key(SOL), key(JUP), 1_000_000_000, Leg::Buy),
        )
        .await
        .unwrap();
    let sell = dflow
        .quote(
            &lease,
            &QuoteRequest::new(key(JUP), key(SOL), buy.out_amount, Leg::Sell),
        )
        .await
        .unwrap();
    let merged = merge_round_trip(&buy, &sell, sell.out_amount);
    let set = dflow
        .swap_instructions(&lease, &merged, &user.pubkey())
        .await
        .unwrap();
    let legs = &app
        .dflow()
        .unwrap()
        .instructions()
        .last()
        .unwrap()
        .legs
        .clone();
    assert_eq!(legs.len(), 2);
    assert_eq!(
        (legs[0].input_mint, legs[1].output_mint),
        (key(SOL), key(SOL))
    );
    assert_eq!(legs[1].in_amount, buy.out_amount);
    let (sol0, jup0) = (
        balance(&app, &user.pubkey(), SOL),
        balance(&app, &user.pubkey(), JUP),
    );
    let tx = v0_tx(
        &app,
        &user,
        &set.flatten(),
        set.blockhash.unwrap().blockhash,
    );
    assert_eq!(land(&app, tx, "127.0.0.6".parse().unwrap()).failure, None);
    assert_eq!(
        i128::from(balance(&app, &user.pubkey(), SOL)) - i128::from(sol0),
        i128::from(sell.out_amount) - i128::from(buy.in_amount)
    );
    assert_eq!(balance(&app, &user.pubkey(), JUP), jup0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_to_compute_swap_is_no_route_not_a_provider_failure() {
    let app = with_keys();
    let net = Net::new(&["127.0.0.7"], "");
    let dflow = DflowClient::new(config(&url(&app, "dflow")), net.http.clone()).unwrap();
    let user = app.world().users()[0].pubkey();
    let lease = net.lease("127.0.0.7", 2).await;
    let q = dflow
        .quote(
            &lease,
            &QuoteRequest::new(key(SOL), key(JUP), 1_000_000, Leg::Buy),
        )
        .await
        .unwrap();
    app.dflow().unwrap().set_failed_to_compute(true);
    let e = dflow
        .swap_instructions(&lease, &q, &user)
        .await
        .unwrap_err();
    assert!(e.is_no_route(), "{e:?}");
    assert!(!e.is_provider_failure() && !e.is_retryable());
    assert!(
        matches!(&e, QuoteError::NoRoute { backend, message } if backend == "dflow" && message == "Failed to compute swap")
    );
    assert_eq!(e.label(), "no_route");
    // The sim answered 500; the IP does not rest for it.
    let stats = app.sandbox().service("dflow").unwrap().stats();
    assert_eq!(stats.ip("127.0.0.7".parse().unwrap()).status(500), 1);
    drop(lease);
    let snap = &net.allocator.snapshot()[0];
    assert_eq!(snap.cooldown_remaining, None);
    app.shutdown().await;
}
