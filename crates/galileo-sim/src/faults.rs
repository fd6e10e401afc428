//! The faults a service can inject, and how one is picked: a forced fault first (tests force
//! exactly the fault they check), otherwise a roll against the configured probabilities.

use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::config::FaultsConfig;

/// One kind of failure the simulator can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The request is read and never answered: the client must time out.
    NoResponse,
    /// The TCP connection is reset (RST) instead of answered.
    Reset,
    /// `500` with the service's error body.
    ServerError,
    /// The body is trickled out in small chunks.
    SlowBody,
    /// The JSON body is cut in half.
    MalformedJson,
    /// A new TLS connection gets a fatal `handshake_failure` alert.
    TlsHandshakeFailure,
    /// A WebSocket connection is closed in the middle of a stream.
    WsCloseMidStream,
    /// A stream stops sending updates without ending.
    StreamSilence,
}

impl Fault {
    /// Every fault, in the order they are rolled.
    pub const ALL: [Fault; 8] = [
        Fault::NoResponse,
        Fault::Reset,
        Fault::ServerError,
        Fault::SlowBody,
        Fault::MalformedJson,
        Fault::TlsHandshakeFailure,
        Fault::WsCloseMidStream,
        Fault::StreamSilence,
    ];

    /// The name in configuration, stats and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Fault::NoResponse => "no_response",
            Fault::Reset => "reset",
            Fault::ServerError => "server_error",
            Fault::SlowBody => "slow_body",
            Fault::MalformedJson => "malformed_json",
            Fault::TlsHandshakeFailure => "tls_handshake_failure",
            Fault::WsCloseMidStream => "ws_close_mid_stream",
            Fault::StreamSilence => "stream_silence",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn probability(self, cfg: &FaultsConfig) -> f64 {
        match self {
            Fault::NoResponse => cfg.no_response,
            Fault::Reset => cfg.reset,
            Fault::ServerError => cfg.server_error,
            Fault::SlowBody => cfg.slow_body,
            Fault::MalformedJson => cfg.malformed_json,
            Fault::TlsHandshakeFailure => cfg.tls_handshake_failure,
            Fault::WsCloseMidStream => cfg.ws_close_mid_stream,
            Fault::StreamSilence => cfg.stream_silence,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault `{s}`; one of: {}", names.join(", "))
            })
    }
}

/// The faults one answered request gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RequestFaults {
    /// Instead of the handler: `NoResponse`, `Reset` or `ServerError`.
    pub instead: Option<Fault>,
    /// Trickle the handler's body.
    pub slow_body: bool,
    /// Cut the handler's body.
    pub malformed_json: bool,
}

/// Forced faults waiting for the next request (or connection, or stream) they apply to, and
/// the dice for the rest.
#[derive(Debug, Default)]
pub(crate) struct FaultPicker {
    forced: [u32; Fault::ALL.len()],
}

impl FaultPicker {
    /// The next `times` chances of `fault` will take it.
    pub(crate) fn force(&mut self, fault: Fault, times: u32) {
        let n = &mut self.forced[fault.index()];
        *n = n.saturating_add(times);
    }

    /// Forgets every forced fault.
    pub(crate) fn clear(&mut self) {
        self.forced = Default::default();
    }

    /// Forced faults not yet used.
    pub(crate) fn pending(&self, fault: Fault) -> u32 {
        self.forced[fault.index()]
    }

    /// Whether this chance of `fault` takes it: forced, or by probability.
    pub(crate) fn pick(&mut self, fault: Fault, cfg: &FaultsConfig, rng: &mut StdRng) -> bool {
        let n = &mut self.forced[fault.index()];
        if *n > 0 {
            *n -= 1;
            return true;
        }
        let p = fault.probability(cfg);
        p > 0.0 && rng.random_bool(p)
    }

    /// The faults for one admitted request: at most one replacing the handler, and otherwise
    /// any of the body faults.
    pub(crate) fn for_request(&mut self, cfg: &FaultsConfig, rng: &mut StdRng) -> RequestFaults {
        for f in [Fault::NoResponse, Fault::Reset, Fault::ServerError] {
            if self.pick(f, cfg, rng) {
                return RequestFaults {
                    instead: Some(f),
                    ..RequestFaults::default()
                };
            }
        }
        RequestFaults {
            instead: None,
            slow_body: self.pick(Fault::SlowBody, cfg, rng),
            malformed_json: self.pick(Fault::MalformedJson, cfg, rng),
        }
    }

    /// The fault of a new stream, if any: closing the WebSocket, or going silent.
    pub(crate) fn for_stream(&mut self, cfg: &FaultsConfig, rng: &mut StdRng) -> Option<Fault> {
        [Fault::WsCloseMidStream, Fault::StreamSilence]
            .into_iter()
            .find(|&f| self.pick(f, cfg, rng))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>(), Ok(f));
            assert_eq!(
                serde_json::to_string(&f).unwrap(),
                format!("\"{}\"", f.name())
            );
        }
        assert!("rest".parse::<Fault>().unwrap_err().contains("no_response"));
    }

    #[test]
    fn forced_faults_come_first_and_once_each() {
        let mut p = FaultPicker::default();
        let mut rng = StdRng::seed_from_u64(1);
        let cfg = FaultsConfig::default();
        p.force(Fault::ServerError, 2);
        p.force(Fault::SlowBody, 1);
        let a = p.for_request(&cfg, &mut rng);
        assert_eq!(a.instead, Some(Fault::ServerError));
        // A replaced request does not use up the body fault.
        assert_eq!(p.pending(Fault::SlowBody), 1);
        assert_eq!(
            p.for_request(&cfg, &mut rng).instead,
            Some(Fault::ServerError)
        );
        let c = p.for_request(&cfg, &mut rng);
        assert_eq!(
            (c.instead, c.slow_body, c.malformed_json),
            (None, true, false)
        );
        assert_eq!(p.for_request(&cfg, &mut rng), RequestFaults::default());
        p.force(Fault::StreamSilence, 1);
        assert_eq!(p.for_stream(&cfg, &mut rng), Some(Fault::StreamSilence));
        assert_eq!(p.for_stream(&cfg, &mut rng), None);
    }

    #[test]
    fn probabilities_are_honoured() {
        let mut p = FaultPicker::default();
        let mut rng = StdRng::seed_from_u64(2);
        let cfg = FaultsConfig {
            server_error: 0.25,
            malformed_json: 1.0,
            ..FaultsConfig::default()
        };
        let n = 20_000;
        let mut errors = 0;
        for _ in 0..n {
            let f = p.for_request(&cfg, &mut rng);
            match f.instead {
                Some(Fault::ServerError) => errors += 1,
                None => assert!(f.malformed_json && !f.slow_body),
                other => panic!("unexpected {other:?}"),
            }
        }
        let share = f64::from(errors) / f64::from(n);
        assert!((share - 0.25).abs() < 0.02, "{share}");
    }
}
