//! [`TitanStreams`]: the stream manager. It plans the subscriptions over the healthy IPs
//! (2 per IP), runs one task per planned connection (connect, subscribe, resubscribe when
//! silent, reconnect with backoff when lost), re-plans when an IP is quarantined or restored,
//! keeps the latest quote of every stream, and warns ahead of the JWT's expiry.

mod health;
mod manager;
mod task;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use galileo_resilience::retry::Backoff;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::plan::{StreamKey, Subscription, clamp_quote_parallelism};
use crate::table::{Stale, StreamQuote, StreamTable};
use crate::{TitanClient, TitanError};
use health::HealthBook;
pub use health::IpHealth;

/// What the manager, the connection tasks and the handles share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client: TitanClient,
    pub(crate) table: StreamTable,
    /// Streams per connection: the configured streams per IP, lowered by `GetInfo`.
    pub(crate) per_connection: watch::Sender<usize>,
    pub(crate) backoff: Backoff,
    pub(crate) health: HealthBook,
    warned_parallelism: AtomicBool,
}

/// Aborts the manager (and with it every connection task) when the last handle goes.
#[derive(Debug)]
struct Running {
    shared: Arc<Shared>,
    manager: AbortHandle,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.manager.abort();
    }
}

/// Titan quote streams spread over the IP pool; a [`QuoteSource`](galileo_quote::QuoteSource)
/// over their latest quotes. Cheap to clone; dropping the last clone stops every stream.
///
/// ```no_run
/// # async fn demo(client: galileo_titan::TitanClient, wsol: solana_pubkey::Pubkey, usdc: solana_pubkey::Pubkey)
/// #     -> Result<(), galileo_titan::TitanError> {
/// use galileo_titan::{Subscription, TitanStreams};
///
/// let sizes = [1_000_000_000, 5_000_000_000].map(|a| Subscription::new(wsol, usdc, a));
/// let streams = TitanStreams::start(client, sizes.to_vec())?;
/// let mut updates = streams.watch(&streams.plan()[0]);
/// updates.changed().await.ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TitanStreams {
    running: Arc<Running>,
}

impl TitanStreams {
    /// Plans `subscriptions` over the allocator's healthy IPs and starts the streams (on the
    /// current tokio runtime). `subscriptions` in order of preference: when there are more
    /// than 2 per IP, the first ones are taken.
    pub fn start(
        client: TitanClient,
        subscriptions: Vec<Subscription>,
    ) -> Result<Self, TitanError> {
        let cfg = client.config();
        let backoff = Backoff::new(&cfg.reconnect)
            .map_err(|e| TitanError::Config(format!("reconnect: {e}")))?;
        let shared = Arc::new(Shared {
            per_connection: watch::Sender::new(cfg.streams_per_ip),
            client,
            table: StreamTable::default(),
            backoff,
            health: HealthBook::default(),
            warned_parallelism: AtomicBool::new(false),
        });
        // Planned at once, so the plan (and the parallelism clamp) is known on return.
        manager::plan_now(&shared, &subscriptions);
        let manager = tokio::spawn(manager::run(shared.clone(), subscriptions)).abort_handle();
        Ok(TitanStreams {
            running: Arc::new(Running { shared, manager }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.running.shared
    }

    /// The client.
    pub fn client(&self) -> &TitanClient {
        &self.shared().client
    }

    /// The streams planned now.
    pub fn plan(&self) -> Vec<StreamKey> {
        self.shared().table.plan()
    }

    /// The latest update of a stream.
    pub fn latest(&self, key: &StreamKey) -> Option<Arc<StreamQuote>> {
        self.shared().table.latest(key)
    }

    /// Every update of a stream as it arrives (`None` until the first, and once unplanned).
    pub fn watch(&self, key: &StreamKey) -> watch::Receiver<Option<Arc<StreamQuote>>> {
        self.shared().table.watch(key)
    }

    /// The freshest update of `sub` over the IPs it is planned on, no older than
    /// `max_quote_age_ms`.
    pub fn freshest(&self, sub: &Subscription) -> Result<Arc<StreamQuote>, Stale> {
        self.freshest_at(sub, Instant::now())
    }

    pub(crate) fn freshest_at(
        &self,
        sub: &Subscription,
        now: Instant,
    ) -> Result<Arc<StreamQuote>, Stale> {
        self.shared().table.freshest(sub, now, self.max_quote_age())
    }

    pub(crate) fn max_quote_age(&self) -> Duration {
        self.client().config().max_quote_age()
    }

    /// IPs with streams planned now.
    pub fn planned_ips(&self) -> usize {
        self.shared().table.planned_ips()
    }

    /// Streams per IP (the configuration's, normally 2).
    pub fn streams_per_ip(&self) -> usize {
        self.client().config().streams_per_ip
    }

    /// Each IP's connections, reconnects and last error.
    pub fn health(&self) -> Vec<IpHealth> {
        self.shared().health.snapshot()
    }

    /// A receiver that changes whenever any IP's health does (wait on it, then read
    /// [`health`](Self::health)).
    pub fn health_changes(&self) -> watch::Receiver<u64> {
        self.shared().health.changes()
    }

    /// The health of one IP.
    pub fn health_of(&self, ip: IpAddr) -> Option<IpHealth> {
        self.shared().health.get(ip)
    }

    /// `quote_parallelism` for Titan: the configured value clamped to 2 per planned IP
    /// ([`clamp_quote_parallelism`]). Warns once, naming the configured value, the first time
    /// it clamps.
    pub fn quote_parallelism(&self, configured: usize) -> usize {
        let ips = self.planned_ips();
        let effective = clamp_quote_parallelism(configured, ips, self.streams_per_ip());
        if effective < configured
            && !self
                .shared()
                .warned_parallelism
                .swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                configured,
                effective,
                planned_ips = ips,
                "quote_parallelism {configured} is more than Titan's {} streams per IP over {ips} \
                 IPs; using {effective}",
                self.streams_per_ip()
            );
        }
        effective
    }
}
