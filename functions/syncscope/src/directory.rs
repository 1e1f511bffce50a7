//! The directory check's adapter: asks AWS Directory Service Data (`ds-data`, AWS
//! Managed Microsoft AD with directory data access enabled) whether each wanted name
//! exists ([`syncscope_core::directory`] holds the statuses and the rule of
//! `require`).
//!
//! A user is one `DescribeUser`; a group is its `ListGroupMembers` pages, which answer
//! `ResourceNotFoundException` for a group that does not exist and otherwise count
//! its direct members and nested groups, so no `DescribeGroup` is needed. More than
//! [`LIST_ABOVE`] names of a kind are settled from the directory's listing instead
//! (`ListGroups`, `ListUsers`: 250 names a call, no member counts): a name listed is
//! in AD, and once the listing ends a name not listed is not. The listing stops when
//! every name was seen, or after as many calls as the name-by-name rounds would take
//! (names / concurrency); what it leaves open is asked name by name, so a directory
//! too large to list costs at most that many calls more. The first
//! name asked is asked alone: an answer about the directory itself (AD Connector, data
//! access disabled, no permission, unavailable) stops the check with one reason for
//! every name instead of one failed call per name. The rest run with bounded
//! concurrency until a deadline; a name not answered by then is "not checked (out of
//! time)", never a failed run. The SDK retries throttling and faults a few times with
//! short backoffs; a name still throttled after that is "not checked (throttled)".

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_directoryservicedata::error::SdkError;
use aws_sdk_directoryservicedata::types::{
    AccessDeniedReason, MemberType, ValidationExceptionReason,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use futures_util::StreamExt;
use syncscope_core::directory::{AdEntry, AdStatus, DirectoryReport, Wanted};
use syncscope_core::names::Caseless;
use syncscope_core::scope::FilterKind;
use tokio::time::Instant;

use crate::identity_sync::{IdentitySyncClient, wire};

/// The [`Refusal`] in an operation's error (every ds-data operation has the same
/// error variants, each in its own enum).
macro_rules! refusal {
    ($($error:ident)::+) => {
        |e: &$($error)::+| {
            use $($error)::+ as E;
            match e {
                E::AccessDeniedException(e) => Refusal::Denied(e.reason().cloned()),
                E::ValidationException(e) => Refusal::Invalid(e.reason().cloned()),
                E::DirectoryUnavailableException(e) => {
                    Refusal::Unavailable(e.reason().map(|r| r.as_str().to_owned()))
                }
                _ => Refusal::Other,
            }
        }
    };
}

/// One [`Page`] of a listing operation (`list_groups` with its `groups`, `list_users`
/// with its `users`): one request and one error handling for two SDK operations with
/// types of their own; an error is the [`Answer`] it gives.
macro_rules! listing_page {
    ($reader:ident, $op:ident, $items:ident, $($error:ident)::+, $directory_id:ident, $realm:ident, $token:ident) => {{
        let out = $reader
            .client
            .$op()
            .directory_id($directory_id)
            .realm($realm)
            .max_results(PAGE_SIZE)
            .set_next_token($token)
            .send()
            .await
            .map_err(|e| classify($directory_id, $realm, &e, refusal!($($error)::+)))?;
        Page {
            names: out.$items().iter().map(|x| x.sam_account_name().to_owned()).collect(),
            next: out.next_token().filter(|t| !t.is_empty()).map(str::to_owned),
        }
    }};
}

/// Entries asked per `ListGroupMembers`, `ListGroups` or `ListUsers` page (the API's
/// maximum).
const PAGE_SIZE: i32 = 250;

/// A kind with more names than this to check is settled from the directory's listing
/// first (below it, a name costs one call and its group shows its member counts).
pub const LIST_ABOVE: usize = 100;

/// Asks one directory about names.
#[derive(Debug, Clone)]
pub struct DirectoryReader {
    client: aws_sdk_directoryservicedata::Client,
}

/// The names of one kind a listing has not shown yet, found by the hash of their
/// [`Caseless`] form without a key string per name. Two names with one hash (in
/// practice never; a config wants each name of a kind once) keep the second in
/// `clashes`, searched one by one.
struct Unseen<'a> {
    names: &'a [Wanted],
    hasher: RandomState,
    by_hash: HashMap<u64, usize>,
    clashes: Vec<usize>,
}

impl<'a> Unseen<'a> {
    fn of(names: &'a [Wanted], kind: FilterKind) -> Self {
        let mut unseen = Self {
            names,
            hasher: RandomState::new(),
            by_hash: HashMap::new(),
            clashes: Vec::new(),
        };
        for (i, wanted) in names.iter().enumerate().filter(|(_, w)| w.kind == kind) {
            let hash = unseen.hasher.hash_one(Caseless(&wanted.name));
            match unseen.by_hash.entry(hash) {
                Entry::Occupied(_) => unseen.clashes.push(i),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        unseen
    }

    fn len(&self) -> usize {
        self.by_hash.len() + self.clashes.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks `listed` seen: `found` gets the index of each wanted name it is.
    fn take(&mut self, listed: &str, mut found: impl FnMut(usize)) {
        let key = Caseless(listed);
        let hash = self.hasher.hash_one(key);
        let names = self.names;
        let same = |i: &usize| Caseless(&names[*i].name) == key;
        if self.by_hash.get(&hash).is_some_and(same)
            && let Some(i) = self.by_hash.remove(&hash)
        {
            found(i);
        }
        self.clashes.retain(|i| {
            let hit = same(i);
            if hit {
                found(*i);
            }
            !hit
        });
    }

    /// The names never seen.
    fn rest(self) -> impl Iterator<Item = usize> {
        self.by_hash.into_values().chain(self.clashes)
    }
}

/// One page of a directory's listing of groups or users.
struct Page {
    names: Vec<String>,
    next: Option<String>,
}

/// What one question answered.
enum Answer {
    /// About the name.
    Name(AdStatus),
    /// About the whole directory: no name can be checked, and why.
    Directory(Unreadable),
}

/// Why a directory cannot be read at all (no name in it can be checked). Each reason
/// has its fix ([`Unreadable::fix`]), so `doctor` need not read the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// Directory data access is not enabled on it.
    #[error(
        "directory data access is disabled on {0} (enable it in the Directory Service console, or set SSO.DirectoryCheck to off)"
    )]
    DataDisabled(String),
    /// IAM does not allow the reads.
    #[error(
        "no permission to read {0} (the function needs ds-data:DescribeUser, ds-data:ListGroupMembers, ds-data:ListGroups, ds-data:ListUsers and ds:AccessDSData on it)"
    )]
    NoPermission(String),
    /// Denied for another reason (the service's message).
    #[error("access to {0} was denied: {1}")]
    Denied(String, String),
    /// An AD Connector: it has no directory data API.
    #[error("{0} is not an AWS Managed Microsoft AD (an AD Connector has no directory data API)")]
    NotManagedAd(String),
    /// The config's domain is neither the directory's nor one it trusts.
    #[error("{realm} is not the domain of {directory} or one it trusts")]
    ForeignRealm {
        /// The domain asked about.
        realm: String,
        /// The directory.
        directory: String,
    },
    /// The directory is unavailable (the service's reason).
    #[error("{0} is unavailable ({1})")]
    Unavailable(String, String),
}

impl Unreadable {
    /// What a person does about it.
    pub fn fix(&self) -> String {
        match self {
            Self::DataDisabled(id) => format!(
                "enable directory data access on {id} (Directory Service console, or `aws ds enable-directory-data-access --directory-id {id}`), or set SSO.DirectoryCheck to off"
            ),
            Self::NotManagedAd(_) => {
                "set SSO.DirectoryCheck to off: an AD Connector has no directory data API".to_owned()
            }
            Self::NoPermission(id) | Self::Denied(id, _) => format!(
                "allow ds-data:DescribeUser, ds-data:ListGroupMembers, ds-data:ListGroups, ds-data:ListUsers and ds:AccessDSData on {id} (the deployed function gets them from the stack), or set SSO.DirectoryId to the right directory"
            ),
            Self::ForeignRealm { .. } => {
                "set SSO.ad_DomainName to the directory's domain, or SSO.DirectoryId to the directory of that domain".to_owned()
            }
            Self::Unavailable(..) => "try again; if it persists, set SSO.DirectoryCheck to off".to_owned(),
        }
    }
}

impl DirectoryReader {
    /// The Directory Service Data client (the parent-group engine shares it).
    pub(crate) fn client(&self) -> &aws_sdk_directoryservicedata::Client {
        &self.client
    }

    /// Whether `group` exists in `directory_id` (for the AD domain `realm`): the
    /// parent-group engine's setup and doctor.
    pub async fn describe_group(
        &self,
        directory_id: &str,
        realm: &str,
        group: &str,
    ) -> Result<bool, String> {
        match self
            .client
            .describe_group()
            .directory_id(directory_id)
            .realm(realm)
            .sam_account_name(group)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(format!(
                "could not describe the group {group} in {directory_id}: {}",
                crate::http::sdk_error(&e)
            )),
        }
    }

    /// Creates the security group `group` in `directory_id` (the parent group).
    pub async fn create_group(&self, directory_id: &str, group: &str) -> Result<(), String> {
        self.client
            .create_group()
            .directory_id(directory_id)
            .sam_account_name(group)
            .send()
            .await
            .map(drop)
            .map_err(|e| {
                format!(
                    "could not create the group {group} in {directory_id}: {}",
                    crate::http::sdk_error(&e)
                )
            })
    }

    /// A client for the directory's region.
    pub fn new(sdk: &aws_config::SdkConfig, region: &str) -> Self {
        Self::at(sdk, region, None)
    }

    /// A client for the directory's region at `endpoint` (None: the SDK's own, which
    /// `AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA` overrides).
    pub fn at(sdk: &aws_config::SdkConfig, region: &str, endpoint: Option<&str>) -> Self {
        let mut builder = aws_sdk_directoryservicedata::config::Builder::from(sdk);
        if let Some(url) = endpoint {
            builder = builder.endpoint_url(url);
        }
        let client = aws_sdk_directoryservicedata::Client::from_conf(
            builder
                .region(aws_config::Region::new(region.to_owned()))
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(200))
                        .with_max_backoff(Duration::from_secs(2)),
                )
                .build(),
        );
        Self { client }
    }

    /// The status of every name in `names` (in that order; the report takes the names
    /// over), asked in `directory_id` for the AD domain `realm`, at most `concurrency`
    /// at once, until `deadline`: first what the listings settle, then the rest name
    /// by name.
    pub async fn check(
        &self,
        directory_id: &str,
        realm: &str,
        names: Vec<Wanted>,
        concurrency: usize,
        deadline: Instant,
    ) -> DirectoryReport {
        self.check_why(directory_id, realm, names, concurrency, deadline)
            .await
            .0
    }

    /// [`Self::check`], and why the directory could not be read when it could not
    /// (for `doctor`'s fix).
    pub async fn check_why(
        &self,
        directory_id: &str,
        realm: &str,
        names: Vec<Wanted>,
        concurrency: usize,
        deadline: Instant,
    ) -> (DirectoryReport, Option<Unreadable>) {
        let mut statuses: Vec<Option<AdStatus>> = vec![None; names.len()];
        let list = |kind| self.list(kind, directory_id, realm, &names, concurrency, deadline);
        let (groups, users) = tokio::join!(list(FilterKind::Group), list(FilterKind::User));
        let settled = match (groups, users) {
            (Ok(groups), Ok(users)) => groups.into_iter().chain(users),
            (Err(why), _) | (_, Err(why)) => return skipped(directory_id, &names, why),
        };
        for (i, in_ad) in settled {
            statuses[i] = Some(if in_ad {
                AdStatus::InAd {
                    members: None,
                    nested_groups: None,
                }
            } else {
                AdStatus::NotInAd
            });
        }
        let refused = match self
            .ask_open(
                directory_id,
                realm,
                &names,
                &mut statuses,
                concurrency,
                deadline,
            )
            .await
        {
            Ok(refused) => refused,
            Err(why) => return skipped(directory_id, &names, why),
        };
        let late = statuses.iter().filter(|s| s.is_none()).count();
        let total = names.len();
        let entries = names
            .into_iter()
            .zip(statuses)
            .map(|(w, status)| AdEntry {
                kind: w.kind,
                name: w.name,
                status: status.unwrap_or_else(|| AdStatus::NotChecked {
                    why: "out of time".to_owned(),
                }),
            })
            .collect();
        let skipped = match (late, &refused) {
            (0, refused) => refused.as_ref().map(Unreadable::to_string),
            (late, _) => Some(format!(
                "out of time: {late} of {total} names were not checked"
            )),
        };
        if let Some(why) = &skipped {
            tracing::warn!(directory = directory_id, why = %why, "the directory check is partial");
        }
        let report = DirectoryReport {
            directory_id: directory_id.to_owned(),
            entries,
            skipped,
        };
        (report, refused)
    }

    /// Asks the names the listings left open (`statuses` None) one by one: the first
    /// alone (an answer about the directory ends the check: the error), the rest at
    /// most `concurrency` at once until `deadline`. Returns why the directory refused
    /// some later name, if it did.
    async fn ask_open(
        &self,
        directory_id: &str,
        realm: &str,
        names: &[Wanted],
        statuses: &mut [Option<AdStatus>],
        concurrency: usize,
        deadline: Instant,
    ) -> Result<Option<Unreadable>, Unreadable> {
        let open: Vec<usize> = (0..names.len())
            .filter(|i| statuses[*i].is_none())
            .collect();
        let Some(&first) = open.first() else {
            return Ok(None);
        };
        match tokio::time::timeout_at(deadline, self.ask(directory_id, realm, &names[first])).await
        {
            Err(_) => return Ok(None),
            Ok(Answer::Directory(why)) => return Err(why),
            Ok(Answer::Name(status)) => statuses[first] = Some(status),
        }
        let rest = futures_util::stream::iter(open.into_iter().skip(1))
            .map(|i| async move { (i, self.ask(directory_id, realm, &names[i]).await) })
            .buffer_unordered(concurrency.max(1));
        let mut refused = None;
        crate::identity_store::drain_until(deadline, rest, |(i, answer)| {
            statuses[i] = Some(match answer {
                Answer::Name(status) => status,
                Answer::Directory(why) => {
                    let said = why.to_string();
                    refused.get_or_insert(why);
                    AdStatus::NotChecked { why: said }
                }
            });
        })
        .await;
        Ok(refused)
    }

    /// The names of `kind` in `names` that the directory's listing settles, when there
    /// are more than [`LIST_ABOVE`]: in AD when listed; not in AD when the listing
    /// ended without them. It stops once every name was seen, at `deadline`, after
    /// `names / concurrency` pages, or at an answer about one page (then the names
    /// left are asked one by one); an answer about the directory is the error. Each
    /// settled name is its index in `names` and whether it is in AD.
    async fn list(
        &self,
        kind: FilterKind,
        directory_id: &str,
        realm: &str,
        names: &[Wanted],
        concurrency: usize,
        deadline: Instant,
    ) -> Result<Vec<(usize, bool)>, Unreadable> {
        let mut unseen = Unseen::of(names, kind);
        let mut settled = Vec::new();
        let count = unseen.len();
        if count <= LIST_ABOVE {
            return Ok(settled);
        }
        let mut token = None;
        for _ in 0..count.div_ceil(concurrency.max(1)) {
            let page = self.page(kind, directory_id, realm, token.take());
            let page = match tokio::time::timeout_at(deadline, page).await {
                Ok(Ok(page)) => page,
                Ok(Err(Answer::Directory(why))) => return Err(why),
                Ok(Err(Answer::Name(_))) | Err(_) => break,
            };
            for name in &page.names {
                unseen.take(name, |i| settled.push((i, true)));
            }
            if unseen.is_empty() {
                break;
            }
            match page.next {
                Some(next) => token = Some(next),
                None => {
                    settled.extend(unseen.rest().map(|i| (i, false)));
                    break;
                }
            }
        }
        Ok(settled)
    }

    /// One page of the directory's groups or users.
    async fn page(
        &self,
        kind: FilterKind,
        directory_id: &str,
        realm: &str,
        token: Option<String>,
    ) -> Result<Page, Answer> {
        use aws_sdk_directoryservicedata::operation::{list_groups, list_users};
        Ok(match kind {
            FilterKind::Group => listing_page!(
                self,
                list_groups,
                groups,
                list_groups::ListGroupsError,
                directory_id,
                realm,
                token
            ),
            FilterKind::User => listing_page!(
                self,
                list_users,
                users,
                list_users::ListUsersError,
                directory_id,
                realm,
                token
            ),
        })
    }

    async fn ask(&self, directory_id: &str, realm: &str, wanted: &Wanted) -> Answer {
        let name = wanted.name.as_str();
        match wanted.kind {
            FilterKind::User => match self
                .client
                .describe_user()
                .directory_id(directory_id)
                .realm(realm)
                .sam_account_name(name)
                .send()
                .await
            {
                Ok(_) => Answer::Name(AdStatus::InAd {
                    members: None,
                    nested_groups: None,
                }),
                Err(e) => classify(
                    directory_id,
                    realm,
                    &e,
                    refusal!(
                        aws_sdk_directoryservicedata::operation::describe_user::DescribeUserError
                    ),
                ),
            },
            FilterKind::Group => self.count_members(directory_id, realm, name).await,
        }
    }

    /// A group's direct members and nested groups, page by page.
    async fn count_members(&self, directory_id: &str, realm: &str, name: &str) -> Answer {
        let (mut members, mut nested) = (0u32, 0u32);
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_group_members()
                .directory_id(directory_id)
                .realm(realm)
                .sam_account_name(name)
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    return classify(
                        directory_id,
                        realm,
                        &e,
                        refusal!(aws_sdk_directoryservicedata::operation::list_group_members::ListGroupMembersError),
                    );
                }
            };
            for member in page.members() {
                members = members.saturating_add(1);
                if member.member_type() == &MemberType::Group {
                    nested = nested.saturating_add(1);
                }
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Answer::Name(AdStatus::InAd {
            members: Some(members),
            nested_groups: Some(nested),
        })
    }
}

/// The report of a check the directory refused as a whole: no name checked, and why.
fn skipped(
    directory_id: &str,
    names: &[Wanted],
    why: Unreadable,
) -> (DirectoryReport, Option<Unreadable>) {
    tracing::warn!(directory = directory_id, why = %why, "the directory check was skipped");
    (
        DirectoryReport::not_checked(directory_id, names, &why.to_string()),
        Some(why),
    )
}

/// The directory to check names in, and its region: `configured` (in the region of
/// `client`, IAM Identity Center's), or else the one sync profile `profile` syncs from,
/// read from its `SourceResourceArn` (`arn:aws:ds:REGION:ACCOUNT:directory/d-...`).
pub async fn locate(
    client: &IdentitySyncClient,
    profile: &str,
    configured: Option<&str>,
    by: Instant,
) -> Result<(String, String), String> {
    if let Some(id) = configured {
        return Ok((id.to_owned(), client.region().to_owned()));
    }
    let found = client
        .get::<wire::SyncProfile>(&wire::get_sync_profile(profile), by)
        .await
        .map_err(|e| {
            format!(
                "could not read the directory of sync profile {profile}: {}",
                e.reason()
            )
        })?;
    let arn = found
        .ok_or_else(|| format!("sync profile {profile} does not exist"))?
        .source_arn
        .ok_or_else(|| format!("sync profile {profile} names no source directory"))?;
    let parsed = syncscope_core::arn::Arn::parse(&arn);
    let region = parsed.map_or("", |a| a.region);
    let id = parsed.map_or("", |a| a.resource_id());
    if region.is_empty() || !syncscope_core::names::is_d_id(id) {
        return Err(format!(
            "sync profile {profile} syncs from {arn}, which is not a directory ARN"
        ));
    }
    Ok((id.to_owned(), region.to_owned()))
}

/// The parts of an operation's error that decide whether it is about the directory.
enum Refusal {
    Denied(Option<AccessDeniedReason>),
    Invalid(Option<ValidationExceptionReason>),
    Unavailable(Option<String>),
    Other,
}

/// What an error says: no such name, something about the whole directory, or a
/// name that could not be checked (throttled, a fault, a timeout).
fn classify<E>(
    directory_id: &str,
    realm: &str,
    error: &SdkError<E, HttpResponse>,
    refusal: impl Fn(&E) -> Refusal,
) -> Answer
where
    E: aws_sdk_directoryservicedata::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let Some(service) = error.as_service_error() else {
        return Answer::Name(AdStatus::NotChecked {
            why: format!("no answer ({})", crate::http::sdk_error(error)),
        });
    };
    let Some(code) = service.code() else {
        // Not an AWS answer (a wrong endpoint, a proxy's page): where it came from.
        return Answer::Name(AdStatus::NotChecked {
            why: crate::http::sdk_error(error),
        });
    };
    if code == "ResourceNotFoundException" {
        return Answer::Name(AdStatus::NotInAd);
    }
    if code == "ThrottlingException" {
        return Answer::Name(AdStatus::NotChecked {
            why: "throttled".to_owned(),
        });
    }
    match refusal(service) {
        Refusal::Denied(Some(AccessDeniedReason::DataDisabled)) => {
            Answer::Directory(Unreadable::DataDisabled(directory_id.to_owned()))
        }
        Refusal::Denied(Some(AccessDeniedReason::IamAuth)) => {
            Answer::Directory(Unreadable::NoPermission(directory_id.to_owned()))
        }
        Refusal::Denied(_) => Answer::Directory(Unreadable::Denied(
            directory_id.to_owned(),
            service.message().unwrap_or("no reason given").to_owned(),
        )),
        Refusal::Invalid(Some(ValidationExceptionReason::InvalidDirectoryType)) => {
            Answer::Directory(Unreadable::NotManagedAd(directory_id.to_owned()))
        }
        Refusal::Invalid(Some(ValidationExceptionReason::InvalidRealm)) => {
            Answer::Directory(Unreadable::ForeignRealm {
                realm: realm.to_owned(),
                directory: directory_id.to_owned(),
            })
        }
        Refusal::Unavailable(reason) => Answer::Directory(Unreadable::Unavailable(
            directory_id.to_owned(),
            reason.unwrap_or_else(|| "no reason given".to_owned()),
        )),
        Refusal::Invalid(_) | Refusal::Other => Answer::Name(AdStatus::NotChecked {
            why: format!("{code}: {}", service.message().unwrap_or("no message")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_a_directory_cannot_be_read_has_its_own_fix() {
        let id = || "d-1234567890".to_owned();
        let table = [
            (
                Unreadable::DataDisabled(id()),
                "enable-directory-data-access --directory-id d-1234567890",
            ),
            (
                Unreadable::NotManagedAd(id()),
                "set SSO.DirectoryCheck to off: an AD Connector",
            ),
            (Unreadable::NoPermission(id()), "allow ds-data:DescribeUser"),
            (
                Unreadable::Denied(id(), "SCP".into()),
                "allow ds-data:DescribeUser",
            ),
            (
                Unreadable::ForeignRealm {
                    realm: "corp.example.com".into(),
                    directory: id(),
                },
                "set SSO.ad_DomainName",
            ),
            (
                Unreadable::Unavailable(id(), "maintenance".into()),
                "try again",
            ),
        ];
        for (reason, fix) in table {
            assert!(reason.fix().contains(fix), "{reason}: {}", reason.fix());
            assert!(reason.to_string().contains("d-1234567890"), "{reason}");
        }
    }

    #[test]
    fn a_listed_name_settles_every_wanted_spelling_of_it_and_the_rest_stay_unseen() {
        let wanted = |kind, name: &str| Wanted {
            kind,
            name: name.to_owned(),
        };
        // "AWS-Admins" twice (in two spellings: one hash, so one is a clash), and a
        // user of the same name, which a group listing never settles.
        let names = [
            wanted(FilterKind::Group, "AWS-Admins"),
            wanted(FilterKind::Group, "aws-admins "),
            wanted(FilterKind::Group, "AWS-Ops"),
            wanted(FilterKind::User, "AWS-Admins"),
        ];
        let mut unseen = Unseen::of(&names, FilterKind::Group);
        assert_eq!(unseen.len(), 3);
        let mut found = Vec::new();
        unseen.take("Aws-Admins", |i| found.push(i));
        found.sort_unstable();
        assert_eq!(found, [0, 1]);
        unseen.take("someone-else", |i| found.push(i));
        assert_eq!(found.len(), 2);
        assert!(!unseen.is_empty());
        assert_eq!(unseen.rest().collect::<Vec<_>>(), [2]);
    }
}
