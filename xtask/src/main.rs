//! `cargo xtask`: the project's task runner.
//!
//! - `cargo xtask test`: everything CI checks, on a fresh machine too: installs what the tests
//!   need (redis-server and iproute2 from Debian's packages when running as root, cargo-deny),
//!   then rustfmt, clippy with `-D warnings` over all features, cargo-deny (bans, licenses,
//!   sources) and the workspace tests with all features. As root it also runs the tests that
//!   create network namespaces, and makes them mandatory.
//!   Then `bench --quick` on the binaries the tests just built, without thresholds, so the
//!   bench never rots.
//! - `cargo xtask bench [--quick] [--scenario NAME]`: builds `galileo-sim` and the bench driver
//!   (`crates/galileo-bench`; release, or dev with `--quick`) and runs the bench: the driver
//!   starts the simulator as its own process, runs the scenarios, prints a table and writes
//!   `target/bench/report.json` and `report.svg` (docs/bench.md). The driver is its own crate so
//!   xtask stays light (clap and anyhow).
//! - `cargo xtask ci`: what `.ci/run` calls; the same as `test`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Galileo's task runner")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// rustfmt, clippy -D warnings, cargo-deny and the workspace tests, installing what they need.
    Test {
        /// Skip rustfmt, clippy and cargo-deny; run only the tests.
        #[arg(long)]
        tests_only: bool,
        /// Extra arguments for `cargo test` (after `--`), e.g. a test name filter.
        #[arg(last = true)]
        cargo_test_args: Vec<String>,
    },
    /// The bench: quota utilization, client overhead, lease scaling, memory (docs/bench.md).
    Bench {
        /// Short runs in the dev profile (under 3 minutes; CI runs it without thresholds).
        #[arg(long)]
        quick: bool,
        /// Only this scenario (repeatable): known-limits, unknown-limits, client-overhead,
        /// lease-scaling, memory.
        #[arg(long = "scenario", value_name = "NAME")]
        scenarios: Vec<String>,
        /// Runs per figure (each figure is their median).
        #[arg(long)]
        runs: Option<usize>,
        /// Build in release even with --quick (full runs always do).
        #[arg(long)]
        release: bool,
    },
    /// What CI runs (`.ci/run`): the same as `test`.
    Ci,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Test {
            tests_only,
            cargo_test_args,
        } => test(tests_only, &cargo_test_args),
        Task::Bench {
            quick,
            scenarios,
            runs,
            release,
        } => {
            let release = release || !quick;
            build_bench(release).and_then(|()| {
                let dir = target_dir(&root()).join(if release { "release" } else { "debug" });
                bench(&dir, quick, &scenarios, runs)
            })
        }
        Task::Ci => test(false, &[]),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root. `cargo run` sets `CARGO_MANIFEST_DIR` at run time: prefer it to the
/// compile-time value, which is stale when a cached target dir holds an `xtask` built from
/// another clone of the same tree (cargo reuses it: its fingerprint is path-relative).
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn test(tests_only: bool, extra: &[String]) -> Result<()> {
    let started = SystemTime::now();
    let root = root();
    let as_root = is_root();
    step("prerequisites", || prerequisites(as_root, tests_only))?;
    if !tests_only {
        step("rustfmt", || {
            cargo(&root, &["fmt", "--all", "--", "--check"], &[])
        })?;
        step("clippy", || {
            cargo(
                &root,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--all-features",
                    "--locked",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )
        })?;
        step("cargo-deny", || {
            cargo(
                &root,
                &["deny", "--locked", "check", "bans", "licenses", "sources"],
                &[],
            )
        })?;
    }
    let mut args = vec!["test", "--workspace", "--all-features", "--locked"];
    if !extra.is_empty() {
        args.push("--");
        args.extend(extra.iter().map(String::as_str));
    }
    let env: &[(&str, &str)] = if as_root {
        // Namespace tests must run, not skip.
        &[("GALILEO_REQUIRE_NETNS", "1")]
    } else {
        eprintln!(
            "xtask: not root: tests that create network namespaces will skip (run `sudo -E cargo xtask test` to include them)"
        );
        &[]
    };
    step("tests", || cargo(&root, &args, env))?;
    if !tests_only {
        // The test step has just built both binaries (galileo-sim's and galileo-bench's own
        // integration tests need them) with the tests' features: run those rather than build
        // another copy of the Solana tree.
        let dir = target_dir(&root).join("debug");
        step("bench --quick", || bench(&dir, true, &[], None))?;
    }
    eprintln!(
        "\nxtask: all checks passed in {:.0?}",
        started.elapsed().unwrap_or_default()
    );
    Ok(())
}

/// Where cargo puts its output: `CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root.join(PathBuf::from(d)),
        _ => root.join("target"),
    }
}

/// Builds the simulator and the bench driver.
fn build_bench(release: bool) -> Result<()> {
    let mut args = vec![
        "build",
        "-p",
        "galileo-sim",
        "--bin",
        "galileo-sim",
        "-p",
        "galileo-bench",
        "--bin",
        "galileo-bench",
    ];
    if release {
        args.push("--release");
    }
    step("build the simulator and the bench", || {
        cargo(&root(), &args, &[])
    })
}

/// Runs the bench driver in `bin_dir` against the simulator there; the report goes to
/// `<target>/bench`.
fn bench(bin_dir: &Path, quick: bool, scenarios: &[String], runs: Option<usize>) -> Result<()> {
    let root = root();
    let out = target_dir(&root).join("bench");
    let driver = bin_dir.join("galileo-bench");
    let sim = bin_dir.join("galileo-sim");
    for bin in [&driver, &sim] {
        if !bin.exists() {
            bail!(
                "{} is missing; build it with `cargo build -p galileo-sim -p galileo-bench`",
                bin.display()
            );
        }
    }
    let mut cmd = Command::new(&driver);
    cmd.arg("--sim-bin").arg(&sim).arg("--out").arg(&out);
    if quick {
        cmd.arg("--quick");
    }
    for s in scenarios {
        cmd.args(["--scenario", s]);
    }
    if let Some(n) = runs {
        cmd.args(["--runs", &n.to_string()]);
    }
    let status = cmd
        .current_dir(&root)
        .status()
        .with_context(|| format!("cannot run {}", driver.display()))?;
    if !status.success() {
        bail!(
            "the bench failed ({status}); the simulators' logs are under {}",
            out.display()
        );
    }
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    eprintln!("\n==> {name}");
    let t = SystemTime::now();
    f().with_context(|| format!("step `{name}`"))?;
    eprintln!("==> {name}: ok ({:.1?})", t.elapsed().unwrap_or_default());
    Ok(())
}

fn cargo(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Installs what the checks and tests need, or says exactly how to.
fn prerequisites(as_root: bool, tests_only: bool) -> Result<()> {
    // The Redis tests start their own redis-server.
    debian_package("redis-server", "redis-server", as_root)?;
    // The namespace tests drive `ip` (iproute2); only root can run them, so only root needs it.
    if as_root {
        debian_package("ip", "iproute2", as_root)?;
    }
    if !tests_only && !has_command("cargo-deny", &["--version"]) {
        eprintln!("xtask: installing cargo-deny (about two minutes, once)");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["install", "cargo-deny", "--locked"])
            .status()
            .context("cannot run cargo install")?;
        if !status.success() {
            bail!("cannot install cargo-deny; run `cargo install cargo-deny --locked` and retry");
        }
    }
    Ok(())
}

fn has_command(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes sure `cmd` exists, installing Debian package `pkg` as root, else failing with the
/// exact command to run.
fn debian_package(cmd: &str, pkg: &str, as_root: bool) -> Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    if !as_root {
        bail!("`{cmd}` is missing: run `sudo apt-get install -y {pkg}` and retry");
    }
    eprintln!("xtask: installing {pkg} (for `{cmd}`)");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let install = || apt(&["install", "-y", "--no-install-recommends", pkg]);
    // A fresh machine may have no package lists yet: update once and retry.
    let installed = install() || (apt(&["update"]) && install());
    if !installed {
        bail!("cannot install {pkg}: run `apt-get update && apt-get install -y {pkg}` and retry");
    }
    Ok(())
}
