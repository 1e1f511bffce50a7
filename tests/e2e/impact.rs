//! The impact of a change on people, through the real binary: who loses and who keeps
//! AWS access (response, card, docs, `groups.json`), the people guard just below, at
//! and above its limit, a partial impact under a short deadline, and the CLI's
//! markdown and JSON previews.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::helpers::*;
use crate::reporting::{adaptive, cards, fact, get, texts};

/// A name no other test uses, and an identity store of this test's own.
fn store_of(world: &World) -> String {
    format!("d-00{}", &world.ns[1..])
}

fn user(handle: &str) -> String {
    syncscope_harness::world::seeded_person(handle).0
}

/// A world whose identity store holds `Stay` (ann, bob) and `Leave` (bob, cy, dan and
/// a user with a hostile name), after a Create of both groups.
struct Setup {
    world: World,
    stay: String,
    leave: String,
    props: Map<String, Value>,
    id: String,
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn setup(extra_props: &[(&str, &str)]) -> Setup {
    let world = World::start();
    let stay = format!("Stay-{}", world.ns);
    let leave = format!("Leave-{}", world.ns);
    let store = store_of(&world);
    world.seed_identity_store(
        &store,
        &[
            (&format!("{stay}@{DOMAIN}"), &["ann.lee", "bob.ray"]),
            (
                &format!("{leave}@{DOMAIN}"),
                &["bob.ray", "cy.tan", "dan.wu", HOSTILE],
            ),
        ],
    );
    let mut props = world.deploy(&config(&[&stay, &leave]));
    props.insert("IdentityStoreId".into(), json!(store));
    // One of two filters goes: past the default 25 % of the filter guard.
    props.insert("MaxRemovalPercent".into(), json!("100"));
    for (k, v) in extra_props {
        props.insert((*k).into(), json!(v));
    }
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = body["PhysicalResourceId"].as_str().unwrap().to_owned();
    Setup {
        world,
        stay,
        leave,
        props,
        id,
    }
}

impl Setup {
    /// Sends an Update to the config with `Leave` replaced by `New`, with these
    /// property changes; returns the response.
    fn remove_leave(&self, changes: &[(&str, &str)], timeout: Duration) -> Value {
        let new = format!("New-{}", self.world.ns);
        let mut props = self.world.deploy(&config(&[&self.stay, &new]));
        for key in [
            "IdentityStoreId",
            "MaxRemovalPercent",
            "MaxUsersLosingAccess",
        ] {
            if let Some(v) = self.props.get(key) {
                props.insert(key.into(), v.clone());
            }
        }
        for (k, v) in changes {
            props.insert((*k).into(), json!(v));
        }
        let event = self
            .world
            .event("Update", &props, Some(&self.props), Some(&self.id));
        self.world.send(&event, timeout).response()
    }

    fn groups_json(&self, dry_run: bool) -> Value {
        let bucket = self.props["DocsBucket"].as_str().unwrap();
        let prefix = self.props["DocsPrefix"].as_str().unwrap();
        let dry = if dry_run { "dry-run/" } else { "" };
        serde_json::from_str(
            &get(
                &self.world,
                bucket,
                &format!("{prefix}/TEST/{dry}groups.json"),
            )
            .body,
        )
        .unwrap()
    }

    fn page(&self) -> String {
        let bucket = self.props["DocsBucket"].as_str().unwrap();
        let prefix = self.props["DocsPrefix"].as_str().unwrap();
        get(&self.world, bucket, &format!("{prefix}/TEST/index.html")).body
    }
}

fn user_names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn removing_a_group_names_who_loses_and_who_keeps_access_in_card_docs_and_groups_json() {
    let s = setup(&[]);
    let body = s.remove_leave(&[], TIMEOUT);
    assert_eq!(body["Status"], "SUCCESS", "{body:#}");

    let groups = s.groups_json(false);
    let impact = &groups["impact"];
    let mut losing = vec![user("cy.tan"), user("dan.wu"), user(HOSTILE)];
    losing.sort();
    assert_eq!(user_names(&impact["losing"]), losing, "{impact:#}");
    assert_eq!(
        impact["keeping"],
        json!([{
            "user_name": user("bob.ray"),
            "display_name": "Bob Ray",
            "user_id": impact["keeping"][0]["user_id"],
            "through": format!("{}@{DOMAIN}", s.stay),
        }])
    );
    assert_eq!(
        impact["removed_groups"],
        json!([{ "name": format!("{}@{DOMAIN}", s.leave), "status": "synced", "members": 4 }])
    );
    // The added group's status is in its own row, not repeated in the impact.
    assert_eq!(impact["added_groups"], json!([]));
    let new_row = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == format!("New-{}", s.world.ns))
        .unwrap();
    assert_eq!(new_row["identity"]["status"], "pending");
    assert!(impact.get("partial").is_none(), "{impact:#}");

    // The card: the count, the headline and each user losing access, as plain text.
    let card_envelope = cards(&s.world).pop().unwrap();
    let card = adaptive(&card_envelope);
    assert_eq!(fact(card, "Users losing access").as_deref(), Some("3"));
    let text = texts(card);
    assert!(
        text.contains("3 users will be disabled after 28 days"),
        "{text}"
    );
    assert!(
        text.contains(&format!("🚫 {} (Cy Tan)", user("cy.tan"))),
        "{text}"
    );
    assert!(text.contains(HOSTILE), "plain text, verbatim: {text}");

    // The page: the section, escaped.
    let page = s.page();
    assert!(page.contains("Impact of this change"));
    assert!(page.contains("<bdi>cy.tan@corp.example.com</bdi></th><td><bdi>Cy Tan</bdi>"));
    assert!(!page.contains("<img src=x"), "the hostile name is escaped");
    assert!(page.contains("&#60;img src=x onerror=alert(1)&#62;"));

    // A run that removes nothing reads nothing more: the Create (only additions) did
    // not assess the impact, the Update did, and an Update that changes nothing does
    // not.
    let assessed = |w: &World| {
        w.lambda_logs()
            .iter()
            .filter(|l| l.contains("impact assessed"))
            .count()
    };
    let before = assessed(&s.world);
    assert_eq!(
        before, 1,
        "only the Update that removed a group assessed the impact"
    );
    let new = format!("New-{}", s.world.ns);
    let mut same = s.world.deploy(&config(&[&s.stay, &new]));
    same.insert("IdentityStoreId".into(), s.props["IdentityStoreId"].clone());
    let event = s.world.event("Update", &same, Some(&s.props), Some(&s.id));
    expect_status(&s.world.send(&event, TIMEOUT), "SUCCESS");
    assert_eq!(assessed(&s.world), before);
}

#[test]
fn the_people_guard_refuses_above_its_limit_and_allows_it_exactly() {
    let s = setup(&[]);
    let writes = s.world.write_calls();
    let before = s.world.scope();

    // Three users would lose access: a limit of 2 refuses, changing nothing.
    let refused = s.remove_leave(&[("MaxUsersLosingAccess", "2")], TIMEOUT);
    assert_eq!(refused["Status"], "FAILED", "{refused:#}");
    let why = reason(&refused);
    assert!(why.contains("refusing to disable 3 user(s)"), "{why}");
    assert!(
        why.contains("set SSO.DeletionGuard.MaxUsersLosingAccess to at least 3"),
        "{why}"
    );
    assert_eq!(s.world.write_calls(), writes, "nothing was changed");
    assert_eq!(s.world.scope(), before);

    // Above the count (4): allowed; shown as a dry run, so the next step still
    // has something to remove.
    let dry = s.remove_leave(
        &[("MaxUsersLosingAccess", "4"), ("DryRun", "true")],
        TIMEOUT,
    );
    assert_eq!(dry["Status"], "SUCCESS", "{dry:#}");
    assert_eq!(
        user_names(&s.groups_json(true)["impact"]["losing"]).len(),
        3
    );
    assert_eq!(s.world.write_calls(), writes);

    // Exactly at the limit (3): applied.
    let at = s.remove_leave(&[("MaxUsersLosingAccess", "3")], TIMEOUT);
    assert_eq!(at["Status"], "SUCCESS", "{at:#}");
    assert!(!s.world.scope().contains(&format!("GROUP {}", s.leave)));
}

#[test]
fn an_impact_cut_short_by_the_deadline_is_partial_and_the_people_guard_refuses_it() {
    let world = World::start();
    let stay = format!("Stay-{}", world.ns);
    let leave = format!("Leave-{}", world.ns);
    let store = store_of(&world);
    // Enough members that the identity store cannot be read in a quarter of a second.
    let handles: Vec<String> = (0..300).map(|i| format!("user{i:03}.many")).collect();
    let members: Vec<&str> = handles.iter().map(String::as_str).collect();
    world.seed_identity_store(&store, &[(&format!("{leave}@{DOMAIN}"), &members)]);
    let mut props = world.deploy(&config(&[&stay, &leave]));
    props.insert("IdentityStoreId".into(), json!(store));
    let created = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let id = expect_status(&created, "SUCCESS")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let writes = world.write_calls();
    let update = |changes: &[(&str, &str)]| {
        let mut next = world.deploy(&config(&[&stay]));
        next.insert("IdentityStoreId".into(), json!(store));
        next.insert("MaxRemovalPercent".into(), json!("100"));
        for (k, v) in changes {
            next.insert((*k).into(), json!(v));
        }
        // 9 s: the changes must end 1 s from now, so the impact gets 0.25 s.
        let event = world.event("Update", &next, Some(&props), Some(&id));
        world.send(&event, Duration::from_secs(9)).response()
    };

    // With the people guard: it cannot tell, so nothing changes.
    let refused = update(&[("MaxUsersLosingAccess", "1000")]);
    assert_eq!(refused["Status"], "FAILED", "{refused:#}");
    let why = reason(&refused);
    assert!(
        why.contains("needs the whole impact, and it is partial"),
        "{why}"
    );
    assert_eq!(world.write_calls(), writes);

    // Without it (a dry run): the impact says it is partial and a lower bound.
    let dry = update(&[("DryRun", "true")]);
    assert_eq!(dry["Status"], "SUCCESS", "{dry:#}");
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = props["DocsPrefix"].as_str().unwrap();
    let groups: Value = serde_json::from_str(
        &get(
            &world,
            bucket,
            &format!("{prefix}/TEST/dry-run/groups.json"),
        )
        .body,
    )
    .unwrap();
    let impact = &groups["impact"];
    assert!(
        impact["partial"].as_str().is_some_and(|p| !p.is_empty()),
        "{impact:#}"
    );
    assert!(impact["losing"].as_array().unwrap().len() < 300);
    let card = cards(&world).pop().unwrap();
    let text = texts(adaptive(&card));
    assert!(
        text.contains("at least") && text.contains("partial:"),
        "{text}"
    );
}

/// A config file for the CLI: `groups`, authoritative (so the plan removes what the
/// config lacks without a ledger), this identity store, and extra SSO keys.
fn config_file(world: &World, groups: &[&str], store: &str, extra: Value) -> String {
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["GroupFilters"] = groups
        .iter()
        .map(|g| json!({ "Name": g, "Description": "test" }))
        .collect();
    doc["SSO"]["Mode"] = json!("authoritative");
    doc["SSO"]["IdentityStoreId"] = json!(store);
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            doc["SSO"][k] = v;
        }
    }
    let path = syncscope_harness::paths::build_dir("e2e-impact").join(format!("{}.json", world.ns));
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn syncscope_plan_previews_the_impact_as_markdown_and_json_and_applies_the_people_guard() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Stay".to_owned()), ("GROUP", "Leave".to_owned())],
        ..Default::default()
    });
    let store = store_of(&world);
    world.seed_identity_store(
        &store,
        &[
            (&format!("Stay@{DOMAIN}"), &["ann.lee"]),
            (
                &format!("Leave@{DOMAIN}"),
                &["ann.lee", "cy.tan", "**dan** [x](https://evil.example)"],
            ),
            // Synced before (by another profile, or before its filter was removed).
            (&format!("Joining@{DOMAIN}"), &["eve.moss"]),
        ],
    );
    let writes = world.write_calls();
    let allowed = config_file(
        &world,
        &["Stay", "Joining"],
        &store,
        json!({"DeletionGuard": {"MaxRemovalPercent": 100, "MaxUsersLosingAccess": 2}}),
    );
    let (code, md, err) = world.cli(&["plan", "--config", &allowed, "--format", "markdown"]);
    assert_eq!(code, 0, "{md}\n{err}");
    for needle in [
        "### syncscope plan for sync profile `SynchronizationToActiveDirectoryAwsSso`",
        "| ➖ remove | group | Leave |",
        "2 users will be disabled after 28 days",
        "| cy\\.tan\\@corp\\.example\\.com | Cy Tan |",
        "| ann\\.lee\\@corp\\.example\\.com | Ann Lee | Stay\\@corp\\.example\\.com |",
        "✅ Within the deletion guards",
        // An added group the store has: its member count.
        "| Joining\\@corp\\.example\\.com | added | 1 member |",
    ] {
        assert!(md.contains(needle), "{needle} missing from:\n{md}");
    }
    assert!(
        !md.contains("[x](https://"),
        "a hostile name cannot make a link:\n{md}"
    );

    let (code, out, err) = world.cli(&["plan", "--config", &allowed, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["impact"]["losing"].as_array().unwrap().len(), 2);
    assert_eq!(json["people_guard"], Value::Null);

    // One user fewer allowed: the plan is refused (exit 1), in every format.
    let strict = config_file(
        &world,
        &["Stay"],
        &store,
        json!({"DeletionGuard": {"MaxRemovalPercent": 100, "MaxUsersLosingAccess": 1}}),
    );
    let (code, text, err) = world.cli(&["plan", "--config", &strict]);
    assert_eq!(code, 1, "{text}\n{err}");
    assert!(
        text.contains("Impact on people: 2 users will be disabled"),
        "{text}"
    );
    assert!(err.contains("refusing to disable 2 user(s)"), "{err}");
    let (code, md, _) = world.cli(&["plan", "--config", &strict, "--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        md.contains("❌ **Refused:** refusing to disable 2 user\\(s\\)"),
        "{md}"
    );
    assert_eq!(world.write_calls(), writes, "plan never writes");
}
