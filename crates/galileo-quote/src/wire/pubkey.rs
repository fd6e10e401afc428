//! [`Pubkey`]s as base58 strings.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use solana_pubkey::Pubkey;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Mint {
//!     #[serde(with = "galileo_quote::wire::pubkey")]
//!     mint: Pubkey,
//! }
//! let m: Mint = serde_json::from_str(r#"{"mint":"So11111111111111111111111111111111111111112"}"#).unwrap();
//! assert_eq!(m.mint.to_string(), "So11111111111111111111111111111111111111112");
//! assert!(serde_json::from_str::<Mint>(r#"{"mint":"not-a-key"}"#).is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer, de};
use solana_pubkey::Pubkey;

/// Writes the key in base58.
pub fn serialize<S: Serializer>(v: &Pubkey, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads a base58 string of 32 bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pubkey, D::Error> {
    Key::deserialize(d).map(|k| k.0)
}

/// Parses a base58 public key; the error names at most 50 characters of the value.
pub fn parse(s: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(s).map_err(|_| {
        let shown: String = s.chars().take(50).collect();
        format!("{shown:?} is not a base58 public key of 32 bytes")
    })
}

/// A key read from base58.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(pub(crate) Pubkey);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl de::Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base58 public key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        parse(v).map(Key).map_err(E::custom)
    }
}

/// An optional key: absent or `null` is `None`. Pair with `#[serde(default)]`.
pub mod opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use solana_pubkey::Pubkey;

    use super::Key;

    /// Writes `Some` in base58 and `None` as `null`.
    pub fn serialize<S: Serializer>(v: &Option<Pubkey>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Reads `null` or a base58 key.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Pubkey>, D::Error> {
        Ok(Option::<Key>::deserialize(d)?.map(|k| k.0))
    }
}

/// A list of keys.
pub mod vec {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};
    use solana_pubkey::Pubkey;

    use super::Key;

    /// Writes each key in base58.
    pub fn serialize<S: Serializer>(v: &[Pubkey], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for k in v {
            seq.serialize_element(&k.to_string())?;
        }
        seq.end()
    }

    /// Reads an array of base58 keys.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pubkey>, D::Error> {
        Ok(Vec::<Key>::deserialize(d)?
            .into_iter()
            .map(|k| k.0)
            .collect())
    }
}
