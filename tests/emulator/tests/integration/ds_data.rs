//! Directory Service Data's writes (`AddGroupMember`, `RemoveGroupMember`,
//! `CreateGroup`) with the official SDK as the client, so the emulator is held to
//! the wire format the SDK sends and reads; their `ClientToken`s, the state that
//! shows them, the directories' admin endpoint and the ds-data fault knobs.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_directoryservicedata::Client as DsClient;
use aws_sdk_directoryservicedata::error::SdkError;
use aws_sdk_directoryservicedata::types::{
    GroupScope, GroupType, MemberType, ValidationExceptionReason,
};
use identity_sync_emulator::{ErrorCode, Knobs, Options, Running, Seed, spawn};
use serde_json::json;
use std::time::{Duration, Instant};

use crate::helpers::Client;

const DIRECTORY: &str = "d-1234567890";
const ENDLESS: &str = "d-9999999999";
const DOMAIN: &str = "corp.example.com";
const PARENT: &str = "IAMIdentityCenterAllUsersAndGroups";

/// One managed directory with users, a computer and groups (one of them the
/// parent, empty, one with a computer member), and an `any_name` one.
fn emulator(knobs: Knobs) -> Running {
    let seed = json!({"directories": [
        {"id": DIRECTORY, "domain": DOMAIN,
         "users": ["alice", "bob", "carol"], "computers": ["WS01$"],
         "groups": {PARENT: {}, "AWS-Admins": {"users": ["alice"], "computers": ["SRV01$"]},
                    "AWS-Ops": {"users": ["bob"]}}},
        {"id": ENDLESS, "domain": DOMAIN, "any_name": true}
    ]});
    spawn(Options {
        seed: Some(Seed::from_json(&seed.to_string()).unwrap()),
        knobs,
        ..Options::default()
    })
    .unwrap()
}

/// The SDK's client of `emu`, without retries unless `retries`, giving up after
/// `timeout`.
async fn client_with(emu: &Running, retries: bool, timeout: Duration) -> DsClient {
    let retry = if retries {
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(5))
    } else {
        RetryConfig::disabled()
    };
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emu.base_url())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(retry)
        .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build())
        .load()
        .await;
    DsClient::new(&config)
}

async fn client(emu: &Running) -> DsClient {
    client_with(emu, false, Duration::from_secs(20)).await
}

/// The direct members of `group` as the SDK lists them: name and type.
async fn members(client: &DsClient, directory: &str, group: &str) -> Vec<(String, MemberType)> {
    let page = client
        .list_group_members()
        .directory_id(directory)
        .sam_account_name(group)
        .send()
        .await
        .unwrap();
    page.members()
        .iter()
        .map(|m| (m.sam_account_name().to_owned(), m.member_type().clone()))
        .collect()
}

/// The users of `group` in the emulator's state.
fn state_users(emu: &Running, directory: &str, group: &str) -> Vec<String> {
    let state = emu.emulator().snapshot();
    state
        .directory(directory)
        .and_then(|d| d.group(group))
        .map(|g| g.users.clone())
        .unwrap_or_default()
}

fn counters(emu: &Running, op: &str) -> (u64, u64, u64, u64) {
    let state = emu.emulator().snapshot();
    let c = state.counters.get(op).copied().unwrap_or_default();
    (c.requests, c.ok, c.errors, c.faults)
}

#[tokio::test]
async fn members_are_added_listed_and_removed_and_tokens_make_one_effect() {
    let emu = emulator(Knobs::default());
    let client = client(&emu).await;
    let add = |member: &str, token: &str| {
        client
            .add_group_member()
            .directory_id(DIRECTORY)
            .group_name(PARENT)
            .member_name(member)
            .member_realm("CORP.EXAMPLE.COM")
            .client_token(token)
            .send()
    };
    add("ALICE", "token-1").await.unwrap();
    add("AWS-Ops", "token-2").await.unwrap();
    add("ws01$", "token-3").await.unwrap();
    assert_eq!(
        members(&client, DIRECTORY, PARENT).await,
        [
            ("alice".to_owned(), MemberType::User),
            ("AWS-Ops".to_owned(), MemberType::Group),
            ("WS01$".to_owned(), MemberType::Computer),
        ]
    );

    // The same token and parameters: one effect, success again.
    add("ALICE", "token-1").await.unwrap();
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["alice"]);
    // The same token with other parameters.
    let error = add("bob", "token-1")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_conflict_exception(), "{error:?}");
    // A re-add with a new token: AWS documents ConflictException for it.
    let error = add("alice", "token-4")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_conflict_exception(), "{error:?}");
    // Without a token the SDK makes one up.
    client
        .add_group_member()
        .directory_id(DIRECTORY)
        .group_name(PARENT)
        .member_name("carol")
        .send()
        .await
        .unwrap();

    let remove = |member: &str| {
        client
            .remove_group_member()
            .directory_id(DIRECTORY)
            .group_name(PARENT)
            .member_name(member)
            .send()
    };
    remove("Alice").await.unwrap();
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["carol"]);
    let error = remove("alice").await.unwrap_err().into_service_error();
    assert!(error.is_resource_not_found_exception(), "{error:?}");
    let error = remove("nobody").await.unwrap_err().into_service_error();
    assert!(error.is_resource_not_found_exception(), "{error:?}");

    let unknown = client
        .add_group_member()
        .directory_id(DIRECTORY)
        .group_name("No-Such-Group")
        .member_name("alice")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(unknown.is_resource_not_found_exception(), "{unknown:?}");
    let realm = client
        .add_group_member()
        .directory_id(DIRECTORY)
        .group_name(PARENT)
        .member_name("bob")
        .member_realm("trusted.example.org")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(realm.is_validation_exception(), "{realm:?}");
    if let aws_sdk_directoryservicedata::operation::add_group_member::AddGroupMemberError::ValidationException(e) = &realm {
        assert_eq!(e.reason(), Some(&ValidationExceptionReason::InvalidRealm));
    }

    // Adds: 5 answered 200 (one a replay), 4 refused (token reused, re-add, no such
    // group, another realm).
    assert_eq!(counters(&emu, "ds-data:AddGroupMember"), (9, 5, 4, 0));
    assert_eq!(counters(&emu, "ds-data:RemoveGroupMember"), (3, 1, 2, 0));
    assert_eq!(counters(&emu, "ds-data:ListGroupMembers"), (1, 1, 0, 0));
}

#[tokio::test]
async fn computers_of_the_seed_are_listed_with_their_member_type() {
    let emu = emulator(Knobs::default());
    let client = client(&emu).await;
    assert_eq!(
        members(&client, DIRECTORY, "aws-admins").await,
        [
            ("alice".to_owned(), MemberType::User),
            ("SRV01$".to_owned(), MemberType::Computer),
        ]
    );
}

#[tokio::test]
async fn groups_are_created_once_and_show_in_listings_and_the_state() {
    let emu = emulator(Knobs::default());
    let client = client(&emu).await;
    let create = |name: &str, token: &str| {
        client
            .create_group()
            .directory_id(DIRECTORY)
            .sam_account_name(name)
            .group_scope(GroupScope::Universal)
            .group_type(GroupType::Security)
            .client_token(token)
            .send()
    };
    let created = create("AWS-New", "create-1").await.unwrap();
    assert_eq!(created.directory_id(), Some(DIRECTORY));
    assert_eq!(created.sam_account_name(), Some("AWS-New"));
    assert!(created.sid().unwrap().starts_with("S-1-5-21-"));
    let again = create("AWS-New", "create-1").await.unwrap();
    assert_eq!(again.sid(), created.sid());

    let error = create("aws-new", "create-2")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_conflict_exception(), "{error:?}");
    let error = create("bob", "create-3")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        error.is_conflict_exception(),
        "a user's name is taken: {error:?}"
    );
    let error = create("AWS-Other", "create-1")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_conflict_exception(), "{error:?}");

    let group = client
        .describe_group()
        .directory_id(DIRECTORY)
        .sam_account_name("aws-new")
        .send()
        .await
        .unwrap();
    assert_eq!(group.group_scope(), Some(&GroupScope::Universal));
    let listed = client
        .list_groups()
        .directory_id(DIRECTORY)
        .send()
        .await
        .unwrap();
    assert!(
        listed
            .groups()
            .iter()
            .any(|g| g.sam_account_name() == "AWS-New")
    );
    let state = emu.emulator().snapshot();
    let new = state
        .directory(DIRECTORY)
        .unwrap()
        .group("AWS-New")
        .unwrap();
    assert!(new.users.is_empty() && new.groups.is_empty() && new.computers.is_empty());
    assert_eq!(new.scope.as_deref(), Some("Universal"));
    assert_eq!(counters(&emu, "ds-data:CreateGroup"), (5, 2, 3, 0));
}

#[tokio::test]
async fn an_any_name_member_becomes_a_listed_user_and_its_group_a_listed_group() {
    let emu = emulator(Knobs::default());
    let client = client(&emu).await;
    client
        .add_group_member()
        .directory_id(ENDLESS)
        .group_name(PARENT)
        .member_name("dave")
        .send()
        .await
        .unwrap();
    assert_eq!(
        members(&client, ENDLESS, PARENT).await,
        [("dave".to_owned(), MemberType::User)]
    );
    let users = client
        .list_users()
        .directory_id(ENDLESS)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(users.users()[0].sam_account_name(), "dave");
    let directory = emu
        .emulator()
        .snapshot()
        .directory(ENDLESS)
        .cloned()
        .unwrap();
    assert_eq!(directory.users, ["dave"]);
    assert_eq!(directory.group(PARENT).unwrap().users, ["dave"]);
}

#[tokio::test]
async fn the_state_shows_members_and_the_admin_api_replaces_directories() {
    let emu = emulator(Knobs::default());
    let admin = Client::new(&emu);
    let state = admin.state().await;
    let directory = state.directory(DIRECTORY).unwrap();
    assert_eq!(directory.group("AWS-Admins").unwrap().computers, ["SRV01$"]);

    let reply = admin
        .admin(
            "PUT",
            "/_emulator/directories",
            Some(
                json!([{"id": DIRECTORY, "domain": DOMAIN, "users": ["erin"],
                        "groups": {PARENT: {"users": ["erin"]}}}])
                .to_string(),
            ),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["directories"][0]["groups"][PARENT]["users"],
        json!(["erin"])
    );
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["erin"]);
    let bad = admin
        .admin("PUT", "/_emulator/directories", Some("{}".to_owned()))
        .await;
    assert_eq!(bad.status, 400);

    // A seed with directories resets them too (and the state is a valid seed).
    let seed = json!({"directories": admin.state().await.directories});
    let reply = admin
        .admin("POST", "/_emulator/reset", Some(seed.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["erin"]);
}

#[tokio::test]
async fn fail_members_fail_before_applying_and_fail_after_members_apply() {
    let mut knobs = Knobs::default();
    knobs
        .ds_data_fail_members
        .insert("Alice".to_owned(), ErrorCode::AccessDeniedException);
    knobs
        .ds_data_fail_members
        .insert("carol".to_owned(), ErrorCode::DirectoryUnavailableException);
    knobs
        .ds_data_fail_after_members
        .insert("bob".to_owned(), ErrorCode::ThrottlingException);
    let emu = emulator(knobs);
    let client = client(&emu).await;
    let add = |member: &str| {
        client
            .add_group_member()
            .directory_id(DIRECTORY)
            .group_name(PARENT)
            .member_name(member)
            .client_token(format!("t-{member}"))
            .send()
    };
    let denied = add("alice").await.unwrap_err();
    assert_eq!(denied.raw_response().unwrap().status().as_u16(), 403);
    assert!(denied.into_service_error().is_access_denied_exception());
    let unavailable = add("carol").await.unwrap_err();
    assert_eq!(unavailable.raw_response().unwrap().status().as_u16(), 400);
    assert!(
        unavailable
            .into_service_error()
            .is_directory_unavailable_exception()
    );
    let throttled = add("bob").await.unwrap_err();
    assert_eq!(throttled.raw_response().unwrap().status().as_u16(), 429);
    assert!(throttled.into_service_error().is_throttling_exception());
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["bob"]);
    // The retry of the applied add, with its token, is the same call: success.
    add("bob").await.unwrap();
    assert_eq!(counters(&emu, "ds-data:AddGroupMember"), (4, 1, 3, 0));

    // The SDK retries a throttled call with the same token: the first attempt is
    // applied (and refused), the second answers its success.
    let emu = emulator(Knobs {
        ds_data_fail_after_members: [("carol".to_owned(), ErrorCode::ThrottlingException)].into(),
        ..Knobs::default()
    });
    let retrying = client_with(&emu, true, Duration::from_secs(20)).await;
    retrying
        .remove_group_member()
        .directory_id(DIRECTORY)
        .group_name("AWS-Ops")
        .member_name("bob")
        .send()
        .await
        .unwrap();
    retrying
        .add_group_member()
        .directory_id(DIRECTORY)
        .group_name(PARENT)
        .member_name("carol")
        .send()
        .await
        .unwrap();
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["carol"]);
    assert!(state_users(&emu, DIRECTORY, "AWS-Ops").is_empty());
    assert_eq!(counters(&emu, "ds-data:AddGroupMember"), (2, 1, 1, 0));
}

#[tokio::test]
async fn hang_members_never_answer_and_apply_nothing() {
    let emu = emulator(Knobs {
        ds_data_hang_members: ["ALICE".to_owned()].into(),
        ..Knobs::default()
    });
    let client = client_with(&emu, false, Duration::from_millis(300)).await;
    let started = Instant::now();
    let hung = client
        .add_group_member()
        .directory_id(DIRECTORY)
        .group_name(PARENT)
        .member_name("alice")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(hung, SdkError::TimeoutError(_)), "{hung:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    client
        .add_group_member()
        .directory_id(DIRECTORY)
        .group_name(PARENT)
        .member_name("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["bob"]);
    assert_eq!(counters(&emu, "ds-data:AddGroupMember"), (2, 1, 0, 0));
}

#[tokio::test]
async fn fault_rates_of_one_answer_500_before_or_after_applying() {
    let emu = emulator(Knobs {
        ds_data_fault_rate: 1.0,
        ..Knobs::default()
    });
    let client = client(&emu).await;
    let add = |member: &str| {
        client
            .add_group_member()
            .directory_id(DIRECTORY)
            .group_name(PARENT)
            .member_name(member)
            .client_token(format!("t-{member}"))
            .send()
    };
    let fault = add("alice").await.unwrap_err();
    assert_eq!(fault.raw_response().unwrap().status().as_u16(), 500);
    assert!(fault.into_service_error().is_internal_server_exception());
    assert!(state_users(&emu, DIRECTORY, PARENT).is_empty());
    assert_eq!(counters(&emu, "ds-data:AddGroupMember"), (1, 0, 0, 1));

    emu.emulator()
        .update_knobs(&json!({"ds_data_fault_rate": 0.0, "ds_data_fault_after_rate": 1.0}))
        .unwrap();
    let fault = add("alice").await.unwrap_err().into_service_error();
    assert!(fault.is_internal_server_exception(), "{fault:?}");
    assert_eq!(state_users(&emu, DIRECTORY, PARENT), ["alice"]);
    let created = client
        .create_group()
        .directory_id(DIRECTORY)
        .sam_account_name("AWS-Faulted")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(created.is_internal_server_exception(), "{created:?}");
    assert!(
        emu.emulator()
            .snapshot()
            .directory(DIRECTORY)
            .unwrap()
            .group("AWS-Faulted")
            .is_some()
    );
    // Reads have nothing to apply: fault_after_rate leaves them alone.
    members(&client, DIRECTORY, PARENT).await;

    emu.emulator()
        .update_knobs(&json!({"ds_data_fault_after_rate": 0.0}))
        .unwrap();
    add("alice").await.unwrap();
    assert_eq!(counters(&emu, "ds-data:AddGroupMember"), (3, 1, 0, 2));
    assert_eq!(counters(&emu, "ds-data:CreateGroup"), (1, 0, 0, 1));
}
