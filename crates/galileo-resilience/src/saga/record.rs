//! What a step log holds, and how its records add up to the sagas still pending.

use std::collections::HashMap;

use serde_json::Value;

use super::SagaId;

/// One record of a step log. In a [`FileLog`](super::FileLog) each is one JSON line, e.g.
/// `{"record":"completed","saga":"execution","id":"…","step":0,"name":"reserve","context":{…}}`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "record", rename_all = "snake_case", deny_unknown_fields)]
pub enum LogRecord {
    /// Step `step` of run `id` executed; `context` is the context right after it.
    Completed {
        /// The saga's name.
        saga: String,
        /// The run.
        id: SagaId,
        /// The step's index.
        step: usize,
        /// The step's name.
        name: String,
        /// The context after the step, as JSON.
        context: Value,
    },
    /// Step `step` of run `id` was compensated; `context` is the context right after it.
    Compensated {
        /// The saga's name.
        saga: String,
        /// The run.
        id: SagaId,
        /// The step's index.
        step: usize,
        /// The step's name.
        name: String,
        /// The context after the compensation, as JSON.
        context: Value,
    },
    /// Run `id` is over: nothing is left to compensate.
    Finished {
        /// The saga's name.
        saga: String,
        /// The run.
        id: SagaId,
        /// Whether it ended compensated (true) or completed (false).
        compensated: bool,
    },
}

impl LogRecord {
    /// The run the record belongs to.
    pub fn id(&self) -> SagaId {
        match self {
            LogRecord::Completed { id, .. }
            | LogRecord::Compensated { id, .. }
            | LogRecord::Finished { id, .. } => *id,
        }
    }

    /// The saga's name.
    pub fn saga(&self) -> &str {
        match self {
            LogRecord::Completed { saga, .. }
            | LogRecord::Compensated { saga, .. }
            | LogRecord::Finished { saga, .. } => saga,
        }
    }
}

/// A run with records and no finish: what recovery works on.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingSaga {
    /// The saga's name.
    pub saga: String,
    /// The run.
    pub id: SagaId,
    /// Names of the steps that completed, in order.
    pub steps: Vec<String>,
    /// How many of them (the last ones) were compensated already.
    pub compensated: usize,
    /// The last recorded context.
    pub context: Value,
}

impl PendingSaga {
    /// Steps completed and not yet compensated.
    pub fn to_compensate(&self) -> usize {
        self.steps.len() - self.compensated
    }
}

/// Folds step log records into the runs still pending, checking that they are consistent (a
/// step completes only after the one before it, compensations go in reverse, ...).
///
/// Both logs here use it; a custom [`StepLog`](super::StepLog) can too: [`check`](Self::check)
/// a record before persisting it, [`apply`](Self::apply) it after. Finished runs are forgotten,
/// so memory is proportional to the runs in flight.
///
/// ```
/// use galileo_resilience::saga::{LogRecord, LogReplay, SagaId};
///
/// let id = SagaId::from(1u128);
/// let done = |step: usize, name: &str| LogRecord::Completed {
///     saga: "s".into(), id, step, name: name.into(), context: serde_json::json!({ "n": step }),
/// };
/// let mut replay = LogReplay::default();
/// replay.apply(done(0, "a")).unwrap();
/// assert!(replay.check(&done(2, "c")).unwrap_err().contains("step 2"));
/// replay.apply(done(1, "b")).unwrap();
/// let pending = replay.pending();
/// assert_eq!(pending[0].steps, ["a", "b"]);
/// assert_eq!(pending[0].context["n"], 1);
/// replay.apply(LogRecord::Finished { saga: "s".into(), id, compensated: false }).unwrap();
/// assert!(replay.pending().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct LogReplay {
    sagas: HashMap<SagaId, (u64, PendingSaga)>,
    seq: u64,
}

impl LogReplay {
    /// Whether `record` may follow the records applied so far; the reason if not.
    pub fn check(&self, record: &LogRecord) -> Result<(), String> {
        let id = record.id();
        let entry = self.sagas.get(&id).map(|(_, p)| p);
        if let Some(p) = entry
            && p.saga != record.saga()
        {
            return Err(format!(
                "run {id} belongs to saga `{}`, not `{}`: run ids must be unique within a log",
                p.saga,
                record.saga()
            ));
        }
        match (record, entry) {
            (LogRecord::Completed { step, .. }, None) if *step != 0 => Err(format!(
                "run {id} starts at step {step}: the records of its earlier steps are missing"
            )),
            (LogRecord::Completed { .. }, None) => Ok(()),
            (LogRecord::Completed { step, .. }, Some(p)) => {
                if p.compensated > 0 {
                    Err(format!(
                        "run {id} completes step {step} after its compensation began: run ids must be unique within a log"
                    ))
                } else if *step != p.steps.len() {
                    Err(format!(
                        "run {id} completes step {step}, but its next step is {}: run ids must be unique within a log",
                        p.steps.len()
                    ))
                } else {
                    Ok(())
                }
            }
            (LogRecord::Compensated { step, .. }, None) => Err(format!(
                "run {id} compensates step {step} but no step of it completed"
            )),
            (LogRecord::Compensated { step, name, .. }, Some(p)) => {
                if p.to_compensate() == 0 {
                    return Err(format!(
                        "run {id} compensates step {step} but all its completed steps are compensated already"
                    ));
                }
                let top = p.steps.len() - p.compensated - 1;
                if *step != top {
                    Err(format!(
                        "run {id} compensates step {step}, but the next to compensate is step {top}"
                    ))
                } else if p.steps[top] != *name {
                    Err(format!(
                        "run {id} compensates step {step} `{name}`, but step {step} completed as `{}`",
                        p.steps[top]
                    ))
                } else {
                    Ok(())
                }
            }
            (LogRecord::Finished { .. }, _) => Ok(()),
        }
    }

    /// Applies `record` after [`check`](Self::check)ing it; on error nothing changes.
    pub fn apply(&mut self, record: LogRecord) -> Result<(), String> {
        self.check(&record)?;
        match record {
            LogRecord::Completed {
                saga,
                id,
                name,
                context,
                ..
            } => {
                let seq = self.seq;
                self.seq += 1;
                let (_, p) = self.sagas.entry(id).or_insert_with(|| {
                    (
                        seq,
                        PendingSaga {
                            saga,
                            id,
                            steps: Vec::new(),
                            compensated: 0,
                            context: Value::Null,
                        },
                    )
                });
                p.steps.push(name);
                p.context = context;
            }
            LogRecord::Compensated { id, context, .. } => {
                if let Some((_, p)) = self.sagas.get_mut(&id) {
                    p.compensated += 1;
                    p.context = context;
                }
            }
            LogRecord::Finished { id, .. } => {
                self.sagas.remove(&id);
            }
        }
        Ok(())
    }

    /// The runs with records and no finish, in the order their first records came.
    pub fn pending(&self) -> Vec<PendingSaga> {
        let mut v: Vec<_> = self.sagas.values().collect();
        v.sort_by_key(|(seq, _)| *seq);
        v.into_iter().map(|(_, p)| p.clone()).collect()
    }

    /// The pending run `id`, if any.
    pub fn get(&self, id: SagaId) -> Option<&PendingSaga> {
        self.sagas.get(&id).map(|(_, p)| p)
    }

    /// Number of pending runs.
    pub fn len(&self) -> usize {
        self.sagas.len()
    }

    /// True when no run is pending.
    pub fn is_empty(&self) -> bool {
        self.sagas.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn completed(id: u128, step: usize, name: &str) -> LogRecord {
        LogRecord::Completed {
            saga: "s".into(),
            id: SagaId::from(id),
            step,
            name: name.into(),
            context: json!(step),
        }
    }

    fn compensated(id: u128, step: usize, name: &str) -> LogRecord {
        LogRecord::Compensated {
            saga: "s".into(),
            id: SagaId::from(id),
            step,
            name: name.into(),
            context: json!(-(step as i64)),
        }
    }

    #[test]
    fn records_are_json_lines_with_a_record_tag() {
        let r = completed(1, 0, "a");
        let line = serde_json::to_string(&r).unwrap();
        assert!(
            line.starts_with(r#"{"record":"completed","saga":"s","id":"0000"#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<LogRecord>(&line).unwrap(), r);
        let e = serde_json::from_str::<LogRecord>(
            r#"{"record":"finished","saga":"s","id":"00000000000000000000000000000001","compensated":true,"extra":1}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    }

    #[test]
    fn replay_tracks_completions_compensations_and_the_last_context() {
        let mut r = LogReplay::default();
        r.apply(completed(2, 0, "a")).unwrap();
        r.apply(completed(1, 0, "a")).unwrap();
        r.apply(completed(2, 1, "b")).unwrap();
        r.apply(compensated(2, 1, "b")).unwrap();
        let p = r.pending();
        assert_eq!(
            p.iter().map(|p| p.id).collect::<Vec<_>>(),
            [SagaId::from(2u128), SagaId::from(1u128)]
        );
        assert_eq!(
            (p[0].steps.len(), p[0].compensated, p[0].to_compensate()),
            (2, 1, 1)
        );
        assert_eq!(p[0].context, json!(-1));
        r.apply(LogRecord::Finished {
            saga: "s".into(),
            id: SagaId::from(2u128),
            compensated: true,
        })
        .unwrap();
        assert_eq!(r.len(), 1);
        assert!(r.get(SagaId::from(2u128)).is_none());
    }

    #[test]
    fn inconsistent_records_are_refused_and_change_nothing() {
        let mut r = LogReplay::default();
        let cases: Vec<(LogRecord, &str)> = vec![
            (completed(1, 1, "b"), "starts at step 1"),
            (compensated(1, 0, "a"), "no step of it completed"),
        ];
        for (rec, want) in cases {
            assert!(r.apply(rec).unwrap_err().contains(want), "{want}");
        }
        r.apply(completed(1, 0, "a")).unwrap();
        r.apply(completed(1, 1, "b")).unwrap();
        let cases: Vec<(LogRecord, &str)> = vec![
            (completed(1, 1, "b"), "its next step is 2"),
            (compensated(1, 0, "a"), "the next to compensate is step 1"),
            (compensated(1, 1, "x"), "completed as `b`"),
            (
                LogRecord::Completed {
                    saga: "other".into(),
                    id: SagaId::from(1u128),
                    step: 2,
                    name: "c".into(),
                    context: json!(0),
                },
                "belongs to saga `s`, not `other`",
            ),
        ];
        for (rec, want) in cases {
            assert!(r.apply(rec).unwrap_err().contains(want), "{want}");
        }
        r.apply(compensated(1, 1, "b")).unwrap();
        assert!(
            r.apply(completed(1, 2, "c"))
                .unwrap_err()
                .contains("after its compensation began")
        );
        r.apply(compensated(1, 0, "a")).unwrap();
        assert!(
            r.apply(compensated(1, 0, "a"))
                .unwrap_err()
                .contains("compensated already")
        );
        assert_eq!(r.pending()[0].to_compensate(), 0);
    }
}
