//! The config walker: reads a JSON document key by key, collecting every problem
//! ([`Problem`]: an error or a warning at a JSON path) instead of stopping at the
//! first. It reads a setting of any [`Property`] type and the settings with a shape
//! of their own (the stack name, the webhook hosts, the filters, the deletion guard);
//! which keys a section holds, and the order they are read in, is the settings
//! table's ([`crate::settings`]), and [`crate::config`] reads the file with it. It
//! imports nothing above the value types ([`crate::values`]); the limit on filters
//! ([`MAX_FILTERS`]) and the JSON error text are here, below the store that shares
//! them.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::choice::Engine;
use crate::directory::DirectoryCheck;
use crate::names::{
    CiBranches, CiRepository, Description, DirectoryId, FilterName, ParentGroupName, StackName,
    WebhookHosts, WebhookRef, quoted,
};
use crate::plan::GuardLimits;
use crate::scope::{DesiredFilter, FilterKind};
use crate::suggest;
use crate::values::Property;

/// Most filters (groups and users together) one config may hold.
pub const MAX_FILTERS: usize = 10_000;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The config cannot be used.
    Error,
    /// The config works, but something is probably not what was meant.
    Warning,
}

/// One problem found in a config, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Where: `SSO.GroupFilters[3].Name`; empty for the document itself.
    pub path: String,
    /// What is wrong, and the rule.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The serde_json message without its trailing "at line L column C".
pub fn json_error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

const FILTER_KEYS: &[&str] = &["Name", "Description"];
const GUARD_KEYS: &[&str] = &["MaxRemovals", "MaxRemovalPercent", "MaxUsersLosingAccess"];

/// Walks the JSON document, collecting problems.
#[derive(Default)]
pub(crate) struct Walker {
    /// What was found so far, in the order found.
    pub(crate) problems: Vec<Problem>,
}

/// A JSON object with its path, for reading keys.
pub(crate) struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
    known: &'static [&'static str],
}

impl Obj<'_> {
    fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({})", quoted(s)),
        Value::Array(a) => format!(
            "an array of {} item{}",
            a.len(),
            if a.len() == 1 { "" } else { "s" }
        ),
        Value::Object(_) => "an object".into(),
    }
}

impl Walker {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
        });
    }

    fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
        });
    }

    /// Opens `value` as an object, warning about unknown keys.
    pub(crate) fn object<'a>(
        &mut self,
        path: &str,
        value: &'a Value,
        known: &'static [&'static str],
    ) -> Option<Obj<'a>> {
        let Value::Object(map) = value else {
            let what = if path.is_empty() {
                "the document to be an object"
            } else {
                "an object"
            };
            self.error(path, format!("expected {what}, found {}", describe(value)));
            return None;
        };
        let obj = Obj {
            path: path.to_owned(),
            map,
            known,
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let hint = match suggest::closest(key, known) {
                    Some(k) => format!("unknown key, ignored (did you mean {k:?}?)"),
                    None => format!("unknown key, ignored (known keys: {})", known.join(", ")),
                };
                self.warning(obj.child(key), hint);
            }
        }
        Some(obj)
    }

    /// A required key; reports it missing, with a hint if a misspelt key is there.
    pub(crate) fn required<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Option<&'a Value> {
        match obj.map.get(key) {
            Some(Value::Null) | None => {
                let misspelt = obj
                    .map
                    .keys()
                    .filter(|k| !obj.known.contains(&k.as_str()))
                    .find(|k| suggest::closest(k, &[key]).is_some());
                let message = match (obj.map.get(key), misspelt) {
                    (Some(_), _) => "required key is null".to_owned(),
                    (None, Some(found)) => {
                        format!("required key is missing (found {found:?}: did you mean {key:?}?)")
                    }
                    (None, None) => "required key is missing".to_owned(),
                };
                self.error(obj.child(key), message);
                None
            }
            Some(value) => Some(value),
        }
    }

    fn string<'a>(&mut self, path: &str, value: &'a Value) -> Option<&'a str> {
        match value {
            Value::String(s) => Some(s),
            other => {
                self.error(
                    path,
                    format!("expected a string, found {}", describe(other)),
                );
                None
            }
        }
    }

    /// A required, non-empty string.
    fn required_str<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Option<&'a str> {
        let path = obj.child(key);
        let value = self.required(obj, key)?;
        let s = self.string(&path, value)?;
        if s.trim().is_empty() {
            self.error(path, "must not be empty");
            return None;
        }
        Some(s.trim())
    }

    /// An optional string; `Ok(None)` when absent, `Err(())` when present but not a string.
    fn optional_str<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Result<Option<&'a str>, ()> {
        match obj.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => self
                .string(&obj.child(key), value)
                .map(|s| Some(s.trim()))
                .ok_or(()),
        }
    }

    /// Checks a value with a newtype constructor, reporting its message at `path`.
    fn check<T>(&mut self, path: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.error(path, message)).ok()
    }

    /// A required setting (a non-empty string), read by its type.
    pub(crate) fn required_setting<T: Property>(&mut self, obj: &Obj<'_>, key: &str) -> Option<T> {
        let path = obj.child(key);
        let value = self.required_str(obj, key)?;
        self.check(&path, T::read_config(value))
    }

    /// An optional setting: `Some(None)` when absent, `None` when invalid (reported).
    pub(crate) fn optional_setting<T: Property>(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
    ) -> Option<Option<T>> {
        self.optional_parsed(obj, key, T::read_config)
    }

    /// A setting with a default for when it is absent.
    pub(crate) fn default_setting<T: Property>(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        default: impl FnOnce() -> T,
    ) -> Option<T> {
        self.optional_setting(obj, key)
            .map(|value| value.unwrap_or_else(default))
    }

    /// The webhook URL against the hosts: a literal URL is a secret kept in git (a
    /// warning), and refused on a host that is neither Microsoft's nor listed.
    pub(crate) fn literal_webhook(
        &mut self,
        webhook: &Option<WebhookRef>,
        hosts: &Option<WebhookHosts>,
        obj: &Obj<'_>,
    ) {
        let webhook_path = obj.child("WebhookUrlTeams");
        if let (Some(WebhookRef::Literal(url)), Some(hosts)) = (webhook, hosts) {
            if hosts.allows(&url.host()) {
                self.warning(
                    &webhook_path,
                    "a literal webhook URL is a secret kept in git; store it in an SSM SecureString or Secrets Manager and write \"ssm:/name\" or the secret ARN here (task deploy keeps it out of the template)",
                );
            } else {
                self.error(
                    &webhook_path,
                    format!("the URL is refused: {}", hosts.refusal(&url.host())),
                );
            }
        }
    }

    /// `WebhookHosts`: an optional list of DNS names, each checked where it stands.
    pub(crate) fn webhook_hosts(&mut self, obj: &Obj<'_>) -> Option<WebhookHosts> {
        self.name_list(obj, "WebhookHosts", "host names", |names| {
            WebhookHosts::from_names(names)
        })
    }

    /// `CiBranches`: an optional list of branch names, each checked where it stands
    /// (absent: `main`).
    pub(crate) fn ci_branches(&mut self, obj: &Obj<'_>) -> Option<CiBranches> {
        self.name_list(obj, "CiBranches", "branch names", |names| {
            CiBranches::from_names(names)
        })
    }

    /// An optional list of names under `key` (absent: the default), read by `parse`:
    /// each name alone first, so a bad one is reported at its own entry, then the
    /// whole list (duplicates, ...). `noun` says what the list holds.
    fn name_list<T: Default>(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        noun: &str,
        parse: impl Fn(Vec<&str>) -> Result<T, String>,
    ) -> Option<T> {
        let items = match obj.map.get(key) {
            None | Some(Value::Null) => return Some(T::default()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                let found = describe(other);
                self.error(
                    obj.child(key),
                    format!("expected a list of {noun}, found {found}"),
                );
                return None;
            }
        };
        let mut names = Vec::new();
        let mut ok = true;
        for (index, item) in items.iter().enumerate() {
            let path = format!("{}[{index}]", obj.child(key));
            match self.string(&path, item) {
                Some(name) => match parse(vec![name]) {
                    Ok(_) => names.push(name),
                    Err(why) => {
                        self.error(path, why);
                        ok = false;
                    }
                },
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        self.check(&obj.child(key), parse(names))
    }

    /// `CiBranches` without `CiRepository` names branches of no repository.
    pub(crate) fn ci_branches_unused(
        &mut self,
        repository: &Option<Option<CiRepository>>,
        obj: &Obj<'_>,
    ) {
        if matches!(repository, Some(None))
            && obj.map.get("CiBranches").is_some_and(|v| !v.is_null())
        {
            self.warning(
                obj.child("CiBranches"),
                "has no effect: general.CiRepository is not set, so no CI may assume a plan role",
            );
        }
    }

    /// An optional key checked by a newtype constructor. `None` = invalid (reported).
    fn optional_parsed<T>(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let value = self.optional_str(obj, key).ok()?;
        match value {
            None => Some(None),
            Some(v) => self.check(&obj.child(key), parse(v)).map(Some),
        }
    }

    /// `{prefix}-{produkt}-{stage}`, blaming the key that breaks the rule.
    pub(crate) fn stack_name(
        &mut self,
        obj: &Obj<'_>,
        prefix: &str,
        product: &str,
        stage: &str,
    ) -> Option<StackName> {
        let name = format!("{prefix}-{product}-{stage}");
        let mut ok = true;
        if !prefix.starts_with(|c: char| c.is_ascii_alphabetic()) {
            self.error(
                obj.child("prefix"),
                format!(
                    "{} makes the stack name {} invalid: a CloudFormation stack name must start with a letter",
                    quoted(prefix),
                    quoted(&name)
                ),
            );
            ok = false;
        }
        for (key, part) in [("prefix", prefix), ("produkt", product), ("stage", stage)] {
            if let Some(c) = part
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
            {
                self.error(
                    obj.child(key),
                    format!(
                        "{} contains {c:?}, which makes the stack name {} invalid: CloudFormation allows only letters, digits and hyphens",
                        quoted(part),
                        quoted(&name)
                    ),
                );
                ok = false;
            }
        }
        if ok && name.len() > StackName::MAX_CHARS {
            self.error(
                obj.path.clone(),
                format!(
                    "the stack name {} (prefix-produkt-stage) is {} characters long; CloudFormation allows {}",
                    quoted(&name),
                    name.len(),
                    StackName::MAX_CHARS
                ),
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        self.check(&obj.path, StackName::parse(&name))
    }

    /// `GroupFilters` (required) or `UserFilters` (default: none).
    pub(crate) fn filter_list(
        &mut self,
        obj: &Obj<'_>,
        kind: FilterKind,
    ) -> Option<Vec<DesiredFilter>> {
        match kind {
            FilterKind::Group => self
                .required(obj, "GroupFilters")
                .and_then(|g| self.filters(&obj.child("GroupFilters"), g, kind)),
            FilterKind::User => match obj.map.get("UserFilters") {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(u) => self.filters(&obj.child("UserFilters"), u, kind),
            },
        }
    }

    /// Groups and users together: a warning for none, an error above [`MAX_FILTERS`].
    pub(crate) fn filter_count(
        &mut self,
        groups: &Option<Vec<DesiredFilter>>,
        users: &Option<Vec<DesiredFilter>>,
        obj: &Obj<'_>,
    ) {
        if let (Some(groups), Some(users)) = (groups, users) {
            let total = groups.len() + users.len();
            if total == 0 {
                self.warning(
                    obj.child("GroupFilters"),
                    "no group or user filters: this config wants an empty sync scope",
                );
            }
            if total > MAX_FILTERS {
                self.error(
                    obj.path.clone(),
                    format!("{total} filters in all; syncscope supports at most {MAX_FILTERS}"),
                );
            }
        }
    }

    /// A directory id with the directory check off (and no engine that writes to the
    /// directory): a warning.
    pub(crate) fn directory_id_unused(
        &mut self,
        engine: Option<Engine>,
        directory_check: Option<DirectoryCheck>,
        directory_id: &Option<Option<DirectoryId>>,
        obj: &Obj<'_>,
    ) {
        if engine == Some(Engine::SyncFilters)
            && directory_check == Some(DirectoryCheck::Off)
            && matches!(directory_id, Some(Some(_)))
        {
            self.warning(
                obj.child("DirectoryId"),
                "has no effect: SSO.DirectoryCheck is off, so no directory is asked",
            );
        }
    }

    /// The parent group: required with the `parent-group` engine, with a directory
    /// id, and never one of the groups it holds; without that engine, a warning.
    pub(crate) fn parent_group(
        &mut self,
        engine: Option<Engine>,
        parent: &Option<Option<ParentGroupName>>,
        directory_id: &Option<Option<DirectoryId>>,
        (groups, users): (&Option<Vec<DesiredFilter>>, &Option<Vec<DesiredFilter>>),
        obj: &Obj<'_>,
    ) {
        match engine {
            Some(Engine::ParentGroup) => {
                // Directory Service Data's limits on a member's and a group's name.
                if let Some(Some(parent)) = parent
                    && let Some(why) = ds_data_name(parent.as_str(), MAX_DS_GROUP_NAME)
                {
                    self.error(obj.child("ParentGroup"), why);
                }
                for (list, filters) in [("GroupFilters", groups), ("UserFilters", users)] {
                    for (index, filter) in filters.iter().flatten().enumerate() {
                        if let Some(why) = ds_data_name(filter.name.as_str(), MAX_DS_MEMBER_NAME) {
                            self.error(format!("{}[{index}].Name", obj.child(list)), why);
                        }
                    }
                }
                let why = "the \"parent-group\" engine (SSO.Engine) needs it";
                if matches!(parent, Some(None)) {
                    self.error(
                        obj.child("ParentGroup"),
                        format!("is missing: {why} (the group the sync scope holds, e.g. \"IAMIdentityCenterAllUsersAndGroups\")"),
                    );
                }
                if matches!(directory_id, Some(None)) {
                    self.error(
                        obj.child("DirectoryId"),
                        format!("is missing: {why} (the AWS Managed Microsoft AD directory the parent group is in)"),
                    );
                }
                if let (Some(Some(parent)), Some(groups)) = (parent, groups)
                    && let Some(index) = groups
                        .iter()
                        .position(|g| crate::names::name_key(g.name.as_str()) == crate::names::name_key(parent.as_str()))
                {
                    self.error(
                        format!("{}[{index}].Name", obj.child("GroupFilters")),
                        format!("{} is the parent group (SSO.ParentGroup): a group cannot be a member of itself", crate::names::quoted(parent.as_str())),
                    );
                }
            }
            Some(Engine::SyncFilters) if matches!(parent, Some(Some(_))) => self.warning(
                obj.child("ParentGroup"),
                "has no effect: SSO.Engine is \"sync-filters\" (set it to \"parent-group\" to use a parent group)",
            ),
            _ => {}
        }
    }

    fn filters(
        &mut self,
        path: &str,
        value: &Value,
        kind: FilterKind,
    ) -> Option<Vec<DesiredFilter>> {
        let Value::Array(items) = value else {
            self.error(
                path,
                format!("expected an array of filters, found {}", describe(value)),
            );
            return None;
        };
        let mut filters = Vec::with_capacity(items.len());
        let mut seen: HashMap<String, (usize, String)> = HashMap::with_capacity(items.len());
        let mut ok = true;
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            if !item.is_object() {
                let example = match item {
                    Value::String(name) => quoted(name),
                    _ => "\"AWS-Admins\"".to_owned(),
                };
                self.error(
                    &item_path,
                    format!(
                        "expected a filter object such as {{\"Name\": {example}}}, found {}",
                        describe(item)
                    ),
                );
                ok = false;
                continue;
            }
            let Some(obj) = self.object(&item_path, item, FILTER_KEYS) else {
                ok = false;
                continue;
            };
            let name_path = obj.child("Name");
            let name = self
                .required(&obj, "Name")
                .and_then(|v| self.string(&name_path, v));
            let name = name.and_then(|n| self.check(&name_path, FilterName::parse(n, kind)));
            let description = match self.optional_str(&obj, "Description") {
                Ok(d) => self.check(
                    &obj.child("Description"),
                    Description::parse(d.unwrap_or("")),
                ),
                Err(()) => None,
            };
            let (Some(name), Some(description)) = (name, description) else {
                ok = false;
                continue;
            };
            if let Some((first, first_name)) = seen.get(&name.key()) {
                self.error(
                    name_path,
                    format!(
                        "{} duplicates [{first}] {} (names compare case-insensitively)",
                        quoted(name.as_str()),
                        quoted(first_name)
                    ),
                );
                ok = false;
                continue;
            }
            seen.insert(name.key(), (index, name.as_str().to_owned()));
            filters.push(DesiredFilter {
                kind,
                name,
                description,
            });
        }
        ok.then_some(filters)
    }

    /// `DeletionGuard`: an object of limits, each with its default.
    pub(crate) fn guard(&mut self, sso: &Obj<'_>) -> Option<GuardLimits> {
        let value = match sso.map.get("DeletionGuard") {
            None | Some(Value::Null) => return Some(GuardLimits::default()),
            Some(value) => value,
        };
        let obj = self.object(&sso.child("DeletionGuard"), value, GUARD_KEYS)?;
        let defaults = GuardLimits::default();
        let max_removals = self.whole_number(&obj, "MaxRemovals", defaults.max_removals, u32::MAX);
        let max_percent =
            self.whole_number(&obj, "MaxRemovalPercent", defaults.max_removal_percent, 100);
        let max_users = match obj.map.get("MaxUsersLosingAccess") {
            None | Some(Value::Null) => Some(None),
            Some(_) => self
                .whole_number(&obj, "MaxUsersLosingAccess", 0, u32::MAX)
                .map(Some),
        };
        Some(GuardLimits {
            max_removals: max_removals?,
            max_removal_percent: max_percent?,
            max_users_losing_access: max_users?,
        })
    }

    fn whole_number(&mut self, obj: &Obj<'_>, key: &str, default: u32, max: u32) -> Option<u32> {
        let path = obj.child(key);
        match obj.map.get(key) {
            None | Some(Value::Null) => Some(default),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= u64::from(max) => u32::try_from(v).ok(),
                _ => {
                    self.error(
                        path,
                        format!("{n} is not allowed: use a whole number from 0 to {max}"),
                    );
                    None
                }
            },
            Some(other) => {
                self.error(
                    path,
                    format!("expected a whole number, found {}", describe(other)),
                );
                None
            }
        }
    }
}

/// The longest group name Directory Service Data takes (`GroupName`).
const MAX_DS_GROUP_NAME: usize = 64;
/// The longest member name Directory Service Data takes (`MemberName`).
const MAX_DS_MEMBER_NAME: usize = 63;

/// Why Directory Service Data would refuse `name` (longer than `max`, or with an `@`,
/// which its names forbid besides AD's characters), if it would.
fn ds_data_name(name: &str, max: usize) -> Option<String> {
    let chars = name.chars().count();
    if chars > max {
        Some(format!(
            "{} is {chars} characters long; the \"parent-group\" engine changes members with Directory Service Data, which takes names of at most {max}",
            quoted(name)
        ))
    } else if name.contains('@') {
        Some(format!(
            "{} contains '@', which Directory Service Data refuses in a name (the \"parent-group\" engine)",
            quoted(name)
        ))
    } else {
        None
    }
}
