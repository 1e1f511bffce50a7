//! The CloudFormation responder: PUTs the response body to the presigned ResponseURL.
//!
//! One response per request: [`Responder::send`] consumes the responder, so a second
//! answer cannot be written. No Content-Type and an exact Content-Length (a content
//! type breaks the presigned signature), the status is checked, and 5xx and network
//! errors are retried with the [`crate::retry`] policy. The URL is a secret: it is
//! never logged, and errors are stripped of it.

use std::time::Duration;

use syncscope_core::cfn::{ResponseBody, render};
use tokio::time::Instant;

use crate::retry::{self, GaveUp, Step};

/// The policy of the PUT: 6 attempts, 200 ms doubling to 3 s.
const POLICY: retry::Policy = retry::Policy {
    max_attempts: 6,
    base: Duration::from_millis(200),
    max: Duration::from_secs(3),
    jitter: true,
    min_attempt_time: Duration::ZERO,
};
/// The PUT always gets this long, even past the deadline: an answer at all beats none.
const MIN_PUT_TIME: Duration = Duration::from_secs(2);
/// Longest one PUT may take (a hanging ResponseURL is abandoned and the body sent again).
const MAX_PUT_TIME: Duration = Duration::from_secs(10);

/// Why the response could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
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
        }
    }

    /// Sends `body` (at most 4,096 bytes after rendering), retrying 5xx and network
    /// errors until `deadline` (the first PUT is made even when the deadline is near).
    pub async fn send(self, body: ResponseBody, deadline: Instant) -> Result<u16, RespondError> {
        let status_word = format!("{:?}", body.status);
        let bytes = render(body).into_bytes();
        let deadline = deadline.max(Instant::now() + MIN_PUT_TIME);
        // A retryable failure is carried as the GaveUp it becomes if it is the last.
        let again = |attempts: u32, last: String| RespondError::GaveUp { attempts, last };
        let (http, url) = (self.http, self.url.as_str());
        let attempt = |attempts: u32| {
            let bytes = bytes.clone();
            async move {
                let timeout = deadline
                    .saturating_duration_since(Instant::now())
                    .clamp(MIN_PUT_TIME, MAX_PUT_TIME);
                match http.put(url).timeout(timeout).body(bytes).send().await {
                    Ok(response) if response.status().is_success() => {
                        Step::Done(response.status().as_u16())
                    }
                    Ok(response) if response.status().is_server_error() => Step::retry(again(
                        attempts,
                        format!("HTTP {}", response.status().as_u16()),
                    )),
                    Ok(response) => Step::Fail(RespondError::Refused {
                        status: response.status().as_u16(),
                    }),
                    Err(e) => Step::retry(again(attempts, e.without_url().to_string())),
                }
            }
        };
        let on_retry = |attempt: u32, _: Duration, last: &RespondError| {
            tracing::warn!(attempt, last = %last, "retrying the CloudFormation response");
        };
        match retry::run(&POLICY, deadline, attempt, on_retry).await {
            Ok(status) => {
                tracing::info!(status, outcome = %status_word, bytes = bytes.len(), "answered CloudFormation");
                Ok(status)
            }
            Err(GaveUp::Failed { error, .. }) => {
                tracing::error!(%error, "the CloudFormation response URL refused the response");
                Err(error)
            }
            Err(GaveUp::Exhausted { last, attempts })
            | Err(GaveUp::OutOfTime {
                last: Some(last),
                attempts,
            }) => {
                tracing::error!(attempts, last = %last, "could not deliver the CloudFormation response");
                Err(last)
            }
            Err(GaveUp::OutOfTime { last: None, .. }) => Err(RespondError::GaveUp {
                attempts: 0,
                last: "no time left".to_owned(),
            }),
        }
    }
}
