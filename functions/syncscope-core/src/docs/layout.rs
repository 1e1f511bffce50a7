//! Where a run's documents go in the docs bucket (the live folder, the dated history
//! copy, a dry run's own folder), and the run's time stamps those keys and the page
//! carry. The view model and its renderings are [`super`].

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub(super) fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b.ends_with(b"Z")
        && (b.len() == 20 || (b[19] == b'.' && digits(20..b.len() - 1) && b.len() > 21))
}

/// A compact, sortable, URL-safe stamp of a run's start for history keys:
/// `2026-11-22T08:45:21Z` -> `20261122T084521Z`.
pub fn history_stamp(started_at: &str) -> String {
    let digits: String = started_at
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    if digits.len() == 14 {
        format!("{}T{}Z", &digits[..8], &digits[8..])
    } else {
        "unknown-time".to_owned()
    }
}

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
pub fn layout(prefix: &str, stage: &str, dry_run: bool, started_at: &str) -> Layout {
    let base = format!("{}/{}", prefix.trim_matches('/'), stage_segment(stage));
    if dry_run {
        Layout {
            live: format!("{base}/dry-run/"),
            history: None,
        }
    } else {
        Layout {
            live: format!("{base}/"),
            history: Some(format!("{base}/history/{}/", history_stamp(started_at))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_never_writes_over_the_live_docs() {
        let live = layout("sso", "TEST", false, "2026-11-22T08:45:21Z");
        assert_eq!(live.live, "sso/TEST/");
        assert_eq!(
            live.history.as_deref(),
            Some("sso/TEST/history/20261122T084521Z/")
        );
        let dry = layout("sso/", "TEST", true, "2026-11-22T08:45:21Z");
        assert_eq!(dry.live, "sso/TEST/dry-run/");
        assert_eq!(dry.history, None);
        assert_eq!(stage_segment("Prod EU/1"), "Prod-EU-1");
        assert_eq!(stage_segment(".."), "default");
    }

    #[test]
    fn history_stamps_are_compact_and_sortable() {
        assert_eq!(history_stamp("2026-11-22T08:45:21Z"), "20261122T084521Z");
        assert_eq!(
            history_stamp("2026-11-22T08:45:21.123Z"),
            "20261122T084521Z"
        );
        assert_eq!(history_stamp("yesterday"), "unknown-time");
        assert!(is_rfc3339_utc("2026-11-22T08:45:21Z"));
        assert!(is_rfc3339_utc("2026-11-22T08:45:21.5Z"));
        assert!(!is_rfc3339_utc("2026-11-22 08:45:21"));
    }
}
