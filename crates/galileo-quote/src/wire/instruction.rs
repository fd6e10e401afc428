//! The aggregators' JSON instruction shape as a [`solana_instruction::Instruction`]:
//!
//! ```json
//! { "programId": "<base58>",
//!   "accounts": [ { "pubkey": "<base58>", "isSigner": false, "isWritable": true } ],
//!   "data": "<standard base64 with padding>" }
//! ```
//!
//! All three keys are required (`accounts` may be empty), and each account's three keys too;
//! unknown keys are ignored.
//!
//! ```
//! use serde::Deserialize;
//! use solana_instruction::Instruction;
//!
//! #[derive(Deserialize)]
//! struct Answer {
//!     #[serde(with = "galileo_quote::wire::instruction")]
//!     ix: Instruction,
//! }
//! let a: Answer = serde_json::from_str(r#"{"ix": {"programId": "ComputeBudget111111111111111111111111111111",
//!     "accounts": [], "data": "AsBcFQA="}}"#).unwrap();
//! assert_eq!(a.ix.data, [2, 0xc0, 0x5c, 0x15, 0]);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;

/// Writes the JSON shape.
pub fn serialize<S: Serializer>(ix: &Instruction, s: S) -> Result<S::Ok, S::Error> {
    WireRef::from(ix).serialize(s)
}

/// Reads the JSON shape.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instruction, D::Error> {
    Wire::deserialize(d)?.into_instruction()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireRef {
    #[serde(with = "super::pubkey")]
    program_id: Pubkey,
    accounts: Vec<WireAccount>,
    data: String,
}

impl From<&Instruction> for WireRef {
    fn from(ix: &Instruction) -> Self {
        WireRef {
            program_id: ix.program_id,
            accounts: ix
                .accounts
                .iter()
                .map(|a| WireAccount {
                    pubkey: a.pubkey,
                    is_signer: a.is_signer,
                    is_writable: a.is_writable,
                })
                .collect(),
            data: STANDARD.encode(&ix.data),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAccount {
    #[serde(with = "super::pubkey")]
    pubkey: Pubkey,
    is_signer: bool,
    is_writable: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(with = "super::pubkey")]
    program_id: Pubkey,
    accounts: Vec<WireAccount>,
    data: String,
}

impl Wire {
    fn into_instruction<E: de::Error>(self) -> Result<Instruction, E> {
        let data = STANDARD.decode(self.data.as_bytes()).map_err(|e| {
            E::custom(format!(
                "instruction data must be standard base64 with padding: {e}"
            ))
        })?;
        Ok(Instruction {
            program_id: self.program_id,
            accounts: self
                .accounts
                .into_iter()
                .map(|a| AccountMeta {
                    pubkey: a.pubkey,
                    is_signer: a.is_signer,
                    is_writable: a.is_writable,
                })
                .collect(),
            data,
        })
    }
}

/// A list of instructions.
pub mod vec {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};
    use solana_instruction::Instruction;

    use super::{Wire, WireRef};

    /// Writes each instruction's JSON shape.
    pub fn serialize<S: Serializer>(v: &[Instruction], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for ix in v {
            seq.serialize_element(&WireRef::from(ix))?;
        }
        seq.end()
    }

    /// Reads an array of instructions.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Instruction>, D::Error> {
        Vec::<Wire>::deserialize(d)?
            .into_iter()
            .map(Wire::into_instruction)
            .collect()
    }
}

/// An optional instruction: absent or `null` is `None`. Pair with `#[serde(default)]`.
pub mod opt {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use solana_instruction::Instruction;

    use super::{Wire, WireRef};

    /// Writes `Some` as the JSON shape and `None` as `null`.
    pub fn serialize<S: Serializer>(v: &Option<Instruction>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(WireRef::from).serialize(s)
    }

    /// Reads `null` or an instruction.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Instruction>, D::Error> {
        Option::<Wire>::deserialize(d)?
            .map(Wire::into_instruction)
            .transpose()
    }
}
