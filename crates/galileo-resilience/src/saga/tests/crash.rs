//! A saga whose process is killed between steps compensates on restart (file log).
//!
//! The parent test re-runs this test binary as a child process (only the child test, selected
//! with `--exact`, told where its log is by an environment variable). The child runs a saga on
//! a `FileLog` and, when step 2 starts, says so on stdout and waits; the parent kills it with
//! SIGKILL, then recovers from the same file as a restarted process would.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{Call, Calls, Ctx};
use crate::saga::{FileLog, Saga, SagaConfig, SagaId, Step, StepKey, StepLog, StepPolicy};

const LOG_ENV: &str = "GALILEO_SAGA_CRASH_TEST_LOG";
const SIDE_ENV: &str = "GALILEO_SAGA_CRASH_TEST_SIDE";
const MARKER: &str = "galileo-saga-crash-test: step 2 started";
const NAMES: [&str; 4] = ["reserve", "swap", "sign", "land"];

/// Steps that record completed executions in a side file (the child) or compensations in
/// memory (the parent); `hang_at` announces itself and never returns.
struct CrashStep {
    index: usize,
    side: Option<PathBuf>,
    hang_at: Option<usize>,
    calls: Calls,
}

impl Step<Ctx> for CrashStep {
    type Error = String;

    fn name(&self) -> &str {
        NAMES[self.index]
    }

    async fn execute(&self, ctx: &mut Ctx, _key: StepKey) -> Result<(), String> {
        if self.hang_at == Some(self.index) {
            let mut out = std::io::stdout();
            writeln!(out, "\n{MARKER}").map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
            std::future::pending::<()>().await;
        }
        ctx.done.push(self.index);
        if let Some(side) = &self.side {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(side)
                .map_err(|e| e.to_string())?;
            writeln!(f, "{}", self.index).map_err(|e| e.to_string())?;
            f.sync_data().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    async fn compensate(&self, ctx: &mut Ctx, key: StepKey) -> Result<(), String> {
        self.calls.lock().unwrap().push((
            Call::Compensate {
                step: self.index,
                key: key.to_string(),
                seen: ctx.done.clone(),
            },
            tokio::time::Instant::now(),
        ));
        if ctx.done.last() == Some(&self.index) {
            ctx.done.pop();
        }
        Ok(())
    }
}

fn definition(
    side: Option<PathBuf>,
    hang_at: Option<usize>,
    calls: &Calls,
) -> Saga<CrashStep, Ctx> {
    let steps = (0..NAMES.len())
        .map(|index| CrashStep {
            index,
            side: side.clone(),
            hang_at,
            calls: calls.clone(),
        })
        .collect();
    // Long timeouts: the child must still be in step 2 when it is killed.
    let config = SagaConfig {
        execute: StepPolicy {
            timeout_ms: 3_600_000,
            ..StepPolicy::EXECUTE
        },
        ..SagaConfig::default()
    };
    Saga::new("execution", steps, &config).unwrap()
}

/// The child: does nothing unless the parent test started it.
#[tokio::test]
async fn crash_child() {
    let (Some(log), Some(side)) = (std::env::var_os(LOG_ENV), std::env::var_os(SIDE_ENV)) else {
        return;
    };
    let log = FileLog::open(PathBuf::from(log)).await.unwrap();
    let saga = definition(Some(side.into()), Some(2), &Calls::default());
    let r = saga
        .run_logged(SagaId::random(), &mut Ctx::default(), &log)
        .await;
    panic!("the child should have been killed in step 2, yet the run ended: {r:?}");
}

#[tokio::test]
async fn a_saga_killed_between_steps_compensates_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("sagas.jsonl");
    let side = dir.path().join("executed");
    let child_test = format!(
        "{}::crash_child",
        module_path!().split_once("::").unwrap().1
    );
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &child_test, "--nocapture", "--test-threads=1"])
        .env(LOG_ENV, &log_path)
        .env(SIDE_ENV, &side)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // A guard against a child that hangs before the marker, not a wait for it.
    let seen = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            // libtest may have written the test's name on the same line.
            if line.ends_with(MARKER) {
                return true;
            }
        }
        false
    })
    .await
    .expect("the child neither reached step 2 nor exited");
    assert!(
        seen,
        "the child exited without reaching step 2 (is `{child_test}` its name?)"
    );
    child.kill().await.unwrap();
    let status = child.wait().await.unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "{status:?}");

    // What the child did before it died: steps 0 and 1, nothing of 2.
    let executed = std::fs::read_to_string(&side).unwrap();
    assert_eq!(executed, "0\n1\n");

    // The restarted process.
    let log = FileLog::open(&log_path).await.unwrap();
    assert_eq!(log.torn_tail(), None);
    let pending = log.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].steps, ["reserve", "swap"]);
    let id = pending[0].id;
    let calls = Calls::default();
    let saga = definition(None, None, &calls);
    let report = saga.recover(&log).await.unwrap();
    assert_eq!(report.compensated, [id]);
    assert!(report.is_complete());
    let comps = super::calls(&calls);
    assert_eq!(
        comps,
        [
            Call::Compensate {
                step: 1,
                key: format!("{id}-1"),
                seen: vec![0, 1]
            },
            Call::Compensate {
                step: 0,
                key: format!("{id}-0"),
                seen: vec![0]
            },
        ]
    );
    drop(log);

    // Restarting again finds nothing to do: each compensation ran once.
    let log = FileLog::open(&log_path).await.unwrap();
    assert!(log.pending().await.unwrap().is_empty());
    assert!(saga.recover(&log).await.unwrap().compensated.is_empty());
    assert_eq!(super::calls(&calls).len(), 2);
}
