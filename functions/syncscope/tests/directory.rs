//! The directory check against the emulator's Directory Service Data over real TCP:
//! first the official SDK (`aws-sdk-directoryservicedata`) as the client, so the
//! emulator is held to the documented wire format (paths, query, bodies, errors,
//! pagination, SigV4 for `ds-data`); then syncscope's reader on top of it: statuses,
//! member counts, one call for a directory that cannot answer, throttling, deadlines,
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
use serde_json::json;
use syncscope::directory::{DirectoryReader, locate};
use syncscope::identity_sync::{ClientOptions, IdentitySyncClient};
use syncscope_core::directory::{AdStatus, Wanted};
use syncscope_core::scope::FilterKind;
use tokio::time::Instant;

const DOMAIN: &str = "corp.example.com";
const MANAGED: &str = "d-1234567890";
const CONNECTOR: &str = "d-2222222222";
const DISABLED: &str = "d-3333333333";
const DENIED: &str = "d-4444444444";
const BIG: usize = 600;

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
        added: true,
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
    let report = reader.check(MANAGED, DOMAIN, &names, 4, soon()).await;
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
        let report = reader.check(directory, DOMAIN, &names, 4, soon()).await;
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
        .check(MANAGED, "other.example.com", &names, 4, soon())
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
    let report = reader.check(MANAGED, DOMAIN, &names, 2, soon()).await;
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
            &many,
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
