//! An HTTP sink: records every request and answers with scripted statuses.
//!
//! It stands in for the Teams webhook and for CloudFormation's presigned ResponseURL.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers, lowercased names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Optional `Retry-After` seconds.
    pub retry_after: Option<u64>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Body.
    pub body: String,
    /// Optional `Location` (a redirect).
    pub location: Option<String>,
}

impl Reply {
    /// A plain status.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            delay: Duration::ZERO,
            body: String::new(),
            location: None,
        }
    }

    /// A redirect to `url` (`status` 301, 302, 307 or 308).
    pub fn redirect(status: u16, url: impl Into<String>) -> Self {
        Self {
            location: Some(url.into()),
            ..Self::status(status)
        }
    }

    /// With a `Retry-After` header of `seconds`.
    pub fn retry_after(self, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..self
        }
    }

    /// Answered after `delay`.
    pub fn delayed(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }

    /// With this body.
    pub fn body(self, body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            ..self
        }
    }
}

#[derive(Default)]
struct Inner {
    recorded: Vec<Recorded>,
    script: VecDeque<Reply>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    default: Reply,
}

/// A running sink. Stops when dropped.
pub struct Sink {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    stop: Option<oneshot::Sender<()>>,
}

async fn record(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.recorded.push(Recorded {
            method: method.to_string(),
            uri: uri.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        v.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        });
        inner
            .script
            .pop_front()
            .unwrap_or_else(|| shared.default.clone())
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body).into_response();
    if let Some(secs) = reply.retry_after
        && let Ok(v) = secs.to_string().parse()
    {
        response.headers_mut().insert("retry-after", v);
    }
    if let Some(location) = reply.location.as_deref()
        && let Ok(v) = location.parse()
    {
        response.headers_mut().insert("location", v);
    }
    response
}

impl Sink {
    /// Starts a sink answering `default_status` unless scripted otherwise.
    pub fn start(default_status: u16) -> std::io::Result<Self> {
        Self::answering(Reply::status(default_status))
    }

    /// Starts a sink answering `default` unless scripted otherwise.
    pub fn answering(default: Reply) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = Shared {
            inner: inner.clone(),
            default,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        crate::spawn_server("sink", async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let app = axum::Router::new().fallback(record).with_state(shared);
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        })?;
        Ok(Self {
            addr,
            inner,
            stop: Some(stop),
        })
    }

    /// A URL on this sink.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// Answers the next requests with these replies, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().recorded.clone()
    }

    /// Forgets recorded requests.
    pub fn clear(&self) {
        self.lock().recorded.clear();
    }

    /// Waits until at least `n` requests arrived (or the timeout passed).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let until = std::time::Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n || std::time::Instant::now() > until {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
