//! The CLI's parent-group engine against a world: `bootstrap --engine parent-group`
//! (the group and its one filter, once), `plan --engine parent-group` (what moves
//! where), `bootstrap --retire-filters` (only the filters the parent covers), the live
//! plan of the parent's members, and doctor's parent-group lines.

use serde_json::{Value, json};

use crate::helpers::*;

/// A config file under the parent-group engine with these groups, in the world's
/// build folder.
fn parent_config_file(world: &World, groups: &[&str]) -> String {
    let dir = syncscope_harness::paths::build_dir("e2e-parent-cli").join(&world.ns);
    std::fs::create_dir_all(&dir).unwrap();
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
    doc["SSO"]["GroupFilters"] = groups.iter().map(|g| json!({ "Name": g })).collect();
    doc["SSO"]["Engine"] = json!("parent-group");
    doc["SSO"]["ParentGroup"] = json!(PARENT_GROUP);
    doc["SSO"]["DirectoryId"] = json!(DIRECTORY_ID);
    let path = dir.join("config.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

/// The identity store the worlds' sync target writes to (given, so bootstrap accepts
/// the seeded target rather than moto's instance store).
const STORE: &str = "arn:aws:identitystore::123456789012:identitystore/d-1234567890";

/// Identity-sync writes and ds-data CreateGroup calls so far.
fn writes(world: &World) -> (u64, u64) {
    (
        world.write_calls(),
        world.ds_calls_of("ds-data:CreateGroup"),
    )
}

#[test]
fn bootstrap_creates_the_parent_group_and_its_one_filter_once() {
    let directory = json!({
        "id": DIRECTORY_ID, "domain": DOMAIN, "groups": { "AWS-Admins": {} },
    });
    let world = World::with(WorldOptions {
        directories: vec![directory],
        ..Default::default()
    });
    let config = parent_config_file(&world, &["AWS-Admins"]);
    let bootstrap = |extra: &[&str]| {
        let mut args = vec![
            "bootstrap",
            "--config",
            &config,
            "--engine",
            "parent-group",
            "--identity-store-arn",
            STORE,
        ];
        args.extend_from_slice(extra);
        world.cli(&args)
    };

    let (code, out, err) = bootstrap(&["--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "2/4 parent group {PARENT_GROUP} in {DIRECTORY_ID}: not found; would create it"
        )) && out.contains("its sync filter: not in the sync scope; would add it"),
        "{out}"
    );
    assert_eq!(writes(&world), (0, 0), "a dry run changes nothing");

    let (code, out, err) = bootstrap(&[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("not found; created it") && out.contains("added it"),
        "{out}"
    );
    assert_eq!(
        writes(&world),
        (1, 1),
        "one CreateGroup, one CreateSyncFilter"
    );
    assert_eq!(world.scope(), groups(&[PARENT_GROUP]));
    assert!(world.parent_members().is_empty(), "the group starts empty");

    let (code, out, err) = bootstrap(&[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("found; nothing to do") && out.contains("in the sync scope; nothing to do"),
        "{out}"
    );
    assert_eq!(writes(&world), (1, 1), "idempotent: nothing new");
}

#[test]
fn the_move_is_previewed_and_only_the_filters_the_parent_covers_retire() {
    let world = World::with(WorldOptions {
        existing: vec![
            ("GROUP", PARENT_GROUP.to_owned()),
            ("GROUP", "aws-admins".to_owned()),
            ("GROUP", "AWS-Dev".to_owned()),
            ("GROUP", "Console-Only".to_owned()),
        ],
        directories: vec![parent_directory(
            &["AWS-Admins"],
            &["AWS-Dev", "AWS-New", "Console-Only"],
            &[],
        )],
        ..Default::default()
    });
    let config = parent_config_file(&world, &["AWS-Admins", "AWS-Dev", "AWS-New"]);

    let (code, out, err) = world.cli(&["plan", "--config", &config, "--engine", "parent-group"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for line in [
        "1 name(s) already a member of the parent group",
        "1 name(s) an individual filter now; becomes a member of the parent group",
        "1 name(s) in neither; becomes a member of the parent group",
        "1 individual filter(s) the parent covers now",
        "- GROUP  aws-admins",
        "2 individual filter(s) stay",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    let (code, json_out, err) = world.cli(&[
        "plan",
        "--config",
        &config,
        "--engine",
        "parent-group",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{json_out}\n{err}");
    let parsed: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(parsed["parent_in_scope"], true);
    assert_eq!(parsed["retirable"][0]["name"], "aws-admins");

    let retire = |extra: &[&str]| {
        let mut args = vec![
            "bootstrap",
            "--config",
            &config,
            "--engine",
            "parent-group",
            "--retire-filters",
            "--identity-store-arn",
            STORE,
        ];
        args.extend_from_slice(extra);
        world.cli(&args)
    };
    let (code, out, err) = retire(&["--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("would remove GROUP  aws-admins"), "{out}");
    assert_eq!(world.write_calls(), 0, "a dry run removes nothing");

    let (code, out, err) = retire(&[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        world.scope(),
        groups(&["AWS-Dev", "Console-Only", PARENT_GROUP]),
        "only the covered filter retired: {out}"
    );
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins"]),
        "bootstrap adds no member"
    );
}

#[test]
fn the_live_plan_reads_the_parents_members_and_no_identity_sync() {
    let world = World::with(WorldOptions {
        directories: vec![parent_directory(
            &["AWS-Admins", "Old-Team"],
            &["AWS-New"],
            &[],
        )],
        ..Default::default()
    });
    let config = parent_config_file(&world, &["AWS-Admins", "AWS-New"]);
    let (code, out, err) = world.cli(&["plan", "--config", &config, "--format", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!(
            "Live scope of parent group {PARENT_GROUP} in {DIRECTORY_ID}"
        )),
        "{err}"
    );
    let parsed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["counts"]["create"], 1, "{parsed:#}");
    assert_eq!(parsed["counts"]["unmanaged"], 1, "{parsed:#}");
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn doctor_checks_the_parent_group_and_probes_both_writes_without_changing_anything() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", PARENT_GROUP.to_owned())],
        directories: vec![parent_directory(&["AWS-Admins"], &[], &[])],
        ..Default::default()
    });
    let config = parent_config_file(&world, &["AWS-Admins"]);
    let (_, out, err) = world.cli(&["doctor", "--config", &config]);
    for line in [
        format!("parent group {PARENT_GROUP}: in {DIRECTORY_ID}"),
        "parent group members: 1 group(s), 0 user(s)".to_owned(),
        "parent group in the sync scope: a group filter of the sync profile".to_owned(),
        "ds-data:AddGroupMember: allowed".to_owned(),
        "ds-data:RemoveGroupMember: allowed".to_owned(),
    ] {
        assert!(out.contains(&line), "{line:?} in:\n{out}\n{err}");
    }
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins"]),
        "nothing changed"
    );

    // A caller IAM denies: each line names it.
    let mut denied = parent_directory(&["AWS-Admins"], &[], &[]);
    denied["iam_denied"] = json!(true);
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", PARENT_GROUP.to_owned())],
        directories: vec![denied],
        ..Default::default()
    });
    let config = parent_config_file(&world, &["AWS-Admins"]);
    let (code, out, _) = world.cli(&["doctor", "--config", &config]);
    assert_ne!(code, 0);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("FAIL  parent group {PARENT_GROUP}")))
        .unwrap_or_else(|| panic!("no FAIL line for the parent group in:\n{out}"));
    assert!(
        line.contains("AccessDeniedException: You are not authorized")
            && !line.contains("ServiceError"),
        "one line naming the refusal, never the SDK's Debug: {line}"
    );
    assert!(
        out.contains("skip  ds-data:AddGroupMember: needs the parent group"),
        "{out}"
    );
}

/// docs/engines.md, "Move back": `plan --engine sync-filters` of a parent-group config
/// plans the individual filters the move back creates.
#[test]
fn plan_with_the_sync_filters_engine_shows_the_filters_the_move_back_creates() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", PARENT_GROUP.to_owned())],
        directories: vec![parent_directory(&["AWS-Admins", "AWS-Dev"], &[], &[])],
        ..Default::default()
    });
    let config = parent_config_file(&world, &["AWS-Admins", "AWS-Dev"]);
    let (code, out, err) = world.cli(&[
        "plan",
        "--config",
        &config,
        "--engine",
        "sync-filters",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let parsed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["counts"]["create"], 2, "{parsed:#}");
    assert_eq!(
        parsed["counts"]["unmanaged"], 1,
        "the parent's own filter: {parsed:#}"
    );
    assert_eq!(world.write_calls(), 0, "a plan writes nothing");
}
