//! Hardening, all through the real Lambda binary, one topic per module: the
//! bad-input catalogue, raw-event fuzzing, the fault matrix, concurrency, secrets
//! planted as canaries, escaping and limits. This module holds what they share.

use std::time::Duration;

use identity_sync_emulator::{Credentials, Knobs, Operation, Options, Seed};
use serde_json::{Map, Value, json};
use syncscope_core::scope::FilterKind;
use syncscope_core::store::{self, Entry};
use syncscope_harness::lambda::LambdaProcess;
use syncscope_harness::runtime_api::Ended;
use syncscope_harness::sink::{Reply, Sink};

use crate::helpers::*;

mod bad_input;
mod concurrency;
mod faults;
mod fuzzing;
mod limits;
mod secrets;

/// A secret access key planted in the Lambda's environment.
const SECRET_KEY_CANARY: &str = "CANARYsecretKEY/abcdefghij0123456789xyz";
/// A session token planted in the Lambda's environment.
const SESSION_TOKEN_CANARY: &str = "CANARYsessionTOKEN0123456789abcdef";
/// The access key id that goes with them.
const ACCESS_KEY_ID: &str = "AKIACANARY0123456789";

fn entry(name: &str, description: &str) -> Entry {
    Entry {
        kind: FilterKind::Group,
        name: name.to_owned(),
        description: description.to_owned(),
        domain: None,
        pending: false,
        added_from: None,
        adopted_from: None,
        unlisted: false,
    }
}

fn entries(prefix: &str, n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| entry(&format!("{prefix}-{i:04}"), "a team"))
        .collect()
}

/// Writes one String parameter as it is (no format check).
fn put_raw(world: &World, name: &str, value: &str) {
    world
        .rt
        .block_on(
            world
                .ssm
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .tier(aws_sdk_ssm::types::ParameterTier::Advanced)
                .overwrite(true)
                .send(),
        )
        .unwrap_or_else(|e| panic!("put {name}: {e:?}"));
}

fn delete_raw(world: &World, name: &str) {
    world
        .rt
        .block_on(world.ssm.delete_parameter().name(name).send())
        .unwrap_or_else(|e| panic!("delete {name}: {e:?}"));
}

fn write_list(world: &World, base: &str, list: &[Entry]) -> usize {
    let shards = store::encode(list);
    for s in &shards {
        put_raw(world, &store::shard_name(base, s.index), &s.value);
    }
    shards.len()
}

fn ledger_entries(world: &World) -> Vec<String> {
    let ledger = world.ledger();
    let mut names: Vec<String> = ledger
        .ledger
        .entries
        .iter()
        .map(|e| format!("{} {}", e.kind, e.name))
        .collect();
    names.sort();
    names
}

/// An excerpt around `needle` with every canary replaced: safe to print.
fn redacted_excerpt(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(60)
        .map_or(0, |(i, _)| i);
    let excerpt: String = text[start..].chars().take(160).collect();
    let mut out = excerpt;
    for canary in [
        SECRET_KEY_CANARY,
        SESSION_TOKEN_CANARY,
        RESPONSE_URL_CANARY,
        WEBHOOK_CANARY,
    ] {
        out = out.replace(canary, "<CANARY>");
    }
    out
}
