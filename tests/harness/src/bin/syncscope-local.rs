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
//! The identity store is seeded with users in the synced groups, and before the update
//! the CLI's `syncscope plan --format markdown` previews it (`plan.md`; for the example
//! config README's sample must be exactly that output, and `--write-readme` rewrites
//! it): the update then shows who loses and who keeps access in its docs and card.
//!
//! `--lambda PATH [--wrapper "CMD ARGS"] --smoke` runs another build of the Lambda
//! (`task build` passes the arm64 zip's `bootstrap` under `qemu-aarch64`) through a
//! drift check, which must answer SUCCESS (the whole pipeline, read-only), and a Create
//! whose loopback ResponseURL it must refuse: the shipped artefact, not only the debug
//! build, works, and has no test hook.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use syncscope_core::config;
use syncscope_harness::world::{DIRECTORY_ID, PARENT_GROUP, World, WorldOptions};

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
    let write_readme = args.iter().any(|a| a == "--write-readme");
    // `--engine parent-group`: the same lifecycle under the parent-group engine (the
    // config gets SSO.Engine, SSO.ParentGroup and SSO.DirectoryId; results in
    // build/local-parent-group).
    let parent = match arg(&args, "--engine").map(String::as_str) {
        None | Some("sync-filters") => false,
        Some("parent-group") => true,
        Some(other) => {
            eprintln!("error: --engine {other:?}: use sync-filters or parent-group");
            return ExitCode::FAILURE;
        }
    };
    if args.iter().any(|a| a == "--smoke") {
        return smoke(
            &config_path,
            arg(&args, "--lambda").map(PathBuf::from),
            arg(&args, "--wrapper")
                .map(|w| w.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        );
    }
    let dir = if parent {
        "local-parent-group"
    } else {
        "local"
    };
    let out = syncscope_harness::paths::build_dir(dir);
    let _ = std::fs::remove_dir_all(&out);
    let out = syncscope_harness::paths::build_dir(dir);

    let text = match std::fs::read_to_string(&config_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if parent {
        doc["SSO"]["Engine"] = json!("parent-group");
        doc["SSO"]["ParentGroup"] = json!(PARENT_GROUP);
        doc["SSO"]["DirectoryId"] = json!(DIRECTORY_ID);
    }
    let original = match config::from_value(&doc) {
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
    let mut edited_doc = doc.clone();
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
        "syncscope local lifecycle: {} ({} filters{})",
        config_path.display(),
        original.desired().filters.len(),
        if parent {
            ", engine parent-group: the parent group's members, through Directory Service Data"
        } else {
            ""
        }
    );
    println!(
        "starting moto, the identity-sync emulator, the Teams and ResponseURL sinks and the Lambda binary…"
    );
    let unmanaged = "Legacy-Console-Group";
    // Under the parent-group engine the scope is the parent's members, and the sync
    // profile holds the parent alone; a name AD lacks cannot become a member, so the
    // added group is in AD there.
    let existing = if parent {
        vec![("GROUP", PARENT_GROUP.to_owned())]
    } else {
        vec![
            ("GROUP", first.name.as_str().to_lowercase()),
            ("GROUP", unmanaged.to_owned()),
        ]
    };
    let mut ad = directory(&original, &removed, unmanaged);
    if parent {
        ad["groups"][added] = json!({ "users": ["added.member"] });
        ad["groups"][PARENT_GROUP] =
            json!({ "groups": [first.name.as_str().to_lowercase(), unmanaged] });
    }
    let world = World::with(WorldOptions {
        existing,
        directories: vec![ad],
        // The config's stack name: `syncscope plan` finds the stack's ledger.
        stack_name: Some(original.general.stack_name.as_str().to_owned()),
        ..Default::default()
    });
    println!(
        "  moto {}  identity-sync {}  (everything on 127.0.0.1)",
        world.moto.url,
        world.emulator.base_url()
    );
    let people = seed_people(&world, &original, &removed, unmanaged);
    let edited_path = out.join("config-edited.json");
    write_json(&edited_path, &edited_doc);

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
        if step == 2 {
            preview(
                &world,
                &people.accounts,
                &edited_path,
                &out,
                &config_path,
                &mut check,
                match (parent, write_readme) {
                    // The sample is the default engine's.
                    (true, _) => Readme::Skip,
                    (false, true) => Readme::Write,
                    (false, false) => Readme::Compare,
                },
            );
        }
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
        let writes_before = writes(&world, parent);
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
                impact_of_update(&world, &people, &mut check);
                directory_of_update(&world, added, parent, &mut check);
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
                writes(&world, parent) == writes_before,
                "step 3: no writes to the scope",
            ),
            4 => check.expect(
                writes(&world, parent) == writes_before,
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

    // The final scope: the edited config plus the untouched unmanaged filter (under
    // the parent-group engine: the parent's members, and no identity-sync call at all).
    let scope = if parent {
        world.parent_members()
    } else {
        world.scope()
    };
    write_json(
        &out.join("scope.json"),
        &if parent {
            json!({ "directory": DIRECTORY_ID, "parent_group": PARENT_GROUP, "members": scope })
        } else {
            json!({ "profile": syncscope_harness::world::PROFILE, "filters": scope })
        },
    );
    if parent {
        let calls = world.identity_sync_calls();
        println!(
            "identity-sync calls in the whole lifecycle (the Lambda's and the CLI's): {calls}"
        );
        check.expect(
            calls == 0,
            format!(
                "the parent-group engine makes no identity-sync call (the emulator counted {calls})"
            ),
        );
    }
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
    // Every server this run started, for the check that nothing is left running once
    // it has exited (`infra/check-nothing-left.sh`, run by `task local`).
    let servers = [
        world.moto.url.clone(),
        world.emulator.base_url(),
        format!("http://{}", world.teams.addr),
        format!("http://{}", world.cfn.addr),
        world.runtime.endpoint(),
    ];
    let _ = std::fs::write(out.join("servers.txt"), servers.join("\n") + "\n");
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
        "smoke test: {} {shown} through the Runtime API (a drift check; a Create with a loopback ResponseURL)",
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
    // The whole pipeline, read-only, answered through the Runtime API: SSM, the
    // listing, the plan, the docs.
    let drift =
        json!({ "syncscope": "drift", "StackName": world.stack(), "ResourceProperties": props });
    let delivered = world.send(&drift, TIMEOUT);
    let result = match &delivered.invocation.ended {
        syncscope_harness::runtime_api::Ended::Response(v) => v.clone(),
        other => json!({ "Status": format!("{other:?}") }),
    };
    println!(
        "  drift check: {} ({})",
        result["Status"].as_str().unwrap_or("no answer"),
        result["Reason"].as_str().unwrap_or_default()
    );
    if result["Status"] != "SUCCESS" {
        failures += 1;
    }
    // A shipped build answers CloudFormation only on its response hosts: the local
    // sink's loopback URL is refused, nothing is done and nothing is PUT.
    let event = world.event("Create", &props, None, None);
    let delivered = world.send(&event, TIMEOUT);
    let refused = match &delivered.invocation.ended {
        syncscope_harness::runtime_api::Ended::Response(v) => v["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("the ResponseURL is refused")),
        _ => false,
    };
    println!(
        "  Create with a loopback ResponseURL: {} ({} answer(s) PUT)",
        if refused { "refused" } else { "NOT refused" },
        delivered.responses.len()
    );
    if !refused || !delivered.responses.is_empty() || world.write_calls() != 0 {
        failures += 1;
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

/// The live documents the Lambda published to the docs bucket: (file name, bytes).
fn published(world: &World) -> Vec<(String, Vec<u8>)> {
    let bucket = world.bucket();
    let listed = world
        .rt
        .block_on(world.s3.list_objects_v2().bucket(&bucket).send());
    let Ok(listed) = listed else {
        return Vec::new();
    };
    let mut files = Vec::new();
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
        let file = key.rsplit('/').next().unwrap_or(key).to_owned();
        files.push((file, bytes.into_bytes().to_vec()));
    }
    files
}

/// Copies the live documents into `out/docs/`.
fn copy_docs(world: &World, out: &Path) {
    let _ = std::fs::create_dir_all(out.join("docs"));
    for (file, bytes) in published(world) {
        let _ = std::fs::write(out.join("docs").join(file), bytes);
    }
}

/// Who is in which group in the identity store the local lifecycle seeds.
struct People {
    /// Members of the removed group that no other synced group holds.
    losing: Vec<String>,
    /// Members of the removed group that another group keeps: (user name, through).
    keeping: Vec<(String, String)>,
    /// What the first user losing access loses: `AdministratorAccess in payments-prod
    /// (<id>)`, ...
    first_loses: Vec<String>,
    /// The seeded accounts' ids (moto's, random) and the fixed ids README's plan
    /// sample shows instead.
    accounts: Vec<(String, &'static str)>,
}

/// The accounts, permission sets and assignments the local lifecycle seeds (moto's
/// organization and IAM Identity Center instance): the removed group grants
/// AdministratorAccess in payments-prod and ReadOnlyAccess in payments-test; the first
/// group ReadOnlyAccess in payments-test and PowerUserAccess in shared-services; the
/// unmanaged console group ReadOnlyAccess in payments-prod; the second group nothing
/// (a hygiene finding: synced for no purpose). Returns what the first user losing
/// access (in the removed group only) loses, and the accounts' ids with the fixed
/// ids README's sample shows.
fn seed_access(
    world: &World,
    store_id: &str,
    groups: &[(String, &str)],
) -> (Vec<String>, Vec<(String, &'static str)>) {
    use syncscope_harness::access::To;
    let seeded = world.seed_access(
        &["payments-prod", "payments-test", "shared-services"],
        &["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"],
    );
    for (group, role) in groups {
        let id = world.group_id(store_id, group);
        let grants: &[(&str, &str)] = match *role {
            "removed" => &[
                ("payments-prod", "AdministratorAccess"),
                ("payments-test", "ReadOnlyAccess"),
            ],
            "first" => &[
                ("payments-test", "ReadOnlyAccess"),
                ("shared-services", "PowerUserAccess"),
            ],
            "unmanaged" => &[("payments-prod", "ReadOnlyAccess")],
            _ => &[],
        };
        for (account, set) in grants {
            world.assign(&seeded, To::Group(&id), account, set);
        }
    }
    println!(
        "  access map: {} accounts in the organization, {} permission sets, assignments to {} groups seeded",
        seeded.accounts.len(),
        seeded.sets.len(),
        groups.iter().filter(|(_, r)| *r != "other").count()
    );
    let loses = [
        ("AdministratorAccess", "payments-prod"),
        ("ReadOnlyAccess", "payments-test"),
    ]
    .iter()
    .map(|(set, account)| format!("{set} in {account} ({})", seeded.account(account)))
    .collect();
    let accounts = [
        ("payments-prod", "111122223333"),
        ("payments-test", "222233334444"),
        ("shared-services", "333344445555"),
    ]
    .into_iter()
    .map(|(name, fixed)| (seeded.account(name), fixed))
    .collect();
    (loses, accounts)
}

/// Who is in which synced group (names without the domain): the first group and two
/// more with members, the group the edit removes with four (one also in the first
/// group, one also in the unmanaged console group, two in nothing else), and the
/// unmanaged group. The other groups are not synced yet ("pending").
fn memberships(
    config: &config::Config,
    removed: &str,
    unmanaged: &str,
) -> Vec<(String, Vec<&'static str>)> {
    let names: Vec<String> = config
        .sso
        .groups
        .iter()
        .map(|g| g.name.as_str().to_owned())
        .collect();
    let (first, second, third) = (&names[0], names.get(1), names.get(2));
    let mut seeded: Vec<(String, Vec<&'static str>)> = vec![
        (first.clone(), vec!["alice.meyer", "bob.schulz"]),
        (unmanaged.to_owned(), vec!["hana.fischer"]),
        (
            removed.to_owned(),
            vec!["bob.schulz", "carol.jones", "dave.miller", "hana.fischer"],
        ),
    ];
    for (extra, members) in [
        (second, vec!["erin.wagner", "alice.meyer"]),
        (third, vec!["frank.koch"]),
    ] {
        if let Some(name) = extra.filter(|n| n.as_str() != removed) {
            seeded.push((name.clone(), members));
        }
    }
    seeded
}

/// The Active Directory the sync profile syncs from, for the directory check: every
/// group of the config (the synced ones with their members, the others with one
/// member each; the first group also holds the last as a nested group) and every
/// user, but not the group the local edit adds, so the update shows a name that is
/// not in AD (a typo would look the same).
fn directory(config: &config::Config, removed: &str, unmanaged: &str) -> Value {
    let synced = memberships(config, removed, unmanaged);
    let mut groups = serde_json::Map::new();
    let mut users: Vec<String> = config
        .sso
        .users
        .iter()
        .map(|u| u.name.as_str().to_owned())
        .collect();
    for g in config
        .sso
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .chain([unmanaged])
    {
        let members: Vec<String> = synced
            .iter()
            .find(|(name, _)| name == g)
            .map(|(_, m)| m.iter().map(|h| (*h).to_owned()).collect())
            .unwrap_or_else(|| vec![format!("{}.member", g.to_lowercase())]);
        users.extend(members.iter().cloned());
        groups.insert(g.to_owned(), json!({ "users": members }));
    }
    let nested = config.sso.groups.last().map(|g| g.name.as_str().to_owned());
    if let (Some(first), Some(nested)) = (config.sso.groups.first(), nested) {
        groups[first.name.as_str()]["groups"] = json!([nested]);
    }
    users.sort();
    users.dedup();
    json!({
        "id": "d-1234567890",
        "domain": config.sso.domain.as_str(),
        "users": users,
        "groups": groups,
    })
}

/// Seeds moto's identity store as a sync would have left it ([`memberships`]).
fn seed_people(world: &World, config: &config::Config, removed: &str, unmanaged: &str) -> People {
    let domain = config.sso.domain.as_str();
    let group = |name: &str| format!("{name}@{domain}");
    let first = config.sso.groups[0].name.as_str();
    let seeded: Vec<(String, Vec<&str>)> = memberships(config, removed, unmanaged)
        .into_iter()
        .map(|(name, members)| (group(&name), members))
        .collect();
    let borrowed: Vec<(&str, &[&str])> = seeded
        .iter()
        .map(|(g, m)| (g.as_str(), m.as_slice()))
        .collect();
    let store_id = world.instance_store_id();
    world.seed_identity_store(&store_id, &borrowed);
    println!(
        "  identity store {store_id}: {} synced groups and their users seeded",
        seeded.len()
    );
    let roles: Vec<(String, &str)> = seeded
        .iter()
        .map(|(name, _)| {
            let role = if *name == group(removed) {
                "removed"
            } else if *name == group(first) {
                "first"
            } else if *name == group(unmanaged) {
                "unmanaged"
            } else {
                "other"
            };
            (name.clone(), role)
        })
        .collect();
    let (first_loses, accounts) = seed_access(world, &store_id, &roles);
    let user = |handle: &str| syncscope_harness::world::seeded_person(handle).0;
    People {
        first_loses,
        accounts,
        losing: vec![user("carol.jones"), user("dave.miller")],
        keeping: vec![
            (user("bob.schulz"), group(first)),
            (user("hana.fischer"), group(unmanaged)),
        ],
    }
}

/// The markers around README's sample of `syncscope plan --format markdown`.
const README_START: &str = "<!-- plan-sample:start (written by ./task readme:sample) -->";
const README_END: &str = "<!-- plan-sample:end -->";

/// Before the update: `syncscope plan --format markdown` of the edited config against
/// the live local world, saved as `plan.md`. For the example config, README's sample
/// must be exactly this output (`--write-readme` rewrites it).
fn preview(
    world: &World,
    accounts: &[(String, &'static str)],
    edited: &Path,
    out: &Path,
    config_path: &Path,
    check: &mut Check,
    sample: Readme,
) {
    let (code, markdown, stderr) = world.cli(&[
        "plan",
        "--config",
        &edited.display().to_string(),
        "--format",
        "markdown",
    ]);
    let _ = std::fs::write(out.join("plan.md"), &markdown);
    println!(
        "   preview: syncscope plan --format markdown of the edited config (exit {code}), in plan.md"
    );
    check.expect(
        code == 0,
        format!("the plan of the edit is allowed (exit {code}): {stderr}"),
    );
    check.expect(
        markdown.contains("#### Who gains and who loses AWS access")
            && markdown.contains("carol\\.jones"),
        "the plan's markdown shows who loses access",
    );
    let example = syncscope_harness::paths::workspace().join("config/example.json");
    let is_example =
        std::fs::canonicalize(config_path).ok() == std::fs::canonicalize(&example).ok();
    if !is_example || sample == Readme::Skip {
        return;
    }
    let readme_path = syncscope_harness::paths::workspace().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap_or_default();
    let (Some(start), Some(end)) = (readme.find(README_START), readme.find(README_END)) else {
        check.expect(false, "README.md has the plan sample's markers");
        return;
    };
    let body_start = start + README_START.len();
    // moto numbers new accounts at random: the sample shows fixed ids.
    let mut stable = markdown.clone();
    for (id, fixed) in accounts {
        stable = stable.replace(id.as_str(), fixed);
    }
    let wanted = format!("\n\n{stable}\n");
    if sample == Readme::Write {
        let updated = format!("{}{wanted}{}", &readme[..body_start], &readme[end..]);
        if let Err(e) = std::fs::write(&readme_path, updated) {
            check.expect(false, format!("cannot write README.md: {e}"));
        } else {
            println!("   wrote the plan sample into README.md");
        }
    } else {
        check.expect(
            readme[body_start..end] == wanted,
            "README.md's plan sample is this run's `syncscope plan --format markdown` output (run ./task readme:sample to update it)",
        );
    }
}

/// What the preview does with README's plan sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readme {
    /// Checks it is this run's output.
    Compare,
    /// Rewrites it.
    Write,
    /// Leaves it alone.
    Skip,
}

/// The last card the Teams sink received, as text ("" if none).
fn last_card(world: &World) -> String {
    world
        .teams
        .requests()
        .last()
        .map(|r| r.json().to_string())
        .unwrap_or_default()
}

/// Writes to the scope so far: identity-sync's creates and deletes, or the parent
/// group's adds and removes.
fn writes(world: &World, parent: bool) -> u64 {
    if parent {
        world.ds_calls_of("ds-data:AddGroupMember") + world.ds_calls_of("ds-data:RemoveGroupMember")
    } else {
        world.write_calls()
    }
}

/// After the update: every group's status in the identity store and in Active
/// Directory, as the Lambda published them (groups.json), printed; every status a
/// real run can show is there: in AD and synced with members, in AD and pending, and
/// not in AD (the added group), which the card names too. Under the parent-group
/// engine the added group is in AD (a name AD lacks cannot become a member).
fn directory_of_update(world: &World, added: &str, parent: bool, check: &mut Check) {
    let docs = published(world);
    let groups: Value = docs
        .iter()
        .find(|(file, _)| file == "groups.json")
        .and_then(|(_, bytes)| serde_json::from_slice(bytes).ok())
        .unwrap_or(Value::Null);
    let mut seen = std::collections::BTreeSet::new();
    println!("   groups in the identity store and in Active Directory:");
    for row in groups["groups"].as_array().into_iter().flatten() {
        let name = row["name"].as_str().unwrap_or_default();
        let count = |n: &Value, what: &str| {
            let n = n.as_u64().unwrap_or(0);
            format!("{n} {what}{}", if n == 1 { "" } else { "s" })
        };
        let identity = match row["identity"]["status"].as_str().unwrap_or("unknown") {
            "synced" => format!("synced, {}", count(&row["identity"]["members"], "member")),
            other => other.to_owned(),
        };
        let ad = match row["ad"]["status"].as_str().unwrap_or("not checked") {
            "in_ad" => format!(
                "in AD, {}, {}",
                count(&row["ad"]["members"], "member"),
                count(&row["ad"]["nested_groups"], "nested group")
            ),
            "not_in_ad" => "NOT IN AD".to_owned(),
            other => other.to_owned(),
        };
        println!("     {name:<28} identity store: {identity:<20} directory: {ad}");
        seen.insert((
            row["identity"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            row["ad"]["status"].as_str().unwrap_or_default().to_owned(),
        ));
        if name == added {
            let expected = if parent { "in_ad" } else { "not_in_ad" };
            check.expect(
                row["ad"]["status"] == expected,
                format!("step 2: {added} is marked {expected}"),
            );
        }
    }
    let statuses: &[(&str, &str)] = if parent {
        &[("synced", "in_ad"), ("pending", "in_ad")]
    } else {
        &[
            ("synced", "in_ad"),
            ("pending", "in_ad"),
            ("pending", "not_in_ad"),
        ]
    };
    for &(identity, ad) in statuses {
        check.expect(
            seen.contains(&(identity.to_owned(), ad.to_owned())),
            format!("step 2: the docs show a group {identity} in the identity store and {ad}"),
        );
    }
    if !parent {
        let card = last_card(world);
        check.expect(
            card.contains("Not in Active Directory") && card.contains(added),
            "step 2: the card names the group not in AD",
        );
    }
}

/// After the update: the impact the Lambda published (groups.json) names who loses
/// and who keeps access, and the card and page show it. Prints it.
fn impact_of_update(world: &World, people: &People, check: &mut Check) {
    let docs = published(world);
    let find = |name: &str| {
        docs.iter()
            .find(|(file, _)| file == name)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default()
    };
    let groups: Value = serde_json::from_str(&find("groups.json")).unwrap_or(Value::Null);
    let impact = &groups["impact"];
    let losing: Vec<String> = impact["losing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["user_name"].as_str().map(str::to_owned))
        .collect();
    let keeping: Vec<(String, String)> = impact["keeping"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            Some((
                k["user_name"].as_str()?.to_owned(),
                k["through"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let loses = |person: &Value| -> Vec<String> {
        person["loses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                let id = g["account_id"].as_str().unwrap_or_default();
                let account = match g["account_name"].as_str() {
                    Some(name) => format!("{name} ({id})"),
                    None => id.to_owned(),
                };
                format!(
                    "{} in {account}",
                    g["permission_set"].as_str().unwrap_or("?")
                )
            })
            .collect()
    };
    let mut first_loses = Vec::new();
    for person in impact["losing"].as_array().into_iter().flatten() {
        let user = person["user_name"].as_str().unwrap_or("?");
        let lost = loses(person);
        println!("   ✗ {user} loses AWS access (disabled after 28 days)");
        for grant in &lost {
            println!("     {user} loses {grant}");
        }
        if first_loses.is_empty() {
            first_loses = lost;
        }
    }
    check.expect(
        first_loses == people.first_loses,
        format!(
            "step 2: {} loses {:?} (got {first_loses:?})",
            people.losing.first().map_or("?", String::as_str),
            people.first_loses
        ),
    );
    for (user, through) in &keeping {
        println!("   ✓ {user} keeps access through {through}");
    }
    check.expect(
        losing == people.losing,
        format!("step 2: losing access {:?} (got {losing:?})", people.losing),
    );
    let mut expected = people.keeping.clone();
    expected.sort();
    let mut got = keeping.clone();
    got.sort();
    check.expect(
        got == expected,
        format!("step 2: keeping access {expected:?} (got {got:?})"),
    );
    check.expect(
        find("index.html").contains("Impact of this change"),
        "step 2: the docs page has the impact",
    );
    let card = last_card(world);
    check.expect(
        people.losing.iter().all(|u| card.contains(u.as_str())),
        "step 2: the card lists the users losing access",
    );
}
