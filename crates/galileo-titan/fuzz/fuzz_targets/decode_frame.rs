//! The frame decoder on arbitrary input: `cargo +nightly fuzz run decode_frame` from
//! `crates/galileo-titan`. The first byte picks the compression; the rest is the frame.
//! Every input must give a message or an error, never a panic, a hang or an allocation
//! beyond the limit. (The test suite runs the same property with proptest on stable.)
#![no_main]

use galileo_titan::codec::{Compression, decode, decode_server_frame};
use galileo_titan::wire::ClientRequest;
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&which, frame)) = data.split_first() else {
        return;
    };
    let compression = Compression::ALL[usize::from(which) % Compression::ALL.len()];
    let _ = decode_server_frame(compression, frame, LIMIT);
    if let Ok(payload) = compression.decompress(frame, LIMIT) {
        let _ = decode::<ClientRequest>(&payload);
    }
});
