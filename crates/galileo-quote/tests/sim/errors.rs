//! Provider errors from galileo-sim, over loopback, become the right `QuoteError`s: 429 with
//! `Retry-After` (and the IP rests), 401 with a wrong or missing key (which never shows), 5xx,
//! broken bodies, timeouts and resets.

use std::fmt::Debug;
use std::net::IpAddr;
use std::time::Duration;

use crate::support::{JUP, Net, SOL, key, sim, url};
use galileo_net::{BoundHttpClient, SlotState};
use galileo_quote::dflow::{DflowClient, DflowConfig};
use galileo_quote::jupiter::{JupiterClient, JupiterConfig};
use galileo_quote::ultra::{UltraClient, UltraConfig};
use galileo_quote::{ApiKey, Leg, QuoteError, QuoteRequest, QuoteSource};
use galileo_sim::Fault;
use galileo_sim::app::App;

struct Clients {
    jupiter: JupiterClient<BoundHttpClient>,
    ultra: UltraClient<BoundHttpClient>,
    dflow: DflowClient<BoundHttpClient>,
}

fn clients(app: &App, http: &BoundHttpClient, api_key: Option<&str>, timeout_ms: u64) -> Clients {
    let (j, u, d) = (url(app, "jupiter"), url(app, "ultra"), url(app, "dflow"));
    let api_key = api_key.map(ApiKey::new);
    Clients {
        jupiter: JupiterClient::new(
            JupiterConfig {
                quote_url: format!("{j}/quote"),
                swap_instructions_url: format!("{j}/swap-instructions"),
                api_key: api_key.clone(),
                quote_timeout_ms: timeout_ms,
                ..JupiterConfig::default()
            },
            http.clone(),
        )
        .unwrap(),
        ultra: UltraClient::new(
            UltraConfig {
                base_url: u,
                api_key: api_key.clone(),
                order_timeout_ms: timeout_ms,
                ..UltraConfig::default()
            },
            http.clone(),
        )
        .unwrap(),
        dflow: DflowClient::new(
            DflowConfig {
                base_url: d,
                api_key,
                quote_timeout_ms: timeout_ms,
                ..DflowConfig::default()
            },
            http.clone(),
        )
        .unwrap(),
    }
}

fn request() -> QuoteRequest {
    QuoteRequest::new(key(SOL), key(JUP), 1_000_000, Leg::Buy)
}

/// Quotes once on each backend from `ip`; the three results in order Jupiter, Ultra, DFlow.
async fn quote_all(net: &Net, c: &Clients, ip: &str) -> [Result<(), QuoteError>; 3] {
    let lease = net.lease(ip, 3).await;
    let r = request();
    [
        c.jupiter.quote(&lease, &r).await.map(drop),
        c.ultra.quote(&lease, &r).await.map(drop),
        c.dflow.quote(&lease, &r).await.map(drop),
    ]
}

const ALL: &str = "[services.jupiter]\n[services.ultra]\n[services.dflow]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_rate_limited_with_retry_after_and_the_ip_rests() {
    let limits = "limits.per_ip = { rate = 0.1, burst = 1 }\nlimits.retry_after = \"seconds\"\n";
    let app = sim(&format!(
        "[services.jupiter]\n{limits}[services.ultra]\n{limits}[services.dflow]\n{limits}"
    ));
    let net = Net::new(&["127.0.0.2", "127.0.0.3"], "");
    let c = clients(&app, &net.http, None, 2_000);

    for r in quote_all(&net, &c, "127.0.0.2").await {
        r.unwrap();
    }
    // The bucket of 127.0.0.2 is empty on each service: 429, Retry-After 10 s.
    for (name, r) in ["jupiter", "ultra", "dflow"]
        .iter()
        .zip(quote_all(&net, &c, "127.0.0.2").await)
    {
        let e = r.unwrap_err();
        assert!(e.is_rate_limited(), "{name}: {e:?}");
        assert!(matches!(&e, QuoteError::RateLimited { backend, .. } if backend == name));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(10)), "{name}");
        assert_eq!((e.status(), e.label()), (Some(429), "rate_limited"));
        assert!(!e.is_provider_failure());
    }
    // The allocator was told: 127.0.0.2 rests for the server's 10 s, 127.0.0.3 does not.
    let snap = net.allocator.snapshot();
    let rested = snap
        .iter()
        .find(|s| s.ip == "127.0.0.2".parse::<IpAddr>().unwrap())
        .unwrap();
    assert_eq!(rested.state, SlotState::CoolingDown);
    let left = rested.cooldown_remaining.unwrap();
    assert!(
        left > Duration::from_secs(9) && left <= Duration::from_secs(10),
        "{left:?}"
    );
    assert_eq!(rested.window.rate_limited, 3);
    assert_eq!(net.allocator.capacity().cooling, 1);
    // The other IP's bucket is its own.
    for r in quote_all(&net, &c, "127.0.0.3").await {
        r.unwrap();
    }
    let stats = app.sandbox().service("dflow").unwrap().stats();
    assert_eq!(stats.ip("127.0.0.2".parse().unwrap()).rate_limited, 1);
    assert_eq!(stats.ip("127.0.0.3".parse().unwrap()).rate_limited, 0);
    app.shutdown().await;
}

fn assert_hidden(secret: &str, what: &str, value: &(impl Debug + ?Sized), display: Option<String>) {
    let debug = format!("{value:?} {value:#?}");
    assert!(
        !debug.contains(secret),
        "{what} Debug shows the key: {debug}"
    );
    if let Some(d) = display {
        assert!(!d.contains(secret), "{what} Display shows the key: {d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_key_is_unauthorized_and_the_key_never_shows() {
    let right = "the-right-key-42";
    let app = sim(&format!(
        "{ALL}[jupiter]\napi_keys = [{right:?}]\n[ultra]\napi_keys = [{right:?}]\n\
         [dflow]\napi_keys = [{right:?}]"
    ));
    let net = Net::new(&["127.0.0.4"], "");
    let wrong = "WRONG-secret-key-9f8e7d";
    let c = clients(&app, &net.http, Some(wrong), 2_000);

    for (name, r) in ["jupiter", "ultra", "dflow"]
        .iter()
        .zip(quote_all(&net, &c, "127.0.0.4").await)
    {
        let e = r.unwrap_err();
        assert!(
            matches!(&e, QuoteError::Unauthorized { status: 401, backend, .. } if backend == name),
            "{name}: {e:?}"
        );
        assert!(e.to_string().contains("check the key configured"), "{e}");
        assert_eq!(e.label(), "unauthorized");
        assert_hidden(wrong, "error", &e, Some(e.to_string()));
    }
    assert_hidden(wrong, "Jupiter client", &c.jupiter, None);
    assert_hidden(wrong, "Ultra client", &c.ultra, None);
    assert_hidden(wrong, "DFlow client", &c.dflow, None);
    assert_hidden(wrong, "Jupiter config", c.jupiter.config(), None);
    assert_hidden(wrong, "Ultra config", c.ultra.config(), None);
    assert_hidden(wrong, "DFlow config", c.dflow.config(), None);
    let k = c.dflow.config().api_key.as_ref().unwrap();
    assert_hidden(wrong, "ApiKey", k, Some(k.to_string()));
    assert_eq!(k.to_string(), "[redacted]");

    // No key at all: the server says where to put it.
    let none = clients(&app, &net.http, None, 2_000);
    let [j, _, d] = quote_all(&net, &none, "127.0.0.4").await;
    let e = d.unwrap_err();
    assert!(e.to_string().contains("missing API key"), "{e}");
    assert!(matches!(j.unwrap_err(), QuoteError::Unauthorized { .. }));

    // The right key works on all three, sent in x-api-key.
    let ok = clients(&app, &net.http, Some(right), 2_000);
    for r in quote_all(&net, &ok, "127.0.0.4").await {
        r.unwrap();
    }
    for svc in ["jupiter", "ultra", "dflow"] {
        let stats = app.sandbox().service(svc).unwrap().stats();
        assert_eq!(stats.key(right).status(200), 1, "{svc}");
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_broken_bodies_timeouts_and_resets() {
    let app = sim(ALL);
    let net = Net::new(&["127.0.0.5", "127.0.0.6"], "");
    let c = clients(&app, &net.http, None, 300);
    let controls = |s: &str| app.sandbox().service(s).unwrap().controls().clone();

    // 500 in each API's error shape: a provider failure, worth a retry.
    for s in ["jupiter", "ultra", "dflow"] {
        controls(s).force(Fault::ServerError);
    }
    for (name, r) in ["jupiter", "ultra", "dflow"]
        .iter()
        .zip(quote_all(&net, &c, "127.0.0.5").await)
    {
        let e = r.unwrap_err();
        assert!(
            matches!(&e, QuoteError::Provider { status: 500, .. }),
            "{name}: {e:?}"
        );
        assert!(e.is_provider_failure() && e.is_retryable(), "{name}");
        assert_eq!(e.label(), "provider_error");
    }

    // A 200 whose JSON is cut in half: Decode.
    for s in ["jupiter", "ultra", "dflow"] {
        controls(s).force(Fault::MalformedJson);
    }
    for (name, r) in ["jupiter", "ultra", "dflow"]
        .iter()
        .zip(quote_all(&net, &c, "127.0.0.5").await)
    {
        let e = r.unwrap_err();
        assert!(
            matches!(&e, QuoteError::Decode { what, .. } if what.starts_with("a")),
            "{name}: {e:?}"
        );
        assert!(e.is_provider_failure());
    }
    // Neither rests the IP.
    assert_eq!(net.allocator.capacity().cooling, 0);

    // No answer: a timeout after quote_timeout_ms (300 ms); the IP rests.
    controls("dflow").force(Fault::NoResponse);
    let lease = net.lease("127.0.0.6", 1).await;
    let e = c.dflow.quote(&lease, &request()).await.unwrap_err();
    assert!(
        matches!(&e, QuoteError::Net { source, .. } if source.is_timeout()),
        "{e:?}"
    );
    assert_eq!(e.label(), "timeout");
    drop(lease);
    let snap = net.allocator.snapshot();
    let s = snap
        .iter()
        .find(|s| s.ip == "127.0.0.6".parse::<IpAddr>().unwrap())
        .unwrap();
    assert_eq!(s.state, SlotState::CoolingDown);

    // A reset connection: a network error, not a decode error.
    controls("jupiter").force(Fault::Reset);
    let lease = net.lease("127.0.0.5", 1).await;
    let e = c.jupiter.quote(&lease, &request()).await.unwrap_err();
    assert!(matches!(e, QuoteError::Net { .. }), "{e:?}");
    app.shutdown().await;
}
