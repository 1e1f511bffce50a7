//! Shared helpers: configs, and assertions on responses.

use std::time::Duration;

use serde_json::{Map, Value, json};
use syncscope_core::config::{self, Config};
pub use syncscope_harness::world::{
    DOMAIN, Delivered, PROFILE, RESPONSE_URL_CANARY, WEBHOOK_CANARY, World, WorldOptions,
};

/// The usual time a test gives the function.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A valid config with these groups (and optional extra SSO keys).
pub fn config_with(groups: &[&str], sso_extra: Value) -> Config {
    let filters: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "Name": g, "Description": format!("{g} team") }))
        .collect();
    let mut doc = json!({
        "general": {
            "produkt": "SSO-AD-GroupSync", "stage": "TEST", "prefix": "COMPANY",
            "s3_DOKUBUCKET": "company-sso-docs",
            "WebhookUrlTeams": "ssm:/company/sso/teams-webhook",
            "DocuWebsite": "https://wiki.example.com/aws/sso-groups"
        },
        "SSO": { "ad_DomainName": DOMAIN, "GroupFilters": filters }
    });
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
