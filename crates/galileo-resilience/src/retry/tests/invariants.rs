//! Proptests of the cores' invariants: every delay within the policy's bounds, the loop's
//! retry count, and the budget's ceiling.

use std::time::Duration;

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::retry::{
    Backoff, GiveUp, Jitter, Next, RetryBudget, RetryBudgetConfig, RetryDecision, RetryPolicy,
    RetryState,
};

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (1u64..5_000, 1.0f64..8.0, 0u64..120_000, jitter(), 0u32..20).prop_map(
        |(initial, multiplier, extra, jitter, retries)| RetryPolicy {
            max_retries: retries,
            initial_delay_ms: initial,
            multiplier,
            max_delay_ms: initial + extra,
            jitter,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The un-jittered backoff starts at initial_delay, grows by at most the multiplier, never
    /// shrinks, and stops at max_delay.
    #[test]
    fn the_base_backoff_grows_geometrically_to_the_cap(p in policy()) {
        let b = Backoff::new(&p).unwrap();
        let (initial, max) = (p.initial_delay(), p.max_delay());
        prop_assert_eq!(b.base_delay(0), initial);
        for n in 0..64 {
            let (now, next) = (b.base_delay(n), b.base_delay(n + 1));
            prop_assert!(now <= next && next <= max, "{:?} then {:?}", now, next);
            let grown = now.as_secs_f64() * p.multiplier;
            // Grows by the multiplier until it reaches the cap, up to the whole nanoseconds each
            // delay is truncated to (one of this delay's, scaled by the multiplier, and one of
            // the next one's).
            let slack = (p.multiplier + 1.0) * 1e-9;
            prop_assert!(next.as_secs_f64() <= grown + slack, "{:?} then {:?}", now, next);
            prop_assert!(
                next == max || next.as_secs_f64() >= grown - slack,
                "{:?} then {:?}", now, next
            );
        }
    }

    /// Every delay, for every jitter kind and with server hints interleaved, stays within the
    /// policy's bounds.
    #[test]
    fn every_delay_is_within_the_policys_bounds(
        p in policy(),
        seed in any::<u64>(),
        hints in prop::collection::vec(prop::option::weighted(0.2, 0u64..300_000), 1..40),
    ) {
        let mut b = Backoff::new(&p).unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let (initial, max) = (p.initial_delay(), p.max_delay());
        let mut previous = initial;
        for (n, hint) in hints.into_iter().enumerate() {
            let base = b.base_delay(n as u32);
            let d = match hint {
                Some(ms) => {
                    let d = b.next_delay_after(Duration::from_millis(ms));
                    prop_assert_eq!(d, Duration::from_millis(ms).clamp(initial, max));
                    d
                }
                None => {
                    let d = b.next_delay(&mut rng);
                    match p.jitter {
                        Jitter::None => prop_assert_eq!(d, base),
                        Jitter::Full => prop_assert!(d <= base, "{:?} > {:?}", d, base),
                        Jitter::Equal => prop_assert!(
                            base / 2 <= d && d <= base, "{:?} outside [{:?}/2, {:?}]", d, base, base
                        ),
                        Jitter::Decorrelated => prop_assert!(
                            initial <= d && d <= (previous * 3).min(max),
                            "{:?} outside [{:?}, min({:?}, 3 × {:?})]", d, initial, max, previous
                        ),
                    }
                    d
                }
            };
            prop_assert!(d <= max, "{:?} > max {:?}", d, max);
            previous = d;
        }
    }

    /// Retrying every error without a budget makes exactly max_retries retries, numbered 1..,
    /// then gives up.
    #[test]
    fn the_loop_makes_exactly_max_retries(p in policy(), seed in any::<u64>()) {
        let mut s = RetryState::new(&p).unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let t = Instant::now();
        for expected in 1..=p.max_retries {
            match s.on_failure(RetryDecision::Retry, t, None, &mut rng) {
                Next::RetryAt { retry, at, delay } => {
                    prop_assert_eq!(retry, expected);
                    prop_assert_eq!(at, t + delay);
                }
                other => prop_assert!(false, "retry {} refused: {:?}", expected, other),
            }
        }
        let last = s.on_failure(RetryDecision::Retry, t, None, &mut rng);
        prop_assert_eq!(last, Next::GiveUp(GiveUp::Exhausted));
        prop_assert_eq!(s.attempts(), p.max_retries + 1);
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Deposit,
    Withdraw,
}

fn ops() -> impl Strategy<Value = Vec<(u64, Op)>> {
    let op = prop_oneof![3 => Just(Op::Deposit), 2 => Just(Op::Withdraw)];
    prop::collection::vec((prop_oneof![3 => 0u64..5, 1 => 0u64..600], op), 1..400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// At every retry the budget grants, the retries in its window (that one included) are at
    /// most floor × window seconds + ratio × requests in the window; and when it refuses one,
    /// granting it would have broken that bound (so the budget is exact, not merely stingy).
    ///
    /// The window is the current bucket and the nine before it (buckets are a tenth of
    /// window_ms, counted from the first call), which the model recomputes from its own list
    /// of timestamps.
    #[test]
    fn the_budget_never_allows_more_than_floor_plus_ratio(
        window_ms in 10u64..2_000,
        floor in 0u32..5,
        ratio_pct in 0u32..300,
        ops in ops(),
    ) {
        prop_assume!(floor > 0 || ratio_pct > 0);
        let cfg = RetryBudgetConfig {
            window_ms,
            min_retries_per_sec: floor,
            retry_ratio: f64::from(ratio_pct) / 100.0,
        };
        let mut budget = RetryBudget::new(&cfg).unwrap();
        // The budget counts buckets from the first `now` it sees: the first op's time.
        let t0 = Instant::now() + Duration::from_millis(ops[0].0);
        let bucket_ns = u128::from(window_ms) * 1_000_000 / 10;
        let mut elapsed_ms = 0u64;
        let ops = ops.into_iter().enumerate().map(|(i, (ms, op))| (if i == 0 { 0 } else { ms }, op));
        let mut deposits: Vec<u128> = Vec::new();
        let mut withdrawals: Vec<u128> = Vec::new();
        for (advance_ms, op) in ops {
            elapsed_ms += advance_ms;
            let now_ns = u128::from(elapsed_ms) * 1_000_000;
            let now = t0 + Duration::from_millis(elapsed_ms);
            let bucket = now_ns / bucket_ns;
            let start_ns = bucket.saturating_sub(9) * bucket_ns;
            let in_window = |ts: &Vec<u128>| ts.iter().filter(|t| **t >= start_ns).count() as f64;
            match op {
                Op::Deposit => {
                    budget.deposit(now);
                    deposits.push(now_ns);
                }
                Op::Withdraw => {
                    let granted = budget.try_withdraw(now);
                    let retries = in_window(&withdrawals) + 1.0;
                    let requests = in_window(&deposits);
                    let floor_allows = f64::from(floor) * window_ms as f64 / 1000.0;
                    let ratio = cfg.retry_ratio;
                    if granted {
                        withdrawals.push(now_ns);
                        prop_assert!(
                            retries <= floor_allows + ratio * requests + 1e-9,
                            "granted retry {} with floor {} + {} × {} requests", retries,
                            floor_allows, ratio, requests
                        );
                    } else {
                        // Refusals are owed to the bound (the ratio may round down by 1e-6).
                        prop_assert!(
                            retries > floor_allows + (ratio - 1e-6) * requests - 1e-9,
                            "refused retry {} though floor {} + {} × {} requests allow it",
                            retries, floor_allows, ratio, requests
                        );
                    }
                }
            }
        }
    }
}
