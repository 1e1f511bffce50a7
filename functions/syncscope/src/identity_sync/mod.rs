//! The identity-sync adapter: a SigV4-signed REST-JSON client (the `sync-filters`
//! engine's; [`crate::executor`] applies a plan through it).
//!
//! - [`wire`]: every wire detail (paths, fields, error codes), nothing else.
//! - [`client`]: signing, timeouts, retries with backoff and full jitter, call counters.

pub mod client;
pub mod wire;

pub use client::{CallStats, ClientOptions, Exchange, IdentitySyncClient, Listing};

/// Why a call to the identity-sync API failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentitySyncError {
    /// The service answered with an error.
    #[error("failed to {what}: {code}: {message} (HTTP {status})")]
    Service {
        /// What the request was doing, naming the filter or profile.
        what: String,
        /// HTTP status.
        status: u16,
        /// The error code, e.g. `AccessDeniedException`.
        code: String,
        /// The service's message.
        message: String,
    },
    /// The request did not get an answer (connection, timeout).
    #[error("failed to {what}: {source}")]
    Transport {
        /// What the request was doing.
        what: String,
        /// The HTTP client's error, with the URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// Out of time: no attempt could start and finish before the deadline.
    #[error("failed to {what}: no time left before the deadline after {attempts} attempt(s){}", last.as_ref().map(|l| format!("; last error: {l}")).unwrap_or_default())]
    Deadline {
        /// What the request was doing.
        what: String,
        /// Attempts made.
        attempts: u32,
        /// The last error seen, if any attempt was made.
        last: Option<Box<IdentitySyncError>>,
    },
    /// No AWS credentials could be loaded.
    #[error("failed to {what}: no AWS credentials: {message}")]
    Credentials {
        /// What the request was doing.
        what: String,
        /// Why the credential chain failed.
        message: String,
    },
    /// The request could not be signed or built.
    #[error("failed to {what}: could not build the request: {message}")]
    Request {
        /// What the request was doing.
        what: String,
        /// Why.
        message: String,
    },
    /// The service answered 2xx with something we cannot read.
    #[error("failed to {what}: unexpected response: {message}")]
    Decode {
        /// What the request was doing.
        what: String,
        /// What was wrong with it.
        message: String,
    },
}

impl IdentitySyncError {
    /// A short reason for cards and the CloudFormation response: the code and message
    /// for service errors, the whole error otherwise.
    pub fn reason(&self) -> String {
        match self {
            Self::Service {
                code,
                message,
                status,
                ..
            } if message.is_empty() => {
                format!("{code} (HTTP {status})")
            }
            Self::Service { code, message, .. } => format!("{code}: {message}"),
            Self::Deadline {
                last: Some(last), ..
            } => {
                format!("deadline reached; last error: {}", last.reason())
            }
            Self::Deadline { .. } => "deadline reached before the call could be made".into(),
            Self::Transport { source, .. } => {
                if source.is_timeout() {
                    "timed out".into()
                } else {
                    format!("network error: {source}")
                }
            }
            other => other.to_string(),
        }
    }
}
