//! The start-up bind probe: can a socket really be bound to this source?

use std::io;

use nix::errno::Errno;

use super::QuarantineReason;
use crate::SourceIp;
use crate::socket::bound_socket;

/// Binds (and drops) a socket on `source`, as a connection would.
pub(crate) fn probe(source: &SourceIp) -> Result<(), QuarantineReason> {
    bound_socket(source, None)
        .map(drop)
        .map_err(|e| reason_of(&e))
}

fn reason_of(e: &io::Error) -> QuarantineReason {
    let Some(code) = e.raw_os_error() else {
        return QuarantineReason::Bind(e.to_string());
    };
    let errno = Errno::from_raw(code);
    let what = match errno {
        Errno::EADDRNOTAVAIL => "address not assigned to this host".to_string(),
        Errno::EACCES | Errno::EPERM => "not permitted to bind it".to_string(),
        Errno::EAFNOSUPPORT => "address family not supported (is IPv6 disabled?)".to_string(),
        other => other.desc().to_lowercase(),
    };
    QuarantineReason::Bind(format!("{what} ({errno:?})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unassigned_addresses_fail_with_a_named_errno() {
        let err = probe(&SourceIp::new("192.0.2.1".parse().unwrap())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "address not assigned to this host (EADDRNOTAVAIL)"
        );
        probe(&SourceIp::new("127.0.0.5".parse().unwrap())).unwrap();
    }

    #[test]
    fn freebind_binds_what_is_not_assigned() {
        probe(&SourceIp::new("192.0.2.1".parse().unwrap()).with_freebind(true)).unwrap();
    }
}
