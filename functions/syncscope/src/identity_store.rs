//! The identity store reader: what IAM Identity Center has synced so far, for the docs.
//!
//! The store id comes from the `IdentityStoreId` property, or else from sso-admin
//! `ListInstances` (the first instance). Each group is looked up by its display name,
//! `samaccountname@domain` (`GetGroupId` with the unique attribute `displayName`, its
//! value a string document); a missing group is not an error (it is pending the next
//! sync cycle). Members are counted with the paginated `ListGroupMemberships`. Lookups
//! run with bounded concurrency and stop at a deadline; whatever was not looked up by
//! then is reported as unknown, with one warning.

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_smithy_types::Document;
use aws_smithy_types::error::display::DisplayErrorContext;
use futures_util::StreamExt;
use syncscope_core::docs::{Enrichment, Lookup};
use tokio::time::Instant;

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
    /// The deadline passed before the store was found.
    #[error("ran out of time looking for the identity store")]
    OutOfTime,
}

/// Reads groups and memberships from the identity store.
#[derive(Debug, Clone)]
pub struct IdentityStoreReader {
    store: aws_sdk_identitystore::Client,
    admin: aws_sdk_ssoadmin::Client,
    region: String,
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
                .region(region_cfg)
                .build(),
        );
        Self {
            store,
            admin,
            region: region.to_owned(),
        }
    }

    /// The region the clients talk to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The identity store id: the configured one, or the first instance's.
    pub async fn store_id(&self, configured: Option<&str>) -> Result<String, IdentityStoreError> {
        if let Some(id) = configured {
            return Ok(id.to_owned());
        }
        let out =
            self.admin.list_instances().send().await.map_err(|e| {
                IdentityStoreError::ListInstances(DisplayErrorContext(&e).to_string())
            })?;
        out.instances()
            .iter()
            .find_map(|i| i.identity_store_id().map(str::to_owned))
            .ok_or_else(|| IdentityStoreError::NoInstance {
                region: self.region.clone(),
            })
    }

    /// Looks up one group by display name and counts its members.
    pub async fn lookup(&self, store_id: &str, display_name: &str) -> Lookup {
        let attribute = match UniqueAttribute::builder()
            .attribute_path("displayName")
            .attribute_value(Document::String(display_name.to_owned()))
            .build()
        {
            Ok(a) => a,
            Err(e) => return Lookup::Failed(e.to_string()),
        };
        let found = self
            .store
            .get_group_id()
            .identity_store_id(store_id)
            .alternate_identifier(AlternateIdentifier::UniqueAttribute(attribute))
            .send()
            .await;
        let group_id = match found {
            Ok(out) => out.group_id().to_owned(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Lookup::Missing;
            }
            Err(e) => {
                return Lookup::Failed(format!("GetGroupId failed: {}", DisplayErrorContext(&e)));
            }
        };
        let members = self.count_members(store_id, &group_id).await;
        Lookup::Found { group_id, members }
    }

    async fn count_members(&self, store_id: &str, group_id: &str) -> Result<u64, String> {
        let mut pages = self
            .store
            .list_group_memberships()
            .identity_store_id(store_id)
            .group_id(group_id)
            .into_paginator()
            .send();
        let mut count = 0u64;
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| format!("ListGroupMemberships failed: {}", DisplayErrorContext(&e)))?;
            count += page.group_memberships().len() as u64;
        }
        Ok(count)
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
        let store_id = match tokio::time::timeout_at(deadline, self.store_id(configured)).await {
            Ok(Ok(id)) => id,
            Ok(Err(e)) => return unavailable(out, e),
            Err(_) => return unavailable(out, IdentityStoreError::OutOfTime),
        };
        out.enrichment.identity_store_id = Some(store_id.clone());
        let total = names.len();
        let store_id = store_id.as_str();
        let mut lookups = futures_util::stream::iter(names)
            .map(|name| async move {
                let lookup = self.lookup(store_id, &name).await;
                (name, lookup)
            })
            .buffer_unordered(concurrency.max(1));
        let mut done = 0usize;
        let mut failed: Vec<String> = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, lookups.next()).await {
                Ok(Some((name, lookup))) => {
                    if let Lookup::Failed(why) = &lookup {
                        failed.push(why.clone());
                    }
                    out.enrichment.insert(&name, lookup);
                    done += 1;
                }
                Ok(None) => break,
                Err(_) => {
                    let reason = format!(
                        "not checked: the identity store lookups ran out of time after {done} of {total} groups"
                    );
                    out.warnings.push(format!(
                        "documentation: {reason} (identity store {store_id}); the statuses of the other groups are unknown"
                    ));
                    out.enrichment.unavailable = Some(reason);
                    break;
                }
            }
        }
        if let Some(first) = failed.first() {
            out.warnings.push(format!(
                "documentation: could not read {} group(s) from identity store {store_id} (their status shows as unknown): {first}",
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

fn unavailable(mut out: Enriched, e: IdentityStoreError) -> Enriched {
    let reason = format!("the identity store was not read: {e}");
    out.warnings.push(format!(
        "documentation: {reason}; group statuses are unknown"
    ));
    out.enrichment = Enrichment::unavailable(reason);
    out
}
