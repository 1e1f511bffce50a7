//! The application: every client, built once per cold start and lent to each request.
//!
//! Start-up does only what every run needs: the SDK configuration, SSM, identity-sync
//! and the HTTPS client. The clients only some runs use (S3 and the identity store for
//! the docs, Secrets Manager for a webhook stored there) are built on first use and
//! then kept. In Lambda the credentials and region are in the environment, so they are
//! read from it directly instead of building the whole default provider chain
//! (about 5 ms of a cold start), and the SDK trusts the Amazon roots instead of
//! parsing the system CA store ([`crate::http::aws_sdk_client`]); see
//! docs/benchmarks.md.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

use crate::directory::DirectoryReader;
use crate::identity_store::IdentityStoreReader;
use syncscope_core::names::Region;
use syncscope_core::properties::Properties;

use crate::executor;
use crate::identity_sync::IdentitySyncClient;
use crate::publish::DocsPublisher;
use crate::ssm::ParameterStore;
use crate::stacks::StackReader;

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
    /// S3: the documentation (built on first use).
    docs: OnceLock<DocsPublisher>,
    /// Identity Store and sso-admin in the function's region (built on first use).
    identity_store: OnceLock<IdentityStoreReader>,
    /// Directory Service Data in the function's region (built on first use).
    directory: OnceLock<DirectoryReader>,
    /// Where Directory Service Data is (None: the SDK's endpoint; in-process tests
    /// point it at an emulator, as `AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA` does).
    directory_endpoint: Option<String>,
    /// CloudFormation: whether other stacks of a sync profile still exist.
    pub stacks: StackReader,
    /// Secrets Manager: the Teams webhook, when referenced by ARN (built on first use).
    secrets: OnceLock<aws_sdk_secretsmanager::Client>,
    /// The function's region.
    pub region: Region,
    /// Tunables.
    pub settings: Settings,
    /// The identity-sync endpoint of a region.
    endpoints: Endpoints,
    /// Requests of the SSM and S3 clients, for the outcome log line.
    pub aws_calls: crate::aws_calls::AwsCalls,
}

/// How the identity-sync endpoint of a region is found.
pub type Endpoints = Box<dyn Fn(&str) -> String + Send + Sync>;

/// The endpoints the AWS SDKs would use: the regional one, unless the environment
/// overrides it (`AWS_ENDPOINT_URL_IDENTITY_SYNC`, `AWS_ENDPOINT_URL`).
pub fn endpoints_from_env() -> Endpoints {
    Box::new(|region| {
        crate::identity_sync::client::resolve_endpoint(region, |n| std::env::var(n).ok())
    })
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
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        );
        // Lambda puts the role's credentials and the region into the environment.
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let (Some(region), Some(_)) = (env("AWS_REGION"), env("AWS_ACCESS_KEY_ID")) {
            if env("AWS_LAMBDA_RUNTIME_API").is_some()
                && let Some(http) = crate::http::aws_sdk_client(&region)
            {
                loader = loader.http_client(http);
            }
            loader = loader
                .region(aws_config::Region::new(region))
                .credentials_provider(
                    aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                );
        }
        Self::from_sdk_config(loader.load().await)
    }

    /// Builds every client from an SDK configuration (identity-sync endpoints from the
    /// environment, as the SDKs find theirs).
    pub fn from_sdk_config(sdk: aws_config::SdkConfig) -> Result<Self, String> {
        Self::with_endpoints(sdk, endpoints_from_env())
    }

    /// Builds every client from an SDK configuration and the identity-sync endpoint
    /// of each region (tests point regions at emulators of their own).
    pub fn with_endpoints(
        sdk: aws_config::SdkConfig,
        endpoints: Endpoints,
    ) -> Result<Self, String> {
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or("no AWS region configured (AWS_REGION is not set)")?;
        let region = Region::parse(&region)
            .map_err(|e| format!("the function's region {region:?} is not valid: {e}"))?;
        let identity_sync =
            IdentitySyncClient::from_sdk_config(&sdk, region.as_str(), endpoints(region.as_str()))?;
        let http = crate::http::client(Duration::from_secs(3), Some(Duration::from_secs(10)))
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let aws_calls = crate::aws_calls::AwsCalls::default();
        let ssm = ParameterStore::new(aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&sdk)
                .interceptor(aws_calls.ssm.clone())
                .build(),
        ));
        Ok(Self {
            stacks: StackReader::new(&sdk),
            sdk,
            ssm,
            identity_sync,
            http,
            docs: OnceLock::new(),
            identity_store: OnceLock::new(),
            directory: OnceLock::new(),
            directory_endpoint: None,
            secrets: OnceLock::new(),
            region,
            settings: Settings::from_env(),
            endpoints,
            aws_calls,
        })
    }

    /// The S3 publisher of the documentation.
    pub fn docs(&self) -> &DocsPublisher {
        self.docs.get_or_init(|| {
            let s3 = s3_client(&self.sdk, |n| std::env::var_os(n).is_some());
            let counted = aws_sdk_s3::Client::from_conf(
                s3.config()
                    .to_builder()
                    .interceptor(self.aws_calls.s3.clone())
                    .build(),
            );
            DocsPublisher::new(counted, crate::trust::own_account())
        })
    }

    /// Secrets Manager in the function's region.
    pub fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets
            .get_or_init(|| aws_sdk_secretsmanager::Client::new(&self.sdk))
    }

    /// The identity store reader for `region` (the shared one for the function's own).
    pub fn identity_store_in(&self, region: &str) -> std::borrow::Cow<'_, IdentityStoreReader> {
        if region == self.region.as_str() {
            std::borrow::Cow::Borrowed(
                self.identity_store
                    .get_or_init(|| IdentityStoreReader::new(&self.sdk, self.region.as_str())),
            )
        } else {
            std::borrow::Cow::Owned(IdentityStoreReader::new(&self.sdk, region))
        }
    }

    /// The directory check's reader for a directory in `region` (the shared one for
    /// the function's own).
    pub fn directory_in(&self, region: &str) -> std::borrow::Cow<'_, DirectoryReader> {
        let endpoint = self.directory_endpoint.as_deref();
        if region == self.region.as_str() {
            std::borrow::Cow::Borrowed(
                self.directory
                    .get_or_init(|| DirectoryReader::at(&self.sdk, self.region.as_str(), endpoint)),
            )
        } else {
            std::borrow::Cow::Owned(DirectoryReader::at(&self.sdk, region, endpoint))
        }
    }

    /// The same application, asking Directory Service Data at `url`.
    pub fn with_directory_endpoint(mut self, url: impl Into<String>) -> Self {
        self.directory_endpoint = Some(url.into());
        self
    }

    /// A client for the identity-sync API in `region`, with counters of its own (one
    /// per run). The function's own region shares the client built at start-up.
    pub fn identity_sync_in(&self, region: &str) -> Result<IdentitySyncClient, String> {
        if region == self.region.as_str() {
            return Ok(self.identity_sync.for_run());
        }
        IdentitySyncClient::from_sdk_config(&self.sdk, region, (self.endpoints)(region))
    }

    /// The region of IAM Identity Center for a resource: its `Region` property, or
    /// the function's own.
    pub fn region_of<'a>(&'a self, props: &'a Properties) -> &'a str {
        syncscope_core::request::region_of(props, &self.region).as_str()
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
