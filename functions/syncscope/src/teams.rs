//! The Teams notifier: resolves the webhook URL and posts a card to it.
//!
//! The URL is a password (its `sig=` is a signature): it is read from an SSM
//! SecureString (`ssm:/name`), a Secrets Manager secret (the secret string is the URL,
//! or JSON with a `url` / `webhookUrl` key), or, with a warning, a literal in the
//! properties. It lives only inside [`Webhook`], which has no `Display` and a redacted
//! `Debug`; reqwest errors are stripped of it with `without_url()`, and every text
//! that came back from the server is passed through [`Webhook::redact`] before it is
//! logged or reported.
//!
//! Any 2xx is success (Workflows answer 202; a legacy connector answered 200 with the
//! body `1`). Network errors, 429 and 5xx are retried with exponential backoff and
//! jitter, honouring `Retry-After` (seconds), until the attempts or the deadline run
//! out. A retry after a timeout may post the card twice; a missing card is worse.

use std::time::Duration;

use syncscope_core::names::{WebhookHosts, WebhookRef};
use tokio::time::Instant;

use crate::retry::{self, GaveUp, Step};
use crate::ssm::{ParameterStore, SsmError};

/// At most this many POSTs per card.
pub const MAX_ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(16);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const EXCERPT_CHARS: usize = 200;

/// Why the card was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The SSM parameter could not be read.
    #[error("could not read the Teams webhook from SSM: {0}")]
    Ssm(#[source] SsmError),
    /// The Secrets Manager secret could not be read or used.
    #[error("could not read the Teams webhook from Secrets Manager secret {arn}: {message}")]
    Secret {
        /// The secret's ARN.
        arn: String,
        /// What went wrong (never the value).
        message: String,
    },
    /// The stored value is not a usable URL.
    #[error("the Teams webhook stored in {source_name} is not usable: {why}")]
    BadUrl {
        /// Where it came from (parameter name or ARN, never the URL).
        source_name: String,
        /// Why (never the URL).
        why: String,
    },
    /// Teams refused the card and a retry would not help.
    #[error("Teams rejected the card: HTTP {status}{excerpt}")]
    Rejected {
        /// The status code.
        status: u16,
        /// `: ` and the start of the answer, redacted (or empty).
        excerpt: String,
    },
    /// A legacy connector answered 2xx but reported an error in its body.
    #[error("the Teams connector answered HTTP {status} but reported: {body}")]
    Legacy {
        /// The status code.
        status: u16,
        /// The start of the answer, redacted.
        body: String,
    },
    /// Every attempt failed.
    #[error("Teams did not accept the card after {attempts} attempt(s); last: {last}")]
    GaveUp {
        /// POSTs made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The deadline came first.
    #[error("no time left to deliver the card to Teams after {attempts} attempt(s); last: {last}")]
    OutOfTime {
        /// POSTs made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// The resolved webhook URL. Never printed: `Debug` is redacted, there is no `Display`.
#[derive(Clone)]
pub struct Webhook {
    url: reqwest::Url,
    raw: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook({}://<redacted>)", self.url.scheme())
    }
}

impl Webhook {
    /// Checks a URL: https to a host `hosts` allows (with the `test-hooks` feature, also
    /// http to a loopback address, for local sinks). The error never repeats the URL
    /// (it names the host, which is no secret).
    pub fn parse(raw: &str, hosts: &WebhookHosts) -> Result<Self, String> {
        let raw = raw.trim();
        let url = reqwest::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
        let loopback = url.host_str().is_some_and(crate::trust::is_test_loopback);
        let host = url.host_str().unwrap_or_default();
        match url.scheme() {
            _ if loopback => {}
            "https" if host.is_empty() => return Err("must be an https URL with a host".to_owned()),
            "https" if !hosts.allows(host) => return Err(hosts.refusal(host)),
            "https" => {}
            "http" => return Err("must use https".to_owned()),
            _ => return Err("must be an https URL with a host".to_owned()),
        }
        Ok(Self {
            url,
            raw: raw.to_owned(),
        })
    }

    /// Removes the URL, its query, its query values and long path segments from `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut secrets: Vec<String> = vec![self.raw.clone(), self.url.as_str().to_owned()];
        if let Some(query) = self.url.query() {
            secrets.push(query.to_owned());
        }
        for (_, value) in self.url.query_pairs() {
            if value.len() >= 4 {
                secrets.push(value.into_owned());
            }
        }
        for (_, value) in form_pairs_raw(self.url.query().unwrap_or_default()) {
            if value.len() >= 4 {
                secrets.push(value);
            }
        }
        for segment in self.url.path_segments().into_iter().flatten() {
            if segment.len() >= 16 {
                secrets.push(segment.to_owned());
            }
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            out = out.replace(secret.as_str(), "<redacted>");
        }
        out
    }
}

/// Query values as written (percent-encoded), to redact them in either form.
fn form_pairs_raw(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// How a card was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The final status code.
    pub status: u16,
    /// POSTs made.
    pub attempts: u32,
}

/// Resolves webhooks and posts cards.
#[derive(Debug, Clone, Copy)]
pub struct TeamsNotifier<'a> {
    http: &'a reqwest::Client,
    ssm: &'a ParameterStore,
    secrets: &'a aws_sdk_secretsmanager::Client,
}

/// A reqwest error as text: its message and its sources, never the URL.
fn describe(e: reqwest::Error) -> String {
    crate::http::error_chain(Some(&e.without_url()))
}

/// The first characters of an answer, on one line, redacted.
fn excerpt(hook: &Webhook, body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let redacted = hook.redact(one_line.trim());
    syncscope_core::card::clip(&redacted, EXCERPT_CHARS)
}

/// The `Retry-After` of a response, in seconds (HTTP dates are ignored).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
}

/// The webhook in a stored value, or why it is unusable (naming where it came from).
fn hook_in(value: &str, source_name: String, hosts: &WebhookHosts) -> Result<Webhook, NotifyError> {
    Webhook::parse(value, hosts).map_err(|why| NotifyError::BadUrl { source_name, why })
}

/// Reads the URL out of a secret string: the URL itself, or JSON with a URL key.
fn url_in_secret(secret: &str) -> Result<String, String> {
    let text = secret.trim();
    if !text.starts_with('{') {
        return Ok(text.to_owned());
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| "the secret is not a URL and not valid JSON".to_owned())?;
    let object = value
        .as_object()
        .ok_or("the secret's JSON is not an object")?;
    const KEYS: [&str; 4] = ["url", "webhookurl", "webhook_url", "teamswebhookurl"];
    object
        .iter()
        .find(|(k, _)| KEYS.contains(&k.to_ascii_lowercase().as_str()))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "the secret's JSON has no \"url\" or \"webhookUrl\" string".to_owned())
}

impl<'a> TeamsNotifier<'a> {
    /// A notifier using these clients.
    pub fn new(
        http: &'a reqwest::Client,
        ssm: &'a ParameterStore,
        secrets: &'a aws_sdk_secretsmanager::Client,
    ) -> Self {
        Self { http, ssm, secrets }
    }

    /// Reads the webhook URL a reference points to, and checks its host against
    /// `hosts`. A literal URL works, but comes with a warning (the secret sits in the
    /// template).
    pub async fn resolve(
        &self,
        reference: &WebhookRef,
        hosts: &WebhookHosts,
    ) -> Result<(Webhook, Option<String>), NotifyError> {
        match reference {
            WebhookRef::Ssm(name) => {
                let value = self.ssm.read_secret(name).await.map_err(NotifyError::Ssm)?;
                Ok((
                    hook_in(&value, format!("SSM parameter {name}"), hosts)?,
                    None,
                ))
            }
            WebhookRef::SecretArn(arn) => {
                // A secret is read in its own region (the ARN's fourth field).
                let region = syncscope_core::arn::Arn::parse(arn).map_or("", |a| a.region);
                let same = self
                    .secrets
                    .config()
                    .region()
                    .is_some_and(|r| r.as_ref() == region);
                let client = if same || region.is_empty() {
                    self.secrets.clone()
                } else {
                    aws_sdk_secretsmanager::Client::from_conf(
                        self.secrets
                            .config()
                            .to_builder()
                            .region(aws_config::Region::new(region.to_owned()))
                            .build(),
                    )
                };
                let out = client
                    .get_secret_value()
                    .secret_id(arn)
                    .send()
                    .await
                    .map_err(|e| NotifyError::Secret {
                        arn: arn.clone(),
                        message: crate::http::sdk_error(&e).to_string(),
                    })?;
                let secret = out.secret_string().ok_or_else(|| NotifyError::Secret {
                    arn: arn.clone(),
                    message: "the secret holds no SecretString".to_owned(),
                })?;
                let url = url_in_secret(secret).map_err(|why| NotifyError::BadUrl {
                    source_name: format!("secret {arn}"),
                    why,
                })?;
                Ok((hook_in(&url, format!("secret {arn}"), hosts)?, None))
            }
            WebhookRef::Literal(url) => {
                let hook = hook_in(url.as_str(), "the TeamsWebhook property".to_owned(), hosts)?;
                Ok((
                    hook,
                    Some("the Teams webhook URL is written in the template as plain text; anyone who can read the stack can post to the channel. Store it as an SSM SecureString (\"ssm:/name\") or in Secrets Manager and reference it".to_owned()),
                ))
            }
        }
    }

    /// POSTs `payload` (JSON) until Teams takes it, or the attempts or the time run out.
    /// `legacy`: a MessageCard connector, whose 2xx answers may still carry an error.
    pub async fn post(
        &self,
        hook: &Webhook,
        payload: String,
        legacy: bool,
        deadline: Instant,
    ) -> Result<Delivery, NotifyError> {
        let policy = retry::Policy {
            max_attempts: MAX_ATTEMPTS,
            base: FIRST_BACKOFF,
            max: MAX_BACKOFF,
            jitter: true,
            min_attempt_time: Duration::ZERO,
        };
        // A retryable failure is carried as the GaveUp it becomes if it is the last.
        let again = |attempts: u32, last: String| NotifyError::GaveUp { attempts, last };
        let attempt = |attempts: u32| {
            let payload = payload.clone();
            async move {
                let request = self
                    .http
                    .post(hook.url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(payload)
                    .send();
                let response = match tokio::time::timeout_at(deadline, request).await {
                    Err(_) => {
                        return Step::Fail(NotifyError::OutOfTime {
                            attempts,
                            last: "no answer before the deadline".to_owned(),
                        });
                    }
                    Ok(Err(e)) => return Step::retry(again(attempts, hook.redact(&describe(e)))),
                    Ok(Ok(response)) => response,
                };
                let status = response.status();
                let after = retry_after(&response);
                let body = tokio::time::timeout_at(deadline, response.text())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                let body = excerpt(hook, &body);
                if status.is_success() {
                    if legacy && !body.is_empty() && body != "1" {
                        return Step::Fail(NotifyError::Legacy {
                            status: status.as_u16(),
                            body,
                        });
                    }
                    return Step::Done(Delivery {
                        status: status.as_u16(),
                        attempts,
                    });
                }
                let tail = if body.is_empty() {
                    String::new()
                } else {
                    format!(": {body}")
                };
                if status.as_u16() != 429 && !status.is_server_error() {
                    return Step::Fail(NotifyError::Rejected {
                        status: status.as_u16(),
                        excerpt: tail,
                    });
                }
                Step::Retry {
                    error: again(attempts, format!("HTTP {}{tail}", status.as_u16())),
                    after,
                    unlimited: false,
                }
            }
        };
        let on_retry = |attempt: u32, wait: Duration, error: &NotifyError| {
            tracing::warn!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "Teams did not take the card; retrying"
            );
        };
        retry::run(&policy, deadline, attempt, on_retry)
            .await
            .map_err(|gave_up| match gave_up {
                GaveUp::Failed { error, .. } | GaveUp::Exhausted { last: error, .. } => error,
                GaveUp::OutOfTime { last, attempts } => NotifyError::OutOfTime {
                    attempts,
                    last: match last {
                        Some(NotifyError::GaveUp { last, .. }) => last,
                        Some(other) => other.to_string(),
                        None => "no attempt could start before the deadline".to_owned(),
                    },
                },
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const URL: &str = "https://prod-12.westeurope.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETsig0123456789";

    fn none() -> WebhookHosts {
        WebhookHosts::default()
    }

    #[test]
    fn a_card_goes_only_to_microsofts_hosts_or_those_the_config_names() {
        for good in [
            URL,
            "https://contoso.webhook.office.com/webhookb2/x",
            "https://prod-01.westus.logic.azure.com:443/workflows/x",
            "https://outlook.office.com/webhook/x",
        ] {
            assert!(Webhook::parse(good, &none()).is_ok(), "{good}");
        }
        for bad in [
            "https://hooks.example.com/x?sig=SECRET",
            "https://webhook.office.com.example.net/x?sig=SECRET",
            "https://evilwebhook.office.com/x?sig=SECRET",
            "https://127.0.0.2.nip.io/x?sig=SECRET",
        ] {
            let e = Webhook::parse(bad, &none()).unwrap_err();
            assert!(
                e.contains("is not a Microsoft Teams or Power Automate webhook host"),
                "{e}"
            );
            assert!(!e.contains("SECRET"), "{e}");
        }
        let proxy = WebhookHosts::parse("teams-proxy.corp.example").unwrap();
        assert!(Webhook::parse("https://teams-proxy.corp.example/hook?sig=x", &proxy).is_ok());
        assert!(Webhook::parse("https://a.teams-proxy.corp.example/hook", &proxy).is_ok());
        assert!(Webhook::parse("https://other.corp.example/hook", &proxy).is_err());
    }

    #[test]
    fn a_webhook_is_never_printed() {
        let hook = Webhook::parse(URL, &none()).unwrap();
        let debug = format!("{hook:?}");
        assert_eq!(debug, "Webhook(https://<redacted>)");
    }

    #[test]
    fn redaction_removes_the_url_its_query_and_its_signature_in_any_form() {
        let hook = Webhook::parse(URL, &none()).unwrap();
        let text = format!(
            "error for {URL}; query sig=SECRETsig0123456789; path 0123456789abcdef0123456789abcdef; encoded %2Ftriggers%2Fmanual%2Frun"
        );
        let out = hook.redact(&text);
        assert!(!out.contains("SECRETsig"), "{out}");
        assert!(!out.contains("0123456789abcdef0123456789abcdef"), "{out}");
        assert!(!out.contains("powerplatform.com/powerautomate"), "{out}");
        assert!(!out.contains("%2Ftriggers%2Fmanual%2Frun"), "{out}");
    }

    #[test]
    fn only_https_or_loopback_http_in_tests_is_accepted_and_errors_never_repeat_the_url() {
        assert!(Webhook::parse(URL, &none()).is_ok());
        let local = cfg!(feature = "test-hooks");
        assert_eq!(
            Webhook::parse("http://127.0.0.1:8080/hook?sig=x", &none()).is_ok(),
            local
        );
        assert_eq!(
            Webhook::parse("http://localhost/hook", &none()).is_ok(),
            local
        );
        for bad in [
            "http://hooks.example.com/x?sig=SECRET",
            "ftp://hooks.example.com/x?sig=SECRET",
            "not a url sig=SECRET",
        ] {
            let e = Webhook::parse(bad, &none()).unwrap_err();
            assert!(!e.contains("SECRET") && !e.contains("example"), "{e}");
        }
    }

    #[test]
    fn a_secret_is_the_url_or_json_holding_it() {
        assert_eq!(url_in_secret(" https://h/x ").unwrap(), "https://h/x");
        assert_eq!(
            url_in_secret(r#"{"webhookUrl":"https://h/y"}"#).unwrap(),
            "https://h/y"
        );
        assert_eq!(
            url_in_secret(r#"{"url":"https://h/z"}"#).unwrap(),
            "https://h/z"
        );
        let e = url_in_secret(r#"{"other":"https://h/SECRET"}"#).unwrap_err();
        assert!(!e.contains("SECRET"));
        assert!(
            url_in_secret("{not json SECRET")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }
}
