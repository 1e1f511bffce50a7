//! The bad-input catalogue: SSM contents, resource properties and raw events, each
//! failing with a reason that names it, and nothing changed.

use super::*;

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
        (
            "properties: an unknown Engine",
            "Engine",
            Some(json!("parent")),
            "Engine: \"parent\" is not allowed: use \"sync-filters\" or \"parent-group\"",
        ),
        (
            "properties: the parent-group Engine without its ParentGroup",
            "Engine",
            Some(json!("parent-group")),
            "ParentGroup: is required with Engine \"parent-group\"",
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
    // README and docs/reliability.md say how many there are.
    for (doc, phrase) in [
        (
            "README.md",
            format!("{} named cases of bad SSM contents", cases.len()),
        ),
        (
            "docs/reliability.md",
            format!("a table of {} named cases", cases.len()),
        ),
    ] {
        let text =
            std::fs::read_to_string(syncscope_harness::paths::workspace().join(doc)).unwrap();
        assert!(text.contains(&phrase), "{doc} should say {phrase:?}");
    }
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
