//! The on-retry hook: told about each retry before its pause.

use std::time::Duration;

/// Called before each retry's pause with the error that caused it, the 1-based number of the
/// attempt that failed (also the number of the retry about to be made) and the pause.
///
/// Implemented by any `Fn(&E, u32, Duration)` closure, and by [`NoHook`]. Keep it quick: it
/// runs inline in the retry loop.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use galileo_resilience::retry::OnRetry;
///
/// let retries = AtomicU32::new(0);
/// let hook = |_: &&str, attempt: u32, _: Duration| retries.store(attempt, Ordering::Relaxed);
/// hook.on_retry(&"timeout", 2, Duration::from_millis(200));
/// assert_eq!(retries.load(Ordering::Relaxed), 2);
/// ```
pub trait OnRetry<E> {
    /// A retry of `attempt`, which failed with `error`, will start after `delay`.
    fn on_retry(&self, error: &E, attempt: u32, delay: Duration);
}

impl<E, F> OnRetry<E> for F
where
    F: Fn(&E, u32, Duration),
{
    fn on_retry(&self, error: &E, attempt: u32, delay: Duration) {
        self(error, attempt, delay)
    }
}

/// The default hook: does nothing (each retry is still logged at debug level and counted in
/// `galileo_retry_attempts_total`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHook;

impl<E> OnRetry<E> for NoHook {
    fn on_retry(&self, _: &E, _: u32, _: Duration) {}
}
