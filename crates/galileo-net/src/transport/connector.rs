//! A connector that opens TCP connections from one source IP.
//!
//! hyper-util's `HttpConnector` can set a local address but not `IP_FREEBIND` (needed for IPv6
//! ranges routed to the host but not assigned) nor `IP_BIND_ADDRESS_NO_PORT`, so the TCP part is
//! ours, built on the same [`bound_socket`](crate::socket::bound_socket) the start-up probe
//! uses; TLS and ALPN stay with hyper-rustls, which wraps this connector.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpSocket, TcpStream};

use crate::SourceIp;
use crate::socket::bound_socket;

/// Opens connections from `source`; a `tower::Service<Uri>` for hyper-util's client.
#[derive(Clone, Debug)]
pub(crate) struct BoundConnector {
    source: SourceIp,
    connect_timeout: Duration,
}

impl BoundConnector {
    pub(crate) fn new(source: SourceIp, connect_timeout: Duration) -> Self {
        Self {
            source,
            connect_timeout,
        }
    }
}

impl tower_service::Service<Uri> for BoundConnector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    // One boxed future per new connection (not per request: connections are pooled), like
    // hyper-util's own connector; the TLS layer above boxes its future too.
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let source = self.source.clone();
        let limit = self.connect_timeout;
        Box::pin(async move {
            let (host, port) = host_port(&uri)?;
            tokio::time::timeout(limit, connect(&source, &host, port))
                .await
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connect timed out after {limit:?}"),
                    )
                })?
                .map(TokioIo::new)
        })
    }
}

/// The host (without IPv6 brackets) and port of a URI; the scheme's default port if none.
pub(crate) fn host_port(uri: &Uri) -> io::Result<(String, u16)> {
    let host = uri
        .host()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(p), _) => p,
        (None, Some("https" | "wss")) => 443,
        (None, Some("http" | "ws") | None) => 80,
        (None, Some(other)) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported scheme {other}"),
            ));
        }
    };
    Ok((host, port))
}

/// Resolves `host` and connects from `source` to the first address of its family that answers.
pub(crate) async fn connect(source: &SourceIp, host: &str, port: u16) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port)).await?.collect(),
    };
    let usable: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| source.is_os_default() || a.is_ipv4() == source.ip().is_ipv4())
        .collect();
    if usable.is_empty() {
        let family = if source.ip().is_ipv4() {
            "IPv4"
        } else {
            "IPv6"
        };
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{host} has no {family} address to reach from {source}"),
        ));
    }
    let mut last = None;
    for addr in usable {
        let socket = bound_socket(source, Some(&addr))?;
        let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
        match socket.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one address was tried"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        let hp = |s: &str| host_port(&s.parse().unwrap()).unwrap();
        assert_eq!(
            hp("https://quote-api.jup.ag/swap/v1/quote"),
            ("quote-api.jup.ag".into(), 443)
        );
        assert_eq!(hp("http://127.0.0.1:8080/x"), ("127.0.0.1".into(), 8080));
        assert_eq!(hp("wss://[::1]/ws"), ("::1".into(), 443));
        assert_eq!(hp("ws://h"), ("h".into(), 80));
        assert!(host_port(&"ftp://h/".parse().unwrap()).is_err());
    }

    #[tokio::test]
    async fn an_ipv4_source_cannot_reach_an_ipv6_only_host() {
        let err = connect(&SourceIp::new("127.0.0.2".parse().unwrap()), "::1", 9)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("no IPv4 address to reach from 127.0.0.2"),
            "{err}"
        );
    }
}
