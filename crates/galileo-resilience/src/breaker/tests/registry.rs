//! The registry: one breaker per name, snapshots of all, one stream of events.

use tokio::time::advance;

use super::*;
use crate::breaker::{BreakerRegistry, State};

fn trips_at_once() -> BreakerConfig {
    only(|c| {
        c.failure_threshold = 1;
        c.open_ms = 1000;
    })
}

#[tokio::test(start_paused = true)]
async fn the_same_name_gives_the_same_breaker_and_another_config_is_refused() {
    let r = BreakerRegistry::new();
    assert!(r.is_empty());
    let a = r.get_or_create("jupiter", &trips_at_once()).unwrap();
    let again = r.get_or_create("jupiter", &trips_at_once()).unwrap();
    let _ = a.call(async { Err::<(), _>(()) }).await;
    assert_eq!(again.state(), State::Open, "clones share one state");
    assert_eq!(r.get("jupiter").unwrap().state(), State::Open);
    assert!(r.get("ultra").is_none());
    let e = r
        .get_or_create("jupiter", &BreakerConfig::default())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("breaker `jupiter` already exists with another configuration"),
        "{e}"
    );
    let bad = BreakerConfig {
        min_calls: 0,
        ..BreakerConfig::default()
    };
    assert!(r.get_or_create("ultra", &bad).is_err());
    assert_eq!(r.len(), 1, "a refused configuration registers nothing");
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_lists_every_breaker_by_name_with_its_counts() {
    let r = BreakerRegistry::new();
    let titan = r.get_or_create("titan", &trips_at_once()).unwrap();
    let dflow = r.get_or_create("dflow", &BreakerConfig::default()).unwrap();
    dflow.call(async { Ok::<_, ()>(()) }).await.unwrap();
    let _ = dflow.call(async { Err::<(), _>(()) }).await;
    let _ = titan.call(async { Err::<(), _>(()) }).await;
    advance(ms(400)).await;
    let _ = titan.call(async { Ok::<_, ()>(()) }).await; // refused
    let snap = r.snapshot();
    assert_eq!(r.names(), ["dflow", "titan"]);
    let (d, t) = (&snap[0], &snap[1]);
    assert_eq!((d.name.as_str(), d.state), ("dflow", State::Closed));
    assert_eq!(
        (d.window.calls, d.window.failures, d.failure_rate),
        (2, 1, 0.5)
    );
    assert_eq!(d.consecutive_failures, 1);
    assert_eq!((t.name.as_str(), t.state), ("titan", State::Open));
    assert_eq!(t.half_open_in, Some(ms(600)));
    assert_eq!(
        (t.totals.failures, t.totals.rejected, t.totals.opened),
        (1, 1, 1)
    );
    // The snapshot serializes for an admin API.
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(json[1]["state"], "open");
    assert_eq!(json[1]["half_open_in_ms"], 600);
    assert_eq!(json[0]["window"]["failures"], 1);
    assert_eq!(json[0]["half_open_in_ms"], serde_json::Value::Null);
}

#[tokio::test(start_paused = true)]
async fn one_subscription_sees_every_breakers_changes() {
    let r = BreakerRegistry::with_event_capacity(8);
    let mut events = r.subscribe();
    let a = r.get_or_create("a", &trips_at_once()).unwrap();
    let b = r.get_or_create("b", &trips_at_once()).unwrap();
    let _ = b.call(async { Err::<(), _>(()) }).await;
    let _ = a.call(async { Err::<(), _>(()) }).await;
    advance(ms(1000)).await;
    a.call(async { Ok::<_, ()>(()) }).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e.to_string());
    }
    assert_eq!(
        seen,
        [
            "circuit breaker `b`: closed -> open (1 consecutive failures), probing again in 1s",
            "circuit breaker `a`: closed -> open (1 consecutive failures), probing again in 1s",
            "circuit breaker `a`: open -> half_open (open time elapsed)",
            "circuit breaker `a`: half_open -> closed (1 probes succeeded)",
        ]
    );
    // A breaker's own subscription is the registry's channel.
    let mut via_breaker = b.subscribe();
    advance(ms(1000)).await;
    b.call(async { Ok::<_, ()>(()) }).await.unwrap();
    assert_eq!(&*within(via_breaker.recv()).await.unwrap().name, "b");
    assert_eq!(
        format!("{r:?}"),
        r#"BreakerRegistry { breakers: ["a", "b"] }"#
    );
}
