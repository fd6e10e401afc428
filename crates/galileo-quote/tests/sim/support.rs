//! Shared pieces of the tests against galileo-sim: the simulator started in process, an IP
//! allocator over loopback sources, and landing instructions on the simulated chain.

use std::net::IpAddr;
use std::time::Duration;

use galileo_net::{BoundHttpClient, Inventory, IpAllocator, IpLease, NetworkConfig, TaskKind};
use galileo_sim::aggregators::{Landed, Ledger};
use galileo_sim::app::{App, SimConfig};
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::{AddressLookupTableAccount, VersionedMessage, v0};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use tokio::time::Instant;

pub(crate) const SOL: &str = "So11111111111111111111111111111111111111112";
pub(crate) const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
pub(crate) const JUP: &str = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN";

pub(crate) fn key(s: &str) -> Pubkey {
    s.parse().unwrap()
}

/// The simulator with the services (and settings) of `toml`, e.g. `"[services.jupiter]"`.
pub(crate) fn sim(toml: &str) -> App {
    let text = format!("seed = 7\n{toml}");
    App::start(SimConfig::parse(&text, "test").unwrap()).unwrap()
}

/// `http://127.0.0.1:PORT` of a service.
pub(crate) fn url(app: &App, service: &str) -> String {
    app.sandbox().service(service).unwrap().url()
}

/// An allocator over these loopback sources and a client bound to them.
pub(crate) struct Net {
    pub(crate) allocator: IpAllocator,
    pub(crate) http: BoundHttpClient,
}

impl Net {
    pub(crate) fn new(ips: &[&str], extra: &str) -> Net {
        let list = ips
            .iter()
            .map(|ip| format!("{ip:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let cfg = NetworkConfig::from_toml(&format!(
            "enable_multiple_ip = true\nauto_discover = false\nallow_loopback = true\n\
             manual_ips = [{list}]\n{extra}"
        ))
        .unwrap();
        let inventory = Inventory::discover(&cfg).unwrap();
        assert!(
            inventory.quarantined().is_empty(),
            "{:?}",
            inventory.quarantined()
        );
        Net {
            allocator: IpAllocator::from_config(&cfg, &inventory).unwrap(),
            http: BoundHttpClient::new(&cfg.http).unwrap(),
        }
    }

    /// A lease of `ip` for `cost` requests, within a second.
    pub(crate) async fn lease(&self, ip: &str, cost: u32) -> IpLease {
        let ip: IpAddr = ip.parse().unwrap();
        tokio::time::timeout(
            Duration::from_secs(1),
            self.allocator.acquire_specific(ip, TaskKind::Quote, cost),
        )
        .await
        .expect("lease within 1 s")
        .unwrap()
    }
}

/// Signs `ixs` as `user` into a v0 transaction over the world's lookup tables.
pub(crate) fn v0_tx(
    app: &App,
    user: &Keypair,
    ixs: &[Instruction],
    blockhash: Hash,
) -> VersionedTransaction {
    let tables: Vec<AddressLookupTableAccount> = app
        .world()
        .ledger()
        .lookup_tables()
        .into_iter()
        .map(|t| AddressLookupTableAccount {
            key: t.key,
            addresses: t.addresses,
        })
        .collect();
    let message = v0::Message::try_compile(&user.pubkey(), ixs, &tables, blockhash).unwrap();
    VersionedTransaction::try_new(VersionedMessage::V0(message), &[user]).unwrap()
}

/// Lands `tx` on the simulated chain as if sent from `origin`.
pub(crate) fn land(app: &App, tx: VersionedTransaction, origin: IpAddr) -> Landed {
    app.world()
        .ledger()
        .submit(tx, origin, Instant::now())
        .unwrap()
}

/// `owner`'s balance of `mint` on the simulated chain.
pub(crate) fn balance(app: &App, owner: &Pubkey, mint: &str) -> u64 {
    app.world().chain().lock().token_amount(owner, &key(mint))
}
