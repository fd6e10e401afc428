//! Galileo's column of scenarios 1 and 2.
//!
//! galileo-quote's `QuoteDispatcher` quoting round trips on galileo-sim's Jupiter, as a bot
//! does: told the limit (scenario 1) or learning it (scenario 2).

use std::num::NonZeroU32;
use std::sync::Arc;

use std::num::NonZeroUsize;
use std::time::Duration;

use galileo_net::{BoundHttpClient, HttpConfig, IpAllocator};
use galileo_quote::jupiter::{JupiterClient, JupiterConfig};
use galileo_quote::plan::TradePair;
use galileo_quote::{
    BatchResult, DispatchConfig, LearnConfig, Leg, QuoteDispatcher, QuoteError, QuoteParallelism,
    Schedule,
};
use galileo_resilience::Quota;
use solana_pubkey::Pubkey;
use tokio::time::Instant;

use super::{Knowledge, QuotaSetup};
use crate::{Answer, BenchError, Timeline, sources};

/// The backend name the allocator paces.
const BACKEND: &str = "jupiter";

/// The per-IP rate Galileo is configured with when it is told the simulator's limit: `r`, with
/// a burst two below the simulator's, and at least 2 (one round trip's lease). The spare
/// tokens absorb the jitter between a grant on the client's clock and the arrival on the
/// server's.
pub fn told_rate(rate: f64, sim_burst: u32) -> Result<Quota, BenchError> {
    let per_second = NonZeroU32::new(rate.round() as u32)
        .filter(|_| rate.fract() == 0.0)
        .ok_or_else(|| {
            BenchError::Usage(format!(
                "the per-IP rate must be a whole number of requests per second, not {rate}"
            ))
        })?;
    let burst = NonZeroU32::new(sim_burst.saturating_sub(2).max(2)).unwrap_or(NonZeroU32::MIN);
    Ok(Quota::per_second(per_second).with_burst(burst))
}

/// Galileo's column: galileo-quote's [`QuoteDispatcher`] with its Jupiter client, round
/// trips (buy, then sell for the buy's out amount, one lease of cost 2) over an
/// [`IpAllocator`] of the setup's sources. [`Knowledge::Known`]: the allocator's backend is
/// paced to [`told_rate`]. [`Knowledge::Unknown`]: the backend has no rate and the dispatcher
/// learns it ([`LearnConfig`]). Every quote answer is recorded in `timeline` when its round
/// trip ends; the run stops at `end`.
pub async fn galileo_quotes(
    setup: &QuotaSetup,
    knowledge: Knowledge,
    timeline: &Arc<Timeline>,
    end: Instant,
) -> Result<(), BenchError> {
    let inventory = sources::inventory(&setup.sources)?;
    let mut builder = IpAllocator::builder(&inventory);
    let (rate, learn) = match knowledge {
        Knowledge::Known => (Some(told_rate(setup.rate, setup.sim_burst)?), None),
        Knowledge::Unknown => (None, Some(LearnConfig::default())),
    };
    let backend = builder.backend(BACKEND, rate);
    let allocator = builder.build();
    let client = BoundHttpClient::new(&HttpConfig::default())?;
    let quote_url = setup
        .quote_url
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let jupiter = JupiterClient::new(
        JupiterConfig {
            quote_url,
            ..JupiterConfig::default()
        },
        client,
    )
    .map_err(quote_error)?
    .with_backend(backend);
    let jupiter = Arc::new(jupiter);
    let workers = NonZeroUsize::new(setup.workers)
        .ok_or_else(|| BenchError::Usage("a quota run needs at least one worker".into()))?;
    let config = DispatchConfig {
        strategy: "bench".into(),
        // A round trip has one request in flight at a time: one worker each.
        quote_parallelism: QuoteParallelism::Fixed(workers),
        learn_rate: learn,
        ..DispatchConfig::default()
    };
    let mut dispatcher =
        QuoteDispatcher::new(allocator, jupiter.clone(), jupiter, config).map_err(quote_error)?;
    // As many sizes as workers, ready again at once: the dispatcher is never short of work.
    let pair = TradePair::new(mint(SOL)?, mint(USDC)?);
    let sizes: Vec<u64> = (1..=setup.workers as u64)
        .map(|i| 1_000_000_000 + i)
        .collect();
    let mut schedule = Schedule::new(Instant::now());
    schedule.add_pair(pair, &sizes, Duration::ZERO);
    let record = |result: BatchResult<_, _>| {
        let now = Instant::now();
        match result {
            Ok(_) => {
                timeline.record(now, Answer::Quote);
                timeline.record(now, Answer::Quote);
            }
            Err(failure) => {
                if failure.leg == Some(Leg::Sell) {
                    timeline.record(now, Answer::Quote);
                }
                if failure.leg.is_some() {
                    let a = if failure.error.is_rate_limited() {
                        Answer::RateLimited
                    } else {
                        Answer::Other
                    };
                    timeline.record(now, a);
                }
            }
        }
    };
    match tokio::time::timeout_at(end, dispatcher.run(&mut schedule, record)).await {
        Err(_) => Ok(()),
        Ok(r) => r.map_err(quote_error),
    }
}

const SOL: &str = "So11111111111111111111111111111111111111112";
const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

fn mint(s: &str) -> Result<Pubkey, BenchError> {
    s.parse()
        .map_err(|e| BenchError::Usage(format!("bad mint {s}: {e}")))
}

fn quote_error(e: QuoteError) -> BenchError {
    BenchError::Usage(format!("galileo-quote: {e}"))
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
        assert_eq!(
            told_rate(5.0, 1).unwrap().burst(),
            2,
            "a round trip needs 2"
        );
        assert!(told_rate(2.5, 4).is_err());
        assert!(told_rate(0.0, 4).is_err());
    }
}
