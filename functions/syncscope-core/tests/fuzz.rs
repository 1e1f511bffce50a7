//! Fuzzing with proptest: the parsers of everything syncscope reads from outside
//! (config files, SSM shards, resource properties, physical ids) and the response
//! renderer, fed arbitrary and mutated inputs. None may panic or hang; every error
//! names where it is (a JSON path, a parameter, a property).
//!
//! The campaign is bounded: a fixed number of cases per target (`SYNCSCOPE_FUZZ_CASES`
//! multiplies them for a longer run, e.g. `SYNCSCOPE_FUZZ_CASES=10`). Inputs that once
//! failed are kept in `tests/fuzz-corpus/regressions.txt` (replayed first), and the
//! seed corpus under `tests/fuzz-corpus/{config,shards,properties}/` is replayed as
//! regression inputs on every run.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Map, Value, json};
use syncscope_core::cfn::{self, IdKind, ResponseBody, Status};
use syncscope_core::config::{self, Severity};
use syncscope_core::scope::{FilterKind, ProfileKey};
use syncscope_core::store::{self, Entry};

/// Every property the parser knows (a problem must start with one of them).
const PROPERTY_KEYS: &[&str] = syncscope_core::properties::KEYS;

fn cases(base: u32) -> u32 {
    let factor = std::env::var("SYNCSCOPE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    base.saturating_mul(factor)
}

fn fuzz_config(base: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(base),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/fuzz-corpus/regressions.txt",
        ))),
        // A shrink that runs away must not turn into a hang.
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

fn corpus(sub: &str) -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .into_iter()
        .map(|p| {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            (p, text)
        })
        .collect()
}

// ---------------------------------------------------------------- strategies

/// Arbitrary JSON, nested a few levels, with strings that look like config values.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "[A-Za-z0-9<>&\"'/\\\\: .@_-]{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("AWS-Admins"),
            Just("aws-admins"),
            Just("ssm:/company/sso/teams-webhook"),
            Just("https://wiki.example.com/x"),
            Just("corp.example.com"),
            Just("managed"),
            Just("authoritative"),
            Just("remove"),
            Just(""),
            Just("   "),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Object keys: mostly the config's own, some near misses, some noise.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "general", "SSO", "$schema", "produkt", "stage", "prefix", "s3_DOKUBUCKET",
            "WebhookUrlTeams", "DocuWebsite", "Region", "DocsPrefix", "TeamsCardFormat",
            "DriftSchedule", "ad_DomainName", "GroupFilters", "UserFilters",
            "SyncProfileName", "IdentityStoreId", "Mode", "OnDelete", "DeletionGuard",
            "Name", "Description", "MaxRemovals", "MaxRemovalPercent", "Mdoe", "sso",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

/// The seed fixture plus every optional SSO key, so mutations reach them all.
fn valid_config() -> Value {
    let mut config: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/config/valid/seed-only.json"
    ))
    .expect("the seed fixture is JSON");
    config["$schema"] = json!("./schema.json");
    config["SSO"]["UserFilters"] = json!([{ "Name": "jdoe", "Description": "Break glass" }]);
    config["SSO"]["Mode"] = json!("managed");
    config["SSO"]["DeletionGuard"] = json!({ "MaxRemovals": 10, "MaxRemovalPercent": 25 });
    config
}

/// Every path (as a list of keys or indices) of the leaves and inner nodes of `v`.
fn paths(v: &Value, prefix: Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let mut p = prefix.clone();
                p.push(PathStep::Key(k.clone()));
                paths(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(PathStep::Index(i));
                paths(child, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_mut<'a>(v: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            PathStep::Key(k) => cur.get_mut(k.as_str())?,
            PathStep::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// The valid config with one node replaced by arbitrary JSON (or removed).
fn mutated_config() -> impl Strategy<Value = Value> {
    let base = valid_config();
    let mut all = Vec::new();
    paths(&base, Vec::new(), &mut all);
    all.retain(|p| !p.is_empty());
    (
        prop::sample::select(all),
        prop::option::weighted(0.85, json_value()),
    )
        .prop_map(move |(path, replacement)| {
            let mut doc = base.clone();
            match replacement {
                Some(value) => {
                    if let Some(slot) = at_mut(&mut doc, &path) {
                        *slot = value;
                    }
                }
                None => {
                    let (last, parent) = path.split_last().unwrap();
                    if let (Some(parent), PathStep::Key(k)) = (at_mut(&mut doc, parent), last)
                        && let Some(m) = parent.as_object_mut()
                    {
                        m.remove(k);
                    }
                }
            }
            doc
        })
}

/// A filter name: sometimes valid, sometimes hostile or too long.
fn entry_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9 ._-]{0,30}",
        ".{0,20}",
        "[A-Za-z&'{}$%#!()@~^]{1,256}",
        Just("x".repeat(257)),
    ]
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(
        (
            any::<bool>(),
            entry_name(),
            prop_oneof![".{0,30}", "[^\\x00-\\x1f]{0,1024}"],
        )
            .prop_map(|(user, name, description)| Entry {
                kind: if user {
                    FilterKind::User
                } else {
                    FilterKind::Group
                },
                name,
                description,
                domain: None,
                pending: false,
                added_from: None,
                adopted_from: None,
                unlisted: false,
            }),
        0..60,
    )
}

/// Shard values: arbitrary text, JSON-ish text, and valid shards with one edit.
fn shard_texts() -> impl Strategy<Value = Vec<(String, String)>> {
    let one = prop_oneof![
        ".{0,80}",
        json_value().prop_map(|v| v.to_string()),
        (entries(), any::<prop::sample::Index>(), ".{0,3}").prop_map(|(list, at, insert)| {
            let shards = store::encode(&list);
            let mut text = shards[0].value.clone();
            let mut cut = at.index(text.len().max(1));
            while cut > 0 && !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.insert_str(cut, &insert);
            text
        }),
        (0u32..3, ".{0,70}", 0usize..1002, 0usize..1002).prop_map(|(v, hash, shard, of)| {
            json!({ "syncscope": v, "hash": hash, "shard": shard, "of": of, "entries": [] })
                .to_string()
        }),
    ];
    prop::collection::vec(one, 0..4).prop_map(|values| {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (store::shard_name("/fuzz/filters", i), v))
            .collect()
    })
}

fn property_maps() -> impl Strategy<Value = Map<String, Value>> {
    let good: Map<String, Value> = serde_json::from_str(include_str!(
        "../../../tests/fixtures/properties/valid.json"
    ))
    .unwrap();
    let any_key = prop_oneof![
        4 => prop::sample::select(PROPERTY_KEYS.to_vec()).prop_map(str::to_owned),
        1 => ".{0,10}",
    ];
    prop::collection::vec((any_key, prop::option::weighted(0.8, json_value())), 0..6).prop_map(
        move |edits| {
            let mut m = good.clone();
            for (k, v) in edits {
                match v {
                    Some(v) => m.insert(k, v),
                    None => m.remove(&k),
                };
            }
            m
        },
    )
}

// ---------------------------------------------------------------- checks

fn check_config_text(text: &str) -> Result<(), TestCaseError> {
    match config::parse(text) {
        Ok(parsed) => {
            // A config that parses can be stored and read back unchanged.
            let entries = store::entries_of(&parsed.config.desired());
            let back = store::decode("/p", &shard_pairs("/p", &entries)).unwrap();
            prop_assert_eq!(back.entries, entries);
        }
        Err(invalid) => {
            prop_assert!(invalid.errors().count() > 0, "Err without an error");
            for p in &invalid.problems {
                prop_assert!(!p.message.trim().is_empty(), "empty message at {}", p.path);
            }
        }
    }
    Ok(())
}

fn check_config_value(doc: &Value) -> Result<(), TestCaseError> {
    match config::from_value(doc) {
        Ok(parsed) => {
            prop_assert!(
                parsed
                    .warnings
                    .iter()
                    .all(|w| w.severity == Severity::Warning)
            );
        }
        Err(invalid) => {
            prop_assert!(invalid.errors().count() > 0);
            for p in invalid.errors() {
                // An object document: every error names the key it is about.
                if doc.is_object() {
                    prop_assert!(!p.path.is_empty(), "error without a path: {}", p.message);
                }
                prop_assert!(!p.message.trim().is_empty());
            }
        }
    }
    Ok(())
}

fn shard_pairs(base: &str, entries: &[Entry]) -> Vec<(String, String)> {
    store::encode(entries)
        .into_iter()
        .map(|s| (store::shard_name(base, s.index), s.value))
        .collect()
}

fn check_decode(params: &[(String, String)]) -> Result<(), TestCaseError> {
    let base = "/fuzz/filters";
    match store::decode(base, params) {
        Ok(stored) => {
            prop_assert_eq!(store::hash(&stored.entries), stored.hash);
        }
        Err(e) => {
            let text = e.to_string();
            prop_assert!(
                text.contains(base),
                "the error names neither the parameter nor the base: {}",
                text
            );
        }
    }
    Ok(())
}

fn check_properties(map: &Map<String, Value>) -> Result<(), TestCaseError> {
    match syncscope_core::properties::parse(map) {
        Ok(p) => {
            prop_assert!(p.filters_parameter.as_str().starts_with('/'));
            prop_assert!(p.guard().max_removal_percent <= 100);
        }
        Err(problems) => {
            prop_assert!(!problems.is_empty());
            for problem in &problems {
                prop_assert!(
                    PROPERTY_KEYS
                        .iter()
                        .any(|k| problem.starts_with(&format!("{k}: "))),
                    "problem does not name its property: {}",
                    problem
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- targets

proptest! {
    #![proptest_config(fuzz_config(1500))]

    #[test]
    fn config_text_never_panics(text in prop_oneof![
        ".{0,200}",
        json_value().prop_map(|v| v.to_string()),
        mutated_config().prop_map(|v| v.to_string()),
    ]) {
        check_config_text(&text)?;
    }

    #[test]
    fn config_bytes_cut_anywhere_never_panic(at in any::<prop::sample::Index>(), junk in ".{0,4}") {
        let text = valid_config().to_string();
        let mut cut = at.index(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        check_config_text(&text[..cut])?;
        check_config_text(&format!("{}{junk}{}", &text[..cut], &text[cut..]))?;
    }

    #[test]
    fn config_values_never_panic_and_errors_name_a_path(
        doc in prop_oneof![json_value(), mutated_config(), mutated_config()]
    ) {
        check_config_value(&doc)?;
    }

    #[test]
    fn shard_decoding_never_panics_and_errors_name_the_parameter(params in shard_texts()) {
        check_decode(&params)?;
    }

    #[test]
    fn properties_never_panic_and_every_problem_names_its_key(map in property_maps()) {
        check_properties(&map)?;
    }
}

proptest! {
    #![proptest_config(fuzz_config(300))]

    #[test]
    fn any_list_round_trips_through_shards_within_the_tier_limits(list in entries()) {
        let shards = store::encode(&list);
        for s in &shards {
            prop_assert_eq!(s.advanced, s.value.len() > store::STANDARD_LIMIT);
        }
        let back = store::decode("/p", &shard_pairs("/p", &list)).unwrap();
        prop_assert_eq!(&back.entries, &list);
        let packed: Vec<(String, String)> = store::encode_packed(&list)
            .into_iter()
            .map(|s| {
                assert!(!s.advanced && s.value.len() <= store::STANDARD_LIMIT);
                (store::shard_name("/p", s.index), s.value)
            })
            .collect();
        let unpacked = store::decode("/p", &packed).unwrap();
        prop_assert_eq!(&unpacked.entries, &list);
        prop_assert_eq!(&unpacked.hash, &back.hash);
        // Greedy and tight: a shard of several entries fits the Standard tier, and no
        // shard could have taken the next one's first entry (measured, like the
        // packing, with the widest "shard"/"of" the format allows).
        let docs: Vec<serde_json::Value> =
            shards.iter().map(|s| serde_json::from_str(&s.value).unwrap()).collect();
        for (doc, s) in docs.iter().zip(&shards) {
            prop_assert!(doc["entries"].as_array().unwrap().len() == 1 || !s.advanced);
        }
        for pair in docs.windows(2) {
            let mut fuller = pair[0].clone();
            fuller["shard"] = json!(store::MAX_SHARDS);
            fuller["of"] = json!(store::MAX_SHARDS);
            let next = pair[1]["entries"][0].clone();
            fuller["entries"].as_array_mut().unwrap().push(next);
            prop_assert!(fuller.to_string().len() > store::STANDARD_LIMIT);
        }
    }

    #[test]
    fn responses_always_fit_4096_bytes_and_stay_json(
        reason in prop_oneof![
            ".{0,100}",
            ".{3000,6000}",
            // Escaping makes these longer in JSON than the whole limit.
            "[\"\\\\\\x01-\\x08a]{2000,9000}",
        ],
        data in prop::collection::btree_map("[A-Za-z]{1,12}", ".{0,3000}", 0..5),
        request_id in "[a-f0-9-]{0,80}",
        failed in any::<bool>(),
    ) {
        let body = ResponseBody {
            status: if failed { Status::Failed } else { Status::Success },
            reason,
            physical_resource_id: cfn::failed_create_id(&request_id),
            stack_id: "arn:aws:cloudformation:eu-central-1:123456789012:stack/s/0f9c2a50".into(),
            request_id,
            logical_resource_id: "SyncScope".into(),
            no_echo: false,
            data: data.into_iter().collect::<BTreeMap<_, _>>(),
        };
        let json = cfn::render(body);
        prop_assert!(json.len() <= cfn::MAX_RESPONSE_BYTES, "{} bytes", json.len());
        let value: Value = serde_json::from_str(&json).unwrap();
        prop_assert!(!value["Reason"].as_str().unwrap().is_empty());
    }

    #[test]
    fn physical_ids_classify_and_a_managed_one_round_trips(
        id in "(syncscope:)?.{0,100}",
        request in ".{0,100}",
        region in "(eu|us|ap)-(central|west|east)-[1-3]",
        profile in "[A-Za-z0-9_.-]{1,60}",
    ) {
        // Whatever arrives: a managed id is exactly the one its key writes.
        match cfn::classify_id(&id) {
            IdKind::Managed(key) => prop_assert_eq!(cfn::physical_id(&key), id),
            IdKind::FailedCreate => prop_assert!(id.starts_with("syncscope:failed-create:")),
            IdKind::Foreign => prop_assert!(!id.starts_with("syncscope:failed-create:")),
        }
        prop_assert_eq!(cfn::classify_id(&cfn::failed_create_id(&request)), IdKind::FailedCreate);
        let key = ProfileKey::parse(&region, &profile).unwrap();
        prop_assert_eq!(cfn::classify_id(&cfn::physical_id(&key)), IdKind::Managed(key));
    }
}

// ---------------------------------------------------------------- the kept corpus

#[test]
fn the_config_corpus_replays_without_panics() {
    for (path, text) in corpus("config") {
        check_config_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            check_config_value(&value).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    // The invalid fixtures of the config tests are part of the corpus too.
    let invalid = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/config/invalid");
    let mut n = 0;
    for entry in std::fs::read_dir(invalid).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            check_config_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 30, "{n} invalid fixtures");
}

#[test]
fn the_shard_corpus_replays_and_names_the_parameter() {
    for (path, text) in corpus("shards") {
        let params = vec![(store::shard_name("/fuzz/filters", 0), text)];
        check_decode(&params).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn the_properties_corpus_replays_and_names_the_key() {
    for (path, text) in corpus("properties") {
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        let map = value.as_object().cloned().unwrap_or_default();
        check_properties(&map).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
