//! The Lambda handler: one CloudFormation custom resource event in, exactly one
//! response out, whatever happens.
//!
//! The event is read as raw JSON; the envelope (ResponseURL and ids) is taken first so
//! that even a malformed event or bad properties get a FAILED answer with a reason.
//! The work runs in its own task: a panic becomes FAILED, and a timer answers FAILED
//! a few seconds before the Lambda deadline if the work has not finished. The handler
//! always returns `Ok` after the PUT (an `Err` would make Lambda retry the event).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest as Request;
use lambda_runtime::LambdaEvent;
use serde_json::{Map, Value, json};
use syncscope_core::cfn::{self, IdKind, ResponseBody, Status};
use syncscope_core::config::OnDelete;
use syncscope_core::outcome::{Findings, Outcome, Trigger, Verdict};
use syncscope_core::properties::Properties;
use syncscope_core::scope::ProfileKey;
use tokio::time::Instant;
use tracing::Instrument;

use crate::app::App;
use crate::cfn_response::Responder;
use crate::reconcile::{self, Deadlines, Run};
use crate::report;

/// The timer answers FAILED this long before the Lambda deadline.
pub const GUARD_MARGIN: Duration = Duration::from_secs(3);
/// Verification, the ledger and reports must be done this long before the deadline.
pub const WORK_MARGIN: Duration = Duration::from_secs(4);
/// API calls must be done this long before the deadline.
pub const APPLY_MARGIN: Duration = Duration::from_secs(8);

/// The `syncscope` value of a scheduled drift check's event:
/// `{"syncscope": "drift", "StackName": "...", "ResourceProperties": {...}}`.
pub const DRIFT_EVENT: &str = "drift";

/// A scheduled drift check: the same reconcile in report-only mode. Console edits to
/// the scope show up as planned changes and unmanaged filters in the docs and Teams.
/// Nothing is changed and there is no CloudFormation response.
async fn drift(app: &'static App, raw: &Value, deadline: Instant) -> Value {
    let props = match parse_props(raw.get("ResourceProperties").unwrap_or(&Value::Null)) {
        Ok(props) => props,
        Err(reason) => {
            tracing::error!(reason = %reason, "drift check: bad properties");
            return json!({ "Status": "FAILED", "Reason": reason });
        }
    };
    let stack = raw
        .get("StackName")
        .and_then(Value::as_str)
        .unwrap_or("syncscope")
        .to_owned();
    let own = crate::trust::own_stack_id();
    if !crate::trust::is_own_stack(own.as_deref(), &stack) {
        tracing::error!(foreign_stack = %stack, "drift check for another stack: nothing done");
        return json!({ "Status": "FAILED", "Reason": format!("this function serves another stack than {stack}; nothing was done") });
    }
    let deadlines = deadlines(deadline);
    let touched = AtomicBool::new(false);
    let run = Run {
        props: &props,
        trigger: Trigger::Drift,
        stack,
        stack_id: None,
        legacy_ledger: true,
        deadlines,
        previous_config: None,
        touched: &touched,
    };
    let outcome = reconcile::reconcile(app, &run).await;
    let (outcome, _) = report::report(app, Some(&props), outcome, deadlines).await;
    json!({ "Status": if outcome.verdict == Verdict::Failed { "FAILED" } else { "SUCCESS" }, "Reason": outcome.summary(), "Data": outcome.cfn_data() })
}

/// The envelope of a request: what is needed to answer it, read before anything else.
#[derive(Debug, Clone)]
struct Envelope {
    response_url: String,
    stack_id: String,
    request_id: String,
    logical_resource_id: String,
    physical_resource_id: Option<String>,
    request_type: String,
}

fn text(event: &Value, key: &str) -> String {
    event
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Envelope {
    fn read(event: &Value) -> Option<Self> {
        let response_url = event.get("ResponseURL")?.as_str()?.to_owned();
        Some(Self {
            response_url,
            stack_id: text(event, "StackId"),
            request_id: text(event, "RequestId"),
            logical_resource_id: text(event, "LogicalResourceId"),
            physical_resource_id: event
                .get("PhysicalResourceId")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            request_type: text(event, "RequestType"),
        })
    }

    /// The stack's name, from its ARN (`arn:...:stack/NAME/uuid`).
    fn stack_name(&self) -> String {
        crate::trust::stack_name(&self.stack_id).to_owned()
    }
}

/// What the work decided to answer.
#[derive(Debug, Clone)]
pub struct Answer {
    status: Status,
    reason: String,
    physical_id: String,
    data: BTreeMap<String, String>,
}

impl Answer {
    fn failed(reason: impl Into<String>, physical_id: String) -> Self {
        Self {
            status: Status::Failed,
            reason: reason.into(),
            physical_id,
            data: BTreeMap::new(),
        }
    }

    fn success(
        reason: impl Into<String>,
        physical_id: String,
        data: BTreeMap<String, String>,
    ) -> Self {
        Self {
            status: Status::Success,
            reason: reason.into(),
            physical_id,
            data,
        }
    }
}

/// The id to answer when the request fails before knowing better
/// ([`cfn::fallback_id`]).
fn fallback_id(envelope: &Envelope) -> String {
    cfn::fallback_id(
        &envelope.request_type,
        envelope.physical_resource_id.as_deref(),
        &envelope.request_id,
    )
}

/// The id to answer when the deadline guard stops the work: for a Create, the real
/// id whenever the properties name one, because the work may have created filters
/// (recorded as pending before they were sent) that the rollback Delete must find;
/// otherwise the id CloudFormation sent.
fn timeout_id(app: &App, raw: &Value, envelope: &Envelope) -> String {
    if envelope.request_type == "Create"
        && let Some(props) = raw.get("ResourceProperties")
        && let Ok(props) = parse_props(props)
    {
        return cfn::physical_id(app.region_of(&props), &props.sync_profile);
    }
    fallback_id(envelope)
}

/// Handles one invocation. Always `Ok`: the answer goes to CloudFormation.
pub async fn handle(
    app: &'static App,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let deadline = lambda_deadline(event.context.deadline);
    Ok(respond(app, event.payload, deadline, &event.context.request_id).await)
}

/// Serves one event: a drift check, or a CloudFormation request answered exactly
/// once (a PUT to its ResponseURL) before `deadline`. Returns what the invocation
/// returns to Lambda.
pub async fn respond(
    app: &'static App,
    raw: Value,
    deadline: Instant,
    lambda_request_id: &str,
) -> Value {
    if raw.get("syncscope").and_then(Value::as_str) == Some(DRIFT_EVENT) {
        return drift(app, &raw, deadline).await;
    }
    let Some(envelope) = Envelope::read(&raw) else {
        tracing::error!(
            keys = ?raw.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            "not a CloudFormation custom resource request (no ResponseURL); nothing to answer"
        );
        return json!({ "error": "not a CloudFormation custom resource request" });
    };
    if let Err(why) = crate::trust::check_response_url(&envelope.response_url) {
        tracing::error!(stack_id = %envelope.stack_id, why, "the ResponseURL is not CloudFormation's: not answered, nothing done");
        return json!({ "error": format!("the ResponseURL is refused: {why}") });
    }
    let span = tracing::info_span!(
        "request",
        lambda_request_id = %lambda_request_id,
        cfn_request_id = %envelope.request_id,
        request_type = %envelope.request_type,
        logical_resource_id = %envelope.logical_resource_id,
    );
    async move {
        let fallback = fallback_id(&envelope);
        let own = crate::trust::own_stack_id();
        if !crate::trust::is_own_stack(own.as_deref(), &envelope.stack_id) {
            tracing::error!(foreign_stack_id = %envelope.stack_id, "an event of another stack: answered FAILED, nothing done");
            let answer = Answer::failed(
                format!(
                    "this function serves stack {}, not {}; nothing was changed",
                    own.as_deref().map_or("?", crate::trust::stack_name),
                    envelope.stack_name()
                ),
                fallback,
            );
            return deliver(app, &envelope, answer, deadline).await;
        }
        let timeout_id = timeout_id(app, &raw, &envelope);
        let touched = Arc::new(AtomicBool::new(false));
        let mut work = tokio::spawn(work(app, raw, envelope.clone(), deadline, touched.clone()));
        let guard_at = deadline.checked_sub(GUARD_MARGIN).unwrap_or(deadline);
        let answer = tokio::select! {
            joined = &mut work => match joined {
                Ok(answer) => answer,
                Err(e) if e.is_panic() => {
                    let message = panic_message(e.into_panic());
                    tracing::error!(panic = %message, "the handler panicked");
                    // Like the deadline guard: once the run may have changed the
                    // scope, the real id, so the rollback Delete finds its record.
                    let id = if touched.load(Ordering::SeqCst) { timeout_id } else { fallback };
                    Answer::failed(format!("internal error: syncscope panicked ({message}); nothing more was changed, the next run converges"), id)
                }
                Err(e) => Answer::failed(format!("internal error: {e}"), fallback),
            },
            () = tokio::time::sleep_until(guard_at) => {
                work.abort();
                tracing::error!("no result before the deadline guard; answering FAILED");
                Answer::failed(
                    "timed out: syncscope had no result a few seconds before the Lambda deadline (a backend did not answer in time); changes that were made stay, the next run converges",
                    timeout_id,
                )
            }
        };
        deliver(app, &envelope, answer, deadline).await
    }
    .instrument(span)
    .await
}

/// PUTs an answer to the request's ResponseURL; returns what the invocation returns.
async fn deliver(app: &App, envelope: &Envelope, answer: Answer, deadline: Instant) -> Value {
    let body = ResponseBody {
        status: answer.status,
        reason: answer.reason,
        physical_resource_id: answer.physical_id,
        stack_id: envelope.stack_id.clone(),
        request_id: envelope.request_id.clone(),
        logical_resource_id: envelope.logical_resource_id.clone(),
        no_echo: false,
        data: answer.data,
    };
    let status = body.status;
    let responder = Responder::new(&app.http, envelope.response_url.clone());
    let delivered = responder.send(body, deadline).await;
    json!({
        "Status": status,
        "Delivered": delivered.is_ok(),
    })
}

fn lambda_deadline(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

fn deadlines(deadline: Instant) -> Deadlines {
    let before = |margin: Duration| deadline.checked_sub(margin).unwrap_or(deadline);
    Deadlines {
        apply_end: before(APPLY_MARGIN),
        work_end: before(WORK_MARGIN),
    }
}

/// The request, typed; `Err` with a reason for a malformed event.
fn typed(raw: Value) -> Result<Request, String> {
    serde_json::from_value::<Request>(raw).map_err(|e| {
        format!(
            "malformed CloudFormation event: {e} (RequestType must be Create, Update or Delete)"
        )
    })
}

fn parse_props(props: &Value) -> Result<Properties, String> {
    let empty = Map::new();
    let map = props.as_object().unwrap_or(&empty);
    syncscope_core::properties::parse(map)
        .map_err(|problems| format!("invalid resource properties: {}", problems.join("; ")))
}

/// Decides and does the work of one request; returns what to answer.
async fn work(
    app: &'static App,
    raw: Value,
    envelope: Envelope,
    deadline: Instant,
    touched: Arc<AtomicBool>,
) -> Answer {
    let touched = &*touched;
    if crate::faults::injected("panic") {
        panic!(
            "test fault injected through {}",
            crate::faults::TEST_FAULT_ENV
        );
    }
    let fallback = fallback_id(&envelope);
    let request = match typed(raw) {
        Ok(request) => request,
        Err(reason) => return Answer::failed(reason, fallback),
    };
    let stack = envelope.stack_name();
    let stack_id = Some(envelope.stack_id.clone());
    let deadlines = deadlines(deadline);
    match request {
        Request::Create(create) => {
            let props = match parse_props(&create.resource_properties) {
                Ok(props) => props,
                Err(reason) => return Answer::failed(reason, fallback),
            };
            let run = Run {
                props: &props,
                trigger: Trigger::Create,
                stack,
                stack_id,
                legacy_ledger: true,
                deadlines,
                previous_config: None,
                touched,
            };
            let id = cfn::physical_id(run.region(app), &props.sync_profile);
            let outcome = reconcile::reconcile(app, &run).await;
            let failed_id = cfn::failed_create_answer(
                &id,
                outcome.may_have_changed_scope(),
                &envelope.request_id,
            );
            finish(app, Some(&props), outcome, id, failed_id, deadlines).await
        }
        Request::Update(update) => {
            let old_id = update.physical_resource_id.clone();
            if let (Some(new), Some(old)) = (
                update.resource_properties.as_object(),
                update.old_resource_properties.as_object(),
            ) && cfn::settings_only_change(new, old)
            {
                return settings_only(app, new, old_id, stack, deadlines).await;
            }
            let props = match parse_props(&update.resource_properties) {
                Ok(props) => props,
                Err(reason) => return Answer::failed(reason, old_id),
            };
            let current = match cfn::classify_id(&old_id) {
                IdKind::Managed { region, profile } => Some(ProfileKey::new(region, profile)),
                _ => None,
            };
            let run = Run {
                props: &props,
                trigger: Trigger::Update,
                stack,
                stack_id,
                // The 0.1 ledger belongs to the resource CloudFormation knows (the id
                // it sent), not to the new one of a replacement.
                legacy_ledger: cfn::reads_legacy_ledger(
                    current.as_ref(),
                    &ProfileKey::new(app.region_of(&props), props.sync_profile.as_str()),
                ),
                deadlines,
                previous_config: update
                    .old_resource_properties
                    .get("FiltersHash")
                    .and_then(Value::as_str)
                    .map(|hash| syncscope_core::store::short(&hash.to_ascii_lowercase())),
                touched,
            };
            let id = cfn::physical_id(run.region(app), &props.sync_profile);
            let mut outcome = reconcile::reconcile(app, &run).await;
            if let Some(current) = current {
                let undone =
                    undo_failed_replacement(app, &run, &update.old_resource_properties, &current)
                        .await;
                outcome = outcome.with_findings(undone);
            }
            finish(app, Some(&props), outcome, id, old_id, deadlines).await
        }
        Request::Delete(delete) => {
            let id = delete.physical_resource_id.clone();
            delete_request(
                app,
                &delete.resource_properties,
                id,
                stack,
                stack_id,
                deadlines,
                touched,
            )
            .await
        }
        _ => Answer::failed("unsupported RequestType", fallback),
    }
}

/// The rollback of an Update that failed while replacing the resource (another sync
/// profile or region): CloudFormation never learnt the new resource's id, so no
/// Delete will ever come for it. Its properties are this rollback's old ones; what
/// it may have created there is removed or kept as its `OnDelete` says, like a
/// Delete would. Recognised by old properties that name neither the resource
/// CloudFormation knows (the id it sent) nor the one this rollback returns to.
async fn undo_failed_replacement(
    app: &App,
    run: &Run<'_>,
    old_props: &Value,
    current: &ProfileKey,
) -> Findings {
    let Ok(old) = parse_props(old_props) else {
        return Findings::default();
    };
    let abandoned = ProfileKey::new(app.region_of(&old), old.sync_profile.as_str());
    if abandoned == *current || abandoned == run.key(app) {
        return Findings::default();
    }
    let undo = Run {
        props: &old,
        trigger: Trigger::Delete,
        stack: run.stack.clone(),
        stack_id: run.stack_id.clone(),
        legacy_ledger: false,
        deadlines: run.deadlines,
        previous_config: None,
        touched: run.touched,
    };
    let undone = match old.on_delete {
        OnDelete::Retain => reconcile::release(app, &undo, &abandoned).await,
        OnDelete::Remove => reconcile::teardown(app, &undo, &abandoned).await,
    };
    tracing::info!(profile = %abandoned, summary = %undone.summary(), "abandoned replacement cleaned up");
    let said = if !undone.verdict.is_success() {
        Some(format!(
            "the failed replacement's filters in {abandoned} were not all removed: {}",
            undone.summary()
        ))
    } else if !undone.removed().is_empty() {
        Some(format!(
            "removed {} filter(s) that the failed replacement had created in {abandoned} (OnDelete remove)",
            undone.removed().len()
        ))
    } else {
        None
    };
    Findings::warnings(undone.warnings.iter().cloned().chain(said))
}

/// Reports an outcome and turns it into an answer: on success the new id, on failure
/// the id to keep (failed-create id, or the old id of an Update).
async fn finish(
    app: &App,
    props: Option<&Properties>,
    outcome: Outcome,
    id: String,
    failed_id: String,
    deadlines: Deadlines,
) -> Answer {
    let (outcome, _) = report::report(app, props, outcome, deadlines).await;
    let data = outcome.cfn_data();
    let summary = outcome.summary();
    if outcome.verdict.is_success() {
        Answer::success(summary, id, data)
    } else {
        Answer {
            status: Status::Failed,
            reason: summary,
            physical_id: failed_id,
            data,
        }
    }
}

/// An Update that changes only ServiceToken/ServiceTimeout: nothing remote changes.
async fn settings_only(
    app: &App,
    props: &Map<String, Value>,
    id: String,
    stack: String,
    deadlines: Deadlines,
) -> Answer {
    let note = "Update changed only the function's settings (ServiceToken/ServiceTimeout); the sync scope was not touched";
    tracing::info!(note, "settings-only update");
    if let Ok(props) = syncscope_core::properties::parse(props) {
        let touched = AtomicBool::new(false);
        let run = Run {
            props: &props,
            trigger: Trigger::Update,
            stack,
            stack_id: None,
            legacy_ledger: false,
            deadlines,
            previous_config: None,
            touched: &touched,
        };
        let outcome = reconcile::untouched(&run, note.to_owned());
        return finish(app, Some(&props), outcome, id.clone(), id, deadlines).await;
    }
    Answer::success(note, id, BTreeMap::new())
}

/// A Delete: what it acts on is decided from the id (the sync profile and region it
/// names), never from the properties, which may be the old or the new ones after a
/// replacement. The properties give the stack's ledger, the domain and `OnDelete`.
async fn delete_request(
    app: &App,
    props: &Value,
    id: String,
    stack: String,
    stack_id: Option<String>,
    deadlines: Deadlines,
    touched: &AtomicBool,
) -> Answer {
    let untouched = |why: &str| {
        tracing::info!(why, "delete leaves the scope untouched");
        Answer::success(
            format!("deleted; the sync scope was not touched: {why}"),
            id.clone(),
            BTreeMap::new(),
        )
    };
    let key = match cfn::classify_id(&id) {
        IdKind::FailedCreate => return untouched("the create of this resource had failed"),
        IdKind::Foreign => return untouched("this resource never issued that id"),
        IdKind::Managed { region, profile } => ProfileKey::new(region, profile),
    };
    let props = match parse_props(props) {
        Ok(props) => props,
        Err(reason) => return untouched(&format!("the properties are not usable ({reason})")),
    };
    let run = Run {
        props: &props,
        trigger: Trigger::Delete,
        stack,
        stack_id,
        legacy_ledger: true,
        deadlines,
        previous_config: None,
        touched,
    };
    let outcome = match props.on_delete {
        OnDelete::Retain => reconcile::release(app, &run, &key).await,
        OnDelete::Remove => reconcile::teardown(app, &run, &key).await,
    };
    finish(app, Some(&props), outcome, id.clone(), id, deadlines).await
}

/// The handler for a function that could not start: answers every request FAILED.
pub async fn handle_init_failure(
    http: &'static reqwest::Client,
    reason: &'static str,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let deadline = lambda_deadline(event.context.deadline);
    let Some(envelope) = Envelope::read(&event.payload) else {
        return Ok(json!({ "error": reason }));
    };
    if crate::trust::check_response_url(&envelope.response_url).is_err() {
        return Ok(json!({ "error": reason }));
    }
    let body = ResponseBody {
        status: Status::Failed,
        reason: format!("syncscope could not start: {reason}"),
        physical_resource_id: fallback_id(&envelope),
        stack_id: envelope.stack_id.clone(),
        request_id: envelope.request_id.clone(),
        logical_resource_id: envelope.logical_resource_id.clone(),
        no_echo: false,
        data: BTreeMap::new(),
    };
    let delivered = Responder::new(http, envelope.response_url)
        .send(body, deadline)
        .await;
    Ok(json!({ "Status": "FAILED", "Delivered": delivered.is_ok() }))
}
