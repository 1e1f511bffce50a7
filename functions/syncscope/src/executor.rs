//! The executor: applies a plan's changes with bounded concurrency before a deadline,
//! and settles from a listing whatever answered an error.
//!
//! Two phases: creates, then removals (held back when a create did not succeed).
//! Exactly one call per change (retries are counted apart by the client). A 2xx answer
//! is trusted. Any other answer, an "already exists" or "not found" one included (this
//! API's error codes are not documented), is settled after its phase by one listing:
//! a create whose filter is listed, or a removal whose id is gone, took effect. A
//! listing that contradicts an "already so" answer may lag behind the write, so it is
//! taken again a few seconds later before it counts. Every change ends `Applied`,
//! `AlreadyDone`, `Failed` with a reason (in doubt when no listing could tell),
//! `Pending` when the deadline came before it could start, or `HeldBack`.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use syncscope_core::outcome::{ChangeResult, ChangeStatus};
use syncscope_core::plan::{Action, Op, Plan};
use syncscope_core::scope::{CurrentFilter, Keyed, ScopeKey};
use tokio::time::Instant;

use crate::engine::Engine;

/// How many changes run at once by default.
///
/// Measured with the emulator (`task bench`): 8 in flight saturates a server that
/// admits 8 concurrent requests without throttling, and is past the knee of the
/// speed-up curve at 50 ms latency. More only buys throttling on a real service.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The waits before a listing that contradicts an "already so" answer is taken again.
const LAG_WAITS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// Settings for one apply.
#[derive(Debug, Clone, Copy)]
pub struct ExecOptions {
    /// Changes in flight at most.
    pub concurrency: usize,
    /// No change starts once it could not finish before this instant.
    pub deadline: Instant,
    /// The listings that settle failed changes end by this instant (at or after
    /// `deadline`).
    pub settle_deadline: Instant,
}

impl ExecOptions {
    /// Changes and their settling both end by `deadline`.
    pub fn until(concurrency: usize, deadline: Instant) -> Self {
        Self {
            concurrency,
            deadline,
            settle_deadline: deadline,
        }
    }
}

/// The outcome of applying a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// One result per change, creates first, each group in plan order.
    pub results: Vec<ChangeResult>,
    /// The scope as the last settling listing showed it, when it came after every
    /// change (`None` when nothing needed settling: the answers say it all).
    #[serde(skip)]
    pub listed_after: Option<Vec<CurrentFilter>>,
    /// What the settling found worth saying: errors a listing overruled, a listing
    /// that failed.
    pub warnings: Vec<String>,
}

impl Applied {
    /// The changes that failed.
    pub fn failed(&self) -> impl Iterator<Item = &ChangeResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.status, ChangeStatus::Failed { .. }))
    }

    /// The changes that never started (out of time, or held back).
    pub fn pending(&self) -> impl Iterator<Item = &ChangeResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.status, ChangeStatus::Pending | ChangeStatus::HeldBack))
    }

    /// Whether every change succeeded.
    pub fn complete(&self) -> bool {
        self.results.iter().all(ChangeResult::succeeded)
    }
}

/// Applies the creates and removals of `plan` to `profile`, in two phases: every
/// create ends (success or failure, settled) before the first removal starts, so
/// access is granted before any is taken away. When a create did not succeed, the
/// removals are held back ([`ChangeStatus::HeldBack`]): a rename must not lose the
/// group's access because its new name could not be added. Within a phase, at most
/// `options.concurrency` calls run at once.
pub async fn apply(engine: &Engine, plan: &Plan, options: ExecOptions) -> Applied {
    let mut applied = Applied::default();
    let creates = run_phase(engine, plan.with_op(Op::Create), options).await;
    applied.settle(engine, creates, options).await;
    let removals = plan.with_op(Op::Remove);
    if applied.results.iter().all(ChangeResult::succeeded) {
        let removed = run_phase(engine, removals, options).await;
        applied.settle(engine, removed, options).await;
    } else {
        applied.results.extend(removals.map(|action| ChangeResult {
            action: action.clone(),
            status: ChangeStatus::HeldBack,
        }));
    }
    applied
}

/// A change's result, and whether its error said "already so" (exists on a create,
/// not found on a removal).
type Answered = (ChangeResult, bool);

impl Applied {
    /// Adds a phase's results, settling its failed changes from a listing first.
    async fn settle(&mut self, engine: &Engine, mut phase: Vec<Answered>, options: ExecOptions) {
        let failed = |r: &ChangeResult| matches!(r.status, ChangeStatus::Failed { .. });
        if phase.iter().any(|(r, _)| failed(r)) {
            let mut waits = LAG_WAITS.iter();
            loop {
                match engine.list(options.settle_deadline).await {
                    Ok(listing) => {
                        let listed = Listed::new(&listing.filters);
                        let lagging = phase
                            .iter()
                            .any(|(r, already)| *already && failed(r) && !listed.shows(&r.action));
                        if lagging
                            && let Some(wait) = waits.next()
                            && Instant::now() + *wait + engine.min_attempt_time()
                                < options.settle_deadline
                        {
                            tokio::time::sleep(*wait).await;
                            continue;
                        }
                        self.warnings.extend(settle(&mut phase, &listed));
                        self.listed_after = Some(listing.filters);
                    }
                    Err(e) => {
                        self.warnings.push(format!(
                            "could not list the scope after the failed changes ({}); they are recorded as in doubt and the next run settles them",
                            e.reason()
                        ));
                        self.listed_after = None;
                    }
                }
                break;
            }
        } else if !phase.is_empty() {
            // Changes made since the last listing: it no longer shows the scope.
            self.listed_after = None;
        }
        self.results.extend(phase.into_iter().map(|(r, _)| r));
    }
}

/// Runs one phase's changes with bounded concurrency; results in plan order.
async fn run_phase<'a>(
    engine: &Engine,
    actions: impl Iterator<Item = &'a Action>,
    options: ExecOptions,
) -> Vec<Answered> {
    // Collected first: a stream holding borrowed iterator adaptors across awaits is not
    // `Send` in a spawned task.
    let changes: Vec<(usize, Action)> = actions.cloned().enumerate().collect();
    let margin = engine.min_attempt_time();
    let mut results: Vec<(usize, Answered)> = futures_util::stream::iter(changes)
        .map(|(index, action)| async move {
            let (status, already) = if Instant::now() + margin > options.deadline {
                (ChangeStatus::Pending, false)
            } else {
                apply_one(engine, &action, options.deadline).await
            };
            (index, (ChangeResult { action, status }, already))
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn apply_one(engine: &Engine, action: &Action, deadline: Instant) -> (ChangeStatus, bool) {
    match engine.change(action, deadline).await {
        Ok(()) => (ChangeStatus::Applied, false),
        Err(e) if e.unsent() => (
            ChangeStatus::Failed {
                reason: e.reason(),
                in_doubt: false,
            },
            false,
        ),
        Err(e) => {
            let already = e.already_so(action.op);
            if !already {
                tracing::warn!(
                    op = action.op.as_str(),
                    kind = action.kind.as_str(),
                    name = %action.name,
                    error = %e,
                    "change failed"
                );
            }
            // Sent, and failed: whether it took effect is for a listing to tell.
            let status = ChangeStatus::Failed {
                reason: e.reason(),
                in_doubt: true,
            };
            (status, already)
        }
    }
}

/// A listing, indexed for "is this change done?".
struct Listed<'a> {
    present: HashSet<ScopeKey>,
    ids: HashSet<&'a str>,
}

impl<'a> Listed<'a> {
    fn new(filters: &'a [CurrentFilter]) -> Self {
        Self {
            present: filters.iter().map(CurrentFilter::key).collect(),
            ids: filters.iter().map(|f| f.id.as_str()).collect(),
        }
    }

    /// Whether the listing shows `action` done: its filter listed (create), its id
    /// gone (removal).
    fn shows(&self, action: &Action) -> bool {
        match action.op {
            Op::Create => self.present.contains(&action.key()),
            Op::Remove => action
                .id
                .as_deref()
                .is_some_and(|id| !self.ids.contains(id)),
            _ => false,
        }
    }
}

/// Decides each failed change of a phase from a listing taken after it: one that
/// took effect is `AlreadyDone` (silently when its error said so, with a warning
/// otherwise); the others surely did not (the raw error stays their reason). Returns
/// the warnings.
fn settle(phase: &mut [Answered], listed: &Listed<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    for (result, already) in phase.iter_mut() {
        let ChangeStatus::Failed { reason, .. } = &result.status else {
            continue;
        };
        let a = &result.action;
        let done = listed.shows(a);
        if done && !*already {
            warnings.push(format!(
                "{} {} {:?} answered an error ({reason}), but the scope listed afterwards shows it done",
                a.op.as_str(),
                a.kind,
                a.name
            ));
        }
        result.status = if done {
            ChangeStatus::AlreadyDone
        } else if *already {
            ChangeStatus::Failed {
                reason: format!("{reason}; but the scope listed afterwards does not show it done"),
                in_doubt: false,
            }
        } else {
            ChangeStatus::Failed {
                reason: reason.clone(),
                in_doubt: false,
            }
        };
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{action, listed};
    use syncscope_core::plan::Fate;

    fn failed(action: Action, reason: &str, already: bool) -> Answered {
        let status = ChangeStatus::Failed {
            reason: reason.into(),
            in_doubt: true,
        };
        (ChangeResult { action, status }, already)
    }

    #[test]
    fn a_listing_settles_failed_changes_either_way() {
        let fault = "InternalServerException";
        let mut phase = vec![
            failed(action(Op::Create, "Made-Anyway", None), fault, false),
            failed(action(Op::Create, "Never-Made", None), fault, false),
            failed(
                action(Op::Remove, "Gone-Anyway", Some("sf-1")),
                fault,
                false,
            ),
            failed(
                action(Op::Remove, "Still-There", Some("sf-2")),
                fault,
                false,
            ),
        ];
        let filters = listed(&[("sf-9", "made-anyway"), ("sf-2", "Still-There")]);
        let warnings = settle(&mut phase, &Listed::new(&filters));
        let fates: Vec<Fate> = phase.iter().map(|(r, _)| r.fate()).collect();
        assert_eq!(
            fates,
            [Fate::Done, Fate::NotDone, Fate::Done, Fate::NotDone]
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains(fault), "{warnings:?}");
    }

    #[test]
    fn an_already_so_answer_the_listing_confirms_is_done_without_a_warning() {
        let mut phase = vec![
            failed(
                action(Op::Create, "Exists", None),
                "ConflictException: exists",
                true,
            ),
            failed(
                action(Op::Remove, "Gone", Some("sf-1")),
                "ResourceNotFoundException",
                true,
            ),
            failed(
                action(Op::Create, "Claimed", None),
                "ConflictException: exists",
                true,
            ),
        ];
        let filters = listed(&[("sf-2", "EXISTS")]);
        let warnings = settle(&mut phase, &Listed::new(&filters));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(phase[0].0.status, ChangeStatus::AlreadyDone);
        assert_eq!(phase[1].0.status, ChangeStatus::AlreadyDone);
        // A 409 the listing does not bear out is a failure that names both.
        let reason = phase[2].0.why_not().unwrap_or_default();
        assert!(
            reason.contains("ConflictException") && reason.contains("does not show it"),
            "{reason}"
        );
    }
}
