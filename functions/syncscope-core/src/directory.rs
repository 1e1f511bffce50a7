//! The directory check: whether each wanted filter names a group or user that exists
//! in Active Directory itself (AWS Directory Service Data, `ds-data`), so a typo'd
//! name is caught before it syncs nobody. The identity store only says what has been
//! synced so far; a name missing there may be pending the next sync cycle or may not
//! exist at all, and only the directory tells the two apart.
//!
//! The adapter that asks the directory lives in the Lambda package; this module holds
//! what every side shares: the setting, the per-name status, the report of one run,
//! and the rule of `require`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::names::Caseless;
use crate::plan::{Op, Plan};
use crate::scope::Desired;
use crate::scope::FilterKind;

crate::choice::choice! {
    /// `SSO.DirectoryCheck`: what a name that is not in AD does to a run.
    pub enum DirectoryCheck {
        /// Report names not in AD (docs, card, plan) and still apply them; the check
        /// runs beside the changes and never delays them (default).
        Warn = "warn",
        /// Refuse a plan that wants a name not in AD, before any change.
        Require = "require",
        /// Do not ask the directory (no ds-data call).
        Off = "off",
    }
}

/// What the directory says about one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AdStatus {
    /// The directory has it. For a group asked by name: its direct members, and how
    /// many of them are groups (nested groups widen access when Identity Center
    /// flattens them); `None` for a user, for a group settled from the directory's
    /// listing, and when they could not all be counted in time.
    InAd {
        /// Direct members (users, groups and computers); groups only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        members: Option<u32>,
        /// Direct members that are groups; groups only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nested_groups: Option<u32>,
    },
    /// The directory answered that there is no such group or user.
    NotInAd,
    /// Not asked, or no answer: why (AD Connector, data access disabled, no
    /// permission, throttled, out of time, check off).
    NotChecked {
        /// Why, in a few words.
        why: String,
    },
}

impl AdStatus {
    /// A short label for tables: "in AD", "not in AD", "not checked".
    pub fn label(&self) -> &'static str {
        match self {
            Self::InAd { .. } => "in AD",
            Self::NotInAd => "not in AD",
            Self::NotChecked { .. } => "not checked",
        }
    }

    /// The CSS modifier of the docs page's status badge.
    pub fn class(&self) -> &'static str {
        match self {
            Self::InAd { .. } => "synced",
            Self::NotInAd => "notfound",
            Self::NotChecked { .. } => "unknown",
        }
    }

    /// What follows the label on the docs page: the member counts of a group in AD,
    /// why a name was not checked (empty otherwise).
    pub fn detail(&self) -> String {
        match self {
            Self::InAd { .. } => self
                .describe()
                .strip_prefix("in AD: ")
                .unwrap_or_default()
                .to_owned(),
            Self::NotInAd => "no such name in the directory".to_owned(),
            Self::NotChecked { why } => why.clone(),
        }
    }

    /// The label with its detail: "in AD: 12 members, 2 nested groups",
    /// "not checked: data access disabled".
    pub fn describe(&self) -> String {
        match self {
            Self::InAd {
                members: Some(m),
                nested_groups,
            } => {
                let nested = match nested_groups {
                    Some(n) if *n > 0 => format!(", {n} nested group{}", plural(*n)),
                    _ => String::new(),
                };
                format!("in AD: {m} member{}{nested}", plural(*m))
            }
            Self::InAd { .. } | Self::NotInAd => self.label().to_owned(),
            Self::NotChecked { why } => format!("not checked: {why}"),
        }
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One checked name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdEntry {
    /// Group or user.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The name as configured.
    pub name: String,
    /// What the directory said.
    #[serde(flatten)]
    pub status: AdStatus,
}

/// The directory check of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryReport {
    /// The directory asked.
    pub directory_id: String,
    /// Every wanted name, in the config's order.
    pub entries: Vec<AdEntry>,
    /// Why some or all names were not checked (one sentence for the whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl DirectoryReport {
    /// A report in which no name could be checked, for one reason.
    pub fn not_checked(directory_id: &str, names: &[Wanted], why: &str) -> Self {
        Self {
            directory_id: directory_id.to_owned(),
            entries: names
                .iter()
                .map(|w| AdEntry {
                    kind: w.kind,
                    name: w.name.clone(),
                    status: AdStatus::NotChecked {
                        why: why.to_owned(),
                    },
                })
                .collect(),
            skipped: Some(why.to_owned()),
        }
    }

    /// The report of a check whose directory could not even be found: no name was
    /// asked, and `why` says so.
    pub fn unlocated(names: &[Wanted], why: &str) -> Self {
        Self::not_checked("(unknown)", names, why)
    }

    /// What a run reports about the check: the names not in AD, and why names were
    /// not checked.
    pub fn warnings(&self) -> Vec<String> {
        let skipped = self
            .skipped
            .as_ref()
            .map(|why| format!("directory check: {why}; the names not checked are marked so"));
        self.warning().into_iter().chain(skipped).collect()
    }

    /// The names the directory says do not exist.
    pub fn not_in_ad(&self) -> impl Iterator<Item = &AdEntry> {
        self.entries
            .iter()
            .filter(|e| e.status == AdStatus::NotInAd)
    }

    /// How many names were found, not found and not checked.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.entries
            .iter()
            .fold((0, 0, 0), |(i, n, u), e| match e.status {
                AdStatus::InAd { .. } => (i + 1, n, u),
                AdStatus::NotInAd => (i, n + 1, u),
                AdStatus::NotChecked { .. } => (i, n, u + 1),
            })
    }

    /// Every status by its kind and name (the report's names are all in the plan's
    /// domain), built once for lookups per row without a key allocated per name.
    pub fn by_name(&self) -> HashMap<(FilterKind, Caseless<'_>), &AdStatus> {
        self.entries
            .iter()
            .map(|e| ((e.kind, Caseless(&e.name)), &e.status))
            .collect()
    }

    /// The warning a run reports about names not in AD (None: there are none).
    pub fn warning(&self) -> Option<String> {
        let missing: Vec<String> = self.not_in_ad().map(entry_label).collect();
        if missing.is_empty() {
            return None;
        }
        Some(format!(
            "{} name{} not in Active Directory {} (a typo syncs nobody): {}",
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" },
            self.directory_id,
            shortened(&missing, 20)
        ))
    }
}

/// "group AWS-Admins".
fn entry_label(e: &AdEntry) -> String {
    action_label(e.kind, &e.name)
}

fn action_label(kind: FilterKind, name: &str) -> String {
    format!("{} {name}", kind.noun())
}

/// The first `max` items joined, and "and N more".
fn shortened(items: &[String], max: usize) -> String {
    let shown = items[..items.len().min(max)].join(", ");
    match items.len().saturating_sub(max) {
        0 => shown,
        more => format!("{shown}, and {more} more"),
    }
}

/// A name the check asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Group or user.
    pub kind: FilterKind,
    /// The name as configured.
    pub name: String,
}

/// Every name the config wants in the scope, in its order: what a plan creates, adopts
/// or keeps (never a removal or a filter it does not manage), known before the scope
/// is listed, so a run can start the check beside its reads.
pub fn wanted(desired: &Desired) -> Vec<Wanted> {
    desired
        .filters
        .iter()
        .map(|f| Wanted {
            kind: f.kind,
            name: f.name.as_str().to_owned(),
        })
        .collect()
}

impl DirectoryCheck {
    /// The names this setting asks the directory about: every name the config wants
    /// ([`wanted`]), none when the check is off.
    pub fn names(self, desired: &Desired) -> Vec<Wanted> {
        match self {
            Self::Off => Vec::new(),
            Self::Warn | Self::Require => wanted(desired),
        }
    }

    /// Whether a plan may go ahead after its check: only `require` refuses (see
    /// [`check_required`]).
    pub fn judge(self, report: &DirectoryReport, plan: &Plan) -> Result<(), String> {
        match self {
            Self::Require => check_required(report, plan),
            Self::Warn | Self::Off => Ok(()),
        }
    }
}

/// The rule of `DirectoryCheck: require`: no wanted name may be missing from AD, and
/// every name the plan adds must have been checked (fail closed). The error names
/// each offending entry.
pub fn check_required(report: &DirectoryReport, plan: &Plan) -> Result<(), String> {
    let missing: Vec<String> = report.not_in_ad().map(entry_label).collect();
    if !missing.is_empty() {
        return Err(format!(
            "SSO.DirectoryCheck is require, and {} wanted name{} not in Active Directory {}: {}; nothing was changed (correct the name{}, or remove {})",
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" },
            report.directory_id,
            shortened(&missing, 20),
            if missing.len() == 1 { "" } else { "s" },
            if missing.len() == 1 { "it" } else { "them" },
        ));
    }
    let statuses = report.by_name();
    let unchecked: Vec<(String, &str)> = plan
        .with_op(Op::Create)
        .filter_map(|a| match statuses.get(&(a.kind, Caseless(&a.name))) {
            Some(AdStatus::NotChecked { why }) => {
                Some((action_label(a.kind, &a.name), why.as_str()))
            }
            None => Some((action_label(a.kind, &a.name), "not asked")),
            Some(_) => None,
        })
        .collect();
    if let Some((_, why)) = unchecked.first() {
        let names: Vec<String> = unchecked.iter().map(|(n, _)| n.clone()).collect();
        return Err(format!(
            "SSO.DirectoryCheck is require, and {} name{} this change adds could not be checked in Active Directory {} ({why}): {}; nothing was changed",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            report.directory_id,
            shortened(&names, 20),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{action, plan_of as plan};

    fn entry(kind: FilterKind, name: &str, status: AdStatus) -> AdEntry {
        AdEntry {
            kind,
            name: name.to_owned(),
            status,
        }
    }

    fn in_ad() -> AdStatus {
        AdStatus::InAd {
            members: Some(2),
            nested_groups: Some(0),
        }
    }

    #[test]
    fn the_check_asks_every_wanted_name_in_config_order_unless_it_is_off() {
        use crate::names::{Description, DomainName, FilterName};
        use crate::scope::DesiredFilter;

        let filter = |kind, name| DesiredFilter {
            kind,
            name: FilterName::parse(name, kind).unwrap(),
            description: Description::default(),
        };
        let desired = Desired {
            domain: DomainName::parse("corp.example.com").unwrap(),
            filters: vec![
                filter(FilterKind::Group, "AWS-Ops"),
                filter(FilterKind::User, "jdoe"),
            ],
        };
        let asked = |check: DirectoryCheck| -> Vec<(FilterKind, String)> {
            check
                .names(&desired)
                .into_iter()
                .map(|w| (w.kind, w.name))
                .collect()
        };
        let all = vec![
            (FilterKind::Group, "AWS-Ops".to_owned()),
            (FilterKind::User, "jdoe".to_owned()),
        ];
        assert_eq!(asked(DirectoryCheck::Warn), all);
        assert_eq!(asked(DirectoryCheck::Require), all);
        assert!(asked(DirectoryCheck::Off).is_empty());
    }

    #[test]
    fn require_names_every_missing_entry_and_refuses_unchecked_additions() {
        let p = plan(vec![
            action(Op::Create, FilterKind::Group, "AWS-Admnis"),
            action(Op::Keep, FilterKind::Group, "AWS-Ops"),
        ]);
        let mut report = DirectoryReport {
            directory_id: "d-1234567890".into(),
            entries: vec![
                entry(FilterKind::Group, "AWS-Admnis", AdStatus::NotInAd),
                entry(FilterKind::Group, "AWS-Ops", in_ad()),
            ],
            skipped: None,
        };
        let e = check_required(&report, &p).unwrap_err();
        assert!(e.contains("group AWS-Admnis"), "{e}");
        assert!(
            e.contains("d-1234567890") && e.contains("nothing was changed"),
            "{e}"
        );
        assert!(!e.contains("AWS-Ops"), "{e}");

        report.entries[0].status = AdStatus::NotChecked {
            why: "throttled".into(),
        };
        let e = check_required(&report, &p).unwrap_err();
        assert!(
            e.contains("could not be checked") && e.contains("throttled"),
            "{e}"
        );

        report.entries[0].status = in_ad();
        report.entries[1].status = AdStatus::NotChecked {
            why: "out of time".into(),
        };
        assert_eq!(
            check_required(&report, &p),
            Ok(()),
            "a kept name unchecked is fine"
        );

        report.entries.remove(0);
        let e = check_required(&report, &p).unwrap_err();
        assert!(
            e.contains("not asked") && e.contains("group AWS-Admnis"),
            "{e}"
        );
    }

    #[test]
    fn statuses_describe_themselves_and_the_warning_lists_missing_names() {
        assert_eq!(
            AdStatus::InAd {
                members: Some(1),
                nested_groups: Some(2)
            }
            .describe(),
            "in AD: 1 member, 2 nested groups"
        );
        assert_eq!(
            AdStatus::NotChecked {
                why: "AD Connector".into()
            }
            .describe(),
            "not checked: AD Connector"
        );
        let report = DirectoryReport {
            directory_id: "d-1234567890".into(),
            entries: vec![
                entry(FilterKind::Group, "Typo", AdStatus::NotInAd),
                entry(FilterKind::User, "ghost", AdStatus::NotInAd),
                entry(FilterKind::Group, "Real", in_ad()),
            ],
            skipped: None,
        };
        let w = report.warning().unwrap();
        assert!(
            w.starts_with("2 names are not in Active Directory d-1234567890"),
            "{w}"
        );
        assert!(w.ends_with("group Typo, user ghost"), "{w}");
        assert_eq!(report.counts(), (1, 2, 0));
        let mut partial = report.clone();
        partial.skipped = Some("out of time: 1 of 3 names were not checked".into());
        assert_eq!(
            partial.warnings(),
            [
                w.clone(),
                "directory check: out of time: 1 of 3 names were not checked; the names not checked are marked so".to_owned()
            ]
        );
        let p = plan(vec![action(Op::Keep, FilterKind::Group, "Typo")]);
        assert_eq!(DirectoryCheck::Warn.judge(&report, &p), Ok(()));
        assert!(
            DirectoryCheck::Require
                .judge(&report, &p)
                .unwrap_err()
                .contains("group Typo")
        );
        let json = serde_json::to_value(&report.entries[2]).unwrap();
        assert_eq!(json["status"], "in_ad");
        assert_eq!(json["members"], 2);
    }
}
