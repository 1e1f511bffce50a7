//! The custom resource's properties: one declaration ([`properties!`]) gives the
//! typed struct, the parser the handler uses (every problem collected, each naming
//! its key; unknown keys ignored, as CloudFormation adds its own) and the writer the
//! synthesiser uses. A property is added in one place.
//!
//! Scalars arrive as strings (CloudFormation turns numbers and booleans into
//! strings); numbers and booleans are read too. An empty string is a missing value.

use serde_json::{Map, Value};

use crate::choice::Choice;
use crate::config::{CardFormat, OnDelete};
use crate::directory::DirectoryCheck;
use crate::names::{
    BucketName, DirectoryId, DomainName, HttpsUrl, IdentityStoreId, KeyPrefix, Region,
    SyncProfileName, WebhookHosts, WebhookRef, parse_ssm_name, quoted,
};
use crate::plan::{GuardLimits, Mode};

/// A type a property can hold: read from its (trimmed, non-empty) scalar, written as
/// one.
pub trait Property: Sized {
    /// Reads a value; the error is the rule it breaks (the key is added).
    fn read(value: &str) -> Result<Self, String>;
    /// The scalar written into the template.
    fn write(&self) -> String;
}

/// Implements [`Property`] for types with `parse` and `as_str`.
macro_rules! textual {
    ($($ty:ty),*) => {$(
        impl Property for $ty {
            fn read(value: &str) -> Result<Self, String> {
                <$ty>::parse(value)
            }
            fn write(&self) -> String {
                self.as_str().to_owned()
            }
        }
    )*};
}

textual!(
    BucketName,
    DirectoryId,
    DomainName,
    HttpsUrl,
    IdentityStoreId,
    KeyPrefix,
    Region,
    SyncProfileName
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
fn scalar(props: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
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
enum Absent<T> {
    /// Required: a problem (`required property is missing`, or `must not be empty`).
    Required,
    /// Optional: `None`.
    Optional,
    /// This default.
    Default(T),
}

/// Reads one property, adding a problem (with its key) when it is bad.
fn field<T: Property>(
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

/// Declares the properties: each field with its key and what its absence means.
macro_rules! properties {
    ($(
        $(#[$doc:meta])*
        $field:ident: $kind:ident $ty:ty = $key:literal $(=> $default:expr)?;
    )*) => {
        /// The resource properties, validated.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Properties {
            $( $(#[$doc])* pub $field: properties!(@type $kind $ty), )*
        }

        /// Every key, in template order.
        pub const KEYS: &[&str] = &[$($key),*];

        /// Parses `ResourceProperties`, collecting every problem (each naming its key).
        /// Unknown keys are ignored, as CloudFormation may add its own.
        pub fn parse(props: &Map<String, Value>) -> Result<Properties, Vec<String>> {
            let mut problems = Vec::new();
            $( let $field = field::<$ty>(
                props,
                $key,
                properties!(@absent $kind $($default)?),
                &mut problems,
            ); )*
            let built = (|| Some(Properties {
                $( $field: properties!(@take $kind $field?), )*
            }))();
            match built {
                Some(properties) if problems.is_empty() => Ok(properties),
                _ => Err(problems),
            }
        }

        impl Properties {
            /// The properties as the template writes them: string scalars, optional
            /// ones left out when unset.
            pub fn to_map(&self) -> Map<String, Value> {
                let mut map = Map::new();
                $( properties!(@write $kind map, $key, &self.$field); )*
                map
            }
        }
    };
    (@type required $ty:ty) => { $ty };
    (@type default $ty:ty) => { $ty };
    (@type optional $ty:ty) => { Option<$ty> };
    (@absent required) => { Absent::Required };
    (@absent optional) => { Absent::Optional };
    (@absent default $default:expr) => { Absent::Default($default) };
    (@take optional $value:expr) => { $value };
    (@take $kind:ident $value:expr) => { $value? };
    (@write optional $map:ident, $key:literal, $value:expr) => {
        if let Some(v) = $value {
            $map.insert($key.to_owned(), Value::String(v.write()));
        }
    };
    (@write $kind:ident $map:ident, $key:literal, $value:expr) => {
        $map.insert($key.to_owned(), Value::String($value.write()));
    };
}

properties! {
    /// `FiltersParameter`: the SSM parameter, or path of shards, holding the filters.
    filters_parameter: required SsmPath = "FiltersParameter";
    /// `FiltersHash`: the SHA-256 of the filters, so every config change is an Update.
    filters_hash: optional Sha256Hex = "FiltersHash";
    /// `LedgerParameter`: the SSM path of the stack's ledgers (before they moved to
    /// `OwnersParameter`: read until the next write moves them).
    ledger_parameter: required SsmPath = "LedgerParameter";
    /// `OwnersParameter`: the SSM path under which every stack of a sync profile keeps
    /// its ownership record (`OWNERS/REGION/PROFILE/STACK`), so each sees the others'.
    owners_parameter: default SsmPath = "OwnersParameter" => SsmPath::owners_default();
    /// `SyncProfileName` (default: the console's).
    sync_profile: default SyncProfileName = "SyncProfileName" => SyncProfileName::default();
    /// `Region`: the region of IAM Identity Center (default: the function's).
    region: optional Region = "Region";
    /// `AdDomainName`.
    domain: required DomainName = "AdDomainName";
    /// `Stage`.
    stage: required String = "Stage";
    /// `DocsBucket`: where the documentation goes (none: not published).
    docs_bucket: optional BucketName = "DocsBucket";
    /// `DocsPrefix` (default `sso`).
    docs_prefix: default KeyPrefix = "DocsPrefix" => KeyPrefix::docs_default();
    /// `DocsWebsite`: the link on the Teams card.
    docs_website: optional HttpsUrl = "DocsWebsite";
    /// `TeamsWebhook`: reference to the webhook URL (none: no card).
    webhook: optional WebhookRef = "TeamsWebhook";
    /// `WebhookHosts`: hosts besides Microsoft's the card may go to (comma-separated).
    webhook_hosts: optional WebhookHosts = "WebhookHosts";
    /// `TeamsCardFormat`.
    card_format: default CardFormat = "TeamsCardFormat" => CardFormat::default();
    /// `Mode`.
    mode: default Mode = "Mode" => Mode::default();
    /// `OnDelete`.
    on_delete: default OnDelete = "OnDelete" => OnDelete::default();
    /// `MaxRemovals`: the deletion guard's count limit.
    max_removals: default Count<{ u32::MAX }> = "MaxRemovals"
        => Count(GuardLimits::default().max_removals);
    /// `MaxRemovalPercent`: the deletion guard's share limit.
    max_removal_percent: default Count<100> = "MaxRemovalPercent"
        => Count(GuardLimits::default().max_removal_percent);
    /// `MaxUsersLosingAccess`: the people guard's limit (none: no limit).
    max_users_losing_access: optional Count<{ u32::MAX }> = "MaxUsersLosingAccess";
    /// `DryRun`: plan and report, change nothing.
    dry_run: default bool = "DryRun" => false;
    /// `IdentityStoreId`: skips the sso-admin lookup.
    identity_store_id: optional IdentityStoreId = "IdentityStoreId";
    /// `DirectoryCheck`: whether names must exist in AD.
    directory_check: default DirectoryCheck = "DirectoryCheck" => DirectoryCheck::default();
    /// `DirectoryId`: the directory to check names in (default: the sync profile's).
    directory_id: optional DirectoryId = "DirectoryId";
}

impl Properties {
    /// The deletion guard's limits.
    pub fn guard(&self) -> GuardLimits {
        GuardLimits {
            max_removals: self.max_removals.0,
            max_removal_percent: self.max_removal_percent.0,
            max_users_losing_access: self.max_users_losing_access.map(|c| c.0),
        }
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
