//! The three client configurations: defaults, unknown keys, every validation message, and an
//! API key that never shows (not even in a parse error).

use galileo_quote::dflow::{DflowClient, DflowConfig};
use galileo_quote::jupiter::{JupiterClient, JupiterConfig};
use galileo_quote::ultra::{UltraClient, UltraConfig};
use galileo_quote::{ApiKey, QuoteError};
use serde::de::DeserializeOwned;

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn invalid<T: DeserializeOwned>(text: &str, validate: fn(&T) -> Result<(), QuoteError>) -> String {
    let cfg: T = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let e = validate(&cfg).expect_err(text);
    assert!(e.is_config(), "{e:?}");
    e.to_string()
}

#[test]
fn empty_tables_are_the_defaults_and_valid() {
    let j: JupiterConfig = parse("").unwrap();
    assert_eq!(j, JupiterConfig::default());
    j.validate().unwrap();
    assert_eq!(j.quote_url, "https://lite-api.jup.ag/swap/v1/quote");
    assert_eq!((j.quote_timeout_ms, j.swap_timeout_ms), (2_000, 10_000));
    assert_eq!(
        (j.slippage_bps, j.api_key_header.as_str()),
        (0, "x-api-key")
    );
    assert!(j.wrap_and_unwrap_sol && !j.dynamic_compute_unit_limit && j.backend_limit.is_none());

    let d: DflowConfig = parse("").unwrap();
    assert_eq!(d, DflowConfig::default());
    d.validate().unwrap();
    assert_eq!(d.quote_url(), "https://quote-api.dflow.net/quote");
    assert_eq!(
        d.swap_instructions_url(),
        "https://quote-api.dflow.net/swap-instructions"
    );
    let d: DflowConfig =
        parse("base_url = \"http://127.0.0.1:9/\"\nswap_base_url = \"swap.example\"").unwrap();
    assert_eq!(
        (d.quote_url().as_str(), d.swap_instructions_url().as_str()),
        (
            "http://127.0.0.1:9/quote",
            "https://swap.example/swap-instructions"
        )
    );

    let u: UltraConfig = parse("").unwrap();
    assert_eq!(u, UltraConfig::default());
    u.validate().unwrap();
    assert_eq!(u.order_url(), "https://lite-api.jup.ag/ultra/v1/order");
    assert_eq!(u.execute_url(), "https://lite-api.jup.ag/ultra/v1/execute");
    let u: UltraConfig = parse("base_url = \"ultra-api.jup.ag/\"").unwrap();
    assert_eq!(u.order_url(), "https://ultra-api.jup.ag/order");
}

#[test]
fn unknown_keys_are_refused() {
    assert!(
        parse::<JupiterConfig>("quote_urll = \"x\"")
            .unwrap_err()
            .contains("unknown field `quote_urll`")
    );
    assert!(
        parse::<DflowConfig>("slipage_bps = 1")
            .unwrap_err()
            .contains("unknown field")
    );
    assert!(
        parse::<UltraConfig>("takr = \"x\"")
            .unwrap_err()
            .contains("unknown field")
    );
    let e = parse::<UltraConfig>("taker = \"not-a-key\"").unwrap_err();
    assert!(e.contains("not a base58 public key"), "{e}");
}

#[test]
fn every_mistake_is_named_with_what_to_change() {
    let j = JupiterConfig::validate;
    for (text, expect) in [
        (
            "quote_url = \"ftp://x/quote\"",
            "jupiter.quote_url must be an absolute http(s) URL",
        ),
        (
            "quote_url = \"lite-api.jup.ag/quote\"",
            "jupiter.quote_url must be",
        ),
        (
            "swap_instructions_url = \"https://\"",
            "jupiter.swap_instructions_url must be",
        ),
        (
            "swap_url = \"https://a b/swap\"",
            "jupiter.swap_url must be",
        ),
        (
            "slippage_bps = 10001",
            "jupiter.slippage_bps = 10001: use 0 to 10000",
        ),
        (
            "dexes = [\"Raydium,Orca\"]",
            "jupiter.dexes[0] = \"Raydium,Orca\" contains a comma",
        ),
        ("dexes = [\"\"]", "jupiter.dexes[0] is empty"),
        (
            "exclude_dexes = [\"A\", \"A\"]",
            "jupiter.exclude_dexes[1] = \"A\" is listed twice",
        ),
        (
            "dexes = [\"A\"]\nexclude_dexes = [\"A\"]",
            "\"A\" is in both dexes and exclude_dexes",
        ),
        (
            "max_accounts = 0",
            "jupiter.max_accounts = 0 leaves no route",
        ),
        (
            "quote_timeout_ms = 0",
            "jupiter.quote_timeout_ms = 0: use 1 to 120000 ms",
        ),
        (
            "swap_timeout_ms = 120001",
            "jupiter.swap_timeout_ms = 120001",
        ),
        (
            "api_key_header = \"bad header\"",
            "jupiter.api_key_header = \"bad header\" is not a valid HTTP header name",
        ),
        (
            "api_key_header = \"User-Agent\"",
            "is a header the client sets itself",
        ),
        ("api_key = \"\"", "jupiter.api_key is empty"),
    ] {
        let msg = invalid(text, j);
        assert!(msg.contains(expect), "{text}: {msg}");
    }
    let d = DflowConfig::validate;
    for (text, expect) in [
        ("base_url = \"\"", "dflow.base_url must be"),
        ("swap_base_url = \"http://\"", "dflow.swap_base_url must be"),
        ("slippage_bps = 20000", "dflow.slippage_bps = 20000"),
        ("quote_timeout_ms = 0", "dflow.quote_timeout_ms = 0"),
        ("exclude_dexes = [\"x,y\"]", "contains a comma"),
    ] {
        let msg = invalid(text, d);
        assert!(msg.contains(expect), "{text}: {msg}");
    }
    let u = UltraConfig::validate;
    for (text, expect) in [
        (
            "referral_fee = 10\nreferral_account = \"FakeUser11111111111111111111111111111111111\"",
            "ultra.referral_fee = 10: use 50 to 255",
        ),
        ("referral_fee = 60", "needs referral_account"),
        (
            "exclude_routers = [\"Metis\"]",
            "ultra.exclude_routers has \"Metis\": use metis, jupiterz, dflow, okx",
        ),
        (
            "routers = [\"okx\"]\nexclude_routers = [\"okx\"]",
            "\"okx\" is in both routers and exclude_routers",
        ),
        (
            "broadcast_fee_type = \"cheap\"",
            "use \"exactFee\" or \"maxCap\"",
        ),
        ("slippage_bps = 10001", "ultra.slippage_bps"),
        ("execute_timeout_ms = 0", "ultra.execute_timeout_ms"),
        ("base_url = \"https://\"", "ultra.base_url must be"),
    ] {
        let msg = invalid(text, u);
        assert!(msg.contains(expect), "{text}: {msg}");
    }
    // The clients refuse what validate refuses.
    let http = galileo_net::BoundHttpClient::new(&Default::default()).unwrap();
    let bad = JupiterConfig {
        slippage_bps: 10_001,
        ..JupiterConfig::default()
    };
    assert!(
        JupiterClient::new(bad, http.clone())
            .unwrap_err()
            .is_config()
    );
    let bad = DflowConfig {
        base_url: String::new(),
        ..DflowConfig::default()
    };
    assert!(DflowClient::new(bad, http.clone()).unwrap_err().is_config());
    let bad = UltraConfig {
        referral_fee: Some(1),
        ..UltraConfig::default()
    };
    assert!(UltraClient::new(bad, http).unwrap_err().is_config());
}

#[test]
fn a_bad_key_is_refused_without_being_quoted() {
    for (key, expect) in [
        (" sk-secret-1", "leading or trailing spaces"),
        ("sk-secret-2\n", "leading or trailing spaces"),
        ("sk-sécret-3", "visible ASCII"),
        ("sk secret 4", "visible ASCII"),
    ] {
        for msg in [
            JupiterConfig {
                api_key: Some(ApiKey::new(key)),
                ..JupiterConfig::default()
            }
            .validate()
            .unwrap_err()
            .to_string(),
            DflowConfig {
                api_key: Some(ApiKey::new(key)),
                ..DflowConfig::default()
            }
            .validate()
            .unwrap_err()
            .to_string(),
            UltraConfig {
                api_key: Some(ApiKey::new(key)),
                ..UltraConfig::default()
            }
            .validate()
            .unwrap_err()
            .to_string(),
        ] {
            assert!(msg.contains(expect), "{key:?}: {msg}");
            assert!(!msg.contains("secret") && !msg.contains("sécret"), "{msg}");
        }
    }
    // A numeric key in the file: the error message does not echo it. (toml's `Display` adds
    // the source line itself; a loader should show `message()` and the line number.)
    let e = toml::from_str::<DflowConfig>("api_key = 987654321").unwrap_err();
    assert!(e.message().contains("an API key must be a string"), "{e}");
    assert!(!e.message().contains("987654321"), "{e}");
    let e = toml::from_str::<JupiterConfig>("api_key = 98765.4321").unwrap_err();
    assert!(!e.message().contains("98765"), "{e}");
}

#[test]
fn configs_and_keys_never_show_the_key() {
    let key = "sk-live-do-not-print";
    let cfg: UltraConfig = parse(&format!("api_key = {key:?}")).unwrap();
    let k = cfg.api_key.as_ref().unwrap();
    assert_eq!(k.expose(), key);
    assert_eq!(format!("{k} {k:?}"), "[redacted] ApiKey([redacted])");
    for text in [format!("{cfg:?}"), format!("{cfg:#?}")] {
        assert!(!text.contains(key) && text.contains("[redacted]"), "{text}");
    }
    let j: JupiterConfig = parse(&format!("api_key = {key:?}")).unwrap();
    assert!(!format!("{j:?}").contains(key));
    let client = JupiterClient::new(
        j,
        galileo_net::BoundHttpClient::new(&Default::default()).unwrap(),
    )
    .unwrap();
    assert!(!format!("{client:?} {client:#?}").contains(key));
}
