//! What a request did to its IP: the outcome reported to a lease, and how a response is
//! classified into one.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};

/// The result of one request, as far as the source IP is concerned.
///
/// A 4xx other than 429 is a [`Success`](Outcome::Success) here: the server answered, and the
/// IP is in good standing; the caller deals with the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered (2xx, 3xx, or a 4xx that is not about rate).
    Success,
    /// 429 Too Many Requests; `retry_after` from the `Retry-After` header when present.
    RateLimited {
        /// The server's requested pause (delta-seconds or HTTP-date, already converted).
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    Timeout,
    /// The connection or the TLS handshake failed.
    Connect,
    /// 5xx: the server's problem, not the IP's. Counted, no cooldown.
    ServerError,
}

impl Outcome {
    /// Classifies a response by its status and headers. `now` converts an HTTP-date
    /// `Retry-After` into a duration.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use galileo_net::Outcome;
    /// use http::{HeaderMap, StatusCode};
    ///
    /// let mut h = HeaderMap::new();
    /// h.insert("retry-after", "2".parse().unwrap());
    /// assert_eq!(
    ///     Outcome::classify(StatusCode::TOO_MANY_REQUESTS, &h, SystemTime::now()),
    ///     Outcome::RateLimited { retry_after: Some(Duration::from_secs(2)) },
    /// );
    /// assert_eq!(Outcome::classify(StatusCode::BAD_REQUEST, &h, SystemTime::now()), Outcome::Success);
    /// ```
    pub fn classify(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Outcome {
        if status == StatusCode::TOO_MANY_REQUESTS {
            Outcome::RateLimited {
                retry_after: headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now)),
            }
        } else if status.is_server_error() {
            Outcome::ServerError
        } else {
            Outcome::Success
        }
    }

    /// The metric label for this outcome (`result` in `galileo_ip_requests_total`).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::Timeout => "timeout",
            Outcome::Connect => "connect",
            Outcome::ServerError => "server_error",
        }
    }

    /// True for the outcomes that make an IP rest (429, timeout, connect failure).
    pub fn cools_down(&self) -> bool {
        matches!(
            self,
            Outcome::RateLimited { .. } | Outcome::Timeout | Outcome::Connect
        )
    }
}

/// Parses a `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
/// (`"Wed, 21 Oct 2026 07:28:00 GMT"`, and the obsolete forms RFC 9110 requires accepting).
/// A date in the past means "now" (zero). Anything else is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurd values instead of failing; the cooldown clamps them anyway.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn retry_after_forms() {
        // 1445412480 = Wed, 21 Oct 2015 07:28:00 GMT
        let now = at(1_445_412_480);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        // RFC 850 and asctime forms are obsolete but must be accepted.
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:03 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:05 2015", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-1", "1.5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a server sends, parsing never panics and never returns a negative wait.
        #[test]
        fn any_retry_after_value_parses_or_is_ignored(value in ".{0,64}", now in 0u64..4_000_000_000) {
            let _ = parse_retry_after(&value, at(now));
        }

        #[test]
        fn any_delta_seconds_round_trips(secs in 0u64..u64::MAX) {
            proptest::prop_assert_eq!(
                parse_retry_after(&secs.to_string(), at(0)),
                Some(Duration::from_secs(secs))
            );
        }
    }

    #[test]
    fn classification() {
        let now = SystemTime::now();
        let none = HeaderMap::new();
        let c = |s: u16, h: &HeaderMap| Outcome::classify(StatusCode::from_u16(s).unwrap(), h, now);
        assert_eq!(c(200, &none), Outcome::Success);
        assert_eq!(c(404, &none), Outcome::Success);
        assert_eq!(c(429, &none), Outcome::RateLimited { retry_after: None });
        assert_eq!(c(500, &none), Outcome::ServerError);
        assert_eq!(c(503, &none), Outcome::ServerError);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "garbage".parse().unwrap());
        assert_eq!(c(429, &h), Outcome::RateLimited { retry_after: None });
        assert!(Outcome::Timeout.cools_down() && !Outcome::ServerError.cools_down());
    }
}
