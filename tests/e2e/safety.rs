//! Safety: the deletion guard, dry run, failing closed, and secrets.

use identity_sync_emulator::Operation;
use serde_json::json;

use crate::helpers::*;

#[test]
fn the_guard_refuses_a_mass_removal_and_changes_nothing() {
    let names: Vec<String> = (0..12).map(|i| format!("G-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let world = World::start();
    let (old_props, id) = create(&world, &config(&refs));
    let writes = world.write_calls();
    let new_props = world.deploy(&config(&refs[..1]));
    let body = expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "FAILED",
    );
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("refusing to remove 11 of 12 filters"),
        "{reason}"
    );
    assert!(reason.contains("MaxRemovals to at least 11"), "{reason}");
    assert_eq!(world.write_calls(), writes, "nothing changed");
    assert_eq!(body["PhysicalResourceId"], id.as_str());
}

#[test]
fn raising_the_guard_in_the_config_allows_the_removal() {
    let names: Vec<String> = (0..12).map(|i| format!("G-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let world = World::start();
    let (old_props, id) = create(&world, &config(&refs));
    let allowed = config_with(
        &refs[..1],
        json!({ "DeletionGuard": { "MaxRemovals": 11, "MaxRemovalPercent": 92 } }),
    );
    let new_props = world.deploy(&allowed);
    expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(world.scope(), groups(&["G-00"]));
}

#[test]
fn a_dry_run_plans_and_changes_nothing() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Old".into())],
        ..Default::default()
    });
    let props = with(&world.deploy(&config(&["AWS-Admins"])), "DryRun", "true");
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["DryRun"], "true");
    assert_eq!(
        body["Data"]["Created"], "1",
        "the planned creates are reported"
    );
    assert!(body["Reason"].as_str().unwrap().starts_with("DRY RUN"));
    assert_eq!(world.write_calls(), 0);
    assert_eq!(world.scope(), groups(&["Old"]));
    assert_eq!(
        world.ledger().found,
        syncscope::ssm::Found::Nothing,
        "not even the ledger"
    );
}

#[test]
fn missing_filters_in_ssm_fail_closed() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "AWS-Admins".into())],
        ..Default::default()
    });
    let props = with(
        &world.deploy(&config(&["AWS-Admins"])),
        "FiltersParameter",
        "/syncscope/nowhere/filters/0000000000000000",
    );
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("could not read the filters"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0);
    assert_eq!(world.list_calls(), 0, "the scope was not read");
}

#[test]
fn filters_that_do_not_match_the_deployed_hash_fail_closed() {
    let world = World::start();
    let props = with(
        &world.deploy(&config(&["AWS-Admins"])),
        "FiltersHash",
        &"0".repeat(64),
    );
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("are not the ones this deployment wrote"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0);
}

#[test]
fn a_listing_error_fails_closed_and_removes_nothing() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "A".into())],
        ..Default::default()
    });
    let (old_props, id) = create(&world, &config(&["A"]));
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fault_rate": 1.0 }))
        .unwrap();
    let new_props = world.deploy(&config(&[]));
    let body = expect_status(
        &world.send(
            &world.event("Update", &new_props, Some(&old_props), Some(&id)),
            TIMEOUT,
        ),
        "FAILED",
    );
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("could not list the current sync scope"),
        "{body}"
    );
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fault_rate": 0.0 }))
        .unwrap();
    assert_eq!(world.scope(), groups(&["A"]));
}

#[test]
fn transient_faults_are_retried_and_the_run_converges_exactly() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            fault_rate: 0.2,
            fault_after_rate: 0.1,
            fault_seed: Some(7),
            ..Default::default()
        },
        ..Default::default()
    });
    let names: Vec<String> = (0..200).map(|i| format!("G-{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let scope = world.scope();
    assert_eq!(scope.len(), 200, "nothing lost, nothing duplicated");
    assert!(
        world
            .state()
            .counters_of(Operation::CreateSyncFilter)
            .faults
            > 0,
        "faults were injected"
    );
}

#[test]
fn the_response_url_and_the_webhook_never_appear_in_logs() {
    let world = world_failing("AWS-Broken", "AccessDeniedException");
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Broken"]));
    world
        .cfn
        .script([syncscope_harness::sink::Reply::status(500)]);
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(delivered.responses.len(), 2, "a 500, then the retry");
    assert_eq!(delivered.responses[1].json()["Status"], "FAILED");
    let logs = world.lambda_logs().join("\n");
    assert!(!logs.is_empty());
    for canary in [
        RESPONSE_URL_CANARY,
        WEBHOOK_CANARY,
        "X-Amz-Signature",
        "testing:testing",
    ] {
        assert!(!logs.contains(canary), "{canary} leaked into the logs");
    }
    for response in &delivered.responses {
        let text = String::from_utf8_lossy(&response.body);
        assert!(!text.contains(RESPONSE_URL_CANARY) && !text.contains(WEBHOOK_CANARY));
    }
}
