//! The reference peer, as the earlier public bot worked: a reqwest client per IP, round-robin
//! over the IPs skipping those in cooldown, a fixed 500 ms cooldown after a 429 (`Retry-After`
//! ignored), and, when every IP is cooling down, an allocator that spins: it looks again every
//! millisecond instead of waiting for the earliest cooldown to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{QuotaSetup, join_all, reqwest_client, reqwest_get, reqwest_url};
use crate::{Answer, BenchError, Timeline};

/// The reference's cooldown after a 429.
pub const COOLDOWN: Duration = Duration::from_millis(500);
/// How often its allocator looks again when every IP is cooling down.
pub const SPIN: Duration = Duration::from_millis(1);

/// The reference's IP table: round-robin cursor and per-IP cooldown ends (nanoseconds since
/// the run's start; 0 = not cooling).
#[derive(Debug)]
struct Ips {
    start: Instant,
    cursor: AtomicUsize,
    cooling_until: Box<[AtomicU64]>,
}

impl Ips {
    fn nanos(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_nanos() as u64
    }

    /// The next IP out of cooldown in round-robin order, spinning until there is one.
    async fn acquire(&self) -> usize {
        let n = self.cooling_until.len();
        loop {
            let now = self.nanos(Instant::now());
            for _ in 0..n {
                let i = self.cursor.fetch_add(1, Ordering::Relaxed) % n;
                if self.cooling_until[i].load(Ordering::Relaxed) <= now {
                    return i;
                }
            }
            tokio::time::sleep(SPIN).await;
        }
    }

    fn report(&self, i: usize, a: Answer) {
        if a == Answer::RateLimited {
            let until = self.nanos(Instant::now() + COOLDOWN);
            self.cooling_until[i].store(until, Ordering::Relaxed);
        }
    }
}

/// Runs the reference peer until `end`.
pub async fn run(
    setup: &QuotaSetup,
    timeline: &Arc<Timeline>,
    end: Instant,
) -> Result<(), BenchError> {
    let clients: Arc<[reqwest::Client]> = setup
        .sources
        .iter()
        .map(|ip| reqwest_client(*ip))
        .collect::<Result<Vec<_>, _>>()?
        .into();
    let url = reqwest_url(&setup.quote_url)?;
    let ips = Arc::new(Ips {
        start: Instant::now(),
        cursor: AtomicUsize::new(0),
        cooling_until: (0..clients.len()).map(|_| AtomicU64::new(0)).collect(),
    });
    let mut tasks = JoinSet::new();
    for _ in 0..setup.workers {
        let (clients, url, ips, timeline) =
            (clients.clone(), url.clone(), ips.clone(), timeline.clone());
        tasks.spawn(async move {
            loop {
                let one = async {
                    let i = ips.acquire().await;
                    let a = reqwest_get(&clients[i], &url).await;
                    ips.report(i, a);
                    a
                };
                match tokio::time::timeout_at(end, one).await {
                    Err(_) => return Ok::<_, BenchError>(()),
                    Ok(a) => timeline.record(Instant::now(), a),
                }
            }
        });
    }
    join_all(tasks).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_429_rests_the_ip_500_ms_and_the_allocator_skips_it() {
        let ips = Ips {
            start: Instant::now(),
            cursor: AtomicUsize::new(0),
            cooling_until: (0..2).map(|_| AtomicU64::new(0)).collect(),
        };
        assert_eq!(ips.acquire().await, 0);
        ips.report(0, Answer::RateLimited);
        assert_eq!(ips.acquire().await, 1);
        assert_eq!(ips.acquire().await, 1, "IP 0 is cooling down");
        ips.report(1, Answer::RateLimited);
        let t = Instant::now();
        ips.acquire().await; // both cooling: spins until one is back
        let waited = t.elapsed();
        assert!(
            waited >= COOLDOWN && waited <= COOLDOWN + SPIN * 2,
            "{waited:?}"
        );
    }
}
