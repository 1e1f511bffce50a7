//! A plan preview for people deciding on a change: the plan, its impact on people,
//! and the guards' verdicts, as text (a terminal), markdown (a pull-request comment,
//! at most [`MARKDOWN_BUDGET`] characters) or JSON (scripts).
//!
//! Markdown is built from data, never trusted: every ASCII punctuation character of a
//! name is backslash-escaped (CommonMark's rule), line breaks become spaces, so a name
//! cannot close a table cell, open a link, emphasise text or inject HTML.

use serde::Serialize;

use crate::access::{Finding, Grant};
use crate::directory::{AdStatus, DirectoryReport};
use crate::impact::{DISABLED_AFTER_DAYS, Impact};
use crate::plan::{Op, Plan};

/// The most characters a markdown preview may have (GitHub's comment limit is 65,536).
pub const MARKDOWN_BUDGET: usize = 65_000;

/// Everything a preview shows.
#[derive(Debug, Clone, Serialize)]
pub struct Preview<'a> {
    /// The sync profile planned for.
    pub profile: &'a str,
    /// The plan.
    pub plan: &'a Plan,
    /// Its impact on people (None: not assessed; `impact_note` says why).
    pub impact: Option<&'a Impact>,
    /// Why the impact was not assessed, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_note: Option<String>,
    /// The directory check (None: not asked; `SSO.DirectoryCheck` off or offline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<&'a DirectoryReport>,
    /// What the guards refuse (empty: the plan would be applied).
    pub refused: Vec<String>,
    /// Things to know that do not stop the plan.
    pub warnings: Vec<String>,
    /// The access map's hygiene findings (empty: none, or the map was not read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// The most account and permission set pairs a markdown cell names before "+N more".
const PAIRS_IN_CELL: usize = 10;

/// `AdministratorAccess in payments-prod (111122223333), …`: at most `limit` labels,
/// then `+N more`.
fn pairs(grants: &[Grant], limit: usize) -> String {
    let mut labels: Vec<String> = grants.iter().take(limit).map(Grant::label).collect();
    if grants.len() > limit {
        labels.push(format!("+{} more", grants.len() - limit));
    }
    labels.join(", ")
}

/// The sentence that says what the users' losses lack, if anything.
fn access_caveat(impact: &Impact) -> Option<String> {
    let read = impact.access.as_ref()?;
    let mut parts = Vec::new();
    if let Some(partial) = &read.partial {
        parts.push(format!(
            "What each user loses is partial, a lower bound: {partial}"
        ));
    }
    if let Some(note) = &read.note {
        parts.push(note.clone());
    }
    (!parts.is_empty()).then(|| parts.join(". "))
}

/// Escapes text for a markdown table cell or paragraph.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A markdown table with at most `limit` rows, then a "+N more" row.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], limit: usize) {
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for row in rows.iter().take(limit) {
        let cells: Vec<String> = row.iter().map(|c| escape_markdown(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if rows.len() > limit {
        let mut cells = vec![format!("+{} more", rows.len() - limit)];
        cells.resize(header.len(), String::new());
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
}

impl Preview<'_> {
    /// The markdown for a pull-request comment, cut to [`MARKDOWN_BUDGET`] characters
    /// by shortening its tables ("+N more"), never by cutting text mid-way.
    pub fn markdown(&self) -> String {
        let mut limit = usize::MAX;
        loop {
            let text = self.markdown_with(limit);
            if text.chars().count() <= MARKDOWN_BUDGET || limit == 0 {
                return text;
            }
            limit = if limit == usize::MAX {
                1_000
            } else {
                limit / 2
            };
        }
    }

    fn markdown_with(&self, limit: usize) -> String {
        let plan = self.plan;
        let c = plan.counts();
        let mut out = format!(
            "### syncscope plan for sync profile `{}`\n\n",
            self.profile.replace('`', "'")
        );
        out.push_str(&format!(
            "**{} to create, {} to remove, {} to adopt, {} unchanged, {} not managed** (mode {}, domain {}, {} filters in scope now).\n\n",
            c.create,
            c.remove,
            c.adopt,
            c.keep,
            c.unmanaged,
            plan.mode.as_str(),
            escape_markdown(&plan.domain),
            plan.scope_size
        ));
        if self.refused.is_empty() {
            out.push_str("✅ Within the deletion guards: a deployment applies this plan.\n\n");
        } else {
            for refusal in &self.refused {
                out.push_str(&format!("❌ **Refused:** {}\n\n", escape_markdown(refusal)));
            }
        }
        let changes: Vec<Vec<String>> = plan
            .actions
            .iter()
            .filter(|a| a.op != Op::Keep)
            .map(|a| {
                let sign = match a.op {
                    Op::Create => "➕ create".to_owned(),
                    Op::Remove if a.undo => "↩ remove: undoes this stack's addition".to_owned(),
                    Op::Remove => "➖ remove".to_owned(),
                    Op::Adopt => "🔗 adopt".to_owned(),
                    Op::Shared => {
                        format!("🤝 left in the scope: wanted by {}", a.wanted_by.join(", "))
                    }
                    _ => "⏸ not managed: left alone".to_owned(),
                };
                let name = if a.wanted_by.is_empty() || a.op == Op::Shared {
                    a.name.clone()
                } else {
                    format!("{} (co-owned with {})", a.name, a.wanted_by.join(", "))
                };
                vec![sign, a.kind.noun().to_owned(), name]
            })
            .collect();
        if changes.is_empty() {
            out.push_str("The scope already matches the config.\n\n");
        } else {
            table(&mut out, &["Change", "Type", "Name"], &changes, limit);
        }

        out.push_str("#### Who gains and who loses AWS access\n\n");
        match self.impact {
            None => out.push_str(&format!(
                "Not assessed: {}.\n\n",
                escape_markdown(
                    self.impact_note
                        .as_deref()
                        .unwrap_or("no identity store was read")
                )
            )),
            Some(impact) => {
                out.push_str(&format!("{}.\n\n", escape_markdown(&impact.headline())));
                if let Some(caveat) = access_caveat(impact) {
                    out.push_str(&format!("{}.\n\n", escape_markdown(&caveat)));
                }
                let read = impact.access.is_some();
                if !impact.losing.is_empty() {
                    out.push_str(&format!(
                        "**Losing access** (disabled {DISABLED_AFTER_DAYS} days after the change):\n\n"
                    ));
                    let rows: Vec<Vec<String>> = impact
                        .losing
                        .iter()
                        .map(|p| {
                            let mut row = vec![p.user_name.clone(), p.display_name.clone()];
                            if read {
                                row.push(pairs(&p.loses, PAIRS_IN_CELL));
                            }
                            row
                        })
                        .collect();
                    let header: &[&str] = if read {
                        &["User", "Display name", "Loses"]
                    } else {
                        &["User", "Display name"]
                    };
                    table(&mut out, header, &rows, limit);
                }
                if !impact.keeping.is_empty() {
                    out.push_str("**Keeping access** through a group that stays:\n\n");
                    let rows: Vec<Vec<String>> = impact
                        .keeping
                        .iter()
                        .map(|k| {
                            let mut row = vec![
                                k.person.user_name.clone(),
                                k.person.display_name.clone(),
                                k.through.clone(),
                            ];
                            if read {
                                row.push(pairs(&k.person.loses, PAIRS_IN_CELL));
                                row.push(pairs(&k.keeps, PAIRS_IN_CELL));
                            }
                            row
                        })
                        .collect();
                    let header: &[&str] = if read {
                        &["User", "Display name", "Through", "Loses", "Keeps"]
                    } else {
                        &["User", "Display name", "Through"]
                    };
                    table(&mut out, header, &rows, limit);
                }
                let groups: Vec<Vec<String>> = impact
                    .removed_groups
                    .iter()
                    .map(|g| (g, "removed"))
                    .chain(impact.added_groups.iter().map(|g| (g, "added")))
                    .map(|(g, change)| vec![g.name.clone(), change.to_owned(), g.members.label()])
                    .collect();
                if !groups.is_empty() {
                    table(&mut out, &["Group", "Change", "Members"], &groups, limit);
                }
            }
        }
        if let Some(report) = self.directory {
            out.push_str("#### In Active Directory\n\n");
            out.push_str(&format!(
                "{}.\n\n",
                escape_markdown(&directory_headline(report))
            ));
            let rows: Vec<Vec<String>> = report
                .entries
                .iter()
                .filter(|e| !matches!(e.status, AdStatus::InAd { .. }))
                .map(|e| {
                    vec![
                        e.name.clone(),
                        e.kind.noun().to_owned(),
                        e.status.describe(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                table(
                    &mut out,
                    &["Name", "Type", "Active Directory"],
                    &rows,
                    limit,
                );
            }
        }
        if !self.findings.is_empty() {
            out.push_str("#### Findings\n\n");
            for finding in &self.findings {
                let text = finding.text(limit.clamp(1, PAIRS_IN_CELL));
                out.push_str(&format!("- {}\n", escape_markdown(&text)));
            }
            out.push('\n');
        }
        if !self.warnings.is_empty() {
            out.push_str("#### Warnings\n\n");
            for w in self.warnings.iter().take(limit.max(1)) {
                out.push_str(&format!("- {}\n", escape_markdown(w)));
            }
            if self.warnings.len() > limit.max(1) {
                out.push_str(&format!("- +{} more\n", self.warnings.len() - limit.max(1)));
            }
            out.push('\n');
        }
        out.push_str("<sub>New filters sync at the next sync cycle (up to a few hours); nested groups are flattened into their parent and widen access.</sub>\n");
        out
    }

    /// The directory check for a terminal: the headline, then one line per name not
    /// found or not checked (None: not asked).
    pub fn directory_text(&self) -> Option<String> {
        let report = self.directory?;
        let mut out = format!("Active Directory: {}.", directory_headline(report));
        for e in &report.entries {
            let mark = match e.status {
                AdStatus::InAd { .. } => continue,
                AdStatus::NotInAd => '✗',
                AdStatus::NotChecked { .. } => '?',
            };
            out.push_str(&format!(
                "\n  {mark} {} {}  {}",
                e.kind.noun(),
                e.name,
                e.status.describe()
            ));
        }
        Some(out)
    }

    /// The hygiene findings for a terminal, one line each (None: no findings).
    pub fn findings_text(&self) -> Option<String> {
        if self.findings.is_empty() {
            return None;
        }
        let mut out = "Findings:".to_owned();
        for finding in &self.findings {
            out.push_str(&format!("\n  ! {}", finding.text(PAIRS_IN_CELL)));
        }
        Some(out)
    }

    /// The impact for a terminal: the headline, then one line per user, with the
    /// account and permission set pairs they lose (and keep) when the access map was
    /// read.
    pub fn impact_text(&self) -> String {
        let Some(impact) = self.impact else {
            return format!(
                "Impact on people: not assessed ({})",
                self.impact_note
                    .as_deref()
                    .unwrap_or("no identity store was read")
            );
        };
        let mut out = format!("Impact on people: {}.", impact.headline());
        if let Some(caveat) = access_caveat(impact) {
            out.push_str(&format!("\n  {caveat}."));
        }
        for p in &impact.losing {
            out.push_str(&format!(
                "\n  ✗ {}  {}  loses access",
                p.user_name, p.display_name
            ));
            if !p.loses.is_empty() {
                out.push_str(&format!(": {}", pairs(&p.loses, usize::MAX)));
            }
        }
        for k in &impact.keeping {
            out.push_str(&format!(
                "\n  ✓ {}  {}  keeps access through {}",
                k.person.user_name, k.person.display_name, k.through
            ));
            if !k.person.loses.is_empty() {
                out.push_str(&format!("; loses {}", pairs(&k.person.loses, usize::MAX)));
            }
            if !k.keeps.is_empty() {
                out.push_str(&format!("; keeps {}", pairs(&k.keeps, usize::MAX)));
            }
        }
        for g in &impact.added_groups {
            out.push_str(&format!("\n  + {}  {}", g.name, g.members.label()));
        }
        out
    }
}

/// "directory d-1234567890: 12 in AD, 1 not in AD, 0 not checked".
fn directory_headline(report: &DirectoryReport) -> String {
    let (found, missing, unchecked) = report.counts();
    format!(
        "directory {}: {found} in AD, {missing} not in AD, {unchecked} not checked",
        report.directory_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Verdict;
    use crate::samples;

    fn preview<'a>(outcome: &'a crate::outcome::Outcome, refused: Vec<String>) -> Preview<'a> {
        Preview {
            profile: "SynchronizationToActiveDirectoryAwsSso",
            plan: outcome.plan.as_ref().unwrap(),
            impact: outcome.impact.as_ref(),
            impact_note: None,
            directory: outcome.directory.as_ref(),
            refused,
            warnings: vec!["a | pipe".to_owned()],
            findings: Vec::new(),
        }
    }

    #[test]
    fn hostile_names_cannot_break_out_of_the_markdown() {
        let outcome = samples::created(Verdict::Changed, false, 24, true);
        let md = preview(&outcome, Vec::new()).markdown();
        let ours = md.replace("<sub>", "").replace("</sub>", "");
        for (i, _) in ours.match_indices('<') {
            assert!(ours[..i].ends_with('\\'), "an unescaped < at {i}:\n{md}");
        }
        for raw in ["](https://", "**bold**", "{{ template }}"] {
            assert!(
                !md.contains(raw),
                "{raw} reached the markdown unescaped:\n{md}"
            );
        }
        assert!(md.contains(r"\<script\>alert\(1\)\<\/script\>"), "{md}");
        // Every table row has exactly as many cells as its header.
        let mut header = None;
        for line in md.lines() {
            if !line.starts_with('|') {
                header = None;
                continue;
            }
            let unescaped_pipes = line
                .match_indices('|')
                .filter(|(i, _)| !line[..*i].ends_with('\\'))
                .count();
            let cells = *header.get_or_insert(unescaped_pipes);
            assert!(
                [3, 4, 6].contains(&cells) && unescaped_pipes == cells,
                "{line}"
            );
        }
        assert!(md.contains("| User | Display name | Through | Loses | Keeps |"));
        assert!(md.contains("- a \\| pipe"));
    }

    #[test]
    fn names_not_in_ad_are_listed_in_the_text_and_the_markdown() {
        let outcome = samples::created(Verdict::Changed, false, 16, false);
        let report = outcome.directory.as_ref().unwrap();
        let missing = report.not_in_ad().next().unwrap();
        let p = preview(&outcome, Vec::new());
        let text = p.directory_text().unwrap();
        let (found, not_found, unchecked) = report.counts();
        assert!(
            text.starts_with(&format!(
                "Active Directory: directory d-1234567890: {found} in AD, {not_found} not in AD, {unchecked} not checked."
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "✗ {} {}  not in AD",
                missing.kind.noun(),
                missing.name
            )),
            "{text}"
        );
        assert!(text.contains("not checked: throttled"), "{text}");
        let md = p.markdown();
        assert!(md.contains("#### In Active Directory"), "{md}");
        assert!(
            md.contains(&format!(
                "| {} | {} | not in AD |",
                escape_markdown(&missing.name),
                missing.kind.noun()
            )),
            "{md}"
        );
        let unasked = Preview {
            directory: None,
            ..p
        };
        assert_eq!(unasked.directory_text(), None);
        assert!(!unasked.markdown().contains("In Active Directory"));
    }

    #[test]
    fn a_huge_plan_fits_a_pull_request_comment_with_plus_n_more() {
        let outcome = samples::created(Verdict::Changed, false, 5_000, true);
        let md = preview(&outcome, vec!["refusing to remove".into()]).markdown();
        assert!(
            md.chars().count() <= MARKDOWN_BUDGET,
            "{}",
            md.chars().count()
        );
        assert!(md.contains(" more |"), "no +N more row");
        assert!(md.contains("❌ **Refused:** refusing to remove"));
        assert!(md.contains("#### Who gains and who loses AWS access"));
    }

    #[test]
    fn the_text_says_who_loses_and_who_keeps_access_or_why_it_was_not_assessed() {
        let outcome = samples::created(Verdict::Changed, false, 16, false);
        let p = preview(&outcome, Vec::new());
        let text = p.impact_text();
        let impact = outcome.impact.as_ref().unwrap();
        assert!(
            text.contains(&format!("✗ {}", impact.losing[0].user_name)),
            "{text}"
        );
        assert!(text.contains(&format!(
            "keeps access through {}",
            impact.keeping[0].through
        )));
        let offline = Preview {
            impact: None,
            impact_note: Some("offline plan".into()),
            ..p
        };
        assert_eq!(
            offline.impact_text(),
            "Impact on people: not assessed (offline plan)"
        );
        assert!(offline.markdown().contains("Not assessed: offline plan."));
    }

    #[test]
    fn each_user_losing_access_is_shown_with_the_pairs_they_lose_in_text_and_markdown() {
        let outcome = samples::created(Verdict::Changed, false, 16, false);
        let impact = outcome.impact.as_ref().unwrap();
        let (loser, kept) = (&impact.losing[0], &impact.keeping[0]);
        let labels =
            |grants: &[Grant]| -> Vec<String> { grants.iter().map(Grant::label).collect() };
        let p = preview(&outcome, Vec::new());
        let text = p.impact_text();
        assert!(
            text.contains(&format!(
                "✗ {}  {}  loses access: {}",
                loser.user_name,
                loser.display_name,
                labels(&loser.loses).join(", ")
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "keeps access through {}; loses {}; keeps {}",
                kept.through,
                labels(&kept.person.loses).join(", "),
                labels(&kept.keeps).join(", ")
            )),
            "{text}"
        );
        let md = p.markdown();
        let cell = |grants: &[Grant]| escape_markdown(&labels(grants).join(", "));
        assert!(md.contains("| User | Display name | Loses |"), "{md}");
        assert!(
            md.contains(&format!(
                "| {} | {} | {} |",
                escape_markdown(&loser.user_name),
                escape_markdown(&loser.display_name),
                cell(&loser.loses)
            )),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "| {} | {} | {} |\n",
                escape_markdown(&kept.through),
                cell(&kept.person.loses),
                cell(&kept.keeps)
            )),
            "{md}"
        );
        assert!(!md.contains("partial, a lower bound"));

        // Partial: said once in each; not read: no pairs, no columns.
        let mut partial = outcome.clone();
        partial.impact.as_mut().unwrap().access = Some(crate::access::AccessRead {
            partial: Some("2 groups were not read".into()),
            note: Some("account names were not read".into()),
        });
        let p = preview(&partial, Vec::new());
        let caveat = "What each user loses is partial, a lower bound: 2 groups were not read. account names were not read";
        assert_eq!(p.impact_text().matches(&format!("{caveat}.")).count(), 1);
        let md = p.markdown();
        assert_eq!(
            md.matches(&format!("{}.\n", escape_markdown(caveat)))
                .count(),
            1,
            "{md}"
        );
        let mut unread = outcome.clone();
        let impact = unread.impact.as_mut().unwrap();
        impact.access = None;
        for person in &mut impact.losing {
            person.loses.clear();
        }
        let p = preview(&unread, Vec::new());
        assert!(
            p.impact_text()
                .contains(&format!("{}  loses access\n", loser.display_name))
        );
        let md = p.markdown();
        assert!(
            md.contains("| User | Display name |\n") && !md.contains("Loses"),
            "{md}"
        );
    }

    #[test]
    fn a_cell_names_ten_pairs_at_most_then_plus_n_more() {
        let grants: Vec<Grant> = (0..12)
            .map(|i| samples::sample_grant(i, &format!("Set{i}")))
            .collect();
        let cell = pairs(&grants, PAIRS_IN_CELL);
        assert_eq!(cell.matches(" in ").count(), 10);
        assert!(cell.ends_with(", +2 more"), "{cell}");
        assert_eq!(pairs(&grants[..1], PAIRS_IN_CELL), grants[0].label());
    }

    #[test]
    fn findings_are_a_section_of_the_markdown_and_lines_of_the_text() {
        let outcome = samples::created(Verdict::Changed, false, 16, false);
        let findings = vec![
            Finding::GrantsNothing {
                groups: vec!["Idle <b>".into()],
            },
            Finding::NobodyHasIt {
                permission_set: "Fresh".into(),
                groups: vec!["Empty".into()],
            },
        ];
        let quiet = preview(&outcome, Vec::new());
        assert_eq!(quiet.findings_text(), None);
        assert!(!quiet.markdown().contains("#### Findings"));
        let p = Preview {
            findings: findings.clone(),
            ..quiet
        };
        let md = p.markdown();
        assert!(md.contains("#### Findings\n\n- "), "{md}");
        for finding in &findings {
            assert!(
                md.contains(&format!("- {}\n", escape_markdown(&finding.text(10)))),
                "{md}"
            );
        }
        assert!(md.contains("Idle \\<b\\>"), "{md}");
        let text = p.findings_text().unwrap();
        assert!(
            text.starts_with("Findings:\n  ! 1 synced group(s) grant nothing"),
            "{text}"
        );
        assert!(
            text.contains("\n  ! permission set Fresh is assigned only to groups with no members")
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["findings"][1]["finding"], "nobody-has-it");
        assert!(
            serde_json::to_value(preview(&outcome, Vec::new()))
                .unwrap()
                .get("findings")
                .is_none()
        );
    }
}
