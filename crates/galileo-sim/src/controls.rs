//! A running service's knobs: limits, latency and faults can be changed while it serves, and a
//! test can force the next fault it wants to see.
//!
//! Every admission decision (buckets, overload, faults, latency) is taken under one lock, so
//! concurrent requests see a consistent state and `max_concurrent` is never overshot.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::SimError;
use crate::config::{FaultsConfig, LatencyConfig, LimitsConfig, ServiceConfig};
use crate::faults::{Fault, FaultPicker, RequestFaults};
use crate::latency;
use crate::limits::{Limiter, Refusal};
use crate::stats::Stats;

/// The knobs of one running service. Cheap to clone; every clone steers the same service.
#[derive(Clone, Debug)]
pub struct Controls {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    service: &'static str,
    stats: Stats,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    limiter: Limiter,
    latency: LatencyConfig,
    faults: FaultsConfig,
    picker: FaultPicker,
    rng: StdRng,
    /// Admitted requests not yet answered.
    active: u32,
}

/// What the core does with a request.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Refuse it.
    Refuse(Refusal),
    /// Serve it after `delay`, with these faults. It counts against `max_concurrent` until
    /// the guard drops.
    Serve {
        delay: Duration,
        faults: RequestFaults,
        slot: ActiveSlot,
    },
}

/// An admitted request's place under `max_concurrent`.
#[derive(Debug)]
pub(crate) struct ActiveSlot(Controls);

impl Drop for ActiveSlot {
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.active = s.active.saturating_sub(1);
    }
}

impl Controls {
    pub(crate) fn new(service: &'static str, cfg: &ServiceConfig, seed: u64, stats: Stats) -> Self {
        Self {
            inner: Arc::new(Inner {
                service,
                stats,
                state: Mutex::new(State {
                    limiter: Limiter::new(cfg.limits, Instant::now()),
                    latency: cfg.latency,
                    faults: cfg.faults,
                    picker: FaultPicker::default(),
                    rng: StdRng::seed_from_u64(seed),
                    active: 0,
                }),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self, f: impl FnOnce(&mut ServiceConfig)) -> Result<(), SimError> {
        let mut cfg = ServiceConfig::default();
        f(&mut cfg);
        cfg.validate(self.inner.service)
    }

    /// The service's name.
    pub fn service(&self) -> &'static str {
        self.inner.service
    }

    /// The limits in force.
    pub fn limits(&self) -> LimitsConfig {
        *self.state().limiter.config()
    }

    /// Replaces the limits; every bucket starts full.
    pub fn set_limits(&self, limits: LimitsConfig) -> Result<(), SimError> {
        self.check(|c| c.limits = limits)?;
        self.state().limiter = Limiter::new(limits, Instant::now());
        Ok(())
    }

    /// The latency model in force.
    pub fn latency(&self) -> LatencyConfig {
        self.state().latency
    }

    /// Replaces the latency model (for requests admitted from now on).
    pub fn set_latency(&self, latency: LatencyConfig) -> Result<(), SimError> {
        self.check(|c| c.latency = latency)?;
        self.state().latency = latency;
        Ok(())
    }

    /// The fault probabilities in force.
    pub fn faults(&self) -> FaultsConfig {
        self.state().faults
    }

    /// Replaces the fault probabilities.
    pub fn set_faults(&self, faults: FaultsConfig) -> Result<(), SimError> {
        self.check(|c| c.faults = faults)?;
        self.state().faults = faults;
        Ok(())
    }

    /// The next request (connection, for a TLS fault; stream, for a stream fault) this fault
    /// can apply to gets it, whatever the probabilities say.
    pub fn force(&self, fault: Fault) {
        self.force_times(fault, 1);
    }

    /// As [`Controls::force`], for the next `times` chances.
    pub fn force_times(&self, fault: Fault, times: u32) {
        self.state().picker.force(fault, times);
    }

    /// Forced faults not used yet.
    pub fn forced_pending(&self, fault: Fault) -> u32 {
        self.state().picker.pending(fault)
    }

    /// Forgets every forced fault.
    pub fn clear_forced(&self) {
        self.state().picker.clear();
    }

    /// The service's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// For streaming services: the fault of a stream `ip` opens now, if any
    /// ([`Fault::WsCloseMidStream`] or [`Fault::StreamSilence`]). It is counted in the stats.
    pub fn stream_fault(&self, ip: IpAddr) -> Option<Fault> {
        let fault = {
            let s = &mut *self.state();
            s.picker.for_stream(&s.faults, &mut s.rng)
        };
        if let Some(f) = fault {
            self.inner.stats.fault(ip, f);
        }
        fault
    }

    /// Whether a new connection from `ip` fails its TLS handshake.
    pub(crate) fn tls_handshake_fault(&self, ip: IpAddr) -> bool {
        let hit = {
            let s = &mut *self.state();
            s.picker
                .pick(Fault::TlsHandshakeFailure, &s.faults, &mut s.rng)
        };
        if hit {
            self.inner.stats.fault(ip, Fault::TlsHandshakeFailure);
        }
        hit
    }

    /// Decides a request's fate: refused, or served after a delay with some faults.
    pub(crate) fn decide(&self, ip: IpAddr, key: Option<&str>, now: Instant) -> Decision {
        let s = &mut *self.state();
        if let Err(refusal) = s.limiter.admit(ip, key, now, s.active) {
            return Decision::Refuse(refusal);
        }
        s.active += 1;
        Decision::Serve {
            delay: latency::sample(&s.latency, &mut s.rng),
            faults: s.picker.for_request(&s.faults, &mut s.rng),
            slot: ActiveSlot(self.clone()),
        }
    }

    /// The slow-body fault's chunk size and pause.
    pub(crate) fn slow_body(&self) -> (usize, Duration) {
        let f = self.state().faults;
        (
            f.slow_body_chunk,
            Duration::from_millis(f.slow_body_delay_ms),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BucketConfig;

    fn controls(cfg: ServiceConfig) -> Controls {
        Controls::new("t", &cfg, 1, Stats::new("t"))
    }

    #[tokio::test(start_paused = true)]
    async fn max_concurrent_counts_admitted_requests_until_their_slot_drops() {
        let c = controls(ServiceConfig {
            limits: LimitsConfig {
                max_concurrent: Some(2),
                ..LimitsConfig::default()
            },
            ..ServiceConfig::default()
        });
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let now = Instant::now();
        let a = c.decide(ip, None, now);
        let _b = c.decide(ip, None, now);
        assert!(matches!(
            c.decide(ip, None, now),
            Decision::Refuse(Refusal::Overloaded)
        ));
        drop(a);
        assert!(matches!(c.decide(ip, None, now), Decision::Serve { .. }));
    }

    /// Two clients asking together every millisecond for 30 s (inclusive) on paused time,
    /// through the same decision the server takes for each request.
    async fn admitted_over_30s(limits: LimitsConfig) -> [u32; 2] {
        let c = controls(ServiceConfig {
            limits,
            ..ServiceConfig::default()
        });
        let ips: [IpAddr; 2] = ["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
        let mut admitted = [0u32; 2];
        for _ in 0..=30_000 {
            for (n, ip) in admitted.iter_mut().zip(ips) {
                if let Decision::Serve { .. } = c.decide(ip, None, Instant::now()) {
                    *n += 1;
                }
            }
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        admitted
    }

    /// A bucket of r/s with burst b admits exactly b + r·t over a paused-time run.
    #[tokio::test(start_paused = true)]
    async fn limits_are_exact_over_a_paused_time_run() {
        // Per IP, 10/s with burst 5: 5 + 10 × 30 = 305 each.
        let per_ip = LimitsConfig {
            per_ip: Some(BucketConfig {
                rate: 10.0,
                burst: 5,
            }),
            ..LimitsConfig::default()
        };
        assert_eq!(admitted_over_30s(per_ip).await, [305, 305]);
        // Global, 25/s with burst 3, shared: 3 + 25 × 30 = 753 in all.
        let global = LimitsConfig {
            global: Some(BucketConfig {
                rate: 25.0,
                burst: 3,
            }),
            ..LimitsConfig::default()
        };
        let [a, b] = admitted_over_30s(global).await;
        assert_eq!(a + b, 753);
    }

    #[tokio::test(start_paused = true)]
    async fn bad_knobs_are_refused_and_good_ones_apply() {
        let c = controls(ServiceConfig::default());
        let e = c
            .set_faults(FaultsConfig {
                reset: 1.5,
                ..FaultsConfig::default()
            })
            .unwrap_err();
        assert!(
            e.is_config() && e.to_string().contains("faults.reset"),
            "{e}"
        );
        c.set_limits(LimitsConfig {
            per_ip: Some(BucketConfig {
                rate: 1.0,
                burst: 1,
            }),
            ..LimitsConfig::default()
        })
        .unwrap();
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let now = Instant::now();
        assert!(matches!(c.decide(ip, None, now), Decision::Serve { .. }));
        assert!(matches!(
            c.decide(ip, None, now),
            Decision::Refuse(Refusal::RateLimited { .. })
        ));
        c.force(Fault::StreamSilence);
        assert_eq!(c.stream_fault(ip), Some(Fault::StreamSilence));
        assert_eq!(c.stream_fault(ip), None);
        assert_eq!(
            c.stats()
                .snapshot()
                .ip(ip)
                .fault_count(Fault::StreamSilence),
            1
        );
    }
}
