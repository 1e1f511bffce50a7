//! The CLI's promises that need a world: the offline plan (a saved scope and a ledger
//! file, no AWS call), saving the live scope, and doctor's test card.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::helpers::*;

/// A config file in the world's build folder: the seed fixture with these groups and
/// general keys.
fn config_file(world: &World, name: &str, groups: &[&str], general: Value) -> String {
    let dir = syncscope_harness::paths::build_dir("e2e-cli").join(&world.ns);
    std::fs::create_dir_all(&dir).unwrap();
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
    doc["SSO"]["GroupFilters"] = groups.iter().map(|g| json!({ "Name": g })).collect();
    for (k, v) in general.as_object().unwrap() {
        doc["general"][k] = v.clone();
    }
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

fn in_dir(world: &World, name: &str) -> PathBuf {
    syncscope_harness::paths::build_dir("e2e-cli")
        .join(&world.ns)
        .join(name)
}

fn counts(out: &str) -> (u64, u64, u64) {
    let parsed: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let c = &parsed["counts"];
    (
        c["create"].as_u64().unwrap(),
        c["remove"].as_u64().unwrap(),
        c["unmanaged"].as_u64().unwrap(),
    )
}

#[test]
fn a_saved_live_scope_plans_offline_with_no_aws_call_and_a_ledger_file_decides_removals() {
    let world = World::start();
    world.console_add(PROFILE, "AWS-Admins");
    world.console_add(PROFILE, "Old-Team");
    let writes = world.write_calls();
    let config = config_file(&world, "c.json", &["AWS-Admins", "AWS-New"], json!({}));
    let scope = in_dir(&world, "scope.json");
    let scope_arg = scope.display().to_string();

    // Live (read-only): the scope is saved.
    let (code, live, err) = world.cli(&[
        "plan",
        "--config",
        &config,
        "--save-current",
        &scope_arg,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{live}\n{err}");
    assert!(
        err.contains(&format!("Saved the live scope (2 filters) to {scope_arg}")),
        "{err}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&scope).unwrap()).unwrap();
    let names: Vec<&str> = saved["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().or(f["Name"].as_str()).unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{saved}");
    assert!(names.contains(&"Old-Team"), "{saved}");
    assert_eq!(
        counts(&live),
        (1, 0, 1),
        "create AWS-New, leave Old-Team alone"
    );

    // Offline: every AWS endpoint is a closed port, so any call would fail the plan.
    let offline = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            "--config",
            &config,
            "--current",
            &scope_arg,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = world
            .cli_command(&args)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ENDPOINT_URL_IDENTITY_SYNC", "http://127.0.0.1:9")
            .env(
                "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA",
                "http://127.0.0.1:9",
            )
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), text)
    };
    let (code, text) = offline(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(counts(&text), (1, 0, 1), "the same plan, offline");
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert!(
        parsed["impact_note"]
            .as_str()
            .unwrap()
            .starts_with("an offline plan (--current) reads no identity store"),
        "{parsed}"
    );

    // A ledger file saying this stack made Old-Team: now it is removed.
    let ledger = in_dir(&world, "ledger.json");
    std::fs::write(
        &ledger,
        json!({"entries": [{"Type": "GROUP", "Name": "Old-Team", "Domain": DOMAIN}]}).to_string(),
    )
    .unwrap();
    let (code, with_ledger) = offline(&["--ledger", &ledger.display().to_string()]);
    assert_eq!(counts(&with_ledger), (1, 1, 0), "{with_ledger}");
    // One removal of two filters is over the default 25 %: the plan says it would be
    // refused, and the exit code fails the check.
    let parsed: Value = serde_json::from_str(&with_ledger).unwrap();
    assert!(
        parsed["refused"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("refusing to remove 1 of 2 filters")),
        "{parsed}"
    );
    assert_eq!(code, Some(1));
    assert_eq!(world.write_calls(), writes, "plan writes nothing");
}

#[test]
fn doctor_posts_a_test_card_only_when_asked() {
    let world = World::start();
    world.deploy(&config(&["AWS-Admins"]));
    let config = config_file(
        &world,
        "doctor.json",
        &["AWS-Admins"],
        json!({ "WebhookUrlTeams": format!("ssm:{}", world.webhook_parameter()) }),
    );
    let (_, out, err) = world.cli(&["doctor", "--config", &config]);
    let line = |text: &str| {
        text.lines()
            .find(|l| l.contains("Teams webhook"))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line(&out).starts_with("ok"), "{out}\n{err}");
    assert!(
        line(&out).contains("--post-test-card posts a card"),
        "{out}"
    );
    assert!(
        world.teams.requests().is_empty(),
        "no card without the flag"
    );

    let (_, out, err) = world.cli(&["doctor", "--config", &config, "--post-test-card"]);
    assert!(
        line(&out).contains("a test card was posted"),
        "{out}\n{err}"
    );
    let cards = crate::reporting::cards(&world);
    assert_eq!(cards.len(), 1, "one card with the flag");
    assert!(
        crate::reporting::texts(&cards[0]).contains("syncscope doctor: a test card for stack"),
        "{:#}",
        cards[0]
    );
    assert!(!out.contains(WEBHOOK_CANARY) && !err.contains(WEBHOOK_CANARY));
}

#[test]
fn a_teardown_plan_removes_what_the_ledger_lists_and_no_guard_stops_it() {
    let world = World::start();
    world.console_add(PROFILE, "AWS-Admins");
    world.console_add(PROFILE, "AWS-Ops");
    world.console_add(PROFILE, "Console-Kept");
    let config = config_file(&world, "t.json", &["AWS-Admins", "AWS-Ops"], json!({}));
    let scope = in_dir(&world, "t-scope.json");
    let (code, _, err) = world.cli(&[
        "plan",
        "--config",
        &config,
        "--save-current",
        &scope.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let ledger = in_dir(&world, "t-ledger.json");
    std::fs::write(
        &ledger,
        json!({"entries": [
            {"Type": "GROUP", "Name": "AWS-Admins", "Domain": DOMAIN},
            {"Type": "GROUP", "Name": "AWS-Ops", "Domain": DOMAIN},
        ]})
        .to_string(),
    )
    .unwrap();
    let teardown = |extra: &[&str]| {
        let scope = scope.display().to_string();
        let ledger = ledger.display().to_string();
        let mut args = vec![
            "plan",
            "--config",
            &config,
            "--current",
            &scope,
            "--ledger",
            &ledger,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        world.cli(&args)
    };
    // As a deployment, the config keeps both.
    let (code, out, _) = teardown(&[]);
    assert_eq!(code, 0);
    assert_eq!(counts(&out), (0, 0, 1));
    // As the stack's Delete: both of its filters go, the console's stays, and the
    // guards (two removals of three is over 25 %) do not stop it.
    let (code, out, err) = teardown(&["--teardown"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(counts(&out), (0, 2, 1), "{out}");
    let parsed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["refused"], json!([]), "{parsed}");
    assert!(
        err.contains("The stack's Delete with OnDelete remove"),
        "{err}"
    );
}

#[test]
fn the_cli_names_an_ssm_endpoint_that_is_not_aws_by_status_and_host() {
    let server = syncscope_harness::sink::Sink::answering(
        syncscope_harness::sink::Reply::status(404).body("<html><body>Not Found</body></html>"),
    )
    .unwrap();
    let world = World::start();
    let config = config_file(&world, "ssm.json", &["AWS-Admins"], json!({}));
    let out = world
        .cli_command(&["plan", "--config", &config])
        .env("AWS_ENDPOINT_URL_SSM", format!("http://{}", server.addr))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "HTTP 404 from {}, an answer without an AWS error code",
            server.addr
        )),
        "{err}"
    );
    assert!(!server.requests().is_empty(), "the plain server was asked");
}
