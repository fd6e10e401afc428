//! `priceImpactPct`: a plain decimal string, kept exactly as the provider wrote it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A price impact as a plain decimal fraction (`"0.01"` is 1 %), kept as the provider's string
/// so that echoing a quote sends back exactly what was received. Exponent notation (`"1e-5"`),
/// spaces, a leading `+`, `NaN` and empty strings are refused; a leading `-` is allowed.
///
/// ```
/// use galileo_quote::wire::PriceImpact;
///
/// let p: PriceImpact = "0.0012".parse().unwrap();
/// assert_eq!(p.as_str(), "0.0012");
/// assert_eq!(p.to_f64(), 0.0012);
/// assert!("1.2e-3".parse::<PriceImpact>().is_err());
/// assert_eq!(PriceImpact::zero().as_str(), "0");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PriceImpact(String);

impl PriceImpact {
    /// `"0"`, as a merged round-trip quote carries.
    pub fn zero() -> Self {
        PriceImpact("0".to_owned())
    }

    /// The string as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a float (for display and thresholds; the string stays authoritative).
    pub fn to_f64(&self) -> f64 {
        // Validated as a plain decimal, which Rust's float parser always accepts.
        self.0.parse().unwrap_or(0.0)
    }
}

/// Checks the plain-decimal grammar: `-?digits(.digits)?` or `-?.digits`, at most 64
/// characters.
fn check(s: &str) -> Result<(), String> {
    let shown: String = s.chars().take(40).collect();
    if s.len() > 64 {
        return Err(format!(
            "priceImpactPct {shown:?}… is longer than 64 characters"
        ));
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = all_digits(int)
        && frac.is_none_or(|f| !f.is_empty() && all_digits(f))
        && !(int.is_empty() && frac.is_none());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "priceImpactPct must be a plain decimal such as \"0.0012\" (no exponent), got {shown:?}"
        ))
    }
}

impl FromStr for PriceImpact {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        check(s).map(|()| PriceImpact(s.to_owned()))
    }
}

impl fmt::Display for PriceImpact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PriceImpact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for PriceImpact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PriceImpact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Visitor)
    }
}

struct Visitor;

impl de::Visitor<'_> for Visitor {
    type Value = PriceImpact;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a plain decimal string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PriceImpact, E> {
        v.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        for ok in [
            "0", "0.0012", "-0.0002", "12", "12.5", ".5", "-.5", "000.100",
        ] {
            assert_eq!(ok.parse::<PriceImpact>().unwrap().as_str(), ok, "{ok}");
        }
        for bad in [
            "", "-", ".", "1.", "1e-5", "1E5", "+1", " 1", "1 ", "NaN", "inf", "1.2.3", "0x1",
            "1,5", "--1",
        ] {
            assert!(bad.parse::<PriceImpact>().is_err(), "{bad:?}");
        }
        let long = "1".repeat(65);
        assert!(long.parse::<PriceImpact>().is_err());
    }
}
