//! Every operation of the contract, round trip, pagination, conflicts, 404s,
//! validation and signature failures.

use crate::helpers::{Client, PROFILE, attributes, group_filter, names, spawn_seeded};
use identity_sync_emulator::{
    Knobs, Operation, Options, ProfileState, Seed, SeedFilter, UNAUTHENTICATED, spawn,
};
use serde_json::json;

#[tokio::test]
async fn every_operation_round_trips_through_an_encoded_profile_name() {
    let running = spawn(Options::default()).unwrap();
    let client = Client::new(&running);
    // "Corp Sync 100%" percent-encoded: the canonical request double-encodes it.
    let p = "/v0/profiles/Corp%20Sync%20100%25";
    let source = "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890";

    let created = client
        .call(
            "POST",
            "/v0/profiles",
            Some(&json!({"SyncProfileName": "Corp Sync 100%", "SourceResourceArn": source})),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["SyncProfileState"], "PAUSED");
    assert_eq!(
        created.body["SyncProfileArn"],
        "arn:aws:identity-sync:eu-central-1:123456789012:profile/Corp Sync 100%"
    );
    let again = client
        .call(
            "POST",
            "/v0/profiles",
            Some(&json!({"SyncProfileName": "Corp Sync 100%", "SourceResourceArn": source})),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_type.as_deref(), Some("ConflictException"));

    let profile = client.call("GET", p, None).await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.body["SourceResourceArn"], source);
    assert!(profile.body["CreateTime"].as_f64().unwrap() > 1.0e9);

    let started = client
        .call("POST", &format!("{p}/startSync"), Some(&json!({})))
        .await;
    assert_eq!((started.status, started.body.clone()), (200, json!({})));
    assert_eq!(
        client.call("GET", p, None).await.body["SyncProfileState"],
        "ACTIVE"
    );
    let stopped = client
        .call("POST", &format!("{p}/stopSync"), Some(&json!({})))
        .await;
    assert_eq!(stopped.status, 200);
    assert_eq!(
        client.call("GET", p, None).await.body["SyncProfileState"],
        "PAUSED"
    );

    let target_arn = "arn:aws:identitystore::123456789012:identitystore/d-1234567890";
    let target = client
        .call(
            "POST",
            &format!("{p}/targets"),
            Some(
                &json!({"SyncTargetName": "IdentityStoreForSSO", "TargetResourceArn": target_arn}),
            ),
        )
        .await;
    assert_eq!(target.status, 200, "{:?}", target.body);
    assert_eq!(target.body["SyncProfileName"], "Corp Sync 100%");
    let duplicate = client
        .call(
            "POST",
            &format!("{p}/targets"),
            Some(
                &json!({"SyncTargetName": "IdentityStoreForSSO", "TargetResourceArn": target_arn}),
            ),
        )
        .await;
    assert_eq!(duplicate.status, 409);
    let fetched = client
        .call("GET", &format!("{p}/targets/IdentityStoreForSSO"), None)
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body["TargetResourceArn"], target_arn);
    assert_eq!(
        fetched.body["SyncTargetArn"],
        "arn:aws:identity-sync:eu-central-1:123456789012:target/Corp Sync 100%/IdentityStoreForSSO"
    );

    let group = client
        .call(
            "POST",
            &format!("{p}/filters"),
            Some(&group_filter("AWS-Admins")),
        )
        .await;
    assert_eq!(group.status, 200, "{:?}", group.body);
    let group_id = group.body["SyncFilterId"].as_str().unwrap().to_owned();
    assert!(
        group_id.starts_with("sf-") && group_id.len() == 19,
        "{group_id}"
    );
    let user = client
        .call(
            "POST",
            &format!("{p}/filters"),
            Some(&json!({"FilterType": "USER", "Effect": "INCLUDE",
                "Attributes": json!({"associateddomain": ["corp.example.com"],
                                     "samaccountname": [{"display-only": "jdoe"}]}).to_string()})),
        )
        .await;
    assert_eq!(user.status, 200, "{:?}", user.body);

    let augmented = client
        .call(
            "GET",
            &format!("{p}/filters?FilterType=GROUP&MaxResults=100&Augmentation=true"),
            None,
        )
        .await;
    assert_eq!(augmented.status, 200);
    let listed = &augmented.body["SyncFilters"][0];
    assert_eq!(listed["SyncFilterId"], group_id.as_str());
    assert_eq!(listed["FilterType"], "GROUP");
    assert_eq!(listed["Effect"], "INCLUDE");
    assert_eq!(
        listed["Attributes"],
        r#"{"associateddomain":["corp.example.com"],"samaccountname":[{"display-only":"AWS-Admins"}]}"#
    );
    assert!(augmented.body.get("NextToken").is_none());
    let plain = client
        .call("GET", &format!("{p}/filters?FilterType=USER"), None)
        .await;
    assert_eq!(
        plain.body["SyncFilters"][0]["Attributes"],
        attributes("corp.example.com", "jdoe")
    );

    let deleted = client
        .call("DELETE", &format!("{p}/filters/{group_id}"), None)
        .await;
    assert_eq!((deleted.status, deleted.body), (200, json!({})));
    let after = client
        .call("GET", &format!("{p}/filters?FilterType=GROUP"), None)
        .await;
    assert_eq!(after.body["SyncFilters"], json!([]));

    let state = client.state().await;
    let profile = state.profile("Corp Sync 100%").unwrap();
    assert_eq!(profile.state, ProfileState::Paused);
    assert_eq!(profile.filters.len(), 1);
    assert_eq!(profile.filters[0].name, "jdoe");
    assert_eq!(state.counters_of(Operation::CreateSyncFilter).ok, 2);
    assert_eq!(state.counters_of(Operation::CreateSyncProfile).errors, 1);
    assert_eq!(state.counters[UNAUTHENTICATED].requests, 0);
}

#[tokio::test]
async fn unknown_profiles_and_targets_are_not_found() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    for (method, path) in [
        ("GET", "/v0/profiles/Nope".to_owned()),
        ("GET", format!("/v0/profiles/{PROFILE}/targets/Nope")),
        (
            "GET",
            "/v0/profiles/Nope/filters?FilterType=GROUP".to_owned(),
        ),
        ("POST", "/v0/profiles/Nope/startSync".to_owned()),
    ] {
        let reply = client.call(method, &path, None).await;
        assert_eq!(reply.status, 404, "{method} {path}");
        assert_eq!(
            reply.error_type.as_deref(),
            Some("ResourceNotFoundException")
        );
        assert_eq!(reply.body["__type"], "ResourceNotFoundException");
    }
}

#[tokio::test]
async fn a_listing_pages_in_creation_order_capped_by_the_server_page_size() {
    let mut seed = crate::helpers::example_seed();
    let profile = &mut seed.profiles[0];
    profile.filters.clear();
    for i in 0..7 {
        profile.filters.push(SeedFilter {
            id: None,
            filter_type: identity_sync_emulator::FilterType::Group,
            name: format!("group-{i}"),
            domain: "corp.example.com".to_owned(),
            create_time: None,
        });
    }
    profile.filters.insert(
        3,
        SeedFilter {
            id: Some("sf-00000000000000aa".to_owned()),
            filter_type: identity_sync_emulator::FilterType::User,
            name: "jdoe".to_owned(),
            domain: "corp.example.com".to_owned(),
            create_time: None,
        },
    );
    let running = spawn(Options {
        seed: Some(seed),
        knobs: Knobs {
            page_size: 3,
            ..Knobs::default()
        },
        ..Options::default()
    })
    .unwrap();
    let client = Client::new(&running);

    let (filters, pages) = client
        .list_all("FilterType=GROUP&MaxResults=100&Augmentation=true")
        .await;
    assert_eq!(pages, [3, 3, 1]);
    let expected: Vec<String> = (0..7).map(|i| format!("group-{i}")).collect();
    assert_eq!(names(&filters), expected);

    let (filters, pages) = client.list_all("FilterType=GROUP&MaxResults=2").await;
    assert_eq!(pages, [2, 2, 2, 1]);
    assert_eq!(names(&filters), expected);

    let (users, pages) = client.list_all("FilterType=USER").await;
    assert_eq!(pages, [1]);
    assert_eq!(users[0]["SyncFilterId"], "sf-00000000000000aa");

    let bad = client
        .call(
            "GET",
            &format!("/v0/profiles/{PROFILE}/filters?FilterType=GROUP&NextToken=not-a-token"),
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_type.as_deref(), Some("ValidationException"));
}

#[tokio::test]
async fn creating_a_filter_that_exists_in_another_case_conflicts() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    let body = json!({"FilterType": "GROUP", "Effect": "INCLUDE",
                      "Attributes": attributes("CORP.example.com", "aws-admins")});
    let reply = client
        .call(
            "POST",
            &format!("/v0/profiles/{PROFILE}/filters"),
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.error_type.as_deref(), Some("ConflictException"));
    assert!(
        reply.message().contains("AWS-Admins"),
        "{}",
        reply.message()
    );
    assert_eq!(client.state().await.profiles[0].filters.len(), 1);
}

#[tokio::test]
async fn deleting_an_unknown_filter_id_is_not_found() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    let reply = client
        .call(
            "DELETE",
            &format!("/v0/profiles/{PROFILE}/filters/sf-0123456789abcdef"),
            None,
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.error_type.as_deref(),
        Some("ResourceNotFoundException")
    );
    let state = client.state().await;
    assert_eq!(state.counters_of(Operation::DeleteSyncFilter).errors, 1);
    assert_eq!(state.profiles[0].filters.len(), 1);
}

#[tokio::test]
async fn invalid_fields_are_validation_errors_that_say_what_is_wrong() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    let path = format!("/v0/profiles/{PROFILE}/filters");
    for (body, expected) in [
        (
            json!({"FilterType": "GRUOP", "Effect": "INCLUDE", "Attributes": attributes("d", "n")}),
            "FilterType must be GROUP or USER",
        ),
        (
            json!({"FilterType": "GROUP", "Effect": "EXCLUDE", "Attributes": attributes("d", "n")}),
            "Effect must be INCLUDE",
        ),
        (
            json!({"FilterType": "GROUP", "Effect": "INCLUDE",
                   "Attributes": r#"{"associateddomain":["d"],"samaccountname":["a","b"]}"#}),
            "exactly one value",
        ),
        (
            json!({"FilterType": "GROUP", "Effect": "INCLUDE"}),
            "Attributes is required",
        ),
    ] {
        let reply = client.call("POST", &path, Some(&body)).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.error_type.as_deref(), Some("ValidationException"));
        assert!(reply.message().contains(expected), "{}", reply.message());
    }
    for query in [
        "",
        "?FilterType=GROUP&MaxResults=0",
        "?FilterType=GROUP&Augmentation=yes",
    ] {
        let reply = client.call("GET", &format!("{path}{query}"), None).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.error_type.as_deref(), Some("ValidationException"));
    }
    assert_eq!(client.state().await.profiles[0].filters.len(), 1);
}

#[tokio::test]
async fn requests_signed_wrongly_are_refused_and_counted_as_unauthenticated() {
    let running = spawn_seeded(Knobs::default());
    let client = Client::new(&running);
    let path = format!("/v0/profiles/{PROFILE}");

    let region = client
        .clone()
        .with_region("us-east-1")
        .call("GET", &path, None)
        .await;
    assert_eq!(region.status, 403);
    assert_eq!(
        region.error_type.as_deref(),
        Some("InvalidSignatureException")
    );
    assert!(
        region.message().contains("'us-east-1'"),
        "{}",
        region.message()
    );

    let unknown = client
        .clone()
        .with_key("AKIDUNKNOWN", "testing")
        .call("GET", &path, None)
        .await;
    assert_eq!(unknown.status, 403);
    assert_eq!(
        unknown.error_type.as_deref(),
        Some("UnrecognizedClientException")
    );

    let secret = client
        .clone()
        .with_key("testing", "wrong")
        .call("GET", &path, None)
        .await;
    assert_eq!(secret.status, 403);
    assert!(
        secret
            .message()
            .starts_with("The request signature we calculated does not match")
    );

    let unsigned = client.unsigned("GET", &path).await;
    assert_eq!(unsigned.status, 403);
    assert_eq!(
        unsigned.error_type.as_deref(),
        Some("MissingAuthenticationTokenException")
    );

    let state = client.state().await;
    assert_eq!(state.counters[UNAUTHENTICATED].requests, 4);
    assert_eq!(state.counters[UNAUTHENTICATED].errors, 4);
    assert_eq!(state.counters_of(Operation::GetSyncProfile).requests, 0);
}

#[tokio::test]
async fn an_unknown_path_is_an_unknown_operation() {
    let running = spawn(Options {
        seed: Some(Seed::default()),
        ..Options::default()
    })
    .unwrap();
    let client = Client::new(&running);
    let reply = client.call("PUT", "/v0/profiles/p/filters", None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.error_type.as_deref(),
        Some("UnknownOperationException")
    );
    assert_eq!(
        client.state().await.counters[identity_sync_emulator::UNKNOWN_OPERATION].requests,
        1
    );
}
