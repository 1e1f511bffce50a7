//! Hardening: a catalogue of bad input (SSM contents, resource properties, raw
//! events), faults of every backend, overlapping deliveries, secrets planted as
//! canaries, hostile names and the size limits, all through the real Lambda binary.

use std::time::Duration;

use identity_sync_emulator::{Credentials, Knobs, Operation, Options, Seed};
use serde_json::{Map, Value, json};
use syncscope_core::scope::FilterKind;
use syncscope_core::store::{self, Entry};
use syncscope_harness::lambda::LambdaProcess;
use syncscope_harness::runtime_api::Ended;
use syncscope_harness::sink::{Reply, Sink};

use crate::helpers::*;

/// A secret access key planted in the Lambda's environment.
const SECRET_KEY_CANARY: &str = "CANARYsecretKEY/abcdefghij0123456789xyz";
/// A session token planted in the Lambda's environment.
const SESSION_TOKEN_CANARY: &str = "CANARYsessionTOKEN0123456789abcdef";
/// The access key id that goes with them.
const ACCESS_KEY_ID: &str = "AKIACANARY0123456789";

fn entry(name: &str, description: &str) -> Entry {
    Entry {
        kind: FilterKind::Group,
        name: name.to_owned(),
        description: description.to_owned(),
        domain: None,
        pending: false,
        added_from: None,
        adopted_from: None,
        unlisted: false,
    }
}

fn entries(prefix: &str, n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| entry(&format!("{prefix}-{i:04}"), "a team"))
        .collect()
}

/// Writes one String parameter as it is (no format check).
fn put_raw(world: &World, name: &str, value: &str) {
    world
        .rt
        .block_on(
            world
                .ssm
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .tier(aws_sdk_ssm::types::ParameterTier::Advanced)
                .overwrite(true)
                .send(),
        )
        .unwrap_or_else(|e| panic!("put {name}: {e:?}"));
}

fn delete_raw(world: &World, name: &str) {
    world
        .rt
        .block_on(world.ssm.delete_parameter().name(name).send())
        .unwrap_or_else(|e| panic!("delete {name}: {e:?}"));
}

fn write_list(world: &World, base: &str, list: &[Entry]) -> usize {
    let shards = store::encode(list);
    for s in &shards {
        put_raw(world, &store::shard_name(base, s.index), &s.value);
    }
    shards.len()
}

fn ledger_entries(world: &World) -> Vec<String> {
    let ledger = world.ledger();
    let mut names: Vec<String> = ledger
        .ledger
        .entries
        .iter()
        .map(|e| format!("{} {}", e.kind, e.name))
        .collect();
    names.sort();
    names
}

/// An excerpt around `needle` with every canary replaced: safe to print.
fn redacted_excerpt(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(60)
        .map_or(0, |(i, _)| i);
    let excerpt: String = text[start..].chars().take(160).collect();
    let mut out = excerpt;
    for canary in [
        SECRET_KEY_CANARY,
        SESSION_TOKEN_CANARY,
        RESPONSE_URL_CANARY,
        WEBHOOK_CANARY,
    ] {
        out = out.replace(canary, "<CANARY>");
    }
    out
}

// ------------------------------------------------------------ the bad-input catalogue

enum Expect {
    /// One FAILED response whose Reason holds every fragment.
    Failed(Vec<String>),
    /// One FAILED response keeping this physical id.
    FailedKeepingId(Vec<String>, String),
    /// Nothing to answer: no PUT, and the handler returns normally.
    Unanswered,
}

struct Case {
    name: &'static str,
    event: Value,
    expect: Expect,
}

fn failed(fragments: &[&str]) -> Expect {
    Expect::Failed(fragments.iter().map(|s| (*s).to_owned()).collect())
}

fn create_with(world: &World, props: &Map<String, Value>) -> Value {
    world.event("Create", props, None, None)
}

fn edited(props: &Map<String, Value>, key: &str, value: Option<Value>) -> Map<String, Value> {
    let mut p = props.clone();
    match value {
        Some(v) => p.insert(key.to_owned(), v),
        None => p.remove(key),
    };
    p
}

/// SSM contents: corrupt shards, missing shards, mixed versions, hash mismatches,
/// invalid entries, and corrupt ledgers.
fn ssm_cases(world: &World, props: &Map<String, Value>) -> Vec<Case> {
    let root = format!("/syncscope-test/{}/cases", world.ns);
    let mut cases = Vec::new();
    // Points the properties at `base` (no deployed hash: the content itself is bad).
    let at = |base: &str| {
        let mut p = edited(props, "FiltersParameter", Some(json!(base)));
        p.remove("FiltersHash");
        p
    };
    let mut add = |name: &'static str, base: &str, expect: Expect| {
        cases.push(Case {
            name,
            event: create_with(world, &at(base)),
            expect,
        });
    };

    let p = format!("{root}/not-json");
    put_raw(world, &format!("{p}/000"), "{not json");
    add(
        "ssm: a shard that is not JSON",
        &p,
        failed(&[
            "could not read the filters",
            &format!("parameter {p}/000: not a syncscope shard: line 1, column 2"),
        ]),
    );

    let p = format!("{root}/truncated");
    let value = store::encode(&entries("T", 3))[0].value.clone();
    put_raw(world, &format!("{p}/000"), &value[..value.len() / 2]);
    add(
        "ssm: a shard cut in half",
        &p,
        failed(&[&format!("parameter {p}/000: not a syncscope shard: line 1")]),
    );

    let p = format!("{root}/future");
    put_raw(
        world,
        &format!("{p}/000"),
        &json!({"syncscope": 9, "hash": "x", "shard": 0, "of": 1, "entries": []}).to_string(),
    );
    add(
        "ssm: a shard of an unknown format version",
        &p,
        failed(&[&format!(
            "parameter {p}/000: format version 9 is not supported (expected 1 or 2; was it written by a newer syncscope?)"
        )]),
    );

    let p = format!("{root}/out-of-range");
    put_raw(
        world,
        &format!("{p}/000"),
        &json!({"syncscope": 1, "hash": "x", "shard": 5, "of": 2, "entries": []}).to_string(),
    );
    add(
        "ssm: a shard index out of range",
        &p,
        failed(&[&format!("parameter {p}/000: shard 5 of 2 is out of range")]),
    );

    let p = format!("{root}/too-many-shards");
    put_raw(
        world,
        &format!("{p}/000"),
        &json!({"syncscope": 1, "hash": "x", "shard": 0, "of": 1001, "entries": []}).to_string(),
    );
    add(
        "ssm: a shard count over the limit",
        &p,
        failed(&[&format!(
            "parameter {p}/000: shard 0 of 1001 is out of range"
        )]),
    );

    let p = format!("{root}/missing-shard");
    let n = write_list(world, &p, &entries("Missing", 150));
    assert!(n >= 3, "{n} shards");
    delete_raw(world, &format!("{p}/001"));
    add(
        "ssm: a missing shard",
        &p,
        failed(&[&format!(
            "shard 1 of {n} is missing under {p} (expected parameter {p}/001)"
        )]),
    );

    let p = format!("{root}/mixed");
    let a = store::encode(&entries("Mixed", 150));
    let b = store::encode(&entries("Other", 150));
    assert_eq!(a.len(), b.len());
    write_list(world, &p, &entries("Mixed", 150));
    put_raw(world, &format!("{p}/001"), &b[1].value);
    add(
        "ssm: shards of two versions mixed",
        &p,
        failed(&[&format!(
            "parameters under {p} belong to different versions of the list"
        )]),
    );

    let p = format!("{root}/edited");
    let value = store::encode(&entries("Edited", 3))[0]
        .value
        .replace("Edited-0001", "Edited-9999");
    put_raw(world, &format!("{p}/000"), &value);
    add(
        "ssm: a shard edited by hand",
        &p,
        failed(&[&format!("the list under {p} does not match its hash")]),
    );

    let p = format!("{root}/unknown-field");
    put_raw(
        world,
        &format!("{p}/000"),
        &json!({"syncscope": 1, "hash": "x", "shard": 0, "of": 1,
                "entries": [{"Type": "GROUP", "Name": "A", "Colour": "red"}]})
        .to_string(),
    );
    add(
        "ssm: an entry with an unknown field",
        &p,
        failed(&[
            &format!("parameter {p}/000: not a syncscope shard"),
            "unknown field `Colour`",
        ]),
    );

    let p = format!("{root}/unknown-type");
    put_raw(
        world,
        &format!("{p}/000"),
        &json!({"syncscope": 1, "hash": "x", "shard": 0, "of": 1,
                "entries": [{"Type": "ROBOT", "Name": "A"}]})
        .to_string(),
    );
    add(
        "ssm: an entry of an unknown type",
        &p,
        failed(&[
            &format!("parameter {p}/000: not a syncscope shard"),
            "ROBOT",
        ]),
    );

    let p = format!("{root}/bad-name");
    write_list(world, &p, &[entry("Good", "x"), entry("bad<name", "x")]);
    add(
        "ssm: a forbidden character in a stored name",
        &p,
        failed(&[&format!(
            "invalid filters under {p}: entry 1 (GROUP \"bad<name\"): name"
        )]),
    );

    let p = format!("{root}/duplicate");
    write_list(world, &p, &[entry("A-Team", "x"), entry("a-team", "y")]);
    add(
        "ssm: two stored names differing only in case",
        &p,
        failed(&[
            "entry 1 (GROUP \"a-team\"): duplicates entry 0 (names compare case-insensitively)",
        ]),
    );

    let p = format!("{root}/long-description");
    write_list(world, &p, &[entry("Long", &"d".repeat(1025))]);
    add(
        "ssm: a stored description over 1,024 characters",
        &p,
        failed(&["entry 0 (GROUP \"Long\"): description"]),
    );

    let p = format!("{root}/nothing-here");
    add(
        "ssm: no parameter and no shards",
        &p,
        failed(&[&format!(
            "no filters found in SSM: neither a parameter {p} nor shards under {p}/ exist"
        )]),
    );

    let p = format!("{root}/single-garbage");
    put_raw(world, &p, "[1, 2, 3]");
    add(
        "ssm: a single parameter holding something else",
        &p,
        failed(&[&format!("parameter {p}: not a syncscope shard")]),
    );

    cases.push(Case {
        name: "ssm: filters that are not the deployed version",
        event: create_with(
            world,
            &edited(props, "FiltersHash", Some(json!("0".repeat(64)))),
        ),
        expect: failed(&[
            "are not the ones this deployment wrote (hash 0000000000000000); deploy again",
        ]),
    });

    // Ledgers: the filters are fine, the ledger is not.
    let mut ledger_case =
        |name: &'static str, setup: &dyn Fn(&str), fragments: &dyn Fn(&str) -> Vec<String>| {
            let l = format!("{root}/ledger-{}", cases.len());
            setup(&l);
            cases.push(Case {
                name,
                event: create_with(world, &edited(props, "LedgerParameter", Some(json!(l)))),
                expect: Expect::Failed(fragments(&l)),
            });
        };
    ledger_case(
        "ledger: a head that is not JSON",
        &|l| put_raw(world, &format!("{l}/head"), "garbage"),
        &|l| {
            vec![format!(
                "could not read the ledger of managed filters: ledger head {l}/head is not valid"
            )]
        },
    );
    let ab = "ab".repeat(32);
    ledger_case(
        "ledger: a head naming a version that is not there",
        &|l| {
            put_raw(
                world,
                &format!("{l}/head"),
                &json!({"syncscope": 1, "hash": ab, "of": 1}).to_string(),
            )
        },
        &|l| {
            vec![format!(
                "shard 0 of 1 is missing under {l}/abababababababab"
            )]
        },
    );
    let cd = "cd".repeat(32);
    ledger_case(
        "ledger: a head and shards of different versions",
        &|l| {
            put_raw(
                world,
                &format!("{l}/head"),
                &json!({"syncscope": 1, "hash": cd, "of": 1}).to_string(),
            );
            write_list(world, &format!("{l}/cdcdcdcdcdcdcdcd"), &entries("L", 2));
        },
        &|l| {
            vec![format!(
                "ledger head {l}/head is not valid: it names version {cd} but the shards hold"
            )]
        },
    );
    let ef = "ef".repeat(32);
    ledger_case(
        "ledger: a corrupt ledger shard",
        &|l| {
            put_raw(
                world,
                &format!("{l}/head"),
                &json!({"syncscope": 1, "hash": ef, "of": 1}).to_string(),
            );
            put_raw(world, &format!("{l}/efefefefefefefef/000"), "{}");
        },
        &|l| {
            vec![format!(
                "parameter {l}/efefefefefefefef/000: not a syncscope shard"
            )]
        },
    );
    cases
}

/// Resource properties: missing, wrongly typed, and invalid values.
fn property_cases(world: &World, props: &Map<String, Value>) -> Vec<Case> {
    let table: Vec<(&'static str, &str, Option<Value>, &str)> = vec![
        (
            "properties: no FiltersParameter",
            "FiltersParameter",
            None,
            "FiltersParameter: required property is missing",
        ),
        (
            "properties: a FiltersParameter without a leading slash",
            "FiltersParameter",
            Some(json!("syncscope/filters")),
            "FiltersParameter: the parameter name must start with \"/\"",
        ),
        (
            "properties: a FiltersParameter that is a list",
            "FiltersParameter",
            Some(json!(["/a", "/b"])),
            "FiltersParameter: expected a string, found a list",
        ),
        (
            "properties: a reserved FiltersParameter",
            "FiltersParameter",
            Some(json!("/aws/reference/x")),
            "FiltersParameter: names beginning with /aws or /ssm are reserved",
        ),
        (
            "properties: an empty LedgerParameter",
            "LedgerParameter",
            Some(json!("  ")),
            "LedgerParameter: must not be empty",
        ),
        (
            "properties: a LedgerParameter that is an object",
            "LedgerParameter",
            Some(json!({"Ref": "Ledger"})),
            "LedgerParameter: expected a string, found an object",
        ),
        (
            "properties: a FiltersHash that is not hex",
            "FiltersHash",
            Some(json!("xyz")),
            "FiltersHash: \"xyz\" is not a SHA-256 in hex",
        ),
        (
            "properties: an unknown Mode",
            "Mode",
            Some(json!("sometimes")),
            "Mode: \"sometimes\" is not allowed: use \"managed\" or \"authoritative\"",
        ),
        (
            "properties: an unknown OnDelete",
            "OnDelete",
            Some(json!("destroy")),
            "OnDelete: \"destroy\" is not allowed: use \"retain\" or \"remove\"",
        ),
        (
            "properties: a negative MaxRemovals",
            "MaxRemovals",
            Some(json!("-1")),
            "MaxRemovals: \"-1\" is not a whole number",
        ),
        (
            "properties: a MaxRemovalPercent over 100",
            "MaxRemovalPercent",
            Some(json!("101")),
            "MaxRemovalPercent: \"101\" is not a whole number from 0 to 100",
        ),
        (
            "properties: a DryRun that is not a boolean",
            "DryRun",
            Some(json!("yes")),
            "DryRun: \"yes\" is not allowed: use \"true\" or \"false\"",
        ),
        (
            "properties: an invalid DocsBucket",
            "DocsBucket",
            Some(json!("Bad_Bucket")),
            "DocsBucket: ",
        ),
        (
            "properties: a plain-http TeamsWebhook",
            "TeamsWebhook",
            Some(json!("http://hooks.example.com/x")),
            "TeamsWebhook: ",
        ),
        (
            "properties: an unknown TeamsCardFormat",
            "TeamsCardFormat",
            Some(json!("Fancy")),
            "TeamsCardFormat: \"Fancy\" is not allowed",
        ),
        (
            "properties: an invalid Region",
            "Region",
            Some(json!("mars central")),
            "Region: ",
        ),
        (
            "properties: an AdDomainName that is not a domain",
            "AdDomainName",
            Some(json!("not a domain")),
            "AdDomainName: ",
        ),
        (
            "properties: an invalid IdentityStoreId",
            "IdentityStoreId",
            Some(json!("store-1")),
            "IdentityStoreId: ",
        ),
        (
            "properties: an invalid SyncProfileName",
            "SyncProfileName",
            Some(json!("a/b c")),
            "SyncProfileName: ",
        ),
        (
            "properties: a DocsWebsite that is not https",
            "DocsWebsite",
            Some(json!("javascript:alert(1)")),
            "DocsWebsite: ",
        ),
        (
            "properties: no Stage",
            "Stage",
            None,
            "Stage: required property is missing",
        ),
    ];
    let mut cases: Vec<Case> = table
        .into_iter()
        .map(|(name, key, value, fragment)| Case {
            name,
            event: create_with(world, &edited(props, key, value)),
            expect: failed(&["invalid resource properties: ", fragment]),
        })
        .collect();
    let id = "syncscope:eu-central-1:SynchronizationToActiveDirectoryAwsSso".to_owned();
    cases.push(Case {
        name: "properties: an Update with a bad Mode keeps its id",
        event: world.event(
            "Update",
            &edited(props, "Mode", Some(json!("all"))),
            Some(props),
            Some(&id),
        ),
        expect: Expect::FailedKeepingId(vec!["Mode: \"all\" is not allowed".into()], id),
    });
    cases
}

/// Raw events: what CloudFormation would never send, and what is not for us at all.
fn event_cases(world: &World, props: &Map<String, Value>) -> Vec<Case> {
    let base = create_with(world, props);
    let with = |key: &str, value: Option<Value>| {
        let mut e = base.clone();
        let o = e.as_object_mut().unwrap();
        match value {
            Some(v) => o.insert(key.to_owned(), v),
            None => o.remove(key),
        };
        // A fresh request id per case, in the URL too.
        let id = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            fastrand::u32(..),
            fastrand::u64(..) & 0xffff_ffff_ffff
        );
        if let Some(url) = e.get("ResponseURL").and_then(Value::as_str) {
            let old = base["RequestId"].as_str().unwrap();
            e["ResponseURL"] = json!(url.replace(old, &id));
        }
        if e.get("RequestId").is_some_and(Value::is_string) {
            e["RequestId"] = json!(id);
        }
        e
    };
    let malformed = "malformed CloudFormation event";
    let update = |drop: &str| {
        let mut e = world.event(
            "Update",
            props,
            Some(props),
            Some("syncscope:eu-central-1:P"),
        );
        e.as_object_mut().unwrap().remove(drop);
        e
    };
    vec![
        Case {
            name: "event: an unknown RequestType",
            event: with("RequestType", Some(json!("Upgrade"))),
            expect: failed(&[malformed, "RequestType must be Create, Update or Delete"]),
        },
        Case {
            name: "event: no RequestType",
            event: with("RequestType", None),
            expect: failed(&[malformed]),
        },
        Case {
            name: "event: a RequestType that is a number",
            event: with("RequestType", Some(json!(1))),
            expect: failed(&[malformed]),
        },
        Case {
            name: "event: no ResourceProperties",
            event: with("ResourceProperties", None),
            expect: failed(&[malformed, "ResourceProperties"]),
        },
        Case {
            name: "event: ResourceProperties that are a list",
            event: with("ResourceProperties", Some(json!(["FiltersParameter"]))),
            expect: failed(&[
                "invalid resource properties: ",
                "FiltersParameter: required property is missing",
            ]),
        },
        Case {
            name: "event: no StackId",
            event: with("StackId", None),
            expect: failed(&[malformed, "StackId"]),
        },
        Case {
            name: "event: a LogicalResourceId that is an object",
            event: with("LogicalResourceId", Some(json!({"x": 1}))),
            expect: failed(&[malformed]),
        },
        Case {
            name: "event: an Update without PhysicalResourceId",
            event: update("PhysicalResourceId"),
            expect: failed(&[malformed, "PhysicalResourceId"]),
        },
        Case {
            name: "event: an Update without OldResourceProperties",
            event: update("OldResourceProperties"),
            expect: Expect::FailedKeepingId(
                vec![malformed.into(), "OldResourceProperties".into()],
                "syncscope:eu-central-1:P".into(),
            ),
        },
        Case {
            name: "event: no ResponseURL",
            event: with("ResponseURL", None),
            expect: Expect::Unanswered,
        },
        Case {
            name: "event: a ResponseURL that is a number",
            event: with("ResponseURL", Some(json!(443))),
            expect: Expect::Unanswered,
        },
        Case {
            name: "event: a JSON array",
            event: json!([base.clone()]),
            expect: Expect::Unanswered,
        },
        Case {
            name: "event: a JSON string",
            event: json!("Create"),
            expect: Expect::Unanswered,
        },
        Case {
            name: "event: null",
            event: Value::Null,
            expect: Expect::Unanswered,
        },
    ]
}

#[test]
fn every_bad_input_in_the_catalogue_fails_with_a_reason_naming_it_and_changes_nothing() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Console-Added".into())],
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Dev"]));
    let mut cases = ssm_cases(&world, &props);
    cases.extend(property_cases(&world, &props));
    cases.extend(event_cases(&world, &props));
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut wrong = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        let before = world.cfn.requests().len();
        let delivered = world.send(&case.event, Duration::from_secs(20));
        let after = world.cfn.requests().len();
        let problem = match &case.expect {
            Expect::Unanswered => {
                if after != before {
                    Some(format!("{} response(s) PUT", after - before))
                } else if !delivered.returned_ok() {
                    Some(format!(
                        "the handler ended {:?}",
                        delivered.invocation.ended
                    ))
                } else {
                    None
                }
            }
            Expect::Failed(fragments) | Expect::FailedKeepingId(fragments, _) => {
                if delivered.responses.len() != 1 || !delivered.returned_ok() {
                    Some(format!(
                        "{} response(s), ended {:?}",
                        delivered.responses.len(),
                        delivered.invocation.ended
                    ))
                } else {
                    let body = delivered.responses[0].json();
                    let reason = reason(&body);
                    let id = body["PhysicalResourceId"].as_str().unwrap_or_default();
                    let id_ok = match &case.expect {
                        Expect::FailedKeepingId(_, want) => id == want,
                        _ => id.starts_with("syncscope:failed-create:"),
                    };
                    let missing: Vec<&String> = fragments
                        .iter()
                        .filter(|f| !reason.contains(f.as_str()))
                        .collect();
                    if body["Status"] != "FAILED" || !missing.is_empty() || !id_ok {
                        Some(format!(
                            "status {}, id {id}, missing {missing:?} in reason: {reason}",
                            body["Status"]
                        ))
                    } else {
                        None
                    }
                }
            }
        };
        if let Some(problem) = problem {
            wrong.push(format!("{}: {problem}", case.name));
        }
        if world.write_calls() != 0 {
            wrong.push(format!("{}: wrote to the scope", case.name));
            break;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert_eq!(world.write_calls(), 0);
    assert_eq!(
        world.scope(),
        groups(&["Console-Added"]),
        "the scope is untouched"
    );
    assert!(ledger_entries(&world).is_empty(), "no ledger was written");
    assert!(
        world.lambda.as_ref().is_some(),
        "the Lambda process is still there"
    );
}

// ------------------------------------------------------------ raw-event fuzzing

/// A small random JSON value.
fn random_value(rng: &mut fastrand::Rng, depth: u32) -> Value {
    match rng.u8(..if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!(rng.f64() * 1e6),
        4 => {
            let pool = [
                "",
                " ",
                "Create",
                "Update",
                "Delete",
                "syncscope:eu-central-1:X",
                "syncscope:failed-create:x",
                "/syncscope/x",
                "ü€😀",
                "<script>",
                "\u{0}",
            ];
            json!(pool[rng.usize(..pool.len())])
        }
        5 => Value::Array(
            (0..rng.usize(..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.usize(..4))
                .map(|i| (format!("k{i}"), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

#[test]
fn hundreds_of_random_malformed_events_each_get_at_most_one_answer_and_the_process_survives() {
    let mut world = World::start();
    // The filters cannot be read, so no event, however mangled, can change the scope.
    let mut props = world.deploy(&config(&["AWS-Admins"]));
    props.insert(
        "FiltersParameter".into(),
        json!(format!("/syncscope-test/{}/none", world.ns)),
    );
    props.remove("FiltersHash");
    props.remove("TeamsWebhook");
    props.remove("DocsBucket");
    props.insert("OnDelete".into(), json!("remove"));
    let keys = [
        "RequestType",
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "ResourceType",
        "ResourceProperties",
        "OldResourceProperties",
        "PhysicalResourceId",
        "ServiceToken",
    ];
    let mut rng = fastrand::Rng::with_seed(0x5eed_0008);
    let total = 250;
    let mut answered_with_url = 0;
    for i in 0..total {
        let kind = ["Create", "Update", "Delete"][rng.usize(..3)];
        let mut event = world.event(
            kind,
            &props,
            Some(&props),
            Some("syncscope:eu-central-1:SynchronizationToActiveDirectoryAwsSso"),
        );
        let url = world
            .cfn
            .url(&format!("/fuzz/{i}/?X-Amz-Signature={RESPONSE_URL_CANARY}"));
        event["ResponseURL"] = json!(url);
        if rng.u8(..10) == 0 {
            event = random_value(&mut rng, 0);
        } else {
            for _ in 0..=rng.usize(..3) {
                let key = keys[rng.usize(..keys.len())];
                let o = event.as_object_mut().unwrap();
                match rng.u8(..4) {
                    0 => {
                        o.remove(key);
                    }
                    1 if key == "ResourceProperties" => {
                        let mut p = props.clone();
                        let k = p.keys().nth(rng.usize(..p.len())).unwrap().clone();
                        p.insert(k, random_value(&mut rng, 1));
                        o.insert(key.into(), json!(p));
                    }
                    // A ResponseURL stays a URL on the sink or is not a string at all.
                    _ if key == "ResponseURL" => {
                        o.insert(key.into(), json!(rng.i64(..)));
                    }
                    _ => {
                        o.insert(key.into(), random_value(&mut rng, 1));
                    }
                }
            }
        }
        let has_url = event.get("ResponseURL").and_then(Value::as_str) == Some(url.as_str());
        let invocation =
            world
                .runtime
                .invoke(event, Duration::from_secs(10), Duration::from_secs(5));
        assert!(
            matches!(invocation.ended, Ended::Response(_)),
            "event {i}: the handler ended {:?}",
            invocation.ended
        );
        let prefix = format!("/fuzz/{i}/?");
        let puts: Vec<_> = world
            .cfn
            .requests()
            .into_iter()
            .filter(|r| r.uri.starts_with(&prefix))
            .collect();
        if has_url {
            assert_eq!(puts.len(), 1, "event {i}: exactly one answer");
            let body = puts[0].json();
            assert!(
                body["Status"] == "FAILED" || body["Status"] == "SUCCESS",
                "event {i}: {body}"
            );
            assert!(!reason(&body).is_empty(), "event {i}");
            assert!(
                body["PhysicalResourceId"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "event {i}: {body}"
            );
            answered_with_url += 1;
        } else {
            assert!(puts.is_empty(), "event {i}: answered without a ResponseURL");
        }
    }
    assert!(
        answered_with_url > total / 2,
        "{answered_with_url} answered"
    );
    assert!(
        world.lambda.as_mut().unwrap().is_running(),
        "the Lambda process survived"
    );
    assert_eq!(world.write_calls(), 0);
    let logs = world.lambda_logs().join("\n");
    assert!(
        !logs.contains(RESPONSE_URL_CANARY),
        "the ResponseURL leaked: {}",
        redacted_excerpt(&logs, RESPONSE_URL_CANARY)
    );
}

// ------------------------------------------------------------ the fault matrix

#[test]
fn throttling_bursts_are_retried_and_the_scope_converges() {
    let world = World::with(WorldOptions {
        knobs: Knobs {
            concurrency_limit: Some(2),
            latency_ms: 20,
            ..Default::default()
        },
        ..Default::default()
    });
    let names: Vec<String> = (0..60).map(|i| format!("Burst-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_, _) = create(&world, &config(&refs));
    assert_eq!(
        world.scope(),
        groups(&refs),
        "nothing lost, nothing duplicated"
    );
    assert!(
        world
            .state()
            .counters_of(Operation::CreateSyncFilter)
            .throttled
            > 0,
        "the emulator throttled"
    );
    assert_eq!(ledger_entries(&world).len(), 60);
}

#[test]
fn a_thousand_filters_with_20_percent_transient_faults_converge_exactly() {
    let world = World::with(WorldOptions {
        knobs: Knobs {
            fault_rate: 0.2,
            fault_after_rate: 0.05,
            fault_seed: Some(1000),
            ..Default::default()
        },
        ..Default::default()
    });
    let names: Vec<String> = (0..1000).map(|i| format!("Grp-{i:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    let mut delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(90),
    );
    // A fault budget exhausted on some filters is a partial failure; the next
    // delivery converges. Both are allowed; a loss or a duplicate is not.
    if delivered.response()["Status"] == "FAILED" {
        let r = reason(&delivered.response());
        assert!(r.contains("failed"), "{r}");
        delivered = world.send(
            &world.event("Create", &props, None, None),
            Duration::from_secs(90),
        );
    }
    expect_status(&delivered, "SUCCESS");
    let scope = world.scope();
    assert_eq!(scope, groups(&refs), "nothing lost, nothing duplicated");
    assert_eq!(
        ledger_entries(&world),
        groups(&refs),
        "the ledger holds each filter once"
    );
    let counters = world.state().counters_of(Operation::CreateSyncFilter);
    assert!(counters.faults > 100, "{counters:?}");
}

#[test]
fn persistent_backend_faults_fail_closed_and_a_later_run_converges() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Console-Added".into())],
        knobs: Knobs {
            fault_rate: 1.0,
            ..Default::default()
        },
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Dev"]));
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    assert!(
        reason(&body).contains("could not list the current sync scope"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0, "fail closed: nothing written");
    let cards = world.teams.requests();
    assert_eq!(cards.len(), 1);
    let card = String::from_utf8_lossy(&cards[0].body).into_owned();
    assert!(
        card.contains("sync failed") && card.contains("could not list the current sync scope"),
        "{card}"
    );
    assert!(ledger_entries(&world).is_empty());

    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fault_rate": 0.0 }))
        .unwrap();
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(
        world.scope(),
        groups(&["AWS-Admins", "AWS-Dev", "Console-Added"])
    );
    assert_eq!(ledger_entries(&world), groups(&["AWS-Admins", "AWS-Dev"]));
}

/// Starts a world whose Lambda sends one AWS service to `endpoint`.
fn world_with_endpoint(var: &str, endpoint: &str) -> World {
    World::with(WorldOptions {
        lambda_env: vec![(var.to_owned(), endpoint.to_owned())],
        ..Default::default()
    })
}

#[test]
fn s3_answering_5xx_is_a_warning_on_the_response_and_the_card_and_the_scope_is_applied() {
    let s3 = Sink::start(503).unwrap();
    let world = world_with_endpoint("AWS_ENDPOINT_URL_S3", &s3.url(""));
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let w = warnings(&body);
    assert!(w.contains("documentation not published"), "{body:#}");
    assert!(!s3.requests().is_empty(), "the Lambda did call S3");
    // The page is streamed from its scratch file: each retry of the 503 sent it whole
    // again, and the live and the dated copy got the same bytes.
    let pages: Vec<_> = s3
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.uri.contains("/index.html"))
        .collect();
    assert!(
        pages.len() >= 4,
        "{} page puts: 2 keys, retried",
        pages.len()
    );
    let page = aws_chunked_payload(&pages[0].body);
    assert!(
        page.starts_with(b"<!DOCTYPE html>"),
        "{}",
        String::from_utf8_lossy(&page)
    );
    for r in &pages {
        assert_eq!(
            aws_chunked_payload(&r.body),
            page,
            "every attempt carried the same page ({})",
            r.uri
        );
    }
    let cards = world.teams.requests();
    assert_eq!(cards.len(), 1);
    assert!(String::from_utf8_lossy(&cards[0].body).contains("documentation not published"));
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}

/// The payload of an `aws-chunked` body (each chunk `<hex size>[;chunk-signature=…]`,
/// CRLF, the bytes, CRLF, up to the empty chunk and the trailer).
fn aws_chunked_payload(body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk header ends with CRLF");
        let header = std::str::from_utf8(&rest[..line_end]).expect("an ASCII chunk header");
        let hex = header.split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(hex, 16).expect("a hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return payload;
        }
        payload.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[test]
fn identity_store_errors_and_a_stopped_identity_store_are_warnings_and_the_docs_still_publish() {
    let failing = Sink::start(500).unwrap();
    let stopped = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for (label, endpoint) in [("HTTP 500", failing.url("")), ("stopped server", stopped)] {
        let world = World::with(WorldOptions {
            lambda_env: vec![
                ("AWS_ENDPOINT_URL_IDENTITYSTORE".into(), endpoint.clone()),
                ("AWS_ENDPOINT_URL_SSO_ADMIN".into(), endpoint.clone()),
            ],
            ..Default::default()
        });
        let props = world.deploy(&config(&["AWS-Admins"]));
        let body = expect_status(
            &world.send(&world.event("Create", &props, None, None), TIMEOUT),
            "SUCCESS",
        );
        let w = warnings(&body);
        assert!(
            w.contains("documentation:") && w.contains("identity store"),
            "{label}: {body:#}"
        );
        assert!(!w.contains("documentation not published"), "{label}: {w}");
        let bucket = props["DocsBucket"].as_str().unwrap();
        let page = world.rt.block_on(
            world
                .s3
                .get_object()
                .bucket(bucket)
                .key("sso/TEST/index.html")
                .send(),
        );
        assert!(page.is_ok(), "{label}: the docs were published");
        let cards = world.teams.requests();
        assert_eq!(cards.len(), 1, "{label}");
        assert!(
            String::from_utf8_lossy(&cards[0].body).contains("identity store"),
            "{label}"
        );
        assert_eq!(world.scope(), groups(&["AWS-Admins"]), "{label}");
    }
    assert!(
        !failing.requests().is_empty(),
        "the failing identity store was called"
    );
}

#[test]
fn teams_hanging_past_the_deadline_still_answers_success_once_with_a_warning() {
    let world = World::start();
    world
        .teams
        .script([Reply::status(202).delayed(Duration::from_secs(60))]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(12),
    );
    let body = expect_status(&delivered, "SUCCESS");
    assert!(warnings(&body).contains("Teams card not"), "{body:#}");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(world.cfn.requests().len(), 1, "exactly one response");
}

#[test]
fn a_response_url_failing_every_time_gives_up_and_the_scope_is_still_applied() {
    let world = World::start();
    world
        .cfn
        .script((0..6).map(|_| Reply::status(502)).collect::<Vec<_>>());
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(
        delivered.responses.len(),
        6,
        "six attempts, then it gives up"
    );
    assert_eq!(
        delivered.invocation.ended,
        Ended::Response(json!({"Status": "SUCCESS", "Delivered": false}))
    );
    assert!(
        world
            .lambda_logs()
            .iter()
            .any(|l| l.contains("could not deliver the CloudFormation response")),
        "the give-up is logged"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
    // CloudFormation times out and the stack rolls back or retries: a redelivery
    // converges with no new writes.
    let writes = world.write_calls();
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.write_calls(), writes);
}

#[test]
fn a_response_url_that_hangs_is_abandoned_after_ten_seconds_and_the_response_sent_again() {
    let world = World::start();
    world
        .cfn
        .script([Reply::status(200).delayed(Duration::from_secs(60))]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(delivered.responses.len(), 2, "the hung PUT, then the retry");
    assert_eq!(
        delivered.responses[0].body, delivered.responses[1].body,
        "the same response again (a presigned PUT overwrites: no duplicate)"
    );
    assert_eq!(delivered.responses[1].json()["Status"], "SUCCESS");
    assert!(delivered.returned_ok(), "{:?}", delivered.invocation);
    let logs = world.lambda_logs().join("\n");
    assert!(
        logs.contains("retrying the CloudFormation response"),
        "the timeout is logged: {logs}"
    );
    assert!(
        !logs.contains(RESPONSE_URL_CANARY),
        "the ResponseURL leaked"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}

// ------------------------------------------------------------ concurrency

/// A second Lambda process polling the same Runtime API (reserved concurrency is 1
/// in AWS, but a retried delivery can still overlap a slow run).
fn second_lambda(world: &World) -> LambdaProcess {
    LambdaProcess::start(
        syncscope_harness::paths::binary("syncscope-lambda"),
        &world.runtime.endpoint(),
        &[
            ("AWS_ENDPOINT_URL".into(), world.moto.url.clone()),
            (
                "AWS_ENDPOINT_URL_IDENTITY_SYNC".into(),
                world.emulator.base_url(),
            ),
        ],
    )
    .unwrap()
}

#[test]
fn two_overlapping_deliveries_of_the_same_create_leave_each_filter_once_in_scope_and_ledger() {
    let world = World::with(WorldOptions {
        knobs: Knobs {
            latency_ms: 15,
            ..Default::default()
        },
        ..Default::default()
    });
    let _second = second_lambda(&world);
    let names: Vec<String> = (0..40).map(|i| format!("Twice-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    let event = world.event("Create", &props, None, None);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            world
                .runtime
                .invoke(event.clone(), TIMEOUT, Duration::from_secs(5))
        });
        let b = s.spawn(|| {
            world
                .runtime
                .invoke(event.clone(), TIMEOUT, Duration::from_secs(5))
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    for inv in [&a, &b] {
        assert!(matches!(inv.ended, Ended::Response(_)), "{inv:?}");
    }
    std::thread::sleep(Duration::from_millis(200));
    let request_id = event["RequestId"].as_str().unwrap();
    let puts: Vec<Value> = world
        .cfn
        .requests()
        .iter()
        .filter(|r| r.uri.contains(request_id))
        .map(|r| r.json())
        .collect();
    assert_eq!(puts.len(), 2, "each delivery is answered once");
    for body in &puts {
        assert_eq!(body["Status"], "SUCCESS", "{body}");
        assert_eq!(body["PhysicalResourceId"], puts[0]["PhysicalResourceId"]);
    }
    assert_eq!(world.scope(), groups(&refs), "each filter exactly once");
    assert_eq!(
        ledger_entries(&world),
        groups(&refs),
        "the ledger agrees with the scope"
    );
    // A third, sequential delivery finds nothing to do.
    let writes = world.write_calls();
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.write_calls(), writes);
}

#[test]
fn deletes_for_a_foreign_and_a_failed_create_id_during_a_create_touch_nothing() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Console-Added".into())],
        knobs: Knobs {
            latency_ms: 25,
            ..Default::default()
        },
        ..Default::default()
    });
    let _second = second_lambda(&world);
    let names: Vec<String> = (0..40).map(|i| format!("Busy-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config_with(&refs, json!({ "OnDelete": "remove" })));
    let create = world.event("Create", &props, None, None);
    let deletes = [
        world.event("Delete", &props, None, Some("SyncScope-1A2B3C4D")),
        world.event(
            "Delete",
            &props,
            None,
            Some("syncscope:failed-create:0000-1111"),
        ),
    ];
    let (created, deleted) = std::thread::scope(|s| {
        let c = s.spawn(|| {
            world
                .runtime
                .invoke(create.clone(), TIMEOUT, Duration::from_secs(5))
        });
        std::thread::sleep(Duration::from_millis(150));
        let d: Vec<_> = deletes
            .iter()
            .map(|e| {
                world
                    .runtime
                    .invoke(e.clone(), TIMEOUT, Duration::from_secs(5))
            })
            .collect();
        (c.join().unwrap(), d)
    });
    assert!(matches!(created.ended, Ended::Response(_)), "{created:?}");
    for d in &deleted {
        assert!(matches!(d.ended, Ended::Response(_)), "{d:?}");
    }
    std::thread::sleep(Duration::from_millis(200));
    let answer = |event: &Value| {
        let id = event["RequestId"].as_str().unwrap();
        let puts: Vec<Value> = world
            .cfn
            .requests()
            .iter()
            .filter(|r| r.uri.contains(id))
            .map(|r| r.json())
            .collect();
        assert_eq!(puts.len(), 1, "one answer for {id}");
        puts[0].clone()
    };
    assert_eq!(answer(&create)["Status"], "SUCCESS");
    for d in &deletes {
        let body = answer(d);
        assert_eq!(body["Status"], "SUCCESS", "{body}");
        assert!(
            reason(&body).contains("the sync scope was not touched"),
            "{body}"
        );
        assert_eq!(body["PhysicalResourceId"], d["PhysicalResourceId"]);
    }
    assert_eq!(
        world
            .state()
            .counters_of(Operation::DeleteSyncFilter)
            .requests,
        0
    );
    let mut want = refs.clone();
    want.push("Console-Added");
    assert_eq!(world.scope(), groups(&want));
    assert_eq!(ledger_entries(&world), groups(&refs));
}

// ------------------------------------------------------------ secrets

/// Replaces the world's emulator with one that accepts only the canary credentials,
/// and restarts the Lambda with them (and any extra environment).
fn canary_world(extra_env: &[(&str, &str)]) -> World {
    let mut world = World::start();
    world.stop_lambda();
    let seed = Seed::from_json(
        &json!({ "profiles": [{
            "name": PROFILE,
            "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
            "state": "ACTIVE",
            "targets": [{ "name": "IdentityStoreForSSO", "target_arn": "arn:aws:identitystore::123456789012:identitystore/d-1234567890" }],
            "filters": [],
        }]})
        .to_string(),
    )
    .unwrap();
    world.emulator = identity_sync_emulator::spawn(Options {
        seed: Some(seed),
        credentials: vec![Credentials::new(ACCESS_KEY_ID, SECRET_KEY_CANARY)],
        ..Options::default()
    })
    .unwrap();
    let mut env: Vec<(String, String)> = vec![
        ("AWS_ENDPOINT_URL".into(), world.moto.url.clone()),
        (
            "AWS_ENDPOINT_URL_IDENTITY_SYNC".into(),
            world.emulator.base_url(),
        ),
        ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY_CANARY.into()),
        ("AWS_SESSION_TOKEN".into(), SESSION_TOKEN_CANARY.into()),
    ];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    world.lambda = Some(
        LambdaProcess::start(
            syncscope_harness::paths::binary("syncscope-lambda"),
            &world.runtime.endpoint(),
            &env,
        )
        .unwrap(),
    );
    world
}

fn assert_no_canary(places: &[(String, String)]) {
    assert_none_of(
        places,
        &[
            SECRET_KEY_CANARY,
            SESSION_TOKEN_CANARY,
            RESPONSE_URL_CANARY,
            WEBHOOK_CANARY,
            "X-Amz-Signature=",
        ],
    );
}

fn assert_none_of(places: &[(String, String)], canaries: &[&str]) {
    for (place, text) in places {
        for canary in canaries {
            assert!(
                !text.contains(canary),
                "a secret leaked into {place}: …{}…",
                redacted_excerpt(text, canary)
            );
        }
    }
}

#[test]
fn credentials_the_response_url_and_the_webhook_never_leak_even_at_trace_level() {
    // At TRACE the Lambda runtime logs every raw event (the signed ResponseURL with
    // it): dependencies are capped at DEBUG whatever the environment asks.
    let world = canary_world(&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]);
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": { "AWS-Broken": "AccessDeniedException" } }))
        .unwrap();
    // Success, partial failure, bad properties, a failing Teams and ResponseURL.
    let props = world.deploy(&config(&["AWS-Admins"]));
    let first = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = first["PhysicalResourceId"].as_str().unwrap().to_owned();
    let broken = world.deploy(&config(&["AWS-Admins", "AWS-Broken"]));
    world.teams.script([Reply::status(500)]);
    world.cfn.script([Reply::status(503)]);
    let second = world.send(
        &world.event("Update", &broken, Some(&props), Some(&id)),
        TIMEOUT,
    );
    assert_eq!(second.responses.len(), 2, "a 503, then the retry");
    assert_eq!(second.responses[1].json()["Status"], "FAILED");
    let bad = with(&props, "Mode", "sometimes");
    expect_status(
        &world.send(&world.event("Create", &bad, None, None), TIMEOUT),
        "FAILED",
    );
    world.cfn.script([Reply::status(403)]);
    world.send(&world.event("Create", &props, None, None), TIMEOUT);

    assert_eq!(
        world.scope(),
        groups(&["AWS-Admins"]),
        "the canary credentials worked"
    );
    let logs = world.lambda_logs();
    assert!(
        logs.iter().any(|l| l.contains("\"DEBUG\"")),
        "debug logging was on"
    );
    let places = haystacks(&world, props["DocsBucket"].as_str());
    assert!(places.len() > 8, "{} places searched", places.len());
    assert_no_canary(&places);
}

#[test]
fn a_panic_never_leaks_credentials_or_the_response_url() {
    let world = canary_world(&[("SYNCSCOPE_TEST_FAULT", "panic"), ("RUST_BACKTRACE", "1")]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    assert!(reason(&body).contains("panicked"), "{body}");
    assert!(
        world.lambda_logs().iter().any(|l| l.contains("panicked")),
        "the panic is logged"
    );
    assert_no_canary(&haystacks(&world, None));
}

/// A world whose Lambda signs with a secret key the emulator does not know.
fn rejected_credentials_run() -> (World, Value) {
    let mut world = World::start();
    world.stop_lambda();
    world.lambda = Some(
        LambdaProcess::start(
            syncscope_harness::paths::binary("syncscope-lambda"),
            &world.runtime.endpoint(),
            &[
                ("AWS_ENDPOINT_URL".into(), world.moto.url.clone()),
                (
                    "AWS_ENDPOINT_URL_IDENTITY_SYNC".into(),
                    world.emulator.base_url(),
                ),
                ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY_CANARY.into()),
                ("AWS_SESSION_TOKEN".into(), SESSION_TOKEN_CANARY.into()),
            ],
        )
        .unwrap(),
    );
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    (world, body)
}

#[test]
fn rejected_credentials_fail_closed_without_leaking_the_secret_key() {
    let (world, body) = rejected_credentials_run();
    assert!(
        reason(&body).contains("could not list the current sync scope"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0);
    assert_none_of(
        &haystacks(&world, None),
        &[SECRET_KEY_CANARY, RESPONSE_URL_CANARY, WEBHOOK_CANARY],
    );
}

/// A SigV4 signature error from the service quotes the canonical request, which holds
/// the `x-amz-security-token` header; the client keeps only the explanation before it
/// (`wire::parse_error`), so the token reaches no log, Reason or card.
#[test]
fn a_signature_error_never_echoes_the_session_token() {
    let (world, _) = rejected_credentials_run();
    assert_none_of(&haystacks(&world, None), &[SESSION_TOKEN_CANARY]);
}

// ------------------------------------------------------------ escaping and limits

#[test]
fn two_thousand_hostile_failing_names_keep_the_response_the_card_and_the_logs_in_bounds() {
    let world = World::start();
    let names: Vec<String> = (0..2000)
        .map(|i| format!("{{$x}}&'#!(@~^)-Ü日本-{i:04}"))
        .collect();
    let fail: Map<String, Value> = names
        .iter()
        .map(|n| (n.clone(), json!("ValidationException")))
        .collect();
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": fail }))
        .unwrap();
    let filters: Vec<Value> = names
        .iter()
        .map(|n| json!({ "Name": n, "Description": "</td><script>alert(\"x\")</script><img src=x onerror=alert(1)>" }))
        .collect();
    let config = config_of(filters, json!({}));
    let props = world.deploy(&config);
    let delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(90),
    );
    let raw = &delivered.responses[0].body;
    assert!(raw.len() <= 4096, "{} bytes", raw.len());
    let body = expect_status(&delivered, "FAILED");
    assert!(
        reason(&body).contains("2000"),
        "the count of failures is named: {}",
        reason(&body)
    );
    assert_eq!(world.scope(), Vec::<String>::new());

    let cards = world.teams.requests();
    assert_eq!(cards.len(), 1);
    assert!(
        cards[0].body.len() < 20_000,
        "card of {} bytes",
        cards[0].body.len()
    );
    let card = cards[0].json();
    assert!(card.is_object(), "the card is JSON");
    assert!(
        String::from_utf8_lossy(&cards[0].body).contains("more"),
        "the list is cut with a count"
    );

    let bucket = props["DocsBucket"].as_str().unwrap();
    let got = world
        .rt
        .block_on(
            world
                .s3
                .get_object()
                .bucket(bucket)
                .key("sso/TEST/index.html")
                .send(),
        )
        .unwrap();
    let page = String::from_utf8(
        world
            .rt
            .block_on(got.body.collect())
            .unwrap()
            .into_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        !page.contains("<script>alert") && !page.contains("<img src=x"),
        "markup is escaped"
    );
    assert!(
        page.contains("&lt;script&gt;") || page.contains("&#60;script"),
        "the description is shown escaped"
    );

    for line in world.lambda_logs() {
        assert!(
            serde_json::from_str::<Value>(&line).is_ok() || !line.starts_with('{'),
            "a log line broke: {}",
            &line[..line.len().min(200)]
        );
    }
}

#[test]
fn a_shard_of_exactly_4096_bytes_stays_standard_and_one_byte_more_goes_advanced() {
    // Finds descriptions that make the one shard exactly 4,096 and 4,097 bytes.
    let sized = |target: usize| -> Vec<Entry> {
        for wide in (900..1000).rev() {
            for ascii in 0..(1024 - wide) {
                let list = vec![entry(
                    "Boundary",
                    &format!("{}{}", "😀".repeat(wide), "d".repeat(ascii)),
                )];
                let len = store::encode(&list)[0].value.len();
                if len == target {
                    return list;
                }
                if len > target {
                    break;
                }
            }
        }
        panic!("no description gives {target} bytes");
    };
    let at = sized(store::STANDARD_LIMIT);
    let past = sized(store::STANDARD_LIMIT + 1);
    assert!(!store::encode(&at)[0].advanced);
    assert!(store::encode(&past)[0].advanced);

    // moto takes both as written, and the Lambda reads and applies each.
    let world = World::start();
    let mut old: Option<(Map<String, Value>, String)> = None;
    for list in [&at, &past] {
        // Written one entry per line (format 1), as stacks deployed before packing
        // hold them: the tier choice is the store's writer's.
        let hash = store::hash(list);
        let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
        world
            .rt
            .block_on(ssm.write_shards(&world.names().filters_version(&hash), &store::encode(list)))
            .unwrap();
        let mut props = world.deploy(&config(&["Boundary"]));
        props.insert(
            "FiltersParameter".into(),
            json!(world.names().filters_version(&hash)),
        );
        props.insert("FiltersHash".into(), json!(hash));
        let event = match &old {
            None => world.event("Create", &props, None, None),
            Some((old_props, id)) => world.event("Update", &props, Some(old_props), Some(id)),
        };
        let body = expect_status(&world.send(&event, TIMEOUT), "SUCCESS");
        let id = body["PhysicalResourceId"].as_str().unwrap().to_owned();
        let shard = store::shard_name(&world.names().filters_version(&hash), 0);
        let described = world
            .rt
            .block_on(
                world
                    .ssm
                    .describe_parameters()
                    .parameter_filters(
                        aws_sdk_ssm::types::ParameterStringFilter::builder()
                            .key("Name")
                            .values(&shard)
                            .build()
                            .unwrap(),
                    )
                    .send(),
            )
            .unwrap();
        let tier = described.parameters()[0]
            .tier()
            .map(|t| t.as_str().to_owned());
        let want = if std::ptr::eq(list, &at) {
            "Standard"
        } else {
            "Advanced"
        };
        assert_eq!(
            tier.as_deref(),
            Some(want),
            "{} bytes",
            store::encode(list)[0].value.len()
        );
        old = Some((props, id));
    }
    assert_eq!(world.scope(), groups(&["Boundary"]));
}
