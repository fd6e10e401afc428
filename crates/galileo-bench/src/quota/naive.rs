//! The naive peer: round-robin over the IPs with no pacing and no backoff, a reqwest client
//! per IP. It takes every token the simulator has, and every refusal with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{QuotaSetup, join_all, reqwest_client, reqwest_get, reqwest_url};
use crate::{BenchError, Timeline};

/// Runs the naive peer until `end`.
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
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..setup.workers {
        let (clients, url, next, timeline) =
            (clients.clone(), url.clone(), next.clone(), timeline.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) % clients.len();
                match tokio::time::timeout_at(end, reqwest_get(&clients[i], &url)).await {
                    Err(_) => return Ok::<_, BenchError>(()),
                    Ok(a) => timeline.record(Instant::now(), a),
                }
            }
        });
    }
    join_all(tasks).await
}
