//! `identity-sync-emulator`: serves the identity-sync API on `127.0.0.1`.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line of stdout, then
//! serves until SIGTERM or SIGINT, or until its parent process exits.

use clap::Parser;
use identity_sync_emulator::{
    Credentials, DEFAULT_ACCOUNT, DEFAULT_PAGE_SIZE, DEFAULT_REGION, Emulator, ErrorCode, Knobs,
    Operation, Options, Seed, serve,
};
use std::error::Error;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::process::parent_id;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// A local emulator of the identity-sync API with SigV4 checks and fault knobs.
#[derive(Debug, Parser)]
#[command(name = "identity-sync-emulator", version, about)]
struct Args {
    /// Port on 127.0.0.1 (0: a free port, printed on the first line).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed document (JSON) with the initial profiles, targets and filters.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Region the signatures must be scoped to.
    #[arg(long, default_value = DEFAULT_REGION)]
    region: String,
    /// Account of the ARNs.
    #[arg(long, default_value = DEFAULT_ACCOUNT)]
    account: String,
    /// Accepted access key and secret (repeatable; default testing:testing).
    #[arg(long, value_name = "AKID:SECRET")]
    credentials: Vec<Credentials>,
    /// Every signed request sleeps this long while counted in flight.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// More signed requests in flight than this get 429 ThrottlingException.
    #[arg(long)]
    concurrency_limit: Option<usize>,
    /// Probability (0..1) of a 500 InternalServerException before applying.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Probability (0..1) of applying the change, then answering 500.
    #[arg(long, default_value_t = 0.0)]
    fault_after_rate: f64,
    /// Seed of the fault RNG (and of generated filter ids), for determinism.
    #[arg(long)]
    fault_seed: Option<u64>,
    /// Operations that never answer (repeatable or comma-separated).
    #[arg(long, value_name = "OPERATION", value_delimiter = ',')]
    hang_ops: Vec<Operation>,
    /// Filter names whose create/delete never answers (repeatable or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    hang_filters: Vec<String>,
    /// Filter name whose create/delete always fails with CODE (repeatable).
    #[arg(long, value_name = "NAME=CODE", value_parser = parse_fail_filter)]
    fail_filters: Vec<(String, ErrorCode)>,
    /// Filter name whose create/delete is applied, then answered CODE (repeatable).
    #[arg(long, value_name = "NAME=CODE", value_parser = parse_fail_filter)]
    fail_after_filters: Vec<(String, ErrorCode)>,
    /// Most filters per ListSyncFilters page.
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE)]
    page_size: usize,
}

fn parse_fail_filter(text: &str) -> Result<(String, ErrorCode), String> {
    let (name, code) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=CODE, got {text:?}"))?;
    if name.is_empty() {
        return Err(format!("expected NAME=CODE with a name, got {text:?}"));
    }
    let code = code.parse::<ErrorCode>().map_err(|e| e.to_string())?;
    Ok((name.to_owned(), code))
}

impl Args {
    fn into_options(self) -> Result<Options, Box<dyn Error>> {
        let seed = match &self.seed {
            Some(path) => Some(Seed::from_file(path)?),
            None => None,
        };
        let credentials = if self.credentials.is_empty() {
            vec![Credentials::testing()]
        } else {
            self.credentials
        };
        Ok(Options {
            port: self.port,
            region: self.region,
            account: self.account,
            credentials,
            seed,
            knobs: Knobs {
                latency_ms: self.latency_ms,
                concurrency_limit: self.concurrency_limit,
                fault_rate: self.fault_rate,
                fault_after_rate: self.fault_after_rate,
                fault_seed: self.fault_seed,
                hang_ops: self.hang_ops.into_iter().collect(),
                hang_filters: self.hang_filters.into_iter().collect(),
                fail_filters: self.fail_filters.into_iter().collect(),
                fail_after_filters: self.fail_after_filters.into_iter().collect(),
                page_size: self.page_size,
                ..Knobs::default()
            },
            ..Options::default()
        })
    }
}

fn main() -> ExitCode {
    // Taken first thing: a parent that exits before this line goes unnoticed.
    let parent = parent_id();
    match run(Args::parse(), parent) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            eprintln!("identity-sync-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args, parent: u32) -> Result<(), Box<dyn Error>> {
    let options = args.into_options()?;
    let emulator = Emulator::new(&options)?;
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let shutdown = async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            let reason = loop {
                tokio::select! {
                    _ = terminate.recv() => break "SIGTERM",
                    _ = interrupt.recv() => break "SIGINT",
                    _ = tick.tick() => {
                        if parent_id() != parent {
                            break "parent process exited";
                        }
                    }
                }
            };
            eprintln!("identity-sync-emulator: stopping ({reason})");
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{addr}")?;
        stdout.flush()?;
        drop(stdout);
        serve(listener, emulator, shutdown).await
    })?;
    Ok(())
}
