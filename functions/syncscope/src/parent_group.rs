//! The `parent-group` engine's adapter: the sync scope is one parent group's direct
//! members in AWS Managed Microsoft AD, read and changed with AWS Directory Service
//! Data (`ListGroupMembers`, `AddGroupMember`, `RemoveGroupMember`), a public,
//! documented API. Identity Center syncs the parent group and everything in it.
//!
//! A member is a [`CurrentFilter`] of the config's domain whose id is its SID. Users
//! and groups are the scope; any other member (a computer) is left alone and
//! reported. Each change carries a `ClientToken` derived from the change and the
//! request that asked for it, so a redelivered request is one change, not two, while
//! a later request that adds a member again is a change of its own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_directoryservicedata::types::MemberType;
use sha2::{Digest, Sha256};
use syncscope_core::plan::{Action, Op};
use syncscope_core::scope::{CurrentFilter, FilterKind};
use tokio::time::Instant;

use crate::directory::DirectoryReader;

/// The operations, as counted.
const ADD: &str = "ds-data:AddGroupMember";
const REMOVE: &str = "ds-data:RemoveGroupMember";
const LIST: &str = "ds-data:ListGroupMembers";

/// Most members a `ListGroupMembers` page asks for (the API's maximum).
const PAGE_SIZE: i32 = 250;

/// No call starts with less time than this left before its deadline: the SDK's own
/// attempts (3, with backoffs up to 2 s) need room to end.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);

/// Why a Directory Service Data call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct MemberError {
    /// The error code, when the service answered one (`ResourceNotFoundException`).
    pub code: Option<String>,
    /// What happened, for cards and the response.
    pub reason: String,
}

impl MemberError {
    /// Whether the parent group itself (or the directory) is not there.
    pub fn is_missing(&self) -> bool {
        self.code.as_deref() == Some("ResourceNotFoundException")
    }
}

/// The parent group's direct members.
#[derive(Debug, Clone, Default)]
pub struct Members {
    /// Users and groups, as the scope.
    pub filters: Vec<CurrentFilter>,
    /// Members of other types (`COMPUTER: NAME`), left alone.
    pub others: Vec<String>,
    /// Pages read.
    pub pages: usize,
}

impl Members {
    /// The warning about members that are neither users nor groups, if any.
    pub fn others_warning(&self, parent: &str) -> Option<String> {
        (!self.others.is_empty()).then(|| {
            let shown: Vec<&str> = self.others.iter().take(10).map(String::as_str).collect();
            let more = self.others.len().saturating_sub(shown.len());
            format!(
                "the parent group {parent} has {} member(s) that are neither users nor groups ({}{}); syncscope leaves them alone",
                self.others.len(),
                shown.join(", "),
                if more > 0 { format!(", and {more} more") } else { String::new() }
            )
        })
    }
}

/// The parent group of one directory, for one run (its counters are the run's).
#[derive(Debug, Clone)]
pub struct ParentGroup {
    client: aws_sdk_directoryservicedata::Client,
    directory: String,
    group: String,
    realm: String,
    /// What seeds the change tokens: the request's id (a redelivery is the same
    /// request), or the run's start.
    seed: String,
    calls: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl ParentGroup {
    /// The parent `group` of `directory`, whose members are of the AD domain `realm`.
    pub fn new(
        reader: &DirectoryReader,
        directory: &str,
        group: &str,
        realm: &str,
        seed: String,
    ) -> Self {
        Self {
            client: reader.client().clone(),
            directory: directory.to_owned(),
            group: group.to_owned(),
            realm: realm.to_owned(),
            seed,
            calls: Arc::default(),
        }
    }

    /// The parent group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The directory's id.
    pub fn directory(&self) -> &str {
        &self.directory
    }

    /// The least time a call needs.
    pub fn min_attempt_time(&self) -> Duration {
        MIN_ATTEMPT
    }

    /// The calls made, per operation.
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count(&self, op: &'static str) {
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(op).or_default() += 1;
        }
    }

    /// Every direct member of the parent group (every page), by `deadline`.
    pub async fn list(&self, deadline: Instant) -> Result<Members, MemberError> {
        let mut members = Members::default();
        let mut token: Option<String> = None;
        loop {
            self.count(LIST);
            let call = self
                .client
                .list_group_members()
                .directory_id(&self.directory)
                .realm(&self.realm)
                .member_realm(&self.realm)
                .sam_account_name(&self.group)
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send();
            let page = within(deadline, "list the members of", self, call).await?;
            members.pages += 1;
            for member in page.members() {
                let kind = match member.member_type() {
                    MemberType::User => FilterKind::User,
                    MemberType::Group => FilterKind::Group,
                    other => {
                        members.others.push(format!(
                            "{}: {}",
                            other.as_str(),
                            member.sam_account_name()
                        ));
                        continue;
                    }
                };
                members.filters.push(CurrentFilter {
                    id: member.sid().to_owned(),
                    kind,
                    domain: self.realm.clone(),
                    name: member.sam_account_name().to_owned(),
                });
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(members)
    }

    /// Makes `action`'s member a member (a create) or no longer one (a removal).
    pub async fn change(&self, action: &Action, deadline: Instant) -> Result<(), MemberError> {
        let token = self.token(action);
        match action.op {
            Op::Create => {
                self.count(ADD);
                let call = self
                    .client
                    .add_group_member()
                    .directory_id(&self.directory)
                    .group_name(&self.group)
                    .member_name(&action.name)
                    .member_realm(&action.domain)
                    .client_token(token)
                    .send();
                within(deadline, "add a member to", self, call)
                    .await
                    .map(drop)
            }
            Op::Remove => {
                self.count(REMOVE);
                let call = self
                    .client
                    .remove_group_member()
                    .directory_id(&self.directory)
                    .group_name(&self.group)
                    .member_name(&action.name)
                    .member_realm(&action.domain)
                    .client_token(token)
                    .send();
                within(deadline, "remove a member from", self, call)
                    .await
                    .map(drop)
            }
            _ => Ok(()),
        }
    }

    /// The change's `ClientToken`: the same change asked by the same request is the
    /// same token (the service makes its repeats one change for 8 hours), anything else
    /// another. 64 hex digits, within the API's 128 ASCII characters.
    fn token(&self, action: &Action) -> String {
        let mut hash = Sha256::new();
        for part in [
            action.op.as_str(),
            &self.directory,
            &self.group,
            &action.domain.to_lowercase(),
            &action.name.to_lowercase(),
            &self.seed,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }
}

/// A call that ends by `deadline`, its error named.
async fn within<T, E>(
    deadline: Instant,
    what: &str,
    parent: &ParentGroup,
    call: impl Future<
        Output = Result<
            T,
            aws_sdk_directoryservicedata::error::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
) -> Result<T, MemberError>
where
    E: aws_sdk_directoryservicedata::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let failed = |reason: String, code: Option<String>| MemberError {
        reason: format!(
            "could not {what} the parent group {} in {}: {reason}",
            parent.group, parent.directory
        ),
        code,
    };
    if Instant::now() + MIN_ATTEMPT > deadline {
        return Err(failed("no time left before the deadline".to_owned(), None));
    }
    match tokio::time::timeout_at(deadline, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => {
            let code = e
                .as_service_error()
                .and_then(|s| aws_sdk_directoryservicedata::error::ProvideErrorMetadata::code(s))
                .map(str::to_owned);
            Err(failed(crate::http::sdk_error(&e), code))
        }
        Err(_) => Err(failed("timed out at the deadline".to_owned(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::action;

    fn parent(seed: &str) -> ParentGroup {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        ParentGroup::new(
            &DirectoryReader::new(&sdk, "eu-central-1"),
            "d-1234567890",
            "IAMIdentityCenterAllUsersAndGroups",
            "corp.example.com",
            seed.to_owned(),
        )
    }

    #[test]
    fn a_change_has_one_token_per_request_whatever_the_names_case() {
        let p = parent("request-1");
        let add = action(Op::Create, "AWS-Admins", None);
        let same = action(Op::Create, "aws-admins", None);
        let remove = action(Op::Remove, "AWS-Admins", Some("S-1"));
        assert_eq!(p.token(&add), p.token(&same));
        assert_ne!(p.token(&add), p.token(&remove));
        assert_ne!(p.token(&add), parent("request-2").token(&add));
        assert_eq!(p.token(&add).len(), 64);
    }

    #[test]
    fn members_that_are_neither_users_nor_groups_are_named_once() {
        let members = Members {
            others: vec!["COMPUTER: WS-0042$".to_owned()],
            ..Members::default()
        };
        let warning = members.others_warning("Parent").unwrap();
        assert!(
            warning.contains("1 member(s)") && warning.contains("WS-0042$"),
            "{warning}"
        );
        assert!(Members::default().others_warning("Parent").is_none());
    }
}
