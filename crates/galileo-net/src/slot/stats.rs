//! Rolling request counters of one IP.

use std::time::Duration;

use tokio::time::Instant;

use crate::Outcome;

const BUCKETS: usize = 12;
const BUCKET_WIDTH: Duration = Duration::from_secs(5);

/// The length of the rolling window in [`SlotStats::window`].
pub const STATS_WINDOW: Duration = Duration::from_secs(60);

/// Request counts of one IP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests reported (any outcome).
    pub requests: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Connect failures and 5xx answers.
    pub errors: u64,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Success => {}
            Outcome::RateLimited { .. } => self.rate_limited += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Connect | Outcome::ServerError => self.errors += 1,
        }
    }

    fn merge(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.rate_limited += o.rate_limited;
        self.timeouts += o.timeouts;
        self.errors += o.errors;
    }
}

/// Lifetime totals and the last minute's counts, in 5 s buckets.
#[derive(Clone, Debug)]
pub(crate) struct SlotStats {
    origin: Instant,
    buckets: [(u64, Counts); BUCKETS],
    total: Counts,
}

impl SlotStats {
    pub(crate) fn new(origin: Instant) -> Self {
        Self {
            origin,
            buckets: [(u64::MAX, Counts::default()); BUCKETS],
            total: Counts::default(),
        }
    }

    fn bucket_no(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        (since.as_nanos() / BUCKET_WIDTH.as_nanos()) as u64
    }

    pub(crate) fn record(&mut self, outcome: &Outcome, now: Instant) {
        let no = self.bucket_no(now);
        let b = &mut self.buckets[(no % BUCKETS as u64) as usize];
        if b.0 != no {
            *b = (no, Counts::default());
        }
        b.1.add(outcome);
        self.total.add(outcome);
    }

    /// Counts of the last [`STATS_WINDOW`] (to bucket precision).
    pub(crate) fn window(&self, now: Instant) -> Counts {
        let no = self.bucket_no(now);
        let oldest = no.saturating_sub(BUCKETS as u64 - 1);
        let mut sum = Counts::default();
        for (n, c) in &self.buckets {
            if *n != u64::MAX && *n >= oldest && *n <= no {
                sum.merge(c);
            }
        }
        sum
    }

    pub(crate) fn total(&self) -> Counts {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_rolls_and_totals_stay() {
        let t0 = Instant::now();
        let mut s = SlotStats::new(t0);
        s.record(&Outcome::Success, t0);
        s.record(&Outcome::RateLimited { retry_after: None }, t0);
        s.record(&Outcome::Timeout, t0 + Duration::from_secs(30));
        s.record(&Outcome::Connect, t0 + Duration::from_secs(31));
        let w = s.window(t0 + Duration::from_secs(31));
        assert_eq!(
            (w.requests, w.rate_limited, w.timeouts, w.errors),
            (4, 1, 1, 1)
        );
        let w = s.window(t0 + Duration::from_secs(65));
        assert_eq!((w.requests, w.rate_limited), (2, 0));
        let w = s.window(t0 + Duration::from_secs(600));
        assert_eq!(w, Counts::default());
        assert_eq!(s.total().requests, 4);
    }
}
