//! The configuration: the guide's examples parse, defaults work, mistakes say what to change.

use super::*;
use crate::breaker::WindowSpec;

const GUIDE: &str = include_str!("../../../../../docs/resilience-breaker.md");

/// Every ```toml block of the user guide.
fn guide_blocks() -> Vec<&'static str> {
    GUIDE
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect()
}

#[test]
fn every_toml_example_of_the_guide_parses_and_validates() {
    let blocks = guide_blocks();
    assert!(blocks.len() >= 2, "the guide has TOML examples");
    for block in blocks {
        // Examples are either one breaker's table or `[breakers.<name>]` tables.
        let value: toml::Table = toml::from_str(block).unwrap();
        let tables: Vec<toml::Table> = match value.get("breakers") {
            Some(toml::Value::Table(t)) => {
                t.values().map(|v| v.as_table().unwrap().clone()).collect()
            }
            _ => vec![value],
        };
        for t in tables {
            let cfg: BreakerConfig = t.try_into().unwrap_or_else(|e| panic!("{e}\n{block}"));
            cfg.validate().unwrap_or_else(|e| panic!("{e}\n{block}"));
        }
    }
}

#[test]
fn the_full_example_sets_every_key() {
    let cfg: BreakerConfig = toml::from_str(
        r#"
        failure_threshold = 4
        failure_rate = 0.5
        slow_call_ms = 800
        slow_call_rate = 0.9
        window_ms = 30000
        window_buckets = 6
        min_calls = 12
        open_ms = 2000
        open_multiplier = 1.5
        open_max_ms = 20000
        open_jitter = 0.1
        half_open_successes = 3
        half_open_max_probes = 2
        call_timeout_ms = 1500
        "#,
    )
    .unwrap();
    cfg.validate().unwrap();
    assert_eq!(
        cfg.window(),
        WindowSpec::Time {
            length: ms(30_000),
            buckets: 6
        }
    );
    assert_eq!(cfg.slow_call(), Some(ms(800)));
    assert_eq!((cfg.open(), cfg.open_max()), (ms(2000), ms(20_000)));
    assert_eq!(cfg.call_timeout(), Some(ms(1500)));
    assert_eq!(
        (
            cfg.failure_threshold,
            cfg.min_calls,
            cfg.half_open_max_probes
        ),
        (4, 12, 2)
    );
}

#[test]
fn an_empty_table_is_the_default_and_the_default_is_valid() {
    let cfg: BreakerConfig = toml::from_str("").unwrap();
    assert_eq!(cfg, BreakerConfig::default());
    cfg.validate().unwrap();
    assert_eq!(cfg.window(), WindowSpec::Count { calls: 100 });
    assert_eq!(cfg.open_max(), cfg.open());
    assert_eq!((cfg.slow_call(), cfg.call_timeout()), (None, None));
}

fn error_of(text: &str) -> String {
    match toml::from_str::<BreakerConfig>(text) {
        Err(e) => e.to_string(),
        Ok(cfg) => cfg
            .validate()
            .expect_err("this configuration should be refused")
            .to_string(),
    }
}

#[test]
fn mistakes_are_refused_with_what_to_change() {
    let cases = [
        ("failure_treshold = 3", "unknown field `failure_treshold`"),
        ("open_ms = \"5s\"", "invalid type"),
        ("failure_rate = 50", "write 0.5 for 50%"),
        ("failure_rate = 0", "remove the key to turn it off"),
        ("slow_call_rate = 0.5", "set slow_call_ms"),
        (
            "failure_threshold = 0",
            "nothing can open this breaker: set failure_threshold above 0",
        ),
        ("open_ms = 0", "open_ms must be at least 1"),
        ("call_timeout_ms = 0", "call_timeout_ms must be at least 1"),
        ("open_ms = 100000000", "longer than a day"),
        (
            "window_calls = 10\nwindow_ms = 1000",
            "keep window_calls for a count-based window or window_ms",
        ),
        ("window_calls = 0", "window_calls = 0 must be between 1"),
        ("window_ms = 5\nwindow_buckets = 10", "use fewer buckets"),
        ("window_ms = 5000\nwindow_buckets = 0", "window_buckets = 0"),
        (
            "failure_rate = 0.5\nwindow_calls = 10\nmin_calls = 20",
            "lower min_calls or raise window_calls",
        ),
        ("min_calls = 0", "min_calls must be at least 1"),
        ("open_multiplier = 0.5", "at least 1.0"),
        ("open_multiplier = 2.0", "set open_max_ms to cap it"),
        (
            "open_ms = 5000\nopen_max_ms = 1000",
            "raise open_max_ms to at least open_ms",
        ),
        ("open_jitter = 1.0", "fraction in [0, 1)"),
        ("open_jitter = -0.1", "fraction in [0, 1)"),
        (
            "half_open_successes = 0",
            "half_open_successes must be at least 1",
        ),
        ("half_open_max_probes = 0", "could never close"),
    ];
    for (text, expected) in cases {
        let msg = error_of(text);
        assert!(
            msg.contains(expected),
            "{text:?}: expected {expected:?} in: {msg}"
        );
        if !msg.contains("unknown field") && !msg.contains("invalid type") {
            assert!(
                msg.starts_with("invalid circuit breaker configuration"),
                "{msg}"
            );
        }
    }
}

#[test]
fn a_rate_of_exactly_one_and_min_calls_equal_to_the_window_are_allowed() {
    let cfg: BreakerConfig =
        toml::from_str("failure_rate = 1.0\nwindow_calls = 20\nmin_calls = 20").unwrap();
    cfg.validate().unwrap();
    // Without a rate, min_calls above the window is harmless.
    let cfg: BreakerConfig = toml::from_str("window_calls = 5\nmin_calls = 20").unwrap();
    cfg.validate().unwrap();
}

#[test]
fn constructors_refuse_an_invalid_configuration() {
    let bad = BreakerConfig {
        half_open_max_probes: 0,
        ..BreakerConfig::default()
    };
    assert!(CircuitBreaker::new(bad.clone()).unwrap_err().is_config());
    let e = crate::breaker::Breaker::new("jupiter", bad).unwrap_err();
    assert!(e.to_string().contains("breaker `jupiter`: "), "{e}");
    let e = crate::breaker::Breaker::new(" ", BreakerConfig::default()).unwrap_err();
    assert!(e.to_string().contains("needs a name"), "{e}");
}
