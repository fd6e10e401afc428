//! Sending from a leased IP: the bound connector, per-IP hyper clients, the [`HttpClient`]
//! trait and the bound stream for WebSocket clients.

mod client;
mod connector;
mod pool;
mod stream;
mod tls;

pub use client::{BoundHttpClient, BoundHttpClientBuilder, HttpClient, RequestTimeout};
pub use stream::BoundStream;
