//! A point in time to the second, in UTC: when a run started. Written as RFC 3339
//! (`2026-11-22T08:45:21Z`) in the outcome's JSON and the docs' `<time>`, as a compact
//! stamp in history keys, and for people as `2026-11-22 08:45:21 UTC`. The clock is
//! read by the caller (the core does no I/O).

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A UTC time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The time `at`, to the second.
    pub fn at(at: SystemTime) -> Self {
        Self::of(OffsetDateTime::from(at))
    }

    fn of(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        Self(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    /// Reads an RFC 3339 time (any offset, converted to UTC; fractions dropped).
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339).ok().map(Self::of)
    }

    /// A compact, sortable, URL-safe stamp for history keys: `20261122T084521Z`.
    pub fn stamp(&self) -> String {
        self.to_string().replace(['-', ':'], "")
    }

    /// The time for people: `2026-11-22 08:45:21 UTC`.
    pub fn human(&self) -> String {
        let rfc = self.to_string();
        format!("{} UTC", rfc.trim_end_matches('Z').replacen('T', " ", 1))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339: `2026-11-22T08:45:21Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_time_reads_and_writes_in_every_form_it_has() {
        let t = Timestamp::parse("2026-11-22T08:45:21Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T08:45:21Z");
        assert_eq!(t.stamp(), "20261122T084521Z");
        assert_eq!(t.human(), "2026-11-22 08:45:21 UTC");
        assert_eq!(serde_json::to_value(t).unwrap(), "2026-11-22T08:45:21Z");
        assert_eq!(
            serde_json::from_value::<Timestamp>("2026-11-22T08:45:21Z".into()).unwrap(),
            t
        );
    }

    #[test]
    fn offsets_become_utc_and_fractions_are_dropped() {
        let t = Timestamp::parse("2026-11-22T09:45:21.987+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T08:45:21Z");
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_337_121_500);
        assert_eq!(Timestamp::at(at).to_string(), "2026-11-22T08:45:21Z");
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for text in [
            "yesterday",
            "2026-11-22 08:45:21",
            "2026-13-01T00:00:00Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(text), None, "{text}");
            assert!(serde_json::from_value::<Timestamp>(text.into()).is_err());
        }
    }
}
