//! The subscription planner (sans-IO): which (pair, amount) streams each source IP holds, and
//! how an IP's streams are split over connections.
//!
//! `per_ip` streams per IP (2 in practice), so `per_ip × N` over N IPs:
//! - more subscriptions than that: the first `per_ip × N` are taken, in the caller's order;
//! - fewer: they are cycled, each on distinct IPs, until every IP is full or every
//!   subscription is on every IP.
//!
//! Streams are dealt round-robin over the IPs (subscription `k` on IP `k mod N`), so an IP
//! gets sizes from both ends of a sorted list rather than two neighbours.
//!
//! ```
//! use galileo_titan::plan::{Subscription, plan};
//! # use solana_pubkey::Pubkey;
//! let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
//! let subs: Vec<Subscription> = (1..=5).map(|k| Subscription::new(a, b, k * 100)).collect();
//! let ips = ["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap(), "127.0.0.4".parse().unwrap()];
//! let streams = plan(&subs, &ips, 2);
//! assert_eq!(streams.len(), 6); // 5 sizes, the first one twice (on two IPs)
//! let amounts: Vec<u64> = streams.iter().map(|k| k.amount).collect();
//! assert_eq!(amounts, [100, 100, 200, 300, 400, 500]);
//! assert_ne!(streams[0].ip, streams[1].ip);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use solana_pubkey::Pubkey;

/// A stream to hold somewhere: `amount` of `input_mint` into `output_mint` (exact in).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subscription {
    /// The token sold.
    pub input_mint: Pubkey,
    /// The token bought.
    pub output_mint: Pubkey,
    /// Raw units of `input_mint`.
    pub amount: u64,
}

impl Subscription {
    /// A subscription.
    pub fn new(input_mint: Pubkey, output_mint: Pubkey, amount: u64) -> Self {
        Subscription {
            input_mint,
            output_mint,
            amount,
        }
    }

    /// This subscription held on `ip`.
    pub fn on(self, ip: IpAddr) -> StreamKey {
        StreamKey {
            input_mint: self.input_mint,
            output_mint: self.output_mint,
            amount: self.amount,
            ip,
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} → {}",
            self.amount, self.input_mint, self.output_mint
        )
    }
}

/// A stream: (pair, amount) on a source IP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// The token sold.
    pub input_mint: Pubkey,
    /// The token bought.
    pub output_mint: Pubkey,
    /// Raw units of `input_mint`.
    pub amount: u64,
    /// The source IP the stream's connection leaves from.
    pub ip: IpAddr,
}

impl StreamKey {
    /// The (pair, amount) without the IP.
    pub fn subscription(&self) -> Subscription {
        Subscription::new(self.input_mint, self.output_mint, self.amount)
    }
}

impl fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} on {}", self.subscription(), self.ip)
    }
}

/// The streams to hold: at most `per_ip` per IP, no (pair, amount) twice on one IP. See the
/// module's documentation for the rule. Duplicate subscriptions count once.
pub fn plan(subs: &[Subscription], ips: &[IpAddr], per_ip: usize) -> Vec<StreamKey> {
    let mut unique: Vec<Subscription> = Vec::with_capacity(subs.len());
    for s in subs {
        if !unique.contains(s) {
            unique.push(*s);
        }
    }
    let mut distinct_ips: Vec<IpAddr> = Vec::with_capacity(ips.len());
    for ip in ips {
        if !distinct_ips.contains(ip) {
            distinct_ips.push(*ip);
        }
    }
    let (n, len) = (distinct_ips.len(), unique.len());
    if n == 0 || len == 0 || per_ip == 0 {
        return Vec::new();
    }
    // Every IP full, but no subscription more than once per IP.
    let total = (per_ip * n).min(len * n);
    // Subscription i is held count(i) times: the first `total mod len` once more than the
    // rest. Laid out grouped, copies of one subscription sit on consecutive positions, and
    // position p goes to IP p mod n: at most n copies, so never two on one IP, and at most
    // ceil(total / n) <= per_ip streams per IP.
    let (base, extra) = (total / len, total % len);
    let mut out = Vec::with_capacity(total);
    for (i, s) in unique.iter().enumerate().take(total) {
        let count = base + usize::from(i < extra);
        for _ in 0..count {
            let ip = distinct_ips[out.len() % n];
            out.push(s.on(ip));
        }
    }
    out
}

/// One connection's share of an IP's streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionPlan {
    /// The source IP.
    pub ip: IpAddr,
    /// Its index among the IP's connections (0 unless the server allows fewer streams per
    /// connection than are planned per IP).
    pub index: usize,
    /// The streams it holds.
    pub keys: Vec<StreamKey>,
}

/// Splits the planned streams into connections of at most `per_connection` streams each
/// (the server's `concurrentStreams`, when smaller than the streams per IP).
pub fn connections(streams: &[StreamKey], per_connection: usize) -> Vec<ConnectionPlan> {
    let per = per_connection.max(1);
    let mut by_ip: Vec<(IpAddr, Vec<StreamKey>)> = Vec::new();
    let mut index: HashMap<IpAddr, usize> = HashMap::new();
    for k in streams {
        let i = *index.entry(k.ip).or_insert_with(|| {
            by_ip.push((k.ip, Vec::new()));
            by_ip.len() - 1
        });
        by_ip[i].1.push(*k);
    }
    by_ip
        .into_iter()
        .flat_map(|(ip, keys)| {
            keys.chunks(per)
                .enumerate()
                .map(|(index, chunk)| ConnectionPlan {
                    ip,
                    index,
                    keys: chunk.to_vec(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The effective quote parallelism for Titan: the configured value clamped to
/// `per_ip` × the planned IPs (a stream source has no more quotes in flight than streams).
/// Pure; [`TitanStreams::quote_parallelism`](crate::TitanStreams::quote_parallelism) warns
/// once when it clamps.
///
/// ```
/// use galileo_titan::plan::clamp_quote_parallelism;
/// assert_eq!(clamp_quote_parallelism(16, 3, 2), 6);
/// assert_eq!(clamp_quote_parallelism(4, 3, 2), 4);
/// assert_eq!(clamp_quote_parallelism(4, 0, 2), 1, "never zero");
/// ```
pub fn clamp_quote_parallelism(configured: usize, planned_ips: usize, per_ip: usize) -> usize {
    configured.min(per_ip.saturating_mul(planned_ips)).max(1)
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use proptest::prelude::*;

    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    fn subs(n: u64) -> Vec<Subscription> {
        let (a, b) = (
            Pubkey::new_from_array([1; 32]),
            Pubkey::new_from_array([2; 32]),
        );
        (1..=n).map(|k| Subscription::new(a, b, k)).collect()
    }

    #[test]
    fn one_ip_five_sizes_is_two_streams() {
        let p = plan(&subs(5), &[ip(2)], 2);
        let amounts: Vec<u64> = p.iter().map(|k| k.amount).collect();
        assert_eq!(amounts, [1, 2]);
        assert_eq!(connections(&p, 2).len(), 1);
        assert_eq!(connections(&p, 4).len(), 1);
        // A server allowing 1 stream per connection: two connections on the IP.
        let c = connections(&p, 1);
        assert_eq!(c.len(), 2);
        assert_eq!((c[1].ip, c[1].index, c[1].keys.len()), (ip(2), 1, 1));
    }

    #[test]
    fn three_ips_five_sizes_cycles_the_first() {
        let p = plan(&subs(5), &[ip(2), ip(3), ip(4)], 2);
        let got: Vec<(u64, IpAddr)> = p.iter().map(|k| (k.amount, k.ip)).collect();
        assert_eq!(
            got,
            [
                (1, ip(2)),
                (1, ip(3)),
                (2, ip(4)),
                (3, ip(2)),
                (4, ip(3)),
                (5, ip(4))
            ]
        );
        let c = connections(&p, 2);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|c| c.keys.len() == 2 && c.index == 0));
    }

    #[test]
    fn few_sizes_never_repeat_on_one_ip() {
        // One size over two IPs: once on each, not twice on one.
        let p = plan(&subs(1), &[ip(2), ip(3)], 2);
        assert_eq!(p.len(), 2);
        assert_ne!(p[0].ip, p[1].ip);
        assert!(plan(&subs(3), &[], 2).is_empty());
        assert!(plan(&[], &[ip(2)], 2).is_empty());
    }

    proptest! {
        #[test]
        fn plans_respect_the_limits(
            n_subs in 0u64..12,
            dup in 0usize..3,
            n_ips in 0u8..7,
            per_ip in 1usize..3,
            per_conn in 1usize..4,
        ) {
            let mut s = subs(n_subs);
            // Duplicates in the input count once.
            let copies: Vec<Subscription> = s.iter().take(dup).copied().collect();
            s.extend(copies);
            let ips: Vec<IpAddr> = (0..n_ips).map(|i| ip(2 + i)).collect();
            let p = plan(&s, &ips, per_ip);
            let (len, n) = (n_subs as usize, usize::from(n_ips));
            prop_assert_eq!(p.len(), (per_ip * n).min(len * n));
            let keys: HashSet<StreamKey> = p.iter().copied().collect();
            prop_assert_eq!(keys.len(), p.len(), "no stream twice");
            let mut per: HashMap<IpAddr, usize> = HashMap::new();
            let mut copies: HashMap<u64, usize> = HashMap::new();
            for k in &p {
                *per.entry(k.ip).or_default() += 1;
                *copies.entry(k.amount).or_default() += 1;
                prop_assert!(ips.contains(&k.ip));
            }
            prop_assert!(per.values().all(|&c| c <= per_ip));
            if len >= per_ip * n {
                // The first per_ip × N, once each.
                let mut amounts: Vec<u64> = p.iter().map(|k| k.amount).collect();
                amounts.sort_unstable();
                let first: Vec<u64> = (1..=(per_ip * n) as u64).collect();
                prop_assert_eq!(amounts, first);
            } else if n > 0 {
                // Cycled: every size, evenly (counts differ by at most one).
                prop_assert_eq!(copies.len(), len);
                let (lo, hi) = (copies.values().min(), copies.values().max());
                prop_assert!(hi.copied().unwrap_or(0) - lo.copied().unwrap_or(0) <= 1);
            }
            // Connections hold at most per_conn streams and cover the plan exactly.
            let c = connections(&p, per_conn);
            prop_assert!(c.iter().all(|c| !c.keys.is_empty() && c.keys.len() <= per_conn));
            let covered: Vec<StreamKey> = c.iter().flat_map(|c| c.keys.clone()).collect();
            prop_assert_eq!(covered.len(), p.len());
            prop_assert!(c.iter().all(|c| c.keys.iter().all(|k| k.ip == c.ip)));
        }
    }
}
