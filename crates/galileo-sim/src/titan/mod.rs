//! The Titan simulator: swap quotes streamed over a WebSocket in MessagePack frames
//! (`spec/titan.md`).
//!
//! - **Handshake** ([`TitanService::handle`]): a WebSocket upgrade on the configured path, a
//!   JWT (HS256, shared secret) from `?auth=`, `Authorization: Bearer` or
//!   `Authentication: Bearer` (missing, forged, expired, future `iat`/`nbf` or wrong `aud`:
//!   `401` before any upgrade), and one offered sub-protocol echoed by the configured
//!   preference (none acceptable: `400`).
//! - **Session** (`session.rs`): `GetInfo`, `NewSwapQuoteStream`, `StopStream`, `GetVenues`,
//!   `ListProviders`; streams push one route per provider every `intervalMs`, priced by the
//!   shared [`market`](crate::market), with instructions from a [`RouteInstructions`]; the
//!   stream faults of the core ([`Fault::WsCloseMidStream`](crate::Fault),
//!   [`Fault::StreamSilence`](crate::Fault)) apply per stream.
//! - **Steering and assertions**: [`TitanHandle`] ends streams with an error, closes
//!   connections and reads the bounded [`TitanRecord`].
//!
//! Error codes of `Error` and of server-ended `StreamEnd` are the simulator's own (the real
//! catalogue is unknown): see [`codes`].

mod codec;
mod config;
pub mod jwt;
mod record;
mod routes;
mod session;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;

pub use codec::{Compression, FrameError, PROTOCOL, decode, decode_request, encode};
pub use config::{
    Bounds, DEFAULT_JWT_SECRET, JwtSecret, ProviderConfig, RecordLimits, SERVICE, TitanConfig,
    VenueLabel,
};
pub use record::{ConnectionRecord, RecordedMessage, TitanHandle, TitanRecord, UpdateRecord};
pub use routes::{RouteError, RouteInstructions, SyntheticRoutes};

use crate::market::SharedMarket;
use crate::service::json;
use crate::{RequestContext, Service, SimBody, SimError};
use record::Hub;
use session::{Session, Wiring};
use wire::{BoundsU16, BoundsU32, BoundsU64, Key, VenueInfo};

/// The codes of `Error{code}` (HTTP-like, all below `2^31` as the reference client needs).
pub mod codes {
    /// A frame that does not decode or decompress, an unknown variant, a bad pubkey, an
    /// unknown mint or provider, an unsupported mode.
    pub const BAD_REQUEST: u32 = 400;
    /// `userPublicKey` is not the token's `upk_b58`.
    pub const FORBIDDEN: u32 = 403;
    /// `StopStream` for a stream not open on this connection.
    pub const NOT_FOUND: u32 = 404;
    /// A stream beyond `concurrentStreams`.
    pub const TOO_MANY_STREAMS: u32 = 429;
}

/// A provider resolved against the market.
#[derive(Debug)]
struct Provider {
    config: ProviderConfig,
    /// Whether it may route through each venue (by venue index).
    venues: Vec<bool>,
}

/// What the service, its sessions and handles share.
struct Shared<R> {
    config: TitanConfig,
    market: SharedMarket,
    routes: R,
    providers: Vec<Provider>,
    /// `GetVenues`' answer with program ids.
    venues: VenueInfo,
    hub: Arc<Hub>,
    next_stream_uid: AtomicU64,
}

impl<R> std::fmt::Debug for Shared<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

impl<R> Shared<R> {
    fn next_stream_uid(&self) -> u64 {
        self.next_stream_uid.fetch_add(1, Ordering::Relaxed)
    }
}

/// The Titan WebSocket service, generic over where route instructions come from.
pub struct TitanService<R: RouteInstructions> {
    shared: Arc<Shared<R>>,
}

impl<R: RouteInstructions> Clone for TitanService<R> {
    fn clone(&self) -> Self {
        TitanService {
            shared: self.shared.clone(),
        }
    }
}

impl<R: RouteInstructions> std::fmt::Debug for TitanService<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TitanService")
            .field("shared", &self.shared)
            .finish()
    }
}

fn derived_program_id(label: &str) -> Pubkey {
    let mut h = Sha256::new();
    h.update(b"galileo-sim titan venue program:");
    h.update(label.as_bytes());
    Pubkey::new_from_array(h.finalize().into())
}

impl<R: RouteInstructions> TitanService<R> {
    /// A service quoting from `market`, with instructions from `routes`. Refuses an invalid
    /// configuration, and provider venues the market does not have.
    pub fn new(config: TitanConfig, market: SharedMarket, routes: R) -> Result<Self, SimError> {
        config.validate()?;
        let (providers, venues) = {
            let m = market.read();
            let names: Vec<String> = m
                .venue_ids()
                .map(|v| m.venue_info(v).name().to_owned())
                .collect();
            let mut providers = Vec::with_capacity(config.providers.len());
            for (i, p) in config.providers.iter().enumerate() {
                if let Some(unknown) = p.venues.iter().find(|v| !names.contains(v)) {
                    return Err(SimError::config(
                        SERVICE,
                        format!(
                            "providers[{i}] (`{}`) names venue `{unknown}`, which the market \
                             does not have; its venues are: {}",
                            p.id,
                            names.join(", ")
                        ),
                    ));
                }
                providers.push(Provider {
                    config: p.clone(),
                    venues: names
                        .iter()
                        .map(|n| p.venues.is_empty() || p.venues.contains(n))
                        .collect(),
                });
            }
            let labels: Vec<VenueLabel> = config.venues.clone().unwrap_or_else(|| {
                names
                    .iter()
                    .map(|n| VenueLabel {
                        label: n.clone(),
                        program_id: None,
                    })
                    .collect()
            });
            let venues = VenueInfo {
                program_ids: Some(
                    labels
                        .iter()
                        .map(|l| {
                            Key(l
                                .program_id
                                .as_deref()
                                .and_then(|p| p.parse().ok())
                                .unwrap_or_else(|| derived_program_id(&l.label)))
                        })
                        .collect(),
                ),
                labels: labels.into_iter().map(|l| l.label).collect(),
            };
            (providers, venues)
        };
        let hub = Arc::new(Hub::new(config.record));
        Ok(TitanService {
            shared: Arc::new(Shared {
                config,
                market,
                routes,
                providers,
                venues,
                hub,
                next_stream_uid: AtomicU64::new(1),
            }),
        })
    }

    /// The handle that reads the record and steers the sessions.
    pub fn handle(&self) -> TitanHandle {
        TitanHandle {
            hub: self.shared.hub.clone(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &TitanConfig {
        &self.shared.config
    }

    /// A token this service accepts: `claims` signed with its secret.
    pub fn sign(&self, claims: &jwt::Claims) -> String {
        jwt::sign(claims, self.shared.config.jwt_secret.expose())
    }

    fn verify(&self, req: &Request<Bytes>) -> Result<jwt::Verified, jwt::JwtError> {
        let token = jwt::token_of(req).ok_or(jwt::JwtError::Missing)?;
        let cfg = &self.shared.config;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        jwt::verify(
            token,
            cfg.jwt_secret.expose(),
            &cfg.audience,
            now,
            cfg.leeway_secs,
        )
    }

    /// The sub-protocol to echo: the most preferred of those offered, if any.
    fn negotiate(&self, req: &Request<Bytes>) -> Option<Compression> {
        let offered: Vec<&str> = req
            .headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        self.shared
            .config
            .compression
            .iter()
            .copied()
            .find(|c| offered.contains(&c.token()))
    }
}

fn refusal(status: StatusCode, message: &str) -> Response<SimBody> {
    json(
        status,
        &serde_json::json!({
            "error": status.canonical_reason().unwrap_or("Error"),
            "message": message,
        }),
    )
}

fn has_token(req: &Request<Bytes>, name: header::HeaderName, token: &str) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn bounds_u64(b: Bounds<u64>) -> BoundsU64 {
    BoundsU64 {
        min: b.min,
        max: b.max,
        default: b.default,
    }
}

fn bounds_u32(b: Bounds<u32>) -> BoundsU32 {
    BoundsU32 {
        min: b.min,
        max: b.max,
        default: b.default,
    }
}

fn bounds_u16(b: Bounds<u16>) -> BoundsU16 {
    BoundsU16 {
        min: b.min,
        max: b.max,
        default: b.default,
    }
}

impl<R: RouteInstructions> Service for TitanService<R> {
    fn name(&self) -> &'static str {
        SERVICE
    }

    /// The token's `sub`, when the token is valid: per-key limits count per user.
    fn api_key(&self, req: &Request<Bytes>) -> Option<String> {
        self.verify(req).ok().map(|v| v.sub)
    }

    async fn handle(&self, mut req: Request<Bytes>, ctx: RequestContext) -> Response<SimBody> {
        let cfg = &self.shared.config;
        if req.uri().path() != cfg.path {
            return refusal(
                StatusCode::NOT_FOUND,
                &format!(
                    "no route for {}; the WebSocket is at {}",
                    req.uri().path(),
                    cfg.path
                ),
            );
        }
        let is_upgrade = req.method() == Method::GET
            && req.version() == Version::HTTP_11
            && has_token(&req, header::CONNECTION, "upgrade")
            && has_token(&req, header::UPGRADE, "websocket");
        if !is_upgrade {
            return refusal(
                StatusCode::BAD_REQUEST,
                "expected a WebSocket upgrade: HTTP/1.1 GET with `Connection: Upgrade` and \
                 `Upgrade: websocket`",
            );
        }
        if req
            .headers()
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|v| v.as_bytes() != b"13")
        {
            let mut r = refusal(
                StatusCode::UPGRADE_REQUIRED,
                "unsupported WebSocket version: use 13",
            );
            r.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            return r;
        }
        let Some(accept) = req
            .headers()
            .get(header::SEC_WEBSOCKET_KEY)
            .map(|k| tokio_tungstenite::tungstenite::handshake::derive_accept_key(k.as_bytes()))
        else {
            return refusal(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
        };
        let token = match self.verify(&req) {
            Ok(t) => t,
            Err(e) => return refusal(StatusCode::UNAUTHORIZED, &e.to_string()),
        };
        let Some(compression) = self.negotiate(&req) else {
            let tokens: Vec<&str> = cfg.compression.iter().map(|c| c.token()).collect();
            return refusal(
                StatusCode::BAD_REQUEST,
                &format!(
                    "no acceptable Sec-WebSocket-Protocol offered; offer one of: {}",
                    tokens.join(", ")
                ),
            );
        };
        let jti = match (&token.jti, cfg.one_connection_per_jti) {
            (Some(jti), true) => match self.shared.hub.claim_jti(jti) {
                Some(claim) => Some(claim),
                None => {
                    return refusal(
                        StatusCode::UNAUTHORIZED,
                        "this token (jti) is already in use by another connection; one \
                         connection per token",
                    );
                }
            },
            _ => None,
        };
        let on_upgrade = hyper::upgrade::on(&mut req);
        let peer: SocketAddr = ctx.peer;
        let hub = &self.shared.hub;
        let commands = hub.commands.subscribe();
        let conn = hub.connect(peer, compression, token.sub, token.jti);
        let session = Session::new(self.shared.clone(), conn, token.user_key);
        let wiring = Wiring {
            compression,
            controls: ctx.controls.clone(),
            peer,
            commands,
            jti,
        };
        let hub = hub.clone();
        ctx.tasks.spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => session::run(session, upgraded, wiring).await,
                Err(_) => hub.closed(conn),
            }
        });
        Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "Upgrade")
            .header(header::UPGRADE, "websocket")
            .header(header::SEC_WEBSOCKET_ACCEPT, accept)
            .header(header::SEC_WEBSOCKET_PROTOCOL, compression.token())
            .body(SimBody::empty())
            .unwrap_or_else(|_| refusal(StatusCode::INTERNAL_SERVER_ERROR, "response"))
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response<SimBody> {
        refusal(status, message)
    }
}
