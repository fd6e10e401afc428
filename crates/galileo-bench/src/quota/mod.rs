//! Scenarios 1 and 2: the share of the quota ceiling a client reaches. The simulator allows
//! `r` requests/s per source IP; `N` loopback IPs; workers repeat one quote request until the
//! run ends. Three clients take turns against the same simulator:
//!
//! - [`Peer::Galileo`]: galileo-net's allocator and bound client ([`galileo`]);
//! - [`Peer::Naive`]: round-robin over the IPs, no pacing, no backoff ([`naive`]);
//! - [`Peer::Reference`]: the reference bot's style, a reqwest client per IP, a fixed 500 ms
//!   cooldown after a 429 (`Retry-After` ignored) and an allocator that spin-waits for an IP
//!   out of cooldown ([`reference`]).

pub mod galileo;
pub mod naive;
pub mod reference;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::{Answer, BenchError, Timeline};

/// The clients of scenarios 1 and 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    /// Galileo.
    Galileo,
    /// Round-robin, no pacing.
    Naive,
    /// The reference bot's style.
    Reference,
}

impl Peer {
    /// Every peer, Galileo first.
    pub const ALL: [Peer; 3] = [Peer::Galileo, Peer::Naive, Peer::Reference];

    /// The name in tables and charts.
    pub fn label(self) -> &'static str {
        match self {
            Peer::Galileo => "galileo",
            Peer::Naive => "naive round-robin",
            Peer::Reference => "reference (500 ms cooldown)",
        }
    }
}

/// Whether the client is told the simulator's per-IP rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Knowledge {
    /// Scenario 1: Galileo is configured with `r` per IP.
    Known,
    /// Scenario 2: nobody is told; Galileo has to cope from 429s alone.
    Unknown,
}

/// One quota run's parameters.
#[derive(Clone, Debug)]
pub struct QuotaSetup {
    /// The quote URL (the simulator's Jupiter `/quote`).
    pub quote_url: String,
    /// The source IPs.
    pub sources: Vec<IpAddr>,
    /// The simulator's per-IP rate `r`, requests per second.
    pub rate: f64,
    /// The simulator's per-IP burst.
    pub sim_burst: u32,
    /// Requests in flight at most (one task each).
    pub workers: usize,
    /// How long the run lasts.
    pub duration: Duration,
}

impl QuotaSetup {
    /// The quota ceiling `N·r` in requests per second.
    pub fn ceiling(&self) -> f64 {
        self.sources.len() as f64 * self.rate
    }
}

/// Runs `peer` for `setup.duration` and returns what it got, by completion time (100 ms bins).
pub async fn run(
    peer: Peer,
    setup: &QuotaSetup,
    knowledge: Knowledge,
) -> Result<Arc<Timeline>, BenchError> {
    if setup.sources.is_empty() || setup.workers == 0 {
        return Err(BenchError::Usage(
            "a quota run needs at least one source IP and one worker".into(),
        ));
    }
    let start = Instant::now();
    let timeline = Arc::new(Timeline::new(
        start,
        Duration::from_millis(100),
        setup.duration,
    ));
    let end = start + setup.duration;
    match peer {
        Peer::Galileo => galileo::galileo_quotes(setup, knowledge, &timeline, end).await?,
        Peer::Naive => naive::run(setup, &timeline, end).await?,
        Peer::Reference => reference::run(setup, &timeline, end).await?,
    }
    Ok(timeline)
}

/// Waits for every worker; the first error wins.
pub(crate) async fn join_all<E: Into<BenchError> + 'static>(
    mut tasks: JoinSet<Result<(), E>>,
) -> Result<(), BenchError> {
    let mut first = None;
    while let Some(r) = tasks.join_next().await {
        let r = match r {
            Ok(r) => r.map_err(Into::into),
            Err(e) => Err(BenchError::Client(format!("a worker task failed: {e}"))),
        };
        if let Err(e) = r {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

/// The answer a status code means.
pub(crate) fn answer(status: u16) -> Answer {
    match status {
        200 => Answer::Quote,
        429 => Answer::RateLimited,
        _ => Answer::Other,
    }
}

/// A reqwest client bound to `ip`, as the peers use (one per IP).
pub(crate) fn reqwest_client(ip: IpAddr) -> Result<reqwest::Client, BenchError> {
    reqwest::Client::builder()
        .local_address(ip)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| BenchError::Client(format!("reqwest bound to {ip}: {e}")))
}

/// Sends one GET with `client` and reads the whole body.
pub(crate) async fn reqwest_get(client: &reqwest::Client, url: &reqwest::Url) -> Answer {
    match client.get(url.clone()).send().await {
        Ok(r) => {
            let a = answer(r.status().as_u16());
            match r.bytes().await {
                Ok(_) => a,
                Err(_) => Answer::Other,
            }
        }
        Err(_) => Answer::Other,
    }
}

/// Parses the quote URL for reqwest.
pub(crate) fn reqwest_url(url: &str) -> Result<reqwest::Url, BenchError> {
    reqwest::Url::parse(url).map_err(|e| BenchError::Usage(format!("bad quote URL {url}: {e}")))
}
