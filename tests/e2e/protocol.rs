//! The CloudFormation protocol itself: the PUT, malformed events, panics, timeouts,
//! and the 4,096-byte limit.

use std::time::{Duration, Instant};

use identity_sync_emulator::Operation;
use serde_json::json;
use syncscope_harness::sink::Reply;

use crate::helpers::*;

#[test]
fn the_put_has_no_content_type_an_exact_length_and_the_request_ids() {
    let world = World::start();
    let props = world.deploy(&config(&["AWS-Admins"]));
    let event = world.event("Create", &props, None, None);
    let delivered = world.send(&event, TIMEOUT);
    let put = &delivered.responses[0];
    assert_eq!(put.method, "PUT");
    assert!(
        put.header("content-type").is_none_or(str::is_empty),
        "{:?}",
        put.headers
    );
    assert_eq!(
        put.header("content-length"),
        Some(put.body.len().to_string().as_str())
    );
    let body = put.json();
    assert_eq!(body["StackId"], event["StackId"]);
    assert_eq!(body["RequestId"], event["RequestId"]);
    assert_eq!(body["LogicalResourceId"], "SyncScope");
    assert!(body.get("Reason").is_some_and(|r| r.is_string()));
}

#[test]
fn a_put_answered_5xx_is_retried_until_it_is_accepted() {
    let world = World::start();
    world.cfn.script([Reply::status(500), Reply::status(503)]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(delivered.responses.len(), 3, "two 5xx, then accepted");
    let bodies: Vec<_> = delivered.responses.iter().map(|r| r.body.clone()).collect();
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every retry sends the same response"
    );
    assert_eq!(
        delivered.invocation.ended,
        syncscope_harness::runtime_api::Ended::Response(
            json!({"Status": "SUCCESS", "Delivered": true})
        )
    );
}

#[test]
fn a_put_answered_403_is_logged_as_a_failure_and_not_retried() {
    let world = World::start();
    world.cfn.script([Reply::status(403)]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(delivered.responses.len(), 1);
    assert_eq!(
        delivered.invocation.ended,
        syncscope_harness::runtime_api::Ended::Response(
            json!({"Status": "SUCCESS", "Delivered": false})
        )
    );
    assert!(
        world
            .lambda_logs()
            .iter()
            .any(|l| l.contains("refused the response") && l.contains("403"))
    );
}

#[test]
fn bad_properties_on_create_answer_failed_with_every_problem_and_the_delete_succeeds() {
    let world = World::start();
    let mut props = world.deploy(&config(&["AWS-Admins"]));
    props.remove("AdDomainName");
    props.insert("MaxRemovals".into(), json!("many"));
    let (body, id) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("AdDomainName: required property is missing"),
        "{reason}"
    );
    assert!(reason.contains("MaxRemovals: \"many\""), "{reason}");
    assert_eq!(world.write_calls(), 0);
    let delete = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    expect_status(&delete, "SUCCESS");
    assert_eq!(world.write_calls(), 0);
    assert_eq!(world.list_calls(), 0, "the scope was not read");
}

#[test]
fn a_delete_for_an_id_never_issued_succeeds_untouched() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "AWS-Admins".into())],
        ..Default::default()
    });
    let props = world.deploy(&config_with(
        &["AWS-Admins"],
        json!({ "OnDelete": "remove" }),
    ));
    let body = expect_status(
        &world.send(
            &world.event("Delete", &props, None, Some("SyncScope-1A2B3C4D")),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["PhysicalResourceId"], "SyncScope-1A2B3C4D");
    assert_eq!(world.list_calls(), 0, "the scope was not read");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}

#[test]
fn an_unknown_request_type_answers_failed() {
    let world = World::start();
    let props = world.deploy(&config(&["AWS-Admins"]));
    let mut event = world.event("Create", &props, None, None);
    event["RequestType"] = json!("Upgrade");
    let body = expect_status(&world.send(&event, TIMEOUT), "FAILED");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("malformed CloudFormation event"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0);
}

#[test]
fn a_malformed_event_with_a_response_url_answers_failed() {
    let world = World::start();
    let props = world.deploy(&config(&["AWS-Admins"]));
    let mut event = world.event("Create", &props, None, None);
    event["ResourceProperties"] = json!("not an object");
    event.as_object_mut().unwrap().remove("ResourceType");
    let body = expect_status(&world.send(&event, TIMEOUT), "FAILED");
    assert!(!body["Reason"].as_str().unwrap().is_empty());
    assert_eq!(world.write_calls(), 0);
}

#[test]
fn a_panic_answers_failed_once() {
    let world = World::with(WorldOptions {
        lambda_env: vec![("SYNCSCOPE_TEST_FAULT".into(), "panic".into())],
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let (body, _) = expect_failed_create(&delivered);
    assert!(
        body["Reason"].as_str().unwrap().contains("panicked"),
        "{body}"
    );
    // The run never reached its report: its card goes out after the answer.
    let cards = crate::reporting::cards(&world);
    assert_eq!(cards.len(), 1, "one card for the run cut short");
    let text = crate::reporting::texts(&cards[0]);
    assert!(text.contains("syncscope panicked"), "{text}");
}

#[test]
fn a_backend_hanging_past_the_deadline_answers_failed_before_it_and_only_once() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            hang_ops: [Operation::ListSyncFilters].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins"]));
    let timeout = Duration::from_secs(15);
    let started = Instant::now();
    let delivered = world.send(&world.event("Create", &props, None, None), timeout);
    let elapsed = started.elapsed();
    let body = expect_status(&delivered, "FAILED");
    assert!(
        elapsed < timeout,
        "answered after the deadline ({elapsed:?})"
    );
    assert!(
        body["Reason"].as_str().unwrap().contains("could not list"),
        "{body}"
    );
    // Wait past the deadline: no second PUT may arrive.
    std::thread::sleep(timeout.saturating_sub(started.elapsed()) + Duration::from_secs(1));
    let all: Vec<_> = world
        .cfn
        .requests()
        .into_iter()
        .filter(|r| {
            r.uri
                .contains(delivered.responses[0].json()["RequestId"].as_str().unwrap())
        })
        .collect();
    assert_eq!(all.len(), 1, "exactly one response");
}

#[test]
fn a_hang_in_the_apply_is_cut_by_the_deadline_guard_with_one_failed() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            hang_filters: ["AWS-Stuck".to_owned()].into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Stuck"]));
    let timeout = Duration::from_secs(14);
    let delivered = world.send(&world.event("Create", &props, None, None), timeout);
    let body = expect_status(&delivered, "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.contains("AWS-Stuck"), "{reason}");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}"),
        "the Create may have changed the scope: the rollback Delete must find it"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(world.cfn.requests().len(), 1, "exactly one response");
    assert!(world.scope().contains(&"GROUP AWS-Admins".to_owned()));
}

#[test]
fn work_that_outlives_the_deadline_guard_is_answered_failed_once_and_still_gets_its_card() {
    let world = World::with(WorldOptions {
        lambda_env: vec![("SYNCSCOPE_TEST_FAULT".into(), "hang".into())],
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins"]));
    let timeout = Duration::from_secs(8);
    let started = Instant::now();
    let delivered = world.send(&world.event("Create", &props, None, None), timeout);
    let body = expect_status(&delivered, "FAILED");
    assert!(started.elapsed() < timeout + Duration::from_secs(1));
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with("timed out: syncscope had no result"),
        "{reason}"
    );
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}"),
        "a Create cut short may have changed the scope: the rollback Delete must find it"
    );
    assert_eq!(world.cfn.requests().len(), 1, "exactly one response");
    // The run never reached its report: one card, sent after the answer.
    let cards = crate::reporting::cards(&world);
    assert_eq!(cards.len(), 1, "one card for the run cut short");
    let text = crate::reporting::texts(&cards[0]);
    assert!(
        text.contains("timed out: syncscope had no result"),
        "{text}"
    );
}

#[test]
fn an_oversized_reason_with_multibyte_names_stays_under_4096_bytes() {
    let world = World::start();
    let names: Vec<String> = (0..60)
        .map(|i| format!("Zugriff-Überwachung-Äöü-日本語-{i:03}"))
        .collect();
    let knobs = json!({ "fail_filters": names.iter().map(|n| (n.clone(), json!("ValidationException"))).collect::<serde_json::Map<_, _>>() });
    world.emulator.emulator().update_knobs(&knobs).unwrap();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let raw = &delivered.responses[0].body;
    assert!(raw.len() <= 4096, "{} bytes", raw.len());
    let body = expect_status(&delivered, "FAILED");
    assert!(
        body["Reason"].as_str().unwrap().ends_with("… (truncated)"),
        "{body}"
    );
}

#[test]
fn a_non_cloudformation_event_is_logged_and_returns_ok() {
    let world = World::start();
    let delivered = world.send(
        &json!({ "hello": "world-value-never-logged" }),
        Duration::from_secs(10),
    );
    assert!(delivered.returned_ok());
    assert!(world.cfn.requests().is_empty());
    let logs = world.lambda_logs();
    assert!(
        logs.iter().any(
            |l| l.contains("not a CloudFormation custom resource request") && l.contains("hello")
        ),
        "the event is logged with its keys: {logs:#?}"
    );
    assert!(
        !logs.iter().any(|l| l.contains("world-value-never-logged")),
        "never its values"
    );
}
