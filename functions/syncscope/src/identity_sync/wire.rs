//! Every wire detail of the identity-sync API, in one place.
//!
//! The API has no public specification; `docs/identity-sync-api.md` describes the
//! contract this module implements and where its shapes come from. To correct a
//! shape, change it here, in the emulator (`tests/emulator`) and in that document.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use syncscope_core::arn::Arn;
use syncscope_core::scope::{CurrentFilter, FilterKind};

/// The SigV4 signing name of the service.
pub const SIGNING_NAME: &str = "identity-sync";
/// Environment variables that override the endpoint, most specific first.
pub const ENDPOINT_ENV: [&str; 2] = ["AWS_ENDPOINT_URL_IDENTITY_SYNC", "AWS_ENDPOINT_URL"];
/// Setting this to `true` makes the SDKs ignore endpoint overrides; so do we.
pub const IGNORE_ENDPOINTS_ENV: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
/// The largest page ListSyncFilters is asked for.
pub const MAX_RESULTS: u32 = 100;

/// The regional endpoint of the service.
pub fn endpoint_for(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://identity-sync.{region}.{suffix}")
}

/// The operations syncscope calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Operation {
    /// List the filters of a profile, one page.
    ListSyncFilters,
    /// Add a filter to a profile.
    CreateSyncFilter,
    /// Remove a filter from a profile.
    DeleteSyncFilter,
    /// Read a profile.
    GetSyncProfile,
    /// Create a profile for a directory.
    CreateSyncProfile,
    /// Read a target of a profile.
    GetSyncTarget,
    /// Connect a profile to an identity store.
    CreateSyncTarget,
    /// Start (or resume) synchronisation.
    StartSync,
    /// Pause synchronisation.
    StopSync,
}

impl Operation {
    /// Every operation, for counters.
    pub const ALL: [Operation; 9] = [
        Self::ListSyncFilters,
        Self::CreateSyncFilter,
        Self::DeleteSyncFilter,
        Self::GetSyncProfile,
        Self::CreateSyncProfile,
        Self::GetSyncTarget,
        Self::CreateSyncTarget,
        Self::StartSync,
        Self::StopSync,
    ];

    /// The operation's name, as IAM spells the action.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListSyncFilters => "ListSyncFilters",
            Self::CreateSyncFilter => "CreateSyncFilter",
            Self::DeleteSyncFilter => "DeleteSyncFilter",
            Self::GetSyncProfile => "GetSyncProfile",
            Self::CreateSyncProfile => "CreateSyncProfile",
            Self::GetSyncTarget => "GetSyncTarget",
            Self::CreateSyncTarget => "CreateSyncTarget",
            Self::StartSync => "StartSync",
            Self::StopSync => "StopSync",
        }
    }
}

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One request, ready to sign and send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which operation.
    pub operation: Operation,
    /// HTTP method.
    pub method: Method,
    /// Path, percent-encoded.
    pub path: String,
    /// Query string pairs (not yet encoded).
    pub query: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<Vec<u8>>,
    /// What the request does, for error messages ("create sync filter GROUP X in profile P").
    pub what: String,
}

impl Request {
    /// The path and query, encoded.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
            .collect();
        format!("{}?{}", self.path, query.join("&"))
    }
}

/// Everything but RFC 3986 unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Query values use the same strict set.
const QUERY_VALUE: &AsciiSet = SEGMENT;

fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

fn profile_path(profile: &str) -> String {
    format!("/v0/profiles/{}", segment(profile))
}

impl Request {
    /// A request without query or body.
    fn new(operation: Operation, method: Method, path: String, what: String) -> Self {
        Self {
            operation,
            method,
            path,
            query: Vec::new(),
            body: None,
            what,
        }
    }

    /// The request with a JSON body.
    fn json(self, body: Value) -> Self {
        Self {
            body: Some(body.to_string().into_bytes()),
            ..self
        }
    }
}

/// ListSyncFilters: one page of filters of one type.
pub fn list_sync_filters(profile: &str, kind: FilterKind, next_token: Option<&str>) -> Request {
    let mut query = vec![
        ("FilterType", kind.as_str().to_owned()),
        ("MaxResults", MAX_RESULTS.to_string()),
        ("Augmentation", "true".to_owned()),
    ];
    if let Some(token) = next_token {
        query.push(("NextToken", token.to_owned()));
    }
    let what = format!("list {} sync filters of profile {profile}", kind.noun());
    let path = format!("{}/filters", profile_path(profile));
    Request {
        query,
        ..Request::new(Operation::ListSyncFilters, Method::Get, path, what)
    }
}

/// The `Attributes` string of a filter for `name` in `domain`.
pub fn attributes(domain: &str, name: &str) -> String {
    serde_json::json!({ "associateddomain": [domain], "samaccountname": [name] }).to_string()
}

/// CreateSyncFilter: include one group or user.
///
/// The query says what both public clients say (`Augmentation=true`, and
/// `DryRun=false` explicitly: a dry run exists and its default is unknown).
pub fn create_sync_filter(profile: &str, kind: FilterKind, domain: &str, name: &str) -> Request {
    let what = format!(
        "create sync filter {} {name:?} in profile {profile}",
        kind.as_str()
    );
    let path = format!("{}/filters", profile_path(profile));
    let request = Request::new(Operation::CreateSyncFilter, Method::Post, path, what);
    Request {
        query: vec![
            ("Augmentation", "true".to_owned()),
            ("DryRun", "false".to_owned()),
        ],
        ..request
    }
    .json(serde_json::json!({
        "FilterType": kind.as_str(),
        "Effect": "INCLUDE",
        "Attributes": attributes(domain, name),
    }))
}

/// DeleteSyncFilter: remove one filter by id.
pub fn delete_sync_filter(profile: &str, id: &str, label: &str) -> Request {
    let what = format!("delete sync filter {id} ({label}) of profile {profile}");
    let path = format!("{}/filters/{}", profile_path(profile), segment(id));
    Request::new(Operation::DeleteSyncFilter, Method::Delete, path, what)
}

/// GetSyncProfile.
pub fn get_sync_profile(profile: &str) -> Request {
    let what = format!("get sync profile {profile}");
    Request::new(
        Operation::GetSyncProfile,
        Method::Get,
        profile_path(profile),
        what,
    )
}

/// CreateSyncProfile for a directory.
pub fn create_sync_profile(profile: &str, source_arn: &str) -> Request {
    let what = format!("create sync profile {profile}");
    let path = "/v0/profiles".to_owned();
    Request::new(Operation::CreateSyncProfile, Method::Post, path, what).json(serde_json::json!({
        "SyncProfileName": profile,
        "SourceResourceArn": source_arn,
    }))
}

/// GetSyncTarget.
pub fn get_sync_target(profile: &str, target: &str) -> Request {
    let what = format!("get sync target {target} of profile {profile}");
    let path = format!("{}/targets/{}", profile_path(profile), segment(target));
    Request::new(Operation::GetSyncTarget, Method::Get, path, what)
}

/// CreateSyncTarget: connect the profile to an identity store.
pub fn create_sync_target(profile: &str, target: &str, target_arn: &str) -> Request {
    let what = format!("create sync target {target} of profile {profile}");
    let path = format!("{}/targets", profile_path(profile));
    Request::new(Operation::CreateSyncTarget, Method::Post, path, what).json(serde_json::json!({
        "SyncTargetName": target,
        "TargetResourceArn": target_arn,
    }))
}

/// StartSync (`startSync`) or StopSync (`stopSync`): resume or pause the syncs.
fn sync_switch(operation: Operation, profile: &str, action: &str, verb: &str) -> Request {
    let what = format!("{verb} sync of profile {profile}");
    let path = format!("{}/{action}", profile_path(profile));
    Request::new(operation, Method::Post, path, what).json(serde_json::json!({}))
}

/// StartSync.
pub fn start_sync(profile: &str) -> Request {
    sync_switch(Operation::StartSync, profile, "startSync", "start")
}

/// StartSync with the body S1-py sends, the JSON string `""`, for a service that
/// refuses the empty object ([`refuses_body`]).
pub fn start_sync_string_body(profile: &str) -> Request {
    sync_switch(Operation::StartSync, profile, "startSync", "start").json(Value::from(""))
}

/// Whether an error refuses a request's body as such (its shape, not its values):
/// worth one more try with the other body a public client sends.
pub fn refuses_body(code: &str) -> bool {
    matches!(code, "ValidationException" | "SerializationException")
}

/// StopSync.
pub fn stop_sync(profile: &str) -> Request {
    sync_switch(Operation::StopSync, profile, "stopSync", "stop")
}

/// A page of ListSyncFilters.
#[derive(Debug, Deserialize)]
struct ListPage {
    #[serde(rename = "SyncFilters", default)]
    filters: Vec<WireFilter>,
    #[serde(rename = "NextToken", default)]
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireFilter {
    #[serde(rename = "SyncFilterId")]
    id: String,
    #[serde(rename = "FilterType", default)]
    kind: Option<FilterKind>,
    #[serde(rename = "Attributes")]
    attributes: String,
}

/// Parses a ListSyncFilters page: the filters and the next token.
///
/// `kind` is the type that was asked for, used when a filter does not repeat it.
pub fn parse_list_page(
    body: &[u8],
    kind: FilterKind,
) -> Result<(Vec<CurrentFilter>, Option<String>), String> {
    let page: ListPage = serde_json::from_slice(body).map_err(|e| format!("bad page: {e}"))?;
    let filters = page
        .filters
        .into_iter()
        .map(|f| {
            let (domain, name) =
                parse_attributes(&f.attributes).map_err(|why| format!("filter {}: {why}", f.id))?;
            Ok(CurrentFilter {
                id: f.id,
                kind: f.kind.unwrap_or(kind),
                name,
                domain,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let next = page.next_token.filter(|t| !t.is_empty());
    Ok((filters, next))
}

/// Reads domain and name from an `Attributes` string, plain or augmented.
pub fn parse_attributes(attributes: &str) -> Result<(String, String), String> {
    let value: Value =
        serde_json::from_str(attributes).map_err(|e| format!("Attributes is not JSON: {e}"))?;
    let first = |key: &str| -> Option<String> {
        match value.get(key)?.get(0)? {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("display-only")?.as_str().map(str::to_owned),
            _ => None,
        }
    };
    let domain = first("associateddomain").ok_or("Attributes has no associateddomain")?;
    let name = first("samaccountname").ok_or("Attributes has no samaccountname")?;
    Ok((domain, name))
}

/// The new filter's id, when a CreateSyncFilter answer carries one (its body is not
/// documented: nothing depends on it).
pub fn parse_created_id(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("SyncFilterId")?.as_str().map(str::to_owned)
}

/// A sync profile, as GetSyncProfile / CreateSyncProfile answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SyncProfile {
    /// The profile's name.
    #[serde(rename = "SyncProfileName")]
    pub name: String,
    /// The profile's ARN.
    #[serde(rename = "SyncProfileArn", default)]
    pub arn: Option<String>,
    /// The directory it syncs from.
    #[serde(rename = "SourceResourceArn", default)]
    pub source_arn: Option<String>,
    /// `ACTIVE` or `PAUSED`.
    #[serde(rename = "SyncProfileState", default)]
    pub state: Option<String>,
}

/// A sync target, as GetSyncTarget / CreateSyncTarget answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SyncTarget {
    /// The target's name.
    #[serde(rename = "SyncTargetName")]
    pub name: String,
    /// The identity store it writes to.
    #[serde(rename = "TargetResourceArn", default)]
    pub target_arn: Option<String>,
}

/// The error code and message of a failed response.
pub fn parse_error(error_type_header: Option<&str>, body: &[u8]) -> (String, String) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let from_body = value.get("__type").and_then(Value::as_str);
    let raw = error_type_header.or(from_body).unwrap_or("UnknownError");
    // Strip "namespace#" prefixes and ":url" suffixes.
    let code = raw.rsplit('#').next().unwrap_or(raw);
    let code = code.split(':').next().unwrap_or(code).trim().to_owned();
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .unwrap_or("");
    (code, without_signing_echo(message).to_owned())
}

/// Whether an error answer is an AWS one: it names its error code (in the
/// `x-amzn-errortype` header or the body's `__type`). Anything else (a proxy's page,
/// another server) is described by its status and host instead.
pub fn has_error_code(error_type_header: Option<&str>, body: &[u8]) -> bool {
    error_type_header.is_some()
        || serde_json::from_slice::<Value>(body)
            .ok()
            .is_some_and(|v| v.get("__type").is_some_and(Value::is_string))
}

/// A signature error's message quotes the canonical request and the string to sign,
/// and with them the signed headers, the session token among them. Only the
/// explanation before them is kept: it goes to logs, the CloudFormation Reason and
/// the card.
pub fn without_signing_echo(message: &str) -> &str {
    ["The Canonical String", "The String-to-Sign"]
        .iter()
        .filter_map(|marker| message.find(marker))
        .min()
        .map_or(message, |at| message[..at].trim_end())
}

/// The response header carrying the error code.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// Whether an error is worth retrying: throttling and server faults.
pub fn is_retryable(status: u16, code: &str) -> bool {
    status == 429
        || status >= 500
        || matches!(
            code,
            "ThrottlingException"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "ServiceUnavailableException"
                | "InternalServerException"
        )
}

/// Whether the service asked the client to slow down.
pub fn is_throttling(status: u16, code: &str) -> bool {
    status == 429
        || matches!(
            code,
            "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded"
        )
}

/// "Already exists" (assumed, see the contract): on a create it makes a listing that
/// does not show the filter worth taking again, a few seconds later.
pub fn is_already_exists(status: u16, code: &str) -> bool {
    status == 409 || code == "ConflictException"
}

/// "Not found".
pub fn is_not_found(status: u16, code: &str) -> bool {
    status == 404 || code == "ResourceNotFoundException"
}

/// Why the service refused a request, as far as the fix differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request was signed for another region than the service's.
    WrongRegion,
    /// The credentials were not accepted (wrong, unknown or expired).
    Credentials,
    /// The caller may not call the operation.
    Denied,
    /// Something else.
    Other,
}

/// Classifies a refusal by its code (and, for a signature error, its message).
pub fn refusal(code: &str, message: &str) -> Refusal {
    match code {
        "InvalidSignatureException" if message.contains("region") => Refusal::WrongRegion,
        "InvalidSignatureException" | "UnrecognizedClientException" | "ExpiredTokenException" => {
            Refusal::Credentials
        }
        "AccessDeniedException" => Refusal::Denied,
        _ => Refusal::Other,
    }
}

/// Whether `CreateSyncTarget` refused the form of `TargetResourceArn` it was given (a
/// validation error naming the field), so the next of [`target_forms`] is worth a try.
pub fn refuses_target_arn_form(code: &str, message: &str) -> bool {
    code == "ValidationException" && message.contains("TargetResourceArn")
}

/// One way of writing the instance's identity store as a sync target's
/// `TargetResourceArn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetForm {
    /// What is sent (and what GetSyncTarget answers for a target created with it).
    pub value: String,
    /// Which form it is, for the user: `short form with the directory id`, ...
    pub label: &'static str,
}

/// The forms of `TargetResourceArn` that name the identity store `store_arn`
/// (`arn:PARTITION:identitystore::ACCOUNT:identitystore/d-...`) of an AD source whose
/// directory is `directory_id`, in the order bootstrap tries them
/// (docs/identity-sync-api.md, "The sync target's form"):
///
/// 1. `identitystore/<directory id>`: the only form public code sends;
/// 2. `identitystore/<identity store id>`: the same shape with the other id the
///    public docstring's `directoryid` may mean;
/// 3. the full identity store ARN: what the field's name says, sent by no one.
///
/// A form equal to an earlier one (the two ids may be the same) is left out.
pub fn target_forms(store_arn: &str, directory_id: &str) -> Vec<TargetForm> {
    let short_store = Arn::parse(store_arn).map_or(store_arn, |a| a.resource);
    let candidates = [
        (!directory_id.is_empty()).then(|| {
            (
                format!("identitystore/{directory_id}"),
                "short form with the directory id",
            )
        }),
        Some((
            short_store.to_owned(),
            "short form with the identity store id",
        )),
        Some((store_arn.to_owned(), "full ARN")),
    ];
    let mut forms: Vec<TargetForm> = Vec::with_capacity(3);
    for (value, label) in candidates.into_iter().flatten() {
        if !forms.iter().any(|f| f.value == value) {
            forms.push(TargetForm { value, label });
        }
    }
    forms
}

/// Whether a sync target's `TargetResourceArn` names the identity store `store_arn` in
/// one of the [`target_forms`]: the full ARN, or `identitystore/` with the identity
/// store's id or the directory's (`directory_id`, empty when not known). A full ARN
/// with any other id, or another account's, names another store.
pub fn names_store(found: &str, store_arn: &str, directory_id: &str) -> bool {
    target_forms(store_arn, directory_id)
        .iter()
        .any(|form| form.value == found)
}

/// The fields and codes the contract documents (docs/identity-sync-api.md), for
/// [`contract_differences`].
mod shapes {
    pub const LIST_PAGE: &[&str] = &["SyncFilters", "NextToken"];
    pub const FILTER: &[&str] = &[
        "SyncFilterId",
        "FilterType",
        "Effect",
        "Attributes",
        "CreateTime",
        "SyncProfileName",
    ];
    pub const FILTER_REQUIRED: &[&str] = &["SyncFilterId", "Attributes"];
    pub const ATTRIBUTES: &[&str] = &["associateddomain", "samaccountname", "objectsid"];
    pub const PROFILE: &[&str] = &[
        "SyncProfileName",
        "SyncProfileArn",
        "SourceResourceArn",
        "SyncProfileState",
        "CreateTime",
    ];
    pub const TARGET: &[&str] = &[
        "SyncProfileName",
        "SyncTargetName",
        "SyncTargetArn",
        "TargetResourceArn",
        "CreateTime",
    ];
    pub const ERROR_CODES: &[&str] = &[
        "ValidationException",
        "AccessDeniedException",
        "InvalidSignatureException",
        "UnrecognizedClientException",
        "ResourceNotFoundException",
        "ConflictException",
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailableException",
    ];
}

/// How an answer differs from the documented contract: unknown or missing fields,
/// another type of `CreateTime`, an error code or shape the contract does not list.
/// Each difference is one sentence; none means the answer is as documented. (The
/// client reads every such answer anyway: this is what `syncscope doctor` reports so
/// the contract can be corrected.)
pub fn contract_differences(
    operation: Operation,
    status: u16,
    error_type: Option<&str>,
    body: &[u8],
) -> Vec<String> {
    let op = operation.name();
    let mut out = Vec::new();
    let value: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let (code, _) = parse_error(error_type, body);
        if !shapes::ERROR_CODES.contains(&code.as_str()) {
            out.push(format!(
                "{op}: error code {code:?} (HTTP {status}) is not in the contract's table"
            ));
        }
        if error_type.is_none() {
            out.push(format!(
                "{op}: an error (HTTP {status}) without the x-amzn-ErrorType header"
            ));
        }
        if value.as_ref().and_then(|v| v.get("__type")).is_none() {
            out.push(format!("{op}: an error body without __type"));
        }
        return out;
    }
    let Some(value) = value else {
        if !body.is_empty() {
            out.push(format!("{op}: the answer is not JSON"));
        }
        return out;
    };
    match operation {
        Operation::ListSyncFilters => {
            let mut fields = |what: &str, object: &Value, known: &[&str], required: &[&str]| {
                fields_of(&mut out, op, what, object, known, required)
            };
            fields("the page", &value, shapes::LIST_PAGE, &["SyncFilters"]);
            let filters = value.get("SyncFilters").and_then(Value::as_array);
            for filter in filters.into_iter().flatten() {
                fields("a filter", filter, shapes::FILTER, shapes::FILTER_REQUIRED);
                let attributes = filter
                    .get("Attributes")
                    .and_then(Value::as_str)
                    .and_then(|a| serde_json::from_str::<Value>(a).ok());
                match attributes {
                    Some(attributes) => fields(
                        "a filter's Attributes",
                        &attributes,
                        shapes::ATTRIBUTES,
                        &["associateddomain", "samaccountname"],
                    ),
                    None => fields("a filter's Attributes", &Value::Null, &[], &[]),
                }
            }
        }
        Operation::GetSyncProfile | Operation::CreateSyncProfile => {
            fields_of(
                &mut out,
                op,
                "the profile",
                &value,
                shapes::PROFILE,
                &["SyncProfileName"],
            );
        }
        Operation::GetSyncTarget | Operation::CreateSyncTarget => {
            fields_of(
                &mut out,
                op,
                "the target",
                &value,
                shapes::TARGET,
                &["SyncTargetName"],
            );
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// The differences of one JSON object from its documented fields.
fn fields_of(
    out: &mut Vec<String>,
    op: &str,
    what: &str,
    object: &Value,
    known: &[&str],
    required: &[&str],
) {
    let Some(map) = object.as_object() else {
        out.push(format!("{op}: {what} is not a JSON object"));
        return;
    };
    for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
        out.push(format!(
            "{op}: {what} has the field {key:?}, not in the contract"
        ));
    }
    for key in required.iter().filter(|k| !map.contains_key(**k)) {
        out.push(format!("{op}: {what} lacks the field {key:?}"));
    }
    // A string in S1's types, a number in the emulator: its format is not known, and
    // it is never read; anything else is worth reporting.
    match map.get("CreateTime") {
        Some(Value::Number(_) | Value::String(_)) | None => {}
        Some(_) => out.push(format!(
            "{op}: {what}'s CreateTime is neither a number nor a string"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn start_sync_has_a_second_body_for_a_service_that_refuses_the_first() {
        assert_eq!(start_sync("P").body.as_deref(), Some(&b"{}"[..]));
        assert_eq!(
            start_sync_string_body("P").body.as_deref(),
            Some(&br#""""#[..])
        );
        assert!(refuses_body("ValidationException") && refuses_body("SerializationException"));
        assert!(!refuses_body("AccessDeniedException") && !refuses_body("ThrottlingException"));
    }

    #[test]
    fn only_an_answer_that_names_its_code_is_an_aws_error() {
        assert!(has_error_code(Some("AccessDeniedException"), b""));
        assert!(has_error_code(
            None,
            br#"{"__type": "x#ValidationException", "message": "m"}"#
        ));
        assert!(!has_error_code(
            None,
            b"<html><body>Not Found</body></html>"
        ));
        assert!(!has_error_code(None, br#"{"message": "no type"}"#));
        assert!(!has_error_code(None, b""));
    }

    #[test]
    fn refusals_are_told_apart_by_code_here_and_only_here() {
        for (code, message, want) in [
            (
                "InvalidSignatureException",
                "Credential should be scoped to a valid region",
                Refusal::WrongRegion,
            ),
            (
                "InvalidSignatureException",
                "The request signature we calculated does not match",
                Refusal::Credentials,
            ),
            ("UnrecognizedClientException", "", Refusal::Credentials),
            ("ExpiredTokenException", "", Refusal::Credentials),
            ("AccessDeniedException", "not authorized", Refusal::Denied),
            ("ValidationException", "", Refusal::Other),
        ] {
            assert_eq!(refusal(code, message), want, "{code}: {message}");
        }
        assert!(refuses_target_arn_form(
            "ValidationException",
            "1 validation error: TargetResourceArn"
        ));
        assert!(!refuses_target_arn_form(
            "ValidationException",
            "SyncProfileName is too long"
        ));
        assert!(!refuses_target_arn_form(
            "ConflictException",
            "TargetResourceArn"
        ));
    }

    const STORE: &str = "arn:aws:identitystore::123456789012:identitystore/d-99999999aa";

    #[test]
    fn target_forms_come_in_the_order_the_evidence_supports() {
        let forms = target_forms(STORE, "d-1234567890");
        let values: Vec<&str> = forms.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(
            values,
            [
                "identitystore/d-1234567890",
                "identitystore/d-99999999aa",
                STORE
            ]
        );
        let labels: Vec<&str> = forms.iter().map(|f| f.label).collect();
        assert_eq!(
            labels,
            [
                "short form with the directory id",
                "short form with the identity store id",
                "full ARN"
            ]
        );
    }

    #[test]
    fn target_forms_are_not_tried_twice_when_the_ids_are_equal_or_one_is_unknown() {
        let same = "arn:aws:identitystore::123456789012:identitystore/d-1234567890";
        let values: Vec<String> = target_forms(same, "d-1234567890")
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(values, ["identitystore/d-1234567890", same]);
        let labels: Vec<&str> = target_forms(STORE, "")
            .into_iter()
            .map(|f| f.label)
            .collect();
        assert_eq!(
            labels,
            ["short form with the identity store id", "full ARN"]
        );
    }

    #[test]
    fn a_target_names_the_store_in_any_of_the_three_forms_and_no_other() {
        for found in [
            STORE,
            "identitystore/d-99999999aa",
            "identitystore/d-1234567890",
        ] {
            assert!(names_store(found, STORE, "d-1234567890"), "{found}");
        }
        for found in [
            // The issue's case: a full ARN of another store (here: the directory's id).
            "arn:aws:identitystore::123456789012:identitystore/d-1234567890",
            "arn:aws:identitystore::210987654321:identitystore/d-99999999aa",
            "identitystore/d-0000000000",
            "d-99999999aa",
            "",
        ] {
            assert!(!names_store(found, STORE, "d-1234567890"), "{found}");
        }
        // The directory unknown: only the store's own forms count.
        assert!(!names_store("identitystore/d-1234567890", STORE, ""));
        assert!(!names_store("identitystore/", STORE, ""));
        assert!(names_store("identitystore/d-99999999aa", STORE, ""));
    }

    #[test]
    fn list_requests_carry_type_page_size_and_token() {
        let r = list_sync_filters("My Profile", FilterKind::User, Some("t/1=="));
        assert_eq!(r.path, "/v0/profiles/My%20Profile/filters");
        assert_eq!(
            r.path_and_query(),
            "/v0/profiles/My%20Profile/filters?FilterType=USER&MaxResults=100&Augmentation=true&NextToken=t%2F1%3D%3D"
        );
    }

    #[test]
    fn create_requests_encode_attributes_as_a_json_string() {
        let r = create_sync_filter("p", FilterKind::Group, "corp.example.com", "AWS \"Admins\"");
        assert_eq!(
            r.path_and_query(),
            "/v0/profiles/p/filters?Augmentation=true&DryRun=false"
        );
        let body: Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["FilterType"], "GROUP");
        assert_eq!(body["Effect"], "INCLUDE");
        let attrs = body["Attributes"].as_str().unwrap();
        assert_eq!(
            parse_attributes(attrs).unwrap(),
            ("corp.example.com".into(), "AWS \"Admins\"".into())
        );
    }

    #[test]
    fn attributes_are_read_plain_or_augmented() {
        let plain = r#"{"associateddomain":["corp.example.com"],"samaccountname":["AWS-Admins"]}"#;
        let augmented = r#"{"associateddomain":["corp.example.com"],"samaccountname":[{"display-only":"AWS-Admins"}]}"#;
        assert_eq!(
            parse_attributes(plain).unwrap(),
            parse_attributes(augmented).unwrap()
        );
        assert!(
            parse_attributes(r#"{"samaccountname":["x"]}"#)
                .unwrap_err()
                .contains("associateddomain")
        );
    }

    #[test]
    fn list_pages_parse_filters_and_the_next_token() {
        let body = serde_json::json!({
            "SyncFilters": [{"SyncFilterId": "sf-1", "FilterType": "GROUP", "Effect": "INCLUDE",
                "Attributes": "{\"associateddomain\":[\"corp.example.com\"],\"samaccountname\":[{\"display-only\":\"A\"}]}",
                "CreateTime": 1763800000.5}],
            "NextToken": "abc"
        });
        let (filters, next) =
            parse_list_page(body.to_string().as_bytes(), FilterKind::Group).unwrap();
        assert_eq!(filters[0].name, "A");
        assert_eq!(filters[0].id, "sf-1");
        assert_eq!(next.as_deref(), Some("abc"));
        let last = serde_json::json!({"SyncFilters": [], "NextToken": null});
        assert_eq!(
            parse_list_page(last.to_string().as_bytes(), FilterKind::Group)
                .unwrap()
                .1,
            None
        );
    }

    #[test]
    fn error_codes_come_from_the_header_or_the_body() {
        assert_eq!(
            parse_error(Some("ThrottlingException:http://internal"), b"{}").0,
            "ThrottlingException"
        );
        let (code, message) = parse_error(
            None,
            br#"{"__type":"com.amazon#ConflictException","Message":"exists"}"#,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ConflictException", "exists")
        );
    }

    #[test]
    fn throttling_and_faults_are_retryable_but_client_errors_are_not() {
        assert!(is_retryable(429, "ThrottlingException"));
        assert!(is_retryable(400, "ThrottlingException"));
        assert!(is_retryable(503, ""));
        assert!(!is_retryable(403, "AccessDeniedException"));
        assert!(!is_retryable(409, "ConflictException"));
    }

    #[test]
    fn contract_differences_name_unknown_fields_odd_times_and_codes() {
        let documented = serde_json::json!({"SyncFilters": [{"SyncFilterId": "sf-1", "FilterType": "GROUP",
            "Effect": "INCLUDE", "Attributes": "{\"associateddomain\":[\"d\"],\"samaccountname\":[\"A\"]}",
            "CreateTime": 1.5}]});
        let body = documented.to_string();
        assert!(
            contract_differences(Operation::ListSyncFilters, 200, None, body.as_bytes()).is_empty()
        );
        // A string time (S1's types) is documented too.
        let body = body.replace("1.5", "\"2026-11-30T10:00:00Z\"");
        assert!(
            contract_differences(Operation::ListSyncFilters, 200, None, body.as_bytes()).is_empty()
        );
        let odd = serde_json::json!({"SyncFilters": [{"SyncFilterId": "sf-1", "Extra": 1,
            "Attributes": "{\"associateddomain\":[\"d\"],\"samaccountname\":[\"A\"]}",
            "CreateTime": {"EpochSeconds": 1.5}}], "More": true});
        let found = contract_differences(
            Operation::ListSyncFilters,
            200,
            None,
            odd.to_string().as_bytes(),
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.iter().any(|d| d.contains("\"Extra\"")), "{found:?}");
        assert!(found.iter().any(|d| d.contains("\"More\"")), "{found:?}");
        assert!(
            found
                .iter()
                .any(|d| d.contains("CreateTime is neither a number nor a string")),
            "{found:?}"
        );
        let error = contract_differences(
            Operation::GetSyncProfile,
            400,
            Some("SomethingNewException"),
            br#"{"__type":"SomethingNewException","message":"x"}"#,
        );
        assert_eq!(error.len(), 1, "{error:?}");
        assert!(error[0].contains("SomethingNewException"), "{error:?}");
    }

    #[test]
    fn endpoints_follow_the_partition() {
        assert_eq!(
            endpoint_for("eu-central-1"),
            "https://identity-sync.eu-central-1.amazonaws.com"
        );
        assert_eq!(
            endpoint_for("cn-north-1"),
            "https://identity-sync.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn a_signature_error_keeps_its_explanation_but_not_the_signed_headers() {
        let body = br#"{"message":"The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n'POST\nx-amz-security-token:SECRET-TOKEN\n'\n\nThe String-to-Sign should have been\n'AWS4'"}"#;
        let (code, message) = parse_error(Some("InvalidSignatureException"), body);
        assert_eq!(code, "InvalidSignatureException");
        assert_eq!(
            message,
            "The request signature we calculated does not match the signature you provided."
        );
    }
}
