//! The CloudFormation responder: PUTs the response body to the presigned ResponseURL.
//!
//! Exactly one PUT per request (a once-guard refuses a second), no Content-Type and an
//! exact Content-Length (a content type breaks the presigned signature), the status is
//! checked, and 5xx and network errors are retried with backoff. The URL is a secret:
//! it is never logged, and errors are stripped of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use syncscope_core::cfn::{ResponseBody, render};
use tokio::time::Instant;

/// Why the response could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// A response was already sent for this request.
    #[error("a response was already sent for this request; the second one is dropped")]
    AlreadySent,
    /// The URL answered an error that retrying cannot fix (403: expired or forged URL).
    #[error("the response URL refused the response: HTTP {status}")]
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// Retries ran out.
    #[error("the response could not be delivered after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure, without the URL.
        last: String,
    },
}

/// Sends the one response of one request.
pub struct Responder<'a> {
    http: &'a reqwest::Client,
    url: String,
    sent: AtomicBool,
}

impl std::fmt::Debug for Responder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("url", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl<'a> Responder<'a> {
    /// A responder for one request's ResponseURL.
    pub fn new(http: &'a reqwest::Client, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
            sent: AtomicBool::new(false),
        }
    }

    /// Sends `body` (at most 4,096 bytes after rendering), retrying 5xx and network
    /// errors with backoff until `deadline`. A second call is refused.
    pub async fn send(&self, body: ResponseBody, deadline: Instant) -> Result<u16, RespondError> {
        if self.sent.swap(true, Ordering::SeqCst) {
            tracing::error!("refused a second CloudFormation response for the same request");
            return Err(RespondError::AlreadySent);
        }
        let status_word = format!("{:?}", body.status);
        let bytes = render(body).into_bytes();
        let mut attempt = 0u32;
        let mut backoff = Duration::from_millis(200);
        loop {
            attempt += 1;
            let timeout = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(2));
            let result = self
                .http
                .put(&self.url)
                .timeout(timeout.min(Duration::from_secs(10)))
                .body(bytes.clone())
                .send()
                .await;
            let last = match result {
                Ok(response) if response.status().is_success() => {
                    let status = response.status().as_u16();
                    tracing::info!(status, outcome = %status_word, bytes = bytes.len(), "answered CloudFormation");
                    return Ok(status);
                }
                Ok(response) if response.status().is_server_error() => {
                    format!("HTTP {}", response.status().as_u16())
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    tracing::error!(
                        status,
                        "the CloudFormation response URL refused the response"
                    );
                    return Err(RespondError::Refused { status });
                }
                Err(e) => e.without_url().to_string(),
            };
            let out_of_time = Instant::now() + backoff >= deadline && attempt > 1;
            if attempt >= 6 || out_of_time {
                tracing::error!(attempts = attempt, last = %last, "could not deliver the CloudFormation response");
                return Err(RespondError::GaveUp {
                    attempts: attempt,
                    last,
                });
            }
            tracing::warn!(attempt, last = %last, "retrying the CloudFormation response");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(3));
        }
    }
}
