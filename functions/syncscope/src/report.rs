//! Reporting an outcome: the documentation in S3 (enriched from the identity store),
//! the Teams card, and the log line every run writes.
//!
//! Each step takes the outcome as a value and returns it with what it found (through
//! [`Outcome::with_findings`]), so the handler answers CloudFormation from the outcome
//! reporting returns. A reporting failure never fails the run: it becomes a warning
//! (which the CloudFormation `Data` and the card carry) and a log line. The order is
//! fixed: identity store, the access map, docs (their warnings are on the page), then
//! the card (it shows every warning, the docs' included). Everything ends by
//! `work_end`: the identity store gets at most 40 % of the time left, the access map
//! 30 % of what then remains, publishing half of what is left after that, and Teams
//! the rest. The access map's hygiene findings become run warnings.
//!
//! Docs are published only when the run produced a plan: a run that failed before
//! reading the scope, a settings-only update or a Delete that retains the scope leave
//! the last published docs in place (the card still says what happened). A dry run
//! publishes under `<prefix>/<stage>/dry-run/` and never replaces the live docs.

use syncscope_core::card;
use syncscope_core::config::CardFormat;
use syncscope_core::docs::{self, DOCUMENTS, DocsView};
use syncscope_core::outcome::{Findings, Outcome};
use syncscope_core::properties::Properties;
use tokio::time::Instant;

use crate::access::Principal;
use crate::app::App;
use crate::reconcile::Deadlines;
use crate::teams::TeamsNotifier;

/// What reporting did, beside what it found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reported {
    /// The documentation was published.
    pub published: bool,
    /// Teams accepted the card.
    pub notified: bool,
}

/// Reports the outcome (docs, Teams, log); returns it with what reporting found
/// (warnings, the docs URL), and what was done.
pub async fn report(
    app: &App,
    props: Option<&Properties>,
    outcome: Outcome,
    deadlines: Deadlines,
) -> (Outcome, Reported) {
    let Some(props) = props else {
        log(app, &outcome);
        return (outcome, Reported::default());
    };
    let end = deadlines.work_end;
    let outcome = outcome.with_findings(Findings {
        warnings: Vec::new(),
        docs_url: props.docs_website.as_ref().map(|w| w.as_str().to_owned()),
    });
    let (outcome, published) = publish_docs(app, props, outcome, end).await;
    let (outcome, notified) = notify(app, props, outcome, end).await;
    log(app, &outcome);
    (
        outcome,
        Reported {
            published,
            notified,
        },
    )
}

/// The card of a run cut short (a panic, the deadline guard), sent after
/// CloudFormation has its answer, in the time left before `end`: the failure and
/// nothing else (no docs: the run did not finish). Returns whether Teams accepted it.
pub async fn cut_short(app: &App, props: &Properties, outcome: Outcome, end: Instant) -> bool {
    let (outcome, notified) = notify(app, props, outcome, end).await;
    log(app, &outcome);
    notified
}

/// Names a finding shown as a run warning lists before `+N more` (the page lists all).
const FINDING_NAMES: usize = 5;

/// An instant `fraction` of the way from now to `end`.
fn share(end: Instant, fraction: f64) -> Instant {
    let now = Instant::now();
    now + end.saturating_duration_since(now).mul_f64(fraction)
}

/// The outcome with a reporting problem as a warning (also logged).
fn warn(outcome: Outcome, warning: String) -> Outcome {
    tracing::warn!(warning = %warning, "reporting problem");
    outcome.with_findings(Findings::warnings([warning]))
}

/// Publishes the documentation; returns the outcome with the identity store's and
/// S3's findings, and whether it was published.
async fn publish_docs(
    app: &App,
    props: &Properties,
    outcome: Outcome,
    end: Instant,
) -> (Outcome, bool) {
    let Some(bucket) = &props.docs_bucket else {
        tracing::info!("no DocsBucket: documentation not published");
        return (outcome, false);
    };
    if outcome.plan.is_none() {
        tracing::info!("the run has no plan: the published documentation stays as it is");
        return (outcome, false);
    }
    let reader = app.identity_store_in(app.region_of(props));
    let enriched = reader
        .enrich(
            props.identity_store_id.as_ref().map(|id| id.as_str()),
            docs::groups_to_look_up(&outcome),
            app.settings.concurrency,
            share(end, 0.4),
        )
        .await;
    let mut enrichment = enriched.enrichment;
    let mut warnings = enriched.warnings;
    // What the synced groups grant: the access map, then its hygiene findings.
    let principals: Vec<Principal> = enrichment
        .group_ids()
        .into_iter()
        .map(Principal::Group)
        .collect();
    // `no-access-map` (test builds only): the benchmark's run without the map.
    if !principals.is_empty() && !crate::faults::injected("no-access-map") {
        let map = reader
            .access(
                props.identity_store_id.as_ref().map(|id| id.as_str()),
                principals,
                app.settings.concurrency,
                share(end, 0.3),
            )
            .await;
        if let Some(why) = &map.partial {
            warnings.push(format!("documentation: the access map is partial: {why}"));
        }
        enrichment.access = Some(map);
        warnings.extend(
            docs::access_findings(&outcome, &enrichment)
                .iter()
                .map(|finding| format!("access map: {}", finding.text(FINDING_NAMES))),
        );
    }
    for warning in &warnings {
        tracing::warn!(warning = %warning, "reporting problem");
    }
    let outcome = outcome.with_findings(Findings::warnings(warnings));

    let layout = docs::layout(
        props.docs_prefix.as_str(),
        props.stage.as_str(),
        outcome.dry_run,
        &outcome.started_at,
    );
    let publisher = app.docs();
    let by = share(end, 0.5);
    // The view borrows the outcome; the identity store's answers are not needed once
    // it is built. One document at a time, in the order of DOCUMENTS: rendered into a
    // scratch file as it is written, streamed from there to S3.
    let title = props.docs_title.as_ref().map(|t| t.as_str());
    let view = DocsView::build(&outcome, &enrichment).titled(title);
    drop(enrichment);
    let scratch = ScratchFile::new();
    let mut failed = None;
    for (index, (name, _)) in DOCUMENTS.iter().enumerate() {
        if let Err(e) = scratch.write(|out| view.write_document(index, out)) {
            failed = Some(format!(
                "documentation not published: rendering {name} into {} failed: {e}",
                scratch.path().display()
            ));
            break;
        }
        if let Err(e) = publisher
            .publish_one(bucket.as_str(), &layout, index, scratch.path(), by)
            .await
        {
            failed = Some(format!("documentation not published: {e}"));
            break;
        }
    }
    drop(view);
    if let Some(warning) = failed {
        return (warn(outcome, warning), false);
    }
    let published = publisher.published(bucket.as_str(), &layout);
    tracing::info!(
        bucket = bucket.as_str(),
        key = %published.page_key,
        dry_run = outcome.dry_run,
        "documentation published"
    );
    let found = Findings {
        warnings: Vec::new(),
        docs_url: Some(published.page_url),
    };
    (outcome.with_findings(found), true)
}

/// Posts the card; returns the outcome with Teams' findings, and whether Teams took it.
async fn notify(app: &App, props: &Properties, outcome: Outcome, end: Instant) -> (Outcome, bool) {
    let Some(reference) = &props.webhook else {
        tracing::info!("no TeamsWebhook: no card");
        return (outcome, false);
    };
    let notifier = TeamsNotifier::new(&app.http, &app.ssm, app.secrets());
    let hosts = props.webhook_hosts.clone().unwrap_or_default();
    // Resolving the URL must leave time to post.
    let resolve_by = share(end, 0.5);
    let (outcome, hook) =
        match tokio::time::timeout_at(resolve_by, notifier.resolve(reference, &hosts)).await {
            Ok(Ok((hook, Some(warning)))) => (warn(outcome, warning), hook),
            Ok(Ok((hook, None))) => (outcome, hook),
            Ok(Err(e)) => return (warn(outcome, format!("Teams card not sent: {e}")), false),
            Err(_) => {
                let warning = "Teams card not sent: no time left to read the webhook URL";
                return (warn(outcome, warning.to_owned()), false);
            }
        };
    let website = props.docs_website.as_ref().map(|w| w.as_str());
    let payload = card::render(&outcome, props.card_format, website);
    tracing::info!(bytes = payload.len(), "Teams card rendered");
    let legacy = props.card_format == CardFormat::MessageCard;
    let started = Instant::now();
    match notifier.post(&hook, payload, legacy, end).await {
        Ok(delivery) => {
            tracing::info!(
                status = delivery.status,
                attempts = delivery.attempts,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Teams card posted"
            );
            (outcome, true)
        }
        Err(e) => (
            warn(outcome, format!("Teams card not delivered: {e}")),
            false,
        ),
    }
}

/// One structured log line with the whole outcome's facts (the API calls and retries
/// are this run's: `ListSyncFilters=2 CreateSyncFilter=3`; `ssm_calls` and `s3_calls`
/// count the requests of those clients since the last outcome line).
pub fn log(app: &App, outcome: &Outcome) {
    let tally = |counts: &std::collections::BTreeMap<String, u64>| {
        counts
            .iter()
            .map(|(op, n)| format!("{op}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    tracing::info!(
        calls = %tally(&outcome.calls),
        retries = %tally(&outcome.retries),
        ssm_calls = app.aws_calls.ssm.take(),
        s3_calls = app.aws_calls.s3.take(),
        trigger = outcome.trigger.as_str(),
        verdict = outcome.verdict.as_str(),
        dry_run = outcome.dry_run,
        created = outcome.created().len(),
        removed = outcome.removed().len(),
        adopted = outcome.adopted().len(),
        unmanaged = outcome.unmanaged().len(),
        failed = outcome.failed().len(),
        pending = outcome.pending().len(),
        warnings = outcome.warnings.len(),
        duration_ms = outcome.duration_ms,
        summary = %outcome.summary(),
        "outcome"
    );
}

/// A file in the temporary directory (Lambda's `/tmp`) that holds one rendered document
/// at a time, and is removed when dropped. Named by process and a counter: runs in one
/// process (the in-process tests) never share one.
struct ScratchFile(std::path::PathBuf);

impl ScratchFile {
    fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("syncscope-{}-{n}.document", std::process::id());
        Self(std::env::temp_dir().join(name))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Replaces the file's content with what `render` writes.
    fn write(
        &self,
        render: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(&self.0)?);
        render(&mut out)?;
        std::io::Write::flush(&mut out)
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_scratch_file_holds_what_was_written_last_and_is_removed_when_dropped() {
        use std::io::Write as _;

        let (a, b) = (ScratchFile::new(), ScratchFile::new());
        assert_ne!(
            a.path(),
            b.path(),
            "two runs in one process never share a file"
        );
        a.write(|out| out.write_all(b"a long first document"))
            .unwrap();
        a.write(|out| out.write_all(b"second")).unwrap();
        assert_eq!(std::fs::read_to_string(a.path()).unwrap(), "second");
        let path = a.path().to_owned();
        drop(a);
        assert!(!path.exists(), "{} was left behind", path.display());
    }

    #[test]
    fn shares_split_the_time_left_and_a_past_end_leaves_none() {
        let end = Instant::now() + Duration::from_secs(10);
        let left = end - share(end, 0.4);
        assert!(left > Duration::from_millis(5_900) && left <= Duration::from_secs(6));
        let past = Instant::now();
        assert!(share(past, 0.5) >= past);
        assert!(share(past, 0.5) <= Instant::now());
    }
}
