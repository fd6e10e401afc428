//! Galileo's column of scenarios 1 and 2.
//!
//! Written against galileo-net directly for now (`IpAllocator` + `BoundHttpClient`, one lease
//! per request). When galileo-quote's `QuoteDispatcher` lands, [`galileo_net_quotes`] is the
//! one function to switch to it: same inputs (the setup, whether `r` is known, the timeline,
//! the end), same output (every answer recorded at its completion time).

use std::num::NonZeroU32;
use std::sync::Arc;

use bytes::Bytes;
use galileo_net::{
    BoundHttpClient, HttpClient, HttpConfig, IpAllocator, LeaseRequest, NetError, TaskKind,
};
use galileo_resilience::Quota;
use http_body_util::Full;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Knowledge, QuotaSetup, answer, join_all};
use crate::{Answer, BenchError, Timeline, sources};

/// The backend name the allocator paces.
const BACKEND: &str = "jupiter";

/// The per-IP rate Galileo is configured with when it is told the simulator's limit: `r`, with
/// a burst two below the simulator's (at least 1). The spare tokens absorb the jitter between
/// a grant on the client's clock and the arrival on the server's; a burst of 1 would lose
/// every late timer wake-up for good.
pub fn told_rate(rate: f64, sim_burst: u32) -> Result<Quota, BenchError> {
    let per_second = NonZeroU32::new(rate.round() as u32)
        .filter(|_| rate.fract() == 0.0)
        .ok_or_else(|| {
            BenchError::Usage(format!(
                "the per-IP rate must be a whole number of requests per second, not {rate}"
            ))
        })?;
    let burst = NonZeroU32::new(sim_burst.saturating_sub(2)).unwrap_or(NonZeroU32::MIN);
    Ok(Quota::per_second(per_second).with_burst(burst))
}

/// Galileo's quote loop over galileo-net: `setup.workers` tasks, each taking one lease per
/// request from an [`IpAllocator`] (paced to [`told_rate`] when the limit is
/// [`Knowledge::Known`], unpaced otherwise) and sending the quote with a
/// [`BoundHttpClient`], which reports each outcome (429 + `Retry-After`) to the lease.
///
/// SWITCH POINT: replace the body with galileo-quote's `QuoteDispatcher` (configured with `r`
/// for `Knowledge::Known`, without it for `Knowledge::Unknown`) recording each quote's answer
/// in `timeline`, and stop at `end`.
pub async fn galileo_net_quotes(
    setup: &QuotaSetup,
    knowledge: Knowledge,
    timeline: &Arc<Timeline>,
    end: Instant,
) -> Result<(), BenchError> {
    let inventory = sources::inventory(&setup.sources)?;
    let mut builder = IpAllocator::builder(&inventory);
    let rate = match knowledge {
        Knowledge::Known => Some(told_rate(setup.rate, setup.sim_burst)?),
        Knowledge::Unknown => None,
    };
    let backend = builder.backend(BACKEND, rate);
    let allocator = builder.build();
    let client = BoundHttpClient::new(&HttpConfig::default())?;
    let uri: http::Uri = setup
        .quote_url
        .parse()
        .map_err(|e| BenchError::Usage(format!("bad quote URL {}: {e}", setup.quote_url)))?;

    let mut tasks = JoinSet::new();
    for _ in 0..setup.workers {
        let (allocator, client, uri, timeline) = (
            allocator.clone(),
            client.clone(),
            uri.clone(),
            timeline.clone(),
        );
        tasks.spawn(async move {
            loop {
                let one = async {
                    let lease = allocator
                        .acquire_with(LeaseRequest::new(TaskKind::Quote).backend(backend))
                        .await?;
                    let request = http::Request::get(uri.clone())
                        .body(Full::new(Bytes::new()))
                        .map_err(|e| NetError::InvalidRequest(e.to_string()))?;
                    Ok::<_, NetError>(match client.send(&lease, request).await {
                        Ok(r) => answer(r.status().as_u16()),
                        Err(_) => Answer::Other,
                    })
                };
                match tokio::time::timeout_at(end, one).await {
                    Err(_) => return Ok(()),
                    // A refused lease is a setup error, not an answer: stop the run.
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(a)) => timeline.record(Instant::now(), a),
                }
            }
        });
    }
    join_all(tasks).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_told_rate_keeps_two_tokens_of_slack() {
        let q = told_rate(20.0, 4).unwrap();
        assert_eq!(q.burst(), 2);
        assert_eq!(q.interval(), Duration::from_millis(50));
        assert_eq!(told_rate(5.0, 1).unwrap().burst(), 1);
        assert!(told_rate(2.5, 4).is_err());
        assert!(told_rate(0.0, 4).is_err());
    }
}
