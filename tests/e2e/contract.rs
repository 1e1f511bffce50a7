//! The identity-sync contract's unknowns (docs/identity-sync-api.md), through the real
//! Lambda binary: answers in unexpected shapes, error codes no client knows, a listing
//! that lags behind the writes. Whatever the real service turns out to do among
//! these, a lifecycle stays correct.

use identity_sync_emulator::Knobs;
use serde_json::json;
use syncscope_harness::world::{World, WorldOptions};

use crate::helpers::*;

fn world_with(knobs: Knobs) -> World {
    World::with(WorldOptions {
        knobs,
        ..Default::default()
    })
}

/// Create for `config`, answered SUCCESS: (props, the answer, the physical id).
fn created(
    world: &World,
    config: &syncscope_core::config::Config,
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Value,
    String,
) {
    let props = world.deploy(config);
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = body["PhysicalResourceId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (props, body, id)
}

#[test]
fn a_lifecycle_stays_correct_when_answers_come_in_unexpected_shapes() {
    let world = world_with(Knobs {
        odd_shapes: true,
        ..Knobs::default()
    });
    let before = ["AWS-Admins", "AWS-Billing", "AWS-Developers", "AWS-Network"];
    let after = ["AWS-Admins", "AWS-Auditors", "AWS-Billing", "AWS-Network"];
    let cfg = config_with(&before, json!({ "OnDelete": "remove" }));
    let (props, id) = create(&world, &cfg);
    assert_eq!(world.scope(), groups(&before));

    let next = world.deploy(&config_with(&after, json!({ "OnDelete": "remove" })));
    let body = expect_status(
        &world.send(
            &world.event("Update", &next, Some(&props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Created"], "1", "{body:#}");
    assert_eq!(body["Data"]["Removed"], "1", "{body:#}");
    assert_eq!(world.scope(), groups(&after));

    let body = expect_status(
        &world.send(&world.event("Delete", &next, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "4", "{body:#}");
    assert_eq!(world.scope(), Vec::<String>::new());
}

#[test]
fn an_unknown_error_code_is_settled_from_the_scope_and_named() {
    let world = world_with(Knobs {
        fail_after_filters: [(
            "AWS-Made".to_owned(),
            "SomethingNewException".parse().unwrap(),
        )]
        .into(),
        ..Knobs::default()
    });
    let cfg = config_with(&["AWS-Admins", "AWS-Made"], json!({ "OnDelete": "remove" }));
    let (props, body, id) = created(&world, &cfg);
    assert!(
        warnings(&body).contains("AWS-Made") && warnings(&body).contains("SomethingNewException"),
        "{body:#}"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins", "AWS-Made"]));
    // It counts as made by this stack: its Delete removes it.
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_after_filters": {} }))
        .unwrap();
    let body = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "2", "{body:#}");
    assert_eq!(world.scope(), Vec::<String>::new());
}

#[test]
fn a_listing_that_lags_behind_a_console_change_is_no_false_alarm() {
    let world = world_with(Knobs {
        list_lag_ms: 1500,
        ..Knobs::default()
    });
    // Added in the console a moment ago: the run's listing does not show it yet, so
    // the run creates it and meets "already exists".
    world.console_add(syncscope_harness::world::PROFILE, "AWS-Admins");
    let cfg = config_with(&["AWS-Admins"], json!({ "OnDelete": "remove" }));
    let (props, body, id) = created(&world, &cfg);
    assert_eq!(warnings(&body), "", "{body:#}");
    assert_eq!(body["Data"]["ScopeSize"], "1", "{body:#}");
    // Once the listing caught up, the docs and the next run agree.
    std::thread::sleep(std::time::Duration::from_millis(1600));
    let body = expect_status(
        &world.send(
            &world.event("Update", &props, Some(&props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Created"], "0", "{body:#}");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}
