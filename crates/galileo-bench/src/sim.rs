//! The simulator the bench measures against: started as its own process (`galileo-sim
//! --config F --state-dir D --print json`), steered through its admin endpoints.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::BenchError;

/// How long the simulator may take to list its endpoints.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A per-IP token bucket, as the simulator's `limits.per_ip`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bucket {
    /// Tokens per second.
    pub rate: f64,
    /// Capacity.
    pub burst: u32,
}

/// The simulator's `[limits]` section (the parts the bench sets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Limits {
    /// Per source IP.
    pub per_ip: Option<Bucket>,
}

/// The counters the bench reads back (`GET /__sim/stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct SimStats {
    /// TCP connections accepted since the last reset.
    pub connections: u64,
    /// All clients together.
    pub total: SimCounters,
}

/// Request counters of [`SimStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct SimCounters {
    /// Requests received.
    pub requests: u64,
    /// Refused with `429`.
    pub rate_limited: u64,
}

/// One simulated Jupiter service: its URL, its CA (with TLS) and its admin endpoints.
#[derive(Clone, Debug)]
pub struct Sim {
    url: String,
    ca_pem: Option<Vec<u8>>,
    admin: reqwest::Client,
}

impl Sim {
    /// The service at `url` (`http://` or `https://`); `ca_pem` is the simulator's CA for TLS.
    pub fn new(url: impl Into<String>, ca_pem: Option<Vec<u8>>) -> Result<Self, BenchError> {
        let mut b = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(pem) = &ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| BenchError::Sim(format!("its ca.pem does not parse: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        let admin = b
            .build()
            .map_err(|e| BenchError::Client(format!("admin client: {e}")))?;
        Ok(Self {
            url: url.into().trim_end_matches('/').to_owned(),
            ca_pem,
            admin,
        })
    }

    /// The base URL (no trailing `/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of a quote, the request every quota scenario repeats.
    pub fn quote_url(&self) -> String {
        format!(
            "{}/swap/v1/quote?inputMint=So11111111111111111111111111111111111111112\
             &outputMint=EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v&amount=1000000000\
             &swapMode=ExactIn&slippageBps=0",
            self.url
        )
    }

    /// The CA certificate to trust (services with `tls = true`).
    pub fn ca_der(&self) -> Result<Option<CertificateDer<'static>>, BenchError> {
        self.ca_pem
            .as_deref()
            .map(|pem| {
                CertificateDer::from_pem_slice(pem)
                    .map_err(|e| BenchError::Sim(format!("its ca.pem does not parse: {e}")))
            })
            .transpose()
    }

    /// Replaces the limits (`PUT /__sim/limits`); the buckets start full again.
    pub async fn set_limits(&self, limits: Limits) -> Result<(), BenchError> {
        let what = "PUT /__sim/limits";
        let r = self
            .admin
            .put(format!("{}/__sim/limits", self.url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&limits).map_err(|e| admin(what, e))?)
            .send()
            .await
            .map_err(|e| admin(what, e))?;
        expect_success(what, r).await.map(drop)
    }

    /// Forgets the counters (`POST /__sim/stats/reset`).
    pub async fn reset_stats(&self) -> Result<(), BenchError> {
        let what = "POST /__sim/stats/reset";
        let r = self
            .admin
            .post(format!("{}/__sim/stats/reset", self.url))
            .send()
            .await
            .map_err(|e| admin(what, e))?;
        expect_success(what, r).await.map(drop)
    }

    /// The counters (`GET /__sim/stats`).
    pub async fn stats(&self) -> Result<SimStats, BenchError> {
        let what = "GET /__sim/stats";
        let r = self
            .admin
            .get(format!("{}/__sim/stats", self.url))
            .send()
            .await
            .map_err(|e| admin(what, e))?;
        let body = expect_success(what, r).await?;
        serde_json::from_slice(&body).map_err(|e| admin(what, format!("unexpected JSON: {e}")))
    }
}

fn admin(what: &'static str, e: impl std::fmt::Display) -> BenchError {
    BenchError::Admin {
        what,
        reason: e.to_string(),
    }
}

async fn expect_success(
    what: &'static str,
    r: reqwest::Response,
) -> Result<bytes::Bytes, BenchError> {
    let status = r.status();
    let body = r.bytes().await.map_err(|e| admin(what, e))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(300).collect();
        return Err(admin(what, format!("{status}: {text}")));
    }
    Ok(body)
}

/// An endpoint line of `--print json`.
#[derive(Debug, Deserialize)]
struct Endpoint {
    name: String,
    url: String,
}

/// A `galileo-sim` process; killed when dropped.
#[derive(Debug)]
pub struct SimProcess {
    child: Child,
    // Kept open: the simulator never writes again, but it must not see a closed pipe.
    _stdout: BufReader<ChildStdout>,
    sim: Sim,
    dir: PathBuf,
}

impl SimProcess {
    /// Writes `config` (TOML) to `dir/sim.toml`, starts `bin` on it with its state in
    /// `dir/state` and its log in `dir/sim.log`, and waits for its endpoint list.
    pub async fn start(bin: &Path, config: &str, dir: &Path) -> Result<Self, BenchError> {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
        let config_path = dir.join("sim.toml");
        std::fs::write(&config_path, config).map_err(|e| BenchError::io(&config_path, e))?;
        let state = dir.join("state");
        let log_path = dir.join("sim.log");
        let log = std::fs::File::create(&log_path).map_err(|e| BenchError::io(&log_path, e))?;
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(&config_path)
            .arg("--state-dir")
            .arg(&state)
            .args(["--print", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                BenchError::Sim(format!(
                    "cannot start {}: {e}; build it with `cargo build -p galileo-sim`",
                    bin.display()
                ))
            })?;
        let Some(stdout) = child.stdout.take() else {
            return Err(BenchError::Sim("its stdout was not piped".into()));
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, stdout.read_line(&mut line)).await;
        let why = match read {
            Err(_) => Some(format!("listed no endpoint within {START_TIMEOUT:?}")),
            Ok(Err(e)) => Some(format!("cannot read its output: {e}")),
            Ok(Ok(0)) => Some("exited before listing its endpoints".to_owned()),
            Ok(Ok(_)) => None,
        };
        if let Some(why) = why {
            return Err(BenchError::Sim(format!(
                "{why}; see {}",
                log_path.display()
            )));
        }
        let sim = Self::jupiter(&line, &state)?;
        Ok(Self {
            child,
            _stdout: stdout,
            sim,
            dir: dir.to_owned(),
        })
    }

    /// The Jupiter service of an endpoint list, with the CA from the state dir for TLS.
    fn jupiter(line: &str, state: &Path) -> Result<Sim, BenchError> {
        let endpoints: Vec<Endpoint> = serde_json::from_str(line.trim()).map_err(|e| {
            BenchError::Sim(format!("its endpoint list is not the expected JSON: {e}"))
        })?;
        let Some(j) = endpoints.into_iter().find(|e| e.name == "jupiter") else {
            return Err(BenchError::Sim(
                "no jupiter endpoint; the bench's config must enable [services.jupiter]".into(),
            ));
        };
        let ca = if j.url.starts_with("https://") {
            let path = state.join("ca.pem");
            Some(std::fs::read(&path).map_err(|e| BenchError::io(&path, e))?)
        } else {
            None
        };
        Sim::new(j.url, ca)
    }

    /// The service.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Where its config, state and log are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the process and waits for it.
    pub async fn stop(mut self) {
        // Already gone is fine; the bench only needs it not to outlive the run.
        let _ = self.child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("fake-sim");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn reads_the_endpoint_list_and_passes_its_arguments() {
        let tmp = tempfile::tempdir().unwrap();
        // Echoes its arguments to the log and lists one endpoint, then stays up.
        let bin = script(
            tmp.path(),
            r#"echo "$@" >&2; echo '[{"name":"titan","url":"ws://x","ws_url":"ws://x"},{"name":"jupiter","url":"http://127.0.0.1:9/","ws_url":"ws://127.0.0.1:9"}]'; exec sleep 30"#,
        );
        let dir = tmp.path().join("run");
        let p = SimProcess::start(&bin, "seed = 1\n", &dir).await.unwrap();
        assert_eq!(p.sim().url(), "http://127.0.0.1:9");
        assert!(p.sim().ca_der().unwrap().is_none());
        assert_eq!(
            std::fs::read_to_string(dir.join("sim.toml")).unwrap(),
            "seed = 1\n"
        );
        p.stop().await;
        let args = std::fs::read_to_string(dir.join("sim.log")).unwrap();
        assert!(args.contains("--config"), "{args}");
        assert!(args.contains("--state-dir"), "{args}");
        assert!(args.contains("--print json"), "{args}");
    }

    #[tokio::test]
    async fn a_simulator_that_dies_or_lies_gives_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let bin = script(tmp.path(), "echo 'bad config: line 3' >&2; exit 1");
        let e = SimProcess::start(&bin, "", &dir)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("exited before listing its endpoints"), "{e}");
        assert!(e.contains("sim.log"), "{e}");

        let bin = script(tmp.path(), "echo 'not json'; exec sleep 30");
        let e = SimProcess::start(&bin, "", &dir)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("not the expected JSON"), "{e}");

        let bin = script(
            tmp.path(),
            r#"echo '[{"name":"titan","url":"ws://x","ws_url":"ws://x"}]'; exec sleep 30"#,
        );
        let e = SimProcess::start(&bin, "", &dir)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no jupiter endpoint"), "{e}");

        let e = SimProcess::start(&tmp.path().join("missing"), "", &dir)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("cargo build -p galileo-sim"), "{e}");
    }
}
