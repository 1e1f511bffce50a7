//! Fault knobs over real TCP: latency, the concurrency limit, injected faults,
//! per-filter failures and hangs.

use crate::helpers::{Client, PROFILE, group_filter, spawn_seeded};
use identity_sync_emulator::{ErrorCode, Knobs, Operation};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_concurrency_limit_throttles_the_excess_and_caps_max_in_flight() {
    let running = spawn_seeded(Knobs {
        latency_ms: 500,
        concurrency_limit: Some(2),
        ..Knobs::default()
    });
    let client = Client::new(&running);
    let path = format!("/v0/profiles/{PROFILE}/filters?FilterType=GROUP");
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            let path = path.clone();
            tokio::spawn(async move { client.call("GET", &path, None).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        let reply = call.await.unwrap();
        if reply.status == 429 {
            assert_eq!(reply.error_type.as_deref(), Some("ThrottlingException"));
        }
        statuses.push(reply.status);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + throttled, 6, "{statuses:?}");
    assert!(ok >= 2 && throttled >= 1, "{statuses:?}");

    let state = client.state().await;
    let counters = state.counters_of(Operation::ListSyncFilters);
    assert_eq!(counters.requests, 6);
    assert_eq!(counters.ok as usize, ok);
    assert_eq!(counters.throttled as usize, throttled);
    assert_eq!(state.max_in_flight, 2);
    assert_eq!(state.in_flight, 0);
}

#[tokio::test]
async fn latency_delays_every_signed_request() {
    let running = spawn_seeded(Knobs {
        latency_ms: 150,
        ..Knobs::default()
    });
    let client = Client::new(&running);
    let started = Instant::now();
    let reply = client
        .call("GET", &format!("/v0/profiles/{PROFILE}"), None)
        .await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_fault_rate_of_one_answers_500_without_applying_and_counts_faults() {
    let running = spawn_seeded(Knobs {
        fault_rate: 1.0,
        ..Knobs::default()
    });
    let client = Client::new(&running);
    let reply = client
        .call(
            "POST",
            &format!("/v0/profiles/{PROFILE}/filters"),
            Some(&group_filter("AWS-New")),
        )
        .await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.error_type.as_deref(), Some("InternalServerException"));
    let state = client.state().await;
    let counters = state.counters_of(Operation::CreateSyncFilter);
    assert_eq!((counters.requests, counters.faults, counters.ok), (1, 1, 0));
    assert_eq!(state.profiles[0].filters.len(), 1);
}

#[tokio::test]
async fn a_fault_after_rate_of_one_applies_the_change_then_answers_500() {
    let running = spawn_seeded(Knobs {
        fault_after_rate: 1.0,
        ..Knobs::default()
    });
    let client = Client::new(&running);
    let path = format!("/v0/profiles/{PROFILE}/filters");
    let first = client
        .call("POST", &path, Some(&group_filter("AWS-New")))
        .await;
    assert_eq!(first.status, 500);
    let state = client.state().await;
    assert!(
        state.profiles[0]
            .filters
            .iter()
            .any(|f| f.name == "AWS-New")
    );
    assert_eq!(state.counters_of(Operation::CreateSyncFilter).faults, 1);

    client.knobs(json!({"fault_after_rate": 0.0})).await;
    let retry = client
        .call("POST", &path, Some(&group_filter("AWS-New")))
        .await;
    assert_eq!(
        retry.status, 409,
        "a retried create finds the change applied"
    );
}

#[tokio::test]
async fn a_fault_seed_makes_the_fault_sequence_repeatable() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    let path = format!("/v0/profiles/{PROFILE}");
    let mut runs = Vec::new();
    for _ in 0..2 {
        let knobs = client
            .knobs(json!({"fault_rate": 0.5, "fault_seed": 7}))
            .await;
        assert_eq!(knobs.status, 200);
        let mut statuses = Vec::new();
        for _ in 0..16 {
            statuses.push(client.call("GET", &path, None).await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].contains(&500),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn fail_filters_fail_create_and_delete_of_that_name_with_its_status() {
    let mut knobs = Knobs::default();
    knobs
        .fail_filters
        .insert("aws-admins".to_owned(), ErrorCode::AccessDeniedException);
    knobs.fail_filters.insert(
        "AWS-Busy".to_owned(),
        ErrorCode::ServiceUnavailableException,
    );
    let running = spawn_seeded(knobs);
    let client = Client::new(&running);
    let seeded = client.state().await.profiles[0].filters[0].id.clone();

    let delete = client
        .call(
            "DELETE",
            &format!("/v0/profiles/{PROFILE}/filters/{seeded}"),
            None,
        )
        .await;
    assert_eq!(delete.status, 403);
    assert_eq!(delete.error_type.as_deref(), Some("AccessDeniedException"));

    let path = format!("/v0/profiles/{PROFILE}/filters");
    let busy = client
        .call("POST", &path, Some(&group_filter("AWS-Busy")))
        .await;
    assert_eq!(busy.status, 503);
    assert_eq!(
        busy.error_type.as_deref(),
        Some("ServiceUnavailableException")
    );
    let fine = client
        .call("POST", &path, Some(&group_filter("AWS-Fine")))
        .await;
    assert_eq!(fine.status, 200);

    let state = client.state().await;
    let names: Vec<&str> = state.profiles[0]
        .filters
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["AWS-Admins", "AWS-Fine"]);
    assert_eq!(state.counters_of(Operation::DeleteSyncFilter).errors, 1);
    assert_eq!(state.counters_of(Operation::CreateSyncFilter).errors, 1);
}

#[tokio::test]
async fn hang_ops_never_answer_while_other_operations_do() {
    let running = spawn_seeded(Knobs {
        hang_ops: [Operation::ListSyncFilters].into(),
        ..Knobs::default()
    });
    let client = Client::new(&running).with_timeout(Duration::from_millis(300));
    let hung = client
        .try_call(
            "GET",
            &format!("/v0/profiles/{PROFILE}/filters?FilterType=GROUP"),
            None,
        )
        .await;
    assert!(
        hung.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{hung:?}"
    );
    let profile = client
        .call("GET", &format!("/v0/profiles/{PROFILE}"), None)
        .await;
    assert_eq!(profile.status, 200);
    let counters = client.state().await.counters_of(Operation::ListSyncFilters);
    assert_eq!((counters.requests, counters.ok, counters.errors), (1, 0, 0));
}

#[tokio::test]
async fn hang_filters_never_answer_and_do_not_apply() {
    let running = spawn_seeded(Knobs {
        hang_filters: ["AWS-Slow".to_owned()].into(),
        ..Knobs::default()
    });
    let client = Client::new(&running).with_timeout(Duration::from_millis(300));
    let path = format!("/v0/profiles/{PROFILE}/filters");
    let hung = client
        .try_call("POST", &path, Some(&group_filter("aws-slow")))
        .await;
    assert!(
        hung.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{hung:?}"
    );
    let other = client
        .call("POST", &path, Some(&group_filter("AWS-Quick")))
        .await;
    assert_eq!(other.status, 200);
    let state = client.state().await;
    assert!(
        !state.profiles[0]
            .filters
            .iter()
            .any(|f| f.name == "aws-slow")
    );
}
