//! What became of a call, and how a caller's errors map onto it.

/// The outcome of one call through a breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The dependency did its job.
    Success,
    /// The dependency failed: counts toward every failure threshold.
    Failure,
    /// The call ran out of time: a failure, counted apart in the totals.
    Timeout,
    /// Not the dependency's fault and not proof of its health (a request the caller got wrong,
    /// "no route for this pair"): counted nowhere. A half-open probe that ends this way frees
    /// its slot without deciding anything.
    Ignored,
}

impl Outcome {
    /// Whether the breaker counts this outcome as a failure.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failure | Outcome::Timeout)
    }
}

/// Decides what a caller's error means for the breaker.
///
/// Not every error is the dependency's fault. A DFlow `failed_to_compute_swap` answer means
/// "skip this opportunity", not "the provider is down", so its classifier says
/// [`Outcome::Success`] (the provider answered) or [`Outcome::Ignored`]. Any
/// `Fn(&E) -> Outcome` closure is a classifier; [`AllFailures`] counts every error.
///
/// ```
/// use galileo_resilience::breaker::{AllFailures, Classify, Outcome};
///
/// #[derive(Debug)]
/// enum QuoteError { NoRoute, Http(u16) }
///
/// let classify = |e: &QuoteError| match e {
///     QuoteError::NoRoute => Outcome::Success,
///     QuoteError::Http(s) if *s >= 500 => Outcome::Failure,
///     QuoteError::Http(_) => Outcome::Ignored,
/// };
/// assert_eq!(classify.classify(&QuoteError::NoRoute), Outcome::Success);
/// assert_eq!(classify.classify(&QuoteError::Http(503)), Outcome::Failure);
/// assert_eq!(AllFailures.classify(&QuoteError::NoRoute), Outcome::Failure);
/// ```
pub trait Classify<E> {
    /// The outcome an error stands for.
    fn classify(&self, error: &E) -> Outcome;
}

impl<E, F: Fn(&E) -> Outcome> Classify<E> for F {
    fn classify(&self, error: &E) -> Outcome {
        self(error)
    }
}

/// The classifier that counts every error as a [`Outcome::Failure`].
#[derive(Clone, Copy, Debug, Default)]
pub struct AllFailures;

impl<E> Classify<E> for AllFailures {
    fn classify(&self, _: &E) -> Outcome {
        Outcome::Failure
    }
}
