//! What the three aggregator APIs share on the wire: amounts as decimal strings, instructions
//! as `{programId, accounts, data}`, query strings, and base64 transactions.

mod instruction;
pub mod query;
pub mod tx;

pub use instruction::{WireAccountMeta, WireInstruction};

/// Serde for a `u64` carried as a JSON string of digits (`"1000000000"`). A number, a sign, a
/// fraction or anything beyond `u64` is refused, as the real services refuse it.
pub mod u64_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes `v` as a string.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a string of decimal digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::parse_u64(&s).ok_or_else(|| {
            D::Error::custom(format!("expected a u64 as a string of digits, got {s:?}"))
        })
    }
}

/// As [`u64_string`], for an optional field (absent and `null` are both `None`; `None` is
/// written as `null`).
pub mod opt_u64_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes `v` as a string, or `null`.
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Reads a string of decimal digits, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        s.map(|s| {
            super::parse_u64(&s).ok_or_else(|| {
                D::Error::custom(format!("expected a u64 as a string of digits, got {s:?}"))
            })
        })
        .transpose()
    }
}

/// A field that can be absent, `null` or a value, and must be written back the way it came
/// (`platformFee: null` stays `null`; an absent key stays absent). Use with
/// `#[serde(default, skip_serializing_if = "Nullable::is_absent")]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Nullable<T> {
    /// The key is not there.
    #[default]
    Absent,
    /// The key is there with `null`.
    Null,
    /// The key is there with a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// Whether the key is absent (for `skip_serializing_if`).
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: serde::Serialize> serde::Serialize for Nullable<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Value(v) => v.serialize(s),
            // Absent is skipped by the field attribute; if not, `null` is the honest rendering.
            Nullable::Absent | Nullable::Null => s.serialize_none(),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Nullable<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        })
    }
}

/// Parses a `u64` written with decimal digits only (no sign, no spaces, no `_`).
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `floor(amount × (10000 − slippage_bps) / 10000)`: the minimum output a slippage allows
/// (a slippage above 100 % allows nothing).
pub fn min_out(amount: u64, slippage_bps: u16) -> u64 {
    let keep = 10_000u128.saturating_sub(u128::from(slippage_bps));
    // amount × keep / 10000 ≤ amount: always fits.
    (u128::from(amount) * keep / 10_000) as u64
}

/// A fraction (`0.000012`) as the plain decimal string `priceImpactPct` carries: no exponent,
/// no trailing zeros, `"0"` for zero.
pub fn decimal_string(ppb: u32, negative: bool) -> String {
    let (whole, frac) = (ppb / 1_000_000_000, ppb % 1_000_000_000);
    let body = if frac == 0 {
        whole.to_string()
    } else {
        let digits = format!("{frac:09}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    };
    if negative && ppb != 0 {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimals_are_plain() {
        assert_eq!(decimal_string(0, false), "0");
        assert_eq!(decimal_string(0, true), "0");
        assert_eq!(decimal_string(12_000, false), "0.000012");
        assert_eq!(decimal_string(12_000, true), "-0.000012");
        assert_eq!(decimal_string(1_500_000_000, false), "1.5");
        assert_eq!(decimal_string(1, false), "0.000000001");
    }

    #[test]
    fn amounts_are_digit_strings_only() {
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            " 1",
            "1e3",
            "18446744073709551616",
            "0x10",
        ] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("007"), Some(7));
    }

    proptest! {
        /// The threshold is exactly floor(out × (10000 − s) / 10000), never above the amount,
        /// monotone in both arguments, and exact for the edge slippages.
        #[test]
        fn min_out_is_the_floored_threshold(amount in any::<u64>(), s in 0u16..=10_000, t in 0u16..=10_000) {
            let m = min_out(amount, s);
            let exact = num_bigint::BigUint::from(amount) * (10_000u32 - u32::from(s)) / 10_000u32;
            prop_assert_eq!(num_bigint::BigUint::from(m), exact);
            prop_assert!(m <= amount);
            if s <= t { prop_assert!(min_out(amount, t) <= m); }
            prop_assert_eq!(min_out(amount, 0), amount);
            prop_assert_eq!(min_out(amount, 10_000), 0);
            prop_assert_eq!(min_out(amount, u16::MAX), 0);
        }

        #[test]
        fn u64_strings_round_trip(v in any::<u64>()) {
            #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
            struct W(#[serde(with = "u64_string")] u64);
            let json = serde_json::to_string(&W(v)).unwrap();
            prop_assert_eq!(&json, &format!("\"{v}\""));
            prop_assert_eq!(serde_json::from_str::<W>(&json).unwrap(), W(v));
            prop_assert!(serde_json::from_str::<W>(&v.to_string()).is_err());
        }
    }
}
