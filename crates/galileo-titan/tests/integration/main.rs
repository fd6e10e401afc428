//! galileo-titan against galileo-sim over loopback, and the wire format. One test binary
//! (each links galileo-sim, which is large); the log capture of `auth` sees every test's
//! log lines, so no test may log a token.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

mod auth;
mod codec;
mod source;
mod streams;
mod support;
mod wire_bytes;
