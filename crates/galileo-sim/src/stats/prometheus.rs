//! The Prometheus text exposition of a service's counters.

use std::fmt::Write;

use super::{Counters, StatsSnapshot};

/// One metric family: name, type, help, and how to read it from a client's counters.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&Counters) -> u64,
}

const FAMILIES: [Family; 7] = [
    Family {
        name: "galileo_sim_requests_total",
        kind: "counter",
        help: "Requests received.",
        value: |c| c.requests,
    },
    Family {
        name: "galileo_sim_rate_limited_total",
        kind: "counter",
        help: "Requests refused with 429.",
        value: |c| c.rate_limited,
    },
    Family {
        name: "galileo_sim_overloaded_total",
        kind: "counter",
        help: "Requests refused with 503 (overload).",
        value: |c| c.overloaded,
    },
    Family {
        name: "galileo_sim_in_flight_requests",
        kind: "gauge",
        help: "Requests in progress.",
        value: |c| c.in_flight,
    },
    Family {
        name: "galileo_sim_max_in_flight_requests",
        kind: "gauge",
        help: "The most requests ever in progress at once.",
        value: |c| c.max_in_flight,
    },
    Family {
        name: "galileo_sim_received_bytes_total",
        kind: "counter",
        help: "Request body bytes received.",
        value: |c| c.bytes_in,
    },
    Family {
        name: "galileo_sim_sent_bytes_total",
        kind: "counter",
        help: "Response body bytes sent.",
        value: |c| c.bytes_out,
    },
];

pub(super) fn render(s: &StatsSnapshot) -> String {
    let mut out = String::new();
    let svc = escape(&s.service);
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP galileo_sim_connections_total TCP connections accepted.\n\
         # TYPE galileo_sim_connections_total counter\n\
         galileo_sim_connections_total{{service=\"{svc}\"}} {}",
        s.connections
    );
    for f in &FAMILIES {
        let _ = writeln!(
            out,
            "# HELP {} {}\n# TYPE {} {}",
            f.name, f.help, f.name, f.kind
        );
        for (ip, c) in &s.per_ip {
            let _ = writeln!(
                out,
                "{}{{service=\"{svc}\",ip=\"{ip}\"}} {}",
                f.name,
                (f.value)(c)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP galileo_sim_responses_total Responses by status code.\n\
         # TYPE galileo_sim_responses_total counter"
    );
    for (ip, c) in &s.per_ip {
        for (status, n) in &c.statuses {
            let _ = writeln!(
                out,
                "galileo_sim_responses_total{{service=\"{svc}\",ip=\"{ip}\",status=\"{status}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP galileo_sim_faults_total Faults injected.\n# TYPE galileo_sim_faults_total counter"
    );
    for (ip, c) in &s.per_ip {
        for (fault, n) in &c.faults {
            let _ = writeln!(
                out,
                "galileo_sim_faults_total{{service=\"{svc}\",ip=\"{ip}\",fault=\"{}\"}} {n}",
                escape(fault)
            );
        }
    }
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use crate::faults::Fault;
    use crate::stats::{RequestRecord, Stats};

    #[test]
    fn every_sample_line_is_well_formed() {
        let s = Stats::new("jupiter");
        let mut r = s.arrive(
            RequestRecord {
                id: 0,
                ip: "127.0.0.9".parse().unwrap(),
                key: None,
                method: "GET".into(),
                path: "/".into(),
                status: None,
                fault: None,
            },
            3,
        );
        r.fault(Fault::SlowBody);
        r.respond(200, 11);
        drop(r);
        let text = s.snapshot().to_prometheus();
        assert!(
            text.contains("galileo_sim_requests_total{service=\"jupiter\",ip=\"127.0.0.9\"} 1\n")
        );
        assert!(text.contains(
            "galileo_sim_responses_total{service=\"jupiter\",ip=\"127.0.0.9\",status=\"200\"} 1\n"
        ));
        assert!(text.contains(
            "galileo_sim_faults_total{service=\"jupiter\",ip=\"127.0.0.9\",fault=\"slow_body\"} 1\n"
        ));
        assert!(
            text.contains(
                "galileo_sim_sent_bytes_total{service=\"jupiter\",ip=\"127.0.0.9\"} 11\n"
            )
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name_labels, value) = line.rsplit_once(' ').unwrap();
            value.parse::<u64>().unwrap();
            assert!(
                name_labels.starts_with("galileo_sim_") && name_labels.ends_with('}'),
                "{line}"
            );
        }
    }
}
