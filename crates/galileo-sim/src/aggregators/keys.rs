//! API keys a service accepts (`x-api-key`). Never shown: `Debug` prints only how many there
//! are, and the core's stats show a hash.

use std::fmt;

use bytes::Bytes;
use http::Request;
use serde::Deserialize;

use super::problem::Problem;

/// The header every aggregator reads its key from.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The accepted API keys; none means the service is open to anyone.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKeys(Vec<String>);

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeys({} configured)", self.0.len())
    }
}

impl ApiKeys {
    /// These keys.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> Self {
        ApiKeys(keys.into_iter().map(Into::into).collect())
    }

    /// Whether no key is configured (the service is open).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `key` is one of them.
    pub fn accepts(&self, key: &str) -> bool {
        self.0.iter().any(|k| k == key)
    }

    /// Checks what serde cannot: no empty and no repeated key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (i, k) in self.0.iter().enumerate() {
            if k.trim().is_empty() {
                return Err(format!("api_keys[{i}] is empty"));
            }
            if self.0[..i].contains(k) {
                return Err(format!("api_keys[{i}] repeats an earlier key"));
            }
        }
        Ok(())
    }

    /// The key the core counts a request against: with keys configured, only an accepted one
    /// (an unknown key is refused with `401` and would only fill the limiter with buckets);
    /// without, whatever the client sent.
    pub(crate) fn key_of(&self, req: &Request<Bytes>) -> Option<String> {
        let sent = header(req)?;
        (self.is_empty() || self.accepts(sent)).then(|| sent.to_owned())
    }

    /// `401` unless the request carries an accepted key (or none is configured).
    pub(crate) fn authorize(&self, req: &Request<Bytes>) -> Result<(), Problem> {
        if self.is_empty() {
            return Ok(());
        }
        match header(req) {
            None => Err(Problem::Unauthorized(format!(
                "missing API key: send it in the {API_KEY_HEADER} header"
            ))),
            Some(k) if self.accepts(k) => Ok(()),
            Some(_) => Err(Problem::Unauthorized("invalid API key".into())),
        }
    }
}

fn header(req: &Request<Bytes>) -> Option<&str> {
    req.headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_show() {
        let keys = ApiKeys::new(["sekrit-one", "sekrit-two"]);
        let shown = format!("{keys:?}");
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(shown.contains('2'));
    }

    #[test]
    fn only_accepted_keys_are_counted() {
        let req = |k: Option<&str>| {
            let mut b = Request::get("/quote");
            if let Some(k) = k {
                b = b.header(API_KEY_HEADER, k);
            }
            b.body(Bytes::new()).unwrap()
        };
        let keys = ApiKeys::new(["a"]);
        assert_eq!(keys.key_of(&req(Some("a"))).as_deref(), Some("a"));
        assert_eq!(keys.key_of(&req(Some("b"))), None);
        assert!(keys.authorize(&req(Some("a"))).is_ok());
        assert!(
            matches!(keys.authorize(&req(None)), Err(Problem::Unauthorized(m)) if m.contains("missing"))
        );
        assert!(
            matches!(keys.authorize(&req(Some("b"))), Err(Problem::Unauthorized(m)) if m.contains("invalid"))
        );
        let open = ApiKeys::default();
        assert_eq!(open.key_of(&req(Some("b"))).as_deref(), Some("b"));
        assert!(open.authorize(&req(None)).is_ok());
        assert!(
            ApiKeys::new(["x", "x"])
                .validate()
                .unwrap_err()
                .contains("repeats")
        );
        assert!(
            ApiKeys::new([" "])
                .validate()
                .unwrap_err()
                .contains("empty")
        );
    }
}
