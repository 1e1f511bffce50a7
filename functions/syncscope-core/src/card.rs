//! Teams cards rendered from an [`Outcome`]: by default the Workflows envelope with an
//! Adaptive Card 1.4, optionally a legacy Office 365 connector MessageCard.
//!
//! Rules every card follows:
//! - Title with the stage and the outcome (`✅ TEST: sync scope updated`), a line
//!   saying what ran where, the counts, the added / removed / adopted / unmanaged
//!   names, failed changes with reasons, warnings, a DRY RUN banner when dry, the
//!   run's failure reason, and a button to the documentation (only when
//!   `DocsWebsite` is set).
//! - Only Adaptive Card 1.4 elements (no `Table`). Every text that carries data is a
//!   `TextRun` inside a `RichTextBlock`: TextRuns are never read as markdown, so a
//!   name cannot inject formatting or links. FactSets carry only fixed titles and
//!   numbers. The MessageCard marks its sections `"markdown": false` and escapes
//!   `&`, `<` and `>`.
//! - The serialised payload stays under [`BUDGET_BYTES`]: long lists end in
//!   "+N more" (the documentation has them all), and the limits shrink until the
//!   whole card fits, whatever the names.

use serde_json::{Value, json};

use crate::access::Grant;
use crate::choice::CardFormat;
use crate::impact::{Impact, Person};
use crate::outcome::{Outcome, Trigger, Verdict};
use crate::plan::Action;

/// The most a serialised card may weigh (Teams takes about 28 KB).
pub const BUDGET_BYTES: usize = 20_000;

const ELLIPSIS: char = '…';

/// How much of each list a card shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    /// Names per list.
    items: usize,
    /// Characters per list of names.
    list_chars: usize,
    /// Failed changes shown.
    failed: usize,
    /// Warnings shown.
    warnings: usize,
    /// Characters per reason or warning.
    item_chars: usize,
    /// Characters of the run's failure reason.
    failure_chars: usize,
    /// Users losing access shown.
    people: usize,
    /// Account and permission set pairs shown per user losing access.
    grants: usize,
}

impl Limits {
    const START: Self = Self {
        items: 15,
        list_chars: 1_500,
        failed: 10,
        warnings: 8,
        item_chars: 400,
        failure_chars: 1_500,
        people: 20,
        grants: 3,
    };

    fn halved(self) -> Self {
        Self {
            items: (self.items / 2).max(1),
            list_chars: (self.list_chars / 2).max(80),
            failed: self.failed / 2,
            warnings: self.warnings / 2,
            item_chars: (self.item_chars / 2).max(80),
            failure_chars: (self.failure_chars / 2).max(200),
            people: self.people / 2,
            grants: (self.grants / 2).max(1),
        }
    }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push(ELLIPSIS);
    out
}

/// `a, b, c … +N more`, within `max_items` names and about `max_chars` characters.
fn join_limited(names: &[&str], max_items: usize, max_chars: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for name in names {
        if shown == max_items {
            break;
        }
        let sep = if shown == 0 { "" } else { ", " };
        let len = out.chars().count() + sep.len() + name.chars().count();
        if len > max_chars {
            if shown == 0 {
                out = clip(name, max_chars);
                shown = 1;
            }
            break;
        }
        out.push_str(sep);
        out.push_str(name);
        shown += 1;
    }
    let more = names.len() - shown;
    if more > 0 {
        let sep = if out.is_empty() { "" } else { " … " };
        out.push_str(&format!("{sep}+{more} more"));
    }
    out
}

/// The card title: stage and outcome.
pub fn title(outcome: &Outcome) -> String {
    let stage = clip(&outcome.stage, 60);
    let dry = if outcome.dry_run { "DRY RUN " } else { "" };
    match outcome.verdict {
        Verdict::Changed if outcome.dry_run => {
            format!("🧪 DRY RUN {stage}: sync scope would change")
        }
        Verdict::Changed => format!("✅ {stage}: sync scope updated"),
        Verdict::NoChange => format!("ℹ️ {dry}{stage}: no change"),
        Verdict::PartialFailure => format!("⚠️ {dry}{stage}: partial failure"),
        Verdict::Failed => format!("❌ {dry}{stage}: sync failed"),
    }
}

fn subtitle(outcome: &Outcome) -> String {
    let what = match outcome.trigger {
        Trigger::Drift => "Drift check".to_owned(),
        t => format!("{} of {}", t.as_str(), clip(&outcome.stack, 128)),
    };
    format!(
        "{what} · profile {} · domain {} · {}",
        clip(outcome.profile.as_str(), 128),
        clip(outcome.domain.as_str(), 253),
        clip(&outcome.started_at.to_string(), 40)
    )
}

/// The card's content, cut to the limits; rendered as either format.
#[derive(Debug, Clone)]
struct Digest {
    title: String,
    subtitle: String,
    verdict: Verdict,
    dry_run: bool,
    failure: Option<String>,
    note: Option<String>,
    facts: Vec<(&'static str, String)>,
    lists: Vec<(&'static str, String)>,
    failed: Vec<(String, String)>,
    failed_more: usize,
    warnings: Vec<String>,
    warnings_more: usize,
    /// The impact's headline, the users losing access shown, and how many more.
    impact: Option<(String, Vec<String>, usize)>,
    timing: Option<&'static str>,
    docs: Option<String>,
}

const TIMING: &str = "New filters sync within a few hours. Removed users are disabled after 28 days unless another synced group holds them. Nested groups are flattened and widen access.";

fn names(actions: &[&Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a.kind {
            crate::scope::FilterKind::Group => a.name.clone(),
            crate::scope::FilterKind::User => format!("{} (user)", a.name),
        })
        .collect()
}

/// `user (Display Name): AdministratorAccess in payments-prod (111122223333), … +2 more`:
/// a user losing access and the first of the account and permission set pairs they
/// lose (none when the access map was not read, or the limits leave no room).
fn person_line(person: &Person, limits: Limits) -> String {
    let who = format!("{} ({})", person.user_name, person.display_name);
    if person.loses.is_empty() || limits.grants == 0 {
        return clip(&who, limits.item_chars);
    }
    let labels: Vec<String> = person.loses.iter().map(Grant::label).collect();
    let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    // The name keeps its room; the pairs share what is left (the line is clipped last).
    let room = limits
        .item_chars
        .saturating_sub(who.chars().count() + 2)
        .max(80);
    let lost = join_limited(&refs, limits.grants, room);
    clip(&format!("{who}: {lost}"), limits.item_chars)
}

/// The impact's headline, saying when what the users lose is only a lower bound.
fn impact_headline(impact: &Impact) -> String {
    let headline = impact.headline();
    match impact.access.as_ref().and_then(|a| a.partial.as_deref()) {
        Some(partial) => format!("{headline}; what they lose is partial: {partial}"),
        None => headline,
    }
}

fn digest(outcome: &Outcome, docs_website: Option<&str>, limits: Limits) -> Digest {
    let created = outcome.created();
    let removed = outcome.removed();
    let adopted = outcome.adopted();
    let unmanaged = outcome.unmanaged();
    let failed_all: Vec<(String, String)> = outcome
        .not_done()
        .into_iter()
        .map(|(a, why)| {
            (
                format!("{} {} {}", a.op.as_str(), a.kind.noun(), a.name),
                why,
            )
        })
        .collect();

    let verb = |done: &'static str, planned: &'static str| {
        if outcome.dry_run { planned } else { done }
    };
    let mut facts = vec![
        (verb("Created", "To create"), created.len().to_string()),
        (verb("Removed", "To remove"), removed.len().to_string()),
        (verb("Adopted", "To adopt"), adopted.len().to_string()),
        ("Not managed here", unmanaged.len().to_string()),
        ("Failed", failed_all.len().to_string()),
    ];
    if let Some(scope) = &outcome.scope_after {
        facts.push(("Filters in scope", scope.len().to_string()));
    }
    if !outcome.warnings.is_empty() {
        facts.push(("Warnings", outcome.warnings.len().to_string()));
    }
    let not_in_ad: Vec<String> = outcome
        .directory
        .iter()
        .flat_map(|report| report.not_in_ad())
        .map(|e| format!("{} {}", e.kind.noun(), e.name))
        .collect();
    if !not_in_ad.is_empty() {
        facts.push(("Not in Active Directory", not_in_ad.len().to_string()));
    }
    if let Some(impact) = &outcome.impact {
        facts.push((
            verb("Users losing access", "Users who would lose access"),
            impact.losing.len().to_string(),
        ));
    }
    let impact = outcome.impact.as_ref().map(|impact| {
        let shown: Vec<String> = impact
            .losing
            .iter()
            .take(limits.people)
            .map(|p| person_line(p, limits))
            .collect();
        let more = impact.losing.len() - shown.len();
        (
            clip(&impact_headline(impact), limits.item_chars),
            shown,
            more,
        )
    });

    let mut lists = Vec::new();
    let mut list = |label: &'static str, actions: Vec<&Action>| {
        if actions.is_empty() {
            return;
        }
        let owned = names(&actions);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        lists.push((label, join_limited(&refs, limits.items, limits.list_chars)));
    };
    list(verb("Added", "Would add"), created);
    list(verb("Removed", "Would remove"), removed);
    list(verb("Adopted", "Would adopt"), adopted);
    list("Not managed by this config", unmanaged);
    if !not_in_ad.is_empty() {
        let refs: Vec<&str> = not_in_ad.iter().map(String::as_str).collect();
        lists.push((
            "Not in Active Directory (a typo syncs nobody)",
            join_limited(&refs, limits.items, limits.list_chars),
        ));
    }

    let failed: Vec<(String, String)> = failed_all
        .iter()
        .take(limits.failed)
        .map(|(what, why)| (clip(what, limits.item_chars), clip(why, limits.item_chars)))
        .collect();
    let warnings: Vec<String> = outcome
        .warnings
        .iter()
        .take(limits.warnings)
        .map(|w| clip(w, limits.item_chars))
        .collect();

    let changed = outcome.results.iter().any(|r| r.succeeded())
        || (outcome.dry_run && outcome.plan.as_ref().is_some_and(|p| p.has_changes()));
    Digest {
        title: title(outcome),
        subtitle: subtitle(outcome),
        verdict: outcome.verdict,
        dry_run: outcome.dry_run,
        failure: outcome
            .failure
            .as_deref()
            .map(|f| clip(f, limits.failure_chars)),
        note: outcome.note.as_deref().map(|n| clip(n, limits.item_chars)),
        facts,
        lists,
        failed_more: failed_all.len() - failed.len(),
        failed,
        warnings_more: outcome.warnings.len() - warnings.len(),
        warnings,
        impact,
        timing: changed.then_some(TIMING),
        docs: docs_website.map(str::to_owned),
    }
}

fn run(text: impl Into<String>) -> Value {
    json!({ "type": "TextRun", "text": text.into() })
}

fn rich(inlines: Vec<Value>) -> Value {
    json!({ "type": "RichTextBlock", "inlines": inlines })
}

fn labelled(label: &str, text: &str) -> Value {
    rich(vec![
        json!({ "type": "TextRun", "text": format!("{label}: "), "weight": "bolder" }),
        run(text),
    ])
}

fn more(n: usize, what: &str) -> Value {
    rich(vec![json!({
        "type": "TextRun",
        "text": format!("+{n} more {what} (see the documentation)"),
        "isSubtle": true
    })])
}

/// The tone of a card: its Adaptive Card container style and MessageCard colour.
fn tone(d: &Digest) -> (&'static str, &'static str) {
    match (d.verdict, d.dry_run) {
        (_, true) => ("accent", "8250DF"),
        (Verdict::Changed, _) => ("good", "1A7F37"),
        (Verdict::NoChange, _) => ("emphasis", "0969DA"),
        (Verdict::PartialFailure, _) => ("warning", "BC4C00"),
        (Verdict::Failed, _) => ("attention", "CF222E"),
    }
}

fn adaptive_card(d: &Digest) -> Value {
    let (style, _) = tone(d);
    let mut body = vec![json!({
        "type": "Container",
        "style": style,
        "items": [
            rich(vec![json!({ "type": "TextRun", "text": d.title, "size": "large", "weight": "bolder" })]),
            rich(vec![json!({ "type": "TextRun", "text": d.subtitle, "isSubtle": true, "size": "small" })]),
        ]
    })];
    if d.dry_run {
        body.push(json!({
            "type": "Container",
            "style": "warning",
            "items": [rich(vec![json!({
                "type": "TextRun",
                "text": "DRY RUN: nothing was changed. This is what the run would do.",
                "weight": "bolder"
            })])]
        }));
    }
    if let Some(failure) = &d.failure {
        body.push(rich(vec![
            json!({ "type": "TextRun", "text": "Reason: ", "weight": "bolder", "color": "attention" }),
            run(failure.as_str()),
        ]));
    }
    if let Some(note) = &d.note {
        body.push(rich(vec![run(note.as_str())]));
    }
    body.push(json!({
        "type": "FactSet",
        "facts": d.facts.iter().map(|(t, v)| json!({ "title": t, "value": v })).collect::<Vec<_>>()
    }));
    for (label, text) in &d.lists {
        body.push(labelled(label, text));
    }
    if !d.failed.is_empty() || d.failed_more > 0 {
        body.push(rich(vec![json!({
            "type": "TextRun", "text": "Failed changes", "weight": "bolder", "color": "attention"
        })]));
        for (what, why) in &d.failed {
            body.push(rich(vec![
                json!({ "type": "TextRun", "text": what, "weight": "bolder" }),
                run(format!(": {why}")),
            ]));
        }
        if d.failed_more > 0 {
            body.push(more(d.failed_more, "failed changes"));
        }
    }
    if let Some((headline, losing, losing_more)) = &d.impact {
        body.push(labelled("Impact", headline));
        for person in losing {
            body.push(rich(vec![run(format!("🚫 {person}"))]));
        }
        if *losing_more > 0 {
            body.push(more(*losing_more, "users losing access"));
        }
    }
    if !d.warnings.is_empty() || d.warnings_more > 0 {
        body.push(rich(vec![json!({
            "type": "TextRun", "text": "Warnings", "weight": "bolder", "color": "warning"
        })]));
        for warning in &d.warnings {
            body.push(rich(vec![run(format!("⚠️ {warning}"))]));
        }
        if d.warnings_more > 0 {
            body.push(more(d.warnings_more, "warnings"));
        }
    }
    if let Some(timing) = d.timing {
        body.push(json!({
            "type": "RichTextBlock",
            "separator": true,
            "inlines": [{ "type": "TextRun", "text": timing, "isSubtle": true, "size": "small" }]
        }));
    }
    let mut card = json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "fallbackText": d.title,
        "body": body,
        "msteams": { "width": "Full" }
    });
    if let Some(url) = &d.docs {
        card["actions"] = json!([{
            "type": "Action.OpenUrl",
            "title": "Open documentation",
            "url": url
        }]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": card
        }]
    })
}

/// Escapes `&`, `<` and `>` for the legacy MessageCard, whose renderer reads some HTML.
fn escape_legacy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn message_card(d: &Digest) -> Value {
    let e = |s: &str| escape_legacy(s);
    let (_, color) = tone(d);
    let mut text = vec![e(&d.subtitle)];
    if d.dry_run {
        text.push("DRY RUN: nothing was changed. This is what the run would do.".to_owned());
    }
    if let Some(failure) = &d.failure {
        text.push(format!("Reason: {}", e(failure)));
    }
    if let Some(note) = &d.note {
        text.push(e(note));
    }
    let mut sections = vec![json!({
        "markdown": false,
        "text": text.join("\n\n"),
        "facts": d.facts.iter().map(|(t, v)| json!({ "name": t, "value": v })).collect::<Vec<_>>()
    })];
    for (label, names) in &d.lists {
        sections.push(json!({ "markdown": false, "title": label, "text": e(names) }));
    }
    if !d.failed.is_empty() || d.failed_more > 0 {
        let mut lines: Vec<String> = d
            .failed
            .iter()
            .map(|(what, why)| format!("{}: {}", e(what), e(why)))
            .collect();
        if d.failed_more > 0 {
            lines.push(format!(
                "+{} more failed changes (see the documentation)",
                d.failed_more
            ));
        }
        sections.push(
            json!({ "markdown": false, "title": "Failed changes", "text": lines.join("\n\n") }),
        );
    }
    if let Some((headline, losing, losing_more)) = &d.impact {
        let mut lines = vec![e(headline)];
        lines.extend(losing.iter().map(|p| e(p)));
        if *losing_more > 0 {
            lines.push(format!(
                "+{losing_more} more users losing access (see the documentation)"
            ));
        }
        sections.push(json!({ "markdown": false, "title": "Impact", "text": lines.join("\n\n") }));
    }
    if !d.warnings.is_empty() || d.warnings_more > 0 {
        let mut lines: Vec<String> = d.warnings.iter().map(|w| e(w)).collect();
        if d.warnings_more > 0 {
            lines.push(format!(
                "+{} more warnings (see the documentation)",
                d.warnings_more
            ));
        }
        sections
            .push(json!({ "markdown": false, "title": "Warnings", "text": lines.join("\n\n") }));
    }
    if let Some(timing) = d.timing {
        sections.push(json!({ "markdown": false, "text": timing }));
    }
    let title = e(&d.title);
    let mut card = json!({
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "themeColor": color,
        "summary": title,
        "title": title,
        "sections": sections
    });
    if let Some(url) = &d.docs {
        card["potentialAction"] = json!([{
            "@type": "OpenUri",
            "name": "Open documentation",
            "targets": [{ "os": "default", "uri": url }]
        }]);
    }
    card
}

/// The payload to POST for an outcome, in `format`, under [`BUDGET_BYTES`] once
/// serialised. `docs_website` is the button's target (no button without it).
pub fn build(outcome: &Outcome, format: CardFormat, docs_website: Option<&str>) -> Value {
    let render = |limits: Limits| {
        let d = digest(outcome, docs_website, limits);
        match format {
            CardFormat::AdaptiveCard => adaptive_card(&d),
            CardFormat::MessageCard => message_card(&d),
        }
    };
    let mut limits = Limits::START;
    for _ in 0..8 {
        let card = render(limits);
        if serde_json::to_vec(&card).map_or(0, |v| v.len()) <= BUDGET_BYTES {
            return card;
        }
        limits = limits.halved();
    }
    // Nothing but the counts, title and button: always small.
    render(Limits {
        items: 0,
        list_chars: 0,
        failed: 0,
        warnings: 0,
        item_chars: 80,
        failure_chars: 200,
        people: 0,
        grants: 0,
    })
}

/// The card as it is posted (serialised JSON).
pub fn render(outcome: &Outcome, format: CardFormat, docs_website: Option<&str>) -> String {
    serde_json::to_string(&build(outcome, format, docs_website)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::samples::contains_all;

    use super::*;
    use crate::samples;

    fn validator() -> jsonschema::Validator {
        let mut schema: Value = serde_json::from_str(include_str!(
            "../../../tests/schemas/adaptive-card-1.4.0.json"
        ))
        .unwrap();
        // Draft-06 `id` trips validators that want `$id`; the file's README says so.
        schema.as_object_mut().unwrap().remove("id");
        jsonschema::draft6::new(&schema).unwrap()
    }

    /// The card inside a Workflows envelope, without the Teams-only `msteams` key.
    fn content(envelope: &Value) -> Value {
        assert_eq!(envelope["type"], "message");
        let attachments = envelope["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(
            attachments[0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let mut card = attachments[0]["content"].clone();
        assert_eq!(card["version"], "1.4");
        card.as_object_mut().unwrap().remove("msteams");
        card
    }

    fn every_outcome() -> Vec<(String, Outcome)> {
        let mut all: Vec<(String, Outcome)> = samples::specs()
            .into_iter()
            .map(|s| (s.label(), samples::outcome(s)))
            .collect();
        all.push(("failed-early".into(), samples::failed_early()));
        all.push(("settings-only".into(), samples::noted(Trigger::Update)));
        all.push(("delete-retain".into(), samples::noted(Trigger::Delete)));
        all
    }

    /// Every string value anywhere in a JSON document.
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }

    /// Every object with a `type` anywhere in the card.
    fn types(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Array(a) => a.iter().for_each(|v| types(v, out)),
            Value::Object(o) => {
                if let Some(Value::String(t)) = o.get("type") {
                    out.push(t.clone());
                }
                o.values().for_each(|v| types(v, out));
            }
            _ => {}
        }
    }

    #[test]
    fn every_adaptive_card_validates_against_the_1_4_schema_and_fits_the_budget() {
        let validator = validator();
        let mut checked = 0;
        for (label, outcome) in every_outcome() {
            for website in [Some(samples::WEBSITE), None] {
                let text = render(&outcome, CardFormat::AdaptiveCard, website);
                assert!(
                    text.len() <= BUDGET_BYTES,
                    "{label}: {} bytes is over the budget",
                    text.len()
                );
                let envelope: Value = serde_json::from_str(&text).unwrap();
                let card = content(&envelope);
                let errors: Vec<String> = validator
                    .iter_errors(&card)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{label}: {errors:#?}");
                checked += 1;
            }
        }
        assert!(checked >= 100, "only {checked} cards checked");
    }

    #[test]
    fn every_message_card_has_the_required_keys_and_fits_the_budget() {
        for (label, outcome) in every_outcome() {
            let text = render(&outcome, CardFormat::MessageCard, Some(samples::WEBSITE));
            assert!(text.len() <= BUDGET_BYTES, "{label}: {} bytes", text.len());
            let card: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(card["@type"], "MessageCard");
            assert_eq!(card["@context"], "http://schema.org/extensions");
            assert!(!card["summary"].as_str().unwrap().is_empty());
            let color = card["themeColor"].as_str().unwrap();
            assert!(color.len() == 6 && color.chars().all(|c| c.is_ascii_hexdigit()));
            let actions = card["potentialAction"].as_array().unwrap();
            assert!(actions.len() <= 4);
            assert_eq!(actions[0]["targets"][0]["uri"], samples::WEBSITE);
            for section in card["sections"].as_array().unwrap() {
                assert_eq!(section["markdown"], false, "{label}");
            }
        }
    }

    use samples::created as spec;

    /// The Adaptive Card of an outcome (no button), and all its text.
    fn adaptive(outcome: &Outcome) -> (Value, String) {
        let card = content(&build(outcome, CardFormat::AdaptiveCard, None));
        let mut texts = Vec::new();
        strings(&card, &mut texts);
        let all = texts.join("\n");
        (card, all)
    }

    #[test]
    fn titles_name_the_stage_and_the_outcome() {
        let t = |v, dry| title(&spec(v, dry, 7, false));
        assert_eq!(t(Verdict::Changed, false), "✅ TEST: sync scope updated");
        assert_eq!(t(Verdict::NoChange, false), "ℹ️ TEST: no change");
        assert_eq!(
            t(Verdict::PartialFailure, false),
            "⚠️ TEST: partial failure"
        );
        assert_eq!(t(Verdict::Failed, false), "❌ TEST: sync failed");
        assert_eq!(
            t(Verdict::Changed, true),
            "🧪 DRY RUN TEST: sync scope would change"
        );
        assert_eq!(t(Verdict::Failed, true), "❌ DRY RUN TEST: sync failed");
    }

    #[test]
    fn two_thousand_long_names_become_a_short_list_and_plus_n_more() {
        let outcome = spec(Verdict::Changed, false, 2000, true);
        let (card, all) = adaptive(&outcome);
        let added = card["body"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["inlines"][0]["text"] == "Added: ")
            .map(|e| e["inlines"][1]["text"].as_str().unwrap().to_owned())
            .unwrap();
        let more: usize = added
            .rsplit('+')
            .next()
            .and_then(|s| s.strip_suffix(" more"))
            .unwrap_or_else(|| panic!("{added}"))
            .parse()
            .unwrap();
        assert!(more > 700, "{added}");
        assert!(all.contains("Removed: ") && all.contains("Not managed by this config: "));
    }

    #[test]
    fn the_users_losing_access_are_listed_twenty_at_most_then_plus_n_more() {
        // 2000 groups: a third of them removed, each with two users losing access.
        let outcome = spec(Verdict::Changed, false, 2000, false);
        let losing = outcome.impact.as_ref().unwrap().losing.len();
        assert!(losing > 20, "{losing}");
        let (card, all) = adaptive(&outcome);
        let listed = all.matches("🚫 ").count();
        assert!(listed <= 20 && listed > 0, "{listed}");
        contains_all(
            &all,
            &[
                &format!("+{} more users losing access", losing - listed),
                "will be disabled after 28 days",
                "🚫 user0081@corp.example.com (Bob user0081)",
            ],
        );
        assert!(
            facts(&card)
                .contains(&json!({"title": "Users losing access", "value": losing.to_string()}))
        );
        let legacy = build(&outcome, CardFormat::MessageCard, None).to_string();
        assert!(legacy.contains("more users losing access"), "{legacy}");
        // Within the budget, exactly the first 20, then "+N more".
        let outcome = spec(Verdict::Changed, false, 120, false);
        let losing = outcome.impact.as_ref().unwrap().losing.len();
        assert!(losing > 20, "{losing}");
        let (_, all) = adaptive(&outcome);
        assert_eq!(all.matches("🚫 ").count(), 20, "{all}");
        assert!(
            all.contains(&format!("+{} more users losing access", losing - 20)),
            "{all}"
        );
        // A run that touches no group has no impact section.
        let (_, quiet) = adaptive(&spec(Verdict::NoChange, false, 0, false));
        assert!(!quiet.contains("Impact"), "{quiet}");
    }

    #[test]
    fn each_user_losing_access_names_the_first_pairs_they_lose_in_both_formats() {
        let mut outcome = spec(Verdict::Changed, false, 16, false);
        let impact = outcome.impact.as_mut().unwrap();
        impact.losing[0].loses = vec![
            samples::sample_grant(0, "AdministratorAccess"),
            samples::sample_grant(1, "PowerUserAccess"),
            samples::sample_grant(2, "ReadOnlyAccess"),
            samples::sample_grant(3, "Billing"),
            samples::sample_grant(0, "ViewOnlyAccess"),
        ];
        let first = impact.losing[0].clone();
        let second = impact.losing[1].clone();
        assert_eq!(second.loses.len(), 2);
        let line = format!(
            "{} ({}): AdministratorAccess in payments-prod (111122223333), PowerUserAccess in payments-test (222233334444), ReadOnlyAccess in shared-services (333344445555) … +2 more",
            first.user_name, first.display_name
        );
        let (_, all) = adaptive(&outcome);
        contains_all(
            &all,
            &[
                &format!("🚫 {line}"),
                &format!(
                    "🚫 {} ({}): {}, {}",
                    second.user_name,
                    second.display_name,
                    second.loses[0].label(),
                    second.loses[1].label()
                ),
            ],
        );
        let legacy = build(&outcome, CardFormat::MessageCard, None).to_string();
        assert!(legacy.contains(&line), "{legacy}");

        // Not read: the user alone, as before the access map.
        let impact = outcome.impact.as_mut().unwrap();
        impact.access = None;
        for person in &mut impact.losing {
            person.loses.clear();
        }
        let (_, all) = adaptive(&outcome);
        assert!(
            all.contains(&format!(
                "🚫 {} ({})\n",
                first.user_name, first.display_name
            )),
            "{all}"
        );
        assert!(!all.contains("AdministratorAccess"), "{all}");
    }

    #[test]
    fn a_partial_access_map_says_the_losses_are_a_lower_bound() {
        let mut outcome = spec(Verdict::Changed, false, 16, false);
        outcome.impact.as_mut().unwrap().access = Some(crate::access::AccessRead {
            partial: Some("3 groups were not read in time".into()),
            note: None,
        });
        let (_, all) = adaptive(&outcome);
        assert!(
            all.contains("; what they lose is partial: 3 groups were not read in time"),
            "{all}"
        );
        let legacy = build(&outcome, CardFormat::MessageCard, None).to_string();
        assert!(legacy.contains("what they lose is partial"), "{legacy}");
    }

    #[test]
    fn a_user_line_stays_within_its_limit_however_many_pairs_they_lose() {
        let mut person = samples::created(Verdict::Changed, false, 16, true)
            .impact
            .unwrap()
            .losing
            .remove(0);
        person.loses = (0..200)
            .map(|i| samples::sample_grant(i, &format!("Set{i}")))
            .collect();
        for limits in [Limits::START, Limits::START.halved().halved()] {
            let line = person_line(&person, limits);
            assert!(line.chars().count() <= limits.item_chars, "{line}");
        }
        let line = person_line(&person, Limits::START);
        assert!(line.ends_with(" … +197 more"), "{line}");
    }

    /// The facts of an Adaptive Card's FactSet.
    fn facts(card: &Value) -> Vec<Value> {
        card["body"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "FactSet")
            .and_then(|f| f["facts"].as_array())
            .cloned()
            .unwrap()
    }

    #[test]
    fn names_not_in_active_directory_are_counted_and_listed_in_both_formats() {
        let outcome = spec(Verdict::Changed, false, 12, false);
        let missing: Vec<String> = outcome
            .directory
            .as_ref()
            .unwrap()
            .not_in_ad()
            .map(|e| format!("{} {}", e.kind.noun(), e.name))
            .collect();
        assert!(!missing.is_empty());
        let (card, all) = adaptive(&outcome);
        assert!(facts(&card).contains(
            &json!({"title": "Not in Active Directory", "value": missing.len().to_string()})
        ));
        contains_all(
            &all,
            &[
                "Not in Active Directory (a typo syncs nobody): ",
                &missing[0],
            ],
        );
        let legacy = build(&outcome, CardFormat::MessageCard, None).to_string();
        assert!(legacy.contains("Not in Active Directory"), "{legacy}");
        let mut clean = outcome.clone();
        clean.directory = None;
        let (_, quiet) = adaptive(&clean);
        assert!(!quiet.contains("Active Directory"), "{quiet}");
    }

    #[test]
    fn data_is_only_ever_in_text_runs_and_facts_hold_numbers() {
        for (label, outcome) in every_outcome() {
            let card = content(&build(
                &outcome,
                CardFormat::AdaptiveCard,
                Some(samples::WEBSITE),
            ));
            let mut kinds = Vec::new();
            types(&card, &mut kinds);
            for kind in &kinds {
                assert!(
                    [
                        "AdaptiveCard",
                        "Container",
                        "RichTextBlock",
                        "TextRun",
                        "FactSet",
                        "Action.OpenUrl"
                    ]
                    .contains(&kind.as_str()),
                    "{label}: unexpected element {kind}"
                );
            }
            for fact in card["body"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "FactSet")
                .flat_map(|e| e["facts"].as_array().unwrap())
            {
                assert!(
                    fact["value"].as_str().unwrap().parse::<u64>().is_ok(),
                    "{label}: {fact}"
                );
            }
        }
    }

    #[test]
    fn hostile_names_arrive_verbatim_as_plain_text() {
        let outcome = spec(Verdict::Changed, false, 7, true);
        let (_, all) = adaptive(&outcome);
        contains_all(&all, &["<script>alert(1)</script>", "مرحبا-العالم"]);
        assert!(
            all.contains("TEST <i>&</i>"),
            "the stage is shown as written"
        );
    }

    #[test]
    fn the_message_card_escapes_markup() {
        let outcome = spec(Verdict::PartialFailure, false, 7, true);
        let text = render(&outcome, CardFormat::MessageCard, None);
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let card: Value = serde_json::from_str(&text).unwrap();
        assert!(card.get("potentialAction").is_none());
    }

    #[test]
    fn the_docs_button_appears_only_with_a_website() {
        let outcome = spec(Verdict::Changed, false, 7, false);
        let with = content(&build(
            &outcome,
            CardFormat::AdaptiveCard,
            Some(samples::WEBSITE),
        ));
        assert_eq!(with["actions"][0]["type"], "Action.OpenUrl");
        assert_eq!(with["actions"][0]["url"], samples::WEBSITE);
        assert_eq!(with["actions"][0]["title"], "Open documentation");
        let without = content(&build(&outcome, CardFormat::AdaptiveCard, None));
        assert!(without.get("actions").is_none());
    }

    #[test]
    fn the_dry_run_banner_and_the_failure_reason_show_when_they_apply() {
        let text_of = |o: &Outcome| {
            let mut texts = Vec::new();
            strings(
                &content(&build(o, CardFormat::AdaptiveCard, None)),
                &mut texts,
            );
            texts.join("\n")
        };
        let dry = text_of(&spec(Verdict::Changed, true, 7, false));
        assert!(dry.contains("DRY RUN: nothing was changed"));
        assert!(dry.contains("To create") && dry.contains("Would add: "));
        let live = text_of(&spec(Verdict::Changed, false, 7, false));
        assert!(!live.contains("DRY RUN"));
        assert!(live.contains("within a few hours") && live.contains("28 days"));
        let failed = text_of(&spec(Verdict::Failed, false, 7, false));
        contains_all(
            &failed,
            &["Reason: ", "the deletion guard allows at most 10"],
        );
        let partial = text_of(&spec(Verdict::PartialFailure, false, 7, false));
        contains_all(&partial, &["Failed changes", "AccessDeniedException"]);
        let noted = text_of(&samples::noted(Trigger::Update));
        assert!(noted.contains("the sync scope was not touched"));
    }

    #[test]
    fn clip_and_join_respect_their_limits() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("äöü", 3), "äöü");
        assert_eq!(join_limited(&["a", "b", "c"], 2, 100), "a, b … +1 more");
        assert_eq!(join_limited(&["a", "b"], 0, 100), "+2 more");
        assert_eq!(join_limited(&["abcdefgh"], 5, 4), "abc…");
    }
}
