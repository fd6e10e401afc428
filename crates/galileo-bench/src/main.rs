//! `galileo-bench`: runs the bench's scenarios against a `galileo-sim` process. Usually started
//! by `cargo xtask bench`, which builds both binaries first.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use galileo_bench::report::{self, Report};
use galileo_bench::scenario::{self, Context, Scenario};
use galileo_bench::{BenchError, Progress};

/// Galileo's bench: quota utilization, client overhead, lease scaling and memory.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Short runs and fewer repetitions (CI: keeps the bench from rotting, no thresholds).
    #[arg(long)]
    quick: bool,
    /// Run only this scenario (repeatable): known-limits, unknown-limits, client-overhead,
    /// lease-scaling, memory.
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
    /// Runs per figure (default: 2 or 3 with --quick, 3 to 5 otherwise).
    #[arg(long)]
    runs: Option<usize>,
    /// The galileo-sim binary (every scenario but lease-scaling needs it).
    #[arg(long, value_name = "PATH")]
    sim_bin: Option<PathBuf>,
    /// Where report.json, report.svg and the simulators' files go.
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    out: PathBuf,
    #[command(subcommand)]
    probe: Option<Probe>,
}

#[derive(Debug, Subcommand)]
enum Probe {
    /// Scenario 5's measuring process (internal).
    #[command(hide = true)]
    ProbeMemory {
        #[arg(long)]
        url: String,
        #[arg(long)]
        ca: PathBuf,
        #[arg(long)]
        ips: usize,
        #[arg(long)]
        concurrency: usize,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("galileo-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("galileo-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), BenchError> {
    if let Some(Probe::ProbeMemory {
        url,
        ca,
        ips,
        concurrency,
    }) = args.probe
    {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let ca = CertificateDer::from_pem_file(&ca).map_err(|e| {
            BenchError::io(&ca, std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })?;
        let r = scenario::memory::probe(&url, ca, ips, concurrency).await?;
        let line = serde_json::to_string(&r).map_err(|e| BenchError::Usage(e.to_string()))?;
        println!("{line}");
        return Ok(());
    }
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
            .iter()
            .map(|s| Scenario::parse(s))
            .collect::<Result<Vec<_>, _>>()?
    };
    let sim_bin = match args.sim_bin {
        Some(path) => path,
        None if scenarios.iter().any(|s| s.needs_sim()) => {
            return Err(BenchError::Usage(
                "give --sim-bin PATH (the galileo-sim binary), or run `cargo xtask bench`".into(),
            ));
        }
        None => PathBuf::new(),
    };
    let self_exe = std::env::current_exe().map_err(|e| BenchError::io("current_exe", e))?;
    let progress = Progress::stderr();
    let ctx = Context {
        sim_bin,
        work_dir: args.out.clone(),
        quick: args.quick,
        runs: args.runs,
        self_exe,
        progress: progress.clone(),
    };
    let mut report = Report {
        generated_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        profile: if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        },
        quick: args.quick,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        scenarios: Vec::new(),
    };
    let started = tokio::time::Instant::now();
    for s in scenarios {
        let t = tokio::time::Instant::now();
        let r = scenario::run(s, &ctx).await;
        match r {
            Ok(r) => {
                progress.line(format!("{} done in {:.1?}", s.name(), t.elapsed()));
                report.scenarios.push(r);
            }
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        }
    }
    progress.finish();
    let (json, svg) = report::write(&report, &args.out)?;
    print!("{}", report::render_table(&report));
    println!(
        "\nwrote {} and {} in {:.0?}",
        json.display(),
        svg.display(),
        started.elapsed()
    );
    Ok(())
}
