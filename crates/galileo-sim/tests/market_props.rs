//! Invariants of the market model over random configurations, amounts, times and histories.

use std::time::Duration;

use galileo_sim::market::{
    DislocationConfig, Market, MarketConfig, MintConfig, MintId, QuoteError, VenueConfig, VenueId,
    WalkConfig,
};
use proptest::prelude::*;
use tokio::time::Instant;

/// A venue whose basis is at most a quarter of its swap cost, so any two pass validation.
fn venue(i: usize) -> impl Strategy<Value = VenueConfig> {
    (0u32..80, 0u32..60, 0u32..=11, 0f64..1.0).prop_map(move |(spread, fee, depth_exp, basis)| {
        let (spread, fee) = if spread + fee == 0 {
            (1, 0)
        } else {
            (spread, fee)
        };
        let cost = spread / 2 + fee;
        VenueConfig {
            name: format!("venue-{i}"),
            spread_bps: spread,
            fee_bps: fee,
            depth: 10u64.pow(depth_exp),
            basis_bps: (basis * f64::from(cost / 4)) as u32,
        }
    })
}

fn mint(i: usize) -> impl Strategy<Value = MintConfig> {
    (
        0u8..=18,
        -9i32..=9,
        1.0f64..10.0,
        prop::option::of(0f64..5.0),
    )
        .prop_map(
            move |(decimals, exp, mantissa, volatility_bps)| MintConfig {
                id: format!("MINT{i}"),
                decimals,
                price: (mantissa * 10f64.powi(exp)).clamp(1e-9, 1e9),
                volatility_bps,
            },
        )
}

/// Random valid configurations, dislocations off unless `rate > 0`.
fn config(rate: f64) -> impl Strategy<Value = MarketConfig> {
    (
        any::<u64>(),
        prop::sample::select(vec![1u64, 10, 100, 400]),
        (2usize..5).prop_flat_map(|n| (0..n).map(mint).collect::<Vec<_>>()),
        (1usize..5).prop_flat_map(|n| (0..n).map(venue).collect::<Vec<_>>()),
        0f64..3.0,
        100u32..2_000,
    )
        .prop_map(
            move |(seed, tick_ms, mints, venues, volatility_bps, max_drift_bps)| MarketConfig {
                seed,
                tick_ms,
                mints,
                venues,
                walk: WalkConfig {
                    volatility_bps,
                    max_drift_bps,
                },
                dislocations: DislocationConfig {
                    per_minute: rate,
                    min_bps: 2_000,
                    max_bps: 3_000,
                    min_duration_ms: 400,
                    max_duration_ms: 5_000,
                },
            },
        )
        .prop_filter("valid", |c| c.validate().is_ok())
}

fn build(cfg: MarketConfig) -> Market {
    Market::new(cfg, Instant::now()).expect("validated")
}

fn pick<T: Copy>(items: &[T], i: prop::sample::Index) -> T {
    items[i.index(items.len())]
}

fn pair(m: &Market, a: prop::sample::Index, b: prop::sample::Index) -> (MintId, MintId) {
    let mints: Vec<MintId> = m.mint_ids().collect();
    let x = pick(&mints, a);
    let others: Vec<MintId> = mints.into_iter().filter(|&y| y != x).collect();
    (x, pick(&others, b))
}

fn venue_id(m: &Market, i: prop::sample::Index) -> VenueId {
    pick(&m.venue_ids().collect::<Vec<_>>(), i)
}

/// The most a round trip through `a` then `b` can return per unit (written here from the
/// model's definition, not taken from the crate): each swap keeps `1 − spread/2` and
/// `1 − fee`; through one venue the bases cancel, through two each can shift the cross rate
/// by at most `(1 + basis) / (1 − basis)`.
fn round_trip_bound(m: &Market, a: VenueId, b: VenueId) -> f64 {
    let swap = |v: VenueId| {
        let c = m.venue_info(v).config();
        let basis = if a == b {
            0.0
        } else {
            f64::from(c.basis_bps) / 1e4
        };
        (1.0 - f64::from(c.spread_bps) / 2e4) * (1.0 - f64::from(c.fee_bps) / 1e4) * (1.0 + basis)
            / (1.0 - basis)
    };
    swap(a) * swap(b)
}

/// An amount in `[1, max]`, spread over orders of magnitude.
fn scaled(max: u64, fraction: f64) -> u64 {
    ((max as f64).powf(fraction) as u64).clamp(1, max.max(1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Without dislocations, `base → other → base` through any two venues at one instant
    /// returns less than it took.
    #[test]
    fn round_trips_lose_outside_dislocations(
        cfg in config(0.0),
        ms in 0u64..10_000_000,
        (a, b) in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        (va, vb) in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        fraction in 0f64..=1.0,
    ) {
        let m = build(cfg);
        let now = m.epoch() + Duration::from_millis(ms);
        let (base, other) = pair(&m, a, b);
        let (va, vb) = (venue_id(&m, va), venue_id(&m, vb));
        let max = m.max_in_amount(va, base, now);
        // A venue too shallow for one base unit of a pricey, indivisible token quotes nothing.
        prop_assume!(max > 0);
        let amount = scaled(max, fraction);
        let forward = m.quote(va, base, other, amount, now).expect("within depth");
        match m.quote(vb, other, base, forward.out_amount, now) {
            Ok(reverse) => {
                prop_assert!(
                    reverse.out_amount < amount,
                    "{amount} → {} → {}", forward.out_amount, reverse.out_amount
                );
                // It loses at least both half spreads and fees, less what the bases can give.
                let bound = amount as f64 * round_trip_bound(&m, va, vb) * (1.0 + 1e-12) + 1.0;
                prop_assert!(reverse.out_amount as f64 <= bound, "{} > {bound}", reverse.out_amount);
            }
            Err(QuoteError::ZeroAmount | QuoteError::ExceedsDepth { .. }) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
        if let Ok(rt) = m.best_round_trip(base, other, amount, now, |_, _| true) {
            prop_assert!(rt.profit() < 0, "{rt:?}");
        }
    }

    /// A bigger trade never gets a better rate: impact grows, output grows less than size.
    #[test]
    fn impact_grows_with_size(
        cfg in config(0.0),
        ms in 0u64..10_000_000,
        (a, b, v) in (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        (f1, f2) in (0f64..=1.0, 0f64..=1.0),
    ) {
        let m = build(cfg);
        let now = m.epoch() + Duration::from_millis(ms);
        let (x, y) = pair(&m, a, b);
        let v = venue_id(&m, v);
        let max = m.max_in_amount(v, x, now);
        prop_assume!(max > 0);
        let (small, big) = {
            let (p, q) = (scaled(max, f1), scaled(max, f2));
            (p.min(q), p.max(q))
        };
        let qs = m.quote(v, x, y, small, now).expect("within depth");
        let qb = m.quote(v, x, y, big, now).expect("within depth");
        prop_assert!(qs.price_impact_ppb <= qb.price_impact_ppb);
        prop_assert!(qs.out_amount <= qb.out_amount);
        // out(big) / big ≤ out(small) / small, up to the floors of the small quote.
        let lhs = u128::from(qb.out_amount) * u128::from(small);
        let rhs = (u128::from(qs.out_amount) + 4) * u128::from(big);
        prop_assert!(lhs <= rhs, "{small} → {}, {big} → {}", qs.out_amount, qb.out_amount);
        prop_assert!(qb.price_impact_ppb <= 500_000_000);
    }

    /// Any u64 amount: a quote within depth, `ExceedsDepth` naming the exact limit beyond it,
    /// never a panic nor an overflow, at any price a script can set.
    #[test]
    fn no_amount_overflows(
        cfg in config(0.0),
        ms in 0u64..10_000_000,
        (a, b, v) in (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        amount in prop_oneof![
            any::<u64>(),
            Just(u64::MAX),
            Just(1u64),
            (0f64..=64.0).prop_map(|e| 2f64.powf(e) as u64),
        ],
        scripted_price in prop::option::of(prop_oneof![Just(1e-9), Just(1e9), 1e-9f64..1e9]),
    ) {
        let mut m = build(cfg);
        let now = m.epoch() + Duration::from_millis(ms);
        let (x, y) = pair(&m, a, b);
        let v = venue_id(&m, v);
        if let Some(p) = scripted_price {
            m.set_price(x, p, now).expect("in range");
        }
        let max = m.max_in_amount(v, x, now);
        for amount in [amount, max, max.saturating_add(1), amount / 2 + 1] {
            match m.quote(v, x, y, amount, now) {
                Err(QuoteError::ZeroAmount) => prop_assert_eq!(amount, 0),
                Ok(q) => {
                    prop_assert!(amount <= max);
                    prop_assert!(q.price_impact_ppb <= 500_000_000);
                    prop_assert!(q.fee_amount <= q.out_amount.max(1) * 2);
                }
                Err(QuoteError::ExceedsDepth { max_in_amount }) => {
                    prop_assert!(amount > max);
                    prop_assert_eq!(max_in_amount, max);
                }
                // Only a scripted price can push an output past a u64.
                Err(QuoteError::OutputOverflow) => prop_assert!(scripted_price.is_some()),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }

    /// The same seed gives the same quotes and dislocations for the same instants, whatever
    /// order they are asked in.
    #[test]
    fn deterministic_whatever_the_order(
        seed in any::<u64>(),
        mut times in prop::collection::vec(0u64..50_000_000, 1..40),
        order in any::<prop::sample::Index>(),
    ) {
        let cfg = MarketConfig {
            seed,
            dislocations: DislocationConfig { per_minute: 120.0, ..Default::default() },
            ..Default::default()
        };
        let epoch = Instant::now();
        let (a, b) = (Market::new(cfg.clone(), epoch).expect("valid"), Market::new(cfg, epoch).expect("valid"));
        let read = |m: &Market, ms: u64| {
            let now = epoch + Duration::from_millis(ms);
            let quotes: Vec<_> = m.venue_ids().flat_map(|v| {
                let ids: Vec<MintId> = m.mint_ids().collect();
                [m.quote(v, ids[0], ids[1], 3_000_000_000, now), m.quote(v, ids[2], ids[0], 9_000_000, now)]
            }).collect();
            (quotes, m.open_dislocations(now))
        };
        let first: Vec<_> = times.iter().map(|&t| read(&a, t)).collect();
        // Rotate, then reverse: another order over the same instants.
        let k = order.index(times.len());
        times.rotate_left(k);
        times.reverse();
        let mut second: Vec<_> = times.iter().map(|&t| (t, read(&b, t))).collect();
        second.reverse();
        second.rotate_right(k);
        for (x, (_, y)) in first.iter().zip(&second) {
            prop_assert_eq!(x, y);
        }
    }

    /// Trades and script actions change the market from their instant on, never before it.
    #[test]
    fn the_past_stays_as_it_was(
        seed in any::<u64>(),
        actions in prop::collection::vec((0u8..6, 1u64..60, any::<prop::sample::Index>(), -300i32..300), 1..25),
    ) {
        let cfg = MarketConfig {
            seed,
            dislocations: DislocationConfig { per_minute: 60.0, ..Default::default() },
            ..Default::default()
        };
        let mut m = build(cfg);
        let ids: Vec<MintId> = m.mint_ids().collect();
        let venues: Vec<VenueId> = m.venue_ids().collect();
        let observe = |m: &Market, tick: u64| {
            let now = m.epoch() + m.tick_duration() * tick as u32;
            let trip = m.best_round_trip(ids[0], ids[1], 1_000_000_000, now, |_, _| true);
            (trip, m.open_dislocations(now), m.fair_price(ids[0], now).to_bits())
        };
        let mut tick = 10;
        let mut seen = Vec::new();
        for (kind, step, which, offset) in actions {
            tick += step;
            seen.push((tick - 1, observe(&m, tick - 1)));
            let now = m.epoch() + m.tick_duration() * tick as u32;
            match kind {
                0 => { m.set_price(pick(&ids, which), 1.0 + f64::from(offset.abs()), now).expect("in range"); }
                1 => {
                    let offset = if offset == 0 { 1 } else { offset };
                    m.open_dislocation(pick(&venues, which), pick(&ids, which), offset, None, now)
                        .expect("valid");
                }
                2 => if let Some(d) = m.open_dislocations(now).first() {
                    prop_assert!(m.close_dislocation(d.id, now));
                },
                3 => m.freeze(now),
                4 => m.unfreeze(now),
                _ => if let Ok(rt) = m.best_round_trip(ids[0], ids[1], 1_000_000_000, now, |_, _| true) {
                    m.record_trade(&rt.hops(), now);
                },
            }
        }
        for (tick, before) in seen {
            prop_assert_eq!(observe(&m, tick), before, "tick {}", tick);
        }
    }
}
