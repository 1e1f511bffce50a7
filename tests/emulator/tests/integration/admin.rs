//! The admin API: state, knobs, reset, counters; and the in-process handle.

use crate::helpers::{Client, PROFILE, example_seed, group_filter, spawn_seeded};
use identity_sync_emulator::{Knobs, Operation, ProfileState};
use serde_json::json;

#[tokio::test]
async fn the_state_shows_the_seed_with_ids_and_zero_counters() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    let state = client.state().await;
    assert_eq!(state.region, "eu-central-1");
    assert_eq!(state.account, "123456789012");
    let profile = state.profile(PROFILE).unwrap();
    assert_eq!(profile.state, ProfileState::Active);
    assert_eq!(profile.targets[0].name, "IdentityStoreForSSO");
    assert_eq!(profile.filters[0].name, "AWS-Admins");
    assert!(profile.filters[0].id.starts_with("sf-"));
    assert!(profile.filters[0].create_time > 1.0e9);
    for op in Operation::ALL {
        assert_eq!(state.counters_of(op).requests, 0, "{op}");
    }
    assert_eq!(state.max_in_flight, 0);
}

#[tokio::test]
async fn knobs_change_partially_at_run_time_and_bad_ones_are_refused() {
    let running = spawn_seeded(Knobs {
        latency_ms: 1,
        ..Knobs::default()
    });
    let client = Client::new(&running);
    let reply = client
        .knobs(json!({"page_size": 1, "hang_ops": ["StopSync"]}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["page_size"], 1);
    assert_eq!(reply.body["latency_ms"], 1);
    assert_eq!(reply.body["hang_ops"], json!(["StopSync"]));
    assert_eq!(
        client.admin("GET", "/_emulator/knobs", None).await.body,
        reply.body
    );

    let path = format!("/v0/profiles/{PROFILE}/filters");
    client
        .call("POST", &path, Some(&group_filter("AWS-Second")))
        .await;
    let page = client
        .call(
            "GET",
            &format!("{path}?FilterType=GROUP&MaxResults=100"),
            None,
        )
        .await;
    assert_eq!(page.body["SyncFilters"].as_array().unwrap().len(), 1);
    assert!(page.body["NextToken"].is_string());

    let bad = client.knobs(json!({"fault_rate": 2})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.message().contains("fault_rate"), "{}", bad.message());
    let unknown = client.knobs(json!({"latency": 5})).await;
    assert_eq!(unknown.status, 400);
    assert_eq!(client.state().await.knobs.page_size, 1);
}

#[tokio::test]
async fn reset_empties_or_reseeds_the_state_and_restores_knobs_and_counters() {
    let running = spawn_seeded(Knobs {
        page_size: 10,
        ..Knobs::default()
    });
    let client = Client::new(&running);
    client
        .call(
            "POST",
            &format!("/v0/profiles/{PROFILE}/filters"),
            Some(&group_filter("AWS-Extra")),
        )
        .await;
    client.knobs(json!({"page_size": 2})).await;

    let empty = client.admin("POST", "/_emulator/reset", None).await;
    assert_eq!(empty.status, 200);
    let state = client.state().await;
    assert!(state.profiles.is_empty());
    assert_eq!(state.knobs.page_size, 10);
    assert_eq!(state.counters_of(Operation::CreateSyncFilter).requests, 0);

    let seed = serde_json::to_string(&example_seed()).unwrap();
    let reseeded = client.admin("POST", "/_emulator/reset", Some(seed)).await;
    assert_eq!(reseeded.status, 200);
    let state = client.state().await;
    let filters: Vec<&str> = state.profiles[0]
        .filters
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(filters, ["AWS-Admins"]);

    let bad = client
        .admin(
            "POST",
            "/_emulator/reset",
            Some(r#"{"profile":[]}"#.to_owned()),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(client.state().await.profiles.len(), 1);
}

#[tokio::test]
async fn counters_reset_zeroes_counters_but_keeps_the_state() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    client
        .call("GET", &format!("/v0/profiles/{PROFILE}"), None)
        .await;
    assert_eq!(
        client
            .state()
            .await
            .counters_of(Operation::GetSyncProfile)
            .ok,
        1
    );
    assert_eq!(client.state().await.max_in_flight, 1);
    let reply = client
        .admin("POST", "/_emulator/counters/reset", None)
        .await;
    assert_eq!(reply.status, 200);
    let state = client.state().await;
    assert_eq!(state.counters_of(Operation::GetSyncProfile).ok, 0);
    assert_eq!(state.max_in_flight, 0);
    assert_eq!(state.profiles.len(), 1);
}

#[tokio::test]
async fn the_in_process_handle_sees_what_the_api_did() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    client
        .call("POST", &format!("/v0/profiles/{PROFILE}/stopSync"), None)
        .await;
    let snapshot = running.emulator().snapshot();
    assert_eq!(snapshot.profiles[0].state, ProfileState::Paused);
    assert_eq!(snapshot.counters_of(Operation::StopSync).ok, 1);
    let knobs = running
        .emulator()
        .update_knobs(&json!({"latency_ms": 3}))
        .unwrap();
    assert_eq!(client.state().await.knobs, knobs);
    running.stop().unwrap();
}
