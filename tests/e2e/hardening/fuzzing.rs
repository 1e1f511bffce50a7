//! Raw-event fuzzing: hundreds of malformed events, each answered at most once, and
//! the process survives.

use super::*;

/// A small random JSON value.
fn random_value(rng: &mut fastrand::Rng, depth: u32) -> Value {
    match rng.u8(..if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!(rng.f64() * 1e6),
        4 => {
            let pool = [
                "",
                " ",
                "Create",
                "Update",
                "Delete",
                "syncscope:eu-central-1:X",
                "syncscope:failed-create:x",
                "/syncscope/x",
                "ü€😀",
                "<script>",
                "\u{0}",
            ];
            json!(pool[rng.usize(..pool.len())])
        }
        5 => Value::Array(
            (0..rng.usize(..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.usize(..4))
                .map(|i| (format!("k{i}"), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

#[test]
fn hundreds_of_random_malformed_events_each_get_at_most_one_answer_and_the_process_survives() {
    let mut world = World::start();
    // The filters cannot be read, so no event, however mangled, can change the scope.
    let mut props = world.deploy(&config(&["AWS-Admins"]));
    props.insert(
        "FiltersParameter".into(),
        json!(format!("/syncscope-test/{}/none", world.ns)),
    );
    props.remove("FiltersHash");
    props.remove("TeamsWebhook");
    props.remove("DocsBucket");
    props.insert("OnDelete".into(), json!("remove"));
    let keys = [
        "RequestType",
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "ResourceType",
        "ResourceProperties",
        "OldResourceProperties",
        "PhysicalResourceId",
        "ServiceToken",
    ];
    let mut rng = fastrand::Rng::with_seed(0x5eed_0008);
    let total = 250;
    let mut answered_with_url = 0;
    for i in 0..total {
        let kind = ["Create", "Update", "Delete"][rng.usize(..3)];
        let mut event = world.event(
            kind,
            &props,
            Some(&props),
            Some("syncscope:eu-central-1:SynchronizationToActiveDirectoryAwsSso"),
        );
        let url = world
            .cfn
            .url(&format!("/fuzz/{i}/?X-Amz-Signature={RESPONSE_URL_CANARY}"));
        event["ResponseURL"] = json!(url);
        if rng.u8(..10) == 0 {
            event = random_value(&mut rng, 0);
        } else {
            for _ in 0..=rng.usize(..3) {
                let key = keys[rng.usize(..keys.len())];
                let o = event.as_object_mut().unwrap();
                match rng.u8(..4) {
                    0 => {
                        o.remove(key);
                    }
                    1 if key == "ResourceProperties" => {
                        let mut p = props.clone();
                        let k = p.keys().nth(rng.usize(..p.len())).unwrap().clone();
                        p.insert(k, random_value(&mut rng, 1));
                        o.insert(key.into(), json!(p));
                    }
                    // A ResponseURL stays a URL on the sink or is not a string at all.
                    _ if key == "ResponseURL" => {
                        o.insert(key.into(), json!(rng.i64(..)));
                    }
                    _ => {
                        o.insert(key.into(), random_value(&mut rng, 1));
                    }
                }
            }
        }
        let has_url = event.get("ResponseURL").and_then(Value::as_str) == Some(url.as_str());
        let invocation =
            world
                .runtime
                .invoke(event, Duration::from_secs(10), Duration::from_secs(5));
        assert!(
            matches!(invocation.ended, Ended::Response(_)),
            "event {i}: the handler ended {:?}",
            invocation.ended
        );
        let prefix = format!("/fuzz/{i}/?");
        let puts: Vec<_> = world
            .cfn
            .requests()
            .into_iter()
            .filter(|r| r.uri.starts_with(&prefix))
            .collect();
        if has_url {
            assert_eq!(puts.len(), 1, "event {i}: exactly one answer");
            let body = puts[0].json();
            assert!(
                body["Status"] == "FAILED" || body["Status"] == "SUCCESS",
                "event {i}: {body}"
            );
            assert!(!reason(&body).is_empty(), "event {i}");
            assert!(
                body["PhysicalResourceId"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "event {i}: {body}"
            );
            answered_with_url += 1;
        } else {
            assert!(puts.is_empty(), "event {i}: answered without a ResponseURL");
        }
    }
    assert!(
        answered_with_url > total / 2,
        "{answered_with_url} answered"
    );
    assert!(
        world.lambda.as_mut().unwrap().is_running(),
        "the Lambda process survived"
    );
    assert_eq!(world.write_calls(), 0);
    let logs = world.lambda_logs().join("\n");
    assert!(
        !logs.contains(RESPONSE_URL_CANARY),
        "the ResponseURL leaked: {}",
        redacted_excerpt(&logs, RESPONSE_URL_CANARY)
    );
}
