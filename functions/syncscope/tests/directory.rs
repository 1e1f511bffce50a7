//! The directory check against the emulator's Directory Service Data over real TCP:
//! first the official SDK (`aws-sdk-directoryservicedata`) as the client, so the
//! emulator is held to the documented wire format (paths, query, bodies, errors,
//! pagination, SigV4 for `ds-data`); then syncscope's reader on top of it: statuses,
//! member counts, one call for a directory that cannot answer, throttling, deadlines,
//! many names settled from the directory's listing (and a property: whichever way a
//! name is settled, its status is the directory's truth, within the call budget),
//! and finding the directory from the sync profile.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_directoryservicedata::types::{
    AccessDeniedReason, MemberType, ValidationExceptionReason,
};
use identity_sync_emulator::{Knobs, Options, Running, Seed};
use proptest::prelude::*;
use serde_json::{Value, json};
use syncscope::directory::{DirectoryReader, LIST_ABOVE, locate};
use syncscope::identity_sync::{ClientOptions, IdentitySyncClient};
use syncscope_core::directory::{AdStatus, Wanted};
use syncscope_core::scope::FilterKind;
use tokio::time::Instant;

const DOMAIN: &str = "corp.example.com";
const MANAGED: &str = "d-1234567890";
const CONNECTOR: &str = "d-2222222222";
const DISABLED: &str = "d-3333333333";
const DENIED: &str = "d-4444444444";
const LISTED: &str = "d-5555555555";
const BIG: usize = 600;

/// An emulator with one managed directory `LISTED` of `groups` and `users`
/// (`endless`: any name exists and the listings never end).
fn listed(groups: &[String], users: &[String], endless: bool) -> Running {
    let groups: serde_json::Map<String, Value> =
        groups.iter().map(|g| (g.clone(), json!({}))).collect();
    let seed = json!({"directories": [{"id": LISTED, "domain": DOMAIN, "any_name": endless,
                                        "groups": groups, "users": users}]});
    identity_sync_emulator::spawn(Options {
        seed: Some(Seed::from_json(&seed.to_string()).unwrap()),
        ..Options::default()
    })
    .unwrap()
}

fn emulator(knobs: Knobs) -> Running {
    let big: Vec<String> = (0..BIG).map(|i| format!("user{i:04}")).collect();
    let seed = json!({
        "profiles": [{"name": "SynchronizationToActiveDirectoryAwsSso",
                      "source_arn": format!("arn:aws:ds:eu-west-1:123456789012:directory/{MANAGED}")},
                     {"name": "OddProfile", "source_arn": "not-a-directory"}],
        "directories": [
            {"id": MANAGED, "domain": DOMAIN, "users": ["alice", "bob"],
             "groups": {"AWS-Admins": {"users": ["alice", "bob"], "groups": ["AWS-Ops"]},
                        "AWS-Ops": {"users": ["bob"]},
                        "AWS-Everyone": {"users": big}}},
            {"id": CONNECTOR, "domain": DOMAIN, "type": "connector"},
            {"id": DISABLED, "domain": DOMAIN, "data_access": false, "users": ["alice"]},
            {"id": DENIED, "domain": DOMAIN, "iam_denied": true, "users": ["alice"]}
        ]
    });
    identity_sync_emulator::spawn(Options {
        seed: Some(Seed::from_json(&seed.to_string()).unwrap()),
        knobs,
        ..Options::default()
    })
    .unwrap()
}

async fn sdk(emu: &Running) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emu.base_url())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

fn requests(emu: &Running, op: &str) -> u64 {
    emu.emulator()
        .snapshot()
        .counters
        .get(op)
        .map_or(0, |c| c.requests)
}

fn wanted(kind: FilterKind, name: &str) -> Wanted {
    Wanted {
        kind,
        name: name.to_owned(),
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

#[tokio::test]
async fn the_official_sdk_reads_users_groups_and_pages_of_members() {
    let emu = emulator(Knobs::default());
    let client = aws_sdk_directoryservicedata::Client::new(&sdk(&emu).await);

    let user = client
        .describe_user()
        .directory_id(MANAGED)
        .sam_account_name("ALICE")
        .realm(DOMAIN)
        .send()
        .await
        .unwrap();
    assert_eq!(user.sam_account_name(), Some("alice"));
    assert_eq!(user.directory_id(), Some(MANAGED));
    assert!(user.sid().unwrap().starts_with("S-1-5-21-"));

    let group = client
        .describe_group()
        .directory_id(MANAGED)
        .sam_account_name("aws-admins")
        .send()
        .await
        .unwrap();
    assert_eq!(group.sam_account_name(), Some("AWS-Admins"));

    let mut pages = client
        .list_group_members()
        .directory_id(MANAGED)
        .sam_account_name("AWS-Everyone")
        .max_results(250)
        .into_paginator()
        .send();
    let (mut count, mut calls) = (0, 0);
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        calls += 1;
        count += page.members().len();
        assert!(
            page.members()
                .iter()
                .all(|m| m.member_type() == &MemberType::User)
        );
    }
    assert_eq!((count, calls), (BIG, 3));

    let nested = client
        .list_group_members()
        .directory_id(MANAGED)
        .sam_account_name("AWS-Admins")
        .send()
        .await
        .unwrap();
    let types: Vec<&MemberType> = nested.members().iter().map(|m| m.member_type()).collect();
    assert_eq!(
        types,
        [&MemberType::User, &MemberType::User, &MemberType::Group]
    );
    assert_eq!(requests(&emu, "ds-data:ListGroupMembers"), 4);
    assert_eq!(requests(&emu, "ds-data:DescribeUser"), 1);
    assert_eq!(requests(&emu, "unauthenticated"), 0);
}

#[tokio::test]
async fn the_official_sdk_reads_each_documented_error() {
    let emu = emulator(Knobs::default());
    let client = aws_sdk_directoryservicedata::Client::new(&sdk(&emu).await);
    let describe = |directory: &'static str, name: &'static str| {
        client
            .describe_user()
            .directory_id(directory)
            .sam_account_name(name)
            .send()
    };

    let missing = describe(MANAGED, "ghost")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");

    let connector = describe(CONNECTOR, "alice")
        .await
        .unwrap_err()
        .into_service_error();
    match connector {
        aws_sdk_directoryservicedata::operation::describe_user::DescribeUserError::ValidationException(e) => {
            assert_eq!(e.reason(), Some(&ValidationExceptionReason::InvalidDirectoryType));
        }
        other => panic!("{other:?}"),
    }

    for (directory, reason) in [
        (DISABLED, AccessDeniedReason::DataDisabled),
        (DENIED, AccessDeniedReason::IamAuth),
    ] {
        match describe(directory, "alice").await.unwrap_err().into_service_error() {
            aws_sdk_directoryservicedata::operation::describe_user::DescribeUserError::AccessDeniedException(e) => {
                assert_eq!(e.reason(), Some(&reason), "{directory}");
            }
            other => panic!("{directory}: {other:?}"),
        }
    }

    let realm = client
        .list_group_members()
        .directory_id(MANAGED)
        .sam_account_name("AWS-Ops")
        .realm("other.example.com")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match realm {
        aws_sdk_directoryservicedata::operation::list_group_members::ListGroupMembersError::ValidationException(e) => {
            assert_eq!(e.reason(), Some(&ValidationExceptionReason::InvalidRealm));
        }
        other => panic!("{other:?}"),
    }

    // Signed for another service: refused before any operation is counted.
    let wrong = aws_sdk_directoryservicedata::Client::from_conf(
        aws_sdk_directoryservicedata::config::Builder::from(&sdk(&emu).await)
            .credentials_provider(Credentials::new("testing", "wrong", None, None, "test"))
            .build(),
    );
    assert!(
        wrong
            .describe_user()
            .directory_id(MANAGED)
            .sam_account_name("alice")
            .send()
            .await
            .is_err()
    );
    assert!(requests(&emu, "unauthenticated") >= 1);
}

#[tokio::test]
async fn the_reader_marks_each_name_and_counts_members_and_nested_groups() {
    let emu = emulator(Knobs::default());
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    let names = [
        wanted(FilterKind::Group, "AWS-Admnis"),
        wanted(FilterKind::Group, "aws-admins"),
        wanted(FilterKind::Group, "AWS-Everyone"),
        wanted(FilterKind::User, "Alice"),
        wanted(FilterKind::User, "ghost"),
    ];
    let report = reader
        .check(MANAGED, DOMAIN, names.to_vec(), 4, soon())
        .await;
    let statuses: Vec<&AdStatus> = report.entries.iter().map(|e| &e.status).collect();
    assert_eq!(
        statuses,
        [
            &AdStatus::NotInAd,
            &AdStatus::InAd {
                members: Some(3),
                nested_groups: Some(1)
            },
            &AdStatus::InAd {
                members: Some(BIG as u32),
                nested_groups: Some(0)
            },
            &AdStatus::InAd {
                members: None,
                nested_groups: None
            },
            &AdStatus::NotInAd,
        ]
    );
    assert_eq!(report.skipped, None);
    assert_eq!(report.directory_id, MANAGED);
    // One call per group page and per user: 1 + 1 + 3 pages, 2 users.
    assert_eq!(requests(&emu, "ds-data:ListGroupMembers"), 5);
    assert_eq!(requests(&emu, "ds-data:DescribeUser"), 2);
}

#[tokio::test]
async fn the_official_sdk_lists_groups_and_users_page_by_page() {
    let groups: Vec<String> = (0..300).map(|i| format!("Grp-{i:03}")).collect();
    let users: Vec<String> = (0..3).map(|i| format!("user{i}")).collect();
    let emu = listed(&groups, &users, false);
    let client = aws_sdk_directoryservicedata::Client::new(&sdk(&emu).await);
    let mut pages = client
        .list_groups()
        .directory_id(LISTED)
        .realm(DOMAIN)
        .max_results(250)
        .into_paginator()
        .send();
    let mut seen = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert_eq!(page.directory_id(), Some(LISTED));
        seen.extend(
            page.groups()
                .iter()
                .map(|g| g.sam_account_name().to_owned()),
        );
    }
    assert_eq!(seen, groups);
    assert_eq!(requests(&emu, "ds-data:ListGroups"), 2);
    let users_page = client
        .list_users()
        .directory_id(LISTED)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = users_page
        .users()
        .iter()
        .map(|u| u.sam_account_name())
        .collect();
    assert_eq!(names, ["user0", "user1", "user2"]);
    assert_eq!(users_page.next_token(), None);
}

#[tokio::test]
async fn many_names_are_settled_from_the_listing_and_an_endless_one_falls_back_to_names() {
    let groups: Vec<String> = (0..300).map(|i| format!("Grp-{i:03}")).collect();
    let emu = listed(&groups, &["alice".to_owned()], false);
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    // 150 groups (one a typo, one in other case) and one user.
    let mut names: Vec<Wanted> = (0..LIST_ABOVE + 49)
        .map(|i| wanted(FilterKind::Group, &format!("Grp-{i:03}")))
        .collect();
    names[7].name = "GRP-007".to_owned();
    names.push(wanted(FilterKind::Group, "Grp-3OO"));
    names.push(wanted(FilterKind::User, "alice"));
    let report = reader
        .check(LISTED, DOMAIN, names.to_vec(), 8, soon())
        .await;
    let not_in_ad: Vec<&str> = report.not_in_ad().map(|e| e.name.as_str()).collect();
    assert_eq!(not_in_ad, ["Grp-3OO"]);
    assert_eq!(report.skipped, None);
    let in_ad = AdStatus::InAd {
        members: None,
        nested_groups: None,
    };
    assert!(
        report
            .entries
            .iter()
            .filter(|e| e.name != "Grp-3OO")
            .all(|e| e.status == in_ad)
    );
    // The whole listing (300 groups, 2 pages: the typo is never seen), no group asked
    // by name; the one user is below the listing's threshold, so asked by name.
    assert_eq!(requests(&emu, "ds-data:ListGroups"), 2);
    assert_eq!(requests(&emu, "ds-data:ListGroupMembers"), 0);
    assert_eq!(requests(&emu, "ds-data:ListUsers"), 0);
    assert_eq!(requests(&emu, "ds-data:DescribeUser"), 1);

    // A directory too large to list: names / concurrency pages, then name by name.
    let emu = listed(&[], &[], true);
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    let names: Vec<Wanted> = (0..=LIST_ABOVE)
        .map(|i| wanted(FilterKind::Group, &format!("Any-{i}")))
        .collect();
    let report = reader
        .check(LISTED, DOMAIN, names.to_vec(), 8, soon())
        .await;
    assert_eq!(report.skipped, None);
    assert!(report.entries.iter().all(|e| matches!(
        e.status,
        AdStatus::InAd {
            members: Some(0),
            ..
        }
    )));
    assert_eq!(
        requests(&emu, "ds-data:ListGroups"),
        (LIST_ABOVE as u64 + 1).div_ceil(8)
    );
    assert_eq!(
        requests(&emu, "ds-data:ListGroupMembers"),
        LIST_ABOVE as u64 + 1
    );
}

#[tokio::test]
async fn five_thousand_of_ten_thousand_groups_cost_forty_calls_or_fewer_when_all_are_seen() {
    let groups: Vec<String> = (0..10_000).map(|i| format!("Grp-{i:05}")).collect();
    let emu = listed(&groups, &[], false);
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    let names: Vec<Wanted> = (0..5_000)
        .map(|i| wanted(FilterKind::Group, &format!("Grp-{:05}", 2 * i + 1)))
        .collect();
    let report = reader
        .check(LISTED, DOMAIN, names.to_vec(), 8, soon())
        .await;
    assert_eq!(report.not_in_ad().count(), 0);
    assert_eq!(report.skipped, None);
    assert_eq!(requests(&emu, "ds-data:ListGroups"), 40);
    assert_eq!(requests(&emu, "ds-data:ListGroupMembers"), 0);

    // The listing stops once every name was seen: the first 5,000 are on 20 pages.
    let first: Vec<Wanted> = groups[..5_000]
        .iter()
        .map(|g| wanted(FilterKind::Group, g))
        .collect();
    let report = reader.check(LISTED, DOMAIN, first, 8, soon()).await;
    assert_eq!(report.counts(), (5_000, 0, 0));
    assert_eq!(requests(&emu, "ds-data:ListGroups"), 40 + 20);
}

/// A name pool in which case varies: the directory holds some, the config wants some.
fn pool_name(kind: FilterKind, i: usize, upper: bool) -> String {
    let name = match kind {
        FilterKind::Group => format!("grp-{i:04}"),
        FilterKind::User => format!("user{i:04}"),
    };
    if upper { name.to_uppercase() } else { name }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whichever way each name is settled (by name, from a listing that ends, or by
    /// name after a listing cut short), its status is what the directory holds, and
    /// the calls stay within the names plus names / concurrency pages per kind.
    #[test]
    fn every_name_gets_the_directorys_truth_within_the_call_budget(
        in_dir in prop::collection::vec((any::<bool>(), any::<bool>()), 0..700),
        wants in prop::collection::vec((0usize..700, any::<bool>(), any::<bool>()), 0..260),
        endless in any::<bool>(),
        concurrency in 1usize..9,
    ) {
        let kind = |user: bool| if user { FilterKind::User } else { FilterKind::Group };
        let groups: Vec<String> = in_dir.iter().enumerate().filter(|(_, (has, _))| *has)
            .map(|(i, (_, upper))| pool_name(FilterKind::Group, i, *upper)).collect();
        let users: Vec<String> = in_dir.iter().enumerate().filter(|(i, (has, _))| *has && i % 3 == 0)
            .map(|(i, (_, upper))| pool_name(FilterKind::User, i, *upper)).collect();
        let mut seen = std::collections::HashSet::new();
        let names: Vec<Wanted> = wants.iter()
            .filter(|(i, user, _)| seen.insert((*i, *user)))
            .map(|(i, user, upper)| wanted(kind(*user), &pool_name(kind(*user), *i, *upper)))
            .collect();
        let emu = listed(&groups, &users, endless);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = runtime.block_on(async {
            let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
            reader.check(LISTED, DOMAIN, names.to_vec(), concurrency, soon()).await
        });
        prop_assert_eq!(report.skipped.as_deref(), None);
        prop_assert_eq!(report.entries.len(), names.len());
        for entry in &report.entries {
            let held = match entry.kind {
                FilterKind::Group => &groups,
                FilterKind::User => &users,
            };
            let truth = endless || held.iter().any(|h| h.eq_ignore_ascii_case(&entry.name));
            prop_assert_eq!(
                matches!(entry.status, AdStatus::InAd { .. }), truth,
                "{} {:?}", entry.name, entry.status
            );
            let settled = matches!(entry.status, AdStatus::InAd { .. } | AdStatus::NotInAd);
            prop_assert!(settled, "{} was not settled", entry.name);
        }
        for (user, listing, by_name) in [
            (false, "ds-data:ListGroups", "ds-data:ListGroupMembers"),
            (true, "ds-data:ListUsers", "ds-data:DescribeUser"),
        ] {
            let count = names.iter().filter(|n| n.kind == kind(user)).count() as u64;
            let pages = requests(&emu, listing);
            let asked = requests(&emu, by_name);
            if count as usize <= LIST_ABOVE {
                prop_assert_eq!((pages, asked), (0, count));
            } else {
                prop_assert!(pages <= count.div_ceil(concurrency as u64), "{} pages", pages);
                prop_assert!(asked <= count, "{} asked", asked);
            }
        }
    }
}

#[tokio::test]
async fn a_directory_that_cannot_answer_costs_one_call_and_says_why() {
    let emu = emulator(Knobs::default());
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    let names: Vec<Wanted> = (0..20)
        .map(|i| wanted(FilterKind::Group, &format!("G{i}")))
        .collect();
    for (directory, why) in [
        (CONNECTOR, "not an AWS Managed Microsoft AD"),
        (DISABLED, "directory data access is disabled"),
        (
            DENIED,
            "no permission to read d-4444444444 (the function needs ds-data:DescribeUser",
        ),
        ("d-9999999999", "access to d-9999999999 was denied"),
    ] {
        let before = requests(&emu, "ds-data:ListGroupMembers");
        let report = reader
            .check(directory, DOMAIN, names.to_vec(), 4, soon())
            .await;
        assert_eq!(
            requests(&emu, "ds-data:ListGroupMembers") - before,
            1,
            "{directory}"
        );
        assert!(
            report.skipped.as_deref().unwrap().contains(why),
            "{report:?}"
        );
        assert!(
            report
                .entries
                .iter()
                .all(|e| matches!(&e.status, AdStatus::NotChecked { why: w } if w.contains(why)))
        );
        assert_eq!(report.entries.len(), 20);
    }
    let realm = reader
        .check(MANAGED, "other.example.com", names.to_vec(), 4, soon())
        .await;
    assert!(
        realm
            .skipped
            .unwrap()
            .contains("is not the domain of d-1234567890")
    );
}

#[tokio::test]
async fn throttled_names_are_not_checked_after_a_few_tries_and_time_bounds_the_check() {
    let emu = emulator(Knobs {
        ds_data_throttle: true,
        ..Knobs::default()
    });
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    let names = [
        wanted(FilterKind::User, "alice"),
        wanted(FilterKind::User, "bob"),
    ];
    let report = reader
        .check(MANAGED, DOMAIN, names.to_vec(), 2, soon())
        .await;
    for e in &report.entries {
        assert_eq!(
            e.status,
            AdStatus::NotChecked {
                why: "throttled".into()
            }
        );
    }
    // Three attempts per name (the SDK's standard retries, short backoffs).
    assert_eq!(requests(&emu, "ds-data:DescribeUser"), 6);

    let emu = emulator(Knobs {
        latency_ms: 300,
        ..Knobs::default()
    });
    let reader = DirectoryReader::new(&sdk(&emu).await, "eu-central-1");
    let many: Vec<Wanted> = (0..40)
        .map(|i| wanted(FilterKind::User, &format!("u{i}")))
        .collect();
    let report = reader
        .check(
            MANAGED,
            DOMAIN,
            many.to_vec(),
            2,
            Instant::now() + Duration::from_millis(1_000),
        )
        .await;
    let late = report
        .entries
        .iter()
        .filter(|e| {
            e.status
                == AdStatus::NotChecked {
                    why: "out of time".into(),
                }
        })
        .count();
    assert!(late > 20, "{report:?}");
    assert!(
        report
            .skipped
            .unwrap()
            .starts_with(&format!("out of time: {late} of 40"))
    );
}

#[tokio::test]
async fn the_directory_is_the_configured_one_or_the_sync_profiles() {
    let emu = emulator(Knobs::default());
    let client = IdentitySyncClient::new(
        emu.base_url(),
        "eu-central-1",
        SharedCredentialsProvider::new(Credentials::new("testing", "testing", None, None, "t")),
        ClientOptions::default(),
    )
    .unwrap();
    assert_eq!(
        locate(
            &client,
            "SynchronizationToActiveDirectoryAwsSso",
            None,
            soon()
        )
        .await,
        Ok((MANAGED.to_owned(), "eu-west-1".to_owned()))
    );
    assert_eq!(
        locate(&client, "whatever", Some("d-0123456789"), soon()).await,
        Ok(("d-0123456789".to_owned(), "eu-central-1".to_owned()))
    );
    // The profile's source is an assumed field: a value that is not a directory ARN is
    // named, and nothing is checked.
    let odd = locate(&client, "OddProfile", None, soon())
        .await
        .unwrap_err();
    assert!(
        odd.contains("OddProfile syncs from not-a-directory, which is not a directory ARN"),
        "{odd}"
    );
    let missing = locate(&client, "NoSuchProfile", None, soon())
        .await
        .unwrap_err();
    assert!(
        missing.contains("sync profile NoSuchProfile does not exist"),
        "{missing}"
    );
}
