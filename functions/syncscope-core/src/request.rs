//! An invocation's payload, read once into a typed [`Event`], and what a request asks
//! for, decided before any I/O ([`decide`]): which stack may send it, what it does
//! (reconcile, a settings-only Update, a Delete that removes, releases or touches
//! nothing) and which physical id each possible answer carries.
//!
//! The handler (`syncscope::handler`) only carries these decisions out: it checks the
//! ResponseURL, runs the [`Step`] under the deadline guard and answers.

use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest as Typed;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::arn::Arn;
use crate::cfn::{self, IdKind};
use crate::choice::Choice;
use crate::choice::OnDelete;
use crate::names::Region;
use crate::outcome::{Findings, Outcome, Trigger};
use crate::properties::{self, Properties};
use crate::scope::ProfileKey;
use crate::store;

/// The `syncscope` value of a scheduled drift check's event:
/// `{"syncscope": "drift", "StackName": "...", "ResourceProperties": {...}}`.
pub const DRIFT_EVENT: &str = "drift";

/// What an invocation's payload is.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A scheduled drift check: a report-only reconcile, answered to the caller.
    Drift {
        /// The stack it checks (its name; `syncscope` when the event names none).
        stack: String,
        /// The resource properties the rule sends.
        properties: Value,
    },
    /// A CloudFormation request: answered exactly once, at its ResponseURL.
    Request(Request),
    /// Neither: there is nowhere to answer. The payload's top-level keys, for the log.
    Unanswerable {
        /// The keys (never the values: they may hold secrets).
        keys: Vec<String>,
    },
}

/// A CloudFormation request: what is needed to answer it, and what it asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Where the answer goes (a presigned URL: a secret, never logged).
    pub response_url: String,
    /// The StackId of the stack that sent it.
    pub stack_id: String,
    /// The request's id, echoed in the answer.
    pub request_id: String,
    /// The custom resource's logical id, echoed in the answer.
    pub logical_resource_id: String,
    /// The RequestType as sent (for the log).
    pub request_type: String,
    /// The id to answer when the request fails before the work knows better
    /// ([`cfn::fallback_id`]).
    pub fallback_id: String,
    /// What it asks; `Err` when the event is malformed (answered FAILED with the
    /// reason).
    pub ask: Result<Ask, Malformed>,
}

/// Why a request cannot be read (it is still answered, FAILED, with this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// It does not have the shape of a custom resource request.
    #[error("malformed CloudFormation event: {0} (RequestType must be Create, Update or Delete)")]
    Shape(String),
    /// A request type the event types know and this function does not.
    #[error("unsupported RequestType")]
    Unsupported,
}

/// The resource properties are not valid: every problem, each naming its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource properties: {}", .0.join("; "))]
pub struct InvalidProperties(pub Vec<String>);

/// What a well-formed request asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// Create the resource.
    Create {
        /// `ResourceProperties`.
        properties: Value,
    },
    /// Update it.
    Update {
        /// The physical id CloudFormation holds.
        id: String,
        /// `ResourceProperties`.
        properties: Value,
        /// `OldResourceProperties`.
        old_properties: Value,
    },
    /// Delete it.
    Delete {
        /// The physical id CloudFormation holds.
        id: String,
        /// `ResourceProperties`.
        properties: Value,
    },
}

impl Event {
    /// Reads a payload: a drift check, a CloudFormation request (typed once; a
    /// malformed one keeps what is needed to answer it), or neither.
    pub fn parse(raw: Value) -> Self {
        let Value::Object(mut map) = raw else {
            return Self::Unanswerable { keys: Vec::new() };
        };
        if map.get("syncscope").and_then(Value::as_str) == Some(DRIFT_EVENT) {
            return Self::Drift {
                stack: map
                    .get("StackName")
                    .and_then(Value::as_str)
                    .unwrap_or("syncscope")
                    .to_owned(),
                properties: map.remove("ResourceProperties").unwrap_or(Value::Null),
            };
        }
        if !map.get("ResponseURL").is_some_and(Value::is_string) {
            return Self::Unanswerable {
                keys: map.keys().cloned().collect(),
            };
        }
        let raw = Value::Object(map);
        match Typed::deserialize(&raw) {
            Ok(typed) => {
                Self::typed(typed).unwrap_or_else(|| Self::malformed(&raw, Malformed::Unsupported))
            }
            Err(e) => Self::malformed(&raw, Malformed::Shape(e.to_string())),
        }
    }

    /// A typed request (None: a request type this crate does not know yet).
    fn typed(typed: Typed) -> Option<Self> {
        let (response_url, stack_id, request_id, logical_resource_id, request_type, ask) =
            match typed {
                Typed::Create(r) => (
                    r.response_url,
                    r.stack_id,
                    r.request_id,
                    r.logical_resource_id,
                    "Create",
                    Ask::Create {
                        properties: r.resource_properties,
                    },
                ),
                Typed::Update(r) => (
                    r.response_url,
                    r.stack_id,
                    r.request_id,
                    r.logical_resource_id,
                    "Update",
                    Ask::Update {
                        id: r.physical_resource_id,
                        properties: r.resource_properties,
                        old_properties: r.old_resource_properties,
                    },
                ),
                Typed::Delete(r) => (
                    r.response_url,
                    r.stack_id,
                    r.request_id,
                    r.logical_resource_id,
                    "Delete",
                    Ask::Delete {
                        id: r.physical_resource_id,
                        properties: r.resource_properties,
                    },
                ),
                _ => return None,
            };
        let sent = match &ask {
            Ask::Create { .. } => None,
            Ask::Update { id, .. } | Ask::Delete { id, .. } => Some(id.as_str()),
        };
        Some(Self::Request(Request {
            fallback_id: cfn::fallback_id(request_type, sent, &request_id),
            response_url,
            stack_id,
            request_id,
            logical_resource_id,
            request_type: request_type.to_owned(),
            ask: Ok(ask),
        }))
    }

    /// A request that cannot be typed: answered FAILED with `reason`.
    fn malformed(raw: &Value, reason: Malformed) -> Self {
        // Each field on its own: one of the wrong type does not lose the others.
        let text = |key: &str| raw.get(key).and_then(Value::as_str).unwrap_or_default();
        let sent = Some(text("PhysicalResourceId")).filter(|id| !id.is_empty());
        Self::Request(Request {
            fallback_id: cfn::fallback_id(text("RequestType"), sent, text("RequestId")),
            response_url: text("ResponseURL").to_owned(),
            stack_id: text("StackId").to_owned(),
            request_id: text("RequestId").to_owned(),
            logical_resource_id: text("LogicalResourceId").to_owned(),
            request_type: text("RequestType").to_owned(),
            ask: Err(reason),
        })
    }
}

impl Request {
    /// The name of the stack that sent it.
    pub fn stack_name(&self) -> &str {
        stack_name(&self.stack_id)
    }
}

/// The stack name inside a StackId (`arn:…:stack/NAME/uuid`), or the text itself.
pub fn stack_name(stack_id: &str) -> &str {
    Arn::parse(stack_id)
        .and_then(|a| a.resource_name())
        .unwrap_or(stack_id)
}

/// Whether an event of `stack_id` (a StackId, or a drift event's stack name) is for
/// `own` (the function's StackId, None: any stack).
pub fn is_own_stack(own: Option<&str>, stack_id: &str) -> bool {
    match own {
        None => true,
        Some(own) if stack_id.starts_with("arn:") => own == stack_id,
        Some(own) => stack_name(own) == stack_id,
    }
}

/// Parses `ResourceProperties`; the error says every problem, each naming its key.
pub fn parse_properties(props: &Value) -> Result<Properties, InvalidProperties> {
    let empty = Map::new();
    let map = props.as_object().unwrap_or(&empty);
    let properties = properties::parse(map).map_err(InvalidProperties)?;
    match properties.missing_together() {
        problems if problems.is_empty() => Ok(properties),
        problems => Err(InvalidProperties(problems)),
    }
}

/// The region of IAM Identity Center that `props` act in: theirs, or the function's.
pub fn region_of<'a>(props: &'a Properties, default_region: &'a Region) -> &'a Region {
    props.region.as_ref().unwrap_or(default_region)
}

/// The resource `props` name: their sync profile in their region.
pub fn profile_key(props: &Properties, default_region: &Region) -> ProfileKey {
    ProfileKey::new(
        region_of(props, default_region).clone(),
        props.sync_profile.clone(),
    )
}

/// What the handler does for a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Reconcile the scope to the filters (a Create or an Update).
    Reconcile(Box<Reconcile>),
    /// An Update that changes only the function's settings: nothing remote changes.
    /// The properties, when they parse, give the report its stage and docs.
    SettingsOnly {
        /// The new properties, when valid.
        properties: Option<Box<Properties>>,
        /// The id, unchanged.
        id: String,
    },
    /// A Delete that acts on the profile its id names: removes (`OnDelete: remove`)
    /// or releases (`retain`) what this stack recorded there.
    Delete {
        /// The properties (the stack's ledger, the domain, `OnDelete`).
        properties: Box<Properties>,
        /// The profile the id names (never the properties': they may be the old or
        /// the new ones after a replacement).
        key: ProfileKey,
        /// The id, answered whatever happens.
        id: String,
    },
    /// A Delete that succeeds without touching anything.
    DeleteUntouched {
        /// Why nothing is touched.
        why: String,
        /// The id, answered.
        id: String,
    },
    /// Answer FAILED; nothing is done.
    Fail {
        /// The reason.
        reason: String,
        /// The id answered.
        id: String,
    },
}

/// A Create or an Update that reconciles.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconcile {
    /// The validated properties.
    pub properties: Properties,
    /// Create or Update.
    pub trigger: Trigger,
    /// The resource acted on: the properties' sync profile in their region.
    pub key: ProfileKey,
    /// The id answered on success (derived from `key`).
    pub id: String,
    /// Whether the 0.1 ledger (`LEDGER/head`) belongs to this resource
    /// ([`cfn::reads_legacy_ledger`]).
    pub legacy_ledger: bool,
    /// The short hash of the filters of an Update's old properties.
    pub previous_config: Option<String>,
    /// What a failed Update's rollback left behind: an earlier replacement's
    /// resource that CloudFormation never learnt of ([`abandoned_replacement`]).
    pub abandoned: Option<Abandoned>,
    /// An Update's id (kept on failure); None for a Create.
    sent_id: Option<String>,
    /// The request id (a failed Create's id is derived from it).
    request_id: String,
}

impl Reconcile {
    /// The id a failed run answers: an Update keeps its id; a Create answers the real
    /// id once the run may have changed the scope, the failed-create id before
    /// ([`cfn::failed_create_answer`]).
    pub fn failed_id(&self, may_have_changed: bool) -> String {
        match &self.sent_id {
            Some(id) => id.clone(),
            None => cfn::failed_create_answer(&self.id, may_have_changed, &self.request_id),
        }
    }
}

/// The resource of a replacement that failed, seen from the rollback of its Update.
#[derive(Debug, Clone, PartialEq)]
pub struct Abandoned {
    /// Its properties (the rollback's old ones).
    pub properties: Properties,
    /// Its sync profile and region.
    pub key: ProfileKey,
}

impl Step {
    /// The id to answer when the work is stopped (the deadline guard) or panics after
    /// it may have changed the scope: a Create's real id, so the rollback Delete
    /// finds what it may have created ([`cfn::failed_create_answer`]); the request's
    /// `fallback` otherwise.
    pub fn interrupted_id(&self, fallback: &str) -> String {
        match self {
            Self::Reconcile(run) if run.trigger == Trigger::Create => run.failed_id(true),
            _ => fallback.to_owned(),
        }
    }
}

impl Step {
    /// The properties a step acts with, and what it does (for the card of a run cut
    /// short); None when the properties are not usable.
    pub fn acts_with(&self) -> Option<(&Properties, Trigger)> {
        match self {
            Self::Reconcile(run) => Some((&run.properties, run.trigger)),
            Self::Delete { properties, .. } => Some((properties, Trigger::Delete)),
            Self::SettingsOnly { properties, .. } => {
                properties.as_deref().map(|p| (p, Trigger::Update))
            }
            Self::DeleteUntouched { .. } | Self::Fail { .. } => None,
        }
    }
}

/// Decides what a request does, from the request alone. `default_region` is the
/// function's region (properties without `Region` act there).
pub fn decide(request: &Request, default_region: &Region) -> Step {
    let fail = |reason: String, id: &str| Step::Fail {
        reason,
        id: id.to_owned(),
    };
    let ask = match &request.ask {
        Ok(ask) => ask,
        Err(reason) => return fail(reason.to_string(), &request.fallback_id),
    };
    match ask {
        Ask::Create { properties } => match parse_properties(properties) {
            Ok(props) => reconcile(props, Trigger::Create, None, request, default_region, None),
            Err(reason) => fail(reason.to_string(), &request.fallback_id),
        },
        Ask::Update {
            id,
            properties,
            old_properties,
        } => {
            if let (Some(new), Some(old)) = (properties.as_object(), old_properties.as_object())
                && cfn::settings_only_change(new, old)
            {
                return Step::SettingsOnly {
                    properties: parse_properties(properties).ok().map(Box::new),
                    id: id.clone(),
                };
            }
            match parse_properties(properties) {
                Ok(props) => reconcile(
                    props,
                    Trigger::Update,
                    Some(id),
                    request,
                    default_region,
                    Some(old_properties),
                ),
                Err(reason) => fail(reason.to_string(), id),
            }
        }
        Ask::Delete { id, properties } => {
            let untouched = |why: String| Step::DeleteUntouched {
                why,
                id: id.clone(),
            };
            let key = match cfn::classify_id(id) {
                IdKind::FailedCreate => {
                    return untouched("the create of this resource had failed".to_owned());
                }
                IdKind::Foreign => return untouched("this resource never issued that id".into()),
                IdKind::Managed(key) => key,
            };
            match parse_properties(properties) {
                Ok(props) => Step::Delete {
                    properties: Box::new(props),
                    key,
                    id: id.clone(),
                },
                // The stack asked for its filters to go, and they cannot be found
                // without the properties: fail closed, saying how to go on.
                Err(reason) if says_remove(properties) => Step::Fail {
                    reason: format!(
                        "the stack says OnDelete remove, but its properties are not usable ({reason}), so the filters it recorded in {key} cannot be removed safely; update the stack with valid properties and delete it again, or delete it with --retain-resources to leave the filters in place"
                    ),
                    id: id.clone(),
                },
                Err(reason) => untouched(format!("the properties are not usable ({reason})")),
            }
        }
    }
}

/// Whether `OnDelete` alone, read from properties that do not parse as a whole, says
/// `remove`.
fn says_remove(properties: &Value) -> bool {
    properties
        .get("OnDelete")
        .and_then(Value::as_str)
        .and_then(|value| <OnDelete as Choice>::parse(value.trim()))
        == Some(OnDelete::Remove)
}

/// A Create (`sent` None) or an Update (`sent`: its id, `old`: its old properties).
fn reconcile(
    properties: Properties,
    trigger: Trigger,
    sent: Option<&String>,
    request: &Request,
    default_region: &Region,
    old: Option<&Value>,
) -> Step {
    let key = profile_key(&properties, default_region);
    // The resource CloudFormation knows: the one its id names, when this resource
    // issued it.
    let current = sent.and_then(|id| match cfn::classify_id(id) {
        IdKind::Managed(key) => Some(key),
        _ => None,
    });
    let abandoned = current
        .as_ref()
        .zip(old)
        .and_then(|(current, old)| abandoned_replacement(old, current, &key, default_region));
    let previous_config = old
        .and_then(|old| old.get("FiltersHash"))
        .and_then(Value::as_str)
        .map(|hash| store::short(&hash.to_ascii_lowercase()));
    Step::Reconcile(Box::new(Reconcile {
        id: cfn::physical_id(&key),
        // The 0.1 ledger belongs to the resource CloudFormation knows (the id it
        // sent), not to the new one of a replacement.
        legacy_ledger: cfn::reads_legacy_ledger(current.as_ref(), &key),
        previous_config,
        abandoned,
        sent_id: sent.cloned(),
        request_id: request.request_id.clone(),
        properties,
        trigger,
        key,
    }))
}

/// The rollback of an Update that failed while replacing the resource (another sync
/// profile or region): CloudFormation never learnt the new resource's id, so no
/// Delete will ever come for it. Its properties are this rollback's old ones,
/// recognised by naming neither the resource CloudFormation knows (`current`, the id
/// it sent) nor the one this rollback returns to (`target`).
pub fn abandoned_replacement(
    old_properties: &Value,
    current: &ProfileKey,
    target: &ProfileKey,
    default_region: &Region,
) -> Option<Abandoned> {
    let properties = parse_properties(old_properties).ok()?;
    let key = profile_key(&properties, default_region);
    (key != *current && key != *target).then_some(Abandoned { properties, key })
}

impl Abandoned {
    /// What to tell of its cleanup (`undone`): its warnings, and whether its filters
    /// were removed or could not all be.
    pub fn findings(&self, undone: &Outcome) -> Findings {
        let key = &self.key;
        let said = if !undone.verdict.is_success() {
            Some(format!(
                "the failed replacement's filters in {key} were not all removed: {}",
                undone.summary()
            ))
        } else if !undone.removed().is_empty() {
            Some(format!(
                "removed {} filter(s) that the failed replacement had created in {key} (OnDelete remove)",
                undone.removed().len()
            ))
        } else {
            None
        };
        Findings::warnings(undone.warnings.iter().cloned().chain(said))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const REGION: &str = "eu-central-1";
    const STACK_ID: &str = "arn:aws:cloudformation:eu-central-1:123456789012:stack/Prod/0a1b2c3d-1111-2222-3333-444455556666";

    /// Valid properties (tests/fixtures/properties/valid.json) with `changes`.
    fn props(changes: Value) -> Value {
        let mut props: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/properties/valid.json"
        ))
        .unwrap();
        for (k, v) in changes.as_object().unwrap() {
            props[k] = v.clone();
        }
        props
    }

    fn event(request_type: &str, id: Option<&str>, properties: Value, old: Option<Value>) -> Value {
        let mut event = json!({
            "RequestType": request_type,
            "ResponseURL": "https://cloudformation-custom-resource-response-eucentral1.s3.eu-central-1.amazonaws.com/x?X-Amz-Signature=secret",
            "StackId": STACK_ID,
            "RequestId": "req-1",
            "ResourceType": "Custom::SyncScope",
            "LogicalResourceId": "SyncScope",
            "ResourceProperties": properties,
        });
        if let Some(id) = id {
            event["PhysicalResourceId"] = id.into();
        }
        if let Some(old) = old {
            event["OldResourceProperties"] = old;
        }
        event
    }

    fn request(raw: Value) -> Request {
        match Event::parse(raw) {
            Event::Request(request) => request,
            other => panic!("not a request: {other:?}"),
        }
    }

    fn step(raw: Value) -> Step {
        decide(&request(raw), &Region::parse(REGION).unwrap())
    }

    fn reconcile(step: Step) -> Reconcile {
        match step {
            Step::Reconcile(run) => *run,
            other => panic!("not a reconcile: {other:?}"),
        }
    }

    fn id(profile: &str) -> String {
        format!("syncscope:{REGION}:{profile}")
    }

    #[test]
    fn a_payload_is_a_drift_check_a_request_or_nothing_to_answer() {
        let drift = Event::parse(
            json!({"syncscope": "drift", "StackName": "Prod", "ResourceProperties": {"Stage": "PROD"}}),
        );
        assert_eq!(
            drift,
            Event::Drift {
                stack: "Prod".into(),
                properties: json!({"Stage": "PROD"})
            }
        );
        for (raw, keys) in [
            (
                json!({"hello": "world", "ResponseURL": 7}),
                vec!["ResponseURL", "hello"],
            ),
            (json!([1, 2]), vec![]),
            (json!({"syncscope": "other"}), vec!["syncscope"]),
        ] {
            let Event::Unanswerable { keys: got } = Event::parse(raw.clone()) else {
                panic!("{raw} should be unanswerable");
            };
            assert_eq!(got, keys, "{raw}");
        }
    }

    #[test]
    fn a_well_formed_request_is_typed_once_with_its_envelope() {
        let request = request(event(
            "Update",
            Some(&id("P")),
            props(json!({})),
            Some(props(json!({}))),
        ));
        assert_eq!(request.stack_id, STACK_ID);
        assert_eq!(request.stack_name(), "Prod");
        assert_eq!(request.request_id, "req-1");
        assert_eq!(request.logical_resource_id, "SyncScope");
        assert_eq!(request.request_type, "Update");
        assert_eq!(request.fallback_id, id("P"));
        assert!(matches!(request.ask, Ok(Ask::Update { .. })));
    }

    #[test]
    fn a_malformed_request_keeps_what_is_needed_to_answer_it() {
        // (request type, sent id, the id a failure answers)
        for (request_type, sent, fallback) in [
            ("Explode", Some("sent-id"), "sent-id"),
            ("Create", None, "syncscope:failed-create:req-1"),
            ("Explode", None, "syncscope:failed-create:req-1"),
        ] {
            let mut raw = event(request_type, sent, props(json!({})), None);
            if request_type == "Create" {
                raw.as_object_mut().unwrap().remove("StackId");
            }
            let request = request(raw);
            let reason = request.ask.as_ref().unwrap_err().to_string();
            assert!(
                reason.starts_with("malformed CloudFormation event: "),
                "{reason}"
            );
            assert_eq!(request.fallback_id, fallback, "{request_type} {sent:?}");
            assert_eq!(
                decide(&request, &Region::parse(REGION).unwrap()),
                Step::Fail {
                    reason: reason.clone(),
                    id: fallback.into()
                }
            );
        }
    }

    #[test]
    fn a_create_reconciles_and_answers_the_real_id_once_it_may_have_changed_the_scope() {
        let run = reconcile(step(event(
            "Create",
            None,
            props(json!({"SyncProfileName": "P"})),
            None,
        )));
        assert_eq!(run.trigger, Trigger::Create);
        assert_eq!(run.key, ProfileKey::parse(REGION, "P").unwrap());
        assert_eq!(run.id, id("P"));
        assert!(run.legacy_ledger);
        assert_eq!(run.previous_config, None);
        assert_eq!(run.abandoned, None);
        assert_eq!(run.failed_id(false), "syncscope:failed-create:req-1");
        assert_eq!(run.failed_id(true), id("P"));
        let step = Step::Reconcile(Box::new(run));
        assert_eq!(step.interrupted_id("fallback"), id("P"));
    }

    #[test]
    fn the_properties_region_names_the_resource() {
        let run = reconcile(step(event(
            "Create",
            None,
            props(json!({"SyncProfileName": "P", "Region": "us-east-1"})),
            None,
        )));
        assert_eq!(run.id, "syncscope:us-east-1:P");
    }

    #[test]
    fn bad_properties_fail_with_the_id_that_touches_nothing() {
        let bad = props(json!({"Mode": "sometimes"}));
        for (raw, id_answered) in [
            (
                event("Create", None, bad.clone(), None),
                "syncscope:failed-create:req-1".to_owned(),
            ),
            (
                event(
                    "Update",
                    Some(&id("P")),
                    bad.clone(),
                    Some(props(json!({}))),
                ),
                id("P"),
            ),
        ] {
            let Step::Fail { reason, id } = step(raw) else {
                panic!("not a failure")
            };
            assert!(
                reason.starts_with("invalid resource properties: Mode: "),
                "{reason}"
            );
            assert_eq!(id, id_answered);
        }
    }

    #[test]
    fn an_update_of_the_function_settings_only_touches_nothing() {
        let old =
            props(json!({"ServiceToken": "arn:aws:lambda:eu-central-1:123456789012:function:old"}));
        let step = step(event("Update", Some(&id("P")), props(json!({})), Some(old)));
        let Step::SettingsOnly {
            properties,
            id: kept,
        } = &step
        else {
            panic!("{step:?}")
        };
        assert!(properties.is_some());
        assert_eq!(*kept, id("P"));
        assert_eq!(step.interrupted_id("fallback"), "fallback");
    }

    #[test]
    fn an_update_keeps_its_id_on_failure_and_knows_the_previous_config() {
        let old = props(json!({"FiltersHash": "B".repeat(64), "SyncProfileName": "P"}));
        let run = reconcile(step(event(
            "Update",
            Some(&id("P")),
            props(json!({"SyncProfileName": "P"})),
            Some(old),
        )));
        assert_eq!(run.trigger, Trigger::Update);
        assert_eq!(run.failed_id(true), id("P"));
        assert_eq!(run.failed_id(false), id("P"));
        assert_eq!(
            run.previous_config.as_deref(),
            Some(store::short(&"b".repeat(64)).as_str())
        );
        assert!(run.legacy_ledger);
        assert_eq!(run.abandoned, None);
    }

    #[test]
    fn a_replacement_does_not_claim_the_old_resources_legacy_ledger() {
        let run = reconcile(step(event(
            "Update",
            Some(&id("Old")),
            props(json!({"SyncProfileName": "New"})),
            Some(props(json!({"SyncProfileName": "Old"}))),
        )));
        assert_eq!(run.id, id("New"));
        assert!(!run.legacy_ledger);
        assert_eq!(
            run.abandoned, None,
            "the old properties name the resource CloudFormation knows"
        );
    }

    #[test]
    fn the_rollback_of_a_failed_replacement_finds_the_resource_it_abandoned() {
        // CloudFormation knows A; the Update to B failed; its rollback returns to A
        // with B's properties as the old ones.
        let run = reconcile(step(event(
            "Update",
            Some(&id("A")),
            props(json!({"SyncProfileName": "A"})),
            Some(props(json!({"SyncProfileName": "B", "OnDelete": "remove"}))),
        )));
        let abandoned = run.abandoned.expect("B was abandoned");
        assert_eq!(abandoned.key, ProfileKey::parse(REGION, "B").unwrap());
        assert_eq!(
            abandoned.properties.on_delete,
            crate::choice::OnDelete::Remove
        );
        // An id this resource never issued: nothing is known to be abandoned.
        let run = reconcile(step(event(
            "Update",
            Some("foreign"),
            props(json!({"SyncProfileName": "A"})),
            Some(props(json!({"SyncProfileName": "B"}))),
        )));
        assert_eq!(run.abandoned, None);
    }

    #[test]
    fn a_delete_acts_on_the_profile_its_id_names_or_touches_nothing() {
        let good = props(json!({"SyncProfileName": "FromProps"}));
        let step_of =
            |id: &str, properties: Value| step(event("Delete", Some(id), properties, None));
        let Step::Delete {
            key, id: answered, ..
        } = step_of(&id("FromId"), good.clone())
        else {
            panic!("not a delete")
        };
        assert_eq!(key, ProfileKey::parse(REGION, "FromId").unwrap());
        assert_eq!(answered, id("FromId"));
        // The stack asked for removal: bad properties fail the Delete, naming the fix.
        let step = step_of(&id("P"), props(json!({"Mode": "x", "OnDelete": "remove"})));
        let Step::Fail { reason, id: kept } = &step else {
            panic!("{step:?}")
        };
        assert!(
            reason.starts_with("the stack says OnDelete remove, but its properties are not usable (invalid resource properties: Mode: "),
            "{reason}"
        );
        assert!(reason.contains("--retain-resources"), "{reason}");
        assert_eq!(*kept, id("P"));
        for (sent, properties, why) in [
            (
                "syncscope:failed-create:req-0",
                good.clone(),
                "the create of this resource had failed",
            ),
            (
                "someone-elses-id",
                good.clone(),
                "this resource never issued that id",
            ),
            (
                &id("P"),
                props(json!({"Mode": "x"})),
                "the properties are not usable (invalid resource properties: Mode: ",
            ),
        ] {
            let step = step_of(sent, properties);
            let Step::DeleteUntouched { why: said, id } = &step else {
                panic!("{step:?}")
            };
            assert!(said.starts_with(why), "{said}");
            assert_eq!(id, sent);
            assert_eq!(step.interrupted_id("fallback"), "fallback");
        }
    }

    #[test]
    fn an_event_is_for_this_function_only_when_it_names_its_stack() {
        let own = STACK_ID;
        assert!(is_own_stack(Some(own), own));
        assert!(
            is_own_stack(Some(own), "Prod"),
            "a drift event names the stack"
        );
        assert!(!is_own_stack(
            Some(own),
            "arn:aws:cloudformation:eu-central-1:123456789012:stack/Prod/ffffffff-1111-2222-3333-444455556666"
        ));
        assert!(!is_own_stack(Some(own), "Test"));
        assert!(is_own_stack(None, "anything"));
        assert_eq!(stack_name("not-an-arn"), "not-an-arn");
    }
}
