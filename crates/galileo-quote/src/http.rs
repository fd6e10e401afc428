//! The one request path of the three clients: build the request (headers, API key, timeout),
//! send it from the lease's IP, and map the answer to a typed value or a [`QuoteError`].

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use galileo_net::{HttpClient, IpLease, RequestTimeout, parse_retry_after};
use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::QuoteError;
use crate::secret::{ApiKey, REDACTED};

/// `user-agent` of every request.
pub(crate) const USER_AGENT_VALUE: &str = concat!("galileo/", env!("CARGO_PKG_VERSION"));

/// The longest provider message kept in an error, in characters.
pub(crate) const MAX_MESSAGE_CHARS: usize = 512;

/// Provider error codes that mean "no route for this trade": skip the opportunity, the
/// provider is healthy. Compared without regard to case (DFlow writes `route_not_found`).
pub(crate) const NO_ROUTE_CODES: &[&str] = &[
    "COULD_NOT_FIND_ANY_ROUTE",
    "NO_ROUTES_FOUND",
    "NO_ROUTE_FOUND",
    "ROUTE_NOT_FOUND",
    "FAILED_TO_COMPUTE_SWAP",
];

/// DFlow's "skip this opportunity" marker, looked for anywhere in a DFlow error body.
const DFLOW_FAILED_TO_COMPUTE: &str = "failed_to_compute_swap";

/// Which API is speaking: decides the error body shapes and the backend's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `{error, errorCode}`.
    Jupiter,
    /// `{error}` (`/order`), `{error, code}` (`/execute`).
    Ultra,
    /// `{code, msg}`.
    Dflow,
}

impl Api {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Api::Jupiter => "jupiter",
            Api::Ultra => "ultra",
            Api::Dflow => "dflow",
        }
    }
}

/// The API key and the header it goes in.
#[derive(Clone)]
pub(crate) struct Auth {
    header: HeaderName,
    key: Option<(ApiKey, HeaderValue)>,
}

impl Auth {
    /// `key` in `header`; both already validated by the config.
    pub(crate) fn new(api: Api, header: &str, key: Option<&ApiKey>) -> Result<Self, QuoteError> {
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            QuoteError::Config(format!(
                "{}: api_key_header {header:?} is not a valid HTTP header name",
                api.name()
            ))
        })?;
        let key = match key {
            None => None,
            Some(k) => {
                let value = k.header_value().ok_or_else(|| {
                    QuoteError::Config(format!(
                        "{}: api_key {}",
                        api.name(),
                        k.problem().unwrap_or("cannot be sent in a header")
                    ))
                })?;
                Some((k.clone(), value))
            }
        };
        Ok(Auth { header, key })
    }

    fn key(&self) -> Option<&ApiKey> {
        self.key.as_ref().map(|(k, _)| k)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("header", &self.header)
            .field("key", &self.key.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// One API's HTTP caller: the transport, who is speaking and how it authenticates.
#[derive(Clone, Debug)]
pub(crate) struct Caller<C> {
    pub(crate) api: Api,
    pub(crate) auth: Auth,
    pub(crate) http: C,
}

impl<C> Caller<C> {
    /// A caller for `api`, sending `key` (if any) in `header`.
    pub(crate) fn new(
        api: Api,
        header: &str,
        key: Option<&ApiKey>,
        http: C,
    ) -> Result<Self, QuoteError> {
        Ok(Caller {
            api,
            auth: Auth::new(api, header, key)?,
            http,
        })
    }
}

impl<C: HttpClient> Caller<C> {
    /// `GET url?query`, decoded as `T`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        lease: &IpLease,
        url: &str,
        query: &str,
        timeout: Duration,
        what: &'static str,
    ) -> Result<T, QuoteError> {
        let uri = if query.is_empty() {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&{query}")
        } else {
            format!("{url}?{query}")
        };
        let request = self.request(Method::GET, &uri, Bytes::new(), timeout, what)?;
        self.exchange(lease, request, what).await
    }

    /// `POST url` with `body` as JSON, the answer decoded as `T`.
    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        lease: &IpLease,
        url: &str,
        body: &B,
        timeout: Duration,
        what: &'static str,
    ) -> Result<T, QuoteError> {
        let json = serde_json::to_vec(body).map_err(|e| {
            QuoteError::Config(format!(
                "{}: the request for {what} cannot be written as JSON: {e}",
                self.api.name()
            ))
        })?;
        let request = self.request(Method::POST, url, Bytes::from(json), timeout, what)?;
        self.exchange(lease, request, what).await
    }

    fn request(
        &self,
        method: Method,
        uri: &str,
        body: Bytes,
        timeout: Duration,
        what: &'static str,
    ) -> Result<Request<Full<Bytes>>, QuoteError> {
        let is_post = method == Method::POST;
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, USER_AGENT_VALUE);
        if is_post {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        if let Some((_, value)) = &self.auth.key {
            builder = builder.header(&self.auth.header, value.clone());
        }
        let mut request = builder.body(Full::new(body)).map_err(|_| {
            // Never quote the URL: a query may carry a key.
            QuoteError::Config(format!(
                "{}: the URL for {what} is not a valid http(s) URL; check the configured URLs",
                self.api.name()
            ))
        })?;
        request.extensions_mut().insert(RequestTimeout(timeout));
        Ok(request)
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        lease: &IpLease,
        request: Request<Full<Bytes>>,
        what: &'static str,
    ) -> Result<T, QuoteError> {
        let backend = self.api.name();
        let response = self
            .http
            .send(lease, request)
            .await
            .map_err(|source| QuoteError::Net {
                backend: backend.to_owned(),
                source: Box::new(source),
            })?;
        let status = response.status();
        tracing::trace!(backend, local_ip = %lease.ip(), status = status.as_u16(), what, "answer");
        let key = self.auth.key();
        if !status.is_success() {
            return Err(error_for(
                self.api,
                status,
                response.headers(),
                response.body(),
                key,
                SystemTime::now(),
            ));
        }
        decode(self.api, what, response.body(), key)
    }
}

/// Decodes a 2xx body as `T`. A body that is not `T` but carries a no-route code (DFlow's
/// `failed_to_compute_swap` under any status) is [`QuoteError::NoRoute`]; anything else that
/// does not decode is [`QuoteError::Decode`].
pub(crate) fn decode<T: DeserializeOwned>(
    api: Api,
    what: &'static str,
    body: &[u8],
    key: Option<&ApiKey>,
) -> Result<T, QuoteError> {
    serde_json::from_slice(body).map_err(|e| {
        let found = ProviderError::of(body, key);
        if found.is_no_route(api, body) {
            return QuoteError::NoRoute {
                backend: api.name().to_owned(),
                message: found.message,
            };
        }
        QuoteError::Decode {
            backend: api.name().to_owned(),
            what,
            reason: redact(&e.to_string(), key),
        }
    })
}

/// The error for a non-2xx answer.
pub(crate) fn error_for(
    api: Api,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    key: Option<&ApiKey>,
    now: SystemTime,
) -> QuoteError {
    let backend = api.name().to_owned();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        return QuoteError::RateLimited {
            backend,
            retry_after,
        };
    }
    let found = ProviderError::of(body, key);
    if found.is_no_route(api, body) {
        return QuoteError::NoRoute {
            backend,
            message: found.message,
        };
    }
    let status = status.as_u16();
    let ProviderError { code, message } = found;
    match status {
        401 | 403 => QuoteError::Unauthorized {
            backend,
            status,
            message,
        },
        408 | 504 | 500..=599 => QuoteError::Provider {
            backend,
            status,
            code,
            message,
        },
        400..=499 => QuoteError::Rejected {
            backend,
            status,
            code,
            message,
        },
        // 1xx and 3xx: nothing these APIs answer; redirects are not followed.
        _ => QuoteError::Provider {
            backend,
            status,
            code,
            message: format!("unexpected status (redirects are not followed): {message}"),
        },
    }
}

/// What a provider's error body says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ProviderError {
    /// `errorCode` (Jupiter) or `code` (Ultra, DFlow), numbers as their digits.
    pub(crate) code: Option<String>,
    /// `error` / `msg` / `message` / `errorMessage`, or the whole body; summarised.
    pub(crate) message: String,
}

impl ProviderError {
    /// Reads the code and message of `body`, whatever its shape.
    pub(crate) fn of(body: &[u8], key: Option<&ApiKey>) -> Self {
        let json: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
        let field = |names: &[&str]| {
            let map = json.as_ref()?;
            names.iter().find_map(|n| match map.get(*n)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let code = field(&["errorCode", "code"]).map(|c| summarise(&c, key));
        let message = field(&["error", "msg", "message", "errorMessage"])
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        let mut message = summarise(&message, key);
        if message.is_empty() {
            message = "(empty body)".to_owned();
        }
        ProviderError { code, message }
    }

    fn is_no_route(&self, api: Api, body: &[u8]) -> bool {
        let coded = self
            .code
            .as_deref()
            .is_some_and(|c| NO_ROUTE_CODES.iter().any(|n| n.eq_ignore_ascii_case(c)));
        coded
            || (api == Api::Dflow
                && body
                    .windows(DFLOW_FAILED_TO_COMPUTE.len())
                    .any(|w| w == DFLOW_FAILED_TO_COMPUTE.as_bytes()))
    }
}

/// `text` with `key` replaced by `[redacted]`.
fn redact(text: &str, key: Option<&ApiKey>) -> String {
    match key {
        Some(k) if !k.expose().is_empty() => text.replace(k.expose(), REDACTED),
        _ => text.to_owned(),
    }
}

/// Trimmed, whitespace runs (newlines included) collapsed to one space, the key redacted, cut
/// at [`MAX_MESSAGE_CHARS`] characters (the last one an ellipsis when cut).
pub(crate) fn summarise(text: &str, key: Option<&ApiKey>) -> String {
    let text = redact(text, key);
    let mut out = String::new();
    let mut n = 0;
    'words: for word in text.split_whitespace() {
        if n > 0 {
            out.push(' ');
            n += 1;
        }
        for c in word.chars() {
            if n > MAX_MESSAGE_CHARS {
                break 'words;
            }
            out.push(c);
            n += 1;
        }
    }
    if n > MAX_MESSAGE_CHARS {
        let mut cut: String = out.chars().take(MAX_MESSAGE_CHARS - 1).collect();
        cut.push('…');
        return cut;
    }
    out
}

#[cfg(test)]
mod tests;
