//! Trade pairs: every base mint with every intermediate mint.

use std::collections::BTreeSet;
use std::fmt;

use solana_pubkey::Pubkey;

/// A round trip's route: `base → intermediate` (the buy leg), then `intermediate → base` (the
/// sell leg).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TradePair {
    /// The mint the trade starts and ends in; sizes and profit are in its raw units.
    pub base: Pubkey,
    /// The mint held between the legs.
    pub intermediate: Pubkey,
}

impl TradePair {
    /// The pair `base → intermediate → base`.
    pub fn new(base: Pubkey, intermediate: Pubkey) -> Self {
        Self { base, intermediate }
    }
}

impl fmt::Debug for TradePair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}→{}", self.base, self.intermediate)
    }
}

impl fmt::Display for TradePair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `{ (base, m) | base ∈ bases, m ∈ intermediates \ disabled, m ≠ base }`, de-duplicated and
/// sorted by the mints' base58 strings (the order the reference implementation uses).
///
/// ```
/// use galileo_quote::plan::trade_pairs;
/// use solana_pubkey::Pubkey;
///
/// let sol: Pubkey = "So11111111111111111111111111111111111111112".parse().unwrap();
/// let usdc: Pubkey = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v".parse().unwrap();
/// let pairs = trade_pairs(&[sol, usdc], &[sol, usdc], &[]);
/// assert_eq!(pairs.len(), 2); // SOL→USDC and USDC→SOL; never SOL→SOL
/// assert_eq!(pairs[0].base, usdc); // "EPj…" sorts before "So1…"
/// ```
pub fn trade_pairs(
    bases: &[Pubkey],
    intermediates: &[Pubkey],
    disabled: &[Pubkey],
) -> Vec<TradePair> {
    let set: BTreeSet<(String, String, TradePair)> = bases
        .iter()
        .flat_map(|b| intermediates.iter().map(move |m| (b, m)))
        .filter(|(b, m)| b != m && !disabled.contains(m))
        .map(|(b, m)| (b.to_string(), m.to_string(), TradePair::new(*b, *m)))
        .collect();
    set.into_iter().map(|(_, _, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    #[test]
    fn pairs_skip_self_disabled_and_duplicates() {
        let (a, b, c) = (key(1), key(2), key(3));
        let pairs = trade_pairs(&[a, b, a], &[a, b, c, c], &[c]);
        assert_eq!(pairs.len(), 2);
        assert!(pairs.contains(&TradePair::new(a, b)));
        assert!(pairs.contains(&TradePair::new(b, a)));
        let strings: Vec<String> = pairs.iter().map(|p| p.base.to_string()).collect();
        let mut sorted = strings.clone();
        sorted.sort();
        assert_eq!(strings, sorted);
    }
}
