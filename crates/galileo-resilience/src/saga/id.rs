//! Saga ids and the idempotency key each step receives.

use std::fmt;
use std::str::FromStr;

/// The identity of one saga run: unique within a step log, stable across a crash.
///
/// Written as 32 lowercase hex digits (`Display`, `FromStr`, serde). Use
/// [`SagaId::random`] unless the caller already has a unique id (an opportunity id, a request
/// id) it wants to correlate with.
///
/// ```
/// use galileo_resilience::saga::SagaId;
///
/// let id = SagaId::from(0xabcu128);
/// assert_eq!(id.to_string(), "00000000000000000000000000000abc");
/// assert_eq!(id.to_string().parse::<SagaId>().unwrap(), id);
/// assert_ne!(SagaId::random(), SagaId::random());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SagaId(u128);

impl SagaId {
    /// A random id (128 bits from the thread-local generator: collisions are negligible).
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// The id as a number.
    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl From<u128> for SagaId {
    fn from(value: u128) -> Self {
        Self(value)
    }
}

impl fmt::Display for SagaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl FromStr for SagaId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() != 32
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "`{s}` is not a saga id: expected 32 lowercase hex digits"
            ));
        }
        u128::from_str_radix(s, 16)
            .map(Self)
            .map_err(|e| format!("`{s}` is not a saga id: {e}"))
    }
}

impl serde::Serialize for SagaId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SagaId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The idempotency key of one step of one saga run: the saga id and the step's index.
///
/// Every attempt of a step's `execute` and every run of its `compensate` get the same key, so
/// a step can deduplicate at the remote end (a reservation made under the key and released
/// under it). A compensation can run twice: after a crash between the compensation and its
/// log record, recovery runs it again with the same key. `Display` gives
/// `<saga id>-<step index>`, usable as an idempotency header.
///
/// ```
/// use galileo_resilience::saga::{SagaId, StepKey};
///
/// let key = StepKey::new(SagaId::from(7u128), 2);
/// assert_eq!(key.to_string(), "00000000000000000000000000000007-2");
/// assert_eq!((key.saga(), key.step()), (SagaId::from(7u128), 2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StepKey {
    saga: SagaId,
    step: usize,
}

impl StepKey {
    /// The key of step `step` (0-based) of saga run `saga`.
    pub fn new(saga: SagaId, step: usize) -> Self {
        Self { saga, step }
    }

    /// The saga run.
    pub fn saga(&self) -> SagaId {
        self.saga
    }

    /// The step's 0-based index in its saga.
    pub fn step(&self) -> usize {
        self.step
    }
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.saga, self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = SagaId::from(u128::MAX - 5);
        assert_eq!(id.to_string().parse::<SagaId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<SagaId>(&json).unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_expected_form() {
        for bad in [
            "",
            "abc",
            "0000000000000000000000000000000G",
            "+0000000000000000000000000000001",
        ] {
            let e = bad.parse::<SagaId>().unwrap_err();
            assert!(e.contains("32 lowercase hex digits"), "{bad}: {e}");
        }
        assert!(serde_json::from_str::<SagaId>("12").is_err());
    }
}
