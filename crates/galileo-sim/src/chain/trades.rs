//! Venue swaps that landed: what the market hears about, so arbitrage closes what it trades.

use solana_pubkey::Pubkey;
use solana_signature::Signature;
use tokio::time::Instant;

use super::VenueInfo;
use super::record::LandedTransaction;
use super::venue::{SwapData, VENUE_PROGRAM_ID};

/// One venue swap of a transaction that landed without error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LandedSwap {
    /// The transaction's first signature.
    pub signature: Signature,
    /// The slot it landed in.
    pub slot: u64,
    /// When it landed (the `now` of the submission).
    pub landed_at: Instant,
    /// The venue's name.
    pub venue: String,
    /// The mint the user paid.
    pub input_mint: Pubkey,
    /// The mint the user received.
    pub output_mint: Pubkey,
    /// Raw units paid.
    pub in_amount: u64,
    /// Raw units received.
    pub out_amount: u64,
}

/// The venue swaps among `rec`'s top-level instructions, in order; none if it failed.
pub(crate) fn swaps_of(
    rec: &LandedTransaction,
    venues: &[VenueInfo],
    landed_at: Instant,
) -> Vec<LandedSwap> {
    if !rec.is_ok() {
        return Vec::new();
    }
    rec.instructions
        .iter()
        .filter(|ix| ix.program_id == VENUE_PROGRAM_ID)
        .filter_map(|ix| {
            let data = SwapData::decode(&ix.data)?;
            let venue = venues.iter().find(|v| v.index == data.venue)?;
            Some(LandedSwap {
                signature: rec.signature,
                slot: rec.slot,
                landed_at,
                venue: venue.name.clone(),
                input_mint: *ix.accounts.get(5)?,
                output_mint: *ix.accounts.get(6)?,
                in_amount: data.in_amount,
                out_amount: data.out_amount,
            })
        })
        .collect()
}
