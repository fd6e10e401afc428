//! Additive-increase / multiplicative-decrease of an IP's in-flight limit.

/// The adaptive part of a slot's in-flight limit.
///
/// A congestion event (a new burst of 429s) halves what was in flight when it happened (at most
/// the configured limit), as TCP halves its flight size; a further event halves the adaptive
/// limit again. Each success adds `1 / limit`, so the limit grows by about one per round of
/// requests. Once it is back to the configured limit (or, when unlimited, to where the first
/// event found it), the adaptive limit lifts entirely.
#[derive(Clone, Debug, Default)]
pub(crate) struct Aimd {
    limit: Option<f64>,
    recover_to: f64,
}

impl Aimd {
    /// The adaptive limit, or `None` when it does not constrain the slot.
    pub(crate) fn limit(&self) -> Option<u32> {
        // `as` saturates float-to-int; the value is ≥ 1 by construction.
        self.limit.map(|l| l as u32)
    }

    /// A congestion event with `inflight` requests in flight and a configured `ceiling`.
    /// Returns true if the limit changed.
    pub(crate) fn decrease(&mut self, inflight: u32, ceiling: Option<u32>) -> bool {
        let current = match self.limit {
            Some(l) => l,
            None => {
                let observed = f64::from(inflight.max(1));
                let start = ceiling.map_or(observed, |c| observed.min(f64::from(c)));
                self.recover_to = ceiling.map_or(start, f64::from);
                start
            }
        };
        let next = (current / 2.0).floor().max(1.0);
        let changed = self.limit != Some(next);
        self.limit = Some(next);
        changed
    }

    /// A success. Returns true if the integer limit changed (or lifted).
    pub(crate) fn increase(&mut self) -> bool {
        let Some(l) = self.limit else {
            return false;
        };
        let next = l + 1.0 / l;
        if next >= self.recover_to {
            self.limit = None;
            return true;
        }
        self.limit = Some(next);
        next.floor() != l.floor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_then_grows_back_by_about_one_per_round() {
        let mut a = Aimd::default();
        assert!(a.decrease(8, Some(8)));
        assert_eq!(a.limit(), Some(4));
        assert!(a.decrease(4, Some(8)));
        assert_eq!(a.limit(), Some(2));
        let mut successes = 0;
        while a.limit().is_some() {
            a.increase();
            successes += 1;
            assert!(successes < 100);
        }
        // From 2 to 8: 2 + 3 + 4 + 5 + 6 + 7-ish successes, not hundreds.
        assert!((15..=30).contains(&successes), "{successes}");
    }

    #[test]
    fn unlimited_slots_start_from_what_was_in_flight() {
        let mut a = Aimd::default();
        a.decrease(10, None);
        assert_eq!(a.limit(), Some(5));
        // A 429 with a single request in flight cannot blame concurrency: it lifts at once.
        let mut b = Aimd::default();
        b.decrease(1, None);
        assert_eq!(b.limit(), Some(1));
        assert!(b.increase());
        assert_eq!(b.limit(), None);
    }
}
