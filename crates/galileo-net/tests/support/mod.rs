//! A real HTTP server for galileo-net's socket tests: HTTP/1.1 and HTTP/2 (by ALPN over TLS,
//! or prior knowledge), TLS with a CA made at run time, and a record of every request as the
//! server saw it: peer IP, server-side arrival time, protocol, per-IP concurrency.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use galileo_net::{BoundHttpClient, HttpConfig, Inventory, IpAllocator, SourceIp};
use http::{Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

/// A CA made for this test run, and a server certificate it signed for 127.0.0.1, ::1 and
/// localhost.
pub struct TestCa {
    pub ca: CertificateDer<'static>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl TestCa {
    pub fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "galileo test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut leaf = CertificateParams::new(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ])
        .unwrap();
        leaf.use_authority_key_identifier_extension = true;
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        Self {
            ca: ca_cert.der().clone(),
            chain: vec![leaf_cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        }
    }

    pub fn server_config(&self, alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .unwrap();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(cfg)
    }

    /// A client trusting only this CA.
    pub fn client(&self, cfg: &HttpConfig) -> BoundHttpClient {
        let cfg = HttpConfig {
            webpki_roots: false,
            ..cfg.clone()
        };
        BoundHttpClient::builder(&cfg)
            .add_root_certificate(self.ca.clone())
            .build()
            .unwrap()
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub peer: IpAddr,
    pub at: Instant,
    pub path: String,
    pub version: Version,
    /// This request's number among those from the same peer IP (0-based).
    pub nth_from_peer: usize,
}

/// What to answer.
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
    pub body: Bytes,
    /// Never answer (the client must time out or give up).
    pub hang: bool,
}

impl Reply {
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            delay: Duration::ZERO,
            body: body.into(),
            hang: false,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap(),
            ..Self::ok("")
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    pub fn hang() -> Self {
        Self {
            hang: true,
            ..Self::ok("")
        }
    }
}

type Behaviour = Arc<dyn Fn(&Hit) -> Reply + Send + Sync>;

#[derive(Default)]
struct Record {
    hits: Vec<Hit>,
    active: HashMap<IpAddr, usize>,
    max_active: HashMap<IpAddr, usize>,
    per_peer: HashMap<IpAddr, usize>,
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    record: Arc<Mutex<Record>>,
    active_total: watch::Receiver<usize>,
    /// Dropped with the server: stops accepting and ends hung handlers.
    _stop: watch::Sender<bool>,
}

pub struct ServerBuilder {
    bind: SocketAddr,
    tls: Option<Arc<ServerConfig>>,
    behaviour: Behaviour,
}

impl ServerBuilder {
    pub fn new() -> Self {
        Self {
            bind: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            behaviour: Arc::new(|hit: &Hit| Reply::ok(hit.peer.to_string())),
        }
    }

    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    pub fn tls(mut self, cfg: Arc<ServerConfig>) -> Self {
        self.tls = Some(cfg);
        self
    }

    /// Answers with what `f` says; the default echoes the peer IP.
    pub fn reply(mut self, f: impl Fn(&Hit) -> Reply + Send + Sync + 'static) -> Self {
        self.behaviour = Arc::new(f);
        self
    }

    pub async fn start(self) -> TestServer {
        let listener = TcpListener::bind(self.bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let record = Arc::new(Mutex::new(Record::default()));
        let (active_tx, active_rx) = watch::channel(0usize);
        let active_tx = Arc::new(active_tx);
        let (stop_tx, stop_rx) = watch::channel(false);
        let acceptor = self.tls.map(tokio_rustls::TlsAcceptor::from);
        let behaviour = self.behaviour;
        let rec = record.clone();
        tokio::spawn(async move {
            let mut stopped = stop_rx.clone();
            loop {
                let (tcp, peer) = tokio::select! {
                    r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                    _ = stopped.changed() => return,
                };
                let stop_rx = stop_rx.clone();
                let acceptor = acceptor.clone();
                let behaviour = behaviour.clone();
                let rec = rec.clone();
                let active_tx = active_tx.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        handle(
                            req,
                            peer.ip(),
                            behaviour.clone(),
                            rec.clone(),
                            active_tx.clone(),
                            stop_rx.clone(),
                        )
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(a) => {
                            let Ok(tls) = a.accept(tcp).await else { return };
                            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                        }
                    }
                });
            }
        });
        TestServer {
            addr,
            record,
            active_total: active_rx,
            _stop: stop_tx,
        }
    }
}

/// Counts a request as active from arrival until its future ends (answered or abandoned).
struct Active {
    peer: IpAddr,
    rec: Arc<Mutex<Record>>,
    total: Arc<watch::Sender<usize>>,
}

impl Drop for Active {
    fn drop(&mut self) {
        *self.rec.lock().unwrap().active.get_mut(&self.peer).unwrap() -= 1;
        self.total.send_modify(|n| *n -= 1);
    }
}

async fn handle(
    req: Request<Incoming>,
    peer: IpAddr,
    behaviour: Behaviour,
    rec: Arc<Mutex<Record>>,
    total: Arc<watch::Sender<usize>>,
    mut stop: watch::Receiver<bool>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let hit = {
        let mut r = rec.lock().unwrap();
        let n = r.per_peer.entry(peer).or_default();
        let nth = *n;
        *n += 1;
        let active = r.active.entry(peer).or_default();
        *active += 1;
        let now_active = *active;
        let max = r.max_active.entry(peer).or_default();
        *max = (*max).max(now_active);
        let hit = Hit {
            peer,
            at: Instant::now(),
            path: req
                .uri()
                .path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
            version: req.version(),
            nth_from_peer: nth,
        };
        r.hits.push(hit.clone());
        hit
    };
    total.send_modify(|n| *n += 1);
    let _active = Active { peer, rec, total };
    let reply = behaviour(&hit);
    if reply.hang {
        // Until the server is dropped (the sender goes away).
        let _ = stop.changed().await;
        return Ok(Response::builder()
            .status(503)
            .body(Full::default())
            .unwrap());
    }
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut resp = Response::builder().status(reply.status);
    for (k, v) in reply.headers {
        resp = resp.header(k, v);
    }
    Ok(resp.body(Full::new(reply.body)).unwrap())
}

impl TestServer {
    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.record.lock().unwrap().hits.clone()
    }

    pub fn per_peer(&self) -> HashMap<IpAddr, usize> {
        self.record.lock().unwrap().per_peer.clone()
    }

    /// The most requests ever in progress at once from each peer IP.
    pub fn max_active(&self) -> HashMap<IpAddr, usize> {
        self.record.lock().unwrap().max_active.clone()
    }

    /// Waits (on the server's own counter, no polling) until `n` requests are in progress.
    pub async fn until_active(&self, n: usize) {
        let mut rx = self.active_total.clone();
        rx.wait_for(|a| *a >= n).await.unwrap();
    }

    /// Waits until no request is in progress.
    pub async fn until_idle(&self) {
        let mut rx = self.active_total.clone();
        rx.wait_for(|a| *a == 0).await.unwrap();
    }
}

pub fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// An allocator over 127.0.0.`first` .. 127.0.0.`first + count - 1`.
pub fn allocator(first: u8, count: u8, limit: Option<u32>) -> IpAllocator {
    let inv = Inventory::from_sources(
        (first..first + count)
            .map(|i| SourceIp::new(loopback(i)))
            .collect(),
    )
    .unwrap();
    IpAllocator::builder(&inv)
        .per_ip_inflight_limit(limit.and_then(std::num::NonZeroU32::new))
        .build()
}

pub fn get(url: &str) -> Request<Full<Bytes>> {
    Request::get(url).body(Full::new(Bytes::new())).unwrap()
}
