//! Checks shared by the three clients: configuration values (with messages that say what to
//! change) and whether an answer is the quote that was asked for.

use http::Uri;
use solana_pubkey::Pubkey;

use crate::secret::ApiKey;
use crate::{QuoteError, QuoteRequest, Quoted};

/// The longest per-request timeout accepted, in milliseconds.
pub(crate) const MAX_TIMEOUT_MS: u64 = 120_000;

/// `Err(Config)` naming `backend.field`.
pub(crate) fn config_error(
    backend: &str,
    field: &str,
    problem: impl std::fmt::Display,
) -> QuoteError {
    QuoteError::Config(format!("{backend}.{field} {problem}"))
}

/// An absolute `http://` or `https://` URL with a host. The message never quotes the URL (a
/// query may carry a key).
pub(crate) fn url(
    backend: &str,
    field: &str,
    value: &str,
    example: &str,
) -> Result<(), QuoteError> {
    let bad = || {
        config_error(
            backend,
            field,
            format!("must be an absolute http(s) URL with a host, e.g. {example}"),
        )
    };
    if value.chars().any(char::is_whitespace) || value.contains('#') {
        return Err(bad());
    }
    let uri: Uri = value.parse().map_err(|_| bad())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(h)) if !h.is_empty() => Ok(()),
        _ => Err(bad()),
    }
}

/// A base URL: `https://` added when no scheme is given, trailing `/` removed.
pub(crate) fn normalise_base(value: &str) -> String {
    let v = value.trim();
    let with_scheme = if v.contains("://") {
        v.to_owned()
    } else {
        format!("https://{v}")
    };
    with_scheme.trim_end_matches('/').to_owned()
}

/// A timeout in `1..=MAX_TIMEOUT_MS`.
pub(crate) fn timeout(backend: &str, field: &str, ms: u64) -> Result<(), QuoteError> {
    if (1..=MAX_TIMEOUT_MS).contains(&ms) {
        Ok(())
    } else {
        Err(config_error(
            backend,
            field,
            format!("= {ms}: use 1 to {MAX_TIMEOUT_MS} ms"),
        ))
    }
}

/// Slippage in basis points, at most 10 000.
pub(crate) fn slippage(backend: &str, field: &str, bps: u16) -> Result<(), QuoteError> {
    if bps <= 10_000 {
        Ok(())
    } else {
        Err(config_error(
            backend,
            field,
            format!("= {bps}: use 0 to 10000 basis points"),
        ))
    }
}

/// A list sent as one comma-joined value: entries non-empty, without commas, not repeated.
pub(crate) fn list(backend: &str, field: &str, values: &[String]) -> Result<(), QuoteError> {
    for (i, v) in values.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if v.trim().is_empty() {
            return Err(config_error(backend, &at, "is empty"));
        }
        if v.contains(',') {
            return Err(config_error(
                backend,
                &at,
                format!("= {v:?} contains a comma: give one name per entry"),
            ));
        }
        if values[..i].contains(v) {
            return Err(config_error(
                backend,
                &at,
                format!("= {v:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// No name both included and excluded.
pub(crate) fn disjoint(
    backend: &str,
    (inc_field, inc): (&str, &[String]),
    (exc_field, exc): (&str, &[String]),
) -> Result<(), QuoteError> {
    match inc.iter().find(|v| exc.contains(v)) {
        Some(v) => Err(QuoteError::Config(format!(
            "{backend}: {v:?} is in both {inc_field} and {exc_field}; keep it in one"
        ))),
        None => Ok(()),
    }
}

/// The API key and its header: a valid header name, and a key that can be sent.
pub(crate) fn auth(backend: &str, header: &str, key: Option<&ApiKey>) -> Result<(), QuoteError> {
    if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
        return Err(config_error(
            backend,
            "api_key_header",
            format!("= {header:?} is not a valid HTTP header name (e.g. x-api-key)"),
        ));
    }
    let reserved = [
        "accept",
        "user-agent",
        "content-type",
        "host",
        "content-length",
    ];
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(header)) {
        return Err(config_error(
            backend,
            "api_key_header",
            format!(
                "= {header:?} is a header the client sets itself; use the provider's key header"
            ),
        ));
    }
    match key.and_then(ApiKey::problem) {
        Some(problem) => Err(config_error(backend, "api_key", problem)),
        None => Ok(()),
    }
}

/// The answer is for the mints asked for (and, when `same_amount`, the amount).
pub(crate) fn answer<Q: Quoted>(
    backend: &str,
    what: &'static str,
    request: &QuoteRequest,
    quote: &Q,
    same_amount: bool,
) -> Result<(), QuoteError> {
    let pair = |i: Pubkey, o: Pubkey| format!("{i} → {o}");
    let asked = pair(request.input_mint, request.output_mint);
    let got = pair(quote.input_mint(), quote.output_mint());
    let reason = if asked != got {
        format!("asked for {asked}, answered {got}")
    } else if same_amount && quote.in_amount() != request.amount {
        format!(
            "asked for {} in, answered {} in",
            request.amount,
            quote.in_amount()
        )
    } else {
        return Ok(());
    };
    Err(QuoteError::Decode {
        backend: backend.to_owned(),
        what,
        reason: format!("not the quote asked for: {reason}"),
    })
}

/// `form_urlencoded` pairs, in order, into a query string.
pub(crate) struct Query(form_urlencoded::Serializer<'static, String>);

impl Query {
    pub(crate) fn new() -> Self {
        Query(form_urlencoded::Serializer::new(String::new()))
    }

    pub(crate) fn put(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.0.append_pair(name, &value.to_string());
        self
    }

    /// A comma-joined list, when not empty.
    pub(crate) fn list(&mut self, name: &str, values: &[String]) -> &mut Self {
        if !values.is_empty() {
            self.0.append_pair(name, &values.join(","));
        }
        self
    }

    /// `name`, when `value` is set.
    pub(crate) fn opt<T: std::fmt::Display>(&mut self, name: &str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.put(name, v);
        }
        self
    }

    pub(crate) fn finish(&mut self) -> String {
        self.0.finish()
    }
}
