//! The market model: configuration, determinism, quotes, dislocations, scripting, fixtures.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use galileo_sim::market::{
    ConfigError, DislocationId, Hop, Market, MarketConfig, MintConfig, MintId, QuoteError,
    SharedMarket, VenueConfig, VenueId,
};
use solana_pubkey::Pubkey;
use tokio::time::Instant;

const WSOL: &str = "So11111111111111111111111111111111111111112";
const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const JUP: &str = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn market(cfg: MarketConfig) -> (Market, Instant) {
    let epoch = Instant::now();
    (Market::new(cfg, epoch).expect("valid config"), epoch)
}

fn at(m: &Market, tick: u64) -> Instant {
    m.epoch() + m.tick_duration() * u32::try_from(tick).expect("small tick")
}

fn ids(m: &Market) -> (MintId, MintId, MintId) {
    (
        m.mint(WSOL).expect("wsol"),
        m.mint(USDC).expect("usdc"),
        m.mint(JUP).expect("jup"),
    )
}

fn quiet() -> MarketConfig {
    let mut cfg = MarketConfig::default();
    cfg.dislocations.per_minute = 0.0;
    for v in &mut cfg.venues {
        v.basis_bps = 0;
    }
    cfg
}

/// `actual` is `expect` rounded down by at most `slack` units (every step floors).
fn floored(actual: impl Into<f64>, expect: f64, slack: f64) -> bool {
    let actual = actual.into();
    actual <= expect + 1e-6 && actual >= expect - slack
}

fn any_venue(_: VenueId, _: &galileo_sim::market::Venue) -> bool {
    true
}

fn fixture_json(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{path}")).expect("fixture present");
    serde_json::from_str(&text).expect("fixture is JSON")
}

// ----- configuration ---------------------------------------------------------------------

#[test]
fn the_guide_shows_the_defaults_and_they_are_valid() {
    let guide = include_str!("../../../docs/sim-market.md");
    let start = guide.find("```toml\n").expect("a TOML block") + "```toml\n".len();
    let end = start + guide[start..].find("```").expect("closed");
    let parsed: MarketConfig = toml::from_str(&guide[start..end]).expect("the guide's TOML parses");
    assert_eq!(parsed, MarketConfig::default());
    parsed.validate().expect("the defaults are valid");
    // An empty table is the defaults too.
    assert_eq!(
        toml::from_str::<MarketConfig>("").expect("empty"),
        MarketConfig::default()
    );
}

#[test]
fn configs_are_checked_with_messages_that_say_what_to_do() {
    assert!(toml::from_str::<MarketConfig>("tick = 5").is_err());
    assert!(toml::from_str::<MarketConfig>("[walk]\nvolatility = 1.0").is_err());
    let mint_with_typo = "[[mints]]\nid = \"A\"\ndecimals = 6\nprice = 1.0\nprize = 2.0";
    assert!(toml::from_str::<MarketConfig>(mint_with_typo).is_err());

    let check = |edit: &dyn Fn(&mut MarketConfig), matches: &dyn Fn(&ConfigError) -> bool| {
        let mut cfg = MarketConfig::default();
        edit(&mut cfg);
        let err = cfg.validate().expect_err("refused");
        assert!(matches(&err), "unexpected {err:?}");
        let msg = err.to_string();
        assert!(
            ["use ", "raise ", "lower ", "add ", "configure "]
                .iter()
                .any(|w| msg.contains(w))
                || matches!(
                    err,
                    ConfigError::DuplicateMint(_) | ConfigError::DuplicateVenue(_)
                ),
            "{msg}"
        );
        assert!(Market::new(cfg, Instant::now()).is_err());
    };
    check(&|c| c.tick_ms = 0, &|e| matches!(e, ConfigError::Tick(0)));
    check(&|c| c.mints.truncate(1), &|e| {
        matches!(e, ConfigError::MintCount(1))
    });
    check(&|c| c.venues.clear(), &|e| {
        matches!(e, ConfigError::VenueCount(0))
    });
    check(&|c| c.mints[1].id = WSOL.into(), &|e| {
        matches!(e, ConfigError::DuplicateMint(_))
    });
    check(&|c| c.venues[1].name = "HumidiFi".into(), &|e| {
        matches!(e, ConfigError::DuplicateVenue(_))
    });
    check(&|c| c.mints[0].decimals = 19, &|e| {
        matches!(e, ConfigError::Mint { .. })
    });
    check(&|c| c.mints[0].price = 0.0, &|e| {
        matches!(e, ConfigError::Mint { .. })
    });
    check(&|c| c.mints[0].price = f64::NAN, &|e| {
        matches!(e, ConfigError::Mint { .. })
    });
    check(
        &|c| {
            c.venues[0].spread_bps = 0;
            c.venues[0].fee_bps = 0;
        },
        &|e| matches!(e, ConfigError::Venue { .. }),
    );
    check(&|c| c.venues[0].depth = 0, &|e| {
        matches!(e, ConfigError::Venue { .. })
    });
    // HumidiFi costs 4 bps a swap, TesseraV 4.5: a 3 + 2 bps basis could pay for a trip.
    check(
        &|c| {
            c.venues[0].basis_bps = 3;
            c.venues[1].basis_bps = 2;
        },
        &|e| matches!(e, ConfigError::BasisTooWide(..)),
    );
    check(&|c| c.dislocations.min_bps = 20, &|e| {
        matches!(e, ConfigError::Dislocations(_))
    });
    check(&|c| c.venues.truncate(1), &|e| {
        matches!(e, ConfigError::Dislocations(_))
    });
    check(&|c| c.dislocations.min_duration_ms = 50, &|e| {
        matches!(e, ConfigError::Dislocations(_))
    });
    check(&|c| c.dislocations.per_minute = 3_000.0, &|e| {
        matches!(e, ConfigError::Dislocations(_))
    });
    check(&|c| c.walk.volatility_bps = 400.0, &|e| {
        matches!(e, ConfigError::Walk(_))
    });
    check(&|c| c.mints[2].volatility_bps = Some(-1.0), &|e| {
        matches!(e, ConfigError::Mint { .. })
    });
    // 1e11 quote units of a 1e-9 token with 18 decimals is 1e38 base units: no u64 holds it.
    check(
        &|c| {
            c.mints[2].price = 1e-9;
            c.mints[2].decimals = 18;
            c.venues[0].depth = 100_000_000_000;
        },
        &|e| matches!(e, ConfigError::Mint { .. }),
    );
    // Without dislocations the costs need not beat anything, and one venue is enough.
    let mut cfg = quiet();
    cfg.venues.truncate(1);
    cfg.validate().expect("one venue, no dislocations");
}

// ----- determinism -----------------------------------------------------------------------

/// What a test reads at one instant: every venue's quote for two pairs, and the open
/// dislocations.
fn observe(m: &Market, now: Instant) -> (Vec<Result<u64, QuoteError>>, Vec<DislocationId>) {
    let (sol, usdc, jup) = ids(m);
    let mut quotes = Vec::new();
    for v in m.venue_ids() {
        quotes.push(
            m.quote(v, sol, usdc, 2_500_000_000, now)
                .map(|q| q.out_amount),
        );
        quotes.push(m.quote(v, jup, sol, 700_000_000, now).map(|q| q.out_amount));
    }
    let open = m.open_dislocations(now).into_iter().map(|d| d.id).collect();
    (quotes, open)
}

#[test]
fn same_seed_same_quotes_whatever_the_query_pattern() {
    let mut cfg = MarketConfig::default();
    cfg.dislocations.per_minute = 60.0;
    let epoch = Instant::now();
    let a = Market::new(cfg.clone(), epoch).expect("valid");
    let b = Market::new(cfg.clone(), epoch).expect("valid");
    // Instants over two hours at irregular steps, plus one ten years out.
    let mut times: Vec<Instant> = (0..3_000u64)
        .map(|i| epoch + Duration::from_millis(i * 2_417 + (i * i) % 977))
        .collect();
    times.push(epoch + Duration::from_secs(10 * 365 * 86_400));

    let forward: Vec<_> = times.iter().map(|&t| observe(&a, t)).collect();
    // The other market: backwards, each instant asked twice with other reads between.
    let mut backward: Vec<_> = times
        .iter()
        .rev()
        .map(|&t| {
            let _ = b.snapshot(t + Duration::from_secs(3_600));
            let first = observe(&b, t);
            let _ = observe(&b, t - Duration::from_millis(1_234).min(t - epoch));
            assert_eq!(first, observe(&b, t));
            first
        })
        .collect();
    backward.reverse();
    assert_eq!(forward, backward);
    assert!(
        forward.iter().any(|(_, open)| !open.is_empty()),
        "dislocations were part of what was compared"
    );

    // Another seed is another market.
    cfg.seed ^= 1;
    let c = Market::new(cfg, epoch).expect("valid");
    let differ = times
        .iter()
        .zip(&forward)
        .filter(|&(&t, seen)| observe(&c, t).0 != seen.0)
        .count();
    assert!(differ > times.len() * 9 / 10, "{differ} of {}", times.len());
}

#[test]
fn quotes_within_one_tick_are_identical_and_move_between_ticks() {
    let (m, _) = market(MarketConfig::default());
    let (sol, usdc, _) = ids(&m);
    let v = m.venue("HumidiFi").expect("venue");
    let q = |t: Instant| m.quote(v, sol, usdc, 1_000_000_000, t).expect("quote");
    let t0 = at(&m, 500);
    assert_eq!(q(t0), q(t0 + m.tick_duration() - Duration::from_nanos(1)));
    let moved = (501..600).filter(|&k| q(at(&m, k)).out_amount != q(t0).out_amount);
    assert!(moved.count() > 90);
}

// ----- quotes ----------------------------------------------------------------------------

#[test]
fn quotes_carry_what_the_aggregators_need() {
    let mut cfg = quiet();
    cfg.mints.push(MintConfig {
        id: "BONK".into(),
        decimals: 5,
        price: 0.00002,
        volatility_bps: None,
    });
    let (m, epoch) = market(cfg);
    let (sol, usdc, _) = ids(&m);
    let bonk = m.mint("BONK").expect("symbol");
    let bonk_address = m.mint_info(bonk).address();
    assert_eq!(m.mint(&bonk_address.to_string()), Ok(bonk));
    assert_eq!(m.mint_by_address(&bonk_address), Ok(bonk));
    assert_eq!(m.mint_info(sol).address().to_string(), WSOL);
    assert_eq!(m.mint_info(usdc).decimals(), 6);

    let (hum, tes) = (
        m.venue("HumidiFi").expect("v"),
        m.venue("TesseraV").expect("v"),
    );
    assert_eq!(
        m.pool_address(hum, sol, usdc),
        m.pool_address(hum, usdc, sol)
    );
    assert_ne!(
        m.pool_address(hum, sol, usdc),
        m.pool_address(tes, sol, usdc)
    );
    assert_ne!(
        m.pool_address(hum, sol, usdc),
        m.pool_address(hum, sol, bonk)
    );

    let q = m
        .quote(hum, sol, usdc, 1_000_000_000, epoch)
        .expect("quote");
    assert_eq!(q.pool, m.pool_address(hum, sol, usdc));
    assert_eq!(
        q.hop(),
        Hop {
            venue: hum,
            input_mint: sol,
            output_mint: usdc
        }
    );
    // 1 SOL at ~165 USDC: half of a 4 bps spread, a 2 bps fee, and impact of 165 / 5M.
    let ideal = m.venue_price(hum, sol, epoch) / m.venue_price(hum, usdc, epoch) * 1e6;
    let value = m.venue_price(hum, sol, epoch); // USDC is pinned at 1
    let impact = value / (5e6 + value);
    let expect = ideal * (1.0 - impact) * (1.0 - 2e-4) * (1.0 - 2e-4);
    assert!(
        floored(q.out_amount as f64, expect, 4.0),
        "{} vs {expect}",
        q.out_amount
    );
    let fee = ideal * (1.0 - impact) * (1.0 - 2e-4) * 2e-4;
    assert!(
        (q.fee_amount as f64 - fee).abs() <= 4.0,
        "{} vs {fee}",
        q.fee_amount
    );
    assert!((q.price_impact() - impact).abs() < 2e-9);
    let text = q.price_impact_decimal();
    assert!(text.starts_with("0.0000") && !text.contains('e'), "{text}");
    assert!((text.parse::<f64>().expect("decimal") - q.price_impact()).abs() < 1e-12);

    // Into a token worth ~1e-7 SOL: 1 SOL buys ~8.25M BONK, ~8.25e11 base units.
    let b = m
        .quote(hum, sol, bonk, 1_000_000_000, epoch)
        .expect("quote");
    let ideal = m.venue_price(hum, sol, epoch) / m.venue_price(hum, bonk, epoch) * 1e5;
    let expect = ideal * (1.0 - impact) * (1.0 - 2e-4) * (1.0 - 2e-4);
    assert!(
        (b.out_amount as f64 / expect - 1.0).abs() < 1e-7,
        "{} {expect}",
        b.out_amount
    );
    assert!((7.7e11..8.8e11).contains(&expect));

    assert_eq!(m.mint("nope"), Err(QuoteError::UnknownMint("nope".into())));
    assert_eq!(
        m.venue("Nope"),
        Err(QuoteError::UnknownVenue("Nope".into()))
    );
    assert_eq!(
        m.quote(hum, sol, usdc, 0, epoch),
        Err(QuoteError::ZeroAmount)
    );
    assert_eq!(m.quote(hum, sol, sol, 5, epoch), Err(QuoteError::SameMint));
    assert!(matches!(
        m.best_quote(sol, usdc, 5, epoch, |_, _| false),
        Err(QuoteError::UnknownVenue(_))
    ));

    // Depth: exactly the largest amount that fits is quoted.
    let max = m.max_in_amount(hum, sol, epoch);
    let expect = 5e6 / m.venue_price(hum, sol, epoch) * 1e9;
    assert!((max as f64 / expect - 1.0).abs() < 1e-9, "{max} {expect}");
    let at_limit = m.quote(hum, sol, usdc, max, epoch).expect("within depth");
    assert!((499_000_000..=500_000_000).contains(&at_limit.price_impact_ppb));
    assert_eq!(
        m.quote(hum, sol, usdc, max + 1, epoch),
        Err(QuoteError::ExceedsDepth { max_in_amount: max })
    );
    assert_eq!(
        m.quote(hum, sol, usdc, u64::MAX, epoch),
        Err(QuoteError::ExceedsDepth { max_in_amount: max })
    );
    // The best venue names the roomiest limit when none can take the size.
    let roomiest = m.venue_ids().map(|v| m.max_in_amount(v, sol, epoch)).max();
    assert_eq!(
        m.best_quote(sol, usdc, u64::MAX, epoch, any_venue),
        Err(QuoteError::ExceedsDepth {
            max_in_amount: roomiest.expect("venues")
        })
    );
}

#[test]
fn the_best_quote_is_the_largest_and_follows_the_filter() {
    let (m, epoch) = market(MarketConfig::default());
    let (sol, usdc, jup) = ids(&m);
    for k in (0..2_000).step_by(37) {
        let now = epoch + Duration::from_millis(k * 100);
        for (a, b, amount) in [(sol, usdc, 3_000_000_000), (usdc, jup, 50_000_000)] {
            let best = m.best_quote(a, b, amount, now, any_venue).expect("best");
            for v in m.venue_ids() {
                let q = m.quote(v, a, b, amount, now).expect("quote");
                assert!(q.out_amount <= best.out_amount);
            }
            let meteora = m.venue("Meteora DLMM").expect("venue");
            let only = m
                .best_quote(a, b, amount, now, |id, _| id == meteora)
                .expect("one");
            assert_eq!(only, m.quote(meteora, a, b, amount, now).expect("quote"));
            let not = m.best_quote(a, b, amount, now, |_, v| v.name() != "HumidiFi");
            assert_ne!(
                not.expect("others").venue,
                m.venue("HumidiFi").expect("venue")
            );
        }
    }
}

// ----- dislocations ----------------------------------------------------------------------

/// A small round trip through the pair a dislocation on `mint` moves: base WSOL, or WSOL →
/// USDC when WSOL itself moved.
fn small_round_trip(m: &Market, mint: MintId, now: Instant) -> galileo_sim::market::RoundTrip {
    let (sol, usdc, _) = ids(m);
    let other = if mint == sol { usdc } else { mint };
    m.best_round_trip(sol, other, 100_000_000, now, any_venue)
        .expect("round trip")
}

#[tokio::test(start_paused = true)]
async fn dislocations_open_at_the_configured_rate_pay_while_open_and_expire() {
    let mut cfg = MarketConfig::default();
    cfg.dislocations.per_minute = 30.0;
    cfg.dislocations.min_duration_ms = 1_000;
    cfg.dislocations.max_duration_ms = 4_000;
    let (m, _) = market(cfg);
    let (sol, usdc, jup) = ids(&m);
    let tick = m.tick_duration();
    let ticks = 36_000u64; // one hour
    // id → (first tick seen, last tick seen, expiry announced at first sight)
    let mut seen: BTreeMap<DislocationId, (u64, u64, Option<Instant>)> = BTreeMap::new();
    let (mut profitable, mut losing) = (0, 0);
    for k in 0..ticks {
        let now = Instant::now();
        assert_eq!(m.tick_at(now), k);
        let open = m.open_dislocations(now);
        for d in &open {
            let first = !seen.contains_key(&d.id);
            let entry = seen.entry(d.id).or_insert((k, k, d.expires_at));
            entry.1 = k;
            if first && open.len() == 1 {
                let rt = small_round_trip(&m, d.mint, now);
                assert!(rt.profit() > 0, "{d:?} at tick {k}: {rt:?}");
                let venues = [rt.forward.venue, rt.reverse.venue];
                assert!(venues.contains(&d.venue), "the trip goes through {d:?}");
                profitable += 1;
            }
        }
        if open.is_empty() && k % 20 == 0 {
            for mid in [usdc, jup] {
                let rt = m.best_round_trip(sol, mid, 1_000_000_000, now, any_venue);
                assert!(rt.expect("round trip").profit() < 0, "tick {k}");
                losing += 1;
            }
        }
        tokio::time::advance(tick).await;
    }
    // 30 a minute for an hour: 1800, Poisson sd ≈ 42.
    let n = seen.len();
    assert!((1_620..=1_980).contains(&n), "{n} dislocations opened");
    assert!(profitable > 300 && losing > 500, "{profitable} {losing}");
    for (id, (first, last, expires)) in &seen {
        if *first == 0 || *last == ticks - 1 {
            continue; // cut by the run's edges
        }
        let life = last - first + 1;
        assert!((10..=40).contains(&life), "{id}: {life} ticks");
        assert_eq!(*expires, Some(at(&m, last + 1)), "{id}");
    }
}

#[test]
fn a_trade_through_a_dislocation_closes_it_from_then_on() {
    // One dislocation making its mint cheap on its venue, one making it dear.
    for cheap in [true, false] {
        let mut cfg = MarketConfig::default();
        cfg.dislocations.per_minute = 20.0;
        let (mut m, _) = market(cfg);
        // A tick k where one dislocation is open, alone, and still at k + 1.
        let (k, d) = (0..100_000)
            .find_map(|k| {
                let open = m.open_dislocations(at(&m, k));
                let next = m.open_dislocations(at(&m, k + 1));
                let alone = open.len() == 1 && next == open && (open[0].offset_bps < 0) == cheap;
                alone.then(|| (k, open[0].clone()))
            })
            .expect("a dislocation opens");
        let (now, before) = (at(&m, k + 1), at(&m, k));
        let rt = small_round_trip(&m, d.mint, now);
        let rt_before = small_round_trip(&m, d.mint, before);
        assert!(rt.profit() > 0 && rt_before.profit() > 0);

        // A hop the wrong way through it does not close it, nor does one on another venue.
        let (sol, usdc, _) = ids(&m);
        let other = if d.mint == usdc { sol } else { usdc };
        let wrong = Hop {
            venue: d.venue,
            input_mint: if cheap { d.mint } else { other },
            output_mint: if cheap { other } else { d.mint },
        };
        let elsewhere = m.venue_ids().find(|&v| v != d.venue).expect("two venues");
        let other_venue = Hop {
            venue: elsewhere,
            ..rt.forward.hop()
        };
        assert_eq!(m.record_trade(&[wrong, other_venue], now), Vec::new());
        assert_eq!(m.open_dislocations(now).len(), 1);

        // The profitable hop through it alone closes it.
        let through = rt
            .hops()
            .into_iter()
            .find(|h| h.venue == d.venue)
            .expect("via it");
        assert_eq!(through.output_mint == d.mint, cheap);
        assert_eq!(m.record_trade(&[through], now), vec![d.id]);
        assert!(m.open_dislocations(now).is_empty());
        assert!(small_round_trip(&m, d.mint, now).profit() < 0);
        assert_eq!(m.snapshot(now).closed_by_trade, 1);
        // Before the trade it was open, and still reads so.
        assert_eq!(m.open_dislocations(before).len(), 1);
        assert_eq!(small_round_trip(&m, d.mint, before), rt_before);
        // Trading again finds nothing to close.
        assert_eq!(m.record_trade(&rt.hops(), at(&m, k + 2)), Vec::new());
        assert!(!m.close_dislocation(d.id, at(&m, k + 2)));
    }
}

// ----- scripting -------------------------------------------------------------------------

#[test]
fn scripted_arbitrage_appears_and_disappears_exactly_as_scripted() {
    let (mut m, _) = market(quiet());
    let (sol, usdc, _) = ids(&m);
    let (hum, tes) = (
        m.venue("HumidiFi").expect("v"),
        m.venue("TesseraV").expect("v"),
    );
    let amount = 1_000_000_000;
    let trip = |m: &Market, k: u64| {
        m.best_round_trip(sol, usdc, amount, at(m, k), any_venue)
            .expect("round trip")
    };
    m.freeze(at(&m, 10));
    let baseline = trip(&m, 10);
    assert!(baseline.profit() < 0);
    assert_eq!(
        trip(&m, 5_000).forward.out_amount,
        baseline.forward.out_amount
    );
    assert_eq!(
        trip(&m, 5_000).reverse.out_amount,
        baseline.reverse.out_amount
    );

    // USDC 50 bps cheaper on TesseraV for 3 s (30 ticks), from tick 100.
    let id = m
        .open_dislocation(tes, usdc, -50, Some(Duration::from_secs(3)), at(&m, 100))
        .expect("scripted");
    assert!(id.is_scripted());
    assert!(trip(&m, 99).profit() < 0);
    for k in [100, 115, 129] {
        let rt = trip(&m, k);
        assert!(rt.profit() > 0, "tick {k}");
        assert_eq!((rt.forward.venue, rt.reverse.venue), (tes, hum));
        // Buy USDC at 1/0.995 of the price, pay TesseraV's 2.5 + 2 bps and HumidiFi's 2 + 2.
        let impact = |v: f64, depth: f64| depth / (depth + v);
        let forward_value = m.fair_price(sol, at(&m, k));
        let reverse_value = rt.forward.out_amount as f64 / 1e6;
        let ratio = 1.0 / 0.995
            * (1.0 - 2.5e-4)
            * (1.0 - 2e-4)
            * impact(forward_value, 3e6)
            * (1.0 - 2e-4)
            * (1.0 - 2e-4)
            * impact(reverse_value, 5e6);
        let expect = (ratio - 1.0) * amount as f64;
        // Each leg floors a few units; a micro-USDC is ~6 lamports.
        assert!(
            floored(rt.profit() as f64, expect, 40.0),
            "{rt:?} vs {expect}"
        );
    }
    let after = trip(&m, 130);
    assert!(after.profit() < 0);
    assert_eq!(after.forward.out_amount, baseline.forward.out_amount);
    assert_eq!(after.reverse.out_amount, baseline.reverse.out_amount);
    let open = m.open_dislocations(at(&m, 110));
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].expires_at, Some(at(&m, 130)));

    // One with no end: open until closed; what was open before stays readable.
    let id = m
        .open_dislocation(hum, sol, 60, None, at(&m, 200))
        .expect("scripted");
    assert!(trip(&m, 10_000).profit() > 0);
    assert!(m.close_dislocation(id, at(&m, 300)));
    assert!(trip(&m, 299).profit() > 0);
    assert!(trip(&m, 300).profit() < 0);
    assert_eq!(
        trip(&m, 300).forward.out_amount,
        baseline.forward.out_amount
    );

    // One closed by the trade that takes it.
    let id = m
        .open_dislocation(hum, sol, 60, None, at(&m, 400))
        .expect("scripted");
    let rt = trip(&m, 401);
    assert_eq!(m.record_trade(&rt.hops(), at(&m, 401)), vec![id]);
    assert!(trip(&m, 401).profit() < 0);
    assert!(trip(&m, 400).profit() > 0);

    assert!(m.open_dislocation(hum, sol, 0, None, at(&m, 500)).is_err());
    assert!(
        m.open_dislocation(hum, sol, 6_000, None, at(&m, 500))
            .is_err()
    );
}

#[test]
fn set_price_freeze_and_unfreeze() {
    let (mut m, _) = market(quiet());
    let (sol, usdc, _) = ids(&m);
    let hum = m.venue("HumidiFi").expect("venue");
    let before = m.fair_price(sol, at(&m, 49));
    m.freeze(at(&m, 50));
    m.set_price(sol, 200.0, at(&m, 50)).expect("in range");
    for k in [50, 51, 9_999] {
        let fair = m.fair_price(sol, at(&m, k));
        assert!((fair / 200.0 - 1.0).abs() < 1e-12, "{fair}");
    }
    assert_eq!(m.fair_price(sol, at(&m, 49)), before);
    // 1 SOL = 200 USDC less HumidiFi's 2 + 2 bps and a 200 / 5M impact.
    let q = m
        .quote(hum, sol, usdc, 1_000_000_000, at(&m, 60))
        .expect("quote");
    let expect = 200e6 * (5e6 / (5e6 + 200.0)) * (1.0 - 2e-4) * (1.0 - 2e-4);
    assert!(
        floored(q.out_amount as f64, expect, 4.0),
        "{} {expect}",
        q.out_amount
    );
    assert!(m.set_price(sol, 0.0, at(&m, 60)).is_err());
    assert!(m.set_price(sol, f64::INFINITY, at(&m, 60)).is_err());

    assert!(m.is_frozen(at(&m, 70)) && !m.is_frozen(at(&m, 49)));
    m.unfreeze(at(&m, 100));
    assert!(!m.is_frozen(at(&m, 100)));
    // It resumes from where it stood, then moves, within its bound around the new reference.
    let resumed = m.fair_price(sol, at(&m, 100));
    assert!((resumed / 200.0 - 1.0).abs() < 1e-12);
    let later: Vec<f64> = (101..3_000).map(|k| m.fair_price(sol, at(&m, k))).collect();
    assert!(later.iter().any(|&p| p != resumed));
    assert!(later.iter().all(|&p| (p / 200.0 - 1.0).abs() < 0.065));
    let snap = m.snapshot(at(&m, 100));
    assert_eq!((snap.tick, snap.walk_tick, snap.frozen), (100, 50, false));

    // Freezing twice or unfreezing a running walk changes nothing.
    m.unfreeze(at(&m, 200));
    m.freeze(at(&m, 300));
    m.freeze(at(&m, 310));
    assert_eq!(m.snapshot(at(&m, 400)).walk_tick, 250);
}

#[test]
fn the_snapshot_shows_prices_and_dislocations() {
    let (mut m, _) = market(quiet());
    let (sol, _, _) = ids(&m);
    let tes = m.venue("TesseraV").expect("venue");
    m.freeze(at(&m, 0));
    m.open_dislocation(tes, sol, -40, Some(Duration::from_secs(2)), at(&m, 10))
        .expect("scripted");
    let (t15, t16) = (at(&m, 15), at(&m, 16));
    let shared = SharedMarket::new(m);
    let snap = shared.read().snapshot(t15);
    assert!(snap.frozen);
    let sol_prices = &snap.mints[0];
    assert_eq!(sol_prices.id, WSOL);
    assert_eq!(sol_prices.venues.len(), 4);
    for v in &sol_prices.venues {
        let want = if v.venue == "TesseraV" {
            sol_prices.fair * 0.996
        } else {
            sol_prices.fair
        };
        assert!((v.mid / want - 1.0).abs() < 1e-12, "{v:?}");
    }
    assert_eq!(snap.dislocations.len(), 1);
    let d = &snap.dislocations[0];
    assert_eq!(
        (d.venue.as_str(), d.mint.as_str(), d.offset_bps),
        ("TesseraV", WSOL, -40)
    );
    assert_eq!(d.expires_in_ms, Some(1_500));
    let json = serde_json::to_value(&snap).expect("serializable");
    assert_eq!(json["dislocations"][0]["id"], "scripted-0");
    // The write half of the handle reaches the same market.
    shared.write().unfreeze(t16);
    assert!(!shared.read().is_frozen(t16));
}

// ----- fixtures --------------------------------------------------------------------------

fn b64_pubkey(v: &serde_json::Value) -> Pubkey {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["base64"].as_str().expect("bytes"))
        .expect("base64");
    Pubkey::try_from(bytes.as_slice()).expect("32 bytes")
}

fn amount(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .expect("an amount")
}

/// A captured WSOL → USDC swap of `in_amount` for `out_amount` on `label`, reproduced by a
/// market calibrated to its price: our quote may only lose the venue's costs and impact.
fn reproduce(label: &str, input: Pubkey, output: Pubkey, in_amount: u64, out_amount: u64) {
    let price = out_amount as f64 / in_amount as f64 * 1e3;
    let cfg = MarketConfig {
        mints: vec![
            MintConfig {
                id: input.to_string(),
                decimals: 9,
                price,
                volatility_bps: None,
            },
            MintConfig {
                id: output.to_string(),
                decimals: 6,
                price: 1.0,
                volatility_bps: Some(0.0),
            },
        ],
        venues: vec![VenueConfig {
            name: label.into(),
            spread_bps: 2,
            fee_bps: 1,
            depth: 10_000_000,
            basis_bps: 0,
        }],
        ..quiet()
    };
    let (mut m, epoch) = market(cfg);
    m.freeze(epoch);
    m.set_price(
        m.mint_by_address(&input).expect("captured input"),
        price,
        epoch,
    )
    .expect("price");
    let venue = m.venue(label).expect("captured label");
    let (i, o) = (
        m.mint_by_address(&input).expect("in"),
        m.mint_by_address(&output).expect("out"),
    );
    let q = m.quote(venue, i, o, in_amount, epoch).expect("quote");
    let impact = price * in_amount as f64 / 1e9 / 10_000_000.0;
    let floor = out_amount as f64 * (1.0 - 1e-4 - 1e-4 - impact) - 2.0;
    assert!(
        q.out_amount <= out_amount && q.out_amount as f64 >= floor,
        "{label}: {} vs captured {out_amount}",
        q.out_amount
    );
}

#[test]
fn captured_quotes_reproduce_within_the_venue_costs() {
    let dflow = fixture_json("dflow/quote_response_with_open_transaction.json");
    let mint = |k: &str| {
        dflow[k]
            .as_str()
            .expect("mint")
            .parse::<Pubkey>()
            .expect("base58")
    };
    reproduce(
        "DFlow venue",
        mint("inputMint"),
        mint("outputMint"),
        amount(&dflow["inAmount"]),
        amount(&dflow["outAmount"]),
    );

    let titan = fixture_json("titan/stream_data_swap_quotes.json");
    let quotes = &titan["StreamData"]["payload"]["SwapQuotes"];
    let mut steps = 0;
    for route in quotes["quotes"].as_object().expect("providers").values() {
        for step in route["steps"].as_array().expect("steps") {
            reproduce(
                step["label"].as_str().expect("label"),
                b64_pubkey(&step["inputMint"]),
                b64_pubkey(&step["outputMint"]),
                amount(&step["inAmount"]),
                amount(&step["outAmount"]),
            );
            steps += 1;
        }
    }
    assert!(steps >= 2);
    assert_eq!(b64_pubkey(&quotes["inputMint"]).to_string(), WSOL);
    assert_eq!(b64_pubkey(&quotes["outputMint"]).to_string(), USDC);
}

#[test]
fn the_default_venues_are_real_titan_labels_and_mints_resolve_from_titan_bytes() {
    let request = fixture_json("titan/new_swap_quote_stream_request.json");
    let swap = &request["data"]["NewSwapQuoteStream"]["swap"];
    let labels: Vec<&str> = swap["dexes"]
        .as_array()
        .expect("dexes")
        .iter()
        .map(|l| l.as_str().expect("label"))
        .collect();
    let (m, _) = market(MarketConfig::default());
    for v in m.venue_ids() {
        let name = m.venue_info(v).name();
        assert!(labels.contains(&name), "{name} is not a label Titan knows");
    }
    let (sol, usdc, _) = ids(&m);
    assert_eq!(m.mint_by_address(&b64_pubkey(&swap["inputMint"])), Ok(sol));
    assert_eq!(
        m.mint_by_address(&b64_pubkey(&swap["outputMint"])),
        Ok(usdc)
    );
    let user = b64_pubkey(&request["data"]["NewSwapQuoteStream"]["transaction"]["userPublicKey"]);
    assert!(matches!(
        m.mint_by_address(&user),
        Err(QuoteError::UnknownMint(_))
    ));
}
