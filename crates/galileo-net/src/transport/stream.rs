//! A TCP (+TLS) stream from a leased IP, for WebSocket clients.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A connected stream that left from the leased IP: plain TCP, or TLS over it (ALPN
/// `http/1.1`, ready for a WebSocket upgrade). Hand it to e.g.
/// `tokio_tungstenite::client_async`.
#[derive(Debug)]
pub enum BoundStream {
    /// Plain TCP (`ws://`, `http://`).
    Plain(TcpStream),
    /// TLS (`wss://`, `https://`).
    Tls(Box<TlsStream<TcpStream>>),
}

impl BoundStream {
    fn tcp(&self) -> &TcpStream {
        match self {
            BoundStream::Plain(s) => s,
            BoundStream::Tls(s) => s.get_ref().0,
        }
    }

    /// The local address: the leased IP and the port the kernel chose.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().local_addr()
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().peer_addr()
    }

    /// True for TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, BoundStream::Tls(_))
    }
}

impl AsyncRead for BoundStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BoundStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            BoundStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for BoundStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            BoundStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            BoundStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BoundStream::Plain(s) => Pin::new(s).poll_flush(cx),
            BoundStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BoundStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            BoundStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            BoundStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            BoundStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            BoundStream::Plain(s) => s.is_write_vectored(),
            BoundStream::Tls(s) => s.is_write_vectored(),
        }
    }
}
