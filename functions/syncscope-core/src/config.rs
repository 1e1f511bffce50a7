//! The configuration file: the seed's JSON format, plus optional keys, parsed into
//! validated types.
//!
//! Validation never stops at the first problem: it walks the whole document and
//! collects every error and warning, each naming its JSON path and the rule broken,
//! e.g. `SSO.GroupFilters[3].Name: "aws-admins" duplicates [1] "AWS-Admins" (names
//! compare case-insensitively)`. A [`Config`] exists only if there were no errors.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::directory::DirectoryCheck;
use crate::names::{
    Description, DirectoryId, FilterName, StackName, WebhookHosts, WebhookRef, quoted,
};
use crate::plan::GuardLimits;
use crate::scope::{Desired, DesiredFilter, FilterKind};
use crate::suggest;
use crate::values::Property;

/// Most filters (groups and users together) one config may hold.
pub const MAX_FILTERS: usize = 10_000;

pub use crate::choice::{CardFormat, OnDelete};
pub use crate::settings::{General, Sso};

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `general`: naming, docs and notification settings.
    pub general: General,
    /// `SSO`: the AD domain and the sync scope.
    pub sso: Sso,
}

impl Config {
    /// The desired scope: every group and user filter, in the config's domain.
    pub fn desired(&self) -> Desired {
        Desired {
            domain: self.sso.domain.clone(),
            filters: self
                .sso
                .groups
                .iter()
                .chain(&self.sso.users)
                .cloned()
                .collect(),
        }
    }
}

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

/// A config that failed validation: every problem found (errors first, then warnings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    /// Every problem, errors first.
    pub problems: Vec<Problem>,
}

impl Invalid {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        let error = |p: &&Problem| p.severity == Severity::Error;
        self.problems.iter().filter(error)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors().count();
        write!(
            f,
            "{count} error{} in the config",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in self.errors() {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

/// A valid config and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The validated config.
    pub config: Config,
    /// Things that work but deserve a look.
    pub warnings: Vec<Problem>,
}

/// Parses and validates a config file's text.
pub fn parse(text: &str) -> Result<Parsed, Invalid> {
    let value: Value = serde_json::from_str(text).map_err(|e| Invalid {
        problems: vec![Problem {
            severity: Severity::Error,
            path: String::new(),
            message: format!(
                "not valid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                json_error_text(&e)
            ),
        }],
    })?;
    from_value(&value)
}

/// The serde_json message without its trailing "at line L column C".
pub fn json_error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Validates an already parsed JSON document.
pub fn from_value(value: &Value) -> Result<Parsed, Invalid> {
    let mut walker = Walker::default();
    let config = walker.config(value);
    let mut problems = walker.problems;
    problems.sort_by_key(|p| p.severity);
    match config {
        Some(config) if !problems.iter().any(|p| p.severity == Severity::Error) => Ok(Parsed {
            config,
            warnings: problems,
        }),
        _ => Err(Invalid { problems }),
    }
}

const ROOT_KEYS: &[&str] = &["$schema", "general", "SSO"];
const FILTER_KEYS: &[&str] = &["Name", "Description"];
const GUARD_KEYS: &[&str] = &["MaxRemovals", "MaxRemovalPercent", "MaxUsersLosingAccess"];

/// Walks the JSON document, collecting problems.
#[derive(Default)]
pub(crate) struct Walker {
    problems: Vec<Problem>,
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
    fn required<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Option<&'a Value> {
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

    fn config(&mut self, root: &Value) -> Option<Config> {
        let root = self.object("", root, ROOT_KEYS)?;
        let general = self.required(&root, "general");
        let sso = self.required(&root, "SSO");
        let general = general.and_then(|g| crate::settings::read_general(self, g));
        let sso = sso.and_then(|s| crate::settings::read_sso(self, s));
        Some(Config {
            general: general?,
            sso: sso?,
        })
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
        let key = "WebhookHosts";
        let items = match obj.map.get(key) {
            None | Some(Value::Null) => return Some(WebhookHosts::default()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                let found = describe(other);
                self.error(
                    obj.child(key),
                    format!("expected a list of host names, found {found}"),
                );
                return None;
            }
        };
        let mut names = Vec::new();
        let mut ok = true;
        for (index, item) in items.iter().enumerate() {
            let path = format!("{}[{index}]", obj.child(key));
            match self.string(&path, item) {
                Some(name) => match WebhookHosts::from_names([name]) {
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
        self.check(&obj.child(key), WebhookHosts::from_names(names))
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

    /// A directory id with the directory check off: a warning.
    pub(crate) fn directory_id_unused(
        &mut self,
        directory_check: Option<DirectoryCheck>,
        directory_id: &Option<Option<DirectoryId>>,
        obj: &Obj<'_>,
    ) {
        if directory_check == Some(DirectoryCheck::Off) && matches!(directory_id, Some(Some(_))) {
            self.warning(
                obj.child("DirectoryId"),
                "has no effect: SSO.DirectoryCheck is off, so no directory is asked",
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::SyncProfileName;
    use crate::plan::Mode;

    /// The seed's format with two groups (the shared fixture).
    fn seed() -> Value {
        serde_json::from_str(include_str!(
            "../../../tests/fixtures/config/valid/seed-only.json"
        ))
        .expect("the seed fixture is JSON")
    }

    fn messages(value: &Value) -> Vec<String> {
        match from_value(value) {
            Ok(parsed) => parsed.warnings.iter().map(ToString::to_string).collect(),
            Err(invalid) => invalid.problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn errors(value: &Value) -> Vec<String> {
        from_value(value)
            .err()
            .map(|i| i.errors().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// The errors of the seed config with one value set at a path.
    fn errors_with(path: &[&str], value: Value) -> Vec<String> {
        let mut v = seed();
        let slot = path.iter().fold(&mut v, |v, key| &mut v[*key]);
        *slot = value;
        errors(&v)
    }

    #[test]
    fn a_config_with_only_the_seeds_keys_is_valid_with_defaults() {
        let parsed = from_value(&seed()).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let c = parsed.config;
        assert_eq!(
            c.general.stack_name.as_str(),
            "COMPANY-SSO-AD-GroupSync-TEST"
        );
        assert_eq!(c.sso.groups.len(), 2);
        assert_eq!(c.sso.mode, Mode::Managed);
        assert_eq!(c.sso.on_delete, OnDelete::Retain);
        assert_eq!(
            c.sso.guard,
            GuardLimits {
                max_removals: 10,
                max_removal_percent: 25,
                max_users_losing_access: None,
            }
        );
        assert_eq!(c.sso.sync_profile.as_str(), SyncProfileName::DEFAULT);
        assert_eq!(c.general.docs_prefix.as_str(), "sso");
        assert_eq!(c.general.card_format, CardFormat::AdaptiveCard);
        assert_eq!(c.sso.directory_check, DirectoryCheck::Warn);
        assert_eq!(c.sso.directory_id, None);
    }

    #[test]
    fn a_directory_id_with_the_check_off_is_a_warning() {
        let mut v = seed();
        v["SSO"]["DirectoryCheck"] = "off".into();
        v["SSO"]["DirectoryId"] = "d-1234567890".into();
        assert_eq!(
            messages(&v),
            ["SSO.DirectoryId: has no effect: SSO.DirectoryCheck is off, so no directory is asked"]
        );
    }

    #[test]
    fn case_insensitive_duplicate_names_point_at_the_first_entry() {
        let mut v = seed();
        v["SSO"]["GroupFilters"].as_array_mut().unwrap().extend([
            serde_json::json!({"Name": "Other"}),
            serde_json::json!({"Name": " aws-admins "}),
        ]);
        assert_eq!(
            errors(&v),
            [
                r#"SSO.GroupFilters[3].Name: "aws-admins" duplicates [0] "AWS-Admins" (names compare case-insensitively)"#
            ]
        );
    }

    #[test]
    fn a_group_and_a_user_may_share_a_name() {
        let mut v = seed();
        v["SSO"]["UserFilters"] = serde_json::json!([{ "Name": "aws-admins" }]);
        assert!(from_value(&v).is_ok());
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let mut v = seed();
        v["general"]["stage"] = serde_json::json!(3);
        v["general"]["s3_DOKUBUCKET"] = serde_json::json!("Bad_Bucket");
        v["SSO"]["ad_DomainName"] = serde_json::json!("corp");
        assert_eq!(errors(&v).len(), 3, "{:?}", errors(&v));
    }

    #[test]
    fn unknown_keys_are_warnings_with_a_suggestion() {
        let mut v = seed();
        v["SSO"]["Mdoe"] = serde_json::json!("managed");
        let parsed = from_value(&v).unwrap();
        assert_eq!(
            parsed
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [r#"SSO.Mdoe: unknown key, ignored (did you mean "Mode"?)"#]
        );
    }

    #[test]
    fn a_misspelt_required_key_is_named_in_the_missing_key_error() {
        let mut v = seed();
        let groups = v["SSO"]
            .as_object_mut()
            .unwrap()
            .remove("GroupFilters")
            .unwrap();
        v["SSO"]["GroupFilter"] = groups;
        assert!(messages(&v).contains(
            &r#"SSO.GroupFilters: required key is missing (found "GroupFilter": did you mean "GroupFilters"?)"#
                .to_owned()
        ));
    }

    #[test]
    fn the_stack_name_error_blames_the_key_with_the_bad_character() {
        assert_eq!(
            errors_with(&["general", "stage"], serde_json::json!("TEST_1")),
            [
                r#"general.stage: "TEST_1" contains '_', which makes the stack name "COMPANY-SSO-AD-GroupSync-TEST_1" invalid: CloudFormation allows only letters, digits and hyphens"#
            ]
        );
    }

    #[test]
    fn a_too_long_stack_name_is_reported_on_general() {
        let mut v = seed();
        v["general"]["produkt"] = serde_json::json!("P".repeat(120));
        let e = errors(&v);
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("general: the stack name") && e[0].contains("allows 128"),
            "{e:?}"
        );
    }

    #[test]
    fn a_literal_webhook_url_works_with_a_warning_that_does_not_repeat_it() {
        let mut v = seed();
        v["general"]["WebhookUrlTeams"] =
            serde_json::json!("https://example.webhook.office.com/x?sig=TOPSECRET");
        let parsed = from_value(&v).unwrap();
        assert!(parsed.config.general.webhook.is_literal());
        assert_eq!(parsed.warnings.len(), 1);
        assert!(!parsed.warnings[0].to_string().contains("TOPSECRET"));
    }

    #[test]
    fn a_literal_webhook_on_a_host_that_is_not_microsofts_is_refused_unless_listed() {
        let mut v = seed();
        v["general"]["WebhookUrlTeams"] =
            serde_json::json!("https://teams-proxy.corp.example/hook?sig=TOPSECRET");
        let found = errors(&v);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("general.WebhookUrlTeams: the URL is refused: its host teams-proxy.corp.example is not a Microsoft Teams or Power Automate webhook host")
                && found[0].contains("general.WebhookHosts")
                && !found[0].contains("TOPSECRET"),
            "{found:?}"
        );
        v["general"]["WebhookHosts"] = serde_json::json!(["corp.example"]);
        let parsed = from_value(&v).unwrap();
        assert_eq!(
            parsed.config.general.webhook_hosts.extra(),
            ["corp.example"]
        );
        v["general"]["WebhookHosts"] = serde_json::json!(["corp.example", "https://x.example/"]);
        let found = errors(&v);
        assert!(
            found
                .iter()
                .any(|e| e.starts_with("general.WebhookHosts[1]: ")),
            "{found:?}"
        );
        v["general"]["WebhookHosts"] = serde_json::json!("corp.example");
        assert!(
            errors(&v).iter().any(|e| e == "general.WebhookHosts: expected a list of host names, found a string (\"corp.example\")"),
            "{:?}",
            errors(&v)
        );
    }

    #[test]
    fn optional_keys_are_parsed() {
        let mut v = seed();
        v["SSO"]["Mode"] = serde_json::json!("authoritative");
        v["SSO"]["OnDelete"] = serde_json::json!("remove");
        v["SSO"]["DeletionGuard"] = serde_json::json!({"MaxRemovals": 50, "MaxRemovalPercent": 100, "MaxUsersLosingAccess": 0});
        v["SSO"]["UserFilters"] =
            serde_json::json!([{"Name": "jdoe", "Description": "break-glass"}]);
        v["SSO"]["SyncProfileName"] = serde_json::json!("corp-profile");
        v["general"]["TeamsCardFormat"] = serde_json::json!("MessageCard");
        v["general"]["DriftSchedule"] = serde_json::json!("rate(6 hours)");
        let c = from_value(&v).unwrap().config;
        assert_eq!(c.sso.mode, Mode::Authoritative);
        assert_eq!(c.sso.on_delete, OnDelete::Remove);
        assert_eq!(c.sso.guard.max_removals, 50);
        assert_eq!(c.sso.guard.max_users_losing_access, Some(0));
        assert_eq!(c.sso.users.len(), 1);
        assert_eq!(c.desired().filters.len(), 3);
        assert_eq!(c.general.card_format, CardFormat::MessageCard);
    }

    #[test]
    fn a_bad_choice_lists_the_allowed_values_and_suggests_one() {
        assert_eq!(
            errors_with(&["SSO", "Mode"], serde_json::json!("manged")),
            [
                r#"SSO.Mode: "manged" is not allowed: use "managed" or "authoritative" (did you mean "managed"?)"#
            ]
        );
    }

    #[test]
    fn guard_limits_must_be_whole_numbers_in_range() {
        let mut v = seed();
        v["SSO"]["DeletionGuard"] = serde_json::json!({"MaxRemovals": -1, "MaxRemovalPercent": 101, "MaxUsersLosingAccess": "5"});
        assert_eq!(
            errors(&v),
            [
                "SSO.DeletionGuard.MaxRemovals: -1 is not allowed: use a whole number from 0 to 4294967295",
                "SSO.DeletionGuard.MaxRemovalPercent: 101 is not allowed: use a whole number from 0 to 100",
                "SSO.DeletionGuard.MaxUsersLosingAccess: expected a whole number, found a string (\"5\")",
            ]
        );
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let e = parse("{\n  \"general\": {,\n}").unwrap_err();
        assert!(
            e.problems[0]
                .message
                .starts_with("not valid JSON at line 2, column 15"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_name_what_was_found() {
        assert_eq!(
            errors_with(&["SSO", "GroupFilters"], serde_json::json!({"Name": "x"})),
            ["SSO.GroupFilters: expected an array of filters, found an object"]
        );
    }
}
