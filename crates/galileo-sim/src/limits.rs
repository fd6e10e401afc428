//! The simulator's own limits: classic token buckets in exact integer arithmetic, per source
//! IP, per API key and global, and an overload cap.
//!
//! Deliberately independent of Galileo's limiters (`galileo-resilience`): the simulator is the
//! other side the client is measured against, so a bug shared by both could never show.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::config::{BucketConfig, LimitsConfig, RetryAfterMode};

/// One token, in the bucket's fixed-point unit (10⁻¹⁵ token).
const TOKEN: u128 = 1_000_000_000_000_000;

/// A token bucket: `burst` tokens, refilled continuously at `rate` per second.
///
/// Fixed point: tokens are counted in 10⁻¹⁵ and the rate in millionths of a token per second,
/// so `elapsed_ns × rate_micro` adds exactly the refill, with no drift over any run.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Tokens per second, in millionths.
    rate_micro: u128,
    capacity: u128,
    tokens: u128,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(cfg: &BucketConfig, now: Instant) -> Self {
        let capacity = u128::from(cfg.burst) * TOKEN;
        Self {
            rate_micro: (cfg.rate * 1e6).round().max(1.0) as u128,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        if now > self.last {
            let ns = (now - self.last).as_nanos();
            self.tokens = (self.tokens + ns * self.rate_micro).min(self.capacity);
            self.last = now;
        }
    }

    /// Whether one token is there at `now`; if not, how long until it is.
    pub fn peek(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= TOKEN {
            return Ok(());
        }
        let missing = TOKEN - self.tokens;
        Err(Duration::from_nanos(
            u64::try_from(missing.div_ceil(self.rate_micro)).unwrap_or(u64::MAX),
        ))
    }

    /// Takes the token a successful `peek` saw.
    pub fn take(&mut self) {
        self.tokens -= TOKEN;
    }

    /// Whole tokens left at `now`.
    pub fn available(&mut self, now: Instant) -> u64 {
        self.refill(now);
        u64::try_from(self.tokens / TOKEN).unwrap_or(u64::MAX)
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A bucket is empty: 429, with the wait until it holds a token.
    RateLimited {
        /// Which bucket.
        scope: Scope,
        /// How long until it holds a token.
        wait: Duration,
    },
    /// Too many requests in progress: 503.
    Overloaded,
}

/// Which bucket refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The global bucket.
    Global,
    /// The source IP's bucket.
    Ip,
    /// The API key's bucket.
    Key,
}

/// The buckets of one service.
#[derive(Debug, Default)]
pub struct Limiter {
    cfg: LimitsConfig,
    global: Option<TokenBucket>,
    per_ip: HashMap<IpAddr, TokenBucket>,
    per_key: HashMap<String, TokenBucket>,
}

impl Limiter {
    /// Buckets as `cfg` says, full at `now`.
    pub fn new(cfg: LimitsConfig, now: Instant) -> Self {
        Self {
            global: cfg.global.as_ref().map(|b| TokenBucket::new(b, now)),
            cfg,
            per_ip: HashMap::new(),
            per_key: HashMap::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &LimitsConfig {
        &self.cfg
    }

    /// Admits a request from `ip` (with `key`) at `now` with `in_progress` already running, or
    /// says why not. Takes a token from every bucket only if all have one.
    pub fn admit(
        &mut self,
        ip: IpAddr,
        key: Option<&str>,
        now: Instant,
        in_progress: u32,
    ) -> Result<(), Refusal> {
        if self
            .cfg
            .max_concurrent
            .is_some_and(|max| in_progress >= max)
        {
            return Err(Refusal::Overloaded);
        }
        if let Some(b) = &mut self.global {
            b.peek(now).map_err(|wait| Refusal::RateLimited {
                scope: Scope::Global,
                wait,
            })?;
        }
        if let Some(cfg) = &self.cfg.per_ip {
            let b = self
                .per_ip
                .entry(ip)
                .or_insert_with(|| TokenBucket::new(cfg, now));
            b.peek(now).map_err(|wait| Refusal::RateLimited {
                scope: Scope::Ip,
                wait,
            })?;
        }
        if let (Some(cfg), Some(key)) = (&self.cfg.per_key, key) {
            let b = self
                .per_key
                .entry(key.to_owned())
                .or_insert_with(|| TokenBucket::new(cfg, now));
            b.peek(now).map_err(|wait| Refusal::RateLimited {
                scope: Scope::Key,
                wait,
            })?;
        }
        // Every bucket has a token: take them all.
        if let Some(b) = &mut self.global {
            b.take();
        }
        if self.cfg.per_ip.is_some() {
            self.per_ip.get_mut(&ip).expect("peeked").take();
        }
        if let (Some(_), Some(key)) = (&self.cfg.per_key, key) {
            self.per_key.get_mut(key).expect("peeked").take();
        }
        Ok(())
    }
}

/// The `Retry-After` header value for a wait, in the configured form.
pub fn retry_after(mode: RetryAfterMode, wait: Duration, now: SystemTime) -> Option<String> {
    // Whole seconds, rounded up: "0" would invite an immediate retry.
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    match mode {
        RetryAfterMode::Seconds => Some(secs.to_string()),
        RetryAfterMode::HttpDate => Some(httpdate::fmt_http_date(now + Duration::from_secs(secs))),
        RetryAfterMode::None => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bucket(rate: f64, burst: u32) -> BucketConfig {
        BucketConfig { rate, burst }
    }

    /// Admissions of a dense stream of requests, one every `step`, over `span`.
    fn admitted(rate: f64, burst: u32, step: Duration, span: Duration) -> u64 {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(&bucket(rate, burst), t0);
        let mut n = 0;
        let mut t = t0;
        while t <= t0 + span {
            if b.peek(t).is_ok() {
                b.take();
                n += 1;
            }
            t += step;
        }
        n
    }

    #[test]
    fn a_bucket_admits_exactly_burst_plus_rate_times_time() {
        // 10/s, burst 5, asked every millisecond for 30 s: 5 + 10 × 30 = 305.
        assert_eq!(
            admitted(10.0, 5, Duration::from_millis(1), Duration::from_secs(30)),
            305
        );
        // Fractional rate: 0.5/s, burst 2, asked every 7 ms: admission k (k ≥ 3) once
        // 2 + t/2 ≥ k. The last ask before 60 s (59.997 s) sees 31, the next (60.004 s) 32.
        assert_eq!(
            admitted(
                0.5,
                2,
                Duration::from_millis(7),
                Duration::from_millis(59_997)
            ),
            31
        );
        assert_eq!(
            admitted(
                0.5,
                2,
                Duration::from_millis(7),
                Duration::from_millis(60_004)
            ),
            32
        );
        // A full bucket banks nothing: with burst 1 the refill past the first token is lost
        // while the bucket waits for the next ask, 2 ms each time, so admissions come every
        // 2.002 s: 0, 2.002, ..., 58.058 = 30 by 60.004 s.
        assert_eq!(
            admitted(
                0.5,
                1,
                Duration::from_millis(7),
                Duration::from_millis(60_004)
            ),
            30
        );
        // 1,000/s over 10 s, asked every 100 µs: 1 + 10,000.
        assert_eq!(
            admitted(
                1000.0,
                1,
                Duration::from_micros(100),
                Duration::from_secs(10)
            ),
            10_001
        );
    }

    #[test]
    fn the_wait_is_exact() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(&bucket(4.0, 1), t0);
        b.peek(t0).unwrap();
        b.take();
        assert_eq!(b.peek(t0), Err(Duration::from_millis(250)));
        assert!(b.peek(t0 + Duration::from_millis(249)).is_err());
        assert!(b.peek(t0 + Duration::from_millis(250)).is_ok());
    }

    #[test]
    fn every_bucket_must_have_a_token_and_a_refusal_takes_none() {
        let cfg = LimitsConfig {
            per_ip: Some(bucket(1.0, 2)),
            global: Some(bucket(1.0, 3)),
            per_key: Some(bucket(1.0, 1)),
            ..LimitsConfig::default()
        };
        let t0 = Instant::now();
        let mut l = Limiter::new(cfg, t0);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        l.admit(a, Some("k1"), t0, 0).unwrap();
        // Same key again: the key bucket refuses, and nothing is taken elsewhere.
        assert!(matches!(
            l.admit(a, Some("k1"), t0, 0),
            Err(Refusal::RateLimited {
                scope: Scope::Key,
                ..
            })
        ));
        l.admit(a, Some("k2"), t0, 0).unwrap();
        assert!(matches!(
            l.admit(a, Some("k3"), t0, 0),
            Err(Refusal::RateLimited {
                scope: Scope::Ip,
                ..
            })
        ));
        l.admit(b, None, t0, 0).unwrap();
        assert!(matches!(
            l.admit(b, None, t0, 0),
            Err(Refusal::RateLimited {
                scope: Scope::Global,
                ..
            })
        ));
        let over = LimitsConfig {
            max_concurrent: Some(2),
            ..LimitsConfig::default()
        };
        let mut l = Limiter::new(over, t0);
        assert_eq!(l.admit(a, None, t0, 2), Err(Refusal::Overloaded));
        assert!(l.admit(a, None, t0, 1).is_ok());
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let wait = Duration::from_millis(1500);
        assert_eq!(
            retry_after(RetryAfterMode::Seconds, wait, now).as_deref(),
            Some("2")
        );
        assert_eq!(
            retry_after(RetryAfterMode::Seconds, Duration::from_millis(10), now).as_deref(),
            Some("1")
        );
        assert_eq!(
            retry_after(RetryAfterMode::HttpDate, wait, now).as_deref(),
            Some("Wed, 21 Oct 2015 07:28:02 GMT")
        );
        assert_eq!(retry_after(RetryAfterMode::None, wait, now), None);
    }

    proptest! {
        /// Over any run, admissions ≤ burst + rate × elapsed, and a dense stream reaches it.
        #[test]
        fn never_more_than_the_bucket_allows(
            rate_tenths in 1u32..500,
            burst in 1u32..20,
            gaps in proptest::collection::vec(0u64..400, 1..300),
        ) {
            let rate = f64::from(rate_tenths) / 10.0;
            let t0 = Instant::now();
            let mut b = TokenBucket::new(&bucket(rate, burst), t0);
            let mut t = t0;
            let mut n = 0u64;
            for gap in gaps {
                t += Duration::from_millis(gap);
                if b.peek(t).is_ok() {
                    b.take();
                    n += 1;
                }
            }
            let elapsed = (t - t0).as_secs_f64();
            prop_assert!(n as f64 <= f64::from(burst) + rate * elapsed + 1e-9, "{n} > {burst} + {rate} × {elapsed}");
        }
    }
}
