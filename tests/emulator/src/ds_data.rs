//! The AWS Directory Service Data operations syncscope uses, served beside
//! identity-sync on the same port: the reads of its directory check (`DescribeUser`,
//! `DescribeGroup`, `ListGroupMembers`, `ListGroups`, `ListUsers`) and the writes of
//! its parent-group engine (`AddGroupMember`, `RemoveGroupMember`, `CreateGroup`), in
//! the documented REST-JSON wire format (`POST /Users/DescribeUser?DirectoryId=...`,
//! `POST /GroupMemberships/AddGroupMember?DirectoryId=...`, `POST
//! /GroupMemberships/RemoveGroupMember?DirectoryId=...`, `POST
//! /Groups/CreateGroup?DirectoryId=...` and so on, a JSON body, errors as a status,
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
//!   "users": ["alice", "bob"], "computers": ["WS01$"],
//!   "groups": {"AWS-Admins": {"users": ["alice"], "groups": ["AWS-Ops"], "computers": ["WS01$"]},
//!              "AWS-Ops": {"scope": "Universal", "type": "Security"}}
//! }]}
//! ```
//!
//! `any_name: true` makes every name asked exist (the users and groups listed keep
//! their members; any other is a user, or a group without members), and makes the
//! directory endless: its `ListGroups` and `ListUsers` never end (the names listed,
//! then made-up ones, always with a `NextToken`), as a directory too large to list
//! would. Groups are listed by name, users in the seed's order, 250 at most a page;
//! a group's members as users, then groups, then computers (`MemberType` `USER`,
//! `GROUP`, `COMPUTER`). A group's `scope` (`Global` unless given) and `type`
//! (`Security` unless given) are its `GroupScope` and `GroupType`. `type` of a
//! directory is `managed` (default) or `connector` (answers every call with
//! `ValidationException` `INVALID_DIRECTORY_TYPE`); `data_access: false` answers
//! `AccessDeniedException` `DATA_DISABLED`; `iam_denied: true` answers
//! `AccessDeniedException` `IAM_AUTH`; an unknown directory answers
//! `AccessDeniedException` `DIRECTORY_AUTH`; a `Realm` or `MemberRealm` other than the
//! directory's domain answers `ValidationException` `INVALID_REALM` (trusted domains
//! are not modelled). Names compare case-insensitively, as in AD.
//!
//! # Writes
//!
//! They change the directories (shown by `GET /_emulator/state` under
//! `directories`, in this seed format; `PUT /_emulator/directories` replaces them).
//!
//! - `AddGroupMember` `{ClientToken?, GroupName, MemberName, MemberRealm?}` adds a
//!   user, group or computer of the directory (a name listed in `users`, `groups` or
//!   `computers`, else one listed as a member of that type of some group) as a direct
//!   member. An unknown group or member is `404 ResourceNotFoundException`; a member
//!   already there is `409 ConflictException` (AWS documents this ConflictException;
//!   the knob `ds_data_lenient_members` answers `200` instead). In an `any_name`
//!   directory an unknown member is a user and an unknown group exists: both become
//!   entries (the user in `users`, the group in `groups`), so listings show them.
//! - `RemoveGroupMember` (same fields) removes a direct member; a member that is not
//!   one (or an unknown group or member) is `404 ResourceNotFoundException`
//!   (`ds_data_lenient_members`: `200`, nothing changed).
//! - `CreateGroup` `{ClientToken?, SAMAccountName, GroupScope?, GroupType?,
//!   OtherAttributes?}` creates a group without members (`OtherAttributes` ignored) and
//!   answers `{DirectoryId, SAMAccountName, SID}`; a name a listed user, group or
//!   computer already has is `409 ConflictException` (in an `any_name` directory too:
//!   only listed names are taken). A scope or type outside the API's enums is `400
//!   ValidationException`.
//! - Names: 1 to 64 characters (a member 63), none of `:;|=+"*?<>/\,[]@`, else `400
//!   ValidationException` `INVALID_ATTRIBUTE_VALUE`; a missing one
//!   `MISSING_ATTRIBUTE`.
//! - `ClientToken` (1 to 128 ASCII characters): a token whose write succeeded is
//!   remembered for the emulator's life (until a reset or `PUT
//!   /_emulator/directories`). The same token again with identical parameters (the
//!   body but the token, compared exactly, the same operation and directory) changes
//!   nothing and answers that success again; with anything else, `409
//!   ConflictException`. A write that failed leaves no token; one applied and then
//!   answered an error (`ds_data_fail_after_members`, `ds_data_fault_after_rate`) does,
//!   so its retry with the same token answers success, as the SDK's retries do.
//!
//! # Counters and knobs
//!
//! Calls are counted as `ds-data:<Operation>` beside identity-sync's counters
//! (`faults` the injected 500s, `errors` every other error). In order:
//! `latency_ms` sleeps; `ds_data_hang` answers nothing; `ds_data_throttle` answers
//! `429 ThrottlingException`; `ds_data_fault_rate` answers `500
//! InternalServerException` before anything (any operation; drawn from the fault RNG
//! of `fault_seed`); then the operation, where for `AddGroupMember` and
//! `RemoveGroupMember` (after the token, the group and member are checked, so an
//! unknown one is still 404) a member name in `ds_data_hang_members` never answers, in
//! `ds_data_fail_members` answers its code with its status before applying, and in
//! `ds_data_fail_after_members` is applied and then answered its code (names compare
//! case-insensitively); last, `ds_data_fault_after_rate` keeps a successful write and
//! answers `500 InternalServerException`.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ErrorCode;
use crate::knobs::Knobs;

/// The SigV4 service name of Directory Service Data.
pub const SERVICE: &str = "ds-data";

/// `DescribeUser`, as counted.
pub const DESCRIBE_USER: &str = "ds-data:DescribeUser";
/// `DescribeGroup`, as counted.
pub const DESCRIBE_GROUP: &str = "ds-data:DescribeGroup";
/// `ListGroupMembers`, as counted.
pub const LIST_GROUP_MEMBERS: &str = "ds-data:ListGroupMembers";
/// `ListGroups`, as counted.
pub const LIST_GROUPS: &str = "ds-data:ListGroups";
/// `ListUsers`, as counted.
pub const LIST_USERS: &str = "ds-data:ListUsers";
/// `AddGroupMember`, as counted.
pub const ADD_GROUP_MEMBER: &str = "ds-data:AddGroupMember";
/// `RemoveGroupMember`, as counted.
pub const REMOVE_GROUP_MEMBER: &str = "ds-data:RemoveGroupMember";
/// `CreateGroup`, as counted.
pub const CREATE_GROUP: &str = "ds-data:CreateGroup";

/// The operations served, as counted (`ds-data:` and the name).
pub const OPERATIONS: [&str; 8] = [
    DESCRIBE_USER,
    DESCRIBE_GROUP,
    LIST_GROUP_MEMBERS,
    LIST_GROUPS,
    LIST_USERS,
    ADD_GROUP_MEMBER,
    REMOVE_GROUP_MEMBER,
    CREATE_GROUP,
];

/// Whether `operation` changes the directory.
pub fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        ADD_GROUP_MEMBER | REMOVE_GROUP_MEMBER | CREATE_GROUP
    )
}

/// Most entries in one `ListGroupMembers`, `ListGroups` or `ListUsers` page.
const MAX_PAGE: usize = 250;

/// Characters AD refuses in a sAMAccountName (the API's name pattern).
const FORBIDDEN: &str = ":;|=+\"*?<>/\\,[]@";

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
    /// The computers (sAMAccountNames, e.g. `WS01$`).
    #[serde(default)]
    pub computers: Vec<String>,
    /// The groups, each with its direct members.
    #[serde(default)]
    pub groups: BTreeMap<String, SeedGroup>,
    /// Every name asked exists (a user, or a group without members) unless listed:
    /// the directory of test worlds that are not about the directory check.
    #[serde(default)]
    pub any_name: bool,
}

impl SeedDirectory {
    /// The group `name` (case-insensitive) with its direct members, if listed.
    pub fn group(&self, name: &str) -> Option<&SeedGroup> {
        self.groups
            .iter()
            .find(|(g, _)| same(g, name))
            .map(|(_, group)| group)
    }

    /// The name of the group `name` as listed (case-insensitive).
    fn group_key(&self, name: &str) -> Option<String> {
        self.groups.keys().find(|g| same(g, name)).cloned()
    }

    /// What `name` is in this directory and its name as listed: a user, group or
    /// computer of the directory, else a member of that type of some group.
    fn member(&self, name: &str) -> Option<(Kind, String)> {
        if let Some(user) = find(&self.users, name) {
            return Some((Kind::User, user.clone()));
        }
        if let Some(group) = self.group_key(name) {
            return Some((Kind::Group, group));
        }
        if let Some(computer) = find(&self.computers, name) {
            return Some((Kind::Computer, computer.clone()));
        }
        self.groups.values().find_map(|group| {
            Kind::ALL
                .into_iter()
                .find_map(|kind| find(group.members(kind), name).map(|n| (kind, n.clone())))
        })
    }

    /// Whether `name` is taken by a listed user, group or computer.
    fn taken(&self, name: &str) -> bool {
        find(&self.users, name).is_some()
            || self.group_key(name).is_some()
            || find(&self.computers, name).is_some()
    }
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

/// A group's direct members (and, if created with them, its scope and type).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// Member users.
    #[serde(default)]
    pub users: Vec<String>,
    /// Member groups (nested).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Member computers (`MemberType` `COMPUTER`).
    #[serde(default)]
    pub computers: Vec<String>,
    /// `GroupScope` (`DomainLocal`, `Global`, `Universal`, `BuiltinLocal`); `Global`
    /// unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `GroupType` (`Distribution`, `Security`); `Security` unless given.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub group_type: Option<String>,
}

impl SeedGroup {
    fn members(&self, kind: Kind) -> &Vec<String> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
            Kind::Computer => &self.computers,
        }
    }

    fn members_mut(&mut self, kind: Kind) -> &mut Vec<String> {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
            Kind::Computer => &mut self.computers,
        }
    }

    fn scope(&self) -> &str {
        self.scope.as_deref().unwrap_or("Global")
    }

    fn group_type(&self) -> &str {
        self.group_type.as_deref().unwrap_or("Security")
    }
}

/// The type of a directory object, as a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
    Computer,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::User, Kind::Group, Kind::Computer];

    fn member_type(self) -> &'static str {
        match self {
            Kind::User => "USER",
            Kind::Group => "GROUP",
            Kind::Computer => "COMPUTER",
        }
    }

    /// The kind number of its made-up SID.
    fn sid_kind(self) -> u8 {
        match self {
            Kind::User => 1,
            Kind::Group => 2,
            Kind::Computer => 3,
        }
    }
}

/// The `ClientToken`s of successful writes (for the emulator's life, or until a
/// reset or the directories are replaced), each with what it asked and answered.
#[derive(Debug, Clone, Default)]
pub struct Tokens(BTreeMap<String, TokenUse>);

#[derive(Debug, Clone)]
struct TokenUse {
    operation: &'static str,
    directory: String,
    /// The request body without `ClientToken`.
    params: Value,
    /// The success answered.
    answer: Value,
}

/// What a ds-data request gets.
#[derive(Debug)]
pub enum Answer {
    /// This response.
    Now(Response),
    /// None, ever (`ds_data_hang_members`).
    Hang,
}

impl From<DsError> for Answer {
    fn from(error: DsError) -> Self {
        Answer::Now(error.into_response())
    }
}

/// Why a write stops before its success: an error, or no answer at all.
enum Halt {
    Refuse(DsError),
    Hang,
}

impl From<DsError> for Halt {
    fn from(error: DsError) -> Self {
        Halt::Refuse(error)
    }
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
) -> DsError {
    DsError {
        status,
        code,
        message,
        reason,
    }
}

/// An error of `code` (with its status) in ds-data's shape: the knobs' failures.
pub fn injected(code: ErrorCode, message: String) -> Response {
    error(code.status(), code.as_str(), None, message).into_response()
}

/// Throttled, as the `ds_data_throttle` knob answers.
pub fn throttled() -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "ThrottlingException",
        None,
        "Rate exceeded".to_owned(),
    )
    .into_response()
}

fn validation(message: String, reason: &'static str) -> DsError {
    error(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        Some(reason),
        message,
    )
}

fn not_found(message: String) -> DsError {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        None,
        message,
    )
}

fn conflict(message: String) -> DsError {
    error(StatusCode::CONFLICT, "ConflictException", None, message)
}

/// The operation counted for a request path (None: not a ds-data path).
pub fn operation_of(path: &str) -> Option<&'static str> {
    match path {
        "/Users/DescribeUser" => Some(DESCRIBE_USER),
        "/Groups/DescribeGroup" => Some(DESCRIBE_GROUP),
        "/GroupMemberships/ListGroupMembers" => Some(LIST_GROUP_MEMBERS),
        "/Groups/ListGroups" => Some(LIST_GROUPS),
        "/Users/ListUsers" => Some(LIST_USERS),
        "/GroupMemberships/AddGroupMember" => Some(ADD_GROUP_MEMBER),
        "/GroupMemberships/RemoveGroupMember" => Some(REMOVE_GROUP_MEMBER),
        "/Groups/CreateGroup" => Some(CREATE_GROUP),
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

fn find<'a>(names: &'a [String], name: &str) -> Option<&'a String> {
    names.iter().find(|n| same(n, name))
}

/// Answers one ds-data operation against `directories`; a write changes them and
/// remembers its `ClientToken` in `tokens`. `knobs` gives the per-member failures
/// and hangs of `AddGroupMember` and `RemoveGroupMember`.
pub fn answer(
    operation: &'static str,
    query: Option<&str>,
    body: &[u8],
    directories: &mut [SeedDirectory],
    tokens: &mut Tokens,
    knobs: &Knobs,
) -> Answer {
    let Some(id) = directory_id(query) else {
        return Answer::from(validation(
            "DirectoryId is required".to_owned(),
            "MISSING_ATTRIBUTE",
        ));
    };
    let input = match serde_json::from_slice::<Value>(body) {
        Ok(input @ Value::Object(_)) => input,
        _ => {
            return Answer::from(validation(
                "the body is not a JSON object".to_owned(),
                "INVALID_ATTRIBUTE_VALUE",
            ));
        }
    };
    let Some(directory) = directories.iter_mut().find(|d| d.id == id) else {
        return Answer::from(error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("DIRECTORY_AUTH"),
            format!("You do not have access to directory {id}, or it does not exist."),
        ));
    };
    if let Err(refused) = admit(directory, &input) {
        return refused.into();
    }
    if is_write(operation) {
        return write(operation, &input, directory, tokens, knobs);
    }
    Answer::Now(read(operation, &input, directory))
}

/// The refusals every operation shares: the directory's kind and access, the realms.
fn admit(directory: &SeedDirectory, input: &Value) -> Result<(), DsError> {
    let id = &directory.id;
    if directory.kind == DirectoryKind::Connector {
        return Err(validation(
            format!("Directory {id} is not an AWS Managed Microsoft AD directory."),
            "INVALID_DIRECTORY_TYPE",
        ));
    }
    if directory.iam_denied {
        return Err(error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("IAM_AUTH"),
            format!("You are not authorized to perform this operation on {id}."),
        ));
    }
    if !directory.data_access {
        return Err(error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("DATA_DISABLED"),
            format!("Directory data access is disabled for {id}."),
        ));
    }
    for field in ["Realm", "MemberRealm"] {
        if let Some(realm) = input.get(field).and_then(Value::as_str)
            && !same(realm, &directory.domain)
        {
            return Err(validation(
                format!("{field} {realm} is not {id}'s domain or a trusted one."),
                "INVALID_REALM",
            ));
        }
    }
    Ok(())
}

/// The read operations.
fn read(operation: &'static str, input: &Value, directory: &SeedDirectory) -> Response {
    if operation == LIST_GROUPS || operation == LIST_USERS {
        return listing(operation == LIST_GROUPS, input, directory)
            .unwrap_or_else(|message| validation(message, "INVALID_NEXT_TOKEN").into_response());
    }
    let Some(name) = input.get("SAMAccountName").and_then(Value::as_str) else {
        return validation("SAMAccountName is required".to_owned(), "MISSING_ATTRIBUTE")
            .into_response();
    };
    let missing = |what: &str| {
        not_found(format!("{what} {name} was not found in {}.", directory.id)).into_response()
    };
    let realm = directory.domain.to_uppercase();
    match operation {
        DESCRIBE_USER => {
            let user = match find(&directory.users, name) {
                Some(user) => user.as_str(),
                None if directory.any_name => name,
                None => return missing("User"),
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
        DESCRIBE_GROUP => {
            let empty = SeedGroup::default();
            let (group, entry) = match directory.groups.iter().find(|(g, _)| same(g, name)) {
                Some((group, entry)) => (group.as_str(), entry),
                None if directory.any_name => (name, &empty),
                None => return missing("Group"),
            };
            axum::Json(json!({
                "DirectoryId": directory.id,
                "Realm": realm,
                "SAMAccountName": group,
                "SID": sid(2, group),
                "GroupScope": entry.scope(),
                "GroupType": entry.group_type(),
            }))
            .into_response()
        }
        _ => {
            let empty = SeedGroup::default();
            let group = match directory.group(name) {
                Some(group) => group,
                None if directory.any_name => &empty,
                None => return missing("Group"),
            };
            let members: Vec<Value> = Kind::ALL
                .into_iter()
                .flat_map(|kind| {
                    group.members(kind).iter().map(move |m| {
                        json!({"SAMAccountName": m, "SID": sid(kind.sid_kind(), m),
                               "MemberType": kind.member_type()})
                    })
                })
                .collect();
            let (start, end) = match page_of(input, "members-", Some(members.len())) {
                Ok(page) => page,
                Err(message) => return validation(message, "INVALID_NEXT_TOKEN").into_response(),
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

/// A write that went through: what it answers, and the error `ds_data_fail_after_members`
/// answers instead.
struct Applied {
    answer: Value,
    after: Option<(ErrorCode, String)>,
}

/// The write operations: the `ClientToken` first (a known token with the same
/// parameters answers its success again and changes nothing; with others, 409), then
/// the operation.
fn write(
    operation: &'static str,
    input: &Value,
    directory: &mut SeedDirectory,
    tokens: &mut Tokens,
    knobs: &Knobs,
) -> Answer {
    let token = match input.get("ClientToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) if (1..=128).contains(&token.len()) && token.is_ascii() => {
            Some(token.clone())
        }
        Some(_) => {
            return Answer::from(validation(
                "ClientToken must be 1 to 128 ASCII characters".to_owned(),
                "INVALID_ATTRIBUTE_VALUE",
            ));
        }
    };
    let mut params = input.clone();
    if let Some(fields) = params.as_object_mut() {
        fields.remove("ClientToken");
    }
    if let Some(token) = &token
        && let Some(used) = tokens.0.get(token)
    {
        if used.operation == operation && used.directory == directory.id && used.params == params {
            return Answer::Now(axum::Json(used.answer.clone()).into_response());
        }
        return Answer::from(conflict(format!(
            "ClientToken {token} was already used with other parameters."
        )));
    }
    let applied = match operation {
        CREATE_GROUP => create_group(input, directory),
        _ => membership(operation == ADD_GROUP_MEMBER, input, directory, knobs),
    };
    let applied = match applied {
        Ok(applied) => applied,
        Err(Halt::Refuse(error)) => return error.into(),
        Err(Halt::Hang) => return Answer::Hang,
    };
    if let Some(token) = token {
        tokens.0.insert(
            token,
            TokenUse {
                operation,
                directory: directory.id.clone(),
                params,
                answer: applied.answer.clone(),
            },
        );
    }
    match applied.after {
        Some((code, message)) => Answer::Now(injected(code, message)),
        None => Answer::Now(axum::Json(applied.answer).into_response()),
    }
}

/// The name in `field`, required, 1 to `max` characters without the ones AD refuses.
fn name_in(input: &Value, field: &str, max: usize) -> Result<String, DsError> {
    let Some(name) = input.get(field).and_then(Value::as_str) else {
        return Err(validation(
            format!("{field} is required"),
            "MISSING_ATTRIBUTE",
        ));
    };
    let length = name.chars().count();
    if length == 0 || length > max || name.chars().any(|c| FORBIDDEN.contains(c)) {
        return Err(validation(
            format!("{field} {name:?} must be 1 to {max} characters, none of {FORBIDDEN}"),
            "INVALID_ATTRIBUTE_VALUE",
        ));
    }
    Ok(name.to_owned())
}

/// `AddGroupMember` (`add`) or `RemoveGroupMember`.
fn membership(
    add: bool,
    input: &Value,
    directory: &mut SeedDirectory,
    knobs: &Knobs,
) -> Result<Applied, Halt> {
    let group_name = name_in(input, "GroupName", 64)?;
    let member_name = name_in(input, "MemberName", 63)?;
    let id = directory.id.clone();
    let group_key = directory.group_key(&group_name);
    if group_key.is_none() && !directory.any_name {
        return Err(Halt::from(not_found(format!(
            "Group {group_name} was not found in {id}."
        ))));
    }
    let known = directory.member(&member_name);
    let (kind, member) = match known.clone() {
        Some(found) => found,
        None if directory.any_name => (Kind::User, member_name.clone()),
        None => {
            return Err(Halt::from(not_found(format!(
                "Member {member_name} was not found in {id}."
            ))));
        }
    };
    if knobs.hangs_member(&member_name) {
        return Err(Halt::Hang);
    }
    if let Some(code) = knobs.member_failure(&member_name) {
        return Err(Halt::from(error(
            code.status(),
            code.as_str(),
            None,
            format!("{code} (injected by ds_data_fail_members for {member_name})"),
        )));
    }
    let group_key = group_key.unwrap_or_else(|| group_name.clone());
    if add {
        let group = directory.groups.entry(group_key.clone()).or_default();
        let members = group.members_mut(kind);
        if find(members, &member).is_some() {
            if !knobs.ds_data_lenient_members {
                return Err(Halt::from(conflict(format!(
                    "{member} is already a member of {group_key}."
                ))));
            }
        } else {
            members.push(member.clone());
        }
        if known.is_none() {
            directory.users.push(member);
        }
    } else {
        let members = directory
            .groups
            .get_mut(&group_key)
            .map(|group| group.members_mut(kind));
        match members.and_then(|m| m.iter().position(|n| same(n, &member)).map(|i| (m, i))) {
            Some((members, at)) => {
                members.remove(at);
            }
            None if knobs.ds_data_lenient_members => {}
            None => {
                return Err(Halt::from(not_found(format!(
                    "{member} is not a member of {group_key}."
                ))));
            }
        }
    }
    Ok(Applied {
        answer: json!({}),
        after: knobs.member_failure_after(&member_name).map(|code| {
            (
                code,
                format!(
                    "{code} (injected by ds_data_fail_after_members for {member_name}; the change was applied)"
                ),
            )
        }),
    })
}

/// `CreateGroup`: a new group without members; a name any user, group or computer
/// listed has already is a 409.
fn create_group(input: &Value, directory: &mut SeedDirectory) -> Result<Applied, Halt> {
    let name = name_in(input, "SAMAccountName", 64)?;
    let choice = |field: &str, allowed: &[&str]| match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) if allowed.contains(&value.as_str()) => Ok(Some(value.clone())),
        Some(value) => Err(Halt::from(validation(
            format!("{field} {value} is not one of {allowed:?}"),
            "INVALID_ATTRIBUTE_VALUE",
        ))),
    };
    let scope = choice(
        "GroupScope",
        &["DomainLocal", "Global", "Universal", "BuiltinLocal"],
    )?;
    let group_type = choice("GroupType", &["Distribution", "Security"])?;
    if directory.taken(&name) {
        return Err(Halt::from(conflict(format!(
            "An object named {name} already exists in {}.",
            directory.id
        ))));
    }
    directory.groups.insert(
        name.clone(),
        SeedGroup {
            scope,
            group_type,
            ..SeedGroup::default()
        },
    );
    Ok(Applied {
        answer: json!({"DirectoryId": directory.id, "SAMAccountName": name, "SID": sid(2, &name)}),
        after: None,
    })
}

/// A made-up SID, stable for a kind (1 user, 2 group, 3 computer) and name.
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
                let entry = directory.groups.get(&name).cloned().unwrap_or_default();
                json!({"SAMAccountName": name, "SID": sid(2, &name), "GroupScope": entry.scope(), "GroupType": entry.group_type()})
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

    fn respond(
        op: &'static str,
        query: &str,
        body: &Value,
        directories: &mut [SeedDirectory],
        knobs: &Knobs,
    ) -> Response {
        let mut tokens = Tokens::default();
        match answer(
            op,
            Some(query),
            body.to_string().as_bytes(),
            directories,
            &mut tokens,
            knobs,
        ) {
            Answer::Now(response) => response,
            Answer::Hang => panic!("{op} hangs"),
        }
    }

    async fn json_of(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn call(op: &'static str, query: &str, body: Value) -> (StatusCode, Value) {
        json_of(respond(
            op,
            query,
            &body,
            &mut directory(),
            &Knobs::default(),
        ))
        .await
    }

    #[tokio::test]
    async fn pages_of_members_follow_next_tokens_and_names_ignore_case() {
        let (status, page) = call(
            LIST_GROUP_MEMBERS,
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "aws-admins", "MaxResults": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["Members"][0]["MemberType"], "USER");
        let (_, next) = call(
            LIST_GROUP_MEMBERS,
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
            LIST_GROUPS,
            "DirectoryId=d-1234567890",
            json!({"Realm": "CORP.example.com", "MaxResults": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["Groups"][0]["SAMAccountName"], "AWS-Admins");
        assert!(page.get("NextToken").is_none(), "{page}");
        let (_, users) = call(LIST_USERS, "DirectoryId=d-1234567890", json!({})).await;
        assert_eq!(users["Users"][0]["SAMAccountName"], "alice");
        assert!(users.get("NextToken").is_none());

        let endless: Vec<SeedDirectory> = serde_json::from_value(json!([{
            "id": "d-1234567890", "domain": "corp.example.com", "any_name": true
        }]))
        .unwrap();
        let mut endless = endless;
        let (_, page) = json_of(respond(
            LIST_USERS,
            "DirectoryId=d-1234567890",
            &json!({"NextToken": "users-1000000"}),
            &mut endless,
            &Knobs::default(),
        ))
        .await;
        assert_eq!(page["Users"].as_array().unwrap().len(), 250);
        assert_eq!(page["NextToken"], "users-1000250");
    }

    #[tokio::test]
    async fn unknown_names_directories_and_realms_answer_their_errors() {
        let (status, body) = call(
            DESCRIBE_USER,
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "ghost"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["Message"].as_str().unwrap().contains("ghost"));
        let (status, body) = call(
            DESCRIBE_USER,
            "DirectoryId=d-0000000000",
            json!({"SAMAccountName": "alice"}),
        )
        .await;
        assert_eq!(
            (status, body["Reason"].as_str()),
            (StatusCode::FORBIDDEN, Some("DIRECTORY_AUTH"))
        );
        let (status, body) = call(
            DESCRIBE_USER,
            "DirectoryId=d-1234567890",
            json!({"SAMAccountName": "alice", "Realm": "other.example.com"}),
        )
        .await;
        assert_eq!(
            (status, body["Reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_REALM"))
        );
    }

    #[tokio::test]
    async fn an_any_name_member_added_becomes_a_user_and_its_group_is_listed() {
        let mut endless: Vec<SeedDirectory> = serde_json::from_value(json!([{
            "id": "d-1234567890", "domain": "corp.example.com", "any_name": true
        }]))
        .unwrap();
        let (status, _) = json_of(respond(
            ADD_GROUP_MEMBER,
            "DirectoryId=d-1234567890",
            &json!({"GroupName": "Parent", "MemberName": "carol", "MemberRealm": "CORP.EXAMPLE.COM"}),
            &mut endless,
            &Knobs::default(),
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(endless[0].users, ["carol"]);
        assert_eq!(endless[0].group("parent").unwrap().users, ["carol"]);
    }

    #[tokio::test]
    async fn lenient_members_make_re_adding_and_removing_a_non_member_no_ops() {
        let knobs = Knobs {
            ds_data_lenient_members: true,
            ..Knobs::default()
        };
        let mut directories = directory();
        let query = "DirectoryId=d-1234567890";
        let again = json!({"GroupName": "AWS-Admins", "MemberName": "alice"});
        let response = respond(ADD_GROUP_MEMBER, query, &again, &mut directories, &knobs);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(directories[0].group("AWS-Admins").unwrap().users, ["alice"]);
        let strict = respond(
            ADD_GROUP_MEMBER,
            query,
            &again,
            &mut directories,
            &Knobs::default(),
        );
        assert_eq!(strict.status(), StatusCode::CONFLICT);
        let gone = json!({"GroupName": "AWS-Admins", "MemberName": "AWS-Admins"});
        let response = respond(REMOVE_GROUP_MEMBER, query, &gone, &mut directories, &knobs);
        assert_eq!(response.status(), StatusCode::OK);
        let strict = respond(
            REMOVE_GROUP_MEMBER,
            query,
            &gone,
            &mut directories,
            &Knobs::default(),
        );
        assert_eq!(strict.status(), StatusCode::NOT_FOUND);
    }
}
