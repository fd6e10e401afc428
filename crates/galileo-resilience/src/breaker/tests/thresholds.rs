//! Every threshold of the sans-IO core, on explicit instants (its only clock).

use super::*;
use crate::breaker::{SeededJitter, State, TransitionReason, WindowCounts};
use Outcome::{Failure, Ignored, Success, Timeout};

#[test]
fn consecutive_failures_open_at_the_threshold_and_a_success_resets_the_streak() {
    let mut b = cb(only(|c| c.failure_threshold = 3));
    let t = Instant::now();
    assert_eq!(call(&mut b, t, ms(1), Failure), None);
    assert_eq!(call(&mut b, t, ms(1), Timeout), None);
    assert_eq!(call(&mut b, t, ms(1), Success), None);
    assert_eq!(call(&mut b, t, ms(1), Failure), None);
    assert_eq!(call(&mut b, t, ms(1), Failure), None);
    assert_eq!(b.state(), State::Closed);
    let tr = call(&mut b, t, ms(1), Timeout).unwrap();
    assert_eq!((tr.from, tr.to), (State::Closed, State::Open));
    assert_eq!(
        tr.reason,
        TransitionReason::ConsecutiveFailures { count: 3 }
    );
    assert_eq!(tr.open_until, Some(t + ms(1) + ms(5000)));
    assert_eq!(b.state(), State::Open);
}

#[test]
fn an_ignored_error_neither_breaks_nor_extends_the_streak() {
    let mut b = cb(only(|c| c.failure_threshold = 2));
    let t = Instant::now();
    call(&mut b, t, ms(1), Failure);
    call(&mut b, t, ms(1), Ignored);
    call(&mut b, t, ms(1), Ignored);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(
        b.stats(t).window.calls,
        1,
        "ignored calls stay out of the window"
    );
    assert!(call(&mut b, t, ms(1), Failure).is_some());
}

#[test]
fn the_failure_rate_is_judged_only_from_min_calls_on() {
    let mut b = cb(only(|c| {
        c.failure_rate = Some(0.5);
        c.window_calls = Some(10);
        c.min_calls = 6;
    }));
    let t = Instant::now();
    for _ in 0..4 {
        assert_eq!(call(&mut b, t, ms(1), Failure), None);
    }
    assert_eq!(call(&mut b, t, ms(1), Success), None, "5 calls < min_calls");
    // The sixth call brings the window to min_calls with 4/6 failed: it opens, on a success.
    let tr = call(&mut b, t, ms(1), Success).unwrap();
    assert_eq!(
        tr.reason,
        TransitionReason::FailureRate {
            rate: 4.0 / 6.0,
            calls: 6
        }
    );
}

#[test]
fn a_count_window_judges_only_the_last_n_calls() {
    let mut b = cb(only(|c| {
        c.failure_rate = Some(0.75);
        c.window_calls = Some(4);
        c.min_calls = 4;
    }));
    let t = Instant::now();
    // Over all calls the rate stays below 75%; over the last four it reaches it on the 8th.
    for o in [
        Failure, Failure, Success, Success, Success, Failure, Failure,
    ] {
        assert_eq!(call(&mut b, t, ms(1), o), None);
    }
    let tr = call(&mut b, t, ms(1), Failure).unwrap();
    assert_eq!(
        tr.reason,
        TransitionReason::FailureRate {
            rate: 0.75,
            calls: 4
        }
    );
}

#[test]
fn a_time_window_forgets_calls_older_than_its_length() {
    let mut b = cb(only(|c| {
        c.failure_rate = Some(0.5);
        c.window_ms = Some(1000);
        c.window_buckets = 10;
        c.min_calls = 4;
    }));
    let t = Instant::now();
    for _ in 0..3 {
        call(&mut b, t, ms(0), Failure);
    }
    // 1.1 s later those three failures have left the window.
    let later = t + ms(1100);
    assert_eq!(call(&mut b, later, ms(0), Success), None);
    assert_eq!(call(&mut b, later, ms(0), Success), None);
    assert_eq!(call(&mut b, later, ms(0), Failure), None);
    assert_eq!(b.stats(later).window.calls, 3);
    let tr = call(&mut b, later + ms(50), ms(0), Failure).unwrap();
    assert_eq!(
        tr.reason,
        TransitionReason::FailureRate {
            rate: 0.5,
            calls: 4
        }
    );
}

#[test]
fn the_slow_call_rate_opens_the_breaker_and_slow_failures_count_as_slow() {
    let mut b = cb(only(|c| {
        c.slow_call_ms = Some(500);
        c.slow_call_rate = Some(0.5);
        c.window_calls = Some(10);
        c.min_calls = 4;
    }));
    let t = Instant::now();
    assert_eq!(call(&mut b, t, ms(500), Success), None); // slow (at the threshold)
    assert_eq!(call(&mut b, t, ms(499), Success), None);
    assert_eq!(call(&mut b, t, ms(100), Success), None);
    let tr = call(&mut b, t, ms(900), Failure).unwrap(); // slow failure: 2/4 slow
    assert_eq!(
        tr.reason,
        TransitionReason::SlowCallRate {
            rate: 0.5,
            calls: 4
        }
    );
    assert_eq!(b.stats(t).totals.slow, 2);
}

#[test]
fn slow_calls_without_a_slow_rate_are_counted_but_never_trip() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 100;
        c.slow_call_ms = Some(10);
        c.min_calls = 1;
    }));
    let t = Instant::now();
    for _ in 0..50 {
        assert_eq!(call(&mut b, t, ms(20), Success), None);
    }
    let s = b.stats(t);
    assert_eq!(
        (s.state, s.window.slow, s.slow_rate),
        (State::Closed, 50, 1.0)
    );
}

fn trip(b: &mut Cb, at: Instant) -> Transition {
    let p = b.acquire(at).unwrap();
    b.record(p, Failure, at)
        .expect("one failure trips these breakers")
}

#[test]
fn open_refuses_until_exactly_open_ms_then_lets_one_probe_through() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 2000;
    }));
    let t = Instant::now();
    trip(&mut b, t);
    let r = b.acquire(t + ms(1999)).unwrap_err();
    assert_eq!((r.state, r.retry_at), (State::Open, Some(t + ms(2000))));
    assert_eq!(b.stats(t + ms(500)).half_open_in, Some(ms(1500)));
    let probe = b.acquire(t + ms(2000)).unwrap();
    assert!(probe.is_probe());
    let tr = probe.transition().unwrap();
    assert_eq!(
        (tr.from, tr.to, tr.reason),
        (
            State::Open,
            State::HalfOpen,
            TransitionReason::OpenTimeElapsed
        )
    );
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.stats(t).totals.rejected, 1);
    b.release(probe);
}

#[test]
fn the_open_time_grows_per_reopen_up_to_its_cap_and_resets_on_closing() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 1000;
        c.open_multiplier = 2.0;
        c.open_max_ms = Some(3000);
    }));
    let mut t = Instant::now();
    let mut opened = Vec::new();
    let tr = trip(&mut b, t);
    opened.push(tr.open_until.unwrap() - t);
    for _ in 0..3 {
        t = b.open_until().unwrap();
        let probe = b.acquire(t).unwrap();
        let tr = b.record(probe, Failure, t).unwrap();
        assert_eq!(
            (tr.from, tr.reason),
            (State::HalfOpen, TransitionReason::ProbeFailed)
        );
        opened.push(tr.open_until.unwrap() - t);
    }
    assert_eq!(opened, [ms(1000), ms(2000), ms(3000), ms(3000)]);
    assert_eq!(b.stats(t).open_streak, 4);
    // A successful probe closes it; the next trip starts from open_ms again.
    t = b.open_until().unwrap();
    call(&mut b, t, ms(0), Success).unwrap();
    assert_eq!(trip(&mut b, t).open_until, Some(t + ms(1000)));
}

#[test]
fn jitter_spreads_the_open_time_by_the_configured_fraction() {
    let cfg = only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 1000;
        c.open_jitter = 0.2;
    });
    let t = Instant::now();
    for (sample, expect) in [(0.0, 800), (0.5, 1000), (0.75, 1100), (1.0, 1200)] {
        let mut b = CircuitBreaker::with_jitter(cfg.clone(), move || sample).unwrap();
        let p = b.acquire(t).unwrap();
        let tr = b.record(p, Failure, t).unwrap();
        assert_eq!(tr.open_until, Some(t + ms(expect)), "sample {sample}");
    }
    // A seeded source: reproducible, within ±20%, and not constant.
    let times = |seed| {
        let mut b = CircuitBreaker::with_jitter(cfg.clone(), SeededJitter::new(seed)).unwrap();
        let mut t = t;
        let mut v = Vec::new();
        for _ in 0..20 {
            let p = b.acquire(t).unwrap();
            let tr = b.record(p, Failure, t).unwrap();
            let until = tr.open_until.unwrap();
            v.push(until - t);
            t = until;
            let probe = b.acquire(t).unwrap();
            b.record(probe, Success, t).unwrap();
        }
        v
    };
    let a = times(42);
    assert_eq!(a, times(42));
    assert!(a.iter().all(|d| (ms(800)..=ms(1200)).contains(d)), "{a:?}");
    assert!(a.iter().any(|d| *d != a[0]));
}

#[test]
fn half_open_needs_enough_successes_in_a_row_and_any_failure_reopens() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
        c.half_open_successes = 3;
    }));
    let t = Instant::now();
    trip(&mut b, t);
    let t = t + ms(100);
    assert_eq!(call(&mut b, t, ms(1), Success), None);
    assert_eq!(call(&mut b, t, ms(1), Success), None);
    assert_eq!(b.stats(t).probe_successes, 2);
    let tr = call(&mut b, t, ms(1), Timeout).unwrap();
    assert_eq!((tr.from, tr.to), (State::HalfOpen, State::Open));
    // The next half-open period starts counting from zero.
    let t = b.open_until().unwrap();
    assert_eq!(call(&mut b, t, ms(1), Success), None);
    assert_eq!(call(&mut b, t, ms(1), Success), None);
    let tr = call(&mut b, t, ms(1), Success).unwrap();
    assert_eq!(
        (tr.to, tr.reason),
        (
            State::Closed,
            TransitionReason::ProbesSucceeded { successes: 3 }
        )
    );
    // Closing starts a fresh window and streak.
    let s = b.stats(t);
    assert_eq!(
        (s.window, s.consecutive_failures),
        (WindowCounts::default(), 0)
    );
}

#[test]
fn half_open_caps_probes_in_flight_and_frees_a_slot_on_release_or_ignore() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
        c.half_open_max_probes = 2;
        c.half_open_successes = 5;
    }));
    let t = Instant::now();
    trip(&mut b, t);
    let t = t + ms(100);
    let p1 = b.acquire(t).unwrap();
    let p2 = b.acquire(t).unwrap();
    assert!(
        p2.transition().is_none(),
        "only the first probe turns it half-open"
    );
    let r = b.acquire(t).unwrap_err();
    assert_eq!((r.state, r.retry_at), (State::HalfOpen, None));
    // An abandoned probe frees its slot and decides nothing.
    b.release(p1);
    assert_eq!(b.stats(t).probes_in_flight, 1);
    let p3 = b.acquire(t).unwrap();
    assert!(b.acquire(t).is_err());
    // An ignored outcome frees the slot too.
    assert_eq!(b.record(p3, Ignored, t), None);
    let p4 = b.acquire(t).unwrap();
    b.record(p2, Success, t);
    b.record(p4, Success, t);
    let s = b.stats(t);
    assert_eq!(
        (s.state, s.probes_in_flight, s.probe_successes),
        (State::HalfOpen, 0, 2)
    );
    assert_eq!((s.totals.cancelled, s.totals.ignored), (1, 1));
}

#[test]
fn a_slow_probe_reopens_when_slow_calls_can_trip() {
    let mut b = cb(only(|c| {
        c.slow_call_ms = Some(200);
        c.slow_call_rate = Some(0.5);
        c.min_calls = 1;
        c.open_ms = 100;
    }));
    let t = Instant::now();
    assert!(call(&mut b, t, ms(300), Success).is_some());
    let t = b.open_until().unwrap();
    let tr = call(&mut b, t, ms(300), Success).unwrap();
    assert_eq!(
        (tr.from, tr.to, tr.reason),
        (State::HalfOpen, State::Open, TransitionReason::ProbeSlow)
    );
    let t = b.open_until().unwrap();
    assert_eq!(call(&mut b, t, ms(100), Success).unwrap().to, State::Closed);
}

#[test]
fn outcomes_from_an_earlier_state_cannot_move_the_breaker() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 100;
        c.half_open_max_probes = 2;
        c.half_open_successes = 2;
    }));
    let t = Instant::now();
    let slow = b.acquire(t).unwrap(); // started while closed
    trip(&mut b, t);
    // It ends while open: counted, but the breaker stays as it is.
    assert_eq!(b.record(slow, Failure, t + ms(10)), None);
    assert_eq!(b.open_until(), Some(t + ms(100)));
    let t = t + ms(100);
    let old_probe = b.acquire(t).unwrap();
    let failing_probe = b.acquire(t).unwrap();
    b.record(failing_probe, Failure, t).unwrap();
    // Half-open again: the probe of the previous half-open period neither counts as a success
    // nor holds one of the new period's slots.
    let t = b.open_until().unwrap();
    let p1 = b.acquire(t).unwrap();
    assert_eq!(b.record(old_probe, Success, t), None);
    let s = b.stats(t);
    assert_eq!((s.probes_in_flight, s.probe_successes), (1, 0));
    let p2 = b.acquire(t).unwrap();
    b.record(p1, Success, t);
    assert_eq!(b.record(p2, Success, t).unwrap().to, State::Closed);
    assert_eq!(b.stats(t).totals.failures, 3);
}

#[test]
fn stats_report_the_window_rates_and_totals() {
    let mut b = cb(only(|c| {
        c.failure_threshold = 10;
        c.slow_call_ms = Some(100);
        c.window_calls = Some(4);
    }));
    let t = Instant::now();
    for (o, d) in [
        (Success, 150),
        (Failure, 10),
        (Timeout, 150),
        (Ignored, 500),
    ] {
        call(&mut b, t, ms(d), o);
    }
    let s = b.stats(t);
    assert_eq!(
        s.window,
        WindowCounts {
            calls: 3,
            failures: 2,
            slow: 2
        }
    );
    assert_eq!((s.failure_rate, s.slow_rate), (2.0 / 3.0, 2.0 / 3.0));
    assert_eq!(s.consecutive_failures, 2);
    let tot = s.totals;
    assert_eq!(
        (
            tot.successes,
            tot.failures,
            tot.timeouts,
            tot.ignored,
            tot.slow
        ),
        (1, 1, 1, 1, 2)
    );
    assert_eq!(s.half_open_in, None);
}
