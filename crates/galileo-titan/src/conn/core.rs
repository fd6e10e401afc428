//! One connection's streams, sans-IO: messages and ticks in (with `now`), requests and
//! quotes out. The shell (`conn/mod.rs`) moves the frames.
//!
//! - At connect: `GetInfo`; its `concurrentStreams`, when smaller, bounds the streams this
//!   connection holds. Streams open once it answers (or after `info_timeout`).
//! - A stream is registered when its `Response` is read, before any later frame (spec §5.4).
//! - A stream silent for `silence` (no update since it was asked for or since its last one)
//!   is resubscribed: `StopStream`, then a new `NewSwapQuoteStream`.
//! - A stream the server ends or refuses is asked for again after its own backoff.
//! - No frame at all for three ping intervals: the connection is dead.

use std::time::Duration;

use galileo_resilience::retry::Backoff;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use super::template::SwapTemplate;
use crate::plan::StreamKey;
use crate::table::StreamQuote;
use crate::wire::{
    ClientRequest, GetInfoRequest, RequestData, ResponseData, ServerMessage, StopStreamRequest,
    StreamPayload,
};

/// The core's timings and limits.
#[derive(Clone, Debug)]
pub(crate) struct CoreConfig {
    /// A stream silent this long is resubscribed.
    pub(crate) silence: Duration,
    /// A ping this often; dead after three without any frame.
    pub(crate) ping_interval: Duration,
    /// Streams open without `GetInfo` after this.
    pub(crate) info_timeout: Duration,
    /// The most streams this connection holds (before `GetInfo` says less).
    pub(crate) per_connection: usize,
    /// The backoff of a stream the server ended or refused.
    pub(crate) backoff: Backoff,
}

/// What the shell does.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Send this request.
    Send(ClientRequest),
    /// Send a ping.
    Ping,
    /// A stream's update.
    Publish(StreamQuote),
    /// `GetInfo` allows fewer streams per connection than planned.
    Limit(usize),
    /// Something worth a warning (the server refused a request or ended a stream).
    Warn {
        /// The stream concerned.
        key: Option<StreamKey>,
        /// What happened.
        what: String,
    },
    /// The connection is dead; the label says why.
    Dead(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not subscribed; may subscribe from `at` (`None`: as soon as there is room).
    Idle { at: Option<Instant> },
    /// Asked for; no `Response` yet.
    Subscribing { request_id: u32, since: Instant },
    /// Open as stream `id`; `last` is its last update (or its `Response`).
    Open { id: u32, last: Instant },
}

#[derive(Debug)]
struct Stream {
    key: StreamKey,
    state: State,
    backoff: Backoff,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingInfo { request_id: u32, since: Instant },
    Ready,
}

/// One connection's protocol state.
#[derive(Debug)]
pub(crate) struct ConnCore {
    cfg: CoreConfig,
    template: SwapTemplate,
    rng: StdRng,
    phase: Phase,
    streams: Vec<Stream>,
    limit: usize,
    next_id: u32,
    last_rx: Instant,
    last_ping: Instant,
    /// Streams stopped by us: their late updates are ignored until their `StreamEnd`.
    stopping: Vec<u32>,
    /// Subscribe requests given up on: a late `Response` gets a `StopStream`.
    abandoned: Vec<u32>,
    updates: u64,
}

impl ConnCore {
    /// A connection just upgraded at `now`, to hold `keys`. Returns the `GetInfo` to send.
    pub(crate) fn new(
        cfg: CoreConfig,
        template: SwapTemplate,
        keys: &[StreamKey],
        seed: u64,
        now: Instant,
    ) -> (Self, Vec<Effect>) {
        let limit = cfg.per_connection.max(1);
        let mut core = ConnCore {
            template,
            rng: StdRng::seed_from_u64(seed),
            phase: Phase::Ready,
            streams: Vec::new(),
            limit,
            next_id: 1,
            last_rx: now,
            last_ping: now,
            stopping: Vec::new(),
            abandoned: Vec::new(),
            updates: 0,
            cfg,
        };
        core.add(keys);
        let request_id = core.request_id();
        core.phase = Phase::AwaitingInfo {
            request_id,
            since: now,
        };
        let out = vec![Effect::Send(ClientRequest {
            id: request_id,
            data: RequestData::GetInfo(GetInfoRequest {}),
        })];
        (core, out)
    }

    /// Streams open now.
    pub(crate) fn open_streams(&self) -> usize {
        self.streams
            .iter()
            .filter(|s| matches!(s.state, State::Open { .. }))
            .count()
    }

    /// Updates received over the connection's life.
    pub(crate) fn updates(&self) -> u64 {
        self.updates
    }

    fn request_id(&mut self) -> u32 {
        let id = self.next_id;
        // Ids start at 1 and wrap, skipping 0 (the server's "could not read it").
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    fn add(&mut self, keys: &[StreamKey]) {
        for k in keys {
            if self.streams.iter().all(|s| s.key != *k) {
                self.streams.push(Stream {
                    key: *k,
                    state: State::Idle { at: None },
                    backoff: self.cfg.backoff.clone(),
                });
            }
        }
    }

    fn active(&self) -> usize {
        self.streams
            .iter()
            .filter(|s| !matches!(s.state, State::Idle { .. }))
            .count()
    }

    fn subscribe(&mut self, i: usize, now: Instant, out: &mut Vec<Effect>) {
        let request_id = self.request_id();
        let s = &mut self.streams[i];
        s.state = State::Subscribing {
            request_id,
            since: now,
        };
        out.push(Effect::Send(ClientRequest {
            id: request_id,
            data: RequestData::NewSwapQuoteStream(Box::new(self.template.request(&s.key))),
        }));
    }

    /// Drops a stream's subscription (stop it, or forget its pending request).
    fn release(&mut self, state: State, out: &mut Vec<Effect>) {
        match state {
            State::Open { id, .. } => {
                self.stopping.push(id);
                let request_id = self.request_id();
                out.push(Effect::Send(ClientRequest {
                    id: request_id,
                    data: RequestData::StopStream(StopStreamRequest { id }),
                }));
            }
            State::Subscribing { request_id, .. } => self.abandoned.push(request_id),
            State::Idle { .. } => {}
        }
    }

    /// Idle streams that are due, while there is room.
    fn fill(&mut self, now: Instant, out: &mut Vec<Effect>) {
        if self.phase != Phase::Ready {
            return;
        }
        for i in 0..self.streams.len() {
            if self.active() >= self.limit {
                break;
            }
            if let State::Idle { at } = self.streams[i].state
                && at.is_none_or(|t| t <= now)
            {
                self.subscribe(i, now, out);
            }
        }
    }

    fn retry_later(&mut self, i: usize, now: Instant) -> Duration {
        let delay = self.streams[i].backoff.next_delay(&mut self.rng);
        self.streams[i].state = State::Idle {
            at: Some(now + delay),
        };
        delay
    }

    /// The planned streams changed.
    pub(crate) fn set_desired(&mut self, keys: &[StreamKey], now: Instant) -> Vec<Effect> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.streams.len() {
            if keys.contains(&self.streams[i].key) {
                i += 1;
            } else {
                let s = self.streams.remove(i);
                self.release(s.state, &mut out);
            }
        }
        self.add(keys);
        self.fill(now, &mut out);
        out
    }

    /// A message from the server.
    pub(crate) fn on_message(&mut self, msg: ServerMessage, now: Instant) -> Vec<Effect> {
        self.last_rx = now;
        let mut out = Vec::new();
        match msg {
            ServerMessage::Response(r) => {
                if let Phase::AwaitingInfo { request_id, .. } = self.phase
                    && request_id == r.request_id
                {
                    if let ResponseData::GetInfo(info) = &r.data {
                        let c = info.settings.connection.concurrent_streams as usize;
                        if c > 0 && c < self.limit {
                            self.limit = c;
                            out.push(Effect::Limit(c));
                        }
                    }
                    self.phase = Phase::Ready;
                } else if let Some(i) = self.subscribing(r.request_id) {
                    match r.stream {
                        Some(start) => {
                            self.streams[i].state = State::Open {
                                id: start.id,
                                last: now,
                            };
                        }
                        None => {
                            let delay = self.retry_later(i, now);
                            out.push(Effect::Warn {
                                key: Some(self.streams[i].key),
                                what: format!(
                                    "Titan answered the subscription without a stream; \
                                     asking again in {delay:?}"
                                ),
                            });
                        }
                    }
                } else if let Some(pos) = self.abandoned.iter().position(|id| *id == r.request_id) {
                    self.abandoned.swap_remove(pos);
                    if let Some(start) = r.stream {
                        self.release(
                            State::Open {
                                id: start.id,
                                last: now,
                            },
                            &mut out,
                        );
                    }
                }
            }
            ServerMessage::Error(e) => {
                if let Phase::AwaitingInfo { request_id, .. } = self.phase
                    && request_id == e.request_id
                {
                    self.phase = Phase::Ready;
                    out.push(Effect::Warn {
                        key: None,
                        what: format!(
                            "GetInfo failed ({}: {}); streams open without it",
                            e.code, e.message
                        ),
                    });
                } else if let Some(i) = self.subscribing(e.request_id) {
                    let delay = self.retry_later(i, now);
                    out.push(Effect::Warn {
                        key: Some(self.streams[i].key),
                        what: format!(
                            "Titan refused the subscription ({}: {}); asking again in {delay:?}",
                            e.code, e.message
                        ),
                    });
                } else if let Some(pos) = self.abandoned.iter().position(|id| *id == e.request_id) {
                    self.abandoned.swap_remove(pos);
                }
            }
            ServerMessage::StreamData(d) => {
                let StreamPayload::SwapQuotes(q) = d.payload;
                if let Some(i) = self.open(d.id) {
                    let s = &mut self.streams[i];
                    let k = s.key;
                    if q.input_mint != k.input_mint
                        || q.output_mint != k.output_mint
                        || q.amount != k.amount
                    {
                        out.push(Effect::Warn {
                            key: Some(k),
                            what: format!(
                                "Titan sent stream {} an update for {} {} → {}; ignored",
                                d.id, q.amount, q.input_mint, q.output_mint
                            ),
                        });
                    } else {
                        s.state = State::Open {
                            id: d.id,
                            last: now,
                        };
                        s.backoff.reset();
                        self.updates += 1;
                        out.push(Effect::Publish(StreamQuote::new(k, d.seq, q, now)));
                    }
                }
            }
            ServerMessage::StreamEnd(end) => {
                if let Some(pos) = self.stopping.iter().position(|id| *id == end.id) {
                    self.stopping.swap_remove(pos);
                } else if let Some(i) = self.open(end.id) {
                    let delay = self.retry_later(i, now);
                    out.push(Effect::Warn {
                        key: Some(self.streams[i].key),
                        what: format!(
                            "Titan ended stream {} ({}: {}); asking again in {delay:?}",
                            end.id,
                            end.error_code.map_or("no code".into(), |c| c.to_string()),
                            end.error_message.as_deref().unwrap_or("no reason given"),
                        ),
                    });
                }
            }
        }
        self.fill(now, &mut out);
        out
    }

    /// A frame that carries no message (ping, pong, text, an unreadable binary frame): the
    /// connection is alive.
    pub(crate) fn on_activity(&mut self, now: Instant) {
        self.last_rx = now;
    }

    /// Timers: pings, the dead-connection check, `GetInfo`'s limit, silences, retries.
    pub(crate) fn on_tick(&mut self, now: Instant) -> Vec<Effect> {
        let mut out = Vec::new();
        if now.saturating_duration_since(self.last_rx) >= self.cfg.ping_interval * 3 {
            out.push(Effect::Dead("ping_timeout"));
            return out;
        }
        if now.saturating_duration_since(self.last_ping) >= self.cfg.ping_interval {
            self.last_ping = now;
            out.push(Effect::Ping);
        }
        if let Phase::AwaitingInfo { since, .. } = self.phase
            && now.saturating_duration_since(since) >= self.cfg.info_timeout
        {
            self.phase = Phase::Ready;
            out.push(Effect::Warn {
                key: None,
                what: format!(
                    "GetInfo unanswered after {:?}; streams open without it",
                    self.cfg.info_timeout
                ),
            });
        }
        for i in 0..self.streams.len() {
            let silent_since = match self.streams[i].state {
                State::Open { last, .. } => last,
                State::Subscribing { since, .. } => since,
                State::Idle { .. } => continue,
            };
            if now.saturating_duration_since(silent_since) >= self.cfg.silence {
                let old = self.streams[i].state;
                self.release(old, &mut out);
                out.push(Effect::Warn {
                    key: Some(self.streams[i].key),
                    what: format!(
                        "no update for {:?}; resubscribing",
                        now.saturating_duration_since(silent_since)
                    ),
                });
                self.subscribe(i, now, &mut out);
            }
        }
        self.fill(now, &mut out);
        out
    }

    /// When [`on_tick`](Self::on_tick) has something to do.
    pub(crate) fn next_deadline(&self) -> Instant {
        let mut d = (self.last_rx + self.cfg.ping_interval * 3)
            .min(self.last_ping + self.cfg.ping_interval);
        match self.phase {
            Phase::AwaitingInfo { since, .. } => d = d.min(since + self.cfg.info_timeout),
            Phase::Ready => {
                let room = self.active() < self.limit;
                for s in &self.streams {
                    match s.state {
                        State::Open { last, .. } => d = d.min(last + self.cfg.silence),
                        State::Subscribing { since, .. } => d = d.min(since + self.cfg.silence),
                        // Only when it could subscribe: otherwise a due retry would spin.
                        State::Idle { at: Some(at) } if room => d = d.min(at),
                        State::Idle { .. } => {}
                    }
                }
            }
        }
        d
    }

    fn subscribing(&self, request_id: u32) -> Option<usize> {
        self.streams.iter().position(
            |s| matches!(s.state, State::Subscribing { request_id: r, .. } if r == request_id),
        )
    }

    fn open(&self, id: u32) -> Option<usize> {
        self.streams
            .iter()
            .position(|s| matches!(s.state, State::Open { id: x, .. } if x == id))
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
