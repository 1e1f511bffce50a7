//! What changes the sync scope, by `SSO.Engine`: identity-sync's filters of one sync
//! profile ([`crate::identity_sync`]), or the members of one parent group in AWS
//! Managed Microsoft AD ([`crate::parent_group`]). The plan, the ledger, the guards,
//! the impact and the reports do not know which: they see a listing of
//! [`CurrentFilter`]s and one call per change.

use std::collections::BTreeMap;
use std::time::Duration;

use syncscope_core::plan::{Action, Op};
use syncscope_core::scope::CurrentFilter;
use tokio::time::Instant;

use crate::identity_sync::{IdentitySyncClient, IdentitySyncError, wire};
use crate::parent_group::{MemberError, ParentGroup};

/// The scope of one resource and the client that changes it, for one run.
#[derive(Debug)]
pub enum Engine {
    /// One identity-sync filter per group and user, in `profile`.
    SyncFilters {
        /// Identity-sync in the resource's region, counting this run's calls.
        client: IdentitySyncClient,
        /// The sync profile.
        profile: String,
    },
    /// The members of one parent group, through Directory Service Data.
    ParentGroup(ParentGroup),
}

/// The scope as listed.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The filters (or members) of the scope.
    pub filters: Vec<CurrentFilter>,
    /// What the listing found worth saying (members left alone).
    pub warnings: Vec<String>,
    /// Pages read.
    pub pages: usize,
}

/// Why a call that reads or changes the scope failed.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// Identity-sync's error.
    #[error(transparent)]
    IdentitySync(#[from] IdentitySyncError),
    /// Directory Service Data's error.
    #[error(transparent)]
    Members(#[from] MemberError),
    /// A change that cannot be sent.
    #[error("{0}")]
    Unsendable(String),
}

impl ScopeError {
    /// A short reason for cards and the CloudFormation response.
    pub fn reason(&self) -> String {
        match self {
            Self::IdentitySync(e) => e.reason(),
            Self::Members(e) => e.reason.clone(),
            Self::Unsendable(why) => why.clone(),
        }
    }

    /// Whether what holds the scope (the sync profile, the parent group) does not
    /// exist.
    pub fn is_missing(&self) -> bool {
        match self {
            Self::IdentitySync(e) => matches!(e, IdentitySyncError::Service { status: 404, .. }),
            Self::Members(e) => e.is_missing(),
            Self::Unsendable(_) => false,
        }
    }

    /// Whether the error of `op` says it was already so: exists (a create), not found
    /// (a removal). Only a hint: a listing settles it.
    pub fn already_so(&self, op: Op) -> bool {
        match (self, op) {
            (Self::IdentitySync(IdentitySyncError::Service { status, code, .. }), Op::Create) => {
                wire::is_already_exists(*status, code)
            }
            (Self::IdentitySync(IdentitySyncError::Service { status, code, .. }), Op::Remove) => {
                wire::is_not_found(*status, code)
            }
            (Self::Members(e), Op::Create) => e.code.as_deref() == Some("ConflictException"),
            (Self::Members(e), Op::Remove) => e.is_missing(),
            _ => false,
        }
    }

    /// Whether nothing was sent (the change surely did not happen).
    pub fn unsent(&self) -> bool {
        matches!(self, Self::Unsendable(_))
    }
}

impl Engine {
    /// The filters of `profile`, through `client` (a clone: it shares the client's
    /// counters).
    pub fn sync_filters(client: &IdentitySyncClient, profile: &str) -> Self {
        Self::SyncFilters {
            client: client.clone(),
            profile: profile.to_owned(),
        }
    }

    /// The scope as listed now, by `deadline`.
    pub async fn list(&self, deadline: Instant) -> Result<Listing, ScopeError> {
        match self {
            Self::SyncFilters { client, profile } => {
                let listing = client.list_filters(profile, deadline).await?;
                Ok(Listing {
                    filters: listing.filters,
                    warnings: Vec::new(),
                    pages: listing.pages,
                })
            }
            Self::ParentGroup(parent) => {
                let members = parent.list(deadline).await?;
                Ok(Listing {
                    warnings: members.others_warning(parent.group()).into_iter().collect(),
                    filters: members.filters,
                    pages: members.pages,
                })
            }
        }
    }

    /// Sends one change (a create or a removal), by `deadline`.
    pub async fn change(&self, action: &Action, deadline: Instant) -> Result<(), ScopeError> {
        match self {
            Self::SyncFilters { client, profile } => match action.op {
                Op::Create => client
                    .create_filter(profile, action.kind, &action.domain, &action.name, deadline)
                    .await
                    .map(drop)
                    .map_err(ScopeError::from),
                Op::Remove => {
                    let id = action.id.as_deref().ok_or_else(|| {
                        ScopeError::Unsendable("no filter id to delete".to_owned())
                    })?;
                    let label = format!("{} {}", action.kind, action.name);
                    Ok(client.delete_filter(profile, id, &label, deadline).await?)
                }
                _ => Ok(()),
            },
            Self::ParentGroup(parent) => Ok(parent.change(action, deadline).await?),
        }
    }

    /// The least time one call needs: no call starts with less left.
    pub fn min_attempt_time(&self) -> Duration {
        match self {
            Self::SyncFilters { client, .. } => client.min_attempt_time(),
            Self::ParentGroup(parent) => parent.min_attempt_time(),
        }
    }

    /// The calls and the further attempts of this run, per operation.
    pub fn calls(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let owned = |m: BTreeMap<&'static str, u64>| -> BTreeMap<String, u64> {
            m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
        };
        match self {
            Self::SyncFilters { client, .. } => {
                let stats = client.stats();
                (owned(stats.calls), owned(stats.retries))
            }
            Self::ParentGroup(parent) => (owned(parent.calls()), BTreeMap::new()),
        }
    }

    /// What holds the scope, for messages: `sync profile P`, `parent group G in d-…`.
    pub fn holder(&self) -> String {
        match self {
            Self::SyncFilters { profile, .. } => format!("sync profile {profile}"),
            Self::ParentGroup(parent) => {
                format!("parent group {} in {}", parent.group(), parent.directory())
            }
        }
    }

    /// Identity-sync, when this engine uses it.
    pub fn identity_sync(&self) -> Option<&IdentitySyncClient> {
        match self {
            Self::SyncFilters { client, .. } => Some(client),
            Self::ParentGroup(_) => None,
        }
    }
}
