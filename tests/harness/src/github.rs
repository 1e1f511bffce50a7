//! A stand-in for the few GitHub REST calls the plan-and-comment script makes: list a
//! pull request's issue comments (paginated, with a `Link` header), create one, update
//! one. It keeps the comments, records every request with its `Authorization` header,
//! and can be told to fail. It binds 127.0.0.1 and stops when dropped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// One issue comment the stand-in holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment id.
    pub id: u64,
    /// The pull request (issue) number.
    pub issue: u64,
    /// The body.
    pub body: String,
    /// Who wrote it.
    pub user: String,
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// A scripted failure: every request whose method is `method` (or every request when
/// `None`) answers `status` with a body that echoes the request's `Authorization`
/// header, as a careless proxy or API error page might.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Only this method fails (`None`: all).
    pub method: Option<String>,
    /// The status answered.
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    comments: Vec<Comment>,
    requests: Vec<Request>,
    next_id: u64,
    failure: Option<Failure>,
    /// Where `Link: rel="next"` points (default: this server).
    link_base: Option<String>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    page_size: usize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running stand-in. Stops when dropped.
pub struct GitHubApi {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Shared,
    stop: Option<oneshot::Sender<()>>,
}

fn comment_json(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": { "login": c.user },
        "html_url": format!("https://github.example/pull/{}#issuecomment-{}", c.issue, c.id),
    })
}

/// Records the request; answers the scripted failure when it applies.
fn record(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = shared.lock();
    inner.requests.push(Request {
        method: method.to_string(),
        uri: uri.to_string(),
        authorization: authorization.clone(),
    });
    let failure = inner.failure.clone()?;
    if failure
        .method
        .as_deref()
        .is_some_and(|m| m != method.as_str())
    {
        return None;
    }
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "message": format!(
            "Bad credentials: {}",
            authorization.as_deref().unwrap_or("(none)")
        ),
        "documentation_url": "https://docs.github.com/rest",
    });
    Some((status, Json(body)).into_response())
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn list(
    State(shared): State<Shared>,
    Path((_owner, _repo, issue)): Path<(String, String, u64)>,
    Query(query): Query<PageQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(failed) = record(&shared, &method, &uri, &headers) {
        return failed;
    }
    let inner = shared.lock();
    let all: Vec<&Comment> = inner.comments.iter().filter(|c| c.issue == issue).collect();
    let page = query.page.unwrap_or(1).max(1);
    let pages = all.len().div_ceil(shared.page_size).max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * shared.page_size)
        .take(shared.page_size)
        .map(|c| comment_json(c))
        .collect();
    let mut response = Json(Value::Array(items)).into_response();
    if page < pages {
        let base = inner
            .link_base
            .clone()
            .unwrap_or_else(|| format!("http://{}", shared.addr));
        let path = uri.path();
        let link = format!(
            "<{base}{path}?per_page={size}&page={next}>; rel=\"next\", <{base}{path}?per_page={size}&page={pages}>; rel=\"last\"",
            size = shared.page_size,
            next = page + 1,
        );
        if let Ok(v) = link.parse() {
            response.headers_mut().insert("link", v);
        }
    }
    response
}

async fn create(
    State(shared): State<Shared>,
    Path((_owner, _repo, issue)): Path<(String, String, u64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(payload): Json<Value>,
) -> Response {
    if let Some(failed) = record(&shared, &method, &uri, &headers) {
        return failed;
    }
    let mut inner = shared.lock();
    inner.next_id += 1;
    let comment = Comment {
        id: inner.next_id,
        issue,
        body: payload["body"].as_str().unwrap_or_default().to_owned(),
        user: "github-actions[bot]".to_owned(),
    };
    inner.comments.push(comment.clone());
    (StatusCode::CREATED, Json(comment_json(&comment))).into_response()
}

async fn update(
    State(shared): State<Shared>,
    Path((_owner, _repo, id)): Path<(String, String, u64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(payload): Json<Value>,
) -> Response {
    if let Some(failed) = record(&shared, &method, &uri, &headers) {
        return failed;
    }
    let mut inner = shared.lock();
    let Some(comment) = inner.comments.iter_mut().find(|c| c.id == id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
    };
    payload["body"]
        .as_str()
        .unwrap_or_default()
        .clone_into(&mut comment.body);
    let answer = comment_json(comment);
    (StatusCode::OK, Json(answer)).into_response()
}

async fn unknown(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(failed) = record(&shared, &method, &uri, &headers) {
        return failed;
    }
    (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response()
}

impl GitHubApi {
    /// Starts a stand-in that lists `page_size` comments per page (GitHub: up to 100).
    pub fn start(page_size: usize) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            inner: Arc::new(Mutex::new(Inner {
                next_id: 1000,
                ..Inner::default()
            })),
            addr,
            page_size: page_size.max(1),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let app = axum::Router::new()
            .route(
                "/repos/{owner}/{repo}/issues/{issue}/comments",
                get(list).post(create),
            )
            .route("/repos/{owner}/{repo}/issues/comments/{id}", patch(update))
            .fallback(unknown)
            .with_state(shared.clone());
        crate::spawn_server("github-api", async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        })?;
        Ok(Self {
            addr,
            shared,
            stop: Some(stop),
        })
    }

    /// The API's base URL (what `GITHUB_API_URL` is set to).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a comment (someone else's, or an earlier run's) and returns its id.
    pub fn add_comment(&self, issue: u64, user: &str, body: &str) -> u64 {
        let mut inner = self.shared.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.comments.push(Comment {
            id,
            issue,
            body: body.to_owned(),
            user: user.to_owned(),
        });
        id
    }

    /// The comments of `issue`, oldest first.
    pub fn comments(&self, issue: u64) -> Vec<Comment> {
        let inner = self.shared.lock();
        inner
            .comments
            .iter()
            .filter(|c| c.issue == issue)
            .cloned()
            .collect()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests (the comments stay).
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// From now on, fail as `failure` says (`None`: answer normally again).
    pub fn fail(&self, failure: Option<Failure>) {
        self.shared.lock().failure = failure;
    }

    /// Makes `Link: rel="next"` point at `base` (e.g. another host) instead of here.
    pub fn link_base(&self, base: Option<String>) {
        self.shared.lock().link_base = base;
    }
}

impl Drop for GitHubApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
