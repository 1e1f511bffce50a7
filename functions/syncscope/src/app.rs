//! The application: every client, built once per cold start and lent to each request.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

use crate::identity_store::IdentityStoreReader;
use crate::identity_sync::{ClientOptions, IdentitySyncClient, executor};
use crate::publish::DocsPublisher;
use crate::ssm::ParameterStore;

/// Tunables read from the environment at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Changes in flight at once (`SYNCSCOPE_CONCURRENCY`, default 8).
    pub concurrency: usize,
}

impl Settings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Self {
        let concurrency = std::env::var("SYNCSCOPE_CONCURRENCY")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &usize| *n > 0)
            .unwrap_or(executor::DEFAULT_CONCURRENCY);
        Self { concurrency }
    }
}

/// Every client the handler needs.
pub struct App {
    /// The AWS SDK configuration (region, credentials, endpoint overrides).
    pub sdk: aws_config::SdkConfig,
    /// SSM Parameter Store.
    pub ssm: ParameterStore,
    /// The identity-sync API in the function's region.
    pub identity_sync: IdentitySyncClient,
    /// Plain HTTPS: CloudFormation responses and Teams.
    pub http: reqwest::Client,
    /// S3: the documentation.
    pub docs: DocsPublisher,
    /// Identity Store and sso-admin in the function's region (docs enrichment).
    pub identity_store: IdentityStoreReader,
    /// Secrets Manager: the Teams webhook, when referenced by ARN.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// The function's region.
    pub region: String,
    /// Tunables.
    pub settings: Settings,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds every client from the environment (the standard AWS chain).
    pub async fn from_env() -> Result<Self, String> {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .build(),
            )
            .load()
            .await;
        Self::from_sdk_config(sdk)
    }

    /// Builds every client from an SDK configuration.
    pub fn from_sdk_config(sdk: aws_config::SdkConfig) -> Result<Self, String> {
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or("no AWS region configured (AWS_REGION is not set)")?;
        let identity_sync = IdentitySyncClient::from_sdk_config(&sdk, ClientOptions::default())?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("syncscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let ssm = ParameterStore::new(aws_sdk_ssm::Client::new(&sdk));
        let docs = DocsPublisher::new(s3_client(&sdk, |n| std::env::var_os(n).is_some()));
        let identity_store = IdentityStoreReader::new(&sdk, &region);
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        Ok(Self {
            sdk,
            ssm,
            identity_sync,
            http,
            docs,
            identity_store,
            secrets,
            region,
            settings: Settings::from_env(),
        })
    }

    /// The identity store reader for `region` (the shared one for the function's own).
    pub fn identity_store_in(&self, region: &str) -> std::borrow::Cow<'_, IdentityStoreReader> {
        if region == self.region {
            std::borrow::Cow::Borrowed(&self.identity_store)
        } else {
            std::borrow::Cow::Owned(IdentityStoreReader::new(&self.sdk, region))
        }
    }

    /// A client for the identity-sync API in `region` (the shared one for the
    /// function's own region).
    pub fn identity_sync_in(
        &self,
        region: &str,
    ) -> Result<std::borrow::Cow<'_, IdentitySyncClient>, String> {
        if region == self.region {
            return Ok(std::borrow::Cow::Borrowed(&self.identity_sync));
        }
        let credentials = self
            .sdk
            .credentials_provider()
            .ok_or("no AWS credentials provider configured")?;
        let endpoint =
            crate::identity_sync::client::resolve_endpoint(region, |n| std::env::var(n).ok());
        IdentitySyncClient::new(endpoint, region, credentials, ClientOptions::default())
            .map(std::borrow::Cow::Owned)
            .map_err(|e| e.to_string())
    }
}

/// The S3 client: path-style addressing when an endpoint override points S3 at a local
/// server (`AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3`, e.g. moto), where bucket
/// subdomains do not resolve.
pub fn s3_client(
    sdk: &aws_config::SdkConfig,
    env_set: impl Fn(&str) -> bool,
) -> aws_sdk_s3::Client {
    let local = env_set("AWS_ENDPOINT_URL") || env_set("AWS_ENDPOINT_URL_S3");
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(local)
            .build(),
    )
}
