//! The life of one request: admin bypass, body, key, limits (429 / 503), latency, faults, the
//! handler, body faults, stats.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Shared, admin};
use crate::controls::Decision;
use crate::faults::Fault;
use crate::limits::{Refusal, Scope, retry_after};
use crate::stats::{InFlight, RequestRecord, key_tag, redact};
use crate::{RequestContext, Service, SimBody};

/// The largest request body accepted (Jito bundles of five transactions are ~10 KiB).
pub(super) const MAX_BODY: usize = 4 << 20;

pub(super) async fn handle<S: Service>(
    shared: Arc<Shared<S>>,
    req: Request<Incoming>,
    peer: SocketAddr,
    reset: Arc<Notify>,
) -> Response<SimBody> {
    if req.uri().path().starts_with(admin::PREFIX) {
        return admin::handle(&shared, req).await;
    }
    let received = Instant::now();
    let (parts, body) = req.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => (c.to_bytes(), false),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => (Bytes::new(), true),
        // The client went away mid-body: nobody to answer.
        Err(_) => return crate::service::empty(StatusCode::BAD_REQUEST),
    };
    let req = Request::from_parts(parts, body);
    let api_key = shared.service.api_key(&req);
    let record = RequestRecord {
        id: shared.next_id.fetch_add(1, Ordering::Relaxed),
        ip: peer.ip(),
        key: api_key.as_deref().map(key_tag),
        method: req.method().to_string(),
        path: redact(req.uri().path_and_query().map_or("/", |p| p.as_str())),
        status: None,
        fault: None,
    };
    let request_id = record.id;
    let mut flight = shared
        .controls
        .stats()
        .arrive(record, req.body().len() as u64);
    let resp = if too_large {
        shared.service.error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body over {MAX_BODY} bytes"),
        )
    } else {
        let ctx = RequestContext {
            peer,
            received,
            api_key,
            request_id,
            controls: shared.controls.clone(),
            tasks: shared.tasks.clone(),
        };
        serve(&shared, req, ctx, &mut flight, &reset).await
    };
    let bytes_out = resp.body().size_hint().exact().unwrap_or(0);
    flight.respond(resp.status().as_u16(), bytes_out);
    resp
}

async fn serve<S: Service>(
    shared: &Shared<S>,
    req: Request<Bytes>,
    ctx: RequestContext,
    flight: &mut InFlight,
    reset: &Notify,
) -> Response<SimBody> {
    let svc = &shared.service;
    let (delay, faults, _slot) =
        match shared
            .controls
            .decide(ctx.peer.ip(), ctx.api_key.as_deref(), ctx.received)
        {
            Decision::Refuse(Refusal::RateLimited { scope, wait }) => {
                let who = match scope {
                    Scope::Global => "the service",
                    Scope::Ip => "your IP",
                    Scope::Key => "your API key",
                };
                let mut resp = svc.error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!(
                        "Rate limit exceeded for {who}; retry in {} ms",
                        wait.as_millis().max(1)
                    ),
                );
                let mode = shared.controls.limits().retry_after;
                if let Some(v) = retry_after(mode, wait, SystemTime::now())
                    && let Ok(v) = HeaderValue::from_str(&v)
                {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return resp;
            }
            Decision::Refuse(Refusal::Overloaded) => {
                return svc.error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service overloaded; retry later",
                );
            }
            Decision::Serve {
                delay,
                faults,
                slot,
            } => (delay, faults, slot),
        };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = faults.instead {
        flight.fault(fault);
        match fault {
            Fault::Reset => {
                reset.notify_one();
                return std::future::pending().await;
            }
            Fault::ServerError => {
                return svc
                    .error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            }
            _ => return std::future::pending().await,
        }
    }
    let mut resp = svc.handle(req, ctx).await;
    if faults.malformed_json
        && let SimBody::Full(Some(bytes)) = resp.body_mut()
    {
        flight.fault(Fault::MalformedJson);
        *bytes = bytes.slice(..bytes.len() / 2);
        resp.headers_mut().remove(header::CONTENT_LENGTH);
    }
    if faults.slow_body
        && let SimBody::Full(Some(bytes)) = resp.body_mut()
    {
        flight.fault(Fault::SlowBody);
        let (chunk, pause) = shared.controls.slow_body();
        let bytes = std::mem::take(bytes);
        *resp.body_mut() = SimBody::slow(bytes, chunk, pause);
        resp.headers_mut().remove(header::CONTENT_LENGTH);
    }
    resp
}
