//! The identity-sync client and executor against the local emulator over real TCP:
//! round trips, pagination, idempotence, retries, signatures, partial failure,
//! convergence and deadlines.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use identity_sync_emulator::{Knobs, Operation as EmuOp, Options, Running, Seed};
use serde_json::json;
use syncscope::engine::Engine;
use syncscope::executor::{self, Applied, ExecOptions};
use syncscope::identity_sync::{ClientOptions, IdentitySyncClient, IdentitySyncError, wire};
use syncscope_core::outcome::ChangeStatus;
use syncscope_core::plan::{self, Mode};
use syncscope_core::scope::{Desired, FilterKind, Ledger};
use tokio::time::Instant;

const PROFILE: &str = "SynchronizationToActiveDirectoryAwsSso";
const DOMAIN: &str = "corp.example.com";

fn emulator(knobs: Knobs, filters: &[&str]) -> Running {
    let filters: Vec<_> = filters
        .iter()
        .map(|n| json!({"type": "GROUP", "name": n, "domain": DOMAIN}))
        .collect();
    let seed = json!({"profiles": [{"name": PROFILE, "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890", "filters": filters}]});
    identity_sync_emulator::spawn(Options {
        seed: Some(Seed::from_json(&seed.to_string()).unwrap()),
        knobs,
        ..Options::default()
    })
    .unwrap()
}

fn client_for(emu: &Running, secret: &str, options: ClientOptions) -> IdentitySyncClient {
    let credentials =
        SharedCredentialsProvider::new(Credentials::new("testing", secret, None, None, "test"));
    IdentitySyncClient::new(emu.base_url(), "eu-central-1", credentials, options).unwrap()
}

fn client(emu: &Running) -> IdentitySyncClient {
    with_options(
        emu,
        ClientOptions {
            base_backoff: Duration::from_millis(5),
            ..ClientOptions::default()
        },
    )
}

/// An emulator with these knobs (and no filters), and a client with these options.
fn faulty(knobs: Knobs, options: ClientOptions) -> (Running, IdentitySyncClient) {
    let emu = emulator(knobs, &[]);
    let client = with_options(&emu, options);
    (emu, client)
}

/// A client with the emulator's credentials and these options.
fn with_options(emu: &Running, options: ClientOptions) -> IdentitySyncClient {
    client_for(emu, "testing", options)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn desired(names: &[String]) -> Desired {
    Desired::groups(DOMAIN, names.iter().map(String::as_str)).unwrap()
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("G-{i:04}")).collect()
}

async fn apply(
    client: &IdentitySyncClient,
    want: &[String],
    concurrency: usize,
) -> (plan::Plan, Applied) {
    let listing = client.list_filters(PROFILE, soon()).await.unwrap();
    let plan = plan::plan(
        &desired(want),
        &listing.filters,
        &Ledger::default(),
        Mode::Authoritative,
        &syncscope_core::scope::CoOwners::default(),
    );
    let applied = executor::apply(
        &Engine::sync_filters(client, PROFILE),
        &plan,
        ExecOptions::until(concurrency, soon()),
    )
    .await;
    (plan, applied)
}

#[tokio::test]
async fn every_operation_round_trips() {
    let emu = emulator(Knobs::default(), &[]);
    let c = client(&emu);
    let profile = c
        .post::<wire::SyncProfile>(
            &wire::create_sync_profile(
                "NewProfile",
                "arn:aws:ds:eu-central-1:123456789012:directory/d-0000000001",
            ),
            soon(),
        )
        .await
        .unwrap();
    assert_eq!(profile.name, "NewProfile");
    assert_eq!(
        c.get::<wire::SyncProfile>(&wire::get_sync_profile("NewProfile"), soon())
            .await
            .unwrap()
            .unwrap()
            .name,
        "NewProfile"
    );
    assert!(
        c.get::<wire::SyncProfile>(&wire::get_sync_profile("Missing"), soon())
            .await
            .unwrap()
            .is_none()
    );
    let target_arn = "arn:aws:identitystore::123456789012:identitystore/d-0000000001";
    c.post::<wire::SyncTarget>(
        &wire::create_sync_target("NewProfile", "IdentityStoreForSSO", target_arn),
        soon(),
    )
    .await
    .unwrap();
    let target = c
        .get::<wire::SyncTarget>(
            &wire::get_sync_target("NewProfile", "IdentityStoreForSSO"),
            soon(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(target.target_arn.as_deref(), Some(target_arn));
    assert!(
        c.get::<wire::SyncTarget>(&wire::get_sync_target("NewProfile", "Other"), soon())
            .await
            .unwrap()
            .is_none()
    );
    let state = async || {
        c.get::<wire::SyncProfile>(&wire::get_sync_profile("NewProfile"), soon())
            .await
            .unwrap()
            .unwrap()
            .state
    };
    c.send(&wire::start_sync("NewProfile"), soon())
        .await
        .unwrap();
    assert_eq!(state().await.as_deref(), Some("ACTIVE"));
    c.send(&wire::stop_sync("NewProfile"), soon())
        .await
        .unwrap();
    assert_eq!(state().await.as_deref(), Some("PAUSED"));
    let id = c
        .create_filter("NewProfile", FilterKind::User, DOMAIN, "jdoe", soon())
        .await
        .unwrap()
        .unwrap();
    let listing = c.list_filters("NewProfile", soon()).await.unwrap();
    assert_eq!(listing.filters.len(), 1);
    assert_eq!(
        (
            listing.filters[0].kind,
            listing.filters[0].name.as_str(),
            listing.filters[0].id.as_str()
        ),
        (FilterKind::User, "jdoe", id.as_str())
    );
    c.delete_filter("NewProfile", &id, "USER jdoe", soon())
        .await
        .unwrap();
    assert!(
        c.list_filters("NewProfile", soon())
            .await
            .unwrap()
            .filters
            .is_empty()
    );
}

#[tokio::test]
async fn listing_follows_every_page() {
    let all = names(130);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let emu = emulator(
        Knobs {
            page_size: 25,
            ..Knobs::default()
        },
        &refs,
    );
    let listing = client(&emu).list_filters(PROFILE, soon()).await.unwrap();
    assert_eq!(listing.filters.len(), 130);
    assert_eq!(
        listing.pages,
        6 + 1,
        "6 group pages and 1 (empty) user page"
    );
    assert_eq!(
        emu.emulator()
            .snapshot()
            .counters_of(EmuOp::ListSyncFilters)
            .requests,
        7
    );
}

/// The client reports "already exists" and "not found" as the errors they are (their
/// codes are not documented); the executor settles them from one listing and counts
/// them done, without a warning, when the listing agrees.
#[tokio::test]
async fn an_existing_filter_and_a_missing_one_are_settled_by_one_listing() {
    let emu = emulator(Knobs::default(), &["AWS-Admins", "AWS-Old"]);
    let c = client(&emu);
    let error = c
        .create_filter(PROFILE, FilterKind::Group, DOMAIN, "aws-admins", soon())
        .await
        .unwrap_err();
    assert!(error.reason().contains("ConflictException"), "{error}");
    let error = c
        .delete_filter(PROFILE, "sf-does-not-exist", "GROUP x", soon())
        .await
        .unwrap_err();
    assert!(
        error.reason().contains("ResourceNotFoundException"),
        "{error}"
    );

    // A plan made from a stale view: AWS-Admins to create, AWS-Old (under an id
    // that is gone) to remove.
    let listing = c.list_filters(PROFILE, soon()).await.unwrap();
    let mut stale = listing.filters.clone();
    stale.retain(|f| f.name != "AWS-Admins");
    for f in &mut stale {
        f.id = "sf-00000000000000aa".into();
    }
    let plan = plan::plan(
        &desired(&["AWS-Admins".to_owned()]),
        &stale,
        &Ledger::default(),
        Mode::Authoritative,
        &syncscope_core::scope::CoOwners::default(),
    );
    let lists_before = emu
        .emulator()
        .snapshot()
        .counters_of(EmuOp::ListSyncFilters)
        .requests;
    let applied = executor::apply(
        &Engine::sync_filters(&c, PROFILE),
        &plan,
        ExecOptions::until(2, soon()),
    )
    .await;
    let statuses: Vec<_> = applied.results.iter().map(|r| r.status.clone()).collect();
    assert_eq!(
        statuses,
        [ChangeStatus::AlreadyDone, ChangeStatus::AlreadyDone],
        "{applied:?}"
    );
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
    let lists = emu
        .emulator()
        .snapshot()
        .counters_of(EmuOp::ListSyncFilters)
        .requests
        - lists_before;
    assert_eq!(
        lists,
        2 * 2,
        "one listing (GROUP + USER) per phase that failed"
    );
}

/// A listing that lags behind a write (eventual consistency) is taken again before a
/// "409 but not listed" counts: no false alarm.
#[tokio::test]
async fn a_lagging_listing_does_not_turn_an_existing_filter_into_a_failure() {
    let emu = emulator(
        Knobs {
            list_lag_ms: 1500,
            ..Knobs::default()
        },
        &[],
    );
    let c = client(&emu);
    // Someone adds the filter; the next listing does not show it yet.
    c.create_filter(PROFILE, FilterKind::Group, DOMAIN, "AWS-Late", soon())
        .await
        .unwrap();
    let (_, applied) = apply(&c, &["AWS-Late".to_owned()], 2).await;
    assert_eq!(applied.results.len(), 1, "{applied:?}");
    assert_eq!(
        applied.results[0].status,
        ChangeStatus::AlreadyDone,
        "{applied:?}"
    );
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
    let listed = applied.listed_after.unwrap_or_default();
    assert!(listed.iter().any(|f| f.name == "AWS-Late"), "{listed:?}");
}

/// A code no client knows, answered after the change was made: the listing says it
/// took effect, and the run says which error it overruled.
#[tokio::test]
async fn an_unknown_error_code_is_settled_by_the_listing_and_reported() {
    let emu = emulator(Knobs::default(), &[]);
    emu.emulator()
        .update_knobs(&json!({
            "fail_after_filters": { "AWS-Made": "SomethingNewException" },
            "fail_filters": { "AWS-Refused": "SomethingNewException" },
        }))
        .unwrap();
    let c = client(&emu);
    let (_, applied) = apply(&c, &["AWS-Made".to_owned(), "AWS-Refused".to_owned()], 2).await;
    let status_of = |name: &str| {
        applied
            .results
            .iter()
            .find(|r| r.action.name == name)
            .map(|r| r.status.clone())
            .unwrap()
    };
    assert_eq!(status_of("AWS-Made"), ChangeStatus::AlreadyDone);
    assert!(
        applied
            .warnings
            .iter()
            .any(|w| w.contains("AWS-Made") && w.contains("SomethingNewException")),
        "{:?}",
        applied.warnings
    );
    assert!(
        matches!(status_of("AWS-Refused"), ChangeStatus::Failed { reason, in_doubt: false } if reason.contains("SomethingNewException")),
        "{applied:?}"
    );
}

/// Answers in shapes the contract does not promise (unknown fields, `CreateTime` as a
/// string, no id in a create answer) are read as well as the documented ones.
#[tokio::test]
async fn odd_response_shapes_are_read_tolerantly() {
    let emu = emulator(
        Knobs {
            odd_shapes: true,
            ..Knobs::default()
        },
        &["AWS-Admins"],
    );
    let c = client(&emu);
    let created = c
        .create_filter(PROFILE, FilterKind::Group, DOMAIN, "AWS-New", soon())
        .await
        .unwrap();
    assert_eq!(created, None, "no SyncFilterId in the answer");
    let listing = c.list_filters(PROFILE, soon()).await.unwrap();
    let mut names: Vec<&str> = listing.filters.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["AWS-Admins", "AWS-New"]);
    let profile = c
        .get::<wire::SyncProfile>(&wire::get_sync_profile(PROFILE), soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.name, PROFILE);
    let (_, applied) = apply(&c, &["AWS-Admins".to_owned()], 2).await;
    assert!(applied.complete(), "{applied:?}");
    let after = c.list_filters(PROFILE, soon()).await.unwrap();
    assert_eq!(after.filters.len(), 1);
}

/// `DryRun=true` (which the public clients turn off explicitly) validates and saves
/// nothing; syncscope's creates say `DryRun=false`.
#[tokio::test]
async fn a_dry_run_create_saves_nothing_and_ours_are_not_dry() {
    let emu = emulator(Knobs::default(), &["AWS-Admins"]);
    let c = client(&emu);
    let ours = wire::create_sync_filter(PROFILE, FilterKind::Group, DOMAIN, "AWS-Dry");
    assert!(
        ours.path_and_query()
            .ends_with("?Augmentation=true&DryRun=false")
    );
    let mut dry = ours.clone();
    dry.query = vec![("Augmentation", "true".into()), ("DryRun", "true".into())];
    c.send(&dry, soon()).await.unwrap();
    assert_eq!(
        c.list_filters(PROFILE, soon()).await.unwrap().filters.len(),
        1
    );
    // A dry run still validates: the existing filter conflicts.
    let mut conflict = wire::create_sync_filter(PROFILE, FilterKind::Group, DOMAIN, "aws-admins");
    conflict.query = dry.query.clone();
    let error = c.send(&conflict, soon()).await.unwrap_err();
    assert!(error.reason().contains("ConflictException"), "{error}");
    c.send(&ours, soon()).await.unwrap();
    assert_eq!(
        c.list_filters(PROFILE, soon()).await.unwrap().filters.len(),
        2
    );
}

#[tokio::test]
async fn throttling_and_server_faults_are_retried() {
    // 30 % faults and 12 attempts: a change fails for good with odds 0.3^12 (5e-7).
    let (_emu, c) = faulty(
        Knobs {
            fault_rate: 0.3,
            fault_seed: Some(3),
            ..Knobs::default()
        },
        ClientOptions {
            base_backoff: Duration::from_millis(5),
            max_attempts: 12,
            ..ClientOptions::default()
        },
    );
    let (_, applied) = apply(&c, &names(40), 4).await;
    assert!(
        applied.complete(),
        "{:?}",
        applied.failed().collect::<Vec<_>>()
    );
    assert!(c.stats().total_retries() > 0);
    assert_eq!(
        c.list_filters(PROFILE, soon()).await.unwrap().filters.len(),
        40
    );

    let emu = emulator(
        Knobs {
            concurrency_limit: Some(2),
            latency_ms: 20,
            ..Knobs::default()
        },
        &[],
    );
    let c = client(&emu);
    let (_, applied) = apply(&c, &names(30), 8).await;
    assert!(applied.complete());
    let state = emu.emulator().snapshot();
    assert!(
        state.counters_of(EmuOp::CreateSyncFilter).throttled > 0,
        "the limit was hit"
    );
    assert!(state.max_in_flight <= 2);
    assert_eq!(state.profile(PROFILE).unwrap().filters.len(), 30);
}

#[tokio::test]
async fn a_bad_signature_is_rejected_and_not_retried() {
    let emu = emulator(Knobs::default(), &[]);
    let c = client_for(&emu, "wrong-secret", ClientOptions::default());
    let error = c.list_filters(PROFILE, soon()).await.unwrap_err();
    match &error {
        IdentitySyncError::Service { status, code, .. } => {
            assert_eq!((*status, code.as_str()), (403, "InvalidSignatureException"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("list group sync filters of profile"),
        "{error}"
    );
    assert_eq!(c.stats().total_retries(), 0);
}

#[tokio::test]
async fn a_persistent_failure_names_the_filter_while_the_rest_applies_and_a_rerun_converges() {
    let emu = emulator(
        Knobs {
            fail_filters: [(
                "G-0003".to_owned(),
                "AccessDeniedException".parse().unwrap(),
            )]
            .into(),
            ..Knobs::default()
        },
        &[],
    );
    let c = client(&emu);
    let (_, applied) = apply(&c, &names(10), 4).await;
    let failed: Vec<_> = applied.failed().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].action.name, "G-0003");
    assert!(
        matches!(&failed[0].status, ChangeStatus::Failed { reason, .. } if reason.contains("AccessDeniedException"))
    );
    assert_eq!(
        c.list_filters(PROFILE, soon()).await.unwrap().filters.len(),
        9
    );

    emu.emulator()
        .update_knobs(&json!({"fail_filters": {}}))
        .unwrap();
    let (plan, applied) = apply(&c, &names(10), 4).await;
    assert_eq!(plan.counts().create, 1, "only the failed one is left");
    assert!(applied.complete());
    let (plan, _) = apply(&c, &names(10), 4).await;
    assert!(!plan.has_changes(), "converged");
}

#[tokio::test]
async fn the_deadline_is_respected_and_unstarted_changes_are_pending() {
    let (_emu, c) = faulty(
        Knobs {
            latency_ms: 200,
            ..Knobs::default()
        },
        ClientOptions {
            min_attempt_time: Duration::from_millis(300),
            ..ClientOptions::default()
        },
    );
    let listing = c.list_filters(PROFILE, soon()).await.unwrap();
    let plan = plan::plan(
        &desired(&names(50)),
        &listing.filters,
        &Ledger::default(),
        Mode::Managed,
        &syncscope_core::scope::CoOwners::default(),
    );
    let started = Instant::now();
    let deadline = started + Duration::from_millis(1200);
    let applied = executor::apply(
        &Engine::sync_filters(&c, PROFILE),
        &plan,
        ExecOptions::until(2, deadline),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(
        elapsed <= Duration::from_millis(1200) + Duration::from_millis(250),
        "took {elapsed:?}"
    );
    let pending = applied.pending().count();
    let done = applied.results.iter().filter(|r| r.succeeded()).count();
    assert!(pending > 0 && done > 0, "pending {pending}, done {done}");
    assert_eq!(done + pending + applied.failed().count(), 50);
    assert_eq!(
        c.list_filters(PROFILE, soon()).await.unwrap().filters.len(),
        done,
        "what is reported done is done"
    );
}

#[tokio::test]
async fn a_hanging_call_ends_at_the_deadline_with_a_reason() {
    let emu = emulator(
        Knobs {
            hang_ops: [EmuOp::ListSyncFilters].into(),
            ..Knobs::default()
        },
        &[],
    );
    let c = client(&emu);
    let started = Instant::now();
    let error = c
        .list_filters(PROFILE, started + Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(2300),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.reason().contains("deadline") || error.reason().contains("timed out"),
        "{}",
        error.reason()
    );
}
