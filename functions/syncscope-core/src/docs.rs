//! The documentation of what is synced: one [`DocsView`] built from an [`Outcome`]
//! and what the identity store said about each group, rendered three ways from the
//! same data: a standalone page (`index.html`), an embeddable snippet
//! (`snippet.html`, a fragment for a wiki or portal: its `<style>` is the first child
//! of its `<section>`, and every selector names a `syncscope` class, so it styles
//! nothing else on the host page) and `groups.json`.
//!
//! The templates live in the workspace's `templates/docs/`. askama escapes every
//! value; no template marks data as safe. Names are wrapped in `<bdi>` so
//! right-to-left text cannot reorder the table around it.

use std::borrow::Cow;
use std::collections::HashMap;

use askama::Template;
use serde::Serialize;

use crate::access::{self, AccessMap, Finding, Grant, ScopeGroup, Strategy};
use crate::directory::{AdStatus, DirectoryReport};
use crate::names::{Caseless, DisplayName, NameMap, display_name, name_key};
use crate::outcome::{ChangeResult, ChangeStatus, HELD_BACK, NOT_STARTED, Outcome, Verdict};
use crate::plan::{Action, Op};
use crate::scope::{FilterKind, Keyed, ScopeKeyRef};
use crate::timestamp::Timestamp;

pub mod layout;

pub use layout::{DOCUMENTS, Layout, layout, stage_segment};

/// The version of the `groups.json` format. Keys are only ever added within a version
/// (the access map added `assignments`, `access` and `findings`).
pub const FORMAT: u32 = 1;

/// The stylesheet of the page and the snippet (every rule scoped under `.syncscope`).
pub const CSS: &str = include_str!("../../../templates/docs/syncscope.css");

/// The page's only script: the filter box (the snippet has none). The page works
/// without it: the box stays hidden and every row is in the document.
pub const SCRIPT: &str = include_str!("../../../templates/docs/filter.js");

/// A list of more rows than this starts collapsed (`<details>` without `open`), with
/// its count in the summary; shorter lists start open.
pub const COLLAPSE_OVER: usize = 50;

/// Whether a list of `rows` rows starts open.
pub fn starts_open(rows: usize) -> bool {
    rows <= COLLAPSE_OVER
}

/// The text of the page's `<style>` element, byte for byte (`templates/docs/page.html`;
/// an included template loses its file's last newline).
fn page_style() -> String {
    format!("\n{}\n", CSS.strip_suffix('\n').unwrap_or(CSS))
}

/// The text of the page's `<script>` element, byte for byte.
fn page_script() -> &'static str {
    SCRIPT.strip_suffix('\n').unwrap_or(SCRIPT)
}

/// The page's Content-Security-Policy (a `<meta>` in its head): nothing loads, and only
/// the page's own style and script run, by hash; no other script, injected or not.
fn page_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'",
            csp_hash(&page_style()),
            csp_hash(page_script())
        )
    })
}

/// A CSP source for an inline element's text: `sha256-<base64 of its SHA-256>`.
fn csp_hash(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
    )
}

/// What the identity store said about one group (filled in by the adapter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The group exists (it has been synced).
    Found {
        /// Its identity store id.
        group_id: String,
        /// How many direct members it has, or why they could not be counted.
        members: Result<u64, String>,
    },
    /// No group by that display name: not synced (yet).
    Missing,
    /// The lookup failed.
    Failed(String),
}

/// Identity store facts for one run, keyed by display name (case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    /// The identity store that was asked.
    pub identity_store_id: Option<String>,
    groups: NameMap<Lookup>,
    /// Why nothing could be looked up (no store, no permission, out of time...).
    pub unavailable: Option<String>,
    /// What each group grants in AWS, by group id (None: the access map was not read).
    pub access: Option<AccessMap>,
}

impl Enrichment {
    /// Nothing looked up, for this reason.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            unavailable: Some(reason.into()),
            ..Self::default()
        }
    }

    /// Records the lookup of a display name.
    pub fn insert(&mut self, display_name: &str, lookup: Lookup) {
        self.groups.insert(display_name, lookup);
    }

    /// The lookup of a display name, if it was made.
    pub fn get(&self, display_name: &str) -> Option<&Lookup> {
        self.groups.get(display_name)
    }

    /// How many lookups were recorded.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether no lookup was recorded.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The ids of the groups found in the identity store, sorted, no repeats.
    pub fn group_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .groups
            .values()
            .filter_map(|lookup| match lookup {
                Lookup::Found { group_id, .. } => Some(group_id.clone()),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The display names of the groups the docs show, to look up in the identity store.
/// Where the identity-sync API reported a filter, its spelling (AD's) is used.
pub fn groups_to_look_up(outcome: &Outcome) -> Vec<String> {
    let spelled = api_spelling(outcome);
    let mut seen = std::collections::HashSet::new();
    rows_of(outcome, &Results::of(outcome))
        .into_iter()
        .filter(|(action, _)| action.kind == FilterKind::Group)
        .map(|(action, _)| lookup_name(action, &spelled))
        .filter(|name| seen.insert(name_key(name)))
        .collect()
}

/// How the identity-sync API spells each filter in the scope after the run.
fn api_spelling(outcome: &Outcome) -> HashMap<ScopeKeyRef<'_>, &str> {
    outcome
        .scope_after
        .iter()
        .flatten()
        .map(|f| (f.key_ref(), f.name.as_str()))
        .collect()
}

fn lookup_name(action: &Action, spelled: &HashMap<ScopeKeyRef<'_>, &str>) -> String {
    let name = spelled
        .get(&action.key_ref())
        .copied()
        .unwrap_or(&action.name);
    display_name(name, &action.domain)
}

/// Where a filter stands in the sync scope after this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ScopeState {
    /// In the scope before and after this run.
    InScope,
    /// Added by this run.
    Added,
    /// A dry run: would be added.
    WouldBeAdded,
    /// Wanted, but not added by this run.
    NotAdded {
        /// Why.
        reason: String,
    },
    /// A dry run: would be removed (still in the scope).
    WouldBeRemoved,
    /// Planned for removal, but still in the scope.
    RemovalNotDone {
        /// Why.
        reason: String,
    },
}

impl ScopeState {
    /// Whether the filter is in the scope after this run.
    pub fn in_scope(&self) -> bool {
        !matches!(self, Self::WouldBeAdded | Self::NotAdded { .. })
    }

    /// Words for the table.
    pub fn label(&self) -> String {
        match self {
            Self::InScope => "in scope".into(),
            Self::Added => "added in this run".into(),
            Self::WouldBeAdded => "would be added (dry run)".into(),
            Self::NotAdded { reason } => format!("not added: {reason}"),
            Self::WouldBeRemoved => "would be removed (dry run)".into(),
            Self::RemovalNotDone { reason } => {
                format!("still in scope, removal did not happen: {reason}")
            }
        }
    }

    /// The badge's words (short, never wrapped); the reason, if any, follows it.
    pub fn badge(&self) -> &'static str {
        match self {
            Self::InScope => "in scope",
            Self::Added => "added in this run",
            Self::WouldBeAdded => "would be added (dry run)",
            Self::NotAdded { .. } => "not added",
            Self::WouldBeRemoved => "would be removed (dry run)",
            Self::RemovalNotDone { .. } => "still in scope",
        }
    }

    /// What follows the badge: why a change did not happen.
    pub fn reason(&self) -> Option<String> {
        match self {
            Self::NotAdded { reason } => Some(reason.clone()),
            Self::RemovalNotDone { reason } => Some(format!("removal did not happen: {reason}")),
            _ => None,
        }
    }

    /// The CSS modifier.
    pub fn class(&self) -> &'static str {
        match self {
            Self::InScope | Self::Added => "ok",
            Self::WouldBeAdded | Self::WouldBeRemoved => "planned",
            Self::NotAdded { .. } | Self::RemovalNotDone { .. } => "problem",
        }
    }
}

/// A group's status in the identity store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum GroupStatus {
    /// Synced: the group exists in the identity store.
    Synced {
        /// Its identity store id.
        group_id: String,
        /// Its direct members (None: they could not be counted).
        members: Option<u64>,
    },
    /// In the scope but not in the identity store yet: the next sync cycle adds it.
    Pending,
    /// Not in the identity store, and not in the scope either.
    NotFound,
    /// Unknown: the lookup failed or was not made.
    Unknown {
        /// Why.
        error: String,
    },
}

impl GroupStatus {
    fn from_lookup(lookup: Option<&Lookup>, in_scope: bool, unavailable: Option<&str>) -> Self {
        match lookup {
            Some(Lookup::Found { group_id, members }) => Self::Synced {
                group_id: group_id.clone(),
                members: members.as_ref().ok().copied(),
            },
            Some(Lookup::Missing) if in_scope => Self::Pending,
            Some(Lookup::Missing) => Self::NotFound,
            Some(Lookup::Failed(error)) => Self::Unknown {
                error: error.clone(),
            },
            None => Self::Unknown {
                error: unavailable
                    .unwrap_or("the identity store was not asked")
                    .to_owned(),
            },
        }
    }

    /// The one-word status.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Synced { .. } => "synced",
            Self::Pending => "pending",
            Self::NotFound => "not found",
            Self::Unknown { .. } => "unknown",
        }
    }

    /// The sentence after the status.
    pub fn detail(&self) -> String {
        match self {
            Self::Synced {
                members: Some(1), ..
            } => "1 member".into(),
            Self::Synced {
                members: Some(n), ..
            } => format!("{n} members"),
            Self::Synced { members: None, .. } => "members could not be counted".into(),
            Self::Pending => "waits for the next sync cycle (up to a few hours)".into(),
            Self::NotFound => "not in the identity store".into(),
            Self::Unknown { error } => error.clone(),
        }
    }

    /// The group id, if synced.
    pub fn group_id(&self) -> &str {
        match self {
            Self::Synced { group_id, .. } => group_id,
            _ => "",
        }
    }

    /// The CSS modifier: the label without spaces.
    pub fn class(&self) -> &'static str {
        match self.label() {
            "not found" => "notfound",
            label => label,
        }
    }
}

/// One filter this config manages (or wanted to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterRow<'a> {
    /// The name (the config's spelling).
    pub name: &'a str,
    /// `name@domain`.
    pub display_name: DisplayName<'a>,
    /// The config's description.
    pub description: &'a str,
    /// The filter id in the sync scope, if it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_id: Option<&'a str>,
    /// Where it stands in the scope after this run.
    pub scope: ScopeState,
    /// The identity store status (groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<GroupStatus>,
    /// What Active Directory says about the name (None: not checked this run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad: Option<AdStatus>,
    /// The other stacks of the sync profile that list it too (co-owned).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub co_owners: &'a [String],
    /// What the group grants in AWS: a permission set in an account each (groups
    /// only). The key is omitted when the access map was not read or does not hold
    /// the group (not synced, or not read in time); `[]` means read, and it grants
    /// nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignments: Option<Vec<Grant>>,
}

impl FilterRow<'_> {
    /// The directory check found no such name in AD.
    pub fn not_in_ad(&self) -> bool {
        self.ad == Some(AdStatus::NotInAd)
    }

    /// Pending in the identity store, and the directory says there is no such name:
    /// it is not waiting for the next sync cycle, it never syncs.
    pub fn never_syncs(&self) -> bool {
        matches!(self.identity, Some(GroupStatus::Pending)) && self.ad == Some(AdStatus::NotInAd)
    }

    /// Whether the group is synced but the access map does not hold it (not read).
    pub fn access_unread(&self) -> bool {
        self.assignments.is_none() && matches!(self.identity, Some(GroupStatus::Synced { .. }))
    }
}

/// How the access map was read, for the page and `groups.json` (present only when it
/// was read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessSummary {
    /// Why some groups were not read (null: every group asked was).
    pub partial: Option<String>,
    /// What the map lacks, said once (e.g. account names).
    pub note: Option<String>,
    /// How the assignments were read.
    pub strategy: Option<Strategy>,
}

/// One permission set in one account, and the groups of the scope it is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRow<'a> {
    /// The account as people name it: `payments-prod (111122223333)`.
    pub account: String,
    /// The permission set's name.
    pub permission_set: String,
    /// Its session duration for people (`8 h`), when described.
    pub session: Option<String>,
    /// The groups (their names in the config), sorted.
    pub groups: Vec<&'a str>,
}

/// A filter in the scope that this config does not manage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmanagedRow<'a> {
    /// `GROUP` or `USER`.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// Its name as the API reports it.
    pub name: &'a str,
    /// Its filter id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_id: Option<&'a str>,
}

/// One change of this run (or of the plan, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRow<'a> {
    /// `create`, `remove` or `adopt`.
    pub op: Op,
    /// `GROUP` or `USER`.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The name.
    pub name: &'a str,
    /// How it ended, in words.
    pub result: Cow<'static, str>,
    /// Whether it took effect (or would, in a dry run).
    pub ok: bool,
}

impl ChangeRow<'_> {
    /// The result's badge: its words before the reason (`failed`, `created`...).
    pub fn badge(&self) -> &str {
        self.result
            .split_once(": ")
            .map_or(&self.result, |(badge, _)| badge)
    }

    /// The reason after the badge, if any.
    pub fn reason(&self) -> &str {
        self.result
            .split_once(": ")
            .map_or("", |(_, reason)| reason)
    }
}

/// A change that did not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRow<'a> {
    /// `create` or `remove`.
    pub op: Op,
    /// `GROUP` or `USER`.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The name.
    pub name: &'a str,
    /// Why.
    pub reason: String,
}

/// The numbers at the top of the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DocsCounts {
    /// Group filters in the scope after this run (managed by this config).
    pub groups_in_scope: usize,
    /// User filters in the scope after this run (managed by this config).
    pub users_in_scope: usize,
    /// Groups found in the identity store.
    pub synced: usize,
    /// Groups in the scope but not yet in the identity store (and, when the directory
    /// was checked, not missing from AD).
    pub pending: usize,
    /// Groups neither in the identity store nor in the scope.
    pub not_found: usize,
    /// Groups whose status is unknown.
    pub unknown: usize,
    /// Direct memberships of the synced groups (a user in two groups counts twice).
    pub memberships: u64,
    /// Filters created (or to create, in a dry run).
    pub created: usize,
    /// Filters removed (or to remove, in a dry run).
    pub removed: usize,
    /// Filters adopted.
    pub adopted: usize,
    /// Filters in the scope this config does not manage.
    pub unmanaged: usize,
    /// Changes that failed or never started.
    pub failed: usize,
    /// Names the directory check found in AD.
    pub in_ad: usize,
    /// Names the directory check did not find in AD.
    pub not_in_ad: usize,
    /// Names the directory check could not check.
    pub ad_unchecked: usize,
}

/// Everything the page, the snippet and `groups.json` show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocsView<'a> {
    /// The `groups.json` format version.
    pub syncscope_docs: u32,
    /// The page title.
    pub title: String,
    /// The deployment stage.
    pub stage: String,
    /// The stack (or a label for local runs).
    pub stack: String,
    /// The sync profile.
    pub profile: String,
    /// The AD domain.
    pub domain: String,
    /// The ownership mode (`managed` / `authoritative`).
    pub mode: String,
    /// When the run started.
    pub generated_at: Timestamp,
    /// What started the run.
    pub trigger: String,
    /// `changed`, `no_change`, `partial_failure` or `failed`.
    pub verdict: Verdict,
    /// The verdict in words.
    pub verdict_text: String,
    /// True for a dry run: nothing was changed.
    pub dry_run: bool,
    /// One sentence saying what happened (the CloudFormation reason).
    pub summary: String,
    /// The banner's sentence: what happened, without repeating the tables.
    pub headline: String,
    /// The run-level failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// A note for runs that touched nothing on purpose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The identity store the statuses come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_store_id: Option<String>,
    /// The directory the names were checked in (None: no directory check this run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory_id: Option<String>,
    /// Why some or all names were not checked in the directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory_note: Option<String>,
    /// Whether the run produced a plan (otherwise the tables are empty).
    pub has_plan: bool,
    /// The numbers.
    pub counts: DocsCounts,
    /// Group filters managed by this config.
    pub groups: Vec<FilterRow<'a>>,
    /// User filters managed by this config.
    pub users: Vec<FilterRow<'a>>,
    /// Filters in the scope that this config does not manage.
    pub unmanaged: Vec<UnmanagedRow<'a>>,
    /// What changed in this run.
    pub changes: Vec<ChangeRow<'a>>,
    /// Changes that did not apply, with reasons.
    pub failed: Vec<FailedRow<'a>>,
    /// Warnings of the run (reporting warnings included).
    pub warnings: Vec<String>,
    /// Who loses and who keeps AWS access with this run's plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::impact::Impact>,
    /// How the access map was read (None: not read this run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessSummary>,
    /// Each account and permission set the groups in the scope are assigned, with
    /// those groups (empty when the access map was not read). Not in `groups.json`:
    /// each group's `assignments` hold the same.
    #[serde(skip)]
    pub accounts: Vec<AccountRow<'a>>,
    /// The hygiene findings of the access map (see [`access_findings`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// The run's results by change, indexed once: every row looks its change up.
struct Results<'a>(HashMap<(Op, ScopeKeyRef<'a>), &'a ChangeResult>);

impl<'a> Results<'a> {
    fn of(outcome: &'a Outcome) -> Self {
        Self(
            outcome
                .results
                .iter()
                .map(|r| ((r.action.op, r.action.key_ref()), r))
                .collect(),
        )
    }

    fn get(&self, action: &Action) -> Option<&'a ChangeResult> {
        self.0.get(&(action.op, action.key_ref())).copied()
    }
}

const STOPPED: &str = "the run stopped before this change";

/// The plan's actions that get a row, with where each stands after the run.
fn rows_of<'a>(outcome: &'a Outcome, results: &Results<'_>) -> Vec<(&'a Action, ScopeState)> {
    let Some(plan) = &outcome.plan else {
        return Vec::new();
    };
    let not_done = |action: &Action| -> Option<String> {
        match results.get(action) {
            Some(result) => result.why_not().map(str::to_owned),
            None => Some(match (&outcome.failure, outcome.verdict) {
                (Some(_), Verdict::Failed) => format!("{STOPPED} (see the failure above)"),
                _ => STOPPED.to_owned(),
            }),
        }
    };
    plan.actions
        .iter()
        .filter_map(|action| {
            let state = match action.op {
                Op::Keep | Op::Adopt => ScopeState::InScope,
                Op::Create if outcome.dry_run => ScopeState::WouldBeAdded,
                Op::Create => match not_done(action) {
                    None => ScopeState::Added,
                    Some(reason) => ScopeState::NotAdded { reason },
                },
                Op::Remove if outcome.dry_run => ScopeState::WouldBeRemoved,
                Op::Remove => match not_done(action) {
                    None => return None,
                    Some(reason) => ScopeState::RemovalNotDone { reason },
                },
                Op::Unmanaged | Op::Shared => return None,
            };
            Some((action, state))
        })
        .collect()
}

fn change_result(
    outcome: &Outcome,
    results: &Results<'_>,
    action: &Action,
) -> (Cow<'static, str>, bool) {
    if outcome.dry_run {
        let verb = match action.op {
            Op::Create => "would be created",
            Op::Remove => "would be removed",
            _ => "would be adopted",
        };
        return (format!("{verb} (dry run)").into(), true);
    }
    match action.op {
        Op::Adopt => ("adopted (it already existed)".into(), true),
        _ => match results.get(action).map(|r| &r.status) {
            Some(ChangeStatus::Applied) if action.op == Op::Create => ("created".into(), true),
            Some(ChangeStatus::Applied) => ("removed".into(), true),
            Some(ChangeStatus::AlreadyDone) if action.op == Op::Create => {
                ("already existed".into(), true)
            }
            Some(ChangeStatus::AlreadyDone) => ("already gone".into(), true),
            Some(ChangeStatus::Failed { reason, .. }) => {
                (format!("failed: {reason}").into(), false)
            }
            Some(ChangeStatus::Pending) => (NOT_STARTED.into(), false),
            Some(ChangeStatus::HeldBack) => (HELD_BACK.into(), false),
            None => (STOPPED.into(), false),
        },
    }
}

impl<'a> DocsView<'a> {
    /// Builds the view of an outcome, with what the identity store said (the rows
    /// borrow the outcome's names and descriptions).
    pub fn build(outcome: &'a Outcome, enrichment: &Enrichment) -> Self {
        let results = Results::of(outcome);
        let (groups, users) = filter_rows(outcome, &results, enrichment);

        let unmanaged: Vec<UnmanagedRow> = outcome
            .unmanaged()
            .into_iter()
            .map(|a| UnmanagedRow {
                kind: a.kind,
                name: &a.name,
                filter_id: a.id.as_deref(),
            })
            .collect();

        let mut changes: Vec<ChangeRow> = Vec::new();
        if let Some(plan) = &outcome.plan {
            let attempted = |a: &Action| {
                outcome.dry_run || a.op == Op::Adopt || {
                    // Changes the run never reached are failures, listed below, not changes.
                    results.get(a).is_some()
                }
            };
            for action in plan
                .actions
                .iter()
                .filter(|a| matches!(a.op, Op::Create | Op::Remove | Op::Adopt))
                .filter(|a| attempted(a))
            {
                let (result, ok) = change_result(outcome, &results, action);
                changes.push(ChangeRow {
                    op: action.op,
                    kind: action.kind,
                    name: &action.name,
                    result,
                    ok,
                });
            }
        }

        let failed: Vec<FailedRow> = outcome
            .not_done()
            .into_iter()
            .map(|(a, reason)| FailedRow {
                op: a.op,
                kind: a.kind,
                name: &a.name,
                reason,
            })
            .collect();

        let mut counts = DocsCounts {
            groups_in_scope: groups.iter().filter(|r| r.scope.in_scope()).count(),
            users_in_scope: users.iter().filter(|r| r.scope.in_scope()).count(),
            created: outcome.created().len(),
            removed: outcome.removed().len(),
            adopted: outcome.adopted().len(),
            unmanaged: unmanaged.len(),
            failed: failed.len(),
            ..DocsCounts::default()
        };
        for status in groups.iter().chain(&users).filter_map(|r| r.ad.as_ref()) {
            match status {
                AdStatus::InAd { .. } => counts.in_ad += 1,
                AdStatus::NotInAd => counts.not_in_ad += 1,
                AdStatus::NotChecked { .. } => counts.ad_unchecked += 1,
            }
        }
        for row in &groups {
            let Some(status) = &row.identity else {
                continue;
            };
            match status {
                GroupStatus::Synced { members, .. } => {
                    counts.synced += 1;
                    counts.memberships += members.unwrap_or(0);
                }
                // A group AD does not have is not waiting for a sync: it is counted
                // as not in AD.
                GroupStatus::Pending if row.never_syncs() => {}
                GroupStatus::Pending => counts.pending += 1,
                GroupStatus::NotFound => counts.not_found += 1,
                GroupStatus::Unknown { .. } => counts.unknown += 1,
            }
        }

        let accounts = account_rows(&groups);
        let findings = enrichment
            .access
            .as_ref()
            .map(|map| access::hygiene(&scope_groups(&groups), map))
            .unwrap_or_default();
        Self {
            syncscope_docs: FORMAT,
            title: format!("AWS sign-in groups: {}", outcome.stage),
            stage: outcome.stage.clone(),
            stack: outcome.stack.clone(),
            profile: outcome.profile.to_string(),
            domain: outcome.domain.to_string(),
            mode: outcome.mode.as_str().to_owned(),
            generated_at: outcome.started_at,
            trigger: outcome.trigger.as_str().to_owned(),
            verdict: outcome.verdict,
            verdict_text: outcome.verdict.as_str().to_owned(),
            dry_run: outcome.dry_run,
            summary: outcome.summary(),
            headline: headline(outcome, &counts),
            failure: outcome.failure.clone(),
            note: outcome.note.clone(),
            identity_store_id: enrichment.identity_store_id.clone(),
            directory_id: outcome.directory.as_ref().map(|r| r.directory_id.clone()),
            directory_note: outcome.directory.as_ref().and_then(|r| r.skipped.clone()),
            has_plan: outcome.plan.is_some(),
            counts,
            groups,
            users,
            unmanaged,
            changes,
            failed,
            warnings: outcome.warnings.clone(),
            // The added groups' members are in the group table already.
            impact: outcome.impact.as_ref().map(|impact| crate::impact::Impact {
                added_groups: Vec::new(),
                ..impact.clone()
            }),
            access: enrichment.access.as_ref().map(|map| AccessSummary {
                partial: map.partial.clone(),
                note: map.note.clone(),
                strategy: map.strategy,
            }),
            accounts,
            findings,
        }
    }

    /// A finding in one sentence for the page (at most [`COLLAPSE_OVER`] names).
    pub fn finding_text(&self, finding: &Finding) -> String {
        finding.text(COLLAPSE_OVER)
    }

    /// The view with the configured page title (`general.DocsTitle`), if one is set;
    /// otherwise the default, "AWS sign-in groups: STAGE".
    pub fn titled(self, title: Option<&str>) -> Self {
        match title {
            Some(title) => Self {
                title: title.to_owned(),
                ..self
            },
            None => self,
        }
    }

    /// The verdict's CSS modifier.
    pub fn verdict_class(&self) -> &'static str {
        match self.verdict {
            Verdict::Changed => "changed",
            Verdict::NoChange => "nochange",
            Verdict::PartialFailure => "partial",
            Verdict::Failed => "failed",
        }
    }

    /// The banner's CSS modifier: the verdict's, except that a run whose names the
    /// directory check did not find in AD is a warning, never the green (or blue) of
    /// a scope that matches the config: those names never sync. A partial failure
    /// or a failure keeps its own colour (the banner names the missing names too).
    pub fn banner_class(&self) -> &'static str {
        match self.verdict {
            Verdict::Changed | Verdict::NoChange if self.counts.not_in_ad > 0 => "warning",
            _ => self.verdict_class(),
        }
    }

    /// Whether a list of `rows` rows starts open (see [`COLLAPSE_OVER`]).
    pub fn open(&self, rows: impl std::borrow::Borrow<usize>) -> bool {
        starts_open(*rows.borrow())
    }

    /// A count with its noun, for a list's summary: "1 group filter", "1600 group filters".
    pub fn n(&self, count: impl std::borrow::Borrow<usize>, one: &str, many: &str) -> String {
        let count = *count.borrow();
        format!("{count} {}", if count == 1 { one } else { many })
    }

    /// Whether the page has a list to filter.
    pub fn has_lists(&self) -> bool {
        !(self.groups.is_empty()
            && self.users.is_empty()
            && self.unmanaged.is_empty()
            && self.changes.is_empty()
            && self.failed.is_empty()
            && self.accounts.is_empty()
            && self.impact.as_ref().is_none_or(|i| {
                i.losing.is_empty() && i.keeping.is_empty() && i.removed_groups.is_empty()
            }))
    }

    /// The page's Content-Security-Policy.
    pub fn csp(&self) -> &'static str {
        page_csp()
    }

    /// Renders the standalone page (`index.html`).
    pub fn page(&self) -> Result<String, askama::Error> {
        Page { v: self }.render()
    }

    /// Renders the embeddable snippet (`snippet.html`).
    pub fn snippet(&self) -> Result<String, askama::Error> {
        Snippet { v: self }.render()
    }

    /// Serialises `groups.json`.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Writes document `index` of [`DOCUMENTS`] (the page, the snippet, `groups.json`)
    /// to `out` as it is rendered, byte for byte what [`Self::page`], [`Self::snippet`]
    /// and [`Self::json`] return, without holding it whole.
    pub fn write_document(
        &self,
        index: usize,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        match index {
            0 => Page { v: self }.write_into(out),
            1 => Snippet { v: self }.write_into(out),
            _ => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                out.write_all(b"\n")
            }
        }
    }
}

/// What a group grants, from the access map (None: not read, or not synced).
fn group_grants(enrichment: &Enrichment, identity: Option<&GroupStatus>) -> Option<Vec<Grant>> {
    let map = enrichment.access.as_ref()?;
    match identity? {
        GroupStatus::Synced { group_id, .. } => map.of(group_id).map(<[Grant]>::to_vec),
        _ => None,
    }
}

/// The scope's synced groups as the hygiene check sees them: a group the plan removes
/// is `removed`.
fn scope_groups(groups: &[FilterRow<'_>]) -> Vec<ScopeGroup> {
    groups
        .iter()
        .filter_map(|row| match &row.identity {
            Some(GroupStatus::Synced { group_id, members }) => Some(ScopeGroup {
                name: row.name.to_owned(),
                group_id: group_id.clone(),
                members: *members,
                removed: matches!(
                    row.scope,
                    ScopeState::WouldBeRemoved | ScopeState::RemovalNotDone { .. }
                ),
            }),
            _ => None,
        })
        .collect()
}

/// Each account and permission set assigned to the groups in the scope, in the order
/// people read (account, then permission set), with those groups.
fn account_rows<'a>(groups: &[FilterRow<'a>]) -> Vec<AccountRow<'a>> {
    let mut by_pair: HashMap<(&str, &str), (&Grant, Vec<&'a str>)> = HashMap::new();
    for row in groups.iter().filter(|r| r.scope.in_scope()) {
        for grant in row.assignments.iter().flatten() {
            by_pair
                .entry((&grant.account_id, &grant.permission_set))
                .or_insert_with(|| (grant, Vec::new()))
                .1
                .push(row.name);
        }
    }
    let mut pairs: Vec<(&Grant, Vec<&'a str>)> = by_pair.into_values().collect();
    // As `access::tidy` orders grants: by account (name, then id), then permission set.
    pairs.sort_by_cached_key(|(g, _)| {
        (
            g.account_name
                .as_deref()
                .unwrap_or(&g.account_id)
                .to_lowercase(),
            g.account_id.clone(),
            g.permission_set.to_lowercase(),
        )
    });
    pairs
        .into_iter()
        .map(|(grant, mut names)| {
            names.sort_by_cached_key(|n| (n.to_lowercase(), *n));
            names.dedup();
            AccountRow {
                account: grant.account(),
                permission_set: grant.permission_set.clone(),
                session: grant
                    .session_duration
                    .as_deref()
                    .map(access::duration_label),
                groups: names,
            }
        })
        .collect()
}

/// The group and user rows of an outcome's filters, with what the identity store
/// (and its access map) said of each group.
fn filter_rows<'a>(
    outcome: &'a Outcome,
    results: &Results<'a>,
    enrichment: &Enrichment,
) -> (Vec<FilterRow<'a>>, Vec<FilterRow<'a>>) {
    let spelled = api_spelling(outcome);
    let unavailable = enrichment.unavailable.as_deref();
    let mut groups = Vec::new();
    let mut users = Vec::new();
    let in_ad = outcome
        .directory
        .as_ref()
        .map(DirectoryReport::by_name)
        .unwrap_or_default();
    for (action, scope) in rows_of(outcome, results) {
        let identity = (action.kind == FilterKind::Group).then(|| {
            let lookup = enrichment.get(&lookup_name(action, &spelled));
            GroupStatus::from_lookup(lookup, scope.in_scope(), unavailable)
        });
        let assignments = group_grants(enrichment, identity.as_ref());
        let row = FilterRow {
            name: &action.name,
            display_name: DisplayName {
                name: &action.name,
                domain: &action.domain,
            },
            description: &action.description,
            filter_id: action.id.as_deref(),
            scope,
            identity,
            ad: in_ad
                .get(&(action.kind, Caseless(&action.name)))
                .map(|&status| status.clone()),
            co_owners: &action.wanted_by,
            assignments,
        };
        match action.kind {
            FilterKind::Group => groups.push(row),
            FilterKind::User => users.push(row),
        }
    }
    (groups, users)
}

/// The hygiene findings of the groups the docs show, from the access map of
/// `enrichment` (empty when it was not read): groups that grant nothing, removed
/// groups whose assignments stop working, permission sets nobody has yet. The page
/// lists them; the Lambda can report them as run warnings.
pub fn access_findings(outcome: &Outcome, enrichment: &Enrichment) -> Vec<Finding> {
    let Some(map) = &enrichment.access else {
        return Vec::new();
    };
    let (groups, _) = filter_rows(outcome, &Results::of(outcome), enrichment);
    access::hygiene(&scope_groups(&groups), map)
}

/// The hygiene findings of a plan before it runs (`syncscope plan`): every group the
/// plan keeps, adds or removes that the identity store has (`enrichment`, with its
/// access map), a group is `removed` when the plan removes it and no duplicate stays.
pub fn plan_findings(plan: &crate::plan::Plan, enrichment: &Enrichment) -> Vec<Finding> {
    let Some(map) = &enrichment.access else {
        return Vec::new();
    };
    let staying: std::collections::HashSet<_> = plan
        .actions
        .iter()
        .filter(|a| a.op != Op::Remove)
        .map(Keyed::key)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let groups: Vec<ScopeGroup> = plan
        .actions
        .iter()
        .filter(|a| a.kind == FilterKind::Group && seen.insert(a.key()))
        .filter_map(|a| {
            // Looked up by display name; named as the plan and the page name it.
            match enrichment.get(&display_name(&a.name, &a.domain))? {
                Lookup::Found { group_id, members } => Some(ScopeGroup {
                    name: a.name.clone(),
                    group_id: group_id.clone(),
                    members: members.as_ref().ok().copied(),
                    removed: a.op == Op::Remove && !staying.contains(&a.key()),
                }),
                _ => None,
            }
        })
        .collect();
    access::hygiene(&groups, map)
}

/// The banner's sentence. "Matches the config" is said only when it holds: names the
/// directory check did not find in AD are in the config but never sync (the banner
/// turns to a warning, see [`DocsView::banner_class`]), and filters in the scope that
/// this config does not manage make the scope more than the config.
fn headline(outcome: &Outcome, c: &DocsCounts) -> String {
    let done = format!(
        "{} created, {} removed, {} adopted",
        c.created, c.removed, c.adopted
    );
    let never = match c.not_in_ad {
        0 => String::new(),
        1 => "1 of its names is not in Active Directory and will never sync".to_owned(),
        n => format!("{n} of its names are not in Active Directory and will never sync"),
    };
    let others = match c.unmanaged {
        0 => String::new(),
        1 => "1 filter in the scope is not managed by this config".to_owned(),
        n => format!("{n} filters in the scope are not managed by this config"),
    };
    // "the config is applied (...), but ...; ..." when something makes "matches" untrue.
    let but = |applied: String| -> String {
        match (never.is_empty(), others.is_empty()) {
            (true, true) => format!("{applied}."),
            (false, true) => format!("{applied}, but {never}."),
            (true, false) => format!("{applied}; {others} (listed below)."),
            (false, false) => format!("{applied}, but {never}; {others} (listed below)."),
        }
    };
    let misleading = c.not_in_ad > 0 || c.unmanaged > 0;
    match outcome.verdict {
        _ if outcome.note.is_some() && outcome.plan.is_none() => {
            "nothing was changed (see the note below).".to_owned()
        }
        Verdict::Failed => "nothing was changed.".to_owned(),
        Verdict::NoChange if misleading => {
            but("every filter of the config was already in the sync scope".to_owned())
        }
        Verdict::NoChange => "the sync scope already matched the config.".to_owned(),
        Verdict::Changed if outcome.dry_run => {
            let would = format!(
                "this run would create {} and remove {} filter(s), and adopt {}",
                c.created, c.removed, c.adopted
            );
            match c.not_in_ad {
                0 => format!("{would}."),
                1 => format!(
                    "{would}; 1 name of the config is not in Active Directory and would never sync."
                ),
                n => format!(
                    "{would}; {n} names of the config are not in Active Directory and would never sync."
                ),
            }
        }
        Verdict::Changed if misleading => but(format!("the config is applied ({done})")),
        Verdict::Changed => format!("the sync scope now matches the config ({done})."),
        Verdict::PartialFailure => format!(
            "{done}; {} change(s) did not apply (listed below). The changes that succeeded stay, and the next run retries the rest.",
            c.failed
        ),
    }
}

#[derive(Template)]
#[template(path = "docs/page.html")]
struct Page<'a> {
    v: &'a DocsView<'a>,
}

#[derive(Template)]
#[template(path = "docs/snippet.html")]
struct Snippet<'a> {
    v: &'a DocsView<'a>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::samples::contains_all;

    use super::*;
    use crate::samples;

    use samples::created as sample;

    fn view(outcome: &Outcome) -> DocsView<'_> {
        DocsView::build(outcome, &samples::enrichment(outcome))
    }

    #[test]
    fn each_document_written_as_it_renders_is_the_rendered_document() {
        // The Lambda streams documents to a file and from there to S3; what it writes
        // must be what the page, snippet and JSON renderers return, for every sample.
        for spec in samples::specs() {
            let outcome = samples::outcome(spec);
            let v = view(&outcome);
            let whole = [v.page().unwrap(), v.snippet().unwrap(), v.json()];
            for (index, expected) in whole.iter().enumerate() {
                let mut written = Vec::new();
                v.write_document(index, &mut written).unwrap();
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    *expected,
                    "{} of {}",
                    DOCUMENTS[index].0,
                    spec.label()
                );
            }
        }
    }

    #[test]
    fn page_and_snippet_escape_every_hostile_name_description_and_reason() {
        let outcome = sample(Verdict::PartialFailure, false, 16, true);
        let v = view(&outcome);
        // The page's one script is its own filter box, nothing the data made.
        let page = v.page().unwrap();
        let own = format!("<script>{}</script>", page_script());
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains(&own));
        for html in [page.replace(&own, ""), v.snippet().unwrap()] {
            for raw in ["<script", "<img", "<svg", "<b>", "<i>", "\"quoted\""] {
                assert!(!html.contains(raw), "{raw} reached the HTML unescaped");
            }
            contains_all(
                &html,
                &[
                    "&#60;script&#62;alert(1)&#60;/script&#62;",
                    "<bdi>مرحبا-العالم</bdi>",
                    "🚀 Rocket-Team",
                    "TEST &#60;i&#62;&#38;&#60;/i&#62;",
                ],
            );
        }
    }

    #[test]
    fn a_configured_title_heads_the_page_and_the_snippet_escaped_and_the_default_stays_without_one()
    {
        let outcome = sample(Verdict::Changed, false, 2, false);
        let default = view(&outcome).titled(None);
        assert_eq!(default.title, "AWS sign-in groups: TEST");
        assert!(
            default
                .page()
                .unwrap()
                .contains("<title>AWS sign-in groups: TEST</title>")
        );

        let titled = view(&outcome).titled(Some("Who signs in to AWS <Prod> & \"more\""));
        let escaped = "Who signs in to AWS &#60;Prod&#62; &#38; &#34;more&#34;";
        let page = titled.page().unwrap();
        assert!(
            page.contains(&format!("<title>{escaped}</title>")),
            "{page}"
        );
        assert!(
            page.contains(&format!(
                "id=\"syncscope-title\" class=\"syncscope-title\">{escaped}</h1>"
            )),
            "{page}"
        );
        assert!(!page.contains("<Prod>") && !page.contains("AWS sign-in groups"));
        let snippet = titled.snippet().unwrap();
        assert!(snippet.contains(escaped), "{snippet}");
    }

    #[test]
    fn the_page_has_every_section_the_issue_asks_for() {
        let outcome = sample(Verdict::PartialFailure, false, 16, false);
        let page = view(&outcome).page().unwrap();
        for needle in [
            "<html lang=\"en\">",
            "<title>AWS sign-in groups: TEST</title>",
            "Stage <strong>TEST</strong>",
            "AD domain <strong>corp.example.com</strong>",
            "sync profile <strong>SynchronizationToActiveDirectoryAwsSso</strong>",
            "<time datetime=\"2026-11-22T08:45:21Z\">2026-11-22 08:45:21 UTC</time>",
            "At a glance",
            "<caption>Group filters of the sync scope, with their status in the identity store and in Active Directory</caption>",
            "<caption>Individual users in the sync scope, with their status in Active Directory</caption>",
            "Names checked in directory <code>d-1234567890</code>.",
            "<th scope=\"col\">Active Directory</th>",
            "<div><dt>Names not in AD</dt>",
            "In the scope, not managed by this config",
            "What changed in this run",
            "Changes that did not apply",
            "Warnings",
            "New filters sync within hours.",
            "Removed users are disabled after 28 days.",
            "unless another synced group still holds them",
            "Nested groups widen access.",
            "<th scope=\"col\">",
            "<th scope=\"row\">",
        ] {
            assert!(page.contains(needle), "the page lacks {needle}");
        }
        assert!(!page.contains("DRY RUN"));
    }

    #[test]
    fn every_row_carries_its_active_directory_status_and_groups_json_has_it() {
        let outcome = sample(Verdict::Changed, false, 16, false);
        let report = outcome.directory.clone().unwrap();
        let view = DocsView::build(&outcome, &Enrichment::default());
        let (found, missing, unchecked) = report.counts();
        assert_eq!(
            (
                view.counts.in_ad,
                view.counts.not_in_ad,
                view.counts.ad_unchecked
            ),
            (found, missing, unchecked)
        );
        assert!(missing > 0 && unchecked > 0 && found > 0);
        let typo = report.not_in_ad().next().unwrap();
        let page = view.page().unwrap();
        let row = page
            .lines()
            .find(|l| {
                l.contains(&format!("<bdi>{}</bdi></th>", typo.name))
                    && l.contains("syncscope-status--")
            })
            .unwrap();
        assert!(
            row.contains("syncscope-status--notfound\">not in AD</span> <span class=\"syncscope-detail\">no such name in the directory"),
            "{row}"
        );
        assert!(page.contains("syncscope-status--unknown\">not checked</span> <span class=\"syncscope-detail\">throttled"));
        assert!(page.contains("member"), "member counts of groups in AD");
        // A group the directory does not have, pending in the identity store, never
        // syncs: the page says so instead of "waits for the next sync cycle".
        let typo = report
            .entries
            .iter()
            .find(|e| e.kind == FilterKind::Group && e.status == AdStatus::NotInAd)
            .unwrap();
        let mut enrichment = Enrichment::default();
        enrichment.insert(
            &display_name(&typo.name, outcome.domain.as_str()),
            Lookup::Missing,
        );
        let with_typo = DocsView::build(&outcome, &enrichment);
        assert_eq!(
            with_typo.counts.pending, 0,
            "a group AD lacks is not pending"
        );
        let unchecked = Outcome {
            directory: None,
            ..outcome.clone()
        };
        assert_eq!(DocsView::build(&unchecked, &enrichment).counts.pending, 1);
        let page = with_typo.page().unwrap();
        let row = page
            .lines()
            .find(|l| {
                l.contains(&format!("<bdi>{}</bdi></th>", typo.name))
                    && l.contains("syncscope-status--")
            })
            .unwrap();
        assert!(
            row.contains("never syncs: Active Directory has no such group"),
            "{row}"
        );
        assert!(!row.contains("waits for the next sync cycle"), "{row}");
        let json: serde_json::Value = serde_json::from_str(&view.json()).unwrap();
        assert_eq!(json["directory_id"], "d-1234567890");
        assert_eq!(json["counts"]["not_in_ad"], missing);
        let rows: Vec<&serde_json::Value> = json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .chain(json["users"].as_array().unwrap())
            .collect();
        assert!(rows.iter().any(|r| r["ad"]["status"] == "not_in_ad"));
        assert!(
            rows.iter()
                .any(|r| r["ad"]["status"] == "in_ad" && r["ad"]["members"].is_u64())
        );

        let mut unchecked_run = outcome.clone();
        unchecked_run.directory = None;
        let quiet = DocsView::build(&unchecked_run, &Enrichment::default());
        let page = quiet.page().unwrap();
        assert!(!page.contains("Active Directory</th>") && !page.contains("Names not in AD"));
        assert!(!quiet.json().contains("\"ad\""));
    }

    #[test]
    fn the_impact_section_lists_who_loses_and_who_keeps_access_and_groups_json_has_it() {
        let outcome = sample(Verdict::Changed, false, 16, false);
        let impact = outcome.impact.clone().unwrap();
        let loser = &impact.losing[0];
        let kept = &impact.keeping[0];
        let v = view(&outcome);
        for html in [v.page().unwrap(), v.snippet().unwrap()] {
            contains_all(
                &html,
                &[
                    "Impact of this change",
                    &format!(
                        "{} users will be disabled after 28 days",
                        impact.losing.len()
                    ),
                    "<caption>Users who lose AWS access: disabled 28 days after the change",
                    &format!(
                        "<bdi>{}</bdi></th><td><bdi>{}</bdi>",
                        loser.user_name, loser.display_name
                    ),
                    &format!("<bdi>{}</bdi>", kept.through),
                    "</bdi></th><td>3 members</td>",
                ],
            );
        }
        let json: serde_json::Value = serde_json::from_str(&v.json()).unwrap();
        assert_eq!(
            json["impact"]["losing"][0]["user_name"],
            loser.user_name.as_str()
        );
        assert_eq!(
            json["impact"]["keeping"][0]["through"],
            kept.through.as_str()
        );
        assert_eq!(json["impact"]["removed_groups"][0]["status"], "synced");
        // No impact, no section.
        let quiet = view(&sample(Verdict::NoChange, false, 0, false))
            .page()
            .unwrap();
        assert!(!quiet.contains("Impact of this change"));
    }

    #[test]
    fn a_co_owned_group_names_the_other_stack_on_the_page_and_in_groups_json() {
        let outcome = sample(Verdict::Changed, false, 16, false);
        let adopted = outcome.adopted();
        assert!(!adopted.is_empty());
        let v = view(&outcome);
        let page = v.page().unwrap();
        assert!(
            page.contains(&format!("co-owned: also wanted by {}", samples::CO_OWNER)),
            "the page says who else lists it"
        );
        let json: serde_json::Value = serde_json::from_str(&v.json()).unwrap();
        let rows = json["groups"].as_array().unwrap();
        let co_owned: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|r| r["co_owners"] == serde_json::json!([samples::CO_OWNER]))
            .collect();
        assert_eq!(co_owned.len(), adopted.len(), "{json:#}");
    }

    #[test]
    fn the_dry_run_banner_shows_only_in_a_dry_run() {
        let (dry, live) = (
            sample(Verdict::Changed, true, 7, false),
            sample(Verdict::Changed, false, 7, false),
        );
        let (dry, live) = (view(&dry), view(&live));
        for html in [dry.page().unwrap(), dry.snippet().unwrap()] {
            contains_all(
                &html,
                &[
                    "<strong>DRY RUN</strong>: nothing was changed",
                    "What this run would change",
                    "would be added (dry run)",
                ],
            );
        }
        assert!(
            dry.page()
                .unwrap()
                .contains("<title>AWS sign-in groups: TEST (DRY RUN)</title>")
        );
        for html in [live.page().unwrap(), live.snippet().unwrap()] {
            assert!(!html.contains("DRY RUN"));
        }
    }

    #[test]
    fn the_snippet_is_a_fragment_with_scoped_class_names() {
        let snippet = view(&sample(Verdict::Changed, false, 16, true))
            .snippet()
            .unwrap();
        for tag in ["<!DOCTYPE", "<html", "<head>", "<body", "<main", "<h1"] {
            assert!(!snippet.contains(tag), "the snippet holds {tag}");
        }
        for class in snippet.split("class=\"").skip(1) {
            let value = class.split('"').next().unwrap();
            for name in value.split_whitespace() {
                assert!(name.starts_with("syncscope"), "class {name} is not scoped");
            }
        }
        // The style travels with the snippet, as the first child of its section.
        assert!(snippet.contains("aria-labelledby=\"syncscope-title\">\n<style>\n"));
        assert_eq!(snippet.matches("<style>").count(), 1);
        contains_all(
            &snippet,
            &["<h2 id=\"syncscope-title\"", "<h3 id=\"syncscope-groups\">"],
        );
    }

    #[test]
    fn every_css_selector_is_scoped() {
        for rule in CSS.split('}') {
            let selector = rule.split('{').next().unwrap_or_default();
            let selector = selector.rsplit("*/").next().unwrap().trim();
            if selector.is_empty() {
                continue;
            }
            for part in selector.split(',') {
                assert!(
                    part.trim().starts_with(".syncscope"),
                    "selector {part:?} is not scoped"
                );
            }
        }
    }

    #[test]
    fn groups_show_synced_with_members_pending_not_found_or_unknown() {
        let mut outcome = sample(Verdict::PartialFailure, false, 0, false);
        let action = |op, name: &str| Action {
            op,
            kind: FilterKind::Group,
            name: name.into(),
            domain: samples::DOMAIN.into(),
            id: None,
            description: String::new(),
            wanted_by: Vec::new(),
            undo: false,
        };
        let plan = outcome.plan.as_mut().unwrap();
        plan.actions = vec![
            action(Op::Keep, "Synced"),
            action(Op::Create, "New"),
            action(Op::Create, "Refused"),
            action(Op::Keep, "Broken"),
        ];
        outcome.results = vec![
            ChangeResult {
                action: action(Op::Create, "New"),
                status: ChangeStatus::Applied,
            },
            ChangeResult {
                action: action(Op::Create, "Refused"),
                status: ChangeStatus::Failed {
                    reason: "AccessDenied".into(),
                    in_doubt: false,
                },
            },
        ];
        outcome.scope_after = None;
        let mut e = Enrichment::default();
        e.insert(
            "synced@CORP.example.com",
            Lookup::Found {
                group_id: "g-1".into(),
                members: Ok(42),
            },
        );
        e.insert("New@corp.example.com", Lookup::Missing);
        e.insert("Refused@corp.example.com", Lookup::Missing);
        e.insert(
            "Broken@corp.example.com",
            Lookup::Failed("Throttled".into()),
        );
        let v = DocsView::build(&outcome, &e);
        let status: Vec<(&str, &GroupStatus, &ScopeState)> = v
            .groups
            .iter()
            .map(|r| (r.name, r.identity.as_ref().unwrap(), &r.scope))
            .collect();
        assert_eq!(
            status,
            vec![
                (
                    "Synced",
                    &GroupStatus::Synced {
                        group_id: "g-1".into(),
                        members: Some(42)
                    },
                    &ScopeState::InScope
                ),
                ("New", &GroupStatus::Pending, &ScopeState::Added),
                (
                    "Refused",
                    &GroupStatus::NotFound,
                    &ScopeState::NotAdded {
                        reason: "AccessDenied".into()
                    }
                ),
                (
                    "Broken",
                    &GroupStatus::Unknown {
                        error: "Throttled".into()
                    },
                    &ScopeState::InScope
                ),
            ]
        );
        assert_eq!(v.counts.synced, 1);
        assert_eq!(v.counts.pending, 1);
        assert_eq!(v.counts.memberships, 42);
        assert_eq!(v.counts.groups_in_scope, 3);
        assert_eq!(v.failed.len(), 1);
        let page = v.page().unwrap();
        contains_all(
            &page,
            &[
                "42 members",
                "<code>g-1</code>",
                "waits for the next sync cycle",
            ],
        );
    }

    #[test]
    fn groups_are_looked_up_by_the_spelling_the_api_reports() {
        let outcome = sample(Verdict::Changed, false, 7, false);
        let mut renamed = outcome.clone();
        for f in renamed.scope_after.iter_mut().flatten() {
            f.name = f.name.to_uppercase();
        }
        let names = groups_to_look_up(&renamed);
        assert!(names.contains(&"AWS-TEAM-0004-ACCESS@corp.example.com".to_owned()));
        // Removed filters have no row, so they are not looked up.
        assert!(!names.iter().any(|n| n.starts_with("AWS-TEAM-0008")));
    }

    #[test]
    fn groups_json_carries_the_same_rows_as_the_page() {
        let outcome = sample(Verdict::Changed, false, 16, true);
        let v = view(&outcome);
        let json: serde_json::Value = serde_json::from_str(&v.json()).unwrap();
        assert_eq!(json["syncscope_docs"], FORMAT);
        assert_eq!(json["stage"], "TEST <i>&</i>");
        assert_eq!(json["groups"].as_array().unwrap().len(), v.groups.len());
        assert_eq!(json["groups"][0]["name"], v.groups[0].name);
        assert!(json["groups"][0]["identity"]["status"].is_string());
        assert!(json["groups"][0]["scope"]["state"].is_string());
        assert_eq!(json["counts"]["synced"], v.counts.synced);
    }

    #[test]
    fn a_run_without_a_plan_renders_a_failure_and_empty_tables() {
        let outcome = samples::failed_early();
        let v = view(&outcome);
        let page = v.page().unwrap();
        contains_all(
            &page,
            &[
                "This run did not read the sync scope",
                "Reason: could not read the filters",
            ],
        );
        assert!(!v.has_plan);
        assert!(
            !v.has_lists() && !page.contains("id=\"syncscope-q\""),
            "no list, no filter box"
        );
    }

    /// The outcome with every name in AD and no filter outside the config.
    fn clean(mut outcome: Outcome) -> Outcome {
        if let Some(plan) = outcome.plan.as_mut() {
            plan.actions.retain(|a| a.op != Op::Unmanaged);
        }
        if let Some(directory) = outcome.directory.as_mut() {
            for entry in &mut directory.entries {
                entry.status = AdStatus::InAd {
                    members: Some(1),
                    nested_groups: Some(0),
                };
            }
        }
        outcome
    }

    /// The banner's class and headline, and whether it links to the names not in AD.
    fn banner(outcome: &Outcome) -> (&'static str, String, bool) {
        let v = view(outcome);
        let page = v.page().unwrap();
        let links = page.contains("<a href=\"#syncscope-not-in-ad\">");
        (v.banner_class(), v.headline.clone(), links)
    }

    #[test]
    fn the_banner_says_matches_the_config_only_when_it_holds() {
        // Everything in AD, nothing unmanaged: green, "matches the config".
        let (class, headline, links) = banner(&clean(sample(Verdict::Changed, false, 16, false)));
        assert_eq!(class, "changed");
        assert!(
            headline.starts_with("the sync scope now matches the config ("),
            "{headline}"
        );
        assert!(!links);
        let (class, headline, links) = banner(&clean(sample(Verdict::NoChange, false, 16, false)));
        assert_eq!(
            (class, headline.as_str(), links),
            (
                "nochange",
                "the sync scope already matched the config.",
                false
            )
        );

        // Names not in AD: a warning that counts them and links to their list.
        let typos = sample(Verdict::Changed, false, 16, false);
        let missing = view(&typos).counts.not_in_ad;
        assert!(missing > 1);
        let (class, headline, links) = banner(&typos);
        assert_eq!(class, "warning");
        assert!(!headline.contains("matches"), "{headline}");
        contains_all(
            &headline,
            &[
                "the config is applied (",
                &format!(
                    "but {missing} of its names are not in Active Directory and will never sync"
                ),
            ],
        );
        assert!(links);
        let page = view(&typos).page().unwrap();
        contains_all(
            &page,
            &[
                "syncscope-banner syncscope-banner--warning",
                &format!(
                    "<a href=\"#syncscope-not-in-ad\">The {missing} names not in Active Directory</a>"
                ),
                "<h2 id=\"syncscope-not-in-ad\">Names not in Active Directory</h2>",
                "<caption>Names of the config that are not in Active Directory</caption>",
            ],
        );
        let listed = page
            .split("id=\"syncscope-not-in-ad\"")
            .nth(1)
            .unwrap()
            .split("</table>")
            .next()
            .unwrap()
            .matches("<tr><th scope=\"row\">")
            .count();
        assert_eq!(listed, missing, "every name not in AD is listed once");
        assert!(!page.contains("syncscope-banner syncscope-banner--changed"));

        let (class, headline, links) = banner(&sample(Verdict::NoChange, false, 16, false));
        assert_eq!(class, "warning");
        assert!(
            headline.contains("will never sync") && !headline.contains("matched"),
            "{headline}"
        );
        assert!(links);

        // A dry run says they would never sync.
        let (class, headline, links) = banner(&sample(Verdict::Changed, true, 16, false));
        assert_eq!(class, "warning");
        assert!(
            headline.contains("are not in Active Directory and would never sync."),
            "{headline}"
        );
        assert!(links);

        // A partial failure and a failure keep their colour, and still link the list.
        let (class, _, links) = banner(&sample(Verdict::PartialFailure, false, 16, false));
        assert_eq!((class, links), ("partial", true));
        let (class, headline, links) = banner(&sample(Verdict::Failed, false, 16, false));
        assert_eq!(
            (class, headline.as_str(), links),
            ("failed", "nothing was changed.", true)
        );

        // Filters outside the config: the scope is more than the config; not a warning
        // (managed mode leaves them alone by design), but never "matches the config".
        let mut outside = clean(sample(Verdict::Changed, false, 16, false));
        outside.plan.as_mut().unwrap().actions.push(samples::action(
            Op::Unmanaged,
            FilterKind::Group,
            "Console-Added",
        ));
        let (class, headline, links) = banner(&outside);
        assert_eq!(class, "changed");
        assert!(!headline.contains("matches"), "{headline}");
        assert!(
            headline
                .ends_with("; 1 filter in the scope is not managed by this config (listed below)."),
            "{headline}"
        );
        assert!(!links);
    }

    #[test]
    fn lists_over_the_threshold_start_collapsed_with_their_count_and_short_ones_open() {
        assert!(starts_open(0) && starts_open(COLLAPSE_OVER));
        assert!(!starts_open(COLLAPSE_OVER + 1));
        let short = view(&sample(Verdict::Changed, false, 7, false))
            .page()
            .unwrap();
        let long_outcome = sample(Verdict::Changed, false, 100, false);
        let long = view(&long_outcome);
        let rows = long.groups.len();
        assert!(rows > COLLAPSE_OVER);
        let page = long.page().unwrap();
        let summary = |page: &str, noun: &str| -> String {
            let at = page
                .find(&format!(" {noun}<span class=\"syncscope-shown\">"))
                .unwrap();
            let start = page[..at].rfind("<details").unwrap();
            page[start..at].to_owned()
        };
        let groups = summary(&page, "group filters");
        assert!(
            groups.starts_with("<details class=\"syncscope-list\">\n<summary>"),
            "{groups}"
        );
        assert!(groups.ends_with(&format!("<summary>{rows}")), "{groups}");
        // The one user filter: open.
        let users = summary(&page, "user filter");
        assert!(
            users.starts_with("<details class=\"syncscope-list\" open>"),
            "{users}"
        );
        let short_groups = summary(&short, "group filters");
        assert!(
            short_groups.starts_with("<details class=\"syncscope-list\" open>"),
            "{short_groups}"
        );
        // Every table sits in a labelled, focusable scroll region inside its list.
        assert_eq!(
            page.matches("<table ").count(),
            page.matches("<div class=\"syncscope-scroll\" role=\"region\" aria-label=\"")
                .count()
        );
        assert_eq!(
            page.matches("<table ").count(),
            page.matches("<details ").count()
        );
    }

    #[test]
    fn the_page_has_a_hidden_filter_box_and_a_csp_that_admits_only_its_own_style_and_script() {
        let outcome = sample(Verdict::Changed, false, 16, true);
        let v = view(&outcome);
        let page = v.page().unwrap();
        let between = |open: &str, close: &str| -> Vec<String> {
            page.split(open)
                .skip(1)
                .map(|rest| rest.split(close).next().unwrap().to_owned())
                .collect()
        };
        let (styles, scripts) = (
            between("<style>", "</style>"),
            between("<script>", "</script>"),
        );
        assert_eq!((styles.len(), scripts.len()), (1, 1));
        let csp = format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'\">",
            csp_hash(&styles[0]),
            csp_hash(&scripts[0])
        )
        .replace('\'', "&#39;");
        assert!(page.contains(&csp), "{csp}");
        assert!(page.find(&csp).unwrap() < page.find("<style>").unwrap());
        assert_eq!(scripts[0], SCRIPT.trim_end());
        for marker in ["{{", "{%", "{#"] {
            assert!(
                !SCRIPT.contains(marker),
                "the script would be read as a template"
            );
        }
        contains_all(
            &page,
            &[
                "<div id=\"syncscope-filter\" class=\"syncscope-filter\" role=\"search\" hidden>",
                "<label for=\"syncscope-q\">Filter the lists by name or description</label>",
                "<input id=\"syncscope-q\" type=\"search\"",
                "role=\"status\"",
                "<table class=\"syncscope-table\" data-syncscope-cols=\"2\">",
            ],
        );
        // The snippet lives in someone else's page: no script, no box, no policy.
        let snippet = v.snippet().unwrap();
        for absent in [
            "<script",
            "id=\"syncscope-filter\"",
            "<input",
            "Content-Security-Policy",
        ] {
            assert!(!snippet.contains(absent), "the snippet holds {absent}");
        }
        assert!(snippet.contains("<details class=\"syncscope-list\""));
    }

    #[test]
    fn badges_hold_only_short_words_that_never_break_and_reasons_follow_them() {
        let outcome = sample(Verdict::PartialFailure, false, 16, false);
        let v = view(&outcome);
        let page = v.page().unwrap();
        let not_added = v
            .groups
            .iter()
            .find(|r| matches!(r.scope, ScopeState::NotAdded { .. }))
            .unwrap();
        let reason = not_added.scope.reason().unwrap();
        assert!(page.contains(&format!(
            "<span class=\"syncscope-scope--problem\">not added</span> <span class=\"syncscope-detail\">{reason}</span>"
        )));
        assert!(page.contains("<span class=\"syncscope-scope--problem\">failed</span> <span class=\"syncscope-detail\">AccessDeniedException"));
        assert!(page.contains("<span class=\"syncscope-scope--ok\">added in this run</span>"));
        for badge in page.split("<span class=\"syncscope-s").skip(1) {
            let words = badge.split('>').nth(1).unwrap().split('<').next().unwrap();
            assert!(
                words.len() <= 40 && !words.contains(": "),
                "a long badge: {words:?}"
            );
        }
        let rule = CSS
            .lines()
            .find(|l| l.contains("white-space: nowrap"))
            .unwrap();
        for class in ["synced", "pending", "notfound", "unknown"] {
            assert!(
                rule.contains(&format!(".syncscope-status--{class}")),
                "{class}"
            );
        }
        for class in ["ok", "planned", "problem"] {
            assert!(
                rule.contains(&format!(".syncscope-scope--{class}")),
                "{class}"
            );
        }
    }

    #[test]
    fn two_thousand_groups_render() {
        let outcome = sample(Verdict::Changed, false, 2000, true);
        let v = view(&outcome);
        let page = v.page().unwrap();
        assert!(v.groups.len() >= 1600);
        assert!(page.matches("<tr><th scope=\"row\">").count() >= 1600);
    }

    #[test]
    fn five_thousand_groups_render_no_bigger_than_before_the_filter_box() {
        // Before the filter box, the collapsed lists and the list of names not in AD,
        // these pages were 2,998,389 and 4,040,477 bytes: what they added per row, the
        // single-class badges paid back. Those pages had no access map: it is left out
        // here, and its own cost is bounded below.
        for (hostile, before) in [(false, 2_998_389), (true, 4_040_477)] {
            let outcome = without_access(sample(Verdict::Changed, false, 5000, hostile));
            let enrichment = Enrichment {
                access: None,
                ..samples::enrichment(&outcome)
            };
            let v = DocsView::build(&outcome, &enrichment);
            let page = v.page().unwrap();
            assert_eq!(v.groups.len(), 4000);
            assert!(
                page.len() < before,
                "{} bytes (hostile: {hostile})",
                page.len()
            );
            assert!(!v.open(v.groups.len()));
        }
    }

    /// The outcome as if the access map had not been read for its impact.
    fn without_access(mut outcome: Outcome) -> Outcome {
        if let Some(impact) = outcome.impact.as_mut() {
            impact.access = None;
        }
        outcome
    }

    #[test]
    fn the_access_map_costs_a_bounded_number_of_bytes_per_group_at_five_thousand() {
        // Each group's grants (one to three sample labels in its row, its name once per
        // grant in the access by account table) and what the users of its impact lose
        // and keep: at most 250 bytes a group row.
        for hostile in [false, true] {
            let outcome = sample(Verdict::Changed, false, 5000, hostile);
            let bare = without_access(outcome.clone());
            let with = samples::enrichment(&outcome);
            let without = Enrichment {
                access: None,
                ..with.clone()
            };
            let (with, without) = (
                DocsView::build(&outcome, &with),
                DocsView::build(&bare, &without),
            );
            let added = with.page().unwrap().len() - without.page().unwrap().len();
            let rows = with.groups.len();
            assert!(
                added <= 250 * rows,
                "{added} bytes for {rows} groups (hostile: {hostile})"
            );
            assert!(!with.open(with.accounts.len()) || with.accounts.len() <= COLLAPSE_OVER);
        }
    }

    /// An outcome of groups `Kept`, `Idle` (grants nothing), `Gone` (removed in a dry
    /// run, still assigned), `Empty` (no members, the only holder of `Fresh`) and
    /// `Unread` (synced, not in the map), with the enrichment that says so.
    fn access_sample() -> (Outcome, Enrichment) {
        let mut outcome = sample(Verdict::Changed, true, 0, false);
        let plan = outcome.plan.as_mut().unwrap();
        plan.actions = ["Kept", "Idle", "Gone", "Empty", "Unread"]
            .into_iter()
            .map(|name| {
                let op = if name == "Gone" { Op::Remove } else { Op::Keep };
                samples::action(op, FilterKind::Group, name)
            })
            .collect();
        outcome.scope_after = None;
        outcome.directory = None;
        let mut e = Enrichment::default();
        for (name, members) in [
            ("Kept", 4),
            ("Idle", 2),
            ("Gone", 3),
            ("Empty", 0),
            ("Unread", 1),
        ] {
            e.insert(
                &display_name(name, samples::DOMAIN),
                Lookup::Found {
                    group_id: format!("g-{name}"),
                    members: Ok(members),
                },
            );
        }
        let admin = samples::sample_grant(0, "AdministratorAccess");
        let read = samples::sample_grant(1, "ReadOnlyAccess");
        let fresh = samples::sample_grant(2, "Fresh");
        e.access = Some(AccessMap {
            grants: [
                ("g-Kept", vec![admin.clone(), read.clone()]),
                ("g-Idle", vec![]),
                ("g-Gone", vec![admin]),
                ("g-Empty", vec![fresh]),
            ]
            .into_iter()
            .map(|(id, grants)| (id.to_owned(), grants))
            .collect(),
            partial: Some("out of time after 2 of 3 pages".into()),
            note: Some("account names were not read".into()),
            strategy: Some(Strategy::PerPrincipal),
        });
        (outcome, e)
    }

    /// The row of the group table that names `group`.
    fn group_row<'p>(page: &'p str, group: &str) -> &'p str {
        page.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "<tr><th scope=\"row\"><bdi>{group}</bdi></th><td><bdi></bdi>"
                ))
            })
            .unwrap_or_else(|| panic!("no row for {group}"))
    }

    #[test]
    fn each_group_row_shows_what_it_grants_nothing_or_not_read() {
        let (outcome, enrichment) = access_sample();
        let page = DocsView::build(&outcome, &enrichment).page().unwrap();
        assert!(page.contains("<th scope=\"col\">Grants in AWS</th>"));
        assert!(group_row(&page, "Kept").ends_with(
            "<td><bdi>AdministratorAccess in payments-prod (111122223333)</bdi><br><bdi>ReadOnlyAccess in payments-test (222233334444)</bdi></td></tr>"
        ));
        assert!(
            group_row(&page, "Idle")
                .ends_with("<td><span class=\"syncscope-detail\">grants nothing</span></td></tr>")
        );
        assert!(
            group_row(&page, "Unread")
                .ends_with("<td><span class=\"syncscope-detail\">not read</span></td></tr>")
        );
        // Not read at all: no column, no section, no error.
        let unread = DocsView::build(
            &outcome,
            &Enrichment {
                access: None,
                ..enrichment
            },
        );
        let page = unread.page().unwrap();
        for absent in [
            "Grants in AWS",
            "grants nothing",
            "Access by account",
            "Access findings",
        ] {
            assert!(!page.contains(absent), "{absent}");
        }
        assert!(unread.findings.is_empty());
    }

    #[test]
    fn access_by_account_lists_each_permission_set_with_the_groups_in_scope_once() {
        let (outcome, enrichment) = access_sample();
        let v = DocsView::build(&outcome, &enrichment);
        let rows: Vec<(&str, &str, Vec<&str>)> = v
            .accounts
            .iter()
            .map(|r| {
                (
                    r.account.as_str(),
                    r.permission_set.as_str(),
                    r.groups.clone(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "payments-prod (111122223333)",
                    "AdministratorAccess",
                    vec!["Gone", "Kept"]
                ),
                (
                    "payments-test (222233334444)",
                    "ReadOnlyAccess",
                    vec!["Kept"]
                ),
                ("shared-services (333344445555)", "Fresh", vec!["Empty"]),
            ]
        );
        let page = v.page().unwrap();
        contains_all(
            &page,
            &[
                "<h2 id=\"syncscope-access\">Access by account</h2>",
                "<summary>3 permission sets in accounts<span class=\"syncscope-shown\"></span></summary>",
                "<table class=\"syncscope-table\" data-syncscope-cols=\"3\">",
                "<tr><th scope=\"row\"><bdi>payments-prod (111122223333)</bdi></th><td><bdi>AdministratorAccess</bdi> <span class=\"syncscope-detail\">session 8 h</span></td><td><bdi>Gone</bdi>, <bdi>Kept</bdi></td></tr>",
            ],
        );
        assert_eq!(
            page.matches("Access map partial: out of time after 2 of 3 pages.")
                .count(),
            1
        );
        assert_eq!(page.matches("account names were not read").count(), 1);
        // A group not added (yet) is not in the scope: it grants nothing there.
        let mut live = outcome.clone();
        live.dry_run = false;
        live.plan.as_mut().unwrap().actions[0].op = Op::Create;
        live.results.clear();
        let v = DocsView::build(&live, &enrichment);
        assert!(v.accounts.iter().all(|r| !r.groups.contains(&"Kept")));
    }

    #[test]
    fn access_findings_are_listed_on_the_page_and_in_groups_json() {
        let (outcome, enrichment) = access_sample();
        let findings = access_findings(&outcome, &enrichment);
        assert_eq!(
            findings,
            vec![
                Finding::GrantsNothing {
                    groups: vec!["Idle".into()]
                },
                Finding::AssignmentStops {
                    group: "Gone".into(),
                    grants: vec![samples::sample_grant(0, "AdministratorAccess")]
                },
                Finding::NobodyHasIt {
                    permission_set: "Fresh".into(),
                    groups: vec!["Empty".into()]
                },
            ]
        );
        let v = DocsView::build(&outcome, &enrichment);
        assert_eq!(v.findings, findings);
        let page = v.page().unwrap();
        assert!(page.contains("<h2 id=\"syncscope-findings\">Access findings</h2>"));
        for finding in &findings {
            assert!(
                page.contains(&format!("<li>{}</li>", finding.text(COLLAPSE_OVER))),
                "{page}"
            );
        }
        let json: serde_json::Value = serde_json::from_str(&v.json()).unwrap();
        assert_eq!(json["findings"][0]["finding"], "grants-nothing");
        assert_eq!(
            json["findings"][1]["grants"][0]["permission_set"],
            "AdministratorAccess"
        );
        assert_eq!(
            json["access"],
            serde_json::json!({
                "partial": "out of time after 2 of 3 pages",
                "note": "account names were not read",
                "strategy": "per-principal"
            })
        );
        let groups = json["groups"].as_array().unwrap();
        let of = |name: &str| groups.iter().find(|g| g["name"] == name).unwrap();
        assert_eq!(
            of("Kept")["assignments"][0],
            serde_json::json!({
                "account_id": "111122223333",
                "account_name": "payments-prod",
                "permission_set": "AdministratorAccess",
                "session_duration": "PT8H"
            })
        );
        assert_eq!(of("Idle")["assignments"], serde_json::json!([]));
        assert!(of("Unread").get("assignments").is_none());
        // Not read: no access, no findings, no assignments.
        let unread = Enrichment {
            access: None,
            ..enrichment
        };
        assert!(access_findings(&outcome, &unread).is_empty());
        let json = DocsView::build(&outcome, &unread).json();
        for key in ["\"access\"", "\"findings\"", "\"assignments\""] {
            assert!(!json.contains(key), "{key}");
        }
    }

    #[test]
    fn the_impact_section_names_what_each_user_loses_and_keeps() {
        let outcome = sample(Verdict::Changed, false, 16, false);
        let impact = outcome.impact.clone().unwrap();
        let loser = &impact.losing[0];
        let kept = &impact.keeping[0];
        let labels = |grants: &[Grant]| -> String {
            grants
                .iter()
                .map(|g| format!("<bdi>{}</bdi>", g.label()))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let v = view(&outcome);
        let page = v.page().unwrap();
        assert!(!loser.loses.is_empty() && !kept.keeps.is_empty());
        contains_all(
            &page,
            &[
                "<th scope=\"col\">Display name</th><th scope=\"col\">Loses</th></tr>",
                "<th scope=\"col\">Keeps access through</th><th scope=\"col\">Loses</th><th scope=\"col\">Keeps</th></tr>",
                &format!(
                    "<bdi>{}</bdi></td><td>{}</td></tr>",
                    loser.display_name,
                    labels(&loser.loses)
                ),
                &format!(
                    "<bdi>{}</bdi></td><td>{}</td><td>{}</td></tr>",
                    kept.through,
                    labels(&kept.person.loses),
                    labels(&kept.keeps)
                ),
            ],
        );
        assert!(!page.contains("What each user loses is partial"));
        // Partial: said once; not read: no columns.
        let mut partial = outcome.clone();
        partial.impact.as_mut().unwrap().access = Some(access::AccessRead {
            partial: Some("2 groups were not read".into()),
            note: None,
        });
        let page = view(&partial).page().unwrap();
        assert_eq!(
            page.matches("What each user loses is partial, a lower bound: 2 groups were not read.")
                .count(),
            1
        );
        let mut unread = outcome.clone();
        unread.impact.as_mut().unwrap().access = None;
        let page = view(&unread).page().unwrap();
        assert!(!page.contains("<th scope=\"col\">Loses</th>"));
    }
}
