//! The `galileo-sim` binary as the bench runs it: a config file, a state directory, the
//! endpoints on stdout, then requests from another process.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use galileo_sim::app::Endpoint;
use http::Request;
use http_body_util::Full;
use solana_keypair::Keypair;
use solana_signer::Signer;
use support::{http1, ip};

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary; its stderr goes to `log` (a pipe nobody reads could fill and block it).
fn start(args: &[&str], log: &std::path::Path) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_galileo-sim"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    if line.is_empty() {
        let status = running.0.wait().unwrap();
        let err = std::fs::read_to_string(log).unwrap_or_default();
        panic!("galileo-sim exited ({status}) before printing its endpoints: {err}");
    }
    (running, line)
}

#[test]
fn the_binary_serves_its_config_and_writes_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(
        &config,
        "seed = 11\n\
         [services.solana]\n\
         bind = \"127.0.0.1\"\n\
         [services.jito]\n\
         tls = true\n\
         [chain.users]\n\
         count = 2\n\
         lamports = 5000000000\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    // A state dir reused from a run with more users.
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("user-5.json"), "[1,2,3]").unwrap();
    let (_child, line) = start(
        &[
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--print",
            "json",
        ],
        &dir.path().join("stderr.log"),
    );
    let endpoints: Vec<Endpoint> = serde_json::from_str(&line).unwrap();
    let names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["solana", "jito"]);
    assert!(endpoints[0].url.starts_with("http://127.0.0.1:"));
    assert!(endpoints[1].url.starts_with("https://"));

    let written: Vec<Endpoint> =
        serde_json::from_slice(&std::fs::read(state.join("endpoints.json")).unwrap()).unwrap();
    assert_eq!(written, endpoints);
    assert!(
        std::fs::read_to_string(state.join("ca.pem"))
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        !state.join("user-5.json").exists(),
        "an earlier run's keypair is gone"
    );
    let users: Vec<String> =
        serde_json::from_slice(&std::fs::read(state.join("users.json")).unwrap()).unwrap();
    assert_eq!(users.len(), 2);
    let key_file = state.join("user-1.json");
    let bytes: Vec<u8> = serde_json::from_slice(&std::fs::read(&key_file).unwrap()).unwrap();
    let keypair = Keypair::try_from(bytes.as_slice()).unwrap();
    assert_eq!(keypair.pubkey().to_string(), users[1]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "keypairs are private");
    }

    // The world is the configured one: the user's balance over the RPC endpoint.
    let addr: std::net::SocketAddr = endpoints[0]
        .url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": [users[0]]});
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = rt.block_on(async {
        let req = Request::post("/")
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(&body).unwrap())))
            .unwrap();
        http1(ip("127.0.0.1"), addr, req).await.unwrap()
    });
    assert_eq!(answer.json()["result"]["value"], 5_000_000_000u64);
}

#[test]
fn a_bad_config_fails_with_the_files_name_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[services.solana]\nprot = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_galileo-sim"))
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("prot"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_galileo-sim"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--all"));
}
