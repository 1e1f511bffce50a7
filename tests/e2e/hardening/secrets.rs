//! Secrets planted as canaries (credentials, the ResponseURL, the webhook) never
//! appear in logs, answers, cards or docs, at any log level and on a panic.

use super::*;

/// Replaces the world's emulator with one that accepts only the canary credentials,
/// and restarts the Lambda with them (and any extra environment).
fn canary_world(extra_env: &[(&str, &str)]) -> World {
    let mut world = World::start();
    world.stop_lambda();
    let seed = Seed::from_json(
        &json!({ "profiles": [{
            "name": PROFILE,
            "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
            "state": "ACTIVE",
            "targets": [{ "name": "IdentityStoreForSSO", "target_arn": "arn:aws:identitystore::123456789012:identitystore/d-1234567890" }],
            "filters": [],
        }]})
        .to_string(),
    )
    .unwrap();
    world.emulator = identity_sync_emulator::spawn(Options {
        seed: Some(seed),
        credentials: vec![Credentials::new(ACCESS_KEY_ID, SECRET_KEY_CANARY)],
        ..Options::default()
    })
    .unwrap();
    let mut env: Vec<(String, String)> = vec![
        ("AWS_ENDPOINT_URL".into(), world.moto.url.clone()),
        (
            "AWS_ENDPOINT_URL_IDENTITY_SYNC".into(),
            world.emulator.base_url(),
        ),
        ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY_CANARY.into()),
        ("AWS_SESSION_TOKEN".into(), SESSION_TOKEN_CANARY.into()),
    ];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    world.lambda = Some(
        LambdaProcess::start(
            syncscope_harness::paths::binary("syncscope-lambda"),
            &world.runtime.endpoint(),
            &env,
        )
        .unwrap(),
    );
    world
}

fn assert_no_canary(places: &[(String, String)]) {
    assert_none_of(
        places,
        &[
            SECRET_KEY_CANARY,
            SESSION_TOKEN_CANARY,
            RESPONSE_URL_CANARY,
            WEBHOOK_CANARY,
            "X-Amz-Signature=",
        ],
    );
}

fn assert_none_of(places: &[(String, String)], canaries: &[&str]) {
    for (place, text) in places {
        for canary in canaries {
            assert!(
                !text.contains(canary),
                "a secret leaked into {place}: …{}…",
                redacted_excerpt(text, canary)
            );
        }
    }
}

#[test]
fn credentials_the_response_url_and_the_webhook_never_leak_even_at_trace_level() {
    // At TRACE the Lambda runtime logs every raw event (the signed ResponseURL with
    // it): dependencies are capped at DEBUG whatever the environment asks.
    let world = canary_world(&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]);
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": { "AWS-Broken": "AccessDeniedException" } }))
        .unwrap();
    // Success, partial failure, bad properties, a failing Teams and ResponseURL.
    let props = world.deploy(&config(&["AWS-Admins"]));
    let first = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = first["PhysicalResourceId"].as_str().unwrap().to_owned();
    let broken = world.deploy(&config(&["AWS-Admins", "AWS-Broken"]));
    world.teams.script([Reply::status(500)]);
    world.cfn.script([Reply::status(503)]);
    let second = world.send(
        &world.event("Update", &broken, Some(&props), Some(&id)),
        TIMEOUT,
    );
    assert_eq!(second.responses.len(), 2, "a 503, then the retry");
    assert_eq!(second.responses[1].json()["Status"], "FAILED");
    let bad = with(&props, "Mode", "sometimes");
    expect_status(
        &world.send(&world.event("Create", &bad, None, None), TIMEOUT),
        "FAILED",
    );
    world.cfn.script([Reply::status(403)]);
    world.send(&world.event("Create", &props, None, None), TIMEOUT);

    assert_eq!(
        world.scope(),
        groups(&["AWS-Admins"]),
        "the canary credentials worked"
    );
    let logs = world.lambda_logs();
    assert!(
        logs.iter().any(|l| l.contains("\"DEBUG\"")),
        "debug logging was on"
    );
    let places = haystacks(&world, props["DocsBucket"].as_str());
    assert!(places.len() > 8, "{} places searched", places.len());
    assert_no_canary(&places);
}

#[test]
fn a_panic_never_leaks_credentials_or_the_response_url() {
    let world = canary_world(&[("SYNCSCOPE_TEST_FAULT", "panic"), ("RUST_BACKTRACE", "1")]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    assert!(reason(&body).contains("panicked"), "{body}");
    assert!(
        world.lambda_logs().iter().any(|l| l.contains("panicked")),
        "the panic is logged"
    );
    assert_no_canary(&haystacks(&world, None));
}

/// A world whose Lambda signs with a secret key the emulator does not know.
fn rejected_credentials_run() -> (World, Value) {
    let mut world = World::start();
    world.stop_lambda();
    world.lambda = Some(
        LambdaProcess::start(
            syncscope_harness::paths::binary("syncscope-lambda"),
            &world.runtime.endpoint(),
            &[
                ("AWS_ENDPOINT_URL".into(), world.moto.url.clone()),
                (
                    "AWS_ENDPOINT_URL_IDENTITY_SYNC".into(),
                    world.emulator.base_url(),
                ),
                ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY_CANARY.into()),
                ("AWS_SESSION_TOKEN".into(), SESSION_TOKEN_CANARY.into()),
            ],
        )
        .unwrap(),
    );
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    (world, body)
}

#[test]
fn rejected_credentials_fail_closed_without_leaking_the_secret_key() {
    let (world, body) = rejected_credentials_run();
    assert!(
        reason(&body).contains("could not list the current sync scope"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0);
    assert_none_of(
        &haystacks(&world, None),
        &[SECRET_KEY_CANARY, RESPONSE_URL_CANARY, WEBHOOK_CANARY],
    );
}

/// A SigV4 signature error from the service quotes the canonical request, which holds
/// the `x-amz-security-token` header; the client keeps only the explanation before it
/// (`wire::parse_error`), so the token reaches no log, Reason or card.
#[test]
fn a_signature_error_never_echoes_the_session_token() {
    let (world, _) = rejected_credentials_run();
    assert_none_of(&haystacks(&world, None), &[SESSION_TOKEN_CANARY]);
}
