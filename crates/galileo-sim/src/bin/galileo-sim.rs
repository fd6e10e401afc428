//! `galileo-sim`: the simulators as a standalone process, for manual runs and the bench.
//!
//! ```text
//! galileo-sim --config sim.toml --state-dir /tmp/sim
//! galileo-sim --all                 # every service, defaults, ephemeral ports
//! ```
//!
//! Prints one line per endpoint (or one JSON document with `--print json`) once every service
//! listens, then runs until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use galileo_sim::app::{App, SimConfig, write_state};

/// Local simulators of Jupiter, Ultra, DFlow, Titan, Solana RPC and Jito.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The TOML configuration (see docs/sim.md). Without it, `--all` is required.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Run every service with default settings on ephemeral ports (and ignore `--config`'s
    /// `[services]` if both are given: all run).
    #[arg(long)]
    all: bool,
    /// Write endpoints.json, ca.pem, users.json and the user keypairs (mode 0600) here.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// How to print the endpoints.
    #[arg(long, value_enum, default_value_t = Print::Text)]
    print: Print,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Print {
    /// `name url` per line.
    Text,
    /// One JSON array of `{name, url, ws_url}`.
    Json,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = match &args.config {
        Some(path) => SimConfig::load(path)?,
        None if args.all => SimConfig::default(),
        None => return Err("give --config FILE or --all (see galileo-sim --help)".into()),
    };
    if args.all {
        config.services = SimConfig::all_services().services;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Listen for signals before telling anyone we are up.
        let stop = shutdown_signal()?;
        let app = App::start(config)?;
        let endpoints = app.endpoints();
        if let Some(dir) = &args.state_dir {
            write_state(dir, &endpoints, app.sandbox().ca(), app.world())
                .map_err(|e| format!("cannot write the state to {}: {e}", dir.display()))?;
        }
        let out = match args.print {
            Print::Json => serde_json::to_string(&endpoints)? + "\n",
            Print::Text => endpoints
                .iter()
                .map(|e| format!("{} {}\n", e.name, e.url))
                .collect(),
        };
        #[allow(clippy::print_stdout)]
        {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(out.as_bytes())?;
            stdout.flush()?;
        }
        stop.await;
        app.shutdown().await;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM; the handlers are installed when this returns.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
