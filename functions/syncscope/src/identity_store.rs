//! The identity store reader: what IAM Identity Center has synced so far, for the docs.
//!
//! The store id comes from the `IdentityStoreId` property, or else from sso-admin
//! `ListInstances` (the first instance). Groups are matched by display name,
//! `samaccountname@domain`, case-insensitively, against one paginated `ListGroups`
//! (an AD-synced store holds only synced groups: 50 calls for 5,000 groups instead of
//! 5,000 `GetGroupId`s); a missing group is not an error (it is pending the next sync
//! cycle). Members of the synced groups are counted with the paginated
//! `ListGroupMemberships`, with bounded concurrency, until a deadline; whatever was not
//! counted by then is reported as unknown, with one warning.

use aws_sdk_identitystore::types::{AlternateIdentifier, MemberId, UniqueAttribute};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};

use syncscope_core::access;
use syncscope_core::docs::{Enrichment, Lookup};
use syncscope_core::impact::{self, Impact, Needs, Person, StoreFacts};
use syncscope_core::names::NameMap;
use syncscope_core::plan::Plan;
use tokio::time::Instant;

use crate::access::Principal;

/// Why the identity store could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IdentityStoreError {
    /// `ListInstances` failed.
    #[error("failed to list the IAM Identity Center instances: {0}")]
    ListInstances(String),
    /// There is no IAM Identity Center instance in the region.
    #[error("no IAM Identity Center instance found in {region}")]
    NoInstance {
        /// The region asked.
        region: String,
    },
    /// No instance of the region has the configured identity store.
    #[error(
        "no IAM Identity Center instance in {region} has the identity store {store} (SSO.IdentityStoreId)"
    )]
    NoInstanceOf {
        /// The region asked.
        region: String,
        /// The configured identity store.
        store: String,
    },
    /// `ListGroups` failed.
    #[error("{0}")]
    ListGroups(String),
    /// The deadline passed before the store was read.
    #[error("ran out of time looking for the identity store")]
    OutOfTime,
}

/// Reads groups and memberships from the identity store, and (in
/// [`crate::access`]) the assignments of IAM Identity Center.
#[derive(Debug, Clone)]
pub struct IdentityStoreReader {
    store: aws_sdk_identitystore::Client,
    pub(crate) admin: aws_sdk_ssoadmin::Client,
    pub(crate) organizations: aws_sdk_organizations::Client,
    region: String,
    /// The region's IAM Identity Center instances (ARN, identity store), once listed
    /// (the impact, the access map and the docs all ask).
    instances: std::sync::Arc<tokio::sync::OnceCell<Vec<Instance>>>,
}

/// An IAM Identity Center instance: its ARN and its identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    pub(crate) arn: String,
    pub(crate) store: String,
}

/// What the enrichment found, and the warnings it wants on the outcome.
#[derive(Debug, Clone, Default)]
pub struct Enriched {
    /// The facts for the docs.
    pub enrichment: Enrichment,
    /// At most a few sentences, never one per group.
    pub warnings: Vec<String>,
}

impl IdentityStoreReader {
    /// Clients for `region` (IAM Identity Center's region, which may differ from the
    /// function's).
    pub fn new(sdk: &aws_config::SdkConfig, region: &str) -> Self {
        let region_cfg = aws_config::Region::new(region.to_owned());
        let store = aws_sdk_identitystore::Client::from_conf(
            aws_sdk_identitystore::config::Builder::from(sdk)
                .region(region_cfg.clone())
                .build(),
        );
        let admin = aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::config::Builder::from(sdk)
                .region(region_cfg.clone())
                .build(),
        );
        // Organizations is global: the SDK resolves its one endpoint from any region.
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(sdk)
                .region(region_cfg)
                .build(),
        );
        Self {
            store,
            admin,
            organizations,
            region: region.to_owned(),
            instances: std::sync::Arc::default(),
        }
    }

    /// The region the clients talk to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The identity store id: the configured one, or the first instance's (looked up
    /// once, then kept: an instance's identity store never changes).
    pub async fn store_id(&self, configured: Option<&str>) -> Result<String, IdentityStoreError> {
        if let Some(id) = configured {
            return Ok(id.to_owned());
        }
        Ok(self.instance(None).await?.store)
    }

    /// The instance of the identity store `configured` (None: the first instance),
    /// from one `ListInstances`, kept.
    pub(crate) async fn instance(
        &self,
        configured: Option<&str>,
    ) -> Result<Instance, IdentityStoreError> {
        let instances = self
            .instances
            .get_or_try_init(|| self.list_instances())
            .await?;
        instances
            .iter()
            .find(|i| configured.is_none_or(|store| i.store == store))
            .cloned()
            .ok_or_else(|| match configured {
                Some(store) => IdentityStoreError::NoInstanceOf {
                    region: self.region.clone(),
                    store: store.to_owned(),
                },
                None => IdentityStoreError::NoInstance {
                    region: self.region.clone(),
                },
            })
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, IdentityStoreError> {
        let out = self.admin.list_instances().send().await.map_err(|e| {
            IdentityStoreError::ListInstances(crate::http::sdk_error(&e).to_string())
        })?;
        Ok(out
            .instances()
            .iter()
            .filter_map(|i| {
                Some(Instance {
                    arn: i.instance_arn()?.to_owned(),
                    store: i.identity_store_id()?.to_owned(),
                })
            })
            .collect())
    }

    /// Every group of the store: lower-cased display name to group id, one
    /// paginated `ListGroups` (100 a page). An AD-synced store holds only the synced
    /// groups, so this is a few calls where one `GetGroupId` per group would be
    /// thousands.
    pub async fn group_ids(&self, store_id: &str) -> Result<NameMap<String>, String> {
        let mut pages = self
            .store
            .list_groups()
            .identity_store_id(store_id)
            .max_results(100)
            .into_paginator()
            .send();
        let mut ids = NameMap::default();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| format!("ListGroups failed: {}", crate::http::sdk_error(&e)))?;
            for group in page.groups() {
                if let Some(name) = group.display_name() {
                    ids.insert(name, group.group_id().to_owned());
                }
            }
        }
        Ok(ids)
    }

    /// The identity store to read and every group in it (see [`Self::group_ids`]),
    /// before `deadline`.
    async fn store_and_groups(
        &self,
        configured: Option<&str>,
        deadline: Instant,
    ) -> Result<(String, NameMap<String>), IdentityStoreError> {
        let store_id = tokio::time::timeout_at(deadline, self.store_id(configured))
            .await
            .map_err(|_| IdentityStoreError::OutOfTime)??;
        let groups = tokio::time::timeout_at(deadline, self.group_ids(&store_id))
            .await
            .map_err(|_| IdentityStoreError::OutOfTime)?
            .map_err(IdentityStoreError::ListGroups)?;
        Ok((store_id, groups))
    }

    async fn count_members(&self, store_id: &str, group_id: &str) -> Result<u64, String> {
        let mut count = 0u64;
        self.each_member(store_id, group_id, |_| count += 1).await?;
        Ok(count)
    }

    /// Calls `each` with the user id of every member of a group (paginated
    /// `ListGroupMemberships`).
    async fn each_member(
        &self,
        store_id: &str,
        group_id: &str,
        mut each: impl FnMut(&str),
    ) -> Result<(), String> {
        let mut pages = self
            .store
            .list_group_memberships()
            .identity_store_id(store_id)
            .group_id(group_id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                format!(
                    "ListGroupMemberships failed: {}",
                    crate::http::sdk_error(&e)
                )
            })?;
            for membership in page.group_memberships() {
                if let Some(MemberId::UserId(id)) = membership.member_id() {
                    each(id);
                }
            }
        }
        Ok(())
    }

    /// A user: who they are (`DescribeUser`) and every group they are in
    /// (paginated `ListGroupMembershipsForMember`: usually one call, where
    /// `IsMemberInGroups` would need one call per 100 groups that stay).
    async fn user(&self, store_id: &str, user_id: &str) -> Result<(Person, Vec<String>), String> {
        let described = self
            .store
            .describe_user()
            .identity_store_id(store_id)
            .user_id(user_id)
            .send()
            .await
            .map_err(|e| format!("DescribeUser failed: {}", crate::http::sdk_error(&e)))?;
        let person = Person {
            user_name: described.user_name().unwrap_or_default().to_owned(),
            display_name: described.display_name().unwrap_or_default().to_owned(),
            user_id: user_id.to_owned(),
            loses: Vec::new(),
        };
        let mut groups = Vec::new();
        let mut pages = self
            .store
            .list_group_memberships_for_member()
            .identity_store_id(store_id)
            .member_id(MemberId::UserId(user_id.to_owned()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                format!(
                    "ListGroupMembershipsForMember failed: {}",
                    crate::http::sdk_error(&e)
                )
            })?;
            groups.extend(
                page.group_memberships()
                    .iter()
                    .filter_map(|m| m.group_id().map(str::to_owned)),
            );
        }
        Ok((person, groups))
    }

    /// The user id of a user name (`GetUserId`); None when the store has no such user.
    async fn user_id(&self, store_id: &str, user_name: &str) -> Result<Option<String>, String> {
        let attribute = UniqueAttribute::builder()
            .attribute_path("userName")
            .attribute_value(aws_smithy_types::Document::String(user_name.to_owned()))
            .build()
            .map_err(|e| e.to_string())?;
        match self
            .store
            .get_user_id()
            .identity_store_id(store_id)
            .alternate_identifier(AlternateIdentifier::UniqueAttribute(attribute))
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.user_id().to_owned())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("GetUserId failed: {}", crate::http::sdk_error(&e))),
        }
    }

    /// Who loses and who keeps AWS access with `plan`, reading what `needs` asks for
    /// (see [`Needs::of`]; the caller may leave out the added groups) `concurrency`
    /// calls at a time until `deadline`. Whatever was not read by then makes the
    /// impact partial: a lower bound that says so.
    pub async fn impact(
        &self,
        configured: Option<&str>,
        plan: &Plan,
        needs: &Needs,
        concurrency: usize,
        deadline: Instant,
    ) -> Impact {
        let concurrency = concurrency.max(1);
        let out_of_time = || "ran out of time reading the identity store".to_owned();
        let (store_id, groups) = match self.store_and_groups(configured, deadline).await {
            Ok(found) => found,
            Err(IdentityStoreError::OutOfTime) => return Impact::unknown(out_of_time()),
            Err(e) => return Impact::unknown(format!("the identity store was not read: {e}")),
        };
        let store_id = store_id.as_str();
        let mut facts = StoreFacts {
            groups,
            ..StoreFacts::default()
        };
        let mut gaps: Vec<String> = Vec::new();

        // The members of every group entering or leaving the scope that the store has.
        let groups: Vec<String> = needs
            .removed_groups
            .iter()
            .chain(&needs.added_groups)
            .filter_map(|name| facts.groups.get(name).cloned())
            .collect();
        let listed = futures_util::stream::iter(groups)
            .map(|group_id| async move {
                let mut members = Vec::new();
                let result = self
                    .each_member(store_id, &group_id, |id| members.push(id.to_owned()))
                    .await;
                (group_id, result.map(|()| members))
            })
            .buffer_unordered(concurrency);
        let user_names = futures_util::stream::iter(needs.removed_users.clone())
            .map(|name| async move {
                let id = self.user_id(store_id, &name).await;
                (name, id)
            })
            .buffer_unordered(concurrency);
        let in_time = drain_until(deadline, listed, |(group_id, members)| match members {
            Ok(members) => {
                facts.members.insert(group_id, members);
            }
            Err(e) => gaps.push(e),
        })
        .await
            && drain_until(deadline, user_names, |(name, id)| match id {
                Ok(Some(id)) => {
                    facts.user_ids.insert(&name, id);
                }
                Ok(None) => {}
                Err(e) => gaps.push(e),
            })
            .await;
        if !in_time {
            gaps.push(out_of_time());
        }

        // Everyone who could lose access: who they are, and which groups hold them.
        let affected = facts.affected(needs);
        let users = futures_util::stream::iter(affected)
            .map(|user_id| async move {
                let user = self.user(store_id, &user_id).await;
                (user_id, user)
            })
            .buffer_unordered(concurrency);
        let in_time = drain_until(deadline, users, |(user_id, user)| match user {
            Ok(user) => {
                facts.users.insert(user_id, user);
            }
            Err(e) => gaps.push(e),
        })
        .await;
        if !in_time {
            gaps.push(out_of_time());
        }
        gaps.dedup();
        if let Some(first) = gaps.first() {
            let more = gaps.len() - 1;
            facts.gaps = Some(if more > 0 {
                format!("{first} (and {more} more problem(s))")
            } else {
                first.clone()
            });
        }
        let mut impact = impact::assess(plan, needs, &facts);
        if !impact.losing.is_empty() || !impact.keeping.is_empty() {
            self.what_users_lose(configured, &mut impact, needs, facts, concurrency, deadline)
                .await;
        }
        tracing::info!(
            identity_store_id = store_id,
            losing = impact.losing.len(),
            keeping = impact.keeping.len(),
            complete = impact.is_complete(),
            "impact assessed"
        );
        impact
    }

    /// Fills in which account and permission set pairs each user of `impact` loses
    /// and keeps ([`syncscope_core::access::specific`]), reading the assignments of
    /// their groups and of themselves before `deadline`.
    async fn what_users_lose(
        &self,
        configured: Option<&str>,
        impact: &mut Impact,
        needs: &Needs,
        facts: StoreFacts,
        concurrency: usize,
        deadline: Instant,
    ) {
        let user_groups: HashMap<String, Vec<String>> = facts
            .users
            .into_iter()
            .map(|(id, (_, groups))| (id, groups))
            .collect();
        let (groups, users) = access::principals_for(impact, &user_groups);
        let principals = groups
            .into_iter()
            .map(Principal::Group)
            .chain(users.into_iter().map(Principal::User))
            .collect();
        let map = self
            .access(configured, principals, concurrency, deadline)
            .await;
        let removed: HashSet<String> = needs
            .removed_groups
            .iter()
            .filter_map(|name| facts.groups.get(name).cloned())
            .collect();
        access::specific(impact, &user_groups, &removed, &map);
    }

    /// Looks up every display name, `concurrency` at a time, until `deadline`.
    pub async fn enrich(
        &self,
        configured: Option<&str>,
        names: Vec<String>,
        concurrency: usize,
        deadline: Instant,
    ) -> Enriched {
        let mut out = Enriched::default();
        if names.is_empty() {
            return out;
        }
        let (store_id, ids) = match self.store_and_groups(configured, deadline).await {
            Ok(found) => found,
            Err(e) => return unavailable(out, e),
        };
        out.enrichment.identity_store_id = Some(store_id.clone());
        let store_id = store_id.as_str();
        // Groups not in the store are pending the next sync cycle; the others get
        // their members counted, `concurrency` at a time.
        let mut found = Vec::new();
        for name in names {
            match ids.get(&name) {
                Some(id) => found.push((name, id.clone())),
                None => out.enrichment.insert(&name, Lookup::Missing),
            }
        }
        drop(ids);
        let total = found.len();
        let mut counts = futures_util::stream::iter(found)
            .map(|(name, group_id)| async move {
                let members = self.count_members(store_id, &group_id).await;
                (name, group_id, members)
            })
            .buffer_unordered(concurrency.max(1));
        let mut done = 0usize;
        let mut failed: Vec<String> = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, counts.next()).await {
                Ok(Some((name, group_id, members))) => {
                    if let Err(why) = &members {
                        failed.push(why.clone());
                    }
                    out.enrichment
                        .insert(&name, Lookup::Found { group_id, members });
                    done += 1;
                }
                Ok(None) => break,
                Err(_) => {
                    let reason = format!(
                        "not checked: the member counts ran out of time after {done} of {total} synced groups"
                    );
                    out.warnings.push(format!(
                        "documentation: {reason} (identity store {store_id}); the other groups show as unknown"
                    ));
                    out.enrichment.unavailable = Some(reason);
                    break;
                }
            }
        }
        if let Some(first) = failed.first() {
            out.warnings.push(format!(
                "documentation: could not count the members of {} group(s) in identity store {store_id}: {first}",
                failed.len()
            ));
        }
        tracing::info!(
            identity_store_id = store_id,
            looked_up = done,
            failed = failed.len(),
            "identity store read"
        );
        out
    }
}

/// Feeds every item of `stream` to `each` until `deadline`; false when time ran out
/// first.
pub(crate) async fn drain_until<S: futures_util::Stream>(
    deadline: Instant,
    stream: S,
    mut each: impl FnMut(S::Item),
) -> bool {
    let mut stream = std::pin::pin!(stream);
    let drained = async {
        while let Some(item) = stream.next().await {
            each(item);
        }
    };
    tokio::time::timeout_at(deadline, drained).await.is_ok()
}

fn unavailable(mut out: Enriched, e: IdentityStoreError) -> Enriched {
    let reason = format!("the identity store was not read: {e}");
    out.warnings.push(format!(
        "documentation: {reason}; group statuses are unknown"
    ));
    out.enrichment = Enrichment::unavailable(reason);
    out
}
