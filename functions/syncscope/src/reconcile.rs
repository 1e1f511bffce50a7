//! The orchestration of one run: load, list, plan, guard, apply, verify, record,
//! report. Every read failure fails closed: nothing is changed, and the outcome
//! says what could not be read.

use std::collections::HashSet;

use syncscope_core::cfn::Properties;
use syncscope_core::outcome::{ChangeResult, Outcome, Trigger, Verdict};
use syncscope_core::plan::{self, Op, Plan};
use syncscope_core::scope::{CurrentFilter, Ledger};
use syncscope_core::store;
use tokio::time::Instant;

use crate::app::App;
use crate::identity_sync::{ExecOptions, IdentitySyncClient, executor};

/// The instants a run must respect, derived from the Lambda deadline.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// No API call outlives this; no change starts too close to it.
    pub apply_end: Instant,
    /// Verification, the ledger and reporting finish by this.
    pub work_end: Instant,
}

/// One run's inputs.
#[derive(Debug)]
pub struct Run<'a> {
    /// The validated resource properties.
    pub props: &'a Properties,
    /// What started the run.
    pub trigger: Trigger,
    /// The stack name (or a label).
    pub stack: String,
    /// Time limits.
    pub deadlines: Deadlines,
}

impl Run<'_> {
    /// The region of IAM Identity Center for this run.
    pub fn region<'b>(&'b self, app: &'b App) -> &'b str {
        self.props
            .region
            .as_ref()
            .map_or(app.region.as_str(), |r| r.as_str())
    }
}

/// An outcome with the run's identity filled in and nothing done yet.
pub fn blank(run: &Run<'_>, verdict: Verdict) -> Outcome {
    Outcome {
        trigger: run.trigger,
        verdict,
        dry_run: run.props.dry_run,
        stage: run.props.stage.clone(),
        stack: run.stack.clone(),
        profile: run.props.sync_profile.to_string(),
        domain: run.props.domain.to_string(),
        mode: run.props.mode,
        started_at: now_rfc3339(),
        duration_ms: 0,
        plan: None,
        results: Vec::new(),
        scope_after: None,
        failure: None,
        warnings: Vec::new(),
        docs_url: None,
        calls: Default::default(),
        retries: Default::default(),
        note: None,
    }
}

/// The current time as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn fail(mut outcome: Outcome, reason: String) -> Outcome {
    tracing::error!(reason = %reason, "run failed");
    outcome.verdict = Verdict::Failed;
    outcome.failure = Some(reason);
    outcome
}

/// Reconciles the scope to the filters in SSM (Create, Update, drift runs).
pub async fn reconcile(app: &App, run: &Run<'_>) -> Outcome {
    let started = Instant::now();
    let mut outcome = reconcile_inner(app, run).await;
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

async fn reconcile_inner(app: &App, run: &Run<'_>) -> Outcome {
    let props = run.props;
    let outcome = blank(run, Verdict::NoChange);
    let client = match app.identity_sync_in(run.region(app)) {
        Ok(client) => client,
        Err(e) => return fail(outcome, format!("cannot reach identity-sync: {e}")),
    };

    // 1. The desired filters, exactly as deployed.
    let stored = match app.ssm.read_list(&props.filters_parameter).await {
        Ok(stored) => stored,
        Err(e) => return fail(outcome, format!("could not read the filters: {e}")),
    };
    if let Some(expected) = &props.filters_hash {
        if *expected != stored.hash {
            return fail(
                outcome,
                format!(
                    "the filters under {} (hash {}) are not the ones this deployment wrote (hash {}); deploy again",
                    props.filters_parameter,
                    store::short(&stored.hash),
                    store::short(expected)
                ),
            );
        }
    }
    let desired = match store::desired_from(&props.domain, &stored.entries) {
        Ok(desired) => desired,
        Err(problems) => {
            let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            let more = problems.len().saturating_sub(5);
            let tail = if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            };
            return fail(
                outcome,
                format!(
                    "invalid filters under {}: {}{tail}",
                    props.filters_parameter,
                    shown.join("; ")
                ),
            );
        }
    };

    // 2. The ledger and 3. the current scope.
    let (ledger, current) = match read_state(app, &client, run).await {
        Ok(state) => state,
        Err(reason) => return fail(outcome, reason),
    };

    // 4. Plan and guard.
    let plan = plan::plan(&desired, &current, &ledger.ledger, props.mode);
    apply_and_record(app, &client, run, outcome, plan, current, &ledger).await
}

/// The ledger of managed filters and the current scope, which every plan starts
/// from; either read failing stops the run (fail closed).
async fn read_state(
    app: &App,
    client: &IdentitySyncClient,
    run: &Run<'_>,
) -> Result<(crate::ssm::StoredLedger, Vec<CurrentFilter>), String> {
    let props = run.props;
    let ledger = app
        .ssm
        .read_ledger(&props.ledger_parameter)
        .await
        .map_err(|e| format!("could not read the ledger of managed filters: {e}"))?;
    let listing = client
        .list_filters(props.sync_profile.as_str(), run.deadlines.apply_end)
        .await
        .map_err(|e| listing_failed(&e, props))?;
    Ok((ledger, listing.filters))
}

/// Guard, apply, verify and record a plan (shared by reconcile and teardown).
async fn apply_and_record(
    app: &App,
    client: &IdentitySyncClient,
    run: &Run<'_>,
    mut outcome: Outcome,
    plan: Plan,
    before: Vec<CurrentFilter>,
    ledger: &crate::ssm::StoredLedger,
) -> Outcome {
    let props = run.props;
    tracing::info!(
        create = plan.counts().create,
        remove = plan.counts().remove,
        adopt = plan.counts().adopt,
        unmanaged = plan.counts().unmanaged,
        "planned"
    );
    // Deleting the stack with OnDelete remove is its own confirmation; a drift check
    // changes nothing, so the guard only warns there.
    let guarded = !matches!(run.trigger, Trigger::Delete | Trigger::Drift);
    if run.trigger == Trigger::Drift {
        if let Err(tripped) = plan.check_guard(&props.guard) {
            outcome
                .warnings
                .push(format!("a deployment now would be refused: {tripped}"));
        }
    }
    if guarded {
        if let Err(tripped) = plan.check_guard(&props.guard) {
            outcome.plan = Some(plan);
            outcome.scope_after = Some(before);
            return fail(outcome, tripped.to_string());
        }
    }
    if props.dry_run || run.trigger == Trigger::Drift {
        outcome.verdict = if plan.has_changes() {
            Verdict::Changed
        } else {
            Verdict::NoChange
        };
        outcome.plan = Some(plan);
        outcome.scope_after = Some(before);
        record_calls(&mut outcome, client);
        return outcome;
    }

    // 5. Apply.
    let applied = if plan.has_changes() {
        executor::apply(
            client,
            props.sync_profile.as_str(),
            &plan,
            ExecOptions {
                concurrency: app.settings.concurrency,
                deadline: run.deadlines.apply_end,
            },
        )
        .await
    } else {
        executor::Applied::default()
    };

    // 6. Verify by listing again (only when something changed).
    let after = if applied.results.iter().any(ChangeResult::succeeded) {
        match client
            .list_filters(props.sync_profile.as_str(), run.deadlines.work_end)
            .await
        {
            Ok(listing) => {
                outcome
                    .warnings
                    .extend(verify(&applied.results, &listing.filters));
                Some(listing.filters)
            }
            Err(e) => {
                outcome
                    .warnings
                    .push(format!("could not verify the scope after the changes: {e}"));
                None
            }
        }
    } else {
        Some(before)
    };

    // 7. Record ownership, only after an apply.
    let next = plan.ledger_after(&ledger.ledger, |action| applied.succeeded(action));
    if let Err(e) = write_ledger(app, props, &next, ledger.hash.as_deref()).await {
        outcome.warnings.push(format!(
            "could not record the managed filters in {}: {e}; the next run adopts them again",
            props.ledger_parameter
        ));
    }

    outcome.verdict = if !plan.has_changes() {
        Verdict::NoChange
    } else if applied.complete() {
        Verdict::Changed
    } else {
        Verdict::PartialFailure
    };
    outcome.plan = Some(plan);
    outcome.results = applied.results;
    outcome.scope_after = after;
    record_calls(&mut outcome, client);
    outcome
}

async fn write_ledger(
    app: &App,
    props: &Properties,
    next: &Ledger,
    previous: Option<&str>,
) -> Result<(), crate::ssm::SsmError> {
    if next.entries.is_empty() && previous.is_none() {
        return Ok(());
    }
    app.ssm
        .write_ledger(&props.ledger_parameter, next, previous)
        .await
        .map(drop)
}

/// The reason for a failed listing, with a hint when the profile does not exist.
fn listing_failed(error: &crate::identity_sync::IdentitySyncError, props: &Properties) -> String {
    let hint = match error {
        crate::identity_sync::IdentitySyncError::Service { status: 404, .. } => format!(
            "; does the sync profile {} exist? `./task bootstrap` creates it (see docs/deployment.md)",
            props.sync_profile
        ),
        _ => String::new(),
    };
    format!("could not list the current sync scope: {error}{hint}")
}

fn record_calls(outcome: &mut Outcome, client: &IdentitySyncClient) {
    let stats = client.stats();
    outcome.calls = stats
        .calls
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    outcome.retries = stats
        .retries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
}

/// Warnings for changes the second listing contradicts.
fn verify(results: &[ChangeResult], after: &[CurrentFilter]) -> Vec<String> {
    let present: HashSet<_> = after.iter().map(CurrentFilter::key).collect();
    let ids: HashSet<&str> = after.iter().map(|f| f.id.as_str()).collect();
    results
        .iter()
        .filter(|r| r.succeeded())
        .filter_map(|r| {
            let a = &r.action;
            match a.op {
                Op::Create if !present.contains(&a.key()) => Some(format!(
                    "verification: {} {:?} was created but is not listed",
                    a.kind, a.name
                )),
                Op::Remove if a.id.as_deref().is_some_and(|id| ids.contains(id)) => Some(format!(
                    "verification: {} {:?} was removed but is still listed",
                    a.kind, a.name
                )),
                _ => None,
            }
        })
        .collect()
}

/// Deleting the stack with `OnDelete: remove`: removes the filters the ledger owns.
pub async fn teardown(app: &App, run: &Run<'_>) -> Outcome {
    let started = Instant::now();
    let props = run.props;
    let mut outcome = blank(run, Verdict::NoChange);
    let client = match app.identity_sync_in(run.region(app)) {
        Ok(client) => client,
        Err(e) => return fail(outcome, format!("cannot reach identity-sync: {e}")),
    };
    let (ledger, current) = match read_state(app, &client, run).await {
        Ok(state) => state,
        Err(reason) => return fail(outcome, reason),
    };
    let plan = plan::teardown(&props.domain, &current, &ledger.ledger);
    outcome = apply_and_record(app, &client, run, outcome, plan, current, &ledger).await;
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}
