//! Validated newtypes: once a value has one of these types, it is known to be valid.
//!
//! Each type has a `parse` constructor returning the rule a bad value breaks, as a
//! sentence without the JSON path (the config walker adds the path).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest AD group name (sAMAccountName) a filter may hold.
pub const MAX_GROUP_NAME_CHARS: usize = 256;
/// Longest AD user logon name (sAMAccountName, "pre-Windows 2000") a filter may hold.
pub const MAX_USER_NAME_CHARS: usize = 20;
/// Longest description kept for a filter.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Characters Active Directory forbids in a sAMAccountName.
pub const AD_FORBIDDEN_CHARS: &[char] = &[
    '"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>',
];

/// Declares validated string newtypes, all with the same traits: the struct
/// (serialised as the plain string), `as_str`, `AsRef<str>` and `Display`; with a
/// validator (`fn(&str) -> Result<String, String>`, the error being the rule a bad
/// value breaks), also `parse` and `FromStr`. Extra derives go in brackets.
macro_rules! newtype {
    ($(
        $(#[$doc:meta])*
        $name:ident $([$($derive:ident),+])? $(= $validate:path)?;
    )*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize $($(, $derive)+)?)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The value, as validated.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        $( newtype!(@parse $name, $validate); )?
    )*};
    (@parse $name:ident, $validate:path) => {
        impl $name {
            /// Validates a value; the error is the rule it breaks.
            pub fn parse(raw: &str) -> Result<Self, String> {
                $validate(raw).map(Self)
            }
        }

        /// Deserialised through [`Self::parse`]: a value read back is as valid as one
        /// read from a config.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(raw: &str) -> Result<Self, String> {
                Self::parse(raw)
            }
        }
    };
}

newtype! {
    /// The name of an AD group or user in a sync filter (its sAMAccountName), trimmed.
    ///
    /// Names compare case-insensitively, as AD does: use [`FilterName::key`] to compare.
    FilterName;
    /// A human description of a filter, shown in the docs (may be empty): at most
    /// [`MAX_DESCRIPTION_CHARS`], no control characters.
    Description[Default] = description;
    /// A fully qualified DNS domain name of the Active Directory, e.g. `corp.example.com`.
    ///
    /// Rule: DNS syntax: at least two labels of letters, digits and hyphens.
    DomainName = domain_name;
    /// An S3 bucket name that follows the general purpose bucket naming rules.
    ///
    /// Rule: the S3 naming rules for general purpose buckets.
    BucketName = bucket_name;
    /// An absolute `https://` URL with a host and no spaces.
    HttpsUrl = https_url;
    /// An AWS region code such as `eu-central-1`.
    ///
    /// Rule: region syntax (`xx-name-N`, including gov and iso partitions).
    Region[PartialOrd, Ord] = region;
    /// A CloudFormation stack name.
    ///
    /// Rule: starts with a letter; letters, digits and hyphens; at most 128 characters.
    StackName = stack_name;
    /// The name of an identity-sync sync profile.
    ///
    /// Rule: 1 to 128 letters, digits, `_`, `-` or `.`.
    SyncProfileName[PartialOrd, Ord] = sync_profile_name;
    /// An identity store id, e.g. `d-1234567890`.
    ///
    /// Rule: the `d-` followed by 10 hexadecimal digits form.
    IdentityStoreId = identity_store_id;
    /// An AWS Directory Service directory id, e.g. `d-1234567890`.
    ///
    /// Rule: the `d-` followed by 10 lowercase hexadecimal digits form.
    DirectoryId = directory_id;
    /// The sAMAccountName of the parent sync group (engine `parent-group`): the one
    /// group in the sync scope, whose members syncscope manages.
    ///
    /// Rule: a group filter's name.
    ParentGroupName = parent_group_name;
    /// A prefix for S3 object keys: segments of safe characters separated by `/`.
    ///
    /// Rule: segments of letters, digits, `-`, `_`, `.` (no leading or trailing `/`).
    KeyPrefix = key_prefix;
    /// An EventBridge schedule expression: `rate(...)` or `cron(...)`.
    ///
    /// Rule: `rate(N unit)` (minute/hour/day, singular only for 1) or `cron(6 fields)`.
    Schedule = schedule;
    /// A GitHub repository, `owner/name`, whose CI may assume the plan role.
    ///
    /// Rule: GitHub's names: an owner of 1 to 39 letters, digits or single hyphens
    /// (not at either end), `/`, and a name of 1 to 100 letters, digits, `.`, `_` or
    /// `-` (not `.` or `..`).
    CiRepository = ci_repository;
    /// A git branch whose CI runs may assume the plan role, e.g. `main`.
    ///
    /// Rule: 1 to 255 letters, digits, `.`, `_`, `-` or `/`; no empty, `.`-led or
    /// `.lock` segment, no `..`, not starting with `-` (git's ref rules, without
    /// characters IAM would read as a wildcard or a policy variable).
    CiBranch = ci_branch;
}

/// Quotes a value for an error message, shortening very long values.
pub fn quoted(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}

/// `value` when `ok`, else the rule it breaks, after the value quoted.
fn accept(value: &str, ok: bool, rule: &str) -> Result<String, String> {
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!("{} {rule}", quoted(value)))
    }
}

fn first_control_char(value: &str) -> Option<(usize, char)> {
    value.chars().enumerate().find(|(_, c)| c.is_control())
}

/// Invisible formatting characters that make one name look like another in a
/// pull-request comment, on the docs page or in a terminal: the bidirectional
/// embeddings, overrides, isolates and marks, and the zero-width characters.
const INVISIBLE_CHARS: &[(char, &str)] = &[
    ('\u{061C}', "Arabic letter mark"),
    ('\u{200B}', "zero width space"),
    ('\u{200C}', "zero width non-joiner"),
    ('\u{200D}', "zero width joiner"),
    ('\u{200E}', "left-to-right mark"),
    ('\u{200F}', "right-to-left mark"),
    ('\u{202A}', "left-to-right embedding"),
    ('\u{202B}', "right-to-left embedding"),
    ('\u{202C}', "pop directional formatting"),
    ('\u{202D}', "left-to-right override"),
    ('\u{202E}', "right-to-left override"),
    ('\u{2060}', "word joiner"),
    ('\u{2066}', "left-to-right isolate"),
    ('\u{2067}', "right-to-left isolate"),
    ('\u{2068}', "first strong isolate"),
    ('\u{2069}', "pop directional isolate"),
    ('\u{FEFF}', "zero width no-break space"),
];

/// `value` for a terminal: control and invisible formatting characters written as
/// `\u{XXXX}`, so a name from the scope (the console's too) cannot move the cursor,
/// recolour the screen or pass for another name.
pub fn printable(value: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() || INVISIBLE_CHARS.iter().any(|(x, _)| *x == c);
    if !value.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(value);
    }
    value
        .chars()
        .map(|c| {
            if hidden(c) {
                format!("\\u{{{:04X}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The first invisible formatting character of `value`: (position, char, its name).
fn first_invisible_char(value: &str) -> Option<(usize, char, &'static str)> {
    value.chars().enumerate().find_map(|(i, c)| {
        INVISIBLE_CHARS
            .iter()
            .find(|(x, _)| *x == c)
            .map(|(_, name)| (i, c, *name))
    })
}

impl FilterName {
    /// Validates a name for a filter of `kind`.
    pub fn parse(raw: &str, kind: FilterKind) -> Result<Self, String> {
        filter_name(raw, kind).map(Self)
    }

    /// The comparison key: AD names are case-insensitive.
    pub fn key(&self) -> String {
        name_key(&self.0)
    }
}

fn parent_group_name(raw: &str) -> Result<String, String> {
    filter_name(raw, FilterKind::Group)
}

fn filter_name(raw: &str, kind: FilterKind) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("must not be empty (after trimming spaces)".into());
    }
    if let Some((position, c)) = first_control_char(name) {
        return Err(format!(
            "{} contains a control character (U+{:04X}) at position {}",
            quoted(name),
            c as u32,
            position + 1
        ));
    }
    if let Some((position, c, name_of)) = first_invisible_char(name) {
        return Err(format!(
            "contains an invisible formatting character (U+{:04X}, {name_of}) at position {}, which makes a name look like another",
            c as u32,
            position + 1
        ));
    }
    let (max, what) = match kind {
        FilterKind::Group => (MAX_GROUP_NAME_CHARS, "AD group names (sAMAccountName)"),
        FilterKind::User => (MAX_USER_NAME_CHARS, "AD user logon names (sAMAccountName)"),
    };
    let length = name.chars().count();
    if length > max {
        return Err(format!(
            "{} is {length} characters long; {what} have at most {max}",
            quoted(name)
        ));
    }
    if let Some(c) = name.chars().find(|c| AD_FORBIDDEN_CHARS.contains(c)) {
        return Err(format!(
            "{} contains {c:?}, which Active Directory does not allow in a sAMAccountName",
            quoted(name)
        ));
    }
    if name.ends_with('.') {
        return Err(format!(
            "{} ends with a period, which Active Directory does not allow in a sAMAccountName",
            quoted(name)
        ));
    }
    Ok(name.to_owned())
}

/// The comparison key of any name: trimmed and lowercased.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A map from names to values, keyed as Active Directory compares names (trimmed,
/// case-insensitive: [`name_key`]): display names to group ids, user names to user
/// ids. The one place a name becomes a lookup key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMap<V>(std::collections::HashMap<String, V>);

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        Self(std::collections::HashMap::new())
    }
}

impl<V> NameMap<V> {
    /// Records `value` for `name`; returns the value it replaces.
    pub fn insert(&mut self, name: &str, value: V) -> Option<V> {
        self.0.insert(name_key(name), value)
    }

    /// The value of `name`, however it is cased.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.0.get(&name_key(name))
    }

    /// How many names are mapped.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no name is mapped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every value, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values()
    }
}

impl<'a, V> FromIterator<(&'a str, V)> for NameMap<V> {
    fn from_iter<I: IntoIterator<Item = (&'a str, V)>>(pairs: I) -> Self {
        let mut map = Self::default();
        for (name, value) in pairs {
            map.insert(name, value);
        }
        map
    }
}

/// A borrowed name that compares and hashes exactly as its [`name_key`] does (trimmed,
/// lowercased), allocating nothing for an ASCII name: for maps over thousands of names.
/// Other names take [`name_key`] itself, so the rare context-dependent lowercasing
/// (a final sigma) agrees too.
#[derive(Debug, Clone, Copy)]
pub struct Caseless<'a>(pub &'a str);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.trim(), other.0.trim());
        if a.is_ascii() && b.is_ascii() {
            a.eq_ignore_ascii_case(b)
        } else {
            name_key(a) == name_key(b)
        }
    }
}

impl Eq for Caseless<'_> {}

impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let name = self.0.trim();
        if name.is_ascii() {
            name.bytes()
                .for_each(|b| state.write_u8(b.to_ascii_lowercase()));
        } else {
            name_key(name).bytes().for_each(|b| state.write_u8(b));
        }
        state.write_u8(0xff);
    }
}

fn description(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if let Some((position, c)) = first_control_char(text) {
        return Err(format!(
            "contains a control character (U+{:04X}) at position {}; write it on one line",
            c as u32,
            position + 1
        ));
    }
    let length = text.chars().count();
    if length > MAX_DESCRIPTION_CHARS {
        return Err(format!(
            "is {length} characters long; descriptions have at most {MAX_DESCRIPTION_CHARS}"
        ));
    }
    Ok(text.to_owned())
}

fn domain_name(raw: &str) -> Result<String, String> {
    let domain = raw.trim().trim_end_matches('.');
    if domain.is_empty() {
        return Err("must not be empty".into());
    }
    if domain.len() > 253 {
        return Err(format!(
            "{} is {} characters long; a DNS domain name has at most 253",
            quoted(domain),
            domain.len()
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "{} is not a fully qualified DNS domain name (expected e.g. \"corp.example.com\")",
            quoted(domain)
        ));
    }
    for label in &labels {
        let bad = label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if bad {
            return Err(format!(
                "{} is not a valid DNS domain name: label {:?} must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen",
                quoted(domain),
                label
            ));
        }
    }
    Ok(domain.to_owned())
}

fn bucket_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let q = quoted(name);
    let rule = |why: &str| Err(format!("{q} is not a valid S3 bucket name: {why}"));
    if name.len() < 3 || name.len() > 63 {
        return rule("it must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return rule("only lowercase letters, digits, dots and hyphens are allowed");
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[name.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return rule("it must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return rule("it must not contain two adjacent periods");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return rule("it must not be formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return rule(&format!("the prefix {prefix:?} is reserved"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return rule(&format!("the suffix {suffix:?} is reserved"));
        }
    }
    Ok(name.to_owned())
}

impl HttpsUrl {
    /// Like [`HttpsUrl::parse`], but the message never repeats the URL (it may be a secret).
    pub fn parse_secret(raw: &str) -> Result<Self, String> {
        check_https_url(raw.trim())
            .map(Self)
            .map_err(|why| format!("the URL {why}"))
    }

    /// The host, lowercased, without user, port or brackets.
    pub fn host(&self) -> String {
        let origin = self.origin();
        let host = origin.trim_start_matches("https://");
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host.split(':').next().unwrap_or_default(),
        };
        host.to_ascii_lowercase()
    }

    /// `https://host` only: safe to show when the full URL is a secret.
    pub fn origin(&self) -> String {
        let rest = self.0.split_once("://").map_or("", |(_, r)| r);
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        format!("https://{}", host.rsplit_once('@').map_or(host, |(_, h)| h))
    }
}

fn https_url(raw: &str) -> Result<String, String> {
    check_https_url(raw.trim()).map_err(|why| format!("{} {why}", quoted(raw.trim())))
}

fn check_https_url(url: &str) -> Result<String, &'static str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("is not an absolute URL (expected https://host/path)");
    };
    if !scheme.eq_ignore_ascii_case("https") {
        return Err("must use https");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err("has no valid host name");
    }
    Ok(url.to_owned())
}

crate::choice::choice! {
    /// Whether a sync filter names an AD group or an AD user (spelled as the
    /// identity-sync API does; groups first, the order every listing uses).
    pub enum FilterKind {
        /// An AD group: its members are synchronised (nested groups flattened).
        Group = "GROUP",
        /// A single AD user.
        User = "USER",
    }
}

impl FilterKind {
    /// `group` or `user`, for sentences.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::User => "user",
        }
    }
}

/// An AD group's display name in the identity store: `samaccountname@domain`.
pub fn display_name(name: &str, domain: &str) -> String {
    DisplayName { name, domain }.to_string()
}

/// `name@domain`, written out (on the page, in `groups.json`) without a string of
/// its own per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplayName<'a> {
    /// The filter's name.
    pub name: &'a str,
    /// Its AD domain.
    pub domain: &'a str,
}

impl fmt::Display for DisplayName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.domain)
    }
}

impl Serialize for DisplayName<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where the Teams webhook URL comes from. The URL itself is a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookRef {
    /// An SSM parameter (normally a SecureString), by its full name.
    Ssm(String),
    /// A Secrets Manager secret, by ARN.
    SecretArn(String),
    /// A literal URL in the config (works, but the secret is in git).
    Literal(HttpsUrl),
}

impl WebhookRef {
    /// Parses `ssm:/name`, a Secrets Manager ARN, or an https URL.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if let Some(name) = value.strip_prefix("ssm:") {
            return parse_ssm_name(name)
                .map(|n| Self::Ssm(n.to_owned()))
                .map_err(|why| format!("{} is not a valid SSM reference: {why}", quoted(value)));
        }
        if value.starts_with("arn:") {
            return parse_secret_arn(value)
                .map(|_| Self::SecretArn(value.to_owned()))
                .map_err(|why| {
                    format!(
                        "{} is not a valid Secrets Manager secret ARN: {why}",
                        quoted(value)
                    )
                });
        }
        if value.contains("://") {
            return HttpsUrl::parse_secret(value).map(Self::Literal);
        }
        // Not repeated: it may be a webhook URL pasted without its scheme, i.e. the secret.
        Err("the value is not a webhook reference: expected \"ssm:/parameter/name\", a Secrets Manager secret ARN, or an https URL (not repeated here, as it may be a secret)".into())
    }

    /// Whether the secret sits in the config itself.
    pub fn is_literal(&self) -> bool {
        matches!(self, Self::Literal(_))
    }

    /// The reference as it goes into a CloudFormation property (literal URLs included).
    pub fn to_property(&self) -> String {
        match self {
            Self::Ssm(name) => format!("ssm:{name}"),
            Self::SecretArn(arn) => arn.clone(),
            Self::Literal(url) => url.as_str().to_owned(),
        }
    }
}

impl fmt::Debug for WebhookRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssm(name) => write!(f, "Ssm({name:?})"),
            Self::SecretArn(arn) => write!(f, "SecretArn({arn:?})"),
            Self::Literal(url) => write!(f, "Literal({}/<redacted>)", url.origin()),
        }
    }
}

/// The hosts a Teams card may be posted to: Microsoft's webhook hosts (legacy Office 365
/// connectors and Power Automate Workflows, whose trigger URLs moved from
/// `*.logic.azure.com` to `*.environment.api.powerplatform.com`), plus the hosts a
/// config names in `WebhookHosts` (a proxy, a sovereign cloud). A name covers itself
/// and its subdomains. The webhook URL is a secret that says "who loses access": it
/// goes to these hosts only, whoever wrote the event or the parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct WebhookHosts(Vec<String>);

impl WebhookHosts {
    /// Microsoft's webhook hosts, always allowed.
    pub const MICROSOFT: &'static [&'static str] = &[
        "webhook.office.com",
        "outlook.office.com",
        "outlook.office365.com",
        "logic.azure.com",
        "powerplatform.com",
    ];

    /// Parses a comma-separated list of DNS names (the property's form).
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::from_names(raw.split(',').map(str::trim).filter(|n| !n.is_empty()))
    }

    /// Checks each name: a DNS name of at least two labels, lowercased.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut hosts = Vec::new();
        for name in names {
            let host = domain_name(name).map_err(|why| {
                format!("{why} (a webhook host is a DNS name, without scheme, port or path)")
            })?;
            hosts.push(host.to_ascii_lowercase());
        }
        hosts.sort();
        hosts.dedup();
        Ok(Self(hosts))
    }

    /// The hosts the config added (not Microsoft's).
    pub fn extra(&self) -> &[String] {
        &self.0
    }

    /// Whether a card may go to `host`.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let covers = |name: &str| {
            host == name
                || host
                    .strip_suffix(name)
                    .is_some_and(|rest| rest.ends_with('.'))
        };
        Self::MICROSOFT.iter().any(|n| covers(n)) || self.0.iter().any(|n| covers(n))
    }

    /// Why `host` is refused (the host is not secret; the URL is).
    pub fn refusal(&self, host: &str) -> String {
        format!(
            "its host {host} is not a Microsoft Teams or Power Automate webhook host ({}); if a proxy you trust stands in between, name it in general.WebhookHosts",
            Self::MICROSOFT.join(", ")
        )
    }

    /// The property's form: the names, comma-separated.
    pub fn as_property(&self) -> String {
        self.0.join(",")
    }
}

/// Validates an SSM parameter name given after `ssm:`; must be fully qualified (`/a/b`).
pub fn parse_ssm_name(name: &str) -> Result<&str, String> {
    if !name.starts_with('/') {
        return Err(
            "the parameter name must start with \"/\" (e.g. ssm:/company/teams-webhook)".into(),
        );
    }
    if name.len() < 2 || name.len() > 1011 {
        return Err("the parameter name must be 2 to 1011 characters long".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(format!(
            "{c:?} is not allowed in a parameter name (letters, digits, _ . - / only)"
        ));
    }
    if name.contains("//") || name.ends_with('/') {
        return Err("the parameter name has an empty path segment".into());
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("/aws") || lower.starts_with("/ssm") {
        return Err("names beginning with /aws or /ssm are reserved".into());
    }
    Ok(name)
}

fn parse_secret_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() != 7 {
        return Err("expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME".into());
    }
    if !parts[1].starts_with("aws") {
        return Err(format!("unknown partition {:?}", parts[1]));
    }
    if parts[2] != "secretsmanager" {
        return Err(format!(
            "the service is {:?}, not \"secretsmanager\"",
            parts[2]
        ));
    }
    Region::parse(parts[3]).map_err(|_| format!("{:?} is not a region", parts[3]))?;
    if parts[4].len() != 12 || !parts[4].chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{:?} is not a 12-digit account id", parts[4]));
    }
    if parts[5] != "secret" || parts[6].is_empty() {
        return Err("expected \":secret:NAME\" after the account id".into());
    }
    Ok(())
}

fn region(raw: &str) -> Result<String, String> {
    let region = raw.trim();
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok();
    accept(
        region,
        ok,
        "is not an AWS region code (e.g. \"eu-central-1\")",
    )
}

impl StackName {
    /// Longest stack name CloudFormation accepts.
    pub const MAX_CHARS: usize = 128;
}

fn stack_name(raw: &str) -> Result<String, String> {
    if !raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!(
            "stack name {} must start with a letter",
            quoted(raw)
        ));
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "stack name {} contains {c:?}; CloudFormation allows only letters, digits and hyphens",
            quoted(raw)
        ));
    }
    if raw.len() > StackName::MAX_CHARS {
        return Err(format!(
            "stack name {} is {} characters long; CloudFormation allows {}",
            quoted(raw),
            raw.len(),
            StackName::MAX_CHARS
        ));
    }
    Ok(raw.to_owned())
}

impl SyncProfileName {
    /// The profile name the IAM Identity Center console creates for Active Directory.
    pub const DEFAULT: &'static str = "SynchronizationToActiveDirectoryAwsSso";
}

fn sync_profile_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    accept(
        name,
        ok,
        "is not a valid sync profile name (1 to 128 letters, digits, _ - or .)",
    )
}

impl Default for SyncProfileName {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

/// Whether `id` is `d-` and 10 lowercase hex digits (identity stores and directories).
pub fn is_d_id(id: &str) -> bool {
    id.len() == 12
        && id.starts_with("d-")
        && id[2..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

fn identity_store_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    accept(
        id,
        is_d_id(id),
        "is not an identity store id (expected \"d-\" and 10 lowercase hex digits)",
    )
}

fn directory_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    accept(
        id,
        is_d_id(id),
        "is not a directory id (expected \"d-\" and 10 lowercase hex digits)",
    )
}

/// Longest GitHub user or organisation name.
const MAX_GITHUB_OWNER_CHARS: usize = 39;
/// Longest GitHub repository name.
const MAX_GITHUB_REPO_CHARS: usize = 100;

fn ci_repository(raw: &str) -> Result<String, String> {
    let repo = raw.trim();
    let q = quoted(repo);
    let Some((owner, name)) = repo.split_once('/') else {
        return Err(format!(
            "{q} is not a GitHub repository: expected owner/name, e.g. \"acme/sso-config\""
        ));
    };
    let owner_ok = !owner.is_empty()
        && owner.len() <= MAX_GITHUB_OWNER_CHARS
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    if !owner_ok {
        return Err(format!(
            "{q} is not a GitHub repository: the owner {} must be 1 to {MAX_GITHUB_OWNER_CHARS} letters, digits or single hyphens, not starting or ending with a hyphen",
            quoted(owner)
        ));
    }
    let name_ok = !name.is_empty()
        && name.len() <= MAX_GITHUB_REPO_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name != "."
        && name != "..";
    if !name_ok {
        return Err(format!(
            "{q} is not a GitHub repository: the name {} must be 1 to {MAX_GITHUB_REPO_CHARS} letters, digits, '.', '_' or '-' (and not \".\" or \"..\")",
            quoted(name)
        ));
    }
    Ok(repo.to_owned())
}

fn ci_branch(raw: &str) -> Result<String, String> {
    let branch = raw.trim();
    let ok = !branch.is_empty()
        && branch.len() <= 255
        && branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        && !branch.starts_with('-')
        && !branch.contains("..")
        && branch.split('/').all(|segment| {
            !segment.is_empty() && !segment.starts_with('.') && !segment.ends_with(".lock")
        })
        && !branch.ends_with('.');
    accept(
        branch,
        ok,
        "is not a branch name syncscope accepts (1 to 255 letters, digits, . _ - or /, in segments that are not empty and do not start with '.'; no '..')",
    )
}

impl CiRepository {
    /// The subject GitHub's OIDC token names for a `pull_request` run of the
    /// repository.
    pub fn pull_request_subject(&self) -> String {
        format!("repo:{}:pull_request", self.0)
    }

    /// The subject of a run on `branch` (a push, a schedule, a manual dispatch).
    pub fn branch_subject(&self, branch: &CiBranch) -> String {
        format!("repo:{}:ref:refs/heads/{}", self.0, branch.0)
    }
}

/// The branches whose CI runs may assume the plan role: checked, in the config's
/// order, each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CiBranches(Vec<CiBranch>);

impl CiBranches {
    /// The branch a repository's default branch usually is.
    pub fn main_only() -> Self {
        Self(vec![CiBranch("main".to_owned())])
    }

    /// Checks each name (the error is the first bad name's rule); duplicates are
    /// dropped.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut branches: Vec<CiBranch> = Vec::new();
        for name in names {
            let branch = CiBranch::parse(name)?;
            if !branches.contains(&branch) {
                branches.push(branch);
            }
        }
        Ok(Self(branches))
    }

    /// The branches.
    pub fn branches(&self) -> &[CiBranch] {
        &self.0
    }
}

impl Default for CiBranches {
    fn default() -> Self {
        Self::main_only()
    }
}

impl KeyPrefix {
    /// `sso`, where the seed published its page.
    pub fn docs_default() -> Self {
        Self("sso".to_owned())
    }
}

fn key_prefix(raw: &str) -> Result<String, String> {
    let prefix = raw.trim().trim_matches('/');
    let ok = !prefix.is_empty()
        && prefix.len() <= 256
        && prefix.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    accept(
        raw,
        ok,
        "is not a valid key prefix (segments of letters, digits, - _ . separated by /)",
    )
}

fn schedule(raw: &str) -> Result<String, String> {
    let expr = raw.trim();
    let q = quoted(expr);
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        let mut words = inner.split_whitespace();
        let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "{q} is not a rate expression like \"rate(6 hours)\""
            ));
        };
        let n: u32 = n
            .parse()
            .map_err(|_| format!("{q}: the rate must be a positive whole number"))?;
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        if n == 0 || !(singular || plural) || (n == 1) != singular {
            return Err(format!(
                "{q} is not valid: write e.g. \"rate(1 hour)\" or \"rate(6 hours)\" (unit minute(s), hour(s) or day(s))"
            ));
        }
        if unit.starts_with("minute") && n < 15 {
            return Err(format!(
                "{q} runs more often than every 15 minutes; the sync itself runs hourly at most"
            ));
        }
        return Ok(expr.to_owned());
    }
    if let Some(inner) = expr.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
        if inner.split_whitespace().count() != 6 {
            return Err(format!(
                "{q} is not valid: a cron expression has six fields (minutes hours day-of-month month day-of-week year)"
            ));
        }
        return Ok(expr.to_owned());
    }
    Err(format!(
        "{q} is not a schedule: expected \"rate(...)\" or \"cron(...)\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hash_of(name: &str) -> u64 {
        use std::hash::{BuildHasher, RandomState};
        thread_local!(static STATE: RandomState = RandomState::new());
        STATE.with(|s| s.hash_one(Caseless(name)))
    }

    proptest! {
        /// `Caseless` agrees with `name_key` on every pair (ASCII, other scripts, the
        /// Kelvin sign that lowercases to ASCII, a final sigma), and equal names hash
        /// alike.
        #[test]
        fn caseless_names_equal_exactly_when_their_keys_do(
            a in "[ aAkK\\u{212A}Σσς-]{0,6}",
            b in "[ aAkK\\u{212A}Σσς-]{0,6}",
        ) {
            let same = name_key(&a) == name_key(&b);
            prop_assert_eq!(Caseless(&a) == Caseless(&b), same);
            if same {
                prop_assert_eq!(hash_of(&a), hash_of(&b));
            }
        }
    }

    /// Asserts each value is accepted.
    fn accepts<T: fmt::Debug>(parse: impl Fn(&str) -> Result<T, String>, values: &[&str]) {
        for value in values {
            assert!(parse(value).is_ok(), "{value:?}: {:?}", parse(value));
        }
    }

    /// Asserts each value is refused with a message containing its fragment.
    fn refuses<T: fmt::Debug>(parse: impl Fn(&str) -> Result<T, String>, cases: &[(&str, &str)]) {
        for (value, fragment) in cases {
            let e = parse(value).expect_err(value);
            assert!(
                !fragment.is_empty(),
                "{value:?}: name the fragment the message must hold"
            );
            assert!(e.contains(fragment), "{value:?}: {e}");
        }
    }

    #[test]
    fn filter_names_are_trimmed_and_compared_case_insensitively() {
        let a = FilterName::parse("  AWS-Admins ", FilterKind::Group).unwrap();
        let b = FilterName::parse("aws-admins", FilterKind::Group).unwrap();
        assert_eq!(a.as_str(), "AWS-Admins");
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn filter_name_rejects_blank_control_and_forbidden_characters() {
        assert!(
            FilterName::parse("   ", FilterKind::Group)
                .unwrap_err()
                .contains("empty")
        );
        let e = FilterName::parse("AWS\u{7}Admins", FilterKind::Group).unwrap_err();
        assert!(e.contains("U+0007") && e.contains("position 4"), "{e}");
        let e = FilterName::parse("AWS<Admins>", FilterKind::Group).unwrap_err();
        assert!(e.contains("'<'"), "{e}");
        // Each of the 15 characters AD forbids, named in the refusal.
        assert_eq!(AD_FORBIDDEN_CHARS.len(), 15);
        for c in AD_FORBIDDEN_CHARS {
            let e = FilterName::parse(&format!("AWS{c}Admins"), FilterKind::User).unwrap_err();
            assert!(e.contains(&format!("{c:?}")), "{c}: {e}");
        }
        assert!(FilterName::parse("Admins.", FilterKind::Group).is_err());
    }

    #[test]
    fn printable_names_show_control_and_invisible_characters_as_escapes() {
        assert_eq!(printable("AWS-Admins"), "AWS-Admins");
        assert_eq!(
            printable("a\u{1b}[2Jb\u{202E}c"),
            "a\\u{001B}[2Jb\\u{202E}c"
        );
    }

    #[test]
    fn names_with_bidirectional_or_zero_width_characters_are_refused_by_position() {
        let e = FilterName::parse("AWS-Admins\u{202E}nimdA", FilterKind::Group).unwrap_err();
        assert!(
            e.contains("U+202E, right-to-left override") && e.contains("position 11"),
            "{e}"
        );
        for (c, _) in INVISIBLE_CHARS {
            let name = format!("AWS{c}Admins");
            let e = FilterName::parse(&name, FilterKind::User).unwrap_err();
            assert!(e.contains(&format!("U+{:04X}", *c as u32)), "{e}");
            assert!(
                !e.contains(*c),
                "the message never repeats the character: {e}"
            );
        }
        assert!(FilterName::parse("Straße-Ämter", FilterKind::Group).is_ok());
    }

    #[test]
    fn user_names_are_limited_to_twenty_characters_and_groups_to_256() {
        assert!(FilterName::parse(&"u".repeat(20), FilterKind::User).is_ok());
        let e = FilterName::parse(&"u".repeat(21), FilterKind::User).unwrap_err();
        assert!(e.contains("at most 20"), "{e}");
        assert!(FilterName::parse(&"g".repeat(256), FilterKind::Group).is_ok());
        assert!(FilterName::parse(&"g".repeat(257), FilterKind::Group).is_err());
    }

    #[test]
    fn domain_names_need_two_valid_labels() {
        accepts(DomainName::parse, &["corp.example.com"]);
        refuses(
            DomainName::parse,
            &[
                ("corp", "fully qualified"),
                ("corp..com", "label \"\" must be 1 to 63"),
                ("-corp.com", "label \"-corp\" must be"),
                ("cor_p.com", "label \"cor_p\" must be"),
            ],
        );
    }

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        accepts(BucketName::parse, &["company-sso-docs"]);
        refuses(
            BucketName::parse,
            &[
                ("Company", "lowercase"),
                ("ab", "3 to 63"),
                ("a..b", "adjacent"),
                ("192.168.5.4", "IP address"),
                ("xn--bucket", "reserved"),
                ("bucket-s3alias", "reserved"),
                ("-bucket", "begin and end"),
            ],
        );
    }

    #[test]
    fn urls_must_be_https_with_a_host() {
        accepts(HttpsUrl::parse, &["https://wiki.example.com/aws"]);
        refuses(
            HttpsUrl::parse,
            &[
                ("http://wiki.example.com", "https"),
                ("wiki.example.com", "absolute"),
                ("https:///path", "host"),
            ],
        );
    }

    #[test]
    fn webhook_references_accept_ssm_secret_arns_and_urls() {
        assert_eq!(
            WebhookRef::parse("ssm:/company/teams").unwrap(),
            WebhookRef::Ssm("/company/teams".into())
        );
        let arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:teams-AbCdEf";
        assert_eq!(
            WebhookRef::parse(arn).unwrap(),
            WebhookRef::SecretArn(arn.into())
        );
        assert!(
            WebhookRef::parse("https://x.example.com/hook?sig=abc")
                .unwrap()
                .is_literal()
        );
        refuses(
            WebhookRef::parse,
            &[
                ("ssm:company/teams", "start with"),
                (
                    "arn:aws:ssm:eu-central-1:123456789012:parameter/x",
                    "not a valid Secrets Manager secret ARN",
                ),
                ("teams", "not a webhook reference"),
            ],
        );
    }

    #[test]
    fn a_bad_literal_webhook_url_is_not_repeated_in_the_error() {
        let e = WebhookRef::parse("http://hook.example.com/x?sig=SECRET").unwrap_err();
        assert!(e.contains("https") && !e.contains("SECRET"), "{e}");
    }

    #[test]
    fn a_webhook_url_without_its_scheme_is_not_repeated_in_the_error() {
        let e = WebhookRef::parse("hook.example.com/webhookb2/SECRET").unwrap_err();
        assert!(
            e.contains("not a webhook reference") && !e.contains("SECRET"),
            "{e}"
        );
    }

    #[test]
    fn the_debug_form_of_a_literal_webhook_hides_the_secret() {
        let hook = WebhookRef::parse("https://hook.example.com/path?sig=SECRET").unwrap();
        let shown = format!("{hook:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("path"),
            "{shown}"
        );
    }

    #[test]
    fn stack_names_follow_cloudformation_rules() {
        accepts(StackName::parse, &["COMPANY-SSO-AD-GroupSync-TEST"]);
        refuses(
            StackName::parse,
            &[("1abc", "start with a letter"), ("a_b", "'_'")],
        );
        assert!(
            StackName::parse(&"a".repeat(129))
                .unwrap_err()
                .contains("128")
        );
    }

    #[test]
    fn schedules_are_rate_or_cron_expressions() {
        accepts(
            Schedule::parse,
            &["rate(6 hours)", "rate(1 hour)", "cron(0 6 * * ? *)"],
        );
        refuses(
            Schedule::parse,
            &[
                ("rate(1 hours)", "write e.g. \"rate(1 hour)\""),
                ("rate(5 minutes)", "more often than every 15 minutes"),
                ("cron(0 6 * *)", "has six fields"),
                ("hourly", "is not a schedule"),
            ],
        );
    }

    #[test]
    fn identity_store_ids_and_regions_are_checked() {
        accepts(IdentityStoreId::parse, &["d-1234567890"]);
        refuses(
            IdentityStoreId::parse,
            &[("d-12345", "is not an identity store id")],
        );
        accepts(DirectoryId::parse, &["d-1234567890"]);
        refuses(
            DirectoryId::parse,
            &[("d-ABCDEF1234", "not a directory id")],
        );
        accepts(Region::parse, &["eu-central-1", "us-gov-west-1"]);
        refuses(Region::parse, &[("europe", "is not an AWS region code")]);
    }
}
