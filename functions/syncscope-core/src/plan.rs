//! The planner: desired filters x current scope x ledger -> a plan.
//!
//! Pure and deterministic. In `managed` mode a filter is removed only if the ledger
//! says this config put it there; in `authoritative` mode the config is the whole
//! scope. Existing filters that the config wants are adopted, never re-created.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scope::{
    CoOwners, CurrentFilter, Desired, FilterKind, Keyed, Ledger, LedgerEntry, ScopeKey,
};

crate::choice::choice! {
    /// Who owns the sync scope.
    pub enum Mode {
        /// Remove only filters this config added (default).
        Managed = "managed",
        /// The config is the whole scope: anything else is removed.
        Authoritative = "authoritative",
    }
}

/// The deletion guard: the most one run may remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardLimits {
    /// At most this many removals per run (default 10).
    pub max_removals: u32,
    /// At most this share of the current scope, in percent (default 25).
    pub max_removal_percent: u32,
    /// At most this many users may lose AWS access in one run (default: no limit;
    /// see [`crate::impact`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_users_losing_access: Option<u32>,
}

impl Default for GuardLimits {
    fn default() -> Self {
        Self {
            max_removals: 10,
            max_removal_percent: 25,
            max_users_losing_access: None,
        }
    }
}

/// What happens to one filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Wanted and missing: create it.
    Create,
    /// Not wanted, and ours to remove: delete it.
    Remove,
    /// Wanted and already there, but not yet in the ledger: take ownership.
    Adopt,
    /// Wanted, there, and ours: nothing to do.
    Keep,
    /// There, not wanted, not ours: leave it and report it.
    Unmanaged,
    /// There, not wanted here, but another live stack of the sync profile lists it:
    /// left for that stack (never removed by this one), and no longer this stack's.
    Shared,
}

impl Op {
    /// Whether the op calls the identity-sync API.
    pub fn is_change(self) -> bool {
        matches!(self, Self::Create | Self::Remove)
    }

    /// The word used in tables and cards.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Remove => "remove",
            Self::Adopt => "adopt",
            Self::Keep => "keep",
            Self::Unmanaged => "unmanaged",
            Self::Shared => "shared",
        }
    }
}

/// One line of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// What to do.
    pub op: Op,
    /// Group or user.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The name (the config's spelling where the config has it).
    pub name: String,
    /// The AD domain.
    pub domain: String,
    /// The filter id, for filters that exist.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// The config's description, for wanted filters.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub description: String,
    /// The other live stacks of the sync profile that list this filter too (their
    /// stack names, sorted): a co-owned filter.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub wanted_by: Vec<String>,
    /// A removal that undoes this stack's own recent addition (an interrupted run's
    /// intent, or a rollback to the config before the run that added it): listed,
    /// but not counted by the deletion guard.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub undo: bool,
}

impl Keyed for Action {
    fn parts(&self) -> (FilterKind, &str, &str) {
        (self.kind, &self.domain, &self.name)
    }
}

/// The difference between the desired and the current scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The ownership mode the plan was made in.
    pub mode: Mode,
    /// The config's AD domain.
    pub domain: String,
    /// How many filters the scope holds now.
    pub scope_size: usize,
    /// Every filter, sorted by kind, then name (case-insensitive), then id.
    pub actions: Vec<Action>,
}

/// Per-op counts of a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Filters to create.
    pub create: usize,
    /// Filters to remove.
    pub remove: usize,
    /// Filters to adopt.
    pub adopt: usize,
    /// Filters left as they are.
    pub keep: usize,
    /// Filters not managed by this config.
    pub unmanaged: usize,
    /// Filters left for another live stack that lists them.
    #[serde(default)]
    pub shared: usize,
}

/// Plans the changes that make `current` match `desired`. A filter that another live
/// stack of the profile lists (`others`) is never removed: it is [`Op::Shared`] when
/// this config does not want it, and a wanted one names its co-owners.
pub fn plan(
    desired: &Desired,
    current: &[CurrentFilter],
    ledger: &Ledger,
    mode: Mode,
    others: &CoOwners,
) -> Plan {
    let domain = desired.domain.as_str();
    let owned: HashSet<ScopeKey> = ledger.entries.iter().map(LedgerEntry::key).collect();

    // The current scope by key; for duplicates, the lowest id is "the" filter.
    let mut sorted: Vec<&CurrentFilter> = current.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut existing: HashMap<ScopeKey, &CurrentFilter> = HashMap::with_capacity(current.len());
    let mut extras: Vec<&CurrentFilter> = Vec::new();
    for filter in sorted {
        match existing.entry(filter.key()) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(filter);
            }
            std::collections::hash_map::Entry::Occupied(_) => extras.push(filter),
        }
    }

    let mut actions = Vec::with_capacity(current.len() + desired.filters.len());
    let mut wanted: HashSet<ScopeKey> = HashSet::with_capacity(desired.filters.len());
    for filter in &desired.filters {
        let key = desired.key(filter);
        let (op, id) = match existing.get(&key) {
            None => (Op::Create, None),
            Some(found) if owned.contains(&key) => (Op::Keep, Some(found.id.clone())),
            Some(found) => (Op::Adopt, Some(found.id.clone())),
        };
        actions.push(Action {
            op,
            kind: filter.kind,
            name: filter.name.as_str().to_owned(),
            domain: domain.to_owned(),
            id,
            description: filter.description.as_str().to_owned(),
            wanted_by: others.of(&key).to_vec(),
            undo: false,
        });
        wanted.insert(key);
    }

    for (key, found) in &existing {
        if wanted.contains(key) {
            continue;
        }
        let ours = mode == Mode::Authoritative || owned.contains(key);
        let op = if ours { Op::Remove } else { Op::Unmanaged };
        actions.push(unwanted(found, op, others.of(key)));
    }
    for extra in extras {
        // A duplicate of a filter that stays: removing it takes no name away.
        let op = if mode == Mode::Authoritative {
            Op::Remove
        } else {
            Op::Unmanaged
        };
        actions.push(unwanted(extra, op, &[]));
    }

    // The case-insensitive name is built once per action, not once per comparison.
    actions.sort_by_cached_key(|a| (a.kind, a.key().name, a.id.clone(), a.op));
    Plan {
        mode,
        domain: domain.to_owned(),
        scope_size: current.len(),
        actions,
    }
}

/// The action for a filter this config does not want: `op`, unless other live stacks
/// list it, which leaves it to them.
fn unwanted(filter: &CurrentFilter, op: Op, wanted_by: &[String]) -> Action {
    Action {
        op: if wanted_by.is_empty() { op } else { Op::Shared },
        kind: filter.kind,
        name: filter.name.clone(),
        domain: filter.domain.clone(),
        id: Some(filter.id.clone()),
        description: String::new(),
        wanted_by: wanted_by.to_vec(),
        undo: false,
    }
}

/// The plan for deleting the stack with `OnDelete: remove`: every filter in the ledger
/// that still exists and no other live stack lists is removed; nothing else is
/// touched.
pub fn teardown(
    desired_domain: &crate::names::DomainName,
    current: &[CurrentFilter],
    ledger: &Ledger,
    others: &CoOwners,
) -> Plan {
    let nothing = Desired {
        domain: desired_domain.clone(),
        filters: Vec::new(),
    };
    plan(&nothing, current, ledger, Mode::Managed, others)
}

/// The deletion guard refused a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error(
    "refusing to remove {removals} of {scope_size} filters in one run ({percent} %): the deletion guard allows at most {max_removals} and at most {max_percent} % per run. Nothing was changed. If the removals are intended, set SSO.DeletionGuard.MaxRemovals to at least {removals} and SSO.DeletionGuard.MaxRemovalPercent to at least {percent} in the config and deploy again"
)]
pub struct GuardTripped {
    /// Removals the plan holds.
    pub removals: usize,
    /// Filters in the scope now.
    pub scope_size: usize,
    /// Removals as a share of the scope, rounded up.
    pub percent: usize,
    /// The configured count limit.
    pub max_removals: u32,
    /// The configured percent limit.
    pub max_percent: u32,
}

impl Plan {
    /// Counts per op.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for a in &self.actions {
            match a.op {
                Op::Create => c.create += 1,
                Op::Remove => c.remove += 1,
                Op::Adopt => c.adopt += 1,
                Op::Keep => c.keep += 1,
                Op::Unmanaged => c.unmanaged += 1,
                Op::Shared => c.shared += 1,
            }
        }
        c
    }

    /// The actions with a given op.
    pub fn with_op(&self, op: Op) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(move |a| a.op == op)
    }

    /// The actions that call the API: creates and removals.
    pub fn changes(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.op.is_change())
    }

    /// Whether applying the plan calls the API at all.
    pub fn has_changes(&self) -> bool {
        self.changes().next().is_some()
    }

    /// Marks the removals that undo this stack's own recent additions: a pending
    /// entry (an interrupted run's intent), or a filter created by the run that went
    /// from the config `config` (the short hash of this run's filters) to the one
    /// recorded since, which this run now goes back to (CloudFormation's rollback).
    /// A filter that run adopted existed before it: going back releases it (left in
    /// the scope, no longer this stack's) instead of removing it.
    pub fn mark_undo(&mut self, ledger: &Ledger, config: &str) {
        for action in self.actions.iter_mut().filter(|a| a.op == Op::Remove) {
            let Some(entry) = ledger.get(&action.key()) else {
                continue;
            };
            if entry.adopted_from.as_deref() == Some(config) && !entry.pending {
                action.op = Op::Unmanaged;
            } else {
                action.undo = entry.pending || entry.added_from.as_deref() == Some(config);
            }
        }
    }

    /// The removals the deletion guard counts: all but the undoing ones.
    pub fn guarded_removals(&self) -> usize {
        self.with_op(Op::Remove).filter(|a| !a.undo).count()
    }

    /// Checks the plan against the deletion guard.
    ///
    /// Trips when removals exceed `max_removals`, or exceed `max_removal_percent` of
    /// the current scope. Exactly at a limit is allowed. Removals that undo this
    /// stack's own recent additions ([`Plan::mark_undo`]) do not count.
    pub fn check_guard(&self, limits: &GuardLimits) -> Result<(), GuardTripped> {
        let removals = self.guarded_removals();
        let size = self.scope_size.max(1);
        let over_count = removals > limits.max_removals as usize;
        let over_share = removals * 100 > limits.max_removal_percent as usize * size;
        if removals > 0 && (over_count || over_share) {
            return Err(GuardTripped {
                removals,
                scope_size: self.scope_size,
                percent: (removals * 100).div_ceil(size),
                max_removals: limits.max_removals,
                max_percent: limits.max_removal_percent,
            });
        }
        Ok(())
    }

    /// The ledger after applying this plan (made for the filters of short hash
    /// `config`; None for a Delete), given what became of each change.
    ///
    /// Wanted filters that exist are owned; a create that may have happened stays
    /// as a pending entry (the next listing decides); a removal that did not surely
    /// happen stays owned (so the next run retries it); everything else leaves the
    /// ledger: unmanaged filters, filters left to another stack, and entries whose
    /// filter is neither wanted nor there. A create remembers the config the stack
    /// had before ([`LedgerEntry::added_from`]) until a run applies another config.
    pub fn ledger_after<'c>(
        &self,
        previous: &Ledger,
        configs: impl Into<Configs<'c>>,
        fate: impl Fn(&Action) -> Fate,
    ) -> Ledger {
        let Configs {
            now: config,
            before: told,
        } = configs.into();
        // A run of the config already recorded (a retry, a redelivery) goes on from
        // the same config before; another config starts from the one CloudFormation
        // says came before (an Update's old properties), else the recorded one.
        let same_config = config.is_some() && previous.config.as_deref() == config;
        let before = if same_config {
            previous.before.clone()
        } else {
            told.map(str::to_owned).or_else(|| previous.config.clone())
        };
        let entry = |a: &Action, pending: bool| {
            let carried = || previous.get(&a.key()).filter(|_| same_config);
            let (added_from, adopted_from) = match a.op {
                Op::Create => (before.clone(), None),
                Op::Adopt => (None, before.clone()),
                _ => (
                    carried().and_then(|e| e.added_from.clone()),
                    carried().and_then(|e| e.adopted_from.clone()),
                ),
            };
            LedgerEntry {
                kind: a.kind,
                name: a.name.clone(),
                domain: a.domain.clone(),
                pending,
                added_from,
                adopted_from,
                unlisted: false,
            }
        };
        // A filter this stack owns but no longer lists stays in its record, unlisted,
        // while it is in the scope for another stack (or its removal did not happen):
        // whoever lets go of it last removes it.
        // A failed removal keeps what it knew (its retry may still be an undo); a
        // filter left to another stack forgets it once another config is applied.
        let kept = |a: &Action, forget: bool| {
            previous.get(&a.key()).map(|e| LedgerEntry {
                unlisted: true,
                added_from: e.added_from.clone().filter(|_| !forget),
                adopted_from: e.adopted_from.clone().filter(|_| !forget),
                ..e.clone()
            })
        };
        let entries = self
            .actions
            .iter()
            .filter_map(|a| match (a.op, fate(a)) {
                (Op::Keep | Op::Adopt, _) | (Op::Create, Fate::Done) => Some(entry(a, false)),
                (Op::Create, Fate::InDoubt) => Some(entry(a, true)),
                (Op::Create, Fate::NotDone) | (Op::Remove, Fate::Done) | (Op::Unmanaged, _) => None,
                // A Delete lets go: the stack that lists it owns it from now on.
                (Op::Shared, _) if config.is_none() => None,
                (Op::Shared, _) => kept(a, !same_config),
                (Op::Remove, Fate::NotDone | Fate::InDoubt) => kept(a, false),
            })
            .collect();
        let mut ledger = Ledger::new(entries);
        if config.is_some() {
            ledger.config = config.map(str::to_owned);
            ledger.before = before;
        }
        ledger
    }

    /// The ledger to record before any change is sent: every create as a pending
    /// intent, everything else as [`Plan::ledger_after`] would leave it if nothing
    /// happened. A run that dies mid-apply leaves this behind, so the next run knows
    /// what it may have created.
    pub fn ledger_intent<'c>(&self, previous: &Ledger, configs: impl Into<Configs<'c>>) -> Ledger {
        self.ledger_after(previous, configs, |_| Fate::InDoubt)
    }
}

/// The configs a run's ledger records: the one it applies, and the one CloudFormation
/// says came before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Configs<'a> {
    /// The short hash of the filters the run applies (None: a Delete).
    pub now: Option<&'a str>,
    /// The short hash of the filters of an Update's old properties.
    pub before: Option<&'a str>,
}

impl<'a> From<Option<&'a str>> for Configs<'a> {
    fn from(now: Option<&'a str>) -> Self {
        Self { now, before: None }
    }
}

/// `NAME (wanted by STACK, ...)` for the first `limit` actions, then `+N more`.
pub fn wanted_by_list(actions: &[&Action], limit: usize) -> String {
    let mut shown: Vec<String> = actions
        .iter()
        .take(limit)
        .map(|a| {
            format!(
                "{} {} (wanted by {})",
                a.kind.noun(),
                a.name,
                a.wanted_by.join(", ")
            )
        })
        .collect();
    if actions.len() > limit {
        shown.push(format!("+{} more", actions.len() - limit));
    }
    shown.join("; ")
}

/// What became of one planned change, as far as a run can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The scope reflects it (the API said so, or a listing shows it).
    Done,
    /// It surely did not happen (never sent, or a listing shows it did not).
    NotDone,
    /// It may or may not have happened (sent, no answer, nothing listed since).
    InDoubt,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.counts();
        writeln!(
            f,
            "Sync scope plan (mode {}, domain {}, {} filters in scope now)",
            self.mode.as_str(),
            self.domain,
            self.scope_size
        )?;
        let width = self
            .actions
            .iter()
            .map(|a| a.name.chars().count())
            .max()
            .unwrap_or(0);
        let shown: Vec<&Action> = self.actions.iter().filter(|a| a.op != Op::Keep).collect();
        if !shown.is_empty() {
            writeln!(f)?;
        }
        for a in shown {
            let (sign, note) = match a.op {
                Op::Create => ("+", "create"),
                Op::Remove if a.undo => ("-", "remove: undoes this stack's own addition"),
                Op::Remove => ("-", "remove"),
                Op::Adopt => ("~", "adopt: exists, now managed by this config"),
                Op::Unmanaged => ("?", "not managed by this config: left alone"),
                Op::Shared => ("=", "left in the scope: another stack lists it"),
                Op::Keep => (" ", "keep"),
            };
            let also = if a.wanted_by.is_empty() {
                String::new()
            } else {
                format!(" (wanted by {})", a.wanted_by.join(", "))
            };
            writeln!(
                f,
                "  {sign} {:<5}  {:<width$}  {note}{also}",
                a.kind.as_str(),
                crate::names::printable(&a.name)
            )?;
        }
        writeln!(f)?;
        write!(
            f,
            "Plan: {} to create, {} to remove, {} to adopt, {} unchanged, {} not managed.",
            c.create, c.remove, c.adopt, c.keep, c.unmanaged
        )?;
        if c.shared > 0 {
            write!(f, " {} left for other stacks that list them.", c.shared)?;
        }
        if !self.has_changes() {
            write!(f, " The scope already matches the config.")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::Choice;
    use crate::names::DomainName;
    use proptest::prelude::*;

    const DOMAIN: &str = "corp.example.com";

    fn desired(groups: &[&str]) -> Desired {
        Desired::groups(DOMAIN, groups.iter().copied()).unwrap()
    }

    fn current(groups: &[&str]) -> Vec<CurrentFilter> {
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| CurrentFilter {
                id: format!("sf-{i:04}"),
                kind: FilterKind::Group,
                name: (*g).to_owned(),
                domain: DOMAIN.to_owned(),
            })
            .collect()
    }

    fn ledger(groups: &[&str]) -> Ledger {
        Ledger::new(
            groups
                .iter()
                .map(|g| LedgerEntry {
                    kind: FilterKind::Group,
                    name: (*g).to_owned(),
                    domain: DOMAIN.into(),
                    pending: false,
                    added_from: None,
                    adopted_from: None,
                    unlisted: false,
                })
                .collect(),
        )
    }

    fn ops(plan: &Plan) -> Vec<(Op, String)> {
        plan.actions
            .iter()
            .map(|a| (a.op, a.name.clone()))
            .collect()
    }

    /// A plan of group names: wanted, in the scope, owned.
    fn planned(want: &[&str], have: &[&str], owned: &[&str], mode: Mode) -> Plan {
        plan(
            &desired(want),
            &current(have),
            &ledger(owned),
            mode,
            &CoOwners::default(),
        )
    }

    /// A managed plan of group names against a ledger, with no other stack.
    fn managed(want: &[&str], have: &[&str], l: &Ledger) -> Plan {
        plan(
            &desired(want),
            &current(have),
            l,
            Mode::Managed,
            &CoOwners::default(),
        )
    }

    /// Asserts a plan's (op, name) lines, in order.
    fn assert_ops(plan: &Plan, expected: &[(Op, &str)]) {
        let expected: Vec<(Op, String)> = expected
            .iter()
            .map(|(op, n)| (*op, (*n).to_owned()))
            .collect();
        assert_eq!(ops(plan), expected, "{plan}");
    }

    #[test]
    fn plan_creates_missing_filters() {
        let p = plan(
            &desired(&["A"]),
            &[],
            &Ledger::default(),
            Mode::Managed,
            &CoOwners::default(),
        );
        assert_ops(&p, &[(Op::Create, "A")]);
    }

    #[test]
    fn plan_adopts_existing_filters_on_the_first_run() {
        let p = planned(&["A"], &["A"], &[], Mode::Managed);
        assert_ops(&p, &[(Op::Adopt, "A")]);
        assert!(!p.has_changes());
    }

    #[test]
    fn plan_keeps_filters_that_differ_only_in_case() {
        let p = planned(
            &["AWS-Admins"],
            &["aws-admins"],
            &["AWS-ADMINS"],
            Mode::Managed,
        );
        assert_ops(&p, &[(Op::Keep, "AWS-Admins")]);
    }

    #[test]
    fn managed_mode_removes_only_what_the_ledger_owns() {
        let p = planned(&[], &["Mine", "Theirs"], &["Mine"], Mode::Managed);
        assert_ops(&p, &[(Op::Remove, "Mine"), (Op::Unmanaged, "Theirs")]);
    }

    #[test]
    fn authoritative_mode_removes_everything_not_wanted() {
        let p = planned(&["A"], &["A", "B"], &[], Mode::Authoritative);
        assert_ops(&p, &[(Op::Adopt, "A"), (Op::Remove, "B")]);
    }

    #[test]
    fn filters_of_another_domain_never_match_the_config() {
        let mut other = current(&["A"]);
        other[0].domain = "other.example.com".into();
        let p = plan(
            &desired(&["A"]),
            &other,
            &Ledger::default(),
            Mode::Managed,
            &CoOwners::default(),
        );
        assert_ops(&p, &[(Op::Create, "A"), (Op::Unmanaged, "A")]);
    }

    #[test]
    fn duplicates_in_the_scope_are_removed_only_in_authoritative_mode() {
        let scope = current(&["A", "a"]);
        let managed = plan(
            &desired(&["A"]),
            &scope,
            &ledger(&["A"]),
            Mode::Managed,
            &CoOwners::default(),
        );
        assert_eq!(managed.counts().unmanaged, 1);
        let authoritative = plan(
            &desired(&["A"]),
            &scope,
            &ledger(&["A"]),
            Mode::Authoritative,
            &CoOwners::default(),
        );
        assert_eq!(authoritative.counts().remove, 1);
        assert_eq!(
            authoritative
                .with_op(Op::Remove)
                .next()
                .unwrap()
                .id
                .as_deref(),
            Some("sf-0001")
        );
    }

    #[test]
    fn a_missing_ledger_never_causes_a_removal_in_managed_mode() {
        let p = planned(&[], &["A", "B"], &[], Mode::Managed);
        assert_eq!(p.counts().remove, 0);
    }

    #[test]
    fn guard_allows_exactly_the_limits_and_trips_one_past() {
        let names: Vec<String> = (0..40).map(|i| format!("G{i:02}")).collect();
        let all: Vec<&str> = names.iter().map(String::as_str).collect();
        let limits = GuardLimits::default();
        // 10 of 40 = 25 %: exactly at both limits.
        let at = planned(&all[10..], &all, &all, Mode::Managed);
        assert_eq!(at.counts().remove, 10);
        assert!(at.check_guard(&limits).is_ok());
        // 11 of 40: over the count limit.
        let over = planned(&all[11..], &all, &all, Mode::Managed);
        let e = over.check_guard(&limits).unwrap_err();
        assert_eq!((e.removals, e.percent), (11, 28));
        assert!(e.to_string().contains("MaxRemovals to at least 11"), "{e}");
    }

    #[test]
    fn guard_trips_on_the_share_of_a_small_scope() {
        let p = planned(&["A", "B"], &["A", "B", "C"], &["C"], Mode::Managed);
        let e = p.check_guard(&GuardLimits::default()).unwrap_err();
        assert_eq!(e.percent, 34);
        assert!(
            p.check_guard(&GuardLimits {
                max_removals: 10,
                max_removal_percent: 34,
                ..GuardLimits::default()
            })
            .is_ok()
        );
    }

    #[test]
    fn teardown_removes_only_ledger_filters() {
        let domain = DomainName::parse(DOMAIN).unwrap();
        let p = teardown(
            &domain,
            &current(&["Mine", "Theirs"]),
            &ledger(&["Mine", "Gone"]),
            &CoOwners::default(),
        );
        assert_ops(&p, &[(Op::Remove, "Mine"), (Op::Unmanaged, "Theirs")]);
    }

    /// Other stacks' records: (stack name, the names it lists).
    fn others(stacks: &[(&str, &[&str])]) -> CoOwners {
        let mut co = CoOwners::default();
        for (stack, names) in stacks {
            co.add(stack, &ledger(names));
        }
        co
    }

    #[test]
    fn a_name_another_stack_lists_is_left_for_it_and_kept_unlisted_until_it_lets_go() {
        let co = others(&[("PROD", &["Shared"])]);
        let p = plan(
            &desired(&["Mine"]),
            &current(&["Mine", "Shared", "Old"]),
            &ledger(&["Mine", "Shared", "Old"]),
            Mode::Managed,
            &co,
        );
        assert_ops(
            &p,
            &[
                (Op::Keep, "Mine"),
                (Op::Remove, "Old"),
                (Op::Shared, "Shared"),
            ],
        );
        let shared = p.with_op(Op::Shared).next().unwrap();
        assert_eq!(shared.wanted_by, ["PROD"]);
        assert!(
            p.to_string()
                .contains("another stack lists it (wanted by PROD)"),
            "{p}"
        );
        let after = p.ledger_after(&ledger(&["Mine", "Shared", "Old"]), Some("v2"), |_| {
            Fate::Done
        });
        let names: Vec<(&str, bool)> = after
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.unlisted))
            .collect();
        assert_eq!(
            names,
            [("Mine", false), ("Shared", true)],
            "still this stack's, but no longer listed by it"
        );
        // Other stacks do not count an unlisted entry as wanted, and once PROD lets
        // go of the name, this stack's next run removes it.
        let mut seen = CoOwners::default();
        seen.add("TEST", &after);
        assert_eq!(seen.of(&after.entries[1].key()), &[] as &[String]);
        let next = plan(
            &desired(&["Mine"]),
            &current(&["Mine", "Shared"]),
            &after,
            Mode::Managed,
            &CoOwners::default(),
        );
        assert_ops(&next, &[(Op::Keep, "Mine"), (Op::Remove, "Shared")]);
        // A Delete hands the name over to the stack that lists it.
        let down = p.ledger_after(&ledger(&["Mine", "Shared"]), None, |_| Fate::Done);
        assert!(down.entries.iter().all(|e| e.name != "Shared"), "{down:?}");
    }

    #[test]
    fn authoritative_runs_and_teardowns_never_remove_what_another_stack_lists() {
        let co = others(&[("TEST", &["Theirs"]), ("PROD", &["Theirs", "Both"])]);
        let p = plan(
            &desired(&["Both"]),
            &current(&["Both", "Theirs", "Console"]),
            &Ledger::default(),
            Mode::Authoritative,
            &co,
        );
        assert_ops(
            &p,
            &[
                (Op::Adopt, "Both"),
                (Op::Remove, "Console"),
                (Op::Shared, "Theirs"),
            ],
        );
        assert_eq!(
            p.actions[0].wanted_by,
            ["PROD"],
            "a co-owned name names its co-owners"
        );
        assert_eq!(p.actions[2].wanted_by, ["PROD", "TEST"]);
        let domain = DomainName::parse(DOMAIN).unwrap();
        let down = teardown(
            &domain,
            &current(&["Both", "Mine"]),
            &ledger(&["Both", "Mine"]),
            &co,
        );
        assert_ops(&down, &[(Op::Shared, "Both"), (Op::Remove, "Mine")]);
    }

    /// A ledger as a run of config `config` (from `before`) leaves it.
    fn recorded(names: &[&str], added: &[&str], config: &str, before: Option<&str>) -> Ledger {
        let mut l = ledger(names);
        for e in &mut l.entries {
            if added.contains(&e.name.as_str()) {
                e.added_from = before.map(str::to_owned);
            }
        }
        l.config = Some(config.to_owned());
        l.before = before.map(str::to_owned);
        l
    }

    #[test]
    fn a_rollback_to_the_config_before_undoes_its_additions_outside_the_guard() {
        // 2 filters, the last run (config v2, from v1) added one: 50 % of the scope.
        let l = recorded(&["Kept", "New"], &["New"], "v2", Some("v1"));
        let mut p = managed(&["Kept"], &["Kept", "New"], &l);
        let strict = GuardLimits {
            max_removals: 0,
            max_removal_percent: 0,
            max_users_losing_access: None,
        };
        assert!(p.check_guard(&strict).is_err(), "not marked: counted");
        p.mark_undo(&l, "v1");
        assert!(p.with_op(Op::Remove).all(|a| a.undo));
        assert_eq!(p.check_guard(&strict), Ok(()));
        assert!(
            p.to_string().contains("undoes this stack's own addition"),
            "{p}"
        );
    }

    #[test]
    fn only_a_return_to_the_config_before_or_an_intent_is_an_undo() {
        let l = recorded(&["Kept", "New", "Older"], &["New"], "v2", Some("v1"));
        let mut p = managed(&["Kept"], &["Kept", "New", "Older"], &l);
        p.mark_undo(&l, "v3");
        assert_eq!(
            p.guarded_removals(),
            2,
            "another config: every removal counts"
        );
        p.mark_undo(&l, "v1");
        assert_eq!(
            p.guarded_removals(),
            1,
            "Older was not added by the last run"
        );
        let mut pending = ledger(&["Kept", "Maybe"]);
        pending.entries[1].pending = true;
        let mut p = managed(&["Kept"], &["Kept", "Maybe"], &pending);
        p.mark_undo(&pending, "v9");
        assert_eq!(
            p.guarded_removals(),
            0,
            "an interrupted run's intent is an undo"
        );
    }

    #[test]
    fn additions_are_remembered_until_another_config_is_applied() {
        let p = planned(&["Kept", "New"], &["Kept"], &["Kept"], Mode::Managed);
        let l1 = Ledger {
            config: Some("v1".into()),
            ..ledger(&["Kept"])
        };
        // The intent and the run of v2 both remember that v1 came before.
        let intent = p.ledger_intent(&l1, Some("v2"));
        assert_eq!(intent.before.as_deref(), Some("v1"));
        let done = p.ledger_after(&intent, Some("v2"), |_| Fate::Done);
        let added: Vec<(&str, Option<&str>)> = done
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.added_from.as_deref()))
            .collect();
        assert_eq!(added, [("Kept", None), ("New", Some("v1"))]);
        assert_eq!(
            (done.config.as_deref(), done.before.as_deref()),
            (Some("v2"), Some("v1"))
        );
        // A redelivery of v2 keeps it; the next config forgets it.
        let keep = planned(
            &["Kept", "New"],
            &["Kept", "New"],
            &["Kept", "New"],
            Mode::Managed,
        );
        let again = keep.ledger_after(&done, Some("v2"), |_| Fate::Done);
        assert_eq!(
            again
                .get(&done.entries[1].key())
                .unwrap()
                .added_from
                .as_deref(),
            Some("v1")
        );
        let next = keep.ledger_after(&done, Some("v3"), |_| Fate::Done);
        assert!(next.entries.iter().all(|e| e.added_from.is_none()));
        assert_eq!(next.before.as_deref(), Some("v2"));
    }

    #[test]
    fn a_rollback_releases_what_the_undone_run_adopted_instead_of_removing_it() {
        // v1 -> v2 adopted "Existing" (it was there before): going back to v1 leaves
        // it in the scope, as it was, and drops it from the ledger.
        let p = planned(
            &["Kept", "Existing"],
            &["Kept", "Existing"],
            &["Kept"],
            Mode::Managed,
        );
        let l1 = Ledger {
            config: Some("v1".into()),
            ..ledger(&["Kept"])
        };
        let l2 = p.ledger_after(&l1, Some("v2"), |_| Fate::Done);
        let mut back = managed(&["Kept"], &["Kept", "Existing"], &l2);
        back.mark_undo(&l2, "v1");
        assert_ops(&back, &[(Op::Unmanaged, "Existing"), (Op::Keep, "Kept")]);
        let l3 = back.ledger_after(&l2, Some("v1"), |_| Fate::Done);
        assert_eq!(l3.entries.len(), 1);
    }

    #[test]
    fn the_config_before_comes_from_the_update_when_the_record_does_not_know_it() {
        // The record was lost: the Update's old properties still say what came before.
        let p = planned(&["Kept", "New"], &["Kept"], &[], Mode::Managed);
        let configs = Configs {
            now: Some("v2"),
            before: Some("v1"),
        };
        let l = p.ledger_after(&Ledger::default(), configs, |_| Fate::Done);
        assert_eq!(l.before.as_deref(), Some("v1"));
        let mut back = managed(&["Kept"], &["Kept", "New"], &l);
        back.mark_undo(&l, "v1");
        assert_eq!(back.guarded_removals(), 0);
    }

    #[test]
    fn a_failed_undo_stays_an_undo_for_the_retry() {
        let l = recorded(&["Kept", "New"], &["New"], "v2", Some("v1"));
        let mut p = managed(&["Kept"], &["Kept", "New"], &l);
        p.mark_undo(&l, "v1");
        let after = p.ledger_after(&l, Some("v1"), |_| Fate::NotDone);
        let mut retry = managed(&["Kept"], &["Kept", "New"], &after);
        retry.mark_undo(&after, "v1");
        assert_eq!(retry.guarded_removals(), 0);
    }

    #[test]
    fn ledger_after_keeps_failed_removals_and_drops_failed_creates() {
        let p = planned(
            &["New", "Kept"],
            &["Kept", "Old"],
            &["Kept", "Old"],
            Mode::Managed,
        );
        let names = |l: &Ledger| -> Vec<(String, bool)> {
            l.entries
                .iter()
                .map(|e| (e.name.clone(), e.pending))
                .collect()
        };
        let nothing_worked = p.ledger_after(&ledger(&["Kept", "Old"]), None, |_| Fate::NotDone);
        assert_eq!(
            names(&nothing_worked),
            [("Kept".into(), false), ("Old".into(), false)]
        );
        let all_worked = p.ledger_after(&ledger(&["Kept", "Old"]), None, |_| Fate::Done);
        assert_eq!(
            names(&all_worked),
            [("Kept".into(), false), ("New".into(), false)]
        );
    }

    #[test]
    fn a_create_in_doubt_is_recorded_as_pending_and_a_removal_in_doubt_stays_owned() {
        let p = planned(
            &["New", "Kept"],
            &["Kept", "Old"],
            &["Kept", "Old"],
            Mode::Managed,
        );
        let intent = p.ledger_intent(&ledger(&["Kept", "Old"]), None);
        let got: Vec<(&str, bool)> = intent
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.pending))
            .collect();
        assert_eq!(got, [("Kept", false), ("New", true), ("Old", false)]);
        assert_eq!(intent.pending().count(), 1);
    }

    #[test]
    fn a_pending_entry_counts_as_owned_if_its_filter_exists_and_leaves_when_it_does_not() {
        let mut l = ledger(&["Maybe", "Ghost"]);
        for e in &mut l.entries {
            e.pending = true;
        }
        // "Maybe" exists and is no longer wanted: ours to remove. "Ghost" never came.
        let p = managed(&[], &["Maybe"], &l);
        assert_ops(&p, &[(Op::Remove, "Maybe")]);
        let after = p.ledger_after(&l, None, |_| Fate::Done);
        assert!(after.entries.is_empty(), "{after:?}");
        // Wanted and there: confirmed.
        let p = managed(&["Maybe"], &["Maybe"], &l);
        let after = p.ledger_after(&l, None, |_| Fate::Done);
        assert_eq!(after.entries.len(), 1);
        assert!(!after.entries[0].pending);
    }

    #[test]
    fn display_reads_like_a_plan() {
        let p = planned(
            &["New", "Kept"],
            &["Kept", "Old", "Other"],
            &["Kept", "Old"],
            Mode::Managed,
        );
        let text = p.to_string();
        assert!(text.contains("  + GROUP  New    create"), "{text}");
        assert!(text.contains("  - GROUP  Old    remove"), "{text}");
        assert!(text.contains("  ? GROUP  Other  not managed"), "{text}");
        assert!(
            text.ends_with(
                "Plan: 1 to create, 1 to remove, 0 to adopt, 1 unchanged, 1 not managed."
            ),
            "{text}"
        );
    }

    // --- properties -------------------------------------------------------------

    fn name_strategy() -> impl Strategy<Value = String> {
        // A small alphabet with both cases, so case-insensitive collisions happen often.
        proptest::string::string_regex("[abAB][abAB0-9]{0,2}").unwrap()
    }

    fn scope_strategy() -> impl Strategy<Value = (Vec<String>, Vec<String>, Vec<String>)> {
        (
            proptest::collection::vec(name_strategy(), 0..12),
            proptest::collection::vec(name_strategy(), 0..12),
            proptest::collection::vec(name_strategy(), 0..12),
        )
    }

    fn dedup_ci(names: Vec<String>) -> Vec<String> {
        let mut seen = HashSet::new();
        names
            .into_iter()
            .filter(|n| seen.insert(crate::names::name_key(n)))
            .collect()
    }

    /// Applies the successful changes of a plan to a scope, like the executor would.
    fn apply(plan: &Plan, scope: &[CurrentFilter], next_id: &mut usize) -> Vec<CurrentFilter> {
        let removed: HashSet<&str> = plan
            .with_op(Op::Remove)
            .filter_map(|a| a.id.as_deref())
            .collect();
        let mut out: Vec<CurrentFilter> = scope
            .iter()
            .filter(|f| !removed.contains(f.id.as_str()))
            .cloned()
            .collect();
        for a in plan.with_op(Op::Create) {
            *next_id += 1;
            out.push(CurrentFilter {
                id: format!("new-{next_id:04}"),
                kind: a.kind,
                name: a.name.clone(),
                domain: a.domain.clone(),
            });
        }
        out
    }

    /// The desired filters (case duplicates dropped), the scope and the ledger of
    /// generated names.
    fn scenario(
        want: Vec<String>,
        have: Vec<String>,
        owned: Vec<String>,
    ) -> (Desired, Vec<CurrentFilter>, Ledger) {
        let want = dedup_ci(want);
        fn names(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        (
            desired(&names(&want)),
            current(&names(&have)),
            ledger(&names(&owned)),
        )
    }

    fn keys(scope: &[CurrentFilter]) -> Vec<ScopeKey> {
        let mut k: Vec<ScopeKey> = scope.iter().map(CurrentFilter::key).collect();
        k.sort();
        k
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn authoritative_apply_yields_exactly_the_desired_scope((want, have, owned) in scope_strategy()) {
            let (d, scope, l) = scenario(want, have, owned);
            let p = plan(&d, &scope, &l, Mode::Authoritative, &CoOwners::default());
            let after = apply(&p, &scope, &mut 0);
            let mut expected: Vec<ScopeKey> = d.filters.iter().map(|f| d.key(f)).collect();
            expected.sort();
            prop_assert_eq!(keys(&after), expected);
        }

        /// The directory check asks the config's names before the scope is listed:
        /// they must be exactly the names the plan then creates, adopts or keeps.
        #[test]
        fn the_directory_checks_names_are_the_ones_the_plan_wants(
            (want, have, owned) in scope_strategy(),
            mode in prop::sample::select(Mode::ALL),
        ) {
            let (d, scope, l) = scenario(want, have, owned);
            let p = plan(&d, &scope, &l, mode, &CoOwners::default());
            let mut from_plan: Vec<(FilterKind, String)> = p
                .actions
                .iter()
                .filter(|a| matches!(a.op, Op::Create | Op::Adopt | Op::Keep))
                .map(|a| (a.kind, a.name.clone()))
                .collect();
            let mut checked: Vec<(FilterKind, String)> = crate::directory::wanted(&d)
                .into_iter()
                .map(|w| (w.kind, w.name))
                .collect();
            from_plan.sort();
            checked.sort();
            prop_assert_eq!(from_plan, checked);
        }

        #[test]
        fn a_plan_covers_every_filter_once_and_applying_it_leaves_nothing_to_do(
            (want, have, owned) in scope_strategy(),
            mode in prop::sample::select(Mode::ALL),
        ) {
            let (d, scope, l) = scenario(want, have, owned);
            let p = plan(&d, &scope, &l, mode, &CoOwners::default());
            let c = p.counts();
            prop_assert_eq!(c.create + c.adopt + c.keep, d.filters.len());
            prop_assert_eq!(c.adopt + c.keep + c.remove + c.unmanaged, scope.len());
            let after = apply(&p, &scope, &mut 0);
            let l2 = p.ledger_after(&l, None, |_| Fate::Done);
            let again = plan(&d, &after, &l2, mode, &CoOwners::default());
            prop_assert!(!again.has_changes(), "{}", again);
            prop_assert_eq!(again.counts().adopt, 0);
        }

        #[test]
        fn managed_mode_never_removes_an_unmanaged_filter((want, have, owned) in scope_strategy()) {
            let (d, scope, l) = scenario(want, have, owned);
            let p = plan(&d, &scope, &l, Mode::Managed, &CoOwners::default());
            for a in p.with_op(Op::Remove) {
                prop_assert!(l.contains(&a.key()), "removed {} which the ledger does not own", a.name);
            }
        }

        #[test]
        fn plans_are_deterministic_whatever_the_listing_order(
            (want, have, owned) in scope_strategy(),
            seed in any::<u64>(),
        ) {
            let (d, scope, l) = scenario(want, have, owned);
            let mut shuffled = scope.clone();
            // A cheap deterministic shuffle.
            let n = shuffled.len();
            for i in 0..n {
                let j = ((seed as usize).wrapping_mul(31).wrapping_add(i * 17)) % n.max(1);
                shuffled.swap(i, j);
            }
            prop_assert_eq!(plan(&d, &scope, &l, Mode::Managed, &CoOwners::default()), plan(&d, &shuffled, &l, Mode::Managed, &CoOwners::default()));
        }

        #[test]
        fn the_guard_trips_exactly_past_its_limits(
            scope_size in 1usize..60,
            removals_seed in any::<usize>(),
            max_removals in 0u32..20,
            max_percent in 0u32..=100,
        ) {
            let removals = removals_seed % (scope_size + 1);
            let names: Vec<String> = (0..scope_size).map(|i| format!("G{i:03}")).collect();
            let all: Vec<&str> = names.iter().map(String::as_str).collect();
            let p = planned(&all[removals..], &all, &all, Mode::Managed);
            prop_assert_eq!(p.counts().remove, removals);
            let limits = GuardLimits { max_removals, max_removal_percent: max_percent, ..GuardLimits::default() };
            let allowed = removals == 0
                || (removals <= max_removals as usize && removals * 100 <= max_percent as usize * scope_size);
            prop_assert_eq!(p.check_guard(&limits).is_ok(), allowed);
        }
    }
}
