//! Concurrency: overlapping deliveries of one request, and Deletes of other ids
//! while a Create runs.

use super::*;

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
