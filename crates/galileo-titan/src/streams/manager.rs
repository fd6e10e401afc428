//! The manager task: plans, starts and retires connection tasks, re-plans on quarantine
//! changes and on a smaller `concurrentStreams`, and warns ahead of the JWT's expiry. It
//! waits on notifications (no polling) and owns the connection tasks: aborting it aborts
//! them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use galileo_net::SlotState;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use super::{Shared, task};
use crate::jwt::{ExpiryWatch, TokenStatus, unix_now};
use crate::plan::{self, StreamKey, Subscription};

/// The IPs streams may be planned on: every source not quarantined.
fn healthy_ips(shared: &Shared) -> Vec<IpAddr> {
    shared
        .client
        .allocator()
        .snapshot()
        .into_iter()
        .filter(|s| s.state != SlotState::Quarantined)
        .map(|s| s.ip)
        .collect()
}

/// Plans `subs` over the healthy IPs and installs the plan in the table.
pub(super) fn plan_now(shared: &Shared, subs: &[Subscription]) -> Vec<StreamKey> {
    let ips = healthy_ips(shared);
    let streams = plan::plan(subs, &ips, shared.client.config().streams_per_ip);
    shared.table.set_plan(&streams);
    streams
}

pub(super) async fn run(shared: Arc<Shared>, subs: Vec<Subscription>) {
    let mut quarantine = shared.client.allocator().quarantine_changes();
    let mut per_connection = shared.per_connection.subscribe();
    let mut jwt = shared.client.jwt_changes();
    let lead = Duration::from_secs(shared.client.config().jwt_warn_before_secs);
    let mut expiry = ExpiryWatch::new(jwt.borrow_and_update().expires_at_unix(), lead);
    let mut tasks: HashMap<(IpAddr, usize), watch::Sender<Vec<StreamKey>>> = HashMap::new();
    let mut set = JoinSet::new();
    let mut planned: Option<Vec<StreamKey>> = None;
    loop {
        let streams = plan_now(&shared, &subs);
        if planned.as_ref() != Some(&streams) {
            let ips: Vec<String> = {
                let mut v: Vec<IpAddr> = streams.iter().map(|k| k.ip).collect();
                v.sort_unstable();
                v.dedup();
                v.iter().map(ToString::to_string).collect()
            };
            tracing::info!(streams = streams.len(), ips = ?ips, "Titan streams planned");
            planned = Some(streams.clone());
        }
        let conns = plan::connections(&streams, *per_connection.borrow_and_update());
        let mut keep = Vec::with_capacity(conns.len());
        for c in conns {
            let key = (c.ip, c.index);
            keep.push(key);
            match tasks.get(&key) {
                Some(tx) if !tx.is_closed() => {
                    tx.send_if_modified(|k| {
                        let changed = *k != c.keys;
                        if changed {
                            k.clone_from(&c.keys);
                        }
                        changed
                    });
                }
                _ => {
                    let (tx, rx) = watch::channel(c.keys);
                    set.spawn(task::run(shared.clone(), c.ip, rx));
                    tasks.insert(key, tx);
                }
            }
        }
        // Dropping a sender ends its task: it stops its streams and closes.
        tasks.retain(|k, _| keep.contains(k));

        let now_unix = unix_now();
        if let Some(status) = expiry.poll(now_unix) {
            warn_expiry(status);
        }
        let expiry_at = expiry
            .next_check(now_unix)
            .map(|at| Instant::now() + Duration::from_secs(at.saturating_sub(now_unix)));
        tokio::select! {
            r = quarantine.changed() => if r.is_err() { return },
            r = per_connection.changed() => if r.is_err() { return },
            r = jwt.changed() => match r {
                Ok(()) => {
                    expiry = ExpiryWatch::new(jwt.borrow_and_update().expires_at_unix(), lead);
                }
                Err(_) => return,
            },
            Some(done) = set.join_next(), if !set.is_empty() => {
                if let Err(e) = done && e.is_panic() {
                    tracing::error!("a Titan connection task panicked; restarting it");
                }
            }
            () = sleep_opt(expiry_at) => {}
        }
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn warn_expiry(status: TokenStatus) {
    match status {
        TokenStatus::ExpiringSoon { remaining } => tracing::warn!(
            remaining_secs = remaining.as_secs(),
            "the Titan JWT expires in {}s: replace it (TitanClient::set_jwt or a new token in \
             the configuration) or new connections will be refused",
            remaining.as_secs()
        ),
        TokenStatus::Expired { ago } => tracing::error!(
            expired_secs_ago = ago.as_secs(),
            "the Titan JWT expired {}s ago: Titan refuses new connections with it; replace it",
            ago.as_secs()
        ),
        TokenStatus::Valid { .. } | TokenStatus::NoExpiry => {}
    }
}
