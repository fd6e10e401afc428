//! One WebSocket connection: a sans-IO core ([`Session`]: requests in, messages out, streams
//! due at instants it is told) and the thin async shell that moves frames ([`run`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use solana_pubkey::Pubkey;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

use super::codec::{self, Compression, FrameError};
use super::codes;
use super::record::{Command, JtiClaim, RecordedMessage, UpdateRecord};
use super::routes::RouteInstructions;
use super::wire::{
    ClientRequest, CompactInstruction, ConnectionSettings, ErrorMessage, GetVenuesRequest, Key,
    ProtocolVersion, ProviderInfo, QuoteSwapStreamResponse, QuoteUpdateSettings, RequestData,
    ResponseData, ResponseMessage, RoutePlanStep, ServerInfo, ServerMessage, ServerSettings,
    StopStreamResponse, StreamData, StreamDataType, StreamEnd, StreamPayload, StreamStart,
    SwapMode, SwapQuoteRequest, SwapQuotes, SwapRoute, SwapSettings, TransactionSettings,
    VenueInfo,
};
use super::{Shared, bounds_u16, bounds_u32, bounds_u64};
use crate::Fault;
use crate::market::{MintId, QuoteError};

/// What the shell does next.
#[derive(Debug)]
pub(crate) enum Action {
    /// Send this message.
    Send(ServerMessage),
    /// Drop the connection without a close frame (the `WsCloseMidStream` fault).
    CloseAbruptly,
}

/// One open stream.
#[derive(Debug)]
struct Stream {
    id: u32,
    /// Unique within the service (the quote id's middle part).
    uid: u64,
    input: MintId,
    output: MintId,
    input_key: Pubkey,
    output_key: Pubkey,
    amount: u64,
    user: Pubkey,
    slippage_bps: u16,
    interval: Duration,
    num_quotes: usize,
    /// Provider index and the venues (by index) it may use for this request.
    providers: Vec<(usize, Vec<bool>)>,
    /// When the next update is due; `None` once silenced.
    next_due: Option<Instant>,
    seq: u32,
    fault: Option<Fault>,
}

/// The sans-IO session: every method takes `now` and returns what to send.
#[derive(Debug)]
pub(crate) struct Session<R: RouteInstructions> {
    shared: Arc<Shared<R>>,
    conn: u64,
    user_key: Option<Pubkey>,
    streams: Vec<Stream>,
    next_stream: u32,
}

fn error(request_id: u32, code: u32, message: impl Into<String>) -> Action {
    Action::Send(ServerMessage::Error(ErrorMessage {
        request_id,
        code,
        message: message.into(),
    }))
}

fn response(request_id: u32, data: ResponseData, stream: Option<StreamStart>) -> Action {
    Action::Send(ServerMessage::Response(ResponseMessage {
        request_id,
        data,
        stream,
    }))
}

impl<R: RouteInstructions> Session<R> {
    pub(crate) fn new(shared: Arc<Shared<R>>, conn: u64, user_key: Option<Pubkey>) -> Self {
        Session {
            shared,
            conn,
            user_key,
            streams: Vec::new(),
            next_stream: 0,
        }
    }

    /// A binary frame's payload, decompressed. `fault` rolls the fault of a stream that opens.
    pub(crate) fn on_message(
        &mut self,
        payload: &[u8],
        now: Instant,
        fault: &mut impl FnMut() -> Option<Fault>,
    ) -> Vec<Action> {
        match codec::decode_request(payload) {
            Ok(req) => {
                self.shared
                    .hub
                    .message(self.conn, RecordedMessage::Request(req.clone()));
                self.on_request(req, now, fault)
            }
            Err(e) => self.on_frame_error(e),
        }
    }

    /// A frame that could not be read: an `Error`, and the session goes on.
    pub(crate) fn on_frame_error(&mut self, e: FrameError) -> Vec<Action> {
        self.shared.hub.message(
            self.conn,
            RecordedMessage::Malformed {
                request_id: e.request_id,
                error: e.message.clone(),
            },
        );
        vec![error(
            e.request_id.unwrap_or(0),
            codes::BAD_REQUEST,
            e.message,
        )]
    }

    fn on_request(
        &mut self,
        req: ClientRequest,
        now: Instant,
        fault: &mut impl FnMut() -> Option<Fault>,
    ) -> Vec<Action> {
        let id = req.id;
        match req.data {
            RequestData::GetInfo(_) => vec![response(
                id,
                ResponseData::GetInfo(self.server_info()),
                None,
            )],
            RequestData::GetVenues(GetVenuesRequest {
                include_program_ids,
            }) => {
                let mut venues: VenueInfo = self.shared.venues.clone();
                if include_program_ids != Some(true) {
                    venues.program_ids = None;
                }
                vec![response(id, ResponseData::GetVenues(venues), None)]
            }
            RequestData::ListProviders(p) => {
                let icons = p.include_icons == Some(true);
                let list = self
                    .shared
                    .providers
                    .iter()
                    .map(|p| ProviderInfo {
                        id: p.config.id.clone(),
                        name: p.config.name.clone().unwrap_or_else(|| p.config.id.clone()),
                        kind: p.config.kind,
                        icon_uri48: p.config.icon_uri48.clone().filter(|_| icons),
                    })
                    .collect();
                vec![response(id, ResponseData::ListProviders(list), None)]
            }
            RequestData::StopStream(s) => match self.streams.iter().position(|x| x.id == s.id) {
                Some(i) => {
                    self.streams.remove(i);
                    self.shared
                        .hub
                        .streams(self.conn, self.streams.len(), false);
                    vec![
                        response(
                            id,
                            ResponseData::StreamStopped(StopStreamResponse { id: s.id }),
                            None,
                        ),
                        Action::Send(ServerMessage::StreamEnd(StreamEnd {
                            id: s.id,
                            error_code: None,
                            error_message: None,
                        })),
                    ]
                }
                None => vec![error(
                    id,
                    codes::NOT_FOUND,
                    format!("no open stream {} on this connection", s.id),
                )],
            },
            RequestData::NewSwapQuoteStream(q) => match self.open(id, q, now, fault) {
                Ok(actions) => actions,
                Err((code, message)) => vec![error(id, code, message)],
            },
        }
    }

    fn server_info(&self) -> ServerInfo {
        let c = &self.shared.config;
        ServerInfo {
            protocol_version: ProtocolVersion {
                major: 1,
                minor: 1,
                patch: 0,
            },
            settings: ServerSettings {
                quote_update: QuoteUpdateSettings {
                    interval_ms: bounds_u64(c.interval_ms),
                    num_quotes: bounds_u32(c.num_quotes),
                },
                swap: SwapSettings {
                    slippage_bps: bounds_u16(c.slippage_bps),
                    only_direct_routes: false,
                    add_size_constraint: false,
                },
                transaction: TransactionSettings {
                    close_input_token_account: false,
                    create_output_token_account: false,
                },
                connection: ConnectionSettings {
                    concurrent_streams: c.concurrent_streams,
                },
            },
        }
    }

    fn open(
        &mut self,
        request_id: u32,
        q: Box<SwapQuoteRequest>,
        now: Instant,
        fault: &mut impl FnMut() -> Option<Fault>,
    ) -> Result<Vec<Action>, (u32, String)> {
        let shared = &self.shared;
        let cfg = &shared.config;
        if self.streams.len() >= cfg.concurrent_streams as usize {
            return Err((
                codes::TOO_MANY_STREAMS,
                format!(
                    "too many streams: at most {} at once per connection (concurrentStreams); \
                     stop one first",
                    cfg.concurrent_streams
                ),
            ));
        }
        let user = q.transaction.user_public_key.0;
        if cfg.enforce_user_key
            && let Some(upk) = self.user_key
            && upk != user
        {
            return Err((
                codes::FORBIDDEN,
                format!("userPublicKey {user} is not the token's user key {upk}"),
            ));
        }
        let swap = &q.swap;
        if swap.swap_mode == Some(SwapMode::ExactOut) {
            return Err((
                codes::BAD_REQUEST,
                "swapMode ExactOut is not supported by any provider here; use ExactIn".into(),
            ));
        }
        let bad = |e: QuoteError| (codes::BAD_REQUEST, e.to_string());
        let (input, output, providers) = {
            let market = shared.market.read();
            let mint = |k: &Key, which: &str| {
                market
                    .mint_by_address(&k.0)
                    .map_err(|_| (codes::BAD_REQUEST, format!("unknown {which} mint {}", k.0)))
            };
            let input = mint(&swap.input_mint, "input")?;
            let output = mint(&swap.output_mint, "output")?;
            if input == output {
                return Err(bad(QuoteError::SameMint));
            }
            if swap.amount == 0 {
                return Err(bad(QuoteError::ZeroAmount));
            }
            let wanted = |name: &str| {
                swap.dexes
                    .as_ref()
                    .is_none_or(|d| d.iter().any(|x| x == name))
                    && !swap
                        .exclude_dexes
                        .as_ref()
                        .is_some_and(|d| d.iter().any(|x| x == name))
            };
            let venue_ok: Vec<bool> = market
                .venue_ids()
                .map(|v| wanted(market.venue_info(v).name()))
                .collect();
            let providers: Vec<(usize, Vec<bool>)> = shared
                .providers
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    swap.providers
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&p.config.id))
                })
                .map(|(i, p)| {
                    let allowed = p
                        .venues
                        .iter()
                        .zip(&venue_ok)
                        .map(|(a, b)| *a && *b)
                        .collect();
                    (i, allowed)
                })
                .collect();
            (input, output, providers)
        };
        if providers.is_empty() {
            let known: Vec<&str> = shared
                .providers
                .iter()
                .map(|p| p.config.id.as_str())
                .collect();
            return Err((
                codes::BAD_REQUEST,
                format!(
                    "no known provider among {:?}; this server has {}",
                    swap.providers.as_deref().unwrap_or_default(),
                    known.join(", ")
                ),
            ));
        }
        let update = q.update.unwrap_or_default();
        let interval_ms = cfg.interval_ms.apply(update.interval_ms);
        let id = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(1);
        self.streams.push(Stream {
            id,
            uid: shared.next_stream_uid(),
            input,
            output,
            input_key: swap.input_mint.0,
            output_key: swap.output_mint.0,
            amount: swap.amount,
            user,
            slippage_bps: cfg.slippage_bps.apply(swap.slippage_bps),
            interval: Duration::from_millis(interval_ms),
            num_quotes: cfg.num_quotes.apply(update.num_quotes) as usize,
            providers,
            next_due: Some(now + Duration::from_millis(cfg.first_update_delay_ms)),
            seq: 0,
            fault: fault(),
        });
        shared.hub.streams(self.conn, self.streams.len(), true);
        let mut out = vec![response(
            request_id,
            ResponseData::NewSwapQuoteStream(QuoteSwapStreamResponse { interval_ms }),
            Some(StreamStart {
                id,
                data_type: StreamDataType::SwapQuotes,
            }),
        )];
        // A zero first delay sends the first update with the Response (the race of §5.4).
        if cfg.first_update_delay_ms == 0 {
            out.extend(self.due(now));
        }
        Ok(out)
    }

    /// When the next update is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.streams.iter().filter_map(|s| s.next_due).min()
    }

    /// The updates due at `now`.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        for i in 0..self.streams.len() {
            if self.streams[i].next_due.is_some_and(|d| d <= now) {
                out.push(Action::Send(self.update(i, now)));
                let s = &mut self.streams[i];
                s.seq = s.seq.wrapping_add(1);
                match s.fault {
                    Some(Fault::WsCloseMidStream) => {
                        out.push(Action::CloseAbruptly);
                        return out;
                    }
                    Some(Fault::StreamSilence) => s.next_due = None,
                    _ => {
                        let mut next = s.next_due.unwrap_or(now) + s.interval;
                        // Fallen behind (a slow client): skip, do not burst.
                        if next <= now {
                            next = now + s.interval;
                        }
                        s.next_due = Some(next);
                    }
                }
            }
        }
        out
    }

    /// Ends every stream with an error (a [`TitanHandle::end_streams`](super::TitanHandle)).
    pub(crate) fn end_all(&mut self, code: u32, message: &str) -> Vec<Action> {
        let out = self
            .streams
            .drain(..)
            .map(|s| {
                Action::Send(ServerMessage::StreamEnd(StreamEnd {
                    id: s.id,
                    error_code: Some(code),
                    error_message: Some(message.to_owned()),
                }))
            })
            .collect();
        self.shared.hub.streams(self.conn, 0, false);
        out
    }

    /// Stream `i`'s update at `now`: each provider's best venue among those it may use, at
    /// one tick of the market, best `numQuotes` routes by output.
    fn update(&self, i: usize, now: Instant) -> ServerMessage {
        let s = &self.streams[i];
        let shared = &self.shared;
        let (tick, quotes) = {
            let market = shared.market.read();
            let quotes: Vec<_> = s
                .providers
                .iter()
                .filter_map(|(p, allowed)| {
                    let q = market
                        .best_quote(s.input, s.output, s.amount, now, |v, _| {
                            allowed.get(v.index()).copied().unwrap_or(false)
                        })
                        .ok()?;
                    Some((*p, market.venue_info(q.venue).name().to_owned(), q))
                })
                .collect();
            (market.tick_at(now), quotes)
        };
        let routes = &shared.routes;
        let slot = routes.slot(now);
        let tables: Vec<Key> = routes.lookup_tables().into_iter().map(Key).collect();
        let mut built: Vec<(usize, SwapRoute)> = quotes
            .into_iter()
            .filter_map(|(p, venue, q)| {
                let ixs = routes
                    .swap_instructions(
                        &s.user,
                        &venue,
                        &s.input_key,
                        &s.output_key,
                        q.in_amount,
                        q.out_amount,
                    )
                    .map_err(|e| {
                        tracing::debug!(provider = p, venue, error = %e, "route left out");
                    })
                    .ok()?;
                let pc = &shared.providers[p].config;
                Some((
                    p,
                    SwapRoute {
                        in_amount: q.in_amount,
                        out_amount: q.out_amount,
                        slippage_bps: s.slippage_bps,
                        platform_fee: None,
                        steps: vec![RoutePlanStep {
                            amm_key: Key(q.pool),
                            label: venue,
                            input_mint: Key(s.input_key),
                            output_mint: Key(s.output_key),
                            in_amount: q.in_amount,
                            out_amount: q.out_amount,
                            alloc_ppb: 1_000_000_000,
                            fee_mint: Some(Key(s.output_key)),
                            fee_amount: Some(q.fee_amount),
                            context_slot: Some(slot),
                        }],
                        instructions: ixs.iter().map(CompactInstruction::from).collect(),
                        address_lookup_tables: tables.clone(),
                        context_slot: Some(slot),
                        time_taken_ns: Some(pc.time_taken_ns),
                        expires_at_ms: None,
                        expires_after_slot: Some(
                            slot.saturating_add(shared.config.expires_after_slots),
                        ),
                        compute_units: Some(pc.compute_units),
                        compute_units_safe: Some(pc.compute_units.saturating_mul(6) / 5),
                        transaction: None,
                        reference_id: None,
                    },
                ))
            })
            .collect();
        // Best output first; ties keep the providers' order. Then trim to numQuotes.
        built.sort_by(|a, b| b.1.out_amount.cmp(&a.1.out_amount).then(a.0.cmp(&b.0)));
        built.truncate(s.num_quotes);
        let ids: Vec<(String, u64)> = built
            .iter()
            .map(|(p, r)| (shared.providers[*p].config.id.clone(), r.out_amount))
            .collect();
        shared.hub.update(UpdateRecord {
            connection: self.conn,
            stream: s.id,
            seq: s.seq,
            tick,
            slot,
            routes: ids,
        });
        ServerMessage::StreamData(StreamData {
            id: s.id,
            seq: s.seq,
            payload: StreamPayload::SwapQuotes(SwapQuotes {
                id: format!("swap:{}:{}", s.uid, s.seq),
                input_mint: Key(s.input_key),
                output_mint: Key(s.output_key),
                swap_mode: SwapMode::ExactIn,
                amount: s.amount,
                quotes: built
                    .into_iter()
                    .map(|(p, r)| (shared.providers[p].config.id.clone(), r))
                    .collect(),
            }),
        })
    }
}

/// What the shell needs besides the core.
pub(crate) struct Wiring {
    pub(crate) compression: Compression,
    pub(crate) controls: crate::Controls,
    pub(crate) peer: std::net::SocketAddr,
    pub(crate) commands: broadcast::Receiver<Command>,
    pub(crate) jti: Option<JtiClaim>,
}

type Ws = WebSocketStream<TokioIo<Upgraded>>;

/// How a session ended.
enum End {
    /// The client went away, or a frame could not be sent.
    Gone,
    /// Close without a close frame.
    Abrupt,
    /// Close with a close frame.
    Close,
    /// Answer the client's close frame.
    Answer,
}

/// Runs one session over an upgraded connection until either side ends it.
pub(crate) async fn run<R: RouteInstructions>(
    mut session: Session<R>,
    upgraded: Upgraded,
    mut w: Wiring,
) {
    let max = session.shared.config.max_message_bytes;
    let ws_cfg = WebSocketConfig::default()
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let mut ws: Ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_cfg)).await;
    let ip = w.peer.ip();
    let controls = w.controls.clone();
    let mut roll = || controls.stream_fault(ip);
    let end = loop {
        let deadline = session.next_deadline();
        let actions = tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    match w.compression.decompress(&b, max) {
                        Ok(payload) => session.on_message(&payload, Instant::now(), &mut roll),
                        Err(e) => session.on_frame_error(e),
                    }
                }
                // Text frames are ignored; tungstenite answers pings on the next read.
                Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                    continue;
                }
                // Answer the client's close frame (queued by tungstenite), then end.
                Some(Ok(Message::Close(_))) => break End::Answer,
                Some(Err(_)) | None => break End::Gone,
            },
            () = sleep_until(deadline) => session.due(Instant::now()),
            cmd = w.commands.recv() => match cmd {
                Ok(Command::EndStreams { code, message }) => session.end_all(code, &message),
                Ok(Command::Close) => break End::Close,
                Ok(Command::Drop) => break End::Abrupt,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                // The service is gone: so is this session.
                Err(broadcast::error::RecvError::Closed) => break End::Close,
            },
        };
        match send_all(&mut ws, w.compression, actions).await {
            Ok(false) => {}
            Ok(true) => break End::Abrupt,
            Err(()) => break End::Gone,
        }
    };
    match end {
        End::Close => {
            let _ = ws
                .close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "server closing".into(),
                }))
                .await;
        }
        End::Answer => {
            let _ = ws.flush().await;
        }
        End::Gone | End::Abrupt => {}
    }
    // Abrupt: dropping the stream closes the TCP connection without a close frame.
    drop(ws);
    session.shared.hub.closed(session.conn);
    drop(w.jti.take());
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Sends the actions' messages in order; `Ok(true)` when one says to close abruptly.
async fn send_all(ws: &mut Ws, c: Compression, actions: Vec<Action>) -> Result<bool, ()> {
    for a in actions {
        match a {
            Action::Send(msg) => {
                let frame = c.compress(&codec::encode(&msg));
                ws.send(Message::Binary(frame.into()))
                    .await
                    .map_err(|_| ())?;
            }
            Action::CloseAbruptly => return Ok(true),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Market, MarketConfig, SharedMarket};
    use crate::titan::wire::{QuoteUpdateParams, SwapParams, TransactionParams};
    use crate::titan::{SyntheticRoutes, TitanConfig, TitanService};

    const MS: Duration = Duration::from_millis(1);

    fn session(cfg: TitanConfig, t0: Instant) -> Session<SyntheticRoutes> {
        let market = SharedMarket::new(Market::new(MarketConfig::default(), t0).unwrap());
        let svc = TitanService::new(cfg, market, SyntheticRoutes::new(t0, 100)).unwrap();
        let conn = svc.shared.hub.connect(
            "127.0.0.1:1".parse().unwrap(),
            Compression::None,
            "s".into(),
            None,
        );
        Session::new(svc.shared.clone(), conn, None)
    }

    fn request(id: u32, interval_ms: u64) -> Vec<u8> {
        codec::encode(&ClientRequest {
            id,
            data: RequestData::NewSwapQuoteStream(Box::new(SwapQuoteRequest {
                swap: SwapParams {
                    input_mint: Key("So11111111111111111111111111111111111111112"
                        .parse()
                        .unwrap()),
                    output_mint: Key("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
                        .parse()
                        .unwrap()),
                    amount: 1_000_000_000,
                    swap_mode: None,
                    slippage_bps: None,
                    dexes: None,
                    exclude_dexes: None,
                    only_direct_routes: None,
                    add_size_constraint: None,
                    size_constraint: None,
                    providers: None,
                    accounts_limit_total: None,
                    accounts_limit_writable: None,
                },
                transaction: TransactionParams {
                    user_public_key: Key(Pubkey::new_unique()),
                    close_input_token_account: None,
                    create_output_token_account: None,
                    fee_account: None,
                    fee_bps: None,
                    fee_from_input_mint: None,
                    output_account: None,
                },
                update: Some(QuoteUpdateParams {
                    interval_ms: Some(interval_ms),
                    num_quotes: None,
                }),
            })),
        })
    }

    fn seqs(actions: &[Action]) -> Vec<(u32, u32)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(ServerMessage::StreamData(d)) => Some((d.id, d.seq)),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn updates_come_at_the_first_delay_then_every_interval_without_bursts() {
        let t0 = Instant::now();
        let mut s = session(
            TitanConfig {
                first_update_delay_ms: 5,
                ..TitanConfig::default()
            },
            t0,
        );
        let open = s.on_message(&request(1, 100), t0, &mut || None);
        assert_eq!(open.len(), 1);
        assert!(matches!(&open[0], Action::Send(ServerMessage::Response(r)) if r.stream.is_some()));
        assert_eq!(s.next_deadline(), Some(t0 + 5 * MS));
        assert!(s.due(t0 + 4 * MS).is_empty());
        assert_eq!(seqs(&s.due(t0 + 5 * MS)), [(0, 0)]);
        assert_eq!(s.next_deadline(), Some(t0 + 105 * MS));
        assert!(s.due(t0 + 104 * MS).is_empty());
        assert_eq!(seqs(&s.due(t0 + 105 * MS)), [(0, 1)]);
        // A late wake sends one update, not the ones missed, and keeps the pace from there.
        assert_eq!(seqs(&s.due(t0 + 1_000 * MS)), [(0, 2)]);
        assert_eq!(s.next_deadline(), Some(t0 + 1_100 * MS));
        // A second stream keeps its own cadence.
        s.on_message(&request(2, 30), t0 + 1_010 * MS, &mut || None);
        assert_eq!(s.next_deadline(), Some(t0 + 1_015 * MS));
        assert_eq!(seqs(&s.due(t0 + 1_015 * MS)), [(1, 0)]);
        assert_eq!(seqs(&s.due(t0 + 1_100 * MS)), [(0, 3), (1, 1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn stream_faults_apply_after_the_first_update() {
        let t0 = Instant::now();
        let mut s = session(TitanConfig::default(), t0);
        s.on_message(&request(1, 50), t0, &mut || Some(Fault::StreamSilence));
        let first = s.due(t0 + 5 * MS);
        assert_eq!(seqs(&first), [(0, 0)]);
        assert_eq!(s.next_deadline(), None, "silent: nothing more is scheduled");
        s.on_message(&request(2, 50), t0, &mut || Some(Fault::WsCloseMidStream));
        let a = s.due(t0 + 5 * MS);
        assert_eq!(seqs(&a), [(1, 0)]);
        assert!(matches!(a.last(), Some(Action::CloseAbruptly)));
        // Ending everything ends the silent stream too, with the error.
        let ends = s.end_all(7, "bye");
        assert_eq!(ends.len(), 2);
        assert!(ends.iter().all(|a| matches!(
            a,
            Action::Send(ServerMessage::StreamEnd(StreamEnd {
                error_code: Some(7),
                ..
            }))
        )));
        assert_eq!(s.next_deadline(), None);
    }
}
