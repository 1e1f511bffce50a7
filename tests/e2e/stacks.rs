//! Several stacks on one sync profile, and rollbacks that cannot get stuck, through
//! the real binary: stacks that are alive in moto's CloudFormation, a stack that no
//! longer exists, a stack that cannot be looked up, a rollback judged by the deletion
//! guard, and a panic after the first create. Each of these failed before
//! co-ownership.

use std::time::Duration;

use serde_json::{Map, Value, json};
use syncscope::ssm::Found;

use crate::helpers::*;

/// The group both stacks list.
const SHARED: &str = "AWS-Platform-Admins";

/// Two stacks of one world (one sync profile): their names and StackIds.
struct Two {
    a: (String, String),
    b: (String, String),
}

/// A world whose own stack (`CO-Sync<n>-TEST`) and a second one (`...-PROD`) are alive
/// in moto's CloudFormation.
fn two_stacks(options: WorldOptions) -> (World, Two) {
    let base = format!("CO-Sync{:08x}", fastrand::u32(..));
    let world = World::with(WorldOptions {
        stack_name: Some(format!("{base}-TEST")),
        ..options
    });
    let a = world.stack();
    let b = format!("{base}-PROD");
    let (id_a, id_b) = (world.create_stack(&a), world.create_stack(&b));
    (
        world,
        Two {
            a: (a, id_a),
            b: (b, id_b),
        },
    )
}

/// Runs a request of `stack` (name, StackId) and returns the answer.
fn send(
    world: &World,
    stack: &(String, String),
    request_type: &str,
    props: &Map<String, Value>,
    old: Option<&Map<String, Value>>,
    id: Option<&str>,
) -> Delivered {
    world.send(
        &world.event_of(&stack.1, request_type, props, old, id),
        TIMEOUT,
    )
}

/// Deploys `groups` for `stack`; returns the properties.
fn deploy(
    world: &World,
    stack: &(String, String),
    groups: &[&str],
    extra: Value,
) -> Map<String, Value> {
    world.deploy_as(&stack.0, &config_with(groups, extra))
}

fn remove() -> Value {
    json!({ "OnDelete": "remove" })
}

#[test]
fn deleting_one_stack_leaves_what_another_live_stack_lists() {
    let (world, two) = two_stacks(WorldOptions::default());
    let nine = [
        SHARED, "G-2", "G-3", "G-4", "G-5", "G-6", "G-7", "G-8", "G-9",
    ];
    let props_a = deploy(&world, &two.a, &nine, remove());
    let id = expect_status(
        &send(&world, &two.a, "Create", &props_a, None, None),
        "SUCCESS",
    )["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let props_b = deploy(&world, &two.b, &[SHARED, "B-Own"], remove());
    let created = send(&world, &two.b, "Create", &props_b, None, None);
    let body = expect_status(&created, "SUCCESS");
    assert_eq!(body["Data"]["Adopted"], "1", "{body:#}");
    assert_eq!(body["Data"]["Created"], "1", "{body:#}");

    // B's Delete with remove: its own filter goes, the one A still lists stays.
    let deleted = send(&world, &two.b, "Delete", &props_b, None, Some(&id));
    let body = expect_status(&deleted, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "1", "{body:#}");
    assert!(
        world.scope().contains(&format!("GROUP {SHARED}")),
        "{:?}",
        world.scope()
    );
    assert!(!world.scope().contains(&"GROUP B-Own".to_owned()));
    let said = format!("{} {}", reason(&body), warnings(&body));
    assert!(
        said.contains(&format!("group {SHARED} (wanted by {})", two.a.0)),
        "the answer says which stack still wants it: {body:#}"
    );
    assert_eq!(
        world.record_of(&two.b.0, &two.b.1, PROFILE).found,
        Found::Nothing
    );

    // The last stack's Delete with remove takes everything either created.
    let last = send(&world, &two.a, "Delete", &props_a, None, Some(&id));
    assert_eq!(expect_status(&last, "SUCCESS")["Data"]["Removed"], "9");
    assert_eq!(world.scope(), Vec::<String>::new());
}

#[test]
fn an_authoritative_run_keeps_what_another_live_stack_lists() {
    let (world, two) = two_stacks(WorldOptions::default());
    let props_a = deploy(&world, &two.a, &[SHARED, "A-Own"], json!({}));
    expect_status(
        &send(&world, &two.a, "Create", &props_a, None, None),
        "SUCCESS",
    );
    world.console_add(PROFILE, "Console-Only");
    let props_b = deploy(
        &world,
        &two.b,
        &["B-Own"],
        json!({ "Mode": "authoritative", "DeletionGuard": { "MaxRemovals": 100, "MaxRemovalPercent": 100 } }),
    );
    let body = expect_status(
        &send(&world, &two.b, "Create", &props_b, None, None),
        "SUCCESS",
    );
    assert_eq!(
        body["Data"]["Removed"], "1",
        "only the console's filter: {body:#}"
    );
    assert_eq!(world.scope(), groups(&[SHARED, "A-Own", "B-Own"]));
}

#[test]
fn a_stack_that_no_longer_exists_holds_nothing_and_its_record_is_cleaned_up() {
    let (world, two) = two_stacks(WorldOptions::default());
    let props_a = deploy(&world, &two.a, &[SHARED], json!({}));
    expect_status(
        &send(&world, &two.a, "Create", &props_a, None, None),
        "SUCCESS",
    );
    let open = json!({ "DeletionGuard": { "MaxRemovals": 100, "MaxRemovalPercent": 100 } });
    let props_b = deploy(&world, &two.b, &[SHARED, "B-Own"], open.clone());
    let (_, id) = {
        let body = expect_status(
            &send(&world, &two.b, "Create", &props_b, None, None),
            "SUCCESS",
        );
        (
            body.clone(),
            body["PhysicalResourceId"].as_str().unwrap().to_owned(),
        )
    };
    // A is deleted without its custom resource's Delete reaching syncscope: its
    // record stays behind, naming a stack that is DELETE_COMPLETE.
    world.delete_stack(&two.a.1);
    assert_eq!(
        world.record_of(&two.a.0, &two.a.1, PROFILE).found,
        Found::Own
    );

    let smaller = deploy(&world, &two.b, &["B-Own"], open);
    let update = send(
        &world,
        &two.b,
        "Update",
        &smaller,
        Some(&props_b),
        Some(&id),
    );
    let body = expect_status(&update, "SUCCESS");
    assert_eq!(
        body["Data"]["Removed"], "1",
        "the dead stack holds nothing: {body:#}"
    );
    assert_eq!(world.scope(), groups(&["B-Own"]));
    assert!(
        warnings(&body).contains(&format!(
            "removed the ownership record of stack {}",
            two.a.0
        )),
        "{body:#}"
    );
    assert_eq!(
        world.record_of(&two.a.0, &two.a.1, PROFILE).found,
        Found::Nothing
    );
}

#[test]
fn a_stack_that_cannot_be_looked_up_counts_as_alive() {
    // CloudFormation unreachable: no stack's liveness can be established.
    let (world, two) = two_stacks(WorldOptions {
        lambda_env: vec![(
            "AWS_ENDPOINT_URL_CLOUDFORMATION".into(),
            "http://127.0.0.1:9".into(),
        )],
        ..Default::default()
    });
    let props_a = deploy(&world, &two.a, &[SHARED], json!({}));
    expect_status(
        &send(&world, &two.a, "Create", &props_a, None, None),
        "SUCCESS",
    );
    world.delete_stack(&two.a.1);
    let props_b = deploy(&world, &two.b, &[SHARED, "B-Own"], remove());
    let id = expect_status(
        &send(&world, &two.b, "Create", &props_b, None, None),
        "SUCCESS",
    )["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = send(&world, &two.b, "Delete", &props_b, None, Some(&id));
    let body = expect_status(&deleted, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "1", "{body:#}");
    assert_eq!(world.scope(), groups(&[SHARED]), "never removed on a doubt");
    assert!(
        warnings(&body).contains(&format!(
            "could not tell whether stack {} still exists",
            two.a.0
        )),
        "{body:#}"
    );
    assert_eq!(
        world.record_of(&two.a.0, &two.a.1, PROFILE).found,
        Found::Own,
        "kept"
    );
}

#[test]
fn syncscope_plan_shows_a_co_owned_name_and_who_still_wants_it() {
    let (world, two) = two_stacks(WorldOptions::default());
    let props_b = deploy(&world, &two.b, &[SHARED, "B-Own"], json!({}));
    expect_status(
        &send(&world, &two.b, "Create", &props_b, None, None),
        "SUCCESS",
    );
    let props_a = deploy(&world, &two.a, &[SHARED, "A-Own"], json!({}));
    expect_status(
        &send(&world, &two.a, "Create", &props_a, None, None),
        "SUCCESS",
    );

    // The TEST stack's config drops the shared group: the plan leaves it for PROD.
    let (prefix, rest) = two.a.0.split_once('-').unwrap();
    let (produkt, stage) = rest.rsplit_once('-').unwrap();
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["general"]["prefix"] = json!(prefix);
    doc["general"]["produkt"] = json!(produkt);
    doc["general"]["stage"] = json!(stage);
    doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
    doc["SSO"]["GroupFilters"] = json!([{ "Name": "A-Own" }]);
    let dir = syncscope_harness::paths::build_dir("e2e-stacks").join(&two.a.0);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let path = path.display().to_string();

    let (code, out, err) = world.cli(&["plan", "--config", &path]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "left in the scope: another stack lists it (wanted by {})",
            two.b.0
        )),
        "{out}\n{err}"
    );
    assert!(out.contains("0 to remove"), "{out}");
    let (code, md, _) = world.cli(&["plan", "--config", &path, "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(
        md.contains(&format!(
            "left in the scope\\: wanted by {}",
            two.b.0.replace('-', "\\-")
        )),
        "{md}"
    );
}

#[test]
fn a_rollback_after_a_successful_update_is_not_stopped_by_the_deletion_guard() {
    let world = World::start();
    // Two filters, one added: the rollback removes 1 of 3 (34 %, the guard allows 25 %).
    let (old, id) = create(&world, &config(&["Base-1", "Base-2"]));
    let new = world.deploy(&config(&["Base-1", "Base-2", "New"]));
    let update = world.send(&world.event("Update", &new, Some(&old), Some(&id)), TIMEOUT);
    expect_status(&update, "SUCCESS");
    // Another resource of the stack failed: CloudFormation rolls back.
    let rollback = world.send(&world.event("Update", &old, Some(&new), Some(&id)), TIMEOUT);
    let body = expect_status(&rollback, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "1", "{body:#}");
    assert_eq!(world.scope(), groups(&["Base-1", "Base-2"]));

    // A deliberate removal is still guarded: 1 of 2 is 50 %.
    let smaller = world.deploy(&config(&["Base-1"]));
    let guarded = world.send(
        &world.event("Update", &smaller, Some(&old), Some(&id)),
        TIMEOUT,
    );
    let body = expect_status(&guarded, "FAILED");
    assert!(reason(&body).contains("deletion guard"), "{body:#}");
}

#[test]
fn a_rollback_after_an_interrupted_update_is_not_stopped_by_the_deletion_guard() {
    let mut world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            hang_filters: ["N-5".to_owned()].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let (old, id) = create(&world, &config(&["Base-1", "Base-2"]));
    let new = world.deploy(&config(&[
        "Base-1", "Base-2", "N-1", "N-2", "N-3", "N-4", "N-5",
    ]));
    let update = world.event("Update", &new, Some(&old), Some(&id));
    kill_mid_apply(&world, &update, 6);
    assert_eq!(world.scope().len(), 6, "{:?}", world.scope());
    world.restart_lambda();
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "hang_filters": [] }))
        .unwrap();
    // The rollback removes 4 of 6 (67 %): all of them the interrupted run's intent.
    let rollback = world.send(&world.event("Update", &old, Some(&new), Some(&id)), TIMEOUT);
    let body = expect_status(&rollback, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "4", "{body:#}");
    assert_eq!(world.scope(), groups(&["Base-1", "Base-2"]));
}

#[test]
fn a_panic_after_the_first_create_answers_the_real_id_and_the_rollback_removes_it() {
    let world = World::with(WorldOptions {
        lambda_env: vec![("SYNCSCOPE_TEST_FAULT".into(), "panic-after-create".into())],
        ..Default::default()
    });
    let props = world.deploy(&config_with(&["P-1", "P-2"], remove()));
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "FAILED");
    assert!(reason(&body).contains("panicked"), "{body:#}");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}"),
        "filters were created: the rollback Delete must find them"
    );
    assert_eq!(world.scope(), groups(&["P-1", "P-2"]));
    let id = body["PhysicalResourceId"].as_str().unwrap();
    let rollback = world.send(&world.event("Delete", &props, None, Some(id)), TIMEOUT);
    assert_eq!(expect_status(&rollback, "SUCCESS")["Data"]["Removed"], "2");
    assert_eq!(world.scope(), Vec::<String>::new());
}

#[test]
fn a_create_stopped_by_the_deadline_guard_after_its_creates_is_undone_by_its_rollback() {
    let world = World::with(WorldOptions {
        lambda_env: vec![("SYNCSCOPE_TEST_FAULT".into(), "hang-after-create".into())],
        ..Default::default()
    });
    let props = world.deploy(&config_with(&["H-1", "H-2"], remove()));
    let create = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(10),
    );
    let body = expect_status(&create, "FAILED");
    assert!(reason(&body).starts_with("timed out"), "{body:#}");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}"),
        "the Create may have changed the scope: the rollback Delete must find it"
    );
    assert_eq!(world.scope(), groups(&["H-1", "H-2"]));
    // The run stopped before it recorded what it created; its intent, recorded before
    // the creates, is enough for the rollback.
    let id = body["PhysicalResourceId"].as_str().unwrap();
    let rollback = world.send(&world.event("Delete", &props, None, Some(id)), TIMEOUT);
    assert_eq!(expect_status(&rollback, "SUCCESS")["Data"]["Removed"], "2");
    assert_eq!(world.scope(), Vec::<String>::new());
}
