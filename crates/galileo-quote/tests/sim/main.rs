//! The three clients against galileo-sim over loopback sockets, one module per area. One test
//! binary: each links the whole simulator (LiteSVM), so they share it.

mod dflow;
mod dispatch;
mod errors;
mod jupiter;
mod support;
mod ultra;
