//! The IP inventory: which source IPs this process may use, found at start.
//!
//! Candidates come from the manual list, CIDR ranges and (with `auto_discover`) the host's
//! interfaces; the blacklist removes any of them. Auto-discovered addresses are filtered by kind
//! (loopback unless allowed, down interfaces, link-local, documentation, broadcast,
//! unspecified); explicit ones are refused only when they can never be a source. Every
//! remaining candidate is probe-bound: one that fails is quarantined with its reason, the others
//! serve.

mod classify;
mod interfaces;
mod probe;

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::{NetError, NetworkConfig};
use classify::AddrClass;
use interfaces::InterfaceAddr;

/// Where a source IP came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// `manual_ips`, or built in code.
    Manual,
    /// One of `ranges`.
    Range(IpNet),
    /// Found on this interface by auto discovery.
    Interface(String),
    /// No usable IP: connections leave from whatever address the OS picks.
    OsDefault,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Manual => f.write_str("manual"),
            Origin::Range(net) => write!(f, "range {net}"),
            Origin::Interface(name) => write!(f, "interface {name}"),
            Origin::OsDefault => f.write_str("OS default"),
        }
    }
}

/// A source IP connections can leave from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceIp {
    ip: IpAddr,
    origin: Origin,
    freebind: bool,
}

impl SourceIp {
    /// A manually listed source.
    pub fn new(ip: IpAddr) -> Self {
        Self {
            ip,
            origin: Origin::Manual,
            freebind: false,
        }
    }

    /// The OS default: sockets are not bound, the kernel picks the address.
    pub fn os_default() -> Self {
        Self {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            origin: Origin::OsDefault,
            freebind: false,
        }
    }

    /// Bind with `IP_FREEBIND` (an address routed here but not assigned).
    #[must_use]
    pub fn with_freebind(mut self, freebind: bool) -> Self {
        self.freebind = freebind;
        self
    }

    /// The address (`0.0.0.0` for the OS default).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Where it came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether sockets bind with freebind.
    pub fn freebind(&self) -> bool {
        self.freebind
    }

    /// True for the unbound OS-default source.
    pub fn is_os_default(&self) -> bool {
        self.origin == Origin::OsDefault
    }
}

impl fmt::Display for SourceIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_os_default() {
            f.write_str("OS default source")
        } else {
            write!(f, "{}", self.ip)
        }
    }
}

/// Why a candidate IP does not serve.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuarantineReason {
    /// It can never be a source (unspecified, broadcast, multicast, loopback not allowed, ...).
    Refused(&'static str),
    /// The bind probe failed; the errno is named.
    Bind(String),
    /// Taken out of service at run time.
    Runtime(String),
}

impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuarantineReason::Refused(why) => f.write_str(why),
            QuarantineReason::Bind(why) | QuarantineReason::Runtime(why) => f.write_str(why),
        }
    }
}

/// A candidate that does not serve, and why. Displays as `192.0.2.1: address not assigned to
/// this host (EADDRNOTAVAIL)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    /// The address.
    pub ip: IpAddr,
    /// Where it came from.
    pub origin: Origin,
    /// Why it does not serve.
    pub reason: QuarantineReason,
}

impl fmt::Display for Quarantined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.ip, self.reason)
    }
}

/// The source IPs found at start: those that serve, and those quarantined with a reason.
#[derive(Clone, Debug)]
pub struct Inventory {
    sources: Vec<SourceIp>,
    quarantined: Vec<Quarantined>,
}

impl Inventory {
    /// Builds the inventory `cfg` describes: gathers candidates, probe-binds each one, applies
    /// `require_ips`, falls back to the OS default source when nothing is usable (with a
    /// warning), and logs the result.
    pub fn discover(cfg: &NetworkConfig) -> Result<Self, NetError> {
        cfg.validate()?;
        if !cfg.enable_multiple_ip {
            tracing::info!("IP inventory: multiple IPs disabled; using the OS default source");
            return Ok(Self::os_default());
        }
        let ifaces = if cfg.auto_discover {
            interfaces::list().map_err(NetError::Interfaces)?
        } else {
            Vec::new()
        };
        let (candidates, mut quarantined) = candidates(cfg, &ifaces)?;
        let mut sources = Vec::with_capacity(candidates.len());
        for c in candidates {
            match probe::probe(&c) {
                Ok(()) => sources.push(c),
                Err(reason) => quarantined.push(Quarantined {
                    ip: c.ip,
                    origin: c.origin,
                    reason,
                }),
            }
        }
        for q in &quarantined {
            tracing::warn!(ip = %q.ip, origin = %q.origin, "source IP quarantined: {q}");
        }
        if let Some(required) = cfg.require_ips
            && sources.len() < required
        {
            return Err(NetError::NotEnoughIps {
                required,
                usable: sources.len(),
                quarantined,
            });
        }
        let inventory = if sources.is_empty() {
            tracing::warn!(
                quarantined = quarantined.len(),
                "no usable source IP; falling back to the OS default source (set require_ips to fail instead)"
            );
            Self {
                sources: vec![SourceIp::os_default()],
                quarantined,
            }
        } else {
            Self {
                sources,
                quarantined,
            }
        };
        inventory.log();
        Ok(inventory)
    }

    /// An inventory of exactly these sources (no probe, no filter): for bots that manage their
    /// own addresses.
    pub fn from_sources(sources: Vec<SourceIp>) -> Result<Self, NetError> {
        if sources.is_empty() {
            return Err(NetError::Config(
                "an inventory needs at least one source; use Inventory::os_default() for none"
                    .into(),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = sources.iter().find(|s| !seen.insert(s.ip)) {
            return Err(NetError::Config(format!("{} is listed twice", dup.ip)));
        }
        Ok(Self {
            sources,
            quarantined: Vec::new(),
        })
    }

    /// One slot on the OS default source.
    pub fn os_default() -> Self {
        Self {
            sources: vec![SourceIp::os_default()],
            quarantined: Vec::new(),
        }
    }

    /// The sources that serve, in order.
    pub fn sources(&self) -> &[SourceIp] {
        &self.sources
    }

    /// The candidates refused at start, with reasons.
    pub fn quarantined(&self) -> &[Quarantined] {
        &self.quarantined
    }

    /// True when nothing was usable and connections leave from the OS default address.
    pub fn is_os_default(&self) -> bool {
        self.sources.len() == 1 && self.sources[0].is_os_default()
    }

    fn log(&self) {
        let list: Vec<String> = self.sources.iter().map(ToString::to_string).collect();
        tracing::info!(
            usable = self.sources.len(),
            quarantined = self.quarantined.len(),
            "IP inventory: {}",
            list.join(", ")
        );
    }
}

/// Candidates from the configuration and the interfaces, before probing; plus explicit entries
/// refused outright. Pure: no I/O.
fn candidates(
    cfg: &NetworkConfig,
    ifaces: &[InterfaceAddr],
) -> Result<(Vec<SourceIp>, Vec<Quarantined>), NetError> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    let mut seen = HashSet::new();
    let blacklisted = |ip: &IpAddr| cfg.blacklist.iter().any(|n| n.contains(ip));
    let broadcasts: HashSet<IpAddr> = ifaces.iter().filter_map(|i| i.broadcast).collect();

    let mut explicit = |ip: IpAddr, origin: Origin, freebind: bool| {
        if blacklisted(&ip) {
            tracing::info!(%ip, "source IP skipped: blacklisted");
            return;
        }
        if !seen.insert(ip) {
            return;
        }
        let class = AddrClass::of(ip);
        let refusal = if broadcasts.contains(&ip) {
            Some("a broadcast address cannot be a source")
        } else {
            class.refusal(cfg.allow_loopback)
        };
        match refusal {
            Some(why) => refused.push(Quarantined {
                ip,
                origin,
                reason: QuarantineReason::Refused(why),
            }),
            None => out.push(SourceIp {
                ip,
                origin,
                freebind,
            }),
        }
    };

    for ip in &cfg.manual_ips {
        explicit(*ip, Origin::Manual, false);
    }
    for range in &cfg.ranges {
        let net = range.cidr;
        let size = range_size(&net);
        if size > cfg.max_range_addresses as u128 {
            return Err(NetError::Config(format!(
                "range {net} holds {size} addresses, more than max_range_addresses = {}; use a longer prefix or raise the limit",
                cfg.max_range_addresses
            )));
        }
        for ip in hosts(&net) {
            explicit(ip, Origin::Range(net), range.freebind);
        }
    }
    for iface in ifaces {
        let ip = iface.ip;
        let class = AddrClass::of(ip);
        let keep = iface.up && class.auto_keeps(cfg.allow_loopback);
        if !keep || blacklisted(&ip) || broadcasts.contains(&ip) || !seen.insert(ip) {
            tracing::debug!(%ip, interface = %iface.name, up = iface.up, ?class, "interface address not used");
            continue;
        }
        out.push(SourceIp {
            ip,
            origin: Origin::Interface(iface.name.clone()),
            freebind: false,
        });
    }
    Ok((out, refused))
}

fn range_size(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// Every usable address of a range: IPv4 ranges lose their network and broadcast addresses
/// (except /31 and /32); IPv6 ranges keep all (there is no broadcast in IPv6).
fn hosts(net: &IpNet) -> Vec<IpAddr> {
    match net {
        IpNet::V4(v4) => v4.hosts().map(IpAddr::V4).collect(),
        IpNet::V6(v6) => {
            let first = u128::from(v6.network());
            let last = u128::from(v6.broadcast());
            (first..=last).map(|n| IpAddr::V6(n.into())).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RangeConfig;

    fn cfg(text: &str) -> NetworkConfig {
        NetworkConfig::from_toml(text).unwrap()
    }

    fn iface(name: &str, ip: &str, up: bool) -> InterfaceAddr {
        InterfaceAddr {
            name: name.into(),
            ip: ip.parse().unwrap(),
            up,
            broadcast: None,
        }
    }

    fn ips(s: &[SourceIp]) -> Vec<String> {
        s.iter().map(|s| s.ip.to_string()).collect()
    }

    #[test]
    fn auto_discovery_filters_by_kind_and_state() {
        let c = cfg("enable_multiple_ip = true");
        let ifaces = [
            iface("lo", "127.0.0.1", true),
            iface("eth0", "10.0.0.5", true),
            iface("eth0", "fe80::1", true),
            iface("eth1", "10.0.1.5", false),
            iface("eth2", "192.0.2.10", true),
            iface("eth3", "2001:db8::1", true),
            iface("eth4", "2a01:4f8::5", true),
            InterfaceAddr {
                broadcast: Some("10.0.2.255".parse().unwrap()),
                ..iface("eth5", "10.0.2.7", true)
            },
        ];
        let (out, refused) = candidates(&c, &ifaces).unwrap();
        assert_eq!(ips(&out), ["10.0.0.5", "2a01:4f8::5", "10.0.2.7"]);
        assert!(refused.is_empty());
        assert_eq!(out[0].origin, Origin::Interface("eth0".into()));
    }

    #[test]
    fn explicit_entries_are_probed_unless_they_can_never_work() {
        let c = cfg(r#"
            enable_multiple_ip = true
            auto_discover = false
            manual_ips = ["192.0.2.1", "127.0.0.2", "0.0.0.0", "fe80::1", "10.9.9.9", "10.9.9.9"]
            blacklist = ["10.9.0.0/16"]
        "#);
        let (out, refused) = candidates(&c, &[]).unwrap();
        assert_eq!(ips(&out), ["192.0.2.1"]);
        let msgs: Vec<String> = refused.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs[0].starts_with("127.0.0.2: a loopback address; set allow_loopback"));
        assert!(msgs[1].starts_with("0.0.0.0: the unspecified address"));
        assert!(msgs[2].starts_with("fe80::1: link-local"));
    }

    #[test]
    fn ranges_expand_with_their_freebind_flag() {
        let mut c = cfg("enable_multiple_ip = true\nauto_discover = false");
        c.ranges = vec![
            RangeConfig {
                cidr: "10.1.0.0/30".parse().unwrap(),
                freebind: false,
            },
            RangeConfig {
                cidr: "fd00:1::/120".parse().unwrap(),
                freebind: true,
            },
        ];
        let (out, _) = candidates(&c, &[]).unwrap();
        assert_eq!(out.len(), 2 + 256);
        assert_eq!(ips(&out[..2]), ["10.1.0.1", "10.1.0.2"]);
        assert!(out[2].freebind && out[257].freebind);
        assert_eq!(out[257].ip.to_string(), "fd00:1::ff");
        c.ranges = vec![RangeConfig {
            cidr: "fd00::/64".parse().unwrap(),
            freebind: true,
        }];
        let err = candidates(&c, &[]).unwrap_err().to_string();
        assert!(err.contains("max_range_addresses"), "{err}");
    }

    #[test]
    fn discovery_probes_and_quarantines_with_the_reason() {
        let c = cfg(r#"
            enable_multiple_ip = true
            auto_discover = false
            allow_loopback = true
            manual_ips = ["127.0.0.2", "192.0.2.1", "127.0.0.3"]
        "#);
        let inv = Inventory::discover(&c).unwrap();
        assert_eq!(ips(inv.sources()), ["127.0.0.2", "127.0.0.3"]);
        assert_eq!(
            inv.quarantined()[0].to_string(),
            "192.0.2.1: address not assigned to this host (EADDRNOTAVAIL)"
        );
    }

    #[test]
    fn nothing_usable_falls_back_or_fails_as_configured() {
        let base = r#"
            enable_multiple_ip = true
            auto_discover = false
            manual_ips = ["192.0.2.1"]
        "#;
        let inv = Inventory::discover(&cfg(base)).unwrap();
        assert!(inv.is_os_default());
        assert_eq!(inv.quarantined().len(), 1);
        let err = Inventory::discover(&cfg(&format!("{base}\nrequire_ips = 1"))).unwrap_err();
        assert!(
            err.to_string().contains(
                "0 usable source IP(s), but require_ips = 1; quarantined: 192.0.2.1: address not assigned"
            ),
            "{err}"
        );
    }

    #[test]
    fn single_ip_mode_is_the_os_default() {
        let inv = Inventory::discover(&NetworkConfig::default()).unwrap();
        assert!(inv.is_os_default());
        assert_eq!(inv.sources()[0].to_string(), "OS default source");
    }
}
