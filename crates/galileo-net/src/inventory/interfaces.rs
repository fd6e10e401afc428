//! This host's interface addresses, via getifaddrs(3).

use std::io;
use std::net::IpAddr;

use nix::net::if_::InterfaceFlags;

/// One address of one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InterfaceAddr {
    pub(crate) name: String,
    pub(crate) ip: IpAddr,
    /// Administratively up and with a carrier (`IFF_UP` and `IFF_RUNNING`).
    pub(crate) up: bool,
    /// The interface's broadcast address, if it has one.
    pub(crate) broadcast: Option<IpAddr>,
}

pub(crate) fn list() -> io::Result<Vec<InterfaceAddr>> {
    let addrs = nix::ifaddrs::getifaddrs().map_err(io::Error::from)?;
    let mut out = Vec::new();
    for a in addrs {
        let Some(ip) = a.address.as_ref().and_then(to_ip) else {
            continue; // AF_PACKET and friends
        };
        out.push(InterfaceAddr {
            up: a.flags.contains(InterfaceFlags::IFF_UP)
                && a.flags.contains(InterfaceFlags::IFF_RUNNING),
            broadcast: a.broadcast.as_ref().and_then(to_ip),
            name: a.interface_name,
            ip,
        });
    }
    Ok(out)
}

fn to_ip(s: &nix::sys::socket::SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_the_loopback_interface() {
        let all = super::list().unwrap();
        let lo = all
            .iter()
            .find(|a| a.ip == std::net::IpAddr::from([127, 0, 0, 1]))
            .expect("127.0.0.1 on some interface");
        assert!(lo.up, "{lo:?}");
    }
}
