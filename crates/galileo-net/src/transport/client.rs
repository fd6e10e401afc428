//! `HttpClient`: send a request from a lease's IP, with a timeout, and report the outcome.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpInfo;
use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::time::{Instant, timeout};
use tracing::Instrument;

use super::connector::{self, host_port};
use super::pool::ClientPool;
use super::stream::BoundStream;
use super::tls;
use crate::{HttpConfig, HttpFailure, IpLease, NetError, Outcome};

/// Sends HTTP requests from leased source IPs.
///
/// Implementations send `request` from `lease.ip()`, apply a timeout, classify the answer
/// ([`Outcome::classify`]) and [`report`](IpLease::report) it to the lease. Any HTTP answer,
/// 4xx and 5xx included, is `Ok`: the caller reads its body (providers put error details
/// there); a 429 has already made the IP rest by the time `send` returns.
///
/// Generic, not object-safe by design: clients are monomorphized into their callers.
pub trait HttpClient: Send + Sync {
    /// Sends `request` from the lease's IP and returns the whole response.
    fn send(
        &self,
        lease: &IpLease,
        request: Request<Full<Bytes>>,
    ) -> impl Future<Output = Result<Response<Bytes>, NetError>> + Send;
}

/// A per-request timeout overriding `http.request_timeout_ms`: put it in the request's
/// extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

/// The [`HttpClient`] over hyper + rustls: one client per source IP (see the pool), HTTP/2 or
/// HTTP/1.1 by ALPN, `TCP_NODELAY`, sockets bound to the lease's IP. Cheap to clone.
///
/// ```no_run
/// # async fn demo(allocator: galileo_net::IpAllocator) -> Result<(), galileo_net::NetError> {
/// use bytes::Bytes;
/// use galileo_net::{BoundHttpClient, HttpClient, HttpConfig, TaskKind};
/// use http_body_util::Full;
///
/// let client = BoundHttpClient::new(&HttpConfig::default())?;
/// let lease = allocator.acquire(TaskKind::Quote, 1).await?;
/// let request = http::Request::get("https://quote-api.example/quote?inputMint=So11...")
///     .body(Full::new(Bytes::new()))
///     .unwrap();
/// let response = client.send(&lease, request).await?; // outcome already reported
/// println!("{} from {}", response.status(), lease.ip());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct BoundHttpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: ClientPool,
    stream_tls: Arc<ClientConfig>,
    request_timeout: Duration,
    connect_timeout: Duration,
    max_body: usize,
}

/// Builds a [`BoundHttpClient`] with extra trust roots.
#[derive(Clone, Debug)]
pub struct BoundHttpClientBuilder {
    cfg: HttpConfig,
    roots: Vec<CertificateDer<'static>>,
}

impl BoundHttpClientBuilder {
    /// Also trust this CA certificate (DER).
    #[must_use]
    pub fn add_root_certificate(mut self, cert: CertificateDer<'static>) -> Self {
        self.roots.push(cert);
        self
    }

    /// The client.
    pub fn build(self) -> Result<BoundHttpClient, NetError> {
        let roots = tls::root_store(&self.cfg, &self.roots)?;
        let http_tls = tls::client_config(roots.clone(), tls::ALPN_HTTP)?;
        let stream_tls = tls::client_config(roots, tls::ALPN_WEBSOCKET)?;
        Ok(BoundHttpClient {
            inner: Arc::new(Inner {
                pool: ClientPool::new(&self.cfg, http_tls),
                stream_tls,
                request_timeout: self.cfg.request_timeout(),
                connect_timeout: self.cfg.connect_timeout(),
                max_body: self.cfg.max_response_bytes,
            }),
        })
    }
}

impl BoundHttpClient {
    /// A client as `[network.http]` describes.
    pub fn new(cfg: &HttpConfig) -> Result<Self, NetError> {
        Self::builder(cfg).build()
    }

    /// A builder, to add trust roots in code.
    pub fn builder(cfg: &HttpConfig) -> BoundHttpClientBuilder {
        BoundHttpClientBuilder {
            cfg: cfg.clone(),
            roots: Vec::new(),
        }
    }

    /// Per-IP clients alive now.
    pub fn clients(&self) -> usize {
        self.inner.pool.len()
    }

    /// Opens a TCP connection from the lease's IP to `url`'s host and port, with TLS for
    /// `wss://` and `https://` (ALPN `http/1.1`). Connect failures and timeouts are reported to
    /// the lease; what happens on the stream afterwards is the caller's to report.
    pub async fn connect_stream(
        &self,
        lease: &IpLease,
        url: &Uri,
    ) -> Result<BoundStream, NetError> {
        let (host, port) = host_port(url).map_err(|e| NetError::InvalidRequest(e.to_string()))?;
        let authority = format!("{host}:{port}");
        let use_tls = matches!(url.scheme_str(), Some("https" | "wss"));
        let open = async {
            let tcp = connector::connect(lease.source(), &host, port).await?;
            if !use_tls {
                return Ok(BoundStream::Plain(tcp));
            }
            let name = ServerName::try_from(host.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let tls = tokio_rustls::TlsConnector::from(self.inner.stream_tls.clone())
                .connect(name, tcp)
                .await?;
            Ok(BoundStream::Tls(Box::new(tls)))
        };
        let limit = self.inner.connect_timeout;
        match timeout(limit, open).await {
            Err(_) => {
                lease.report(Outcome::Timeout);
                Err(NetError::Timeout {
                    local_ip: lease.ip(),
                    authority,
                    after: limit,
                })
            }
            Ok(Err(source)) => {
                lease.report(Outcome::Connect);
                Err(NetError::Connect {
                    local_ip: lease.ip(),
                    authority,
                    source,
                })
            }
            Ok(Ok(stream)) => Ok(stream),
        }
    }
}

enum Failure {
    Exchange(hyper_util::client::legacy::Error),
    /// The body broke; the status line and headers had already been classified.
    Body(hyper::Error, Outcome),
    /// The body exceeded the limit; likewise.
    TooLarge(Outcome),
}

impl HttpClient for BoundHttpClient {
    async fn send(
        &self,
        lease: &IpLease,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Bytes>, NetError> {
        let authority = authority(request.uri())?;
        let limit = request
            .extensions()
            .get::<RequestTimeout>()
            .map_or(self.inner.request_timeout, |t| t.0);
        let client = self.inner.pool.client(lease.source(), Instant::now());
        let max_body = self.inner.max_body;
        let exchange = async move {
            let response = client.request(request).await.map_err(Failure::Exchange)?;
            let (parts, body) = response.into_parts();
            // Classify on the status line and headers: a 429 is a 429 whatever its body does.
            let outcome = Outcome::classify(parts.status, &parts.headers, SystemTime::now());
            let body = Limited::new(body, max_body).collect().await.map_err(|e| {
                // `Limited` fails with the body's own error or with `LengthLimitError`.
                debug_assert!(e.is::<hyper::Error>() || e.is::<LengthLimitError>());
                match e.downcast::<hyper::Error>() {
                    Ok(e) => Failure::Body(*e, outcome),
                    Err(_) => Failure::TooLarge(outcome),
                }
            })?;
            Ok::<_, Failure>((Response::from_parts(parts, body.to_bytes()), outcome))
        };
        let span = tracing::debug_span!("http", local_ip = %lease.ip(), %authority, kind = lease.kind().label());
        let result = timeout(limit, exchange).instrument(span).await;
        let local_ip = lease.ip();
        match result {
            Err(_) => {
                lease.report(Outcome::Timeout);
                Err(NetError::Timeout {
                    local_ip,
                    authority,
                    after: limit,
                })
            }
            Ok(Err(Failure::Exchange(e))) if e.is_connect() => {
                lease.report(Outcome::Connect);
                Err(NetError::Connect {
                    local_ip,
                    authority,
                    source: io::Error::other(HttpFailure::exchange(e)),
                })
            }
            Ok(Err(Failure::Exchange(e))) => {
                // The connection was made but broke mid-exchange: the server's side, not the IP's.
                lease.report(Outcome::ServerError);
                Err(NetError::Http {
                    local_ip,
                    authority,
                    source: HttpFailure::exchange(e),
                })
            }
            Ok(Err(Failure::Body(e, outcome))) => {
                // A 429 (or a rest-worthy answer) still counts as what it said; otherwise the
                // broken body is the server's fault.
                lease.report(if outcome.cools_down() {
                    outcome
                } else {
                    Outcome::ServerError
                });
                Err(NetError::Http {
                    local_ip,
                    authority,
                    source: HttpFailure::body(e),
                })
            }
            Ok(Err(Failure::TooLarge(outcome))) => {
                lease.report(outcome);
                Err(NetError::BodyTooLarge {
                    authority,
                    limit: max_body,
                })
            }
            Ok(Ok((response, outcome))) => {
                check_source(lease, &response);
                lease.report(outcome);
                Ok(response)
            }
        }
    }
}

/// `host:port` for errors and spans: never the path or query, which may carry keys.
fn authority(uri: &Uri) -> Result<String, NetError> {
    let (host, port) = host_port(uri).map_err(|e| NetError::InvalidRequest(e.to_string()))?;
    Ok(format!("{host}:{port}"))
}

/// The connection must have left from the leased IP; anything else is a bug in the pool.
fn check_source(lease: &IpLease, response: &Response<Bytes>) {
    if lease.source().is_os_default() {
        return;
    }
    if let Some(info) = response.extensions().get::<HttpInfo>() {
        let local = info.local_addr().ip();
        debug_assert_eq!(local, lease.ip(), "request left from the wrong IP");
        if local != lease.ip() {
            tracing::error!(local_ip = %lease.ip(), actual = %local, "request left from the wrong source IP");
        }
    }
}
