use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;

use super::*;

fn err(api: Api, status: u16, body: &str) -> QuoteError {
    err_with(api, status, &HeaderMap::new(), body, None)
}

fn err_with(
    api: Api,
    status: u16,
    headers: &HeaderMap,
    body: &str,
    key: Option<&ApiKey>,
) -> QuoteError {
    error_for(
        api,
        StatusCode::from_u16(status).unwrap(),
        headers,
        body.as_bytes(),
        key,
        SystemTime::UNIX_EPOCH,
    )
}

#[test]
fn statuses_map_to_the_documented_variants() {
    let mut h = HeaderMap::new();
    h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
    let e = err_with(Api::Jupiter, 429, &h, "{}", None);
    assert!(e.is_rate_limited());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    // An HTTP-date Retry-After, relative to `now`.
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:07 GMT"),
    );
    let e = err_with(Api::Dflow, 429, &h, "", None);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err(Api::Ultra, 429, "").retry_after(), None);

    for s in [401, 403] {
        assert!(
            matches!(err(Api::Dflow, s, r#"{"code":"unauthorized","msg":"invalid API key"}"#),
                QuoteError::Unauthorized { status, ref message, .. } if status == s && message == "invalid API key"),
            "{s}"
        );
    }
    for s in [408, 500, 502, 503, 504] {
        let e = err(Api::Jupiter, s, r#"{"error":"boom","errorCode":"X"}"#);
        assert!(
            matches!(&e, QuoteError::Provider { status, code: Some(c), message, .. }
                if *status == s && c == "X" && message == "boom"),
            "{s}: {e:?}"
        );
        assert!(e.is_provider_failure());
    }
    for s in [400, 404, 409, 422] {
        let e = err(Api::Ultra, s, r#"{"error":"bad mint","code":-2}"#);
        assert!(
            matches!(&e, QuoteError::Rejected { status, code: Some(c), message, .. }
                if *status == s && c == "-2" && message == "bad mint"),
            "{s}: {e:?}"
        );
    }
    assert!(matches!(
        err(Api::Jupiter, 302, "moved"),
        QuoteError::Provider { status: 302, .. }
    ));
}

#[test]
fn no_route_codes_and_dflow_failed_to_compute_under_any_status() {
    for code in [
        "COULD_NOT_FIND_ANY_ROUTE",
        "NO_ROUTES_FOUND",
        "route_not_found",
    ] {
        let e = err(
            Api::Jupiter,
            400,
            &format!(r#"{{"error":"none","errorCode":"{code}"}}"#),
        );
        assert!(e.is_no_route(), "{code}: {e:?}");
        assert!(!e.is_provider_failure());
    }
    for status in [400, 500, 503] {
        let e = err(
            Api::Dflow,
            status,
            r#"{"code":"failed_to_compute_swap","msg":"Failed to compute swap"}"#,
        );
        assert!(
            matches!(&e, QuoteError::NoRoute { message, .. } if message == "Failed to compute swap"),
            "{status}: {e:?}"
        );
    }
    // Not JSON, the marker in the text: still "skip", for DFlow.
    assert!(err(Api::Dflow, 500, "upstream: failed_to_compute_swap").is_no_route());
    // Jupiter only trusts its codes, not free text.
    assert!(!err(Api::Jupiter, 500, "failed_to_compute_swap").is_no_route());
    // A 200 that is an error body.
    let e = decode::<serde_json::Map<String, Value>>(Api::Dflow, "a quote", b"[]", None);
    assert!(matches!(e, Err(QuoteError::Decode { .. })));
    let body = br#"{"code":"failed_to_compute_swap","msg":"no"}"#;
    let e = decode::<Vec<u8>>(Api::Dflow, "swap instructions", body, None).unwrap_err();
    assert!(e.is_no_route(), "{e:?}");
    // 429 wins over anything in the body.
    assert!(err(Api::Dflow, 429, r#"{"code":"failed_to_compute_swap"}"#).is_rate_limited());
}

#[test]
fn bodies_are_summarised_and_never_carry_the_key() {
    let key = ApiKey::new("sk-very-secret-0001");
    let body = format!("  line one\n\n\tline two  {}\r\n", key.expose());
    let e = err_with(Api::Jupiter, 401, &HeaderMap::new(), &body, Some(&key));
    let QuoteError::Unauthorized { message, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(message, "line one line two [redacted]");
    assert!(!format!("{e} {e:?}").contains(key.expose()));

    let long = "é".repeat(2_000);
    let s = summarise(&long, None);
    assert_eq!(s.chars().count(), MAX_MESSAGE_CHARS);
    assert!(s.ends_with('…'));
    let exact = "a".repeat(MAX_MESSAGE_CHARS);
    assert_eq!(summarise(&exact, None), exact);
    let over = format!("{exact} b");
    assert_eq!(summarise(&over, None).chars().count(), MAX_MESSAGE_CHARS);
    assert_eq!(summarise(" \n ", None), "");
    assert!(
        matches!(err(Api::Ultra, 500, ""), QuoteError::Provider { message, .. } if message == "(empty body)")
    );

    // The key in a 2xx body that does not decode: not in the reason either.
    let body = format!(r#"{{"amount": "{}"}}"#, key.expose());
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        #[serde(with = "crate::wire::amount")]
        amount: u64,
    }
    let e = decode::<T>(Api::Dflow, "a quote", body.as_bytes(), Some(&key)).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(key.expose()), "{e}");
}

#[test]
fn error_bodies_of_each_shape() {
    let cases = [
        (r#"{"error":"m","errorCode":"C"}"#, Some("C"), "m"),
        (r#"{"error":"m","code":7}"#, Some("7"), "m"),
        (r#"{"code":"c","msg":"m"}"#, Some("c"), "m"),
        (r#"{"message":"m"}"#, None, "m"),
        (
            r#"{"error":{"nested":true}}"#,
            None,
            r#"{"error":{"nested":true}}"#,
        ),
        ("plain text", None, "plain text"),
        ("[1,2]", None, "[1,2]"),
    ];
    for (body, code, message) in cases {
        let p = ProviderError::of(body.as_bytes(), None);
        assert_eq!(
            (p.code.as_deref(), p.message.as_str()),
            (code, message),
            "{body}"
        );
    }
}

proptest! {
    /// Whatever a provider answers, mapping it never panics, keeps the message short and never
    /// lets the key through.
    #[test]
    fn any_answer_maps_without_panic(
        status in 100u16..600,
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        retry in ".{0,40}",
    ) {
        let key = ApiKey::new("KEY-abcdef-123");
        let mut body = body;
        body.extend_from_slice(key.expose().as_bytes());
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&retry) {
            h.insert(RETRY_AFTER, v);
        }
        let Ok(status) = StatusCode::from_u16(status) else { return Ok(()) };
        let e = error_for(Api::Dflow, status, &h, &body, Some(&key), SystemTime::now());
        let text = format!("{e} {e:?}");
        prop_assert!(!text.contains(key.expose()));
        prop_assert!(text.chars().count() < 4 * MAX_MESSAGE_CHARS + 400);
        let d = decode::<serde_json::Value>(Api::Jupiter, "a quote", &body, Some(&key));
        if let Err(e) = d {
            let text = format!("{e} {e:?}");
            prop_assert!(!text.contains(key.expose()));
        }
    }
}
