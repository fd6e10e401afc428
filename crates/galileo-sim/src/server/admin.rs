//! `/__sim/...`: the simulator's own endpoints, on every service's listener. They bypass
//! limits, faults and latency, and are not counted.
//!
//! | request | does |
//! |---|---|
//! | `GET /__sim/stats` | counters as JSON ([`StatsSnapshot`](crate::StatsSnapshot)) |
//! | `GET /__sim/metrics` | the same in Prometheus text format |
//! | `POST /__sim/stats/reset` | forgets the counters |
//! | `GET /__sim/controls` | limits, latency and faults in force |
//! | `PUT /__sim/limits`, `/__sim/latency`, `/__sim/faults` | replaces them (JSON of the config section) |
//! | `POST /__sim/force` | `{"fault": "reset", "times": 1}`: forces the next faults |

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::Shared;
use crate::faults::Fault;
use crate::service::{empty, json};
use crate::{Service, SimBody, SimError};

/// Where the admin endpoints live.
pub(super) const PREFIX: &str = "/__sim/";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Force {
    fault: Fault,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<SimBody> {
    json(status, &serde_json::json!({ "error": message.to_string() }))
}

/// Parses the body as `T` and applies it.
fn apply<T: DeserializeOwned>(
    body: &Bytes,
    f: impl FnOnce(T) -> Result<(), SimError>,
) -> Response<SimBody> {
    match serde_json::from_slice(body) {
        Ok(v) => match f(v) {
            Ok(()) => empty(StatusCode::NO_CONTENT),
            Err(e) => error(StatusCode::BAD_REQUEST, e),
        },
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

pub(super) async fn handle<S: Service>(
    shared: &Arc<Shared<S>>,
    req: Request<Incoming>,
) -> Response<SimBody> {
    let method = req.method().clone();
    let path = req.uri().path().trim_start_matches(PREFIX).to_owned();
    let body = match Limited::new(req.into_body(), 64 << 10).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let c = &shared.controls;
    match (&method, path.as_str()) {
        (&Method::GET, "stats") => json(StatusCode::OK, &c.stats().snapshot()),
        (&Method::GET, "metrics") => {
            let text = c.stats().snapshot().to_prometheus();
            let mut resp = Response::new(SimBody::full(text));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            resp
        }
        (&Method::POST, "stats/reset") => {
            c.stats().reset();
            empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "controls") => json(
            StatusCode::OK,
            &serde_json::json!({
                "limits": c.limits(),
                "latency": c.latency(),
                "faults": c.faults(),
            }),
        ),
        (&Method::PUT, "limits") => apply(&body, |v| c.set_limits(v)),
        (&Method::PUT, "latency") => apply(&body, |v| c.set_latency(v)),
        (&Method::PUT, "faults") => apply(&body, |v| c.set_faults(v)),
        (&Method::POST, "force") => apply(&body, |f: Force| {
            c.force_times(f.fault, f.times);
            Ok(())
        }),
        _ => error(
            StatusCode::NOT_FOUND,
            format!("no admin endpoint {method} {PREFIX}{path}"),
        ),
    }
}
