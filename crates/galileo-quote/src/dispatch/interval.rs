//! The batch interval: a worker's pause between two round trips, widened while the allocator
//! reports IPs cooling down and narrowed back when they recover. Sans-IO: takes `now`.

use std::time::Duration;

use tokio::time::Instant;

/// The interval controller. Each [`observe`](Self::observe) may move it one step: wider
/// (doubling) while any IP rests, narrower (halving, down to the configured base) once none
/// does, at most one step per `period`.
#[derive(Clone, Debug)]
pub struct BatchInterval {
    base: Duration,
    step: Duration,
    max: Duration,
    period: Duration,
    level: u32,
    last_move: Option<Instant>,
}

impl BatchInterval {
    /// `base` is the configured interval, `step` the first widened value when `base` is 0,
    /// `max` the cap, `period` the least time between two moves.
    pub fn new(base: Duration, step: Duration, max: Duration, period: Duration) -> Self {
        Self {
            base,
            step: step.max(Duration::from_millis(1)),
            max: max.max(base),
            period,
            level: 0,
            last_move: None,
        }
    }

    /// The interval in force.
    pub fn current(&self) -> Duration {
        if self.level == 0 {
            return self.base;
        }
        // Doubling from the base, or from `step` when the base is 0.
        let factor = 1u32 << self.level.min(31);
        let from_base = self.base.checked_mul(factor).unwrap_or(self.max);
        let from_step = self.step.checked_mul(factor / 2).unwrap_or(self.max);
        from_base.max(from_step).min(self.max)
    }

    /// True while widened above the configured base.
    pub fn is_widened(&self) -> bool {
        self.level > 0
    }

    /// Takes the allocator's state: `cooling` IPs rest now. Returns the interval in force.
    pub fn observe(&mut self, cooling: usize, now: Instant) -> Duration {
        let due = self
            .last_move
            .is_none_or(|t| now.saturating_duration_since(t) >= self.period);
        if due {
            if cooling > 0 && self.current() < self.max {
                self.level += 1;
                self.last_move = Some(now);
                tracing::debug!(
                    cooling,
                    interval_ms = self.current().as_millis() as u64,
                    "IPs cooling down: batch interval widened"
                );
            } else if cooling == 0 && self.level > 0 {
                self.level -= 1;
                self.last_move = Some(now);
                tracing::debug!(
                    interval_ms = self.current().as_millis() as u64,
                    "IPs recovered: batch interval narrowed"
                );
            }
        }
        self.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn widens_while_cooling_and_recovers_to_base() {
        let t0 = Instant::now();
        let mut i = BatchInterval::new(Duration::ZERO, 50 * MS, 400 * MS, 500 * MS);
        assert_eq!(i.observe(0, t0), Duration::ZERO);
        assert_eq!(i.observe(2, t0), 50 * MS);
        // At most one step per period.
        assert_eq!(i.observe(2, t0 + 100 * MS), 50 * MS);
        assert_eq!(i.observe(2, t0 + 500 * MS), 100 * MS);
        assert_eq!(i.observe(1, t0 + 1000 * MS), 200 * MS);
        assert_eq!(i.observe(1, t0 + 1500 * MS), 400 * MS);
        assert_eq!(i.observe(1, t0 + 2000 * MS), 400 * MS, "capped");
        // Recovery: one step per period back to the base.
        assert_eq!(i.observe(0, t0 + 2500 * MS), 200 * MS);
        assert_eq!(i.observe(0, t0 + 3000 * MS), 100 * MS);
        assert_eq!(i.observe(0, t0 + 3500 * MS), 50 * MS);
        assert_eq!(i.observe(0, t0 + 4000 * MS), Duration::ZERO);
        assert!(!i.is_widened());
    }

    #[test]
    fn a_configured_base_is_the_floor_and_the_start() {
        let t0 = Instant::now();
        let mut i = BatchInterval::new(300 * MS, 50 * MS, 2000 * MS, 500 * MS);
        assert_eq!(i.observe(0, t0), 300 * MS);
        assert_eq!(i.observe(1, t0), 600 * MS);
        assert_eq!(i.observe(1, t0 + 500 * MS), 1200 * MS);
        assert_eq!(i.observe(0, t0 + 1000 * MS), 600 * MS);
        assert_eq!(i.observe(0, t0 + 1500 * MS), 300 * MS);
        assert_eq!(i.observe(0, t0 + 2000 * MS), 300 * MS);
    }
}
