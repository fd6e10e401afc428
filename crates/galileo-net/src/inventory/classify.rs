//! What kind of address an IP is, and whether it can be a source.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The classes of address the inventory filters on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrClass {
    Unspecified,
    Broadcast,
    Multicast,
    Loopback,
    LinkLocal,
    Documentation,
    Ipv4Mapped,
    Usable,
}

impl AddrClass {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Self {
        if ip.is_unspecified() {
            Self::Unspecified
        } else if ip.is_broadcast() {
            Self::Broadcast
        } else if ip.is_multicast() {
            Self::Multicast
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_link_local() {
            Self::LinkLocal
        } else if ip.is_documentation() {
            Self::Documentation
        } else {
            Self::Usable
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Self {
        let seg = ip.segments();
        if ip.is_unspecified() {
            Self::Unspecified
        } else if ip.is_multicast() {
            Self::Multicast
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_unicast_link_local() {
            Self::LinkLocal
        } else if ip.to_ipv4_mapped().is_some() {
            Self::Ipv4Mapped
        } else if (seg[0] == 0x2001 && seg[1] == 0x0db8) || (seg[0] & 0xfff0) == 0x3ff0 {
            // 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637)
            Self::Documentation
        } else {
            Self::Usable
        }
    }

    /// Why an explicitly configured address (manual or range) can never be a source, if so.
    /// Documentation addresses are not refused here: the bind probe decides.
    pub(crate) fn refusal(self, allow_loopback: bool) -> Option<&'static str> {
        match self {
            Self::Unspecified => Some("the unspecified address cannot be a source"),
            Self::Broadcast => Some("a broadcast address cannot be a source"),
            Self::Multicast => Some("a multicast address cannot be a source"),
            Self::Ipv4Mapped => Some("an IPv4-mapped IPv6 address; list the IPv4 address instead"),
            Self::LinkLocal => Some(
                "link-local addresses need an interface scope and are not supported as sources",
            ),
            Self::Loopback if !allow_loopback => Some(
                "a loopback address; set allow_loopback = true to use it (tests, local simulators)",
            ),
            _ => None,
        }
    }

    /// Whether auto discovery keeps an interface address of this class.
    pub(crate) fn auto_keeps(self, allow_loopback: bool) -> bool {
        match self {
            Self::Usable => true,
            Self::Loopback => allow_loopback,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> AddrClass {
        AddrClass::of(s.parse().unwrap())
    }

    #[test]
    fn classes() {
        use AddrClass::*;
        for (ip, class) in [
            ("0.0.0.0", Unspecified),
            ("255.255.255.255", Broadcast),
            ("224.0.0.1", Multicast),
            ("127.0.0.9", Loopback),
            ("169.254.3.4", LinkLocal),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.200", Documentation),
            ("10.1.2.3", Usable),
            ("8.8.8.8", Usable),
            ("::", Unspecified),
            ("::1", Loopback),
            ("ff02::1", Multicast),
            ("fe80::1", LinkLocal),
            ("::ffff:10.0.0.1", Ipv4Mapped),
            ("2001:db8::5", Documentation),
            ("3fff:1::5", Documentation),
            ("fd00::1", Usable),
            ("2606:4700::1111", Usable),
        ] {
            assert_eq!(c(ip), class, "{ip}");
        }
    }

    #[test]
    fn refusals_explain_themselves() {
        assert!(
            AddrClass::Loopback
                .refusal(false)
                .unwrap()
                .contains("allow_loopback = true")
        );
        assert_eq!(AddrClass::Loopback.refusal(true), None);
        assert_eq!(AddrClass::Documentation.refusal(false), None);
        assert!(!AddrClass::Documentation.auto_keeps(true));
        assert!(AddrClass::Loopback.auto_keeps(true));
    }
}
