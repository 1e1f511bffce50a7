//! Shared helpers: configs, assertions on responses, the environment of CLI runs.

use std::time::Duration;

use serde_json::{Map, Value, json};
use syncscope_core::config::{self, Config};
pub use syncscope_harness::world::{
    DIRECTORY_ID, DOMAIN, Delivered, PARENT_GROUP, PROFILE, RESPONSE_URL_CANARY, WEBHOOK_CANARY,
    World, WorldOptions,
};

/// The usual time a test gives the function.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A valid config with these groups (and optional extra SSO keys).
pub fn config_with(groups: &[&str], sso_extra: Value) -> Config {
    let filters: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "Name": g, "Description": format!("{g} team") }))
        .collect();
    config_of(filters, sso_extra)
}

/// The seed fixture (tests/fixtures/config/valid/seed-only.json) in [`DOMAIN`]
/// with these group filters and extra SSO keys.
pub fn config_of(group_filters: Vec<Value>, sso_extra: Value) -> Config {
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
    doc["SSO"]["GroupFilters"] = Value::Array(group_filters);
    if let Value::Object(extra) = sso_extra {
        for (k, v) in extra {
            doc["SSO"][k] = v;
        }
    }
    config::from_value(&doc).unwrap().config
}

/// A valid config with these groups.
pub fn config(groups: &[&str]) -> Config {
    config_with(groups, json!({}))
}

/// A valid config with these groups under the parent-group engine ([`PARENT_GROUP`]
/// in [`DIRECTORY_ID`]; optional extra SSO keys).
pub fn parent_config_with(groups: &[&str], sso_extra: Value) -> Config {
    let mut extra = json!({
        "Engine": "parent-group",
        "ParentGroup": PARENT_GROUP,
        "DirectoryId": DIRECTORY_ID,
    });
    if let Value::Object(more) = sso_extra {
        for (k, v) in more {
            extra[k] = v;
        }
    }
    config_with(groups, extra)
}

/// [`parent_config_with`] without extra keys.
pub fn parent_config(groups: &[&str]) -> Config {
    parent_config_with(groups, json!({}))
}

/// The directory of a parent-group world: the parent group with `members` (group
/// names), every group of `groups` (and the members) as a group of its own, and the
/// users `users`. Names are exactly these: a name not listed is not in AD.
pub fn parent_directory(members: &[&str], groups: &[&str], users: &[&str]) -> Value {
    let mut all: serde_json::Map<String, Value> = groups
        .iter()
        .chain(members)
        .map(|g| ((*g).to_owned(), json!({})))
        .collect();
    all.insert(PARENT_GROUP.to_owned(), json!({ "groups": members }));
    json!({
        "id": DIRECTORY_ID,
        "domain": DOMAIN,
        "users": users,
        "groups": all,
    })
}

/// `GROUP name` lines for names, sorted.
pub fn groups(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|n| format!("GROUP {n}")).collect();
    v.sort();
    v
}

/// Asserts a response's status and returns it.
pub fn expect_status(delivered: &Delivered, status: &str) -> Value {
    let body = delivered.response();
    assert_eq!(body["Status"], status, "response: {body:#}");
    assert!(
        delivered.returned_ok(),
        "the handler must return Ok after the PUT: {:?}",
        delivered.invocation
    );
    body
}

/// A world whose emulator answers every write of the filter `name` with `error`.
pub fn world_failing(name: &str, error: &str) -> World {
    World::with(WorldOptions {
        knobs: identity_sync_emulator::Knobs {
            fail_filters: [(name.to_owned(), error.parse().unwrap())].into(),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// A response's Reason ("" when absent).
pub fn reason(body: &Value) -> String {
    body["Reason"].as_str().unwrap_or_default().to_owned()
}

/// A response's `Data.Warnings` ("" when absent).
pub fn warnings(body: &Value) -> String {
    body["Data"]["Warnings"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts a FAILED answer to a Create that carries the recognisable failed-create
/// id (whose Delete must succeed untouched); returns (body, that id).
pub fn expect_failed_create(delivered: &Delivered) -> (Value, String) {
    let body = expect_status(delivered, "FAILED");
    let id = body["PhysicalResourceId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(id.starts_with("syncscope:failed-create:"), "{body:#}");
    (body, id)
}

/// The properties map with one key changed.
pub fn with(props: &Map<String, Value>, key: &str, value: &str) -> Map<String, Value> {
    let mut p = props.clone();
    p.insert(key.to_owned(), json!(value));
    p
}

/// Runs Create for `config` and asserts SUCCESS; returns (props, physical id).
pub fn create(world: &World, config: &Config) -> (Map<String, Value>, String) {
    let props = world.deploy(config);
    let delivered = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let body = expect_status(&delivered, "SUCCESS");
    (
        props,
        body["PhysicalResourceId"].as_str().unwrap().to_owned(),
    )
}

/// Delivers `event` and kills the Lambda process once the scope holds `filters`
/// filters (or after 8 s): the run dies mid-apply and answers nothing.
pub fn kill_mid_apply(world: &World, event: &Value, filters: usize) {
    std::thread::scope(|s| {
        let delivery = s.spawn(|| world.send(event, Duration::from_secs(20)));
        let until = std::time::Instant::now() + Duration::from_secs(8);
        while world.scope().len() < filters && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        world.kill_lambda();
        let delivered = delivery.join().unwrap();
        assert!(
            delivered.responses.is_empty(),
            "a killed process answers nothing"
        );
    });
}

/// Every place output goes: logs, responses, cards, published docs.
pub fn haystacks(world: &World, bucket: Option<&str>) -> Vec<(String, String)> {
    let mut out = vec![("lambda logs".to_owned(), world.lambda_logs().join("\n"))];
    for r in world.cfn.requests() {
        out.push((
            "CloudFormation response".into(),
            String::from_utf8_lossy(&r.body).into_owned(),
        ));
    }
    for r in world.teams.requests() {
        out.push((
            "Teams card".into(),
            String::from_utf8_lossy(&r.body).into_owned(),
        ));
    }
    if let Some(bucket) = bucket {
        let listed = world
            .rt
            .block_on(world.s3.list_objects_v2().bucket(bucket).send())
            .unwrap();
        for key in listed.contents().iter().filter_map(|o| o.key()) {
            let got = world
                .rt
                .block_on(world.s3.get_object().bucket(bucket).key(key).send())
                .unwrap();
            let bytes = world.rt.block_on(got.body.collect()).unwrap().into_bytes();
            out.push((
                format!("s3://{bucket}/{key}"),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

pub use syncscope_harness::world::aws_env;
