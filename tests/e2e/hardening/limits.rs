//! Escaping and limits: hostile names in bounds everywhere, and the SSM tier
//! boundary.

use super::*;

#[test]
fn two_thousand_hostile_failing_names_keep_the_response_the_card_and_the_logs_in_bounds() {
    let world = World::start();
    let names: Vec<String> = (0..2000)
        .map(|i| format!("{{$x}}&'#!(@~^)-Ü日本-{i:04}"))
        .collect();
    let fail: Map<String, Value> = names
        .iter()
        .map(|n| (n.clone(), json!("ValidationException")))
        .collect();
    world
        .emulator
        .emulator()
        .update_knobs(&json!({ "fail_filters": fail }))
        .unwrap();
    let filters: Vec<Value> = names
        .iter()
        .map(|n| json!({ "Name": n, "Description": "</td><script>alert(\"x\")</script><img src=x onerror=alert(1)>" }))
        .collect();
    let config = config_of(filters, json!({}));
    let props = world.deploy(&config);
    let delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(90),
    );
    let raw = &delivered.responses[0].body;
    assert!(raw.len() <= 4096, "{} bytes", raw.len());
    let body = expect_status(&delivered, "FAILED");
    assert!(
        reason(&body).contains("2000"),
        "the count of failures is named: {}",
        reason(&body)
    );
    assert_eq!(world.scope(), Vec::<String>::new());

    let cards = world.teams.requests();
    assert_eq!(cards.len(), 1);
    assert!(
        cards[0].body.len() < 20_000,
        "card of {} bytes",
        cards[0].body.len()
    );
    let card = cards[0].json();
    assert!(card.is_object(), "the card is JSON");
    assert!(
        String::from_utf8_lossy(&cards[0].body).contains("more"),
        "the list is cut with a count"
    );

    let bucket = props["DocsBucket"].as_str().unwrap();
    let got = world
        .rt
        .block_on(
            world
                .s3
                .get_object()
                .bucket(bucket)
                .key("sso/TEST/index.html")
                .send(),
        )
        .unwrap();
    let page = String::from_utf8(
        world
            .rt
            .block_on(got.body.collect())
            .unwrap()
            .into_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        !page.contains("<script>alert") && !page.contains("<img src=x"),
        "markup is escaped"
    );
    assert!(
        page.contains("&lt;script&gt;") || page.contains("&#60;script"),
        "the description is shown escaped"
    );

    for line in world.lambda_logs() {
        assert!(
            serde_json::from_str::<Value>(&line).is_ok() || !line.starts_with('{'),
            "a log line broke: {}",
            &line[..line.len().min(200)]
        );
    }
}

#[test]
fn a_shard_of_exactly_4096_bytes_stays_standard_and_one_byte_more_goes_advanced() {
    // Finds descriptions that make the one shard exactly 4,096 and 4,097 bytes.
    let sized = |target: usize| -> Vec<Entry> {
        for wide in (900..1000).rev() {
            for ascii in 0..(1024 - wide) {
                let list = vec![entry(
                    "Boundary",
                    &format!("{}{}", "😀".repeat(wide), "d".repeat(ascii)),
                )];
                let len = store::encode(&list)[0].value.len();
                if len == target {
                    return list;
                }
                if len > target {
                    break;
                }
            }
        }
        panic!("no description gives {target} bytes");
    };
    let at = sized(store::STANDARD_LIMIT);
    let past = sized(store::STANDARD_LIMIT + 1);
    assert!(!store::encode(&at)[0].advanced);
    assert!(store::encode(&past)[0].advanced);

    // moto takes both as written, and the Lambda reads and applies each.
    let world = World::start();
    let mut old: Option<(Map<String, Value>, String)> = None;
    for list in [&at, &past] {
        // Written one entry per line (format 1), as stacks deployed before packing
        // hold them: the tier choice is the store's writer's.
        let hash = store::hash(list);
        let ssm = syncscope::ssm::ParameterStore::new(world.ssm.clone());
        world
            .rt
            .block_on(ssm.write_shards(&world.names().filters_version(&hash), &store::encode(list)))
            .unwrap();
        let mut props = world.deploy(&config(&["Boundary"]));
        props.insert(
            "FiltersParameter".into(),
            json!(world.names().filters_version(&hash)),
        );
        props.insert("FiltersHash".into(), json!(hash));
        let event = match &old {
            None => world.event("Create", &props, None, None),
            Some((old_props, id)) => world.event("Update", &props, Some(old_props), Some(id)),
        };
        let body = expect_status(&world.send(&event, TIMEOUT), "SUCCESS");
        let id = body["PhysicalResourceId"].as_str().unwrap().to_owned();
        let shard = store::shard_name(&world.names().filters_version(&hash), 0);
        let described = world
            .rt
            .block_on(
                world
                    .ssm
                    .describe_parameters()
                    .parameter_filters(
                        aws_sdk_ssm::types::ParameterStringFilter::builder()
                            .key("Name")
                            .values(&shard)
                            .build()
                            .unwrap(),
                    )
                    .send(),
            )
            .unwrap();
        let tier = described.parameters()[0]
            .tier()
            .map(|t| t.as_str().to_owned());
        let want = if std::ptr::eq(list, &at) {
            "Standard"
        } else {
            "Advanced"
        };
        assert_eq!(
            tier.as_deref(),
            Some(want),
            "{} bytes",
            store::encode(list)[0].value.len()
        );
        old = Some((props, id));
    }
    assert_eq!(world.scope(), groups(&["Boundary"]));
}
