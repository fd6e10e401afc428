//! One TCP connection: the TLS handshake (or its injected failure), HTTP/1.1 or HTTP/2, and
//! the reset fault, which closes the socket with `SO_LINGER` 0 so the peer gets an RST.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use super::{Shared, pipeline};
use crate::Service;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A fatal TLS alert record: `handshake_failure` (40), as a server that rejects every cipher
/// suite would send it.
const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

pub(super) async fn accept_loop<S: Service>(
    listener: TcpListener,
    shared: Arc<Shared<S>>,
    tls: Option<TlsAcceptor>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                shared.controls.stats().connection();
                let task = connection(stream, peer, shared.clone(), tls.clone());
                shared.tasks.spawn(task);
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(service = shared.service.name(), error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection<S: Service>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<S>>,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    // A second handle on the socket, kept to reset it.
    let socket = match SockRef::from(&stream).try_clone() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot duplicate the socket; dropping the connection");
            return;
        }
    };
    let reset = Arc::new(Notify::new());
    let http = async {
        match tls {
            None => serve_http(TokioIo::new(stream), peer, &shared, &reset).await,
            Some(acceptor) => {
                if shared.controls.tls_handshake_fault(peer.ip()) {
                    fail_handshake(stream).await;
                    return;
                }
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_http(TokioIo::new(tls), peer, &shared, &reset).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
    };
    tokio::select! {
        () = http => {}
        () = reset.notified() => {
            // The connection (and with it the stream) is dropped when `select!` returns; once
            // this last handle closes too, linger 0 turns the close into an RST.
            let _ = socket.set_linger(Some(Duration::ZERO));
        }
    }
}

async fn serve_http<S, I>(
    io: TokioIo<I>,
    peer: SocketAddr,
    shared: &Arc<Shared<S>>,
    reset: &Arc<Notify>,
) where
    S: Service,
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(|req: hyper::Request<Incoming>| {
        let shared = shared.clone();
        let reset = reset.clone();
        async move { Ok::<_, Infallible>(pipeline::handle(shared, req, peer, reset).await) }
    });
    let mut builder = auto::Builder::new(shared.tasks.clone());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    if let Err(e) = builder.serve_connection_with_upgrades(io, svc).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Reads the ClientHello, answers a fatal alert, and closes.
async fn fail_handshake(mut stream: TcpStream) {
    let mut hello = [0u8; 4096];
    if let Ok(Ok(n)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.read(&mut hello)).await
        && n > 0
    {
        let _ = stream.write_all(&HANDSHAKE_FAILURE_ALERT).await;
        let _ = stream.shutdown().await;
    }
}
