//! The impact of a plan on people: who loses AWS access and who keeps it.
//!
//! Removing a group from the sync scope disables, 28 days later, every user it synced
//! who is in no other synced group and is not a user filter. The identity store knows
//! who that is: [`Needs::of`] says which groups and users a plan touches, the adapter
//! reads what the store knows of them into [`StoreFacts`], and [`assess`] (pure) turns
//! plan and facts into an [`Impact`]. Facts the adapter could not read in time are
//! absent, and the impact then says it is partial: its figures are a lower bound
//! ("at least N users"), never a wrong exact number.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::names::{NameMap, display_name, name_key};
use crate::plan::{Action, Op, Plan};
use crate::scope::{FilterKind, Keyed, ScopeKey};

/// A user of the identity store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Person {
    /// The identity store's user name (AD's `user@domain`).
    pub user_name: String,
    /// The display name.
    pub display_name: String,
    /// The identity store's user id.
    pub user_id: String,
    /// The account and permission set pairs the plan takes from them (empty when the
    /// access map was not read, or they lose none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loses: Vec<crate::access::Grant>,
}

/// A user who keeps access, and through what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// The user.
    #[serde(flatten)]
    pub person: Person,
    /// The group that stays in scope and holds them (its display name), or
    /// `user filter`.
    pub through: String,
    /// The account and permission set pairs they keep (when the access map was read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keeps: Vec<crate::access::Grant>,
}

/// What the identity store knows of a group's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Members {
    /// Synced: the store holds the group with this many members.
    Synced {
        /// Its members.
        members: u64,
    },
    /// Not in the identity store (not synced yet, or never): nobody gets access
    /// through it yet, and nobody loses access through it.
    Pending,
    /// In the store, but its members were not listed in time.
    Unknown,
}

impl Members {
    /// The words the docs page shows.
    pub fn label(&self) -> String {
        match self {
            Self::Synced { members: 1 } => "1 member".to_owned(),
            Self::Synced { members } => format!("{members} members"),
            Self::Pending => "not in the identity store (not synced yet)".to_owned(),
            Self::Unknown => "members not listed in time".to_owned(),
        }
    }
}

/// A group that enters or leaves the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLine {
    /// The group's display name in the identity store (`name@domain`).
    pub name: String,
    /// What the store knows of its members.
    #[serde(flatten)]
    pub members: Members,
}

/// Who gains and who loses access with a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// Groups leaving the scope.
    pub removed_groups: Vec<GroupLine>,
    /// Groups entering the scope.
    pub added_groups: Vec<GroupLine>,
    /// Users who will be disabled after 28 days: in no group that stays, not a user
    /// filter that stays. Sorted by user name.
    pub losing: Vec<Person>,
    /// Users of removed groups (or removed user filters) who keep access. Sorted by
    /// user name.
    pub keeping: Vec<Kept>,
    /// Why the figures are only a lower bound (None: the impact is complete).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partial: Option<String>,
    /// Whether the access map was read for the users above, and what it lacks (None:
    /// not read; the users' `loses` and `keeps` are then empty).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access: Option<crate::access::AccessRead>,
}

/// The number of days after which the identity store disables a user who left the scope.
pub const DISABLED_AFTER_DAYS: u32 = 28;

impl Impact {
    /// An impact that could not be assessed at all, saying why.
    pub fn unknown(reason: impl Into<String>) -> Self {
        Self {
            partial: Some(reason.into()),
            ..Self::default()
        }
    }

    /// Whether the figures are exact.
    pub fn is_complete(&self) -> bool {
        self.partial.is_none()
    }

    /// One sentence: how many lose access, how many keep it, and whether it is exact.
    pub fn headline(&self) -> String {
        let at_least = if self.is_complete() { "" } else { "at least " };
        let users = |n: usize| if n == 1 { "user" } else { "users" };
        let mut text = match self.losing.len() {
            0 if self.is_complete() => "No user loses AWS access".to_owned(),
            n => format!(
                "{at_least}{n} {} will be disabled after {DISABLED_AFTER_DAYS} days (no group that stays holds them)",
                users(n)
            ),
        };
        if !self.keeping.is_empty() {
            let n = self.keeping.len();
            text.push_str(&format!(
                "; {n} {} of the removed filters keep access through another group",
                users(n)
            ));
        }
        if let Some(why) = &self.partial {
            text.push_str(&format!(" (partial: {why})"));
        }
        text
    }
}

/// What the identity store must be asked for a plan's impact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Display names of the groups that leave the scope.
    pub removed_groups: Vec<String>,
    /// Display names of the groups that enter it.
    pub added_groups: Vec<String>,
    /// User names of the user filters that leave it (`name@domain`).
    pub removed_users: Vec<String>,
}

impl Needs {
    /// What a plan touches: groups and users that leave the scope (a filter whose
    /// duplicate stays does not leave), and the groups that enter it.
    pub fn of(plan: &Plan) -> Self {
        let staying = staying(plan);
        let mut needs = Self::default();
        let mut seen = HashSet::new();
        for action in &plan.actions {
            let key = action.key();
            let name = display_name(&action.name, &action.domain);
            match (action.op, action.kind) {
                (Op::Remove, _) if staying.contains(&key) => {}
                (Op::Remove, FilterKind::Group) if seen.insert(key.clone()) => {
                    needs.removed_groups.push(name);
                }
                (Op::Remove, FilterKind::User) if seen.insert(key.clone()) => {
                    needs.removed_users.push(name);
                }
                (Op::Create, FilterKind::Group) => needs.added_groups.push(name),
                _ => {}
            }
        }
        needs
    }

    /// Whether the plan touches anything the identity store could tell about.
    pub fn is_empty(&self) -> bool {
        self.removed_groups.is_empty()
            && self.added_groups.is_empty()
            && self.removed_users.is_empty()
    }

    /// Whether anyone could lose access.
    pub fn removes_anything(&self) -> bool {
        !self.removed_groups.is_empty() || !self.removed_users.is_empty()
    }
}

/// What the identity store said, as far as it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFacts {
    /// Every group of the store: display name to group id.
    pub groups: NameMap<String>,
    /// Member user ids of the groups that were listed, by group id (a group the plan
    /// touches that is absent here was not listed in time).
    pub members: HashMap<String, Vec<String>>,
    /// The removed user filters found in the store: user name to user id.
    pub user_ids: NameMap<String>,
    /// The affected users that were looked up: the person and the ids of every group
    /// they are a member of (absent: not looked up in time).
    pub users: HashMap<String, (Person, Vec<String>)>,
    /// Why some facts are missing, if they are.
    pub gaps: Option<String>,
}

impl StoreFacts {
    /// The user ids the impact needs looked up: every member of a removed group that
    /// was listed, and every removed user filter found. Sorted, no repeats.
    pub fn affected(&self, needs: &Needs) -> Vec<String> {
        let mut ids: Vec<String> = needs
            .removed_groups
            .iter()
            .filter_map(|name| self.groups.get(name))
            .filter_map(|id| self.members.get(id))
            .flatten()
            .chain(
                needs
                    .removed_users
                    .iter()
                    .filter_map(|name| self.user_ids.get(name)),
            )
            .cloned()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The keys that stay in the scope after the plan: wanted, and unmanaged.
fn staying(plan: &Plan) -> HashSet<ScopeKey> {
    plan.actions
        .iter()
        .filter(|a| a.op != Op::Remove)
        .map(Action::key)
        .collect()
}

/// The impact of `plan`, from what the identity store said of what `needs` asked
/// (`Needs::of(plan)`, or less of it: without `added_groups`, none are reported).
pub fn assess(plan: &Plan, needs: &Needs, facts: &StoreFacts) -> Impact {
    let lower = name_key;
    // Groups that stay, by id, with their display names (the first by name wins).
    let mut staying_groups: BTreeMap<String, String> = BTreeMap::new();
    // User filters that stay, by lower-cased user name (with and without the domain).
    let mut staying_users: HashSet<String> = HashSet::new();
    let mut seen = HashSet::new();
    for action in plan.actions.iter().filter(|a| a.op != Op::Remove) {
        if !seen.insert(action.key()) {
            continue;
        }
        let name = display_name(&action.name, &action.domain);
        match action.kind {
            FilterKind::Group => {
                if let Some(id) = facts.groups.get(&name) {
                    let slot = staying_groups.entry(id.clone()).or_insert(name.clone());
                    if lower(&name) < lower(slot) {
                        *slot = name;
                    }
                }
            }
            FilterKind::User => {
                staying_users.insert(lower(&name));
                staying_users.insert(lower(&action.name));
            }
        }
    }

    let line = |name: &String| {
        let members = match facts.groups.get(name) {
            None => Members::Pending,
            Some(id) => match facts.members.get(id) {
                Some(ids) => Members::Synced {
                    members: ids.len() as u64,
                },
                None => Members::Unknown,
            },
        };
        GroupLine {
            name: name.clone(),
            members,
        }
    };
    let removed_groups: Vec<GroupLine> = needs.removed_groups.iter().map(line).collect();
    let added_groups: Vec<GroupLine> = needs.added_groups.iter().map(line).collect();

    let mut losing = Vec::new();
    let mut keeping = Vec::new();
    let mut unresolved = 0usize;
    for user_id in facts.affected(needs) {
        let Some((person, groups)) = facts.users.get(&user_id) else {
            unresolved += 1;
            continue;
        };
        let through_group = groups
            .iter()
            .filter_map(|g| staying_groups.get(g))
            .min_by_key(|name| lower(name));
        let through = match through_group {
            Some(group) => Some(group.clone()),
            None if staying_users.contains(&lower(&person.user_name)) => {
                Some("user filter".to_owned())
            }
            None => None,
        };
        match through {
            Some(through) => keeping.push(Kept {
                person: person.clone(),
                through,
                keeps: Vec::new(),
            }),
            None => losing.push(person.clone()),
        }
    }
    losing.sort_by_cached_key(|p| (lower(&p.user_name), p.user_id.clone()));
    keeping.sort_by_cached_key(|k| (lower(&k.person.user_name), k.person.user_id.clone()));

    let unlisted = removed_groups
        .iter()
        .filter(|g| g.members == Members::Unknown)
        .count();
    let mut gaps: Vec<String> = facts.gaps.iter().cloned().collect();
    if unlisted > 0 {
        gaps.push(format!(
            "the members of {unlisted} removed group(s) were not listed"
        ));
    }
    if unresolved > 0 {
        gaps.push(format!("{unresolved} affected user(s) were not looked up"));
    }
    Impact {
        removed_groups,
        added_groups,
        losing,
        keeping,
        partial: (!gaps.is_empty()).then(|| gaps.join("; ")),
        access: None,
    }
}

/// The people guard refused a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum PeopleGuardTripped {
    /// More users would lose access than the limit allows.
    #[error(
        "refusing to disable {at_least}{losing} user(s): they lose AWS access {DISABLED_AFTER_DAYS} days after this change (no group that stays holds them){lost}, and SSO.DeletionGuard.MaxUsersLosingAccess allows at most {max}. Nothing was changed. If this is intended, set SSO.DeletionGuard.MaxUsersLosingAccess to at least {losing} in the config and deploy again"
    )]
    TooMany {
        /// Users losing access (a lower bound when `at_least` is not empty).
        losing: usize,
        /// `"at least "` when the impact is partial.
        at_least: &'static str,
        /// The configured limit.
        max: u32,
        /// `; they lose …` naming the account and permission set pairs (empty when
        /// the access map was not read).
        lost: String,
    },
    /// The impact is partial and what is known stays within the limit: it cannot be
    /// told whether the plan keeps to it.
    #[error(
        "refusing to remove filters without knowing who loses access: SSO.DeletionGuard.MaxUsersLosingAccess ({max}) needs the whole impact, and it is partial ({why}; at least {losing} user(s) would be disabled). Nothing was changed. Deploy again (a later run may read the identity store in time), or remove SSO.DeletionGuard.MaxUsersLosingAccess to rely on the filter limits alone"
    )]
    Unknown {
        /// Users known to lose access.
        losing: usize,
        /// Why the impact is partial.
        why: String,
        /// The configured limit.
        max: u32,
    },
}

/// Checks an impact against `SSO.DeletionGuard.MaxUsersLosingAccess` (None: no limit).
/// Exactly at the limit is allowed.
pub fn check_people_guard(impact: &Impact, max: Option<u32>) -> Result<(), PeopleGuardTripped> {
    let Some(max) = max else { return Ok(()) };
    let losing = impact.losing.len();
    let within = u32::try_from(losing).is_ok_and(|n| n <= max);
    let lost = crate::access::lost_summary(impact, 10)
        .map(|pairs| format!("; they lose {pairs}"))
        .unwrap_or_default();
    match (&impact.partial, within) {
        (None, true) => Ok(()),
        (None, false) => Err(PeopleGuardTripped::TooMany {
            losing,
            at_least: "",
            max,
            lost,
        }),
        (Some(_), false) => Err(PeopleGuardTripped::TooMany {
            losing,
            at_least: "at least ",
            max,
            lost,
        }),
        (Some(why), true) => Err(PeopleGuardTripped::Unknown {
            losing,
            why: why.clone(),
            max,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{action, plan_of as plan};
    use proptest::prelude::*;

    const DOMAIN: &str = "corp.example.com";

    fn person(name: &str) -> Person {
        Person {
            user_name: format!("{name}@{DOMAIN}"),
            display_name: format!("Display {name}"),
            user_id: format!("u-{name}"),
            loses: Vec::new(),
        }
    }

    /// A store of groups (name -> members) in which every user was looked up.
    fn store(groups: &[(&str, &[&str])]) -> StoreFacts {
        let mut facts = StoreFacts::default();
        let mut member_of: HashMap<String, Vec<String>> = HashMap::new();
        for (group, members) in groups {
            let id = format!("g-{group}");
            facts
                .groups
                .insert(&display_name(group, DOMAIN), id.clone());
            facts.members.insert(
                id.clone(),
                members.iter().map(|m| format!("u-{m}")).collect(),
            );
            for m in *members {
                member_of
                    .entry((*m).to_owned())
                    .or_default()
                    .push(id.clone());
            }
        }
        for (user, groups) in member_of {
            facts
                .users
                .insert(format!("u-{user}"), (person(&user), groups));
        }
        facts
    }

    #[test]
    fn members_of_a_removed_group_lose_access_unless_a_staying_group_or_filter_holds_them() {
        let facts = store(&[
            ("Leaving", &["ann", "bob", "cy"]),
            ("Staying", &["bob"]),
            ("Unmanaged", &["cy"]),
            ("Synced-Before", &["dan", "eve"]),
        ]);
        let p = plan(vec![
            action(Op::Remove, FilterKind::Group, "Leaving"),
            action(Op::Keep, FilterKind::Group, "Staying"),
            action(Op::Unmanaged, FilterKind::Group, "Unmanaged"),
            action(Op::Create, FilterKind::Group, "New"),
            action(Op::Create, FilterKind::Group, "Synced-Before"),
        ]);
        let impact = assess(&p, &Needs::of(&p), &facts);
        assert!(impact.is_complete());
        assert_eq!(impact.losing, vec![person("ann")]);
        let kept: Vec<(&str, &str)> = impact
            .keeping
            .iter()
            .map(|k| (k.person.user_id.as_str(), k.through.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("u-bob", "Staying@corp.example.com"),
                ("u-cy", "Unmanaged@corp.example.com")
            ]
        );
        assert_eq!(
            impact.removed_groups[0].members,
            Members::Synced { members: 3 }
        );
        assert_eq!(impact.added_groups[0].members, Members::Pending);
        assert_eq!(
            impact.added_groups[1].members,
            Members::Synced { members: 2 }
        );
        assert_eq!(
            impact.headline(),
            "1 user will be disabled after 28 days (no group that stays holds them); 2 users of the removed filters keep access through another group"
        );
    }

    #[test]
    fn a_user_filter_that_stays_keeps_its_user_and_a_removed_one_loses_it() {
        let mut facts = store(&[("Leaving", &["ann", "bob"])]);
        facts
            .user_ids
            .insert(&format!("dan@{DOMAIN}"), "u-dan".into());
        facts
            .users
            .insert("u-dan".into(), (person("dan"), Vec::new()));
        let p = plan(vec![
            action(Op::Remove, FilterKind::Group, "Leaving"),
            action(Op::Keep, FilterKind::User, "ANN"),
            action(Op::Remove, FilterKind::User, "dan"),
        ]);
        let impact = assess(&p, &Needs::of(&p), &facts);
        assert_eq!(
            impact
                .losing
                .iter()
                .map(|p| p.user_id.as_str())
                .collect::<Vec<_>>(),
            ["u-bob", "u-dan"]
        );
        assert_eq!(impact.keeping[0].through, "user filter");
    }

    #[test]
    fn a_removed_duplicate_of_a_filter_that_stays_takes_nobody_away() {
        let facts = store(&[("Twice", &["ann"])]);
        let p = plan(vec![
            action(Op::Keep, FilterKind::Group, "Twice"),
            action(Op::Remove, FilterKind::Group, "twice"),
        ]);
        let impact = assess(&p, &Needs::of(&p), &facts);
        assert!(Needs::of(&p).is_empty());
        assert!(impact.losing.is_empty() && impact.removed_groups.is_empty());
    }

    #[test]
    fn what_was_not_read_makes_the_impact_partial_and_a_lower_bound() {
        let mut facts = store(&[("A", &["ann", "bob"]), ("B", &["cy"])]);
        facts.members.remove("g-B");
        facts.users.remove("u-bob");
        let p = plan(vec![
            action(Op::Remove, FilterKind::Group, "A"),
            action(Op::Remove, FilterKind::Group, "B"),
        ]);
        let impact = assess(&p, &Needs::of(&p), &facts);
        assert_eq!(impact.losing, vec![person("ann")]);
        assert_eq!(impact.removed_groups[1].members, Members::Unknown);
        assert_eq!(
            impact.partial.as_deref(),
            Some(
                "the members of 1 removed group(s) were not listed; 1 affected user(s) were not looked up"
            )
        );
        assert!(
            impact
                .headline()
                .starts_with("at least 1 user will be disabled")
        );
    }

    #[test]
    fn the_people_guard_allows_the_limit_and_refuses_above_it_or_when_unsure() {
        let facts = store(&[("A", &["ann", "bob"])]);
        let p = plan(vec![action(Op::Remove, FilterKind::Group, "A")]);
        let impact = assess(&p, &Needs::of(&p), &facts);
        assert_eq!(check_people_guard(&impact, None), Ok(()));
        assert_eq!(check_people_guard(&impact, Some(2)), Ok(()));
        let above = check_people_guard(&impact, Some(1)).unwrap_err();
        assert!(
            above
                .to_string()
                .starts_with("refusing to disable 2 user(s)")
        );
        assert!(
            above
                .to_string()
                .contains("set SSO.DeletionGuard.MaxUsersLosingAccess to at least 2")
        );
        let partial = Impact {
            partial: Some("out of time".into()),
            ..impact
        };
        let unsure = check_people_guard(&partial, Some(5)).unwrap_err();
        assert!(matches!(
            unsure,
            PeopleGuardTripped::Unknown { losing: 2, .. }
        ));
        let over = check_people_guard(&partial, Some(1)).unwrap_err();
        assert!(
            over.to_string()
                .starts_with("refusing to disable at least 2")
        );
    }

    /// Each group's op, each user's groups, and which users were looked up.
    type World = (Vec<(Op, usize)>, Vec<Vec<usize>>, Vec<bool>);

    fn arb_world() -> impl Strategy<Value = World> {
        // Up to 6 groups (each removed, kept or unmanaged), up to 8 users in any of
        // them, and which users the adapter had time to look up.
        (
            prop::collection::vec(
                (
                    prop::sample::select(vec![Op::Remove, Op::Keep, Op::Unmanaged]),
                    0..6usize,
                ),
                1..6,
            ),
            prop::collection::vec(prop::collection::vec(0..6usize, 0..4), 8),
            prop::collection::vec(any::<bool>(), 8),
        )
    }

    proptest! {
        /// Whatever the store holds: a user loses access iff every group holding them
        /// leaves; a partial read never reports someone wrongly and never more than
        /// the truth; complete reads are exact.
        #[test]
        fn losing_is_exactly_those_no_staying_group_holds((groups, member_of, looked_up) in arb_world()) {
            let mut actions = Vec::new();
            let mut ops: HashMap<usize, Op> = HashMap::new();
            for (op, g) in &groups {
                if let std::collections::hash_map::Entry::Vacant(slot) = ops.entry(*g) {
                    slot.insert(*op);
                    actions.push(action(*op, FilterKind::Group, &format!("G{g}")));
                }
            }
            let p = plan(actions);
            let mut members: HashMap<usize, Vec<String>> = HashMap::new();
            for (u, gs) in member_of.iter().enumerate() {
                for g in gs {
                    members.entry(*g).or_default().push(format!("n{u}"));
                }
            }
            let named: Vec<(String, Vec<&str>)> = (0..6)
                .map(|g| (format!("G{g}"), members.get(&g).map(|m| m.iter().map(String::as_str).collect()).unwrap_or_default()))
                .collect();
            let borrowed: Vec<(&str, &[&str])> = named.iter().map(|(n, m)| (n.as_str(), m.as_slice())).collect();
            let mut facts = store(&borrowed);
            for (u, seen) in looked_up.iter().enumerate() {
                if !seen {
                    facts.users.remove(&format!("u-n{u}"));
                }
            }
            let impact = assess(&p, &Needs::of(&p), &facts);
            let truth: Vec<String> = member_of
                .iter()
                .enumerate()
                .filter(|(_, gs)| gs.iter().any(|g| ops.get(g) == Some(&Op::Remove)))
                .filter(|(_, gs)| !gs.iter().any(|g| matches!(ops.get(g), Some(Op::Keep | Op::Unmanaged))))
                .map(|(u, _)| format!("u-n{u}"))
                .collect();
            let reported: Vec<String> = impact.losing.iter().map(|p| p.user_id.clone()).collect();
            for id in &reported {
                prop_assert!(truth.contains(id), "{id} reported losing but keeps access");
            }
            if impact.is_complete() {
                let mut sorted_truth = truth.clone();
                sorted_truth.sort();
                let mut sorted = reported.clone();
                sorted.sort();
                prop_assert_eq!(sorted, sorted_truth);
            } else {
                prop_assert!(reported.len() <= truth.len());
            }
        }
    }
}
