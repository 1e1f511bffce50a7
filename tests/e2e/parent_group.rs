//! The parent-group engine through the real Lambda binary: the scope is the parent
//! group's direct members in the directory (Directory Service Data), and the function
//! makes no identity-sync call.
//!
//! Each scenario the default engine's tests prove (lifecycle.rs, safety.rs,
//! ownership.rs, directory.rs, impact.rs) is proved here for the parent group, from
//! the emulator's directory state, the CloudFormation response and the ds-data
//! counters: Create, Update and Delete (`retain` releases the record and keeps the
//! members, `remove` takes out only this stack's); the rollback of a failed Update and
//! of a failed Create; the deletion and people guards refusing before any change; a
//! redelivered Create, and a change applied but answered an error (the `ClientToken`
//! makes the retry one change); a failing member holding back the removals until the
//! next run; an error answered after the change (settled as done), also at random
//! under load; throttling; a member whose change never answers (the run answers
//! before the deadline); re-adds answered 409 or 200 converging the same; users as
//! members like groups, computers left alone and named; a missing parent group; the
//! directory check under `require`; dry and drift runs; and the move of a stack from
//! `sync-filters` to `parent-group`, which leaves its individual filters to the CLI.

use std::time::{Duration, Instant};

use identity_sync_emulator::Knobs;
use identity_sync_emulator::ds_data::SeedGroup;
use serde_json::{Value, json};
use syncscope::ssm::Found;

use crate::helpers::*;

const ADD: &str = "ds-data:AddGroupMember";
const REMOVE: &str = "ds-data:RemoveGroupMember";

/// A world whose directory has the parent group holding `members`, the groups
/// `groups` and the console's `Console-Group` besides.
fn parent_world(members: &[&str], groups: &[&str]) -> World {
    parent_world_with(members, groups, Knobs::default())
}

/// [`parent_world`] with these emulator knobs.
fn parent_world_with(members: &[&str], groups: &[&str], knobs: Knobs) -> World {
    let mut all = groups.to_vec();
    all.push("Console-Group");
    World::with(WorldOptions {
        directories: vec![parent_directory(members, &all, &[])],
        knobs,
        ..Default::default()
    })
}

/// Knobs under which every change of `member` fails with `code`, nothing applied.
fn failing(member: &str, code: &str) -> Knobs {
    Knobs {
        ds_data_fail_members: [(member.to_owned(), code.parse().unwrap())].into(),
        ..Default::default()
    }
}

/// Knobs under which every change of `member` is applied, then answered `code`.
fn failing_after(member: &str, code: &str) -> Knobs {
    Knobs {
        ds_data_fail_after_members: [(member.to_owned(), code.parse().unwrap())].into(),
        ..Default::default()
    }
}

/// Changes the emulator's knobs at run time (a partial update).
fn set_knobs(world: &World, patch: Value) {
    world.emulator.emulator().update_knobs(&patch).unwrap();
}

/// Changes the parent group's members the way the console does (outside the
/// function: no call is counted).
fn console_edit(world: &World, edit: impl FnOnce(&mut SeedGroup)) {
    let mut directories = world.state().directories;
    let directory = directories
        .iter_mut()
        .find(|d| d.id == DIRECTORY_ID)
        .unwrap();
    edit(directory.groups.get_mut(PARENT_GROUP).unwrap());
    world.emulator.emulator().set_directories(directories);
}

/// The membership writes (adds and removals) the emulator received.
fn member_writes(world: &World) -> u64 {
    world.ds_calls_of(ADD) + world.ds_calls_of(REMOVE)
}

/// Delivers an Update from `old` to `new` properties of resource `id`.
fn update(
    world: &World,
    new: &serde_json::Map<String, Value>,
    old: &serde_json::Map<String, Value>,
    id: &str,
) -> Delivered {
    world.send(&world.event("Update", new, Some(old), Some(id)), TIMEOUT)
}

/// Deletion guard limits that allow removing every member in one run.
fn remove_all() -> Value {
    json!({ "OnDelete": "remove", "DeletionGuard": { "MaxRemovals": 100, "MaxRemovalPercent": 100 } })
}

#[test]
fn create_update_and_delete_change_the_parent_groups_members_and_never_call_identity_sync() {
    let names = ["AWS-Admins", "AWS-Dev", "AWS-Billing"];
    let world = parent_world(&["aws-admins", "Console-Group"], &names);
    let cfg = parent_config_with(&["AWS-Admins", "AWS-Dev"], json!({ "OnDelete": "remove" }));
    let props = world.deploy(&cfg);
    let created = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(created["Data"]["Created"], "1", "{created:#}");
    assert_eq!(created["Data"]["Adopted"], "1", "{created:#}");
    assert_eq!(created["Data"]["Unmanaged"], "1", "{created:#}");
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Dev", "Console-Group", "aws-admins"])
    );
    let id = created["PhysicalResourceId"].as_str().unwrap().to_owned();

    let edited = parent_config_with(
        &["AWS-Admins", "AWS-Billing"],
        json!({ "OnDelete": "remove", "DeletionGuard": { "MaxRemovalPercent": 50 } }),
    );
    let props2 = world.deploy(&edited);
    let updated = expect_status(
        &world.send(
            &world.event("Update", &props2, Some(&props), Some(&id)),
            TIMEOUT,
        ),
        "SUCCESS",
    );
    assert_eq!(
        updated["Data"]["CreatedNames"], "AWS-Billing",
        "{updated:#}"
    );
    assert_eq!(updated["Data"]["RemovedNames"], "AWS-Dev", "{updated:#}");
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Billing", "Console-Group", "aws-admins"])
    );

    let deleted = expect_status(
        &world.send(&world.event("Delete", &props2, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(
        world.parent_members(),
        groups(&["Console-Group"]),
        "{deleted:#}"
    );
    assert_eq!(
        world.identity_sync_calls(),
        0,
        "no identity-sync call at all"
    );
    assert_eq!(world.ds_calls_of(ADD), 2);
    assert_eq!(world.ds_calls_of(REMOVE), 3);
}

#[test]
fn a_delete_with_retain_keeps_the_members_and_releases_the_record() {
    let world = parent_world(&["Console-Group"], &["AWS-Admins", "AWS-Dev"]);
    let (props, id) = create(&world, &parent_config(&["AWS-Admins", "AWS-Dev"]));
    assert_eq!(world.ledger().ledger.entries.len(), 2);
    let writes = member_writes(&world);
    let body = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["PhysicalResourceId"], id.as_str());
    assert!(reason(&body).contains("retain"), "{body:#}");
    assert_eq!(member_writes(&world), writes, "retain: nothing removed");
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins", "AWS-Dev", "Console-Group"])
    );
    assert_eq!(
        world.ledger().found,
        Found::Nothing,
        "the record is released"
    );
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn a_delete_with_remove_takes_out_only_this_stacks_members() {
    let world = parent_world(
        &["Console-Group"],
        &["AWS-Admins", "AWS-Dev", "Console-Later"],
    );
    let (props, id) = create(
        &world,
        &parent_config_with(&["AWS-Admins", "AWS-Dev"], json!({ "OnDelete": "remove" })),
    );
    // Someone adds a member in the console after the stack's run.
    console_edit(&world, |parent| parent.groups.push("Console-Later".into()));
    let body = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(&id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Removed"], "2", "{body:#}");
    assert_eq!(
        world.parent_members(),
        groups(&["Console-Group", "Console-Later"]),
        "the console's members stay"
    );
    assert_eq!(world.ds_calls_of(REMOVE), 2);
    assert_eq!(world.ledger().found, Found::Nothing);
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn a_failed_update_and_its_rollback_update_restore_the_members() {
    let old = ["G-1", "G-2", "G-3", "G-4"];
    let world = parent_world(&[], &["G-1", "G-2", "G-3", "G-4", "N-1", "N-2"]);
    let (old_props, id) = create(&world, &parent_config(&old));
    set_knobs(
        &world,
        json!({ "ds_data_fail_members": { "N-2": "ValidationException" } }),
    );
    let new_props = world.deploy(&parent_config(&["G-1", "G-2", "G-3", "G-4", "N-1", "N-2"]));
    let failed = expect_status(&update(&world, &new_props, &old_props, &id), "FAILED");
    assert_eq!(failed["PhysicalResourceId"], id.as_str());
    let why = reason(&failed);
    assert!(
        why.contains("N-2") && why.contains("ValidationException"),
        "{why}"
    );
    assert_eq!(
        world.parent_members(),
        groups(&["G-1", "G-2", "G-3", "G-4", "N-1"]),
        "the rest applied"
    );
    // CloudFormation rolls back with the properties swapped: what the failed Update
    // added goes, nothing else.
    let rollback = expect_status(&update(&world, &old_props, &new_props, &id), "SUCCESS");
    assert_eq!(rollback["Data"]["RemovedNames"], "N-1", "{rollback:#}");
    assert_eq!(world.parent_members(), groups(&old));
    let owned: Vec<String> = world
        .ledger()
        .ledger
        .entries
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(owned, old, "the record is the old config's again");
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn a_failed_create_answers_its_real_id_and_its_rollback_delete_removes_what_it_added() {
    let world = parent_world_with(
        &["Console-Group"],
        &["AWS-Admins", "AWS-Dev", "AWS-Broken"],
        failing("AWS-Broken", "ValidationException"),
    );
    let props = world.deploy(&parent_config_with(
        &["AWS-Admins", "AWS-Broken", "AWS-Dev"],
        json!({ "OnDelete": "remove" }),
    ));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    assert!(reason(&body).contains("\"AWS-Broken\""), "{body:#}");
    // It changed the scope, so it answers its real id: the rollback Delete finds it.
    let id = body["PhysicalResourceId"].as_str().unwrap();
    assert_eq!(id, format!("syncscope:eu-central-1:{PROFILE}"));
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins", "AWS-Dev", "Console-Group"])
    );
    let rollback = expect_status(
        &world.send(&world.event("Delete", &props, None, Some(id)), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(rollback["Data"]["Removed"], "2", "{rollback:#}");
    assert_eq!(world.parent_members(), groups(&["Console-Group"]));
    assert_eq!(world.ledger().found, Found::Nothing);
}

#[test]
fn the_deletion_guard_refuses_a_mass_removal_and_changes_nothing() {
    let names: Vec<String> = (0..12).map(|i| format!("G-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let world = parent_world(&[], &refs);
    let (old_props, id) = create(&world, &parent_config(&refs));
    let before = world.parent_members();
    let writes = member_writes(&world);
    let new_props = world.deploy(&parent_config(&refs[..1]));
    let body = expect_status(&update(&world, &new_props, &old_props, &id), "FAILED");
    let why = reason(&body);
    assert!(why.contains("refusing to remove 11 of 12"), "{why}");
    assert!(why.contains("MaxRemovals to at least 11"), "{why}");
    assert_eq!(body["PhysicalResourceId"], id.as_str());
    assert_eq!(member_writes(&world), writes, "nothing changed");
    assert_eq!(world.parent_members(), before);
    assert_eq!(world.ledger().ledger.entries.len(), 12);
}

#[test]
fn the_people_guard_refuses_a_removal_that_disables_too_many_users() {
    // Names no other world uses: the identity store's groups are looked up by name.
    let ns = format!("{:08x}", fastrand::u32(..));
    let (stay, leave) = (format!("Stay-{ns}"), format!("Leave-{ns}"));
    let world = parent_world(&[], &[&stay, &leave]);
    let store = format!("d-00{}", &world.ns[1..]);
    world.seed_identity_store(
        &store,
        &[
            (&format!("{stay}@{DOMAIN}"), &["ann.lee"]),
            (&format!("{leave}@{DOMAIN}"), &["bob.ray", "cy.tan"]),
        ],
    );
    let guarded = |names: &[&str]| {
        let mut props = world.deploy(&parent_config_with(
            names,
            json!({ "DeletionGuard": { "MaxRemovalPercent": 100, "MaxUsersLosingAccess": 1 } }),
        ));
        props.insert("IdentityStoreId".into(), json!(store));
        props
    };
    let old_props = guarded(&[&stay, &leave]);
    let created = expect_status(
        &world.send(&world.event("Create", &old_props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = created["PhysicalResourceId"].as_str().unwrap();
    let writes = member_writes(&world);
    let body = expect_status(
        &update(&world, &guarded(&[&stay]), &old_props, id),
        "FAILED",
    );
    let why = reason(&body);
    assert!(why.contains("refusing to disable 2 user(s)"), "{why}");
    assert!(why.contains("MaxUsersLosingAccess to at least 2"), "{why}");
    assert_eq!(member_writes(&world), writes, "nothing changed");
    assert_eq!(world.parent_members(), groups(&[&leave, &stay]));
}

#[test]
fn a_redelivered_create_answers_again_and_writes_nothing_new() {
    let world = parent_world(&["Console-Group"], &["AWS-Admins", "AWS-Dev"]);
    let props = world.deploy(&parent_config(&["AWS-Admins", "AWS-Dev"]));
    let event = world.event("Create", &props, None, None);
    let first = expect_status(&world.send(&event, TIMEOUT), "SUCCESS");
    let (adds, lists) = (
        world.ds_calls_of(ADD),
        world.ds_calls_of("ds-data:ListGroupMembers"),
    );
    assert_eq!(adds, 2);
    let again = world.send(&event, TIMEOUT);
    assert_eq!(again.responses.len(), 2, "one response per delivery");
    let second = again.responses[1].json();
    assert_eq!(second["Status"], "SUCCESS", "{second:#}");
    assert_eq!(first["PhysicalResourceId"], second["PhysicalResourceId"]);
    assert_eq!(second["Data"]["Created"], "0", "{second:#}");
    assert_eq!(world.ds_calls_of(ADD), adds, "no new write");
    assert_eq!(world.ds_calls_of(REMOVE), 0);
    assert!(
        world.ds_calls_of("ds-data:ListGroupMembers") > lists,
        "the redelivery read the members"
    );
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins", "AWS-Dev", "Console-Group"])
    );
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn a_change_applied_but_answered_an_error_is_one_change_and_its_redelivery_converges() {
    // The add of AWS-Dev is made, then answered 500: the retry carries the same
    // ClientToken, which the directory answers with the first success.
    let world = parent_world_with(
        &[],
        &["AWS-Admins", "AWS-Dev"],
        failing_after("AWS-Dev", "InternalServerException"),
    );
    let props = world.deploy(&parent_config(&["AWS-Admins", "AWS-Dev"]));
    let event = world.event("Create", &props, None, None);
    let first = expect_status(&world.send(&event, TIMEOUT), "SUCCESS");
    assert_eq!(first["Data"]["Created"], "2", "{first:#}");
    assert_eq!(world.parent_members(), groups(&["AWS-Admins", "AWS-Dev"]));
    let adds = world.state().counters[ADD];
    assert_eq!(
        (adds.requests, adds.ok, adds.errors),
        (3, 2, 1),
        "AWS-Dev: applied and answered 500, then the retry answered by its token"
    );
    // CloudFormation (or Lambda) delivers the same request again.
    let again = world.send(&event, TIMEOUT);
    assert_eq!(again.responses.len(), 2, "one response per delivery");
    assert_eq!(again.responses[1].json()["Status"], "SUCCESS");
    assert_eq!(world.ds_calls_of(ADD), 3, "no new write");
    assert_eq!(world.parent_members(), groups(&["AWS-Admins", "AWS-Dev"]));
    let owned: Vec<String> = world
        .ledger()
        .ledger
        .entries
        .iter()
        .map(|e| format!("{}{}", e.name, if e.pending { "?" } else { "" }))
        .collect();
    assert_eq!(owned, ["AWS-Admins", "AWS-Dev"], "both confirmed");
}

#[test]
fn a_failing_add_holds_back_the_removals_and_the_next_run_converges() {
    let world = parent_world(&[], &["A", "B-Old", "B-New"]);
    let (old_props, id) = create(&world, &parent_config_with(&["A", "B-Old"], remove_all()));
    set_knobs(
        &world,
        json!({ "ds_data_fail_members": { "B-New": "InternalServerException" } }),
    );
    // A rename: B-Old becomes B-New. The add fails, so B-Old must stay.
    let new_props = world.deploy(&parent_config_with(&["A", "B-New"], remove_all()));
    let body = expect_status(&update(&world, &new_props, &old_props, &id), "FAILED");
    let why = reason(&body);
    assert!(
        why.contains("B-New")
            && why.contains("InternalServerException")
            && why.contains("held back"),
        "{why}"
    );
    assert_eq!(
        world.parent_members(),
        groups(&["A", "B-Old"]),
        "no access lost"
    );
    assert_eq!(world.ds_calls_of(REMOVE), 0);

    set_knobs(&world, json!({ "ds_data_fail_members": {} }));
    let retry = expect_status(&update(&world, &new_props, &old_props, &id), "SUCCESS");
    assert_eq!(retry["Data"]["CreatedNames"], "B-New", "{retry:#}");
    assert_eq!(retry["Data"]["RemovedNames"], "B-Old", "{retry:#}");
    assert_eq!(world.parent_members(), groups(&["A", "B-New"]));
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn an_error_answered_after_the_change_was_made_is_settled_as_done() {
    // A code the client does not retry: the listing after the phase settles it.
    let world = parent_world_with(
        &[],
        &["G-1", "G-2"],
        failing_after("G-2", "ValidationException"),
    );
    let props = world.deploy(&parent_config(&["G-1", "G-2"]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let said = warnings(&body);
    assert!(
        said.contains("ValidationException")
            && said.contains("G-2")
            && said.contains("shows it done"),
        "{body:#}"
    );
    assert_eq!(body["Data"]["Created"], "2", "{body:#}");
    assert_eq!(world.ds_calls_of(ADD), 2, "one call per change");
    assert_eq!(world.parent_members(), groups(&["G-1", "G-2"]));
    let owned: Vec<String> = world
        .ledger()
        .ledger
        .entries
        .iter()
        .map(|e| format!("{}{}", e.name, if e.pending { "?" } else { "" }))
        .collect();
    assert_eq!(owned, ["G-1", "G-2"], "both confirmed");
}

#[test]
fn throttling_fails_the_run_with_a_clear_reason_and_loses_nothing() {
    let world = parent_world(&[], &["A", "B", "C"]);
    let (old_props, id) = create(&world, &parent_config_with(&["A", "B"], remove_all()));
    let record = world.ledger().ledger;
    set_knobs(&world, json!({ "ds_data_throttle": true }));
    let new_props = world.deploy(&parent_config_with(&["A", "C"], remove_all()));
    let body = expect_status(&update(&world, &new_props, &old_props, &id), "FAILED");
    let why = reason(&body);
    assert!(
        why.contains("could not list the current sync scope")
            && why.contains("ThrottlingException")
            && why.contains(PARENT_GROUP),
        "{why}"
    );
    set_knobs(&world, json!({ "ds_data_throttle": false }));
    assert_eq!(world.parent_members(), groups(&["A", "B"]), "nothing lost");
    assert_eq!(world.ds_calls_of(ADD), 2, "only the Create's");
    assert_eq!(world.ds_calls_of(REMOVE), 0);
    assert_eq!(world.ledger().ledger, record, "the record is untouched");
    // Once the directory answers again, the same Update converges.
    expect_status(&update(&world, &new_props, &old_props, &id), "SUCCESS");
    assert_eq!(world.parent_members(), groups(&["A", "C"]));
}

#[test]
fn a_member_change_that_never_answers_is_cut_and_the_run_answers_before_the_deadline() {
    let world = parent_world_with(
        &[],
        &["AWS-Admins", "AWS-Stuck"],
        Knobs {
            ds_data_hang_members: ["AWS-Stuck".to_owned()].into(),
            ..Default::default()
        },
    );
    let props = world.deploy(&parent_config(&["AWS-Admins", "AWS-Stuck"]));
    let timeout = Duration::from_secs(14);
    let started = Instant::now();
    let delivered = world.send(&world.event("Create", &props, None, None), timeout);
    let elapsed = started.elapsed();
    let body = expect_status(&delivered, "FAILED");
    assert!(elapsed < timeout, "answered after {elapsed:?}");
    let why = reason(&body);
    assert!(why.contains("AWS-Stuck"), "{why}");
    assert_eq!(
        body["PhysicalResourceId"],
        format!("syncscope:eu-central-1:{PROFILE}"),
        "the Create changed the scope: the rollback Delete must find it"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(world.cfn.requests().len(), 1, "exactly one response");
    assert_eq!(world.parent_members(), groups(&["AWS-Admins"]));
}

#[test]
fn changes_applied_then_answered_500_at_random_converge_exactly() {
    // Each write is kept and answered 500 three times in ten: the retries carry the
    // change's token, and the listing settles whatever their answers leave in doubt.
    let names: Vec<String> = (0..60).map(|i| format!("G-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let world = parent_world_with(
        &[],
        &refs,
        Knobs {
            ds_data_fault_after_rate: 0.3,
            fault_seed: Some(7),
            ..Default::default()
        },
    );
    let props = world.deploy(&parent_config(&refs));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["Created"], "60", "{body:#}");
    assert_eq!(
        world.parent_members(),
        groups(&refs),
        "nothing lost or added"
    );
    let adds = world.state().counters[ADD];
    assert!(adds.faults > 0, "faults were injected: {adds:?}");
    assert_eq!(
        world
            .ledger()
            .ledger
            .entries
            .iter()
            .filter(|e| e.pending)
            .count(),
        0,
        "every add confirmed"
    );
}

/// Runs an Update that adds `New` and removes `Old` while the console does both
/// first (its add lands while the function's is in flight); returns the response.
fn race_the_console(lenient: bool) -> (World, Value) {
    let world = parent_world_with(
        &[],
        &["Keep", "Old", "New"],
        Knobs {
            ds_data_lenient_members: lenient,
            ..Default::default()
        },
    );
    let (old_props, id) = create(&world, &parent_config_with(&["Keep", "Old"], remove_all()));
    let adds = world.ds_calls_of(ADD);
    // Every ds-data call takes a second: the function's add is counted when it
    // arrives and applied a second later, after the console's.
    set_knobs(&world, json!({ "latency_ms": 1000 }));
    let new_props = world.deploy(&parent_config_with(&["Keep", "New"], remove_all()));
    let body = std::thread::scope(|s| {
        let run = s.spawn(|| update(&world, &new_props, &old_props, &id));
        let until = Instant::now() + Duration::from_secs(20);
        while world.ds_calls_of(ADD) == adds && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        console_edit(&world, |parent| {
            parent.groups.retain(|g| g != "Old");
            parent.groups.push("New".into());
        });
        expect_status(&run.join().unwrap(), "SUCCESS")
    });
    (world, body)
}

#[test]
fn a_re_add_answered_409_or_200_and_a_removal_answered_404_or_200_converge_the_same() {
    let (strict, strict_body) = race_the_console(false);
    let (lenient, lenient_body) = race_the_console(true);
    for (world, body) in [(&strict, &strict_body), (&lenient, &lenient_body)] {
        assert_eq!(world.parent_members(), groups(&["Keep", "New"]), "{body:#}");
        assert_eq!(world.ds_calls_of(ADD), 3, "one add per change");
        assert_eq!(world.ds_calls_of(REMOVE), 1, "one removal per change");
        assert_eq!(body["Data"]["CreatedNames"], "New", "{body:#}");
        assert_eq!(body["Data"]["RemovedNames"], "Old", "{body:#}");
        assert_eq!(
            warnings(body),
            "",
            "an answer that says it was so is silent"
        );
        let owned: Vec<String> = world
            .ledger()
            .ledger
            .entries
            .iter()
            .map(|e| e.name.clone())
            .collect();
        assert_eq!(owned, ["Keep", "New"]);
    }
    let answered = |world: &World, op: &str| {
        let c = world.state().counters[op];
        (c.ok, c.errors)
    };
    assert_eq!(answered(&strict, ADD), (2, 1), "409 ConflictException");
    assert_eq!(
        answered(&strict, REMOVE),
        (0, 1),
        "404 ResourceNotFoundException"
    );
    assert_eq!(answered(&lenient, ADD), (3, 0));
    assert_eq!(answered(&lenient, REMOVE), (1, 0));
}

#[test]
fn users_are_members_like_groups_and_computers_are_left_alone_and_named() {
    let world = World::with(WorldOptions {
        directories: vec![json!({
            "id": DIRECTORY_ID, "domain": DOMAIN,
            "users": ["svc-deploy"],
            "computers": ["WS01$"],
            "groups": {
                PARENT_GROUP: { "groups": ["Console-Group"], "computers": ["WS01$"] },
                "Console-Group": {}, "AWS-Admins": {},
            },
        })],
        ..Default::default()
    });
    // Authoritative: whatever the config does not list goes, but a computer is not in
    // the scope to begin with.
    let props = world.deploy(&parent_config_with(
        &["AWS-Admins"],
        json!({
            "UserFilters": [{ "Name": "svc-deploy" }],
            "Mode": "authoritative",
            "DeletionGuard": { "MaxRemovalPercent": 100 },
        }),
    ));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let said = warnings(&body);
    assert!(
        said.contains("1 member(s) that are neither users nor groups (COMPUTER: WS01$)")
            && said.contains("leaves them alone"),
        "{body:#}"
    );
    assert_eq!(body["Data"]["Created"], "2", "{body:#}");
    assert_eq!(body["Data"]["RemovedNames"], "Console-Group", "{body:#}");
    let members = ["COMPUTER WS01$", "GROUP AWS-Admins", "USER svc-deploy"];
    assert_eq!(world.parent_members(), members);
    // The next run lists the user as the user the config wants: nothing to do.
    let adds = world.ds_calls_of(ADD);
    let again = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(again["Data"]["Created"], "0", "{again:#}");
    assert_eq!(again["Data"]["Removed"], "0", "{again:#}");
    assert!(warnings(&again).contains("WS01$"), "{again:#}");
    assert_eq!(world.ds_calls_of(ADD), adds);
    assert_eq!(world.ds_calls_of(REMOVE), 1);
    assert_eq!(world.parent_members(), members);
}

#[test]
fn a_missing_parent_group_fails_and_says_how_to_create_it() {
    let world = World::with(WorldOptions {
        directories: vec![json!({
            "id": DIRECTORY_ID, "domain": DOMAIN, "groups": { "AWS-Admins": {} },
        })],
        ..Default::default()
    });
    let props = world.deploy(&parent_config(&["AWS-Admins"]));
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    let why = reason(&body);
    assert!(
        why.contains(PARENT_GROUP)
            && why.contains("`syncscope bootstrap --engine parent-group` creates it"),
        "{why}"
    );
    assert_eq!(member_writes(&world), 0);
    assert_eq!(world.ledger().found, Found::Nothing, "no intent recorded");
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn the_directory_check_under_require_refuses_a_name_ad_lacks_before_any_change() {
    let world = parent_world(&["Console-Group"], &["AWS-Admins"]);
    let props = world.deploy(&parent_config_with(
        &["AWS-Admins", "AWS-Typo"],
        json!({ "DirectoryCheck": "require" }),
    ));
    let (body, _) =
        expect_failed_create(&world.send(&world.event("Create", &props, None, None), TIMEOUT));
    let why = reason(&body);
    assert!(
        why.contains("SSO.DirectoryCheck is require")
            && why.contains(&format!(
                "1 wanted name is not in Active Directory {DIRECTORY_ID}: group AWS-Typo"
            )),
        "{why}"
    );
    assert_eq!(member_writes(&world), 0, "nothing was changed");
    assert_eq!(world.parent_members(), groups(&["Console-Group"]));
    assert!(
        world.ledger().ledger.entries.is_empty(),
        "no intent recorded"
    );
    assert_eq!(world.identity_sync_calls(), 0);
}

/// docs/engines.md: under `warn` (the default) a name AD lacks is named by the check,
/// and its add fails the run naming it; the other names are added.
#[test]
fn under_warn_a_name_ad_lacks_fails_its_add_and_the_run_names_it() {
    let world = parent_world(&["Console-Group"], &["AWS-Admins"]);
    let props = world.deploy(&parent_config(&["AWS-Admins", "AWS-Typo"]));
    // FAILED with the real id: the Create added a member, so its rollback Delete must
    // find the record.
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "FAILED",
    );
    let why = reason(&body);
    assert!(
        why.contains("AWS-Typo") && why.contains("ResourceNotFoundException"),
        "{why}"
    );
    assert!(
        warnings(&body).contains("AWS-Typo"),
        "the directory check names it too: {body:#}"
    );
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins", "Console-Group"]),
        "the name AD has is added"
    );
}

#[test]
fn a_dry_run_and_a_drift_run_report_and_change_nothing() {
    let world = parent_world(
        &["Console-Group"],
        &["AWS-Admins", "AWS-Dev", "AWS-Dev-Console"],
    );
    let cfg = parent_config(&["AWS-Admins", "AWS-Dev"]);
    let dry = with(&world.deploy(&cfg), "DryRun", "true");
    let body = expect_status(
        &world.send(&world.event("Create", &dry, None, None), TIMEOUT),
        "SUCCESS",
    );
    assert_eq!(body["Data"]["DryRun"], "true");
    assert_eq!(
        body["Data"]["Created"], "2",
        "the planned adds are reported"
    );
    assert!(reason(&body).starts_with("DRY RUN"), "{body:#}");
    assert_eq!(member_writes(&world), 0);
    assert_eq!(world.parent_members(), groups(&["Console-Group"]));
    assert_eq!(world.ledger().found, Found::Nothing, "not even the record");

    // Applied, then edited in the console: AWS-Admins taken out, AWS-Dev-Console in.
    let (props, _) = create(&world, &cfg);
    console_edit(&world, |parent| {
        parent.groups.retain(|g| g != "AWS-Admins");
        parent.groups.push("AWS-Dev-Console".into());
    });
    let writes = member_writes(&world);
    let drift =
        json!({ "syncscope": "drift", "StackName": world.stack(), "ResourceProperties": props });
    let delivered = world.send(&drift, TIMEOUT);
    let syncscope_harness::runtime_api::Ended::Response(result) = &delivered.invocation.ended
    else {
        panic!("{:?}", delivered.invocation)
    };
    assert_eq!(result["Status"], "SUCCESS", "{result}");
    assert_eq!(result["Data"]["DryRun"], "true");
    assert_eq!(
        result["Data"]["CreatedNames"], "AWS-Admins",
        "the missing member is reported as drift: {result}"
    );
    assert!(
        result["Data"]["UnmanagedNames"]
            .as_str()
            .unwrap_or_default()
            .contains("AWS-Dev-Console"),
        "{result}"
    );
    assert!(
        delivered.responses.is_empty(),
        "no CloudFormation response for a drift run"
    );
    assert_eq!(
        member_writes(&world),
        writes,
        "the drift run writes nothing"
    );
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Dev", "AWS-Dev-Console", "Console-Group"])
    );
    assert_eq!(world.identity_sync_calls(), 0);
}

#[test]
fn switching_a_stack_from_sync_filters_to_parent_group_adds_members_and_leaves_the_filters() {
    let world = parent_world(&["Console-Group"], &["AWS-Admins", "AWS-Dev"]);
    let names = ["AWS-Admins", "AWS-Dev"];
    let (old_props, id) = create(&world, &config(&names));
    assert_eq!(
        world.scope(),
        groups(&names),
        "the default engine's filters"
    );
    assert_eq!(member_writes(&world), 0);
    let calls = world.identity_sync_calls();

    let new_props = world.deploy(&parent_config(&names));
    let body = expect_status(&update(&world, &new_props, &old_props, &id), "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], id.as_str(), "the same resource");
    assert_eq!(body["Data"]["Created"], "2", "{body:#}");
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins", "AWS-Dev", "Console-Group"])
    );
    assert_eq!(
        world.scope(),
        groups(&names),
        "the individual filters stay (the CLI retires them)"
    );
    assert_eq!(
        world.identity_sync_calls(),
        calls,
        "no identity-sync call after the switch"
    );
    let owned: Vec<String> = world
        .ledger()
        .ledger
        .entries
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(
        owned, names,
        "the record keeps the same names, now as members"
    );
}

/// docs/engines.md, Limits: a changed `SSO.ParentGroup` adds the names to the new
/// group and takes nothing out of the old one.
#[test]
fn a_changed_parent_group_gets_the_names_and_the_old_one_keeps_its_members() {
    let world = parent_world(&[], &["AWS-Admins", "Other-Parent"]);
    let props = world.deploy(&parent_config(&["AWS-Admins"]));
    let created = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = created["PhysicalResourceId"].as_str().unwrap().to_owned();
    let moved = world.deploy(&parent_config_with(
        &["AWS-Admins"],
        json!({ "ParentGroup": "Other-Parent" }),
    ));
    let updated = expect_status(&update(&world, &moved, &props, &id), "SUCCESS");
    assert_eq!(updated["Data"]["CreatedNames"], "AWS-Admins", "{updated:#}");
    assert_eq!(world.members_of("Other-Parent"), groups(&["AWS-Admins"]));
    assert_eq!(
        world.parent_members(),
        groups(&["AWS-Admins"]),
        "the old parent keeps its member"
    );
}
