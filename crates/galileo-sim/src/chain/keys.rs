//! Keypairs derived from the chain's seed, so a seed always gives the same wallets.

use sha2::{Digest, Sha256};
use solana_keypair::Keypair;

/// The keypair for `label` under `seed`.
pub(crate) fn derive(seed: u64, label: &str) -> Keypair {
    let mut h = Sha256::new();
    h.update(b"galileo-sim/keypair/");
    h.update(seed.to_le_bytes());
    h.update(label.as_bytes());
    Keypair::new_from_array(h.finalize().into())
}
