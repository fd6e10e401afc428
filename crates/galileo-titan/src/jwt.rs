//! The JWT Titan authenticates with: an API credential the user obtains from Titan and
//! supplies (configuration or an environment variable). It is sent as
//! `Authorization: Bearer <jwt>` or `?auth=<jwt>`, and never logged: `Debug` shows only its
//! claims' expiry and audience.
//!
//! The client reads the payload's `exp` and `aud` (base64url JSON; no signature check, that is
//! the server's job) to warn ahead of expiry; [`ExpiryWatch`] is the sans-IO timer for it.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::TitanError;

/// The audience Titan's tokens name.
pub const AUDIENCE: &str = "api.titan.ag";

/// A Titan JWT. `Debug` never shows the token.
///
/// ```
/// use galileo_titan::Jwt;
/// // {"alg":"HS256"} . {"exp":1760538755,"aud":"api.titan.ag","sub":"u"} . signature
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjA1Mzg3NTUsImF1ZCI6ImFwaS50aXRhbi5hZyIsInN1YiI6InUifQ.c2ln";
/// let jwt = Jwt::new(token)?;
/// assert_eq!(jwt.expires_at_unix(), Some(1_760_538_755));
/// assert!(jwt.names_audience("api.titan.ag"));
/// assert!(!format!("{jwt:?}").contains(token));
/// # Ok::<(), galileo_titan::TitanError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Jwt {
    token: String,
    exp: Option<u64>,
    aud: Vec<String>,
}

impl Jwt {
    /// Reads a token's claims. A token that is not three base64url parts with a JSON payload
    /// is refused (with a reason that does not quote it).
    pub fn new(token: impl Into<String>) -> Result<Self, TitanError> {
        let token = token.into().trim().to_owned();
        let malformed = |why: &str| TitanError::Jwt(format!("the token is not a JWT: {why}"));
        if token.is_empty() {
            return Err(TitanError::Jwt(
                "the token is empty: set `jwt` or the environment variable named by `jwt_env`"
                    .into(),
            ));
        }
        if token
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=')))
        {
            return Err(malformed("it has characters outside base64url"));
        }
        let mut parts = token.split('.');
        let (Some(_header), Some(payload), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected three dot-separated parts"));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| malformed("the payload is not base64url"))?;
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
            .map_err(|_| malformed("the payload is not a JSON object"))?;
        let exp = claims.get("exp").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        });
        let aud = match claims.get("aud") {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Jwt { token, exp, aud })
    }

    /// The token from environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, TitanError> {
        match std::env::var(var) {
            Ok(v) => Jwt::new(v),
            Err(_) => Err(TitanError::Jwt(format!(
                "no token: set the environment variable {var} (or `jwt` in the Titan \
                 configuration) to the JWT Titan issued you"
            ))),
        }
    }

    /// `exp`, Unix seconds, when the token has one.
    pub fn expires_at_unix(&self) -> Option<u64> {
        self.exp
    }

    /// The audiences the token names.
    pub fn audiences(&self) -> &[String] {
        &self.aud
    }

    /// Whether `aud` names `audience`.
    pub fn names_audience(&self, audience: &str) -> bool {
        self.aud.iter().any(|a| a == audience)
    }

    /// The token itself, for the handshake only.
    pub(crate) fn expose(&self) -> &str {
        &self.token
    }

    /// Replaces every occurrence of the token in `text` (a server's message, say).
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.token.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.token, "<redacted>")
        }
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("token", &"<redacted>")
            .field("exp", &self.exp)
            .field("aud", &self.aud)
            .finish()
    }
}

/// The current Unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where a token stands at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    /// No `exp` claim: nothing to watch.
    NoExpiry,
    /// Valid for `remaining`.
    Valid {
        /// Time left.
        remaining: Duration,
    },
    /// Valid for less than the warning lead.
    ExpiringSoon {
        /// Time left.
        remaining: Duration,
    },
    /// Past `exp`: the server refuses new connections with it.
    Expired {
        /// How long ago.
        ago: Duration,
    },
}

/// Warns ahead of a token's expiry, once per phase (expiring soon, expired). Sans-IO: it
/// takes the Unix time and says when to look again.
///
/// ```
/// use std::time::Duration;
/// use galileo_titan::jwt::{ExpiryWatch, TokenStatus};
///
/// let mut w = ExpiryWatch::new(Some(1_000), Duration::from_secs(120));
/// assert_eq!(w.poll(800), None);
/// assert_eq!(w.next_check(800), Some(880));
/// assert_eq!(w.poll(900), Some(TokenStatus::ExpiringSoon { remaining: Duration::from_secs(100) }));
/// assert_eq!(w.poll(950), None, "warned once");
/// assert_eq!(w.poll(1_001), Some(TokenStatus::Expired { ago: Duration::from_secs(1) }));
/// assert_eq!(w.next_check(1_001), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryWatch {
    exp: Option<u64>,
    lead: Duration,
    warned_soon: bool,
    warned_expired: bool,
}

impl ExpiryWatch {
    /// A watch of `exp` (Unix seconds) warning `lead` ahead.
    pub fn new(exp: Option<u64>, lead: Duration) -> Self {
        ExpiryWatch {
            exp,
            lead,
            warned_soon: false,
            warned_expired: false,
        }
    }

    /// The token's status at `now` (Unix seconds).
    pub fn status(&self, now: u64) -> TokenStatus {
        match self.exp {
            None => TokenStatus::NoExpiry,
            Some(exp) if now >= exp => TokenStatus::Expired {
                ago: Duration::from_secs(now - exp),
            },
            Some(exp) => {
                let remaining = Duration::from_secs(exp - now);
                if remaining <= self.lead {
                    TokenStatus::ExpiringSoon { remaining }
                } else {
                    TokenStatus::Valid { remaining }
                }
            }
        }
    }

    /// A status worth a warning at `now`, the first time it is reached.
    pub fn poll(&mut self, now: u64) -> Option<TokenStatus> {
        let s = self.status(now);
        match s {
            TokenStatus::ExpiringSoon { .. } if !self.warned_soon => {
                self.warned_soon = true;
                Some(s)
            }
            TokenStatus::Expired { .. } if !self.warned_expired => {
                self.warned_soon = true;
                self.warned_expired = true;
                Some(s)
            }
            _ => None,
        }
    }

    /// When (Unix seconds) the next warning may be due; `None` when nothing is left to warn.
    pub fn next_check(&self, now: u64) -> Option<u64> {
        let exp = self.exp?;
        if !self.warned_soon {
            let soon = exp.saturating_sub(self.lead.as_secs());
            return Some(soon.max(now));
        }
        (!self.warned_expired).then_some(exp.max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn claims_are_read_and_the_token_never_shown() {
        let t = token(r#"{"exp":1760538755,"aud":["x","api.titan.ag"],"sub":"generic"}"#);
        let jwt = Jwt::new(&t).unwrap();
        assert_eq!(jwt.expires_at_unix(), Some(1_760_538_755));
        assert!(jwt.names_audience(AUDIENCE));
        assert!(!format!("{jwt:?}").contains(&t));
        assert_eq!(jwt.redact(&format!("bad {t}!")), "bad <redacted>!");
    }

    #[test]
    fn malformed_tokens_are_refused_without_quoting_them() {
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a.!!!.c",
            "has space.x.y",
            &format!("x.{}.y", URL_SAFE_NO_PAD.encode("[1]")),
        ] {
            let e = Jwt::new(bad).unwrap_err();
            assert!(e.is_config(), "{e}");
            if bad.len() > 3 {
                assert!(!e.to_string().contains(bad), "{e}");
            }
        }
        // No exp: accepted, nothing to watch.
        let jwt = Jwt::new(token(r#"{"aud":"api.titan.ag"}"#)).unwrap();
        assert_eq!(
            ExpiryWatch::new(jwt.expires_at_unix(), Duration::from_secs(1)).status(5),
            TokenStatus::NoExpiry
        );
    }

    #[test]
    fn an_expired_token_warns_once_at_once() {
        let mut w = ExpiryWatch::new(Some(100), Duration::from_secs(60));
        assert_eq!(
            w.poll(160),
            Some(TokenStatus::Expired {
                ago: Duration::from_secs(60)
            })
        );
        assert_eq!(w.poll(161), None);
        assert_eq!(w.next_check(161), None);
    }
}
