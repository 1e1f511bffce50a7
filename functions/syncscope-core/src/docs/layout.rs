//! Where a run's documents go in the docs bucket (the live folder, the dated history
//! copy, a dry run's own folder, stamped with the run's start). The view model and
//! its renderings are [`super`].

use crate::timestamp::Timestamp;

/// Where one run's documents go in the docs bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The live folder, overwritten by every run: `<prefix>/<stage>/`
    /// (a dry run: `<prefix>/<stage>/dry-run/`, so it never replaces the live docs).
    pub live: String,
    /// The dated copy: `<prefix>/<stage>/history/<stamp>/` (none for a dry run).
    pub history: Option<String>,
}

/// The documents of one run and their content types.
pub const DOCUMENTS: [(&str, &str); 3] = [
    ("index.html", "text/html; charset=utf-8"),
    ("snippet.html", "text/html; charset=utf-8"),
    ("groups.json", "application/json; charset=utf-8"),
];

/// The stage as one safe key segment (letters, digits, `-`, `_`, `.`).
pub fn stage_segment(stage: &str) -> String {
    let s: String = stage
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        "default".to_owned()
    } else {
        s
    }
}

/// The keys of a run's documents.
pub fn layout(prefix: &str, stage: &str, dry_run: bool, started_at: &Timestamp) -> Layout {
    let base = format!("{}/{}", prefix.trim_matches('/'), stage_segment(stage));
    if dry_run {
        Layout {
            live: format!("{base}/dry-run/"),
            history: None,
        }
    } else {
        Layout {
            live: format!("{base}/"),
            history: Some(format!("{base}/history/{}/", started_at.stamp())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_never_writes_over_the_live_docs() {
        let at = Timestamp::parse("2026-11-22T08:45:21Z").unwrap();
        let live = layout("sso", "TEST", false, &at);
        assert_eq!(live.live, "sso/TEST/");
        assert_eq!(
            live.history.as_deref(),
            Some("sso/TEST/history/20261122T084521Z/")
        );
        let dry = layout("sso/", "TEST", true, &at);
        assert_eq!(dry.live, "sso/TEST/dry-run/");
        assert_eq!(dry.history, None);
        assert_eq!(stage_segment("Prod EU/1"), "Prod-EU-1");
        assert_eq!(stage_segment(".."), "default");
    }
}
