//! galileo-net's metrics, through the `metrics` facade.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `galileo_ip_inventory_total` | gauge: IPs in the inventory | `state` = `usable` \| `quarantined` |
//! | `galileo_ip_inflight` | gauge: requests in flight | `ip` |
//! | `galileo_ip_cooldown_total` | counter: rests started | `ip`, `reason` = `rate_limited` \| `timeout` \| `connect` |
//! | `galileo_ip_requests_total` | counter: requests reported | `ip`, `result` = `success` \| `rate_limited` \| `timeout` \| `connect` \| `server_error` |
//!
//! Handles are registered once per IP when the allocator is built (install the recorder
//! before that), so the per-request cost is an atomic add.

use metrics::{Counter, Gauge, counter, gauge};

use crate::Outcome;
use crate::slot::CooldownReason;

/// Gauge of inventory size by state.
pub const IP_INVENTORY: &str = "galileo_ip_inventory_total";
/// Gauge of requests in flight per IP.
pub const IP_INFLIGHT: &str = "galileo_ip_inflight";
/// Counter of rests started per IP and reason.
pub const IP_COOLDOWN: &str = "galileo_ip_cooldown_total";
/// Counter of requests reported per IP and result.
pub const IP_REQUESTS: &str = "galileo_ip_requests_total";

const RESULTS: [&str; 5] = [
    "success",
    "rate_limited",
    "timeout",
    "connect",
    "server_error",
];

#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub(crate) struct SlotMetrics {
    inflight: Gauge,
    requests: [Counter; 5],
    cooldowns: [Counter; 3],
}

impl SlotMetrics {
    pub(crate) fn new(ip: &str) -> Self {
        Self {
            inflight: gauge!(IP_INFLIGHT, "ip" => ip.to_owned()),
            requests: RESULTS.map(|r| counter!(IP_REQUESTS, "ip" => ip.to_owned(), "result" => r)),
            cooldowns: CooldownReason::ALL
                .map(|r| counter!(IP_COOLDOWN, "ip" => ip.to_owned(), "reason" => r.label())),
        }
    }

    pub(crate) fn inflight(&self, n: u32) {
        self.inflight.set(f64::from(n));
    }

    pub(crate) fn request(&self, outcome: &Outcome) {
        let i = RESULTS
            .iter()
            .position(|r| *r == outcome.label())
            .expect("every outcome has a result label");
        self.requests[i].increment(1);
    }

    pub(crate) fn cooldown(&self, reason: CooldownReason) {
        let i = CooldownReason::ALL
            .iter()
            .position(|r| *r == reason)
            .expect("every reason is listed");
        self.cooldowns[i].increment(1);
    }
}

pub(crate) fn inventory(usable: usize, quarantined: usize) {
    gauge!(IP_INVENTORY, "state" => "usable").set(usable as f64);
    gauge!(IP_INVENTORY, "state" => "quarantined").set(quarantined as f64);
}
