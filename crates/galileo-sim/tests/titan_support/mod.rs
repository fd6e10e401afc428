//! A Titan test client written apart from the server's code paths: it speaks WebSocket with
//! tokio-tungstenite from a chosen loopback source IP, compresses and decompresses frames
//! itself (flate2, zstd, brotli), and encodes with rmp-serde directly. Only the wire structs
//! are shared with the server (they are what is under test for the fixtures).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use galileo_sim::market::{Market, MarketConfig, SharedMarket};
use galileo_sim::titan::jwt::{self, Claims};
use galileo_sim::titan::wire::{
    ClientRequest, Key, QuoteUpdateParams, RequestData, ServerMessage, SwapParams,
    SwapQuoteRequest, TransactionParams,
};
use galileo_sim::titan::{JwtSecret, SyntheticRoutes, TitanConfig, TitanHandle, TitanService};
use galileo_sim::{Sandbox, ServiceConfig};
use solana_pubkey::Pubkey;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

pub const SECRET: &str = "titan-tests-shared-secret";
pub const WSOL: &str = "So11111111111111111111111111111111111111112";
pub const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
/// No message the tests wait for takes anywhere near this; it only turns a hang into a failure.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A valid token for `sub`.
pub fn token(sub: &str) -> String {
    jwt::sign(&Claims::new(sub, unix_now(), 900), SECRET.as_bytes())
}

/// A test configuration: the shared secret, short intervals.
pub fn config() -> TitanConfig {
    TitanConfig {
        jwt_secret: JwtSecret::new(SECRET),
        ..TitanConfig::default()
    }
}

/// A running Titan simulator.
pub struct Sim {
    pub sandbox: Sandbox,
    pub addr: SocketAddr,
    pub handle: TitanHandle,
    pub market: SharedMarket,
    pub routes: SyntheticRoutes,
}

pub fn market() -> SharedMarket {
    SharedMarket::new(Market::new(MarketConfig::default(), tokio::time::Instant::now()).unwrap())
}

pub fn start(cfg: TitanConfig) -> Sim {
    start_with(cfg, ServiceConfig::default())
}

pub fn start_with(cfg: TitanConfig, svc_cfg: ServiceConfig) -> Sim {
    let market = market();
    let routes = SyntheticRoutes::new(tokio::time::Instant::now(), 373_550_000);
    let svc = TitanService::new(cfg, market.clone(), routes.clone()).unwrap();
    let handle = svc.handle();
    let sandbox = Sandbox::builder().service(svc, svc_cfg).start().unwrap();
    let addr = sandbox.service("titan").unwrap().addr();
    Sim {
        sandbox,
        addr,
        handle,
        market,
        routes,
    }
}

/// The client's own codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zip {
    None,
    Gzip,
    Zstd,
    Brotli,
}

impl Zip {
    pub const ALL: [Zip; 4] = [Zip::None, Zip::Gzip, Zip::Zstd, Zip::Brotli];

    pub fn token(self) -> &'static str {
        match self {
            Zip::None => "v1.api.titan.ag",
            Zip::Gzip => "v1.api.titan.ag+gzip",
            Zip::Zstd => "v1.api.titan.ag+zstd",
            Zip::Brotli => "v1.api.titan.ag+brotli",
        }
    }

    pub fn of_token(t: &str) -> Zip {
        *Zip::ALL.iter().find(|z| z.token() == t).unwrap()
    }

    pub fn pack(self, data: &[u8]) -> Vec<u8> {
        match self {
            Zip::None => data.to_vec(),
            Zip::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Zip::Zstd => zstd::encode_all(data, 1).unwrap(),
            Zip::Brotli => {
                let mut out = Vec::new();
                brotli::BrotliCompress(
                    &mut &data[..],
                    &mut out,
                    &brotli::enc::BrotliEncoderParams::default(),
                )
                .unwrap();
                out
            }
        }
    }

    pub fn unpack(self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Zip::None => out.extend_from_slice(data),
            Zip::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Zip::Zstd => out = zstd::decode_all(data).unwrap(),
            Zip::Brotli => {
                brotli::BrotliDecompress(&mut &data[..], &mut out).unwrap();
            }
        }
        out
    }
}

/// How the client authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Carrier {
    Query,
    Authorization,
    Authentication,
}

/// A TCP connection from `src`.
pub async fn tcp(src: IpAddr, dst: SocketAddr) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(src, 0)).unwrap();
    sock.connect(dst).await.unwrap()
}

pub struct Client {
    pub ws: WebSocketStream<TcpStream>,
    pub zip: Zip,
    pub protocol: String,
    pub local: SocketAddr,
}

/// The outcome of a handshake.
pub type Handshake = Result<Client, tungstenite::Error>;

/// Opens a WebSocket from `src` with `token` on `carrier`, offering `protocols`.
pub async fn open(
    src: IpAddr,
    dst: SocketAddr,
    token: Option<&str>,
    carrier: Carrier,
    protocols: &[&str],
) -> Handshake {
    let path = match (token, carrier) {
        (Some(t), Carrier::Query) => format!("/api/v1/ws?auth={t}"),
        _ => "/api/v1/ws".to_owned(),
    };
    let mut req = format!("ws://{dst}{path}").into_client_request().unwrap();
    let h = req.headers_mut();
    match (token, carrier) {
        (Some(t), Carrier::Authorization) => {
            h.insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        (Some(t), Carrier::Authentication) => {
            h.insert("authentication", format!("Bearer {t}").parse().unwrap());
        }
        _ => {}
    }
    if !protocols.is_empty() {
        h.insert(
            "sec-websocket-protocol",
            protocols.join(", ").parse().unwrap(),
        );
    }
    h.insert("user-agent", "galileo/test".parse().unwrap());
    let stream = tcp(src, dst).await;
    let local = stream.local_addr().unwrap();
    let (ws, resp) = tokio_tungstenite::client_async(req, stream).await?;
    let protocol = resp
        .headers()
        .get("sec-websocket-protocol")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    Ok(Client {
        ws,
        zip: Zip::of_token(&protocol),
        protocol,
        local,
    })
}

/// A plain client from `src`: a valid token in the query, offering gzip then plain.
pub async fn connect(sim: &Sim, src: &str) -> Client {
    open(
        ip(src),
        sim.addr,
        Some(&token("tester")),
        Carrier::Query,
        &["v1.api.titan.ag+gzip", "v1.api.titan.ag"],
    )
    .await
    .unwrap()
}

/// The status and body of a refused handshake.
pub fn refused(h: Handshake) -> (u16, serde_json::Value) {
    match h {
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            (
                resp.status().as_u16(),
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            )
        }
        Err(e) => panic!("handshake failed otherwise: {e}"),
        Ok(c) => panic!("handshake succeeded with {}", c.protocol),
    }
}

impl Client {
    pub async fn send(&mut self, req: &ClientRequest) {
        let bytes = rmp_serde::to_vec_named(req).unwrap();
        self.send_payload(&bytes).await;
    }

    /// Sends a MessagePack payload, compressed by the negotiated protocol.
    pub async fn send_payload(&mut self, payload: &[u8]) {
        let frame = self.zip.pack(payload);
        self.ws.send(Message::Binary(frame.into())).await.unwrap();
    }

    /// The next frame, whatever it is (`None`: the connection ended).
    pub async fn frame(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        tokio::time::timeout(PATIENCE, self.ws.next())
            .await
            .expect("the server sent nothing")
    }

    /// The next server message (binary frames only), decompressed and decoded here.
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            match self.frame().await {
                Some(Ok(Message::Binary(b))) => {
                    let payload = self.zip.unpack(&b);
                    return rmp_serde::from_slice(&payload).unwrap();
                }
                Some(Ok(Message::Pong(_) | Message::Ping(_))) => continue,
                other => panic!("expected a binary frame, got {other:?}"),
            }
        }
    }

    /// The next server message that is not `StreamData` of a stream in `skip`.
    pub async fn recv_skipping(&mut self, skip: &[u32]) -> ServerMessage {
        loop {
            let m = self.recv().await;
            match &m {
                ServerMessage::StreamData(d) if skip.contains(&d.id) => continue,
                _ => return m,
            }
        }
    }
}

pub fn key(b58: &str) -> Key {
    Key(b58.parse::<Pubkey>().unwrap())
}

pub fn user() -> Pubkey {
    "Titan11111111111111111111111111111111111111"
        .parse()
        .unwrap()
}

/// A `NewSwapQuoteStream` as the reference client sends it (explicit nils).
pub fn quote_request(id: u32, amount: u64, interval_ms: u64, num_quotes: u32) -> ClientRequest {
    ClientRequest {
        id,
        data: RequestData::NewSwapQuoteStream(Box::new(SwapQuoteRequest {
            swap: SwapParams {
                input_mint: key(WSOL),
                output_mint: key(USDC),
                amount,
                swap_mode: Some(galileo_sim::titan::wire::SwapMode::ExactIn),
                slippage_bps: Some(0),
                dexes: None,
                exclude_dexes: None,
                only_direct_routes: Some(false),
                add_size_constraint: None,
                size_constraint: None,
                providers: None,
                accounts_limit_total: None,
                accounts_limit_writable: None,
            },
            transaction: TransactionParams {
                user_public_key: Key(user()),
                close_input_token_account: Some(false),
                create_output_token_account: Some(false),
                fee_account: None,
                fee_bps: None,
                fee_from_input_mint: None,
                output_account: None,
            },
            update: Some(QuoteUpdateParams {
                interval_ms: Some(interval_ms),
                num_quotes: Some(num_quotes),
            }),
        })),
    }
}
