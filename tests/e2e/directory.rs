//! The directory check through the real binary, against the emulator's Directory
//! Service Data: a typo'd group with `require` fails with its name and changes nothing;
//! `warn` applies it and names it in the response, the card, the docs page and
//! `groups.json`; `off` makes no ds-data call; a directory that cannot answer costs one
//! call and a warning; a directory that cannot be found fails `require` closed; a large
//! scope is settled from the directory's listing (a few calls, not one per name);
//! `syncscope plan` prints the statuses and refuses under `require`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::helpers::*;
use crate::reporting::{adaptive, cards, fact, get, texts};

const DIRECTORY: &str = "d-1234567890";

/// Directory Service Data calls the emulator received (every operation).
fn ds_calls(world: &World) -> u64 {
    let state = world.state();
    identity_sync_emulator::ds_data::OPERATIONS
        .iter()
        .map(|op| state.counters.get(*op).map_or(0, |c| c.requests))
        .sum()
}

fn get_profile_calls(world: &World) -> u64 {
    world
        .state()
        .counters_of(identity_sync_emulator::Operation::GetSyncProfile)
        .requests
}

/// A world whose sync profile syncs from a directory holding `Admins-<ns>` (two users
/// and a nested group), `Ops-<ns>` and the user `svc-deploy`; returns it with the two
/// group names.
fn world_with_directory(kind: &str, data_access: bool) -> (World, String, String) {
    let ns = format!("{:08x}", fastrand::u32(..));
    let (admins, ops) = (format!("Admins-{ns}"), format!("Ops-{ns}"));
    let world = World::with(WorldOptions {
        directories: vec![json!({
            "id": DIRECTORY, "domain": DOMAIN, "type": kind, "data_access": data_access,
            "users": ["alice", "bob", "svc-deploy"],
            "groups": {
                admins.clone(): {"users": ["alice", "bob"], "groups": [ops.clone()]},
                ops.clone(): {"users": ["bob"]},
            }
        })],
        ..Default::default()
    });
    (world, admins, ops)
}

fn props_for(world: &World, groups: &[&str], sso: Value) -> Map<String, Value> {
    let mut props = world.deploy(&config_with(groups, sso));
    // Every group may be removed in one run (the tests remove on purpose).
    props.insert("MaxRemovalPercent".into(), json!("100"));
    props
}

fn docs(world: &World, props: &Map<String, Value>, file: &str) -> String {
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = props["DocsPrefix"].as_str().unwrap();
    get(world, bucket, &format!("{prefix}/TEST/{file}")).body
}

#[test]
fn a_typo_with_require_fails_naming_it_before_any_change() {
    let (world, admins, ops) = world_with_directory("managed", true);
    let typo = format!("{admins}x");
    let props = props_for(
        &world,
        &[&admins, &typo, &ops],
        json!({"DirectoryCheck": "require"}),
    );
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    let why = reason(&body);
    assert!(
        why.contains("SSO.DirectoryCheck is require")
            && why.contains(&format!(
                "1 wanted name is not in Active Directory {DIRECTORY}: group {typo}"
            )),
        "{why}"
    );
    assert!(
        !why.contains(&format!("group {ops}")),
        "only the missing name: {why}"
    );
    assert_eq!(world.write_calls(), 0, "nothing was changed");
    assert!(world.scope().is_empty());
    assert!(
        world.ledger().ledger.entries.is_empty(),
        "no intent recorded"
    );
    // The directory came from the sync profile: one GetSyncProfile, one call per group.
    assert_eq!(get_profile_calls(&world), 1);
    assert_eq!(ds_calls(&world), 3);

    // Corrected, the same resource is created.
    let fixed = props_for(
        &world,
        &[&admins, &ops],
        json!({"DirectoryCheck": "require", "OnDelete": "remove"}),
    );
    let body = expect_status(
        &world.send(&world.event("Create", &fixed, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.scope(), groups(&[&admins, &ops]));

    // A Delete wants no name: it asks the directory nothing.
    let before = ds_calls(&world);
    let id = body["PhysicalResourceId"].as_str().unwrap();
    expect_status(
        &world.send(&world.event("Delete", &fixed, None, Some(id)), TIMEOUT),
        "SUCCESS",
    );
    assert!(world.scope().is_empty());
    assert_eq!(ds_calls(&world), before);
}

#[test]
fn a_large_scope_is_checked_from_the_directory_listing_and_require_names_its_typo() {
    let ns = format!("{:08x}", fastrand::u32(..));
    let names: Vec<String> = (0..150).map(|i| format!("Big-{ns}-{i:03}")).collect();
    // The directory holds every name but the last, and as many groups again that
    // are not synced (listed first: "AD-Only" sorts before "Big").
    let held: Map<String, Value> = names[..149]
        .iter()
        .cloned()
        .chain((0..150).map(|i| format!("AD-Only-{i:03}")))
        .map(|g| (g, json!({})))
        .collect();
    let world = World::with(WorldOptions {
        directories: vec![json!({"id": DIRECTORY, "domain": DOMAIN, "groups": held})],
        ..Default::default()
    });
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = props_for(
        &world,
        &refs,
        json!({"DirectoryCheck": "require", "DirectoryId": DIRECTORY}),
    );
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    let why = reason(&body);
    assert!(
        why.contains(&format!(
            "1 wanted name is not in Active Directory {DIRECTORY}: group {}",
            names[149]
        )),
        "{why}"
    );
    assert_eq!(world.write_calls(), 0, "nothing was changed");
    // 300 groups in the directory: two ListGroups pages settle all 150 names.
    let state = world.state();
    let calls = |op: &str| state.counters.get(op).map_or(0, |c| c.requests);
    assert_eq!(calls("ds-data:ListGroups"), 2);
    assert_eq!(calls("ds-data:ListGroupMembers"), 0);
    assert_eq!(ds_calls(&world), 2);
}

#[test]
fn a_directory_that_cannot_be_found_fails_require_closed_for_additions() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            hang_ops: [identity_sync_emulator::Operation::GetSyncProfile].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let props = props_for(&world, &["Lost-A"], json!({"DirectoryCheck": "require"}));
    let (body, _) = expect_failed_create(&world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(16),
    ));
    let why = reason(&body);
    assert!(
        why.contains("could not read the directory of sync profile")
            && why.contains("group Lost-A"),
        "{why}"
    );
    assert_eq!(world.write_calls(), 0, "nothing was changed");
    assert_eq!(ds_calls(&world), 0, "no directory to ask");
}

#[test]
fn the_check_starts_beside_the_reads_and_ends_with_a_run_that_stops() {
    // The scope listing never answers: the run fails by its deadline, and the
    // directory had been asked meanwhile (the check needs only the config's names).
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            hang_ops: [identity_sync_emulator::Operation::ListSyncFilters].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let props = props_for(
        &world,
        &["Early-A", "Early-B"],
        json!({"DirectoryId": DIRECTORY}),
    );
    let body = expect_status(
        &world.send(
            &world.event("Create", &props, None, None),
            Duration::from_secs(15),
        ),
        "FAILED",
    );
    assert!(reason(&body).contains("could not list"), "{body:#}");
    assert_eq!(
        ds_calls(&world),
        2,
        "both names were asked while the listing hung"
    );
    assert_eq!(world.write_calls(), 0);
}

#[test]
fn a_directory_that_never_answers_is_given_up_in_time_and_the_run_succeeds() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            ds_data_hang: true,
            ..Default::default()
        },
        ..Default::default()
    });
    let props = props_for(&world, &["Hung-A", "Hung-B"], json!({}));
    let started = std::time::Instant::now();
    let body = expect_status(
        &world.send(
            &world.event("Create", &props, None, None),
            Duration::from_secs(16),
        ),
        "SUCCESS",
    );
    let run_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        warnings(&body).contains("directory check: out of time"),
        "{body:#}"
    );
    // A run that ran out of time would have been answered by the deadline guard
    // (FAILED): the check gave up at its quarter of the time, and the run went on.
    assert_eq!(world.scope(), groups(&["Hung-A", "Hung-B"]));
    // Under warn the check runs beside the changes: both creates were answered in the
    // first half of a run that waited for the check until its time was up.
    let journal = world.emulator.emulator().journal();
    let at = |op: identity_sync_emulator::Operation| {
        journal
            .iter()
            .filter(|e| e.operation == op)
            .map(|e| e.answered_ms)
            .collect::<Vec<f64>>()
    };
    let listed = at(identity_sync_emulator::Operation::ListSyncFilters)[0];
    let creates = at(identity_sync_emulator::Operation::CreateSyncFilter);
    assert_eq!(creates.len(), 2);
    for create in creates {
        assert!(
            create - listed < run_ms / 2.0,
            "a create was answered {:.0} ms after the listing, in a run of {run_ms:.0} ms",
            create - listed
        );
    }
}

#[test]
fn warn_applies_a_name_not_in_ad_and_names_it_everywhere_people_look() {
    let (world, admins, _) = world_with_directory("managed", true);
    let typo = format!("{admins}x");
    let props = props_for(&world, &[&admins, &typo], json!({}));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(
        world.scope(),
        groups(&[&admins, &typo]),
        "warn still applies it"
    );
    let warned = warnings(&body);
    assert!(
        warned.contains(&format!(
            "1 name is not in Active Directory {DIRECTORY} (a typo syncs nobody): group {typo}"
        )),
        "{warned}"
    );

    let card = cards(&world).pop().unwrap();
    let card = adaptive(&card);
    assert_eq!(fact(card, "Not in Active Directory").as_deref(), Some("1"));
    let text = texts(card);
    assert!(
        text.contains("Not in Active Directory (a typo syncs nobody): ")
            && text.contains(&format!("group {typo}")),
        "{text}"
    );

    let json: Value = serde_json::from_str(&docs(&world, &props, "groups.json")).unwrap();
    assert_eq!(json["directory_id"], DIRECTORY);
    assert_eq!(json["counts"]["not_in_ad"], 1);
    let row = |name: &str| {
        json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row(&typo)["ad"], json!({"status": "not_in_ad"}));
    assert_eq!(
        row(&admins)["ad"],
        json!({"status": "in_ad", "members": 3, "nested_groups": 1})
    );
    let page = docs(&world, &props, "index.html");
    assert!(
        page.contains(
            "in AD</span> <span class=\"syncscope-detail\">3 members, 1 nested group</span>"
        ),
        "{page}"
    );
    assert!(page.contains(
        "not in AD</span> <span class=\"syncscope-detail\">no such name in the directory</span>"
    ));
}

#[test]
fn with_the_check_off_no_directory_is_asked() {
    let (world, admins, ops) = world_with_directory("managed", true);
    let props = props_for(
        &world,
        &[&admins, &format!("{ops}x")],
        json!({"DirectoryCheck": "off"}),
    );
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(ds_calls(&world), 0);
    assert_eq!(get_profile_calls(&world), 0);
    assert!(!warnings(&body).contains("Active Directory"));
    let json: Value = serde_json::from_str(&docs(&world, &props, "groups.json")).unwrap();
    assert!(json.get("directory_id").is_none() && json["groups"][0].get("ad").is_none());
    assert!(!docs(&world, &props, "index.html").contains("Active Directory</th>"));
}

#[test]
fn a_directory_that_cannot_answer_costs_one_call_and_the_run_still_succeeds() {
    for (kind, data_access, why) in [
        ("connector", true, "is not an AWS Managed Microsoft AD"),
        ("managed", false, "directory data access is disabled"),
    ] {
        let (world, admins, ops) = world_with_directory(kind, data_access);
        let props = props_for(&world, &[&admins, &ops], json!({"DirectoryId": DIRECTORY}));
        let body = expect_status(
            &world.send(&world.event("Create", &props, None, None), TIMEOUT),
            "SUCCESS",
        );
        assert_eq!(ds_calls(&world), 1, "{kind}");
        assert_eq!(
            get_profile_calls(&world),
            0,
            "the configured id needs no profile read"
        );
        assert!(
            warnings(&body).contains(&format!("directory check: {DIRECTORY} {why}"))
                || warnings(&body).contains(why),
            "{body:#}"
        );
        assert_eq!(world.scope(), groups(&[&admins, &ops]));

        // With require, an unchecked addition fails closed.
        let more = format!("{admins}-more");
        let required = props_for(
            &world,
            &[&admins, &ops, &more],
            json!({"DirectoryId": DIRECTORY, "DirectoryCheck": "require"}),
        );
        let id = body["PhysicalResourceId"].as_str().unwrap();
        let refused = world
            .send(
                &world.event("Update", &required, Some(&props), Some(id)),
                TIMEOUT,
            )
            .response();
        assert_eq!(refused["Status"], "FAILED");
        assert!(
            reason(&refused).contains(&format!(
                "could not be checked in Active Directory {DIRECTORY}"
            )),
            "{refused:#}"
        );
        assert_eq!(world.scope(), groups(&[&admins, &ops]), "nothing was added");
    }
}

#[test]
fn syncscope_plan_asks_the_directory_while_the_scope_is_still_listed() {
    // The scope listing never answers; `syncscope plan` asks the directory meanwhile
    // (the check needs only the config's names), as a run does.
    let ns = format!("{:08x}", fastrand::u32(..));
    let admins = format!("Admins-{ns}");
    let world = World::with(WorldOptions {
        directories: vec![json!({
            "id": DIRECTORY, "domain": DOMAIN, "type": "managed", "data_access": true,
            "users": ["svc-deploy"],
            "groups": {admins.clone(): {"users": ["svc-deploy"]}},
        })],
        knobs: identity_sync_emulator::Knobs {
            hang_ops: [identity_sync_emulator::Operation::ListSyncFilters].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let dir = syncscope_harness::paths::build_dir("e2e-directory").join(&world.ns);
    std::fs::create_dir_all(&dir).unwrap();
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
    doc["SSO"]["GroupFilters"] = json!([{"Name": admins}, {"Name": format!("{admins}x")}]);
    doc["SSO"]["UserFilters"] = json!([{"Name": "svc-deploy"}]);
    let path = dir.join("hung-listing.json");
    std::fs::write(&path, doc.to_string()).unwrap();

    let mut child = world
        .cli_command(&["plan", "--config", &path.display().to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while ds_calls(&world) < 3 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let still_listing = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        ds_calls(&world),
        3,
        "the three names were asked while the listing hung"
    );
    assert!(still_listing, "the plan was still waiting for the listing");
    assert_eq!(world.write_calls(), 0, "plan writes nothing");
}

#[test]
fn syncscope_plan_prints_each_names_status_and_refuses_under_require() {
    let (world, admins, ops) = world_with_directory("managed", true);
    let typo = format!("{ops}x");
    let dir = syncscope_harness::paths::build_dir("e2e-directory").join(&world.ns);
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, sso: Value| {
        let mut doc: Value =
            serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
        doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
        doc["SSO"]["GroupFilters"] = json!([{"Name": admins}, {"Name": typo}]);
        doc["SSO"]["UserFilters"] = json!([{"Name": "svc-deploy"}]);
        for (k, v) in sso.as_object().unwrap() {
            doc["SSO"][k] = v.clone();
        }
        let path = dir.join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    let warn = write("warn.json", json!({}));
    let (code, out, err) = world.cli(&["plan", "--config", &warn]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "Active Directory: directory {DIRECTORY}: 2 in AD, 1 not in AD, 0 not checked."
        )),
        "{out}"
    );
    assert!(out.contains(&format!("✗ group {typo}  not in AD")), "{out}");
    assert!(
        err.contains(&format!(
            "warning: 1 name is not in Active Directory {DIRECTORY}"
        )),
        "{err}"
    );

    let (code, json_out, _) = world.cli(&["plan", "--config", &warn, "--format", "json"]);
    assert_eq!(code, 0);
    let parsed: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(parsed["directory"]["directory_id"], DIRECTORY);

    let require = write("require.json", json!({"DirectoryCheck": "require"}));
    let (code, _, err) = world.cli(&["plan", "--config", &require]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("error: SSO.DirectoryCheck is require, and 1 wanted name is not in Active Directory {DIRECTORY}: group {typo}")), "{err}");

    let before = ds_calls(&world);
    let off = write("off.json", json!({"DirectoryCheck": "off"}));
    let (code, out, _) = world.cli(&["plan", "--config", &off]);
    assert_eq!(code, 0);
    assert!(!out.contains("Active Directory:"));
    assert_eq!(ds_calls(&world), before, "off asks nothing");
    assert_eq!(world.write_calls(), 0, "plan writes nothing");
}

#[test]
fn a_hundred_mebibyte_directory_answer_is_not_read_and_require_fails_closed() {
    let (world, admins, _) = world_with_directory("managed", true);
    let props = props_for(&world, &[&admins], json!({"DirectoryCheck": "require"}));
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "ds_data_huge_body_mib": 100 }))
        .unwrap();
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    let why = reason(&body);
    assert!(
        why.contains("could not be checked in Active Directory")
            && why.contains(&admins)
            && why.contains(&format!(
                "the answer is longer than {} bytes, the most syncscope reads of an AWS answer",
                syncscope::http::MAX_SDK_BODY_BYTES
            ))
            && !why.contains("SdkBody"),
        "{why}"
    );
    assert_eq!(world.write_calls(), 0, "nothing was changed");
    // The same function answers the next event: it did not run out of memory.
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "ds_data_huge_body_mib": 0 }))
        .unwrap();
    let retry = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    expect_status(&retry, "SUCCESS");
}
