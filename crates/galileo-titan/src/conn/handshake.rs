//! The WebSocket upgrade: the request Galileo sends, and what a refusal means.

use std::net::IpAddr;
use std::time::SystemTime;

use galileo_net::Outcome;
use http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::{self, Error as WsError};

use crate::codec::Compression;
use crate::config::AuthMode;
use crate::{Jwt, TitanError};

/// The `User-Agent` Galileo sends.
pub(crate) const USER_AGENT: &str = concat!("galileo/", env!("CARGO_PKG_VERSION"));

/// `v1.api.titan.ag+zstd, ...` in the configured order.
pub(crate) fn offered(compression: &[Compression]) -> String {
    compression
        .iter()
        .map(|c| c.token())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The upgrade request: the URL (its query replaced by `auth=<jwt>` in query mode), the
/// offered sub-protocols, the user agent, and the token as a sensitive header in header mode.
pub(crate) fn request(
    url: &http::Uri,
    jwt: &Jwt,
    auth: AuthMode,
    compression: &[Compression],
) -> Result<Request, TitanError> {
    let target = match auth {
        AuthMode::Header => url.to_string(),
        AuthMode::Query => {
            let scheme = url.scheme_str().unwrap_or("wss");
            let authority = url.authority().map_or("", |a| a.as_str());
            format!("{scheme}://{authority}{}?auth={}", url.path(), jwt.expose())
        }
    };
    let bad =
        |what: &str| TitanError::Config(format!("cannot build the WebSocket request: {what}"));
    let mut req = target
        .into_client_request()
        .map_err(|_| bad("the url is not a WebSocket URL"))?;
    let h = req.headers_mut();
    h.insert(
        http::header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_str(&offered(compression)).map_err(|_| bad("sub-protocols"))?,
    );
    h.insert(
        http::header::USER_AGENT,
        HeaderValue::from_static(USER_AGENT),
    );
    if auth == AuthMode::Header {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", jwt.expose()))
            .map_err(|_| TitanError::Jwt("the token is not a valid header value".into()))?;
        v.set_sensitive(true);
        h.insert(http::header::AUTHORIZATION, v);
    }
    Ok(req)
}

/// The server's reason in a refusal body: `message` (or `error`) of a JSON object, else the
/// text; cut to 512 characters, the token redacted.
fn reason(body: Option<&[u8]>, status: StatusCode, jwt: &Jwt) -> String {
    let text = body.map(String::from_utf8_lossy).unwrap_or_default();
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
    let r: String = jwt.redact(&r).chars().take(512).collect();
    r
}

/// Maps a failed handshake to an error and the outcome to report to the lease.
pub(crate) fn refused(
    e: WsError,
    ip: IpAddr,
    jwt: &Jwt,
    compression: &[Compression],
) -> (TitanError, Outcome) {
    match e {
        WsError::Http(resp) => {
            let status = resp.status();
            let outcome = Outcome::classify(status, resp.headers(), SystemTime::now());
            let message = reason(resp.body().as_deref(), status, jwt);
            let err = match status.as_u16() {
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
            };
            (err, outcome)
        }
        WsError::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(p)) => (
            TitanError::SubProtocol {
                answered: Some(p.to_string()),
                offered: offered(compression),
            },
            Outcome::Success,
        ),
        WsError::Io(io) => (
            TitanError::WebSocket {
                ip,
                reason: format!("the connection failed during the upgrade: {}", io.kind()),
            },
            Outcome::Connect,
        ),
        other => (
            TitanError::WebSocket {
                ip,
                reason: jwt.redact(&other.to_string()),
            },
            Outcome::Connect,
        ),
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
        let r = request(&url, &jwt(), AuthMode::Header, &Compression::ALL).unwrap();
        let auth = r.headers().get("authorization").unwrap();
        assert!(auth.is_sensitive());
        assert!(!format!("{:?}", r.headers()).contains("c2VjcmV0"));
        assert_eq!(r.uri().query(), Some("x=1"));
        assert_eq!(
            r.headers().get("sec-websocket-protocol").unwrap(),
            "v1.api.titan.ag+zstd, v1.api.titan.ag+brotli, v1.api.titan.ag+gzip, v1.api.titan.ag"
        );
        assert_eq!(r.headers().get("user-agent").unwrap(), USER_AGENT);
        let q = request(&url, &jwt(), AuthMode::Query, &[Compression::Gzip]).unwrap();
        assert_eq!(
            q.uri().query(),
            Some("auth=eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0")
        );
        assert!(q.headers().get("authorization").is_none());
    }

    #[test]
    fn refusals_name_the_cause_without_the_token() {
        let token = jwt();
        let body = br#"{"error":"Unauthorized","message":"token expired 5 s ago: eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0"}"#;
        let resp = http::Response::builder()
            .status(401)
            .body(Some(body.to_vec()))
            .unwrap();
        let ip = "127.0.0.2".parse().unwrap();
        let (e, outcome) = refused(WsError::Http(Box::new(resp)), ip, &token, &[]);
        assert!(e.is_unauthorized());
        assert_eq!(
            outcome,
            Outcome::Success,
            "a bad token is not the IP's fault"
        );
        let text = e.to_string();
        assert!(text.contains("token expired 5 s ago"), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        let resp = http::Response::builder()
            .status(429)
            .header("retry-after", "3")
            .body(None)
            .unwrap();
        let (e, outcome) = refused(WsError::Http(Box::new(resp)), ip, &token, &[]);
        assert_eq!(e.reason(), "rate_limited");
        assert!(outcome.cools_down());
    }
}
