//! Address lookup table accounts: the on-chain layout of the ALT program, written at setup and
//! read when a v0 message is resolved.
//!
//! Layout (bincode of `ProgramState::LookupTable(LookupTableMeta)`, 56 bytes, then the
//! addresses): `u32` tag (1), `deactivation_slot: u64`, `last_extended_slot: u64`,
//! `last_extended_slot_start_index: u8`, `authority: Option<Pubkey>` (1 + 32 bytes),
//! `u16` padding.

use solana_pubkey::Pubkey;
use solana_transaction_error::TransactionError;

/// Size of the table's metadata before the addresses.
pub const LOOKUP_TABLE_META_SIZE: usize = 56;

/// The ALT program.
pub const ADDRESS_LOOKUP_TABLE_PROGRAM: Pubkey =
    Pubkey::from_str_const("AddressLookupTab1e1111111111111111111111111");

/// How long a deactivated table stays usable (the `SlotHashes` depth).
const DEACTIVATION_COOLDOWN: u64 = 512;

/// The account data of an active table holding `addresses`.
pub fn encode(authority: Option<Pubkey>, addresses: &[Pubkey], last_extended_slot: u64) -> Vec<u8> {
    let mut data = Vec::with_capacity(LOOKUP_TABLE_META_SIZE + 32 * addresses.len());
    data.extend_from_slice(&1u32.to_le_bytes());
    data.extend_from_slice(&u64::MAX.to_le_bytes());
    data.extend_from_slice(&last_extended_slot.to_le_bytes());
    data.push(0);
    match authority {
        Some(a) => {
            data.push(1);
            data.extend_from_slice(a.as_ref());
        }
        None => {
            data.push(0);
            data.extend_from_slice(&[0; 32]);
        }
    }
    data.extend_from_slice(&[0, 0]);
    debug_assert_eq!(data.len(), LOOKUP_TABLE_META_SIZE);
    for a in addresses {
        data.extend_from_slice(a.as_ref());
    }
    data
}

/// A decoded table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTable {
    /// `u64::MAX` while active.
    pub deactivation_slot: u64,
    /// The slot of the last extension.
    pub last_extended_slot: u64,
    /// How many addresses existed before that extension.
    pub last_extended_slot_start_index: u8,
    /// Who may extend it.
    pub authority: Option<Pubkey>,
    /// The addresses.
    pub addresses: Vec<Pubkey>,
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

/// Reads a table; `None` when the data is not an initialized table.
pub fn decode(data: &[u8]) -> Option<LookupTable> {
    let tag = u32::from_le_bytes(data.get(0..4)?.try_into().ok()?);
    if tag != 1 || data.len() < LOOKUP_TABLE_META_SIZE {
        return None;
    }
    let authority = match data[21] {
        0 => None,
        1 => Some(Pubkey::new_from_array(data[22..54].try_into().ok()?)),
        _ => return None,
    };
    let rest = &data[LOOKUP_TABLE_META_SIZE..];
    if !rest.len().is_multiple_of(32) {
        return None;
    }
    Some(LookupTable {
        deactivation_slot: u64_at(data, 4)?,
        last_extended_slot: u64_at(data, 12)?,
        last_extended_slot_start_index: data[20],
        authority,
        addresses: rest
            .chunks_exact(32)
            .map(|c| Pubkey::new_from_array(c.try_into().expect("32 bytes")))
            .collect(),
    })
}

impl LookupTable {
    /// Resolves `indexes` at `current_slot` as the runtime does, with its errors.
    pub fn lookup(
        &self,
        current_slot: u64,
        indexes: &[u8],
    ) -> Result<Vec<Pubkey>, TransactionError> {
        let active = self.deactivation_slot == u64::MAX
            || current_slot.saturating_sub(self.deactivation_slot) < DEACTIVATION_COOLDOWN;
        if !active {
            return Err(TransactionError::AddressLookupTableNotFound);
        }
        let usable = if current_slot > self.last_extended_slot {
            self.addresses.len()
        } else {
            usize::from(self.last_extended_slot_start_index)
        };
        indexes
            .iter()
            .map(|&i| {
                let i = usize::from(i);
                if i < usable {
                    Ok(self.addresses[i])
                } else {
                    Err(TransactionError::InvalidAddressLookupTableIndex)
                }
            })
            .collect()
    }
}
