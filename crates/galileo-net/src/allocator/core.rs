//! The allocator's state machine: slots, the indexes over them, and the waiters. Sans-IO: it
//! never reads a clock (every call that depends on time takes `now`), never sleeps and never
//! wakes anything itself; it returns the wakers to wake and the next instant it needs to be
//! called at.
//!
//! Invariants, kept by [`Pool::sync`] after every change to a slot:
//! - a slot is in the ready index (and in every backend's budget heap) exactly when it is
//!   eligible: not quarantined, not resting, below its effective in-flight limit;
//! - a slot that rests has an entry in `cooling` at or before the end of its rest.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;
use std::task::Waker;

use galileo_resilience::{Denied, Quota};
use tokio::time::Instant;

use super::budget::Budget;
use super::ready::ReadyIndex;
use super::request::{TaskKind, rendezvous};
use super::waiters::{WaitState, WaiterId, Waiters};
use crate::metrics::SlotMetrics;
use crate::slot::{CooldownPolicy, LeaseMode, Slot};
use crate::{NetError, Outcome};

/// A request with its target resolved to slot indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Want {
    pub(crate) kind: TaskKind,
    pub(crate) cost: u32,
    pub(crate) backend: Option<u16>,
    pub(crate) target: Resolved,
    pub(crate) mode: LeaseMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    Any,
    Excluding(u32),
    Specific(u32),
    Sticky(u64),
}

impl Want {
    /// Waiters for "any eligible IP" of the same backend compete for the same thing, so the
    /// first of them that cannot be served blocks the rest of its group for one service pass
    /// (which also keeps the queue first come, first served). Waiters for a particular IP, and
    /// long-lived ones, are tried one by one.
    pub(crate) fn group(&self) -> Option<usize> {
        match (self.mode, self.target) {
            (LeaseMode::Ephemeral, Resolved::Any) => {
                Some(self.backend.map_or(0, |b| usize::from(b) + 1))
            }
            _ => None,
        }
    }
}

/// A lease as the core knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) slot: u32,
    pub(crate) mode: LeaseMode,
    pub(crate) kind: TaskKind,
}

/// Why a request is refused outright (it must not wait).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Closed,
    Quarantined {
        ip: IpAddr,
        reason: String,
    },
    ExceedsBurst {
        backend: String,
        cost: u32,
        burst: u32,
    },
}

/// Why a request cannot be served now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Blocked {
    /// Wait; `until` is when the clock alone may change that (a rest ending, budget refilling),
    /// `None` when only a release or a report can. `on_budget`: the backend's budget is what is
    /// missing.
    Wait {
        until: Option<Instant>,
        on_budget: bool,
    },
    Refused(Refusal),
}

const NO_WAIT: Blocked = Blocked::Wait {
    until: None,
    on_budget: false,
};

#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub(crate) struct Backend {
    pub(crate) name: String,
    pub(crate) budget: Option<Budget>,
}

/// Everything but the waiters.
#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub(crate) struct Pool {
    pub(crate) slots: Vec<Slot>,
    ready: ReadyIndex,
    pub(crate) backends: Vec<Backend>,
    cooling: BinaryHeap<Reverse<(Instant, u32)>>,
    sticky: HashMap<u64, u32>,
    pub(crate) policy: CooldownPolicy,
    metrics: Vec<SlotMetrics>,
    closed: bool,
}

const STICKY_CAP: usize = 4096;

#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub(crate) struct Core {
    pub(crate) pool: Pool,
    pub(crate) waiters: Waiters,
    scratch: Scratch,
}

/// Buffers reused by every service pass.
#[derive(Debug, Default)]
#[cfg_attr(test, derive(Clone))]
struct Scratch {
    group_blocked: Vec<bool>,
    holds: Vec<Hold>,
    done: Vec<(WaiterId, WaitState)>,
    deadlines: Vec<(WaiterId, Instant)>,
    stale: Vec<WaiterId>,
}

/// Which of a backend's IPs later waiters must leave alone during a pass, because an earlier
/// waiter is short of their budget and must be able to accumulate it.
#[derive(Clone, Debug, Default)]
enum Hold {
    #[default]
    Free,
    /// Targeted waiters are short on these IPs: later waiters keep off them.
    Slots(Vec<u32>),
    /// An "any IP" waiter is short: the best IP lacks the budget, so every IP does.
    All,
}

impl Hold {
    fn protect(&mut self, slot: u32) {
        match self {
            Hold::Free => *self = Hold::Slots(vec![slot]),
            Hold::Slots(v) => v.push(slot),
            Hold::All => {}
        }
    }
}

/// What became of a request that arrived.
#[derive(Debug)]
pub(crate) enum Admission {
    Granted(Grant),
    Refused(Refusal),
    /// Queued; its future polls [`Waiters::poll`] and sleeps to [`Waiters::deadline`].
    Queued(WaiterId),
}

impl Core {
    pub(crate) fn new(
        ips: &[IpAddr],
        ceiling: Option<u32>,
        policy: CooldownPolicy,
        backends: Vec<(String, Option<Quota>)>,
        now: Instant,
    ) -> Self {
        let n = ips.len();
        let slots: Vec<Slot> = ips.iter().map(|ip| Slot::new(*ip, ceiling, now)).collect();
        let metrics = ips
            .iter()
            .map(|ip| SlotMetrics::new(&ip.to_string()))
            .collect();
        let backends = backends
            .into_iter()
            .map(|(name, q)| Backend {
                name,
                budget: q.map(|q| Budget::new(q, n)),
            })
            .collect();
        let mut pool = Pool {
            slots,
            ready: ReadyIndex::new(n),
            backends,
            cooling: BinaryHeap::new(),
            sticky: HashMap::new(),
            policy,
            metrics,
            closed: false,
        };
        for s in 0..n as u32 {
            pool.sync(s);
        }
        Self {
            pool,
            waiters: Waiters::default(),
            scratch: Scratch::default(),
        }
    }

    /// A request arrives. With nobody waiting it is served at once if it can be; otherwise it
    /// joins the queue *before* the service pass, so it is served in its rightful order (task
    /// kind, then arrival) and can never overtake a waiter that ranks ahead of it.
    pub(crate) fn admit(
        &mut self,
        want: &Want,
        waker: &Waker,
        now: Instant,
        wake: &mut Vec<Waker>,
    ) -> Admission {
        if self.waiters.is_empty() {
            self.pool.advance(now);
            match self.pool.pick(want, now, &[]) {
                Ok(slot) => return Admission::Granted(self.pool.grant(slot, want, now)),
                Err(Blocked::Refused(r)) => return Admission::Refused(r),
                Err(Blocked::Wait { .. }) => {}
            }
        }
        let id = self.waiters.push(*want, waker.clone());
        self.service(now, wake);
        match self.waiters.poll(id, waker) {
            Some(WaitState::Granted(g)) => Admission::Granted(g),
            Some(WaitState::Failed(r)) => Admission::Refused(r),
            Some(WaitState::Waiting(_)) => unreachable!("poll returns final states only"),
            None => Admission::Queued(id),
        }
    }

    /// A lease ends.
    pub(crate) fn release(
        &mut self,
        grant: Grant,
        wake: &mut Vec<Waker>,
        now: impl FnOnce() -> Instant,
    ) {
        self.pool.release(grant);
        if !self.waiters.is_empty() {
            self.service(now(), wake);
        }
    }

    /// A lease reports the outcome of one request.
    pub(crate) fn report(
        &mut self,
        grant: &Grant,
        outcome: &Outcome,
        now: Instant,
        wake: &mut Vec<Waker>,
    ) {
        if self.pool.report(grant, outcome, now) && !self.waiters.is_empty() {
            self.service(now, wake);
        }
    }

    /// A waiter's future went away.
    pub(crate) fn cancel(
        &mut self,
        id: WaiterId,
        wake: &mut Vec<Waker>,
        now: impl FnOnce() -> Instant,
    ) {
        if let Some(grant) = self.waiters.cancel(id) {
            self.pool.release(grant);
        }
        if !self.waiters.is_empty() {
            // The cancelled waiter may have headed a blocked line, or held its timer.
            self.service(now(), wake);
        }
    }

    /// A waiter's timer fired.
    pub(crate) fn on_timer(&mut self, now: Instant, wake: &mut Vec<Waker>) {
        self.service(now, wake);
    }

    pub(crate) fn close(&mut self, wake: &mut Vec<Waker>) {
        self.pool.closed = true;
        let ids: Vec<WaiterId> = self.waiters.queued().map(|(id, _)| id).collect();
        for id in ids {
            wake.extend(
                self.waiters
                    .complete(id, WaitState::Failed(Refusal::Closed)),
            );
        }
    }

    pub(crate) fn set_quarantine(
        &mut self,
        slot: u32,
        reason: Option<String>,
        now: Instant,
        wake: &mut Vec<Waker>,
    ) {
        self.pool.slots[slot as usize].set_quarantine(reason);
        self.pool.sync(slot);
        self.service(now, wake);
    }

    pub(crate) fn set_backend_rate(
        &mut self,
        backend: u16,
        quota: Option<Quota>,
        now: Instant,
        wake: &mut Vec<Waker>,
    ) {
        let n = self.pool.slots.len();
        let b = &mut self.pool.backends[usize::from(backend)];
        match (quota, &mut b.budget) {
            (None, budget) => *budget = None,
            (Some(q), Some(budget)) => budget.set_quota(q),
            (Some(q), budget @ None) => {
                let mut fresh = Budget::new(q, n);
                for s in 0..n as u32 {
                    fresh.set_member(s, self.pool.slots[s as usize].is_eligible());
                }
                *budget = Some(fresh);
            }
        }
        self.service(now, wake);
    }

    /// The earliest waiter deadline: when the clock alone may let someone be served.
    #[cfg(test)]
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.waiters
            .queued()
            .filter_map(|(id, _)| self.waiters.deadline(id))
            .min()
    }

    /// Serves queued waiters in order (task kind, then arrival) while it can, and gives a
    /// deadline to each waiter that must time the wait of its line.
    ///
    /// Ordering rules, so that nobody is overtaken by someone ranking behind them:
    /// - "any IP" waiters of one backend form a line: once its first member cannot be served,
    ///   the rest of the line waits (first come, first served, whatever their cost);
    /// - a waiter short of a backend's *budget* holds that budget for itself: after an "any IP"
    ///   waiter, every later waiter that would spend the backend's budget waits; after a waiter
    ///   for one IP, later ones keep off that IP's budget (and "any IP" waiters go elsewhere).
    ///   So a stream of cheap requests cannot keep taking the cells an urgent one is waiting to
    ///   accumulate, and one IP short of budget does not stall the backend on the others.
    ///   Requests of cost 0 spend no budget and are never held.
    ///
    /// A grant late in a pass can change why an earlier waiter is blocked (from budget to room,
    /// say), which may free those held behind it, so passes repeat until one grants nothing.
    /// Then the first blocked waiter of each line, and every blocked targeted waiter, holds the
    /// instant the clock may unblock it (its IP's rest or budget for one IP; the earliest rest
    /// end or budget refill otherwise); every other waiter holds none, so no timer fires for a
    /// waiter that a pass would not move. A waiter whose deadline moved earlier is woken to
    /// re-arm its timer.
    fn service(&mut self, now: Instant, wake: &mut Vec<Waker>) {
        self.pool.advance(now);
        let rest_end = self.pool.next_rest_end();
        while !self.waiters.is_empty() && self.pass(now, rest_end, wake) {}
        let sc = &mut self.scratch;
        sc.stale.clear();
        sc.stale.extend(
            self.waiters
                .timed()
                .filter(|id| !sc.deadlines.iter().any(|(d, _)| d == id)),
        );
        for id in sc.stale.drain(..) {
            self.waiters.set_deadline(id, None);
        }
        for (id, deadline) in sc.deadlines.drain(..) {
            wake.extend(self.waiters.set_deadline(id, Some(deadline)));
        }
    }

    /// One pass over the queue; true if it completed anyone. Leaves the deadlines it computed
    /// in `scratch.deadlines`.
    fn pass(&mut self, now: Instant, rest_end: Option<Instant>, wake: &mut Vec<Waker>) -> bool {
        let sc = &mut self.scratch;
        let per_group = self.waiters.per_group();
        sc.group_blocked.clear();
        sc.group_blocked.resize(per_group.len(), false);
        sc.holds.clear();
        sc.holds.resize(self.pool.backends.len(), Hold::Free);
        sc.deadlines.clear();
        let mut open_groups = per_group.iter().filter(|n| **n > 0).count();
        let mut targeted_left = self.waiters.targeted();
        let block_group = |g: usize, blocked: &mut Vec<bool>, open: &mut usize| {
            if g < blocked.len() && !std::mem::replace(&mut blocked[g], true) && per_group[g] > 0 {
                *open -= 1;
            }
        };

        for (id, want) in self.waiters.queued() {
            if open_groups == 0 && targeted_left == 0 {
                break;
            }
            let group = want.group();
            if group.is_none() {
                targeted_left -= 1;
            }
            if group.is_some_and(|g| sc.group_blocked[g]) {
                continue;
            }
            // The budget this request would spend, if any, and the IP it is bound to, if any.
            let budget = want
                .backend
                .filter(|b| want.cost > 0 && self.pool.backends[usize::from(*b)].budget.is_some())
                .map(usize::from);
            let bound = self.pool.bound_slot(want);
            let avoid: &[u32] = match budget.map(|b| &sc.holds[b]) {
                None | Some(Hold::Free) => &[],
                Some(Hold::All) => continue,
                Some(Hold::Slots(held)) => match bound {
                    Some(s) if held.contains(&s) => continue,
                    Some(_) => &[],
                    None => held,
                },
            };
            match self.pool.pick(want, now, avoid) {
                Ok(slot) => {
                    let grant = self.pool.grant(slot, want, now);
                    sc.done.push((id, WaitState::Granted(grant)));
                }
                Err(Blocked::Wait { until, on_budget }) => {
                    if on_budget && let Some(b) = budget {
                        match bound {
                            Some(s) => sc.holds[b].protect(s),
                            None => {
                                sc.holds[b] = Hold::All;
                                block_group(b + 1, &mut sc.group_blocked, &mut open_groups);
                            }
                        }
                    }
                    if let Some(g) = group {
                        block_group(g, &mut sc.group_blocked, &mut open_groups);
                    }
                    // A waiter for one IP cares only about that IP's clock.
                    let deadline = match want.target {
                        Resolved::Specific(_) => until,
                        _ => earliest(until, rest_end),
                    };
                    if let Some(d) = deadline {
                        sc.deadlines.push((id, d));
                    }
                }
                Err(Blocked::Refused(r)) => sc.done.push((id, WaitState::Failed(r))),
            }
        }
        let completed = !sc.done.is_empty();
        for (id, state) in sc.done.drain(..) {
            wake.extend(self.waiters.complete(id, state));
        }
        completed
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Pool {
    pub(crate) fn backend_budget(&self, backend: Option<u16>) -> Option<&Budget> {
        backend.and_then(|b| self.backends[usize::from(b)].budget.as_ref())
    }

    /// The earliest instant a resting slot may wake (possibly a stale, earlier entry).
    fn next_rest_end(&self) -> Option<Instant> {
        self.cooling.peek().map(|Reverse((t, _))| *t)
    }

    /// The IP a request is bound to (a specific IP, or the one its sticky key maps to now).
    fn bound_slot(&mut self, want: &Want) -> Option<u32> {
        match want.target {
            Resolved::Specific(s) => Some(s),
            Resolved::Sticky(key) => Some(self.sticky_slot(key)),
            Resolved::Any | Resolved::Excluding(_) => None,
        }
    }

    /// Chooses the slot for `want`, or says why none. An unbound request keeps off the slots in
    /// `avoid` (whose budget earlier waiters hold; see `Core::pass`).
    pub(crate) fn pick(
        &mut self,
        want: &Want,
        now: Instant,
        avoid: &[u32],
    ) -> Result<u32, Blocked> {
        if self.closed {
            return Err(Blocked::Refused(Refusal::Closed));
        }
        match (want.mode, want.target) {
            (LeaseMode::Ephemeral, Resolved::Any) => self.pick_any(want, None, now, avoid),
            (LeaseMode::Ephemeral, Resolved::Excluding(x)) => {
                self.pick_any(want, Some(x), now, avoid)
            }
            (LeaseMode::LongLived, Resolved::Any) => self.pick_long_lived(want, None, now, avoid),
            (LeaseMode::LongLived, Resolved::Excluding(x)) => {
                self.pick_long_lived(want, Some(x), now, avoid)
            }
            (_, Resolved::Specific(s)) => self.pick_specific(want, s, now),
            (_, Resolved::Sticky(key)) => {
                let s = self.sticky_slot(key);
                self.pick_specific(want, s, now)
            }
        }
    }

    fn pick_any(
        &self,
        want: &Want,
        except: Option<u32>,
        now: Instant,
        avoid: &[u32],
    ) -> Result<u32, Blocked> {
        let Some(budget) = self.backend_budget(want.backend) else {
            return self.ready.first_except(except).ok_or(NO_WAIT);
        };
        let best = match (except, avoid) {
            (None, _) => budget.best_outside(avoid),
            (Some(x), []) => budget.best_outside(&[x]),
            (Some(x), _) => budget.best_outside(&[avoid, &[x]].concat()),
        };
        let slot = best.ok_or(NO_WAIT)?;
        self.budget_ready(want, budget, slot, now).map(|()| slot)
    }

    fn pick_specific(&self, want: &Want, slot: u32, now: Instant) -> Result<u32, Blocked> {
        let s = &self.slots[slot as usize];
        if let Some(reason) = s.quarantine_reason() {
            return Err(Blocked::Refused(Refusal::Quarantined {
                ip: s.ip(),
                reason: reason.to_owned(),
            }));
        }
        let room = match want.mode {
            LeaseMode::Ephemeral => s.is_eligible(),
            LeaseMode::LongLived => s.is_healthy(),
        };
        if !room {
            return Err(Blocked::Wait {
                until: s.cooldown_until(),
                on_budget: false,
            });
        }
        match self.backend_budget(want.backend) {
            Some(budget) => self.budget_ready(want, budget, slot, now).map(|()| slot),
            None => Ok(slot),
        }
    }

    /// Long-lived leases go to the healthy IP with the fewest of them, then the least loaded.
    fn pick_long_lived(
        &self,
        want: &Want,
        except: Option<u32>,
        now: Instant,
        avoid: &[u32],
    ) -> Result<u32, Blocked> {
        let budget = self.backend_budget(want.backend);
        let mut best: Option<(u32, u32, u32)> = None;
        let mut until: Option<Instant> = None;
        for (i, s) in self.slots.iter().enumerate() {
            let i = i as u32;
            if Some(i) == except || avoid.contains(&i) || !s.is_healthy() {
                continue;
            }
            if let Some(b) = budget {
                match self.budget_ready(want, b, i, now) {
                    Ok(()) => {}
                    Err(Blocked::Wait { until: u, .. }) => {
                        until = earliest(until, u);
                        continue;
                    }
                    Err(refused) => return Err(refused),
                }
            }
            let rank = (s.long_lived(), s.inflight(), i);
            if best.is_none_or(|b| rank < b) {
                best = Some(rank);
            }
        }
        best.map(|(_, _, i)| i).ok_or(Blocked::Wait {
            until,
            on_budget: until.is_some(),
        })
    }

    fn budget_ready(
        &self,
        want: &Want,
        budget: &Budget,
        slot: u32,
        now: Instant,
    ) -> Result<(), Blocked> {
        let short = |at| Blocked::Wait {
            until: Some(at),
            on_budget: true,
        };
        match budget.ready_at(slot, now, want.cost) {
            Ok(at) if at <= now => Ok(()),
            Ok(at) => Err(short(at)),
            Err(Denied::ExceedsBurst { cost, burst }) => {
                Err(Blocked::Refused(Refusal::ExceedsBurst {
                    backend: want
                        .backend
                        .map(|b| self.backends[usize::from(b)].name.clone())
                        .unwrap_or_default(),
                    cost,
                    burst,
                }))
            }
            Err(Denied::Until(at)) => Err(short(at)),
        }
    }

    /// The slot a sticky key maps to: its current one while healthy, else the healthy slot
    /// ranking highest for the key (rendezvous hashing), else (nothing healthy) the best
    /// non-quarantined one to wait for.
    fn sticky_slot(&mut self, key: u64) -> u32 {
        if let Some(&s) = self.sticky.get(&key)
            && self.slots[s as usize].is_healthy()
        {
            return s;
        }
        let chosen = self
            .top_ranked(key, Slot::is_healthy)
            .or_else(|| {
                self.sticky
                    .get(&key)
                    .copied()
                    .filter(|&s| self.slots[s as usize].quarantine_reason().is_none())
            })
            .or_else(|| self.top_ranked(key, |s| s.quarantine_reason().is_none()))
            .unwrap_or(0);
        if self.sticky.len() >= STICKY_CAP {
            self.sticky.clear();
        }
        self.sticky.insert(key, chosen);
        chosen
    }

    fn top_ranked(&self, key: u64, pred: impl Fn(&Slot) -> bool) -> Option<u32> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| pred(s))
            .max_by_key(|(_, s)| rendezvous(key, s.ip()))
            .map(|(i, _)| i as u32)
    }

    pub(crate) fn grant(&mut self, slot: u32, want: &Want, now: Instant) -> Grant {
        let s = &mut self.slots[slot as usize];
        s.begin(want.mode);
        self.metrics[slot as usize].inflight(s.inflight());
        if let Some(b) = want.backend
            && let Some(budget) = &mut self.backends[usize::from(b)].budget
        {
            budget.spend(slot, now, want.cost);
        }
        self.sync(slot);
        Grant {
            slot,
            mode: want.mode,
            kind: want.kind,
        }
    }

    pub(crate) fn release(&mut self, grant: Grant) {
        let s = &mut self.slots[grant.slot as usize];
        s.end(grant.mode);
        self.metrics[grant.slot as usize].inflight(s.inflight());
        self.sync(grant.slot);
    }

    /// Returns whether the slot's eligibility may have changed.
    pub(crate) fn report(&mut self, grant: &Grant, outcome: &Outcome, now: Instant) -> bool {
        let i = grant.slot as usize;
        let before = self.slots[i].cooldown_until();
        let r = self.slots[i].report(outcome, now, &self.policy);
        self.metrics[i].request(outcome);
        let mut changed = r.limit_changed;
        if let Some((penalty, reason)) = r.penalty {
            if penalty.new_event {
                self.metrics[i].cooldown(reason);
            }
            if penalty.clamped {
                tracing::warn!(local_ip = %self.slots[i].ip(), "Retry-After longer than cooldown_ms.retry_after_max; clamped");
            }
            if before != Some(penalty.until) {
                self.cooling.push(Reverse((penalty.until, grant.slot)));
                changed = true;
                tracing::debug!(
                    local_ip = %self.slots[i].ip(),
                    reason = reason.label(),
                    ip_cooldown_ms = (penalty.until - now).as_millis() as u64,
                    new_event = penalty.new_event,
                    "source IP cooling down"
                );
            }
        }
        if changed {
            self.sync(grant.slot);
        }
        changed
    }

    /// Ends the rests that are over.
    pub(crate) fn advance(&mut self, now: Instant) {
        while let Some(&Reverse((t, slot))) = self.cooling.peek() {
            if t > now {
                break;
            }
            self.cooling.pop();
            if self.slots[slot as usize].expire(now) {
                self.sync(slot);
            }
        }
    }

    /// Brings the indexes in line with the slot's state.
    fn sync(&mut self, slot: u32) {
        let s = &self.slots[slot as usize];
        let eligible = s.is_eligible();
        self.ready.set(slot, eligible.then_some(s.inflight()));
        for b in &mut self.backends {
            if let Some(budget) = &mut b.budget {
                budget.set_member(slot, eligible);
            }
        }
    }

    /// Checks the invariants (tests and debug builds).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        for (i, s) in self.slots.iter().enumerate() {
            let i = i as u32;
            assert_eq!(
                self.ready.contains(i),
                s.is_eligible(),
                "ready index of slot {i}"
            );
            for b in &self.backends {
                if let Some(budget) = &b.budget {
                    assert_eq!(
                        budget.contains(i),
                        s.is_eligible(),
                        "budget heap of slot {i}"
                    );
                }
            }
            if let Some(until) = s.cooldown_until() {
                assert!(
                    self.cooling
                        .iter()
                        .any(|Reverse((t, j))| *j == i && *t <= until),
                    "slot {i} rests without a timer"
                );
            }
        }
    }
}

impl From<Refusal> for NetError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Closed => NetError::Closed,
            Refusal::Quarantined { ip, reason } => NetError::Quarantined { ip, reason },
            Refusal::ExceedsBurst {
                backend,
                cost,
                burst,
            } => NetError::CostExceedsBurst {
                backend,
                cost,
                burst,
            },
        }
    }
}
