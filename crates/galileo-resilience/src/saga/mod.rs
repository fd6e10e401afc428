//! Sagas: steps that execute and compensate, run in order and compensated in reverse on failure,
//! with a durable step log so a crashed process compensates on restart.
//!
//! - A [`Step<C>`](Step) executes and compensates on a typed context `C`, under a timeout per
//!   attempt and a retry policy ([`StepPolicy`], configured per step by [`SagaConfig`]).
//!   Every call gets a [`StepKey`] (run id + step index) to make it idempotent.
//! - A [`Saga`] is a sequence of steps of one type: steps of several kinds are an enum that
//!   implements `Step` by matching, so runs are statically dispatched and box nothing.
//! - When a step fails for good, the completed steps are compensated in reverse order;
//!   [`SagaError`] says whether everything was undone ([`SagaError::Failed`]) or not.
//! - A [`StepLog`] ([`InMemoryLog`], [`FileLog`]) records the context after each step and
//!   compensation; [`Saga::recover`] compensates the runs a crash or cancellation left
//!   pending.
//! - [`SagaEvent`]s (completed / failed / compensated / ...) go to
//!   [`Saga::subscribe`] receivers.
//! - The policy itself is the sans-IO [`SagaMachine`]; [`Saga`] is its async driver.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use galileo_resilience::saga::{
//!     FileLog, Saga, SagaConfig, SagaError, SagaId, Step, StepKey, StepPolicy,
//! };
//!
//! /// What the steps share; serializable so the step log can record it.
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! struct Trade {
//!     reserved: Option<u64>,
//!     signature: Option<String>,
//! }
//!
//! /// Each kind of step is a variant: one type, static dispatch.
//! enum TradeStep {
//!     Reserve { lamports: u64 },
//!     Land { fail: bool },
//! }
//!
//! impl Step<Trade> for TradeStep {
//!     type Error = String;
//!
//!     fn name(&self) -> &str {
//!         match self {
//!             TradeStep::Reserve { .. } => "reserve",
//!             TradeStep::Land { .. } => "land",
//!         }
//!     }
//!
//!     async fn execute(&self, ctx: &mut Trade, key: StepKey) -> Result<(), String> {
//!         match self {
//!             TradeStep::Reserve { lamports } => ctx.reserved = Some(*lamports),
//!             TradeStep::Land { fail: true } => return Err("blockhash expired".into()),
//!             TradeStep::Land { fail: false } => ctx.signature = Some(format!("sig-{key}")),
//!         }
//!         Ok(())
//!     }
//!
//!     async fn compensate(&self, ctx: &mut Trade, _key: StepKey) -> Result<(), String> {
//!         // Idempotent: releasing twice releases once.
//!         if let TradeStep::Reserve { .. } = self {
//!             ctx.reserved = None;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let config = SagaConfig::default().with_execute("land", StepPolicy {
//!     timeout_ms: 30_000,
//!     max_retries: 2,
//!     retry_delay_ms: 400,
//! });
//! let saga = Saga::new(
//!     "execution",
//!     vec![TradeStep::Reserve { lamports: 5_000 }, TradeStep::Land { fail: true }],
//!     &config,
//! )?;
//!
//! let dir = tempfile::tempdir()?;
//! let log = FileLog::open(dir.path().join("sagas.jsonl")).await?;
//! // At startup: compensate whatever a crash left half done.
//! assert!(saga.recover(&log).await?.is_complete());
//!
//! let mut trade = Trade::default();
//! let err = saga.run_logged(SagaId::random(), &mut trade, &log).await.unwrap_err();
//! // `land` failed 3 times (1 + 2 retries), then `reserve` was compensated.
//! assert!(err.is_failed() && !err.needs_recovery());
//! assert_eq!(err.failed_step().map(|s| s.name()), Some("land"));
//! assert_eq!(trade.reserved, None);
//! assert!(err.to_string().contains("failed after 3 attempts: blockhash expired"));
//! # Ok(()) }
//! ```

mod config;
mod error;
mod event;
mod executor;
mod file_log;
mod id;
mod instruments;
mod journal;
mod log;
mod machine;
mod memory_log;
mod record;
mod step;

#[cfg(test)]
mod tests;

pub use config::{SagaConfig, StepOverride, StepPolicy};
pub use error::{SagaError, StepError, StepFailure};
pub use event::SagaEvent;
pub use executor::{Recovery, Saga};
pub use file_log::{FileLog, TornTail};
pub use id::{SagaId, StepKey};
pub use log::StepLog;
pub use machine::{Action, AttemptResult, Outcome, SagaMachine, SagaPlan, StepPolicies};
pub use memory_log::InMemoryLog;
pub use record::{LogRecord, LogReplay, PendingSaga};
pub use step::{Step, StepRef};
