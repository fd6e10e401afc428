//! What the binary tells other processes: endpoints, the CA, the user keypairs.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use solana_signer::Signer;

use crate::server::RunningService;
use crate::tls::Ca;
use crate::world::World;

/// Where one service listens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The service's name (`solana`, `jito`, `titan`, ...).
    pub name: String,
    /// Its base URL (`http://` or `https://`).
    pub url: String,
    /// The same address as a WebSocket URL.
    pub ws_url: String,
}

impl Endpoint {
    pub(crate) fn of(s: &RunningService) -> Endpoint {
        Endpoint {
            name: s.name().to_owned(),
            url: s.url(),
            ws_url: s.ws_url(),
        }
    }
}

/// Writes into `dir` (created if missing): `endpoints.json`, `ca.pem` (trust it for the TLS
/// services), `users.json` (the users' public keys) and `user-<i>.json` per user, a keypair
/// in the Solana CLI's format (readable by `solana-keygen` and `read_keypair_file`), mode
/// 0600 (older `user-*.json` files are removed first). Secrets only ever go to those files.
pub fn write_state(dir: &Path, endpoints: &[Endpoint], ca: &Ca, world: &World) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("endpoints.json"), pretty(endpoints))?;
    std::fs::write(dir.join("ca.pem"), ca.cert_pem())?;
    let users = world.users();
    let pubkeys: Vec<String> = users.iter().map(|k| k.pubkey().to_string()).collect();
    std::fs::write(dir.join("users.json"), pretty(&pubkeys))?;
    // Keypairs of an earlier run with more users must not outlive it.
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("user-") && name.ends_with(".json") {
            std::fs::remove_file(dir.join(&*name))?;
        }
    }
    for (i, k) in users.iter().enumerate() {
        let bytes: Vec<u8> = k.to_bytes().to_vec();
        write_private(&dir.join(format!("user-{i}.json")), &pretty(&bytes))?;
    }
    Ok(())
}

/// Pretty JSON with a final newline.
fn pretty<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("serializable") + "\n"
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    std::fs::write(path, text)
}
