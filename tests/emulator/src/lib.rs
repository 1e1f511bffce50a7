//! A local emulator of the identity-sync API (the sync scope of IAM Identity
//! Center's AD identity source), implementing `docs/identity-sync-api.md`
//! independently of the client, with SigV4 verification, an admin API and fault
//! knobs.
//!
//! # Layout
//!
//! - [`sigv4`]: hand-written SigV4 verification (`hmac` + `sha2`).
//! - [`api`]: routing, request validation and JSON answers of every operation.
//! - [`store`]: the in-memory profiles, targets and filters.
//! - [`seed`]: the seed document the state starts from.
//! - [`knobs`]: latency, concurrency limit, faults, hangs, per-filter failures.
//! - [`server`]: the axum server (signed pipeline and `/_emulator/` admin API).
//! - [`error`]: error codes, statuses and the error body.
//! - [`model`]: operations, filter types, profile states.
//! - [`clock`]: the injectable clock.
//!
//! In-process use: [`spawn`] an emulator on `127.0.0.1` with its own thread and
//! runtime; it stops when the [`Running`] handle is dropped.
//!
//! ```no_run
//! let running = identity_sync_emulator::spawn(Default::default())?;
//! println!("{}", running.base_url());
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod api;
pub mod clock;
pub mod ds_data;
pub mod error;
pub mod knobs;
pub mod model;
pub mod seed;
pub mod server;
pub mod sigv4;
pub mod store;

pub use clock::Clock;
pub use error::{ApiError, ErrorCode};
pub use knobs::{DEFAULT_PAGE_SIZE, Knobs, KnobsError, TargetForm};
pub use model::{FilterType, Operation, ProfileState};
pub use seed::{Seed, SeedError, SeedFilter, SeedProfile, SeedTarget};
pub use server::{
    Emulator, JournalEntry, OpCounters, StartError, StateSnapshot, UNAUTHENTICATED,
    UNKNOWN_OPERATION,
};
pub use sigv4::Credentials;
pub use store::{FilterSnapshot, ProfileSnapshot, TargetSnapshot};

use std::future::{Future, IntoFuture};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;

/// The SigV4 service name the emulator accepts.
pub const SERVICE: &str = "identity-sync";

/// The region served unless set.
pub const DEFAULT_REGION: &str = "eu-central-1";

/// The account of the ARNs unless set.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    /// The port on `127.0.0.1`; 0 picks a free one.
    pub port: u16,
    /// The region the signatures must be scoped to and the ARNs carry.
    pub region: String,
    /// The account of the ARNs.
    pub account: String,
    /// The accepted access keys (default: `testing`/`testing`).
    pub credentials: Vec<Credentials>,
    /// The initial state; empty if `None`.
    pub seed: Option<Seed>,
    /// The knobs at start (and after `POST /_emulator/reset`).
    pub knobs: Knobs,
    /// "Now" for SigV4 date checks and `CreateTime`.
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            region: DEFAULT_REGION.to_owned(),
            account: DEFAULT_ACCOUNT.to_owned(),
            credentials: vec![Credentials::testing()],
            seed: None,
            knobs: Knobs::default(),
            clock: Clock::system(),
        }
    }
}

/// Serves `emulator` on `listener` until `shutdown` completes; requests still in
/// flight (hanging ones included) are dropped then.
pub async fn serve(
    listener: tokio::net::TcpListener,
    emulator: Emulator,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let server = axum::serve(listener, emulator.router()).into_future();
    tokio::select! {
        result = server => result,
        () = shutdown => Ok(()),
    }
}

/// An emulator serving on its own thread and tokio runtime; dropping it stops
/// the server and joins the thread.
pub struct Running {
    /// The address it listens on (`127.0.0.1:port`).
    pub addr: SocketAddr,
    emulator: Emulator,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// `http://127.0.0.1:port`, the endpoint to point a client at.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The emulator itself, to read its state or turn its knobs in-process.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// Stops the server and waits for its thread; reports a server failure.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            // The server may be gone already; nothing to stop then.
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| io::Error::other("the emulator thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `stop` reports them.
        let _ = self.stop_and_join();
    }
}

/// Starts an emulator on `127.0.0.1:{options.port}` (0: a free port) on its own
/// thread with its own tokio runtime, so it outlives the caller's runtime.
pub fn spawn(options: Options) -> io::Result<Running> {
    let emulator =
        Emulator::new(&options).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("identity-sync-emulator")
        .enable_all()
        .build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = emulator.clone();
    let thread = std::thread::Builder::new()
        .name("identity-sync-emulator".to_owned())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                serve(listener, served, async {
                    // A dropped sender stops the server too.
                    let _ = stopped.await;
                })
                .await
            });
            // Dropping the runtime cancels every request still in flight.
            drop(runtime);
            result
        })?;
    Ok(Running {
        addr,
        emulator,
        stop: Some(stop),
        thread: Some(thread),
    })
}
