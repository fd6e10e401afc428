//! Where route instructions come from: [`RouteInstructions`], implemented by the simulated
//! chain (whose venue program executes exactly such a swap) and, without a chain, by
//! [`SyntheticRoutes`].

use std::time::Duration;

use sha2::{Digest, Sha256};
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;
use tokio::time::Instant;

/// Why a provider's route has no instructions (the route is then left out of the update).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RouteError(pub String);

/// The instructions, lookup tables and slot of the routes a Titan stream sends. Called for
/// every route of every update, outside any lock of the simulator's.
pub trait RouteInstructions: Clone + Send + Sync + 'static {
    /// The instructions of a direct swap at `venue` (a market venue name): `user` pays
    /// `in_amount` of `input_mint` and receives `out_amount` of `output_mint`.
    fn swap_instructions(
        &self,
        user: &Pubkey,
        venue: &str,
        input_mint: &Pubkey,
        output_mint: &Pubkey,
        in_amount: u64,
        out_amount: u64,
    ) -> Result<Vec<Instruction>, RouteError>;

    /// The address lookup tables those instructions need (`addressLookupTables`).
    fn lookup_tables(&self) -> Vec<Pubkey>;

    /// The chain's slot at `now` (`contextSlot`).
    fn slot(&self, now: Instant) -> u64;
}

/// Route instructions without a chain: one instruction of a made-up program per swap, whose
/// data says what it swaps ([`SyntheticRoutes::decode`]), and a slot every 400 ms.
#[derive(Clone, Debug)]
pub struct SyntheticRoutes {
    /// The program the instructions call.
    pub program: Pubkey,
    /// `addressLookupTables` of every route.
    pub lookup_tables: Vec<Pubkey>,
    /// Slot `first_slot` starts here.
    pub epoch: Instant,
    /// The slot at `epoch`.
    pub first_slot: u64,
    /// How long a slot lasts.
    pub slot_duration: Duration,
}

/// The first byte of a [`SyntheticRoutes`] instruction's data.
const SWAP_TAG: u8 = 0x53;

impl SyntheticRoutes {
    /// Slot `first_slot` at `epoch`, 400 ms slots, a derived program id and lookup table.
    pub fn new(epoch: Instant, first_slot: u64) -> Self {
        SyntheticRoutes {
            program: derive("galileo-sim titan synthetic program"),
            lookup_tables: vec![derive("galileo-sim titan synthetic lookup table")],
            epoch,
            first_slot,
            slot_duration: Duration::from_millis(400),
        }
    }

    /// What a [`SyntheticRoutes`] instruction's data says: venue, in and out amounts.
    pub fn decode(data: &[u8]) -> Option<(String, u64, u64)> {
        let (&tag, rest) = data.split_first()?;
        let (&len, rest) = rest.split_first()?;
        if tag != SWAP_TAG || rest.len() != usize::from(len) + 16 {
            return None;
        }
        let (name, amounts) = rest.split_at(usize::from(len));
        let in_amount = u64::from_le_bytes(amounts[..8].try_into().ok()?);
        let out_amount = u64::from_le_bytes(amounts[8..].try_into().ok()?);
        Some((
            String::from_utf8(name.to_vec()).ok()?,
            in_amount,
            out_amount,
        ))
    }
}

fn derive(what: &str) -> Pubkey {
    Pubkey::new_from_array(Sha256::digest(what.as_bytes()).into())
}

impl RouteInstructions for SyntheticRoutes {
    fn swap_instructions(
        &self,
        user: &Pubkey,
        venue: &str,
        input_mint: &Pubkey,
        output_mint: &Pubkey,
        in_amount: u64,
        out_amount: u64,
    ) -> Result<Vec<Instruction>, RouteError> {
        let name = venue.as_bytes();
        let len = u8::try_from(name.len())
            .map_err(|_| RouteError(format!("venue name `{venue}` is over 255 bytes")))?;
        let mut data = Vec::with_capacity(2 + name.len() + 16);
        data.extend([SWAP_TAG, len]);
        data.extend_from_slice(name);
        data.extend(in_amount.to_le_bytes());
        data.extend(out_amount.to_le_bytes());
        Ok(vec![Instruction {
            program_id: self.program,
            accounts: vec![
                AccountMeta::new(*user, true),
                AccountMeta::new_readonly(*input_mint, false),
                AccountMeta::new_readonly(*output_mint, false),
            ],
            data,
        }])
    }

    fn lookup_tables(&self) -> Vec<Pubkey> {
        self.lookup_tables.clone()
    }

    fn slot(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        let per = self.slot_duration.as_nanos().max(1);
        self.first_slot
            .saturating_add(u64::try_from(elapsed / per).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_instructions_say_what_they_swap() {
        let now = Instant::now();
        let r = SyntheticRoutes::new(now, 1000);
        let (u, a, b) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let ixs = r.swap_instructions(&u, "HumidiFi", &a, &b, 7, 9).unwrap();
        assert_eq!(ixs.len(), 1);
        assert_eq!(ixs[0].accounts[0].pubkey, u);
        assert!(ixs[0].accounts[0].is_signer);
        assert_eq!(
            SyntheticRoutes::decode(&ixs[0].data),
            Some(("HumidiFi".into(), 7, 9))
        );
        assert_eq!(SyntheticRoutes::decode(&ixs[0].data[1..]), None);
        assert_eq!(r.slot(now), 1000);
        assert_eq!(r.slot(now + Duration::from_millis(1_000)), 1002);
    }
}
