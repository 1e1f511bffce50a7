//! Trust boundaries through the real binary: whoever can invoke the function chooses
//! its event, and the function obeys only what its own stack asks, answers only on
//! CloudFormation's response hosts, and follows no redirect (reporting.rs has the
//! redirect; hardening/secrets.rs the TRACE canaries).

use serde_json::json;
use syncscope_harness::runtime_api::Ended;

use crate::helpers::*;

/// A world whose function is pinned to another stack than the one its events name.
fn pinned_elsewhere() -> World {
    World::with(WorldOptions {
        lambda_env: vec![(
            "SYNCSCOPE_STACK_ID".into(),
            "arn:aws:cloudformation:eu-central-1:123456789012:stack/The-Real-Stack/11111111-2222-4333-8444-555555555555".into(),
        )],
        ..Default::default()
    })
}

#[test]
fn an_event_of_another_stack_is_answered_failed_and_changes_nothing() {
    let world = pinned_elsewhere();
    let props = world.deploy(&config_with(
        &["AWS-Admins"],
        json!({ "OnDelete": "remove" }),
    ));
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "FAILED");
    assert!(
        reason(&body).contains("this function serves stack The-Real-Stack"),
        "{body:#}"
    );
    assert!(
        body["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .starts_with("syncscope:failed-create:")
    );
    assert_eq!(world.list_calls(), 0, "the scope was not even read");
    assert_eq!(world.scope(), Vec::<String>::new());
    assert!(
        world
            .lambda_logs()
            .iter()
            .any(|l| l.contains("an event of another stack") && l.contains(&world.stack_id())),
        "the foreign StackId is logged"
    );

    // A drift event for another stack: nothing read, nothing done.
    let drift =
        json!({ "syncscope": "drift", "StackName": world.stack(), "ResourceProperties": props });
    let delivered = world.send(&drift, TIMEOUT);
    let Ended::Response(result) = &delivered.invocation.ended else {
        panic!("{:?}", delivered.invocation)
    };
    assert_eq!(result["Status"], "FAILED", "{result}");
    assert_eq!(world.list_calls(), 0);
}

#[test]
fn a_response_url_outside_cloudformations_hosts_is_never_answered_and_nothing_is_done() {
    let world = World::start();
    let props = world.deploy(&config(&["AWS-Admins"]));
    for url in [
        "https://collector.example.com/cloudformation-custom-resource-response-euc1/x?X-Amz-Signature=s",
        "http://cloudformation-custom-resource-response-euc1.s3.amazonaws.com/x?X-Amz-Signature=s",
    ] {
        let mut event = world.event("Create", &props, None, None);
        event["ResponseURL"] = json!(url);
        let delivered = world.send(&event, TIMEOUT);
        let Ended::Response(result) = &delivered.invocation.ended else {
            panic!("{:?}", delivered.invocation)
        };
        assert!(
            result["error"]
                .as_str()
                .unwrap_or_default()
                .starts_with("the ResponseURL is refused"),
            "{result}"
        );
    }
    assert_eq!(world.list_calls(), 0, "nothing was read");
    assert_eq!(world.scope(), Vec::<String>::new());
    assert!(
        world
            .lambda_logs()
            .iter()
            .all(|l| !l.contains("collector.example.com")),
        "the refused URL is not logged"
    );
}

#[test]
fn a_next_token_cycle_of_three_ends_the_listing_with_an_error_naming_the_profile() {
    let world = World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            page_size: 2,
            token_cycle: 3,
            ..Default::default()
        },
        ..Default::default()
    });
    for n in 0..10 {
        world.console_add(PROFILE, &format!("Console-{n}"));
    }
    let (writes, lists) = (world.write_calls(), world.list_calls());
    let props = world.deploy(&config(&["AWS-Admins"]));
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "FAILED");
    let why = reason(&body);
    assert!(
        why.contains("NextToken it had returned before")
            && why.contains(&format!("profile {PROFILE}")),
        "{body:#}"
    );
    assert_eq!(world.write_calls(), writes, "nothing changed");
    let pages = world.list_calls() - lists;
    assert!(pages < 20, "{pages} pages: the cycle was caught");
}

#[test]
fn a_hundred_mebibyte_identity_sync_answer_is_not_read_the_run_fails_and_nothing_changes() {
    let world = World::start();
    world.console_add(PROFILE, "Console-Kept");
    let props = world.deploy(&config(&["AWS-Admins"]));
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "huge_body_mib": 100 }))
        .unwrap();
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "FAILED");
    let limit = syncscope::identity_sync::client::MAX_BODY_BYTES;
    assert!(
        reason(&body).contains(&format!(
            "the answer is larger than {limit} bytes, the most syncscope reads from identity-sync"
        )),
        "{body:#}"
    );
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "huge_body_mib": 0 }))
        .unwrap();
    assert_eq!(world.scope(), ["GROUP Console-Kept"], "nothing changed");
    // The same function answers the next event: it did not run out of memory.
    let retry = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    expect_status(&retry, "SUCCESS");
}

#[test]
fn a_card_is_not_posted_to_a_host_outside_the_allow_list_and_the_url_is_not_shown() {
    let world = World::start();
    let mut props = world.deploy(&config(&["AWS-Admins"]));
    props.insert(
        "TeamsWebhook".into(),
        json!("https://hooks.example.net/teams/HOSTCANARY0123?sig=HOSTSIGCANARY0123"),
    );
    let create = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&create, "SUCCESS");
    let why = warnings(&body);
    assert!(
        why.contains("Teams card not sent")
            && why.contains(
                "its host hooks.example.net is not a Microsoft Teams or Power Automate webhook host"
            ),
        "{why}"
    );
    assert_eq!(
        world.scope(),
        ["GROUP AWS-Admins"],
        "the run itself went on"
    );
    let logs = world.lambda_logs().join("\n");
    for canary in ["HOSTCANARY0123", "HOSTSIGCANARY0123"] {
        assert!(
            !why.contains(canary) && !logs.contains(canary),
            "{canary} shown"
        );
    }
}

/// A plain web server where AWS should be: every request answered 404 with a page.
fn not_aws() -> syncscope_harness::sink::Sink {
    syncscope_harness::sink::Sink::answering(
        syncscope_harness::sink::Reply::status(404)
            .body("<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>"),
    )
    .expect("start the plain server")
}

/// Sends a Create and asserts it fails naming the plain server by status and host,
/// without the old ": no message", and that nothing was changed.
fn fails_naming(
    world: &World,
    props: &serde_json::Map<String, serde_json::Value>,
    server: &syncscope_harness::sink::Sink,
) {
    let body = expect_status(
        &world.send(&world.event("Create", props, None, None), TIMEOUT),
        "FAILED",
    );
    let why = reason(&body);
    assert!(
        why.contains(&format!(
            "HTTP 404 from {}, an answer without an AWS error code",
            server.addr
        )) && !why.contains("no message"),
        "{why}"
    );
    assert!(!server.requests().is_empty(), "the server was asked");
    assert_eq!(world.write_calls(), 0, "nothing was changed");
}

#[test]
fn an_identity_sync_endpoint_that_is_not_aws_is_named_by_status_and_host() {
    let server = not_aws();
    let world = World::with(WorldOptions {
        lambda_env: vec![(
            "AWS_ENDPOINT_URL_IDENTITY_SYNC".into(),
            format!("http://{}", server.addr),
        )],
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins"]));
    fails_naming(&world, &props, &server);
}

#[test]
fn a_directory_endpoint_that_is_not_aws_is_named_by_status_and_host() {
    let server = not_aws();
    let world = World::with(WorldOptions {
        directories: vec![json!({
            "id": "d-1234567890", "domain": DOMAIN, "type": "managed",
            "data_access": true, "users": ["alice"], "groups": {"AWS-Admins": {"users": ["alice"]}},
        })],
        lambda_env: vec![(
            "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA".into(),
            format!("http://{}", server.addr),
        )],
        ..Default::default()
    });
    let mut props = world.deploy(&config_with(
        &["AWS-Admins"],
        json!({"DirectoryCheck": "require"}),
    ));
    props.insert("MaxRemovalPercent".into(), json!("100"));
    fails_naming(&world, &props, &server);
}
