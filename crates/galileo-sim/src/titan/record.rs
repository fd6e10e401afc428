//! What the service remembers for assertions, bounded: per connection its peer, sub-protocol,
//! JWT `sub` and every decoded client message, the open streams, and the updates sent.
//! [`TitanHandle`] reads it and steers the live sessions.

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{broadcast, watch};

use super::codec::Compression;
use super::config::RecordLimits;
use super::wire::ClientRequest;

/// A client message as the server read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedMessage {
    /// A request that decoded.
    Request(ClientRequest),
    /// A binary frame that did not decompress or decode.
    Malformed {
        /// The request id, when it could be read.
        request_id: Option<u32>,
        /// Why it was refused (the `Error` message sent back).
        error: String,
    },
}

/// One WebSocket connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// Unique within the service, in upgrade order (from 0).
    pub id: u64,
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The sub-protocol echoed.
    pub protocol: &'static str,
    /// Its compression.
    pub compression: Compression,
    /// The token's `sub`.
    pub sub: String,
    /// The token's `jti`.
    pub jti: Option<String>,
    /// Client messages, oldest first (the newest `messages_per_connection`).
    pub messages: Vec<RecordedMessage>,
    /// Client messages forgotten for the bound.
    pub messages_dropped: u64,
    /// Streams open now.
    pub open_streams: usize,
    /// Streams opened in all.
    pub streams_opened: u64,
    /// Whether the session has ended.
    pub closed: bool,
}

impl ConnectionRecord {
    /// The decoded requests, oldest first.
    pub fn requests(&self) -> impl Iterator<Item = &ClientRequest> {
        self.messages.iter().filter_map(|m| match m {
            RecordedMessage::Request(r) => Some(r),
            RecordedMessage::Malformed { .. } => None,
        })
    }
}

/// One `StreamData` sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRecord {
    /// The connection.
    pub connection: u64,
    /// The stream id.
    pub stream: u32,
    /// Its `seq`.
    pub seq: u32,
    /// The market's tick every route of it was priced at.
    pub tick: u64,
    /// Its `contextSlot`.
    pub slot: u64,
    /// `(provider id, outAmount)` of each route sent, best first.
    pub routes: Vec<(String, u64)>,
}

/// A snapshot of the record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TitanRecord {
    /// Connections, oldest first (the newest `record.connections`).
    pub connections: Vec<ConnectionRecord>,
    /// Updates sent, oldest first (the newest `record.updates`).
    pub updates: Vec<UpdateRecord>,
}

impl TitanRecord {
    /// The connection `id`.
    pub fn connection(&self, id: u64) -> Option<&ConnectionRecord> {
        self.connections.iter().find(|c| c.id == id)
    }

    /// The connection from `peer` (address and port), the newest if several.
    pub fn by_peer(&self, peer: SocketAddr) -> Option<&ConnectionRecord> {
        self.connections.iter().rev().find(|c| c.peer == peer)
    }

    /// The connections from `ip`.
    pub fn from_ip(&self, ip: IpAddr) -> impl Iterator<Item = &ConnectionRecord> {
        self.connections.iter().filter(move |c| c.peer.ip() == ip)
    }

    /// Streams open on every connection.
    pub fn open_streams(&self) -> usize {
        self.connections.iter().map(|c| c.open_streams).sum()
    }

    /// Connections whose session is still running.
    pub fn open_connections(&self) -> usize {
        self.connections.iter().filter(|c| !c.closed).count()
    }

    /// The update `seq` of `stream` on `connection`.
    pub fn update(&self, connection: u64, stream: u32, seq: u32) -> Option<&UpdateRecord> {
        self.updates
            .iter()
            .find(|u| u.connection == connection && u.stream == stream && u.seq == seq)
    }
}

/// What a [`TitanHandle`] tells every live session.
#[derive(Clone, Debug)]
pub(crate) enum Command {
    /// End every stream with `StreamEnd{errorCode, errorMessage}`.
    EndStreams { code: u32, message: String },
    /// Close with a close frame (1001 going away).
    Close,
    /// Drop the TCP connection without a close frame.
    Drop,
}

#[derive(Debug, Default)]
struct State {
    connections: VecDeque<ConnectionRecord>,
    updates: VecDeque<UpdateRecord>,
}

/// The record, the command channel and the connected `jti`s, shared by the service, its
/// sessions and every handle.
#[derive(Debug)]
pub(crate) struct Hub {
    limits: RecordLimits,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    pub(crate) commands: broadcast::Sender<Command>,
    jtis: Mutex<HashSet<String>>,
    next_connection: AtomicU64,
}

impl Hub {
    pub(crate) fn new(limits: RecordLimits) -> Self {
        Hub {
            limits,
            state: Mutex::new(State::default()),
            changes: watch::Sender::new(0),
            commands: broadcast::channel(64).0,
            jtis: Mutex::new(HashSet::new()),
            next_connection: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.lock());
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        out
    }

    /// Takes `jti` for one connection; `None` when another connection holds it.
    pub(crate) fn claim_jti(self: &Arc<Self>, jti: &str) -> Option<JtiClaim> {
        let mut set = self.jtis.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(jti.to_owned()).then(|| JtiClaim {
            hub: self.clone(),
            jti: jti.to_owned(),
        })
    }

    /// Records a new connection; returns its id.
    pub(crate) fn connect(
        &self,
        peer: SocketAddr,
        compression: Compression,
        sub: String,
        jti: Option<String>,
    ) -> u64 {
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let cap = self.limits.connections;
        self.with(|s| {
            while s.connections.len() >= cap {
                s.connections.pop_front();
            }
            s.connections.push_back(ConnectionRecord {
                id,
                peer,
                protocol: compression.token(),
                compression,
                sub,
                jti,
                messages: Vec::new(),
                messages_dropped: 0,
                open_streams: 0,
                streams_opened: 0,
                closed: false,
            });
        });
        id
    }

    fn conn(s: &mut State, id: u64) -> Option<&mut ConnectionRecord> {
        s.connections.iter_mut().rev().find(|c| c.id == id)
    }

    pub(crate) fn message(&self, conn: u64, msg: RecordedMessage) {
        let cap = self.limits.messages_per_connection;
        self.with(|s| {
            if let Some(c) = Self::conn(s, conn) {
                if c.messages.len() >= cap {
                    let excess = c.messages.len() + 1 - cap;
                    c.messages.drain(..excess);
                    c.messages_dropped += excess as u64;
                }
                c.messages.push(msg);
            }
        });
    }

    pub(crate) fn streams(&self, conn: u64, open: usize, opened: bool) {
        self.with(|s| {
            if let Some(c) = Self::conn(s, conn) {
                c.open_streams = open;
                c.streams_opened += u64::from(opened);
            }
        });
    }

    pub(crate) fn update(&self, update: UpdateRecord) {
        let cap = self.limits.updates;
        self.with(|s| {
            while s.updates.len() >= cap {
                s.updates.pop_front();
            }
            s.updates.push_back(update);
        });
    }

    pub(crate) fn closed(&self, conn: u64) {
        self.with(|s| {
            if let Some(c) = Self::conn(s, conn) {
                c.closed = true;
                c.open_streams = 0;
            }
        });
    }

    fn snapshot(&self) -> TitanRecord {
        let s = self.lock();
        TitanRecord {
            connections: s.connections.iter().cloned().collect(),
            updates: s.updates.iter().cloned().collect(),
        }
    }
}

/// A connection's hold on its token's `jti`, released when the session ends.
#[derive(Debug)]
pub(crate) struct JtiClaim {
    hub: Arc<Hub>,
    jti: String,
}

impl Drop for JtiClaim {
    fn drop(&mut self) {
        self.hub
            .jtis
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.jti);
    }
}

/// Reads the record and steers the live sessions of one Titan service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TitanHandle {
    pub(crate) hub: Arc<Hub>,
}

impl TitanHandle {
    /// A snapshot of the record.
    pub fn record(&self) -> TitanRecord {
        self.hub.snapshot()
    }

    /// Waits until `pred` holds for the record, and returns that record. Wakes on every
    /// change, never by polling.
    pub async fn wait_until(&self, mut pred: impl FnMut(&TitanRecord) -> bool) -> TitanRecord {
        let mut changes = self.hub.changes.subscribe();
        loop {
            let snap = self.record();
            if pred(&snap) {
                return snap;
            }
            // The sender lives in the hub we hold: `changed` cannot fail.
            let _ = changes.changed().await;
        }
    }

    /// Ends every open stream of every connection with
    /// `StreamEnd{id, errorCode: code, errorMessage: message}`. Codes above `i32::MAX` are
    /// clamped to it (the reference client decodes them as `i32`).
    pub fn end_streams(&self, code: u32, message: impl Into<String>) {
        let _ = self.hub.commands.send(Command::EndStreams {
            code: code.min(i32::MAX as u32),
            message: message.into(),
        });
    }

    /// Closes every connection with a close frame (1001, going away).
    pub fn close_all(&self) {
        let _ = self.hub.commands.send(Command::Close);
    }

    /// Drops every connection's TCP stream without a close frame.
    pub fn drop_all(&self) {
        let _ = self.hub.commands.send(Command::Drop);
    }
}
