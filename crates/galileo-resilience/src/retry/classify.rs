//! Classifiers for the usual retry conditions, without HTTP or socket types: I/O error kinds
//! that pass, and HTTP status codes (as plain `u16`) worth retrying.
//!
//! ```
//! use std::io;
//! use std::time::Duration;
//! use galileo_resilience::retry::{RetryDecision, classify};
//!
//! assert!(classify::is_retryable_status(503));
//! assert!(!classify::is_retryable_status(400));
//! // A 429 with `Retry-After: 2` (parsed by the HTTP layer).
//! assert_eq!(
//!     classify::status(429, Some(Duration::from_secs(2))),
//!     RetryDecision::RetryAfter(Duration::from_secs(2))
//! );
//! let reset = io::Error::from(io::ErrorKind::ConnectionReset);
//! assert_eq!(classify::io(&reset), RetryDecision::Retry);
//! ```

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use super::RetryDecision;

/// HTTP statuses worth retrying: 408 Request Timeout, 425 Too Early, 429 Too Many Requests,
/// 500 Internal Server Error, 502 Bad Gateway, 503 Service Unavailable, 504 Gateway Timeout.
///
/// Other 4xx say the request itself is wrong; 501, 505 and the like will not change on retry.
pub const RETRYABLE_STATUSES: [u16; 7] = [408, 425, 429, 500, 502, 503, 504];

/// True for a status in [`RETRYABLE_STATUSES`].
pub fn is_retryable_status(status: u16) -> bool {
    RETRYABLE_STATUSES.contains(&status)
}

/// The decision for an HTTP status and the server's `Retry-After`, if it sent one: retry
/// (after the server's pause when given) for [`RETRYABLE_STATUSES`], otherwise do not.
pub fn status(status: u16, retry_after: Option<Duration>) -> RetryDecision {
    RetryDecision::retry_if_after(is_retryable_status(status), retry_after)
}

/// True for I/O error kinds that describe a moment's trouble on the network or the peer,
/// which a retry may not meet: refused, reset or aborted connections, broken pipes, timeouts,
/// interruptions, unexpected EOF, unreachable hosts and networks, a network that is down, and
/// no free local port.
///
/// False for everything else, notably `PermissionDenied`, `AddrNotAvailable` (the source
/// address is gone), `InvalidInput`, `InvalidData` and `Unsupported`.
pub fn is_transient_io_kind(kind: io::ErrorKind) -> bool {
    use io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::Interrupted
            | K::WouldBlock
            | K::UnexpectedEof
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
            | K::AddrInUse
    )
}

/// True when `error`'s kind is transient ([`is_transient_io_kind`]).
pub fn is_transient_io(error: &io::Error) -> bool {
    is_transient_io_kind(error.kind())
}

/// The decision for an I/O error: retry when it is transient.
pub fn io(error: &io::Error) -> RetryDecision {
    RetryDecision::retry_if(is_transient_io(error))
}

/// The first [`io::Error`] in `error`'s chain of sources (itself included), as HTTP clients
/// wrap the socket's error in their own.
pub fn find_io_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io);
        }
        current = e.source();
    }
    None
}

/// True when `error`'s chain holds a transient [`io::Error`] ([`find_io_error`]).
pub fn is_transient_network_error(error: &(dyn StdError + 'static)) -> bool {
    find_io_error(error).is_some_and(is_transient_io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_listed_statuses_are_retryable() {
        let retryable: Vec<u16> = (100..600).filter(|s| is_retryable_status(*s)).collect();
        assert_eq!(retryable, RETRYABLE_STATUSES);
        assert_eq!(
            status(400, Some(Duration::from_secs(1))),
            RetryDecision::DontRetry
        );
        assert_eq!(status(502, None), RetryDecision::Retry);
    }

    #[test]
    fn transient_and_permanent_io_kinds() {
        use io::ErrorKind as K;
        for k in [
            K::ConnectionReset,
            K::ConnectionRefused,
            K::TimedOut,
            K::BrokenPipe,
        ] {
            assert!(is_transient_io_kind(k), "{k:?}");
        }
        for k in [
            K::PermissionDenied,
            K::AddrNotAvailable,
            K::InvalidInput,
            K::InvalidData,
            K::NotFound,
            K::Unsupported,
            K::Other,
        ] {
            assert!(!is_transient_io_kind(k), "{k:?}");
            assert_eq!(io(&io::Error::from(k)), RetryDecision::DontRetry);
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("request failed")]
    struct Wrapper(#[source] io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("client")]
    struct Outer(#[source] Wrapper);

    #[test]
    fn a_wrapped_io_error_is_found_in_the_chain() {
        let e = Outer(Wrapper(io::Error::from(io::ErrorKind::ConnectionReset)));
        assert_eq!(
            find_io_error(&e).map(io::Error::kind),
            Some(io::ErrorKind::ConnectionReset)
        );
        assert!(is_transient_network_error(&e));
        let e = Outer(Wrapper(io::Error::from(io::ErrorKind::PermissionDenied)));
        assert!(!is_transient_network_error(&e));
        let plain = std::fmt::Error;
        assert!(find_io_error(&plain).is_none() && !is_transient_network_error(&plain));
    }
}
