//! Metric names and handles (the `metrics` facade; install a recorder to see them).
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `galileo_titan_streams` | gauge: streams open | `ip` |
//! | `galileo_titan_reconnects_total` | counter: connections lost or refused, each followed by a reconnect | `ip`, `reason` |
//! | `galileo_titan_quote_age_seconds` | histogram: age of each quote the `QuoteSource` returns | |
//! | `galileo_titan_frames_total` | counter: binary frames | `direction` = `sent`, `received` |
//!
//! `reason` is one of `closed`, `dropped`, `ping_timeout`, `unauthorized`, `rate_limited`,
//! `handshake`, `connect`, `timeout`, `no_lease`, `protocol`, `config`.

use std::net::IpAddr;
use std::time::Duration;

use metrics::{Counter, Gauge};

/// Streams open, per IP.
pub const STREAMS: &str = "galileo_titan_streams";
/// Reconnects, per IP and reason.
pub const RECONNECTS: &str = "galileo_titan_reconnects_total";
/// Age of the quotes served.
pub const QUOTE_AGE: &str = "galileo_titan_quote_age_seconds";
/// Binary frames, per direction.
pub const FRAMES: &str = "galileo_titan_frames_total";

/// One connection's frame counters.
#[derive(Clone, Debug)]
pub(crate) struct Frames {
    sent: Counter,
    received: Counter,
}

impl Frames {
    pub(crate) fn new() -> Self {
        Frames {
            sent: metrics::counter!(FRAMES, "direction" => "sent"),
            received: metrics::counter!(FRAMES, "direction" => "received"),
        }
    }

    pub(crate) fn sent(&self) {
        self.sent.increment(1);
    }

    pub(crate) fn received(&self) {
        self.received.increment(1);
    }
}

/// A connection's share of its IP's stream gauge: moves it by the difference, and takes its
/// share back when dropped (several connections may share an IP).
#[derive(Debug)]
pub(crate) struct StreamsGauge {
    gauge: Gauge,
    held: usize,
}

impl StreamsGauge {
    pub(crate) fn new(ip: IpAddr) -> Self {
        StreamsGauge {
            gauge: metrics::gauge!(STREAMS, "ip" => ip.to_string()),
            held: 0,
        }
    }

    pub(crate) fn set(&mut self, open: usize) {
        if open > self.held {
            self.gauge.increment((open - self.held) as f64);
        } else if open < self.held {
            self.gauge.decrement((self.held - open) as f64);
        }
        self.held = open;
    }
}

impl Drop for StreamsGauge {
    fn drop(&mut self) {
        self.set(0);
    }
}

pub(crate) fn reconnect(ip: IpAddr, reason: &'static str) {
    metrics::counter!(RECONNECTS, "ip" => ip.to_string(), "reason" => reason).increment(1);
}

pub(crate) fn quote_age(age: Duration) {
    metrics::histogram!(QUOTE_AGE).record(age.as_secs_f64());
}
