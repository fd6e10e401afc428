//! Test support: galileo-sim's Titan over loopback, an allocator over 127.0.0.x source IPs,
//! and a client configured for them.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use galileo_net::{BoundHttpClient, HttpConfig, Inventory, IpAllocator, SourceIp};
use galileo_sim::market::{Market, MarketConfig, SharedMarket};
use galileo_sim::titan::jwt::{self, Claims};
use galileo_sim::titan::{
    JwtSecret, SyntheticRoutes, TitanConfig as SimConfig, TitanHandle, TitanRecord, TitanService,
};
use galileo_sim::{Controls, Sandbox, ServiceConfig};
use galileo_titan::{Jwt, Subscription, TitanClient, TitanConfig};
use solana_pubkey::Pubkey;

pub const SECRET: &str = "titan-client-tests-secret";
pub const WSOL: &str = "So11111111111111111111111111111111111111112";
pub const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
/// No step the tests wait for takes anywhere near this; it only turns a hang into a failure.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn ip(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

pub fn mint(s: &str) -> Pubkey {
    s.parse().unwrap()
}

pub fn user() -> Pubkey {
    Pubkey::new_from_array([7; 32])
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token the simulator accepts, for `sub`.
pub fn token(sub: &str) -> String {
    jwt::sign(&Claims::new(sub, unix_now(), 900), SECRET.as_bytes())
}

/// The simulator's configuration for these tests: our secret, updates every 50 ms.
pub fn sim_config() -> SimConfig {
    let mut c = SimConfig {
        jwt_secret: JwtSecret::new(SECRET),
        ..SimConfig::default()
    };
    c.interval_ms.default = 50;
    c
}

/// A running Titan simulator.
pub struct Sim {
    pub sandbox: Sandbox,
    pub url: String,
    pub handle: TitanHandle,
    pub market: SharedMarket,
}

impl Sim {
    pub fn start(cfg: SimConfig) -> Sim {
        Sim::start_with(cfg, ServiceConfig::default())
    }

    pub fn start_with(cfg: SimConfig, svc: ServiceConfig) -> Sim {
        let market = SharedMarket::new(
            Market::new(MarketConfig::default(), tokio::time::Instant::now()).unwrap(),
        );
        Sim::start_on(cfg, svc, market)
    }

    pub fn start_on(cfg: SimConfig, svc: ServiceConfig, market: SharedMarket) -> Sim {
        let routes = SyntheticRoutes::new(tokio::time::Instant::now(), 373_550_000);
        let titan = TitanService::new(cfg, market.clone(), routes).unwrap();
        let handle = titan.handle();
        let sandbox = Sandbox::builder().service(titan, svc).start().unwrap();
        let url = format!("{}/api/v1/ws", sandbox.service("titan").unwrap().ws_url());
        Sim {
            sandbox,
            url,
            handle,
            market,
        }
    }

    pub fn controls(&self) -> &Controls {
        self.sandbox.controls("titan").unwrap()
    }

    /// Waits (on the record's notifications) until `pred` holds.
    pub async fn until(&self, what: &str, pred: impl FnMut(&TitanRecord) -> bool) -> TitanRecord {
        tokio::time::timeout(PATIENCE, self.handle.wait_until(pred))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out waiting for: {what}\n{:#?}",
                    self.handle.record().connections
                )
            })
    }
}

/// An allocator over 127.0.0.`first`.. (`count` IPs).
pub fn allocator(first: u8, count: u8) -> IpAllocator {
    let inv = Inventory::from_sources(
        (first..first + count)
            .map(|i| SourceIp::new(ip(i)))
            .collect(),
    )
    .unwrap();
    IpAllocator::builder(&inv).build()
}

/// Our client's configuration for `sim`.
pub fn config(sim: &Sim) -> TitanConfig {
    TitanConfig {
        url: sim.url.clone(),
        user_public_key: Some(user().to_string()),
        ..TitanConfig::default()
    }
}

pub fn client(cfg: TitanConfig, alloc: &IpAllocator) -> TitanClient {
    client_with(cfg, alloc, &token("galileo"))
}

pub fn client_with(cfg: TitanConfig, alloc: &IpAllocator, token: &str) -> TitanClient {
    let http = BoundHttpClient::new(&HttpConfig::default()).unwrap();
    TitanClient::with_jwt(cfg, Jwt::new(token).unwrap(), alloc.clone(), http).unwrap()
}

/// `n` sizes of WSOL → USDC: 0.1, 0.2, ... SOL.
pub fn sizes(n: u64) -> Vec<Subscription> {
    (1..=n)
        .map(|k| Subscription::new(mint(WSOL), mint(USDC), k * 100_000_000))
        .collect()
}

/// The amounts of the `NewSwapQuoteStream`s a connection sent, in order.
pub fn subscribed(c: &galileo_sim::titan::ConnectionRecord) -> Vec<u64> {
    use galileo_sim::titan::wire::RequestData;
    c.requests()
        .filter_map(|r| match &r.data {
            RequestData::NewSwapQuoteStream(q) => Some(q.swap.amount),
            _ => None,
        })
        .collect()
}

/// The ids of the streams a connection stopped.
pub fn stopped(c: &galileo_sim::titan::ConnectionRecord) -> Vec<u32> {
    use galileo_sim::titan::wire::RequestData;
    c.requests()
        .filter_map(|r| match &r.data {
            RequestData::StopStream(s) => Some(s.id),
            _ => None,
        })
        .collect()
}
