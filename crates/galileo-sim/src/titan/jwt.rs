//! Titan's JWT (spec §1.2): HS256 with a secret shared with the tests, claims `iss`, `sub`,
//! `aud`, `exp`, `iat` required, `nbf` and `jti` optional, and the custom
//! `https://api.titan.ag/upk_b58` (the user key requests must then name).
//!
//! [`verify`] is sans-IO: it takes the Unix time. Errors never carry the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use solana_pubkey::Pubkey;

/// The custom claim naming the user's wallet.
pub const UPK_CLAIM: &str = "https://api.titan.ag/upk_b58";

/// The claims of a token [`sign`] makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// The user id (the simulator's per-key limits count per `sub`).
    pub sub: String,
    /// Audience (`api.titan.ag`).
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Not before, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The user key, base58.
    #[serde(
        rename = "https://api.titan.ag/upk_b58",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub upk_b58: Option<String>,
}

impl Claims {
    /// Claims for `sub`, audience `api.titan.ag`, issued at `now` (Unix seconds) for
    /// `lifetime_secs`, like the real 900 s tokens.
    pub fn new(sub: impl Into<String>, now: u64, lifetime_secs: u64) -> Self {
        Claims {
            iss: "https://galileo-sim.invalid/".into(),
            sub: sub.into(),
            aud: "api.titan.ag".into(),
            exp: now.saturating_add(lifetime_secs),
            iat: now,
            nbf: None,
            jti: None,
            upk_b58: None,
        }
    }
}

/// Signs `claims` with HS256 (header `{"alg":"HS256","typ":"JWT"}`).
pub fn sign(claims: &Claims, secret: &[u8]) -> String {
    sign_json(&serde_json::to_value(claims).unwrap_or_default(), secret)
}

/// Signs any JSON payload with HS256 (tests use it to make tokens the simulator refuses).
pub fn sign_json(payload: &serde_json::Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(payload.to_string());
    let signing_input = format!("{header}.{body}");
    let sig = URL_SAFE_NO_PAD.encode(
        mac(secret, signing_input.as_bytes())
            .finalize()
            .into_bytes(),
    );
    format!("{signing_input}.{sig}")
}

fn mac(secret: &[u8], data: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(data);
    m
}

/// What the handshake needs from a valid token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The user id.
    pub sub: String,
    /// The token id.
    pub jti: Option<String>,
    /// The user key the token binds requests to.
    pub user_key: Option<Pubkey>,
}

/// Why a token is refused. The message says what to fix; it never contains the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// No token in `?auth=`, `Authorization: Bearer` or `Authentication: Bearer`.
    #[error(
        "missing token: send a JWT as ?auth=<jwt>, `Authorization: Bearer <jwt>` or \
         `Authentication: Bearer <jwt>`"
    )]
    Missing,
    /// Not three base64url parts with a JSON header and payload.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// An algorithm other than HS256.
    #[error("unsupported token algorithm `{0}`: only HS256 is accepted")]
    Algorithm(String),
    /// The signature does not match the shared secret.
    #[error("bad token signature: the token was not signed with this server's secret")]
    Signature,
    /// A required claim is missing or of the wrong type.
    #[error("token claim `{0}` is missing or invalid")]
    Claim(&'static str),
    /// `exp` has passed.
    #[error("token expired {0} s ago: get a fresh one")]
    Expired(u64),
    /// `iat` is in the future.
    #[error("token issued {0} s in the future (`iat`): check the issuer's clock")]
    IssuedInFuture(u64),
    /// `nbf` is in the future.
    #[error("token not valid for another {0} s (`nbf`)")]
    NotYetValid(u64),
    /// `aud` does not name this server.
    #[error("token audience does not include `{0}`")]
    Audience(String),
    /// The user-key claim is not a base58 pubkey.
    #[error("token claim `{UPK_CLAIM}` is not a base58 Solana pubkey")]
    UserKey,
}

/// The token of a request: `?auth=`, then `Authorization: Bearer`, then
/// `Authentication: Bearer`.
pub fn token_of<B>(req: &http::Request<B>) -> Option<&str> {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("auth="))
            .filter(|t| !t.is_empty())
    });
    from_query.or_else(|| {
        ["authorization", "authentication"].iter().find_map(|h| {
            let v = req.headers().get(*h)?.to_str().ok()?.trim();
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim())
                .filter(|t| !t.is_empty())
        })
    })
}

/// Verifies an HS256 token at Unix time `now` with `leeway` seconds of clock skew.
pub fn verify(
    token: &str,
    secret: &[u8],
    audience: &str,
    now: u64,
    leeway: u64,
) -> Result<Verified, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    };
    let part = |what: &str, text: &str| {
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| JwtError::Malformed(format!("the {what} is not base64url")))
    };
    let header: serde_json::Value = serde_json::from_slice(&part("header", h)?)
        .map_err(|_| JwtError::Malformed("the header is not JSON".into()))?;
    match header.get("alg").and_then(|a| a.as_str()) {
        Some("HS256") => {}
        Some(other) => return Err(JwtError::Algorithm(other.chars().take(16).collect())),
        None => return Err(JwtError::Malformed("the header has no `alg`".into())),
    }
    let sig = part("signature", s)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    mac(secret, signing_input.as_bytes())
        .verify_slice(&sig)
        .map_err(|_| JwtError::Signature)?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&part("payload", p)?)
            .map_err(|_| JwtError::Malformed("the payload is not a JSON object".into()))?;

    let time = |name: &'static str, required: bool| -> Result<Option<f64>, JwtError> {
        match claims.get(name) {
            None | Some(serde_json::Value::Null) if !required => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or(JwtError::Claim(name)),
            None => Err(JwtError::Claim(name)),
        }
    };
    let text = |name: &'static str| -> Result<Option<String>, JwtError> {
        match claims.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(JwtError::Claim(name)),
        }
    };
    let (now_f, leeway_f) = (now as f64, leeway as f64);
    let exp = time("exp", true)?.unwrap_or_default();
    if now_f >= exp + leeway_f {
        return Err(JwtError::Expired((now_f - exp).max(0.0) as u64));
    }
    let iat = time("iat", true)?.unwrap_or_default();
    if iat > now_f + leeway_f {
        return Err(JwtError::IssuedInFuture((iat - now_f) as u64));
    }
    if let Some(nbf) = time("nbf", false)?
        && nbf > now_f + leeway_f
    {
        return Err(JwtError::NotYetValid((nbf - now_f) as u64));
    }
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == audience,
        Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => return Err(JwtError::Claim("aud")),
    };
    if !aud_ok {
        return Err(JwtError::Audience(audience.to_owned()));
    }
    text("iss")?.ok_or(JwtError::Claim("iss"))?;
    let sub = text("sub")?
        .filter(|s| !s.is_empty())
        .ok_or(JwtError::Claim("sub"))?;
    let jti = text("jti")?;
    let user_key = match claims.get(UPK_CLAIM) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => {
            Some(s.parse::<Pubkey>().map_err(|_| JwtError::UserKey)?)
        }
        Some(_) => return Err(JwtError::UserKey),
    };
    Ok(Verified { sub, jti, user_key })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"unit-test-secret";
    const NOW: u64 = 1_760_537_855;

    fn ok(claims: &Claims) -> Result<Verified, JwtError> {
        verify(&sign(claims, SECRET), SECRET, "api.titan.ag", NOW, 5)
    }

    #[test]
    fn claims_are_checked_with_leeway() {
        let mut c = Claims::new("user-1", NOW, 900);
        c.upk_b58 = Some("Titan11111111111111111111111111111111111111".into());
        c.jti = Some("j1".into());
        let v = ok(&c).unwrap();
        assert_eq!(v.sub, "user-1");
        assert_eq!(v.jti.as_deref(), Some("j1"));
        assert_eq!(
            v.user_key.unwrap().to_string(),
            "Titan11111111111111111111111111111111111111"
        );

        let mut e = c.clone();
        e.exp = NOW - 5;
        assert_eq!(ok(&e), Err(JwtError::Expired(5)));
        e.exp = NOW - 4; // within the leeway
        ok(&e).unwrap();
        let mut f = c.clone();
        f.iat = NOW + 6;
        assert_eq!(ok(&f), Err(JwtError::IssuedInFuture(6)));
        f.iat = NOW + 5;
        ok(&f).unwrap();
        let mut n = c.clone();
        n.nbf = Some(NOW + 60);
        assert_eq!(ok(&n), Err(JwtError::NotYetValid(60)));
        let mut a = c.clone();
        a.aud = "api.titan.exchange".into();
        assert_eq!(ok(&a), Err(JwtError::Audience("api.titan.ag".into())));
        let mut u = c.clone();
        u.upk_b58 = Some("not a key".into());
        assert_eq!(ok(&u), Err(JwtError::UserKey));

        // An audience list naming us is fine.
        let mut v = serde_json::to_value(&c).unwrap();
        v["aud"] = serde_json::json!(["other", "api.titan.ag"]);
        verify(&sign_json(&v, SECRET), SECRET, "api.titan.ag", NOW, 5).unwrap();
        // A missing claim is named.
        v.as_object_mut().unwrap().remove("iss");
        assert_eq!(
            verify(&sign_json(&v, SECRET), SECRET, "api.titan.ag", NOW, 5),
            Err(JwtError::Claim("iss"))
        );
    }

    #[test]
    fn forgeries_are_refused() {
        let c = Claims::new("user-1", NOW, 900);
        let good = sign(&c, SECRET);
        assert_eq!(
            verify(&good, b"another secret", "api.titan.ag", NOW, 5),
            Err(JwtError::Signature)
        );
        // Payload swapped under the original signature.
        let mut other = c.clone();
        other.sub = "admin".into();
        let forged_payload = sign(&other, SECRET);
        let parts: Vec<&str> = good.split('.').collect();
        let fparts: Vec<&str> = forged_payload.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], fparts[1], parts[2]);
        assert_eq!(
            verify(&forged, SECRET, "api.titan.ag", NOW, 5),
            Err(JwtError::Signature)
        );
        // alg: none.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(
            verify(&none, SECRET, "api.titan.ag", NOW, 5),
            Err(JwtError::Algorithm("none".into()))
        );
        for bad in ["", "a.b", "a.b.c.d", "!!.??.##"] {
            assert!(matches!(
                verify(bad, SECRET, "api.titan.ag", NOW, 5),
                Err(JwtError::Malformed(_))
            ));
        }
        // Errors never show the token.
        let e = verify(&forged, SECRET, "api.titan.ag", NOW, 5).unwrap_err();
        assert!(!format!("{e} {e:?}").contains(parts[2]));
    }

    #[test]
    fn the_token_comes_from_the_query_or_either_header() {
        let r = http::Request::get("/ws?x=1&auth=tok").body(()).unwrap();
        assert_eq!(token_of(&r), Some("tok"));
        let r = http::Request::get("/ws")
            .header("Authorization", "Bearer tok2")
            .body(())
            .unwrap();
        assert_eq!(token_of(&r), Some("tok2"));
        let r = http::Request::get("/ws")
            .header("Authentication", "bearer  tok3")
            .body(())
            .unwrap();
        assert_eq!(token_of(&r), Some("tok3"));
        let r = http::Request::get("/ws")
            .header("Authorization", "Basic abc")
            .body(())
            .unwrap();
        assert_eq!(token_of(&r), None);
    }
}
