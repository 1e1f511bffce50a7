//! The HTTPS client builder shared by every non-SDK caller (identity-sync, Teams,
//! CloudFormation's ResponseURL).
//!
//! TLS trusts the Mozilla root store compiled into the binary (`webpki-roots`) and uses
//! aws-lc-rs, the provider the AWS SDK uses too. Building a client with the platform
//! verifier reads and parses the system's CA bundle, about 2.5 ms per client on a cold
//! start; the compiled roots cost microseconds and are the same in every Lambda image.
//! The endpoints called are AWS's (Amazon Trust Services) and Microsoft's, both in the
//! Mozilla store.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The roots of Amazon Trust Services (`certs/aws-roots.pem`).
pub const AWS_ROOTS_PEM: &[u8] = include_bytes!("../certs/aws-roots.pem");

/// The AWS SDK's HTTP client for the Lambda: rustls with aws-lc-rs, trusting only the
/// Amazon Trust Services roots. The SDK's default client loads and parses the whole
/// system CA store when each client is built (its `validate_base_client_config`), a
/// few milliseconds of every cold start; AWS endpoints of the `aws` and `aws-us-gov`
/// partitions all chain to these five roots. `None` for other partitions (China),
/// which keep the default client. The client builds its TLS connector on first use
/// only ([`BuiltOnFirstUse`]).
pub fn aws_sdk_client(region: &str) -> Option<SharedHttpClient> {
    if region.starts_with("cn-") {
        return None;
    }
    let trust = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_ROOTS_PEM);
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .ok()?;
    Some(SharedHttpClient::new(BuiltOnFirstUse(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(context)
            .build_https(),
    )))
}

/// Another SDK HTTP client (the CLI's default one, with the system's roots and proxy
/// settings) with the same caps and host naming as the Lambda's ([`CappedBodies`],
/// [`sdk_error`]).
pub fn answering(client: SharedHttpClient) -> SharedHttpClient {
    SharedHttpClient::new(BuiltOnFirstUse(client))
}

/// An SDK HTTP client without the check each SDK client's `from_conf` runs on it.
///
/// The hyper client's `validate_base_client_config` builds a whole TLS connector (the
/// trust store parsed, a rustls configuration) and drops it, so that a broken system CA
/// store shows up when a client is built rather than on its first request; the
/// connector a request uses is built again on first use and then cached. Its result is
/// ignored, and this client's roots are compiled in, so for syncscope the check is only
/// work: a TLS configuration built for nothing with every SDK client, SSM's at
/// start-up among them (docs/benchmarks.md, "Start-up"). Everything else is the
/// wrapped client's.
#[derive(Debug)]
struct BuiltOnFirstUse(SharedHttpClient);

impl HttpClient for BuiltOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CappedBodies(self.0.http_connector(settings, components)))
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The most bytes the function reads of one AWS answer. Its largest legitimate answers
/// are a page of SSM parameters (10 values of at most 8 KB) and a page of a directory
/// listing: kilobytes. A body that is larger (a wrong endpoint, a hostile server) ends
/// the call with an error instead of filling the function's 256 MB.
pub const MAX_SDK_BODY_BYTES: usize = 8 << 20;

/// An SDK connector whose answers are read up to [`MAX_SDK_BODY_BYTES`]: a declared
/// `Content-Length` above it fails at once, and a longer stream fails when it passes it.
#[derive(Debug)]
struct CappedBodies(SharedHttpConnector);

/// The host (and port) an SDK answer came from, kept on the response so that an
/// error without an AWS code can say where it came from ([`sdk_error`]).
#[derive(Debug, Clone)]
struct AnsweredBy(String);

/// The host and port of a URL, never its path or query.
pub fn host_of(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit('@').next().unwrap_or_default().to_owned()
}

impl HttpConnector for CappedBodies {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let host = host_of(request.uri());
        let answer = self.0.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = answer.await?;
            response.add_extension(AnsweredBy(host));
            let declared = response
                .headers()
                .get("content-length")
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > MAX_SDK_BODY_BYTES as u64) {
                return Err(ConnectorError::other(
                    format!(
                        "the answer declares {} bytes; syncscope reads at most {MAX_SDK_BODY_BYTES} bytes of an AWS answer",
                        declared.unwrap_or_default()
                    )
                    .into(),
                    None,
                ));
            }
            Ok(response.map(|body| {
                SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_SDK_BODY_BYTES))
            }))
        })
    }
}

/// An SDK error as one line for people, never the raw response's `Debug`. An answer
/// without an AWS error code (a wrong endpoint, a proxy's error page: the SDK may not
/// even read it as an error) names its HTTP status and the host it came from (never a
/// URL with its query); an answer cut at [`MAX_SDK_BODY_BYTES`] says so; no answer
/// says why; an AWS error reads as the SDK writes it.
pub fn sdk_error<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let not_aws = |raw: &HttpResponse| {
        let host = raw
            .extension::<AnsweredBy>()
            .map_or("the endpoint", |h| h.0.as_str());
        format!(
            "HTTP {} from {host}, an answer without an AWS error code (is the endpoint AWS's?)",
            raw.status().as_u16()
        )
    };
    let causes = error_chain(std::error::Error::source(error));
    match error {
        SdkError::ServiceError(service) => match service.err().code() {
            None => not_aws(service.raw()),
            Some(code) => match service.err().message() {
                Some(message) if !message.is_empty() => format!("{code}: {message}"),
                _ => format!("{code} (HTTP {})", service.raw().status().as_u16()),
            },
        },
        SdkError::ResponseError(_) if causes.contains("length limit exceeded") => format!(
            "the answer is longer than {MAX_SDK_BODY_BYTES} bytes, the most syncscope reads of an AWS answer"
        ),
        SdkError::ResponseError(response) => not_aws(response.raw()),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) => format!("network error: {causes}"),
        _ => format!("{error}: {causes}"),
    }
}

/// The SDK's default HTTPS client (the system's roots, as the CLI wants behind a
/// proxy) with the Lambda's caps and host naming ([`answering`]).
pub fn answering_default() -> SharedHttpClient {
    answering(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https(),
    )
}

/// An error and its sources as one line, `a: b: c`; a message already said (an error
/// that repeats its source's) is left out. The one way an error chain is written.
pub fn error_chain(first: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut text = String::new();
    let mut next = first;
    while let Some(error) = next {
        let message = error.to_string();
        if !message.is_empty() && !text.contains(&message) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&message);
        }
        next = error.source();
    }
    text
}

/// The TLS configuration, built once per process.
fn tls() -> rustls::ClientConfig {
    static TLS: OnceLock<rustls::ClientConfig> = OnceLock::new();
    TLS.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        match rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
            // The provider supports the default versions; this is unreachable in practice.
            Err(_) => rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        }
    })
    .clone()
}

/// A client with syncscope's user agent, `connect_timeout` and, if given, a total
/// timeout per request. It follows no redirect: a redirect is an answer like any
/// other (a failure where a 2xx is wanted), so a ResponseURL, a webhook or an
/// endpoint can never send a request, its signed headers included, to another host.
pub fn client(
    connect_timeout: Duration,
    timeout: Option<Duration>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls())
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(64)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("syncscope/", env!("CARGO_PKG_VERSION")));
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_host_is_named_without_path_query_or_user() {
        for (uri, host) in [
            (
                "https://ds-data.eu-central-1.amazonaws.com/Users?Max=1&X-Amz-Signature=s",
                "ds-data.eu-central-1.amazonaws.com",
            ),
            ("http://127.0.0.1:4566/", "127.0.0.1:4566"),
            (
                "https://user:secret@proxy.example.com?sig=1",
                "proxy.example.com",
            ),
            (
                "identitystore.eu-west-1.amazonaws.com#x",
                "identitystore.eu-west-1.amazonaws.com",
            ),
        ] {
            assert_eq!(host_of(uri), host, "{uri}");
        }
    }

    #[test]
    fn clients_build_with_the_compiled_roots() {
        // Amazon Trust Services and DigiCert (Microsoft's webhooks) are trusted.
        let subjects: Vec<String> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .collect();
        assert!(subjects.iter().any(|s| s.contains("Amazon Root CA 1")));
        assert!(
            subjects
                .iter()
                .any(|s| s.contains("DigiCert Global Root G2"))
        );
        assert!(tls().enable_sni);
        client(Duration::from_secs(1), Some(Duration::from_secs(2))).unwrap();
    }

    #[test]
    fn the_aws_roots_parse_and_are_the_five_amazon_trust_services_roots() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(AWS_ROOTS_PEM)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(certs.len(), 5);
        let mut store = rustls::RootCertStore::empty();
        let (valid, invalid) = store.add_parsable_certificates(certs);
        assert_eq!((valid, invalid), (5, 0));
        let text = String::from_utf8_lossy(AWS_ROOTS_PEM);
        for name in ["Amazon_Root_CA_1", "Amazon_Root_CA_4", "Starfield_Services"] {
            assert!(text.contains(name), "{name}");
        }
        assert!(aws_sdk_client("eu-central-1").is_some());
        assert!(aws_sdk_client("cn-north-1").is_none());
    }
}
