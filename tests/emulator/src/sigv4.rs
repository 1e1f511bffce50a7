//! AWS Signature Version 4 verification, written by hand with `hmac` and `sha2`
//! so that it checks the client's `aws-sigv4` signing independently.
//!
//! What is checked, in order:
//!
//! 1. the `Authorization` header has the form
//!    `AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request, SignedHeaders=..., Signature=...`
//!    (missing: `403 MissingAuthenticationTokenException`; malformed:
//!    `400 IncompleteSignatureException`);
//! 2. the access key is known (`403 UnrecognizedClientException`);
//! 3. the scope names `aws4_request`, this service and this region
//!    (`403 InvalidSignatureException`, saying which);
//! 4. the signed headers include `host` and `x-amz-date`, and `X-Amz-Date` is a
//!    valid basic ISO 8601 time of the scope's day;
//! 5. `X-Amz-Date` is at most 15 minutes from now ("Signature expired");
//! 6. `x-amz-content-sha256`, when sent, is the SHA-256 of the body;
//! 7. the signature of the canonical request matches ("The request signature we
//!    calculated does not match ...", with the canonical request and the string to
//!    sign the server computed, as AWS shows them).
//!
//! The canonical request follows the SigV4 rules for every service but S3:
//! the raw path is normalised (empty, `.` and `..` segments removed) and then
//! percent-encoded again (every byte that is not unreserved or `/`, so `%20`
//! becomes `%2520`); the query keys and values are decoded (`+` is a space, as
//! `application/x-www-form-urlencoded` and `aws-sigv4` read it), strictly
//! re-encoded and sorted; header names are lowercased and values trimmed with
//! inner runs of spaces collapsed, repeated headers joined with `,`.

use crate::error::{ApiError, ErrorCode};
use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The most `X-Amz-Date` may differ from the server's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Every byte but the RFC 3986 unreserved characters is encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`STRICT`], but `/` stays (for paths).
const PATH: &AsciiSet = &STRICT.remove(b'/');

const AMZ_DATE: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// An access key and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (`AKID...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl Credentials {
    /// A pair of access key id and secret.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        }
    }

    /// The `testing`/`testing` pair (the moto convention), the default.
    pub fn testing() -> Self {
        Credentials::new("testing", "testing")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// A credentials argument that is not `AKID:SECRET`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credentials must have the form ACCESS_KEY_ID:SECRET_ACCESS_KEY, both non-empty")]
pub struct CredentialsParseError;

impl FromStr for Credentials {
    type Err = CredentialsParseError;

    /// Parses `ACCESS_KEY_ID:SECRET_ACCESS_KEY` (the secret may itself hold `:`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                Ok(Credentials::new(id, secret))
            }
            _ => Err(CredentialsParseError),
        }
    }
}

/// The parts of an HTTP request the signature covers, as received.
#[derive(Debug, Clone, Copy)]
pub struct RequestToVerify<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The raw (still percent-encoded) path.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// Every header received.
    pub headers: &'a HeaderMap,
    /// The body received.
    pub body: &'a [u8],
}

/// A request whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key that signed it.
    pub access_key_id: String,
}

/// Checks SigV4 signatures for one service and region against known credentials.
#[derive(Clone)]
pub struct Verifier {
    secrets: BTreeMap<String, String>,
    region: String,
    service: String,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("access_key_ids", &self.secrets.keys().collect::<Vec<_>>())
            .field("region", &self.region)
            .field("service", &self.service)
            .finish()
    }
}

/// The parsed `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: Vec<&'a str>,
    signed_headers_raw: &'a str,
    signature: &'a str,
}

impl Verifier {
    /// A verifier accepting `credentials`, scoped to `region` and `service`.
    pub fn new(
        credentials: &[Credentials],
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Verifier {
            secrets: credentials
                .iter()
                .map(|c| (c.access_key_id.clone(), c.secret_access_key.clone()))
                .collect(),
            region: region.into(),
            service: service.into(),
        }
    }

    /// Verifies the signature of `request` as of `now`.
    pub fn verify(
        &self,
        request: &RequestToVerify<'_>,
        now: SystemTime,
    ) -> Result<Verified, ApiError> {
        let header = match request.headers.get("authorization") {
            None => {
                return Err(ApiError::new(
                    ErrorCode::MissingAuthenticationTokenException,
                    "Missing Authentication Token",
                ));
            }
            Some(value) => value.to_str().map_err(|_| {
                incomplete("the Authorization header is not valid ascii".to_owned())
            })?,
        };
        let auth = parse_authorization(header)?;

        let Some(secret) = self.secrets.get(auth.access_key_id) else {
            return Err(ApiError::new(
                ErrorCode::UnrecognizedClientException,
                "The security token included in the request is invalid.",
            ));
        };
        if auth.terminator != "aws4_request" {
            return Err(invalid(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                auth.terminator
            )));
        }
        if auth.service != self.service {
            return Err(invalid(format!(
                "Credential should be scoped to correct service: '{}', not '{}'.",
                self.service, auth.service
            )));
        }
        if auth.region != self.region {
            return Err(invalid(format!(
                "Credential should be scoped to a valid region, not '{}' (this endpoint serves '{}').",
                auth.region, self.region
            )));
        }
        for required in ["host", "x-amz-date"] {
            if !auth.signed_headers.contains(&required) {
                return Err(invalid(format!(
                    "'{required}' must be a 'SignedHeader' in the AWS Authorization (SignedHeaders={})",
                    auth.signed_headers_raw
                )));
            }
        }

        let amz_date = header_text(request.headers, "x-amz-date")
            .ok_or_else(|| invalid("the signed header x-amz-date is missing".to_owned()))?;
        let amz_date = amz_date.trim();
        let signed_at = time::PrimitiveDateTime::parse(amz_date, AMZ_DATE)
            .map_err(|_| {
                invalid(format!(
                    "X-Amz-Date '{amz_date}' is not a basic ISO 8601 time such as 20150830T123600Z"
                ))
            })?
            .assume_utc();
        if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
            return Err(invalid(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                auth.date,
                amz_date.get(..8).unwrap_or(amz_date),
                amz_date
            )));
        }
        check_clock_skew(signed_at, OffsetDateTime::from(now))?;

        let payload_hash = hex::encode(Sha256::digest(request.body));
        if let Some(sent) = header_text(request.headers, "x-amz-content-sha256")
            && !sent.trim().eq_ignore_ascii_case(&payload_hash)
        {
            return Err(invalid(format!(
                "The provided 'x-amz-content-sha256' header does not match what was computed: sent '{}', computed '{payload_hash}'.",
                sent.trim()
            )));
        }

        let canonical = canonical_request(request, &auth.signed_headers, &payload_hash);
        let scope = format!(
            "{}/{}/{}/{}",
            auth.date, auth.region, auth.service, auth.terminator
        );
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = signing_key(secret, auth.date, auth.region, auth.service)?;
        let mut mac = new_mac(&key)?;
        mac.update(string_to_sign.as_bytes());
        let matches = hex::decode(auth.signature)
            .map(|provided| mac.verify_slice(&provided).is_ok())
            .unwrap_or(false);
        if !matches {
            return Err(invalid(format!(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n\
                 The Canonical String for this request should have been\n'{canonical}'\n\n\
                 The String-to-Sign should have been\n'{string_to_sign}'\n"
            )));
        }
        Ok(Verified {
            access_key_id: auth.access_key_id.to_owned(),
        })
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidSignatureException, message)
}

fn incomplete(message: String) -> ApiError {
    ApiError::new(ErrorCode::IncompleteSignatureException, message)
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, ApiError> {
    let header = header.trim();
    let rest = match header.split_once(char::is_whitespace) {
        Some((ALGORITHM, rest)) => rest,
        Some((other, _)) => {
            return Err(incomplete(format!(
                "unsupported signing algorithm '{other}', only {ALGORITHM} is accepted"
            )));
        }
        None => {
            return Err(incomplete(format!(
                "the Authorization header must start with {ALGORITHM} and carry Credential, SignedHeaders and Signature"
            )));
        }
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "the Authorization component '{part}' is not of the form key=value"
            )));
        };
        match key.trim() {
            "Credential" => credential = Some(value.trim()),
            "SignedHeaders" => signed_headers = Some(value.trim()),
            "Signature" => signature = Some(value.trim()),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete(
            "the Authorization header requires the Credential, SignedHeaders and Signature parameters"
                .to_owned(),
        ));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(format!(
            "Credential '{credential}' must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request"
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers: signed_headers.split(';').collect(),
        signed_headers_raw: signed_headers,
        signature,
    })
}

fn check_clock_skew(signed_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), ApiError> {
    let skew = time::Duration::try_from(MAX_CLOCK_SKEW).unwrap_or(time::Duration::MINUTE * 15);
    let fmt = |t: OffsetDateTime| t.format(AMZ_DATE).unwrap_or_else(|_| t.to_string());
    if signed_at < now - skew {
        return Err(invalid(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            fmt(signed_at),
            fmt(now - skew),
            fmt(now)
        )));
    }
    if signed_at > now + skew {
        return Err(invalid(format!(
            "Signature expired: {} is now later than {} ({} + 15 min.)",
            fmt(signed_at),
            fmt(now + skew),
            fmt(now)
        )));
    }
    Ok(())
}

/// Every value of header `name` (lowercase), trimmed, inner runs of spaces
/// collapsed, joined with `,`; `None` if the header is absent.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|value| collapse_spaces(&String::from_utf8_lossy(value.as_bytes())))
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(","))
    }
}

fn collapse_spaces(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut previous_space = false;
    for c in value.trim_matches(' ').chars() {
        if c == ' ' {
            if !previous_space {
                out.push(c);
            }
            previous_space = true;
        } else {
            out.push(c);
            previous_space = false;
        }
    }
    out
}

/// The canonical request of SigV4 (non-S3 rules).
pub fn canonical_request(
    request: &RequestToVerify<'_>,
    signed_headers: &[&str],
    payload_hash: &str,
) -> String {
    let mut out = String::new();
    out.push_str(request.method);
    out.push('\n');
    out.push_str(&canonical_uri(request.path));
    out.push('\n');
    out.push_str(&canonical_query(request.query.unwrap_or("")));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&header_text(request.headers, name).unwrap_or_default());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The raw path, normalised and encoded again: `/a b%20c` becomes `/a%20b%2520c`.
pub fn canonical_uri(raw_path: &str) -> String {
    let normalized = normalize_path(raw_path);
    utf8_percent_encode(&normalized, PATH).to_string()
}

/// Removes empty, `.` and `..` segments (RFC 3986 5.2.4), keeping a final `/`.
fn normalize_path(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::from("/");
    out.push_str(&segments.join("/"));
    let ends_in_directory = ["/", "/.", "/.."].iter().any(|end| raw_path.ends_with(end));
    if ends_in_directory && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The query decoded (`+` is a space), strictly re-encoded, sorted by key then
/// value: `b=2&a=x+y` becomes `a=x%20y&b=2`.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(key), reencode(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn reencode(component: &str) -> String {
    let spaced = component.replace('+', " ");
    let decoded = percent_decode_str(&spaced).decode_utf8_lossy();
    utf8_percent_encode(&decoded, STRICT).to_string()
}

fn new_mac(key: &[u8]) -> Result<Hmac<Sha256>, ApiError> {
    // HMAC takes keys of any length, so this cannot fail; the error is kept
    // rather than unwrapped.
    Hmac::<Sha256>::new_from_slice(key).map_err(|_| {
        ApiError::new(
            ErrorCode::InternalServerException,
            "hmac rejected the signing key",
        )
    })
}

fn hmac_sha256(key: &[u8], data: &str) -> Result<Vec<u8>, ApiError> {
    let mut mac = new_mac(key)?;
    mac.update(data.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> Result<Vec<u8>, ApiError> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date)?;
    let k_region = hmac_sha256(&k_date, region)?;
    let k_service = hmac_sha256(&k_region, service)?;
    hmac_sha256(&k_service, "aws4_request")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials as AwsCredentials;
    use aws_sigv4::http_request::{
        PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
    };
    use aws_sigv4::sign::v4;
    use axum::http::{HeaderName, HeaderValue};
    use std::time::UNIX_EPOCH;

    const VANILLA_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    /// 2015-08-30T12:36:00Z.
    const VANILLA_TIME: u64 = 1_440_938_160;

    fn vanilla_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(VANILLA_TIME)
    }

    fn vanilla_verifier() -> Verifier {
        Verifier::new(
            &[Credentials::new("AKIDEXAMPLE", VANILLA_SECRET)],
            "us-east-1",
            "service",
        )
    }

    fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    /// A request as `aws-sigv4` signs it, split the way the server sees it.
    struct Signed {
        method: String,
        path: String,
        query: Option<String>,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl Signed {
        fn view(&self) -> RequestToVerify<'_> {
            RequestToVerify {
                method: &self.method,
                path: &self.path,
                query: self.query.as_deref(),
                headers: &self.headers,
                body: &self.body,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sign_with_aws_sigv4(
        key: (&str, &str, Option<&str>),
        region: &str,
        service: &str,
        at: SystemTime,
        method: &str,
        path_and_query: &str,
        extra_headers: &[(&str, &str)],
        body: &[u8],
    ) -> Signed {
        sign_with_settings(
            SigningSettings::default(),
            key,
            region,
            service,
            at,
            method,
            path_and_query,
            extra_headers,
            body,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn sign_with_settings(
        settings: SigningSettings,
        key: (&str, &str, Option<&str>),
        region: &str,
        service: &str,
        at: SystemTime,
        method: &str,
        path_and_query: &str,
        extra_headers: &[(&str, &str)],
        body: &[u8],
    ) -> Signed {
        let identity =
            AwsCredentials::new(key.0, key.1, key.2.map(str::to_owned), None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = format!("http://127.0.0.1:4566{path_and_query}");
        let signable = SignableRequest::new(
            method,
            url.as_str(),
            extra_headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut headers = header_map(extra_headers);
        headers.insert("host", HeaderValue::from_static("127.0.0.1:4566"));
        for (name, value) in instructions.headers() {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        Signed {
            method: method.to_owned(),
            path,
            query,
            headers,
            body: body.to_vec(),
        }
    }

    /// `GET /` with these headers and no body.
    fn get_root(headers: &HeaderMap) -> RequestToVerify<'_> {
        RequestToVerify {
            method: "GET",
            path: "/",
            query: None,
            headers,
            body: b"",
        }
    }

    fn emulator_verifier() -> Verifier {
        Verifier::new(&[Credentials::testing()], "eu-central-1", "identity-sync")
    }

    fn signed_list_request(at: SystemTime) -> Signed {
        sign_with_aws_sigv4(
            ("testing", "testing", None),
            "eu-central-1",
            "identity-sync",
            at,
            "GET",
            "/v0/profiles/My%20Profile%25/filters?FilterType=GROUP&MaxResults=100&Augmentation=true&NextToken=a%2Bb%2F%3D",
            &[],
            b"",
        )
    }

    #[test]
    fn the_get_vanilla_vector_of_the_aws_test_suite_verifies() {
        let headers = header_map(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ]);
        let request = get_root(&headers);
        let verified = vanilla_verifier().verify(&request, vanilla_time()).unwrap();
        assert_eq!(verified.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            canonical_request(
                &request,
                &["host", "x-amz-date"],
                &hex::encode(Sha256::digest(b""))
            ),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_get_vanilla_request_with_another_signature_is_rejected() {
        let headers = header_map(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf32",
            ),
        ]);
        let request = get_root(&headers);
        let error = vanilla_verifier()
            .verify(&request, vanilla_time())
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(error.message.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ));
        assert!(error.message.contains("host:example.amazonaws.com"));
    }

    #[test]
    fn a_request_signed_by_aws_sigv4_with_encoded_path_and_query_verifies() {
        let now = SystemTime::now();
        let signed = signed_list_request(now);
        let verified = emulator_verifier().verify(&signed.view(), now).unwrap();
        assert_eq!(verified.access_key_id, "testing");
    }

    #[test]
    fn a_post_with_a_body_and_session_token_signed_by_aws_sigv4_verifies() {
        let now = SystemTime::now();
        let body = br#"{"FilterType":"GROUP","Effect":"INCLUDE","Attributes":"{}"}"#;
        let signed = sign_with_aws_sigv4(
            ("testing", "testing", Some("session-token")),
            "eu-central-1",
            "identity-sync",
            now,
            "POST",
            "/v0/profiles/a%2Fb~c/filters",
            &[("content-type", "application/json")],
            body,
        );
        assert!(signed.headers.contains_key("x-amz-security-token"));
        assert!(emulator_verifier().verify(&signed.view(), now).is_ok());
    }

    #[test]
    fn a_signed_content_sha256_header_that_matches_the_body_verifies() {
        let now = SystemTime::now();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let signed = sign_with_settings(
            settings,
            ("testing", "testing", None),
            "eu-central-1",
            "identity-sync",
            now,
            "POST",
            "/v0/profiles/p/filters",
            &[("content-type", "application/json")],
            b"{}",
        );
        assert!(signed.headers.contains_key("x-amz-content-sha256"));
        assert!(emulator_verifier().verify(&signed.view(), now).is_ok());
    }

    #[test]
    fn canonical_uri_double_encodes_the_raw_path() {
        assert_eq!(
            canonical_uri("/v0/profiles/My%20Profile%25/filters"),
            "/v0/profiles/My%2520Profile%2525/filters"
        );
        assert_eq!(canonical_uri("/a%2Fb"), "/a%252Fb");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
    }

    #[test]
    fn canonical_query_decodes_reencodes_and_sorts() {
        assert_eq!(
            canonical_query("b=2&a=x+y&a=%41&c&NextToken=a%2bb%2F%3D"),
            "NextToken=a%2Bb%2F%3D&a=A&a=x%20y&b=2&c="
        );
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        assert_eq!(collapse_spaces("  a   b c  "), "a b c");
        let headers = header_map(&[("x-multi", "one"), ("x-multi", "two  three")]);
        assert_eq!(
            header_text(&headers, "x-multi").as_deref(),
            Some("one,two three")
        );
    }

    #[test]
    fn a_wrong_service_is_rejected_and_named() {
        let now = SystemTime::now();
        let signed = sign_with_aws_sigv4(
            ("testing", "testing", None),
            "eu-central-1",
            "sso",
            now,
            "GET",
            "/v0/profiles/p",
            &[],
            b"",
        );
        let error = emulator_verifier().verify(&signed.view(), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(
            error
                .message
                .contains("service: 'identity-sync', not 'sso'"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_wrong_region_is_rejected_and_named() {
        let now = SystemTime::now();
        let signed = sign_with_aws_sigv4(
            ("testing", "testing", None),
            "us-east-1",
            "identity-sync",
            now,
            "GET",
            "/v0/profiles/p",
            &[],
            b"",
        );
        let error = emulator_verifier().verify(&signed.view(), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(
            error.message.contains("not 'us-east-1'"),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("'eu-central-1'"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_date_more_than_fifteen_minutes_old_has_expired() {
        let signed_at = SystemTime::now();
        let signed = signed_list_request(signed_at);
        let error = emulator_verifier()
            .verify(&signed.view(), signed_at + Duration::from_secs(16 * 60))
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(
            error.message.starts_with("Signature expired"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_date_more_than_fifteen_minutes_ahead_is_rejected_too() {
        let signed_at = SystemTime::now();
        let signed = signed_list_request(signed_at);
        let error = emulator_verifier()
            .verify(&signed.view(), signed_at - Duration::from_secs(16 * 60))
            .unwrap_err();
        assert!(
            error.message.starts_with("Signature expired"),
            "{}",
            error.message
        );
        assert!(
            emulator_verifier()
                .verify(&signed.view(), signed_at + Duration::from_secs(14 * 60))
                .is_ok()
        );
    }

    #[test]
    fn a_tampered_body_breaks_the_signature() {
        let now = SystemTime::now();
        let mut signed = sign_with_aws_sigv4(
            ("testing", "testing", None),
            "eu-central-1",
            "identity-sync",
            now,
            "POST",
            "/v0/profiles/p/startSync",
            &[("content-type", "application/json")],
            b"{}",
        );
        signed.body = b"{\"x\":1}".to_vec();
        let error = emulator_verifier().verify(&signed.view(), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(
            error
                .message
                .contains("does not match the signature you provided")
        );
    }

    #[test]
    fn a_content_sha256_header_that_does_not_match_the_body_is_rejected() {
        let now = SystemTime::now();
        let mut signed = signed_list_request(now);
        signed.headers.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static(
                "0000000000000000000000000000000000000000000000000000000000000000",
            ),
        );
        let error = emulator_verifier().verify(&signed.view(), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(error.message.contains("x-amz-content-sha256"));
    }

    #[test]
    fn an_unknown_access_key_is_unrecognized() {
        let now = SystemTime::now();
        let signed = sign_with_aws_sigv4(
            ("AKIDUNKNOWN", "testing", None),
            "eu-central-1",
            "identity-sync",
            now,
            "GET",
            "/v0/profiles/p",
            &[],
            b"",
        );
        let error = emulator_verifier().verify(&signed.view(), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::UnrecognizedClientException);
    }

    #[test]
    fn a_wrong_secret_breaks_the_signature() {
        let now = SystemTime::now();
        let signed = sign_with_aws_sigv4(
            ("testing", "not-the-secret", None),
            "eu-central-1",
            "identity-sync",
            now,
            "GET",
            "/v0/profiles/p",
            &[],
            b"",
        );
        let error = emulator_verifier().verify(&signed.view(), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
    }

    #[test]
    fn a_request_without_authorization_is_missing_a_token() {
        let headers = header_map(&[("host", "127.0.0.1")]);
        let request = get_root(&headers);
        let error = emulator_verifier()
            .verify(&request, SystemTime::now())
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::MissingAuthenticationTokenException);
    }

    #[test]
    fn a_malformed_authorization_header_is_incomplete() {
        let headers = header_map(&[("authorization", "AWS4-HMAC-SHA256 Credential=testing/x")]);
        let request = get_root(&headers);
        let error = emulator_verifier()
            .verify(&request, SystemTime::now())
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::IncompleteSignatureException);
    }

    #[test]
    fn signed_headers_without_host_are_rejected() {
        let headers = header_map(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=x-amz-date, Signature=00",
            ),
        ]);
        let request = get_root(&headers);
        let error = vanilla_verifier()
            .verify(&request, vanilla_time())
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSignatureException);
        assert!(error.message.contains("'host'"));
    }

    #[test]
    fn credentials_parse_from_a_colon_separated_pair() {
        let parsed: Credentials = "AKID:se:cret".parse().unwrap();
        assert_eq!(parsed, Credentials::new("AKID", "se:cret"));
        assert!("AKID".parse::<Credentials>().is_err());
        assert!(":secret".parse::<Credentials>().is_err());
        assert!(!format!("{parsed:?}").contains("se:cret"));
    }
}
