//! The parent-group engine through the real Lambda binary: the scope is the parent
//! group's direct members in the directory (Directory Service Data), and the function
//! makes no identity-sync call.

use serde_json::json;

use crate::helpers::*;

/// A world whose directory has the parent group holding `members`, the groups
/// `groups` and the console's `Console-Group` besides.
fn parent_world(members: &[&str], groups: &[&str]) -> World {
    let mut all = groups.to_vec();
    all.push("Console-Group");
    World::with(WorldOptions {
        directories: vec![parent_directory(members, &all, &[])],
        ..Default::default()
    })
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
    assert_eq!(world.ds_calls_of("ds-data:AddGroupMember"), 2);
    assert_eq!(world.ds_calls_of("ds-data:RemoveGroupMember"), 3);
}
