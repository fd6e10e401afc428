//! [`ApiKey`]: an API key that never shows itself.

use std::fmt;

use http::HeaderValue;
use serde::{Deserialize, Deserializer, de};

/// What [`ApiKey`]'s `Debug` and `Display` print instead of the key.
pub const REDACTED: &str = "[redacted]";

/// A provider's API key. `Debug` and `Display` print `[redacted]`; it has no `Serialize`, so
/// it cannot leak through a config dump either. Only [`expose`](ApiKey::expose) shows it, and
/// the clients call that once, to build the header value (marked sensitive).
///
/// ```
/// use galileo_quote::ApiKey;
///
/// let key = ApiKey::new("sk-live-1234");
/// assert_eq!(format!("{key} {key:?}"), "[redacted] ApiKey([redacted])");
/// assert_eq!(key.expose(), "sk-live-1234");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself. Never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Why the key cannot be sent in a header, if it cannot (empty, surrounding spaces,
    /// characters outside visible ASCII). The reason never quotes the key.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        if self.0.trim().is_empty() {
            Some("is empty: set the key or remove the setting")
        } else if self.0.trim() != self.0 {
            Some("has leading or trailing spaces: remove them")
        } else if !self.0.bytes().all(|b| b.is_ascii_graphic()) {
            Some("contains characters other than visible ASCII: check the value")
        } else {
            None
        }
    }

    /// The header value, marked sensitive (HTTP/2 never indexes it).
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        if self.problem().is_some() {
            return None;
        }
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({REDACTED})")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_string(KeyVisitor)
    }
}

/// Reads a string; any other type is refused without echoing the value (serde's default
/// message would quote a numeric key).
struct KeyVisitor;

impl KeyVisitor {
    fn refuse<E: de::Error>() -> E {
        E::custom("an API key must be a string (quote it)")
    }
}

impl de::Visitor<'_> for KeyVisitor {
    type Value = ApiKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an API key string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiKey, E> {
        Ok(ApiKey(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<ApiKey, E> {
        Ok(ApiKey(v))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ApiKey, E> {
        Err(Self::refuse())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ApiKey, E> {
        Err(Self::refuse())
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<ApiKey, E> {
        Err(Self::refuse())
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<ApiKey, E> {
        Err(Self::refuse())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ApiKey, E> {
        Err(Self::refuse())
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey(key.to_owned())
    }
}
