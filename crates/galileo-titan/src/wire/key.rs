//! Pubkeys on the wire: MessagePack `bin` of exactly 32 bytes (`c4 20` + the key), nothing
//! else (the reference decoder refuses int arrays, and so do we).
//!
//! Use with `#[serde(with = "key")]` on a `Pubkey`, `key::option` on an `Option<Pubkey>` and
//! `key::vec` on a `Vec<Pubkey>`.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;

/// A pubkey encoded as a 32-byte `bin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bin(Pubkey);

impl Serialize for Bin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0.as_ref())
    }
}

struct BinVisitor;

impl<'de> Visitor<'de> for BinVisitor {
    type Value = Bin;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pubkey as a 32-byte MessagePack bin")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bin, E> {
        <[u8; 32]>::try_from(v)
            .map(|a| Bin(Pubkey::new_from_array(a)))
            .map_err(|_| E::invalid_length(v.len(), &self))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bin, E> {
        self.visit_bytes(&v)
    }
}

impl<'de> Deserialize<'de> for Bin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(BinVisitor)
    }
}

/// Serializes a pubkey as a 32-byte `bin`.
pub(crate) fn serialize<S: Serializer>(key: &Pubkey, s: S) -> Result<S::Ok, S::Error> {
    Bin(*key).serialize(s)
}

/// Reads a pubkey from a 32-byte `bin`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pubkey, D::Error> {
    Bin::deserialize(d).map(|b| b.0)
}

/// `Option<Pubkey>`: `nil` (or an absent field, with `#[serde(default)]`) is `None`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(key: &Option<Pubkey>, s: S) -> Result<S::Ok, S::Error> {
        key.map(Bin).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Pubkey>, D::Error> {
        Ok(Option::<Bin>::deserialize(d)?.map(|b| b.0))
    }
}

/// `Vec<Pubkey>`: an array of 32-byte `bin`s.
pub(crate) mod vec {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(keys: &[Pubkey], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(keys.len()))?;
        for k in keys {
            seq.serialize_element(&Bin(*k))?;
        }
        seq.end()
    }

    struct KeysVisitor;

    impl<'de> Visitor<'de> for KeysVisitor {
        type Value = Vec<Pubkey>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of pubkeys (32-byte bins)")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Pubkey>, A::Error> {
            // The hint comes from the peer: never trust it for more than a small allocation.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(Bin(k)) = seq.next_element()? {
                out.push(k);
            }
            Ok(out)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pubkey>, D::Error> {
        d.deserialize_seq(KeysVisitor)
    }

    /// `Option<Vec<Pubkey>>`.
    pub(crate) mod option {
        use super::*;

        #[derive(Deserialize)]
        struct Keys(#[serde(with = "super")] Vec<Pubkey>);

        pub(crate) fn serialize<S: Serializer>(
            keys: &Option<Vec<Pubkey>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match keys {
                Some(k) => super::serialize(k, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Vec<Pubkey>>, D::Error> {
            Ok(Option::<Keys>::deserialize(d)?.map(|k| k.0))
        }
    }
}
