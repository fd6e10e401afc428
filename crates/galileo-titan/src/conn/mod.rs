//! One Titan WebSocket from a leased IP: [`TitanClient::connect`] leases the IP (a shared
//! long-lived lease), opens galileo-net's bound TCP (+TLS) stream, upgrades with the JWT and
//! the offered sub-protocols, and applies the server's compression to every frame.

pub(crate) mod core;
mod handshake;
pub(crate) mod reconnect;
pub(crate) mod template;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use galileo_net::{BoundHttpClient, IpAllocator, IpLease, LeaseRequest, Outcome, TaskKind};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::codec::{self, Compression};
use crate::wire::{
    ClientRequest, GetInfoRequest, RequestData, ResponseData, ServerInfo, ServerMessage,
};
use crate::{Jwt, TitanConfig, TitanError, metrics};
use template::SwapTemplate;

/// What every connection of a client shares.
#[derive(Debug)]
struct ClientInner {
    config: TitanConfig,
    uri: http::Uri,
    allocator: IpAllocator,
    http: BoundHttpClient,
    jwt: watch::Sender<Arc<Jwt>>,
    template: SwapTemplate,
}

/// Connects to Titan from chosen source IPs. Cheap to clone.
///
/// Built from a [`TitanConfig`], galileo-net's allocator (each connection holds a long-lived
/// lease on its IP) and its [`BoundHttpClient`] (the bound TCP/TLS streams).
#[derive(Clone, Debug)]
pub struct TitanClient {
    inner: Arc<ClientInner>,
}

impl TitanClient {
    /// A client with the configuration's JWT (`jwt`, else the variable `jwt_env`).
    pub fn new(
        config: TitanConfig,
        allocator: IpAllocator,
        http: BoundHttpClient,
    ) -> Result<Self, TitanError> {
        let jwt = config.jwt()?;
        Self::with_jwt(config, jwt, allocator, http)
    }

    /// A client with this JWT.
    pub fn with_jwt(
        config: TitanConfig,
        jwt: Jwt,
        allocator: IpAllocator,
        http: BoundHttpClient,
    ) -> Result<Self, TitanError> {
        config.validate()?;
        let uri: http::Uri = config
            .url
            .parse()
            .map_err(|_| TitanError::Config("url is not a URL".into()))?;
        let template = SwapTemplate::from_config(&config)?;
        warn_audience(&jwt);
        Ok(TitanClient {
            inner: Arc::new(ClientInner {
                config,
                uri,
                allocator,
                http,
                jwt: watch::Sender::new(Arc::new(jwt)),
                template,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TitanConfig {
        &self.inner.config
    }

    /// The allocator the connections lease from.
    pub fn allocator(&self) -> &IpAllocator {
        &self.inner.allocator
    }

    /// Replaces the JWT (a refreshed token): connections made from now on use it; the
    /// stream manager re-arms its expiry warning.
    pub fn set_jwt(&self, jwt: Jwt) {
        warn_audience(&jwt);
        self.inner.jwt.send_replace(Arc::new(jwt));
    }

    /// The JWT in force.
    pub fn jwt(&self) -> Arc<Jwt> {
        self.inner.jwt.borrow().clone()
    }

    pub(crate) fn jwt_changes(&self) -> watch::Receiver<Arc<Jwt>> {
        self.inner.jwt.subscribe()
    }

    pub(crate) fn template(&self) -> &SwapTemplate {
        &self.inner.template
    }

    /// Opens a connection from `ip`: a long-lived lease on it, the bound stream, the upgrade.
    /// Connect failures, a 429 on the upgrade and success are reported to the lease.
    pub async fn connect(&self, ip: IpAddr) -> Result<TitanConnection, TitanError> {
        let c = &self.inner;
        let lease = c
            .allocator
            .acquire_with(
                LeaseRequest::new(TaskKind::StreamConnect)
                    .cost(0)
                    .long_lived()
                    .specific(ip),
            )
            .await
            .map_err(|source| TitanError::Lease { ip, source })?;
        let stream = c
            .http
            .connect_stream(&lease, &c.uri)
            .await
            .map_err(|source| TitanError::Net { ip, source })?;
        let local = stream.local_addr().map_err(|e| TitanError::WebSocket {
            ip,
            reason: format!("the socket has no local address: {}", e.kind()),
        })?;
        let jwt = self.jwt();
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(c.config.max_message_bytes))
            .max_frame_size(Some(c.config.max_message_bytes));
        let limit = c.config.handshake_timeout();
        let upgrade = handshake::upgrade(
            stream,
            ip,
            &c.uri,
            &jwt,
            c.config.auth,
            &c.config.compression,
            ws_config,
        );
        let (ws, compression) = match tokio::time::timeout(limit, upgrade).await {
            Err(_) => {
                lease.report(Outcome::Timeout);
                return Err(TitanError::Timeout {
                    ip,
                    what: "WebSocket upgrade",
                    after: limit,
                });
            }
            Ok(Err((err, outcome))) => {
                lease.report(outcome);
                return Err(err);
            }
            Ok(Ok(pair)) => pair,
        };
        lease.report(Outcome::Success);
        tracing::debug!(local_ip = %ip, %compression, "Titan connected");
        Ok(TitanConnection {
            lease,
            ws,
            compression,
            local,
            max_message_bytes: c.config.max_message_bytes,
            next_id: 1,
            frames: metrics::Frames::new(),
        })
    }
}

fn warn_audience(jwt: &Jwt) {
    if !jwt.audiences().is_empty() && !jwt.names_audience(crate::jwt::AUDIENCE) {
        tracing::warn!(
            audiences = ?jwt.audiences(),
            "the Titan JWT does not name audience {}; Titan will likely refuse it",
            crate::jwt::AUDIENCE
        );
    }
}

/// An open Titan WebSocket, holding its IP's long-lived lease until dropped.
#[derive(Debug)]
pub struct TitanConnection {
    // Declared first, so dropped first: the IP is free by the time the server sees the close.
    lease: IpLease,
    ws: handshake::Ws,
    compression: Compression,
    local: SocketAddr,
    max_message_bytes: usize,
    next_id: u32,
    frames: metrics::Frames,
}

/// What the connection read.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A message.
    Message(ServerMessage),
    /// A frame without a message (ping, pong, text), or one that could not be read.
    Other(Option<TitanError>),
    /// The server closed the connection with a close frame.
    Closed,
    /// The connection broke.
    Dropped(String),
}

impl TitanConnection {
    /// The source IP.
    pub fn ip(&self) -> IpAddr {
        self.lease.ip()
    }

    /// The local address (the leased IP and the port the kernel chose).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The compression the server chose.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Sends a request (MessagePack, compressed).
    pub async fn send(&mut self, request: &ClientRequest) -> Result<(), TitanError> {
        let frame = codec::encode_frame(self.compression, request);
        self.frames.sent();
        self.ws
            .send(Message::Binary(frame.into()))
            .await
            .map_err(|e| self.broken(&e))
    }

    pub(crate) async fn ping(&mut self) -> Result<(), TitanError> {
        self.ws
            .send(Message::Ping(Default::default()))
            .await
            .map_err(|e| self.broken(&e))
    }

    fn broken(&self, e: &tokio_tungstenite::tungstenite::Error) -> TitanError {
        TitanError::WebSocket {
            ip: self.ip(),
            reason: format!("the connection broke: {e}"),
        }
    }

    /// Reads the next frame (cancel-safe).
    pub(crate) async fn next(&mut self) -> Incoming {
        match self.ws.next().await {
            Some(Ok(Message::Binary(b))) => {
                self.frames.received();
                match codec::decode_server_frame(self.compression, &b, self.max_message_bytes) {
                    Ok(m) => Incoming::Message(m),
                    Err(e) => Incoming::Other(Some(e.into())),
                }
            }
            Some(Ok(Message::Close(_))) => Incoming::Closed,
            Some(Ok(_)) => Incoming::Other(None),
            Some(Err(e)) => Incoming::Dropped(e.to_string()),
            None => Incoming::Dropped("the connection ended".into()),
        }
    }

    /// The next message (frames without one are skipped).
    pub async fn recv(&mut self) -> Result<ServerMessage, TitanError> {
        loop {
            match self.next().await {
                Incoming::Message(m) => return Ok(m),
                Incoming::Other(Some(e)) => return Err(e),
                Incoming::Other(None) => {}
                Incoming::Closed => {
                    return Err(TitanError::WebSocket {
                        ip: self.ip(),
                        reason: "Titan closed the connection".into(),
                    });
                }
                Incoming::Dropped(reason) => {
                    return Err(TitanError::WebSocket {
                        ip: self.ip(),
                        reason,
                    });
                }
            }
        }
    }

    /// `GetInfo`: the server's protocol version and limits. Other messages that arrive
    /// meanwhile are dropped; use it before opening streams.
    pub async fn get_info(&mut self) -> Result<ServerInfo, TitanError> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.send(&ClientRequest {
            id,
            data: RequestData::GetInfo(GetInfoRequest {}),
        })
        .await?;
        loop {
            match self.recv().await? {
                ServerMessage::Response(r) if r.request_id == id => {
                    return match r.data {
                        ResponseData::GetInfo(info) => Ok(info),
                        other => Err(TitanError::WebSocket {
                            ip: self.ip(),
                            reason: format!("GetInfo was answered with {other:?}"),
                        }),
                    };
                }
                ServerMessage::Error(e) if e.request_id == id => {
                    return Err(TitanError::Refused {
                        code: e.code,
                        message: e.message,
                    });
                }
                _ => {}
            }
        }
    }

    /// Closes with a close frame (best effort).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
