//! What this process costs: CPU time (getrusage) and resident memory (/proc/self/status). The
//! simulator runs in another process, so neither includes the server's side.

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

use crate::BenchError;

/// User + system CPU time this process has used so far.
pub fn cpu_time() -> Result<Duration, BenchError> {
    let u = getrusage(UsageWho::RUSAGE_SELF)
        .map_err(|e| BenchError::measurement("cpu", format!("getrusage failed: {e}")))?;
    let d = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec().max(0) as u64)
            + Duration::from_micros(t.tv_usec().max(0) as u64)
    };
    Ok(d(u.user_time()) + d(u.system_time()))
}

/// This process's resident set size (`VmRSS`), in bytes.
pub fn rss_bytes() -> Result<u64, BenchError> {
    let path = "/proc/self/status";
    let text = std::fs::read_to_string(path).map_err(|e| BenchError::io(path, e))?;
    parse_vm_rss(&text).ok_or_else(|| {
        BenchError::measurement(
            "memory",
            "/proc/self/status has no VmRSS line; the memory scenario needs Linux",
        )
    })
}

/// `VmRSS:   12345 kB` in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line.split_whitespace().skip(1);
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") => value.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\tx\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\nThreads: 3\n";
        assert_eq!(parse_vm_rss(status), Some(2048 * 1024));
        assert_eq!(parse_vm_rss("VmRSS: lots"), None);
        assert_eq!(parse_vm_rss("Name: x"), None);
    }

    #[test]
    fn this_process_uses_cpu_and_memory() {
        let before = cpu_time().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        assert!(cpu_time().unwrap() > before);
        assert!(rss_bytes().unwrap() > 1024 * 1024);
    }
}
