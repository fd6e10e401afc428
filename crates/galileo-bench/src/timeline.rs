//! Responses counted by when they completed, in fixed bins, so one run gives both a window's
//! totals (scenario 1) and a curve over time (scenario 2).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// What became of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `200`: a quote.
    Quote,
    /// `429`.
    RateLimited,
    /// Any other status, a timeout or a transport error.
    Other,
}

#[derive(Debug, Default)]
struct Bin {
    quotes: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

/// Totals over a span of the timeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Successful quotes.
    pub quotes: u64,
    /// `429`s.
    pub rate_limited: u64,
    /// Everything else.
    pub other: u64,
}

impl Counts {
    /// All answers.
    pub fn total(&self) -> u64 {
        self.quotes + self.rate_limited + self.other
    }

    /// The share of answers that were `429` (0 when there were none).
    pub fn share_429(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            t => self.rate_limited as f64 / t as f64,
        }
    }
}

/// Lock-free counters of answers per time bin from `start`.
///
/// ```
/// use std::time::Duration;
/// use galileo_bench::{Answer, Timeline};
/// let start = tokio::time::Instant::now();
/// let t = Timeline::new(start, Duration::from_millis(100), Duration::from_secs(1));
/// t.record(start + Duration::from_millis(150), Answer::Quote);
/// t.record(start + Duration::from_millis(950), Answer::RateLimited);
/// let c = t.window(Duration::ZERO, Duration::from_millis(500));
/// assert_eq!((c.quotes, c.rate_limited), (1, 0));
/// ```
#[derive(Debug)]
pub struct Timeline {
    start: Instant,
    bin: Duration,
    bins: Box<[Bin]>,
}

impl Timeline {
    /// Bins of `bin` covering `span` from `start`; answers after the span are dropped.
    pub fn new(start: Instant, bin: Duration, span: Duration) -> Self {
        let bin = bin.max(Duration::from_millis(1));
        let n = span.as_nanos().div_ceil(bin.as_nanos()).max(1) as usize;
        Self {
            start,
            bin,
            bins: (0..n).map(|_| Bin::default()).collect(),
        }
    }

    /// When the timeline starts.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Counts `answer` at `at` (completion time).
    pub fn record(&self, at: Instant, answer: Answer) {
        let i =
            (at.saturating_duration_since(self.start).as_nanos() / self.bin.as_nanos()) as usize;
        let Some(bin) = self.bins.get(i) else { return };
        let c = match answer {
            Answer::Quote => &bin.quotes,
            Answer::RateLimited => &bin.limited,
            Answer::Other => &bin.other,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Totals over the bins in `[from, to)` (offsets from the start, rounded to bins).
    pub fn window(&self, from: Duration, to: Duration) -> Counts {
        let a = (from.as_nanos() / self.bin.as_nanos()) as usize;
        let b = (to.as_nanos() / self.bin.as_nanos()) as usize;
        let mut c = Counts::default();
        for bin in self.bins.iter().take(b).skip(a) {
            c.quotes += bin.quotes.load(Ordering::Relaxed);
            c.rate_limited += bin.limited.load(Ordering::Relaxed);
            c.other += bin.other.load(Ordering::Relaxed);
        }
        c
    }

    /// Totals per `step` (a multiple of the bin) over the whole span.
    pub fn series(&self, step: Duration) -> Vec<Counts> {
        let span = self.bin * self.bins.len() as u32;
        let mut out = Vec::new();
        let mut from = Duration::ZERO;
        while from + step <= span {
            out.push(self.window(from, from + step));
            from += step;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_series_count_by_completion_time() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let t = Timeline::new(start, ms(100), ms(2_000));
        for at in [50, 150, 950, 1_050, 1_999] {
            t.record(start + ms(at), Answer::Quote);
        }
        t.record(start + ms(1_500), Answer::RateLimited);
        t.record(start + ms(1_600), Answer::Other);
        t.record(start + ms(5_000), Answer::Quote); // past the span: dropped
        assert_eq!(t.window(ms(0), ms(1_000)).quotes, 3);
        let late = t.window(ms(1_000), ms(2_000));
        assert_eq!((late.quotes, late.rate_limited, late.other), (2, 1, 1));
        assert!((late.share_429() - 0.25).abs() < 1e-12);
        let s = t.series(ms(1_000));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].total() + s[1].total(), 7);
    }

    #[test]
    fn no_answers_no_share() {
        assert_eq!(Counts::default().share_429(), 0.0);
    }
}
