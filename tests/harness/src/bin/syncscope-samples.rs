//! `syncscope-samples`: writes every sample card (both formats) and pages for a
//! selection of sample outcomes (and a page of 5,000 groups) into `build/samples/{cards,docs}/` (or
//! `$SYNCSCOPE_SAMPLES_DIR`), for `tests/browser/check.mjs` (`task browser`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use syncscope_core::card;
use syncscope_core::config::CardFormat;
use syncscope_core::docs::DocsView;
use syncscope_core::outcome::{Outcome, Trigger, Verdict};
use syncscope_core::samples::{self, WEBSITE};

/// The pages written (each as page, snippet and groups.json).
const PAGES: [&str; 9] = [
    "changed-7-hostile",
    "changed-2000-hostile",
    "changed-7-dry",
    "no_change-7",
    "partial_failure-7-hostile",
    "failed-7-hostile",
    "failed-0",
    "failed-early",
    "settings-only",
];

fn write(path: &Path, text: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn main() -> ExitCode {
    let root = std::env::var_os("SYNCSCOPE_SAMPLES_DIR").map_or_else(
        || syncscope_harness::paths::workspace().join("build/samples"),
        PathBuf::from,
    );
    match write_samples(&root) {
        Ok((cards, pages)) => {
            println!(
                "wrote {cards} cards and {pages} docs files under {}",
                root.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_samples(root: &Path) -> Result<(usize, usize), String> {
    let (cards, docs) = (root.join("cards"), root.join("docs"));
    for dir in [&cards, &docs] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut outcomes: Vec<(String, Outcome)> = samples::specs()
        .into_iter()
        .map(|s| (s.label(), samples::outcome(s)))
        .collect();
    outcomes.push(("failed-early".into(), samples::failed_early()));
    outcomes.push(("settings-only".into(), samples::noted(Trigger::Update)));
    outcomes.push(("delete-retain".into(), samples::noted(Trigger::Delete)));
    let mut written = (0, 0);
    for (label, o) in &outcomes {
        // Alternate cards with and without the docs button.
        let website = (!label.contains("no_change-0")).then_some(WEBSITE);
        for (format, suffix) in [
            (CardFormat::AdaptiveCard, "adaptive"),
            (CardFormat::MessageCard, "messagecard"),
        ] {
            write(
                &cards.join(format!("{label}.{suffix}.json")),
                card::render(o, format, website),
            )?;
            written.0 += 1;
        }
    }
    // The largest page: 5,000 groups of hostile names (no card: the cards' samples
    // stop at 2,000, and their size budget is tested there).
    let largest = (
        "changed-5000-hostile".to_owned(),
        samples::created(Verdict::Changed, false, 5000, true),
    );
    for (label, o) in outcomes
        .iter()
        .filter(|(l, _)| PAGES.contains(&l.as_str()))
        .chain([&largest])
    {
        let view = DocsView::build(o, &samples::enrichment(o));
        let page = view.page().map_err(|e| format!("{label}: {e}"))?;
        write(&docs.join(format!("{label}.index.html")), page)?;
        write(&docs.join(format!("{label}.groups.json")), view.json())?;
        written.1 += 2;
        // The snippets of thousands of groups are the page's content again; their
        // pages are checked.
        if o.plan.as_ref().is_none_or(|p| p.actions.len() < 1000) {
            let snippet = view.snippet().map_err(|e| format!("{label}: {e}"))?;
            write(&docs.join(format!("{label}.snippet.html")), snippet)?;
            written.1 += 1;
        }
    }
    Ok(written)
}
