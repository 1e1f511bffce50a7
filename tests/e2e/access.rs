//! The access map through the real binary: which accounts and permission sets each
//! user loses or keeps with a removal (groups.json, the card, the docs page, the
//! people guard's refusal, `syncscope plan`), partial when sso-admin does not answer
//! in time, account ids alone without Organizations, and a principal with 0 and with
//! 200 assignments (pagination). moto holds the organization, the permission sets and
//! the assignments; a slow or refusing service is a local sink.

use std::time::Duration;

use serde_json::{Map, Value, json};
use syncscope_harness::access::{Seeded, To};
use syncscope_harness::sink::{Reply, Sink};

use crate::helpers::*;
use crate::reporting::{adaptive, cards, get, texts};

/// moto's instance has one identity store for every world: a user's handle carries
/// the world's name (`cy.tan` becomes `cy.tan-<ns>`).
fn handle(world: &World, name: &str) -> String {
    format!("{name}-{}", world.ns)
}

fn user(world: &World, name: &str) -> String {
    syncscope_harness::world::seeded_person(&handle(world, name)).0
}

/// A world whose instance's identity store holds `Stay` (ann, bob) and `Leave` (bob,
/// cy), with `Leave` granting AdministratorAccess in payments-prod and ReadOnlyAccess
/// in payments-test, and `Stay` ReadOnlyAccess in payments-test; after a Create.
struct Setup {
    world: World,
    stay: String,
    leave: String,
    seeded: Seeded,
    props: Map<String, Value>,
    id: String,
}

fn setup(options: WorldOptions) -> Setup {
    let world = World::with(options);
    let stay = format!("Stay-{}", world.ns);
    let leave = format!("Leave-{}", world.ns);
    let store = world.instance_store_id();
    let [ann, bob, cy] = ["ann.lee", "bob.ray", "cy.tan"].map(|n| handle(&world, n));
    world.seed_identity_store(
        &store,
        &[
            (&format!("{stay}@{DOMAIN}"), &[ann.as_str(), bob.as_str()]),
            (&format!("{leave}@{DOMAIN}"), &[bob.as_str(), cy.as_str()]),
        ],
    );
    let seeded = world.seed_access(
        &["payments-prod", "payments-test"],
        &["AdministratorAccess", "ReadOnlyAccess"],
    );
    let leave_id = world.group_id(&store, &format!("{leave}@{DOMAIN}"));
    let stay_id = world.group_id(&store, &format!("{stay}@{DOMAIN}"));
    world.assign(
        &seeded,
        To::Group(&leave_id),
        "payments-prod",
        "AdministratorAccess",
    );
    world.assign(
        &seeded,
        To::Group(&leave_id),
        "payments-test",
        "ReadOnlyAccess",
    );
    world.assign(
        &seeded,
        To::Group(&stay_id),
        "payments-test",
        "ReadOnlyAccess",
    );
    let mut props = world.deploy(&config(&[&stay, &leave]));
    props.insert("MaxRemovalPercent".into(), json!("100"));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let id = body["PhysicalResourceId"].as_str().unwrap().to_owned();
    Setup {
        world,
        stay,
        leave,
        seeded,
        props,
        id,
    }
}

impl Setup {
    /// An Update to the config without `Leave`, with these property changes.
    fn remove_leave(&self, changes: &[(&str, &str)], timeout: Duration) -> Value {
        let mut props = self.world.deploy(&config(&[&self.stay]));
        props.insert(
            "MaxRemovalPercent".into(),
            self.props["MaxRemovalPercent"].clone(),
        );
        for (k, v) in changes {
            props.insert((*k).into(), json!(v));
        }
        let event = self
            .world
            .event("Update", &props, Some(&self.props), Some(&self.id));
        self.world.send(&event, timeout).response()
    }

    fn document(&self, name: &str) -> String {
        let bucket = self.props["DocsBucket"].as_str().unwrap();
        let prefix = self.props["DocsPrefix"].as_str().unwrap();
        get(&self.world, bucket, &format!("{prefix}/TEST/{name}")).body
    }

    fn groups_json(&self) -> Value {
        serde_json::from_str(&self.document("groups.json")).unwrap()
    }

    /// `AdministratorAccess in payments-prod (<its id>)`.
    fn label(&self, set: &str, account: &str) -> String {
        format!("{set} in {account} ({})", self.seeded.account(account))
    }
}

/// `"<set> in <account name> (<id>)"` of each grant of a JSON list.
fn labels(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|grants| {
            grants
                .iter()
                .map(|g| {
                    let id = g["account_id"].as_str().unwrap();
                    let account = match g["account_name"].as_str() {
                        Some(name) => format!("{name} ({id})"),
                        None => id.to_owned(),
                    };
                    format!("{} in {account}", g["permission_set"].as_str().unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn person<'a>(world: &World, list: &'a Value, name: &str) -> &'a Value {
    let name = user(world, name);
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_name"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} not in {list:#}"))
}

#[test]
fn removing_a_group_names_the_accounts_and_permission_sets_each_user_loses_and_keeps() {
    let s = setup(WorldOptions::default());
    let response = s.remove_leave(&[], TIMEOUT);
    assert_eq!(response["Status"], "SUCCESS", "{response:#}");
    let groups = s.groups_json();
    let impact = &groups["impact"];
    assert_eq!(impact["access"], json!({}), "{impact:#}");
    // cy is in Leave only: disabled, and loses both of its grants.
    assert_eq!(
        labels(&person(&s.world, &impact["losing"], "cy.tan")["loses"]),
        [
            s.label("AdministratorAccess", "payments-prod"),
            s.label("ReadOnlyAccess", "payments-test")
        ]
    );
    // bob stays through Stay: loses the administrator access only, keeps read-only.
    let bob = person(&s.world, &impact["keeping"], "bob.ray");
    assert_eq!(
        labels(&bob["loses"]),
        [s.label("AdministratorAccess", "payments-prod")]
    );
    assert_eq!(
        labels(&bob["keeps"]),
        [s.label("ReadOnlyAccess", "payments-test")]
    );
    assert_eq!(bob["keeps"][0]["session_duration"], "PT8H");
    // The card names what cy loses.
    let card = cards(&s.world).pop().unwrap();
    let text = texts(adaptive(&card));
    assert!(
        text.contains(&s.label("AdministratorAccess", "payments-prod")),
        "{text}"
    );
}

#[test]
fn the_people_guard_refusal_names_the_accounts_and_permission_sets_that_would_be_lost() {
    let s = setup(WorldOptions::default());
    let writes = s.world.write_calls();
    let refused = s.remove_leave(&[("MaxUsersLosingAccess", "0")], TIMEOUT);
    assert_eq!(refused["Status"], "FAILED", "{refused:#}");
    let why = reason(&refused);
    for needle in [
        "refusing to disable 1 user(s)".to_owned(),
        format!(
            "they lose {} (1 user)",
            s.label("AdministratorAccess", "payments-prod")
        ),
        s.label("ReadOnlyAccess", "payments-test"),
    ] {
        assert!(why.contains(&needle), "{needle} missing from: {why}");
    }
    assert_eq!(s.world.write_calls(), writes, "nothing was changed");
}

#[test]
fn without_organizations_accounts_show_as_ids_and_the_map_says_so_once() {
    let organizations = Sink::answering(Reply::status(400).body(
        r#"{"__type":"AccessDeniedException","message":"not authorized to perform organizations:ListAccounts"}"#,
    ))
    .unwrap();
    let s = setup(WorldOptions {
        lambda_env: vec![(
            "AWS_ENDPOINT_URL_ORGANIZATIONS".to_owned(),
            organizations.url(""),
        )],
        ..Default::default()
    });
    let response = s.remove_leave(&[], TIMEOUT);
    assert_eq!(response["Status"], "SUCCESS", "{response:#}");
    let impact = &s.groups_json()["impact"];
    let prod = s.seeded.account("payments-prod");
    let lost = labels(&person(&s.world, &impact["losing"], "cy.tan")["loses"]);
    assert!(
        lost.contains(&format!("AdministratorAccess in {prod}")),
        "{lost:?}"
    );
    let note = impact["access"]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("account names were not read") && note.contains("AccessDeniedException"),
        "{impact:#}"
    );
    assert!(impact["access"].get("partial").is_none(), "{impact:#}");
    assert!(
        !organizations.requests().is_empty(),
        "ListAccounts was asked"
    );
}

#[test]
fn an_access_map_cut_short_by_the_deadline_is_partial_and_never_guessed() {
    // sso-admin answers ListInstances (the Create's first call, which the function
    // keeps), then nothing in time: every assignment is asked, none answered.
    let admin = Sink::answering(Reply::status(200).delayed(Duration::from_secs(20))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (arn, store) = rt.block_on(async {
        let sdk =
            syncscope_harness::world::moto_sdk_config(&syncscope_harness::moto::Moto::shared().url)
                .await;
        (
            syncscope_harness::access::instance_arn(&sdk).await,
            syncscope_harness::world::instance_store_id(&sdk).await,
        )
    });
    let instances = json!({"Instances": [{"InstanceArn": arn, "IdentityStoreId": store}]});
    admin.script([Reply::status(200).body(instances.to_string())]);
    let s = setup(WorldOptions {
        lambda_env: vec![("AWS_ENDPOINT_URL_SSO_ADMIN".to_owned(), admin.url(""))],
        ..Default::default()
    });
    let response = s.remove_leave(&[("DryRun", "true")], Duration::from_secs(12));
    assert_eq!(response["Status"], "SUCCESS", "{response:#}");
    let bucket = s.props["DocsBucket"].as_str().unwrap();
    let prefix = s.props["DocsPrefix"].as_str().unwrap();
    let groups: Value = serde_json::from_str(
        &get(
            &s.world,
            bucket,
            &format!("{prefix}/TEST/dry-run/groups.json"),
        )
        .body,
    )
    .unwrap();
    let impact = &groups["impact"];
    assert!(
        impact.get("partial").is_none(),
        "the people are known: {impact:#}"
    );
    assert_eq!(
        impact["access"]["partial"], "ran out of time reading the account assignments",
        "{impact:#}"
    );
    let cy = person(&s.world, &impact["losing"], "cy.tan");
    assert!(cy.get("loses").is_none(), "nothing guessed: {cy:#}");
}

#[test]
fn a_principal_with_200_assignments_is_read_across_pages_and_one_with_none_grants_nothing() {
    let world = World::start();
    let store = world.instance_store_id();
    let (busy, idle) = (format!("Busy-{}", world.ns), format!("Idle-{}", world.ns));
    let [eve, fay] = ["eve.moss", "fay.lin"].map(|n| handle(&world, n));
    world.seed_identity_store(
        &store,
        &[
            (&format!("{busy}@{DOMAIN}"), &[eve.as_str()]),
            (&format!("{idle}@{DOMAIN}"), &[fay.as_str()]),
        ],
    );
    let accounts: Vec<String> = (0..20)
        .map(|i| format!("acct-{i:02}-{}", world.ns))
        .collect();
    let sets: Vec<String> = (0..10).map(|i| format!("Set{i}")).collect();
    let seeded = world.seed_access(
        &accounts.iter().map(String::as_str).collect::<Vec<_>>(),
        &sets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let busy_id = world.group_id(&store, &format!("{busy}@{DOMAIN}"));
    for account in &accounts {
        for set in &sets {
            world.assign(&seeded, To::Group(&busy_id), account, set);
        }
    }
    let mut props = world.deploy(&config(&[&busy, &idle]));
    props.insert("MaxRemovalPercent".into(), json!("100"));
    let created = world.send(&world.event("Create", &props, None, None), TIMEOUT);
    let id = expect_status(&created, "SUCCESS")["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Removing both: eve loses 200 pairs, fay none (her group grants nothing).
    let mut next = world.deploy(&config(&[]));
    next.insert("MaxRemovalPercent".into(), json!("100"));
    let event = world.event("Update", &next, Some(&props), Some(&id));
    let response = world.send(&event, TIMEOUT).response();
    assert_eq!(response["Status"], "SUCCESS", "{response:#}");
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = props["DocsPrefix"].as_str().unwrap();
    let groups: Value =
        serde_json::from_str(&get(&world, bucket, &format!("{prefix}/TEST/groups.json")).body)
            .unwrap();
    let impact = &groups["impact"];
    let eve = labels(&person(&world, &impact["losing"], "eve.moss")["loses"]);
    assert_eq!(eve.len(), 200, "{eve:?}");
    assert!(eve.contains(&format!(
        "Set9 in {} ({})",
        accounts[19],
        seeded.account(&accounts[19])
    )));
    let fay = person(&world, &impact["losing"], "fay.lin");
    assert!(fay.get("loses").is_none(), "{fay:#}");
    assert!(impact["access"].get("partial").is_none(), "{impact:#}");
}

#[test]
fn the_docs_show_what_each_group_grants_by_group_and_by_account_with_the_findings() {
    let s = setup(WorldOptions::default());
    // A dry run of the removal: Leave is still in the scope, its assignments about to
    // stop working.
    let response = s.remove_leave(&[("DryRun", "true")], TIMEOUT);
    assert_eq!(response["Status"], "SUCCESS", "{response:#}");
    let warned = warnings(&response);
    assert!(
        warned.contains(&format!(
            "access map: {} leaves the sync scope but is still assigned 2 permission sets (those assignments stop working): {}, {}",
            s.leave,
            s.label("AdministratorAccess", "payments-prod"),
            s.label("ReadOnlyAccess", "payments-test")
        )),
        "{warned}"
    );
    let dry = serde_json::from_str::<Value>(&s.document("dry-run/groups.json")).unwrap();
    let row = |name: &str| {
        dry["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {dry:#}"))
    };
    assert_eq!(
        labels(&row(&s.stay)["assignments"]),
        [s.label("ReadOnlyAccess", "payments-test")]
    );
    assert_eq!(labels(&row(&s.leave)["assignments"]).len(), 2);
    assert_eq!(
        dry["access"]["strategy"], "per-principal",
        "{:#}",
        dry["access"]
    );
    assert_eq!(dry["findings"][0]["finding"], "assignment-stops", "{dry:#}");
    let page = s.document("dry-run/index.html");
    for needle in [
        "Access by account",
        "Access findings",
        &format!(
            "{} ({})",
            "payments-prod",
            s.seeded.account("payments-prod")
        ),
        "AdministratorAccess",
        "session 8 h",
    ] {
        assert!(page.contains(needle), "{needle} missing from the page");
    }
}

/// The two findings a Create can show: a synced group that grants nothing, and a
/// permission set assigned only to a group without members (nobody has it yet); each
/// in groups.json, on the page and as a run warning.
#[test]
fn a_create_finds_groups_that_grant_nothing_and_permission_sets_nobody_has_yet() {
    let world = World::with(WorldOptions::default());
    let [staffed, empty, idle] = ["Staffed", "Empty", "Idle"].map(|n| format!("{n}-{}", world.ns));
    let store = world.instance_store_id();
    let [ann, bob] = ["ann.lee", "bob.ray"].map(|n| handle(&world, n));
    world.seed_identity_store(
        &store,
        &[
            (&format!("{staffed}@{DOMAIN}"), &[ann.as_str()]),
            (&format!("{empty}@{DOMAIN}"), &[]),
            (&format!("{idle}@{DOMAIN}"), &[bob.as_str()]),
        ],
    );
    let seeded = world.seed_access(&["audit"], &["ReadOnlyAccess", "AuditAccess"]);
    let id = |name: &str| world.group_id(&store, &format!("{name}@{DOMAIN}"));
    world.assign(&seeded, To::Group(&id(&staffed)), "audit", "ReadOnlyAccess");
    world.assign(&seeded, To::Group(&id(&empty)), "audit", "AuditAccess");
    let props = world.deploy(&config(&[&staffed, &empty, &idle]));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let nobody = format!(
        "permission set AuditAccess is assigned only to groups with no members, so nobody has it yet: {empty}"
    );
    let nothing = format!(
        "1 synced group(s) grant nothing (no permission set is assigned to them, so they are synced for no purpose): {idle}"
    );
    let warned = warnings(&body);
    for finding in [&nobody, &nothing] {
        assert!(
            warned.contains(&format!("access map: {finding}")),
            "{warned}"
        );
    }
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = props["DocsPrefix"].as_str().unwrap();
    let document = |name: &str| get(&world, bucket, &format!("{prefix}/TEST/{name}")).body;
    let groups: Value = serde_json::from_str(&document("groups.json")).unwrap();
    assert_eq!(
        groups["findings"],
        json!([
            {"finding": "grants-nothing", "groups": [idle]},
            {"finding": "nobody-has-it", "permission_set": "AuditAccess", "groups": [empty]},
        ]),
        "{groups:#}"
    );
    let page = document("index.html");
    for finding in [&nobody, &nothing] {
        assert!(
            page.contains(finding.as_str()),
            "{finding} missing from the page"
        );
    }
}

/// A config file for the CLI: `groups`, authoritative (the plan removes what the
/// config lacks), no identity store id (moto's instance is found).
fn config_file(world: &World, groups: &[&str]) -> String {
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["GroupFilters"] = groups
        .iter()
        .map(|g| json!({ "Name": g, "Description": "test" }))
        .collect();
    doc["SSO"]["Mode"] = json!("authoritative");
    doc["SSO"]["DeletionGuard"] = json!({"MaxRemovalPercent": 100});
    let path = syncscope_harness::paths::build_dir("e2e-access").join(format!("{}.json", world.ns));
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn syncscope_plan_names_the_accounts_and_permission_sets_a_removal_takes_and_the_findings() {
    let s = setup(WorldOptions::default());
    let file = config_file(&s.world, &[&s.stay]);
    let (code, md, err) = s
        .world
        .cli(&["plan", "--config", &file, "--format", "markdown"]);
    assert_eq!(code, 0, "{md}\n{err}");
    let md_label = |set: &str, account: &str| {
        format!(
            "{set} in {} \\({}\\)",
            account.replace('-', "\\-"),
            s.seeded.account(account)
        )
    };
    for needle in [
        md_label("AdministratorAccess", "payments-prod"),
        md_label("ReadOnlyAccess", "payments-test"),
        "#### Findings".to_owned(),
        "leaves the sync scope but is still assigned 2 permission sets".to_owned(),
    ] {
        assert!(md.contains(&needle), "{needle} missing from:\n{md}");
    }
    let (code, out, err) = s
        .world
        .cli(&["plan", "--config", &file, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let cy = person(&s.world, &json["impact"]["losing"], "cy.tan");
    assert_eq!(labels(&cy["loses"]).len(), 2, "{cy:#}");
    assert_eq!(
        json["findings"][0]["finding"], "assignment-stops",
        "{json:#}"
    );
    let (_, text, _) = s.world.cli(&["plan", "--config", &file]);
    assert!(
        text.contains(&format!(
            "loses access: {}",
            s.label("AdministratorAccess", "payments-prod")
        )),
        "{text}"
    );
}

#[test]
fn a_large_scope_is_read_per_permission_set_and_account_when_that_is_cheaper() {
    use syncscope_harness::access::MANAGEMENT_ACCOUNT;
    let world = World::start();
    let store = world.instance_store_id();
    // 150 synced groups: more principals than the instance has provisioned pairs
    // (moto provisions every set to its own account only).
    let names: Vec<String> = (0..150)
        .map(|i| format!("Big-{i:03}-{}", world.ns))
        .collect();
    let member = handle(&world, "gil.ross");
    let seeded: Vec<(String, Vec<&str>)> = names
        .iter()
        .map(|n| (format!("{n}@{DOMAIN}"), vec![member.as_str()]))
        .collect();
    let borrowed: Vec<(&str, &[&str])> = seeded
        .iter()
        .map(|(g, m)| (g.as_str(), m.as_slice()))
        .collect();
    world.seed_identity_store(&store, &borrowed);
    let access = world.seed_access(&[], &["BigAdmin", "BigRead"]);
    // Every group but the last is assigned one of the two sets.
    for (i, name) in names[..149].iter().enumerate() {
        let id = world.group_id(&store, &format!("{name}@{DOMAIN}"));
        let set = if i % 2 == 0 { "BigAdmin" } else { "BigRead" };
        world.assign(&access, To::Group(&id), MANAGEMENT_ACCOUNT, set);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let props = world.deploy(&config(&refs));
    let body = expect_status(
        &world.send(&world.event("Create", &props, None, None), TIMEOUT),
        "SUCCESS",
    );
    let bucket = props["DocsBucket"].as_str().unwrap();
    let prefix = props["DocsPrefix"].as_str().unwrap();
    let groups: Value =
        serde_json::from_str(&get(&world, bucket, &format!("{prefix}/TEST/groups.json")).body)
            .unwrap();
    assert_eq!(
        groups["access"]["strategy"], "per-permission-set-and-account",
        "{:#}",
        groups["access"]
    );
    assert!(
        groups["access"]["partial"].is_null(),
        "{:#}",
        groups["access"]
    );
    let row = |name: &str| {
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in groups.json"))
    };
    let account = |g: &Value| g["account_id"].as_str().unwrap().to_owned();
    let first = row(&names[0]);
    assert_eq!(
        first["assignments"][0]["permission_set"], "BigAdmin",
        "{first:#}"
    );
    assert_eq!(account(&first["assignments"][0]), MANAGEMENT_ACCOUNT);
    assert_eq!(
        row(&names[1])["assignments"][0]["permission_set"],
        "BigRead"
    );
    assert_eq!(row(&names[149])["assignments"], json!([]));
    // The group that grants nothing is a finding, and a run warning.
    assert!(
        warnings(&body).contains(&format!(
            "access map: 1 synced group(s) grant nothing (no permission set is assigned to them, so they are synced for no purpose): {}",
            names[149]
        )),
        "{body:#}"
    );
    assert!(
        world
            .lambda_logs()
            .iter()
            .any(|l| l.contains("access map read") && l.contains("per-permission-set-and-account")),
        "the log says which way the map was read"
    );
}
