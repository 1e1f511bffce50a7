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
/// timeout per request.
pub fn client(
    connect_timeout: Duration,
    timeout: Option<Duration>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls())
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(64)
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
}
