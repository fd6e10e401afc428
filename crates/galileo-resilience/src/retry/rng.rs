//! Where a retry loop's randomness comes from: the thread's generator in production, a seeded
//! one in tests.

use std::sync::{Mutex, PoisonError};

use rand::rngs::{StdRng, ThreadRng};
use rand::{Rng, SeedableRng};

/// A source of random numbers for jitter, borrowed for one draw at a time (never across an
/// `.await`, so a retry future stays `Send`).
pub trait RngSource {
    /// The generator lent out.
    type Rng: Rng;

    /// Runs `f` with the generator.
    fn with_rng<T>(&self, f: impl FnOnce(&mut Self::Rng) -> T) -> T;
}

/// The thread-local generator ([`rand::rng`]): fast, unpredictable, nothing shared between
/// threads. The default.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadRngSource;

impl RngSource for ThreadRngSource {
    type Rng = ThreadRng;

    fn with_rng<T>(&self, f: impl FnOnce(&mut ThreadRng) -> T) -> T {
        f(&mut rand::rng())
    }
}

/// A seeded [`StdRng`] behind a mutex: the same seed gives the same delays, for tests and for
/// reproducing a run.
///
/// ```
/// use galileo_resilience::retry::{RngSource, SeededRng};
/// use rand::Rng;
///
/// let a = SeededRng::new(42).with_rng(|r| r.next_u64());
/// let b = SeededRng::new(42).with_rng(|r| r.next_u64());
/// assert_eq!(a, b);
/// ```
#[derive(Debug)]
pub struct SeededRng {
    rng: Mutex<StdRng>,
}

impl SeededRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl RngSource for SeededRng {
    type Rng = StdRng;

    fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        // A generator's state is valid whatever a panicking holder left behind.
        f(&mut self.rng.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
