//! Per-IP connection health, for status displays and for telling why an IP has no quotes.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

use crate::TitanError;

/// One IP's Titan connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpHealth {
    /// The source IP.
    pub ip: IpAddr,
    /// Connections open now.
    pub connected: usize,
    /// Connections lost or refused so far.
    pub reconnects: u64,
    /// The last connection error (never the token).
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct HealthBook {
    by_ip: Mutex<BTreeMap<IpAddr, IpHealth>>,
    changes: watch::Sender<u64>,
}

impl HealthBook {
    fn with<T>(&self, ip: IpAddr, f: impl FnOnce(&mut IpHealth) -> T) -> T {
        let mut m = self.by_ip.lock().unwrap_or_else(PoisonError::into_inner);
        let h = m.entry(ip).or_insert_with(|| IpHealth {
            ip,
            connected: 0,
            reconnects: 0,
            last_error: None,
        });
        let out = f(h);
        drop(m);
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        out
    }

    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub(crate) fn connected(&self, ip: IpAddr, delta: isize) {
        self.with(ip, |h| {
            h.connected = h.connected.saturating_add_signed(delta);
            if delta > 0 {
                h.last_error = None;
            }
        });
    }

    pub(crate) fn failed(&self, ip: IpAddr, e: &TitanError) {
        self.with(ip, |h| h.last_error = Some(e.to_string()));
    }

    pub(crate) fn reconnect(&self, ip: IpAddr) {
        self.with(ip, |h| h.reconnects += 1);
    }

    pub(crate) fn snapshot(&self) -> Vec<IpHealth> {
        self.by_ip
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn get(&self, ip: IpAddr) -> Option<IpHealth> {
        self.by_ip
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&ip)
            .cloned()
    }
}
