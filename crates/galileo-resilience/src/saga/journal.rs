//! Where a run records its progress: nowhere, or a step log. Private: it lets one driver serve
//! runs whose context need not be serializable and runs that are logged.

use serde::Serialize;

use super::{LogRecord, SagaId, StepLog, StepRef};
use crate::Error;

pub(super) trait Journal<C>: Sync {
    async fn completed(&self, saga: &str, id: SagaId, step: &StepRef, ctx: &C)
    -> Result<(), Error>;
    async fn compensated(
        &self,
        saga: &str,
        id: SagaId,
        step: &StepRef,
        ctx: &C,
    ) -> Result<(), Error>;
    async fn finish(&self, saga: &str, id: SagaId, compensated: bool) -> Result<(), Error>;
}

/// Runs without a log.
pub(super) struct Unlogged;

impl<C: Sync> Journal<C> for Unlogged {
    async fn completed(&self, _: &str, _: SagaId, _: &StepRef, _: &C) -> Result<(), Error> {
        Ok(())
    }
    async fn compensated(&self, _: &str, _: SagaId, _: &StepRef, _: &C) -> Result<(), Error> {
        Ok(())
    }
    async fn finish(&self, _: &str, _: SagaId, _: bool) -> Result<(), Error> {
        Ok(())
    }
}

/// Runs on a step log.
pub(super) struct Logged<'l, L>(pub(super) &'l L);

fn snapshot<C: Serialize>(ctx: &C) -> Result<serde_json::Value, Error> {
    serde_json::to_value(ctx).map_err(|e| Error::InvalidConfig {
        what: "saga",
        reason: format!(
            "the context cannot be recorded as JSON ({e}); make its Serialize implementation total (maps need string keys)"
        ),
    })
}

/// The fields a step record shares: saga name, step index and name, context snapshot.
fn fields<C: Serialize>(
    saga: &str,
    step: &StepRef,
    ctx: &C,
) -> Result<(String, usize, String, serde_json::Value), Error> {
    Ok((
        saga.to_owned(),
        step.index(),
        step.name().to_owned(),
        snapshot(ctx)?,
    ))
}

impl<C: Serialize + Sync, L: StepLog> Journal<C> for Logged<'_, L> {
    async fn completed(
        &self,
        saga: &str,
        id: SagaId,
        step: &StepRef,
        ctx: &C,
    ) -> Result<(), Error> {
        let (saga, step, name, context) = fields(saga, step, ctx)?;
        let record = LogRecord::Completed {
            saga,
            id,
            step,
            name,
            context,
        };
        self.0.append(record).await
    }

    async fn compensated(
        &self,
        saga: &str,
        id: SagaId,
        step: &StepRef,
        ctx: &C,
    ) -> Result<(), Error> {
        let (saga, step, name, context) = fields(saga, step, ctx)?;
        let record = LogRecord::Compensated {
            saga,
            id,
            step,
            name,
            context,
        };
        self.0.append(record).await
    }

    async fn finish(&self, saga: &str, id: SagaId, compensated: bool) -> Result<(), Error> {
        self.0.finish(saga, id, compensated).await
    }
}
