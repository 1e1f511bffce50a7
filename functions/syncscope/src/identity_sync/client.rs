//! The identity-sync client: SigV4 signing, timeouts, retries and call counters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde::Serialize;
use syncscope_core::scope::{CurrentFilter, FilterKind};
use tokio::time::Instant;

use super::IdentitySyncError;
use super::wire::{self, Operation};
use crate::retry::{self, GaveUp, Step};

/// Timeouts and retry settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Longest a single attempt may take.
    pub request_timeout: Duration,
    /// Longest a TCP/TLS connect may take.
    pub connect_timeout: Duration,
    /// Most attempts per call (the first included).
    pub max_attempts: u32,
    /// First backoff cap; doubles per retry (full jitter below it).
    pub base_backoff: Duration,
    /// Largest backoff cap.
    pub max_backoff: Duration,
    /// No attempt starts with less time than this left before the deadline.
    pub min_attempt_time: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_attempts: 8,
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            min_attempt_time: Duration::from_millis(500),
        }
    }
}

/// Calls made per operation, with retries counted apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    /// First attempts per operation (one per logical call).
    pub calls: BTreeMap<&'static str, u64>,
    /// Further attempts per operation.
    pub retries: BTreeMap<&'static str, u64>,
}

impl CallStats {
    /// First attempts of one operation.
    pub fn calls_of(&self, op: Operation) -> u64 {
        self.calls.get(op.name()).copied().unwrap_or(0)
    }

    /// All retries together.
    pub fn total_retries(&self) -> u64 {
        self.retries.values().sum()
    }
}

#[derive(Default)]
struct Counters {
    calls: [AtomicU64; Operation::ALL.len()],
    retries: [AtomicU64; Operation::ALL.len()],
}

fn op_index(op: Operation) -> usize {
    Operation::ALL.iter().position(|o| *o == op).unwrap_or(0)
}

/// One answer of the service, as it came (see [`IdentitySyncClient::exchange`]).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP status.
    pub status: u16,
    /// The `x-amzn-ErrorType` header, if any.
    pub error_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Every filter of a profile, and how many pages it took.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// Groups first, then users, each in the order the API listed them.
    pub filters: Vec<CurrentFilter>,
    /// ListSyncFilters pages read (first attempts).
    pub pages: usize,
}

/// A signed client for the identity-sync API. Cheap to share by reference; clones
/// share the HTTP connection pool and the call counters, except [`Self::for_run`]'s,
/// which count one run's calls alone.
#[derive(Clone)]
pub struct IdentitySyncClient {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: Arc<CachedCredentials>,
    options: ClientOptions,
    counters: Arc<Counters>,
}

/// Credentials loaded once and reused until five minutes before they expire (15
/// minutes for credentials without an expiry), as the AWS SDK's own identity cache
/// does. The raw provider chain would resolve them again for every request: for an
/// SSO profile on a laptop that is a portal call per identity-sync request.
#[derive(Debug)]
pub struct CachedCredentials {
    provider: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<(Credentials, SystemTime)>>,
}

impl CachedCredentials {
    /// Refresh this long before the credentials expire.
    const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
    /// How long credentials without an expiry are kept.
    const NO_EXPIRY_TTL: Duration = Duration::from_secs(15 * 60);

    /// A cache in front of `provider`.
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        Self {
            provider,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached credentials, loading them (once, whoever else waits) when there are
    /// none or they are about to expire.
    pub async fn get(&self) -> Result<Credentials, CredentialsError> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some((credentials, refresh_at)) = cached.as_ref()
            && now < *refresh_at
        {
            return Ok(credentials.clone());
        }
        let credentials = self.provider.provide_credentials().await?;
        let refresh_at = match credentials.expiry() {
            Some(expiry) => expiry
                .checked_sub(Self::REFRESH_BEFORE)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            None => now + Self::NO_EXPIRY_TTL,
        };
        *cached = Some((credentials.clone(), refresh_at));
        Ok(credentials)
    }
}

impl std::fmt::Debug for IdentitySyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySyncClient")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The endpoint for a region, honouring the AWS SDK override variables.
pub fn resolve_endpoint(region: &str, env: impl Fn(&str) -> Option<String>) -> String {
    let ignore = env(wire::IGNORE_ENDPOINTS_ENV).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !ignore {
        for name in wire::ENDPOINT_ENV {
            if let Some(url) = env(name).filter(|u| !u.trim().is_empty()) {
                return url.trim().trim_end_matches('/').to_owned();
            }
        }
    }
    wire::endpoint_for(region)
}

impl IdentitySyncClient {
    /// A client for `endpoint` (no trailing slash) in `region`.
    pub fn new(
        endpoint: impl Into<String>,
        region: impl Into<String>,
        credentials: SharedCredentialsProvider,
        options: ClientOptions,
    ) -> Result<Self, reqwest::Error> {
        let http = crate::http::client(options.connect_timeout, None)?;
        Ok(Self {
            http,
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            region: region.into(),
            credentials: Arc::new(CachedCredentials::new(credentials)),
            options,
            counters: Arc::default(),
        })
    }

    /// A client for `region` at `endpoint`, with the AWS SDK config's credential
    /// chain: how the Lambda and the CLI build theirs.
    pub fn from_sdk_config(
        config: &aws_config::SdkConfig,
        region: &str,
        endpoint: String,
    ) -> Result<Self, String> {
        let credentials = config
            .credentials_provider()
            .ok_or("no AWS credentials provider configured")?;
        Self::new(endpoint, region, credentials, ClientOptions::default())
            .map_err(|e| format!("cannot build the identity-sync client: {e}"))
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// No attempt starts with less than this left before a deadline.
    pub fn min_attempt_time(&self) -> Duration {
        self.options.min_attempt_time
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// A client sharing this one's connections, with counters of its own: the calls
    /// and retries a run reports are that run's, also on a warm Lambda.
    pub fn for_run(&self) -> Self {
        Self {
            counters: Arc::default(),
            ..self.clone()
        }
    }

    /// Calls made so far by this client.
    pub fn stats(&self) -> CallStats {
        let mut stats = CallStats::default();
        for (i, op) in Operation::ALL.iter().enumerate() {
            let calls = self.counters.calls[i].load(Ordering::Relaxed);
            let retries = self.counters.retries[i].load(Ordering::Relaxed);
            if calls > 0 {
                stats.calls.insert(op.name(), calls);
            }
            if retries > 0 {
                stats.retries.insert(op.name(), retries);
            }
        }
        stats
    }

    /// Every filter of both kinds in `profile` (the two kinds are listed concurrently).
    pub async fn list_filters(
        &self,
        profile: &str,
        deadline: Instant,
    ) -> Result<Listing, IdentitySyncError> {
        let (groups, users) = tokio::join!(
            self.list_kind(profile, FilterKind::Group, deadline),
            self.list_kind(profile, FilterKind::User, deadline),
        );
        let (mut filters, group_pages) = groups?;
        let (users, user_pages) = users?;
        filters.extend(users);
        Ok(Listing {
            filters,
            pages: group_pages + user_pages,
        })
    }

    async fn list_kind(
        &self,
        profile: &str,
        kind: FilterKind,
        deadline: Instant,
    ) -> Result<(Vec<CurrentFilter>, usize), IdentitySyncError> {
        let mut filters = Vec::new();
        let mut token: Option<String> = None;
        // Every token seen: a service that cycles through any number of them would
        // otherwise be listed until the deadline.
        let mut seen = std::collections::HashSet::new();
        let mut pages = 0;
        loop {
            let request = wire::list_sync_filters(profile, kind, token.as_deref());
            let body = self.send(&request, deadline).await?;
            pages += 1;
            let (page, next) = wire::parse_list_page(&body, kind).map_err(|message| {
                IdentitySyncError::Decode {
                    what: request.what.clone(),
                    message,
                }
            })?;
            filters.extend(page);
            match next {
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(IdentitySyncError::Decode {
                        what: request.what,
                        message: format!(
                            "the service returned a NextToken it had returned before (page {pages} of the {} filters of profile {profile}): the listing would never end",
                            kind.noun()
                        ),
                    });
                }
                Some(next) => token = Some(next),
                None => return Ok((filters, pages)),
            }
        }
    }

    /// Creates a filter; the new id when the answer carries one. Every error is
    /// returned, an "already exists" one too: the executor settles failed changes from
    /// a listing rather than trusting an undocumented error code.
    pub async fn create_filter(
        &self,
        profile: &str,
        kind: FilterKind,
        domain: &str,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<String>, IdentitySyncError> {
        let request = wire::create_sync_filter(profile, kind, domain, name);
        let body = self.send(&request, deadline).await?;
        Ok(wire::parse_created_id(&body))
    }

    /// Deletes a filter. Every error is returned, a "not found" one too (see
    /// [`Self::create_filter`]).
    pub async fn delete_filter(
        &self,
        profile: &str,
        id: &str,
        label: &str,
        deadline: Instant,
    ) -> Result<(), IdentitySyncError> {
        let request = wire::delete_sync_filter(profile, id, label);
        self.send(&request, deadline).await.map(drop)
    }

    /// Reads what a GET request names (a profile, a target: `wire::get_sync_*`);
    /// `Ok(None)` if it does not exist.
    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        request: &wire::Request,
        deadline: Instant,
    ) -> Result<Option<T>, IdentitySyncError> {
        match self
            .send_unless(request, deadline, wire::is_not_found)
            .await?
        {
            Some(body) => decode(request, &body).map(Some),
            None => Ok(None),
        }
    }

    /// Sends a request; `Ok(None)` when the service answers an error `expected`
    /// says means "already so" (exists on create, gone on delete or read).
    async fn send_unless(
        &self,
        request: &wire::Request,
        deadline: Instant,
        expected: fn(u16, &str) -> bool,
    ) -> Result<Option<Vec<u8>>, IdentitySyncError> {
        match self.send(request, deadline).await {
            Ok(body) => Ok(Some(body)),
            Err(IdentitySyncError::Service { status, code, .. }) if expected(status, &code) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends a request that answers with what it made (`wire::create_sync_*`).
    pub async fn post<T: serde::de::DeserializeOwned>(
        &self,
        request: &wire::Request,
        deadline: Instant,
    ) -> Result<T, IdentitySyncError> {
        let body = self.send(request, deadline).await?;
        decode(request, &body)
    }

    /// Sends a request with retries until it succeeds, fails for good, or no attempt
    /// can finish before `deadline`. Returns the body of a 2xx answer. Throttling asks
    /// to slow down, not to give up: it is retried until the deadline; faults and
    /// timeouts get `max_attempts`.
    pub async fn send(
        &self,
        request: &wire::Request,
        deadline: Instant,
    ) -> Result<Vec<u8>, IdentitySyncError> {
        let index = op_index(request.operation);
        let policy = retry::Policy {
            max_attempts: self.options.max_attempts,
            base: self.options.base_backoff,
            max: self.options.max_backoff,
            jitter: true,
            min_attempt_time: self.options.min_attempt_time,
        };
        let attempt = |number: u32| async move {
            let counter = if number == 1 {
                &self.counters.calls
            } else {
                &self.counters.retries
            };
            counter[index].fetch_add(1, Ordering::Relaxed);
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self
                .attempt(request, remaining.min(self.options.request_timeout))
                .await
            {
                Ok((status, body)) if (200..300).contains(&status) => Step::Done(body.0),
                Ok((status, body)) => {
                    let (code, mut message) = wire::parse_error(body.1.as_deref(), &body.0);
                    if !wire::has_error_code(body.1.as_deref(), &body.0) {
                        message = format!(
                            "HTTP {status} from {}, an answer without an AWS error code (is the endpoint identity-sync's?)",
                            crate::http::host_of(&self.endpoint)
                        );
                    }
                    let retryable = wire::is_retryable(status, &code);
                    let unlimited = wire::is_throttling(status, &code);
                    let error = IdentitySyncError::Service {
                        what: request.what.clone(),
                        status,
                        code,
                        message,
                    };
                    if retryable {
                        Step::Retry {
                            error,
                            after: None,
                            unlimited,
                        }
                    } else {
                        Step::Fail(error)
                    }
                }
                Err(error @ IdentitySyncError::Transport { .. }) => Step::retry(error),
                Err(error) => Step::Fail(error),
            }
        };
        let on_retry = |attempt: u32, wait: Duration, error: &IdentitySyncError| {
            tracing::debug!(operation = request.operation.name(), attempt, backoff_ms = wait.as_millis() as u64, reason = %error, "retrying");
        };
        retry::run(&policy, deadline, attempt, on_retry)
            .await
            .map_err(|gave_up| match gave_up {
                GaveUp::Failed { error, .. } | GaveUp::Exhausted { last: error, .. } => error,
                GaveUp::OutOfTime { last, attempts } => IdentitySyncError::Deadline {
                    what: request.what.clone(),
                    attempts,
                    last: last.map(Box::new),
                },
            })
    }

    /// One signed attempt, no retries, for diagnostics (`syncscope doctor`): the
    /// answer as it came, whatever its status.
    pub async fn exchange(
        &self,
        request: &wire::Request,
        timeout: Duration,
    ) -> Result<Exchange, IdentitySyncError> {
        let (status, (body, error_type)) = self.attempt(request, timeout).await?;
        Ok(Exchange {
            status,
            error_type,
            body,
        })
    }

    /// One signed attempt: the status, and the body plus the error-type header.
    async fn attempt(
        &self,
        request: &wire::Request,
        timeout: Duration,
    ) -> Result<(u16, (Vec<u8>, Option<String>)), IdentitySyncError> {
        let url = format!("{}{}", self.endpoint, request.path_and_query());
        let body = request.body.clone().unwrap_or_default();
        let credentials =
            self.credentials
                .get()
                .await
                .map_err(|e| IdentitySyncError::Credentials {
                    what: request.what.clone(),
                    message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
                })?;
        let identity: Identity = credentials.into();

        let mut headers: Vec<(&str, &str)> = Vec::new();
        if request.body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let build_error = |message: String| IdentitySyncError::Request {
            what: request.what.clone(),
            message,
        };
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(wire::SIGNING_NAME)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| build_error(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            request.method.as_str(),
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| build_error(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| build_error(e.to_string()))?
            .into_parts();

        let method = match request.method {
            wire::Method::Get => reqwest::Method::GET,
            wire::Method::Post => reqwest::Method::POST,
            wire::Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.http.request(method, &url).timeout(timeout);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        for (name, value) in instructions.headers() {
            builder = builder.header(name, value);
        }
        if request.body.is_some() {
            builder = builder.body(body);
        }
        let transport = |e: reqwest::Error| IdentitySyncError::Transport {
            what: request.what.clone(),
            source: e.without_url(),
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get(wire::ERROR_TYPE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let too_large = || IdentitySyncError::Decode {
            what: request.what.clone(),
            message: format!(
                "the answer is larger than {MAX_BODY_BYTES} bytes, the most syncscope reads from identity-sync (a page of filters is a few kilobytes): is the endpoint identity-sync?"
            ),
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut response = response;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, (bytes, error_type)))
    }
}

/// The most bytes read of one identity-sync answer: a page of at most 100 filters (or
/// an error) is kilobytes; a larger answer is not identity-sync's and must not fill the
/// function's memory.
pub const MAX_BODY_BYTES: usize = 4 << 20;

fn decode<T: serde::de::DeserializeOwned>(
    request: &wire::Request,
    body: &[u8],
) -> Result<T, IdentitySyncError> {
    serde_json::from_slice(body).map_err(|e| IdentitySyncError::Decode {
        what: request.what.clone(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the loads and hands out credentials expiring `expires_in` from now.
    #[derive(Debug)]
    struct Counting {
        loads: Arc<AtomicU64>,
        expires_in: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.loads.fetch_add(1, Ordering::SeqCst);
            let expiry = self.expires_in.map(|d| SystemTime::now() + d);
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                None,
                expiry,
                "counting",
            )))
        }
    }

    fn cache(expires_in: Option<Duration>) -> (CachedCredentials, Arc<AtomicU64>) {
        let loads = Arc::new(AtomicU64::new(0));
        let provider = Counting {
            loads: loads.clone(),
            expires_in,
        };
        (
            CachedCredentials::new(SharedCredentialsProvider::new(provider)),
            loads,
        )
    }

    #[tokio::test]
    async fn credentials_load_once_and_again_only_when_about_to_expire() {
        for expires_in in [None, Some(Duration::from_secs(3600))] {
            let (cache, loads) = cache(expires_in);
            for _ in 0..50 {
                assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID0");
            }
            assert_eq!(loads.load(Ordering::SeqCst), 1, "{expires_in:?}");
        }
        // Expiring within the refresh margin: every request loads fresh ones.
        let (cache, loads) = cache(Some(Duration::from_secs(60)));
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID0");
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID1");
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn endpoint_overrides_follow_the_sdk_rules() {
        let general = ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
        let specific = ("AWS_ENDPOINT_URL_IDENTITY_SYNC", "http://127.0.0.1:9000/");
        let ignore = ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        for (vars, expected) in [
            (&[specific, general][..], "http://127.0.0.1:9000"),
            (&[general][..], "http://127.0.0.1:5000"),
            (
                &[general, ignore][..],
                "https://identity-sync.eu-central-1.amazonaws.com",
            ),
        ] {
            let env = crate::env_of(vars);
            assert_eq!(resolve_endpoint("eu-central-1", env), expected);
        }
    }
}
