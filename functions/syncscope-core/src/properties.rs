//! The custom resource's properties: the types a setting can hold ([`Property`]:
//! read, written, described) and how a property is read. The properties themselves
//! are declared in the settings table ([`crate::settings`]), which gives the typed
//! struct, the parser the handler uses (every problem collected, each naming its key;
//! unknown keys ignored, as CloudFormation adds its own) and the writer the
//! synthesiser uses.
//!
//! Scalars arrive as strings (CloudFormation turns numbers and booleans into
//! strings); numbers and booleans are read too. An empty string is a missing value.

use serde_json::{Map, Value};

use crate::choice::{CardFormat, Choice, OnDelete};
use crate::directory::DirectoryCheck;
use crate::names::{
    BucketName, DirectoryId, DomainName, HttpsUrl, IdentityStoreId, KeyPrefix, Region, Schedule,
    SyncProfileName, WebhookHosts, WebhookRef, parse_ssm_name, quoted,
};
use crate::plan::Mode;
use crate::settings::schema;
use crate::suggest;

pub use crate::settings::{KEYS, Properties, parse};

/// A type a setting can hold: read from its (trimmed, non-empty) scalar, written as
/// one, and described in the config's JSON Schema.
pub trait Property: Sized {
    /// Reads a value; the error is the rule it breaks (the key is added).
    fn read(value: &str) -> Result<Self, String>;
    /// The scalar written into the template.
    fn write(&self) -> String;
    /// Reads a value of the config file (the same rule; a type may say more there,
    /// e.g. "did you mean").
    fn read_config(value: &str) -> Result<Self, String> {
        Self::read(value)
    }
    /// The type's JSON Schema fragment in the config file (type, pattern, enum, ...).
    fn schema() -> Value {
        serde_json::json!({ "type": "string" })
    }
}

/// Implements [`Property`] for types with `parse` and `as_str`, each with its schema
/// fragment.
macro_rules! textual {
    ($($ty:ty => $schema:expr),* $(,)?) => {$(
        impl Property for $ty {
            fn read(value: &str) -> Result<Self, String> {
                <$ty>::parse(value)
            }
            fn write(&self) -> String {
                self.as_str().to_owned()
            }
            fn schema() -> Value {
                $schema
            }
        }
    )*};
}

textual!(
    BucketName => schema::bucket_name(),
    DirectoryId => schema::directory_style_id(),
    DomainName => schema::domain_name(),
    HttpsUrl => schema::https_url(),
    IdentityStoreId => schema::directory_style_id(),
    KeyPrefix => schema::key_prefix(),
    Region => schema::region(),
    Schedule => schema::schedule(),
    SyncProfileName => schema::sync_profile_name(),
);

/// Implements [`Property`] for [`Choice`] enums: `"x" is not allowed: use "a" or "b"`.
macro_rules! chosen {
    ($($ty:ty),*) => {$(
        impl Property for $ty {
            fn read(value: &str) -> Result<Self, String> {
                <$ty as Choice>::parse(value).ok_or_else(|| {
                    format!("{} is not allowed: use {}", quoted(value), <$ty as Choice>::allowed())
                })
            }
            fn write(&self) -> String {
                Choice::as_str(*self).to_owned()
            }
            /// As [`Property::read`], with "did you mean" for a near miss.
            fn read_config(value: &str) -> Result<Self, String> {
                <$ty as Choice>::parse(value).ok_or_else(|| {
                    let hint = suggest::closest(value, &<$ty as Choice>::spellings())
                        .map(|a| format!(" (did you mean {a:?}?)"))
                        .unwrap_or_default();
                    format!(
                        "{} is not allowed: use {}{hint}",
                        quoted(value),
                        <$ty as Choice>::allowed()
                    )
                })
            }
            fn schema() -> Value {
                schema::choice::<$ty>()
            }
        }
    )*};
}

chosen!(CardFormat, Mode, OnDelete, DirectoryCheck);

impl Property for String {
    fn read(value: &str) -> Result<Self, String> {
        Ok(value.to_owned())
    }
    fn write(&self) -> String {
        self.clone()
    }
}

impl Property for bool {
    fn read(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!(
                "{} is not allowed: use \"true\" or \"false\"",
                quoted(value)
            )),
        }
    }
    fn write(&self) -> String {
        self.to_string()
    }
}

impl Property for WebhookHosts {
    fn read(value: &str) -> Result<Self, String> {
        WebhookHosts::parse(value)
    }
    fn write(&self) -> String {
        self.as_property()
    }
}

impl Property for WebhookRef {
    fn read(value: &str) -> Result<Self, String> {
        WebhookRef::parse(value)
    }
    fn write(&self) -> String {
        self.to_property()
    }
    fn schema() -> Value {
        schema::webhook_ref()
    }
}

/// One line of text (a title, a label): trimmed, not empty, at most `MAX`
/// characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<const MAX: usize>(String);

impl<const MAX: usize> Line<MAX> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> Property for Line<MAX> {
    fn read(value: &str) -> Result<Self, String> {
        let text = value.trim();
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if let Some((position, c)) = text.chars().enumerate().find(|(_, c)| c.is_control()) {
            return Err(format!(
                "contains a control character (U+{:04X}) at position {}; write it on one line",
                c as u32,
                position + 1
            ));
        }
        let length = text.chars().count();
        if length > MAX {
            return Err(format!(
                "{} is {length} characters long; at most {MAX} are allowed",
                quoted(text)
            ));
        }
        Ok(Self(text.to_owned()))
    }
    fn write(&self) -> String {
        self.0.clone()
    }
    fn schema() -> Value {
        serde_json::json!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX,
            "pattern": r#"^[^\u0000-\u001F\u007F-\u009F]*$"#,
            "patternErrorMessage": "One line, without control characters.",
        })
    }
}

/// A whole number from 0 to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MAX: u32>(pub u32);

impl<const MAX: u32> Property for Count<MAX> {
    fn read(value: &str) -> Result<Self, String> {
        value
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX)
            .map(Self)
            .ok_or_else(|| format!("{} is not a whole number from 0 to {MAX}", quoted(value)))
    }
    fn write(&self) -> String {
        self.0.to_string()
    }
}

/// An SSM parameter name or path (`/a/b`), without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmPath(String);

impl SsmPath {
    /// The owners' path every stack shares unless told otherwise.
    pub fn owners_default() -> Self {
        Self(crate::store::OWNERS_ROOT.to_owned())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Property for SsmPath {
    fn read(value: &str) -> Result<Self, String> {
        parse_ssm_name(value).map(|n| Self(n.trim_end_matches('/').to_owned()))
    }
    fn write(&self) -> String {
        self.0.clone()
    }
}

impl From<String> for SsmPath {
    fn from(name: String) -> Self {
        Self(name)
    }
}

impl std::fmt::Display for SsmPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SHA-256 in hex (lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Property for Sha256Hex {
    fn read(value: &str) -> Result<Self, String> {
        if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(value.to_ascii_lowercase()))
        } else {
            Err(format!("{} is not a SHA-256 in hex", quoted(value)))
        }
    }
    fn write(&self) -> String {
        self.0.clone()
    }
}

impl From<String> for Sha256Hex {
    fn from(hash: String) -> Self {
        Self(hash.to_ascii_lowercase())
    }
}

/// The scalar of `key`, trimmed; `Ok(None)` when missing, null or empty.
pub(crate) fn scalar(props: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(Value::Array(_)) => Err("expected a string, found a list".to_owned()),
        Some(Value::Object(_)) => Err("expected a string, found an object".to_owned()),
    }
}

/// How a property's absence is met.
pub(crate) enum Absent<T> {
    /// Required: a problem (`required property is missing`, or `must not be empty`).
    Required,
    /// Optional: `None`.
    Optional,
    /// This default.
    Default(T),
}

/// Reads one property, adding a problem (with its key) when it is bad.
pub(crate) fn field<T: Property>(
    props: &Map<String, Value>,
    key: &str,
    absent: Absent<T>,
    problems: &mut Vec<String>,
) -> Option<Option<T>> {
    let mut problem = |why: String| {
        problems.push(format!("{key}: {why}"));
        None
    };
    match scalar(props, key) {
        Err(why) => problem(why),
        Ok(Some(value)) => match T::read(&value) {
            Ok(v) => Some(Some(v)),
            Err(why) => problem(why),
        },
        Ok(None) => match absent {
            Absent::Optional => Some(None),
            Absent::Default(value) => Some(Some(value)),
            Absent::Required => {
                let empty = matches!(props.get(key), Some(Value::String(_)));
                problem(if empty {
                    "must not be empty".to_owned()
                } else {
                    "required property is missing".to_owned()
                })
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid property map (tests/fixtures/properties/valid.json, the fuzz target's
    /// starting point too).
    fn props() -> Map<String, Value> {
        serde_json::from_str(include_str!(
            "../../../tests/fixtures/properties/valid.json"
        ))
        .unwrap_or_default()
    }

    #[test]
    fn properties_arrive_as_strings_and_unknown_keys_are_ignored() {
        let p = parse(&props()).unwrap();
        assert_eq!(p.guard().max_removals, 20);
        assert_eq!(p.guard().max_removal_percent, 25);
        assert!(p.dry_run);
        assert_eq!(p.mode, Mode::Managed);
        assert_eq!(p.sync_profile.as_str(), SyncProfileName::DEFAULT);
    }

    #[test]
    fn every_bad_property_is_named() {
        let mut m = props();
        m.remove("AdDomainName");
        m.insert("Mode".into(), "sometimes".into());
        m.insert("MaxRemovalPercent".into(), "250".into());
        m.insert("FiltersParameter".into(), "no-slash".into());
        m.insert("Stage".into(), serde_json::json!(["a"]));
        let problems = parse(&m).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        for expected in [
            "AdDomainName: required property is missing",
            "Mode: \"sometimes\" is not allowed: use \"managed\" or \"authoritative\"",
            "MaxRemovalPercent: \"250\" is not a whole number from 0 to 100",
            "Stage: expected a string, found a list",
        ] {
            assert!(problems.iter().any(|p| p == expected), "{problems:?}");
        }
        assert!(problems.iter().any(|p| p.starts_with("FiltersParameter:")));
    }

    #[test]
    fn a_line_is_trimmed_and_refuses_control_characters_and_excess_length() {
        assert_eq!(
            Line::<5>::read("  Hi  ").map(|l| l.write()),
            Ok("Hi".into())
        );
        assert_eq!(
            Line::<5>::read("a\nb"),
            Err("contains a control character (U+000A) at position 2; write it on one line".into())
        );
        assert_eq!(
            Line::<5>::read("abcdef"),
            Err("\"abcdef\" is 6 characters long; at most 5 are allowed".into())
        );
        assert_eq!(
            Line::<5>::read("äöüßé").map(|l| l.write()),
            Ok("äöüßé".into())
        );
    }

    #[test]
    fn an_empty_required_property_is_named_as_empty() {
        let mut m = props();
        m.insert("Stage".into(), "  ".into());
        assert_eq!(parse(&m).unwrap_err(), ["Stage: must not be empty"]);
    }

    #[test]
    fn what_is_written_reads_back_the_same_for_every_key() {
        let mut m = props();
        for (key, value) in [
            ("SyncProfileName", "OtherProfile"),
            ("Region", "eu-west-1"),
            ("DocsBucket", "company-docs"),
            ("DocsPrefix", "wiki/sso"),
            ("DocsWebsite", "https://wiki.example.com/sso"),
            ("DocsTitle", "Who can sign in to AWS"),
            ("TeamsWebhook", "ssm:/company/teams"),
            ("WebhookHosts", "teams-proxy.corp.example,hooks.example.net"),
            ("TeamsCardFormat", "MessageCard"),
            ("Mode", "authoritative"),
            ("OnDelete", "remove"),
            ("MaxRemovalPercent", "40"),
            ("MaxUsersLosingAccess", "0"),
            ("IdentityStoreId", "d-0123456789"),
            ("DirectoryCheck", "require"),
            ("DirectoryId", "d-0123456789"),
        ] {
            m.insert(key.into(), value.into());
        }
        let parsed = parse(&m).unwrap();
        let written = parsed.to_map();
        let keys: Vec<&str> = written.keys().map(String::as_str).collect();
        let mut all = KEYS.to_vec();
        all.sort_unstable();
        assert_eq!(keys, all, "every property is written when set");
        assert_eq!(parse(&written).unwrap(), parsed);
    }
}
