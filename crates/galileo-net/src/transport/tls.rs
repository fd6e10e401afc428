//! rustls client configuration: one shared root store, one `ClientConfig` per ALPN offer.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::{HttpConfig, NetError};

/// ALPN for HTTP requests: HTTP/2 when the server offers it, else HTTP/1.1.
pub(crate) const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];
/// ALPN for WebSocket streams: the upgrade needs HTTP/1.1.
pub(crate) const ALPN_WEBSOCKET: &[&[u8]] = &[b"http/1.1"];

/// The trust roots `cfg` asks for, plus `extra` certificates given in code.
pub(crate) fn root_store(
    cfg: &HttpConfig,
    extra: &[CertificateDer<'static>],
) -> Result<RootCertStore, NetError> {
    let mut roots = RootCertStore::empty();
    if cfg.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for path in &cfg.extra_ca_files {
        for cert in read_pem(path)? {
            add(&mut roots, cert, &path.display().to_string())?;
        }
    }
    for cert in extra {
        add(&mut roots, cert.clone(), "a certificate given in code")?;
    }
    if roots.is_empty() {
        return Err(NetError::Tls(
            "no trust roots: set http.webpki_roots = true or list http.extra_ca_files".into(),
        ));
    }
    Ok(roots)
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| NetError::Tls(format!("cannot read CA file {}: {e}", path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| NetError::Tls(format!("bad PEM in CA file {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(NetError::Tls(format!(
            "CA file {} holds no CERTIFICATE block",
            path.display()
        )));
    }
    Ok(certs)
}

fn add(
    roots: &mut RootCertStore,
    cert: CertificateDer<'static>,
    from: &str,
) -> Result<(), NetError> {
    roots
        .add(cert)
        .map_err(|e| NetError::Tls(format!("cannot trust {from}: {e}")))
}

/// A client config over `roots` offering `alpn`, with the ring provider (explicit, so no
/// process-wide default is needed).
pub(crate) fn client_config(
    roots: RootCertStore,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}
