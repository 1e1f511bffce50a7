//! The scenarios of a resource's life: create, update, rollback, replacement, delete.

use identity_sync_emulator::Operation;
use serde_json::json;

use crate::helpers::*;

#[test]
fn create_applies_the_config_adopts_existing_and_leaves_unmanaged_filters() {
    let world = World::with(WorldOptions {
        existing: vec![
            ("GROUP", "aws-admins".into()),
            ("GROUP", "Console-Added".into()),
        ],
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Developers", "AWS-Billing"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&delivered, "SUCCESS");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}")
    );
    assert_eq!(body["Data"]["Created"], "2");
    assert_eq!(body["Data"]["Adopted"], "1");
    assert_eq!(body["Data"]["Unmanaged"], "1");
    assert_eq!(
        world.scope(),
        groups(&[
            "aws-admins",
            "AWS-Developers",
            "AWS-Billing",
            "Console-Added"
        ])
    );
    let state = world.state();
    assert_eq!(
        state.counters_of(Operation::CreateSyncFilter).requests,
        2,
        "one call per change"
    );
    assert_eq!(state.counters_of(Operation::DeleteSyncFilter).requests, 0);
}

#[test]
fn a_duplicate_create_delivery_converges_without_new_writes() {
    let world = World::start();
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Developers"]));
    let event = world.event("Create", &props, None, None);
    let first = expect_status(&world.send(&event, TIMEOUT), "SUCCESS");
    let writes = world.write_calls();
    let second_delivery = world.send(&event, TIMEOUT);
    // The same RequestId: both deliveries PUT one response each, with the same id.
    assert_eq!(
        second_delivery.responses.len(),
        2,
        "one response per delivery"
    );
    let second = second_delivery.responses[1].json();
    assert_eq!(second["Status"], "SUCCESS");
    assert_eq!(first["PhysicalResourceId"], second["PhysicalResourceId"]);
    assert_eq!(
        world.write_calls(),
        writes,
        "the second delivery changes nothing"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins", "AWS-Developers"]));
}

#[test]
fn update_adds_and_removes_only_managed_filters_and_keeps_the_id() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Console-Added".into())],
        ..Default::default()
    });
    let (old_props, id) = create(
        &world,
        &config(&["A-One", "A-Two", "A-Three", "A-Four", "A-Five"]),
    );
    let new_props = world.deploy(&config(&["A-One", "A-Two", "A-Three", "A-Four", "A-Six"]));
    let delivered = world.send(
        &world.event("Update", &new_props, Some(&old_props), Some(&id)),
        TIMEOUT,
    );
    let body = expect_status(&delivered, "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], id.as_str());
    assert_eq!(body["Data"]["Created"], "1");
    assert_eq!(body["Data"]["Removed"], "1");
    assert_eq!(body["Data"]["RemovedNames"], "A-Five");
    assert_eq!(
        world.scope(),
        groups(&[
            "A-One",
            "A-Two",
            "A-Three",
            "A-Four",
            "A-Six",
            "Console-Added"
        ])
    );
}

#[test]
fn an_update_of_service_timeout_only_changes_nothing_remote() {
    let world = World::start();
    let (props, id) = create(&world, &config(&["AWS-Admins"]));
    let before = world.state();
    let new_props = with(&props, "ServiceTimeout", "600");
    let delivered = world.send(
        &world.event("Update", &new_props, Some(&props), Some(&id)),
        TIMEOUT,
    );
    let body = expect_status(&delivered, "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], id.as_str());
    assert!(
        body["Reason"].as_str().unwrap().contains("ServiceTimeout"),
        "{body}"
    );
    let after = world.state();
    for op in [
        Operation::ListSyncFilters,
        Operation::CreateSyncFilter,
        Operation::DeleteSyncFilter,
    ] {
        assert_eq!(
            after.counters_of(op).requests,
            before.counters_of(op).requests,
            "{op:?} was called"
        );
    }
}

#[test]
fn a_rollback_update_restores_the_previous_scope() {
    let world = World::start();
    let (old_props, id) = create(&world, &config(&["G-One", "G-Two", "G-Three", "G-Four"]));
    let new_props = world.deploy(&config(&["G-One", "G-Two", "G-Three", "G-New"]));
    expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(
        world.scope(),
        groups(&["G-One", "G-Two", "G-Three", "G-New"])
    );
    // CloudFormation rolls back with the properties swapped; the old filters are still
    // in SSM under their own content-addressed path.
    let rollback = world.event("Update", &old_props, Some(&new_props), Some(&id));
    expect_status(&world.send(&rollback, TIMEOUT), "SUCCESS");
    assert_eq!(
        world.scope(),
        groups(&["G-One", "G-Two", "G-Three", "G-Four"])
    );
}

#[test]
fn a_failed_update_keeps_its_id() {
    let world = World::start();
    let (old_props, id) = create(&world, &config(&["AWS-Admins"]));
    let mut bad = world.deploy(&config(&["AWS-Admins", "AWS-New"]));
    bad.insert("Mode".into(), json!("sometimes"));
    let delivered = world.send(
        &world.event("Update", &bad, Some(&old_props), Some(&id)),
        TIMEOUT,
    );
    let body = expect_status(&delivered, "FAILED");
    assert_eq!(body["PhysicalResourceId"], id.as_str());
    assert!(body["Reason"].as_str().unwrap().contains("Mode"), "{body}");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}

#[test]
fn a_replacement_answers_a_new_id_and_the_retained_old_ids_delete_touches_nothing() {
    let world = World::with(WorldOptions {
        extra_profiles: vec!["OtherProfile"],
        ..Default::default()
    });
    let (old_props, old_id) = create(&world, &config(&["AWS-Admins"]));
    // A new sync profile: a new physical id, so CloudFormation replaces the resource.
    let new_props = with(&old_props, "SyncProfileName", "OtherProfile");
    let update = world.send(
        &world.event("Update", &new_props, Some(&old_props), Some(&old_id)),
        TIMEOUT,
    );
    let body = expect_status(&update, "SUCCESS");
    assert_eq!(
        body["PhysicalResourceId"],
        "syncscope:eu-central-1:OtherProfile"
    );
    assert_eq!(world.scope_of("OtherProfile"), groups(&["AWS-Admins"]));
    // CloudFormation then deletes the old id (OnDelete retain).
    let writes = world.write_calls();
    let delete = world.send(
        &world.event("Delete", &new_props, None, Some(&old_id)),
        TIMEOUT,
    );
    let body = expect_status(&delete, "SUCCESS");
    assert!(reason(&body).contains("retain"), "{body}");
    assert_eq!(world.write_calls(), writes, "retain: nothing removed");
    assert_eq!(
        world.scope(),
        groups(&["AWS-Admins"]),
        "the old profile's filters stay"
    );
    assert_eq!(world.scope_of("OtherProfile"), groups(&["AWS-Admins"]));
}

#[test]
fn a_plain_delete_retains_the_scope() {
    let world = World::start();
    let (props, id) = create(&world, &config(&["AWS-Admins", "AWS-Developers"]));
    let writes = world.write_calls();
    let body = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["PhysicalResourceId"], id.as_str());
    assert_eq!(world.write_calls(), writes);
    assert_eq!(world.scope(), groups(&["AWS-Admins", "AWS-Developers"]));
}

#[test]
fn a_delete_with_on_delete_remove_removes_only_managed_filters() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Console-Added".into())],
        ..Default::default()
    });
    let cfg = config_with(
        &["AWS-Admins", "AWS-Developers"],
        json!({ "OnDelete": "remove" }),
    );
    let (props, id) = create(&world, &cfg);
    let body = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "2");
    assert_eq!(world.scope(), groups(&["Console-Added"]));
}

#[test]
fn a_delete_when_everything_is_already_gone_succeeds() {
    let world = World::start();
    let cfg = config_with(&["AWS-Admins"], json!({ "OnDelete": "remove" }));
    let (props, id) = create(&world, &cfg);
    // Someone removed the filter in the console.
    world.emulator.emulator().reset(None).unwrap();
    let seeded = identity_sync_emulator::Seed::from_json(&format!(
        r#"{{"profiles":[{{"name":"{PROFILE}","source_arn":"arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890"}}]}}"#
    ))
    .unwrap();
    world.emulator.emulator().reset(Some(&seeded)).unwrap();
    let body = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "0");
    assert_eq!(
        world
            .state()
            .counters_of(Operation::DeleteSyncFilter)
            .requests,
        0
    );
}

#[test]
fn a_delete_with_a_persistent_backend_error_answers_exactly_one_failed() {
    let world = World::start();
    let cfg = config_with(
        &["AWS-Admins", "AWS-Broken"],
        json!({ "OnDelete": "remove" }),
    );
    let (props, id) = create(&world, &cfg);
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": { "AWS-Broken": "AccessDeniedException" } }))
        .unwrap();
    let delivered = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    let body = expect_status(&delivered, "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("AWS-Broken") && reason.contains("AccessDeniedException"),
        "{reason}"
    );
    assert_eq!(
        world.scope(),
        groups(&["AWS-Broken"]),
        "the rest was removed"
    );
    // CloudFormation's retry of the Delete, once the fault is gone, converges.
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": {} }))
        .unwrap();
    let retry = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    assert_eq!(expect_status(&retry, "SUCCESS")["Data"]["Removed"], "1");
    assert_eq!(world.scope(), Vec::<String>::new());
    assert_eq!(world.ledger().found, syncscope::ssm::Found::Nothing);
}

#[test]
fn a_create_that_fails_halfway_names_the_filter_and_its_retained_delete_touches_nothing() {
    let world = world_failing("AWS-Broken", "ValidationException");
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Broken", "AWS-Developers"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&delivered, "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("\"AWS-Broken\"") && reason.contains("ValidationException"),
        "{reason}"
    );
    assert_eq!(
        world.scope(),
        groups(&["AWS-Admins", "AWS-Developers"]),
        "the rest applied"
    );
    // It changed the scope, so it answers its real id (the rollback Delete finds it).
    let id = body["PhysicalResourceId"].as_str().unwrap();
    assert_eq!(id, format!("syncscope:eu-central-1:{PROFILE}"));
    let writes = world.write_calls();
    let delete = world.send(&world.event("Delete", &props, None, Some(id)), TIMEOUT);
    expect_status(&delete, "SUCCESS");
    assert_eq!(
        world.write_calls(),
        writes,
        "OnDelete retain: the Delete after a failed Create removes nothing"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins", "AWS-Developers"]));
}

#[test]
fn a_second_run_after_failures_converges() {
    let world = world_failing("AWS-Broken", "InternalServerException");
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Broken"]));
    let first = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    assert!(first["Reason"].as_str().unwrap().contains("AWS-Broken"));
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": {} }))
        .unwrap();
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins", "AWS-Broken"]));
}

#[test]
fn two_thousand_groups_load_from_sharded_parameters_and_apply() {
    let world = World::start();
    let names: Vec<String> = (0..2000)
        .map(|i| format!("AWS-Team-{i:04}-Access"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    let body = expect_status(
        &world.send(
            &world.event("Create", &props, None, None),
            std::time::Duration::from_secs(120),
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Created"], "2000");
    assert_eq!(world.scope().len(), 2000);
    let state = world.state();
    assert_eq!(
        state.counters_of(Operation::CreateSyncFilter).requests,
        2000
    );
}

#[test]
fn filters_packed_by_synth_and_filters_stored_one_entry_per_line_before_both_apply() {
    let world = World::start();
    let names: Vec<String> = (0..300)
        .map(|i| format!("AWS-Team-{i:04}-Access"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let cfg = config(&refs);
    // As `syncscope synth`'s template stores them: packed, a few Standard shards.
    let props = world.deploy(&cfg);
    let version = props["FiltersParameter"].as_str().unwrap().to_owned();
    let packed = world
        .rt
        .block_on(world.ssm.get_parameters_by_path().path(&version).send())
        .unwrap()
        .parameters
        .unwrap_or_default();
    assert!(!packed.is_empty());
    for p in &packed {
        let doc: serde_json::Value = serde_json::from_str(p.value().unwrap()).unwrap();
        assert_eq!(doc["syncscope"], 2, "packed: {doc}");
    }
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Created"], "300");

    // A stack deployed before packing keeps its one-entry-per-line shards (format 1)
    // until its next deploy: they are read the same.
    let mut fewer = cfg.clone();
    fewer.sso.groups.truncate(299);
    let entries = syncscope_core::store::entries_of(&fewer.desired());
    let hash = syncscope_core::store::hash(&entries);
    let plain = format!("{}/plain", world.names().filters_version(&hash));
    let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
    let shards = syncscope_core::store::encode(&entries);
    assert!(shards.len() > packed.len(), "{} plain shards", shards.len());
    world
        .rt
        .block_on(ssm.write_shards(&plain, &shards))
        .unwrap();
    let mut old_format = world.deploy(&fewer);
    old_format.insert("FiltersParameter".into(), json!(plain));
    old_format.insert("MaxRemovals".into(), json!("1"));
    let body = expect_status(
        &world.send(
            &world.event(
                "Update",
                &old_format,
                Some(&props),
                body["PhysicalResourceId"].as_str(),
            ),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "1", "{body:#}");
    assert_eq!(world.scope().len(), 299);
}

#[test]
fn a_scheduled_drift_check_reports_console_edits_and_changes_nothing() {
    let world = World::start();
    let (props, _) = create(&world, &config(&["AWS-Admins", "AWS-Developers"]));
    // Someone removes a filter in the console and adds another one.
    let state = world.state();
    let admins = state
        .profile(PROFILE)
        .unwrap()
        .filters
        .iter()
        .find(|f| f.name == "AWS-Admins")
        .unwrap()
        .id
        .clone();
    let seed = serde_json::json!({"profiles": [{"name": PROFILE, "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
        "filters": [{"type": "GROUP", "name": "AWS-Developers", "domain": DOMAIN}, {"type": "GROUP", "name": "Console-Added", "domain": DOMAIN}]}]});
    assert!(!admins.is_empty());
    world
        .emulator
        .emulator()
        .reset(Some(
            &identity_sync_emulator::Seed::from_json(&seed.to_string()).unwrap(),
        ))
        .unwrap();
    let event =
        json!({ "syncscope": "drift", "StackName": world.stack(), "ResourceProperties": props });
    let delivered = world.send(&event, TIMEOUT);
    let syncscope_harness::runtime_api::Ended::Response(result) = &delivered.invocation.ended
    else {
        panic!("{:?}", delivered.invocation)
    };
    assert_eq!(result["Status"], "SUCCESS", "{result}");
    assert_eq!(
        result["Data"]["CreatedNames"], "AWS-Admins",
        "the missing filter is reported as drift: {result}"
    );
    assert_eq!(result["Data"]["UnmanagedNames"], "Console-Added");
    assert_eq!(result["Data"]["DryRun"], "true");
    assert!(
        delivered.responses.is_empty(),
        "no CloudFormation response for a drift check"
    );
    assert_eq!(world.write_calls(), 0);
    assert_eq!(world.scope(), groups(&["AWS-Developers", "Console-Added"]));
}
