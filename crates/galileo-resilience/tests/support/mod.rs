//! Shared by the Redis test binaries.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A redis-server of our own, on a unix socket in a temporary directory; killed on drop.
pub struct RedisServer {
    child: Child,
    dir: PathBuf,
}

impl RedisServer {
    pub async fn start(dir: &Path, extra: &[&str]) -> Self {
        let socket = dir.join("redis.sock");
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .arg("--unixsocket")
            .arg(&socket)
            .args(["--unixsocketperm", "700"])
            .args(extra)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (cargo xtask test installs it)");
        // Wait for the server to say it is ready: an event, not a sleep.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = Vec::new();
        loop {
            let Some(line) = lines.next_line().await.unwrap() else {
                panic!(
                    "redis-server exited before it was ready:\n{}",
                    said.join("\n")
                );
            };
            // "Ready to accept connections" (TCP) or "ready to accept connections at <socket>".
            if line
                .to_ascii_lowercase()
                .contains("ready to accept connections")
            {
                break;
            }
            said.push(line);
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            dir: dir.to_owned(),
        }
    }

    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.dir.join("redis.sock").display())
    }

    /// Freezes the server (SIGSTOP): its socket stays open, it never answers.
    pub fn stop(&self) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .expect("kill(1)")
            .success();
        assert!(ok, "cannot stop redis-server {pid}");
    }

    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }
}
