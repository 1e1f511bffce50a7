//! The CloudFormation custom resource protocol, the pure parts: what a settings-only
//! Update is, the physical resource id, and the response body (at most 4,096 bytes).
//! The resource's own properties are [`crate::properties`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::scope::ProfileKey;

/// The largest response body CloudFormation accepts.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// Properties CloudFormation sets itself: changing only these changes nothing.
pub const SETTINGS_ONLY: [&str; 2] = ["ServiceToken", "ServiceTimeout"];

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
pub fn physical_id(key: &ProfileKey) -> String {
    format!("{ID_PREFIX}:{}:{}", key.region, key.profile)
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
    /// An id this resource issued for a profile: the profile and its region.
    Managed(ProfileKey),
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
        (Some(ID_PREFIX), Some(region), Some(profile)) => {
            ProfileKey::parse(region, profile).map_or(IdKind::Foreign, IdKind::Managed)
        }
        _ => IdKind::Foreign,
    }
}

/// The id a request answers when it fails before the work knows better: the
/// failed-create id for a Create (its Delete touches nothing), the id CloudFormation
/// sent otherwise.
pub fn fallback_id(request_type: &str, sent: Option<&str>, request_id: &str) -> String {
    match sent {
        Some(id) if request_type != "Create" && !id.is_empty() => id.to_owned(),
        _ => failed_create_id(request_id),
    }
}

/// The id a failed Create answers: once the run may have changed the scope (a create
/// was sent, even if its outcome is unknown), the resource's real id, so the
/// rollback Delete finds its record and honours `OnDelete`; before that, the
/// failed-create id, whose Delete touches nothing. The same rule holds for a panic
/// and for the deadline guard.
pub fn failed_create_answer(real_id: &str, may_have_changed: bool, request_id: &str) -> String {
    if may_have_changed {
        real_id.to_owned()
    } else {
        failed_create_id(request_id)
    }
}

/// Whether a request reads syncscope 0.1's ledger (`LEDGER/head`) as its resource's:
/// it belongs to the resource CloudFormation knows, so a request whose id names
/// another sync profile or region than the one it reconciles (a replacement) does
/// not; a Create or a drift check (no id yet) does.
pub fn reads_legacy_ledger(sent: Option<&ProfileKey>, target: &ProfileKey) -> bool {
    sent.is_none_or(|key| key == target)
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

    #[test]
    fn the_id_a_request_answers_before_the_work_knows_better() {
        let failed = failed_create_id("req-1");
        for (request_type, sent, want) in [
            ("Create", None, failed.as_str()),
            ("Create", Some("syncscope:eu-central-1:P"), failed.as_str()),
            (
                "Update",
                Some("syncscope:eu-central-1:P"),
                "syncscope:eu-central-1:P",
            ),
            ("Delete", Some("anything-sent"), "anything-sent"),
            ("Delete", Some(""), failed.as_str()),
            ("Delete", None, failed.as_str()),
        ] {
            assert_eq!(
                fallback_id(request_type, sent, "req-1"),
                want,
                "{request_type} {sent:?}"
            );
        }
    }

    #[test]
    fn a_failed_create_answers_its_real_id_once_it_may_have_changed_the_scope() {
        let real = "syncscope:eu-central-1:P";
        assert_eq!(failed_create_answer(real, true, "req-1"), real);
        assert_eq!(
            failed_create_answer(real, false, "req-1"),
            failed_create_id("req-1")
        );
        assert_eq!(
            classify_id(&failed_create_answer(real, false, "r")),
            IdKind::FailedCreate
        );
    }

    #[test]
    fn the_legacy_ledger_is_read_only_for_the_resource_cloudformation_knows() {
        let here = ProfileKey::parse("eu-central-1", "P").unwrap();
        let elsewhere = ProfileKey::parse("eu-west-1", "P").unwrap();
        assert!(
            reads_legacy_ledger(None, &here),
            "a Create or a drift check"
        );
        assert!(
            reads_legacy_ledger(Some(&here), &here),
            "an Update in place"
        );
        assert!(
            !reads_legacy_ledger(Some(&elsewhere), &here),
            "a replacement"
        );
    }

    fn props() -> Map<String, Value> {
        serde_json::json!({
            "ServiceToken": "arn:aws:lambda:eu-central-1:123456789012:function:f",
            "FiltersHash": "a".repeat(64),
            "Stage": "TEST",
        })
        .as_object()
        .cloned()
        .unwrap()
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
        let key =
            ProfileKey::parse("eu-central-1", crate::names::SyncProfileName::DEFAULT).unwrap();
        let id = physical_id(&key);
        assert_eq!(
            id,
            "syncscope:eu-central-1:SynchronizationToActiveDirectoryAwsSso"
        );
        assert_eq!(classify_id(&id), IdKind::Managed(key));
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
