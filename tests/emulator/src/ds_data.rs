//! The AWS Directory Service Data operations syncscope's directory check uses,
//! served beside identity-sync on the same port: `DescribeUser`, `DescribeGroup`,
//! `ListGroupMembers`, `ListGroups` and `ListUsers`, in the documented REST-JSON wire
//! format (`POST
//! /Users/DescribeUser?DirectoryId=...` and so on, a JSON body, errors as a status,
//! `x-amzn-ErrorType` and `{"Message", "Reason"}`), signed with SigV4 for the service
//! `ds-data`. The official SDK (`aws-sdk-directoryservicedata`) is the client the
//! tests check it with.
//!
//! The directories come from the seed's `directories`:
//!
//! ```json
//! {"directories": [{
//!   "id": "d-1234567890", "domain": "corp.example.com",
//!   "type": "managed", "data_access": true,
//!   "users": ["alice", "bob"],
//!   "groups": {"AWS-Admins": {"users": ["alice"], "groups": ["AWS-Ops"]}}
//! }]}
//! ```
//!
//! `any_name: true` makes every name asked exist (the users and groups listed keep
//! their members; any other is a user, or a group without members), and makes the
//! directory endless: its `ListGroups` and `ListUsers` never end (the names listed,
//! then made-up ones, always with a `NextToken`), as a directory too large to list
//! would. Groups are listed by name, users in the seed's order, 250 at most a page. `type` is
//! `managed` (default) or `connector` (answers every call with
//! `ValidationException` `INVALID_DIRECTORY_TYPE`); `data_access: false` answers
//! `AccessDeniedException` `DATA_DISABLED`; `iam_denied: true` answers
//! `AccessDeniedException` `IAM_AUTH`; an unknown directory answers
//! `AccessDeniedException` `DIRECTORY_AUTH`. Names compare case-insensitively, as in
//! AD. Calls are counted as `ds-data:<Operation>` beside identity-sync's counters;
//! the `latency_ms` knob applies, `ds_data_throttle` answers every call `429
//! ThrottlingException`, and `ds_data_hang` answers none.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The SigV4 service name of Directory Service Data.
pub const SERVICE: &str = "ds-data";

/// The operations served, as counted (`ds-data:` and the name).
pub const OPERATIONS: [&str; 5] = [
    "ds-data:DescribeUser",
    "ds-data:DescribeGroup",
    "ds-data:ListGroupMembers",
    "ds-data:ListGroups",
    "ds-data:ListUsers",
];

/// Most entries in one `ListGroupMembers`, `ListGroups` or `ListUsers` page.
const MAX_PAGE: usize = 250;

/// A directory of a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDirectory {
    /// The directory id, `d-` and 10 hex digits.
    pub id: String,
    /// Its AD domain (the realm).
    pub domain: String,
    /// `managed` (AWS Managed Microsoft AD) or `connector` (AD Connector).
    #[serde(default, rename = "type")]
    pub kind: DirectoryKind,
    /// Whether directory data access is enabled.
    #[serde(default = "enabled")]
    pub data_access: bool,
    /// IAM denies the caller (`AccessDeniedException` `IAM_AUTH`).
    #[serde(default)]
    pub iam_denied: bool,
    /// The users (sAMAccountNames).
    #[serde(default)]
    pub users: Vec<String>,
    /// The groups, each with its direct members.
    #[serde(default)]
    pub groups: BTreeMap<String, SeedGroup>,
    /// Every name asked exists (a user, or a group without members) unless listed:
    /// the directory of test worlds that are not about the directory check.
    #[serde(default)]
    pub any_name: bool,
}

fn enabled() -> bool {
    true
}

/// A directory's kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    /// AWS Managed Microsoft AD: has the directory data API.
    #[default]
    Managed,
    /// AD Connector: has none.
    Connector,
}

/// A group's direct members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// Member users.
    #[serde(default)]
    pub users: Vec<String>,
    /// Member groups (nested).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An error as ds-data answers it.
struct DsError {
    status: StatusCode,
    code: &'static str,
    message: String,
    reason: Option<&'static str>,
}

impl IntoResponse for DsError {
    fn into_response(self) -> Response {
        let mut body = json!({"Message": self.message});
        if let Some(reason) = self.reason {
            body["Reason"] = reason.into();
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        response
    }
}

fn error(
    status: StatusCode,
    code: &'static str,
    reason: Option<&'static str>,
    message: String,
) -> Response {
    DsError {
        status,
        code,
        message,
        reason,
    }
    .into_response()
}

/// Throttled, as the `ds_data_throttle` knob answers.
pub fn throttled() -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "ThrottlingException",
        None,
        "Rate exceeded".to_owned(),
    )
}

/// The operation counted for a request path (None: not a ds-data path).
pub fn operation_of(path: &str) -> Option<&'static str> {
    match path {
        "/Users/DescribeUser" => Some(OPERATIONS[0]),
        "/Groups/DescribeGroup" => Some(OPERATIONS[1]),
        "/GroupMemberships/ListGroupMembers" => Some(OPERATIONS[2]),
        "/Groups/ListGroups" => Some(OPERATIONS[3]),
        "/Users/ListUsers" => Some(OPERATIONS[4]),
        _ => None,
    }
}

/// The `DirectoryId` of a query string.
fn directory_id(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "DirectoryId").then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Answers one ds-data operation against `directories`.
pub fn answer(
    operation: &'static str,
    query: Option<&str>,
    body: &[u8],
    directories: &[SeedDirectory],
) -> Response {
    let validation = |message: String, reason: &'static str| {
        error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            Some(reason),
            message,
        )
    };
    let Some(id) = directory_id(query) else {
        return validation("DirectoryId is required".to_owned(), "MISSING_ATTRIBUTE");
    };
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return validation("the body is not JSON".to_owned(), "INVALID_ATTRIBUTE_VALUE");
    };
    let Some(directory) = directories.iter().find(|d| d.id == id) else {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("DIRECTORY_AUTH"),
            format!("You do not have access to directory {id}, or it does not exist."),
        );
    };
    if directory.kind == DirectoryKind::Connector {
        return validation(
            format!("Directory {id} is not an AWS Managed Microsoft AD directory."),
            "INVALID_DIRECTORY_TYPE",
        );
    }
    if directory.iam_denied {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("IAM_AUTH"),
            format!("You are not authorized to perform this operation on {id}."),
        );
    }
    if !directory.data_access {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("DATA_DISABLED"),
            format!("Directory data access is disabled for {id}."),
        );
    }
    if let Some(realm) = input.get("Realm").and_then(Value::as_str)
        && !same(realm, &directory.domain)
    {
        return validation(
            format!(
                "Realm {realm} is not {}'s domain or a trusted one.",
                directory.id
            ),
            "INVALID_REALM",
        );
    }
    if operation == OPERATIONS[3] || operation == OPERATIONS[4] {
        return listing(operation == OPERATIONS[3], &input, directory)
            .unwrap_or_else(|message| validation(message, "INVALID_NEXT_TOKEN"));
    }
    let Some(name) = input.get("SAMAccountName").and_then(Value::as_str) else {
        return validation("SAMAccountName is required".to_owned(), "MISSING_ATTRIBUTE");
    };
    let not_found = |what: &str| {
        error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            None,
            format!("{what} {name} was not found in {}.", directory.id),
        )
    };
    let realm = directory.domain.to_uppercase();
    match operation {
        "ds-data:DescribeUser" => {
            let user = match directory.users.iter().find(|u| same(u, name)) {
                Some(user) => user.as_str(),
                None if directory.any_name => name,
                None => return not_found("User"),
            };
            axum::Json(json!({
                "DirectoryId": directory.id,
                "Realm": realm,
                "SAMAccountName": user,
                "SID": sid(1, user),
                "Enabled": true,
                "DistinguishedName": format!("CN={user},OU=Users,DC={}", directory.domain.replace('.', ",DC=")),
            }))
            .into_response()
        }
        "ds-data:DescribeGroup" => {
            let group = match directory.groups.iter().find(|(g, _)| same(g, name)) {
                Some((group, _)) => group.as_str(),
                None if directory.any_name => name,
                None => return not_found("Group"),
            };
            axum::Json(json!({
                "DirectoryId": directory.id,
                "Realm": realm,
                "SAMAccountName": group,
                "SID": sid(2, group),
                "GroupScope": "Global",
                "GroupType": "Security",
            }))
            .into_response()
        }
        _ => {
            let empty = SeedGroup::default();
            let group = match directory.groups.iter().find(|(g, _)| same(g, name)) {
                Some((_, group)) => group,
                None if directory.any_name => &empty,
                None => return not_found("Group"),
            };
            let members: Vec<Value> =
                group
                    .users
                    .iter()
                    .map(|u| json!({"SAMAccountName": u, "SID": sid(1, u), "MemberType": "USER"}))
                    .chain(group.groups.iter().map(
                        |g| json!({"SAMAccountName": g, "SID": sid(2, g), "MemberType": "GROUP"}),
                    ))
                    .collect();
            let (start, end) = match page_of(&input, "members-", Some(members.len())) {
                Ok(page) => page,
                Err(message) => return validation(message, "INVALID_NEXT_TOKEN"),
            };
            let mut page = json!({
                "DirectoryId": directory.id,
                "Realm": realm,
                "MemberRealm": realm,
                "Members": members[start..end],
            });
            if end < members.len() {
                page["NextToken"] = format!("members-{end}").into();
            }
            axum::Json(page).into_response()
        }
    }
}

/// A made-up SID, stable for a kind (1 user, 2 group) and name.
fn sid(kind: u8, name: &str) -> String {
    let hash = name.to_lowercase().bytes().fold(u32::from(kind), |h, b| {
        h.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    format!("S-1-5-21-1000-2000-3000-{}", 1000 + hash % 1_000_000)
}

/// The page `NextToken` and `MaxResults` ask of `total` entries (None: endless):
/// its start and end, or why the token is not valid.
fn page_of(input: &Value, prefix: &str, total: Option<usize>) -> Result<(usize, usize), String> {
    let size = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(MAX_PAGE, |n| (n as usize).clamp(1, MAX_PAGE));
    let start = match input.get("NextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => token
            .strip_prefix(prefix)
            .and_then(|n| n.parse().ok())
            .filter(|n| total.is_none_or(|total| *n <= total))
            .ok_or_else(|| format!("NextToken {token} is not valid"))?,
    };
    Ok((start, total.map_or(start + size, |t| (start + size).min(t))))
}

/// A `ListGroups` (`groups`, by name) or `ListUsers` page (the seed's order); an `any_name`
/// directory lists its names and then made-up ones without end.
fn listing(groups: bool, input: &Value, directory: &SeedDirectory) -> Result<Response, String> {
    let names: Vec<&str> = if groups {
        directory.groups.keys().map(String::as_str).collect()
    } else {
        directory.users.iter().map(String::as_str).collect()
    };
    let prefix = if groups { "groups-" } else { "users-" };
    let total = (!directory.any_name).then_some(names.len());
    let (start, end) = page_of(input, prefix, total)?;
    let name_at = |i: usize| match names.get(i) {
        Some(name) => (*name).to_owned(),
        None => format!(
            "zz-made-up-{}-{i:08}",
            if groups { "group" } else { "user" }
        ),
    };
    let entries: Vec<Value> = (start..end)
        .map(|i| {
            let name = name_at(i);
            if groups {
                json!({"SAMAccountName": name, "SID": sid(2, &name), "GroupScope": "Global", "GroupType": "Security"})
            } else {
                json!({"SAMAccountName": name, "SID": sid(1, &name), "Enabled": true})
            }
        })
        .collect();
    let mut page = json!({
        "DirectoryId": directory.id,
        "Realm": directory.domain.to_uppercase(),
        (if groups { "Groups" } else { "Users" }): entries,
    });
    if total.is_none_or(|total| end < total) {
        page["NextToken"] = format!("{prefix}{end}").into();
    }
    Ok(axum::Json(page).into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn directory() -> Vec<SeedDirectory> {
        serde_json::from_value(json!([{
            "id": "d-1234567890", "domain": "corp.example.com",
            "users": ["alice"], "groups": {"AWS-Admins": {"users": ["alice"], "groups": ["AWS-Ops"]}}
        }]))
        .unwrap()
    }

    async fn call(op: &'static str, query: &str, body: Value) -> (StatusCode, Value) {
        let response = answer(op, Some(query), body.to_string().as_bytes(), &directory());
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn pages_of_members_follow_next_tokens_and_names_ignore_case() {
        let (status, page) = call(
            OPERATIONS[2],
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "aws-admins", "MaxResults": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["Members"][0]["MemberType"], "USER");
        let (_, next) = call(
            OPERATIONS[2],
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "AWS-Admins", "NextToken": page["NextToken"]}),
        )
        .await;
        assert_eq!(next["Members"][0]["MemberType"], "GROUP");
        assert!(next.get("NextToken").is_none());
    }

    #[tokio::test]
    async fn listings_page_in_name_order_and_an_any_name_directory_never_ends() {
        let (status, page) = call(
            OPERATIONS[3],
            "DirectoryId=d-1234567890",
            json!({"Realm": "CORP.example.com", "MaxResults": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["Groups"][0]["SAMAccountName"], "AWS-Admins");
        assert!(page.get("NextToken").is_none(), "{page}");
        let (_, users) = call(OPERATIONS[4], "DirectoryId=d-1234567890", json!({})).await;
        assert_eq!(users["Users"][0]["SAMAccountName"], "alice");
        assert!(users.get("NextToken").is_none());

        let endless: Vec<SeedDirectory> = serde_json::from_value(json!([{
            "id": "d-1234567890", "domain": "corp.example.com", "any_name": true
        }]))
        .unwrap();
        let response = answer(
            OPERATIONS[4],
            Some("DirectoryId=d-1234567890"),
            json!({"NextToken": "users-1000000"}).to_string().as_bytes(),
            &endless,
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(page["Users"].as_array().unwrap().len(), 250);
        assert_eq!(page["NextToken"], "users-1000250");
    }

    #[tokio::test]
    async fn unknown_names_directories_and_realms_answer_their_errors() {
        let (status, body) = call(
            OPERATIONS[0],
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "ghost"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["Message"].as_str().unwrap().contains("ghost"));
        let (status, body) = call(
            OPERATIONS[0],
            "DirectoryId=d-0000000000",
            json!({"SAMAccountName": "alice"}),
        )
        .await;
        assert_eq!(
            (status, body["Reason"].as_str()),
            (StatusCode::FORBIDDEN, Some("DIRECTORY_AUTH"))
        );
        let (status, body) = call(
            OPERATIONS[0],
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "alice", "Realm": "other.example.com"}),
        )
        .await;
        assert_eq!(
            (status, body["Reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_REALM"))
        );
    }
}
