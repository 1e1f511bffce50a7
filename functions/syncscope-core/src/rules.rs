//! The rules of one run, pure: whether the deployed filters are the ones the
//! stack wrote, whether the guards let the plan change the scope ([`gate`]), whether
//! the run writes at all ([`writes`]), its verdict, the scope after its changes, and
//! what it tells. `syncscope::reconcile` does the reading and writing around them.

use std::collections::HashSet;

use crate::directory::{DirectoryCheck, DirectoryReport};
use crate::impact::{Impact, PeopleGuardTripped, check_people_guard};
use crate::outcome::{ChangeResult, Outcome, Trigger, Verdict};
use crate::plan::{self, Action, GuardLimits, GuardTripped, Op, Plan};
use crate::properties::Properties;
use crate::scope::{CurrentFilter, Keyed, ProfileKey, ScopeKey};
use crate::store;
use crate::timestamp::Timestamp;

/// An outcome with the run's identity filled in and nothing done yet. A drift check
/// is always a dry run.
pub fn blank(
    props: &Properties,
    trigger: Trigger,
    stack: &str,
    started_at: Timestamp,
    verdict: Verdict,
) -> Outcome {
    Outcome {
        trigger,
        verdict,
        dry_run: props.dry_run || trigger == Trigger::Drift,
        stage: props.stage.clone(),
        stack: stack.to_owned(),
        profile: props.sync_profile.clone(),
        domain: props.domain.clone(),
        mode: props.mode,
        started_at,
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
        impact: None,
        directory: None,
    }
}

/// The filters in SSM are not the ones the deployment wrote (another deployment, or
/// a hand edit, changed them since).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the filters under {parameter} (hash {found}) are not the ones this deployment wrote (hash {expected}); deploy again"
)]
pub struct NotDeployed {
    /// The filters' parameter.
    pub parameter: String,
    /// The short hash of the filters found.
    pub found: String,
    /// The short hash the deployment wrote.
    pub expected: String,
}

/// Whether the filters read from SSM (`found`, their SHA-256) are the ones this
/// deployment wrote (`expected`, the `FiltersHash` property; None: not pinned).
pub fn check_deployed(
    parameter: &str,
    expected: Option<&str>,
    found: &str,
) -> Result<(), NotDeployed> {
    match expected {
        Some(expected) if expected != found => Err(NotDeployed {
            parameter: parameter.to_owned(),
            found: store::short(found),
            expected: store::short(expected),
        }),
        _ => Ok(()),
    }
}

/// The reason a run stops on invalid stored filters: the first five problems, and how
/// many more.
pub fn invalid_filters(parameter: &str, problems: &[String]) -> String {
    let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
    let more = problems.len().saturating_sub(5);
    let tail = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    format!(
        "invalid filters under {parameter}: {}{tail}",
        shown.join("; ")
    )
}

/// Why a guard refuses a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The deletion guard: too many removals.
    #[error(transparent)]
    Removals(#[from] GuardTripped),
    /// The people guard: too many users would lose access, or it cannot tell.
    #[error(transparent)]
    People(#[from] PeopleGuardTripped),
    /// `DirectoryCheck: require`: a wanted name is not in AD, or was not checked.
    #[error("{0}")]
    Directory(String),
}

/// What the guards make of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// The plan may change the scope.
    Open,
    /// Refused: nothing is changed, the run fails with the reason.
    Refused(Refusal),
    /// A drift check changes nothing, so it only warns that a deployment now would be
    /// refused ([`Gate::warning`]).
    Warned(Refusal),
}

impl Gate {
    /// The warning of a drift check that a deployment would be refused.
    pub fn warning(refusal: &Refusal) -> String {
        format!("a deployment now would be refused: {refusal}")
    }
}

/// The guards, in order: the deletion guard (`limits`), the people guard (on the
/// impact, when assessed), and the directory check's verdict (only `require` refuses,
/// on the report, when there is one). A Delete with `OnDelete: remove` is its own
/// confirmation, so nothing refuses it; a drift check only warns.
pub fn gate(
    trigger: Trigger,
    plan: &Plan,
    limits: &GuardLimits,
    impact: Option<&Impact>,
    check: DirectoryCheck,
    directory: Option<&DirectoryReport>,
) -> Gate {
    let tripped =
        plan.check_guard(limits)
            .map_err(Refusal::from)
            .and_then(|()| match impact {
                Some(impact) => check_people_guard(impact, limits.max_users_losing_access)
                    .map_err(Refusal::from),
                None => Ok(()),
            })
            .and_then(|()| match directory {
                Some(report) => check.judge(report, plan).map_err(Refusal::Directory),
                None => Ok(()),
            });
    match (tripped, trigger) {
        (Ok(()), _) | (Err(_), Trigger::Delete) => Gate::Open,
        (Err(refusal), Trigger::Drift) => Gate::Warned(refusal),
        (Err(refusal), _) => Gate::Refused(refusal),
    }
}

/// Whether a run writes (records its intent, changes the scope, records ownership):
/// not a dry run, not a drift check, and it knows the stack that owns its record.
pub fn writes(trigger: Trigger, dry_run: bool, knows_its_stack: bool) -> bool {
    knows_its_stack && !dry_run && trigger != Trigger::Drift
}

/// The verdict of a plan and the results of its changes (none for a run that does
/// not write): nothing planned is no change; every change succeeded (or none was
/// attempted) is changed; otherwise a partial failure.
pub fn verdict(plan: &Plan, results: &[ChangeResult]) -> Verdict {
    if !plan.has_changes() {
        Verdict::NoChange
    } else if results.iter().all(ChangeResult::succeeded) {
        Verdict::Changed
    } else {
        Verdict::PartialFailure
    }
}

/// The scope after an apply, from a listing (the scope before, or the settling
/// listing) and the answers to each change (a 2xx answer is trusted: a listing may
/// lag behind the writes just made, the answers do not).
pub fn scope_after(base: &[CurrentFilter], results: &[ChangeResult]) -> Vec<CurrentFilter> {
    let removed: HashSet<&str> = results
        .iter()
        .filter(|r| r.action.op == Op::Remove && r.succeeded())
        .filter_map(|r| r.action.id.as_deref())
        .collect();
    let listed: HashSet<ScopeKey> = base.iter().map(CurrentFilter::key).collect();
    let created = results
        .iter()
        .filter(|r| r.action.op == Op::Create && r.succeeded())
        .filter(|r| !listed.contains(&r.action.key()))
        .map(|r| CurrentFilter {
            id: String::new(),
            kind: r.action.kind,
            name: r.action.name.clone(),
            domain: r.action.domain.clone(),
        });
    base.iter()
        .filter(|f| !removed.contains(f.id.as_str()))
        .cloned()
        .chain(created)
        .collect()
}

/// The warning for filters this config does not want that stay because other
/// stacks of the profile list them (None: there are none).
pub fn shared_warning(plan: &Plan) -> Option<String> {
    let shared: Vec<&Action> = plan.with_op(Op::Shared).collect();
    (!shared.is_empty()).then(|| {
        format!(
            "{} filter(s) this config does not want stay in the scope because other stacks of the sync profile list them: {}",
            shared.len(),
            plan::wanted_by_list(&shared, 10)
        )
    })
}

/// The note of a Delete (`OnDelete: remove`) that removed nothing: of the `recorded`
/// filters of `key`, none was left, or the rest (`shared`) stay for other stacks.
pub fn teardown_note(recorded: usize, key: &ProfileKey, shared: &[&Action]) -> String {
    if shared.is_empty() {
        format!(
            "deleted; none of the {recorded} filter(s) recorded for {key} is in the scope any more, so there was nothing to remove"
        )
    } else {
        format!(
            "deleted; {} of the {recorded} filter(s) recorded for {key} stay in the scope because other stacks list them ({}), nothing else was left to remove",
            shared.len(),
            plan::wanted_by_list(shared, 3)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Wanted;
    use crate::impact::Person;
    use crate::names::FilterKind;
    use crate::outcome::ChangeStatus;
    use crate::plan::Mode;
    use crate::scope::{CoOwners, Desired, Ledger};

    const DOMAIN: &str = "corp.example.com";

    fn listed(groups: &[&str]) -> Vec<CurrentFilter> {
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| CurrentFilter {
                id: format!("sf-{i}"),
                kind: FilterKind::Group,
                name: (*g).to_owned(),
                domain: DOMAIN.to_owned(),
            })
            .collect()
    }

    /// The plan of an authoritative config wanting `wanted` over a scope of `current`.
    fn plan_of(wanted: &[&str], current: &[&str]) -> Plan {
        let desired = Desired::groups(DOMAIN, wanted.iter().copied()).unwrap();
        plan::plan(
            &desired,
            &listed(current),
            &Ledger::default(),
            Mode::Authoritative,
            &CoOwners::default(),
        )
    }

    fn limits(max_removals: u32, max_users: Option<u32>) -> GuardLimits {
        GuardLimits {
            max_removals,
            max_removal_percent: 100,
            max_users_losing_access: max_users,
        }
    }

    fn losing(n: usize) -> Impact {
        Impact {
            losing: (0..n)
                .map(|i| Person {
                    user_name: format!("user{i}"),
                    display_name: format!("User {i}"),
                    user_id: format!("u-{i}"),
                    loses: Vec::new(),
                })
                .collect(),
            ..Impact::default()
        }
    }

    fn not_in_ad(name: &str) -> DirectoryReport {
        let names = [Wanted {
            kind: FilterKind::Group,
            name: name.to_owned(),
        }];
        let mut report = DirectoryReport::not_checked("d-1234567890", &names, "test");
        report.entries[0].status = crate::directory::AdStatus::NotInAd;
        report
    }

    fn result(action: &Action, status: ChangeStatus) -> ChangeResult {
        ChangeResult {
            action: action.clone(),
            status,
        }
    }

    #[test]
    fn the_guards_refuse_a_deployment_warn_a_drift_check_and_let_a_delete_through() {
        // Removes two groups: over a limit of one.
        let plan = plan_of(&["Kept"], &["Kept", "Old1", "Old2"]);
        let over = limits(1, None);
        let cases = [
            (Trigger::Create, "refused"),
            (Trigger::Update, "refused"),
            (Trigger::Drift, "warned"),
            (Trigger::Delete, "open"),
        ];
        for (trigger, expected) in cases {
            let gate = gate(trigger, &plan, &over, None, DirectoryCheck::Warn, None);
            let got = match &gate {
                Gate::Open => "open",
                Gate::Refused(why) => {
                    assert!(
                        matches!(why, Refusal::Removals(t) if t.removals == 2),
                        "{why}"
                    );
                    assert!(
                        why.to_string()
                            .starts_with("refusing to remove 2 of 3 filters")
                    );
                    "refused"
                }
                Gate::Warned(why) => {
                    assert!(
                        Gate::warning(why)
                            .starts_with("a deployment now would be refused: refusing to remove 2")
                    );
                    "warned"
                }
            };
            assert_eq!(got, expected, "{trigger:?}");
        }
        assert_eq!(
            gate(
                Trigger::Update,
                &plan,
                &limits(2, None),
                None,
                DirectoryCheck::Warn,
                None
            ),
            Gate::Open,
            "exactly at the limit is allowed"
        );
    }

    #[test]
    fn the_people_guard_counts_only_an_assessed_impact() {
        let plan = plan_of(&["Kept"], &["Kept", "Old"]);
        let guard = limits(10, Some(2));
        let gate_with = |impact: Option<&Impact>| {
            gate(
                Trigger::Update,
                &plan,
                &guard,
                impact,
                DirectoryCheck::Warn,
                None,
            )
        };
        assert_eq!(gate_with(None), Gate::Open);
        assert_eq!(gate_with(Some(&losing(2))), Gate::Open);
        let Gate::Refused(Refusal::People(why)) = gate_with(Some(&losing(3))) else {
            panic!("three users over a limit of two")
        };
        assert!(why.to_string().contains("disable 3 user(s)"), "{why}");
        // Not read: fails closed.
        assert!(matches!(
            gate_with(Some(&Impact::unknown("the identity store did not answer"))),
            Gate::Refused(_)
        ));
    }

    #[test]
    fn only_require_lets_the_directory_check_refuse() {
        let plan = plan_of(&["Typo"], &[]);
        let report = not_in_ad("Typo");
        let guard = limits(10, None);
        let gate_with = |check, report: Option<&DirectoryReport>| {
            gate(Trigger::Create, &plan, &guard, None, check, report)
        };
        let Gate::Refused(Refusal::Directory(why)) =
            gate_with(DirectoryCheck::Require, Some(&report))
        else {
            panic!("require refuses a name AD lacks")
        };
        assert!(why.contains("Typo"), "{why}");
        assert_eq!(gate_with(DirectoryCheck::Warn, Some(&report)), Gate::Open);
        assert_eq!(gate_with(DirectoryCheck::Off, Some(&report)), Gate::Open);
        assert_eq!(gate_with(DirectoryCheck::Require, None), Gate::Open);
    }

    #[test]
    fn only_a_run_that_knows_its_stack_and_is_not_dry_writes() {
        // (trigger, dry run, knows its stack, writes)
        let table = [
            (Trigger::Create, false, true, true),
            (Trigger::Update, false, true, true),
            (Trigger::Delete, false, true, true),
            (Trigger::Create, true, true, false),
            (Trigger::Drift, false, true, false),
            (Trigger::Update, false, false, false),
        ];
        for (trigger, dry_run, knows, expected) in table {
            assert_eq!(
                writes(trigger, dry_run, knows),
                expected,
                "{trigger:?} dry={dry_run} knows={knows}"
            );
        }
    }

    #[test]
    fn the_verdict_follows_the_plan_and_the_answers() {
        let quiet = plan_of(&["A"], &["A"]);
        assert_eq!(verdict(&quiet, &[]), Verdict::NoChange);
        let plan = plan_of(&["A", "B"], &["A"]);
        let create = plan.with_op(Op::Create).next().unwrap();
        assert_eq!(
            verdict(&plan, &[]),
            Verdict::Changed,
            "a dry run that would change"
        );
        assert_eq!(
            verdict(&plan, &[result(create, ChangeStatus::Applied)]),
            Verdict::Changed
        );
        assert_eq!(
            verdict(
                &plan,
                &[result(
                    create,
                    ChangeStatus::Failed {
                        reason: "503".into(),
                        in_doubt: false
                    }
                )]
            ),
            Verdict::PartialFailure
        );
    }

    #[test]
    fn the_scope_after_follows_the_answers_without_a_listing() {
        let plan = plan_of(&["Kept", "New"], &["Old", "Kept"]);
        let results: Vec<ChangeResult> = plan
            .changes()
            .map(|a| result(a, ChangeStatus::Applied))
            .collect();
        let names: Vec<String> = scope_after(&listed(&["Old", "Kept"]), &results)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["Kept", "New"]);
        // A create the settling listing already shows is not added twice; a failed
        // removal stays.
        let failed: Vec<ChangeResult> = plan
            .changes()
            .map(|a| match a.op {
                Op::Remove => result(
                    a,
                    ChangeStatus::Failed {
                        reason: "409".into(),
                        in_doubt: false,
                    },
                ),
                _ => result(a, ChangeStatus::Applied),
            })
            .collect();
        let names: Vec<String> = scope_after(&listed(&["Old", "Kept", "new"]), &failed)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["Old", "Kept", "new"]);
    }

    #[test]
    fn a_deployment_whose_filters_changed_under_it_is_refused() {
        let found = "a".repeat(64);
        assert_eq!(check_deployed("/p", None, &found), Ok(()));
        assert_eq!(check_deployed("/p", Some(&found), &found), Ok(()));
        let why = check_deployed("/p", Some(&"b".repeat(64)), &found)
            .unwrap_err()
            .to_string();
        assert!(
            why.starts_with("the filters under /p (hash aaaaaaaaaaaaaaaa) are not the ones this deployment wrote (hash bbbbbbbbbbbbbbbb)"),
            "{why}"
        );
    }

    #[test]
    fn invalid_filters_show_five_problems_and_count_the_rest() {
        let problems: Vec<String> = (1..=7).map(|i| format!("p{i}")).collect();
        assert_eq!(
            invalid_filters("/f", &problems),
            "invalid filters under /f: p1; p2; p3; p4; p5; and 2 more"
        );
        assert_eq!(
            invalid_filters("/f", &problems[..2]),
            "invalid filters under /f: p1; p2"
        );
    }

    #[test]
    fn a_teardown_that_removed_nothing_says_why() {
        let key = ProfileKey::parse("eu-central-1", "P").unwrap();
        assert!(teardown_note(3, &key, &[]).starts_with(
            "deleted; none of the 3 filter(s) recorded for P in eu-central-1 is in the scope any more"
        ));
        let plan = plan_of(&[], &["A"]);
        let action = plan.changes().next().unwrap();
        assert!(teardown_note(3, &key, &[action]).starts_with("deleted; 1 of the 3 filter(s)"));
        assert_eq!(shared_warning(&plan), None);
    }
}
