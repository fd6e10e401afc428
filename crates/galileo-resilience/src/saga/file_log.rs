//! A step log in an append-only file of JSON lines.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{LogRecord, LogReplay, PendingSaga, SagaId, StepLog};
use crate::Error;

/// A [`StepLog`] in a file: one JSON [`LogRecord`] per line, appended and flushed to disk
/// (`sync_data`) before [`append`](StepLog::append) returns, so a record survives the process
/// being killed and the machine losing power.
///
/// - **Crash tolerance.** A crash can cut the last line short. [`open`](Self::open) drops an
///   unterminated last line that does not parse, says so in a warning and in
///   [`torn_tail`](Self::torn_tail), and goes on: the append it belonged to never returned,
///   so no step acted on it. Any other line that does not parse, or contradicts the lines
///   before it, is [`Error::StepLogCorrupt`] with its line number.
/// - **Bounded size.** Records of finished runs are dead weight. `open` rewrites the file with
///   the pending runs only, and so does `finish` once dead bytes exceed both 1 MiB and the
///   live bytes (amortised O(1) per record). The rewrite goes to `<path>.compact`, is synced,
///   then renamed over the log, so a crash leaves either the old file or the new one.
/// - **One writer.** `open` takes an exclusive lock on `<path>.lock` for the `FileLog`'s
///   lifetime; a second `open` of the same path, in this process or another, fails instead
///   of interleaving writes. The operating system drops the lock when a process dies.
/// - **Failed writes.** If a write or sync fails, the file is truncated back to its last
///   good record. If even that fails, the log refuses further appends until reopened.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), galileo_resilience::Error> {
/// use galileo_resilience::saga::{FileLog, LogRecord, SagaId, StepLog};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("sagas.jsonl");
/// let id = SagaId::random();
/// {
///     let log = FileLog::open(&path).await?;
///     log.append(LogRecord::Completed {
///         saga: "s".into(), id, step: 0, name: "a".into(), context: serde_json::json!({}),
///     }).await?;
/// } // the process "crashes" here: no finish
/// let log = FileLog::open(&path).await?;
/// assert_eq!(log.pending().await?[0].id, id);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileLog {
    path: PathBuf,
    inner: Mutex<Inner>,
    torn: Option<TornTail>,
    _lock: std::fs::File,
}

/// A last line cut short by a crash, dropped when the log was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Its 1-based line number.
    pub line: usize,
    /// Its length in bytes.
    pub bytes: usize,
}

#[derive(Debug)]
struct Inner {
    file: tokio::fs::File,
    replay: LogReplay,
    /// The lines of each pending run, newline included.
    lines: HashMap<SagaId, Vec<String>>,
    /// Bytes in the file.
    len: u64,
    /// Bytes of pending runs' lines.
    live: u64,
    /// Lines in the file.
    line_count: usize,
    /// Why appends are refused, after a failed write that could not be undone.
    broken: Option<String>,
}

/// Dead bytes below this are never worth a rewrite.
const COMPACT_MIN_DEAD: u64 = 1 << 20;

impl FileLog {
    /// Opens (or creates) the log at `path`, replays it, drops a torn last line, and rewrites
    /// it with only the pending runs.
    ///
    /// Fails with [`Error::StepLog`] when the file cannot be read or written, or another
    /// `FileLog` holds it, and with [`Error::StepLogCorrupt`] when a line is unreadable.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source| Error::StepLog {
            path: path.clone(),
            source,
        };
        let lock = lock(&path).await.map_err(io_err)?;
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(e)),
        };
        let parsed = parse(&path, &bytes)?;
        if let Some(t) = &parsed.torn {
            tracing::warn!(
                path = %path.display(),
                line = t.line,
                bytes = t.bytes,
                "saga step log: dropped a last line cut short by a crash"
            );
        }
        let mut inner = Inner {
            file: rewrite(&path, &parsed.replay, &parsed.lines)
                .await
                .map_err(io_err)?,
            replay: parsed.replay,
            lines: parsed.lines,
            len: 0,
            live: 0,
            line_count: 0,
            broken: None,
        };
        inner.recount();
        Ok(Self {
            path,
            inner: Mutex::new(inner),
            torn: parsed.torn,
            _lock: lock,
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The torn last line [`open`](Self::open) dropped, if there was one.
    pub fn torn_tail(&self) -> Option<TornTail> {
        self.torn
    }

    /// Rewrites the file with only the pending runs (done automatically; see the type's docs).
    pub async fn compact(&self) -> Result<(), Error> {
        let mut inner = self.inner.lock().await;
        self.compact_locked(&mut inner).await
    }

    async fn compact_locked(&self, inner: &mut Inner) -> Result<(), Error> {
        self.usable(inner)?;
        match rewrite(&self.path, &inner.replay, &inner.lines).await {
            Ok(file) => {
                inner.file = file;
                inner.recount();
                Ok(())
            }
            Err(source) => {
                // The rename may have happened before the failure: our handle could point at
                // the replaced file, so appends through it would be lost.
                inner.broken = Some(format!(
                    "rewriting the log failed ({source}); reopen it to go on"
                ));
                Err(Error::StepLog {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }

    fn usable(&self, inner: &Inner) -> Result<(), Error> {
        match &inner.broken {
            None => Ok(()),
            Some(why) => Err(Error::StepLog {
                path: self.path.clone(),
                source: io::Error::other(why.clone()),
            }),
        }
    }
}

impl StepLog for FileLog {
    async fn append(&self, record: LogRecord) -> Result<(), Error> {
        let mut line = serde_json::to_string(&record).map_err(|e| Error::StepLogCorrupt {
            path: self.path.clone(),
            line: 0,
            reason: format!("the record cannot be written as JSON: {e}"),
        })?;
        line.push('\n');
        let mut inner = self.inner.lock().await;
        self.usable(&inner)?;
        if let Err(reason) = inner.replay.check(&record) {
            return Err(Error::StepLogCorrupt {
                path: self.path.clone(),
                line: inner.line_count + 1,
                reason: format!("refused to append a record that contradicts the log: {reason}"),
            });
        }
        if let Err(source) = write_synced(&mut inner.file, line.as_bytes()).await {
            // Take back whatever part of the line reached the file, so the next append does
            // not continue a broken line.
            let len = inner.len;
            if let Err(e) = truncate(&inner.file, len).await {
                inner.broken = Some(format!(
                    "a failed append ({source}) could not be undone ({e}); reopen the log to go on"
                ));
            }
            return Err(Error::StepLog {
                path: self.path.clone(),
                source,
            });
        }
        inner.len += line.len() as u64;
        inner.line_count += 1;
        let id = record.id();
        let finished = matches!(record, LogRecord::Finished { .. });
        if inner.replay.apply(record).is_err() {
            debug_assert!(false, "a checked record failed to apply");
        }
        if finished {
            let freed: u64 = inner
                .lines
                .remove(&id)
                .map_or(0, |l| l.iter().map(|l| l.len() as u64).sum());
            inner.live -= freed;
            let dead = inner.len - inner.live;
            if dead > COMPACT_MIN_DEAD && dead > inner.live {
                // The record is durable already: a failed rewrite is reported by the next
                // append, not by this one.
                if let Err(e) = self.compact_locked(&mut inner).await {
                    tracing::error!(error = %e, "saga step log: compaction failed");
                }
            }
        } else {
            inner.live += line.len() as u64;
            inner.lines.entry(id).or_default().push(line);
        }
        Ok(())
    }

    async fn pending(&self) -> Result<Vec<PendingSaga>, Error> {
        Ok(self.inner.lock().await.replay.pending())
    }
}

impl Inner {
    fn recount(&mut self) {
        self.live = self.lines.values().flatten().map(|l| l.len() as u64).sum();
        self.len = self.live;
        self.line_count = self.lines.values().map(Vec::len).sum();
    }
}

/// What a log file holds.
#[derive(Debug)]
struct Parsed {
    replay: LogReplay,
    lines: HashMap<SagaId, Vec<String>>,
    torn: Option<TornTail>,
}

/// Replays a log file's bytes. Sans-IO.
fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, Error> {
    let mut parsed = Parsed {
        replay: LogReplay::default(),
        lines: HashMap::new(),
        torn: None,
    };
    let corrupt = |line, reason| Error::StepLogCorrupt {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut rest = bytes;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (line, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                (line, true)
            }
            None => (std::mem::take(&mut rest), false),
        };
        if line.trim_ascii().is_empty() {
            continue;
        }
        let record = match serde_json::from_slice::<LogRecord>(line) {
            Ok(r) => r,
            Err(_) if !terminated => {
                parsed.torn = Some(TornTail {
                    line: number,
                    bytes: line.len(),
                });
                break;
            }
            Err(e) => {
                return Err(corrupt(
                    number,
                    format!(
                        "not a saga log record ({e}); the line is complete, so a crash did not cut it short: repair or delete it by hand (one JSON record per line)"
                    ),
                ));
            }
        };
        let id = record.id();
        let finished = matches!(record, LogRecord::Finished { .. });
        parsed.replay.apply(record).map_err(|reason| {
            corrupt(
                number,
                format!("{reason}; repair or delete the line by hand"),
            )
        })?;
        if finished {
            parsed.lines.remove(&id);
        } else {
            let mut text = String::from_utf8_lossy(line).into_owned();
            text.push('\n');
            parsed.lines.entry(id).or_default().push(text);
        }
    }
    Ok(parsed)
}

async fn lock(path: &Path) -> io::Result<std::fs::File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .await?
        .into_std()
        .await;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "{} is held by another FileLog, in this process or another: two writers would corrupt the log, so stop the other one or use another path",
                Path::new(&lock_path).display()
            ),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Writes the pending runs' lines to `<path>.compact`, syncs it, renames it over `path`,
/// syncs the directory, and opens the result for appending.
async fn rewrite(
    path: &Path,
    replay: &LogReplay,
    lines: &HashMap<SagaId, Vec<String>>,
) -> io::Result<tokio::fs::File> {
    let mut tmp_path = path.as_os_str().to_owned();
    tmp_path.push(".compact");
    let mut body = String::new();
    for run in replay.pending() {
        for line in lines.get(&run.id).into_iter().flatten() {
            body.push_str(line);
        }
    }
    let mut tmp = tokio::fs::File::create(&tmp_path).await?;
    tmp.write_all(body.as_bytes()).await?;
    tmp.flush().await?;
    tmp.sync_all().await?;
    drop(tmp);
    tokio::fs::rename(&tmp_path, path).await?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tokio::fs::File::open(dir).await?.sync_all().await?;
    tokio::fs::OpenOptions::new().append(true).open(path).await
}

async fn write_synced(file: &mut tokio::fs::File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes).await?;
    // tokio's File reports a failed background write on the next flush.
    file.flush().await?;
    file.sync_data().await
}

async fn truncate(file: &tokio::fs::File, len: u64) -> io::Result<()> {
    file.set_len(len).await?;
    file.sync_data().await
}

#[cfg(test)]
mod tests;
