//! Properties of the state machine under any sequence of calls, outcomes, durations and time
//! steps, for any valid configuration.

use proptest::prelude::*;

use super::*;
use crate::breaker::window::Window;
use crate::breaker::{Permit, SeededJitter, State, WindowCounts, WindowSpec};

#[derive(Clone, Debug)]
enum Op {
    /// Ask to make a call.
    Acquire,
    /// Finish the i-th outstanding call (modulo their number).
    Record(usize, Outcome),
    /// Abandon the i-th outstanding call.
    Release(usize),
    /// Let time pass.
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![
        3 => Just(Outcome::Success),
        3 => Just(Outcome::Failure),
        1 => Just(Outcome::Timeout),
        1 => Just(Outcome::Ignored),
    ];
    prop_oneof![
        4 => Just(Op::Acquire),
        4 => (any::<usize>(), outcome).prop_map(|(i, o)| Op::Record(i, o)),
        1 => any::<usize>().prop_map(Op::Release),
        3 => prop_oneof![0..50u64, 0..3000u64].prop_map(Op::Advance),
    ]
}

fn config() -> impl Strategy<Value = BreakerConfig> {
    (
        (
            0..5u32,
            proptest::option::of(0.1..=1.0f64),
            proptest::option::of(1..400u64),
            proptest::option::of(0.1..=1.0f64),
            prop_oneof![
                (1..20u32).prop_map(|n| (Some(n), None)),
                (10..2000u64).prop_map(|ms| (None, Some(ms))),
            ],
            1..10u32,
            1..10u32,
        ),
        (
            1..2000u64,
            1.0..3.0f64,
            proptest::option::of(0..5000u64),
            0.0..0.9f64,
            1..4u32,
            1..4u32,
        ),
    )
        .prop_map(
            |(
                (threshold, rate, slow_ms, slow_rate, (wcalls, wms), buckets, min_calls),
                (open_ms, mult, extra_max, jitter, successes, probes),
            )| BreakerConfig {
                failure_threshold: threshold,
                failure_rate: rate,
                slow_call_ms: slow_ms,
                slow_call_rate: slow_ms.and(slow_rate),
                window_calls: wcalls,
                window_ms: wms,
                window_buckets: buckets,
                min_calls: wcalls.map_or(min_calls, |n| min_calls.min(n)),
                open_ms,
                open_multiplier: if extra_max.is_some() { mult } else { 1.0 },
                open_max_ms: extra_max.map(|e| open_ms + e),
                open_jitter: jitter,
                half_open_successes: successes,
                half_open_max_probes: probes,
                call_timeout_ms: None,
            },
        )
        .prop_filter("valid", |c| c.validate().is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Transitions follow only the four legal edges, each from the state the breaker was in;
    /// no probe slot leaks or is over-granted; refusals happen only when open (before the
    /// open time is up) or half-open with every slot busy; open times stay within their bounds.
    #[test]
    fn transitions_follow_only_legal_edges(
        cfg in config(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..300),
    ) {
        let mut b = CircuitBreaker::with_jitter(cfg.clone(), SeededJitter::new(seed)).unwrap();
        let mut now = Instant::now();
        // Outstanding permits, each with the period (transitions seen so far) it was granted in.
        let mut outstanding: Vec<(Permit, u32)> = Vec::new();
        let mut period = 0u32;
        let longest_open = cfg.open_max().mul_f64(1.0 + cfg.open_jitter) + ms(1);
        let check = |t: &Transition, before: State, after: State, now: Instant| -> Result<(), TestCaseError> {
            prop_assert_eq!(t.from, before);
            prop_assert!(before.can_move_to(t.to), "illegal edge {} -> {}", t.from, t.to);
            prop_assert_eq!(t.to, after);
            prop_assert_eq!(t.at, now);
            if t.to == State::Open {
                let until = t.open_until.unwrap();
                prop_assert!(until > now && until - now <= longest_open, "{:?}", until - now);
            } else {
                prop_assert_eq!(t.open_until, None);
            }
            Ok(())
        };
        for op in ops {
            let before = b.state();
            let live_probes = |o: &[(Permit, u32)], period: u32| {
                o.iter().filter(|(p, at)| p.is_probe() && *at == period).count() as u32
            };
            match op {
                Op::Acquire => {
                    let open_until = b.open_until();
                    let busy = live_probes(&outstanding, period);
                    match b.acquire(now) {
                        Ok(p) => {
                            if let Some(t) = p.transition() {
                                prop_assert_eq!(t.to, State::HalfOpen);
                                check(t, before, b.state(), now)?;
                                prop_assert!(open_until.unwrap() <= now);
                                period += 1;
                            } else {
                                prop_assert_eq!(b.state(), before);
                                prop_assert!(before != State::Open);
                            }
                            prop_assert_eq!(p.is_probe(), b.state() == State::HalfOpen);
                            prop_assert_eq!(p.started(), now);
                            outstanding.push((p, period));
                            prop_assert!(live_probes(&outstanding, period) <= cfg.half_open_max_probes);
                        }
                        Err(r) => {
                            prop_assert_eq!(b.state(), before);
                            prop_assert_eq!(r.state, before);
                            match before {
                                State::Open => prop_assert!(r.retry_at.unwrap() > now),
                                State::HalfOpen => {
                                    prop_assert_eq!(r.retry_at, None);
                                    prop_assert_eq!(busy, cfg.half_open_max_probes);
                                }
                                State::Closed => prop_assert!(false, "a closed breaker refused"),
                            }
                        }
                    }
                }
                Op::Record(i, outcome) if !outstanding.is_empty() => {
                    let (p, granted_in) = outstanding.swap_remove(i % outstanding.len());
                    match b.record(p, outcome, now) {
                        Some(t) => {
                            check(&t, before, b.state(), now)?;
                            prop_assert!(t.to != State::HalfOpen, "only acquire turns it half-open");
                            prop_assert_eq!(granted_in, period, "a stale permit moved the breaker");
                            if before == State::Closed {
                                prop_assert!(outcome != Outcome::Ignored);
                            } else {
                                // From half-open: a failure, or a success that completes the set
                                // (or is slow while slow calls can trip).
                                prop_assert_eq!(outcome.is_failure(), t.to == State::Open
                                    && t.reason == crate::breaker::TransitionReason::ProbeFailed);
                            }
                            period += 1;
                        }
                        None => prop_assert_eq!(b.state(), before),
                    }
                }
                Op::Release(i) if !outstanding.is_empty() => {
                    let (p, _) = outstanding.swap_remove(i % outstanding.len());
                    b.release(p);
                    prop_assert_eq!(b.state(), before);
                }
                Op::Record(..) | Op::Release(_) => {}
                Op::Advance(d) => now += ms(d),
            }
            // The breaker's count of probes in flight is exactly the outstanding probes of the
            // current half-open period.
            let stats = b.stats(now);
            if b.state() == State::HalfOpen {
                prop_assert_eq!(stats.probes_in_flight, live_probes(&outstanding, period));
                prop_assert!(stats.probe_successes < cfg.half_open_successes);
            } else {
                prop_assert_eq!(stats.probes_in_flight, 0);
            }
            prop_assert_eq!(stats.half_open_in.is_some(), b.state() == State::Open);
            if b.state() == State::Closed && cfg.failure_threshold > 0 {
                prop_assert!(stats.consecutive_failures < cfg.failure_threshold);
            }
        }
        // Handing everything back leaves no probe slot taken.
        for (p, _) in outstanding.drain(..) {
            b.release(p);
        }
        prop_assert_eq!(b.stats(now).probes_in_flight, 0);
    }
}

proptest! {
    /// The running totals of a window equal a naive recount of its calls.
    #[test]
    fn windows_count_exactly_their_calls(
        spec in prop_oneof![
            (1..20u32).prop_map(|calls| WindowSpec::Count { calls }),
            (10..2000u64, 1..20u32).prop_map(|(l, buckets)| WindowSpec::Time { length: ms(l), buckets }),
        ],
        calls in proptest::collection::vec((0..400u64, any::<bool>(), any::<bool>()), 1..200),
    ) {
        let mut w = Window::new(spec);
        let t0 = Instant::now();
        let mut now = t0;
        let mut log: Vec<(Instant, bool, bool)> = Vec::new();
        for (step, failure, slow) in calls {
            now += ms(step);
            let got = w.record(now, failure, slow);
            log.push((now, failure, slow));
            let kept: Vec<_> = match spec {
                WindowSpec::Count { calls } => log.iter().rev().take(calls as usize).collect(),
                WindowSpec::Time { length, buckets } => {
                    // Buckets are aligned on the first call the window saw.
                    let origin = log[0].0;
                    let width = (length / buckets).as_nanos();
                    let bucket = |t: Instant| (t - origin).as_nanos() / width;
                    let newest = bucket(now);
                    log.iter()
                        .filter(|(t, ..)| bucket(*t) + u128::from(buckets) > newest)
                        .collect()
                }
            };
            let want = WindowCounts {
                calls: kept.len() as u32,
                failures: kept.iter().filter(|c| c.1).count() as u32,
                slow: kept.iter().filter(|c| c.2).count() as u32,
            };
            prop_assert_eq!(got, want);
            prop_assert_eq!(w.counts_at(now), want);
        }
    }
}
