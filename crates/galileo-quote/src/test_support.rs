//! An in-memory `QuoteSource` for unit tests on paused time.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use galileo_net::{Inventory, IpAllocator, IpLease, Outcome, SourceIp};
use solana_pubkey::Pubkey;
use tokio::time::sleep;

use crate::{Leg, QuoteError, QuoteRequest, QuoteSource, Quoted};

#[derive(Clone, Debug)]
pub(crate) struct FakeQuote {
    pub(crate) input: Pubkey,
    pub(crate) output: Pubkey,
    pub(crate) amount: u64,
    pub(crate) out: u64,
}

impl Quoted for FakeQuote {
    fn input_mint(&self) -> Pubkey {
        self.input
    }
    fn output_mint(&self) -> Pubkey {
        self.output
    }
    fn in_amount(&self) -> u64 {
        self.amount
    }
    fn out_amount(&self) -> u64 {
        self.out
    }
}

/// Answers after `latency`: the buy leg doubles the amount, the sell leg halves it and adds 1
/// (a round trip that pays 1). Switches make the buy leg fail or every call a 429.
#[derive(Debug, Default)]
pub(crate) struct Fake {
    pub(crate) latency: Duration,
    pub(crate) fail_buy: AtomicBool,
    pub(crate) rate_limit: AtomicBool,
    pub(crate) limit: Option<NonZeroUsize>,
    pub(crate) calls: Mutex<Vec<(u64, Leg, IpAddr)>>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
}

impl Fake {
    pub(crate) fn new(latency_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            latency: Duration::from_millis(latency_ms),
            ..Default::default()
        })
    }
    pub(crate) fn calls(&self, leg: Leg) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.1 == leg)
            .count()
    }
}

impl QuoteSource for Fake {
    type Quote = FakeQuote;
    type Instructions = ();

    fn name(&self) -> &str {
        "fake"
    }
    fn backend_limit(&self) -> Option<NonZeroUsize> {
        self.limit
    }

    async fn quote(&self, lease: &IpLease, r: &QuoteRequest) -> Result<FakeQuote, QuoteError> {
        self.calls
            .lock()
            .unwrap()
            .push((r.amount, r.leg, lease.ip()));
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(n, Ordering::SeqCst);
        sleep(self.latency).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.rate_limit.load(Ordering::SeqCst) {
            let retry_after = Some(Duration::from_secs(1));
            lease.report(Outcome::RateLimited { retry_after });
            return Err(QuoteError::RateLimited {
                backend: "fake".into(),
                retry_after,
            });
        }
        lease.report(Outcome::Success);
        if r.leg == Leg::Buy && self.fail_buy.load(Ordering::SeqCst) {
            return Err(QuoteError::Provider {
                backend: "fake".into(),
                status: 500,
                code: None,
                message: "boom".into(),
            });
        }
        let out = match r.leg {
            Leg::Buy => r.amount * 2,
            Leg::Sell => r.amount / 2 + 1,
        };
        Ok(FakeQuote {
            input: r.input_mint,
            output: r.output_mint,
            amount: r.amount,
            out,
        })
    }

    async fn swap_instructions(
        &self,
        _: &IpLease,
        _: &FakeQuote,
        _: &Pubkey,
    ) -> Result<(), QuoteError> {
        Ok(())
    }
}

pub(crate) fn allocator(ips: u8, limit: Option<u32>) -> IpAllocator {
    let inv = Inventory::from_sources(
        (0..ips)
            .map(|i| SourceIp::new(IpAddr::from([127, 0, 1, 10 + i])))
            .collect(),
    )
    .unwrap();
    IpAllocator::builder(&inv)
        .per_ip_inflight_limit(limit.and_then(std::num::NonZeroU32::new))
        .build()
}
