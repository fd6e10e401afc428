//! A limit chosen in configuration: GCRA or a sliding window, behind one [`Algorithm`].

use std::num::NonZeroU32;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::{Algorithm, Decision, Gcra, Quota, SlidingWindow, WindowLog};
use crate::Error;

/// GCRA or a sliding window, dispatched statically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// A token bucket as GCRA: `burst` at once, refilled at a steady rate.
    Gcra(Quota),
    /// At most N per window, counted exactly.
    SlidingWindow(SlidingWindow),
}

/// The state of a [`Limit`] for one key.
#[derive(Clone, Debug, Default)]
pub enum LimitState {
    /// Nothing admitted yet.
    #[default]
    Fresh,
    /// GCRA state.
    Gcra(Gcra),
    /// Sliding-window log.
    Window(WindowLog),
}

impl Limit {
    /// The same limit at `share` (0 < share ≤ 1) of its size, at least one cell: what each of
    /// N instances may admit alone when the shared backend is down.
    pub fn scaled(&self, share: f64) -> Limit {
        // Outside (0, 1] (or NaN) means "as little as possible", never more than the original.
        let share = if share.is_finite() && share > 0.0 {
            share.min(1.0)
        } else {
            f64::MIN_POSITIVE
        };
        let scale = |n: u32| {
            let scaled = (f64::from(n) * share).floor() as u32;
            NonZeroU32::new(scaled.max(1)).expect("at least one")
        };
        match *self {
            Limit::Gcra(q) => {
                // Same burst share, and the interval stretched by 1/share.
                let interval = Duration::try_from_secs_f64(q.interval().as_secs_f64() / share)
                    .unwrap_or(Quota::MAX_WINDOW);
                let burst = NonZeroU32::new(q.burst()).expect("burst ≥ 1");
                // Stretched past a year's window: clamp to the slowest rate allowed (stricter,
                // never the unscaled, laxer quota).
                let period = interval.saturating_mul(q.burst()).min(Quota::MAX_WINDOW);
                let scaled = Quota::new(burst, period).expect("a window of at most a year");
                Limit::Gcra(scaled.with_burst(scale(q.burst())))
            }
            Limit::SlidingWindow(w) => Limit::SlidingWindow(
                SlidingWindow::new(scale(w.limit()), w.window()).expect("same window"),
            ),
        }
    }
}

impl Algorithm for Limit {
    type State = LimitState;

    fn limit(&self) -> u32 {
        match self {
            Limit::Gcra(q) => q.limit(),
            Limit::SlidingWindow(w) => w.limit(),
        }
    }

    fn peek(&self, state: &mut LimitState, now: Instant, cost: u32) -> Decision {
        match (self, state) {
            (Limit::Gcra(q), LimitState::Gcra(g)) => q.peek(g, now, cost),
            (Limit::SlidingWindow(w), LimitState::Window(log)) => w.peek(log, now, cost),
            (Limit::Gcra(q), _) => q.peek(&mut Gcra::new(), now, cost),
            (Limit::SlidingWindow(w), _) => w.peek(&mut WindowLog::default(), now, cost),
        }
    }

    fn commit(&self, state: &mut LimitState, now: Instant, cost: u32) {
        match (self, &mut *state) {
            (Limit::Gcra(q), LimitState::Gcra(g)) => q.commit(g, now, cost),
            (Limit::SlidingWindow(w), LimitState::Window(log)) => w.commit(log, now, cost),
            (Limit::Gcra(q), _) => {
                let mut g = Gcra::new();
                q.commit(&mut g, now, cost);
                *state = LimitState::Gcra(g);
            }
            (Limit::SlidingWindow(w), _) => {
                let mut log = WindowLog::default();
                w.commit(&mut log, now, cost);
                *state = LimitState::Window(log);
            }
        }
    }

    fn is_idle(&self, state: &LimitState, now: Instant) -> bool {
        match (self, state) {
            (Limit::Gcra(q), LimitState::Gcra(g)) => q.is_idle(g, now),
            (Limit::SlidingWindow(w), LimitState::Window(log)) => w.is_idle(log, now),
            _ => true,
        }
    }
}

/// The configuration form of a [`Limit`]:
/// `{ algorithm = "gcra", requests = 10, period_ms = 1000, burst = 5 }` or
/// `{ algorithm = "sliding_window", requests = 100, window_ms = 60000 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "algorithm", rename_all = "snake_case", deny_unknown_fields)]
pub enum LimitSpec {
    /// GCRA: `requests` per `period_ms` (default 1000), `burst` at once (default `requests`).
    Gcra {
        /// Cells per period.
        requests: u32,
        /// The period in milliseconds.
        #[serde(default = "one_second")]
        period_ms: u64,
        /// Cells admitted back to back.
        #[serde(default)]
        burst: Option<u32>,
    },
    /// Sliding window: at most `requests` in any `window_ms`.
    SlidingWindow {
        /// Cells per window.
        requests: u32,
        /// The window in milliseconds.
        window_ms: u64,
    },
}

fn one_second() -> u64 {
    1000
}

impl TryFrom<LimitSpec> for Limit {
    type Error = Error;

    fn try_from(spec: LimitSpec) -> Result<Self, Error> {
        let nz = |n: u32, what: &str| {
            NonZeroU32::new(n).ok_or_else(|| Error::InvalidQuota {
                reason: format!(
                    "{what} must be at least 1 (remove the limit instead of setting 0)"
                ),
            })
        };
        match spec {
            LimitSpec::Gcra {
                requests,
                period_ms,
                burst,
            } => {
                let q = Quota::new(nz(requests, "requests")?, Duration::from_millis(period_ms))?;
                let q = match burst {
                    Some(b) => q.try_with_burst(nz(b, "burst")?)?,
                    None => q,
                };
                Ok(Limit::Gcra(q))
            }
            LimitSpec::SlidingWindow {
                requests,
                window_ms,
            } => Ok(Limit::SlidingWindow(SlidingWindow::new(
                nz(requests, "requests")?,
                Duration::from_millis(window_ms),
            )?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct W {
        l: LimitSpec,
    }

    fn limit(text: &str) -> Result<Limit, String> {
        let w: W = toml::from_str(text).map_err(|e| e.to_string())?;
        Limit::try_from(w.l).map_err(|e| e.to_string())
    }

    #[test]
    fn both_algorithms_parse_and_mistakes_are_explained() {
        assert!(matches!(
            limit(r#"l = { algorithm = "gcra", requests = 10, burst = 2 }"#),
            Ok(Limit::Gcra(q)) if q.burst() == 2 && q.interval() == Duration::from_millis(100)
        ));
        assert!(matches!(
            limit(r#"l = { algorithm = "sliding_window", requests = 100, window_ms = 60000 }"#),
            Ok(Limit::SlidingWindow(w)) if w.limit() == 100
        ));
        for (text, needle) in [
            (
                r#"l = { algorithm = "leaky", requests = 1 }"#,
                "unknown variant",
            ),
            (r#"l = { algorithm = "gcra", requests = 0 }"#, "at least 1"),
            (
                r#"l = { algorithm = "sliding_window", requests = 1 }"#,
                "window_ms",
            ),
            (
                r#"l = { algorithm = "sliding_window", requests = 1, window_ms = 0 }"#,
                "longer than zero",
            ),
            (
                r#"l = { algorithm = "gcra", requests = 1, per = 2 }"#,
                "unknown field",
            ),
        ] {
            let e = limit(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn a_share_keeps_at_least_one_cell() {
        let w = Limit::SlidingWindow(
            SlidingWindow::new(NonZeroU32::new(10).unwrap(), Duration::from_secs(1)).unwrap(),
        );
        assert_eq!(w.scaled(0.5).limit(), 5);
        assert_eq!(w.scaled(0.01).limit(), 1);
        let g = Limit::Gcra(Quota::per_second(NonZeroU32::new(10).unwrap()));
        match g.scaled(0.5) {
            Limit::Gcra(q) => {
                assert_eq!(q.burst(), 5);
                assert!(
                    (q.per_second_f64() - 5.0).abs() < 1e-6,
                    "{}",
                    q.per_second_f64()
                );
            }
            other => panic!("{other:?}"),
        }
        // Odd shares never panic and never admit more than the original.
        for share in [1e-30, 0.0, -1.0, f64::NAN, f64::INFINITY, 2.0] {
            assert!(g.scaled(share).limit() <= g.limit(), "{share}");
            assert!(w.scaled(share).limit() <= w.limit(), "{share}");
        }
        // A tiny share of a slow limit clamps to the slowest rate, never back to the original.
        let slow =
            Limit::Gcra(Quota::new(NonZeroU32::MIN, Duration::from_secs(30 * 86_400)).unwrap());
        match slow.scaled(0.001) {
            Limit::Gcra(q) => assert_eq!(q.interval(), Quota::MAX_WINDOW),
            other => panic!("{other:?}"),
        }
    }
}
