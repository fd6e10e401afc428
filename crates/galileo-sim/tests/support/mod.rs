//! A minimal service to drive the core with, and a plain hyper client that sends from a
//! chosen loopback source IP.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use galileo_sim::{RequestContext, Service, SimBody};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Echoes what it got as JSON. `/hold` waits for a permit from `gate` first; `/upgrade`
/// switches protocols and echoes raw bytes. The API key is the `x-api-key` header.
#[derive(Clone)]
pub struct Echo {
    pub gate: Arc<Semaphore>,
}

impl Echo {
    pub fn new() -> Self {
        Self {
            gate: Arc::new(Semaphore::new(0)),
        }
    }
}

impl Service for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn api_key(&self, req: &Request<Bytes>) -> Option<String> {
        req.headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    async fn handle(&self, mut req: Request<Bytes>, ctx: RequestContext) -> Response<SimBody> {
        match req.uri().path() {
            "/hold" => {
                self.gate.acquire().await.unwrap().forget();
            }
            "/upgrade" => {
                let on = hyper::upgrade::on(&mut req);
                ctx.tasks.spawn(async move {
                    if let Ok(up) = on.await {
                        let mut io = TokioIo::new(up);
                        let mut buf = [0u8; 64];
                        while let Ok(n) = io.read(&mut buf).await {
                            if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                });
                return Response::builder()
                    .status(StatusCode::SWITCHING_PROTOCOLS)
                    .header("connection", "upgrade")
                    .header("upgrade", "echo")
                    .body(SimBody::empty())
                    .unwrap();
            }
            _ => {}
        }
        let waited = Instant::now() - ctx.received;
        galileo_sim::service::json(
            StatusCode::OK,
            &serde_json::json!({
                "path": req.uri().to_string(),
                "body": String::from_utf8_lossy(req.body()),
                "peer": ctx.peer.ip().to_string(),
                "key": ctx.api_key,
                "waited_ms": waited.as_millis() as u64,
                "padding": "x".repeat(64),
            }),
        )
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A TCP connection from `src` to `dst`.
pub async fn connect(src: IpAddr, dst: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = if dst.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sock.bind(SocketAddr::new(src, 0))?;
    sock.connect(dst).await
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// How many data frames the body came in.
    pub frames: usize,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads a whole response.
pub async fn read(resp: Response<hyper::body::Incoming>) -> Result<Answer, hyper::Error> {
    let (parts, mut body) = resp.into_parts();
    let mut bytes = Vec::new();
    let mut frames = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            frames += 1;
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body: bytes.into(),
        frames,
    })
}

/// One HTTP/1.1 request on a fresh connection from `src`.
pub async fn http1(
    src: IpAddr,
    dst: SocketAddr,
    req: Request<Full<Bytes>>,
) -> Result<Answer, hyper::Error> {
    let io = TokioIo::new(connect(src, dst).await.unwrap());
    let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(conn);
    read(send.send_request(req).await?).await
}

/// `GET path` over HTTP/1.1 from `src`.
pub async fn get(src: IpAddr, dst: SocketAddr, path: &str) -> Result<Answer, hyper::Error> {
    http1(src, dst, get_req(dst, path)).await
}

pub fn get_req(dst: SocketAddr, path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", dst.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// An HTTP/2 (prior knowledge) connection from `src`.
pub async fn h2c(
    src: IpAddr,
    dst: SocketAddr,
) -> hyper::client::conn::http2::SendRequest<Full<Bytes>> {
    let io = TokioIo::new(connect(src, dst).await.unwrap());
    let (send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

/// A TLS client configuration trusting only `ca`, offering `alpn`.
pub fn tls_client(
    ca: rustls_pki_types::CertificateDer<'static>,
    alpn: &[&[u8]],
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

/// Whether `e` or one of its sources is an I/O error of `kind`.
pub fn has_io_kind(e: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        cur = err.source();
    }
    false
}
