//! `u64` amounts as JSON strings of digits, as every aggregator writes them.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Leg {
//!     #[serde(with = "galileo_quote::wire::amount")]
//!     amount: u64,
//! }
//! let leg: Leg = serde_json::from_str(r#"{"amount":"1000000000"}"#).unwrap();
//! assert_eq!(leg.amount, 1_000_000_000);
//! assert_eq!(serde_json::to_string(&leg).unwrap(), r#"{"amount":"1000000000"}"#);
//! assert!(serde_json::from_str::<Leg>(r#"{"amount":1000}"#).is_err());
//! assert!(serde_json::from_str::<Leg>(r#"{"amount":"1e9"}"#).is_err());
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serializer, de};

/// Writes `v` as a string of digits.
pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads a string of digits that fits in a `u64`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Amount::deserialize(d).map(|a| a.0)
}

/// Parses a string of ASCII digits (no sign, no spaces, no decimals) into a `u64`.
pub fn parse(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err("an amount must be a string of digits, got an empty string".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "an amount must be a string of digits, got {:?}",
            cut(s)
        ));
    }
    s.parse()
        .map_err(|_| format!("amount {:?} does not fit in 64 bits", cut(s)))
}

/// At most 40 characters of a bad value, for messages.
fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

/// An amount read from a string of digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Amount(pub(crate) u64);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(AmountVisitor)
    }
}

struct AmountVisitor;

impl de::Visitor<'_> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount as a string of digits")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
        parse(v).map(Amount).map_err(E::custom)
    }
}

/// Like the module's own functions, and `"0"` is refused (an amount a quote cannot be zero).
pub mod nonzero {
    use serde::{Deserializer, Serializer, de};

    /// Writes `v` as a string of digits.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        super::serialize(v, s)
    }

    /// Reads a string of digits that fits in a `u64` and is not zero.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match super::deserialize(d)? {
            0 => Err(de::Error::custom(
                "amount is 0: a usable quote moves tokens",
            )),
            v => Ok(v),
        }
    }
}

/// An optional amount: absent or `null` is `None`. Pair with `#[serde(default)]`.
pub mod opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Amount;

    /// Writes `Some(v)` as a string of digits and `None` as `null` (skip it with
    /// `skip_serializing_if = "Option::is_none"`).
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Reads `null` or a string of digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(Option::<Amount>::deserialize(d)?.map(|a| a.0))
    }
}
