//! Reporting an outcome: the log line every run writes; the documentation and Teams
//! adapters hang off this step. A reporting failure never fails the run: it becomes
//! a warning on the outcome.

use syncscope_core::cfn::Properties;
use syncscope_core::outcome::Outcome;

use crate::app::App;
use crate::reconcile::Deadlines;

/// Reports the outcome (log, docs, Teams) and adds any reporting warnings to it.
pub async fn report(
    _app: &App,
    _props: Option<&Properties>,
    outcome: &mut Outcome,
    _deadlines: Deadlines,
) {
    log(outcome);
}

/// One structured log line with the whole outcome's facts.
pub fn log(outcome: &Outcome) {
    tracing::info!(
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
