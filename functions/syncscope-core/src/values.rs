//! The values a setting can hold: the [`Property`] trait (read from a scalar, written
//! as one, described in the config's JSON Schema), its implementations for the
//! validated names and the choices, the value types of their own ([`Line`],
//! [`Count`], [`SsmPath`], [`Sha256Hex`]), how one property is read from the
//! resource's map (`field`), and the schema fragments of these types.
//!
//! Scalars arrive as strings (CloudFormation turns numbers and booleans into
//! strings); numbers and booleans are read too. An empty string is a missing value.
//! The settings themselves are declared in [`crate::settings`].

use serde_json::{Map, Value, json};

use crate::choice::{CardFormat, Choice, Engine, OnDelete};
use crate::directory::DirectoryCheck;
use crate::names::{
    BucketName, CiRepository, DirectoryId, DomainName, HttpsUrl, IdentityStoreId, KeyPrefix,
    ParentGroupName, Region, Schedule, SyncProfileName, WebhookHosts, WebhookRef, parse_ssm_name,
    quoted,
};
use crate::plan::Mode;
use crate::suggest;

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
    BucketName => bucket_name(),
    CiRepository => ci_repository(),
    DirectoryId => directory_style_id(),
    DomainName => domain_name(),
    HttpsUrl => https_url(),
    IdentityStoreId => directory_style_id(),
    KeyPrefix => key_prefix(),
    ParentGroupName => parent_group_name(),
    Region => region(),
    Schedule => schedule(),
    SyncProfileName => sync_profile_name(),
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
                choice::<$ty>()
            }
        }
    )*};
}

chosen!(CardFormat, Engine, Mode, OnDelete, DirectoryCheck);

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
        webhook_ref()
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

// ---- schema fragments --------------------------------------------------------------

fn string_pattern(pattern: &str, message: &str) -> Value {
    json!({ "type": "string", "pattern": pattern, "patternErrorMessage": message })
}

/// A [`Choice`]: its spellings, each described by its doc line.
pub fn choice<T: Choice>() -> Value {
    json!({
        "type": "string",
        "enum": T::spellings(),
        "enumDescriptions": T::ALL.iter().map(|c| c.doc()).collect::<Vec<_>>(),
    })
}

/// [`crate::names::BucketName`].
pub fn bucket_name() -> Value {
    let rule = |pattern: &str, message: &str| json!({ "pattern": pattern, "patternErrorMessage": message });
    json!({
        "type": "string",
        "minLength": 3,
        "maxLength": 63,
        "allOf": [
            rule(r#"^[a-z0-9.-]*$"#, "Only lowercase letters, digits, dots and hyphens are allowed in an S3 bucket name."),
            rule(r#"^[a-z0-9]([\s\S]*[a-z0-9])?$"#, "An S3 bucket name must begin and end with a letter or digit."),
            rule(r#"^(?![\s\S]*\.\.)"#, "An S3 bucket name must not contain two adjacent periods."),
            rule(r#"^(?!(?:0*(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}0*(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$)"#, "An S3 bucket name must not be formatted as an IP address."),
            rule(r#"^(?!xn--|sthree-|amzn-s3-demo-)"#, "The prefixes xn--, sthree- and amzn-s3-demo- are reserved by S3."),
            rule(r#"^(?![\s\S]*(?:-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$)"#, "The suffixes -s3alias, --ol-s3, .mrap, --x-s3 and --table-s3 are reserved by S3."),
        ],
    })
}

/// [`crate::names::WebhookRef`].
pub fn webhook_ref() -> Value {
    string_pattern(
        r#"^(?:ssm:(?=[\s\S]{2,1011}$)(?!/[Aa][Ww][Ss]|/[Ss][Ss][Mm])(?:/[A-Za-z0-9_.-]+)+|arn:aws[^:]*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-0*(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]):[0-9]{12}:secret:[\s\S]+|[Hh][Tt][Tt][Pp][Ss]://(?:[^/?#\s\u0000-\u001F\u007F-\u009F]*@)?[A-Za-z0-9.:\[\]-]+(?:[/?#][^\s\u0000-\u001F\u007F-\u009F]*)?)$"#,
        r#"Expected "ssm:/parameter/name", a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), or an https URL."#,
    )
}

/// [`crate::names::HttpsUrl`].
pub fn https_url() -> Value {
    string_pattern(
        r#"^[Hh][Tt][Tt][Pp][Ss]://(?:[^/?#\s\u0000-\u001F\u007F-\u009F]*@)?[A-Za-z0-9.:\[\]-]+(?:[/?#][^\s\u0000-\u001F\u007F-\u009F]*)?$"#,
        "Expected an absolute https URL, e.g. https://wiki.example.com/aws/sso-groups (no spaces).",
    )
}

/// [`crate::names::Region`].
pub fn region() -> Value {
    string_pattern(
        r#"^[a-z]{2}(?:-[a-z]+)+-0*(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"#,
        "Expected an AWS region code such as eu-central-1.",
    )
}

/// [`crate::names::KeyPrefix`].
pub fn key_prefix() -> Value {
    let mut fragment = string_pattern(
        r#"^/*(?!\.\.?(?:/|$))[A-Za-z0-9._-]+(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._-]+)*/*$"#,
        "Expected segments of letters, digits, - _ . separated by / (no empty, . or .. segments).",
    );
    fragment["maxLength"] = json!(256);
    fragment
}

/// [`crate::names::Schedule`].
pub fn schedule() -> Value {
    string_pattern(
        r#"^(?:rate\(\s*(?:0*1\s+(?:hour|day)|0*(?:[2-9]|[1-9][0-9]+)\s+(?:hours|days)|0*(?:1[5-9]|[2-9][0-9]|[1-9][0-9]{2,})\s+minutes)\s*\)|cron\(\s*\S+(?:\s+\S+){5}\s*\))$"#,
        r#"Expected e.g. "rate(6 hours)", "rate(1 day)" (at least 15 minutes) or "cron(0 6 * * ? *)" (six fields)."#,
    )
}

/// [`crate::names::DomainName`].
pub fn domain_name() -> Value {
    string_pattern(
        r#"^(?=[\s\S]{1,253}\.*$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\.*$"#,
        "Expected a fully qualified DNS domain name such as corp.example.com.",
    )
}

/// [`crate::names::SyncProfileName`].
pub fn sync_profile_name() -> Value {
    string_pattern(
        r#"^[A-Za-z0-9_.-]{1,128}$"#,
        "1 to 128 letters, digits, _ - or .",
    )
}

/// The pattern of an AD sAMAccountName in the schema: not blank, no trailing period,
/// none of the characters AD forbids.
pub(crate) const AD_NAME_PATTERN: &str =
    r#"^(?=[\s\S]*\S)(?![\s\S]*\.\s*$)[^"/\\\[\]:;|=,+*?<>\u0000-\u001F\u007F-\u009F]*$"#;

/// What [`AD_NAME_PATTERN`] refuses, for the schema's message.
pub(crate) const AD_NAME_MESSAGE: &str = "Not blank, no trailing period, none of \" / \\ [ ] : ; | = , + * ? < > and no control characters (Active Directory forbids them in a sAMAccountName).";

/// [`crate::names::ParentGroupName`]: an AD group's sAMAccountName.
pub fn parent_group_name() -> Value {
    let mut schema = string_pattern(AD_NAME_PATTERN, AD_NAME_MESSAGE);
    schema["maxLength"] = json!(crate::names::MAX_GROUP_NAME_CHARS);
    schema
}

/// [`crate::names::CiRepository`]: GitHub's `owner/name`.
pub fn ci_repository() -> Value {
    string_pattern(
        r#"^(?=[A-Za-z0-9-]{1,39}/)[A-Za-z0-9](?:-?[A-Za-z0-9])*/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$"#,
        "Expected a GitHub repository as owner/name, e.g. acme/sso-config: the owner 1 to 39 letters, digits or single hyphens, the name 1 to 100 letters, digits, . _ or -.",
    )
}

/// [`crate::names::IdentityStoreId`] and [`crate::names::DirectoryId`].
pub fn directory_style_id() -> Value {
    string_pattern(
        r#"^d-[0-9a-f]{10}$"#,
        r#"Expected "d-" and 10 lowercase hex digits, e.g. d-1234567890."#,
    )
}
