//! The Lambda handler: one CloudFormation custom resource event in, exactly one
//! response out, whatever happens.
//!
//! The event is read once into a typed [`Event`] (a malformed request keeps its
//! ResponseURL and ids, so it too gets a FAILED answer with a reason), and what it
//! asks is decided before any I/O ([`request::decide`], pure and unit-tested in the
//! core). The handler carries the [`Step`] out: the work runs in its own task: a panic becomes FAILED, and a timer answers FAILED
//! a few seconds before the Lambda deadline if the work has not finished. The handler
//! always returns `Ok` after the PUT (an `Err` would make Lambda retry the event).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use syncscope_core::cfn::{ResponseBody, Status};
use syncscope_core::config::OnDelete;
use syncscope_core::outcome::{Outcome, Trigger, Verdict};
use syncscope_core::properties::Properties;
use syncscope_core::request::{self, Event, Request, Step};
use syncscope_core::rules;
use syncscope_core::timestamp::Timestamp;
use tokio::time::Instant;
use tracing::Instrument;

use crate::app::App;
use crate::cfn_response::Responder;
use crate::reconcile::{self, Deadlines, Run};
use crate::report;

/// The timer answers FAILED this long before the Lambda deadline.
pub const GUARD_MARGIN: Duration = Duration::from_secs(3);
/// The card of a run cut short is sent by this long before the Lambda deadline.
pub const CARD_MARGIN: Duration = Duration::from_millis(500);
/// Verification, the ledger and reports must be done this long before the deadline.
pub const WORK_MARGIN: Duration = Duration::from_secs(4);
/// API calls must be done this long before the deadline.
pub const APPLY_MARGIN: Duration = Duration::from_secs(8);

pub use syncscope_core::request::DRIFT_EVENT;

/// A scheduled drift check: the same reconcile in report-only mode. Console edits to
/// the scope show up as planned changes and unmanaged filters in the docs and Teams.
/// Nothing is changed and there is no CloudFormation response.
async fn drift(app: &'static App, stack: String, properties: &Value, deadline: Instant) -> Value {
    let props = match request::parse_properties(properties) {
        Ok(props) => props,
        Err(reason) => {
            tracing::error!(reason = %reason, "drift check: bad properties");
            return json!({ "Status": "FAILED", "Reason": reason.to_string() });
        }
    };
    let own = crate::trust::own_stack_id();
    if !request::is_own_stack(own.as_deref(), &stack) {
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
        request_id: None,
        touched: &touched,
    };
    let outcome = reconcile::reconcile(app, &run).await;
    let (outcome, _) = report::report(app, Some(&props), outcome, deadlines).await;
    json!({ "Status": if outcome.verdict == Verdict::Failed { "FAILED" } else { "SUCCESS" }, "Reason": outcome.summary(), "Data": outcome.cfn_data() })
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
    match Event::parse(raw) {
        Event::Drift { stack, properties } => drift(app, stack, &properties, deadline).await,
        Event::Request(request) => answer(app, request, deadline, lambda_request_id).await,
        Event::Unanswerable { keys } => {
            tracing::error!(
                ?keys,
                "not a CloudFormation custom resource request (no ResponseURL); nothing to answer"
            );
            json!({ "error": "not a CloudFormation custom resource request" })
        }
    }
}

/// Answers a CloudFormation request exactly once: FAILED for another stack's event,
/// otherwise what its [`Step`] comes to, or FAILED when the work panics or the
/// deadline guard fires first.
async fn answer(
    app: &'static App,
    request: Request,
    deadline: Instant,
    lambda_request_id: &str,
) -> Value {
    if let Err(why) = crate::trust::check_response_url(&request.response_url) {
        tracing::error!(stack_id = %request.stack_id, why, "the ResponseURL is not CloudFormation's: not answered, nothing done");
        return json!({ "error": format!("the ResponseURL is refused: {why}") });
    }
    let span = tracing::info_span!(
        "request",
        lambda_request_id = %lambda_request_id,
        cfn_request_id = %request.request_id,
        request_type = %request.request_type,
        logical_resource_id = %request.logical_resource_id,
    );
    async move {
        let fallback = request.fallback_id.clone();
        let own = crate::trust::own_stack_id();
        if !request::is_own_stack(own.as_deref(), &request.stack_id) {
            tracing::error!(foreign_stack_id = %request.stack_id, "an event of another stack: answered FAILED, nothing done");
            let answer = Answer::failed(
                format!(
                    "this function serves stack {}, not {}; nothing was changed",
                    own.as_deref().map_or("?", request::stack_name),
                    request.stack_name()
                ),
                fallback,
            );
            return deliver(app, &request, answer, deadline).await;
        }
        let step = request::decide(&request, &app.region);
        let interrupted_id = step.interrupted_id(&fallback);
        let acts_with = step.acts_with().map(|(props, trigger)| (props.clone(), trigger));
        let started_at = Timestamp::at(std::time::SystemTime::now());
        let touched = Arc::new(AtomicBool::new(false));
        let mut work = tokio::spawn(work(
            app,
            step,
            request.stack_name().to_owned(),
            request.stack_id.clone(),
            request.request_id.clone(),
            deadline,
            touched.clone(),
        ));
        let guard_at = deadline.checked_sub(GUARD_MARGIN).unwrap_or(deadline);
        let (answer, cut_short) = tokio::select! {
            joined = &mut work => match joined {
                Ok(answer) => (answer, false),
                Err(e) if e.is_panic() => {
                    let message = panic_message(e.into_panic());
                    tracing::error!(panic = %message, "the handler panicked");
                    // Like the deadline guard: once the run may have changed the
                    // scope, the real id, so the rollback Delete finds its record.
                    let id = if touched.load(Ordering::SeqCst) { interrupted_id } else { fallback };
                    (Answer::failed(format!("internal error: syncscope panicked ({message}); nothing more was changed, the next run converges"), id), true)
                }
                Err(e) => (Answer::failed(format!("internal error: {e}"), fallback), true),
            },
            () = tokio::time::sleep_until(guard_at) => {
                work.abort();
                tracing::error!("no result before the deadline guard; answering FAILED");
                (Answer::failed(
                    "timed out: syncscope had no result a few seconds before the Lambda deadline (a backend did not answer in time); changes that were made stay, the next run converges",
                    interrupted_id,
                ), true)
            }
        };
        let reason = cut_short.then(|| answer.reason.clone());
        let delivered = deliver(app, &request, answer, deadline).await;
        // A run cut short never reached its report: its card goes out now, after
        // CloudFormation has its answer.
        if let (Some(reason), Some((props, trigger))) = (reason, acts_with) {
            let mut outcome =
                rules::blank(&props, trigger, request.stack_name(), started_at, Verdict::Failed);
            outcome.failure = Some(reason);
            let end = deadline.checked_sub(CARD_MARGIN).unwrap_or(deadline);
            report::cut_short(app, &props, outcome, end).await;
        }
        delivered
    }
    .instrument(span)
    .await
}

/// PUTs an answer to the request's ResponseURL; returns what the invocation returns.
async fn deliver(app: &App, request: &Request, answer: Answer, deadline: Instant) -> Value {
    let body = ResponseBody {
        status: answer.status,
        reason: answer.reason,
        physical_resource_id: answer.physical_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        no_echo: false,
        data: answer.data,
    };
    let status = body.status;
    let responder = Responder::new(&app.http, request.response_url.clone());
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

/// Carries out a request's [`Step`]; returns what to answer.
async fn work(
    app: &'static App,
    step: Step,
    stack: String,
    stack_id: String,
    request_id: String,
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
    if crate::faults::injected("hang") {
        std::future::pending::<()>().await;
    }
    let deadlines = deadlines(deadline);
    match step {
        Step::Fail { reason, id } => Answer::failed(reason, id),
        Step::SettingsOnly { properties, id } => {
            settings_only(app, properties.as_deref(), id, stack, deadlines).await
        }
        Step::DeleteUntouched { why, id } => {
            tracing::info!(why, "delete leaves the scope untouched");
            Answer::success(
                format!("deleted; the sync scope was not touched: {why}"),
                id,
                BTreeMap::new(),
            )
        }
        Step::Delete {
            properties,
            key,
            id,
        } => {
            let run = Run {
                props: &properties,
                trigger: Trigger::Delete,
                stack,
                stack_id: Some(stack_id),
                legacy_ledger: true,
                deadlines,
                previous_config: None,
                request_id: Some(request_id),
                touched,
            };
            let outcome = match properties.on_delete {
                OnDelete::Retain => reconcile::release(app, &run, &key).await,
                OnDelete::Remove => reconcile::teardown(app, &run, &key).await,
            };
            finish(app, Some(&properties), outcome, id.clone(), id, deadlines).await
        }
        Step::Reconcile(step) => {
            let run = Run {
                props: &step.properties,
                trigger: step.trigger,
                stack,
                stack_id: Some(stack_id),
                legacy_ledger: step.legacy_ledger,
                deadlines,
                previous_config: step.previous_config.clone(),
                request_id: Some(request_id),
                touched,
            };
            let mut outcome = reconcile::reconcile(app, &run).await;
            if let Some(abandoned) = &step.abandoned {
                outcome = outcome.with_findings(undo_replacement(app, &run, abandoned).await);
            }
            let failed_id = step.failed_id(outcome.may_have_changed_scope());
            finish(
                app,
                Some(&step.properties),
                outcome,
                step.id.clone(),
                failed_id,
                deadlines,
            )
            .await
        }
    }
}

/// Cleans up what a failed replacement left behind ([`request::abandoned_replacement`]):
/// what it may have created there is removed or kept as its `OnDelete` says, like a
/// Delete would.
async fn undo_replacement(
    app: &App,
    run: &Run<'_>,
    abandoned: &request::Abandoned,
) -> syncscope_core::outcome::Findings {
    let undo = Run {
        props: &abandoned.properties,
        trigger: Trigger::Delete,
        stack: run.stack.clone(),
        stack_id: run.stack_id.clone(),
        legacy_ledger: false,
        deadlines: run.deadlines,
        previous_config: None,
        request_id: run.request_id.clone(),
        touched: run.touched,
    };
    let undone = match abandoned.properties.on_delete {
        OnDelete::Retain => reconcile::release(app, &undo, &abandoned.key).await,
        OnDelete::Remove => reconcile::teardown(app, &undo, &abandoned.key).await,
    };
    tracing::info!(profile = %abandoned.key, summary = %undone.summary(), "abandoned replacement cleaned up");
    abandoned.findings(&undone)
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
    props: Option<&Properties>,
    id: String,
    stack: String,
    deadlines: Deadlines,
) -> Answer {
    let note = "Update changed only the function's settings (ServiceToken/ServiceTimeout); the sync scope was not touched";
    tracing::info!(note, "settings-only update");
    let Some(props) = props else {
        return Answer::success(note, id, BTreeMap::new());
    };
    let touched = AtomicBool::new(false);
    let run = Run {
        props,
        trigger: Trigger::Update,
        stack,
        stack_id: None,
        legacy_ledger: false,
        deadlines,
        previous_config: None,
        request_id: None,
        touched: &touched,
    };
    let outcome = reconcile::untouched(&run, note.to_owned());
    finish(app, Some(props), outcome, id.clone(), id, deadlines).await
}

/// The handler for a function that could not start: answers every request FAILED.
pub async fn handle_init_failure(
    http: &'static reqwest::Client,
    reason: &'static str,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let deadline = lambda_deadline(event.context.deadline);
    let Event::Request(request) = Event::parse(event.payload) else {
        return Ok(json!({ "error": reason }));
    };
    if crate::trust::check_response_url(&request.response_url).is_err() {
        return Ok(json!({ "error": reason }));
    }
    let body = ResponseBody {
        status: Status::Failed,
        reason: format!("syncscope could not start: {reason}"),
        physical_resource_id: request.fallback_id,
        stack_id: request.stack_id,
        request_id: request.request_id,
        logical_resource_id: request.logical_resource_id,
        no_echo: false,
        data: BTreeMap::new(),
    };
    let delivered = Responder::new(http, request.response_url)
        .send(body, deadline)
        .await;
    Ok(json!({ "Status": "FAILED", "Delivered": delivered.is_ok() }))
}
