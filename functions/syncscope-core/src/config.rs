//! The configuration file: the seed's JSON format, plus optional keys, parsed into
//! validated types.
//!
//! Validation never stops at the first problem: it walks the whole document and
//! collects every error and warning, each naming its JSON path and the rule broken,
//! e.g. `SSO.GroupFilters[3].Name: "aws-admins" duplicates [1] "AWS-Admins" (names
//! compare case-insensitively)`. A [`Config`] exists only if there were no errors.
//!
//! This module reads the file (the JSON text, the root's keys) and hands each section
//! to its reader; [`Config`] and its sections are declared by the settings table
//! ([`crate::settings`]), the walker that collects the problems is
//! [`crate::walker`], and the choices are in [`crate::choice`]. Their types are
//! re-exported here, where the other crates find them.

use std::fmt;

use serde_json::Value;

pub use crate::choice::{CardFormat, OnDelete};
pub use crate::settings::{Config, General, Sso};
use crate::walker::Walker;
pub use crate::walker::{MAX_FILTERS, Problem, Severity, json_error_text};

/// A config that failed validation: every problem found (errors first, then warnings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    /// Every problem, errors first.
    pub problems: Vec<Problem>,
}

impl Invalid {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        let error = |p: &&Problem| p.severity == Severity::Error;
        self.problems.iter().filter(error)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors().count();
        write!(
            f,
            "{count} error{} in the config",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in self.errors() {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

/// A valid config and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The validated config.
    pub config: Config,
    /// Things that work but deserve a look.
    pub warnings: Vec<Problem>,
}

/// Parses and validates a config file's text.
pub fn parse(text: &str) -> Result<Parsed, Invalid> {
    let value: Value = serde_json::from_str(text).map_err(|e| Invalid {
        problems: vec![Problem {
            severity: Severity::Error,
            path: String::new(),
            message: format!(
                "not valid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                json_error_text(&e)
            ),
        }],
    })?;
    from_value(&value)
}

/// Validates an already parsed JSON document.
pub fn from_value(value: &Value) -> Result<Parsed, Invalid> {
    let mut walker = Walker::default();
    let config = read(&mut walker, value);
    let mut problems = walker.problems;
    problems.sort_by_key(|p| p.severity);
    match config {
        Some(config) if !problems.iter().any(|p| p.severity == Severity::Error) => Ok(Parsed {
            config,
            warnings: problems,
        }),
        _ => Err(Invalid { problems }),
    }
}

const ROOT_KEYS: &[&str] = &["$schema", "general", "SSO"];
/// Reads the document: the root's keys, then each section by the settings table.
fn read(w: &mut Walker, root: &Value) -> Option<Config> {
    let root = w.object("", root, ROOT_KEYS)?;
    let general = w.required(&root, "general");
    let sso = w.required(&root, "SSO");
    let general = general.and_then(|g| crate::settings::read_general(w, g));
    let sso = sso.and_then(|s| crate::settings::read_sso(w, s));
    Some(Config {
        general: general?,
        sso: sso?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DirectoryCheck;
    use crate::names::SyncProfileName;
    use crate::plan::{GuardLimits, Mode};

    /// The seed's format with two groups (the shared fixture).
    fn seed() -> Value {
        serde_json::from_str(include_str!(
            "../../../tests/fixtures/config/valid/seed-only.json"
        ))
        .expect("the seed fixture is JSON")
    }

    fn messages(value: &Value) -> Vec<String> {
        match from_value(value) {
            Ok(parsed) => parsed.warnings.iter().map(ToString::to_string).collect(),
            Err(invalid) => invalid.problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn errors(value: &Value) -> Vec<String> {
        from_value(value)
            .err()
            .map(|i| i.errors().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// The errors of the seed config with one value set at a path.
    fn errors_with(path: &[&str], value: Value) -> Vec<String> {
        let mut v = seed();
        let slot = path.iter().fold(&mut v, |v, key| &mut v[*key]);
        *slot = value;
        errors(&v)
    }

    #[test]
    fn a_config_with_only_the_seeds_keys_is_valid_with_defaults() {
        let parsed = from_value(&seed()).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let c = parsed.config;
        assert_eq!(
            c.general.stack_name.as_str(),
            "COMPANY-SSO-AD-GroupSync-TEST"
        );
        assert_eq!(c.sso.groups.len(), 2);
        assert_eq!(c.sso.mode, Mode::Managed);
        assert_eq!(c.sso.on_delete, OnDelete::Retain);
        assert_eq!(
            c.sso.guard,
            GuardLimits {
                max_removals: 10,
                max_removal_percent: 25,
                max_users_losing_access: None,
            }
        );
        assert_eq!(c.sso.sync_profile.as_str(), SyncProfileName::DEFAULT);
        assert_eq!(c.general.docs_prefix.as_str(), "sso");
        assert_eq!(c.general.card_format, CardFormat::AdaptiveCard);
        assert_eq!(c.sso.directory_check, DirectoryCheck::Warn);
        assert_eq!(c.sso.directory_id, None);
    }

    #[test]
    fn a_directory_id_with_the_check_off_is_a_warning() {
        let mut v = seed();
        v["SSO"]["DirectoryCheck"] = "off".into();
        v["SSO"]["DirectoryId"] = "d-1234567890".into();
        assert_eq!(
            messages(&v),
            ["SSO.DirectoryId: has no effect: SSO.DirectoryCheck is off, so no directory is asked"]
        );
    }

    #[test]
    fn case_insensitive_duplicate_names_point_at_the_first_entry() {
        let mut v = seed();
        v["SSO"]["GroupFilters"].as_array_mut().unwrap().extend([
            serde_json::json!({"Name": "Other"}),
            serde_json::json!({"Name": " aws-admins "}),
        ]);
        assert_eq!(
            errors(&v),
            [
                r#"SSO.GroupFilters[3].Name: "aws-admins" duplicates [0] "AWS-Admins" (names compare case-insensitively)"#
            ]
        );
    }

    #[test]
    fn a_group_and_a_user_may_share_a_name() {
        let mut v = seed();
        v["SSO"]["UserFilters"] = serde_json::json!([{ "Name": "aws-admins" }]);
        assert!(from_value(&v).is_ok());
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let mut v = seed();
        v["general"]["stage"] = serde_json::json!(3);
        v["general"]["s3_DOKUBUCKET"] = serde_json::json!("Bad_Bucket");
        v["SSO"]["ad_DomainName"] = serde_json::json!("corp");
        assert_eq!(errors(&v).len(), 3, "{:?}", errors(&v));
    }

    #[test]
    fn unknown_keys_are_warnings_with_a_suggestion() {
        let mut v = seed();
        v["SSO"]["Mdoe"] = serde_json::json!("managed");
        let parsed = from_value(&v).unwrap();
        assert_eq!(
            parsed
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [r#"SSO.Mdoe: unknown key, ignored (did you mean "Mode"?)"#]
        );
    }

    #[test]
    fn a_misspelt_required_key_is_named_in_the_missing_key_error() {
        let mut v = seed();
        let groups = v["SSO"]
            .as_object_mut()
            .unwrap()
            .remove("GroupFilters")
            .unwrap();
        v["SSO"]["GroupFilter"] = groups;
        assert!(messages(&v).contains(
            &r#"SSO.GroupFilters: required key is missing (found "GroupFilter": did you mean "GroupFilters"?)"#
                .to_owned()
        ));
    }

    #[test]
    fn the_stack_name_error_blames_the_key_with_the_bad_character() {
        assert_eq!(
            errors_with(&["general", "stage"], serde_json::json!("TEST_1")),
            [
                r#"general.stage: "TEST_1" contains '_', which makes the stack name "COMPANY-SSO-AD-GroupSync-TEST_1" invalid: CloudFormation allows only letters, digits and hyphens"#
            ]
        );
    }

    #[test]
    fn a_too_long_stack_name_is_reported_on_general() {
        let mut v = seed();
        v["general"]["produkt"] = serde_json::json!("P".repeat(120));
        let e = errors(&v);
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("general: the stack name") && e[0].contains("allows 128"),
            "{e:?}"
        );
    }

    #[test]
    fn a_literal_webhook_url_works_with_a_warning_that_does_not_repeat_it() {
        let mut v = seed();
        v["general"]["WebhookUrlTeams"] =
            serde_json::json!("https://example.webhook.office.com/x?sig=TOPSECRET");
        let parsed = from_value(&v).unwrap();
        assert!(parsed.config.general.webhook.is_literal());
        assert_eq!(parsed.warnings.len(), 1);
        assert!(!parsed.warnings[0].to_string().contains("TOPSECRET"));
    }

    #[test]
    fn a_literal_webhook_on_a_host_that_is_not_microsofts_is_refused_unless_listed() {
        let mut v = seed();
        v["general"]["WebhookUrlTeams"] =
            serde_json::json!("https://teams-proxy.corp.example/hook?sig=TOPSECRET");
        let found = errors(&v);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("general.WebhookUrlTeams: the URL is refused: its host teams-proxy.corp.example is not a Microsoft Teams or Power Automate webhook host")
                && found[0].contains("general.WebhookHosts")
                && !found[0].contains("TOPSECRET"),
            "{found:?}"
        );
        v["general"]["WebhookHosts"] = serde_json::json!(["corp.example"]);
        let parsed = from_value(&v).unwrap();
        assert_eq!(
            parsed.config.general.webhook_hosts.extra(),
            ["corp.example"]
        );
        v["general"]["WebhookHosts"] = serde_json::json!(["corp.example", "https://x.example/"]);
        let found = errors(&v);
        assert!(
            found
                .iter()
                .any(|e| e.starts_with("general.WebhookHosts[1]: ")),
            "{found:?}"
        );
        v["general"]["WebhookHosts"] = serde_json::json!("corp.example");
        assert!(
            errors(&v).iter().any(|e| e == "general.WebhookHosts: expected a list of host names, found a string (\"corp.example\")"),
            "{:?}",
            errors(&v)
        );
    }

    #[test]
    fn optional_keys_are_parsed() {
        let mut v = seed();
        v["SSO"]["Mode"] = serde_json::json!("authoritative");
        v["SSO"]["OnDelete"] = serde_json::json!("remove");
        v["SSO"]["DeletionGuard"] = serde_json::json!({"MaxRemovals": 50, "MaxRemovalPercent": 100, "MaxUsersLosingAccess": 0});
        v["SSO"]["UserFilters"] =
            serde_json::json!([{"Name": "jdoe", "Description": "break-glass"}]);
        v["SSO"]["SyncProfileName"] = serde_json::json!("corp-profile");
        v["general"]["TeamsCardFormat"] = serde_json::json!("MessageCard");
        v["general"]["DriftSchedule"] = serde_json::json!("rate(6 hours)");
        let c = from_value(&v).unwrap().config;
        assert_eq!(c.sso.mode, Mode::Authoritative);
        assert_eq!(c.sso.on_delete, OnDelete::Remove);
        assert_eq!(c.sso.guard.max_removals, 50);
        assert_eq!(c.sso.guard.max_users_losing_access, Some(0));
        assert_eq!(c.sso.users.len(), 1);
        assert_eq!(c.desired().filters.len(), 3);
        assert_eq!(c.general.card_format, CardFormat::MessageCard);
    }

    #[test]
    fn a_bad_choice_lists_the_allowed_values_and_suggests_one() {
        assert_eq!(
            errors_with(&["SSO", "Mode"], serde_json::json!("manged")),
            [
                r#"SSO.Mode: "manged" is not allowed: use "managed" or "authoritative" (did you mean "managed"?)"#
            ]
        );
    }

    #[test]
    fn guard_limits_must_be_whole_numbers_in_range() {
        let mut v = seed();
        v["SSO"]["DeletionGuard"] = serde_json::json!({"MaxRemovals": -1, "MaxRemovalPercent": 101, "MaxUsersLosingAccess": "5"});
        assert_eq!(
            errors(&v),
            [
                "SSO.DeletionGuard.MaxRemovals: -1 is not allowed: use a whole number from 0 to 4294967295",
                "SSO.DeletionGuard.MaxRemovalPercent: 101 is not allowed: use a whole number from 0 to 100",
                "SSO.DeletionGuard.MaxUsersLosingAccess: expected a whole number, found a string (\"5\")",
            ]
        );
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let e = parse("{\n  \"general\": {,\n}").unwrap_err();
        assert!(
            e.problems[0]
                .message
                .starts_with("not valid JSON at line 2, column 15"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_name_what_was_found() {
        assert_eq!(
            errors_with(&["SSO", "GroupFilters"], serde_json::json!({"Name": "x"})),
            ["SSO.GroupFilters: expected an array of filters, found an object"]
        );
    }
}
