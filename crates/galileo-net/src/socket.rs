//! Creating a TCP socket bound to a source IP: shared by the inventory's bind probe and the
//! connectors, so a probe tests exactly what a connection will do.

use std::io;
use std::net::{IpAddr, SocketAddr};

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};

use crate::SourceIp;

/// A non-blocking, close-on-exec TCP socket with `TCP_NODELAY`, bound to `source` (port chosen
/// at connect time). For the OS-default source it is left unbound, in the family of `peer`.
pub(crate) fn bound_socket(source: &SourceIp, peer: Option<&SocketAddr>) -> io::Result<Socket> {
    let family_ip = match (source.is_os_default(), peer) {
        (true, Some(p)) => p.ip(),
        _ => source.ip(),
    };
    let domain = match family_ip {
        IpAddr::V4(_) => Domain::IPV4,
        IpAddr::V6(_) => Domain::IPV6,
    };
    let socket = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
    socket.set_tcp_nodelay(true)?;
    if source.is_os_default() {
        return Ok(socket);
    }
    if source.freebind() {
        match source.ip() {
            IpAddr::V4(_) => socket.set_freebind_v4(true)?,
            IpAddr::V6(_) => socket.set_freebind_v6(true)?,
        }
    }
    // Bind without reserving a port: the kernel picks it at connect time from the whole
    // 4-tuple, so thousands of connections per IP do not exhaust the ephemeral range. Best
    // effort: kernels before 4.2 lack it, and binding works without it.
    if let Err(e) = setsockopt(&socket, sockopt::IpBindAddressNoPort, &true) {
        tracing::trace!(local_ip = %source.ip(), error = %e, "IP_BIND_ADDRESS_NO_PORT unavailable");
    }
    socket.bind(&SocketAddr::new(source.ip(), 0).into())?;
    Ok(socket)
}
