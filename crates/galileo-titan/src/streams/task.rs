//! One planned connection's task: connect, hold its streams, reconnect with backoff when
//! lost. Ends when the manager unplans it (drops its key sender).

use std::net::IpAddr;
use std::sync::Arc;

use galileo_resilience::retry::{RngSource, ThreadRngSource};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::Shared;
use crate::conn::core::{ConnCore, CoreConfig, Effect};
use crate::conn::reconnect::ReconnectSchedule;
use crate::conn::{Incoming, TitanConnection};
use crate::metrics::{self, StreamsGauge};
use crate::plan::StreamKey;

/// How a connection ended.
enum Ended {
    /// Unplanned: the task is done.
    Unplanned,
    /// Lost: reconnect. `updates` it delivered (a connection that did is healthy).
    Lost { reason: &'static str, updates: u64 },
}

pub(super) async fn run(
    shared: Arc<Shared>,
    ip: IpAddr,
    mut keys: watch::Receiver<Vec<StreamKey>>,
) {
    let mut schedule = ReconnectSchedule::new(shared.backoff.clone());
    loop {
        // Something to hold, or the end.
        if keys.wait_for(|k| !k.is_empty()).await.is_err() {
            return;
        }
        let (reason, healthy) = match shared.client.connect(ip).await {
            Ok(conn) => {
                shared.health.connected(ip, 1);
                let end = drive(&shared, conn, &mut keys).await;
                shared.health.connected(ip, -1);
                match end {
                    Ended::Unplanned => return,
                    Ended::Lost { reason, updates } => {
                        tracing::warn!(local_ip = %ip, reason, "Titan connection lost; reconnecting");
                        (reason, updates > 0)
                    }
                }
            }
            Err(e) => {
                if e.is_unauthorized() || e.is_config() {
                    tracing::error!(local_ip = %ip, error = %e, "Titan connection refused");
                } else {
                    tracing::warn!(local_ip = %ip, error = %e, "Titan connection failed");
                }
                shared.health.failed(ip, &e);
                (e.reason(), false)
            }
        };
        metrics::reconnect(ip, reason);
        shared.health.reconnect(ip);
        let at = ThreadRngSource.with_rng(|r| schedule.next_attempt(Instant::now(), healthy, r));
        let wait = sleep_until(at);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                r = keys.changed() => if r.is_err() { return },
            }
        }
    }
}

/// Holds the streams on an open connection until it is lost or unplanned.
async fn drive(
    shared: &Shared,
    mut conn: TitanConnection,
    keys: &mut watch::Receiver<Vec<StreamKey>>,
) -> Ended {
    let ip = conn.ip();
    let cfg = &shared.client.config();
    let core_cfg = CoreConfig {
        silence: cfg.silence_timeout(),
        ping_interval: cfg.ping_interval(),
        info_timeout: cfg.info_timeout(),
        per_connection: cfg.streams_per_ip,
        backoff: shared.backoff.clone(),
    };
    let desired = keys.borrow_and_update().clone();
    let seed = ThreadRngSource.with_rng(rand::Rng::next_u64);
    let (mut core, mut effects) = ConnCore::new(
        core_cfg,
        shared.client.template().clone(),
        &desired,
        seed,
        Instant::now(),
    );
    let mut gauge = StreamsGauge::new(ip);
    let lost = |core: &ConnCore, reason| Ended::Lost {
        reason,
        updates: core.updates(),
    };
    loop {
        for e in effects.drain(..) {
            let sent = match e {
                Effect::Send(req) => conn.send(&req).await,
                Effect::Ping => conn.ping().await,
                Effect::Publish(q) => {
                    shared.table.publish(q);
                    Ok(())
                }
                Effect::Limit(n) => {
                    tracing::info!(local_ip = %ip, concurrent_streams = n, "Titan allows fewer streams per connection; splitting");
                    shared.per_connection.send_if_modified(|c| {
                        let changed = n < *c;
                        *c = (*c).min(n);
                        changed
                    });
                    Ok(())
                }
                Effect::Warn { key, what } => {
                    tracing::warn!(local_ip = %ip, stream = ?key, "{what}");
                    Ok(())
                }
                Effect::Dead(reason) => return lost(&core, reason),
            };
            if sent.is_err() {
                return lost(&core, "dropped");
            }
        }
        gauge.set(core.open_streams());
        let deadline = core.next_deadline();
        effects = tokio::select! {
            incoming = conn.next() => {
                let now = Instant::now();
                match incoming {
                    Incoming::Message(m) => core.on_message(m, now),
                    Incoming::Other(err) => {
                        if let Some(e) = err {
                            tracing::warn!(local_ip = %ip, error = %e, "unreadable Titan frame ignored");
                        }
                        core.on_activity(now);
                        Vec::new()
                    }
                    Incoming::Closed => return lost(&core, "closed"),
                    Incoming::Dropped(why) => {
                        tracing::debug!(local_ip = %ip, why, "Titan connection dropped");
                        return lost(&core, "dropped");
                    }
                }
            }
            () = sleep_until(deadline) => core.on_tick(Instant::now()),
            changed = keys.changed() => match changed {
                Ok(()) => {
                    let k = keys.borrow_and_update().clone();
                    core.set_desired(&k, Instant::now())
                }
                Err(_) => {
                    // Unplanned: stop the streams politely, then close.
                    for e in core.set_desired(&[], Instant::now()) {
                        if let Effect::Send(req) = e {
                            let _ = conn.send(&req).await;
                        }
                    }
                    gauge.set(0);
                    conn.close().await;
                    return Ended::Unplanned;
                }
            },
        };
    }
}
