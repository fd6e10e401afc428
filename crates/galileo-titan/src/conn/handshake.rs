//! The WebSocket upgrade, done with hyper over galileo-net's bound stream, then handed to
//! tungstenite as an open WebSocket.
//!
//! Why not tungstenite's own client handshake: it logs the whole request at trace level,
//! `Authorization` header and `?auth=` query included, which would put the JWT in any log
//! collected at that level. hyper logs no header or URI. The auth test captures every log
//! line at trace level to keep it that way.

use std::net::IpAddr;
use std::time::SystemTime;

use bytes::Bytes;
use galileo_net::{BoundStream, Outcome};
use http::header::{self, HeaderValue};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::codec::Compression;
use crate::config::AuthMode;
use crate::{Jwt, TitanError};

/// The `User-Agent` Galileo sends.
pub(crate) const USER_AGENT: &str = concat!("galileo/", env!("CARGO_PKG_VERSION"));

/// The most of a refusal's body read (its reason).
const REFUSAL_BODY_LIMIT: usize = 16 * 1024;

/// A WebSocket over the bound stream, upgraded through hyper.
pub(crate) type Ws = WebSocketStream<TokioIo<Upgraded>>;

/// `v1.api.titan.ag+zstd, ...` in the configured order.
pub(crate) fn offered(compression: &[Compression]) -> String {
    compression
        .iter()
        .map(|c| c.token())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The upgrade request for `url`: its query replaced by `auth=<jwt>` in query mode, the token
/// as a sensitive `Authorization` header in header mode; the offered sub-protocols; the user
/// agent. Returns the request and its `Sec-WebSocket-Key`.
pub(crate) fn request(
    url: &http::Uri,
    jwt: &Jwt,
    auth: AuthMode,
    compression: &[Compression],
) -> Result<(Request<Empty<Bytes>>, String), TitanError> {
    let bad =
        |what: &str| TitanError::Config(format!("cannot build the WebSocket request: {what}"));
    let authority = url.authority().ok_or_else(|| bad("the url has no host"))?;
    let target = match auth {
        AuthMode::Header => url
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        AuthMode::Query => format!("{}?auth={}", url.path(), jwt.expose()),
    };
    let key = generate_key();
    let mut req = Request::get(target)
        .header(header::HOST, authority.as_str())
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, &key)
        .header(header::SEC_WEBSOCKET_PROTOCOL, offered(compression))
        .header(header::USER_AGENT, USER_AGENT)
        .body(Empty::new())
        .map_err(|_| bad("the url's path or the token is not valid in a request"))?;
    if auth == AuthMode::Header {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", jwt.expose()))
            .map_err(|_| TitanError::Jwt("the token is not a valid header value".into()))?;
        v.set_sensitive(true);
        req.headers_mut().insert(header::AUTHORIZATION, v);
    }
    Ok((req, key))
}

/// A handshake that failed, and the outcome to report to the lease.
pub(crate) type Refusal = (TitanError, Outcome);

/// Sends the upgrade on `stream` and returns the WebSocket and the compression the server
/// chose.
pub(crate) async fn upgrade(
    stream: BoundStream,
    ip: IpAddr,
    url: &http::Uri,
    jwt: &Jwt,
    auth: AuthMode,
    compression: &[Compression],
    ws_config: WebSocketConfig,
) -> Result<(Ws, Compression), Refusal> {
    let (req, key) = request(url, jwt, auth, compression).map_err(|e| (e, Outcome::Success))?;
    let broke = |what: &str, e: hyper::Error| {
        (
            TitanError::WebSocket {
                ip,
                reason: format!("the upgrade failed ({what}): {e}"),
            },
            Outcome::Connect,
        )
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| broke("handshake", e))?;
    // The connection future drives the exchange and hands the socket over on 101; it ends
    // there (or with the refusal), so the task is as short-lived as the handshake.
    tokio::spawn(conn.with_upgrades());
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| broke("request", e))?;
    let status = resp.status();
    if status != StatusCode::SWITCHING_PROTOCOLS {
        let outcome = Outcome::classify(status, resp.headers(), SystemTime::now());
        let body = Limited::new(resp.into_body(), REFUSAL_BODY_LIMIT)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return Err((refused(status, &body, ip, jwt, outcome), outcome));
    }
    let accept = resp.headers().get(header::SEC_WEBSOCKET_ACCEPT);
    if accept.is_none_or(|a| a.as_bytes() != derive_accept_key(key.as_bytes()).as_bytes()) {
        return Err((
            TitanError::WebSocket {
                ip,
                reason: "the server's Sec-WebSocket-Accept does not match our key".into(),
            },
            Outcome::Success,
        ));
    }
    let answered = resp
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned());
    let chosen = answered
        .as_deref()
        .and_then(Compression::from_token)
        .filter(|c| compression.contains(c))
        .ok_or_else(|| {
            (
                TitanError::SubProtocol {
                    answered: answered.clone(),
                    offered: offered(compression),
                },
                Outcome::Success,
            )
        })?;
    let upgraded = hyper::upgrade::on(resp)
        .await
        .map_err(|e| broke("upgrade", e))?;
    let ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, Some(ws_config))
            .await;
    Ok((ws, chosen))
}

/// The server's reason in a refusal body: `message` (or `error`) of a JSON object, else the
/// text; cut to 512 characters, the token redacted.
fn reason(body: &[u8], status: StatusCode, jwt: &Jwt) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            ["message", "error"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|m| m.as_str()).map(str::to_owned))
        });
    let mut r = from_json.unwrap_or_else(|| text.trim().to_owned());
    if r.is_empty() {
        r = status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_owned();
    }
    jwt.redact(&r).chars().take(512).collect()
}

/// The error for a refused upgrade.
fn refused(status: StatusCode, body: &[u8], ip: IpAddr, jwt: &Jwt, outcome: Outcome) -> TitanError {
    let message = reason(body, status, jwt);
    match status.as_u16() {
        401 | 403 => TitanError::Unauthorized {
            ip,
            status: status.as_u16(),
            message,
        },
        429 => TitanError::RateLimited {
            ip,
            retry_after: match outcome {
                Outcome::RateLimited { retry_after } => retry_after,
                _ => None,
            },
        },
        s => TitanError::Handshake {
            ip,
            status: s,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt() -> Jwt {
        Jwt::new("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0").unwrap()
    }

    #[test]
    fn the_token_rides_in_a_sensitive_header_or_replaces_the_query() {
        let url: http::Uri = "wss://titan.example:8443/api/v1/ws?x=1".parse().unwrap();
        let (r, key) = request(&url, &jwt(), AuthMode::Header, &Compression::ALL).unwrap();
        let auth = r.headers().get("authorization").unwrap();
        assert!(auth.is_sensitive());
        assert!(!format!("{:?}", r.headers()).contains("c2VjcmV0"));
        assert_eq!(r.uri(), "/api/v1/ws?x=1");
        assert_eq!(r.headers()["host"], "titan.example:8443");
        assert_eq!(r.headers()["sec-websocket-key"], key.as_str());
        assert_eq!(
            r.headers()["sec-websocket-protocol"],
            "v1.api.titan.ag+zstd, v1.api.titan.ag+brotli, v1.api.titan.ag+gzip, v1.api.titan.ag"
        );
        assert_eq!(r.headers()["user-agent"], USER_AGENT);
        let (q, _) = request(&url, &jwt(), AuthMode::Query, &[Compression::Gzip]).unwrap();
        assert_eq!(
            q.uri().query(),
            Some("auth=eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0"),
            "the whole query is replaced"
        );
        assert!(q.headers().get("authorization").is_none());
    }

    #[test]
    fn refusals_name_the_cause_without_the_token() {
        let token = jwt();
        let body = br#"{"error":"Unauthorized","message":"token expired 5 s ago: eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0"}"#;
        let ip = "127.0.0.2".parse().unwrap();
        let e = refused(StatusCode::UNAUTHORIZED, body, ip, &token, Outcome::Success);
        assert!(e.is_unauthorized());
        let text = e.to_string();
        assert!(text.contains("token expired 5 s ago"), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        let e = refused(
            StatusCode::TOO_MANY_REQUESTS,
            b"",
            ip,
            &token,
            Outcome::RateLimited {
                retry_after: Some(std::time::Duration::from_secs(3)),
            },
        );
        assert_eq!(e.reason(), "rate_limited");
        assert!(e.to_string().contains("Retry-After 3s"), "{e}");
        let e = refused(
            StatusCode::NOT_FOUND,
            b"nothing here",
            ip,
            &token,
            Outcome::Success,
        );
        assert!(e.to_string().contains("(404): nothing here"), "{e}");
    }
}
