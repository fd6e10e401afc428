//! The fixtures under `tests/fixtures/` are copies of the development tree's shared references
//! (`../shared/fixtures`, `../shared/spec`), so a clean clone runs every test. Where the shared
//! tree is present, every copy must still equal its original.

use std::path::{Path, PathBuf};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.is_dir().then_some(p)
}

#[test]
fn the_copies_equal_the_shared_originals() {
    let copies = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut checked = 0;
    for (copy, original) in [
        (
            "dflow/quote_response_with_open_transaction.json",
            "fixtures/dflow/quote_response_with_open_transaction.json",
        ),
        (
            "titan/new_swap_quote_stream_request.json",
            "fixtures/titan/new_swap_quote_stream_request.json",
        ),
        (
            "titan/stream_data_swap_quotes.json",
            "fixtures/titan/stream_data_swap_quotes.json",
        ),
        ("spec/dflow.md", "spec/dflow.md"),
    ] {
        let ours = std::fs::read(copies.join(copy)).unwrap_or_else(|e| panic!("{copy}: {e}"));
        assert!(!ours.is_empty(), "{copy} is empty");
        if let Some(shared) = shared() {
            let theirs = std::fs::read(shared.join(original)).unwrap();
            assert!(
                ours == theirs,
                "{copy} differs from ../shared/{original}: copy it again"
            );
            checked += 1;
        }
    }
    if shared().is_some() {
        assert_eq!(checked, 4);
        // A new shared fixture should be copied here too.
        for dir in ["dflow", "titan"] {
            let names = std::fs::read_dir(shared().unwrap().join("fixtures").join(dir)).unwrap();
            for n in names {
                let n = n.unwrap().file_name();
                assert!(
                    copies.join(dir).join(&n).exists(),
                    "copy {dir}/{n:?} into tests/fixtures"
                );
            }
        }
    }
}
