//! Fault knobs: latency, a concurrency limit, injected faults, hangs and
//! per-filter failures; for Directory Service Data, throttling, hangs, faults and
//! per-member failures of its writes. Set at start (CLI flags, [`crate::Options`]) and at run
//! time (`PUT /_emulator/knobs`, a partial JSON update).

use crate::error::ErrorCode;
use crate::model::Operation;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The server page size of `ListSyncFilters` unless set.
pub const DEFAULT_PAGE_SIZE: usize = 25;

/// Every knob. Names compare case-insensitively for `hang_filters` and
/// `fail_filters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Knobs {
    /// Every admitted signed request sleeps this long while counted in flight.
    pub latency_ms: u64,
    /// More signed requests in flight than this are answered `429
    /// ThrottlingException` at once; `null` for no limit.
    pub concurrency_limit: Option<usize>,
    /// Probability (0 to 1) of a `500 InternalServerException` before the
    /// operation is applied.
    pub fault_rate: f64,
    /// Probability (0 to 1) of applying the operation and then answering `500
    /// InternalServerException`.
    pub fault_after_rate: f64,
    /// Seed of the fault RNG, for deterministic faults; setting it (again)
    /// restarts the sequence.
    pub fault_seed: Option<u64>,
    /// Operations that never answer.
    pub hang_ops: BTreeSet<Operation>,
    /// Filter names whose create or delete never answers.
    pub hang_filters: BTreeSet<String>,
    /// Filter names whose create or delete always fails with this code (and
    /// its status).
    pub fail_filters: BTreeMap<String, ErrorCode>,
    /// Filter names whose create or delete is applied and then answered with this
    /// code (a client must not trust an error code to mean "nothing happened").
    pub fail_after_filters: BTreeMap<String, ErrorCode>,
    /// Most filters in one `ListSyncFilters` page, whatever `MaxResults` asks.
    pub page_size: usize,
    /// A listing shows the scope as it was this long ago: a filter created or
    /// deleted within it is not yet (or still) listed (eventual consistency).
    pub list_lag_ms: u64,
    /// Answers in shapes the contract does not promise but a real service may send:
    /// unknown fields everywhere, `CreateTime` as an object, a create answer without
    /// `SyncFilterId`.
    pub odd_shapes: bool,
    /// The one form of `TargetResourceArn` CreateSyncTarget takes; any other is
    /// refused with a `ValidationException` naming the field.
    pub target_form: TargetForm,
    /// Every Directory Service Data call answers `429 ThrottlingException`.
    pub ds_data_throttle: bool,
    /// Directory Service Data calls never answer.
    pub ds_data_hang: bool,
    /// Probability (0 to 1) of a Directory Service Data call answering `500
    /// InternalServerException` before anything is applied (every ds-data operation;
    /// draws from the fault RNG of `fault_seed`).
    pub ds_data_fault_rate: f64,
    /// Probability (0 to 1) of a successful Directory Service Data write
    /// (`AddGroupMember`, `RemoveGroupMember`, `CreateGroup`) being kept and then
    /// answered `500 InternalServerException`.
    pub ds_data_fault_after_rate: f64,
    /// Member names whose `AddGroupMember` or `RemoveGroupMember` fails with this code
    /// (and its status) before anything is applied.
    pub ds_data_fail_members: BTreeMap<String, ErrorCode>,
    /// Member names whose `AddGroupMember` or `RemoveGroupMember` is applied and then
    /// answered with this code.
    pub ds_data_fail_after_members: BTreeMap<String, ErrorCode>,
    /// Member names whose `AddGroupMember` or `RemoveGroupMember` never answers (and
    /// applies nothing).
    pub ds_data_hang_members: BTreeSet<String>,
    /// Re-adding a member and removing a non-member answer `200` and change nothing,
    /// instead of `409 ConflictException` and `404 ResourceNotFoundException`.
    pub ds_data_lenient_members: bool,
    /// A listing's `NextToken`s cycle: after this many pages (0: never) the next
    /// token is the first page's again, so a client that only compares a token with
    /// the one before would list forever.
    pub token_cycle: usize,
    /// Every identity-sync answer is a `200` whose body streams this many MiB (0: off)
    /// without a `Content-Length`: a wrong endpoint or a hostile server, which a
    /// client must stop reading.
    pub huge_body_mib: u64,
    /// The same for Directory Service Data answers.
    pub ds_data_huge_body_mib: u64,
    /// Every identity-sync request is refused with a `403` whose message quotes the
    /// request's `x-amz-security-token` (a service that echoes a credential where no
    /// signing-echo cut finds it), so a client's redaction of the credentials it
    /// resolved is what keeps them out of its output.
    pub echo_token: bool,
    /// StartSync takes only the JSON string `""` as its body (what S1-py sends) and
    /// refuses an object with a `ValidationException`.
    pub start_sync_string_body: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            latency_ms: 0,
            concurrency_limit: None,
            fault_rate: 0.0,
            fault_after_rate: 0.0,
            fault_seed: None,
            hang_ops: BTreeSet::new(),
            hang_filters: BTreeSet::new(),
            fail_filters: BTreeMap::new(),
            fail_after_filters: BTreeMap::new(),
            page_size: DEFAULT_PAGE_SIZE,
            list_lag_ms: 0,
            odd_shapes: false,
            target_form: TargetForm::Any,
            ds_data_throttle: false,
            ds_data_hang: false,
            ds_data_fault_rate: 0.0,
            ds_data_fault_after_rate: 0.0,
            ds_data_fail_members: BTreeMap::new(),
            ds_data_fail_after_members: BTreeMap::new(),
            ds_data_hang_members: BTreeSet::new(),
            ds_data_lenient_members: false,
            token_cycle: 0,
            huge_body_mib: 0,
            ds_data_huge_body_mib: 0,
            echo_token: false,
            start_sync_string_body: false,
        }
    }
}

/// Which form of `TargetResourceArn` CreateSyncTarget takes (the service's wish is
/// unknown: docs/identity-sync-api.md, "The sync target's form").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetForm {
    /// Any value.
    #[default]
    Any,
    /// Only a full ARN, `arn:...`.
    Full,
    /// Only `identitystore/<id>` with an id other than the profile's directory (the
    /// identity store's).
    Store,
    /// Only `identitystore/<id>` with the id of the profile's directory (the
    /// `SourceResourceArn`'s).
    Directory,
}

impl TargetForm {
    /// Whether `value` is this form for a profile whose source is `source_arn`.
    pub fn accepts(self, value: &str, source_arn: &str) -> bool {
        let directory = source_arn.rsplit('/').next().unwrap_or_default();
        let short = value.strip_prefix("identitystore/");
        match self {
            TargetForm::Any => true,
            TargetForm::Full => value.starts_with("arn:"),
            TargetForm::Store => short.is_some_and(|id| !id.is_empty() && id != directory),
            TargetForm::Directory => short.is_some_and(|id| !id.is_empty() && id == directory),
        }
    }

    /// What the form is, for a refusal's message.
    pub fn describe(self) -> &'static str {
        match self {
            TargetForm::Any => "anything",
            TargetForm::Full => {
                "arn:<partition>:identitystore::<account>:identitystore/<IdentityStoreId>"
            }
            TargetForm::Store => "identitystore/<IdentityStoreId>",
            TargetForm::Directory => "identitystore/<DirectoryId>",
        }
    }
}

/// Knobs that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid knobs: {0}")]
pub struct KnobsError(pub String);

fn code_for(codes: &BTreeMap<String, ErrorCode>, name: &str) -> Option<ErrorCode> {
    let name = name.to_lowercase();
    codes
        .iter()
        .find(|(n, _)| n.to_lowercase() == name)
        .map(|(_, code)| *code)
}

impl Knobs {
    /// Checks the ranges: rates within 0 to 1, a page size of at least 1.
    pub fn validate(&self) -> Result<(), KnobsError> {
        for (name, rate) in [
            ("fault_rate", self.fault_rate),
            ("fault_after_rate", self.fault_after_rate),
            ("ds_data_fault_rate", self.ds_data_fault_rate),
            ("ds_data_fault_after_rate", self.ds_data_fault_after_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(KnobsError(format!(
                    "{name} must be between 0 and 1, got {rate}"
                )));
            }
        }
        if self.page_size == 0 {
            return Err(KnobsError("page_size must be at least 1".to_owned()));
        }
        Ok(())
    }

    /// These knobs with the fields of `patch` (a JSON object) replaced.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Knobs, KnobsError> {
        let serde_json::Value::Object(patch) = patch else {
            return Err(KnobsError("the update must be a json object".to_owned()));
        };
        let mut current = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(KnobsError("failed to serialise the knobs".to_owned())),
        };
        for (key, value) in patch {
            if !current.contains_key(key) {
                let known: Vec<&String> = current.keys().collect();
                return Err(KnobsError(format!(
                    "unknown knob {key:?}, the knobs are {known:?}"
                )));
            }
            current.insert(key.clone(), value.clone());
        }
        let knobs: Knobs = serde_json::from_value(serde_json::Value::Object(current))
            .map_err(|e| KnobsError(e.to_string()))?;
        knobs.validate()?;
        Ok(knobs)
    }

    /// Whether create/delete of filter `name` hangs.
    pub fn hangs_filter(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.hang_filters.iter().any(|n| n.to_lowercase() == name)
    }

    /// The error create/delete of filter `name` fails with, if any.
    pub fn failure_for(&self, name: &str) -> Option<ErrorCode> {
        code_for(&self.fail_filters, name)
    }

    /// The error create/delete of filter `name` answers after it is applied, if any.
    pub fn failure_after(&self, name: &str) -> Option<ErrorCode> {
        code_for(&self.fail_after_filters, name)
    }

    /// Whether `AddGroupMember`/`RemoveGroupMember` of member `name` hangs.
    pub fn hangs_member(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.ds_data_hang_members
            .iter()
            .any(|n| n.to_lowercase() == name)
    }

    /// The error `AddGroupMember`/`RemoveGroupMember` of member `name` fails with.
    pub fn member_failure(&self, name: &str) -> Option<ErrorCode> {
        code_for(&self.ds_data_fail_members, name)
    }

    /// The error `AddGroupMember`/`RemoveGroupMember` of member `name` answers after
    /// it is applied.
    pub fn member_failure_after(&self, name: &str) -> Option<ErrorCode> {
        code_for(&self.ds_data_fail_after_members, name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_changes_only_the_fields_it_names() {
        let knobs = Knobs {
            latency_ms: 5,
            ..Knobs::default()
        };
        let patched = knobs
            .patched(&json!({"concurrency_limit": 3, "hang_ops": ["StartSync"],
                             "fail_filters": {"AWS-Broken": "AccessDeniedException"}}))
            .unwrap();
        assert_eq!(patched.latency_ms, 5);
        assert_eq!(patched.concurrency_limit, Some(3));
        assert!(patched.hang_ops.contains(&Operation::StartSync));
        assert_eq!(
            patched.failure_for("aws-broken"),
            Some(ErrorCode::AccessDeniedException)
        );
        let cleared = patched
            .patched(&json!({"concurrency_limit": null}))
            .unwrap();
        assert_eq!(cleared.concurrency_limit, None);
    }

    #[test]
    fn a_patch_with_an_unknown_knob_or_bad_value_is_rejected() {
        let knobs = Knobs::default();
        let error = knobs.patched(&json!({"latency": 5})).unwrap_err();
        assert!(error.0.contains("unknown knob \"latency\""), "{error}");
        assert!(knobs.patched(&json!({"fault_rate": 1.5})).is_err());
        assert!(
            knobs
                .patched(&json!({"ds_data_fault_after_rate": -0.5}))
                .is_err()
        );
        assert!(knobs.patched(&json!({"page_size": 0})).is_err());
        assert!(knobs.patched(&json!({"hang_ops": ["Nope"]})).is_err());
        assert!(
            knobs
                .patched(&json!({"fail_filters": {"x": "NoSuchException"}}))
                .is_err()
        );
    }

    #[test]
    fn each_target_form_takes_its_own_values_only() {
        let source = "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890";
        let full = "arn:aws:identitystore::123456789012:identitystore/d-99999999aa";
        let store = "identitystore/d-99999999aa";
        let directory = "identitystore/d-1234567890";
        for (form, takes) in [
            (TargetForm::Any, [true, true, true]),
            (TargetForm::Full, [true, false, false]),
            (TargetForm::Store, [false, true, false]),
            (TargetForm::Directory, [false, false, true]),
        ] {
            let got = [full, store, directory].map(|v| form.accepts(v, source));
            assert_eq!(got, takes, "{form:?}");
        }
        let patched = Knobs::default()
            .patched(&json!({"target_form": "directory"}))
            .unwrap();
        assert_eq!(patched.target_form, TargetForm::Directory);
        assert!(
            Knobs::default()
                .patched(&json!({"target_form": "short"}))
                .is_err()
        );
    }

    #[test]
    fn hang_filters_match_names_case_insensitively() {
        let knobs = Knobs {
            hang_filters: ["AWS-Slow".to_owned()].into(),
            ..Knobs::default()
        };
        assert!(knobs.hangs_filter("aws-slow"));
        assert!(!knobs.hangs_filter("aws-fast"));
    }
}
