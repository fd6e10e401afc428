//! The file log: torn tails, corruption, compaction, the writer lock.

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn completed(id: u128, step: usize) -> LogRecord {
    LogRecord::Completed {
        saga: "s".into(),
        id: SagaId::from(id),
        step,
        name: format!("n{step}"),
        context: json!({ "step": step }),
    }
}

fn finished(id: u128) -> LogRecord {
    LogRecord::Finished {
        saga: "s".into(),
        id: SagaId::from(id),
        compensated: false,
    }
}

fn lines(records: &[LogRecord]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

fn corrupt_line(e: &Error) -> usize {
    match e {
        Error::StepLogCorrupt { line, .. } => *line,
        other => panic!("not a corrupt-log error: {other:?}"),
    }
}

#[tokio::test]
async fn a_torn_last_line_is_dropped_reported_and_appends_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let good = lines(&[completed(1, 0), completed(1, 1)]);
    let torn = r#"{"record":"compensated","saga":"s","id":"0000"#;
    std::fs::write(&path, format!("{good}{torn}")).unwrap();
    let log = FileLog::open(&path).await.unwrap();
    assert_eq!(
        log.torn_tail(),
        Some(TornTail {
            line: 3,
            bytes: torn.len()
        })
    );
    let pending = log.pending().await.unwrap();
    assert_eq!((pending[0].steps.len(), pending[0].compensated), (2, 0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
    log.append(completed(1, 2)).await.unwrap();
    drop(log);
    let log = FileLog::open(&path).await.unwrap();
    assert_eq!(log.torn_tail(), None);
    assert_eq!(log.pending().await.unwrap()[0].steps, ["n0", "n1", "n2"]);
}

#[tokio::test]
async fn a_whole_last_line_without_its_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let text = lines(&[completed(1, 0), completed(1, 1)]);
    std::fs::write(&path, text.trim_end()).unwrap();
    let log = FileLog::open(&path).await.unwrap();
    assert_eq!(log.torn_tail(), None);
    log.append(completed(1, 2)).await.unwrap();
    drop(log);
    let log = FileLog::open(&path).await.unwrap();
    assert_eq!(log.pending().await.unwrap()[0].steps.len(), 3);
}

#[test]
fn a_bad_complete_line_is_corruption_with_its_line_number() {
    let path = Path::new("/var/lib/galileo/sagas.jsonl");
    let text = format!(
        "{}\nnot json\n{}",
        lines(&[completed(1, 0)]),
        lines(&[completed(1, 1)])
    );
    let e = parse(path, text.as_bytes()).unwrap_err();
    assert_eq!(corrupt_line(&e), 3);
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "saga step log /var/lib/galileo/sagas.jsonl, line 3: not a saga log record"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("a crash did not cut it short: repair or delete it by hand"),
        "{msg}"
    );

    // Parses, but contradicts the lines before it.
    let text = lines(&[completed(1, 0), completed(1, 2)]);
    let e = parse(path, text.as_bytes()).unwrap_err();
    assert_eq!(corrupt_line(&e), 2);
    assert!(
        e.to_string().contains(
            "run 00000000000000000000000000000001 completes step 2, but its next step is 1"
        ),
        "{e}"
    );

    // An unknown field is not tolerated either.
    let text = r#"{"record":"finished","saga":"s","id":"00000000000000000000000000000001","compensated":true,"why":1}
"#;
    assert_eq!(corrupt_line(&parse(path, text.as_bytes()).unwrap_err()), 1);
}

#[tokio::test]
async fn finished_runs_are_compacted_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    std::fs::write(
        &path,
        lines(&[completed(1, 0), completed(2, 0), finished(1)]),
    )
    .unwrap();
    // Opening keeps only the pending run.
    let log = FileLog::open(&path).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        lines(&[completed(2, 0)])
    );
    // Past 1 MiB of dead records (and more dead than live), finishing rewrites the file.
    let big = "x".repeat(16 * 1024);
    let mut sizes = Vec::new();
    for id in 10..90u128 {
        let mut r = completed(id, 0);
        if let LogRecord::Completed { context, .. } = &mut r {
            *context = json!(big);
        }
        log.append(r).await.unwrap();
        log.finish("s", SagaId::from(id), false).await.unwrap();
        sizes.push(std::fs::metadata(&path).unwrap().len());
    }
    let first_drop = sizes
        .windows(2)
        .position(|w| w[1] < w[0])
        .expect("never compacted")
        + 1;
    let mib = 1024 * 1024;
    assert!(
        sizes[first_drop - 1] <= mib && sizes[first_drop - 1] > mib - 17 * 1024,
        "{sizes:?}"
    );
    assert!(sizes[first_drop] < 1024, "{sizes:?}");
    log.compact().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        lines(&[completed(2, 0)])
    );
    assert_eq!(log.pending().await.unwrap().len(), 1);
    assert!(!dir.path().join("log.compact").exists());
}

#[tokio::test]
async fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let first = FileLog::open(&path).await.unwrap();
    let e = FileLog::open(&path).await.unwrap_err();
    assert!(matches!(e, Error::StepLog { .. }));
    assert!(
        e.to_string()
            .contains("is held by another FileLog, in this process or another"),
        "{e}"
    );
    drop(first);
    FileLog::open(&path).await.unwrap();
}

#[tokio::test]
async fn contradicting_appends_are_refused_and_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let log = FileLog::open(&path).await.unwrap();
    log.append(completed(1, 0)).await.unwrap();
    let e = log.append(completed(1, 3)).await.unwrap_err();
    assert_eq!(corrupt_line(&e), 2);
    assert!(
        e.to_string()
            .contains("refused to append a record that contradicts the log"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        lines(&[completed(1, 0)])
    );
}

#[tokio::test]
async fn an_unusable_path_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("log");
    let e = FileLog::open(&path).await.unwrap_err();
    assert!(e.is_transient());
    assert!(e.to_string().contains("missing-dir/log"), "{e}");
}

proptest! {
    /// A crash can cut an append at any byte: the log still opens, keeps every whole record
    /// and drops at most the cut one.
    #[test]
    fn a_log_cut_at_any_byte_opens(cut in 0usize..1_000, records in 1usize..6) {
        let all: Vec<LogRecord> = (0..records).map(|s| completed(7, s)).collect();
        let text = lines(&all);
        let cut = cut % (text.len() + 1);
        let parsed = parse(Path::new("log"), &text.as_bytes()[..cut]).unwrap();
        let whole = text[..cut].matches('\n').count();
        let kept = parsed.replay.get(SagaId::from(7u128)).map_or(0, |p| p.steps.len());
        // A cut just before a newline leaves a whole record, which is kept.
        prop_assert!(kept == whole || kept == whole + 1);
        prop_assert_eq!(parsed.torn.is_some(), kept == whole && cut > 0 && !text[..cut].ends_with('\n'));
    }

    /// Arbitrary bytes never panic the parser.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(Path::new("log"), &bytes);
    }
}
