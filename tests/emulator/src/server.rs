//! The HTTP server: the signed API (SigV4 check, counters, concurrency limit,
//! latency, hangs, faults, then the operation) and the unsigned admin API under
//! `/_emulator/`.

use crate::Options;
use crate::api::{self, Context, Failure, Route};
use crate::clock::Clock;
use crate::ds_data::{self, SeedDirectory};
use crate::error::{ApiError, ErrorCode};
use crate::knobs::{Knobs, KnobsError};
use crate::model::Operation;
use crate::seed::{Seed, SeedError};
use crate::sigv4::{RequestToVerify, Verifier};
use crate::store::{ProfileSnapshot, Store};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The counter key of requests that failed signature verification.
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// The counter key of signed requests that name no operation.
pub const UNKNOWN_OPERATION: &str = "unknown";

/// The largest request body read.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The calls of one operation since the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounters {
    /// Every signed request that reached the operation.
    pub requests: u64,
    /// Answered 2xx.
    pub ok: u64,
    /// Answered `429` because of `concurrency_limit`.
    pub throttled: u64,
    /// Answered an injected `500` (`fault_rate`, `fault_after_rate`).
    pub faults: u64,
    /// Answered any other non-2xx (including `fail_filters`).
    pub errors: u64,
}

/// Everything `GET /_emulator/state` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateSnapshot {
    /// The region the emulator serves.
    pub region: String,
    /// The account of its ARNs.
    pub account: String,
    /// Every profile with its targets and filters.
    pub profiles: Vec<ProfileSnapshot>,
    /// The directories Directory Service Data answers about, as they are now (the
    /// seed's, changed by the writes), in the seed's format.
    #[serde(default)]
    pub directories: Vec<SeedDirectory>,
    /// Per operation name, plus [`UNAUTHENTICATED`] and [`UNKNOWN_OPERATION`].
    pub counters: BTreeMap<String, OpCounters>,
    /// Signed requests being handled now.
    pub in_flight: usize,
    /// The most signed requests handled at once since the last reset.
    pub max_in_flight: usize,
    /// The knobs in force.
    pub knobs: Knobs,
}

impl StateSnapshot {
    /// The counters of `op` (zero if none were kept).
    pub fn counters_of(&self, op: Operation) -> OpCounters {
        self.counters.get(op.as_str()).copied().unwrap_or_default()
    }

    /// The profile `name`, if it exists.
    pub fn profile(&self, name: &str) -> Option<&ProfileSnapshot> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The directory `id`, if it exists.
    pub fn directory(&self, id: &str) -> Option<&SeedDirectory> {
        self.directories.iter().find(|d| d.id == id)
    }
}

/// The options could not start an emulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The seed is unusable.
    #[error("failed to load the seed")]
    Seed(#[from] SeedError),
    /// The knobs are out of range.
    #[error("failed to apply the knobs")]
    Knobs(#[from] KnobsError),
}

struct Inner {
    store: Store,
    /// The directories Directory Service Data answers about.
    directories: Vec<SeedDirectory>,
    /// The `ClientToken`s of their writes.
    ds_tokens: ds_data::Tokens,
    knobs: Knobs,
    counters: BTreeMap<String, OpCounters>,
    rng: fastrand::Rng,
    journal: Vec<JournalEntry>,
}

/// One answered signed request that named an operation: when it arrived and when it
/// was answered, in milliseconds since the emulator started (hangs never appear).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The operation.
    pub operation: Operation,
    /// The HTTP status answered.
    pub status: u16,
    /// When the request reached the operation (before latency and admission).
    pub started_ms: f64,
    /// When the answer was ready.
    pub answered_ms: f64,
}

struct Shared {
    verifier: Verifier,
    ds_verifier: Verifier,
    clock: Clock,
    region: String,
    account: String,
    start_knobs: Knobs,
    inner: Mutex<Inner>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    request_ids: AtomicU64,
    epoch: std::time::Instant,
}

/// A running emulator's state and behaviour; cheap to clone (shared).
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("region", &self.shared.region)
            .field("account", &self.shared.account)
            .field("verifier", &self.shared.verifier)
            .finish_non_exhaustive()
    }
}

fn zero_counters() -> BTreeMap<String, OpCounters> {
    Operation::ALL
        .iter()
        .map(|op| op.as_str())
        .chain(ds_data::OPERATIONS)
        .chain([UNAUTHENTICATED, UNKNOWN_OPERATION])
        .map(|key| (key.to_owned(), OpCounters::default()))
        .collect()
}

fn rng_for(knobs: &Knobs) -> fastrand::Rng {
    knobs
        .fault_seed
        .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed)
}

/// Whether a draw with probability `rate` hits; draws nothing when the rate is 0
/// or 1, so a seeded sequence only advances on real chances.
fn draw(rng: &mut fastrand::Rng, rate: f64) -> bool {
    if rate <= 0.0 {
        false
    } else if rate >= 1.0 {
        true
    } else {
        rng.f64() < rate
    }
}

/// Keeps a signed request counted in flight until dropped (answer sent or
/// connection gone).
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Outcome {
    Answer(Response),
    Hang,
}

impl Emulator {
    /// An emulator with the state, knobs and credentials of `options`.
    pub fn new(options: &Options) -> Result<Emulator, StartError> {
        options.knobs.validate()?;
        let store = match &options.seed {
            Some(seed) => Store::from_seed(
                seed,
                options.clock.epoch_seconds(),
                options.knobs.fault_seed,
            )?,
            None => Store::new(options.knobs.fault_seed),
        };
        Ok(Emulator {
            shared: Arc::new(Shared {
                verifier: Verifier::new(&options.credentials, &options.region, crate::SERVICE),
                ds_verifier: Verifier::new(&options.credentials, &options.region, ds_data::SERVICE),
                clock: options.clock.clone(),
                region: options.region.clone(),
                account: options.account.clone(),
                start_knobs: options.knobs.clone(),
                inner: Mutex::new(Inner {
                    store,
                    directories: options
                        .seed
                        .as_ref()
                        .map(|s| s.directories.clone())
                        .unwrap_or_default(),
                    ds_tokens: ds_data::Tokens::default(),
                    knobs: options.knobs.clone(),
                    counters: zero_counters(),
                    rng: rng_for(&options.knobs),
                    journal: Vec::new(),
                }),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                request_ids: AtomicU64::new(1),
                epoch: std::time::Instant::now(),
            }),
        })
    }

    /// The axum router of the signed API and the admin API.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_emulator/state", get(admin_state))
            .route("/_emulator/knobs", get(admin_knobs).put(admin_put_knobs))
            .route("/_emulator/reset", post(admin_reset))
            .route("/_emulator/counters/reset", post(admin_reset_counters))
            .route("/_emulator/directories", put(admin_put_directories))
            .fallback(signed)
            .with_state(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every update
        // is a single assignment or push), so a poisoned lock is still usable.
        self.shared
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The whole state, counters and knobs.
    pub fn snapshot(&self) -> StateSnapshot {
        let inner = self.lock();
        StateSnapshot {
            region: self.shared.region.clone(),
            account: self.shared.account.clone(),
            profiles: inner.store.snapshot(),
            directories: inner.directories.clone(),
            counters: inner.counters.clone(),
            in_flight: self.shared.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.shared.max_in_flight.load(Ordering::SeqCst),
            knobs: inner.knobs.clone(),
        }
    }

    /// Every answered request since the last reset, in the order answered.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.lock().journal.clone()
    }

    /// The knobs in force.
    pub fn knobs(&self) -> Knobs {
        self.lock().knobs.clone()
    }

    /// Replaces the knobs named in `patch` (a JSON object) and returns them all.
    /// Naming `fault_seed` (even unchanged) restarts the fault sequence.
    pub fn update_knobs(&self, patch: &serde_json::Value) -> Result<Knobs, KnobsError> {
        let mut inner = self.lock();
        let knobs = inner.knobs.patched(patch)?;
        if patch.get("fault_seed").is_some() {
            inner.rng = rng_for(&knobs);
        }
        inner.knobs = knobs.clone();
        Ok(knobs)
    }

    /// Empties the state (then loads `seed`), zeroes the counters and restores
    /// the knobs the emulator started with.
    pub fn reset(&self, seed: Option<&Seed>) -> Result<(), SeedError> {
        let knobs = self.shared.start_knobs.clone();
        let store = match seed {
            Some(seed) => {
                Store::from_seed(seed, self.shared.clock.epoch_seconds(), knobs.fault_seed)?
            }
            None => Store::new(knobs.fault_seed),
        };
        let mut inner = self.lock();
        inner.store = store;
        inner.directories = seed.map(|s| s.directories.clone()).unwrap_or_default();
        inner.ds_tokens = ds_data::Tokens::default();
        inner.rng = rng_for(&knobs);
        inner.knobs = knobs;
        inner.counters = zero_counters();
        inner.journal.clear();
        self.reset_max_in_flight();
        Ok(())
    }

    /// Replaces the directories (and forgets their writes' `ClientToken`s); the
    /// profiles, counters and knobs stay.
    pub fn set_directories(&self, directories: Vec<SeedDirectory>) {
        let mut inner = self.lock();
        inner.directories = directories;
        inner.ds_tokens = ds_data::Tokens::default();
    }

    /// Zeroes the counters and `max_in_flight`.
    pub fn reset_counters(&self) {
        let mut inner = self.lock();
        inner.counters = zero_counters();
        inner.journal.clear();
        drop(inner);
        self.reset_max_in_flight();
    }

    fn reset_max_in_flight(&self) {
        let now = self.shared.in_flight.load(Ordering::SeqCst);
        self.shared.max_in_flight.store(now, Ordering::SeqCst);
    }

    fn count(&self, key: &str, update: impl FnOnce(&mut OpCounters)) {
        let mut inner = self.lock();
        update(inner.counters.entry(key.to_owned()).or_default());
    }

    /// Counts one more request in flight unless that exceeds `limit`.
    fn admit(&self, limit: Option<usize>) -> Option<InFlight> {
        let shared = &self.shared;
        let admitted = shared
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match limit {
                Some(limit) if n >= limit => None,
                _ => Some(n + 1),
            });
        match admitted {
            Ok(before) => {
                shared.max_in_flight.fetch_max(before + 1, Ordering::SeqCst);
                Some(InFlight(Arc::clone(shared)))
            }
            Err(_) => None,
        }
    }

    fn with_request_id(&self, mut response: Response) -> Response {
        let id = self.shared.request_ids.fetch_add(1, Ordering::Relaxed);
        if let Ok(value) = HeaderValue::from_str(&format!("emulator-{id:016x}")) {
            response.headers_mut().insert("x-amzn-RequestId", value);
        }
        response
    }

    async fn handle_signed(&self, request: Request) -> Outcome {
        let (parts, body) = request.into_parts();
        if parts.uri.path().starts_with("/_emulator/") {
            return Outcome::Answer(
                (StatusCode::NOT_FOUND, "no such admin endpoint\n").into_response(),
            );
        }
        let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(_) => {
                self.count(UNAUTHENTICATED, |c| {
                    c.requests += 1;
                    c.errors += 1;
                });
                return Outcome::Answer(
                    ApiError::validation(format!(
                        "the request body could not be read or exceeds {MAX_BODY_BYTES} bytes"
                    ))
                    .into_response(),
                );
            }
        };
        let to_verify = RequestToVerify {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
        };
        let knobs = self.knobs();
        let ds_data = ds_data::operation_of(parts.uri.path());
        let huge = if ds_data.is_some() {
            knobs.ds_data_huge_body_mib
        } else {
            knobs.huge_body_mib
        };
        if huge > 0 {
            return Outcome::Answer(huge_body(huge));
        }
        if knobs.echo_token && ds_data.is_none() {
            let token = parts
                .headers
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)");
            return Outcome::Answer(
                ApiError::new(
                    ErrorCode::AccessDeniedException,
                    format!("The security token {token} is not allowed to call this operation"),
                )
                .into_response(),
            );
        }
        if let Some(op) = ds_data {
            return Outcome::Answer(self.ds_data(op, &to_verify).await);
        }
        if let Err(error) = self
            .shared
            .verifier
            .verify(&to_verify, self.shared.clock.now())
        {
            self.count(UNAUTHENTICATED, |c| {
                c.requests += 1;
                c.errors += 1;
            });
            return Outcome::Answer(error.into_response());
        }
        let route = match Route::parse(&parts.method, parts.uri.path()) {
            Ok(route) => route,
            Err(error) => {
                self.count(UNKNOWN_OPERATION, |c| {
                    c.requests += 1;
                    c.errors += 1;
                });
                return Outcome::Answer(error.into_response());
            }
        };
        let op = route.operation();
        let started_ms = self.elapsed_ms();
        let outcome = self.operate(op, &route, parts.uri.query(), &body).await;
        if let Outcome::Answer(response) = &outcome {
            self.lock().journal.push(JournalEntry {
                operation: op,
                status: response.status().as_u16(),
                started_ms,
                answered_ms: self.elapsed_ms(),
            });
        }
        outcome
    }

    /// A Directory Service Data request: its own signature scope, then the latency,
    /// hang and throttle knobs, then `ds_data_fault_rate`, the answer (see
    /// [`crate::ds_data`]) and, for a successful write, `ds_data_fault_after_rate`.
    async fn ds_data(&self, op: &'static str, request: &RequestToVerify<'_>) -> Response {
        if let Err(error) = self
            .shared
            .ds_verifier
            .verify(request, self.shared.clock.now())
        {
            self.count(UNAUTHENTICATED, |c| {
                c.requests += 1;
                c.errors += 1;
            });
            return error.into_response();
        }
        let knobs = self.knobs();
        self.count(op, |c| c.requests += 1);
        if knobs.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(knobs.latency_ms)).await;
        }
        if knobs.ds_data_hang {
            return std::future::pending().await;
        }
        if knobs.ds_data_throttle {
            self.count(op, |c| c.throttled += 1);
            return ds_data::throttled();
        }
        let answer = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            let fault = |what: &str| {
                ds_data::injected(
                    ErrorCode::InternalServerException,
                    format!("internal server error (injected by {what})"),
                )
            };
            let (answer, faulted) = if draw(&mut inner.rng, knobs.ds_data_fault_rate) {
                (ds_data::Answer::Now(fault("ds_data_fault_rate")), true)
            } else {
                match ds_data::answer(
                    op,
                    request.query,
                    request.body,
                    &mut inner.directories,
                    &mut inner.ds_tokens,
                    &knobs,
                ) {
                    ds_data::Answer::Now(response)
                        if ds_data::is_write(op)
                            && response.status().is_success()
                            && draw(&mut inner.rng, knobs.ds_data_fault_after_rate) =>
                    {
                        (
                            ds_data::Answer::Now(fault(
                                "ds_data_fault_after_rate, the change was applied",
                            )),
                            true,
                        )
                    }
                    answer => (answer, false),
                }
            };
            if let ds_data::Answer::Now(response) = &answer {
                let ok = response.status().is_success();
                let counters = inner.counters.entry(op.to_owned()).or_default();
                if faulted {
                    counters.faults += 1;
                } else if ok {
                    counters.ok += 1;
                } else {
                    counters.errors += 1;
                }
            }
            answer
        };
        match answer {
            ds_data::Answer::Now(response) => response,
            // Never answers (`ds_data_hang_members`); nothing was applied.
            ds_data::Answer::Hang => std::future::pending().await,
        }
    }

    /// Milliseconds since the emulator was built (the journal's clock).
    fn elapsed_ms(&self) -> f64 {
        self.shared.epoch.elapsed().as_secs_f64() * 1000.0
    }

    /// Admission, latency, hangs, then the operation (faults included).
    async fn operate(
        &self,
        op: Operation,
        route: &Route,
        query: Option<&str>,
        body: &Bytes,
    ) -> Outcome {
        let knobs = {
            let mut inner = self.lock();
            inner
                .counters
                .entry(op.as_str().to_owned())
                .or_default()
                .requests += 1;
            inner.knobs.clone()
        };
        let Some(_in_flight) = self.admit(knobs.concurrency_limit) else {
            self.count(op.as_str(), |c| c.throttled += 1);
            return Outcome::Answer(
                ApiError::new(ErrorCode::ThrottlingException, "Rate exceeded").into_response(),
            );
        };
        if knobs.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(knobs.latency_ms)).await;
        }
        if knobs.hang_ops.contains(&op) {
            // Never answers; `_in_flight` stays counted until the connection is
            // dropped or the emulator stops.
            return std::future::pending().await;
        }
        let outcome = self.apply(op, route, query, body, &knobs);
        if let Outcome::Hang = outcome {
            return std::future::pending().await;
        }
        outcome
    }

    /// Faults, then the operation, then the fault after it; counts the answer.
    fn apply(
        &self,
        op: Operation,
        route: &Route,
        query: Option<&str>,
        body: &Bytes,
        knobs: &Knobs,
    ) -> Outcome {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let counters = inner.counters.entry(op.as_str().to_owned()).or_default();
        if draw(&mut inner.rng, knobs.fault_rate) {
            counters.faults += 1;
            return Outcome::Answer(
                ApiError::new(
                    ErrorCode::InternalServerException,
                    "internal server error (injected by fault_rate)",
                )
                .into_response(),
            );
        }
        let ctx = Context {
            region: &self.shared.region,
            account: &self.shared.account,
            now: self.shared.clock.epoch_seconds(),
            knobs,
        };
        match api::execute(&mut inner.store, route, query, body, &ctx) {
            Ok(value) => {
                if draw(&mut inner.rng, knobs.fault_after_rate) {
                    counters.faults += 1;
                    Outcome::Answer(
                        ApiError::new(
                            ErrorCode::InternalServerException,
                            "internal server error (injected by fault_after_rate, the change was applied)",
                        )
                        .into_response(),
                    )
                } else {
                    counters.ok += 1;
                    Outcome::Answer((StatusCode::OK, axum::Json(value)).into_response())
                }
            }
            Err(Failure::Api(error)) => {
                counters.errors += 1;
                Outcome::Answer(error.into_response())
            }
            Err(Failure::Hang) => Outcome::Hang,
        }
    }
}

/// A `200` streaming `mib` MiB of JSON-looking text, without a `Content-Length`.
fn huge_body(mib: u64) -> Response {
    struct Huge {
        left: u64,
    }
    impl axum::body::HttpBody for Huge {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            const CHUNK: &[u8] = &[b' '; 64 * 1024];
            if self.left == 0 {
                return std::task::Poll::Ready(None);
            }
            self.left -= 1;
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(CHUNK)))))
        }
    }
    let mut response = Response::new(axum::body::Body::new(Huge { left: mib * 16 }));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn signed(State(emulator): State<Emulator>, request: Request) -> Response {
    match emulator.handle_signed(request).await {
        Outcome::Answer(response) => emulator.with_request_id(response),
        Outcome::Hang => std::future::pending().await,
    }
}

async fn admin_state(State(emulator): State<Emulator>) -> Response {
    axum::Json(emulator.snapshot()).into_response()
}

async fn admin_knobs(State(emulator): State<Emulator>) -> Response {
    axum::Json(emulator.knobs()).into_response()
}

async fn admin_put_knobs(State(emulator): State<Emulator>, body: Bytes) -> Response {
    let patch: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(patch) => patch,
        Err(e) => {
            return ApiError::validation(format!("the knobs update is not valid json: {e}"))
                .into_response();
        }
    };
    match emulator.update_knobs(&patch) {
        Ok(knobs) => axum::Json(knobs).into_response(),
        Err(e) => ApiError::validation(e.to_string()).into_response(),
    }
}

async fn admin_reset(State(emulator): State<Emulator>, body: Bytes) -> Response {
    let seed = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let text = String::from_utf8_lossy(&body);
        match Seed::from_json(&text) {
            Ok(seed) => Some(seed),
            Err(e) => return seed_error(&e),
        }
    };
    match emulator.reset(seed.as_ref()) {
        Ok(()) => axum::Json(emulator.snapshot()).into_response(),
        Err(e) => seed_error(&e),
    }
}

fn seed_error(error: &SeedError) -> Response {
    let mut message = error.to_string();
    if let Some(source) = std::error::Error::source(error) {
        message = format!("{message}: {source}");
    }
    ApiError::validation(message).into_response()
}

async fn admin_put_directories(State(emulator): State<Emulator>, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<SeedDirectory>>(&body) {
        Ok(directories) => {
            emulator.set_directories(directories);
            axum::Json(emulator.snapshot()).into_response()
        }
        Err(e) => ApiError::validation(format!(
            "the directories are not a JSON array of seed directories: {e}"
        ))
        .into_response(),
    }
}

async fn admin_reset_counters(State(emulator): State<Emulator>) -> Response {
    emulator.reset_counters();
    axum::Json(emulator.snapshot()).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn draws_at_zero_and_one_are_certain() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert!(!draw(&mut rng, 0.0));
        assert!(draw(&mut rng, 1.0));
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let mut a = fastrand::Rng::with_seed(42);
        let mut b = fastrand::Rng::with_seed(42);
        let first: Vec<bool> = (0..32).map(|_| draw(&mut a, 0.5)).collect();
        let second: Vec<bool> = (0..32).map(|_| draw(&mut b, 0.5)).collect();
        assert_eq!(first, second);
        assert!(first.iter().any(|hit| *hit) && first.iter().any(|hit| !*hit));
    }

    #[test]
    fn admission_stops_at_the_limit_and_records_the_maximum() {
        let emulator = Emulator::new(&Options::default()).unwrap();
        let first = emulator.admit(Some(2));
        let second = emulator.admit(Some(2));
        assert!(first.is_some() && second.is_some());
        assert!(emulator.admit(Some(2)).is_none());
        drop(first);
        assert!(emulator.admit(Some(2)).is_some());
        let snapshot = emulator.snapshot();
        assert_eq!(snapshot.max_in_flight, 2);
        assert_eq!(snapshot.in_flight, 1);
    }
}
