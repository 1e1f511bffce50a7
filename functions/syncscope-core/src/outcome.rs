//! The outcome of a run: what was planned, what happened to each change, what the
//! scope holds afterwards, and what went wrong. Docs, Teams cards and the
//! CloudFormation response are all rendered from this one value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::names::{DomainName, SyncProfileName};
use crate::plan::{Action, Mode, Op, Plan};
use crate::scope::CurrentFilter;
use crate::timestamp::Timestamp;

/// Why a change that never started did not happen.
pub const NOT_STARTED: &str = "not started before the deadline";
/// Why a removal was held back.
pub const HELD_BACK: &str = "held back: a create of this run did not succeed, and no access is taken away before its replacement is granted";

/// How one change ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChangeStatus {
    /// The call succeeded.
    Applied,
    /// The API said it was already so (exists on create, gone on delete).
    AlreadyDone,
    /// The call failed for good.
    Failed {
        /// Why, in a sentence.
        reason: String,
        /// The call may still have taken effect: no listing since could tell.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_doubt: bool,
    },
    /// Not started: the deadline was too close.
    Pending,
    /// A removal not started because a create of the same run did not succeed.
    HeldBack,
}

/// One change and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeResult {
    /// The planned change.
    pub action: Action,
    /// How it ended.
    #[serde(flatten)]
    pub status: ChangeStatus,
}

impl ChangeResult {
    /// Whether the scope now reflects the change.
    pub fn succeeded(&self) -> bool {
        matches!(
            self.status,
            ChangeStatus::Applied | ChangeStatus::AlreadyDone
        )
    }

    /// Whether the change may have altered the scope (it succeeded, or it failed in
    /// a way no listing could rule out).
    pub fn may_have_changed(&self) -> bool {
        self.succeeded() || matches!(self.status, ChangeStatus::Failed { in_doubt: true, .. })
    }

    /// What became of the change, for the ledger.
    pub fn fate(&self) -> crate::plan::Fate {
        use crate::plan::Fate;
        match self.status {
            ChangeStatus::Applied | ChangeStatus::AlreadyDone => Fate::Done,
            ChangeStatus::Failed { in_doubt: true, .. } => Fate::InDoubt,
            ChangeStatus::Failed { .. } | ChangeStatus::Pending | ChangeStatus::HeldBack => {
                Fate::NotDone
            }
        }
    }

    /// Why the change did not happen (None when it did).
    pub fn why_not(&self) -> Option<&str> {
        match &self.status {
            ChangeStatus::Applied | ChangeStatus::AlreadyDone => None,
            ChangeStatus::Failed { reason, .. } => Some(reason),
            ChangeStatus::Pending => Some(NOT_STARTED),
            ChangeStatus::HeldBack => Some(HELD_BACK),
        }
    }
}

/// What started the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// CloudFormation created the custom resource.
    Create,
    /// CloudFormation updated it (a config change, or a rollback).
    Update,
    /// CloudFormation deleted it.
    Delete,
    /// The drift schedule (report only).
    Drift,
}

impl Trigger {
    /// The word for titles.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Delete => "Delete",
            Self::Drift => "Drift check",
        }
    }
}

/// The verdict of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every change applied.
    Changed,
    /// Nothing to change (or nothing was touched on purpose).
    NoChange,
    /// Some changes applied, some failed or never started.
    PartialFailure,
    /// The run failed before changing anything (or the guard refused the plan).
    Failed,
}

impl Verdict {
    /// Whether CloudFormation gets SUCCESS.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Changed | Self::NoChange)
    }

    /// Words for titles.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Changed => "changes applied",
            Self::NoChange => "no change",
            Self::PartialFailure => "partial failure",
            Self::Failed => "failed",
        }
    }
}

/// Everything a run did and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// What started the run.
    pub trigger: Trigger,
    /// The verdict.
    pub verdict: Verdict,
    /// True when nothing was meant to change.
    pub dry_run: bool,
    /// The deployment stage.
    pub stage: String,
    /// The stack (or a label for local and CLI runs).
    pub stack: String,
    /// The sync profile.
    pub profile: SyncProfileName,
    /// The AD domain.
    pub domain: DomainName,
    /// The ownership mode.
    pub mode: Mode,
    /// When the run started.
    pub started_at: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The plan, if the run got that far.
    pub plan: Option<Plan>,
    /// One result per change that was attempted or pending.
    pub results: Vec<ChangeResult>,
    /// The scope as listed after the apply (verification), if listed.
    pub scope_after: Option<Vec<CurrentFilter>>,
    /// The run-level failure, if any (guard, read error, timeout...).
    pub failure: Option<String>,
    /// Things that did not fail the run but deserve a look.
    pub warnings: Vec<String>,
    /// Where the documentation is published (the card's button).
    pub docs_url: Option<String>,
    /// API calls per operation (first attempts).
    pub calls: BTreeMap<String, u64>,
    /// Retries per operation.
    pub retries: BTreeMap<String, u64>,
    /// A note for runs that touched nothing on purpose (e.g. a settings-only update).
    pub note: Option<String>,
    /// Who loses and who keeps AWS access with the plan (None: not assessed, e.g. a
    /// plan that removes and adds no group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::impact::Impact>,
    /// The directory check: whether each wanted name exists in AD (None: not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<crate::directory::DirectoryReport>,
}

/// What was learnt about a run after its outcome was built: by reporting (the
/// identity store, S3, Teams) or by the handler's clean-up of an abandoned
/// replacement. Added to an outcome only by [`Outcome::with_findings`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Warnings, in the order they arose.
    pub warnings: Vec<String>,
    /// Where the documentation was published (the card's button), if it was.
    pub docs_url: Option<String>,
}

impl Findings {
    /// Findings that are only warnings.
    pub fn warnings(warnings: impl IntoIterator<Item = String>) -> Self {
        Self {
            warnings: warnings.into_iter().collect(),
            docs_url: None,
        }
    }
}

impl Outcome {
    /// The outcome with what was learnt after it was built: the one way to add to an
    /// outcome (warnings are appended; a docs URL is kept when the outcome has none).
    #[must_use]
    pub fn with_findings(mut self, findings: Findings) -> Self {
        self.warnings.extend(findings.warnings);
        if self.docs_url.is_none() {
            self.docs_url = findings.docs_url;
        }
        self
    }

    fn names(&self, op: Op, done: bool) -> Vec<&Action> {
        self.results
            .iter()
            .filter(|r| r.action.op == op && r.succeeded() == done)
            .map(|r| &r.action)
            .collect()
    }

    /// Filters created by this run (planned ones too, in a dry run).
    pub fn created(&self) -> Vec<&Action> {
        self.changed(Op::Create)
    }

    /// Filters removed by this run (planned ones too, in a dry run).
    pub fn removed(&self) -> Vec<&Action> {
        self.changed(Op::Remove)
    }

    fn changed(&self, op: Op) -> Vec<&Action> {
        if self.dry_run {
            return self.plan.iter().flat_map(|p| p.with_op(op)).collect();
        }
        self.names(op, true)
    }

    /// Filters adopted (existing, now managed).
    pub fn adopted(&self) -> Vec<&Action> {
        self.plan
            .iter()
            .flat_map(|p| p.with_op(Op::Adopt))
            .collect()
    }

    /// Filters in the scope this config does not manage.
    pub fn unmanaged(&self) -> Vec<&Action> {
        self.plan
            .iter()
            .flat_map(|p| p.with_op(Op::Unmanaged))
            .collect()
    }

    /// Filters this config no longer wants, left in the scope because other live
    /// stacks of the sync profile list them.
    pub fn shared(&self) -> Vec<&Action> {
        self.plan
            .iter()
            .flat_map(|p| p.with_op(Op::Shared))
            .collect()
    }

    /// Changes that failed, with their reasons.
    pub fn failed(&self) -> Vec<(&Action, &str)> {
        self.results
            .iter()
            .filter_map(|r| match &r.status {
                ChangeStatus::Failed { reason, .. } => Some((&r.action, reason.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Changes that never started (the deadline, or held back).
    pub fn pending(&self) -> Vec<&Action> {
        self.results
            .iter()
            .filter(|r| matches!(r.status, ChangeStatus::Pending | ChangeStatus::HeldBack))
            .map(|r| &r.action)
            .collect()
    }

    /// Changes that did not happen, with why: the failed ones, then those that never
    /// started ([`NOT_STARTED`], [`HELD_BACK`]).
    pub fn not_done(&self) -> Vec<(&Action, String)> {
        let failed = self
            .results
            .iter()
            .filter(|r| matches!(r.status, ChangeStatus::Failed { .. }));
        let not_started = self
            .results
            .iter()
            .filter(|r| matches!(r.status, ChangeStatus::Pending | ChangeStatus::HeldBack));
        failed
            .chain(not_started)
            .filter_map(|r| Some((&r.action, r.why_not()?.to_owned())))
            .collect()
    }

    /// Whether this run may have changed the scope (a change succeeded, or failed in
    /// doubt). A failed Create that changed nothing answers the failed-create id.
    pub fn may_have_changed_scope(&self) -> bool {
        !self.dry_run && self.results.iter().any(ChangeResult::may_have_changed)
    }

    /// One sentence saying what happened; the CloudFormation Reason on failure.
    pub fn summary(&self) -> String {
        let prefix = if self.dry_run { "DRY RUN: " } else { "" };
        let mut counts = format!(
            "{} created, {} removed, {} adopted, {} unmanaged left alone",
            self.created().len(),
            self.removed().len(),
            self.adopted().len(),
            self.unmanaged().len()
        );
        let shared = self.shared();
        if !shared.is_empty() {
            counts.push_str(&format!(
                ", {} left for other stacks that list them ({})",
                shared.len(),
                crate::plan::wanted_by_list(&shared, 3)
            ));
        }
        match self.verdict {
            Verdict::Failed => format!(
                "{prefix}sync scope of {} not reconciled: {}",
                self.profile,
                self.failure.as_deref().unwrap_or("unknown error")
            ),
            Verdict::PartialFailure => {
                let failed: Vec<String> = self
                    .not_done()
                    .iter()
                    .map(|(a, why)| format!("{} {} {:?} ({why})", a.op.as_str(), a.kind, a.name))
                    .collect();
                format!(
                    "{prefix}sync scope of {} partly reconciled ({counts}); {} change(s) did not apply, the next run retries them: {}",
                    self.profile,
                    failed.len(),
                    failed.join("; ")
                )
            }
            Verdict::NoChange if self.note.is_some() => {
                format!("{prefix}{}", self.note.as_deref().unwrap_or_default())
            }
            Verdict::NoChange => format!(
                "{prefix}sync scope of {} already matches the config ({counts})",
                self.profile
            ),
            Verdict::Changed => format!(
                "{prefix}sync scope of {} reconciled: {counts}",
                self.profile
            ),
        }
    }

    /// The CloudFormation `Data` map (readable with `Fn::GetAtt`).
    pub fn cfn_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            data.insert(k.to_owned(), v);
        };
        put("Outcome", format!("{:?}", self.verdict));
        put("Created", self.created().len().to_string());
        put("Removed", self.removed().len().to_string());
        put("Adopted", self.adopted().len().to_string());
        put("Unmanaged", self.unmanaged().len().to_string());
        put(
            "Failed",
            (self.failed().len() + self.pending().len()).to_string(),
        );
        put("DryRun", self.dry_run.to_string());
        if let Some(scope) = &self.scope_after {
            put("ScopeSize", scope.len().to_string());
        }
        if let Some(url) = &self.docs_url {
            put("DocsUrl", url.clone());
        }
        let names = |actions: Vec<&Action>| {
            actions
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        put("CreatedNames", names(self.created()));
        put("RemovedNames", names(self.removed()));
        put("UnmanagedNames", names(self.unmanaged()));
        if !self.warnings.is_empty() {
            put("Warnings", self.warnings.join(" | "));
        }
        data
    }
}
