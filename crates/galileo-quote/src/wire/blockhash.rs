//! Blockhash metadata: `{blockhash, lastValidBlockHeight}`, the blockhash as a base58 string
//! (DFlow) or an array of 32 integers (Jupiter).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use solana_hash::Hash;

/// A blockhash a provider suggests signing with, and the last block height it is valid at.
///
/// ```
/// use galileo_quote::wire::BlockhashMeta;
///
/// let a: BlockhashMeta = serde_json::from_str(
///     r#"{"blockhash":"FakeHash11111111111111111111111111111111111","lastValidBlockHeight":355956910}"#,
/// ).unwrap();
/// let bytes = serde_json::to_string(&a.blockhash.to_bytes()).unwrap();
/// let b: BlockhashMeta = serde_json::from_str(
///     &format!(r#"{{"blockhash":{bytes},"lastValidBlockHeight":355956910}}"#),
/// ).unwrap();
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockhashMeta {
    /// The blockhash (written back in base58).
    #[serde(with = "hash")]
    pub blockhash: Hash,
    /// The last block height at which a transaction using it lands.
    pub last_valid_block_height: u64,
}

/// A [`Hash`] read from base58 or from 32 integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HashValue(pub(crate) Hash);

impl<'de> Deserialize<'de> for HashValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HashVisitor).map(HashValue)
    }
}

/// A [`Hash`] as base58 or as 32 integers.
mod hash {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        d.deserialize_any(HashVisitor)
    }
}

struct HashVisitor;

impl<'de> de::Visitor<'de> for HashVisitor {
    type Value = Hash;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a blockhash: a base58 string or an array of 32 integers")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Hash, E> {
        Hash::from_str(v).map_err(|_| {
            let shown: String = v.chars().take(50).collect();
            E::custom(format!("{shown:?} is not a base58 blockhash of 32 bytes"))
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Hash, A::Error> {
        let mut bytes = [0u8; 32];
        let wrong = |n: &str| {
            de::Error::custom(format!("a blockhash array must have 32 integers, got {n}"))
        };
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = seq.next_element()?.ok_or_else(|| wrong(&i.to_string()))?;
        }
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(wrong("more"));
        }
        Ok(Hash::new_from_array(bytes))
    }
}
