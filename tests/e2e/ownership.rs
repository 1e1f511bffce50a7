//! Ownership across the lifecycles CloudFormation and people produce, through the
//! real binary: a record per (stack, region, sync profile), replacements, failed
//! Creates, a reused stack name, a run killed mid-apply, Deletes of what is already
//! gone, the two phases of an apply, and per-run accounting. Each of these failed on
//! the per-stack ledger of syncscope 0.1.

use identity_sync_emulator::{JournalEntry, Operation};
use serde_json::{Value, json};
use syncscope::ssm::Found;

use crate::helpers::*;

const NINE: [&str; 9] = [
    "G-1", "G-2", "G-3", "G-4", "G-5", "G-6", "G-7", "G-8", "G-9",
];

/// The event with the StackId of another stack of the same name (a new UUID).
fn in_other_stack(mut event: Value) -> Value {
    let id = event["StackId"].as_str().unwrap().to_owned();
    let (arn, _) = id.rsplit_once('/').unwrap();
    event["StackId"] = json!(format!("{arn}/1d2e3f40-aaaa-4bbb-8ccc-ddddeeeeffff"));
    event
}

fn remove_all_guard() -> Value {
    json!({ "OnDelete": "remove", "DeletionGuard": { "MaxRemovals": 100, "MaxRemovalPercent": 100 } })
}

#[test]
fn a_replacement_with_remove_takes_each_profiles_filters_out_with_its_own_record() {
    let world = World::with(WorldOptions {
        extra_profiles: vec!["ProfileB"],
        ..Default::default()
    });
    let (props_a, id_a) = create(&world, &config_with(&NINE, json!({ "OnDelete": "remove" })));
    let props_b = with(&props_a, "SyncProfileName", "ProfileB");
    let update = world.send(
        &world.event("Update", &props_b, Some(&props_a), Some(&id_a)),
        TIMEOUT,
    );
    let id_b = expect_status(&update, "SUCCESS")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id_b, "syncscope:eu-central-1:ProfileB");
    assert_eq!(world.scope_of("ProfileB"), groups(&NINE));

    // CloudFormation's clean-up: the old id's Delete, with the old properties.
    let old = world.send(&world.event("Delete", &props_a, None, Some(&id_a)), TIMEOUT);
    assert_eq!(expect_status(&old, "SUCCESS")["Data"]["Removed"], "9");
    assert_eq!(world.scope(), Vec::<String>::new(), "profile A emptied");
    assert_eq!(world.scope_of("ProfileB"), groups(&NINE), "B untouched");

    // The stack's Delete of the new id removes B's, from B's own record.
    let last = world.send(&world.event("Delete", &props_b, None, Some(&id_b)), TIMEOUT);
    let body = expect_status(&last, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "9", "{body:#}");
    assert_eq!(world.scope_of("ProfileB"), Vec::<String>::new());
    assert_eq!(world.ledger_of(PROFILE).found, Found::Nothing);
    assert_eq!(world.ledger_of("ProfileB").found, Found::Nothing);
}

#[test]
fn the_old_ids_delete_acts_on_the_old_profile_whichever_properties_it_carries() {
    let world = World::with(WorldOptions {
        extra_profiles: vec!["ProfileB"],
        ..Default::default()
    });
    let (props_a, id_a) = create(
        &world,
        &config_with(&NINE[..3], json!({ "OnDelete": "remove" })),
    );
    let props_b = with(&props_a, "SyncProfileName", "ProfileB");
    expect_status(
        &world.send(
            &world.event("Update", &props_b, Some(&props_a), Some(&id_a)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    // This time the Delete of the old id carries the new properties.
    let body = expect_status(
        &world.send(&world.event("Delete", &props_b, None, Some(&id_a)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "3", "{body:#}");
    assert_eq!(world.scope(), Vec::<String>::new());
    assert_eq!(world.scope_of("ProfileB"), groups(&NINE[..3]));
}

#[test]
fn a_replacement_with_retain_keeps_both_scopes_and_releases_both_records() {
    let world = World::with(WorldOptions {
        extra_profiles: vec!["ProfileB"],
        ..Default::default()
    });
    let (props_a, id_a) = create(&world, &config(&NINE[..4]));
    let props_b = with(&props_a, "SyncProfileName", "ProfileB");
    let update = world.send(
        &world.event("Update", &props_b, Some(&props_a), Some(&id_a)),
        TIMEOUT,
    );
    let id_b = expect_status(&update, "SUCCESS")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let writes = world.write_calls();
    for (props, id) in [(&props_a, &id_a), (&props_b, &id_b)] {
        let body = expect_status(
            &world.send(&world.event("Delete", props, None, Some(id)), TIMEOUT),
            "SUCCESS",
        );
        assert!(reason(&body).contains("retain"), "{body:#}");
    }
    assert_eq!(world.write_calls(), writes, "retain removes nothing");
    assert_eq!(world.scope(), groups(&NINE[..4]));
    assert_eq!(world.scope_of("ProfileB"), groups(&NINE[..4]));
    assert_eq!(world.ledger_of(PROFILE).found, Found::Nothing, "released");
    assert_eq!(
        world.ledger_of("ProfileB").found,
        Found::Nothing,
        "released"
    );
}

#[test]
fn a_failed_create_that_changed_the_scope_answers_its_real_id_and_its_rollback_removes_it() {
    let world = world_failing("G-9", "ValidationException");
    let props = world.deploy(&config_with(&NINE, json!({ "OnDelete": "remove" })));
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "FAILED");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}"),
        "8 filters were created: the rollback Delete must find them"
    );
    assert!(reason(&body).contains("\"G-9\""), "{body:#}");
    assert_eq!(world.scope().len(), 8);
    let id = body["PhysicalResourceId"].as_str().unwrap();
    let rollback = world.send(&world.event("Delete", &props, None, Some(id)), TIMEOUT);
    assert_eq!(expect_status(&rollback, "SUCCESS")["Data"]["Removed"], "8");
    assert_eq!(world.scope(), Vec::<String>::new());
    assert_eq!(world.ledger().found, Found::Nothing);
}

#[test]
fn a_failed_create_with_retain_keeps_what_it_made_and_releases_it() {
    let world = world_failing("G-9", "ValidationException");
    let props = world.deploy(&config(&NINE));
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "FAILED");
    let id = body["PhysicalResourceId"].as_str().unwrap();
    assert!(!id.contains("failed-create"), "{body:#}");
    let writes = world.write_calls();
    expect_status(
        &world.send(&world.event("Delete", &props, None, Some(id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.write_calls(), writes);
    assert_eq!(world.scope().len(), 8);
    assert_eq!(world.ledger().found, Found::Nothing, "released");
}

#[test]
fn a_failed_create_that_changed_nothing_keeps_the_failed_create_id() {
    let world = world_failing("G-1", "ValidationException");
    let props = world.deploy(&config_with(&NINE[..1], json!({ "OnDelete": "remove" })));
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let (_, id) = expect_failed_create(&create);
    let delete = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    expect_status(&delete, "SUCCESS");
    assert_eq!(world.scope(), Vec::<String>::new());
}

#[test]
fn a_new_stack_with_a_reused_name_does_not_claim_what_a_deleted_stack_retained() {
    let world = World::start();
    let (props, id) = create(&world, &config(&NINE));
    expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.ledger().found, Found::Nothing, "retain released it");

    // The same stack name again, a smaller config: the retained filters are not its.
    let smaller = world.deploy(&config_with(&NINE[..4], json!({ "OnDelete": "remove" })));
    let again = world.send(
        &in_other_stack(world.event("Create", &smaller, None, None)),
        TIMEOUT,
    );
    let body = expect_status(&again, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "0", "{body:#}");
    assert_eq!(body["Data"]["Adopted"], "4");
    assert_eq!(body["Data"]["Unmanaged"], "5");
    assert_eq!(world.scope(), groups(&NINE));
}

#[test]
fn a_record_left_by_an_earlier_stack_of_the_name_is_not_claimed() {
    let world = World::start();
    // A stack that never got its Delete (the record stays behind).
    create(&world, &config(&NINE));
    let smaller = world.deploy(&config(&NINE[..4]));
    let again = world.send(
        &in_other_stack(world.event("Create", &smaller, None, None)),
        TIMEOUT,
    );
    let body = expect_status(&again, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "0", "{body:#}");
    assert_eq!(body["Data"]["Unmanaged"], "5");
    assert!(warnings(&body).contains("earlier stack"), "{body:#}");
    assert_eq!(world.scope(), groups(&NINE));
}

#[test]
fn a_run_killed_mid_apply_leaves_its_intent_and_the_rollback_removes_what_it_created() {
    let mut world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            hang_filters: ["N-5".to_owned()].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let (old_props, id) = create(&world, &config_with(&["Base"], remove_all_guard()));
    let new_props = world.deploy(&config_with(
        &["Base", "N-1", "N-2", "N-3", "N-4", "N-5"],
        remove_all_guard(),
    ));
    let update = world.event("Update", &new_props, Some(&old_props), Some(&id));
    // Four creates answer, the fifth hangs: the process dies before its ledger.
    kill_mid_apply(&world, &update, 5);
    assert_eq!(world.scope().len(), 5, "{:?}", world.scope());

    world.restart_lambda();
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "hang_filters": [] }))
        .unwrap();
    // CloudFormation's rollback: the Update with the properties swapped.
    let rollback = world.send(
        &world.event("Update", &old_props, Some(&new_props), Some(&id)),
        TIMEOUT,
    );
    let body = expect_status(&rollback, "SUCCESS");
    assert_eq!(body["Data"]["Removed"], "4", "{body:#}");
    assert_eq!(world.scope(), groups(&["Base"]));
}

#[test]
fn a_delete_for_a_profile_that_no_longer_exists_succeeds_and_says_so() {
    let world = World::start();
    let (props, id) = create(
        &world,
        &config_with(&NINE[..2], json!({ "OnDelete": "remove" })),
    );
    world.emulator.emulator().reset(None).unwrap();
    let delete = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    let body = expect_status(&delete, "SUCCESS");
    assert!(reason(&body).contains("no longer exists"), "{body:#}");
    assert_eq!(world.ledger().found, Found::Nothing, "released");
}

#[test]
fn a_delete_whose_record_is_gone_succeeds_untouched_and_says_so() {
    let world = World::start();
    let (props, id) = create(
        &world,
        &config_with(&NINE[..2], json!({ "OnDelete": "remove" })),
    );
    // Someone deleted the record's head by hand.
    let head = format!("{}/head", world.ledger().path);
    world
        .rt
        .block_on(world.ssm.delete_parameter().name(&head).send())
        .unwrap();
    let writes = world.write_calls();
    let delete = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    let body = expect_status(&delete, "SUCCESS");
    assert!(reason(&body).contains("no filters recorded"), "{body:#}");
    assert_eq!(world.write_calls(), writes);
    assert_eq!(world.scope(), groups(&NINE[..2]));
}

fn spans(journal: &[JournalEntry], op: Operation) -> Vec<(f64, f64)> {
    journal
        .iter()
        .filter(|e| e.operation == op)
        .map(|e| (e.started_ms, e.answered_ms))
        .collect()
}

#[test]
fn every_create_ends_before_the_first_removal_starts() {
    let world = World::start();
    let (old_props, id) = create(
        &world,
        &config_with(&["Keep", "Old-1", "Old-2", "Old-3"], remove_all_guard()),
    );
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "latency_ms": 300 }))
        .unwrap();
    world.emulator.emulator().reset_counters();
    let new_props = world.deploy(&config_with(
        &["Keep", "New-1", "New-2", "New-3"],
        remove_all_guard(),
    ));
    let body = expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(
        (
            body["Data"]["Created"].as_str(),
            body["Data"]["Removed"].as_str()
        ),
        (Some("3"), Some("3"))
    );
    let journal = world.emulator.emulator().journal();
    let creates = spans(&journal, Operation::CreateSyncFilter);
    let deletes = spans(&journal, Operation::DeleteSyncFilter);
    assert_eq!((creates.len(), deletes.len()), (3, 3));
    let last_create = creates.iter().map(|s| s.1).fold(f64::MIN, f64::max);
    let first_delete = deletes.iter().map(|s| s.0).fold(f64::MAX, f64::min);
    assert!(
        first_delete >= last_create,
        "the first removal started at {first_delete:.0} ms, before the last create ended at {last_create:.0} ms"
    );
    // Each phase ran its calls at once: about two latencies, not six.
    let first_create = creates.iter().map(|s| s.0).fold(f64::MAX, f64::min);
    let last_delete = deletes.iter().map(|s| s.1).fold(f64::MIN, f64::max);
    assert!(last_delete - first_create < 5.0 * 300.0);
}

#[test]
fn a_failed_create_holds_back_the_removals_of_its_run_and_the_next_run_converges() {
    let world = world_failing("B-New", "ValidationException");
    let (old_props, id) = create(&world, &config_with(&["A", "B-Old"], remove_all_guard()));
    // A rename: B-Old becomes B-New. The create fails, so B-Old must stay.
    let new_props = world.deploy(&config_with(&["A", "B-New"], remove_all_guard()));
    let update = world.event("Update", &new_props, Some(&old_props), Some(&id));
    let body = expect_status(&world.send(&update, TIMEOUT), "FAILED");
    let why = reason(&body);
    assert!(why.contains("B-New") && why.contains("held back"), "{why}");
    assert_eq!(world.scope(), groups(&["A", "B-Old"]), "no access lost");
    assert_eq!(
        world
            .state()
            .counters_of(Operation::DeleteSyncFilter)
            .requests,
        0
    );
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": {} }))
        .unwrap();
    let retry = world.event("Update", &new_props, Some(&old_props), Some(&id));
    expect_status(&world.send(&retry, TIMEOUT), "SUCCESS");
    assert_eq!(world.scope(), groups(&["A", "B-New"]));
}

/// The `calls` field of every outcome log line, in order.
fn reported_calls(world: &World) -> Vec<String> {
    world
        .lambda_logs()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["fields"]["message"] == "outcome")
        .map(|v| v["fields"]["calls"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_calls_a_run_reports_are_its_own_on_a_warm_process() {
    let world = World::start();
    let (old_props, id) = create(&world, &config(&["A"]));
    let new_props = world.deploy(&config(&["A", "B"]));
    expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    let calls = reported_calls(&world);
    assert_eq!(
        calls,
        [
            "CreateSyncFilter=1 GetSyncProfile=1 ListSyncFilters=2",
            "CreateSyncFilter=1 GetSyncProfile=1 ListSyncFilters=2"
        ],
        "each run counts its own calls (one create, a listing of groups and of users, the sync profile the directory check reads)"
    );
}

#[test]
fn the_retries_a_run_reports_are_its_own_on_a_warm_process() {
    let retries = |world: &World| -> Vec<String> {
        world
            .lambda_logs()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|v| v["fields"]["message"] == "outcome")
            .map(|v| {
                v["fields"]["retries"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let world = World::start();
    // Creating B is throttled every time: the first run retries it, then gives up.
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": { "B": "ThrottlingException" } }))
        .unwrap();
    let props = world.deploy(&config(&["A", "B"]));
    let first = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    expect_status(&first, "FAILED");
    let id = first.response()["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": {} }))
        .unwrap();
    // The same warm process: the second run retries nothing, and says so.
    let props_again = with(&props, "MaxRemovals", "11");
    expect_status(
        &world.send(
            &world.event("Update", &props_again, Some(&props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    let reported = retries(&world);
    assert_eq!(reported.len(), 2, "{reported:?}");
    assert!(
        reported[0].starts_with("CreateSyncFilter=") && reported[0] != "CreateSyncFilter=0",
        "the first run's retries: {reported:?}"
    );
    assert_eq!(
        reported[1], "",
        "the second run retried nothing: {reported:?}"
    );
    assert_eq!(world.scope(), groups(&["A", "B"]));
}

#[test]
fn a_replacement_adopts_the_configs_filters_that_already_exist_in_the_new_profile() {
    let world = World::with(WorldOptions {
        extra_profiles: vec!["ProfileB"],
        ..Default::default()
    });
    let (props_a, id_a) = create(
        &world,
        &config_with(&NINE[..3], json!({ "OnDelete": "remove" })),
    );
    world.console_add("ProfileB", "G-2");
    world.console_add("ProfileB", "Console-B");
    let props_b = with(&props_a, "SyncProfileName", "ProfileB");
    let update = world.send(
        &world.event("Update", &props_b, Some(&props_a), Some(&id_a)),
        TIMEOUT,
    );
    let body = expect_status(&update, "SUCCESS");
    assert_eq!(
        (
            body["Data"]["Created"].as_str(),
            body["Data"]["Adopted"].as_str(),
            body["Data"]["Unmanaged"].as_str()
        ),
        (Some("2"), Some("1"), Some("1")),
        "{body:#}"
    );
    let id_b = body["PhysicalResourceId"].as_str().unwrap().to_owned();
    expect_status(
        &world.send(&world.event("Delete", &props_a, None, Some(&id_a)), TIMEOUT),
        "SUCCESS",
    );
    expect_status(
        &world.send(&world.event("Delete", &props_b, None, Some(&id_b)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(
        world.scope_of("ProfileB"),
        groups(&["Console-B"]),
        "adopted G-2 went too"
    );
}

#[test]
fn the_rollback_of_a_failed_replacement_removes_what_it_created_in_the_new_profile() {
    let world = World::with(WorldOptions {
        extra_profiles: vec!["ProfileB"],
        knobs: identity_sync_emulator::Knobs {
            fail_filters: [("G-9".to_owned(), "ValidationException".parse().unwrap())].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let (props_a, id_a) = create(
        &world,
        &config_with(&NINE[..2], json!({ "OnDelete": "remove" })),
    );
    let props_b = with(
        &world.deploy(&config_with(
            &["G-1", "G-2", "G-9"],
            json!({ "OnDelete": "remove", "SyncProfileName": "ProfileB" }),
        )),
        "SyncProfileName",
        "ProfileB",
    );
    let update = world.send(
        &world.event("Update", &props_b, Some(&props_a), Some(&id_a)),
        TIMEOUT,
    );
    expect_status(&update, "FAILED");
    assert_eq!(world.scope_of("ProfileB"), groups(&["G-1", "G-2"]));
    // CloudFormation never learnt the new id: it rolls back with the old one.
    let rollback = world.send(
        &world.event("Update", &props_a, Some(&props_b), Some(&id_a)),
        TIMEOUT,
    );
    let body = expect_status(&rollback, "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], id_a.as_str());
    assert!(warnings(&body).contains("failed replacement"), "{body:#}");
    assert_eq!(world.scope_of("ProfileB"), Vec::<String>::new());
    assert_eq!(world.ledger_of("ProfileB").found, Found::Nothing);
    assert_eq!(world.scope(), groups(&NINE[..2]));
}

#[test]
fn a_ledger_of_syncscope_0_1_is_read_as_the_resources_and_moved_to_its_record() {
    let world = World::with(WorldOptions {
        existing: vec![
            ("GROUP", "G-1".into()),
            ("GROUP", "G-2".into()),
            ("GROUP", "Console-Added".into()),
        ],
        ..Default::default()
    });
    // The per-stack ledger of 0.1: LEDGER/head (format 1) and LEDGER/<hash16>/NNN.
    let base = world.names().ledger;
    let entries: Vec<syncscope_core::store::Entry> = ["G-1", "G-2"]
        .iter()
        .map(|n| syncscope_core::store::Entry {
            kind: syncscope_core::scope::FilterKind::Group,
            name: (*n).into(),
            description: String::new(),
            domain: Some(DOMAIN.into()),
            pending: false,
            added_from: None,
            adopted_from: None,
            unlisted: false,
        })
        .collect();
    let hash = syncscope_core::store::hash(&entries);
    let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
    let version = format!("{base}/{}", syncscope_core::store::short(&hash));
    world
        .rt
        .block_on(ssm.write_shards(&version, &syncscope_core::store::encode(&entries)))
        .unwrap();
    let head = json!({ "syncscope": 1, "hash": hash, "of": 1 }).to_string();
    world
        .rt
        .block_on(ssm.put(&format!("{base}/head"), &head, false))
        .unwrap();

    // The config no longer wants G-2: the 0.1 ledger says the stack put it there.
    let cfg = config_with(&["G-1"], remove_all_guard());
    let (_, _) = create(&world, &cfg);
    assert_eq!(world.scope(), groups(&["Console-Added", "G-1"]));
    let record = world.ledger();
    assert_eq!(record.found, Found::Own);
    let owned: Vec<&str> = record
        .ledger
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(owned, ["G-1"]);
    let legacy = world.rt.block_on(
        world
            .ssm
            .get_parameter()
            .name(format!("{base}/head"))
            .send(),
    );
    assert!(legacy.is_err(), "the 0.1 head was moved away");
}

#[test]
fn when_the_intent_cannot_be_recorded_nothing_is_created() {
    let world = World::start();
    let (old_props, id) = create(&world, &config(&["A"]));
    // SSM refuses the next write of the record's head: 100 versions, the oldest
    // labelled (ParameterMaxVersionLimitExceeded), a fault moto really produces.
    let head = format!("{}/head", world.ledger().path);
    let value = value_of(&world, &head);
    let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
    for _ in 0..100 {
        world.rt.block_on(ssm.put(&head, &value, false)).unwrap();
    }
    let oldest = world
        .rt
        .block_on(world.ssm.get_parameter_history().name(&head).send())
        .unwrap()
        .parameters
        .unwrap()[0]
        .version;
    world
        .rt
        .block_on(
            world
                .ssm
                .label_parameter_version()
                .name(&head)
                .parameter_version(oldest)
                .labels("pinned")
                .send(),
        )
        .unwrap();
    let writes = world.write_calls();
    let new_props = world.deploy(&config(&["A", "B"]));
    let update = world.send(
        &world.event("Update", &new_props, Some(&old_props), Some(&id)),
        TIMEOUT,
    );
    let body = expect_status(&update, "FAILED");
    assert!(
        reason(&body).contains("could not record the intended changes"),
        "{body:#}"
    );
    assert_eq!(world.write_calls(), writes, "nothing was sent");
    assert_eq!(world.scope(), groups(&["A"]));
}

#[test]
fn an_error_answered_after_the_change_was_made_is_settled_by_the_listing() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            fail_after_filters: [("G-2".to_owned(), "ValidationException".parse().unwrap())].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let props = world.deploy(&config(&["G-1", "G-2"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert!(
        warnings(&body).contains("ValidationException") && warnings(&body).contains("G-2"),
        "{body:#}"
    );
    assert_eq!(body["Data"]["Created"], "2");
    let owned: Vec<String> = world
        .ledger()
        .ledger
        .entries
        .iter()
        .map(|e| format!("{}{}", e.name, if e.pending { "?" } else { "" }))
        .collect();
    assert_eq!(owned, ["G-1", "G-2"], "both confirmed");
}

#[test]
fn a_missing_ledger_never_causes_a_removal() {
    let world = World::start();
    let (old_props, id) = create(&world, &config_with(&["A", "B"], remove_all_guard()));
    let head = format!("{}/head", world.ledger().path);
    world
        .rt
        .block_on(world.ssm.delete_parameter().name(&head).send())
        .unwrap();
    let new_props = world.deploy(&config_with(&["A"], remove_all_guard()));
    let body = expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "0", "{body:#}");
    assert_eq!(body["Data"]["Unmanaged"], "1");
    assert_eq!(world.scope(), groups(&["A", "B"]));
}

/// The parameters directly under `path`, as (name, value), sorted by name.
fn parameters_under(world: &World, path: &str) -> Vec<(String, String)> {
    let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
    let mut out = world.rt.block_on(ssm.read_path(path)).unwrap();
    out.sort();
    out
}

/// A parameter's value.
fn value_of(world: &World, name: &str) -> String {
    let out = world
        .rt
        .block_on(world.ssm.get_parameter().name(name).send())
        .unwrap();
    out.parameter.and_then(|p| p.value).unwrap_or_default()
}

#[test]
fn a_record_written_before_packing_is_read_and_rewritten_packed_by_the_next_change() {
    let world = World::start();
    // Long names: the record needs shards in either format.
    let names: Vec<String> = (0..120)
        .map(|i| format!("AWS-Platform-Upgrade-Group-With-A-Long-Name-{i:03}"))
        .collect();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let guard = json!({ "OnDelete": "remove", "DeletionGuard": { "MaxRemovals": 200, "MaxRemovalPercent": 100 } });
    let (old_props, id) = create(&world, &config_with(&all, guard.clone()));
    let record = world.ledger();
    let head_name = format!("{}/head", record.path);
    let packed_head: Value = serde_json::from_str(&value_of(&world, &head_name)).unwrap();
    assert_eq!(packed_head["syncscope"], 3, "{packed_head:#}");
    let hash = packed_head["hash"].as_str().unwrap().to_owned();
    let short = syncscope_core::store::short(&hash);
    let packed_dir = format!("{}/{short}.z", record.path);
    let packed = parameters_under(&world, &packed_dir);
    assert!(!packed.is_empty(), "a sharded record");

    // Turn it into what syncscope wrote before packing: format 1 shards under
    // PATH/<hash16>, and a format 2 head naming them.
    let entries = syncscope_core::store::entries_of_ledger(&record.ledger);
    let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
    let plain_dir = format!("{}/{short}", record.path);
    world
        .rt
        .block_on(ssm.write_shards(&plain_dir, &syncscope_core::store::encode(&entries)))
        .unwrap();
    let plain = parameters_under(&world, &plain_dir);
    assert!(
        plain.len() > packed.len(),
        "{} plain, {} packed",
        plain.len(),
        packed.len()
    );
    let mut old_head = packed_head.clone();
    old_head["syncscope"] = json!(2);
    old_head["of"] = json!(plain.len());
    world
        .rt
        .block_on(ssm.put(&head_name, &old_head.to_string(), false))
        .unwrap();
    for (name, _) in &packed {
        world
            .rt
            .block_on(world.ssm.delete_parameter().name(name).send())
            .unwrap();
    }
    assert_eq!(
        world.ledger().ledger,
        record.ledger,
        "the old format reads the same"
    );

    // The next change: one group fewer, removed because the old record owns it.
    let new_props = world.deploy(&config_with(&all[1..], guard));
    let body = expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "1", "{body:#}");
    assert_eq!(world.scope(), groups(&all[1..]));
    let head: Value = serde_json::from_str(&value_of(&world, &head_name)).unwrap();
    assert_eq!(head["syncscope"], 3, "rewritten packed: {head:#}");
    assert!(
        parameters_under(&world, &plain_dir).is_empty(),
        "the old shards are gone"
    );
    let owned: Vec<String> = world
        .ledger()
        .ledger
        .entries
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(owned.len(), 119);

    // And the packed record is what the Delete acts on.
    let delete = world.send(&world.event("Delete", &new_props, None, Some(&id)), TIMEOUT);
    assert_eq!(expect_status(&delete, "SUCCESS")["Data"]["Removed"], "119");
    assert_eq!(world.scope(), Vec::<String>::new());
}
