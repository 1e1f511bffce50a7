//! Reporting: the documentation in S3 (enriched from moto's identity store) and the
//! Teams card, on every outcome; reporting failures are warnings, never failures; the
//! webhook URL never leaks.

use std::time::Duration;

use serde_json::{Value, json};
use syncscope_core::properties::{Line, Property};
use syncscope_harness::sink::Reply;

use crate::helpers::*;

const WEBSITE: &str = "https://wiki.example.com/aws/sso-groups";

/// The cards the Teams sink received, as JSON.
pub(crate) fn cards(world: &World) -> Vec<Value> {
    world.teams.requests().iter().map(|r| r.json()).collect()
}

/// Every string in a JSON value, joined by newlines.
pub(crate) fn texts(value: &Value) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out.join("\n")
}

/// The Adaptive Card inside a Workflows envelope.
pub(crate) fn adaptive(envelope: &Value) -> &Value {
    assert_eq!(envelope["type"], "message", "{envelope:#}");
    assert_eq!(
        envelope["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &envelope["attachments"][0]["content"];
    assert_eq!(card["version"], "1.4");
    card
}

pub(crate) fn title(card: &Value) -> String {
    card["fallbackText"].as_str().unwrap_or_default().to_owned()
}

pub(crate) fn fact(card: &Value, name: &str) -> Option<String> {
    card["body"]
        .as_array()?
        .iter()
        .filter(|e| e["type"] == "FactSet")
        .flat_map(|e| e["facts"].as_array().cloned().unwrap_or_default())
        .find(|f| f["title"] == name)
        .and_then(|f| f["value"].as_str().map(str::to_owned))
}

/// Validates a card against the Adaptive Card 1.4 schema (the copy in the repo).
pub(crate) fn assert_valid_card(card: &Value) {
    let path = syncscope_harness::paths::workspace().join("tests/schemas/adaptive-card-1.4.0.json");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    schema.as_object_mut().unwrap().remove("id");
    let validator = jsonschema::draft6::new(&schema).unwrap();
    let mut card = card.clone();
    card.as_object_mut().unwrap().remove("msteams");
    let errors: Vec<String> = validator
        .iter_errors(&card)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// An S3 object: body, content type, cache control, server-side encryption.
pub(crate) struct Object {
    pub(crate) body: String,
    content_type: String,
    cache_control: String,
    sse: String,
}

pub(crate) fn get(world: &World, bucket: &str, key: &str) -> Object {
    let got = world
        .rt
        .block_on(world.s3.get_object().bucket(bucket).key(key).send())
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
    let content_type = got.content_type().unwrap_or_default().to_owned();
    let cache_control = got.cache_control().unwrap_or_default().to_owned();
    let sse = got
        .server_side_encryption()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let bytes = world.rt.block_on(got.body.collect()).unwrap().into_bytes();
    Object {
        body: String::from_utf8(bytes.to_vec()).unwrap(),
        content_type,
        cache_control,
        sse,
    }
}

fn keys(world: &World, bucket: &str) -> Vec<String> {
    let listed = world
        .rt
        .block_on(world.s3.list_objects_v2().bucket(bucket).send())
        .unwrap();
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

/// Creates a group with `members` members in an identity store; returns its id.
fn synced_group(world: &World, store_id: &str, display_name: &str, members: usize) -> String {
    let store = aws_sdk_identitystore::Client::new(&world.sdk);
    world.rt.block_on(async {
        let group_id = store
            .create_group()
            .identity_store_id(store_id)
            .display_name(display_name)
            .send()
            .await
            .unwrap()
            .group_id()
            .to_owned();
        for i in 0..members {
            let user = format!("{}-user-{i}", world.ns);
            let user_id = store
                .create_user()
                .identity_store_id(store_id)
                .user_name(&user)
                .display_name(&user)
                .name(
                    aws_sdk_identitystore::types::Name::builder()
                        .given_name("Test")
                        .family_name(&user)
                        .build(),
                )
                .send()
                .await
                .unwrap()
                .user_id()
                .to_owned();
            store
                .create_group_membership()
                .identity_store_id(store_id)
                .group_id(&group_id)
                .member_id(aws_sdk_identitystore::types::MemberId::UserId(user_id))
                .send()
                .await
                .unwrap();
        }
        group_id
    })
}

#[test]
fn create_posts_one_card_and_publishes_docs_with_synced_and_pending_groups() {
    let world = World::start();
    let synced = format!("Synced-{}", world.ns);
    let pending = format!("Pending-{}", world.ns);
    let store_id = world.instance_store_id();
    // More members than one ListGroupMemberships page (100) holds.
    let group_id = synced_group(&world, &store_id, &format!("{synced}@{DOMAIN}"), 120);

    let (props, _) = create(&world, &config(&[&synced, &pending]));

    // One card, for this one event.
    let received = world.teams.requests();
    assert_eq!(received.len(), 1, "exactly one card per event");
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    let envelope = received[0].json();
    let card = adaptive(&envelope);
    assert_valid_card(card);
    assert_eq!(title(card), "✅ TEST: sync scope updated");
    assert_eq!(fact(card, "Created").as_deref(), Some("2"));
    assert_eq!(fact(card, "Failed").as_deref(), Some("0"));
    let text = texts(card);
    assert!(text.contains(&synced) && text.contains(&pending), "{text}");
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], WEBSITE);

    // The docs: live and dated copies, typed, briefly cached, encrypted.
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = format!("{}/TEST/", props["DocsPrefix"].as_str().unwrap());
    let all = keys(&world, bucket);
    for name in ["index.html", "snippet.html", "groups.json"] {
        assert!(all.contains(&format!("{prefix}{name}")), "{all:?}");
        assert_eq!(
            all.iter()
                .filter(|k| k.starts_with(&format!("{prefix}history/")) && k.ends_with(name))
                .count(),
            1,
            "one dated copy of {name}: {all:?}"
        );
    }
    for (name, content_type) in [
        ("index.html", "text/html; charset=utf-8"),
        ("snippet.html", "text/html; charset=utf-8"),
        ("groups.json", "application/json; charset=utf-8"),
    ] {
        let object = get(&world, bucket, &format!("{prefix}{name}"));
        assert_eq!(object.content_type, content_type, "{name}");
        assert_eq!(object.cache_control, "max-age=60", "{name}");
        assert_eq!(object.sse, "AES256", "{name}");
    }

    // The identity store: one group synced with its members, one pending.
    let groups: Value =
        serde_json::from_str(&get(&world, bucket, &format!("{prefix}groups.json")).body).unwrap();
    assert_eq!(groups["identity_store_id"], store_id.as_str());
    let row = |name: &str| {
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {groups:#}"))
    };
    assert_eq!(
        row(&synced)["identity"],
        json!({ "status": "synced", "group_id": group_id, "members": 120 })
    );
    assert_eq!(row(&pending)["identity"], json!({ "status": "pending" }));
    assert_eq!(row(&pending)["scope"], json!({ "state": "added" }));
    let page = get(&world, bucket, &format!("{prefix}index.html")).body;
    assert!(page.contains("120 members"));
    assert!(page.contains("waits for the next sync cycle"));
    assert!(!page.contains("DRY RUN"));
    let snippet = get(&world, bucket, &format!("{prefix}snippet.html")).body;
    assert!(!snippet.contains("<html") && snippet.contains("syncscope-snippet"));
}

#[test]
fn the_identity_store_id_property_is_used_instead_of_list_instances() {
    let world = World::start();
    let store_id = format!("d-00{}", &world.ns[1..]);
    let group = format!("Own-Store-{}", world.ns);
    synced_group(&world, &store_id, &format!("{group}@{DOMAIN}"), 2);
    let mut props = world.deploy(&config(&[&group]));
    props.insert("IdentityStoreId".into(), json!(store_id));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    // The identity store is read without ListInstances. The access map needs the
    // store's instance, which moto does not have for this store: one warning says so,
    // and the docs are published without it.
    let warned = warnings(&body);
    let region = syncscope_harness::world::REGION;
    assert_eq!(
        warned,
        format!(
            "documentation: the access map is partial: the assignments were not read: no IAM Identity Center instance in {region} has the identity store {store_id} (SSO.IdentityStoreId)"
        ),
        "{body:#}"
    );
    let bucket = props["DocsBucket"].as_str().unwrap();
    let groups: Value =
        serde_json::from_str(&get(&world, bucket, "sso/TEST/groups.json").body).unwrap();
    assert_eq!(groups["identity_store_id"], store_id.as_str());
    assert!(
        groups["groups"][0].get("assignments").is_none(),
        "{groups:#}"
    );
    assert_eq!(groups["groups"][0]["identity"]["status"], "synced");
    assert_eq!(groups["groups"][0]["identity"]["members"], 2);
}

#[test]
fn teams_503_then_429_with_retry_after_are_retried_and_the_card_delivered_once() {
    let world = World::start();
    world
        .teams
        .script([Reply::status(503), Reply::status(429).retry_after(1)]);
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert!(warnings(&body).is_empty(), "{body:#}");
    let received = world.teams.requests();
    assert_eq!(received.len(), 3, "the 503, the 429, then accepted");
    assert!(
        received.windows(2).all(|w| w[0].body == w[1].body),
        "the same card each time"
    );
    let logs = world.lambda_logs().join("\n");
    assert!(
        logs.contains("retrying")
            && (logs.contains("\"wait_ms\":1000") || logs.contains("wait_ms=1000")),
        "Retry-After: 1 is honoured: {logs}"
    );
}

#[test]
fn teams_failing_every_time_still_answers_success_with_a_warning() {
    let world = World::start();
    world
        .teams
        .script((0..20).map(|_| Reply::status(500)).collect::<Vec<_>>());
    let props = world.deploy(&config(&["AWS-Admins"]));
    // A short deadline: the retries must stop in time for the answer.
    let delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(15),
    );
    let body = expect_status(&delivered, "SUCCESS");
    let warning = warnings(&body);
    assert!(warning.contains("Teams card not delivered"), "{body:#}");
    assert!(warning.contains("HTTP 500"), "{warning}");
    let attempts = world.teams.requests().len();
    assert!((2..=6).contains(&attempts), "{attempts} attempts");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]));
}

#[test]
fn a_missing_docs_bucket_is_a_warning_on_the_response_and_the_card() {
    let world = World::start();
    let mut props = world.deploy(&config(&["AWS-Admins"]));
    props.insert(
        "DocsBucket".into(),
        json!(format!("syncscope-missing-{}", world.ns)),
    );
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let warning = warnings(&body);
    assert!(warning.contains("documentation not published"), "{body:#}");
    assert!(warning.contains("NoSuchBucket"), "{warning}");
    let cards = cards(&world);
    assert_eq!(cards.len(), 1);
    let card = adaptive(&cards[0]);
    assert!(texts(card).contains("documentation not published"));
    assert_eq!(fact(card, "Warnings").as_deref(), Some("1"));
    assert_eq!(body["Data"]["DocsUrl"], WEBSITE);
}

#[test]
fn a_scratch_directory_that_cannot_be_written_is_a_warning_and_the_scope_is_applied() {
    // Documents are rendered into a scratch file before they are streamed to S3; a
    // temporary directory that does not exist fails that, and only that.
    let world = World::with(WorldOptions {
        lambda_env: vec![("TMPDIR".into(), "/nonexistent/syncscope-scratch".into())],
        ..Default::default()
    });
    let props = world.deploy(&config(&["AWS-Admins"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let warning = warnings(&body);
    assert!(
        warning.contains(
            "documentation not published: rendering index.html into /nonexistent/syncscope-scratch/"
        ),
        "{body:#}"
    );
    assert_eq!(world.scope(), vec!["GROUP AWS-Admins".to_owned()]);
    assert_eq!(cards(&world).len(), 1, "the card is still posted");
}

#[test]
fn every_outcome_posts_one_card_with_its_title() {
    let world = world_failing("AWS-Broken", "AccessDeniedException");
    // Partial failure: the card names the failed filter and why.
    let first_props = world.deploy(&config(&["AWS-Admins", "AWS-Broken"]));
    let first = world.send(&world.event("Create", &first_props, None, None), TIMEOUT);
    expect_status(&first, "FAILED");
    // No change: AWS-Admins is in the scope already.
    let props = world.deploy(&config(&["AWS-Admins"]));
    let second = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let id = expect_status(&second, "SUCCESS")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Settings only.
    let mut timeout = props.clone();
    timeout.insert("ServiceTimeout".into(), json!("900"));
    let third = world.send(
        &world.event("Update", &timeout, Some(&props), Some(&id)),
        TIMEOUT,
    );
    expect_status(&third, "SUCCESS");
    // Failure: the filters are not where the properties say.
    let mut broken = props.clone();
    broken.insert(
        "FiltersParameter".into(),
        json!(format!("/syncscope-test/{}/nowhere", world.ns)),
    );
    broken.remove("FiltersHash");
    let fourth = world.send(
        &world.event("Update", &broken, Some(&props), Some(&id)),
        TIMEOUT,
    );
    expect_status(&fourth, "FAILED");
    // Delete (OnDelete retain).
    let fifth = world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT);
    expect_status(&fifth, "SUCCESS");

    let cards = cards(&world);
    let titles: Vec<String> = cards.iter().map(|c| title(adaptive(c))).collect();
    assert_eq!(
        titles,
        vec![
            "⚠️ TEST: partial failure",
            "ℹ️ TEST: no change",
            "ℹ️ TEST: no change",
            "❌ TEST: sync failed",
            "ℹ️ TEST: no change",
        ],
        "one card per event"
    );
    for card in &cards {
        assert_valid_card(adaptive(card));
    }
    let partial = texts(adaptive(&cards[0]));
    assert!(partial.contains("create group AWS-Broken"), "{partial}");
    assert!(partial.contains("AccessDeniedException"), "{partial}");
    assert!(texts(adaptive(&cards[2])).contains("ServiceToken/ServiceTimeout"));
    let failure = texts(adaptive(&cards[3]));
    assert!(
        failure.contains("Reason: ") && failure.contains("could not read the filters"),
        "{failure}"
    );
    assert!(texts(adaptive(&cards[4])).contains("OnDelete is retain"));
}

#[test]
fn a_configured_docs_title_reaches_the_published_page_through_the_template_properties() {
    let world = World::start();
    let group = format!("Titled-{}", world.ns);
    let mut config = config(&[&group]);
    config.general.docs_title = Some(Line::read("Who signs in to AWS <test>").unwrap());

    let (props, _) = create(&world, &config);

    assert_eq!(props["DocsTitle"], "Who signs in to AWS <test>");
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = format!("{}/TEST/", props["DocsPrefix"].as_str().unwrap());
    let page = get(&world, bucket, &format!("{prefix}index.html")).body;
    assert!(
        page.contains("<title>Who signs in to AWS &#60;test&#62;</title>"),
        "{page}"
    );
    assert!(!page.contains("AWS sign-in groups"));
}

#[test]
fn a_dry_run_publishes_beside_the_live_docs_and_never_over_them() {
    let world = World::start();
    let (props, id) = create(&world, &config(&["AWS-Admins"]));
    let bucket = props["DocsBucket"].as_str().unwrap().to_owned();
    let live_before = get(&world, &bucket, "sso/TEST/index.html").body;
    let before = keys(&world, &bucket);

    let mut dry = world.deploy(&config(&["AWS-Admins", "AWS-New"]));
    dry.insert("DryRun".into(), json!("true"));
    let body = expect_status(
        &world.send(
            &world.event("Update", &dry, Some(&props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["DryRun"], "true");
    assert_eq!(world.scope(), groups(&["AWS-Admins"]), "nothing changed");
    assert_eq!(
        get(&world, &bucket, "sso/TEST/index.html").body,
        live_before
    );
    let page = get(&world, &bucket, "sso/TEST/dry-run/index.html").body;
    assert!(page.contains("<strong>DRY RUN</strong>"));
    assert!(page.contains("would be added (dry run)"));
    let after = keys(&world, &bucket);
    let new: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
    assert_eq!(
        new,
        vec![
            "sso/TEST/dry-run/groups.json",
            "sso/TEST/dry-run/index.html",
            "sso/TEST/dry-run/snippet.html"
        ],
        "a dry run writes no history"
    );
    let cards = cards(&world);
    let card = adaptive(cards.last().unwrap());
    assert_eq!(title(card), "🧪 DRY RUN TEST: sync scope would change");
    assert!(texts(card).contains("DRY RUN: nothing was changed"));
}

#[test]
fn a_secrets_manager_webhook_with_a_message_card_is_delivered() {
    let world = World::start();
    let secrets = aws_sdk_secretsmanager::Client::new(&world.sdk);
    let url = world
        .teams
        .url(&format!("/legacy/hook?sig={WEBHOOK_CANARY}"));
    let arn = world
        .rt
        .block_on(
            secrets
                .create_secret()
                .name(format!("syncscope-test/{}/teams", world.ns))
                .secret_string(json!({ "webhookUrl": url }).to_string())
                .send(),
        )
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let mut props = world.deploy(&config(&["AWS-Admins"]));
    props.insert("TeamsWebhook".into(), json!(arn));
    props.insert("TeamsCardFormat".into(), json!("MessageCard"));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert!(warnings(&body).is_empty(), "{body:#}");
    let received = world.teams.requests();
    assert_eq!(received.len(), 1);
    assert!(received[0].uri.starts_with("/legacy/hook"));
    let card = received[0].json();
    assert_eq!(card["@type"], "MessageCard");
    assert_eq!(card["title"], "✅ TEST: sync scope updated");
    assert_eq!(card["potentialAction"][0]["targets"][0]["uri"], WEBSITE);
}

#[test]
fn the_webhook_secret_never_appears_in_logs_responses_docs_or_cards() {
    let world = world_failing("AWS-Broken", "AccessDeniedException");
    // Teams echoes its own URL in an error, as some proxies do; then accepts.
    let hook = world.teams.url(&format!(
        "/workflows/hook?api-version=1&sig={WEBHOOK_CANARY}"
    ));
    world
        .teams
        .script([Reply::status(502).body(format!("bad gateway while calling {hook}"))]);
    let props = world.deploy(&config(&["AWS-Admins", "AWS-Broken"]));
    let first = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    expect_status(&first, "FAILED");
    // And a run whose card cannot be delivered at all.
    world
        .teams
        .script((0..20).map(|_| Reply::status(503).body(format!("unavailable: {hook}"))));
    let second = world.send(
        &world.event(
            "Create",
            &world.deploy(&config(&["AWS-Admins"])),
            None,
            None,
        ),
        Duration::from_secs(12),
    );
    let body = expect_status(&second, "SUCCESS");
    assert!(
        warnings(&body).contains("Teams card not delivered"),
        "{body:#}"
    );

    let haystacks = haystacks(&world, props["DocsBucket"].as_str());
    assert!(haystacks.len() > 8, "{} places searched", haystacks.len());
    assert!(
        world.lambda_logs().join("\n").contains("<redacted>"),
        "the echoed URL was redacted, not dropped"
    );
    for (place, text) in &haystacks {
        for canary in [WEBHOOK_CANARY, RESPONSE_URL_CANARY, "/workflows/hook"] {
            assert!(!text.contains(canary), "{canary} leaked into {place}");
        }
    }
}

#[test]
fn a_redirecting_webhook_or_response_url_is_never_followed() {
    let world = World::start();
    let elsewhere = syncscope_harness::sink::Sink::start(200).unwrap();
    let away = elsewhere.url("/collect?stolen=1");
    world.teams.script(
        (0..20)
            .map(|_| Reply::redirect(307, &away))
            .collect::<Vec<_>>(),
    );
    let props = world.deploy(&config(&["AWS-Admins"]));
    let delivered = world.send(
        &world.event("Create", &props, None, None),
        Duration::from_secs(15),
    );
    let body = expect_status(&delivered, "SUCCESS");
    assert!(
        warnings(&body).contains("Teams card not delivered"),
        "{body:#}"
    );
    // The ResponseURL redirecting: the answer is not carried to the other host.
    world.cfn.script(
        (0..6)
            .map(|_| Reply::redirect(308, &away))
            .collect::<Vec<_>>(),
    );
    world.send(&world.event("Create", &props, None, None), TIMEOUT);
    assert_eq!(
        elsewhere.requests().len(),
        0,
        "no card, no response and no signed header reached the redirect's host"
    );
}
