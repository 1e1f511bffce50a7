//! The CloudFormation custom resource protocol, the pure parts: the resource
//! properties, the physical resource id, and the response body (at most 4,096 bytes).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{CardFormat, OnDelete};
use crate::names::{
    BucketName, DomainName, HttpsUrl, IdentityStoreId, KeyPrefix, Region, SyncProfileName,
    WebhookRef, parse_ssm_name, quoted,
};
use crate::plan::{GuardLimits, Mode};

/// The largest response body CloudFormation accepts.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// Properties CloudFormation sets itself: changing only these changes nothing.
pub const SETTINGS_ONLY: [&str; 2] = ["ServiceToken", "ServiceTimeout"];

/// The resource properties, validated. Scalars arrive as strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Properties {
    /// `FiltersParameter`: the SSM parameter, or path of shards, holding the filters.
    pub filters_parameter: String,
    /// `FiltersHash`: the SHA-256 of the filters, so every config change is an Update.
    pub filters_hash: Option<String>,
    /// `LedgerParameter`: the SSM path of the ledger of managed filters.
    pub ledger_parameter: String,
    /// `SyncProfileName`.
    pub sync_profile: SyncProfileName,
    /// `Region`: the region of IAM Identity Center (default: the function's).
    pub region: Option<Region>,
    /// `AdDomainName`.
    pub domain: DomainName,
    /// `Stage`.
    pub stage: String,
    /// `DocsBucket`: where the documentation goes (none: not published).
    pub docs_bucket: Option<BucketName>,
    /// `DocsPrefix` (default `sso`).
    pub docs_prefix: KeyPrefix,
    /// `DocsWebsite`: the link on the Teams card.
    pub docs_website: Option<HttpsUrl>,
    /// `TeamsWebhook`: reference to the webhook URL (none: no card).
    pub webhook: Option<WebhookRef>,
    /// `TeamsCardFormat`.
    pub card_format: CardFormat,
    /// `Mode`.
    pub mode: Mode,
    /// `OnDelete`.
    pub on_delete: OnDelete,
    /// `MaxRemovals` and `MaxRemovalPercent`.
    pub guard: GuardLimits,
    /// `DryRun`: plan and report, change nothing.
    pub dry_run: bool,
    /// `IdentityStoreId`: skips the sso-admin lookup.
    pub identity_store_id: Option<IdentityStoreId>,
}

/// Parses `ResourceProperties`, collecting every problem (each naming its key).
/// Unknown keys are ignored, as CloudFormation may add its own.
pub fn parse_properties(props: &Map<String, Value>) -> Result<Properties, Vec<String>> {
    let mut problems = Vec::new();
    let mut field = |key: &str, required: bool| -> Option<String> {
        match props.get(key) {
            None | Some(Value::Null) => {
                if required {
                    problems.push(format!("{key}: required property is missing"));
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                if required {
                    problems.push(format!("{key}: must not be empty"));
                }
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(other) => {
                let what = if other.is_array() {
                    "a list"
                } else {
                    "an object"
                };
                problems.push(format!("{key}: expected a string, found {what}"));
                None
            }
        }
    };
    let filters_parameter = field("FiltersParameter", true);
    let filters_hash = field("FiltersHash", false);
    let ledger_parameter = field("LedgerParameter", true);
    let sync_profile = field("SyncProfileName", false);
    let region = field("Region", false);
    let domain = field("AdDomainName", true);
    let stage = field("Stage", true);
    let docs_bucket = field("DocsBucket", false);
    let docs_prefix = field("DocsPrefix", false);
    let docs_website = field("DocsWebsite", false);
    let webhook = field("TeamsWebhook", false);
    let card_format = field("TeamsCardFormat", false);
    let mode = field("Mode", false);
    let on_delete = field("OnDelete", false);
    let max_removals = field("MaxRemovals", false);
    let max_percent = field("MaxRemovalPercent", false);
    let dry_run = field("DryRun", false);
    let identity_store_id = field("IdentityStoreId", false);

    let mut check = |key: &str, result: Result<(), String>| {
        if let Err(e) = result {
            problems.push(format!("{key}: {e}"));
        }
    };
    let ssm = |v: &Option<String>| match v {
        Some(name) => parse_ssm_name(name).map(drop),
        None => Ok(()),
    };
    check("FiltersParameter", ssm(&filters_parameter));
    check("LedgerParameter", ssm(&ledger_parameter));
    if let Some(hash) = &filters_hash {
        let ok = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit());
        check(
            "FiltersHash",
            if ok {
                Ok(())
            } else {
                Err(format!("{} is not a SHA-256 in hex", quoted(hash)))
            },
        );
    }

    fn opt<T>(
        v: &Option<String>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        v.as_deref().map(parse).transpose()
    }
    fn choice<T>(
        v: &Option<String>,
        default: T,
        allowed: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, String> {
        match v.as_deref() {
            None => Ok(default),
            Some(s) => {
                parse(s).ok_or_else(|| format!("{} is not allowed: use {allowed}", quoted(s)))
            }
        }
    }
    fn number(v: &Option<String>, default: u32, max: u32) -> Result<u32, String> {
        match v.as_deref() {
            None => Ok(default),
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("{} is not a whole number from 0 to {max}", quoted(s))),
        }
    }

    let sync_profile = opt(&sync_profile, SyncProfileName::parse).map(Option::unwrap_or_default);
    let region = opt(&region, Region::parse);
    let domain = domain.as_deref().map(DomainName::parse);
    let docs_bucket = opt(&docs_bucket, BucketName::parse);
    let docs_prefix =
        opt(&docs_prefix, KeyPrefix::parse).map(|p| p.unwrap_or_else(KeyPrefix::docs_default));
    let docs_website = opt(&docs_website, HttpsUrl::parse);
    let webhook = opt(&webhook, WebhookRef::parse);
    let card_format = choice(
        &card_format,
        CardFormat::default(),
        "\"AdaptiveCard\" or \"MessageCard\"",
        CardFormat::parse,
    );
    let mode = choice(
        &mode,
        Mode::default(),
        "\"managed\" or \"authoritative\"",
        Mode::parse,
    );
    let on_delete = choice(
        &on_delete,
        OnDelete::default(),
        "\"retain\" or \"remove\"",
        OnDelete::parse,
    );
    let defaults = GuardLimits::default();
    let max_removals = number(&max_removals, defaults.max_removals, u32::MAX);
    let max_percent = number(&max_percent, defaults.max_removal_percent, 100);
    let dry_run = choice(&dry_run, false, "\"true\" or \"false\"", |s| {
        match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    });
    let identity_store_id = opt(&identity_store_id, IdentityStoreId::parse);

    let mut take = |key: &str, r: Result<(), String>| check(key, r);
    macro_rules! ok {
        ($key:literal, $value:expr) => {
            match $value {
                Ok(v) => Some(v),
                Err(e) => {
                    take($key, Err(e));
                    None
                }
            }
        };
    }
    let sync_profile = ok!("SyncProfileName", sync_profile);
    let region = ok!("Region", region);
    let domain = match domain {
        Some(d) => ok!("AdDomainName", d),
        None => None,
    };
    let docs_bucket = ok!("DocsBucket", docs_bucket);
    let docs_prefix = ok!("DocsPrefix", docs_prefix);
    let docs_website = ok!("DocsWebsite", docs_website);
    let webhook = ok!("TeamsWebhook", webhook);
    let card_format = ok!("TeamsCardFormat", card_format);
    let mode = ok!("Mode", mode);
    let on_delete = ok!("OnDelete", on_delete);
    let max_removals = ok!("MaxRemovals", max_removals);
    let max_percent = ok!("MaxRemovalPercent", max_percent);
    let dry_run = ok!("DryRun", dry_run);
    let identity_store_id = ok!("IdentityStoreId", identity_store_id);

    if !problems.is_empty() {
        return Err(problems);
    }
    let built = (|| {
        Some(Properties {
            filters_parameter: filters_parameter?,
            filters_hash: filters_hash.map(|h| h.to_ascii_lowercase()),
            ledger_parameter: ledger_parameter?.trim_end_matches('/').to_owned(),
            sync_profile: sync_profile?,
            region: region?,
            domain: domain?,
            stage: stage?,
            docs_bucket: docs_bucket?,
            docs_prefix: docs_prefix?,
            docs_website: docs_website?,
            webhook: webhook?,
            card_format: card_format?,
            mode: mode?,
            on_delete: on_delete?,
            guard: GuardLimits {
                max_removals: max_removals?,
                max_removal_percent: max_percent?,
            },
            dry_run: dry_run?,
            identity_store_id: identity_store_id?,
        })
    })();
    built.ok_or_else(|| vec!["resource properties are incomplete".to_owned()])
}

/// Whether an Update changes only `ServiceToken` / `ServiceTimeout`.
pub fn settings_only_change(new: &Map<String, Value>, old: &Map<String, Value>) -> bool {
    let strip = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter()
            .filter(|(k, _)| !SETTINGS_ONLY.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    strip(new) == strip(old)
}

const ID_PREFIX: &str = "syncscope";
const FAILED_CREATE: &str = "syncscope:failed-create:";

/// The physical resource id: derived from the sync profile (and its region), so it
/// never changes when the filters change.
pub fn physical_id(region: &str, profile: &SyncProfileName) -> String {
    format!("{ID_PREFIX}:{region}:{profile}")
}

/// The id answered for a Create that failed; its Delete succeeds untouched.
pub fn failed_create_id(request_id: &str) -> String {
    let safe: String = request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    format!("{FAILED_CREATE}{safe}")
}

/// What a physical id that CloudFormation sends back means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdKind {
    /// An id this resource issued for a profile.
    Managed {
        /// Region of the profile.
        region: String,
        /// The profile.
        profile: String,
    },
    /// The id of a Create that failed.
    FailedCreate,
    /// Anything else: an id this resource never issued.
    Foreign,
}

/// Classifies a physical id.
pub fn classify_id(id: &str) -> IdKind {
    if id.starts_with(FAILED_CREATE) {
        return IdKind::FailedCreate;
    }
    let mut parts = id.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ID_PREFIX), Some(region), Some(profile))
            if Region::parse(region).is_ok() && SyncProfileName::parse(profile).is_ok() =>
        {
            IdKind::Managed {
                region: region.to_owned(),
                profile: profile.to_owned(),
            }
        }
        _ => IdKind::Foreign,
    }
}

/// SUCCESS or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The request succeeded.
    Success,
    /// The request failed; `Reason` says why.
    Failed,
}

/// The body PUT to the ResponseURL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseBody {
    /// SUCCESS or FAILED.
    pub status: Status,
    /// Why (never null; required on FAILED).
    pub reason: String,
    /// The physical resource id (non-empty).
    pub physical_resource_id: String,
    /// Copied from the request.
    pub stack_id: String,
    /// Copied from the request.
    pub request_id: String,
    /// Copied from the request.
    pub logical_resource_id: String,
    /// Hide `Data` from `Fn::GetAtt` outputs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_echo: bool,
    /// Values for `Fn::GetAtt`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

const TRUNCATED: &str = "… (truncated)";

/// Cuts `text` to at most `max_bytes` bytes at a character boundary, marking the cut.
fn truncate(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut cut = max_bytes.saturating_sub(TRUNCATED.len());
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str(TRUNCATED);
}

/// Serialises a response, shrinking `Data` (largest values first) and then `Reason`
/// until the body is at most [`MAX_RESPONSE_BYTES`]. Multibyte text is cut safely.
pub fn render(mut body: ResponseBody) -> String {
    if body.reason.trim().is_empty() {
        body.reason = match body.status {
            Status::Success => "OK".into(),
            Status::Failed => "failed (no reason given)".into(),
        };
    }
    loop {
        let json = serde_json::to_string(&body).unwrap_or_default();
        if json.len() <= MAX_RESPONSE_BYTES {
            return json;
        }
        let excess = json.len() - MAX_RESPONSE_BYTES;
        // The largest Data value shrinks first; a value too small to help goes.
        let largest = body
            .data
            .iter()
            .max_by_key(|(_, v)| v.len())
            .map(|(k, v)| (k.clone(), v.len()));
        match largest {
            Some((key, len)) if len > excess + TRUNCATED.len() + 16 => {
                if let Some(value) = body.data.get_mut(&key) {
                    truncate(value, len - excess);
                }
            }
            Some((key, _)) => {
                body.data.remove(&key);
            }
            None if body.reason.len() > TRUNCATED.len() => {
                // JSON escaping can make the excess larger than the reason itself:
                // cut at most half per round, so the start of the reason survives,
                // and measure again (a cut reason is never returned unmeasured).
                let keep = body
                    .reason
                    .len()
                    .saturating_sub(excess)
                    .max(body.reason.len() / 2);
                truncate(&mut body.reason, keep);
            }
            // Nothing left to cut: the ids themselves are too long.
            None => return json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props() -> Map<String, Value> {
        serde_json::json!({
            "ServiceToken": "arn:aws:lambda:eu-central-1:123456789012:function:f",
            "FiltersParameter": "/syncscope/COMPANY-SSO-TEST/filters/0123456789abcdef",
            "FiltersHash": "a".repeat(64),
            "LedgerParameter": "/syncscope/COMPANY-SSO-TEST/ledger",
            "AdDomainName": "corp.example.com",
            "Stage": "TEST",
            "MaxRemovals": "20",
            "DryRun": "true",
            "SomethingNew": "ignored"
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn properties_arrive_as_strings_and_unknown_keys_are_ignored() {
        let p = parse_properties(&props()).unwrap();
        assert_eq!(p.guard.max_removals, 20);
        assert_eq!(p.guard.max_removal_percent, 25);
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
        let problems = parse_properties(&m).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p == "AdDomainName: required property is missing")
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("Mode: \"sometimes\" is not allowed"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("MaxRemovalPercent: \"250\""))
        );
        assert!(problems.iter().any(|p| p.starts_with("FiltersParameter:")));
    }

    #[test]
    fn a_change_of_service_timeout_alone_is_settings_only() {
        let old = props();
        let mut new = props();
        new.insert("ServiceTimeout".into(), "900".into());
        new.insert("ServiceToken".into(), "arn:other".into());
        assert!(settings_only_change(&new, &old));
        new.insert("FiltersHash".into(), "b".repeat(64).into());
        assert!(!settings_only_change(&new, &old));
    }

    #[test]
    fn ids_are_classified() {
        let profile = SyncProfileName::default();
        let id = physical_id("eu-central-1", &profile);
        assert_eq!(
            id,
            "syncscope:eu-central-1:SynchronizationToActiveDirectoryAwsSso"
        );
        assert_eq!(
            classify_id(&id),
            IdKind::Managed {
                region: "eu-central-1".into(),
                profile: profile.as_str().into()
            }
        );
        assert_eq!(
            classify_id(&failed_create_id("abc-123")),
            IdKind::FailedCreate
        );
        assert_eq!(classify_id("MyResource-ABCDEF"), IdKind::Foreign);
        assert_eq!(classify_id("syncscope:nowhere:x"), IdKind::Foreign);
    }

    fn body(reason: String, data: BTreeMap<String, String>) -> ResponseBody {
        ResponseBody {
            status: Status::Failed,
            reason,
            physical_resource_id: "syncscope:eu-central-1:P".into(),
            stack_id: "arn:aws:cloudformation:eu-central-1:123456789012:stack/s/1".into(),
            request_id: "r".into(),
            logical_resource_id: "SyncScope".into(),
            no_echo: false,
            data,
        }
    }

    #[test]
    fn the_body_is_cut_to_4096_bytes_data_first_then_reason_on_char_boundaries() {
        let data: BTreeMap<String, String> = [
            ("A".to_owned(), "ü".repeat(3000)),
            ("B".to_owned(), "short".to_owned()),
        ]
        .into();
        let json = render(body("€".repeat(3000), data));
        assert!(json.len() <= MAX_RESPONSE_BYTES, "{}", json.len());
        let value: Value = serde_json::from_str(&json).unwrap();
        assert!(value["Reason"].as_str().unwrap().ends_with(TRUNCATED));
        assert_eq!(value["PhysicalResourceId"], "syncscope:eu-central-1:P");
    }

    #[test]
    fn a_small_body_is_untouched_and_reason_is_never_empty() {
        let json = render(body(String::new(), BTreeMap::new()));
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["Reason"], "failed (no reason given)");
        assert!(value.get("Data").is_none() && value.get("NoEcho").is_none());
    }

    #[test]
    fn a_reason_whose_escaping_outgrows_the_limit_is_still_cut_to_fit() {
        // 2,000 quoted names: escaped, the excess is larger than the raw reason.
        let reason = "create GROUP \"x\" (\"\\\"); ".repeat(2000);
        let json = render(body(reason, BTreeMap::new()));
        assert!(json.len() <= MAX_RESPONSE_BYTES, "{}", json.len());
        let value: Value = serde_json::from_str(&json).unwrap();
        let reason = value["Reason"].as_str().unwrap();
        assert!(reason.starts_with("create GROUP \"x\""), "{reason}");
        assert!(
            reason.ends_with(TRUNCATED) && reason.len() > 1000,
            "{reason}"
        );
    }

    #[test]
    fn data_is_truncated_before_the_reason() {
        let data: BTreeMap<String, String> = [("Names".to_owned(), "x".repeat(5000))].into();
        let json = render(body("the reason".into(), data));
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["Reason"], "the reason");
        assert!(
            value["Data"]["Names"]
                .as_str()
                .unwrap()
                .ends_with(TRUNCATED)
        );
        assert!(json.len() <= MAX_RESPONSE_BYTES);
    }
}

/// Where a stack keeps its parameters in SSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterNames {
    /// Base of every version of the filters: `/syncscope/STACK/filters`.
    pub filters_base: String,
    /// Base of the ledger: `/syncscope/STACK/ledger`.
    pub ledger: String,
}

impl ParameterNames {
    /// The names for a stack.
    pub fn for_stack(stack: &str) -> Self {
        Self {
            filters_base: format!("/syncscope/{stack}/filters"),
            ledger: format!("/syncscope/{stack}/ledger"),
        }
    }

    /// The path of one version of the filters: content-addressed, so a rollback finds
    /// the previous version still in place.
    pub fn filters_version(&self, hash: &str) -> String {
        format!("{}/{}", self.filters_base, crate::store::short(hash))
    }
}

/// The custom resource's properties for a config, as the deployment writes them.
pub fn properties_for(
    config: &crate::config::Config,
    names: &ParameterNames,
    filters_hash: &str,
) -> Map<String, Value> {
    let c = config;
    let mut m = Map::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), Value::String(v));
    };
    put("FiltersParameter", names.filters_version(filters_hash));
    put("FiltersHash", filters_hash.to_owned());
    put("LedgerParameter", names.ledger.clone());
    put("SyncProfileName", c.sso.sync_profile.to_string());
    if let Some(region) = &c.general.region {
        put("Region", region.as_str().to_owned());
    }
    put("AdDomainName", c.sso.domain.to_string());
    put("Stage", c.general.stage.clone());
    put("DocsBucket", c.general.docs_bucket.as_str().to_owned());
    put("DocsPrefix", c.general.docs_prefix.as_str().to_owned());
    put("DocsWebsite", c.general.docs_website.as_str().to_owned());
    put("TeamsWebhook", c.general.webhook.to_property());
    put("TeamsCardFormat", c.general.card_format.as_str().to_owned());
    put("Mode", c.sso.mode.as_str().to_owned());
    put("OnDelete", c.sso.on_delete.as_str().to_owned());
    put("MaxRemovals", c.sso.guard.max_removals.to_string());
    put(
        "MaxRemovalPercent",
        c.sso.guard.max_removal_percent.to_string(),
    );
    put("DryRun", "false".to_owned());
    if let Some(id) = &c.sso.identity_store_id {
        put("IdentityStoreId", id.as_str().to_owned());
    }
    m
}
