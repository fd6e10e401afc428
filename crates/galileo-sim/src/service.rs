//! What every simulated API implements, and what the core gives it.
//!
//! The core (`server/`) accepts connections, reads each request's body, applies the service's
//! limits, faults and latency, and only then calls [`Service::handle`]. Handlers therefore see
//! a plain `Request<Bytes>` (easy to build in unit tests) whose extensions still carry hyper's
//! upgrade handle, so a WebSocket service can call `hyper::upgrade::on(&mut req)`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::config::ServiceConfig;
use crate::stats::Stats;
use crate::{Controls, Tasks};

/// One simulated API (Jupiter, DFlow, the Solana RPC, ...).
pub trait Service: Send + Sync + 'static {
    /// The name in configuration, stats and logs (`"jupiter"`, `"solana"`, ...).
    fn name(&self) -> &'static str;

    /// The API key a request carries, if this API has keys (its per-key limit then applies).
    /// Never logged: stats show a hash of it.
    fn api_key(&self, _req: &Request<Bytes>) -> Option<String> {
        None
    }

    /// Answers one request. Called after limits, faults and latency were applied.
    fn handle(
        &self,
        req: Request<Bytes>,
        ctx: RequestContext,
    ) -> impl Future<Output = Response<SimBody>> + Send;

    /// The error the core answers in this API's own shape: `429` and `503` from the limits,
    /// `500` from the fault knob, `413` for an oversized body. The default is
    /// `{"error": message}`.
    fn error_response(&self, status: StatusCode, message: &str) -> Response<SimBody> {
        json(status, &serde_json::json!({ "error": message }))
    }
}

/// What the core knows about a request.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The TCP peer: its IP is the client the limits count.
    pub peer: SocketAddr,
    /// When the request arrived.
    pub received: Instant,
    /// The API key, if the service found one.
    pub api_key: Option<String>,
    /// A number unique within the service, in arrival order.
    pub request_id: u64,
    /// The service's knobs: a streaming service asks [`Controls::stream_fault`] when a
    /// stream opens.
    pub controls: Controls,
    /// The service's tasks: spawn long-lived work (a WebSocket session) here so it stops
    /// with the service.
    pub tasks: Tasks,
}

impl RequestContext {
    /// A context for calling [`Service::handle`] directly (unit tests): a request from `peer`
    /// arriving now, without a key, with default knobs.
    pub fn for_peer(peer: SocketAddr) -> Self {
        let cfg = ServiceConfig::default();
        Self {
            peer,
            received: Instant::now(),
            api_key: None,
            request_id: 0,
            controls: Controls::new("test", &cfg, 0, Stats::new("test")),
            tasks: Tasks::default(),
        }
    }
}

/// A response body: whole, or trickled out chunk by chunk (the slow-body fault).
#[derive(Debug)]
pub enum SimBody {
    /// The whole body at once (`None` once sent).
    Full(Option<Bytes>),
    /// Chunks sent one per `delay`.
    Slow {
        /// What is left to send.
        chunks: VecDeque<Bytes>,
        /// Pause before each chunk.
        delay: Duration,
        /// The running pause.
        sleep: Option<Pin<Box<Sleep>>>,
    },
}

impl SimBody {
    /// A whole body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        SimBody::Full(Some(bytes.into()))
    }

    /// An empty body.
    pub fn empty() -> Self {
        SimBody::Full(None)
    }

    /// `bytes` trickled in `chunk`-byte pieces, one every `delay`.
    pub fn slow(bytes: Bytes, chunk: usize, delay: Duration) -> Self {
        let chunk = chunk.max(1);
        let chunks = (0..bytes.len())
            .step_by(chunk)
            .map(|i| bytes.slice(i..(i + chunk).min(bytes.len())))
            .collect();
        SimBody::Slow {
            chunks,
            delay,
            sleep: None,
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            SimBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            SimBody::Slow {
                chunks,
                delay,
                sleep,
            } => {
                if chunks.is_empty() {
                    return Poll::Ready(None);
                }
                let s = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(*delay)));
                if s.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                *sleep = None;
                Poll::Ready(chunks.pop_front().map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SimBody::Full(b) => b.is_none(),
            SimBody::Slow { chunks, .. } => chunks.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            SimBody::Full(None) => SizeHint::with_exact(0),
            SimBody::Slow { chunks, .. } => {
                SizeHint::with_exact(chunks.iter().map(|c| c.len() as u64).sum())
            }
        }
    }
}

/// A response with a status and no body.
pub fn empty(status: StatusCode) -> Response<SimBody> {
    let mut resp = Response::new(SimBody::empty());
    *resp.status_mut() = status;
    resp
}

/// A JSON response.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<SimBody> {
    let body = serde_json::to_vec(value).expect("serializable");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(SimBody::full(body))
        .expect("valid response")
}
