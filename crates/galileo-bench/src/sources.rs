//! Loopback source addresses: on Linux every 127.x.y.z is a distinct local address, so the
//! simulator (listening on 127.0.0.1) counts each as its own client.

use std::net::{IpAddr, Ipv4Addr};

use galileo_net::{Inventory, SourceIp};

use crate::BenchError;

/// The most sources [`loopback_sources`] hands out.
pub const MAX_SOURCES: usize = 250 * 256;

/// `n` distinct loopback addresses in 127.1.0.0/16, avoiding the simulator's 127.0.0.1 and
/// host parts 0 and 255: 127.1.0.1, 127.1.0.2, ..., 127.1.0.250, 127.1.1.1, ...
///
/// ```
/// let ips = galileo_bench::loopback_sources(251);
/// assert_eq!(ips[0].to_string(), "127.1.0.1");
/// assert_eq!(ips[250].to_string(), "127.1.1.1");
/// ```
pub fn loopback_sources(n: usize) -> Vec<IpAddr> {
    (0..n.min(MAX_SOURCES))
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8)))
        .collect()
}

/// An inventory of exactly these sources (loopback, so no probe is needed).
pub fn inventory(ips: &[IpAddr]) -> Result<Inventory, BenchError> {
    Ok(Inventory::from_sources(
        ips.iter().map(|ip| SourceIp::new(*ip)).collect(),
    )?)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn distinct_and_never_the_servers_address() {
        let ips = loopback_sources(4096);
        assert_eq!(ips.len(), 4096);
        assert_eq!(ips.iter().collect::<HashSet<_>>().len(), 4096);
        for ip in &ips {
            let IpAddr::V4(v4) = ip else { panic!("{ip}") };
            let [a, b, _, d] = v4.octets();
            assert_eq!((a, b), (127, 1));
            assert!(d != 0 && d != 255, "{ip}");
        }
    }
}
