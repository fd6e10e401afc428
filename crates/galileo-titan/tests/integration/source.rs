//! `TitanStreams` as a `QuoteSource`: the buy leg of a round trip whose sell leg is an HTTP
//! aggregator (galileo-sim's Jupiter), run by galileo-quote's dispatcher; freshness;
//! instructions.

use std::time::Duration;

use crate::support::*;
use galileo_net::{BoundHttpClient, HttpConfig, TaskKind};
use galileo_quote::jupiter::{JupiterClient, JupiterConfig as JupiterClientConfig};
use galileo_quote::plan::TradePair;
use galileo_quote::{
    DispatchConfig, Leg, QuoteDispatcher, QuoteError, QuoteRequest, QuoteSource, Quoted, Schedule,
};
use galileo_sim::aggregators::{JupiterConfig, JupiterService};
use galileo_sim::titan::{SyntheticRoutes, TitanService};
use galileo_sim::world::{World, WorldConfig};
use galileo_sim::{Fault, Sandbox, ServiceConfig};
use galileo_titan::TitanStreams;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titan_buys_and_an_http_aggregator_sells_on_one_lease() {
    let world = World::new(WorldConfig::default(), tokio::time::Instant::now()).unwrap();
    let titan = TitanService::new(
        sim_config(),
        world.market().clone(),
        SyntheticRoutes::new(tokio::time::Instant::now(), 100),
    )
    .unwrap();
    let handle = titan.handle();
    let jupiter = JupiterService::new(
        JupiterConfig::default(),
        world.market().clone(),
        world.ledger(),
    )
    .unwrap();
    let sandbox = Sandbox::builder()
        .service(titan, ServiceConfig::default())
        .service(jupiter, ServiceConfig::default())
        .start()
        .unwrap();
    let jupiter_url = sandbox.service("jupiter").unwrap().url();
    let alloc = allocator(2, 2);
    let mut cfg = galileo_titan::TitanConfig {
        url: format!("{}/api/v1/ws", sandbox.service("titan").unwrap().ws_url()),
        user_public_key: Some(user().to_string()),
        ..Default::default()
    };
    cfg.max_quote_age_ms = 5_000;
    let streams = TitanStreams::start(client(cfg, &alloc), sizes(2)).unwrap();
    assert_eq!(streams.name(), "titan");
    assert_eq!(streams.cost(), 0, "a streamed quote makes no request");
    assert_eq!(
        streams.backend_limit().unwrap().get(),
        4,
        "2 × 2 planned IPs"
    );
    let k = streams.plan()[0];
    tokio::time::timeout(PATIENCE, streams.watch(&k).wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap();

    // The multi-leg pair through the real dispatcher: Titan's streamed quote buys, the
    // Jupiter client sells exactly its out amount, from the lease's IP.
    let http = BoundHttpClient::new(&HttpConfig::default()).unwrap();
    let jupiter = JupiterClient::new(
        JupiterClientConfig {
            quote_url: format!("{jupiter_url}/swap/v1/quote"),
            swap_instructions_url: format!("{jupiter_url}/swap/v1/swap-instructions"),
            slippage_bps: 50,
            ..JupiterClientConfig::default()
        },
        http,
    )
    .unwrap();
    let dispatcher =
        QuoteDispatcher::new(alloc.clone(), &streams, jupiter, DispatchConfig::default()).unwrap();
    assert_eq!(dispatcher.label(), "titan+jupiter");
    assert_eq!(
        dispatcher.effective_parallelism(8),
        4,
        "Titan's 2 per planned IP"
    );
    let mut schedule = Schedule::new(tokio::time::Instant::now());
    schedule.add_pair(
        TradePair::new(mint(WSOL), mint(USDC)),
        &[k.amount],
        Duration::from_secs(1),
    );
    let plan = schedule.drain_ready_batches(tokio::time::Instant::now(), 1)[0];
    let trip = dispatcher.run_batch(plan).await.unwrap();
    let (q, back) = (trip.buy.clone(), trip.sell.out_amount());
    assert_eq!(
        trip.sell.in_amount(),
        q.out_amount(),
        "the sell leg sells exactly what Titan buys"
    );
    assert_eq!(trip.gross_profit, i128::from(back) - i128::from(k.amount));
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    assert_eq!((q.input_mint(), q.output_mint()), (mint(WSOL), mint(USDC)));
    assert_eq!(q.in_amount(), k.amount);
    assert!(q.out_amount() > 0 && back > 0, "{q:?} → {back}");
    assert!(q.min_out_amount() <= q.out_amount());
    // The best provider is the one with the largest outAmount in the update.
    let update = q.update();
    assert!(
        update
            .quotes
            .quotes
            .values()
            .all(|r| r.out_amount <= q.out_amount())
    );
    assert_eq!(q.route().out_amount, q.out_amount());
    // It matches what the simulator sent for that stream's update.
    let r = handle.record();
    let sent = r
        .updates
        .iter()
        .find(|u| {
            r.connection(u.connection)
                .is_some_and(|c| c.peer.ip() == q.ip())
                && u.seq == update.seq as u32
                && u.routes.iter().any(|(_, out)| *out == q.out_amount())
        })
        .expect("the update the quote came from");
    assert_eq!(
        sent.routes[0].1,
        q.out_amount(),
        "the simulator's best is ours"
    );
    // The sell leg left from the round trip's leased IP, its only request.
    let stats = sandbox.service("jupiter").unwrap().stats();
    assert_eq!(stats.total.requests, 1);
    assert_eq!(stats.recent.back().unwrap().ip, trip.sell_ip);

    // The route's own instructions, for the configured user; another signer is refused.
    let ixs = streams
        .swap_instructions(&lease, &q, &user())
        .await
        .unwrap();
    assert_eq!(ixs.provider, q.provider());
    assert!(!ixs.instructions.is_empty());
    let (venue, in_amount, out_amount) =
        SyntheticRoutes::decode(&ixs.instructions[0].data).unwrap();
    assert_eq!(
        (in_amount, out_amount),
        (q.in_amount(), q.out_amount()),
        "{venue}"
    );
    let other = solana_pubkey::Pubkey::new_unique();
    let e = streams
        .swap_instructions(&lease, &q, &other)
        .await
        .unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("user_public_key"),
        "{e}"
    );

    // A size that is not subscribed: no fresh quote, saying why.
    let odd = QuoteRequest::new(mint(WSOL), mint(USDC), 123, Leg::Buy);
    let e = streams.quote(&lease, &odd).await.unwrap_err();
    assert!(matches!(e, QuoteError::NoFreshQuote { .. }), "{e}");
    assert!(e.to_string().contains("not subscribed"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_older_than_the_limit_is_not_served() {
    let sim = Sim::start(sim_config());
    // The stream goes silent after its first update; the silence timeout is far away.
    sim.controls().force(Fault::StreamSilence);
    let alloc = allocator(2, 1);
    let mut cfg = config(&sim);
    cfg.max_quote_age_ms = 150;
    cfg.silence_timeout_ms = 60_000;
    let streams = TitanStreams::start(client(cfg, &alloc), sizes(1)).unwrap();
    let k = streams.plan()[0];
    let mut rx = streams.watch(&k);
    tokio::time::timeout(PATIENCE, rx.wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap();
    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
    let request = QuoteRequest::new(k.input_mint, k.output_mint, k.amount, Leg::Buy);
    let first = streams.latest(&k).unwrap();
    // Until the newest update is 150 ms old, it is served...
    let served = streams.quote(&lease, &request).await;
    if first.received_at.elapsed() < Duration::from_millis(150) {
        assert!(served.is_ok(), "{served:?}");
    }
    // ... then no longer: wait until it is (a timer, not a poll), and ask again.
    tokio::time::sleep_until(first.received_at + Duration::from_millis(151)).await;
    let e = streams.quote(&lease, &request).await.unwrap_err();
    assert!(matches!(e, QuoteError::NoFreshQuote { .. }), "{e}");
    assert!(e.to_string().contains("old"), "{e}");
    assert_eq!(sim.handle.record().updates.len(), 1, "silent since");
}
