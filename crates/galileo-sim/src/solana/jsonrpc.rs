//! JSON-RPC 2.0 as the Solana validator's server speaks it (and Jito, which follows it):
//! envelopes, error objects, positional parameters, batches.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::service::SimBody;

/// `-32700`: the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// `-32600`: not a JSON-RPC 2.0 request.
pub const INVALID_REQUEST: i64 = -32600;
/// `-32601`: unknown method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// `-32602`: malformed parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// `-32603`: the server failed.
pub const INTERNAL_ERROR: i64 = -32603;

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// The code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Extra data (preflight results, slots behind...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error without data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The same error with `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `-32700 Parse error`.
    pub fn parse_error() -> Self {
        RpcError::new(PARSE_ERROR, "Parse error")
    }

    /// `-32600 Invalid request`.
    pub fn invalid_request() -> Self {
        RpcError::new(INVALID_REQUEST, "Invalid request")
    }

    /// `-32601 Method not found`.
    pub fn method_not_found() -> Self {
        RpcError::new(METHOD_NOT_FOUND, "Method not found")
    }

    /// `-32602` with `message`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, message)
    }

    /// `-32602 Invalid param: <what>` as the validator reports an unparsable key or signature.
    pub fn invalid_param(what: impl std::fmt::Display) -> Self {
        RpcError::invalid_params(format!("Invalid param: {what}"))
    }
}

/// A response: `result` or `error`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Payload<T> {
    /// Success.
    Result(T),
    /// Failure.
    Error(RpcError),
}

/// A JSON-RPC 2.0 response, `{"jsonrpc":"2.0","result":...,"id":...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcResponse<T> {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// `result` or `error`.
    #[serde(flatten)]
    pub payload: Payload<T>,
    /// The request's id (`null` when it could not be read).
    pub id: Value,
}

impl<T> RpcResponse<T> {
    /// A success.
    pub fn result(id: Value, result: T) -> Self {
        RpcResponse {
            jsonrpc: "2.0".to_string(),
            payload: Payload::Result(result),
            id,
        }
    }

    /// A failure.
    pub fn error(id: Value, error: RpcError) -> Self {
        RpcResponse {
            jsonrpc: "2.0".to_string(),
            payload: Payload::Error(error),
            id,
        }
    }
}

/// One request of a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The method.
    pub method: String,
    /// Its parameters (`None` when absent or `null`).
    pub params: Option<Value>,
    /// Its id; `None` for a notification (no response).
    pub id: Option<Value>,
}

impl Call {
    /// Reads one request object; `Err` is the response to send (id `null`).
    pub fn from_value(v: Value) -> Result<Call, RpcError> {
        let Value::Object(mut map) = v else {
            return Err(RpcError::invalid_request());
        };
        if map.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(RpcError::invalid_request());
        }
        let Some(Value::String(method)) = map.remove("method") else {
            return Err(RpcError::invalid_request());
        };
        let id = map.remove("id");
        if id
            .as_ref()
            .is_some_and(|id| !matches!(id, Value::Null | Value::Number(_) | Value::String(_)))
        {
            return Err(RpcError::invalid_request());
        }
        let params = match map.remove("params") {
            None | Some(Value::Null) => None,
            Some(p @ (Value::Array(_) | Value::Object(_))) => Some(p),
            Some(_) => return Err(RpcError::invalid_request()),
        };
        Ok(Call { method, params, id })
    }
}

/// A body: one request or a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// One request (or the error answering an invalid one).
    Single(Result<Call, RpcError>),
    /// A batch, answered by an array.
    Batch(Vec<Result<Call, RpcError>>),
}

impl Body {
    /// Parses a request body. `Err` is the response to send (`-32700` or `-32600`).
    pub fn parse(bytes: &[u8]) -> Result<Body, RpcError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|_| RpcError::parse_error())?;
        match v {
            Value::Array(items) if items.is_empty() => Err(RpcError::invalid_request()),
            Value::Array(items) => Ok(Body::Batch(
                items.into_iter().map(Call::from_value).collect(),
            )),
            other => Ok(Body::Single(Call::from_value(other))),
        }
    }
}

/// Positional parameters, read the way the validator's JSON-RPC server does (trailing optional
/// parameters may be left out).
#[derive(Clone, Debug, PartialEq)]
pub struct Params(Vec<Value>);

impl Params {
    /// Wraps a call's parameters; only an array (or nothing) is accepted.
    pub fn new(params: Option<Value>) -> Result<Params, RpcError> {
        match params {
            None => Ok(Params(Vec::new())),
            Some(Value::Array(v)) => Ok(Params(v)),
            Some(_) => Err(RpcError::invalid_params(
                "Invalid params: invalid type: map, expected a sequence.",
            )),
        }
    }

    /// How many were given.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none were given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads the parameters as the tuple `T` of `arity` elements, the first `required` of
    /// which must be present.
    pub fn parse<T: DeserializeOwned>(self, required: usize, arity: usize) -> Result<T, RpcError> {
        let mut v = self.0;
        if v.len() < required || v.len() > arity {
            return Err(RpcError::invalid_params(format!(
                "Invalid params: invalid length {}, expected a tuple of size {arity}.",
                v.len()
            )));
        }
        v.resize(arity, Value::Null);
        serde_json::from_value(Value::Array(v))
            .map_err(|e| RpcError::invalid_params(format!("Invalid params: {e}.")))
    }

    /// Checks that a method without parameters got none.
    pub fn none(self) -> Result<(), RpcError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(RpcError::invalid_params(format!(
                "Invalid params: invalid length {}, expected no parameters.",
                self.0.len()
            )))
        }
    }
}

/// The HTTP gate of the validator's server: `POST` (or `OPTIONS`) with
/// `Content-Type: application/json`. `Some` is the refusal to send.
pub fn http_refusal(req: &Request<Bytes>) -> Option<Response<SimBody>> {
    if req.method() == Method::OPTIONS {
        return Some(plain(StatusCode::OK, ""));
    }
    if req.method() != Method::POST {
        return Some(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "Used HTTP Method is not allowed. POST or OPTIONS is required\n",
        ));
    }
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Some(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Supplied content type is not allowed. Content-Type: application/json is required\n",
        ));
    }
    None
}

/// The core's refusals (`429`, `503`, `500`, `413`) in JSON-RPC form with `id: null`, as RPC
/// providers answer them: code `rate_limited_code` for a `429`, `-32603` otherwise.
pub fn core_error(status: StatusCode, message: &str, rate_limited_code: i64) -> Response<SimBody> {
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        rate_limited_code
    } else {
        -32603
    };
    error_response(status, Value::Null, RpcError::new(code, message))
}

/// One JSON-RPC error answering request `id`, with HTTP `status`.
pub fn error_response(status: StatusCode, id: Value, e: RpcError) -> Response<SimBody> {
    let v = serde_json::to_value(RpcResponse::<Value>::error(id, e)).expect("serializable");
    crate::service::json(status, &v)
}

/// A plain-text response.
pub fn plain(status: StatusCode, text: &'static str) -> Response<SimBody> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(SimBody::full(text))
        .expect("valid response")
}

/// Answers a whole body with `dispatch`, which turns one call into its result. Notifications
/// get no entry; a body of notifications only gets an empty response.
pub fn answer(
    body: Body,
    mut dispatch: impl FnMut(Call) -> Result<Value, RpcError>,
) -> Option<Value> {
    let mut one = |call: Result<Call, RpcError>| -> Option<Value> {
        let resp = match call {
            Err(e) => RpcResponse::error(Value::Null, e),
            Ok(call) => {
                let id = call.id.clone();
                let out = dispatch(call);
                let id = id?;
                match out {
                    Ok(v) => RpcResponse::result(id, v),
                    Err(e) => RpcResponse::error(id, e),
                }
            }
        };
        Some(serde_json::to_value(resp).expect("serializable"))
    };
    match body {
        Body::Single(call) => one(call),
        Body::Batch(calls) => {
            let out: Vec<Value> = calls.into_iter().filter_map(one).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
    }
}

/// A JSON response with `status`.
pub fn json_response(status: StatusCode, body: Option<&Value>) -> Response<SimBody> {
    match body {
        Some(v) => crate::service::json(status, v),
        None => Response::builder()
            .status(status)
            .body(SimBody::empty())
            .expect("valid response"),
    }
}
