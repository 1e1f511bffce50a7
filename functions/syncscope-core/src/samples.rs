//! Sample outcomes: every verdict, dry or not, with 0 to thousands of groups, and
//! hostile names (markup, quotes, `&`, right-to-left text, emoji, 256-character
//! names, markdown). The card and docs unit tests use them, and the harness's
//! `syncscope-samples` writes every card and a set of pages from them into
//! `build/samples/` for the browser checks in `tests/browser/` (feature `samples`;
//! not in the Lambda).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::docs::{Enrichment, Lookup};
use crate::names::{DomainName, SyncProfileName};
use crate::outcome::{ChangeResult, ChangeStatus, Outcome, Trigger, Verdict};
use crate::plan::{Action, Mode, Op, Plan};
use crate::scope::{CurrentFilter, FilterKind};
use crate::timestamp::Timestamp;

/// The AD domain of every sample.
pub const DOMAIN: &str = "corp.example.com";
/// The docs link of every sample.
pub const WEBSITE: &str = "https://wiki.example.com/aws/sso-groups";

/// Names that try to break out of HTML, JSON, markdown and layout.
pub fn hostile_names() -> Vec<String> {
    vec![
        "<script>alert(1)</script>".to_owned(),
        "\"quoted\" & 'single' <b>bold</b>".to_owned(),
        "مرحبا-العالم".to_owned(),
        "🚀 Rocket-Team 👩‍💻".to_owned(),
        format!("L{}", "ong-Name".repeat(32))
            .chars()
            .take(256)
            .collect(),
        "**bold** _it_ [link](https://evil.example) # heading".to_owned(),
        "</td></tr></table><img src=x onerror=alert(1)>".to_owned(),
        "{{ template }} {% if %} ${injection}".to_owned(),
    ]
}

/// The sample of a Create with this verdict, dryness, group count and hostility.
pub fn created(verdict: Verdict, dry_run: bool, groups: usize, hostile: bool) -> Outcome {
    outcome(Spec {
        verdict,
        dry_run,
        groups,
        hostile,
        trigger: Trigger::Create,
    })
}

/// What a sample looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The verdict.
    pub verdict: Verdict,
    /// A dry run.
    pub dry_run: bool,
    /// Group filters in the plan.
    pub groups: usize,
    /// Hostile names, descriptions, reasons and warnings.
    pub hostile: bool,
    /// What started the run.
    pub trigger: Trigger,
}

impl Spec {
    /// A file-name-safe label, e.g. `partial_failure-dry-2000-hostile`.
    pub fn label(&self) -> String {
        let verdict = match self.verdict {
            Verdict::Changed => "changed",
            Verdict::NoChange => "no_change",
            Verdict::PartialFailure => "partial_failure",
            Verdict::Failed => "failed",
        };
        let mut label = format!("{verdict}-{}", self.groups);
        if self.dry_run {
            label.push_str("-dry");
        }
        if self.hostile {
            label.push_str("-hostile");
        }
        if self.trigger != Trigger::Create {
            label.push('-');
            label.push_str(&self.trigger.as_str().to_lowercase().replace(' ', "_"));
        }
        label
    }
}

/// Every combination the card tests cover: each verdict x dry run x 0 / 7 / 2,000
/// groups x plain / hostile names (dry runs never partly fail).
pub fn specs() -> Vec<Spec> {
    let mut out = Vec::new();
    for verdict in [
        Verdict::Changed,
        Verdict::NoChange,
        Verdict::PartialFailure,
        Verdict::Failed,
    ] {
        for dry_run in [false, true] {
            for groups in [0, 7, 2000] {
                for hostile in [false, true] {
                    out.push(Spec {
                        verdict,
                        dry_run,
                        groups,
                        hostile,
                        trigger: Trigger::Create,
                    });
                }
            }
        }
    }
    out
}

fn name(i: usize, hostile: bool, names: &[String]) -> String {
    if hostile {
        let base = &names[i % names.len()];
        if i < names.len() {
            base.clone()
        } else {
            // Unique, and still at most 256 characters.
            let suffix = format!("-{i}");
            let keep = 256 - suffix.chars().count();
            base.chars().take(keep).collect::<String>() + &suffix
        }
    } else {
        format!("AWS-Team-{i:04}-Access")
    }
}

/// The other stack of the profile that co-owns the samples' adopted groups.
pub const CO_OWNER: &str = "COMPANY-SSO-AD-GroupSync-PROD";

/// Builds the outcome of a spec.
pub fn outcome(spec: Spec) -> Outcome {
    let hostile = hostile_names();
    let h = spec.hostile;
    let mut actions = Vec::new();
    for i in 0..spec.groups {
        // 40 % create, 30 % keep, 10 % adopt, 10 % remove, 10 % unmanaged.
        let op = match (spec.verdict, i % 10) {
            (Verdict::NoChange, 0..=3) => Op::Keep,
            (Verdict::NoChange, 8) => Op::Keep,
            (_, 0..=3) => Op::Create,
            (_, 4..=6) => Op::Keep,
            (_, 7) => Op::Adopt,
            (_, 8) => Op::Remove,
            _ => Op::Unmanaged,
        };
        let name = name(i, h, &hostile);
        let description = if h {
            format!(
                "{} & \"friends\" <i>{i}</i>",
                hostile[(i + 3) % hostile.len()]
            )
        } else if matches!(op, Op::Remove | Op::Unmanaged) {
            String::new()
        } else {
            format!("Team {i} access to the AWS accounts")
        };
        actions.push(Action {
            op,
            kind: FilterKind::Group,
            name,
            domain: DOMAIN.to_owned(),
            id: (op != Op::Create).then(|| format!("sf-{i:06x}")),
            description,
            // Every adopted group is co-owned: another stack of the profile lists it.
            wanted_by: if op == Op::Adopt {
                vec![CO_OWNER.to_owned()]
            } else {
                Vec::new()
            },
            undo: false,
        });
    }
    if spec.groups > 0 {
        actions.push(Action {
            op: if spec.verdict == Verdict::NoChange {
                Op::Keep
            } else {
                Op::Create
            },
            kind: FilterKind::User,
            name: if h {
                "o'brien <svg onload=alert(1)>".to_owned()
            } else {
                "jdoe".to_owned()
            },
            domain: DOMAIN.to_owned(),
            id: None,
            description: "Break-glass user".to_owned(),
            wanted_by: Vec::new(),
            undo: false,
        });
    }
    let plan = Plan {
        mode: Mode::Managed,
        domain: DOMAIN.to_owned(),
        scope_size: actions.iter().filter(|a| a.op != Op::Create).count(),
        actions,
    };

    let reason = |i: usize| {
        if h {
            format!(
                "AccessDeniedException: not allowed on {} & <script>alert({i})</script>",
                hostile[i % hostile.len()]
            )
        } else {
            "AccessDeniedException: the caller may not change this sync profile".to_owned()
        }
    };
    let mut results = Vec::new();
    let mut failure = None;
    match (spec.verdict, spec.dry_run) {
        (_, true) | (Verdict::NoChange, _) => {}
        (Verdict::Failed, false) => {
            failure = Some(if h {
                format!(
                    "the deletion guard refused the plan for {} & \"others\" <script>alert(1)</script>",
                    hostile[4]
                )
            } else {
                "refusing to remove 12 of 40 filters in one run (30 %): the deletion guard allows at most 10. Nothing was changed".to_owned()
            });
        }
        (verdict, false) => {
            for (i, action) in plan.changes().enumerate() {
                let status = match (verdict, i % 5) {
                    (Verdict::PartialFailure, 1) => ChangeStatus::Failed {
                        reason: reason(i),
                        in_doubt: false,
                    },
                    (Verdict::PartialFailure, 3) => ChangeStatus::Pending,
                    (_, 4) => ChangeStatus::AlreadyDone,
                    _ => ChangeStatus::Applied,
                };
                results.push(ChangeResult {
                    action: action.clone(),
                    status,
                });
            }
        }
    }
    if spec.verdict == Verdict::Failed && spec.dry_run {
        failure = Some("could not read the filters: the parameter does not exist".to_owned());
    }
    let verdict = match (spec.verdict, spec.dry_run) {
        (Verdict::PartialFailure, true) => Verdict::Changed,
        (v, _) => v,
    };
    let scope_after: Vec<CurrentFilter> = plan
        .actions
        .iter()
        .filter(|a| a.op != Op::Create || results.iter().any(|r| r.action == **a && r.succeeded()))
        .filter(|a| a.op != Op::Remove || !results.iter().any(|r| r.action == **a && r.succeeded()))
        .enumerate()
        .map(|(i, a)| CurrentFilter {
            id: a.id.clone().unwrap_or_else(|| format!("sf-new-{i:06x}")),
            kind: a.kind,
            name: a.name.clone(),
            domain: a.domain.clone(),
        })
        .collect();
    let impact = sample_impact(&plan, h);
    let directory = sample_directory(&plan);
    let mut warnings = Vec::new();
    if h {
        warnings.push("could not verify <b>the scope</b> & \"friends\"".to_owned());
        warnings.push(format!("docs: could not publish {}", hostile[0]));
    }
    if spec.verdict == Verdict::PartialFailure {
        warnings.push("the Teams webhook answered 429; retried".to_owned());
    }
    Outcome {
        trigger: spec.trigger,
        verdict,
        dry_run: spec.dry_run,
        stage: if h {
            "TEST <i>&</i>".to_owned()
        } else {
            "TEST".to_owned()
        },
        stack: "COMPANY-SSO-AD-GroupSync-TEST".to_owned(),
        profile: SyncProfileName::default(),
        domain: DomainName::parse(DOMAIN).expect("a valid domain"),
        mode: Mode::Managed,
        started_at: Timestamp::parse("2026-11-22T08:45:21Z").expect("an RFC 3339 time"),
        duration_ms: 1234,
        plan: Some(plan),
        results,
        scope_after: Some(scope_after),
        failure,
        warnings,
        docs_url: Some(WEBSITE.to_owned()),
        calls: Default::default(),
        retries: Default::default(),
        note: None,
        impact,
        directory: Some(directory),
    }
}

/// A plausible directory check of a plan: most names in AD (groups with members,
/// every third with a nested group), every fifth wanted name not in AD, every seventh
/// not checked (throttled).
pub fn sample_directory(plan: &Plan) -> crate::directory::DirectoryReport {
    use crate::directory::{AdEntry, AdStatus, DirectoryReport};
    let entries = [Op::Create, Op::Adopt, Op::Keep]
        .into_iter()
        .flat_map(|op| plan.with_op(op))
        .enumerate()
        .map(|(i, w)| {
            let status = if i % 5 == 3 {
                AdStatus::NotInAd
            } else if i % 7 == 5 {
                AdStatus::NotChecked {
                    why: "throttled".to_owned(),
                }
            } else if w.kind == FilterKind::Group {
                AdStatus::InAd {
                    members: Some((i as u32 * 7) % 40 + 1),
                    nested_groups: Some(u32::from(i % 3 == 0)),
                }
            } else {
                AdStatus::InAd {
                    members: None,
                    nested_groups: None,
                }
            };
            AdEntry {
                kind: w.kind,
                name: w.name.clone(),
                status,
            }
        })
        .collect();
    DirectoryReport {
        directory_id: "d-1234567890".to_owned(),
        entries,
        skipped: None,
    }
}

/// A plausible impact of a plan: each removed group held three users, one of whom
/// another group keeps; added groups alternate between synced and pending. Hostile
/// samples use hostile user names. None when the plan adds and removes no group.
pub fn sample_impact(plan: &Plan, hostile: bool) -> Option<crate::impact::Impact> {
    use crate::impact::{GroupLine, Impact, Kept, Members, Person};
    let mut impact = Impact::default();
    let names = hostile_names();
    for (i, a) in plan
        .actions
        .iter()
        .filter(|a| a.kind == FilterKind::Group)
        .enumerate()
    {
        let name = crate::names::display_name(&a.name, &a.domain);
        match a.op {
            Op::Remove => {
                impact.removed_groups.push(GroupLine {
                    name: name.clone(),
                    members: Members::Synced { members: 3 },
                });
                for j in 0..3 {
                    let user = if hostile {
                        format!("{}{i}{j}", names[(i + j) % names.len()])
                    } else {
                        format!("user{i:03}{j}")
                    };
                    let person = Person {
                        user_name: format!("{user}@{DOMAIN}"),
                        display_name: format!("{} {user}", ["Ann", "Bob", "Cy"][j]),
                        user_id: format!("u-{i:04}-{j}"),
                        loses: sample_grants(i, if j == 0 { 1 } else { 2 }),
                    };
                    if j == 0 {
                        impact.keeping.push(Kept {
                            person,
                            through: format!("AWS-Kept-Group@{DOMAIN}"),
                            keeps: vec![sample_grant(3, "ReadOnlyAccess")],
                        });
                    } else {
                        impact.losing.push(person);
                    }
                }
            }
            Op::Create => impact.added_groups.push(GroupLine {
                name,
                members: if i % 2 == 0 {
                    Members::Synced { members: i as u64 }
                } else {
                    Members::Pending
                },
            }),
            _ => {}
        }
    }
    impact.access = Some(crate::access::AccessRead::default());
    (!impact.removed_groups.is_empty() || !impact.added_groups.is_empty()).then_some(impact)
}

/// The sample accounts: a name and an id each.
const SAMPLE_ACCOUNTS: [(&str, &str); 4] = [
    ("payments-prod", "111122223333"),
    ("payments-test", "222233334444"),
    ("shared-services", "333344445555"),
    ("audit", "444455556666"),
];

/// A sample grant: `set` in the `n`th sample account.
pub fn sample_grant(n: usize, set: &str) -> crate::access::Grant {
    let (name, id) = SAMPLE_ACCOUNTS[n % SAMPLE_ACCOUNTS.len()];
    crate::access::Grant {
        account_id: id.to_owned(),
        account_name: Some(name.to_owned()),
        permission_set: set.to_owned(),
        session_duration: Some("PT8H".to_owned()),
    }
}

/// `count` sample grants for the `i`th group.
pub fn sample_grants(i: usize, count: usize) -> Vec<crate::access::Grant> {
    let sets = ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"];
    let mut grants: Vec<_> = (0..count)
        .map(|k| sample_grant(i + k, sets[(i + k) % sets.len()]))
        .collect();
    crate::access::tidy(&mut grants);
    grants
}

/// An outcome with no plan: the run failed before reading the scope.
pub fn failed_early() -> Outcome {
    let mut o = outcome(Spec {
        verdict: Verdict::Failed,
        dry_run: false,
        groups: 0,
        hostile: false,
        trigger: Trigger::Update,
    });
    o.plan = None;
    o.scope_after = None;
    o.failure = Some(
        "could not read the filters: no filters found in SSM: neither a parameter /syncscope/x/filters/abc nor shards under it exist".to_owned(),
    );
    o
}

/// A settings-only update (or a Delete that retains the scope): a note, no plan.
pub fn noted(trigger: Trigger) -> Outcome {
    let mut o = failed_early();
    o.trigger = trigger;
    o.verdict = Verdict::NoChange;
    o.failure = None;
    o.note = Some(match trigger {
        Trigger::Delete => {
            "stack deleted; OnDelete is retain, so the sync scope stays as it is".to_owned()
        }
        _ => "Update changed only the function's settings (ServiceToken/ServiceTimeout); the sync scope was not touched".to_owned(),
    });
    o
}

/// A plausible identity store for an outcome: most groups in the scope synced (with
/// members), the rest missing, and one lookup failing; with the access map of the
/// synced groups (see [`sample_access`]).
pub fn enrichment(outcome: &Outcome) -> Enrichment {
    let mut e = Enrichment::default();
    e.identity_store_id = Some("d-1234567890".to_owned());
    let mut access = sample_access(outcome.stage.contains('<'));
    for (i, name) in crate::docs::groups_to_look_up(outcome).iter().enumerate() {
        let group_id = format!("9a6b2c1d-{i:04}-4e5f-8a9b-0c1d2e3f4a5b");
        let lookup = match i % 7 {
            0 | 1 | 3 | 4 => Lookup::Found {
                group_id: group_id.clone(),
                members: Ok((i as u64 * 7) % 40),
            },
            5 => Lookup::Found {
                group_id: group_id.clone(),
                members: Err("ThrottlingException".to_owned()),
            },
            6 if i == 6 => {
                Lookup::Failed("AccessDeniedException: identitystore:GetGroupId".to_owned())
            }
            _ => Lookup::Missing,
        };
        if matches!(lookup, Lookup::Found { .. }) {
            sample_assignments(&mut access, i, group_id);
        }
        e.insert(name, lookup);
    }
    e.access = Some(access);
    e
}

/// An access map of no group yet: complete, or (`hostile`) partial, with a note and
/// markup in both.
fn sample_access(hostile: bool) -> crate::access::AccessMap {
    crate::access::AccessMap {
        partial: hostile.then(|| "out of time after 3 s <b>reading</b> & \"more\"".to_owned()),
        note: hostile
            .then(|| "account names not read: organizations:ListAccounts <i>denied</i>".to_owned()),
        strategy: Some(crate::access::Strategy::PerPrincipal),
        ..Default::default()
    }
}

/// The `i`th synced group's grants: every seventh (from the fifth) grants nothing;
/// in a partial map every seventh (from the fourth) was not read; the others one to
/// three sample grants.
fn sample_assignments(access: &mut crate::access::AccessMap, i: usize, group_id: String) {
    let grants = match i % 7 {
        4 => Vec::new(),
        3 if access.partial.is_some() => return,
        _ => sample_grants(i, 1 + i % 3),
    };
    access.grants.insert(group_id, grants);
}

/// Asserts `text` holds every needle (for the tests of rendered text).
pub fn contains_all(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} is missing from:\n{text}");
    }
}

/// An action of `op` on a filter in [`DOMAIN`] (no id, no description), for tests.
pub fn action(op: Op, kind: FilterKind, name: &str) -> Action {
    Action {
        op,
        kind,
        name: name.to_owned(),
        domain: DOMAIN.to_owned(),
        id: None,
        description: String::new(),
        wanted_by: Vec::new(),
        undo: false,
    }
}

/// A managed plan of `actions` in [`DOMAIN`] over a scope of as many filters.
pub fn plan_of(actions: Vec<Action>) -> Plan {
    Plan {
        mode: Mode::Managed,
        domain: DOMAIN.to_owned(),
        scope_size: actions.len(),
        actions,
    }
}
