//! What a caller asks the allocator for.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;

use crate::LeaseMode;

/// What a lease is for. Waiters are served in this order (then first come, first served), so
/// landing a transaction never waits behind quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskKind {
    /// Submitting a transaction (RPC, staked RPC, Jito).
    Land,
    /// Fetching swap instructions for an opportunity already found.
    SwapInstructions,
    /// Opening a long-lived quote stream.
    StreamConnect,
    /// Quoting.
    Quote,
    /// Anything that can wait: health checks, metadata refresh.
    Background,
}

impl TaskKind {
    /// The metric and span label (`kind`).
    pub fn label(self) -> &'static str {
        match self {
            TaskKind::Land => "land",
            TaskKind::SwapInstructions => "swap_instructions",
            TaskKind::StreamConnect => "stream_connect",
            TaskKind::Quote => "quote",
            TaskKind::Background => "background",
        }
    }
}

/// A backend registered with the allocator (see
/// [`AllocatorBuilder::backend`](crate::AllocatorBuilder::backend)); leases for it draw from its
/// per-IP rate budget, if it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendId(pub(crate) u16);

/// Which IPs may serve a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Any eligible IP: the least loaded, then the least recently used (or, for a rate-limited
    /// backend, the one with the most budget left).
    Any,
    /// Any eligible IP but this one (e.g. to retry elsewhere).
    Excluding(IpAddr),
    /// Exactly this IP; waits for it.
    Specific(IpAddr),
    /// The IP this key maps to. A key keeps its IP while that IP is healthy (not cooling, not
    /// quarantined); otherwise it moves, by rendezvous hashing, to the healthy IP that ranks
    /// highest for it, and stays there.
    Sticky(u64),
}

/// A full lease request. The `acquire*` shorthands on [`IpAllocator`](crate::IpAllocator)
/// build the common ones.
///
/// ```
/// use galileo_net::{LeaseRequest, TaskKind};
/// let buy_and_sell = LeaseRequest::new(TaskKind::Quote).cost(2);
/// let submit = LeaseRequest::new(TaskKind::Land).sticky(&"https://mainnet.block-engine.jito.wtf");
/// # let _ = (buy_and_sell, submit);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseRequest {
    pub(crate) kind: TaskKind,
    pub(crate) cost: u32,
    pub(crate) backend: Option<BackendId>,
    pub(crate) target: Target,
    pub(crate) mode: LeaseMode,
}

impl LeaseRequest {
    /// An ephemeral lease for one request on any IP.
    pub fn new(kind: TaskKind) -> Self {
        Self {
            kind,
            cost: 1,
            backend: None,
            target: Target::Any,
            mode: LeaseMode::Ephemeral,
        }
    }

    /// The number of requests the lease will make (a buy + sell round trip costs 2). Drawn
    /// from the backend's per-IP budget at once, when it has one.
    #[must_use]
    pub fn cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }

    /// The backend the requests go to.
    #[must_use]
    pub fn backend(mut self, backend: BackendId) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Which IPs may serve.
    #[must_use]
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Exactly this IP.
    #[must_use]
    pub fn specific(self, ip: IpAddr) -> Self {
        self.target(Target::Specific(ip))
    }

    /// Any IP but this one.
    #[must_use]
    pub fn excluding(self, ip: IpAddr) -> Self {
        self.target(Target::Excluding(ip))
    }

    /// The IP `key` sticks to.
    #[must_use]
    pub fn sticky(self, key: &(impl Hash + ?Sized)) -> Self {
        self.target(Target::Sticky(sticky_hash(key)))
    }

    /// A long-lived lease (a WebSocket): it shares its IP with requests and does not count
    /// against the IP's in-flight limit. Spread over the IPs with the fewest long-lived leases.
    #[must_use]
    pub fn long_lived(mut self) -> Self {
        self.mode = LeaseMode::LongLived;
        self
    }

    /// The task kind.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }
}

/// A stable 64-bit hash of a sticky key (SipHash with fixed keys: the same key maps the same
/// way in every process of the same build).
pub(crate) fn sticky_hash(key: &(impl Hash + ?Sized)) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The rendezvous score of (key, ip): the highest-scoring healthy IP wins.
pub(crate) fn rendezvous(key: u64, ip: IpAddr) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    ip.hash(&mut h);
    h.finish()
}
