//! Every setting, declared once: its seed-config key, its resource property, its
//! type (which parses, writes and describes it), what its absence means, and its doc
//! line. From this table come:
//!
//! - the `general` and `SSO` sections of [`Config`] and the config walker's readers
//!   (the keys each section knows, so an unknown key is reported with "did you mean");
//! - the resource [`Properties`], their parser ([`parse`]) and writer;
//! - the synthesiser's mapping from a config to the properties
//!   ([`Properties::of_config`]);
//! - `config/schema.json` ([`schema::document`], printed by `syncscope schema`).
//!
//! Adding a setting is adding an entry here (the shape of an entry is in
//! `settings/macros.rs`). A scalar setting needs no more than its keys, its type and
//! its doc line; the config reader, the properties, the template and the schema
//! follow. Settings with a shape of their own keep a hand-written reader (`read:`) and
//! schema fragment (in [`schema`]): the stack name (made of three keys), the webhook
//! hosts (a list in the config, comma-separated as a property), the group and user
//! filters (lists of objects) and the deletion guard (an object in the config, three
//! properties). Properties that are not config settings (the filters' parameter and
//! hash, the ledger and owners paths, the dry-run switch) say how the synthesiser
//! fills them (`synth:`).
//!
//! [`Config`] itself (the two sections and the desired scope) and what the
//! synthesiser knows besides it ([`Context`], [`deployed_webhook`]) are declared here
//! too, so the table imports only what stands below it: the choices, the value types
//! ([`crate::values`]), the config walker ([`crate::walker`]) and the store's
//! parameter names. [`crate::config`], [`crate::properties`] and [`crate::synth`]
//! build on it and re-export what they always offered.

#[macro_use]
mod macros;
pub mod schema;

use serde_json::{Map, Value, json};

use crate::choice::{CardFormat, Engine, OnDelete};
use crate::directory::DirectoryCheck;
use crate::names::{
    BucketName, CiBranches, CiRepository, DirectoryId, DomainName, HttpsUrl, IdentityStoreId,
    KeyPrefix, ParentGroupName, Region, Schedule, StackName, SyncProfileName, WebhookHosts,
    WebhookRef,
};
use crate::plan::{GuardLimits, Mode};
use crate::scope::{Desired, DesiredFilter, FilterKind};
use crate::store::{OWNERS_ROOT, ParameterNames};
use crate::values::{Absent, Count, Line, Property, Sha256Hex, SsmPath, field};
use crate::walker::{Obj, Walker};

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `general`: naming, docs and notification settings.
    pub general: General,
    /// `SSO`: the AD domain and the sync scope.
    pub sso: Sso,
}

impl Config {
    /// The desired scope: every group and user filter, in the config's domain.
    pub fn desired(&self) -> Desired {
        Desired {
            domain: self.sso.domain.clone(),
            filters: self
                .sso
                .groups
                .iter()
                .chain(&self.sso.users)
                .cloned()
                .collect(),
        }
    }
}

/// The webhook reference the template carries: the config's, except a literal URL.
/// A template is read by anyone who may describe the stack (and the drift rule's input
/// by anyone who may read the rule), so a literal URL, a secret, is replaced by the
/// stack's SecureString ([`ParameterNames::webhook`](crate::store::ParameterNames::webhook)), where `task deploy` puts it.
pub fn deployed_webhook(config: &Config, names: &ParameterNames) -> WebhookRef {
    match &config.general.webhook {
        WebhookRef::Literal(_) => WebhookRef::Ssm(names.webhook.clone()),
        other => other.clone(),
    }
}

/// What the synthesiser knows besides the config: where the stack's parameters live
/// and the filters' hash. The settings table's `synth:` mappings read it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Where the parameters live.
    pub names: &'a ParameterNames,
    /// The filters' hash.
    pub filters_hash: &'a str,
}

/// Runs a hand-written config reader (`read:`).
fn custom<T>(
    w: &mut Walker,
    obj: &Obj<'_>,
    read: impl FnOnce(&mut Walker, &Obj<'_>) -> Option<T>,
) -> Option<T> {
    read(w, obj)
}

/// Runs a check after a read (`check:`).
fn check(w: &mut Walker, obj: &Obj<'_>, check: impl FnOnce(&mut Walker, &Obj<'_>)) {
    check(w, obj);
}

/// Runs the synthesiser's mapping of a property (`synth:`).
fn synth_with<T>(
    config: &Config,
    cx: &Context<'_>,
    synth: impl FnOnce(&Config, &Context<'_>) -> T,
) -> T {
    synth(config, cx)
}

/// A config value as the property holds it.
fn lift<T: Clone>(value: &T) -> T {
    value.clone()
}

settings! {
    // ---- general -------------------------------------------------------------------

    /// The product name (required), the middle part of the CloudFormation stack name
    /// {prefix}-{produkt}-{stage}: letters, digits and hyphens. The whole stack name
    /// may be at most 128 characters (checked by the CLI).
    product: String {
        config: (general "produkt" required),
        property: none,
        schema: json!({
            "title": "Product",
            "pattern": "^[A-Za-z0-9-]+$",
            "patternErrorMessage": schema::STACK_PART,
            "examples": ["SSO-AD-GroupSync"],
        }),
    }

    /// The deployment stage (required), the last part of the stack name
    /// {prefix}-{produkt}-{stage}: letters, digits and hyphens.
    stage: String {
        config: (general "stage" required),
        property: ("Stage" required),
        schema: json!({
            "title": "Stage",
            "pattern": "^[A-Za-z0-9-]+$",
            "patternErrorMessage": schema::STACK_PART,
            "examples": ["TEST"],
        }),
    }

    /// The organisation prefix (required), the first part of the stack name
    /// {prefix}-{produkt}-{stage}: letters, digits and hyphens, starting with a letter.
    prefix: String {
        config: (general "prefix" required),
        property: none,
        schema: json!({
            "title": "Prefix",
            "pattern": "^[A-Za-z][A-Za-z0-9-]*$",
            "patternErrorMessage": "Letters, digits and hyphens only, starting with a letter: it is part of the CloudFormation stack name {prefix}-{produkt}-{stage}.",
            "examples": ["COMPANY"],
        }),
    }

    /// The stack name, {prefix}-{produkt}-{stage}.
    stack_name: StackName {
        config: (general derived),
        property: none,
        read: |w, obj| {
            let (prefix, product, stage) = (prefix.as_ref()?, product.as_ref()?, stage.as_ref()?);
            w.stack_name(obj, prefix, product, stage)
        },
    }

    /// The S3 bucket the documentation page is published to (required). S3 general
    /// purpose bucket naming rules: 3 to 63 lowercase letters, digits, dots and
    /// hyphens; begins and ends with a letter or digit; no two adjacent periods; not
    /// formatted as an IP address; not starting with xn--, sthree- or amzn-s3-demo-;
    /// not ending with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3.
    docs_bucket: BucketName {
        config: (general "s3_DOKUBUCKET" required),
        property: ("DocsBucket" optional),
        schema: json!({ "title": "Documentation bucket", "examples": ["company-sso-docs"] }),
    }

    /// Where the Microsoft Teams webhook URL comes from (required). Prefer a
    /// reference, so the secret is not in git: "ssm:/name" (an SSM parameter, normally
    /// a SecureString; the name starts with / and may not begin with /aws or /ssm) or
    /// a Secrets Manager secret ARN. A literal https URL still works (on a Microsoft
    /// webhook host, or one listed in WebhookHosts), but the CLI warns that the secret
    /// is kept in git; task deploy stores it in the SSM SecureString
    /// /syncscope/STACK/teams-webhook and the template names only that.
    webhook: WebhookRef {
        config: (general "WebhookUrlTeams" required),
        property: ("TeamsWebhook" optional),
        // A literal URL is a secret: the template names the stack's SecureString.
        synth: |config, cx| Some(deployed_webhook(config, cx.names)),
        schema: json!({
            "title": "Teams webhook",
            "examples": [
                "ssm:/company/sso/teams-webhook",
                "arn:aws:secretsmanager:eu-central-1:123456789012:secret:teams-webhook-AbCdEf"
            ],
        }),
    }

    /// Hosts besides Microsoft's that the Teams card may be posted to (optional), e.g.
    /// a proxy you trust. The card goes only to webhook.office.com,
    /// outlook.office.com, outlook.office365.com, logic.azure.com, powerplatform.com
    /// (each with its subdomains) and to the hosts listed here (each with its
    /// subdomains): DNS names without scheme, port or path.
    webhook_hosts: WebhookHosts {
        config: (general "WebhookHosts" default),
        property: ("WebhookHosts" optional),
        // A list in the config, comma-separated as a property.
        read: |w, obj| w.webhook_hosts(obj),
        check: |w, obj| w.literal_webhook(&webhook, &webhook_hosts, obj),
        synth: |config, _| {
            let hosts = &config.general.webhook_hosts;
            (!hosts.extra().is_empty()).then(|| hosts.clone())
        },
        schema: schema::webhook_hosts(),
    }

    /// The page the Teams card's button opens (required): an absolute https URL with a
    /// host name and no spaces.
    docs_website: HttpsUrl {
        config: (general "DocuWebsite" required),
        property: ("DocsWebsite" optional),
        schema: json!({
            "title": "Documentation website",
            "examples": ["https://wiki.example.com/aws/sso-groups"],
        }),
    }

    /// The title of the published documentation page (optional; default "AWS sign-in
    /// groups: " and the stage): one line, at most 120 characters.
    docs_title: Line<120> {
        config: (general "DocsTitle" optional),
        property: ("DocsTitle" optional),
        schema: json!({ "title": "Documentation page title", "examples": ["Who can sign in to AWS"] }),
    }

    /// The AWS region of IAM Identity Center (optional; default: the region the stack
    /// is deployed in).
    region: Region {
        config: (general "Region" optional),
        property: ("Region" optional),
        schema: json!({ "title": "Region", "examples": ["eu-central-1", "us-gov-west-1"] }),
    }

    /// The S3 key prefix the documentation is published under (optional, default
    /// "sso", where the seed published its page): segments of letters, digits, - _ .
    /// separated by /; leading and trailing / are ignored; at most 256 characters.
    docs_prefix: KeyPrefix {
        config: (general "DocsPrefix" default),
        property: ("DocsPrefix" default),
        default: KeyPrefix::docs_default(),
        schema: json!({
            "title": "Documentation key prefix",
            "examples": ["sso", "docs/identity-center"],
        }),
    }

    /// The format of the Teams message (optional): "AdaptiveCard" (default; a
    /// Workflows webhook) or "MessageCard" (a legacy Office 365 connector).
    card_format: CardFormat {
        config: (general "TeamsCardFormat" default),
        property: ("TeamsCardFormat" default),
        default: CardFormat::default(),
        schema: json!({ "title": "Teams card format" }),
    }

    /// Run a report-only reconcile on this EventBridge schedule (optional; default:
    /// none). "rate(N unit)" with unit minute(s), hour(s) or day(s) (singular only for
    /// 1, at least 15 minutes), or "cron(...)" with six fields (minutes hours
    /// day-of-month month day-of-week year).
    drift_schedule: Schedule {
        config: (general "DriftSchedule" optional),
        property: none,
        schema: json!({
            "title": "Drift schedule",
            "examples": ["rate(6 hours)", "cron(0 6 * * ? *)"],
        }),
    }

    /// The GitHub repository (owner/name, as GitHub spells it: the token's subject is
    /// compared exactly) whose Actions runs may assume the read-only plan role that
    /// `syncscope synth --plan-role` writes (optional; required by --plan-role).
    /// Pull-request runs and runs on CiBranches may assume it, through the account's
    /// OIDC provider for token.actions.githubusercontent.com.
    ci_repository: CiRepository {
        config: (general "CiRepository" optional),
        property: none,
        schema: json!({ "title": "CI repository", "examples": ["acme/sso-config"] }),
    }

    /// The branches of CiRepository whose runs (a push, a schedule, a manual run) may
    /// assume the plan role besides pull-request runs (optional; default ["main"]; []
    /// for pull requests only): names such as main or release/2025, matched exactly
    /// (no wildcards).
    ci_branches: CiBranches {
        config: (general "CiBranches" default),
        property: none,
        read: |w, obj| w.ci_branches(obj),
        check: |w, obj| w.ci_branches_unused(&ci_repository, obj),
        schema: schema::ci_branches(),
    }

    // ---- SSO -----------------------------------------------------------------------

    /// The fully qualified DNS name of the Active Directory domain (required): at
    /// least two labels of 1 to 63 letters, digits or hyphens (not starting or ending
    /// with a hyphen), at most 253 characters.
    domain: DomainName {
        config: (SSO "ad_DomainName" required),
        property: ("AdDomainName" required),
        schema: json!({ "title": "AD domain", "examples": ["corp.example.com"] }),
    }

    /// The AD groups to synchronise (required; may be empty, which the CLI warns
    /// about). Each entry is an object with a Name and an optional Description. The
    /// sync scope is kept equal to this list (see Mode). Groups and users together: at
    /// most 10000 filters.
    groups: Vec<DesiredFilter> {
        config: (SSO "GroupFilters" required),
        property: none,
        read: |w, obj| w.filter_list(obj, FilterKind::Group),
        schema: schema::filters(FilterKind::Group),
    }

    /// Individual AD users to synchronise (optional, default none), same shape as
    /// GroupFilters. A user and a group may share a name. Groups and users together:
    /// at most 10000 filters.
    users: Vec<DesiredFilter> {
        config: (SSO "UserFilters" default),
        property: none,
        read: |w, obj| w.filter_list(obj, FilterKind::User),
        check: |w, obj| w.filter_count(&groups, &users, obj),
        schema: schema::filters(FilterKind::User),
    }

    /// The name of the IAM Identity Center identity-sync profile (optional; default:
    /// the one the console creates, "SynchronizationToActiveDirectoryAwsSso"): 1 to
    /// 128 letters, digits, _ - or .
    sync_profile: SyncProfileName {
        config: (SSO "SyncProfileName" default),
        property: ("SyncProfileName" default),
        default: SyncProfileName::default(),
        schema: json!({
            "title": "Sync profile",
            "examples": ["SynchronizationToActiveDirectoryAwsSso"],
        }),
    }

    /// The identity store id (optional; default: looked up with sso-admin): "d-" and
    /// 10 lowercase hexadecimal digits.
    identity_store_id: IdentityStoreId {
        config: (SSO "IdentityStoreId" optional),
        property: ("IdentityStoreId" optional),
        schema: json!({ "title": "Identity store id", "examples": ["d-1234567890"] }),
    }

    /// Which filters syncscope may remove (optional): "managed" (default) removes only
    /// filters this config added; "authoritative" makes the scope exactly this file,
    /// removing filters added elsewhere too.
    mode: Mode {
        config: (SSO "Mode" default),
        property: ("Mode" default),
        default: Mode::default(),
        schema: json!({ "title": "Mode" }),
    }

    /// What deleting the stack does to the sync scope (optional): "retain" (default)
    /// leaves it as it is; "remove" removes the filters this stack manages.
    on_delete: OnDelete {
        config: (SSO "OnDelete" default),
        property: ("OnDelete" default),
        default: OnDelete::default(),
        schema: json!({ "title": "On delete" }),
    }

    /// The most one run may remove; a run that would remove more is refused (optional;
    /// defaults below). Unknown keys are ignored by the CLI with a warning (with a
    /// "did you mean" hint); this schema flags them.
    guard: GuardLimits {
        config: (SSO "DeletionGuard" default),
        property: none,
        // An object in the config; three properties (MaxRemovals, ... below).
        read: |w, obj| w.guard(obj),
        schema: schema::deletion_guard(),
    }

    /// How the sync scope is changed (optional): "sync-filters" (default) puts each
    /// group and user in the sync scope as a filter of its own, through identity-sync
    /// (any AD source); "parent-group" keeps one parent group (SSO.ParentGroup) in the
    /// scope and makes each group and user a member of it, through AWS Directory
    /// Service Data (AWS Managed Microsoft AD only; needs SSO.DirectoryId).
    engine: Engine {
        config: (SSO "Engine" default),
        property: ("Engine" default),
        default: Engine::default(),
        schema: json!({ "title": "Engine" }),
    }

    /// Whether every configured name must exist in Active Directory, checked with AWS
    /// Directory Service Data (optional; AWS Managed Microsoft AD with directory data
    /// access enabled): "warn" (default) reports names not in AD and still syncs them;
    /// "require" refuses a change that wants a name not in AD, before anything
    /// changes; "off" never asks the directory.
    directory_check: DirectoryCheck {
        config: (SSO "DirectoryCheck" default),
        property: ("DirectoryCheck" default),
        default: DirectoryCheck::default(),
        schema: json!({ "title": "Directory check" }),
    }

    /// The directory the names are checked in (optional; default: the sync profile's
    /// source directory). Setting it narrows the function's permission to this one
    /// directory.
    directory_id: DirectoryId {
        config: (SSO "DirectoryId" optional),
        property: ("DirectoryId" optional),
        check: |w, obj| w.directory_id_unused(engine, directory_check, &directory_id, obj),
        schema: json!({ "title": "Directory id", "examples": ["d-1234567890"] }),
    }

    /// The parent sync group's sAMAccountName (required with the "parent-group"
    /// engine, which manages its direct members): the one group in the sync scope.
    /// `syncscope bootstrap --engine parent-group` creates it and puts it there.
    parent_group: ParentGroupName {
        config: (SSO "ParentGroup" optional),
        property: ("ParentGroup" optional),
        check: |w, obj| w.parent_group(engine, &parent_group, &directory_id, (&groups, &users), obj),
        schema: json!({
            "title": "Parent group",
            "examples": ["IAMIdentityCenterAllUsersAndGroups"],
        }),
    }

    // ---- properties the synthesiser fills, not config settings ---------------------

    /// The SSM parameter, or path of shards, holding the filters.
    filters_parameter: SsmPath {
        config: none,
        property: ("FiltersParameter" required),
        synth: |_, cx| cx.names.filters_version(cx.filters_hash).into(),
    }

    /// The SHA-256 of the filters, so every config change is an Update.
    filters_hash: Sha256Hex {
        config: none,
        property: ("FiltersHash" optional),
        synth: |_, cx| Some(cx.filters_hash.to_owned().into()),
    }

    /// The SSM path of the stack's ledgers (before they moved to `OwnersParameter`:
    /// read until the next write moves them).
    ledger_parameter: SsmPath {
        config: none,
        property: ("LedgerParameter" required),
        synth: |_, cx| cx.names.ledger.clone().into(),
    }

    /// The SSM path under which every stack of a sync profile keeps its ownership
    /// record (`OWNERS/REGION/PROFILE/STACK`), so each sees the others'.
    owners_parameter: SsmPath {
        config: none,
        property: ("OwnersParameter" default),
        default: SsmPath::from(OWNERS_ROOT.to_owned()),
        synth: |_, cx| cx.names.owners.clone().into(),
    }

    /// The deletion guard's count limit (`SSO.DeletionGuard.MaxRemovals`).
    max_removals: Count<{ u32::MAX }> {
        config: none,
        property: ("MaxRemovals" default),
        default: Count(GuardLimits::default().max_removals),
        synth: |config, _| Count(config.sso.guard.max_removals),
    }

    /// The deletion guard's share limit (`SSO.DeletionGuard.MaxRemovalPercent`).
    max_removal_percent: Count<100> {
        config: none,
        property: ("MaxRemovalPercent" default),
        default: Count(GuardLimits::default().max_removal_percent),
        synth: |config, _| Count(config.sso.guard.max_removal_percent),
    }

    /// The people guard's limit (`SSO.DeletionGuard.MaxUsersLosingAccess`; none: no
    /// limit).
    max_users_losing_access: Count<{ u32::MAX }> {
        config: none,
        property: ("MaxUsersLosingAccess" optional),
        synth: |config, _| config.sso.guard.max_users_losing_access.map(Count),
    }

    /// Plan and report, change nothing (set on the resource by hand; a config never
    /// deploys a dry run).
    dry_run: bool {
        config: none,
        property: ("DryRun" default),
        default: false,
        synth: |_, _| false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_section_reads_exactly_the_keys_its_schema_describes() {
        for (keys, (properties, _)) in [(GENERAL_KEYS, general_schema()), (SSO_KEYS, sso_schema())]
        {
            let mut keys = keys.to_vec();
            keys.sort_unstable();
            let described: Vec<&str> = properties.keys().map(String::as_str).collect();
            assert_eq!(described, keys);
        }
    }

    #[test]
    fn the_required_keys_are_the_seeds() {
        assert_eq!(
            general_schema().1,
            [
                "produkt",
                "stage",
                "prefix",
                "s3_DOKUBUCKET",
                "WebhookUrlTeams",
                "DocuWebsite"
            ]
        );
        assert_eq!(sso_schema().1, ["ad_DomainName", "GroupFilters"]);
    }

    #[test]
    fn a_setting_without_a_key_of_its_own_is_not_in_the_schema() {
        let (general, _) = general_schema();
        assert!(!general.contains_key("stack_name") && !general.contains_key("StackName"));
        assert!(!KEYS.contains(&"produkt") && !KEYS.contains(&"DriftSchedule"));
    }

    #[test]
    fn the_synthesised_properties_read_back_as_the_config_says() {
        let text = include_str!("../../../tests/fixtures/config/valid/all-options.json");
        let config = crate::config::parse(text).unwrap().config;
        let names = ParameterNames::for_stack(config.general.stack_name.as_str());
        let hash = "ab".repeat(32);
        let cx = Context {
            names: &names,
            filters_hash: &hash,
        };
        let props = parse(&Properties::of_config(&config, &cx).to_map()).unwrap();
        let (general, sso) = (&config.general, &config.sso);
        assert_eq!(props.stage, general.stage);
        assert_eq!(props.docs_bucket.as_ref(), Some(&general.docs_bucket));
        assert_eq!(props.docs_prefix, general.docs_prefix);
        assert_eq!(props.docs_title, general.docs_title);
        assert_eq!(props.region, general.region);
        assert_eq!(props.card_format, general.card_format);
        assert_eq!(props.webhook_hosts.as_ref(), Some(&general.webhook_hosts));
        assert_eq!(props.domain, sso.domain);
        assert_eq!(props.mode, sso.mode);
        assert_eq!(props.on_delete, sso.on_delete);
        assert_eq!(props.guard(), sso.guard);
        assert_eq!(props.directory_check, sso.directory_check);
        assert_eq!(props.directory_id, sso.directory_id);
        assert_eq!(props.engine, sso.engine);
        assert_eq!(props.parent_group, sso.parent_group);
        assert!(props.missing_together().is_empty());
        assert_eq!(props.identity_store_id, sso.identity_store_id);
        assert_eq!(
            props.filters_hash.as_ref().map(|h| h.as_str()),
            Some(&*hash)
        );
        assert!(!props.dry_run);
    }
}
