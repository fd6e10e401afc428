//! What went wrong with a request, before each API words it in its own error shape.

use http::StatusCode;

use super::ledger::LedgerError;
use super::wire::query::ParamError;
use crate::market::QuoteError;

/// A refused request. Each API renders it: Jupiter `{"error", "errorCode"}`, Ultra
/// `{"error"}`, DFlow `{"code", "msg"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// `400`: a malformed parameter or body.
    BadRequest(String),
    /// `400`: a mint the market does not trade.
    UnknownMint(String),
    /// `400`: input and output are the same mint.
    SameMint,
    /// `400`: no route (no venue allowed, too large for every venue, ExactOut).
    NoRoute(String),
    /// `401`: a missing or unknown API key.
    Unauthorized(String),
    /// `404`: no such endpoint.
    NotFound(String),
    /// `405`: the endpoint exists with another method.
    MethodNotAllowed(String),
    /// `500`: the simulator (or its ledger) failed.
    Internal(String),
}

impl Problem {
    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Problem::BadRequest(_)
            | Problem::UnknownMint(_)
            | Problem::SameMint
            | Problem::NoRoute(_) => StatusCode::BAD_REQUEST,
            Problem::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Problem::NotFound(_) => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Problem::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The human message.
    pub(crate) fn message(&self) -> String {
        match self {
            Problem::BadRequest(m)
            | Problem::UnknownMint(m)
            | Problem::NoRoute(m)
            | Problem::Unauthorized(m)
            | Problem::NotFound(m)
            | Problem::MethodNotAllowed(m)
            | Problem::Internal(m) => m.clone(),
            Problem::SameMint => "inputMint and outputMint must differ".into(),
        }
    }

    /// A body that does not parse as the endpoint's request.
    pub(crate) fn body(e: &serde_json::Error) -> Self {
        Problem::BadRequest(format!("invalid request body: {e}"))
    }

    /// The market's refusal of a quote.
    pub(crate) fn quote(e: &QuoteError) -> Self {
        match e {
            QuoteError::UnknownMint(m) => {
                Problem::UnknownMint(format!("token {m} is not tradable"))
            }
            QuoteError::SameMint => Problem::SameMint,
            QuoteError::ZeroAmount => Problem::BadRequest("amount must be greater than 0".into()),
            QuoteError::UnknownVenue(_) => {
                Problem::NoRoute("no route found: no venue is allowed for this pair".into())
            }
            QuoteError::ExceedsDepth { max_in_amount } => Problem::NoRoute(format!(
                "no route found for this amount: at most {max_in_amount} fits the deepest venue"
            )),
            QuoteError::OutputOverflow => {
                Problem::NoRoute("no route found: the output would overflow".into())
            }
        }
    }

    /// The ledger's refusal to build instructions.
    pub(crate) fn ledger(e: &LedgerError) -> Self {
        match e {
            LedgerError::Invalid(m) => Problem::BadRequest(m.clone()),
            other => Problem::Internal(other.to_string()),
        }
    }
}

impl From<ParamError> for Problem {
    fn from(e: ParamError) -> Self {
        Problem::BadRequest(e.to_string())
    }
}
