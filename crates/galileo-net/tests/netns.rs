//! IPv6 ranges through freebind, in a network namespace this test makes (root only).
//!
//! `cargo xtask test` runs as root and sets `GALILEO_REQUIRE_NETNS=1`, which turns "cannot
//! run here" into a failure, so CI cannot skip it silently. Without root and without that
//! variable, the test says it was skipped and passes.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use galileo_net::{BoundHttpClient, HttpClient, Inventory, IpAllocator, NetworkConfig, TaskKind};
use support::{Reply, ServerBuilder, get};
use tokio::task::JoinSet;

const PREFIX: &str = "fd00:6a1:1::/120";

struct Netns(String);

impl Netns {
    fn create() -> Result<Self, String> {
        let name = format!("galileo-test-{}", std::process::id());
        let ns = Netns(name.clone());
        ns.ip(&["netns", "add", &name])?;
        ns.ip(&["-n", &name, "link", "set", "lo", "up"])?;
        // Every address of the /120 is local to this namespace, none assigned.
        ns.ip(&[
            "-n", &name, "-6", "route", "add", "local", PREFIX, "dev", "lo",
        ])?;
        Ok(ns)
    }

    fn ip(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new("ip")
            .args(args)
            .output()
            .map_err(|e| format!("ip {}: {e} (install iproute2)", args.join(" ")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Runs `f` on a thread that has entered the namespace: every socket it makes lives there.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let fd = std::fs::File::open(&path).unwrap();
            nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn a_freebind_ipv6_range_serves_256_sources_without_assigning_them() {
    let required = std::env::var_os("GALILEO_REQUIRE_NETNS").is_some();
    if !nix::unistd::geteuid().is_root() {
        assert!(
            !required,
            "GALILEO_REQUIRE_NETNS is set, but this test needs root"
        );
        eprintln!("skipped: needs root to create a network namespace (cargo xtask test runs it)");
        return;
    }
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(e) if !required => {
            eprintln!("skipped: cannot create a network namespace: {e}");
            return;
        }
        Err(e) => panic!("cannot create a network namespace: {e}"),
    };
    let peers = ns.run(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // Listen on every address: the range is routed here but not assigned, so only the
            // wildcard (or freebind) can take its connections.
            let server = ServerBuilder::new()
                .bind("[::]:0".parse().unwrap())
                .reply(|h| Reply::ok(h.peer.to_string()).delay(Duration::from_millis(1)))
                .start()
                .await;
            let cfg = NetworkConfig::from_toml(&format!(
                r#"
                enable_multiple_ip = true
                auto_discover = false
                require_ips = 256
                ranges = [{{ cidr = "{PREFIX}", freebind = true }}]
                "#
            ))
            .unwrap();
            let inventory = Inventory::discover(&cfg).unwrap();
            assert_eq!(inventory.sources().len(), 256);
            assert!(inventory.quarantined().is_empty());
            let alloc = IpAllocator::from_config(&cfg, &inventory).unwrap();
            let client = BoundHttpClient::new(&cfg.http).unwrap();
            let url = format!("http://[fd00:6a1:1::1]:{}/quote", server.addr.port());
            let mut tasks = JoinSet::new();
            for _ in 0..512 {
                let (alloc, client, url) = (alloc.clone(), client.clone(), url.clone());
                tasks.spawn(async move {
                    let lease = alloc.acquire(TaskKind::Quote, 1).await.unwrap();
                    let r = client.send(&lease, get(&url)).await.unwrap();
                    assert_eq!(
                        std::str::from_utf8(r.body()).unwrap(),
                        lease.ip().to_string()
                    );
                });
            }
            while let Some(r) = tasks.join_next().await {
                r.unwrap();
            }
            server.hits().iter().map(|h| h.peer).collect::<HashSet<_>>()
        })
    });
    assert_eq!(
        peers.len(),
        256,
        "the server saw every address of the range"
    );
    let net: ipnet::IpNet = PREFIX.parse().unwrap();
    assert!(peers.iter().all(|p| net.contains(p)));
}
