//! The fault matrix: throttling, transient and persistent faults of every backend,
//! and what each does to the answer, the card and the scope.

use super::*;

#[test]
fn throttling_bursts_are_retried_and_the_scope_converges() {
    let world = World::with(WorldOptions {
        knobs: Knobs {
            concurrency_limit: Some(2),
            latency_ms: 20,
            ..Default::default()
        },
        ..Default::default()
    });
    let names: Vec<String> = (0..60).map(|i| format!("Burst-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_, _) = create(&world, &config(&refs));
    assert_eq!(
        world.scope(),
        groups(&refs),
        "nothing lost, nothing duplicated"
    );
    assert!(
        world
            .state()
            .counters_of(Operation::CreateSyncFilter)
            .throttled
            > 0,
        "the emulator throttled"
    );
    assert_eq!(ledger_entries(&world).len(), 60);
}

#[test]
fn a_thousand_filters_with_20_percent_transient_faults_converge_exactly() {
    let world = World::with(WorldOptions {
        knobs: Knobs {
            fault_rate: 0.2,
            fault_after_rate: 0.05,
            fault_seed: Some(1000),
            ..Default::default()
        },
        ..Default::default()
    });
    let names: Vec<String> = (0..1000).map(|i| format!("Grp-{i:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    let mut delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(90),
    );
    // A fault budget exhausted on some filters is a partial failure; the next
    // delivery converges. Both are allowed; a loss or a duplicate is not.
    if delivered.response()["Status"] == "FAILED" {
        let r = reason(&delivered.response());
        assert!(r.contains("failed"), "{r}");
        delivered = world.send(
            &world.event("Create", &props, None, None),
            Duration::from_secs(90),
        );
    }
    expect_status(&delivered, "SUCCESS");
    let scope = world.scope();
    assert_eq!(scope, groups(&refs), "nothing lost, nothing duplicated");
    assert_eq!(
        ledger_entries(&world),
        groups(&refs),
        "the ledger holds each filter once"
    );
    let counters = world.state().counters_of(Operation::CreateSyncFilter);
    assert!(counters.faults > 100, "{counters:?}");
}

#[test]
fn persistent_backend_faults_fail_closed_and_a_later_run_converges() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Console-Added".into())],
        knobs: Knobs {
            fault_rate: 1.0,
            ..Default::default()
        },
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Dev"]));
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    assert!(
        reason(&body).contains("could not list the current sync scope"),
        "{body}"
    );
    assert_eq!(world.write_calls(), 0, "fail closed: nothing written");
    let cards = world.teams.requests();
    assert_eq!(cards.len(), 1);
    let card = String::from_utf8_lossy(&cards[0].body).into_owned();
    assert!(
        card.contains("sync failed") && card.contains("could not list the current sync scope"),
        "{card}"
    );
    assert!(ledger_entries(&world).is_empty());

    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fault_rate": 0.0 }))
        .unwrap();
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(
        world.scope(),
        groups(&["AWS-Admins", "AWS-Dev", "Console-Added"])
    );
    assert_eq!(ledger_entries(&world), groups(&["AWS-Admins", "AWS-Dev"]));
}

/// Starts a world whose Lambda sends one AWS service to `endpoint`.
fn world_with_endpoint(var: &str, endpoint: &str) -> World {
    World::with(WorldOptions {
        lambda_env: vec![(var.to_owned(), endpoint.to_owned())],
        ..Default::default()
    })
}

#[test]
fn s3_answering_5xx_is_a_warning_on_the_response_and_the_card_and_the_scope_is_applied() {
    let s3 = Sink::start(503).unwrap();
    let world = world_with_endpoint("AWS_ENDPOINT_URL_S3", &s3.url(""));
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let w = warnings(&body);
    assert!(w.contains("documentation not published"), "{body:#}");
    assert!(!s3.requests().is_empty(), "the Lambda did call S3");
    // The page is streamed from its scratch file: each retry of the 503 sent it whole
    // again, and the live and the dated copy got the same bytes.
    let pages: Vec<_> = s3
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.uri.contains("/index.html"))
        .collect();
    assert!(
        pages.len() >= 4,
        "{} page puts: 2 keys, retried",
        pages.len()
    );
    let page = aws_chunked_payload(&pages[0].body);
    assert!(
        page.starts_with(b"<!DOCTYPE html>"),
        "{}",
        String::from_utf8_lossy(&page)
    );
    for r in &pages {
        assert_eq!(
            aws_chunked_payload(&r.body),
            page,
            "every attempt carried the same page ({})",
            r.uri
        );
    }
    let cards = world.teams.requests();
    assert_eq!(cards.len(), 1);
    assert!(String::from_utf8_lossy(&cards[0].body).contains("documentation not published"));
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}

/// The payload of an `aws-chunked` body (each chunk `<hex size>[;chunk-signature=…]`,
/// CRLF, the bytes, CRLF, up to the empty chunk and the trailer).
fn aws_chunked_payload(body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk header ends with CRLF");
        let header = std::str::from_utf8(&rest[..line_end]).expect("an ASCII chunk header");
        let hex = header.split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(hex, 16).expect("a hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return payload;
        }
        payload.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[test]
fn identity_store_errors_and_a_stopped_identity_store_are_warnings_and_the_docs_still_publish() {
    let failing = Sink::start(500).unwrap();
    let stopped = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for (label, endpoint) in [("HTTP 500", failing.url("")), ("stopped server", stopped)] {
        let world = World::with(WorldOptions {
            lambda_env: vec![
                ("AWS_ENDPOINT_URL_IDENTITYSTORE".into(), endpoint.clone()),
                ("AWS_ENDPOINT_URL_SSO_ADMIN".into(), endpoint.clone()),
            ],
            ..Default::default()
        });
        let props = world.deploy(&config(&["AWS-Admins"]));
        let body = expect_status(
            &world.send(&world.event("Create", &props, None, None), TIMEOUT),
            "SUCCESS",
        );
        let w = warnings(&body);
        assert!(
            w.contains("documentation:") && w.contains("identity store"),
            "{label}: {body:#}"
        );
        assert!(!w.contains("documentation not published"), "{label}: {w}");
        let bucket = props["DocsBucket"].as_str().unwrap();
        let page = world.rt.block_on(
            world
                .s3
                .get_object()
                .bucket(bucket)
                .key("sso/TEST/index.html")
                .send(),
        );
        assert!(page.is_ok(), "{label}: the docs were published");
        let cards = world.teams.requests();
        assert_eq!(cards.len(), 1, "{label}");
        assert!(
            String::from_utf8_lossy(&cards[0].body).contains("identity store"),
            "{label}"
        );
        assert_eq!(world.scope(), groups(&["AWS-Admins"]), "{label}");
    }
    assert!(
        !failing.requests().is_empty(),
        "the failing identity store was called"
    );
}

#[test]
fn teams_hanging_past_the_deadline_still_answers_success_once_with_a_warning() {
    let world = World::start();
    world
        .teams
        .script([Reply::status(202).delayed(Duration::from_secs(60))]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(12),
    );
    let body = expect_status(&delivered, "SUCCESS");
    assert!(warnings(&body).contains("Teams card not"), "{body:#}");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(world.cfn.requests().len(), 1, "exactly one response");
}

#[test]
fn a_response_url_failing_every_time_gives_up_and_the_scope_is_still_applied() {
    let world = World::start();
    world
        .cfn
        .script((0..6).map(|_| Reply::status(502)).collect::<Vec<_>>());
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(
        delivered.responses.len(),
        6,
        "six attempts, then it gives up"
    );
    assert_eq!(
        delivered.invocation.ended,
        Ended::Response(json!({"Status": "SUCCESS", "Delivered": false}))
    );
    assert!(
        world
            .lambda_logs()
            .iter()
            .any(|l| l.contains("could not deliver the CloudFormation response")),
        "the give-up is logged"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
    // CloudFormation times out and the stack rolls back or retries: a redelivery
    // converges with no new writes.
    let writes = world.write_calls();
    expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(world.write_calls(), writes);
}

#[test]
fn a_response_url_that_hangs_is_abandoned_after_ten_seconds_and_the_response_sent_again() {
    let world = World::start();
    world
        .cfn
        .script([Reply::status(200).delayed(Duration::from_secs(60))]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(delivered.responses.len(), 2, "the hung PUT, then the retry");
    assert_eq!(
        delivered.responses[0].body, delivered.responses[1].body,
        "the same response again (a presigned PUT overwrites: no duplicate)"
    );
    assert_eq!(delivered.responses[1].json()["Status"], "SUCCESS");
    assert!(delivered.returned_ok(), "{:?}", delivered.invocation);
    let logs = world.lambda_logs().join("\n");
    assert!(
        logs.contains("retrying the CloudFormation response"),
        "the timeout is logged: {logs}"
    );
    assert!(
        !logs.contains(RESPONSE_URL_CANARY),
        "the ResponseURL leaked"
    );
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}
