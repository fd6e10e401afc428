//! Sliding windows of call outcomes: the last N calls, or the calls of the last T in buckets.
//!
//! Both keep running totals, so recording a call and reading the rates are O(1) (a time window
//! also clears the buckets it slides past, at most one pass over them).

use std::time::Duration;

use tokio::time::Instant;

use super::config::WindowSpec;

/// Calls, failures and slow calls in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WindowCounts {
    /// Calls recorded (successes and failures; ignored and cancelled calls are not).
    pub calls: u32,
    /// Failed calls, timeouts included.
    pub failures: u32,
    /// Calls at least `slow_call_ms` long, whatever their outcome.
    pub slow: u32,
}

impl WindowCounts {
    /// Failed share of the calls, or 0 with no calls.
    pub fn failure_rate(&self) -> f64 {
        ratio(self.failures, self.calls)
    }

    /// Slow share of the calls, or 0 with no calls.
    pub fn slow_rate(&self) -> f64 {
        ratio(self.slow, self.calls)
    }

    fn add(&mut self, failure: bool, slow: bool) {
        self.calls += 1;
        self.failures += u32::from(failure);
        self.slow += u32::from(slow);
    }
}

fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

const FAILURE: u8 = 1;
const SLOW: u8 = 2;

#[derive(Clone, Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    pub(crate) fn new(spec: WindowSpec) -> Self {
        match spec {
            WindowSpec::Count { calls } => Window::Count(CountWindow {
                ring: vec![0; calls.max(1) as usize].into_boxed_slice(),
                len: 0,
                next: 0,
                counts: WindowCounts::default(),
            }),
            WindowSpec::Time { length, buckets } => {
                let buckets = buckets.max(1);
                Window::Time(TimeWindow {
                    width: (length / buckets).max(Duration::from_nanos(1)),
                    buckets: vec![Bucket::default(); buckets as usize].into_boxed_slice(),
                    origin: None,
                    head: 0,
                    counts: WindowCounts::default(),
                })
            }
        }
    }

    /// Records one call at `now` and returns the totals after it.
    pub(crate) fn record(&mut self, now: Instant, failure: bool, slow: bool) -> WindowCounts {
        match self {
            Window::Count(w) => w.record(failure, slow),
            Window::Time(w) => w.record(now, failure, slow),
        }
    }

    /// The totals as of `now`, without changing anything.
    pub(crate) fn counts_at(&self, now: Instant) -> WindowCounts {
        match self {
            Window::Count(w) => w.counts,
            Window::Time(w) => w.counts_at(now),
        }
    }

    /// Forgets every call.
    pub(crate) fn clear(&mut self) {
        match self {
            Window::Count(w) => {
                w.ring.fill(0);
                w.len = 0;
                w.next = 0;
                w.counts = WindowCounts::default();
            }
            Window::Time(w) => {
                w.buckets.fill(Bucket::default());
                w.origin = None;
                w.head = 0;
                w.counts = WindowCounts::default();
            }
        }
    }
}

/// The last `ring.len()` calls, one byte of flags each.
#[derive(Clone, Debug)]
pub(crate) struct CountWindow {
    ring: Box<[u8]>,
    len: u32,
    next: u32,
    counts: WindowCounts,
}

impl CountWindow {
    fn record(&mut self, failure: bool, slow: bool) -> WindowCounts {
        let i = self.next as usize;
        if self.len as usize == self.ring.len() {
            let old = self.ring[i];
            self.counts.calls -= 1;
            self.counts.failures -= u32::from(old & FAILURE != 0);
            self.counts.slow -= u32::from(old & SLOW != 0);
        } else {
            self.len += 1;
        }
        self.ring[i] = if failure { FAILURE } else { 0 } | if slow { SLOW } else { 0 };
        self.next = if i + 1 == self.ring.len() {
            0
        } else {
            self.next + 1
        };
        self.counts.add(failure, slow);
        self.counts
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    /// Which bucket of time this is (since the window's origin), to tell stale ones apart.
    index: u64,
    counts: WindowCounts,
}

/// The calls of the last `width × buckets.len()`; the newest bucket fills as time passes.
#[derive(Clone, Debug)]
pub(crate) struct TimeWindow {
    width: Duration,
    buckets: Box<[Bucket]>,
    origin: Option<Instant>,
    /// Index of the newest bucket.
    head: u64,
    /// Totals of the buckets that are still in the window as of `head`.
    counts: WindowCounts,
}

impl TimeWindow {
    fn index_at(&self, origin: Instant, now: Instant) -> u64 {
        let since = now.saturating_duration_since(origin).as_nanos();
        // A window lasts at most a day, so an index fits in u64 for any realistic uptime.
        u64::try_from(since / self.width.as_nanos()).unwrap_or(u64::MAX)
    }

    fn record(&mut self, now: Instant, failure: bool, slow: bool) -> WindowCounts {
        let origin = *self.origin.get_or_insert(now);
        let idx = self.index_at(origin, now);
        let n = self.buckets.len() as u64;
        if idx > self.head {
            if idx - self.head >= n {
                self.buckets.fill(Bucket::default());
                self.counts = WindowCounts::default();
            } else {
                for k in self.head + 1..=idx {
                    let b = &mut self.buckets[(k % n) as usize];
                    self.counts.calls -= b.counts.calls;
                    self.counts.failures -= b.counts.failures;
                    self.counts.slow -= b.counts.slow;
                    *b = Bucket::default();
                }
            }
            self.head = idx;
        }
        // A `now` older than the newest bucket (a late report) lands in the newest bucket.
        let head = self.head;
        let b = &mut self.buckets[(head % n) as usize];
        b.index = head;
        b.counts.add(failure, slow);
        self.counts.add(failure, slow);
        self.counts
    }

    fn counts_at(&self, now: Instant) -> WindowCounts {
        let Some(origin) = self.origin else {
            return WindowCounts::default();
        };
        let idx = self.index_at(origin, now).max(self.head);
        let n = self.buckets.len() as u64;
        let mut c = WindowCounts::default();
        for b in self.buckets.iter().filter(|b| b.index + n > idx) {
            c.calls += b.counts.calls;
            c.failures += b.counts.failures;
            c.slow += b.counts.slow;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(n: u32) -> Window {
        Window::new(WindowSpec::Count { calls: n })
    }

    #[test]
    fn a_count_window_keeps_the_last_n_calls() {
        let now = Instant::now();
        let mut w = count(3);
        w.record(now, true, false);
        w.record(now, true, true);
        let c = w.record(now, false, false);
        assert_eq!((c.calls, c.failures, c.slow), (3, 2, 1));
        // The first failure falls out.
        let c = w.record(now, false, false);
        assert_eq!((c.calls, c.failures, c.slow), (3, 1, 1));
        let c = w.record(now, false, false);
        assert_eq!((c.calls, c.failures, c.slow), (3, 0, 0));
        assert_eq!(w.counts_at(now), c);
        w.clear();
        assert_eq!(w.counts_at(now), WindowCounts::default());
    }

    #[test]
    fn a_time_window_slides_one_bucket_at_a_time() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut w = Window::new(WindowSpec::Time {
            length: ms(1000),
            buckets: 4,
        });
        w.record(t0, true, false); // bucket 0: [0, 250)
        w.record(t0 + ms(300), true, true); // bucket 1
        let c = w.record(t0 + ms(999), false, false); // bucket 3
        assert_eq!((c.calls, c.failures, c.slow), (3, 2, 1));
        // At 1000 ms bucket 0 has left the window.
        assert_eq!(w.counts_at(t0 + ms(1000)).failures, 1);
        assert_eq!(w.counts_at(t0 + ms(999)).failures, 2);
        let c = w.record(t0 + ms(1000), false, false);
        assert_eq!((c.calls, c.failures, c.slow), (3, 1, 1));
        // A long silence empties it.
        assert_eq!(w.counts_at(t0 + ms(5000)), WindowCounts::default());
        let c = w.record(t0 + ms(5000), false, true);
        assert_eq!((c.calls, c.failures, c.slow), (1, 0, 1));
        // A late report (an older `now`) counts in the newest bucket.
        let c = w.record(t0 + ms(10), true, false);
        assert_eq!((c.calls, c.failures), (2, 1));
    }

    #[test]
    fn rates_are_zero_without_calls() {
        let c = WindowCounts::default();
        assert_eq!((c.failure_rate(), c.slow_rate()), (0.0, 0.0));
        let c = WindowCounts {
            calls: 4,
            failures: 1,
            slow: 3,
        };
        assert_eq!((c.failure_rate(), c.slow_rate()), (0.25, 0.75));
    }
}
