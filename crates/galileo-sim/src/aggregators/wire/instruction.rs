//! Instructions as the aggregators write them: `{programId, accounts, data}` with base58 keys
//! and standard (padded) base64 data.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;

/// An instruction on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireInstruction {
    /// The program, base58.
    pub program_id: String,
    /// The accounts, in order.
    pub accounts: Vec<WireAccountMeta>,
    /// The data, standard base64 with padding.
    pub data: String,
}

/// An account of a [`WireInstruction`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAccountMeta {
    /// The account, base58.
    pub pubkey: String,
    /// Whether it signs.
    pub is_signer: bool,
    /// Whether it is written.
    pub is_writable: bool,
}

impl From<&Instruction> for WireInstruction {
    fn from(ix: &Instruction) -> Self {
        WireInstruction {
            program_id: ix.program_id.to_string(),
            accounts: ix
                .accounts
                .iter()
                .map(|a| WireAccountMeta {
                    pubkey: a.pubkey.to_string(),
                    is_signer: a.is_signer,
                    is_writable: a.is_writable,
                })
                .collect(),
            data: STANDARD.encode(&ix.data),
        }
    }
}

impl WireInstruction {
    /// Back to an instruction (`None` if a key or the data does not decode).
    pub fn to_instruction(&self) -> Option<Instruction> {
        let program_id: Pubkey = self.program_id.parse().ok()?;
        let accounts = self
            .accounts
            .iter()
            .map(|a| {
                Some(AccountMeta {
                    pubkey: a.pubkey.parse().ok()?,
                    is_signer: a.is_signer,
                    is_writable: a.is_writable,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let data = STANDARD.decode(&self.data).ok()?;
        Some(Instruction {
            program_id,
            accounts,
            data,
        })
    }
}
