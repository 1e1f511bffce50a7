//! The live scope and ledger, read with the user's AWS credentials. Read-only: only
//! ListSyncFilters (identity-sync; ListGroupMembers of Directory Service Data under
//! the parent-group engine), GetParameter and GetParametersByPath (SSM), and
//! DescribeStacks (CloudFormation: whether the stacks of other records still exist).

use std::time::Duration;

use aws_config::BehaviorVersion;
use syncscope::directory::DirectoryReader;
use syncscope::engine::{Engine, ScopeError};
use syncscope::identity_store::IdentityStoreReader;
use syncscope::identity_sync::client::resolve_endpoint;
use syncscope::identity_sync::{IdentitySyncClient, IdentitySyncError};
use syncscope::parent_group::ParentGroup;
use syncscope::ssm::{Found, ParameterStore, RecordAt};
use syncscope::stacks::{OtherStacks, StackReader};
use syncscope_core::choice;
use syncscope_core::config::Config;
use syncscope_core::directory::DirectoryReport;
use syncscope_core::impact::{Impact, Needs};
use syncscope_core::names::Region;
use syncscope_core::plan::Plan;
use syncscope_core::scope::{CurrentFilter, Ledger, ProfileKey};
use syncscope_core::store;
use syncscope_core::synth::ParameterNames;
use tokio::time::Instant;

/// How long a live listing may take (10,000 filters are 100 pages).
pub const LIST_TIME: Duration = Duration::from_secs(300);

/// The environment variable that points the CLI at another owners' path than the
/// template's default (`OwnersParameter`), as the tests' isolated worlds do.
pub const OWNERS_ENV: &str = "SYNCSCOPE_OWNERS_PARAMETER";

/// Where a config's stack keeps its parameters, as the CLI reads them.
pub fn names_of(config: &Config) -> ParameterNames {
    let mut names = ParameterNames::for_stack(config.general.stack_name.as_str());
    if let Ok(owners) = std::env::var(OWNERS_ENV)
        && !owners.is_empty()
    {
        names.owners = owners;
    }
    names
}

/// The AWS clients of the live modes.
pub struct Clients {
    /// The SDK configuration (the standard chain; endpoint overrides honoured).
    pub sdk: aws_config::SdkConfig,
    /// The identity-sync client for the region of IAM Identity Center.
    pub identity_sync: IdentitySyncClient,
    /// The region of IAM Identity Center (the config's `Region`, else the default).
    pub region: String,
    /// The resource the config names: its sync profile in that region.
    pub key: ProfileKey,
}

impl Clients {
    /// Builds the clients from the environment.
    pub async fn from_env(config: &Config) -> Result<Self, String> {
        let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
        // Answers read up to the Lambda's cap, and an answer without an AWS error code
        // names its status and host (syncscope::http::sdk_error).
        let client = sdk.http_client().map_or_else(
            syncscope::http::answering_default,
            syncscope::http::answering,
        );
        let sdk = sdk.to_builder().http_client(client).build();
        let default_region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or("no AWS region configured: set AWS_REGION (or a region in your AWS profile)")?;
        let region = config
            .general
            .region
            .as_ref()
            .map_or(default_region, |r| r.as_str().to_owned());
        let endpoint = resolve_endpoint(&region, |n| std::env::var(n).ok());
        let identity_sync = IdentitySyncClient::from_sdk_config(&sdk, &region, endpoint)?;
        let key = ProfileKey::new(
            Region::parse(&region).map_err(|e| format!("the AWS region {region:?}: {e}"))?,
            config.sso.sync_profile.clone(),
        );
        Ok(Self {
            sdk,
            identity_sync,
            region,
            key,
        })
    }

    /// What holds the config's scope: the sync profile's filters, or the parent
    /// group's members (read-only here: the CLI never changes them through it).
    pub fn engine(&self, config: &Config) -> Engine {
        match (
            config.sso.engine,
            &config.sso.parent_group,
            &config.sso.directory_id,
        ) {
            (choice::Engine::ParentGroup, Some(group), Some(directory)) => {
                Engine::ParentGroup(ParentGroup::new(
                    &DirectoryReader::new(&self.sdk, &self.region),
                    directory.as_str(),
                    group.as_str(),
                    config.sso.domain.as_str(),
                    "syncscope-cli".to_owned(),
                ))
            }
            _ => Engine::sync_filters(&self.identity_sync, config.sso.sync_profile.as_str()),
        }
    }

    /// The SSM adapter (the deployment's region: where the stack keeps the ledger).
    pub fn parameter_store(&self) -> ParameterStore {
        ParameterStore::new(aws_sdk_ssm::Client::new(&self.sdk))
    }
}

/// Explains an identity-sync error, with the usual cause of a missing profile.
pub fn explain(e: &IdentitySyncError, profile: &str, region: &str) -> String {
    match e {
        IdentitySyncError::Service { status: 404, .. } => format!(
            "{e}\n  the sync profile {profile} does not exist in {region}: run `task bootstrap` (syncscope bootstrap) first, or set SSO.SyncProfileName / general.Region"
        ),
        IdentitySyncError::Service { status: 403, .. } => format!(
            "{e}\n  your credentials may not call identity-sync:ListSyncFilters on the profile (the AWS managed policy AWSIdentitySyncReadOnlyAccess allows it)"
        ),
        _ => e.to_string(),
    }
}

/// Explains an error reading the scope, with the usual causes.
pub fn explain_scope(e: &ScopeError, profile: &str, region: &str) -> String {
    match e {
        ScopeError::IdentitySync(e) => explain(e, profile, region),
        e if e.is_missing() => format!(
            "{}\n  the parent group (or its directory) does not exist: `syncscope bootstrap --engine parent-group` creates the group (see docs/engines.md)",
            e.reason()
        ),
        e => e.reason(),
    }
}

/// What the live read found.
pub struct Live {
    /// The filters in the scope now.
    pub filters: Vec<CurrentFilter>,
    /// Pages read.
    pub pages: usize,
    /// What the listing found worth saying (members left alone).
    pub warnings: Vec<String>,
    /// The ledger (None: not read; `Some(empty)` when there is none yet).
    pub ledger: Option<Ledger>,
    /// The ledger version read, if there was one.
    pub ledger_hash: Option<String>,
    /// What was found where the record belongs.
    pub ledger_found: Found,
    /// The ledger's SSM path.
    pub ledger_path: String,
    /// The other stacks of the profile (read with the ledger).
    pub others: OtherStacks,
    /// What was listed: `sync profile P`, `parent group G in d-…`.
    pub holder: String,
    /// The region of IAM Identity Center.
    pub region: String,
    /// The identity-sync endpoint used.
    pub endpoint: String,
}

impl Live {
    /// A human summary of what was read and from where.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "Live scope of {} ({} at {}): {} filter{} ({} page{} listed)",
            self.holder,
            self.region,
            self.endpoint,
            self.filters.len(),
            if self.filters.len() == 1 { "" } else { "s" },
            self.pages,
            if self.pages == 1 { "" } else { "s" },
        );
        for line in self.warnings.iter().chain(&self.others.warnings) {
            text.push_str(&format!("\nwarning: {line}"));
        }
        for (record, why) in &self.others.dead {
            text.push_str(&format!(
                "\nThe record of stack {} no longer counts ({why}); the next run removes it",
                record.stack
            ));
        }
        if let Found::OtherStack(stack_id) = &self.ledger_found {
            text.push_str(&format!(
                "\nLedger {}: the record of an earlier stack of this name ({stack_id}); this stack does not claim it",
                self.ledger_path
            ));
            return text;
        }
        match (&self.ledger, &self.ledger_hash) {
            (None, _) => text.push_str("\nLedger: from the file given"),
            (Some(l), Some(hash)) => text.push_str(&format!(
                "\nLedger {}: {} managed filter{} (version {})",
                self.ledger_path,
                l.entries.len(),
                if l.entries.len() == 1 { "" } else { "s" },
                store::short(hash)
            )),
            (Some(_), None) => text.push_str(&format!(
                "\nLedger {}: none yet (first run: no filter counts as managed, nothing would be removed in managed mode)",
                self.ledger_path
            )),
        }
        text
    }
}

/// Reads the live scope of the config's profile and, if asked, the ownership record
/// of its stack's resource for that profile (whichever stack of the name wrote it:
/// the CLI does not know the StackId; the description says whose it is).
pub async fn read(config: &Config, with_ledger: bool) -> Result<Live, String> {
    let clients = Clients::from_env(config).await?;
    let profile = config.sso.sync_profile.as_str();
    let names = names_of(config);
    let key = clients.key.clone();
    let deadline = Instant::now() + LIST_TIME;
    let store = clients.parameter_store();
    let stacks = StackReader::new(&clients.sdk);
    let stack = config.general.stack_name.as_str();
    let at = RecordAt {
        owners: &names.owners,
        ledger_base: &names.ledger,
        key: &key,
        stack,
    };
    let engine = clients.engine(config);
    let (listing, ledger) = tokio::join!(engine.list(deadline), async {
        if with_ledger {
            let others = syncscope::stacks::other_stacks(
                &store,
                &stacks,
                &names.owners,
                &key,
                stack,
                Instant::now() + Duration::from_secs(20),
            );
            let (ledger, others) = tokio::join!(store.read_ledger(&at, None, true), others);
            Some(ledger.and_then(|l| Ok((l, others?))))
        } else {
            None
        }
    });
    let listing = listing.map_err(|e| explain_scope(&e, profile, &clients.region))?;
    let (ledger, ledger_hash, ledger_found, others) = match ledger {
        None => (None, None, Found::Nothing, OtherStacks::default()),
        Some(Ok((stored, others))) => (
            Some(stored.ledger.clone()),
            stored.version().map(str::to_owned),
            stored.found.clone(),
            others,
        ),
        Some(Err(e)) => {
            return Err(format!(
                "{e}\n  without the ledger the plan cannot tell which filters this stack manages; pass --ledger FILE to plan from a saved one"
            ));
        }
    };
    Ok(Live {
        filters: listing.filters,
        pages: listing.pages,
        warnings: listing.warnings,
        ledger,
        ledger_hash,
        ledger_found,
        ledger_path: at.path(),
        others,
        holder: engine.holder(),
        region: clients.region.clone(),
        endpoint: match &engine {
            Engine::SyncFilters { client, .. } => client.endpoint().to_owned(),
            Engine::ParentGroup(_) => "Directory Service Data".to_owned(),
        },
    })
}

/// Who loses and who keeps AWS access with `plan`, from the identity store of IAM
/// Identity Center's region (read-only: ListInstances, ListGroups,
/// ListGroupMemberships, GetUserId, DescribeUser, ListGroupMembershipsForMember).
/// None when the plan adds and removes no filter.
pub async fn impact(config: &Config, plan: &Plan) -> Result<Option<Impact>, String> {
    let needs = Needs::of(plan);
    if needs.is_empty() {
        return Ok(None);
    }
    let clients = Clients::from_env(config).await?;
    let reader = IdentityStoreReader::new(&clients.sdk, &clients.region);
    Ok(Some(
        reader
            .impact(
                config.sso.identity_store_id.as_ref().map(|id| id.as_str()),
                plan,
                &needs,
                IMPACT_CONCURRENCY,
                Instant::now() + LIST_TIME,
            )
            .await,
    ))
}

/// The access map's hygiene findings for a plan, and why they are incomplete.
#[derive(Debug, Default)]
pub struct Access {
    /// The findings ([`syncscope_core::docs::plan_findings`]).
    pub findings: Vec<syncscope_core::access::Finding>,
    /// Why the access map is partial, or was not read (a warning of the plan).
    pub warning: Option<String>,
}

/// What the groups of `plan` that the identity store has grant, read as a run's docs
/// read them (ListGroups and member counts, then the access map), turned into the
/// hygiene findings. A read that fails becomes the warning, never an error: the plan
/// stands without its findings.
pub async fn access(config: &Config, plan: &Plan) -> Access {
    let clients = match Clients::from_env(config).await {
        Ok(clients) => clients,
        Err(e) => {
            return Access {
                warning: Some(format!("the access map was not read: {e}")),
                ..Access::default()
            };
        }
    };
    let reader = IdentityStoreReader::new(&clients.sdk, &clients.region);
    let configured = config.sso.identity_store_id.as_ref().map(|id| id.as_str());
    let deadline = Instant::now() + LIST_TIME;
    let mut names: Vec<String> = plan
        .actions
        .iter()
        .filter(|a| a.kind == syncscope_core::scope::FilterKind::Group)
        .map(|a| syncscope_core::names::display_name(&a.name, &a.domain))
        .collect();
    names.sort_by_cached_key(|n| syncscope_core::names::name_key(n));
    names.dedup_by(|a, b| syncscope_core::names::name_key(a) == syncscope_core::names::name_key(b));
    let enriched = reader
        .enrich(configured, names, IMPACT_CONCURRENCY, deadline)
        .await;
    let mut enrichment = enriched.enrichment;
    let principals: Vec<syncscope::access::Principal> = enrichment
        .group_ids()
        .into_iter()
        .map(syncscope::access::Principal::Group)
        .collect();
    let map = reader
        .access(configured, principals, IMPACT_CONCURRENCY, deadline)
        .await;
    let warning = enriched.warnings.first().cloned().or_else(|| {
        map.partial
            .as_ref()
            .map(|why| format!("the access map is partial: {why}"))
    });
    enrichment.access = Some(map);
    Access {
        findings: syncscope_core::docs::plan_findings(plan, &enrichment),
        warning,
    }
}

/// Whether each name the config wants exists in Active Directory (see
/// `syncscope::directory`): None when `SSO.DirectoryCheck` is off or the config wants
/// no name.
pub async fn directory(config: &Config) -> Result<Option<DirectoryReport>, String> {
    let names = config.sso.directory_check.names(&config.desired());
    if names.is_empty() {
        return Ok(None);
    }
    let clients = Clients::from_env(config).await?;
    let deadline = Instant::now() + LIST_TIME;
    let configured = config.sso.directory_id.as_ref().map(|id| id.as_str());
    let profile = config.sso.sync_profile.as_str();
    // As a run does: a directory that cannot be found checks no name (and `require`
    // then refuses what the plan adds).
    let located =
        syncscope::directory::locate(&clients.identity_sync, profile, configured, deadline).await;
    let (id, region) = match located {
        Ok(found) => found,
        Err(why) => return Ok(Some(DirectoryReport::unlocated(&names, &why))),
    };
    Ok(Some(
        DirectoryReader::new(&clients.sdk, &region)
            .check(
                &id,
                config.sso.domain.as_str(),
                names,
                IMPACT_CONCURRENCY,
                deadline,
            )
            .await,
    ))
}

/// Identity store calls in flight at once for the impact.
const IMPACT_CONCURRENCY: usize = 8;

/// The ARN of an IAM Identity Center instance's identity store
/// (`arn:PARTITION:identitystore::OWNER:identitystore/d-...`), in the caller's
/// partition and the instance's owner account (the caller's `account` if it names
/// none).
pub fn identity_store_arn(
    instance: &aws_sdk_ssoadmin::types::InstanceMetadata,
    partition: &str,
    account: &str,
) -> String {
    let id = instance.identity_store_id().unwrap_or_default();
    let owner = instance.owner_account_id().unwrap_or(account);
    format!("arn:{partition}:identitystore::{owner}:identitystore/{id}")
}

/// The IAM Identity Center instance in the clients' region (the one whose identity
/// store is `wanted`, if given), or why there is not exactly one.
pub async fn identity_center(
    clients: &Clients,
    wanted: Option<&str>,
) -> Result<aws_sdk_ssoadmin::types::InstanceMetadata, String> {
    let sso = aws_sdk_ssoadmin::Client::from_conf(
        aws_sdk_ssoadmin::config::Builder::from(&clients.sdk)
            .region(aws_config::Region::new(clients.region.clone()))
            .build(),
    );
    let mut instances = Vec::new();
    let mut pages = sso.list_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "failed to list the IAM Identity Center instances in {} (sso:ListInstances): {}",
                clients.region,
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )
        })?;
        instances.extend(page.instances().iter().cloned());
    }
    let ids = || {
        let ids: Vec<&str> = instances
            .iter()
            .map(|i| i.identity_store_id().unwrap_or("?"))
            .collect();
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    };
    let matching: Vec<_> = instances
        .iter()
        .filter(|i| wanted.is_none_or(|w| i.identity_store_id() == Some(w)))
        .collect();
    match (matching.as_slice(), wanted) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(w)) => Err(format!(
            "no IAM Identity Center instance in {} has the identity store {w} (SSO.IdentityStoreId); found: {}",
            clients.region,
            ids()
        )),
        ([], None) => Err(format!(
            "no IAM Identity Center instance in {}: enable IAM Identity Center first (or set general.Region to its region)",
            clients.region
        )),
        (_, _) => Err(format!(
            "{} IAM Identity Center instances in {} ({}): set SSO.IdentityStoreId or pass --identity-store-arn",
            matching.len(),
            clients.region,
            ids()
        )),
    }
}
