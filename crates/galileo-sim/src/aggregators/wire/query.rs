//! Query strings, decoded as `application/x-www-form-urlencoded` (`+` is a space, `%XX` a
//! byte), and read into typed parameters with the messages a `400` carries.
//!
//! Parsing never fails: a malformed escape stays as written and invalid UTF-8 is replaced, so
//! any input gets an answer about the parameter it spoils, never a panic.

use std::fmt;

use solana_pubkey::Pubkey;

/// Why a parameter was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "query parameter {}: {}", self.name, self.reason)
    }
}

impl std::error::Error for ParamError {}

/// A decoded query string. Repeated keys keep their first value; unknown keys are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Decodes one `application/x-www-form-urlencoded` component.
pub fn decode_component(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Query {
    /// Decodes `raw` (the part after `?`, if any).
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode_component(k), decode_component(v))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn err(name: &str, reason: impl Into<String>) -> ParamError {
        ParamError {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }

    /// A required value.
    pub fn required(&self, name: &str) -> Result<&str, ParamError> {
        self.get(name).ok_or_else(|| Self::err(name, "is required"))
    }

    /// A required base58 public key.
    pub fn pubkey(&self, name: &str) -> Result<Pubkey, ParamError> {
        parse_pubkey(name, self.required(name)?)
    }

    /// An optional base58 public key.
    pub fn opt_pubkey(&self, name: &str) -> Result<Option<Pubkey>, ParamError> {
        self.get(name).map(|v| parse_pubkey(name, v)).transpose()
    }

    /// A required `u64` (decimal digits).
    pub fn u64(&self, name: &str) -> Result<u64, ParamError> {
        parse_num(name, self.required(name)?)
    }

    /// An optional `u64`.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, ParamError> {
        self.get(name).map(|v| parse_num(name, v)).transpose()
    }

    /// An optional `u16`.
    pub fn opt_u16(&self, name: &str) -> Result<Option<u16>, ParamError> {
        self.get(name).map(|v| parse_num(name, v)).transpose()
    }

    /// An optional `u32`.
    pub fn opt_u32(&self, name: &str) -> Result<Option<u32>, ParamError> {
        self.get(name).map(|v| parse_num(name, v)).transpose()
    }

    /// An optional boolean, written `true` or `false`.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        self.get(name)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(Self::err(
                    name,
                    format!("expected true or false, got {other:?}"),
                )),
            })
            .transpose()
    }

    /// An optional comma-separated list (items trimmed, empty ones dropped).
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

fn parse_pubkey(name: &str, v: &str) -> Result<Pubkey, ParamError> {
    v.parse()
        .map_err(|_| Query::err(name, format!("{v:?} is not a valid base58 public key")))
}

fn parse_num<T: TryFrom<u64>>(name: &str, v: &str) -> Result<T, ParamError> {
    super::parse_u64(v)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            Query::err(
                name,
                format!(
                    "{v:?} is not an integer in [0, {}]",
                    match std::mem::size_of::<T>() {
                        2 => u64::from(u16::MAX),
                        4 => u64::from(u32::MAX),
                        _ => u64::MAX,
                    }
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn form_decoding() {
        let q = Query::parse(Some(
            "dexes=Raydium,Orca+V2,Meteora+DLMM&excludeDexes=DFlow%20JIT%20Router&x=%zz%4&amount=10&amount=20&flag",
        ));
        assert_eq!(
            q.list("dexes").unwrap(),
            ["Raydium", "Orca V2", "Meteora DLMM"]
        );
        assert_eq!(q.get("excludeDexes"), Some("DFlow JIT Router"));
        assert_eq!(q.get("x"), Some("%zz%4"));
        assert_eq!(q.u64("amount"), Ok(10));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(decode_component("%E2%9C%93%ff"), "✓\u{fffd}");
    }

    #[test]
    fn typed_parameters_say_what_is_wrong() {
        let q = Query::parse(Some(
            "a=-1&b=70000&c=yes&d=So11111111111111111111111111111111111111112&e=notakey",
        ));
        assert!(
            q.u64("a")
                .unwrap_err()
                .to_string()
                .contains("query parameter a")
        );
        assert!(q.opt_u16("b").unwrap_err().reason.contains("65535"));
        assert!(
            q.opt_bool("c")
                .unwrap_err()
                .reason
                .contains("true or false")
        );
        assert!(q.pubkey("d").is_ok());
        assert!(q.pubkey("e").unwrap_err().reason.contains("base58"));
        assert_eq!(q.pubkey("zz").unwrap_err().reason, "is required");
        assert_eq!(q.opt_u64("zz"), Ok(None));
    }

    proptest! {
        /// Any bytes as a query: parsing and every typed read answer without panicking.
        #[test]
        fn parsing_never_panics(raw in ".{0,200}", name in "[a-zA-Z%+=&]{0,6}") {
            let q = Query::parse(Some(&raw));
            let _ = q.pubkey(&name);
            let _ = q.u64(&name);
            let _ = q.opt_u16(&name);
            let _ = q.opt_u32(&name);
            let _ = q.opt_bool(&name);
            let _ = q.list(&name);
        }

        /// Encoding a value then decoding it gives it back.
        #[test]
        fn escapes_round_trip(v in ".{0,40}") {
            let encoded: String = v.bytes().map(|b| format!("%{b:02X}")).collect();
            prop_assert_eq!(decode_component(&encoded), v);
        }
    }
}
