//! Metric names, through the `metrics` facade. Labels come from small closed sets: tier names,
//! breaker, retry and saga names given in configuration, and fixed result words.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `galileo_ratelimit_requests_total` | counter | `tier`, `result` = `allowed` \| `denied` \| `fallback_allowed` \| `fallback_denied` |
//! | `galileo_ratelimit_current_usage` | gauge: share of the limit in use (0–1) at the last decision | `tier` |
//! | `galileo_ratelimit_backend_up` | gauge: 1 while the distributed backend serves, 0 during fallback | `backend` |
//! | `galileo_circuit_breaker_state` | gauge: 0 closed, 1 open, 2 half-open | `name` |
//! | `galileo_circuit_breaker_calls_total` | counter | `name`, `result` |
//! | `galileo_circuit_breaker_latency_seconds` | histogram | `name` |
//! | `galileo_retry_attempts_total` | counter: retries made (not first tries) | `name` |
//! | `galileo_retry_duration_seconds` | histogram: whole retry loop | `name` |
//! | `galileo_saga_executions_total` | counter | `saga`, `result` |
//! | `galileo_saga_steps_total` | counter | `saga`, `step`, `result` |
//! | `galileo_saga_duration_seconds` | histogram | `saga` |
//! | `galileo_saga_active` | gauge | `saga` |

/// Rate-limit decisions by tier and result.
pub const RATELIMIT_REQUESTS: &str = "galileo_ratelimit_requests_total";
/// Share of a tier's limit in use at its last decision.
pub const RATELIMIT_USAGE: &str = "galileo_ratelimit_current_usage";
/// 1 while a distributed limiter's backend serves, 0 while it falls back to the local one.
pub const RATELIMIT_BACKEND_UP: &str = "galileo_ratelimit_backend_up";
/// Breaker state: 0 closed, 1 open, 2 half-open.
pub const BREAKER_STATE: &str = "galileo_circuit_breaker_state";
/// Breaker calls by result.
pub const BREAKER_CALLS: &str = "galileo_circuit_breaker_calls_total";
/// Latency of calls through a breaker.
pub const BREAKER_LATENCY: &str = "galileo_circuit_breaker_latency_seconds";
/// Retries made.
pub const RETRY_ATTEMPTS: &str = "galileo_retry_attempts_total";
/// Duration of whole retry loops.
pub const RETRY_DURATION: &str = "galileo_retry_duration_seconds";
/// Saga executions by result.
pub const SAGA_EXECUTIONS: &str = "galileo_saga_executions_total";
/// Saga steps by result.
pub const SAGA_STEPS: &str = "galileo_saga_steps_total";
/// Saga duration.
pub const SAGA_DURATION: &str = "galileo_saga_duration_seconds";
/// Sagas running.
pub const SAGA_ACTIVE: &str = "galileo_saga_active";
