//! `IpLease`: the unit of IP ownership, from grant to release.
//!
//! The life of a lease:
//! 1. **Granted** by the allocator (`acquire*`, see `allocator::acquire`): the slot's in-flight
//!    count (or long-lived count) goes up and the backend's per-IP budget is charged `cost`.
//! 2. **Used**: every request made under it leaves from [`IpLease::ip`] (the HTTP client and
//!    stream constructors bind to it) and is [`report`](IpLease::report)ed: successes decay the
//!    IP's cooldown streak and grow its adaptive limit; 429s, timeouts and connect failures make
//!    it rest (exponentially, honouring `Retry-After`) and 429 bursts shrink its limit. A failure
//!    while the IP already rests belongs to the same burst: it may lengthen the rest, no more.
//! 3. **Released** when dropped, including when the future holding it is cancelled: the
//!    in-flight count goes down and the freed capacity is handed straight to the next waiter in
//!    priority order. A lease cannot be released twice: release is its `Drop`.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::time::Instant;

use crate::allocator::{Grant, Shared};
use crate::{LeaseMode, Outcome, SourceIp, TaskKind};

/// Exclusive use of one unit of a source IP's capacity, released on drop.
#[must_use = "a lease is released as soon as it is dropped"]
pub struct IpLease {
    shared: Arc<Shared>,
    grant: Grant,
}

impl IpLease {
    pub(crate) fn new(shared: Arc<Shared>, grant: Grant) -> Self {
        Self { shared, grant }
    }

    /// The source IP (`0.0.0.0` for the OS default source).
    pub fn ip(&self) -> IpAddr {
        self.source().ip()
    }

    /// The source, with how to bind to it.
    pub fn source(&self) -> &SourceIp {
        &self.shared.sources[self.grant.slot as usize]
    }

    /// What the lease is for.
    pub fn kind(&self) -> TaskKind {
        self.grant.kind
    }

    /// Ephemeral or long-lived.
    pub fn mode(&self) -> LeaseMode {
        self.grant.mode
    }

    /// Tells the allocator how a request made under this lease went. Call it once per request
    /// ([`HttpClient::send`](crate::HttpClient::send) does).
    pub fn report(&self, outcome: Outcome) {
        let now = Instant::now();
        let mut wake = Vec::new();
        let mut core = self.shared.lock();
        core.report(&self.grant, &outcome, now, &mut wake);
        self.shared.finish(core, wake);
    }
}

impl Drop for IpLease {
    fn drop(&mut self) {
        let mut wake = Vec::new();
        let mut core = self.shared.lock();
        core.release(self.grant, &mut wake, Instant::now);
        self.shared.finish(core, wake);
    }
}

impl fmt::Debug for IpLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpLease")
            .field("ip", &self.ip())
            .field("kind", &self.grant.kind)
            .field("mode", &self.grant.mode)
            .finish()
    }
}
