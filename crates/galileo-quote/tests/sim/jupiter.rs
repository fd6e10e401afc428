//! The Jupiter client against galileo-sim's Jupiter over loopback: requests leave from the
//! leased IP, the instructions it decodes execute on the simulated chain, and a merged
//! circular quote is accepted.

use std::net::IpAddr;

use crate::support::{JUP, Net, SOL, balance, key, land, sim, url, v0_tx};
use galileo_net::HttpClient;
use galileo_quote::jupiter::{JupiterClient, JupiterConfig, merge_round_trip};
use galileo_quote::{Leg, QuoteRequest, QuoteSource, Quoted};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

fn client<C: HttpClient>(base: &str, http: C) -> JupiterClient<C> {
    let cfg = JupiterConfig {
        quote_url: format!("{base}/swap/v1/quote"),
        swap_instructions_url: format!("{base}/swap/v1/swap-instructions"),
        swap_url: Some(format!("{base}/swap/v1/swap")),
        slippage_bps: 50,
        max_accounts: Some(28),
        ..JupiterConfig::default()
    };
    JupiterClient::new(cfg, http).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_and_instructions_leave_from_the_leased_ip_and_execute_as_quoted() {
    let app = sim("[services.jupiter]");
    let net = Net::new(&["127.0.0.2", "127.0.0.3"], "");
    let jupiter = client(&url(&app, "jupiter"), net.http.clone());
    let user = app.world().users()[0].insecure_clone();
    let lease = net.lease("127.0.0.3", 2).await;

    let request = QuoteRequest::new(key(SOL), key(JUP), 2_000_000_000, Leg::Buy);
    let q = jupiter.quote(&lease, &request).await.unwrap();
    assert_eq!(
        (q.in_amount(), q.input_mint(), q.output_mint()),
        (2_000_000_000, key(SOL), key(JUP))
    );
    assert_eq!(q.slippage_bps, 50);
    assert_eq!(q.min_out_amount(), q.out_amount() * 9_950 / 10_000);
    let served = app.jupiter().unwrap().quotes();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].peer, "127.0.0.3".parse::<IpAddr>().unwrap());
    assert_eq!(served[0].out_amount, q.out_amount);
    assert_eq!(Some(served[0].context_slot), q.context_slot());

    let set = jupiter
        .swap_instructions(&lease, &q, &user.pubkey())
        .await
        .unwrap();
    assert!(
        set.swap_instruction
            .accounts
            .iter()
            .any(|a| a.pubkey == user.pubkey() && a.is_signer)
    );
    assert!(!set.address_lookup_table_addresses.is_empty());
    assert!(set.compute_unit_limit.is_some());

    // The sim saw both requests from 127.0.0.3 and nothing from the other IP, with the
    // parameters in the reference order.
    let stats = app.sandbox().service("jupiter").unwrap().stats();
    let (leased, other) = ("127.0.0.3".parse().unwrap(), "127.0.0.2".parse().unwrap());
    assert_eq!(stats.ip(leased).requests, 2);
    assert_eq!(stats.ip(leased).status(200), 2);
    assert_eq!(stats.ip(other).requests, 0);
    let paths: Vec<&str> = stats.recent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!(
                "/swap/v1/quote?inputMint={SOL}&outputMint={JUP}&amount=2000000000\
                 &swapMode=ExactIn&slippageBps=50&maxAccounts=28"
            )
            .as_str(),
            "/swap/v1/swap-instructions"
        ]
    );

    // The decoded instructions, signed with the blockhash Jupiter gave, execute on the chain
    // and move exactly the quoted amounts.
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
    let landed = land(&app, tx, leased);
    assert_eq!(landed.failure, None);
    assert_eq!(sol0 - balance(&app, &user.pubkey(), SOL), q.in_amount);
    assert_eq!(balance(&app, &user.pubkey(), JUP) - jup0, q.out_amount);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_circular_quote_is_accepted_and_its_instructions_land() {
    let app = sim("[services.jupiter]");
    let net = Net::new(&["127.0.0.4"], "");
    let jupiter = client(&url(&app, "jupiter"), net.http.clone());
    let user = app.world().users()[1].insecure_clone();
    let lease = net.lease("127.0.0.4", 3).await;

    let buy = jupiter
        .quote(
            &lease,
            &QuoteRequest::new(key(SOL), key(JUP), 1_000_000_000, Leg::Buy),
        )
        .await
        .unwrap();
    let sell = jupiter
        .quote(
            &lease,
            &QuoteRequest::new(key(JUP), key(SOL), buy.out_amount, Leg::Sell),
        )
        .await
        .unwrap();
    assert_eq!(sell.in_amount, buy.out_amount);
    let merged = merge_round_trip(&buy, &sell, sell.out_amount);
    let set = jupiter
        .swap_instructions(&lease, &merged, &user.pubkey())
        .await
        .unwrap();

    // The simulator read the circular quote: one ledger swap per step, buy then sell.
    let served = app.jupiter().unwrap().instructions();
    let legs = &served.last().unwrap().legs;
    assert_eq!(legs.len(), 2);
    assert_eq!(
        (legs[0].input_mint, legs[0].output_mint),
        (key(SOL), key(JUP))
    );
    assert_eq!(
        (legs[1].input_mint, legs[1].output_mint),
        (key(JUP), key(SOL))
    );
    assert_eq!(
        (legs[0].in_amount, legs[1].in_amount),
        (buy.in_amount, sell.in_amount)
    );
    assert_eq!(set.other_instructions.len(), 1, "the second leg's swap");

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
    assert_eq!(land(&app, tx, "127.0.0.4".parse().unwrap()).failure, None);
    let sol1 = balance(&app, &user.pubkey(), SOL);
    assert_eq!(
        i128::from(sol1) - i128::from(sol0),
        i128::from(sell.out_amount) - i128::from(buy.in_amount)
    );
    assert_eq!(
        balance(&app, &user.pubkey(), JUP),
        jup0,
        "round trip: JUP unchanged"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swap_returns_an_unsigned_transaction_for_the_user() {
    let app = sim("[services.jupiter]");
    let net = Net::new(&["127.0.0.5"], "");
    let jupiter = client(&url(&app, "jupiter"), net.http.clone());
    let user = app.world().users()[2].insecure_clone();
    let lease = net.lease("127.0.0.5", 2).await;
    let q = jupiter
        .quote(
            &lease,
            &QuoteRequest::new(key(SOL), key(JUP), 500_000_000, Leg::Buy),
        )
        .await
        .unwrap();
    let swap = jupiter.swap(&lease, &q, &user.pubkey()).await.unwrap();
    assert!(swap.last_valid_block_height > 0);
    let tx: VersionedTransaction = bincode::deserialize(&swap.transaction).unwrap();
    assert_eq!(
        tx.message.static_account_keys()[0],
        user.pubkey(),
        "paid by the user"
    );
    assert!(
        tx.signatures.iter().all(|s| *s == Default::default()),
        "unsigned"
    );
    assert!(
        app.jupiter()
            .unwrap()
            .instructions()
            .last()
            .unwrap()
            .transaction
    );
    // Signed, it lands and moves the quoted amounts.
    let (sol0, jup0) = (
        balance(&app, &user.pubkey(), SOL),
        balance(&app, &user.pubkey(), JUP),
    );
    let signed = VersionedTransaction::try_new(tx.message, &[&user]).unwrap();
    assert_eq!(
        land(&app, signed, "127.0.0.5".parse().unwrap()).failure,
        None
    );
    assert_eq!(sol0 - balance(&app, &user.pubkey(), SOL), q.in_amount);
    assert_eq!(balance(&app, &user.pubkey(), JUP) - jup0, q.out_amount);

    // Without a swap URL, `swap` says what to set.
    let bare = JupiterClient::new(
        JupiterConfig {
            swap_url: None,
            ..jupiter.config().clone()
        },
        net.http.clone(),
    )
    .unwrap();
    let e = bare.swap(&lease, &q, &user.pubkey()).await.unwrap_err();
    assert!(e.is_config() && e.to_string().contains("swap_url"), "{e}");
    app.shutdown().await;
}
