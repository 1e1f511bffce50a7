//! The access map reader: which permission sets in which accounts each principal of
//! the sync scope is assigned, from the IAM Identity Center admin API (sso-admin) and
//! AWS Organizations.
//!
//! Two ways to read, chosen by counts ([`access::cheaper`]):
//! - per principal: `ListAccountAssignmentsForPrincipal` for each group or user;
//! - per provisioned permission set and account: `ListPermissionSets`,
//!   `ListAccountsForProvisionedPermissionSet` for each set, then
//!   `ListAccountAssignments` for each pair, kept for the principals asked. Chosen when
//!   a large scope (over [`access::COUNT_PAIRS_ABOVE`] principals) has fewer pairs than
//!   principals.
//!
//! Each permission set found is described once (`DescribePermissionSet`: its name and
//! session duration), and the accounts are named from one paginated Organizations
//! `ListAccounts`; without that permission (or outside an organization) accounts show
//! as ids, said once. Everything is bounded by `concurrency` and a deadline: what was
//! not read by then is absent from the map, which says it is partial.

use std::collections::{HashMap, HashSet};

use aws_sdk_ssoadmin::types::PrincipalType;
use futures_util::StreamExt;
use syncscope_core::access::{self, AccessMap, Grant, Strategy};
use tokio::time::Instant;

use crate::identity_store::{IdentityStoreReader, drain_until};

/// A principal whose assignments are asked: an identity store id, group or user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A group id.
    Group(String),
    /// A user id.
    User(String),
}

impl Principal {
    fn id(&self) -> &str {
        match self {
            Self::Group(id) | Self::User(id) => id,
        }
    }

    fn kind(&self) -> PrincipalType {
        match self {
            Self::Group(_) => PrincipalType::Group,
            Self::User(_) => PrincipalType::User,
        }
    }
}

/// (account id, permission set ARN) assignments by principal id, as listed.
type Raw = HashMap<String, Vec<(String, String)>>;

/// What one read found, and the calls it made.
struct Read {
    raw: Raw,
    gaps: Vec<String>,
    calls: u64,
}

const OUT_OF_TIME: &str = "ran out of time reading the account assignments";

impl IdentityStoreReader {
    /// The access map of `principals`, read `concurrency` calls at a time until
    /// `deadline` (`configured`: the identity store whose instance to ask; None, the
    /// first instance).
    pub async fn access(
        &self,
        configured: Option<&str>,
        principals: Vec<Principal>,
        concurrency: usize,
        deadline: Instant,
    ) -> AccessMap {
        if principals.is_empty() {
            return AccessMap::default();
        }
        let concurrency = concurrency.max(1);
        let instance = match tokio::time::timeout_at(deadline, self.instance(configured)).await {
            Ok(Ok(instance)) => instance,
            Ok(Err(e)) => return AccessMap::unread(format!("the assignments were not read: {e}")),
            Err(_) => return AccessMap::unread(OUT_OF_TIME),
        };
        let arn = instance.arn.as_str();
        let asked = principals.len();
        let (read, names) = tokio::join!(
            self.assignments(arn, principals, concurrency, deadline),
            self.account_names(deadline)
        );
        let (
            strategy,
            Read {
                raw,
                mut gaps,
                calls,
            },
        ) = read;
        let sets: HashSet<&str> = raw
            .values()
            .flatten()
            .map(|(_, set)| set.as_str())
            .collect();
        let sets: Vec<String> = sets.into_iter().map(str::to_owned).collect();
        let described_sets = sets.len();
        let described = self
            .describe_sets(arn, sets, concurrency, deadline, &mut gaps)
            .await;
        let (accounts, note) = match names {
            Ok(names) => (names, None),
            Err(why) => (
                HashMap::new(),
                Some(format!(
                    "account names were not read ({why}); accounts show as ids"
                )),
            ),
        };
        let grants: HashMap<String, Vec<Grant>> = raw
            .into_iter()
            .map(|(principal, pairs)| {
                let mut grants: Vec<Grant> = pairs
                    .into_iter()
                    .map(|(account_id, set_arn)| {
                        let (name, duration) = match described.get(&set_arn) {
                            Some((name, duration)) => (name.clone(), duration.clone()),
                            None => (set_arn, None),
                        };
                        Grant {
                            account_name: accounts.get(&account_id).cloned(),
                            account_id,
                            permission_set: name,
                            session_duration: duration,
                        }
                    })
                    .collect();
                access::tidy(&mut grants);
                (principal, grants)
            })
            .collect();
        gaps.dedup();
        tracing::info!(
            strategy = strategy.as_str(),
            principals = asked,
            read = grants.len(),
            permission_sets = described_sets,
            assignment_calls = calls,
            accounts_named = note.is_none(),
            complete = gaps.is_empty(),
            "access map read"
        );
        AccessMap {
            grants,
            partial: (!gaps.is_empty()).then(|| gaps.join("; ")),
            note,
            strategy: Some(strategy),
        }
    }

    /// The principals' assignments, the cheaper way ([`access::cheaper`]).
    async fn assignments(
        &self,
        arn: &str,
        principals: Vec<Principal>,
        concurrency: usize,
        deadline: Instant,
    ) -> (Strategy, Read) {
        if principals.len() > access::COUNT_PAIRS_ABOVE {
            match tokio::time::timeout_at(deadline, self.provisioned_pairs(arn, concurrency)).await
            {
                Ok(Ok((pairs, calls)))
                    if access::cheaper(principals.len(), pairs.len())
                        == Strategy::PerPermissionSetAndAccount =>
                {
                    let mut read = self
                        .per_pair(arn, &principals, pairs, concurrency, deadline)
                        .await;
                    read.calls += calls;
                    return (Strategy::PerPermissionSetAndAccount, read);
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not count the provisioned permission sets; reading per principal");
                }
                Err(_) => {
                    let read = Read {
                        raw: Raw::new(),
                        gaps: vec![OUT_OF_TIME.to_owned()],
                        calls: 0,
                    };
                    return (Strategy::PerPrincipal, read);
                }
            }
        }
        let read = self
            .per_principal(arn, principals, concurrency, deadline)
            .await;
        (Strategy::PerPrincipal, read)
    }

    /// `ListAccountAssignmentsForPrincipal` for each principal.
    async fn per_principal(
        &self,
        arn: &str,
        principals: Vec<Principal>,
        concurrency: usize,
        deadline: Instant,
    ) -> Read {
        let mut read = Read {
            raw: Raw::new(),
            gaps: Vec::new(),
            calls: 0,
        };
        let listed = futures_util::stream::iter(principals)
            .map(|principal| async move {
                let listed = self.of_principal(arn, &principal).await;
                (principal, listed)
            })
            .buffer_unordered(concurrency);
        let in_time = drain_until(deadline, listed, |(principal, listed)| match listed {
            Ok((pairs, calls)) => {
                read.calls += calls;
                read.raw.insert(principal.id().to_owned(), pairs);
            }
            Err(e) => read.gaps.push(e),
        })
        .await;
        if !in_time {
            read.gaps.push(OUT_OF_TIME.to_owned());
        }
        read
    }

    async fn of_principal(
        &self,
        arn: &str,
        principal: &Principal,
    ) -> Result<(Vec<(String, String)>, u64), String> {
        let mut pages = self
            .admin
            .list_account_assignments_for_principal()
            .instance_arn(arn)
            .principal_id(principal.id())
            .principal_type(principal.kind())
            .max_results(100)
            .into_paginator()
            .send();
        let (mut pairs, mut calls) = (Vec::new(), 0u64);
        while let Some(page) = pages.next().await {
            calls += 1;
            let page = page.map_err(|e| {
                format!(
                    "ListAccountAssignmentsForPrincipal failed: {}",
                    crate::http::sdk_error(&e)
                )
            })?;
            pairs.extend(page.account_assignments().iter().filter_map(|a| {
                Some((
                    a.account_id()?.to_owned(),
                    a.permission_set_arn()?.to_owned(),
                ))
            }));
        }
        Ok((pairs, calls))
    }

    /// Every provisioned (account id, permission set ARN) pair of the instance, and
    /// the calls it took.
    async fn provisioned_pairs(
        &self,
        arn: &str,
        concurrency: usize,
    ) -> Result<(Vec<(String, String)>, u64), String> {
        let mut sets = Vec::new();
        let mut calls = 0u64;
        let mut pages = self
            .admin
            .list_permission_sets()
            .instance_arn(arn)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            calls += 1;
            let page = page.map_err(|e| {
                format!("ListPermissionSets failed: {}", crate::http::sdk_error(&e))
            })?;
            sets.extend(page.permission_sets().iter().cloned());
        }
        let mut accounts = futures_util::stream::iter(sets)
            .map(|set| async move {
                let mut pages = self
                    .admin
                    .list_accounts_for_provisioned_permission_set()
                    .instance_arn(arn)
                    .permission_set_arn(&set)
                    .into_paginator()
                    .send();
                let (mut pairs, mut calls) = (Vec::new(), 0u64);
                while let Some(page) = pages.next().await {
                    calls += 1;
                    let page = page.map_err(|e| {
                        format!(
                            "ListAccountsForProvisionedPermissionSet failed: {}",
                            crate::http::sdk_error(&e)
                        )
                    })?;
                    pairs.extend(
                        page.account_ids()
                            .iter()
                            .map(|account| (account.clone(), set.clone())),
                    );
                }
                Ok::<_, String>((pairs, calls))
            })
            .buffer_unordered(concurrency);
        let mut pairs = Vec::new();
        while let Some(listed) = accounts.next().await {
            let (listed, n) = listed?;
            pairs.extend(listed);
            calls += n;
        }
        Ok((pairs, calls))
    }

    /// `ListAccountAssignments` of each pair, kept for the principals asked; a
    /// principal with no assignment in any pair grants nothing. Partial when any pair
    /// was not read: no principal is then known to be complete.
    async fn per_pair(
        &self,
        arn: &str,
        principals: &[Principal],
        pairs: Vec<(String, String)>,
        concurrency: usize,
        deadline: Instant,
    ) -> Read {
        let wanted: HashSet<&str> = principals.iter().map(Principal::id).collect();
        let mut read = Read {
            raw: Raw::new(),
            gaps: Vec::new(),
            calls: 0,
        };
        let listed = futures_util::stream::iter(pairs)
            .map(|(account, set)| async move {
                let mut pages = self
                    .admin
                    .list_account_assignments()
                    .instance_arn(arn)
                    .account_id(&account)
                    .permission_set_arn(&set)
                    .max_results(100)
                    .into_paginator()
                    .send();
                let (mut principals, mut calls) = (Vec::new(), 0u64);
                while let Some(page) = pages.next().await {
                    calls += 1;
                    let page = page.map_err(|e| {
                        format!(
                            "ListAccountAssignments failed: {}",
                            crate::http::sdk_error(&e)
                        )
                    })?;
                    principals.extend(
                        page.account_assignments()
                            .iter()
                            .filter_map(|a| a.principal_id().map(str::to_owned)),
                    );
                }
                Ok::<_, String>((account, set, principals, calls))
            })
            .buffer_unordered(concurrency);
        let in_time = drain_until(deadline, listed, |listed| match listed {
            Ok((account, set, principals, calls)) => {
                read.calls += calls;
                for principal in principals
                    .into_iter()
                    .filter(|p| wanted.contains(p.as_str()))
                {
                    read.raw
                        .entry(principal)
                        .or_default()
                        .push((account.clone(), set.clone()));
                }
            }
            Err(e) => read.gaps.push(e),
        })
        .await;
        if !in_time {
            read.gaps.push(OUT_OF_TIME.to_owned());
        }
        if read.gaps.is_empty() {
            for principal in principals {
                read.raw.entry(principal.id().to_owned()).or_default();
            }
        } else {
            // A principal is complete only when every pair was read.
            read.raw.clear();
        }
        read
    }

    /// Each permission set's name and session duration (`DescribePermissionSet`, once
    /// per set); a set not described keeps its ARN, and the map says so.
    async fn describe_sets(
        &self,
        arn: &str,
        sets: Vec<String>,
        concurrency: usize,
        deadline: Instant,
        gaps: &mut Vec<String>,
    ) -> HashMap<String, (String, Option<String>)> {
        let total = sets.len();
        let mut described = HashMap::new();
        let mut failed = Vec::new();
        let calls = futures_util::stream::iter(sets)
            .map(|set| async move {
                let out = self
                    .admin
                    .describe_permission_set()
                    .instance_arn(arn)
                    .permission_set_arn(&set)
                    .send()
                    .await;
                (set, out)
            })
            .buffer_unordered(concurrency);
        let in_time = drain_until(deadline, calls, |(set, out)| match out {
            Ok(out) => {
                let ps = out.permission_set();
                let name = ps.and_then(|p| p.name()).unwrap_or(&set).to_owned();
                let duration = ps.and_then(|p| p.session_duration()).map(str::to_owned);
                described.insert(set, (name, duration));
            }
            Err(e) => failed.push(format!(
                "DescribePermissionSet failed: {}",
                crate::http::sdk_error(&e)
            )),
        })
        .await;
        if !in_time || !failed.is_empty() {
            gaps.push(format!(
                "{} of {total} permission set(s) were not described and show as ARNs{}",
                total - described.len(),
                failed
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ));
        }
        described
    }

    /// Every account's name, from one paginated Organizations `ListAccounts`.
    async fn account_names(&self, deadline: Instant) -> Result<HashMap<String, String>, String> {
        let read = async {
            let mut names = HashMap::new();
            let mut pages = self.organizations.list_accounts().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    format!(
                        "organizations:ListAccounts failed: {}",
                        crate::http::sdk_error(&e)
                    )
                })?;
                for account in page.accounts() {
                    if let (Some(id), Some(name)) = (account.id(), account.name()) {
                        names.insert(id.to_owned(), name.to_owned());
                    }
                }
            }
            Ok(names)
        };
        tokio::time::timeout_at(deadline, read)
            .await
            .unwrap_or_else(|_| Err("organizations:ListAccounts ran out of time".to_owned()))
    }
}
