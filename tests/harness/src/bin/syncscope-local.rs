//! `syncscope-local`: the whole lifecycle on a laptop, with no AWS account.
//!
//! Starts moto, the identity-sync emulator, a Teams webhook sink and a ResponseURL
//! sink on 127.0.0.1, seeds a sync profile with a few existing filters (one of them
//! not in the config, so unmanaged), writes the config's filters to SSM the way the
//! deployment does, and drives the real Lambda binary through the Lambda Runtime API
//! with CloudFormation's events: Create; Update after a config edit (one group added,
//! one removed); Update where only ServiceTimeout changed; Delete. Writes what it saw
//! under `build/local/` and exits non-zero if any step differs from what is expected.
//!
//! `--lambda PATH [--wrapper "CMD ARGS"] --smoke` runs another build of the Lambda
//! (`task build` passes the arm64 zip's `bootstrap` under `qemu-aarch64`) through one
//! Create and one Delete, which must both answer SUCCESS: the shipped artefact, not only
//! the debug build, serves CloudFormation.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use syncscope_core::config;
use syncscope_harness::world::{World, WorldOptions};

const TIMEOUT: Duration = Duration::from_secs(60);

struct Check {
    failures: Vec<String>,
}

impl Check {
    fn expect(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            let what = what.into();
            eprintln!("  ✗ {what}");
            self.failures.push(what);
        }
    }
}

fn write_json(path: &Path, value: &Value) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if let Err(e) = std::fs::write(path, text + "\n") {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

/// The value after `flag`, if given.
fn arg<'a>(args: &'a [String], flag: &str) -> Option<&'a String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let config_path = arg(&args, "--config").map_or_else(
        || syncscope_harness::paths::workspace().join("config/example.json"),
        PathBuf::from,
    );
    if args.iter().any(|a| a == "--smoke") {
        return smoke(
            &config_path,
            arg(&args, "--lambda").map(PathBuf::from),
            arg(&args, "--wrapper")
                .map(|w| w.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        );
    }
    let out = syncscope_harness::paths::build_dir("local");
    let _ = std::fs::remove_dir_all(&out);
    let out = syncscope_harness::paths::build_dir("local");

    let text = match std::fs::read_to_string(&config_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let original = match config::parse(&text) {
        Ok(p) => p.config,
        Err(invalid) => {
            eprintln!("error: {}: {invalid}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let Some(first) = original.sso.groups.first() else {
        eprintln!("error: the config needs at least one group for the local lifecycle");
        return ExitCode::FAILURE;
    };
    let Some(last) = original.sso.groups.last() else {
        return ExitCode::FAILURE;
    };

    // The config edit: one group added, the last one removed.
    let added = "AWS-Local-Lifecycle-Added";
    let removed = last.name.as_str().to_owned();
    let mut edited_doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(groups) = edited_doc["SSO"]["GroupFilters"].as_array_mut() {
        groups.pop();
        groups.push(
            json!({ "Name": added, "Description": "Added by the local lifecycle's config edit" }),
        );
    }
    let edited = match config::from_value(&edited_doc) {
        Ok(p) => p.config,
        Err(invalid) => {
            eprintln!("error: the edited config is invalid: {invalid}");
            return ExitCode::FAILURE;
        }
    };

    println!(
        "syncscope local lifecycle: {} ({} filters)",
        config_path.display(),
        original.desired().filters.len()
    );
    println!(
        "starting moto, the identity-sync emulator, the Teams and ResponseURL sinks and the Lambda binary…"
    );
    let unmanaged = "Legacy-Console-Group";
    let world = World::with(WorldOptions {
        existing: vec![
            ("GROUP", first.name.as_str().to_lowercase()),
            ("GROUP", unmanaged.to_owned()),
        ],
        ..Default::default()
    });
    println!(
        "  moto {}  identity-sync {}  (everything on 127.0.0.1)",
        world.moto.url,
        world.emulator.base_url()
    );

    let mut check = Check {
        failures: Vec::new(),
    };
    let props_v1 = world.deploy(&original);
    let props_v2 = world.deploy(&edited);
    let props_v3 = {
        let mut p = props_v2.clone();
        p.insert("ServiceTimeout".into(), json!("900"));
        p
    };
    let mut ids: Vec<String> = Vec::new();
    let steps: Vec<(&str, Value)> = vec![
        ("Create", world.event("Create", &props_v1, None, None)),
        ("Update", Value::Null),
        ("Update", Value::Null),
        ("Delete", Value::Null),
    ];
    for (n, (kind, _)) in steps.iter().enumerate() {
        let step = n + 1;
        let id = ids.last().cloned();
        let event = match step {
            1 => world.event("Create", &props_v1, None, None),
            2 => world.event("Update", &props_v2, Some(&props_v1), id.as_deref()),
            3 => world.event("Update", &props_v3, Some(&props_v2), id.as_deref()),
            _ => world.event("Delete", &props_v3, None, id.as_deref()),
        };
        let label = match step {
            1 => "Create",
            2 => "Update (config edit: one group added, one removed)",
            3 => "Update (only ServiceTimeout changed)",
            _ => "Delete",
        };
        let teams_before = world.teams.requests().len();
        let writes_before = world.write_calls();
        let delivered = world.send(&event, TIMEOUT);
        println!("{step}. {label}");
        check.expect(
            delivered.responses.len() == 1,
            format!(
                "step {step}: exactly one CloudFormation response (got {})",
                delivered.responses.len()
            ),
        );
        let Some(response) = delivered.responses.first().map(|r| r.json()) else {
            continue;
        };
        write_json(&out.join(format!("cfn/{step:02}-{kind}.json")), &response);
        let status = response["Status"].as_str().unwrap_or_default().to_owned();
        let reason = response["Reason"].as_str().unwrap_or_default();
        println!("   {status}: {reason}");
        check.expect(
            status == "SUCCESS",
            format!("step {step}: SUCCESS (got {status}: {reason})"),
        );
        if let Some(id) = response["PhysicalResourceId"].as_str() {
            ids.push(id.to_owned());
        }
        let data = &response["Data"];
        match step {
            2 => {
                check.expect(
                    data["Created"] == "1" && data["CreatedNames"] == added,
                    format!("step 2: created {added}"),
                );
                check.expect(
                    data["Removed"] == "1" && data["RemovedNames"] == removed.as_str(),
                    format!("step 2: removed {removed}"),
                );
            }
            3 => check.expect(
                world.write_calls() == writes_before,
                "step 3: no identity-sync writes",
            ),
            4 => check.expect(
                world.write_calls() == writes_before,
                "step 4: OnDelete retain leaves the scope alone",
            ),
            _ => {}
        }
        let cards = world
            .teams
            .wait_for(teams_before + 1, Duration::from_secs(2));
        for (i, card) in cards.iter().enumerate().skip(teams_before) {
            let name = if i == teams_before {
                format!("teams/{step:02}.json")
            } else {
                format!("teams/{step:02}-{i}.json")
            };
            write_json(&out.join(name), &card.json());
        }
    }
    check.expect(
        ids.len() == 4 && ids.windows(2).all(|w| w[0] == w[1]),
        format!("one and the same PhysicalResourceId in every response ({ids:?})"),
    );

    // The final scope: the edited config plus the untouched unmanaged filter.
    let scope = world.scope();
    write_json(
        &out.join("scope.json"),
        &json!({ "profile": syncscope_harness::world::PROFILE, "filters": scope }),
    );
    let mut expected: Vec<String> = edited
        .desired()
        .filters
        .iter()
        .map(|f| {
            // The first group was seeded in lower case and adopted as it is.
            let name = if f.name.as_str() == first.name.as_str() {
                f.name.as_str().to_lowercase()
            } else {
                f.name.to_string()
            };
            format!("{} {name}", f.kind.as_str())
        })
        .chain([format!("GROUP {unmanaged}")])
        .collect();
    expected.sort();
    check.expect(
        scope == expected,
        format!("scope.json equals the edited config plus {unmanaged}"),
    );

    copy_docs(&world, &out);
    let logs = world.lambda_logs();
    let _ = std::fs::write(out.join("lambda.log"), logs.join("\n") + "\n");
    println!("wrote {}", out.display());
    drop(world);
    if check.failures.is_empty() {
        println!("local lifecycle: all 4 steps as expected");
        ExitCode::SUCCESS
    } else {
        eprintln!("local lifecycle: {} check(s) failed", check.failures.len());
        ExitCode::FAILURE
    }
}

/// One Create and one Delete through a given build of the Lambda; both must answer
/// SUCCESS, with one response each.
fn smoke(config_path: &Path, lambda: Option<PathBuf>, wrapper: Vec<String>) -> ExitCode {
    let config = match std::fs::read_to_string(config_path)
        .map_err(|e| e.to_string())
        .and_then(|text| config::parse(&text).map_err(|e| e.to_string()))
    {
        Ok(parsed) => parsed.config,
        Err(e) => {
            eprintln!("error: {}: {e}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let shown = lambda
        .as_ref()
        .map_or_else(|| "the debug build".to_owned(), |p| p.display().to_string());
    println!(
        "smoke test: {} {shown} through the Runtime API (Create, Delete)",
        wrapper.join(" ")
    );
    let world = World::with(WorldOptions {
        lambda_binary: lambda,
        lambda_wrapper: wrapper,
        ..Default::default()
    });
    let mut props = world.deploy(&config);
    // A shipped build posts cards only over https: no Teams webhook here.
    props.remove("TeamsWebhook");
    let mut failures = 0;
    let mut id = None;
    for kind in ["Create", "Delete"] {
        let event = world.event(kind, &props, None, id.as_deref());
        let delivered = world.send(&event, TIMEOUT);
        let answers: Vec<Value> = delivered.responses.iter().map(|r| r.json()).collect();
        let status = answers
            .first()
            .and_then(|a| a["Status"].as_str())
            .unwrap_or("no answer");
        let reason = answers
            .first()
            .and_then(|a| a["Reason"].as_str())
            .unwrap_or_default();
        println!("  {kind}: {status} ({} answer(s)): {reason}", answers.len());
        if status != "SUCCESS" || answers.len() != 1 {
            failures += 1;
        }
        id = answers
            .first()
            .and_then(|a| a["PhysicalResourceId"].as_str())
            .map(str::to_owned);
    }
    if failures == 0 {
        println!("smoke test: passed");
        ExitCode::SUCCESS
    } else {
        eprintln!("smoke test: failed; the Lambda's log:");
        for line in world.lambda_logs() {
            eprintln!("  {line}");
        }
        ExitCode::FAILURE
    }
}

/// Copies whatever the Lambda published to the docs bucket into `out/docs/`.
fn copy_docs(world: &World, out: &Path) {
    let bucket = world.bucket();
    let listed = world
        .rt
        .block_on(world.s3.list_objects_v2().bucket(&bucket).send());
    let Ok(listed) = listed else { return };
    for object in listed.contents() {
        let Some(key) = object.key() else { continue };
        if key.contains("/history/") {
            continue;
        }
        let Ok(got) = world
            .rt
            .block_on(world.s3.get_object().bucket(&bucket).key(key).send())
        else {
            continue;
        };
        let Ok(bytes) = world.rt.block_on(got.body.collect()) else {
            continue;
        };
        let file = key.rsplit('/').next().unwrap_or(key);
        let _ = std::fs::create_dir_all(out.join("docs"));
        let _ = std::fs::write(out.join("docs").join(file), bytes.into_bytes());
    }
}
