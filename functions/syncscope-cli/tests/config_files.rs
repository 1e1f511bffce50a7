//! The config files in `tests/fixtures/config` and `config/`: what `syncscope validate`
//! reports for each (as text and as JSON), and what `config/schema.json` says about them.
//!
//! Each invalid fixture `NN-short-name.json` breaks one rule (one breaks several) and has
//! `NN-short-name.expected`: the error lines the CLI prints, as `PATH: MESSAGE`, in order.
//! A valid fixture may have `NAME.warnings`: the warning lines it prints, in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/config");
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Invalid fixtures the JSON Schema cannot reject, each with the reason. The schema must
/// reject every other invalid fixture, and must accept these (so the list stays honest).
const SCHEMA_CANNOT_EXPRESS: &[(&str, &str)] = &[
    (
        "01-not-json",
        "not JSON at all, so there is no document for the schema to check",
    ),
    (
        "19-duplicate-group-case-insensitive",
        "uniqueItems compares whole entries exactly; names equal only ignoring case and spaces are beyond JSON Schema",
    ),
    (
        "22-stack-name-too-long",
        "the 128-character limit is on prefix-produkt-stage combined; JSON Schema cannot measure a length across keys",
    ),
    (
        "55-webhook-host-not-allowed",
        "the allowed hosts are Microsoft's plus those listed in WebhookHosts, another key; a pattern cannot read the list",
    ),
    (
        "60-parent-group-in-its-own-filters",
        "the parent group's name and a filter's name are equal only ignoring case; JSON Schema cannot compare two values",
    ),
    (
        "61-parent-group-names-directory-service-data-refuses",
        "Directory Service Data's name limits apply only under the parent-group engine; the schema keeps one name rule for both engines",
    ),
];

/// The least number of invalid fixtures the suite must keep.
const MIN_INVALID_FIXTURES: usize = 25;

fn invalid_dir() -> PathBuf {
    Path::new(FIXTURES).join("invalid")
}

fn valid_dir() -> PathBuf {
    Path::new(FIXTURES).join("valid")
}

fn example() -> PathBuf {
    Path::new(REPO).join("config/example.json")
}

/// The `.json` files in `dir`, sorted by name.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn invalid_fixtures() -> Vec<PathBuf> {
    json_files(&invalid_dir())
}

fn valid_fixtures() -> Vec<PathBuf> {
    json_files(&valid_dir())
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The lines of the file next to `fixture` with `extension`; none if there is no such file.
fn sidecar_lines(fixture: &Path, extension: &str) -> Vec<String> {
    match std::fs::read_to_string(fixture.with_extension(extension)) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!(
            "cannot read the {extension} file of {}: {e}",
            fixture.display()
        ),
    }
}

fn expected_errors(fixture: &Path) -> Vec<String> {
    sidecar_lines(fixture, "expected")
}

fn expected_warnings(fixture: &Path) -> Vec<String> {
    sidecar_lines(fixture, "warnings")
}

fn syncscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncscope"))
        .args(args)
        .output()
        .expect("the syncscope binary runs")
}

/// `syncscope validate --config FILE`.
fn validate(file: &Path) -> Output {
    syncscope(&["validate", "--config", file.to_str().unwrap()])
}

/// `syncscope validate --config FILE --json`, parsed.
fn validate_json(file: &Path) -> (Option<i32>, Value) {
    let out = syncscope(&["validate", "--config", file.to_str().unwrap(), "--json"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "--json output of {} is not JSON ({e}):\n{stdout}",
            file.display()
        )
    });
    (out.status.code(), report)
}

/// The stderr lines `LEVEL: FILE: ...`, without that prefix.
fn problem_lines(out: &Output, level: &str, file: &Path) -> Vec<String> {
    let prefix = format!("{level}: {}: ", file.display());
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// The `errors` or `warnings` of a `--json` report, as `PATH: MESSAGE` (the CLI's text form).
fn report_lines(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("the report has no {key:?} array: {report}"))
        .iter()
        .map(|p| {
            let path = p["path"].as_str().unwrap();
            let message = p["message"].as_str().unwrap();
            if path.is_empty() {
                message.to_owned()
            } else {
                format!("{path}: {message}")
            }
        })
        .collect()
}

/// Fails with every collected mismatch, not only the first.
fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn schema() -> Value {
    read_json(&Path::new(REPO).join("config/schema.json"))
}

fn schema_validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&schema()).expect("config/schema.json compiles as a draft-07 schema")
}

/// Where the schema rejects `instance`: the JSON pointers and messages of its errors.
fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<(String, String)> {
    validator
        .iter_errors(instance)
        .map(|e| (e.instance_path().as_str().to_owned(), e.to_string()))
        .collect()
}

/// `SSO.GroupFilters[3].Name` as the JSON pointer `/SSO/GroupFilters/3/Name`.
fn pointer(cli_path: &str) -> String {
    cli_path
        .split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|s| s.split(['[', ']']).filter(|s| !s.is_empty()))
        .map(|s| format!("/{s}"))
        .collect()
}

/// The path of an expected `PATH: MESSAGE` line (empty for problems of the whole document).
fn cli_path(line: &str) -> &str {
    match line.split_once(": ") {
        Some((path, _)) if !path.contains(' ') && !path.starts_with('"') => path,
        _ => "",
    }
}

fn is_at_or_below(pointer: &str, ancestor: &str) -> bool {
    pointer == ancestor || pointer.starts_with(&format!("{ancestor}/")) || ancestor.is_empty()
}

#[test]
fn there_are_at_least_25_invalid_fixtures_each_named_and_paired_with_its_expected_errors() {
    let fixtures = invalid_fixtures();
    assert!(
        fixtures.len() >= MIN_INVALID_FIXTURES,
        "only {} invalid fixtures; keep at least {MIN_INVALID_FIXTURES}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let name = stem(fixture);
        let (number, short) = name.split_once('-').unwrap_or_default();
        if number.len() != 2 || !number.chars().all(|c| c.is_ascii_digit()) || short.is_empty() {
            failures.push(format!("{name}: not named NN-short-name"));
        }
        if expected_errors(fixture).is_empty() {
            failures.push(format!("{name}: no {name}.expected, or it lists no error"));
        }
    }
    for entry in std::fs::read_dir(invalid_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "expected")
            && !path.with_extension("json").exists()
        {
            failures.push(format!("{}: no config next to it", path.display()));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn every_invalid_fixture_fails_validation_with_exactly_its_expected_errors() {
    let mut failures = Vec::new();
    for fixture in invalid_fixtures() {
        let expected = expected_errors(&fixture);
        let out = validate(&fixture);
        let errors = problem_lines(&out, "error", &fixture);
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{}: exit code {:?}, expected 1",
                stem(&fixture),
                out.status.code()
            ));
        }
        if errors != expected {
            failures.push(format!(
                "{}: printed errors\n  {}\nexpected\n  {}",
                stem(&fixture),
                errors.join("\n  "),
                expected.join("\n  ")
            ));
        }
        let count = expected.len();
        let summary = format!(
            "{}: invalid: {count} error{}",
            fixture.display(),
            if count == 1 { "" } else { "s" }
        );
        if !String::from_utf8_lossy(&out.stderr)
            .lines()
            .any(|l| l == summary)
        {
            failures.push(format!("{}: no summary line {summary:?}", stem(&fixture)));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn every_invalid_fixture_fails_validation_in_json_mode_with_the_same_errors() {
    let mut failures = Vec::new();
    for fixture in invalid_fixtures() {
        let (code, report) = validate_json(&fixture);
        let expected = expected_errors(&fixture);
        let errors = report_lines(&report, "errors");
        if code != Some(1) || report["valid"] != Value::Bool(false) {
            failures.push(format!(
                "{}: exit code {code:?}, valid {}",
                stem(&fixture),
                report["valid"]
            ));
        }
        if report["file"].as_str() != fixture.to_str() || !report["summary"].is_null() {
            failures.push(format!(
                "{}: file or summary wrong in {report}",
                stem(&fixture)
            ));
        }
        if errors != expected {
            failures.push(format!(
                "{}: --json errors\n  {}\nexpected\n  {}",
                stem(&fixture),
                errors.join("\n  "),
                expected.join("\n  ")
            ));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn the_fixture_with_several_problems_lists_every_one_of_them() {
    let fixture = invalid_dir().join("53-many-problems.json");
    let errors = problem_lines(&validate(&fixture), "error", &fixture);
    let paths: Vec<&str> = errors.iter().map(|e| cli_path(e)).collect();
    assert_eq!(
        paths,
        [
            "general.stage",
            "general.s3_DOKUBUCKET",
            "general.DocuWebsite",
            "SSO.ad_DomainName",
            "SSO.GroupFilters[1].Name",
            "SSO.UserFilters[0].Name",
            "SSO.Mode",
            "SSO.DeletionGuard.MaxRemovalPercent",
        ],
        "{errors:#?}"
    );
}

#[test]
fn the_example_and_every_valid_fixture_pass_validation_with_exactly_their_expected_warnings() {
    let mut files = valid_fixtures();
    files.push(example());
    assert!(files.len() >= 5, "valid fixtures missing: {files:?}");
    let mut failures = Vec::new();
    for file in files {
        let name = stem(&file);
        let expected = expected_warnings(&file);
        let out = validate(&file);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.code() != Some(0)
            || !stdout.starts_with(&format!("{}: valid: stack ", file.display()))
        {
            failures.push(format!(
                "{name}: exit code {:?}\nstdout: {stdout}\nstderr: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let warnings = problem_lines(&out, "warning", &file);
        if warnings != expected {
            failures.push(format!(
                "{name}: warnings {warnings:#?}, expected {expected:#?}"
            ));
        }

        let (code, report) = validate_json(&file);
        if code != Some(0)
            || report["valid"] != Value::Bool(true)
            || !report_lines(&report, "errors").is_empty()
        {
            failures.push(format!("{name}: --json says {report}"));
        }
        if report_lines(&report, "warnings") != expected {
            failures.push(format!(
                "{name}: --json warnings differ from {expected:#?}: {report}"
            ));
        }
        if !report["summary"]["stack_name"].is_string() {
            failures.push(format!("{name}: --json has no summary: {report}"));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn the_warning_fixtures_print_their_warning() {
    let literal = valid_dir().join("literal-webhook.json");
    let out = validate(&literal);
    let warnings = problem_lines(&out, "warning", &literal);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .starts_with("general.WebhookUrlTeams: a literal webhook URL is a secret kept in git"),
        "{warnings:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("webhookb2"),
        "the warning repeats the secret URL: {stderr}"
    );

    let unknown = valid_dir().join("unknown-key.json");
    let warnings = problem_lines(&validate(&unknown), "warning", &unknown);
    assert_eq!(
        warnings,
        [r#"SSO.Mdoe: unknown key, ignored (did you mean "Mode"?)"#]
    );
}

#[test]
fn the_seed_only_fixture_holds_exactly_the_seeds_keys() {
    let seed = read_json(&valid_dir().join("seed-only.json"));
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&seed), ["SSO", "general"]);
    assert_eq!(
        keys(&seed["general"]),
        [
            "DocuWebsite",
            "WebhookUrlTeams",
            "prefix",
            "produkt",
            "s3_DOKUBUCKET",
            "stage"
        ]
    );
    assert_eq!(keys(&seed["SSO"]), ["GroupFilters", "ad_DomainName"]);
    for filter in seed["SSO"]["GroupFilters"].as_array().unwrap() {
        assert_eq!(keys(filter), ["Description", "Name"]);
    }
}

#[test]
fn the_committed_schema_is_the_one_the_settings_table_generates() {
    let out = syncscope(&["schema"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(Path::new(REPO).join("config/schema.json")).unwrap();
    assert!(
        committed == generated,
        "config/schema.json is not what the settings table generates; regenerate it with: cargo run -p syncscope-cli -- schema --write config/schema.json"
    );
}

#[test]
fn the_schema_is_a_valid_draft_07_schema() {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::draft7::meta::validate(&schema)
        .expect("config/schema.json follows the draft-07 meta-schema");
}

#[test]
fn the_schema_accepts_the_example_and_the_valid_fixtures() {
    let validator = schema_validator();
    let mut failures = Vec::new();
    let files = [
        example(),
        valid_dir().join("seed-only.json"),
        valid_dir().join("all-options.json"),
        valid_dir().join("literal-webhook.json"),
    ];
    for file in files {
        let errors = schema_errors(&validator, &read_json(&file));
        if !errors.is_empty() {
            failures.push(format!(
                "{}: the schema rejects it: {errors:#?}",
                file.display()
            ));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn the_schema_flags_the_unknown_key_the_cli_only_warns_about() {
    let validator = schema_validator();
    let errors: Vec<_> = validator
        .iter_errors(&read_json(&valid_dir().join("unknown-key.json")))
        .map(|e| {
            (
                e.kind().keyword().to_owned(),
                e.instance_path().as_str().to_owned(),
                e.to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].0.as_str(), errors[0].1.as_str()),
        ("additionalProperties", "/SSO")
    );
    assert!(errors[0].2.contains("Mdoe"), "{errors:#?}");
}

#[test]
fn the_schema_rejects_every_invalid_fixture_it_can_express_where_the_cli_points() {
    let validator = schema_validator();
    let mut failures = Vec::new();
    for fixture in invalid_fixtures() {
        let name = stem(&fixture);
        if SCHEMA_CANNOT_EXPRESS.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let Ok(instance) =
            serde_json::from_str::<Value>(&std::fs::read_to_string(&fixture).unwrap())
        else {
            failures.push(format!(
                "{name}: not JSON; list it in SCHEMA_CANNOT_EXPRESS"
            ));
            continue;
        };
        let errors = schema_errors(&validator, &instance);
        if errors.is_empty() {
            failures.push(format!(
                "{name}: the schema accepts it; tighten config/schema.json or list it in SCHEMA_CANNOT_EXPRESS"
            ));
            continue;
        }
        // Each CLI error must be matched by a schema error at the same place or above it
        // (a missing key is reported on its parent object by JSON Schema).
        for expected in expected_errors(&fixture) {
            let at = pointer(cli_path(&expected));
            if !errors
                .iter()
                .any(|(location, _)| is_at_or_below(&at, location))
            {
                failures.push(format!(
                    "{name}: the schema has no error at {at:?} or above for {expected:?}; it says {errors:#?}"
                ));
            }
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn the_fixtures_the_schema_cannot_express_exist_and_are_not_rejected_by_it() {
    let validator = schema_validator();
    let mut failures = Vec::new();
    for (name, reason) in SCHEMA_CANNOT_EXPRESS {
        assert!(!reason.is_empty());
        let fixture = invalid_dir().join(format!("{name}.json"));
        let Ok(text) = std::fs::read_to_string(&fixture) else {
            failures.push(format!(
                "{name}: listed in SCHEMA_CANNOT_EXPRESS but there is no such fixture"
            ));
            continue;
        };
        if let Ok(instance) = serde_json::from_str::<Value>(&text) {
            let errors = schema_errors(&validator, &instance);
            if !errors.is_empty() {
                failures.push(format!(
                    "{name}: the schema does reject it, so remove it from SCHEMA_CANNOT_EXPRESS: {errors:#?}"
                ));
            }
        }
    }
    assert_no_failures(&failures);
}

/// Calls `visit(path, schema)` for `schema` and every subschema in it.
fn walk_schemas(path: &str, schema: &Value, visit: &mut dyn FnMut(&str, &Value)) {
    let Value::Object(map) = schema else { return };
    visit(path, schema);
    for (keyword, value) in map {
        match (keyword.as_str(), value) {
            ("properties" | "definitions", Value::Object(children)) => {
                for (name, child) in children {
                    walk_schemas(&format!("{path}/{keyword}/{name}"), child, visit);
                }
            }
            ("items" | "not" | "additionalProperties", child @ Value::Object(_)) => {
                walk_schemas(&format!("{path}/{keyword}"), child, visit);
            }
            ("allOf" | "anyOf" | "oneOf", Value::Array(children)) => {
                for (i, child) in children.iter().enumerate() {
                    walk_schemas(&format!("{path}/{keyword}/{i}"), child, visit);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_property_in_the_schema_has_a_description() {
    let mut failures = Vec::new();
    let mut properties = 0;
    walk_schemas("#", &schema(), &mut |path, schema| {
        let Some(Value::Object(children)) = schema.get("properties") else {
            return;
        };
        for (name, child) in children {
            properties += 1;
            let described = child
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if !described {
                failures.push(format!("{path}/properties/{name} has no description"));
            }
        }
    });
    assert!(
        // root 3 + general 10 + SSO 8 + DeletionGuard 2 + the two filter shapes 2 each
        properties >= 27,
        "only {properties} properties found: is the walk broken?"
    );
    assert_no_failures(&failures);
}

#[test]
fn every_object_in_the_schema_flags_unknown_keys() {
    let mut failures = Vec::new();
    walk_schemas("#", &schema(), &mut |path, schema| {
        if schema.get("type") == Some(&Value::from("object"))
            && schema.get("additionalProperties") != Some(&Value::Bool(false))
        {
            failures.push(format!("{path} does not set additionalProperties: false"));
        }
    });
    assert_no_failures(&failures);
}

#[test]
fn all_options_sets_every_key_the_schema_knows_and_the_cli_knows_them_all() {
    let schema = schema();
    let config = read_json(&valid_dir().join("all-options.json"));
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let props = "properties";
    let sso = &schema[props]["SSO"][props];
    let pairs = [
        (&schema[props], &config),
        (&schema[props]["general"][props], &config["general"]),
        (sso, &config["SSO"]),
        (
            &sso["DeletionGuard"][props],
            &config["SSO"]["DeletionGuard"],
        ),
        (
            &sso["GroupFilters"]["items"][props],
            &config["SSO"]["GroupFilters"][0],
        ),
        (
            &sso["UserFilters"]["items"][props],
            &config["SSO"]["UserFilters"][0],
        ),
    ];
    for (schema_props, section) in pairs {
        assert_eq!(keys(schema_props), keys(section));
    }
    // No "unknown key" warning: the CLI knows every key the schema documents.
    let file = valid_dir().join("all-options.json");
    assert_eq!(
        problem_lines(&validate(&file), "warning", &file),
        Vec::<String>::new()
    );
}

#[test]
fn readme_and_the_reliability_list_count_the_invalid_fixtures_there_are() {
    let count = invalid_fixtures().len();
    for (doc, phrase) in [
        ("README.md", "invalid config fixtures"),
        ("docs/reliability.md", "invalid fixtures"),
    ] {
        let text = std::fs::read_to_string(Path::new(REPO).join(doc)).unwrap();
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!("{count} {phrase}")),
            "{doc} must say \"{count} {phrase}\""
        );
    }
}

/// The seed fixture with `count` group filters whose descriptions are `len` letters
/// that hardly compress, written under the target directory.
fn noisy_config(count: usize, len: usize) -> PathBuf {
    let mut doc = read_json(&valid_dir().join("seed-only.json"));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let filters: Vec<Value> = (0..count)
        .map(|i| {
            let description: String = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect();
            serde_json::json!({ "Name": format!("AWS-Team-{i:05}"), "Description": description })
        })
        .collect();
    doc["SSO"]["GroupFilters"] = Value::Array(filters);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("noisy-{count}-{len}.json"));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn validate_refuses_a_config_no_template_can_carry_naming_the_limit_and_how_far_over() {
    let fits = noisy_config(1_000, 200);
    let out = validate(&fits);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let too_large = noisy_config(1_500, 1024);
    let out = validate(&too_large);
    assert_eq!(out.status.code(), Some(1));
    let errors = problem_lines(&out, "error", &too_large);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("SSO: the template would be ")
            && errors[0].contains(" over the 1048576 CloudFormation accepts (from S3)"),
        "{errors:?}"
    );
    let (code, report) = validate_json(&too_large);
    assert_eq!(code, Some(1));
    assert_eq!(report["valid"], false);
    assert_eq!(report_lines(&report, "errors"), errors);
}
