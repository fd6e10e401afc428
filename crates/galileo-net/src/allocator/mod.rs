//! `IpAllocator`: hands out [`IpLease`]s over the inventory's source IPs.
//!
//! The policy lives in the sans-IO [`core`]; this module is the thin shell around it: one mutex
//! and the [`Acquire`] future, which also times the waits only the clock can end (on the tokio
//! runtime polling it, with time enabled). The allocator spawns no task.

mod acquire;
mod budget;
pub(crate) mod core;
mod ready;
mod request;
mod snapshot;
mod waiters;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use galileo_resilience::Quota;
use tokio::time::Instant;

pub use acquire::Acquire;
pub(crate) use core::Grant;
use core::{Admission, Core, Resolved, Want};
pub use request::{BackendId, LeaseRequest, Target, TaskKind};
pub use snapshot::{Capacity, SlotSnapshot};

use crate::slot::CooldownPolicy;
use crate::{Inventory, IpLease, NetError, NetworkConfig, SourceIp};

/// State shared by the allocator handle, its leases and its pending acquires.
#[derive(Debug)]
pub(crate) struct Shared {
    core: Mutex<Core>,
    pub(crate) sources: Box<[SourceIp]>,
    by_ip: HashMap<IpAddr, u32>,
    backend_ids: HashMap<String, BackendId>,
    /// Candidates the inventory quarantined at start (for the inventory gauge).
    quarantined_at_start: usize,
    /// Bumped on every quarantine and restore (see [`IpAllocator::quarantine_changes`]).
    quarantine_changes: tokio::sync::watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        // The core's methods do not panic midway on valid input; if one ever did, its state is
        // still a set of counters and indexes the next call repairs via `sync`, so carry on
        // rather than poison every lease.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Unlocks, then wakes the waiters the core served (or whose timers moved): never wake a
    /// task while holding the lock it will take.
    pub(crate) fn finish(&self, core: MutexGuard<'_, Core>, wake: Vec<Waker>) {
        drop(core);
        for w in wake {
            w.wake();
        }
    }
}

/// Hands out leases on source IPs: spreads load, paces per (IP, backend), rests IPs that are
/// rate-limited or failing, and queues requests by task kind when nothing is eligible.
///
/// Cloning is cheap and shares the allocator.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), galileo_net::NetError> {
/// use galileo_net::{Inventory, IpAllocator, Outcome, SourceIp, TaskKind};
///
/// let inventory = Inventory::from_sources(vec![
///     SourceIp::new("127.0.0.2".parse().unwrap()),
///     SourceIp::new("127.0.0.3".parse().unwrap()),
/// ])?;
/// let allocator = IpAllocator::builder(&inventory).build();
///
/// let lease = allocator.acquire(TaskKind::Quote, 2).await?; // a buy + sell round trip
/// // ... make the requests from lease.ip() ...
/// lease.report(Outcome::Success);
/// lease.report(Outcome::RateLimited { retry_after: None }); // that IP now rests 500 ms
/// drop(lease); // released
///
/// let other = allocator.try_acquire(TaskKind::Quote, 1)?;
/// assert_eq!(other.ip().to_string(), "127.0.0.3");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IpAllocator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for IpAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut backends: Vec<&String> = self.shared.backend_ids.keys().collect();
        backends.sort();
        f.debug_struct("IpAllocator")
            .field("slots", &self.shared.sources.len())
            .field("backends", &backends)
            .finish_non_exhaustive()
    }
}

/// Builds an [`IpAllocator`]; see [`IpAllocator::builder`].
#[derive(Clone, Debug)]
pub struct AllocatorBuilder {
    sources: Vec<SourceIp>,
    quarantined: usize,
    ceiling: Option<NonZeroU32>,
    policy: CooldownPolicy,
    backends: Vec<(String, Option<Quota>)>,
}

impl AllocatorBuilder {
    /// At most `limit` requests in flight per IP (`None`: unlimited, the default).
    pub fn per_ip_inflight_limit(&mut self, limit: Option<NonZeroU32>) -> &mut Self {
        self.ceiling = limit;
        self
    }

    /// How IPs rest after failures.
    pub fn cooldown(&mut self, policy: CooldownPolicy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// Registers a backend, optionally paced to `per_ip_rate` from each IP; returns its id.
    /// Registering a name twice updates its rate and returns the same id.
    pub fn backend(&mut self, name: impl Into<String>, per_ip_rate: Option<Quota>) -> BackendId {
        let name = name.into();
        if let Some(i) = self.backends.iter().position(|(n, _)| *n == name) {
            self.backends[i].1 = per_ip_rate;
            return BackendId(i as u16);
        }
        assert!(
            self.backends.len() < usize::from(u16::MAX),
            "too many backends"
        );
        self.backends.push((name, per_ip_rate));
        BackendId((self.backends.len() - 1) as u16)
    }

    /// The allocator.
    pub fn build(&self) -> IpAllocator {
        let ips: Vec<IpAddr> = self.sources.iter().map(SourceIp::ip).collect();
        let core = Core::new(
            &ips,
            self.ceiling.map(NonZeroU32::get),
            self.policy,
            self.backends.clone(),
            Instant::now(),
        );
        crate::metrics::inventory(self.sources.len(), self.quarantined);
        IpAllocator {
            shared: Arc::new(Shared {
                core: Mutex::new(core),
                by_ip: ips
                    .iter()
                    .enumerate()
                    .map(|(i, ip)| (*ip, i as u32))
                    .collect(),
                sources: self.sources.clone().into_boxed_slice(),
                backend_ids: self
                    .backends
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| (n.clone(), BackendId(i as u16)))
                    .collect(),
                quarantined_at_start: self.quarantined,
                quarantine_changes: tokio::sync::watch::Sender::new(0),
            }),
        }
    }
}

impl IpAllocator {
    /// A builder over the inventory's sources, with default policy and no backends.
    pub fn builder(inventory: &Inventory) -> AllocatorBuilder {
        AllocatorBuilder {
            sources: inventory.sources().to_vec(),
            quarantined: inventory.quarantined().len(),
            ceiling: None,
            policy: CooldownPolicy::default(),
            backends: Vec::new(),
        }
    }

    /// The allocator `[network]` describes, with every `[network.backends.*]` registered
    /// (look their ids up with [`backend`](Self::backend)).
    pub fn from_config(cfg: &NetworkConfig, inventory: &Inventory) -> Result<Self, NetError> {
        cfg.validate()?;
        let mut b = Self::builder(inventory);
        b.per_ip_inflight_limit(cfg.per_ip_inflight_limit)
            .cooldown(cfg.cooldown_policy());
        for (name, backend) in &cfg.backends {
            b.backend(name.clone(), backend.per_ip_rate);
        }
        Ok(b.build())
    }

    /// A lease for `cost` requests of kind `kind` on the best eligible IP; waits when none is.
    pub fn acquire(&self, kind: TaskKind, cost: u32) -> Acquire<'_> {
        self.acquire_with(LeaseRequest::new(kind).cost(cost))
    }

    /// A lease on exactly `ip`; waits for it to be eligible. Fails if `ip` is unknown or
    /// quarantined.
    pub fn acquire_specific(&self, ip: IpAddr, kind: TaskKind, cost: u32) -> Acquire<'_> {
        self.acquire_with(LeaseRequest::new(kind).cost(cost).specific(ip))
    }

    /// A lease on the IP `key` sticks to (e.g. a lander endpoint's URL): the same key gets the
    /// same IP while it is healthy.
    pub fn acquire_sticky(
        &self,
        key: &(impl Hash + ?Sized),
        kind: TaskKind,
        cost: u32,
    ) -> Acquire<'_> {
        self.acquire_with(LeaseRequest::new(kind).cost(cost).sticky(key))
    }

    /// A lease on any eligible IP but `ip`.
    pub fn acquire_excluding(&self, ip: IpAddr, kind: TaskKind, cost: u32) -> Acquire<'_> {
        self.acquire_with(LeaseRequest::new(kind).cost(cost).excluding(ip))
    }

    /// A long-lived lease (a WebSocket) on the healthy IP holding the fewest.
    pub fn acquire_long_lived(&self, kind: TaskKind) -> Acquire<'_> {
        self.acquire_with(LeaseRequest::new(kind).cost(0).long_lived())
    }

    /// A lease as `request` describes.
    pub fn acquire_with(&self, request: LeaseRequest) -> Acquire<'_> {
        Acquire::new(&self.shared, self.resolve(&request))
    }

    /// A lease now, or [`NetError::WouldBlock`] with when to look again.
    pub fn try_acquire(&self, kind: TaskKind, cost: u32) -> Result<IpLease, NetError> {
        self.try_acquire_with(LeaseRequest::new(kind).cost(cost))
    }

    /// [`try_acquire`](Self::try_acquire) for a full request.
    pub fn try_acquire_with(&self, request: LeaseRequest) -> Result<IpLease, NetError> {
        let want = self.resolve(&request)?;
        let now = Instant::now();
        let mut wake = Vec::new();
        let mut core = self.shared.lock();
        let r = match core.admit(&want, Waker::noop(), now, &mut wake) {
            Admission::Granted(grant) => Ok(grant),
            Admission::Refused(r) => Err(r.into()),
            Admission::Queued(id) => {
                // Not served in its turn: leave the queue, and say when the clock may help (its
                // own deadline, or, when it waits behind others, the earliest of theirs).
                let retry_at = core
                    .waiters
                    .deadline(id)
                    .or_else(|| core.waiters.earliest_deadline());
                core.cancel(id, &mut wake, || now);
                Err(NetError::WouldBlock { retry_at })
            }
        };
        self.shared.finish(core, wake);
        r.map(|grant| IpLease::new(self.shared.clone(), grant))
    }

    fn resolve(&self, r: &LeaseRequest) -> Result<Want, NetError> {
        if let Some(BackendId(b)) = r.backend
            && usize::from(b) >= self.shared.backend_ids.len()
        {
            return Err(NetError::UnknownBackend(b));
        }
        let slot_of = |ip: &IpAddr| self.shared.by_ip.get(ip).copied();
        let target = match r.target {
            Target::Any => Resolved::Any,
            Target::Excluding(ip) => slot_of(&ip).map_or(Resolved::Any, Resolved::Excluding),
            Target::Specific(ip) => {
                Resolved::Specific(slot_of(&ip).ok_or(NetError::UnknownIp(ip))?)
            }
            Target::Sticky(key) => Resolved::Sticky(key),
        };
        Ok(Want {
            kind: r.kind,
            cost: r.cost,
            backend: r.backend.map(|b| b.0),
            target,
            mode: r.mode,
        })
    }

    /// The id of a registered backend.
    pub fn backend(&self, name: &str) -> Option<BackendId> {
        self.shared.backend_ids.get(name).copied()
    }

    /// Sets or clears a backend's per-IP rate at run time (e.g. a learned limit). Waiters are
    /// re-examined at once.
    pub fn set_backend_rate(
        &self,
        backend: BackendId,
        per_ip_rate: Option<Quota>,
    ) -> Result<(), NetError> {
        if usize::from(backend.0) >= self.shared.backend_ids.len() {
            return Err(NetError::UnknownBackend(backend.0));
        }
        let mut wake = Vec::new();
        let mut core = self.shared.lock();
        core.set_backend_rate(backend.0, per_ip_rate, Instant::now(), &mut wake);
        self.shared.finish(core, wake);
        Ok(())
    }

    /// Takes `ip` out of service: no new leases (pending ones for it fail), running ones go on.
    pub fn quarantine(&self, ip: IpAddr, reason: impl Into<String>) -> Result<(), NetError> {
        let reason = reason.into();
        tracing::warn!(local_ip = %ip, %reason, "source IP quarantined");
        self.set_quarantine(ip, Some(reason))
    }

    /// Puts a quarantined `ip` back in service.
    pub fn restore(&self, ip: IpAddr) -> Result<(), NetError> {
        tracing::info!(local_ip = %ip, "source IP restored");
        self.set_quarantine(ip, None)
    }

    fn set_quarantine(&self, ip: IpAddr, reason: Option<String>) -> Result<(), NetError> {
        let slot = *self.shared.by_ip.get(&ip).ok_or(NetError::UnknownIp(ip))?;
        let mut wake = Vec::new();
        let mut core = self.shared.lock();
        core.set_quarantine(slot, reason, Instant::now(), &mut wake);
        let quarantined = core
            .pool
            .slots
            .iter()
            .filter(|s| s.quarantine_reason().is_some())
            .count();
        self.shared.finish(core, wake);
        crate::metrics::inventory(
            self.shared.sources.len() - quarantined,
            self.shared.quarantined_at_start + quarantined,
        );
        self.shared
            .quarantine_changes
            .send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    /// A receiver that sees a change whenever an IP is quarantined or restored (its value is
    /// a counter; read [`snapshot`](Self::snapshot) for the states). For planners that spread
    /// long-lived work over the healthy IPs: wait on `changed()`, never poll.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), galileo_net::NetError> {
    /// use galileo_net::{Inventory, IpAllocator, SlotState, SourceIp};
    ///
    /// let ip = "127.0.0.2".parse().unwrap();
    /// let allocator = IpAllocator::builder(&Inventory::from_sources(vec![SourceIp::new(ip)])?).build();
    /// let mut changes = allocator.quarantine_changes();
    /// allocator.quarantine(ip, "maintenance")?;
    /// changes.changed().await.unwrap();
    /// assert_eq!(allocator.snapshot()[0].state, SlotState::Quarantined);
    /// # Ok(()) }
    /// ```
    pub fn quarantine_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.quarantine_changes.subscribe()
    }

    /// Stops handing out leases: pending and future acquires fail with [`NetError::Closed`];
    /// leases already out keep working until dropped.
    pub fn close(&self) {
        let mut wake = Vec::new();
        let mut core = self.shared.lock();
        core.close(&mut wake);
        self.shared.finish(core, wake);
    }

    /// The sources, in slot order.
    pub fn sources(&self) -> &[SourceIp] {
        &self.shared.sources
    }

    /// The number of source IPs.
    pub fn len(&self) -> usize {
        self.shared.sources.len()
    }

    /// Always false: an allocator has at least one source (the OS default if nothing else).
    pub fn is_empty(&self) -> bool {
        self.shared.sources.is_empty()
    }

    /// Acquires waiting right now.
    pub fn waiting(&self) -> usize {
        self.shared.lock().waiters.len()
    }

    /// The state of every slot, in slot order.
    pub fn snapshot(&self) -> Vec<SlotSnapshot> {
        let now = Instant::now();
        let core = self.shared.lock();
        core.pool
            .slots
            .iter()
            .map(|s| SlotSnapshot::of(s, now))
            .collect()
    }

    /// Totals over the slots: how many serve, rest, are quarantined, and the in-flight room.
    pub fn capacity(&self) -> Capacity {
        let now = Instant::now();
        let core = self.shared.lock();
        Capacity::of(&core.pool.slots, now)
    }
}
