//! The orchestration of one run: load, list, plan, guard, record the intent, apply,
//! settle what is in doubt, record ownership; the directory check runs beside it from
//! the start and gates the changes only under `require`. Every read failure fails
//! closed: nothing is changed, and the outcome says what could not be read. Reporting
//! the outcome (docs, Teams, logs) is [`crate::report`]'s job.
//!
//! Ownership is per resource: the filters one stack (StackId) put in one sync profile
//! in one region ([`crate::ssm`]). A create is recorded as pending before it is sent
//! and confirmed after, so a run that dies in between leaves its intent behind, and
//! the next run (or the Delete of a rollback) finds what it may have created.
//!
//! Several stacks may reconcile one profile: every run reads the other stacks'
//! records, asks CloudFormation whether those stacks still exist ([`crate::stacks`]),
//! and never removes a name a live one lists (the plan's [`Op::Shared`]). A record of
//! a stack that no longer exists counts for nothing and is removed by the run; a
//! stack that cannot be looked up counts as alive.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};

use syncscope_core::directory::{self, DirectoryCheck, DirectoryReport};
use syncscope_core::impact::{Impact, Needs};
use syncscope_core::outcome::{Outcome, Trigger, Verdict};
use syncscope_core::plan::{self, Fate, Op, Plan};
use syncscope_core::properties::Properties;
use syncscope_core::rules::{self, Gate};
use syncscope_core::scope::{CoOwners, CurrentFilter, Keyed, Owner, ProfileKey, ScopeKey};
use syncscope_core::store;
use syncscope_core::timestamp::Timestamp;
use tokio::time::Instant;

use crate::app::App;
use crate::engine::{Engine, ScopeError};
use crate::executor::{self, ExecOptions};
use crate::parent_group::ParentGroup;
use crate::ssm::{CoRecord, Found, RecordAt, StoredLedger};
use crate::stacks::OtherStacks;

/// The instants a run must respect, derived from the Lambda deadline.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// No API call outlives this; no change starts too close to it.
    pub apply_end: Instant,
    /// Verification, the ledger and reporting finish by this.
    pub work_end: Instant,
}

impl Deadlines {
    /// The instant after `share` of the time left before `apply_end`: what a read
    /// before the changes (the impact, the directory check) may take.
    pub fn share_of_apply(&self, share: f64) -> Instant {
        let now = Instant::now();
        now + self.apply_end.saturating_duration_since(now).mul_f64(share)
    }
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
    /// The StackId, which owns the records this run writes (None: a report-only run
    /// that does not know it; it reads any record and writes none).
    pub stack_id: Option<String>,
    /// Whether the per-stack ledger of syncscope 0.1 belongs to this run's resource
    /// (it was written by the last resource that ran: on an Update that replaces the
    /// resource, that is the old one, not this).
    pub legacy_ledger: bool,
    /// Time limits.
    pub deadlines: Deadlines,
    /// The short hash of the filters of an Update's old properties: the config the
    /// stack had before this run, as CloudFormation says.
    pub previous_config: Option<String>,
    /// CloudFormation's RequestId (None: a drift run): a redelivered request carries
    /// the same, so the parent-group engine's changes carry the same tokens.
    pub request_id: Option<String>,
    /// Set once the run may have changed the scope (its intent is recorded and its
    /// first create is about to be sent): a panic after that answers the real id.
    pub touched: &'a AtomicBool,
}

impl Run<'_> {
    /// The resource this run's properties name: their sync profile in their region.
    pub fn key(&self, app: &App) -> ProfileKey {
        syncscope_core::request::profile_key(self.props, &app.region)
    }
}

/// The outcome of a run that touches nothing on purpose (e.g. an Update of the
/// function's settings only), saying why.
pub fn untouched(run: &Run<'_>, note: String) -> Outcome {
    Outcome {
        note: Some(note),
        ..blank(run, Verdict::NoChange)
    }
}

/// An outcome with the run's identity filled in and nothing done yet
/// ([`rules::blank`]).
fn blank(run: &Run<'_>, verdict: Verdict) -> Outcome {
    rules::blank(
        run.props,
        run.trigger,
        &run.stack,
        Timestamp::at(std::time::SystemTime::now()),
        verdict,
    )
}

fn fail(mut outcome: Outcome, reason: String) -> Outcome {
    tracing::error!(reason = %reason, "run failed");
    outcome.verdict = Verdict::Failed;
    outcome.failure = Some(reason);
    outcome
}

/// Everything one run's steps need: the clients, the run, the resource.
struct Cx<'a> {
    app: &'a App,
    /// What changes the resource's scope, counting this run's calls.
    engine: &'a Engine,
    run: &'a Run<'a>,
    /// The resource: the sync profile and region the run acts on.
    key: &'a ProfileKey,
}

/// What a run does to a resource's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    /// Make it match the filters in SSM.
    Reconcile,
    /// Remove what the resource's record holds (a Delete with `OnDelete: remove`).
    Teardown,
}

/// Does `job` on `key`'s scope with a client of its own (one run's calls), timed.
async fn timed(app: &App, run: &Run<'_>, key: &ProfileKey, job: Job) -> Outcome {
    let started = Instant::now();
    let mut outcome = match engine(app, run, key) {
        Ok(engine) => {
            let cx = Cx {
                app,
                engine: &engine,
                run,
                key,
            };
            match job {
                Job::Reconcile => reconcile_with(&cx).await,
                Job::Teardown => teardown_with(&cx).await,
            }
        }
        Err(e) => fail(blank(run, Verdict::NoChange), e),
    };
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

/// The engine of the run's properties, for the scope of `key`: identity-sync's
/// filters of the profile, or the parent group's members in its directory (the
/// properties' parser makes sure the group and the directory are set).
fn engine(app: &App, run: &Run<'_>, key: &ProfileKey) -> Result<Engine, String> {
    let props = run.props;
    match (props.engine, &props.parent_group, &props.directory_id) {
        (syncscope_core::choice::Engine::ParentGroup, Some(group), Some(directory)) => {
            // The parent group and directory are the properties', not the id's: the
            // Delete of a replaced resource may carry the new resource's properties
            // (another sync profile or region), whose parent group is not this one's.
            let named = run.key(app);
            if named != *key {
                return Err(format!(
                    "the properties of this request name {named}, not {key}: their parent group {group} in {directory} is not this resource's, so its members are left as they are (remove those its ownership record holds by hand)",
                    group = group.as_str(),
                    directory = directory.as_str()
                ));
            }
            let seed = run
                .request_id
                .clone()
                .unwrap_or_else(|| Timestamp::at(std::time::SystemTime::now()).to_string());
            Ok(Engine::ParentGroup(ParentGroup::new(
                &app.directory_in(key.region.as_str()),
                directory.as_str(),
                group.as_str(),
                props.domain.as_str(),
                seed,
            )))
        }
        _ => Ok(Engine::SyncFilters {
            client: app
                .identity_sync_in(key.region.as_str())
                .map_err(|e| format!("cannot reach identity-sync: {e}"))?,
            profile: key.profile.as_str().to_owned(),
        }),
    }
}

/// Reconciles the scope to the filters in SSM (Create, Update, drift runs).
pub async fn reconcile(app: &App, run: &Run<'_>) -> Outcome {
    timed(app, run, &run.key(app), Job::Reconcile).await
}

async fn reconcile_with(cx: &Cx<'_>) -> Outcome {
    let (app, run) = (cx.app, cx.run);
    let props = run.props;
    let outcome = blank(run, Verdict::NoChange);

    // 1. The desired filters, exactly as deployed.
    let stored = match app.ssm.read_list(props.filters_parameter.as_str()).await {
        Ok(stored) => stored,
        Err(e) => return fail(outcome, format!("could not read the filters: {e}")),
    };
    if let Err(reason) = rules::check_deployed(
        props.filters_parameter.as_str(),
        props.filters_hash.as_ref().map(|h| h.as_str()),
        &stored.hash,
    ) {
        return fail(outcome, reason.to_string());
    }
    let store::Stored {
        entries: stored,
        hash: filters_hash,
    } = stored;
    let desired = match store::desired_from(&props.domain, &stored) {
        Ok(desired) => desired,
        Err(problems) => {
            return fail(
                outcome,
                rules::invalid_filters(props.filters_parameter.as_str(), &problems),
            );
        }
    };
    // The entries as stored are not needed once validated (10,000 long descriptions
    // are megabytes).
    drop(stored);

    // The directory check needs only the names the config wants: it starts now,
    // beside the reads, and lives as long as the run needs it (a run that stops early
    // drops it).
    let names = props.directory_check.names(&desired);
    let (report, checked) = tokio::sync::oneshot::channel();
    let check = async move {
        let _ = report.send(check_directory(cx, names).await);
        std::future::pending::<Infallible>().await
    };
    let run = async move {
        // 2. The ownership records (this stack's and the others') and 3. the current
        // scope.
        let config = store::short(&filters_hash);
        let state = match read_state(cx, Some(config.clone())).await {
            Ok(state) => state,
            Err(reason) => return fail(outcome, reason),
        };
        // 4. Plan, check, guard and apply.
        let mut plan = plan::plan(
            &desired,
            &state.current,
            &state.ledger.ledger,
            props.mode,
            &state.others,
        );
        // The plan carries what the rest of the run needs of the desired filters.
        drop(desired);
        plan.mark_undo(&state.ledger.ledger, &config);
        let directory = async { checked.await.ok().flatten() };
        apply_and_record(cx, outcome, plan, state, directory).await
    };
    tokio::select! {
        outcome = run => outcome,
        never = check => match never {},
    }
}

/// What every plan starts from.
struct State {
    /// The resource's ownership record.
    ledger: StoredLedger,
    /// The scope as listed.
    current: Vec<CurrentFilter>,
    /// What the other live stacks of the profile list.
    others: CoOwners,
    /// Records of stacks that no longer exist, removed by a run that writes.
    dead: Vec<(CoRecord, String)>,
    /// The short hash of the filters this run applies (None: a Delete).
    config: Option<String>,
    /// Things to tell about the record (a record of an earlier stack, ...).
    warnings: Vec<String>,
}

/// The ownership record, the other stacks' records and the current scope; any read
/// failing stops the run (fail closed).
async fn read_state(cx: &Cx<'_>, config: Option<String>) -> Result<State, String> {
    let (run, key) = (cx.run, cx.key);
    let (ledger, others, listing) = tokio::join!(
        read_record(cx.app, run, key),
        read_others(cx),
        cx.engine.list(run.deadlines.apply_end)
    );
    let ledger =
        ledger.map_err(|e| format!("could not read the ledger of managed filters: {e}"))?;
    let OtherStacks {
        co: others,
        dead,
        mut warnings,
    } = others?;
    let listing = listing.map_err(|e| listing_failed(&e, cx))?;
    warnings.extend(listing.warnings);
    warnings.extend(record_warnings(&ledger));
    Ok(State {
        ledger,
        current: listing.filters,
        others,
        dead,
        config,
        warnings,
    })
}

/// The other stacks' records of the profile ([`crate::stacks::other_stacks`]).
async fn read_others(cx: &Cx<'_>) -> Result<OtherStacks, String> {
    let (app, run, key) = (cx.app, cx.run, cx.key);
    crate::stacks::other_stacks(
        &app.ssm,
        &app.stacks,
        run.props.owners_parameter.as_str(),
        key,
        &run.stack,
        run.deadlines.share_of_apply(0.25),
    )
    .await
    .map_err(|e| {
        format!(
            "could not read the other stacks' ownership records of {key} (nothing is removed without them): {e}"
        )
    })
}

/// Removes the records of stacks that no longer exist (a run that writes), saying so.
async fn clean_up_dead(app: &App, dead: &[(CoRecord, String)], outcome: &mut Outcome) {
    for (record, why) in dead {
        let stack_id = record.stack_id.as_deref().unwrap_or("?");
        match app.ssm.delete_ledger(&record.record).await {
            Ok(_) => outcome.warnings.push(format!(
                "removed the ownership record of stack {} ({stack_id}: {why}); its names no longer count as wanted",
                record.stack
            )),
            Err(e) => outcome.warnings.push(format!(
                "could not remove the ownership record of stack {} ({stack_id}: {why}): {e}; the next run tries again",
                record.stack
            )),
        }
    }
}

fn record_warnings(ledger: &StoredLedger) -> Vec<String> {
    match &ledger.found {
        Found::OtherStack(stack_id) => vec![format!(
            "{} holds the ownership record of an earlier stack with this name ({stack_id}); this stack does not claim its filters (they count as not managed unless the config adopts them), and replaces the record on its first change",
            ledger.path
        )],
        _ => Vec::new(),
    }
}

/// The ownership record of `key` as this run may claim it (its stack's; the legacy
/// ledger when this run's resource is the one it belongs to).
async fn read_record(
    app: &App,
    run: &Run<'_>,
    key: &ProfileKey,
) -> Result<StoredLedger, crate::ssm::SsmError> {
    let at = RecordAt {
        owners: run.props.owners_parameter.as_str(),
        ledger_base: run.props.ledger_parameter.as_str(),
        key,
        stack: &run.stack,
    };
    app.ssm
        .read_ledger(&at, run.stack_id.as_deref(), run.legacy_ledger)
        .await
}

/// The owner of the records a run writes (None: the run writes none).
fn owner(run: &Run<'_>, key: &ProfileKey) -> Option<Owner> {
    Some(Owner {
        stack_id: run.stack_id.clone()?,
        region: key.region.clone(),
        profile: key.profile.clone(),
    })
}

/// Assess the impact and take the directory check's report (`directory`, running
/// since the run began), then guard, record the intent, apply, settle and record a
/// plan (shared by reconcile and teardown). The check gates the changes only under
/// `require`; under `warn` it runs on beside them, so it never delays a change.
async fn apply_and_record(
    cx: &Cx<'_>,
    mut outcome: Outcome,
    plan: Plan,
    state: State,
    directory: impl Future<Output = Option<DirectoryReport>>,
) -> Outcome {
    let (mut outcome, directory) = if cx.run.props.directory_check == DirectoryCheck::Require {
        let (impact, directory) = tokio::join!(assess_impact(cx, &plan), directory);
        outcome.impact = impact;
        outcome.directory = directory;
        (guard_and_apply(cx, outcome, plan, state).await, None)
    } else {
        tokio::join!(
            async {
                outcome.impact = assess_impact(cx, &plan).await;
                guard_and_apply(cx, outcome, plan, state).await
            },
            directory
        )
    };
    if directory.is_some() {
        outcome.directory = directory;
    }
    if let Some(report) = &outcome.directory {
        outcome.warnings.extend(report.warnings());
    }
    outcome
}

/// Guard (the removal and people guards, and the directory check's verdict when it
/// gates), record the intent, apply, settle and record a plan.
async fn guard_and_apply(cx: &Cx<'_>, mut outcome: Outcome, plan: Plan, state: State) -> Outcome {
    let (app, engine, run, key) = (cx.app, cx.engine, cx.run, cx.key);
    let props = run.props;
    let State {
        ledger: stored,
        current: before,
        others: _,
        dead,
        config,
        warnings,
    } = state;
    outcome.warnings.extend(warnings);
    outcome.warnings.extend(rules::shared_warning(&plan));
    tracing::info!(
        create = plan.counts().create,
        remove = plan.counts().remove,
        adopt = plan.counts().adopt,
        unmanaged = plan.counts().unmanaged,
        "planned"
    );
    match rules::gate(
        run.trigger,
        &plan,
        &props.guard(),
        outcome.impact.as_ref(),
        props.directory_check,
        outcome.directory.as_ref(),
    ) {
        Gate::Open => {}
        Gate::Warned(refusal) => outcome.warnings.push(Gate::warning(&refusal)),
        Gate::Refused(refusal) => {
            outcome.plan = Some(plan);
            outcome.scope_after = Some(before);
            return fail(outcome, refusal.to_string());
        }
    }
    let Some(owner) = owner(run, key)
        .filter(|_| rules::writes(run.trigger, props.dry_run, run.stack_id.is_some()))
    else {
        outcome.verdict = rules::verdict(&plan, &[]);
        outcome.plan = Some(plan);
        outcome.scope_after = Some(before);
        record_calls(&mut outcome, engine);
        return outcome;
    };

    let configs = plan::Configs {
        now: config.as_deref(),
        before: run.previous_config.as_deref(),
    };
    // 5. Record the intent: what this run may create is known before it is sent.
    let mut recorded = stored.clone();
    if plan.with_op(Op::Create).next().is_some() {
        let intent = plan.ledger_intent(&stored.ledger, configs);
        match app.ssm.write_ledger(&owner, &intent, &recorded).await {
            Ok(now) => {
                recorded = now;
                run.touched.store(true, Ordering::SeqCst);
            }
            Err(e) => {
                outcome.plan = Some(plan);
                outcome.scope_after = Some(before);
                return fail(
                    outcome,
                    format!(
                        "could not record the intended changes in {} before making them, so nothing was changed: {e}",
                        stored.path
                    ),
                );
            }
        }
    }

    // 6. Apply: creates, then removals, each phase's failures settled from a listing
    // (the API's error codes are not documented, so the scope itself says whether a
    // failed call took effect).
    let applied = if plan.has_changes() {
        executor::apply(
            engine,
            &plan,
            ExecOptions {
                concurrency: app.settings.concurrency,
                deadline: run.deadlines.apply_end,
                settle_deadline: run.deadlines.work_end,
            },
        )
        .await
    } else {
        executor::Applied::default()
    };
    outcome.warnings.extend(applied.warnings);
    let listed_after = applied.listed_after;
    let applied = applied.results;
    let created_any = applied
        .iter()
        .any(|r| r.action.op == Op::Create && r.succeeded());
    if crate::faults::injected("panic-after-create") && created_any {
        panic!("test fault injected after the first create");
    }
    if crate::faults::injected("hang-after-create") && created_any {
        std::future::pending::<()>().await;
    }

    // 7. Record ownership: what the run did, against what it started from.
    let fates: HashMap<(Op, ScopeKey), Fate> = applied
        .iter()
        .map(|r| ((r.action.op, r.action.key()), r.fate()))
        .collect();
    let next = plan.ledger_after(&stored.ledger, configs, |action| {
        fates
            .get(&(action.op, action.key()))
            .copied()
            .unwrap_or(Fate::NotDone)
    });
    if let Err(e) = app.ssm.write_ledger(&owner, &next, &recorded).await {
        outcome.warnings.push(format!(
            "could not record the managed filters in {}: {e}; the record still holds what this run meant to do, and the next run settles it",
            stored.path
        ));
    }

    clean_up_dead(app, &dead, &mut outcome).await;

    outcome.verdict = rules::verdict(&plan, &applied);
    // The answers applied over the latest listing: a listing may lag behind the
    // writes just made, the answers do not.
    outcome.scope_after = Some(rules::scope_after(
        listed_after.as_deref().unwrap_or(&before),
        &applied,
    ));
    outcome.plan = Some(plan);
    outcome.results = applied;
    record_calls(&mut outcome, engine);
    outcome
}

/// Who loses and who keeps AWS access with the plan, from the identity store in the
/// resource's region, in at most a quarter of the time left before `apply_end`. None
/// when the plan removes nothing: the added groups' members are not read here (the
/// docs' group table shows them after the run), only `syncscope plan` shows them.
async fn assess_impact(cx: &Cx<'_>, plan: &Plan) -> Option<Impact> {
    let needs = Needs {
        added_groups: Vec::new(),
        ..Needs::of(plan)
    };
    if !needs.removes_anything() {
        return None;
    }
    let by = cx.run.deadlines.share_of_apply(0.25);
    let impact = cx
        .app
        .identity_store_in(cx.key.region.as_str())
        .impact(
            cx.run
                .props
                .identity_store_id
                .as_ref()
                .map(|id| id.as_str()),
            plan,
            &needs,
            cx.app.settings.concurrency,
            by,
        )
        .await;
    if let Some(why) = &impact.partial {
        tracing::warn!(why = %why, "the impact of the plan is partial");
    }
    Some(impact)
}

/// Whether each name the config wants (`names`) exists in Active Directory, in at most
/// a quarter of the time left before `apply_end` (None: no name to check: the check is
/// off, or the config wants none). The directory is `DirectoryId`, or the sync
/// profile's source.
async fn check_directory(cx: &Cx<'_>, names: Vec<directory::Wanted>) -> Option<DirectoryReport> {
    if names.is_empty() {
        return None;
    }
    let props = cx.run.props;
    let by = cx.run.deadlines.share_of_apply(0.25);
    let located = match (&props.directory_id, cx.engine.identity_sync()) {
        (Some(id), _) => Ok((id.as_str().to_owned(), cx.key.region.as_str().to_owned())),
        (None, Some(client)) => {
            crate::directory::locate(client, cx.key.profile.as_str(), None, by).await
        }
        (None, None) => Err("no directory id is set".to_owned()),
    };
    let (directory_id, region) = match located {
        Ok(found) => found,
        Err(why) => return Some(DirectoryReport::unlocated(&names, &why)),
    };
    Some(
        cx.app
            .directory_in(&region)
            .check(
                &directory_id,
                props.domain.as_str(),
                names,
                cx.app.settings.concurrency,
                by,
            )
            .await,
    )
}

/// The reason for a failed listing, with a hint when what holds the scope (the sync
/// profile, the parent group) does not exist.
fn listing_failed(error: &ScopeError, cx: &Cx<'_>) -> String {
    let hint = match (error.is_missing(), cx.engine) {
        (false, _) => String::new(),
        (true, Engine::SyncFilters { profile, .. }) => format!(
            "; does the sync profile {profile} exist? `./task bootstrap` creates it (see docs/deployment.md)"
        ),
        (true, Engine::ParentGroup(parent)) => format!(
            "; does the parent group {} exist? `syncscope bootstrap --engine parent-group` creates it (see docs/engines.md)",
            parent.group()
        ),
    };
    format!(
        "could not list the current sync scope: {}{hint}",
        error.reason()
    )
}

fn record_calls(outcome: &mut Outcome, engine: &Engine) {
    (outcome.calls, outcome.retries) = engine.calls();
}

/// Deleting a resource with `OnDelete: remove`: removes the filters its ownership
/// record (of `key`, the profile its id names) holds, then releases the record.
///
/// Idempotent: when the profile, the filters or the record are already gone, it
/// succeeds and says so. It fails only when a removal it should make did not happen
/// (the record keeps those, so the retry converges) or when it cannot tell (the
/// record or the scope cannot be read).
pub async fn teardown(app: &App, run: &Run<'_>, key: &ProfileKey) -> Outcome {
    timed(app, run, key, Job::Teardown).await
}

async fn teardown_with(cx: &Cx<'_>) -> Outcome {
    let (app, run, key) = (cx.app, cx.run, cx.key);
    let props = run.props;
    let mut outcome = blank(run, Verdict::NoChange);
    outcome.profile = key.profile.clone();
    let ledger = match read_record(app, run, key).await {
        Ok(ledger) => ledger,
        Err(e) => {
            return fail(
                outcome,
                format!("could not read the ledger of managed filters: {e}"),
            );
        }
    };
    if ledger.ledger.entries.is_empty() {
        outcome.warnings.extend(record_warnings(&ledger));
        outcome.note = Some(format!(
            "deleted; this stack has no filters recorded in {}, so the sync scope was not touched",
            key
        ));
        return outcome;
    }
    let (current, listed) = match cx.engine.list(run.deadlines.apply_end).await {
        Ok(listing) => (listing.filters, listing.warnings),
        Err(e) if e.is_missing() => {
            // Nothing left to remove: the profile (or parent group) is gone, and its
            // filters (or members) with it.
            release_quietly(app, &ledger, &mut outcome).await;
            outcome.note = Some(format!(
                "deleted; the {} no longer exists, so its {} recorded filter(s) are gone with it ({})",
                cx.engine.holder(),
                ledger.ledger.entries.len(),
                e.reason()
            ));
            return outcome;
        }
        Err(e) => return fail(outcome, listing_failed(&e, cx)),
    };
    let OtherStacks {
        co: others,
        dead,
        mut warnings,
    } = match read_others(cx).await {
        Ok(others) => others,
        Err(reason) => return fail(outcome, reason),
    };
    warnings.extend(listed);
    let recorded = ledger.ledger.entries.len();
    let plan = plan::teardown(&props.domain, &current, &ledger.ledger, &others);
    let state = State {
        ledger,
        current,
        others,
        dead,
        config: None,
        warnings,
    };
    // A Delete wants no name: the directory is not asked.
    let mut outcome = apply_and_record(cx, outcome, plan, state, std::future::ready(None)).await;
    if outcome.verdict == Verdict::NoChange && !outcome.dry_run {
        outcome.note = Some(rules::teardown_note(recorded, key, &outcome.shared()));
    }
    outcome
}

/// Deleting a resource with `OnDelete: retain`: the scope stays as it is and the
/// resource releases its ownership record, so no later stack of the same name claims
/// those filters. Releasing is best effort (a record names its StackId, so one left
/// behind is never claimed by another stack): a failure is a warning, not a FAILED
/// stack deletion.
pub async fn release(app: &App, run: &Run<'_>, key: &ProfileKey) -> Outcome {
    let mut outcome = blank(run, Verdict::NoChange);
    outcome.profile = key.profile.clone();
    match read_record(app, run, key).await {
        Ok(ledger) => {
            let count = ledger.ledger.entries.len();
            release_quietly(app, &ledger, &mut outcome).await;
            outcome.note = Some(format!(
                "stack deleted; OnDelete is retain, so the sync scope stays as it is ({count} filter(s) this stack managed in {key} are no longer managed by it)"
            ));
        }
        Err(e) => {
            outcome.warnings.push(format!(
                "could not read the ownership record to release it ({e}); it names this stack, so no other stack claims it"
            ));
            outcome.note = Some(
                "stack deleted; OnDelete is retain, so the sync scope stays as it is".to_owned(),
            );
        }
    }
    outcome
}

/// Deletes a record this stack owns; a failure becomes a warning.
async fn release_quietly(app: &App, ledger: &StoredLedger, outcome: &mut Outcome) {
    if !matches!(ledger.found, Found::Own | Found::Legacy) {
        return;
    }
    if let Err(e) = app.ssm.delete_ledger(ledger).await {
        outcome.warnings.push(format!(
            "could not delete the ownership record {} ({e}); it names this stack, so no other stack claims it",
            ledger.path
        ));
    }
}
