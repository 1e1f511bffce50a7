//! The executor: applies a plan's changes with bounded concurrency before a deadline.
//!
//! Two phases: creates, then removals (held back when a create did not succeed).
//! Exactly one call per change (retries are counted apart by the client). Every change
//! ends `Applied`, `AlreadyDone`, `Failed` with a reason (in doubt: a listing decides
//! whether it took effect), `Pending` when the deadline came before it could start,
//! or `HeldBack`. Nothing is assumed: a re-run after any failure re-lists the scope
//! and converges.

use futures_util::StreamExt;
use serde::Serialize;
use syncscope_core::outcome::{ChangeResult, ChangeStatus};
use syncscope_core::plan::{Action, Op, Plan};
use tokio::time::Instant;

use super::client::IdentitySyncClient;

/// How many changes run at once by default.
///
/// Measured with the emulator (`task bench`): 8 in flight saturates a server that
/// admits 8 concurrent requests without throttling, and is past the knee of the
/// speed-up curve at 50 ms latency. More only buys throttling on a real service.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Settings for one apply.
#[derive(Debug, Clone, Copy)]
pub struct ExecOptions {
    /// Changes in flight at most.
    pub concurrency: usize,
    /// No change starts once it could not finish before this instant.
    pub deadline: Instant,
}

/// The outcome of applying a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// One result per change, creates first, each group in plan order.
    pub results: Vec<ChangeResult>,
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
/// create ends (success or failure) before the first removal starts, so access is
/// granted before any is taken away. When a create did not succeed, the removals
/// are held back ([`ChangeStatus::HeldBack`]): a rename must not lose the group's
/// access because its new name could not be added. Within a phase, at most
/// `options.concurrency` calls run at once.
pub async fn apply(
    client: &IdentitySyncClient,
    profile: &str,
    plan: &Plan,
    options: ExecOptions,
) -> Applied {
    let mut results = run_phase(client, profile, plan.with_op(Op::Create), options).await;
    let removals = plan.with_op(Op::Remove);
    if results.iter().all(ChangeResult::succeeded) {
        results.extend(run_phase(client, profile, removals, options).await);
    } else {
        results.extend(removals.map(|action| ChangeResult {
            action: action.clone(),
            status: ChangeStatus::HeldBack,
        }));
    }
    Applied { results }
}

/// Runs one phase's changes with bounded concurrency; results in plan order.
async fn run_phase<'a>(
    client: &IdentitySyncClient,
    profile: &str,
    actions: impl Iterator<Item = &'a Action>,
    options: ExecOptions,
) -> Vec<ChangeResult> {
    // Collected first: a stream holding borrowed iterator adaptors across awaits is not
    // `Send` in a spawned task.
    let changes: Vec<(usize, Action)> = actions.cloned().enumerate().collect();
    let margin = client.min_attempt_time();
    let mut results: Vec<(usize, ChangeResult)> = futures_util::stream::iter(changes)
        .map(|(index, action)| async move {
            let status = if Instant::now() + margin > options.deadline {
                ChangeStatus::Pending
            } else {
                apply_one(client, profile, &action, options.deadline).await
            };
            (index, ChangeResult { action, status })
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn apply_one(
    client: &IdentitySyncClient,
    profile: &str,
    action: &Action,
    deadline: Instant,
) -> ChangeStatus {
    let outcome = match action.op {
        Op::Create => client
            .create_filter(profile, action.kind, &action.domain, &action.name, deadline)
            .await
            .map(|id| id.is_some()),
        Op::Remove => {
            let Some(id) = action.id.as_deref() else {
                return ChangeStatus::Failed {
                    reason: "no filter id to delete".into(),
                    in_doubt: false,
                };
            };
            let label = format!("{} {}", action.kind, action.name);
            client.delete_filter(profile, id, &label, deadline).await
        }
        _ => return ChangeStatus::Applied,
    };
    match outcome {
        Ok(true) => ChangeStatus::Applied,
        Ok(false) => ChangeStatus::AlreadyDone,
        Err(e) => {
            tracing::warn!(
                op = action.op.as_str(),
                kind = action.kind.as_str(),
                name = %action.name,
                error = %e,
                "change failed"
            );
            // Sent, and failed: whether it took effect is for a listing to tell
            // (the error codes of this API are not documented).
            ChangeStatus::Failed {
                reason: e.reason(),
                in_doubt: true,
            }
        }
    }
}
