//! The Lambda Runtime API (2018-06-01), served on 127.0.0.1 so the real Lambda binary
//! can be driven the way Lambda drives it: `next` long-polls for an event, then the
//! function posts a `response` or an `error` for that request id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended, as the Runtime API saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// The handler returned this value.
    Response(Value),
    /// The handler (or the runtime) reported this error.
    Error(Value),
    /// Nothing came back in time.
    NoAnswer,
}

/// One finished invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: String,
    /// How it ended.
    pub ended: Ended,
}

struct Pending {
    id: String,
    event: Value,
    deadline_ms: u64,
}

#[derive(Clone)]
struct Shared {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
    waiting: Arc<Mutex<HashMap<String, std_mpsc::Sender<Ended>>>>,
    init_errors: Arc<Mutex<Vec<Value>>>,
    polls: Arc<Mutex<Vec<std::time::Instant>>>,
}

/// A running Runtime API. Stops when dropped.
pub struct RuntimeApi {
    /// Where it listens (`AWS_LAMBDA_RUNTIME_API` is `127.0.0.1:PORT`).
    pub addr: SocketAddr,
    queue: mpsc::UnboundedSender<Pending>,
    shared: Shared,
    counter: AtomicU64,
    stop: Option<oneshot::Sender<()>>,
}

async fn next(State(shared): State<Shared>) -> Response {
    shared
        .polls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(std::time::Instant::now());
    let pending = shared.queue.lock().await.recv().await;
    let Some(p) = pending else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    };
    put("lambda-runtime-aws-request-id", p.id);
    put("lambda-runtime-deadline-ms", p.deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-central-1:123456789012:function:syncscope".into(),
    );
    put(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    put("content-type", "application/json".into());
    (StatusCode::OK, headers, p.event.to_string()).into_response()
}

fn finish(shared: &Shared, id: &str, ended: Ended) -> StatusCode {
    let sender = shared
        .waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id);
    match sender {
        Some(tx) => {
            let _ = tx.send(ended);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&shared, &id, Ended::Response(parse(&body)))
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&shared, &id, Ended::Error(parse(&body)))
}

async fn init_error(State(shared): State<Shared>, body: Bytes) -> StatusCode {
    shared
        .init_errors
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(parse(&body));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    /// Starts the API on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (queue, rx) = mpsc::unbounded_channel();
        let shared = Shared {
            queue: Arc::new(tokio::sync::Mutex::new(rx)),
            waiting: Arc::default(),
            init_errors: Arc::default(),
            polls: Arc::default(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let state = shared.clone();
        crate::spawn_server("runtime-api", async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let app = axum::Router::new()
                .route("/2018-06-01/runtime/invocation/next", get(next))
                .route(
                    "/2018-06-01/runtime/invocation/{id}/response",
                    post(response),
                )
                .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
                .route("/2018-06-01/runtime/init/error", post(init_error))
                .with_state(state);
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        })?;
        Ok(Self {
            addr,
            queue,
            shared,
            counter: AtomicU64::new(0),
            stop: Some(stop),
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Delivers `event` with a deadline `timeout` from now and waits for the function's
    /// answer (up to the timeout plus `grace`).
    pub fn invoke(&self, event: Value, timeout: Duration, grace: Duration) -> Invocation {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let id = format!("req-{n:04}-{:08x}", fastrand::u32(..));
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let (tx, rx) = std_mpsc::channel();
        self.shared
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        let _ = self.queue.send(Pending {
            id: id.clone(),
            event,
            deadline_ms: now_ms + timeout.as_millis() as u64,
        });
        let ended = rx.recv_timeout(timeout + grace).unwrap_or(Ended::NoAnswer);
        Invocation {
            request_id: id,
            ended,
        }
    }

    /// Waits for the first `next` poll (the end of the function's init) and returns
    /// when it arrived.
    pub fn first_poll(&self, timeout: Duration) -> Option<std::time::Instant> {
        let until = std::time::Instant::now() + timeout;
        loop {
            if let Some(first) = self
                .shared
                .polls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .first()
            {
                return Some(*first);
            }
            if std::time::Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Errors the function reported while starting.
    pub fn init_errors(&self) -> Vec<Value> {
        self.shared
            .init_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
