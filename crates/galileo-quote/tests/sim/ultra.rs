//! The Ultra client against galileo-sim's Ultra over loopback: an order for the taker, signed
//! by the taker's key, lands through `/execute`; orders without a usable transaction say why.

use std::net::IpAddr;

use crate::support::{JUP, Net, SOL, balance, key, sim, url};
use galileo_quote::ultra::{ExecuteStatus, UltraClient, UltraConfig};
use galileo_quote::{Leg, QuoteError, QuoteRequest, QuoteSource, Quoted};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

fn client(
    base: &str,
    taker: Option<solana_pubkey::Pubkey>,
    http: galileo_net::BoundHttpClient,
) -> UltraClient<galileo_net::BoundHttpClient> {
    let cfg = UltraConfig {
        base_url: format!("{base}/ultra/v1/"), // the trailing slash is dropped
        taker,
        exclude_routers: vec!["okx".into()],
        ..UltraConfig::default()
    };
    UltraClient::new(cfg, http).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_for_the_taker_signed_by_its_key_lands_through_execute() {
    let app = sim("[services.ultra]");
    let net = Net::new(&["127.0.0.2", "127.0.0.3"], "");
    let user = app.world().users()[3].insecure_clone();
    let ultra = client(&url(&app, "ultra"), Some(user.pubkey()), net.http.clone());
    let lease = net.lease("127.0.0.3", 2).await;

    let order = ultra
        .quote(
            &lease,
            &QuoteRequest::new(key(SOL), key(JUP), 1_000_000_000, Leg::Buy),
        )
        .await
        .unwrap();
    assert_eq!(
        (order.in_amount(), order.output_mint()),
        (1_000_000_000, key(JUP))
    );
    assert_eq!(order.taker, Some(user.pubkey()));
    let served = app.ultra().unwrap().orders();
    assert_eq!(served[0].quote.peer, "127.0.0.3".parse::<IpAddr>().unwrap());

    // Swap instructions: no request, the order's own transaction.
    let before = app
        .sandbox()
        .service("ultra")
        .unwrap()
        .stats()
        .total
        .requests;
    let unsigned = ultra
        .swap_instructions(&lease, &order, &user.pubkey())
        .await
        .unwrap();
    assert_eq!(
        app.sandbox()
            .service("ultra")
            .unwrap()
            .stats()
            .total
            .requests,
        before
    );
    assert_eq!(unsigned.request_id, order.request_id);
    let tx: VersionedTransaction = bincode::deserialize(&unsigned.transaction).unwrap();
    assert_eq!(tx.message.static_account_keys()[0], user.pubkey());

    let (sol0, jup0) = (
        balance(&app, &user.pubkey(), SOL),
        balance(&app, &user.pubkey(), JUP),
    );
    let signed = VersionedTransaction::try_new(tx.message, &[&user]).unwrap();
    let done = ultra
        .execute(
            &lease,
            &bincode::serialize(&signed).unwrap(),
            &unsigned.request_id,
        )
        .await
        .unwrap();
    assert_eq!(done.status, ExecuteStatus::Success, "{done:?}");
    assert_eq!(done.signature, Some(signed.signatures[0].to_string()));
    assert!(done.slot.is_some());
    assert_eq!(sol0 - balance(&app, &user.pubkey(), SOL), order.in_amount);
    assert_eq!(balance(&app, &user.pubkey(), JUP) - jup0, order.out_amount);

    let stats = app.sandbox().service("ultra").unwrap().stats();
    let leased: IpAddr = "127.0.0.3".parse().unwrap();
    assert_eq!(stats.ip(leased).status(200), 2);
    assert_eq!(stats.ip("127.0.0.2".parse().unwrap()).requests, 0);
    assert_eq!(
        stats.recent[0].path,
        format!(
            "/ultra/v1/order?inputMint={SOL}&outputMint={JUP}&amount=1000000000&taker={}\
             &excludeRouters=okx",
            user.pubkey()
        ),
        "official parameters only"
    );
    assert_eq!(stats.recent[1].path, "/ultra/v1/execute");

    // Executing an unknown order is the provider's refusal, with its code.
    let e = ultra
        .execute(
            &lease,
            &bincode::serialize(&signed).unwrap(),
            "no-such-order",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, QuoteError::Rejected { status: 400, code: Some(c), .. } if c == "-1"),
        "{e:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_without_a_usable_transaction_say_what_to_change() {
    let app = sim("[services.ultra]");
    let net = Net::new(&["127.0.0.4"], "");
    let user = app.world().users()[0].insecure_clone();
    let lease = net.lease("127.0.0.4", 4).await;
    let request = QuoteRequest::new(key(SOL), key(JUP), 1_000_000_000, Leg::Buy);

    // No taker configured: the order has no transaction.
    let no_taker = client(&url(&app, "ultra"), None, net.http.clone());
    let order = no_taker.quote(&lease, &request).await.unwrap();
    assert_eq!(order.transaction, None);
    let e = no_taker
        .swap_instructions(&lease, &order, &user.pubkey())
        .await
        .unwrap_err();
    assert!(matches!(e, QuoteError::NoTransaction { .. }), "{e:?}");
    assert!(e.to_string().contains("set ultra.taker"), "{e}");

    // An order made for another taker.
    let other = app.world().users()[1].pubkey();
    let for_other = client(&url(&app, "ultra"), Some(other), net.http.clone());
    let order = for_other.quote(&lease, &request).await.unwrap();
    let e = for_other
        .swap_instructions(&lease, &order, &user.pubkey())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(&format!("made for taker {other}")),
        "{e}"
    );

    // errorCode 2: the provider's message, and what to do.
    app.ultra().unwrap().set_error_code(Some(2)).unwrap();
    let taker = client(&url(&app, "ultra"), Some(user.pubkey()), net.http.clone());
    let order = taker.quote(&lease, &request).await.unwrap();
    assert_eq!(order.error_code, Some(2));
    let e = taker
        .swap_instructions(&lease, &order, &user.pubkey())
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("errorCode 2") && text.contains(order.error_message.as_deref().unwrap()),
        "{text}"
    );
    assert_eq!(e.label(), "no_transaction");
    app.shutdown().await;
}
