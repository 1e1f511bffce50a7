//! The custom resource's properties: the typed struct, the parser the handler uses
//! (every problem collected, each naming its key; unknown keys ignored, as
//! CloudFormation adds its own) and the writer the synthesiser uses. The properties
//! are declared in the settings table ([`crate::settings`]), and the types they hold
//! ([`Property`]: read, written, described) are in [`crate::values`]; both are
//! re-exported here, beside what the properties mean together (the deletion guard's
//! limits).

use crate::choice::Engine;
use crate::plan::GuardLimits;
pub use crate::settings::{KEYS, Properties, parse};
pub use crate::values::{Count, Line, Property, Sha256Hex, SsmPath};

impl Properties {
    /// What the properties lack together (each problem naming its key): the
    /// `parent-group` engine needs `ParentGroup` and `DirectoryId`.
    pub fn missing_together(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.engine == Engine::ParentGroup {
            for (key, unset) in [
                ("ParentGroup", self.parent_group.is_none()),
                ("DirectoryId", self.directory_id.is_none()),
            ] {
                if unset {
                    problems.push(format!("{key}: is required with Engine \"parent-group\""));
                }
            }
        }
        problems
    }

    /// The deletion guard's limits.
    pub fn guard(&self) -> GuardLimits {
        GuardLimits {
            max_removals: self.max_removals.0,
            max_removal_percent: self.max_removal_percent.0,
            max_users_losing_access: self.max_users_losing_access.map(|c| c.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;
    use crate::names::SyncProfileName;
    use crate::plan::Mode;

    /// A valid property map (tests/fixtures/properties/valid.json, the fuzz target's
    /// starting point too).
    fn props() -> Map<String, Value> {
        serde_json::from_str(include_str!(
            "../../../tests/fixtures/properties/valid.json"
        ))
        .unwrap_or_default()
    }

    #[test]
    fn properties_arrive_as_strings_and_unknown_keys_are_ignored() {
        let p = parse(&props()).unwrap();
        assert_eq!(p.guard().max_removals, 20);
        assert_eq!(p.guard().max_removal_percent, 25);
        assert!(p.dry_run);
        assert_eq!(p.mode, Mode::Managed);
        assert_eq!(p.sync_profile.as_str(), SyncProfileName::DEFAULT);
    }

    #[test]
    fn every_bad_property_is_named() {
        let mut m = props();
        m.remove("AdDomainName");
        m.insert("Mode".into(), "sometimes".into());
        m.insert("MaxRemovalPercent".into(), "250".into());
        m.insert("FiltersParameter".into(), "no-slash".into());
        m.insert("Stage".into(), serde_json::json!(["a"]));
        let problems = parse(&m).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        for expected in [
            "AdDomainName: required property is missing",
            "Mode: \"sometimes\" is not allowed: use \"managed\" or \"authoritative\"",
            "MaxRemovalPercent: \"250\" is not a whole number from 0 to 100",
            "Stage: expected a string, found a list",
        ] {
            assert!(problems.iter().any(|p| p == expected), "{problems:?}");
        }
        assert!(problems.iter().any(|p| p.starts_with("FiltersParameter:")));
    }

    #[test]
    fn the_parent_group_engine_needs_its_group_and_directory() {
        let mut m = props();
        m.insert("Engine".into(), "parent-group".into());
        m.remove("DirectoryId");
        let parsed = parse(&m).unwrap();
        assert_eq!(
            parsed.missing_together(),
            [
                "ParentGroup: is required with Engine \"parent-group\"",
                "DirectoryId: is required with Engine \"parent-group\""
            ]
        );
        m.insert(
            "ParentGroup".into(),
            "IAMIdentityCenterAllUsersAndGroups".into(),
        );
        m.insert("DirectoryId".into(), "d-1234567890".into());
        assert!(parse(&m).unwrap().missing_together().is_empty());
        m.insert("Engine".into(), "parent".into());
        assert_eq!(
            parse(&m).unwrap_err(),
            ["Engine: \"parent\" is not allowed: use \"sync-filters\" or \"parent-group\""]
        );
    }

    #[test]
    fn a_line_is_trimmed_and_refuses_control_characters_and_excess_length() {
        assert_eq!(
            Line::<5>::read("  Hi  ").map(|l| l.write()),
            Ok("Hi".into())
        );
        assert_eq!(
            Line::<5>::read("a\nb"),
            Err("contains a control character (U+000A) at position 2; write it on one line".into())
        );
        assert_eq!(
            Line::<5>::read("abcdef"),
            Err("\"abcdef\" is 6 characters long; at most 5 are allowed".into())
        );
        assert_eq!(
            Line::<5>::read("äöüßé").map(|l| l.write()),
            Ok("äöüßé".into())
        );
    }

    #[test]
    fn an_empty_required_property_is_named_as_empty() {
        let mut m = props();
        m.insert("Stage".into(), "  ".into());
        assert_eq!(parse(&m).unwrap_err(), ["Stage: must not be empty"]);
    }

    #[test]
    fn what_is_written_reads_back_the_same_for_every_key() {
        let mut m = props();
        for (key, value) in [
            ("SyncProfileName", "OtherProfile"),
            ("Region", "eu-west-1"),
            ("DocsBucket", "company-docs"),
            ("DocsPrefix", "wiki/sso"),
            ("DocsWebsite", "https://wiki.example.com/sso"),
            ("DocsTitle", "Who can sign in to AWS"),
            ("TeamsWebhook", "ssm:/company/teams"),
            ("WebhookHosts", "teams-proxy.corp.example,hooks.example.net"),
            ("TeamsCardFormat", "MessageCard"),
            ("Mode", "authoritative"),
            ("OnDelete", "remove"),
            ("MaxRemovalPercent", "40"),
            ("MaxUsersLosingAccess", "0"),
            ("IdentityStoreId", "d-0123456789"),
            ("DirectoryCheck", "require"),
            ("DirectoryId", "d-0123456789"),
            ("Engine", "parent-group"),
            ("ParentGroup", "IAMIdentityCenterAllUsersAndGroups"),
        ] {
            m.insert(key.into(), value.into());
        }
        let parsed = parse(&m).unwrap();
        let written = parsed.to_map();
        let keys: Vec<&str> = written.keys().map(String::as_str).collect();
        let mut all = KEYS.to_vec();
        all.sort_unstable();
        assert_eq!(keys, all, "every property is written when set");
        assert_eq!(parse(&written).unwrap(), parsed);
    }
}
