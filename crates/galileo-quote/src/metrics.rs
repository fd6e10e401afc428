//! Metric names (the `metrics` facade; install a recorder before building a dispatcher).

/// Histogram: a round trip's whole duration, lease wait included; labels `strategy`, `backend`.
pub const QUOTE_BATCH_DURATION: &str = "galileo_quote_batch_duration_seconds";
/// Counter: quote requests by `backend`, `leg` (`buy`, `sell`) and `result` (`success` or the
/// error's label: `rate_limited`, `no_route`, `timeout`, `provider_error`, ...).
pub const QUOTE_REQUESTS: &str = "galileo_quote_requests_total";
/// Counter: 429s by `backend` and `ip` (the leased source IP).
pub const QUOTE_RATE_LIMITED: &str = "galileo_quote_rate_limited_total";
/// Gauge: the dispatcher's effective parallelism; labels `strategy`, `backend`.
pub const QUOTE_PARALLELISM: &str = "galileo_quote_parallelism";
/// Gauge: the batch interval in force, in seconds; labels `strategy`, `backend`.
pub const QUOTE_BATCH_INTERVAL: &str = "galileo_quote_batch_interval_seconds";

/// The success counters of both legs, registered once per dispatcher: the per-request path
/// only increments them.
#[derive(Clone, Debug)]
pub(crate) struct LegCounters {
    buy: metrics::Counter,
    sell: metrics::Counter,
}

impl LegCounters {
    pub(crate) fn new(buy_backend: &str, sell_backend: &str) -> Self {
        let ok = |backend: &str, leg: crate::Leg| metrics::counter!(QUOTE_REQUESTS, "backend" => backend.to_owned(), "leg" => leg.label(), "result" => "success");
        Self {
            buy: ok(buy_backend, crate::Leg::Buy),
            sell: ok(sell_backend, crate::Leg::Sell),
        }
    }

    pub(crate) fn success(&self, leg: crate::Leg) {
        match leg {
            crate::Leg::Buy => self.buy.increment(1),
            crate::Leg::Sell => self.sell.increment(1),
        }
    }
}

/// A failed request (rare: registered on the spot).
pub(crate) fn request(backend: &str, leg: crate::Leg, result: &'static str) {
    metrics::counter!(QUOTE_REQUESTS, "backend" => backend.to_owned(), "leg" => leg.label(), "result" => result)
        .increment(1);
}

pub(crate) fn rate_limited(backend: &str, ip: std::net::IpAddr) {
    metrics::counter!(QUOTE_RATE_LIMITED, "backend" => backend.to_owned(), "ip" => ip.to_string())
        .increment(1);
}
