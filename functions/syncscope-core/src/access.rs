//! The access map: what each principal of the sync scope grants in AWS.
//!
//! A group in the scope is only a name until a permission set assigns it to accounts.
//! The adapter reads the assignments of the principals a run needs into an
//! [`AccessMap`] (by principal id: group or user id of the identity store), and this
//! module (pure) turns it into what people read: the grants of each group
//! ([`Grant`]: a permission set in an account), the access each user loses or keeps
//! with a plan ([`specific`]), and the hygiene findings ([`hygiene`]).
//!
//! What was not read in time is absent from the map, and the map says it is partial:
//! a principal that is absent was not read, never "grants nothing".

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::impact::Impact;

/// One assignment: a permission set in an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The AWS account id.
    pub account_id: String,
    /// The account's name in AWS Organizations (None: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The permission set's name (its ARN when it was not described in time).
    pub permission_set: String,
    /// The permission set's session duration (ISO 8601, e.g. `PT8H`), when described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration: Option<String>,
}

impl Grant {
    /// The account as people name it: `payments-prod (111122223333)`, or the id.
    pub fn account(&self) -> String {
        match &self.account_name {
            Some(name) => format!("{name} ({})", self.account_id),
            None => self.account_id.clone(),
        }
    }

    /// `AdministratorAccess in payments-prod (111122223333)`.
    pub fn label(&self) -> String {
        format!("{} in {}", self.permission_set, self.account())
    }

    /// The sort order people read: by account (name, then id), then permission set.
    fn order(&self) -> (String, String, String) {
        (
            self.account_name
                .as_deref()
                .unwrap_or(&self.account_id)
                .to_lowercase(),
            self.account_id.clone(),
            self.permission_set.to_lowercase(),
        )
    }

    /// The identity of the assignment (account and permission set).
    fn pair(&self) -> (&str, &str) {
        (&self.account_id, &self.permission_set)
    }
}

/// Sorts grants for reading and drops repeats of one account and permission set.
pub fn tidy(grants: &mut Vec<Grant>) {
    grants.sort_by_cached_key(Grant::order);
    let mut seen = HashSet::new();
    grants.retain(|g| seen.insert((g.account_id.clone(), g.permission_set.clone())));
}

/// A session duration for people: `PT8H` → `8 h`, `PT1H30M` → `1 h 30 min`; anything
/// else as it is.
pub fn duration_label(iso: &str) -> String {
    let Some(rest) = iso.strip_prefix("PT") else {
        return iso.to_owned();
    };
    let mut parts = Vec::new();
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' | 'M' | 'S' if !number.is_empty() => {
                let unit = match c {
                    'H' => "h",
                    'M' => "min",
                    _ => "s",
                };
                parts.push(format!("{number} {unit}"));
                number.clear();
            }
            _ => return iso.to_owned(),
        }
    }
    if parts.is_empty() || !number.is_empty() {
        return iso.to_owned();
    }
    parts.join(" ")
}

/// How the assignments are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// `ListAccountAssignmentsForPrincipal` for each principal.
    PerPrincipal,
    /// `ListAccountAssignments` for each provisioned permission set and account, kept
    /// for the principals asked.
    PerPermissionSetAndAccount,
}

impl Strategy {
    /// For the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerPrincipal => "per-principal",
            Self::PerPermissionSetAndAccount => "per-permission-set-and-account",
        }
    }
}

/// Above this many principals, the reader counts the provisioned permission set and
/// account pairs before choosing (one call per permission set) instead of reading per
/// principal at once.
pub const COUNT_PAIRS_ABOVE: usize = 50;

/// The cheaper way to read `principals` principals' assignments when the instance has
/// `pairs` provisioned (permission set, account) pairs: one listing per pair, or one per
/// principal (each at least one call). Equal costs read per principal (its answers
/// need no filtering).
pub fn cheaper(principals: usize, pairs: usize) -> Strategy {
    if pairs < principals {
        Strategy::PerPermissionSetAndAccount
    } else {
        Strategy::PerPrincipal
    }
}

/// The assignments read, by principal id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMap {
    /// Grants by principal id, tidy ([`tidy`]). A principal read that has none maps to
    /// an empty list; a principal absent was not read.
    pub grants: HashMap<String, Vec<Grant>>,
    /// Why some principals were not read (None: every principal asked was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    /// What the map lacks, said once (e.g. account ids without names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
}

impl AccessMap {
    /// A map of nothing, saying why.
    pub fn unread(reason: impl Into<String>) -> Self {
        Self {
            partial: Some(reason.into()),
            ..Self::default()
        }
    }

    /// The grants of a principal (None: not read).
    pub fn of(&self, principal_id: &str) -> Option<&[Grant]> {
        self.grants.get(principal_id).map(Vec::as_slice)
    }

    /// Whether every principal asked was read.
    pub fn is_complete(&self) -> bool {
        self.partial.is_none()
    }
}

/// What the impact lacks of the access map, when it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRead {
    /// Why some access is not known (the users' lists are then a lower bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    /// What the map lacks, said once (account names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The user and group ids whose assignments [`specific`] needs for an impact: the
/// groups of every affected user that was looked up (the removed groups and those
/// that stay) and the users themselves (direct assignments). `user_groups` is the
/// store's facts: user id to the ids of their groups.
pub fn principals_for(
    impact: &Impact,
    user_groups: &HashMap<String, Vec<String>>,
) -> (Vec<String>, Vec<String>) {
    let users: Vec<&String> = impact
        .losing
        .iter()
        .map(|p| &p.user_id)
        .chain(impact.keeping.iter().map(|k| &k.person.user_id))
        .collect();
    let groups: BTreeSet<String> = users
        .iter()
        .filter_map(|u| user_groups.get(*u))
        .flatten()
        .cloned()
        .collect();
    (
        groups.into_iter().collect(),
        users.into_iter().cloned().collect(),
    )
}

/// Fills in what each user of `impact` loses and keeps, from the access map.
///
/// A user who loses access (is disabled) loses every grant of their groups and every
/// grant made to them directly. A user who keeps access loses the grants of the
/// removed groups that nothing that stays (a staying group they are in, a direct
/// grant) also gives them, and keeps the rest. `user_groups` is user id to the ids of
/// their groups; `removed` holds the ids of the groups that leave the scope.
pub fn specific(
    impact: &mut Impact,
    user_groups: &HashMap<String, Vec<String>>,
    removed: &HashSet<String>,
    map: &AccessMap,
) {
    let mut missing = 0usize;
    let mut grants_of = |ids: &mut dyn Iterator<Item = &String>| -> Vec<Grant> {
        let mut out = Vec::new();
        for id in ids {
            match map.of(id) {
                Some(grants) => out.extend_from_slice(grants),
                None => missing += 1,
            }
        }
        tidy(&mut out);
        out
    };
    let none = Vec::new();
    for person in &mut impact.losing {
        let groups = user_groups.get(&person.user_id).unwrap_or(&none);
        person.loses = grants_of(&mut groups.iter().chain([&person.user_id]));
    }
    for kept in &mut impact.keeping {
        let person = &mut kept.person;
        let groups = user_groups.get(&person.user_id).unwrap_or(&none);
        let gone = grants_of(&mut groups.iter().filter(|g| removed.contains(*g)));
        let stays = grants_of(
            &mut groups
                .iter()
                .filter(|g| !removed.contains(*g))
                .chain([&person.user_id]),
        );
        let kept_pairs: HashSet<(&str, &str)> = stays.iter().map(Grant::pair).collect();
        person.loses = gone
            .into_iter()
            .filter(|g| !kept_pairs.contains(&g.pair()))
            .collect();
        kept.keeps = stays;
    }
    let mut partial: Vec<String> = map.partial.iter().cloned().collect();
    if missing > 0 && map.partial.is_none() {
        partial.push(format!(
            "the assignments of {missing} principal(s) were not read"
        ));
    }
    impact.access = Some(AccessRead {
        partial: (!partial.is_empty()).then(|| partial.join("; ")),
        note: map.note.clone(),
    });
}

/// Every account and permission set pair the users losing access lose, with how many
/// of them lose it, most users first (then by account and permission set).
pub fn lost_pairs(impact: &Impact) -> Vec<(Grant, usize)> {
    let mut counts: HashMap<(String, String), (Grant, usize)> = HashMap::new();
    for person in &impact.losing {
        for grant in &person.loses {
            counts
                .entry((grant.account_id.clone(), grant.permission_set.clone()))
                .or_insert_with(|| (grant.clone(), 0))
                .1 += 1;
        }
    }
    let mut pairs: Vec<(Grant, usize)> = counts.into_values().collect();
    pairs.sort_by_cached_key(|(g, n)| (std::cmp::Reverse(*n), g.order()));
    pairs
}

/// `AdministratorAccess in payments-prod (111122223333) (3 users), …` for the first
/// `limit` of [`lost_pairs`], then `+N more`; None when nothing is known to be lost.
pub fn lost_summary(impact: &Impact, limit: usize) -> Option<String> {
    let pairs = lost_pairs(impact);
    if pairs.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = pairs
        .iter()
        .take(limit)
        .map(|(g, n)| {
            let users = if *n == 1 { "user" } else { "users" };
            format!("{} ({n} {users})", g.label())
        })
        .collect();
    if pairs.len() > limit {
        parts.push(format!("+{} more", pairs.len() - limit));
    }
    Some(parts.join(", "))
}

/// A group of the scope as the hygiene check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGroup {
    /// Its display name.
    pub name: String,
    /// Its id in the identity store.
    pub group_id: String,
    /// Its members (None: not counted).
    pub members: Option<u64>,
    /// Whether this change removes it from the scope.
    pub removed: bool,
}

/// Something in the access map worth a look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "kebab-case")]
pub enum Finding {
    /// Synced groups that no permission set assigns: they are synced for no purpose.
    GrantsNothing {
        /// Their display names, sorted.
        groups: Vec<String>,
    },
    /// A group this change removes from the scope still has assignments: they stop
    /// working.
    AssignmentStops {
        /// The group's display name.
        group: String,
        /// What it grants.
        grants: Vec<Grant>,
    },
    /// A permission set assigned (in the scope) only to groups with no members:
    /// nobody has it yet.
    NobodyHasIt {
        /// The permission set's name.
        permission_set: String,
        /// The groups it is assigned to, sorted.
        groups: Vec<String>,
    },
}

impl Finding {
    /// One sentence, naming at most `limit` groups or grants.
    pub fn text(&self, limit: usize) -> String {
        fn names(all: &[String], limit: usize) -> String {
            let mut shown: Vec<String> = all.iter().take(limit).cloned().collect();
            if all.len() > limit {
                shown.push(format!("+{} more", all.len() - limit));
            }
            shown.join(", ")
        }
        match self {
            Self::GrantsNothing { groups } => format!(
                "{} synced group(s) grant nothing (no permission set is assigned to them, so they are synced for no purpose): {}",
                groups.len(),
                names(groups, limit)
            ),
            Self::AssignmentStops { group, grants } => {
                let labels: Vec<String> = grants.iter().map(Grant::label).collect();
                format!(
                    "{group} leaves the sync scope but is still assigned {} (those assignments stop working): {}",
                    plural(grants.len(), "permission set"),
                    names(&labels, limit)
                )
            }
            Self::NobodyHasIt {
                permission_set,
                groups,
            } => format!(
                "permission set {permission_set} is assigned only to groups with no members, so nobody has it yet: {}",
                names(groups, limit)
            ),
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The hygiene findings of the scope's groups (those the identity store has), from the
/// access map. A group the map does not hold (not read in time) is never a finding.
pub fn hygiene(groups: &[ScopeGroup], map: &AccessMap) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut idle: Vec<String> = groups
        .iter()
        .filter(|g| !g.removed && map.of(&g.group_id).is_some_and(<[Grant]>::is_empty))
        .map(|g| g.name.clone())
        .collect();
    idle.sort_by_cached_key(|n| n.to_lowercase());
    idle.dedup();
    if !idle.is_empty() {
        findings.push(Finding::GrantsNothing { groups: idle });
    }
    let mut removed: Vec<&ScopeGroup> = groups.iter().filter(|g| g.removed).collect();
    removed.sort_by_cached_key(|g| g.name.to_lowercase());
    for group in removed {
        if let Some(grants) = map.of(&group.group_id).filter(|g| !g.is_empty()) {
            findings.push(Finding::AssignmentStops {
                group: group.name.clone(),
                grants: grants.to_vec(),
            });
        }
    }
    // Permission set name -> (groups with members, groups without).
    let mut sets: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for group in groups.iter().filter(|g| !g.removed) {
        let Some(grants) = map.of(&group.group_id) else {
            continue;
        };
        for grant in grants {
            let slot = sets.entry(grant.permission_set.clone()).or_default();
            match group.members {
                Some(0) => {
                    slot.1.insert(group.name.clone());
                }
                _ => slot.0 += 1,
            }
        }
    }
    for (permission_set, (held, empty)) in sets {
        if held == 0 && !empty.is_empty() {
            findings.push(Finding::NobodyHasIt {
                permission_set,
                groups: empty.into_iter().collect(),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::impact::{Kept, Person};

    fn grant(account: &str, set: &str) -> Grant {
        Grant {
            account_id: account.to_owned(),
            account_name: Some(format!("acct-{account}")),
            permission_set: set.to_owned(),
            session_duration: Some("PT8H".into()),
        }
    }

    fn person(name: &str) -> Person {
        Person {
            user_name: format!("{name}@corp.example.com"),
            display_name: name.to_owned(),
            user_id: format!("u-{name}"),
            loses: Vec::new(),
        }
    }

    fn map(entries: &[(&str, Vec<Grant>)]) -> AccessMap {
        AccessMap {
            grants: entries
                .iter()
                .map(|(id, g)| ((*id).to_owned(), g.clone()))
                .collect(),
            ..AccessMap::default()
        }
    }

    #[test]
    fn a_disabled_user_loses_everything_and_a_kept_user_only_what_nothing_staying_gives() {
        let mut impact = Impact {
            losing: vec![person("ann")],
            keeping: vec![Kept {
                person: person("bob"),
                through: "Stay@corp.example.com".into(),
                keeps: Vec::new(),
            }],
            ..Impact::default()
        };
        let user_groups: HashMap<String, Vec<String>> = [
            ("u-ann".to_owned(), vec!["g-gone".to_owned()]),
            (
                "u-bob".to_owned(),
                vec!["g-gone".to_owned(), "g-stay".to_owned()],
            ),
        ]
        .into();
        let removed: HashSet<String> = ["g-gone".to_owned()].into();
        let access = map(&[
            (
                "g-gone",
                vec![grant("1111", "Admin"), grant("2222", "ReadOnly")],
            ),
            ("g-stay", vec![grant("2222", "ReadOnly")]),
            ("u-ann", vec![grant("3333", "Billing")]),
            ("u-bob", vec![]),
        ]);
        specific(&mut impact, &user_groups, &removed, &access);
        let labels = |g: &[Grant]| g.iter().map(Grant::label).collect::<Vec<_>>();
        assert_eq!(
            labels(&impact.losing[0].loses),
            [
                "Admin in acct-1111 (1111)",
                "ReadOnly in acct-2222 (2222)",
                "Billing in acct-3333 (3333)"
            ]
        );
        assert_eq!(
            labels(&impact.keeping[0].person.loses),
            ["Admin in acct-1111 (1111)"]
        );
        assert_eq!(
            labels(&impact.keeping[0].keeps),
            ["ReadOnly in acct-2222 (2222)"]
        );
        assert_eq!(impact.access, Some(AccessRead::default()));
        assert_eq!(
            lost_summary(&impact, 2).as_deref(),
            Some(
                "Admin in acct-1111 (1111) (1 user), ReadOnly in acct-2222 (2222) (1 user), +1 more"
            )
        );
    }

    #[test]
    fn principals_not_read_make_the_losses_partial() {
        let mut impact = Impact {
            losing: vec![person("ann")],
            ..Impact::default()
        };
        let user_groups = [("u-ann".to_owned(), vec!["g-1".to_owned()])].into();
        specific(&mut impact, &user_groups, &HashSet::new(), &map(&[]));
        assert!(impact.losing[0].loses.is_empty());
        assert_eq!(
            impact.access.unwrap().partial.as_deref(),
            Some("the assignments of 2 principal(s) were not read")
        );
    }

    #[test]
    fn the_cheaper_strategy_is_chosen_by_counts() {
        assert_eq!(cheaper(10, 200), Strategy::PerPrincipal);
        assert_eq!(cheaper(200, 200), Strategy::PerPrincipal);
        assert_eq!(cheaper(5000, 200), Strategy::PerPermissionSetAndAccount);
    }

    #[test]
    fn session_durations_read_as_hours_and_minutes() {
        assert_eq!(duration_label("PT8H"), "8 h");
        assert_eq!(duration_label("PT1H30M"), "1 h 30 min");
        assert_eq!(duration_label("P1D"), "P1D");
        assert_eq!(duration_label("PT"), "PT");
        assert_eq!(duration_label("PT8"), "PT8");
    }

    #[test]
    fn hygiene_names_idle_groups_stopping_assignments_and_sets_nobody_has() {
        let groups = [
            ("Idle", "g-idle", Some(3), false),
            ("Gone", "g-gone", Some(2), false),
            ("Empty", "g-empty", Some(0), false),
            ("Busy", "g-busy", Some(5), false),
            ("Unread", "g-unread", Some(5), false),
        ]
        .map(|(name, id, members, removed)| ScopeGroup {
            name: name.into(),
            group_id: id.into(),
            members,
            removed: removed || name == "Gone",
        });
        let access = map(&[
            ("g-idle", vec![]),
            ("g-gone", vec![grant("1111", "Admin")]),
            (
                "g-empty",
                vec![grant("2222", "Fresh"), grant("2222", "Shared")],
            ),
            ("g-busy", vec![grant("2222", "Shared")]),
        ]);
        let findings = hygiene(&groups, &access);
        assert_eq!(
            findings,
            vec![
                Finding::GrantsNothing {
                    groups: vec!["Idle".into()]
                },
                Finding::AssignmentStops {
                    group: "Gone".into(),
                    grants: vec![grant("1111", "Admin")]
                },
                Finding::NobodyHasIt {
                    permission_set: "Fresh".into(),
                    groups: vec!["Empty".into()]
                },
            ]
        );
        assert_eq!(
            findings[1].text(5),
            "Gone leaves the sync scope but is still assigned 1 permission set (those assignments stop working): Admin in acct-1111 (1111)"
        );
        assert!(
            findings[0]
                .text(5)
                .starts_with("1 synced group(s) grant nothing")
        );
    }

    #[test]
    fn tidy_sorts_by_account_then_set_and_drops_repeats() {
        let mut grants = vec![
            grant("2222", "b"),
            grant("1111", "z"),
            grant("2222", "a"),
            grant("1111", "z"),
        ];
        tidy(&mut grants);
        let pairs: Vec<(&str, &str)> = grants.iter().map(Grant::pair).collect();
        assert_eq!(pairs, [("1111", "z"), ("2222", "a"), ("2222", "b")]);
    }
}
