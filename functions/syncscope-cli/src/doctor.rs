//! `syncscope doctor`: read-only checks of everything a run needs, with the user's own
//! credentials, one line per check: `ok`, `FAIL` (with the fix) or `skip` (a check it
//! depends on failed, so a broken setup shows one red line, not ten).
//!
//! Every identity-sync answer is also checked against the documented contract
//! (docs/identity-sync-api.md): each difference prints as a `contract difference`
//! line, and `--capture DIR` writes every exchange to files a user can attach to a bug
//! report (no request headers, so no signature or session token; signing echoes and
//! secrets cut out of the bodies).
//!
//! Nothing is written anywhere, except a Teams test card with `--post-test-card`. (The
//! parent-group engine's write permissions are probed with a member name AD does not
//! have, which changes nothing.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use aws_smithy_types::error::display::DisplayErrorContext;
use serde_json::{Value, json};
use syncscope::directory::DirectoryReader;
use syncscope::identity_sync::{Exchange, IdentitySyncClient, wire};
use syncscope::parent_group::ParentGroup;
use syncscope::ssm::{Found, ParameterStore};
use syncscope::teams::TeamsNotifier;
use syncscope_core::arn::Arn;
use syncscope_core::choice::Engine;
use syncscope_core::config::{CardFormat, Config};
use syncscope_core::directory::{AdStatus, DirectoryCheck, Wanted};
use syncscope_core::names::WebhookRef;
use syncscope_core::plan::{Action, Op};
use syncscope_core::scope::FilterKind;
use syncscope_core::store;
use syncscope_core::synth::ParameterNames;
use tokio::time::Instant;

use crate::live::{self, Clients};

/// How long one identity-sync answer may take.
const CALL_TIME: Duration = Duration::from_secs(20);

/// What `syncscope doctor` was asked.
pub struct Request<'a> {
    /// The parsed config.
    pub config: &'a Config,
    /// The sync target's name.
    pub target_name: &'a str,
    /// Write every identity-sync exchange here.
    pub capture: Option<&'a Path>,
    /// Post a test card to the Teams webhook.
    pub post_test_card: bool,
}

/// A check's result.
enum Check {
    /// Fine, with what was found.
    Ok(String),
    /// Broken: what was found, and the fix.
    Fail(String, String),
    /// Not run: a check it needs failed.
    Skip(String),
}

/// The report being printed: counts, contract differences, captured exchanges.
struct Doctor<'a> {
    failed: usize,
    checks: usize,
    differences: BTreeSet<String>,
    capture: Option<&'a Path>,
    captured: usize,
    secrets: Vec<String>,
}

impl Doctor<'_> {
    fn report(&mut self, name: &str, check: Check) -> bool {
        self.checks += 1;
        match check {
            Check::Ok(found) => {
                println!("ok    {name}: {found}");
                true
            }
            Check::Fail(found, fix) => {
                self.failed += 1;
                println!(
                    "FAIL  {name}: {}\n      fix: {}",
                    self.redact(&found),
                    self.redact(&fix)
                );
                false
            }
            Check::Skip(why) => {
                println!("skip  {name}: {why}");
                false
            }
        }
    }

    /// Removes what must never be printed or captured: known secret values, and the
    /// canonical request a signature error echoes (it quotes the signed headers).
    fn redact(&self, text: &str) -> String {
        let kept = wire::without_signing_echo(text);
        let mut text = if kept.len() < text.len() {
            format!("{kept} [signing details removed]")
        } else {
            text.to_owned()
        };
        for secret in self.secrets.iter().filter(|s| s.len() >= 8) {
            text = text.replace(secret.as_str(), "[removed]");
        }
        text
    }

    /// One signed identity-sync request, checked against the contract and captured.
    async fn exchange(
        &mut self,
        client: &IdentitySyncClient,
        request: &wire::Request,
    ) -> Result<Exchange, String> {
        let answer = client
            .exchange(request, CALL_TIME)
            .await
            .map_err(|e| e.to_string())?;
        let differences = wire::contract_differences(
            request.operation,
            answer.status,
            answer.error_type.as_deref(),
            &answer.body,
        );
        self.differences.extend(differences);
        if let Some(dir) = self.capture {
            self.captured += 1;
            let body = String::from_utf8_lossy(&answer.body);
            let body = serde_json::from_str::<Value>(&body)
                .map(|v| Value::String(self.redact(&v.to_string())))
                .unwrap_or_else(|_| Value::String(self.redact(&body)));
            let file = json!({
                "operation": request.operation.name(),
                "request": {
                    "method": request.method.as_str(),
                    "path_and_query": request.path_and_query(),
                    "body": request.body.as_deref().map(String::from_utf8_lossy),
                },
                "response": {
                    "status": answer.status,
                    "x-amzn-ErrorType": answer.error_type,
                    "body": body,
                },
            });
            let path = dir.join(format!(
                "{:03}-{}.json",
                self.captured,
                request.operation.name()
            ));
            let text = serde_json::to_string_pretty(&file).unwrap_or_default();
            std::fs::write(&path, text + "\n")
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(answer)
    }
}

/// Runs every check; exit code 1 when one failed.
pub async fn run(request: &Request<'_>) -> ExitCode {
    if let Some(dir) = request.capture
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut doctor = Doctor {
        failed: 0,
        checks: 0,
        differences: BTreeSet::new(),
        capture: request.capture,
        captured: 0,
        secrets: secrets_in_env(),
    };
    let config = request.config;
    println!(
        "syncscope doctor: read-only checks for stack {} (sync profile {})",
        config.general.stack_name, config.sso.sync_profile
    );
    checks(&mut doctor, request).await;
    for difference in &doctor.differences {
        println!("contract difference: {}", doctor.redact(difference));
    }
    if let Some(dir) = request.capture {
        println!(
            "captured {} identity-sync exchange{} in {}",
            doctor.captured,
            if doctor.captured == 1 { "" } else { "s" },
            dir.display()
        );
    }
    if doctor.failed == 0 {
        println!("Doctor: {} checks, all ok.", doctor.checks);
        ExitCode::SUCCESS
    } else {
        println!(
            "Doctor: {} of {} checks failed; fix the first one first.",
            doctor.failed, doctor.checks
        );
        ExitCode::FAILURE
    }
}

/// The secret parts of the credentials the SDK's chain resolves (none if it cannot).
async fn resolved_secrets(sdk: &aws_config::SdkConfig) -> Vec<String> {
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = sdk.credentials_provider() else {
        return Vec::new();
    };
    match provider.provide_credentials().await {
        Ok(credentials) => [
            Some(credentials.secret_access_key().to_owned()),
            credentials.session_token().map(str::to_owned),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Err(_) => Vec::new(),
    }
}

/// The credential values of the environment (never printed or captured).
fn secrets_in_env() -> Vec<String> {
    ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .collect()
}

async fn checks(doctor: &mut Doctor<'_>, request: &Request<'_>) {
    let config = request.config;
    let profile = config.sso.sync_profile.as_str();

    // The region (and with it the clients).
    let clients = match Clients::from_env(config).await {
        Ok(clients) => clients,
        Err(e) => {
            doctor.report(
                "region",
                Check::Fail(e, "set AWS_REGION, or general.Region in the config".into()),
            );
            return;
        }
    };
    // The credentials the chain resolved, whatever their source (environment, a
    // profile's file, SSO, a role): never printed or captured, even where a server
    // echoes them outside the signed-request echo the redaction also cuts.
    doctor.secrets.extend(resolved_secrets(&clients.sdk).await);
    let region = clients.region.clone();
    let from = if config.general.region.is_some() {
        "general.Region"
    } else {
        "the environment"
    };
    doctor.report(
        "region",
        Check::Ok(format!(
            "{region} (from {from}); identity-sync at {}",
            clients.identity_sync.endpoint()
        )),
    );

    // Credentials.
    let sts = aws_sdk_sts::Client::new(&clients.sdk);
    let (credentials, partition, account) = match sts.get_caller_identity().send().await {
        Ok(who) => (
            Check::Ok(format!(
                "{} (account {})",
                who.arn().unwrap_or("?"),
                who.account().unwrap_or("?")
            )),
            who.arn()
                .and_then(Arn::parse)
                .map_or("aws", |a| a.partition)
                .to_owned(),
            who.account().unwrap_or_default().to_owned(),
        ),
        Err(e) => (
            Check::Fail(
                format!("sts:GetCallerIdentity failed: {}", DisplayErrorContext(&e)),
                "configure credentials: AWS_PROFILE (and `aws sso login` for an SSO profile), or the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables".into(),
            ),
            String::new(),
            String::new(),
        ),
    };
    if !doctor.report("credentials", credentials) {
        return;
    }

    // IAM Identity Center.
    let wanted = config.sso.identity_store_id.as_ref().map(|i| i.as_str());
    let (instance, store_arn, instance_arn) = match live::identity_center(&clients, wanted).await {
        Ok(instance) => (
            Check::Ok(format!(
                "instance {}, identity store {}",
                instance.instance_arn().unwrap_or("?"),
                instance.identity_store_id().unwrap_or("?")
            )),
            instance
                .identity_store_id()
                .is_some()
                .then(|| live::identity_store_arn(&instance, &partition, &account)),
            instance.instance_arn().map(str::to_owned),
        ),
        Err(e) => (
            Check::Fail(
                e,
                "set general.Region to the region of IAM Identity Center (and SSO.IdentityStoreId when there are several instances)".into(),
            ),
            None,
            None,
        ),
    };
    let identity_center = doctor.report("IAM Identity Center", instance);
    access_map(doctor, &clients, instance_arn.as_deref()).await;

    // identity-sync: the profile, its target, both listings.
    let client = &clients.identity_sync;
    let (profile_ok, source) = if identity_center {
        let (check, source) = sync_profile(doctor, client, profile, &region).await;
        (
            doctor.report(&format!("sync profile {profile}"), check),
            source,
        )
    } else {
        doctor.report(
            &format!("sync profile {profile}"),
            Check::Skip("needs IAM Identity Center in this region".into()),
        );
        (false, None)
    };
    let target = format!("sync target {}", request.target_name);
    if profile_ok {
        // The directory the profile syncs from (else the config's): a short target
        // form may carry its id (docs/identity-sync-api.md).
        let directory = source
            .as_deref()
            .and_then(Arn::parse)
            .filter(|a| a.service == "ds")
            .map(|a| a.resource_id().to_owned())
            .or_else(|| {
                config
                    .sso
                    .directory_id
                    .as_ref()
                    .map(|d| d.as_str().to_owned())
            })
            .unwrap_or_default();
        let store = store_arn.as_deref().map(|arn| (arn, directory.as_str()));
        let check = sync_target(doctor, client, profile, request.target_name, store).await;
        doctor.report(&target, check);
        for kind in [FilterKind::Group, FilterKind::User] {
            let check = listing(doctor, client, profile, kind).await;
            doctor.report(&format!("{} filters", kind.noun()), check);
        }
    } else {
        for name in [target, "group filters".into(), "user filters".into()] {
            doctor.report(&name, Check::Skip("needs the sync profile".into()));
        }
    }

    // The directory check's access to the directory (one question).
    let check = if profile_ok {
        directory(&clients, config).await
    } else {
        Check::Skip("needs the sync profile".into())
    };
    doctor.report("directory data", check);

    // The parent-group engine: the group, its members, its filter, and the two writes.
    if config.sso.engine == Engine::ParentGroup {
        parent_group(doctor, &clients, config, profile_ok).await;
    }

    // The stack's SSM parameters: the filters of this config, the ledger.
    let store = clients.parameter_store();
    let names = crate::live::names_of(config);
    let check = deployed_filters(&store, &names, config).await;
    doctor.report("stack filters (SSM)", check);
    let key = clients.key.clone();
    let at = syncscope::ssm::RecordAt {
        owners: &names.owners,
        ledger_base: &names.ledger,
        key: &key,
        stack: config.general.stack_name.as_str(),
    };
    let check = match store.read_ledger(&at, None, true).await {
        Ok(stored) => Check::Ok(match &stored.found {
            Found::OtherStack(stack) => format!(
                "{}: the record of an earlier stack of this name ({stack}); this stack claims nothing from it",
                stored.path
            ),
            _ if stored.version().is_none() => {
                format!("{}: none yet (no run has recorded ownership)", stored.path)
            }
            _ => format!(
                "{}: {} managed filter{}",
                stored.path,
                stored.ledger.entries.len(),
                if stored.ledger.entries.len() == 1 { "" } else { "s" }
            ),
        }),
        Err(e) => Check::Fail(
            e.to_string(),
            "the next run settles a damaged ledger only if it can read it: check ssm:GetParameter(s)ByPath on /syncscope/*, or restore the parameter".into(),
        ),
    };
    doctor.report("ledger (SSM)", check);

    // The docs bucket, without writing.
    let bucket = config.general.docs_bucket.as_str();
    let s3 = aws_sdk_s3::Client::new(&clients.sdk);
    let check = match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Check::Ok(format!("{bucket} reachable (nothing written)")),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let (found, fix) = match status {
                Some(404) => (
                    format!("{bucket} does not exist"),
                    "create it, deploy with --create-docs-bucket (`syncscope synth --create-docs-bucket`), or set general.s3_DOKUBUCKET to an existing bucket",
                ),
                Some(403) => (
                    format!("{bucket}: access denied"),
                    "grant s3:ListBucket on it to check it (the Lambda's role gets s3:PutObject from the stack)",
                ),
                _ => (
                    format!("{bucket}: {}", DisplayErrorContext(&e)),
                    "check the bucket name and the network",
                ),
            };
            Check::Fail(found, fix.into())
        }
    };
    doctor.report("docs bucket", check);

    // The Teams webhook reference.
    let check = webhook(&clients, config, request.post_test_card).await;
    doctor.report("Teams webhook", check);
}

/// The access map's reads, one line each: the permission sets, one set's details,
/// its accounts and their assignments, a principal's assignments (probed with an id
/// no principal has: allowed unless access is denied), and the accounts' names.
async fn access_map(doctor: &mut Doctor<'_>, clients: &Clients, instance: Option<&str>) {
    const FIX: &str = "grant it to whoever runs plan and to the function (the stack's ReadAccessMap statement; the plan role has it); without it the impact names no account or permission set";
    let line = |action: &str| format!("access map ({action})");
    let failed = |action: &str, e: String| Check::Fail(format!("{action} failed: {e}"), FIX.into());
    let Some(instance) = instance else {
        for action in ACCESS_READS {
            doctor.report(
                &line(action),
                Check::Skip("needs IAM Identity Center".into()),
            );
        }
        return;
    };
    let admin = aws_sdk_ssoadmin::Client::new(&clients.sdk);
    let sets = admin
        .list_permission_sets()
        .instance_arn(instance)
        .send()
        .await;
    let first = match sets {
        Ok(out) => {
            let sets = out.permission_sets();
            doctor.report(
                &line(ACCESS_READS[0]),
                Check::Ok(format!(
                    "{} permission set(s) on the first page",
                    sets.len()
                )),
            );
            sets.first().cloned()
        }
        Err(e) => {
            doctor.report(
                &line(ACCESS_READS[0]),
                failed(ACCESS_READS[0], DisplayErrorContext(&e).to_string()),
            );
            None
        }
    };
    match &first {
        None => {
            for action in &ACCESS_READS[1..4] {
                doctor.report(
                    &line(action),
                    Check::Skip("no permission set to ask about".into()),
                );
            }
        }
        Some(set) => {
            let described = admin
                .describe_permission_set()
                .instance_arn(instance)
                .permission_set_arn(set)
                .send()
                .await;
            let check = match described {
                Ok(out) => Check::Ok(format!(
                    "{} described",
                    out.permission_set().and_then(|p| p.name()).unwrap_or(set)
                )),
                Err(e) => failed(ACCESS_READS[1], DisplayErrorContext(&e).to_string()),
            };
            doctor.report(&line(ACCESS_READS[1]), check);
            let accounts = admin
                .list_accounts_for_provisioned_permission_set()
                .instance_arn(instance)
                .permission_set_arn(set)
                .send()
                .await;
            let account = match accounts {
                Ok(out) => {
                    doctor.report(
                        &line(ACCESS_READS[2]),
                        Check::Ok(format!(
                            "{} account(s) on the first page",
                            out.account_ids().len()
                        )),
                    );
                    out.account_ids().first().cloned()
                }
                Err(e) => {
                    doctor.report(
                        &line(ACCESS_READS[2]),
                        failed(ACCESS_READS[2], DisplayErrorContext(&e).to_string()),
                    );
                    None
                }
            };
            let check = match account {
                None => Check::Skip("no account provisioned with the first permission set".into()),
                Some(account) => match admin
                    .list_account_assignments()
                    .instance_arn(instance)
                    .account_id(&account)
                    .permission_set_arn(set)
                    .send()
                    .await
                {
                    Ok(out) => Check::Ok(format!(
                        "{} assignment(s) on the first page",
                        out.account_assignments().len()
                    )),
                    Err(e) => failed(ACCESS_READS[3], DisplayErrorContext(&e).to_string()),
                },
            };
            doctor.report(&line(ACCESS_READS[3]), check);
        }
    }
    let probe = admin
        .list_account_assignments_for_principal()
        .instance_arn(instance)
        .principal_id("00000000-0000-0000-0000-000000000000")
        .principal_type(aws_sdk_ssoadmin::types::PrincipalType::Group)
        .send()
        .await;
    let check = match probe {
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_access_denied_exception()) =>
        {
            failed(ACCESS_READS[4], DisplayErrorContext(&e).to_string())
        }
        _ => Check::Ok("allowed (probed with a principal id nobody has)".into()),
    };
    doctor.report(&line(ACCESS_READS[4]), check);
    let organizations = aws_sdk_organizations::Client::new(&clients.sdk);
    let check = match organizations.list_accounts().send().await {
        Ok(out) => Check::Ok(format!("{} account name(s) on the first page", out.accounts().len())),
        Err(e) => Check::Fail(
            format!("{} failed: {}", ACCESS_READS[5], DisplayErrorContext(&e)),
            "grant organizations:ListAccounts (the stack's NameAccounts statement), or accept account ids without names in the docs, the card and the plan".into(),
        ),
    };
    doctor.report(&line(ACCESS_READS[5]), check);
}

/// The access map's reads, in the order doctor checks them.
const ACCESS_READS: [&str; 6] = [
    "sso:ListPermissionSets",
    "sso:DescribePermissionSet",
    "sso:ListAccountsForProvisionedPermissionSet",
    "sso:ListAccountAssignments",
    "sso:ListAccountAssignmentsForPrincipal",
    "organizations:ListAccounts",
];

/// The parent-group engine's lines: the group exists, its members can be listed, it
/// is in the sync scope, and the two writes the stack's function makes are allowed
/// (each probed with a member name AD does not have, so nothing changes: the answer
/// is "not found" when allowed, "access denied" when not).
async fn parent_group(
    doctor: &mut Doctor<'_>,
    clients: &Clients,
    config: &Config,
    profile_ok: bool,
) {
    let Ok((group, directory)) = crate::migrate::parent_of(config) else {
        return;
    };
    let domain = config.sso.domain.as_str();
    let reader = DirectoryReader::new(&clients.sdk, &clients.region);
    let name = format!("parent group {group}");
    let found = match reader.describe_group(directory, domain, group).await {
        Ok(true) => Check::Ok(format!("in {directory}")),
        Ok(false) => Check::Fail(
            format!("{directory} has no group {group}"),
            "`syncscope bootstrap --engine parent-group` creates it and puts it in the sync scope".into(),
        ),
        Err(e) => Check::Fail(
            e,
            "enable Directory Service Data on the directory (AWS Managed Microsoft AD only) and allow ds-data:DescribeGroup and ds:AccessDSData on it".into(),
        ),
    };
    if !doctor.report(&name, found) {
        for line in [
            "parent group members",
            "parent group in the sync scope",
            "ds-data:AddGroupMember",
            "ds-data:RemoveGroupMember",
        ] {
            doctor.report(line, Check::Skip(format!("needs the {name}")));
        }
        return;
    }
    let parent = ParentGroup::new(
        &reader,
        directory,
        group,
        domain,
        "syncscope-doctor".to_owned(),
    );
    let deadline = Instant::now() + CALL_TIME;
    let members = match parent.list(deadline).await {
        Ok(members) => {
            let users = members
                .filters
                .iter()
                .filter(|f| f.kind == FilterKind::User)
                .count();
            Check::Ok(format!(
                "{} group(s), {users} user(s){}",
                members.filters.len() - users,
                if members.others.is_empty() {
                    String::new()
                } else {
                    format!(", {} other member(s) left alone", members.others.len())
                }
            ))
        }
        Err(e) => Check::Fail(
            e.reason,
            "allow ds-data:ListGroupMembers and ds:AccessDSData on the directory".into(),
        ),
    };
    doctor.report("parent group members", members);
    let in_scope = if profile_ok {
        match clients
            .identity_sync
            .list_filters(config.sso.sync_profile.as_str(), deadline)
            .await
        {
            Ok(listing)
                if listing
                    .filters
                    .iter()
                    .any(|f| syncscope_core::migration::is_parent_filter(f, group)) =>
            {
                Check::Ok(
                    "a group filter of the sync profile: Identity Center syncs its members".into(),
                )
            }
            Ok(_) => Check::Fail(
                format!("the sync profile has no group filter {group}: its members are not synced"),
                "`syncscope bootstrap --engine parent-group` puts it there".into(),
            ),
            Err(e) => Check::Fail(
                e.reason(),
                "allow identity-sync:ListSyncFilters on the profile".into(),
            ),
        }
    } else {
        Check::Skip("needs the sync profile".into())
    };
    doctor.report("parent group in the sync scope", in_scope);
    for op in [Op::Create, Op::Remove] {
        let probe = probe_action(op, domain);
        let check = match parent.change(&probe, deadline).await {
            Err(e) if e.is_missing() => Check::Ok(format!(
                "allowed (asked about {}, a name AD does not have: nothing changed)",
                probe.name
            )),
            Ok(()) => {
                if op == Op::Create {
                    let _ = parent
                        .change(&probe_action(Op::Remove, domain), deadline)
                        .await;
                }
                Check::Ok(format!(
                    "allowed (the directory has a {}; it was added and removed again)",
                    probe.name
                ))
            }
            Err(e) => Check::Fail(
                e.reason,
                format!(
                    "allow {} and ds:AccessDSData on the directory (the stack's function has them from its template)",
                    op_name(op)
                ),
            ),
        };
        doctor.report(op_name(op), check);
    }
}

fn op_name(op: Op) -> &'static str {
    if op == Op::Create {
        "ds-data:AddGroupMember"
    } else {
        "ds-data:RemoveGroupMember"
    }
}

/// A change of a member name AD does not have.
fn probe_action(op: Op, domain: &str) -> Action {
    Action {
        op,
        kind: FilterKind::User,
        name: "syncscope-probe-0".to_owned(),
        domain: domain.to_owned(),
        id: None,
        description: String::new(),
        wanted_by: Vec::new(),
        undo: false,
    }
}

/// Whether the directory check can read the directory: one question about the
/// config's first name (`SSO.DirectoryCheck` off: nothing is asked).
async fn directory(clients: &Clients, config: &Config) -> Check {
    if config.sso.directory_check == DirectoryCheck::Off {
        return Check::Ok("SSO.DirectoryCheck is off: no directory is asked".into());
    }
    let first = config
        .sso
        .groups
        .iter()
        .map(|g| (FilterKind::Group, g))
        .chain(config.sso.users.iter().map(|u| (FilterKind::User, u)))
        .next();
    let Some((kind, filter)) = first else {
        return Check::Skip("the config names no group or user to ask about".into());
    };
    let profile = config.sso.sync_profile.as_str();
    let configured = config.sso.directory_id.as_ref().map(|id| id.as_str());
    let deadline = Instant::now() + CALL_TIME;
    let (id, region) =
        match syncscope::directory::locate(&clients.identity_sync, profile, configured, deadline)
            .await
        {
            Ok(found) => found,
            Err(e) => return Check::Fail(e, "set SSO.DirectoryId to the directory's id".into()),
        };
    let names = vec![Wanted {
        kind,
        name: filter.name.as_str().to_owned(),
    }];
    let (report, unreadable) = DirectoryReader::new(&clients.sdk, &region)
        .check_why(&id, config.sso.domain.as_str(), names, 1, deadline)
        .await;
    let status = report.entries.first().map(|e| e.status.clone());
    match status {
        Some(AdStatus::NotChecked { why }) => {
            let fix = unreadable.map_or_else(
                || "try again; if it persists, set SSO.DirectoryCheck to off".to_owned(),
                |unreadable| unreadable.fix(),
            );
            Check::Fail(format!("directory {id}: {why}"), fix)
        }
        Some(status) => Check::Ok(format!(
            "directory {id} in {region} answers ({} {}: {})",
            kind.noun(),
            filter.name,
            status.describe()
        )),
        None => Check::Skip("nothing was asked".into()),
    }
}

/// GetSyncProfile, explained; with the profile's `SourceResourceArn` when it has one.
async fn sync_profile(
    doctor: &mut Doctor<'_>,
    client: &IdentitySyncClient,
    profile: &str,
    region: &str,
) -> (Check, Option<String>) {
    let answer = match doctor
        .exchange(client, &wire::get_sync_profile(profile))
        .await
    {
        Ok(answer) => answer,
        Err(e) => return (unreachable_service(e, client), None),
    };
    if !(200..300).contains(&answer.status) {
        return (
            service_error(&answer, &format!("sync profile {profile}"), region),
            None,
        );
    }
    let found = serde_json::from_slice::<wire::SyncProfile>(&answer.body);
    let source = found.as_ref().ok().and_then(|p| p.source_arn.clone());
    let check = match found {
        Ok(found) if found.state.as_deref() == Some("PAUSED") => Check::Fail(
            format!(
                "PAUSED (source {}): nothing syncs, and users are disabled after 28 days paused",
                found.source_arn.as_deref().unwrap_or("?")
            ),
            "start the sync: `syncscope bootstrap` (step 4) or the IAM Identity Center console"
                .into(),
        ),
        Ok(found) => Check::Ok(format!(
            "{} (source {})",
            found.state.as_deref().unwrap_or("state not given"),
            found.source_arn.as_deref().unwrap_or("not given")
        )),
        Err(e) => unreadable(format!("unreadable answer: {e}")),
    };
    (check, source)
}

/// GetSyncTarget, explained: the identity store it writes to must be the instance's,
/// `store` (its ARN, and the id of the directory the profile syncs from, empty when
/// not known), in one of the forms bootstrap would send ([`wire::target_forms`]).
async fn sync_target(
    doctor: &mut Doctor<'_>,
    client: &IdentitySyncClient,
    profile: &str,
    target: &str,
    store: Option<(&str, &str)>,
) -> Check {
    let request = wire::get_sync_target(profile, target);
    let answer = match doctor.exchange(client, &request).await {
        Ok(answer) => answer,
        Err(e) => return unreachable_service(e, client),
    };
    if wire::is_not_found(answer.status, "") {
        return Check::Fail(
            format!("not found in profile {profile}"),
            "`syncscope bootstrap` creates it (or pass --target-name with the name it has)".into(),
        );
    }
    if !(200..300).contains(&answer.status) {
        return service_error(&answer, &format!("sync target {target}"), "");
    }
    let found = match serde_json::from_slice::<wire::SyncTarget>(&answer.body) {
        Ok(found) => found,
        Err(e) => return unreadable(format!("unreadable answer: {e}")),
    };
    let Some(arn) = found.target_arn.as_deref().filter(|a| !a.is_empty()) else {
        return Check::Ok("-> (TargetResourceArn not given: not compared)".into());
    };
    let Some((store_arn, directory)) = store else {
        return Check::Ok(format!(
            "-> {arn} (the instance's identity store is not known: not compared)"
        ));
    };
    let store_id = Arn::parse(store_arn).map_or(store_arn, |a| a.resource_id());
    let forms = wire::target_forms(store_arn, directory);
    match forms.iter().find(|f| f.value == arn) {
        Some(form) => Check::Ok(format!(
            "-> {arn} (the instance's identity store {store_id}, {})",
            form.label
        )),
        None => Check::Fail(
            format!(
                "writes to {arn}, not to the instance's identity store {store_id} ({})",
                forms
                    .iter()
                    .map(|f| f.value.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            format!(
                "delete the sync target {target} in the IAM Identity Center console and run `syncscope bootstrap`, or pass --target-name of the target that writes to {store_id}"
            ),
        ),
    }
}

/// Every page of one filter type's listing.
async fn listing(
    doctor: &mut Doctor<'_>,
    client: &IdentitySyncClient,
    profile: &str,
    kind: FilterKind,
) -> Check {
    let mut token: Option<String> = None;
    let (mut count, mut pages) = (0, 0);
    loop {
        let request = wire::list_sync_filters(profile, kind, token.as_deref());
        let answer = match doctor.exchange(client, &request).await {
            Ok(answer) => answer,
            Err(e) => return unreachable_service(e, client),
        };
        if !(200..300).contains(&answer.status) {
            return service_error(&answer, &format!("{} filters", kind.noun()), "");
        }
        pages += 1;
        match wire::parse_list_page(&answer.body, kind) {
            Ok((filters, next)) => {
                count += filters.len();
                match next {
                    Some(next) if Some(&next) == token.as_ref() => {
                        return unreadable("the service returned the same NextToken twice".into());
                    }
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
            Err(e) => {
                return unreadable(format!("page {pages} is unreadable: {e}"));
            }
        }
    }
    Check::Ok(format!(
        "{count} in the scope ({pages} page{} listed)",
        if pages == 1 { "" } else { "s" }
    ))
}

/// The fix of an answer doctor cannot explain.
const REPORT: &str = "report it with --capture DIR attached";

/// An answer doctor cannot read or explain.
fn unreadable(found: String) -> Check {
    Check::Fail(found, REPORT.into())
}

/// The identity-sync endpoint gave no answer.
fn unreachable_service(error: String, client: &IdentitySyncClient) -> Check {
    Check::Fail(
        error,
        format!(
            "check the network path to {} (a proxy, AWS_ENDPOINT_URL_IDENTITY_SYNC)",
            client.endpoint()
        ),
    )
}

/// An error answer, with the fix its code usually means.
fn service_error(answer: &Exchange, what: &str, region: &str) -> Check {
    let (code, message) = wire::parse_error(answer.error_type.as_deref(), &answer.body);
    let found = format!("{code}: {message} (HTTP {})", answer.status);
    let fix = match (answer.status, wire::refusal(&code, &message)) {
        (404, _) => format!(
            "{what} does not exist in {region}: run `./task bootstrap` (syncscope bootstrap), or set SSO.SyncProfileName / general.Region to where it is"
        ),
        (_, wire::Refusal::WrongRegion) => {
            "the service refused the region: set general.Region to the region of IAM Identity Center".into()
        }
        (_, wire::Refusal::Credentials) => {
            "the credentials were refused: check AWS_PROFILE, renew the session (`aws sso login`), and the system clock".into()
        }
        (_, wire::Refusal::Denied) => {
            "allow identity-sync:GetSyncProfile, GetSyncTarget and ListSyncFilters (the AWS managed policy AWSIdentitySyncReadOnlyAccess)".into()
        }
        (_, wire::Refusal::Other) => REPORT.into(),
    };
    Check::Fail(found, fix)
}

/// The filters of this config as the deployment writes them.
async fn deployed_filters(
    store: &ParameterStore,
    names: &ParameterNames,
    config: &Config,
) -> Check {
    let entries = store::entries_of(&config.desired());
    let path = names.filters_version(&store::hash(&entries));
    match store.read_list(&path).await {
        Ok(stored) => Check::Ok(format!(
            "{path}: {} filter{}, this config's",
            stored.entries.len(),
            if stored.entries.len() == 1 { "" } else { "s" }
        )),
        Err(syncscope::ssm::SsmError::NotFound { .. }) => {
            match store.read_list(&names.filters_base).await {
                Err(syncscope::ssm::SsmError::NotFound { .. }) => Check::Fail(
                    format!(
                        "nothing under {}: the stack is not deployed",
                        names.filters_base
                    ),
                    "deploy it: `./task deploy`".into(),
                ),
                _ => Check::Fail(
                    format!(
                        "{path} does not exist: this config is not deployed yet (other versions are under {})",
                        names.filters_base
                    ),
                    "deploy it: `./task deploy` (or check out the config that is deployed)".into(),
                ),
            }
        }
        Err(e) => Check::Fail(
            format!("{path} cannot be read: {e}"),
            "deploy again (`./task deploy`): the deployment rewrites every shard".into(),
        ),
    }
}

/// Resolves the webhook reference (the URL is never shown); posts a test card if
/// asked.
async fn webhook(clients: &Clients, config: &Config, post: bool) -> Check {
    let Ok(http) = syncscope::http::client(Duration::from_secs(5), Some(Duration::from_secs(20)))
    else {
        return Check::Fail("no HTTP client".into(), "report it".into());
    };
    let store = clients.parameter_store();
    let secrets = aws_sdk_secretsmanager::Client::new(&clients.sdk);
    let teams = TeamsNotifier::new(&http, &store, &secrets);
    let hook = match teams
        .resolve(&config.general.webhook, &config.general.webhook_hosts)
        .await
    {
        Ok((hook, _)) => hook,
        Err(e) => {
            return Check::Fail(
                e.to_string(),
                "store the webhook URL where general.WebhookUrlTeams points (an SSM SecureString or a Secrets Manager secret) and allow reading it".into(),
            );
        }
    };
    if !post {
        return Check::Ok(format!(
            "{} resolves to a webhook URL (not shown; --post-test-card posts a card)",
            describe(&config.general.webhook)
        ));
    }
    let text = format!(
        "syncscope doctor: a test card for stack {}. Nothing was changed.",
        config.general.stack_name
    );
    let (payload, legacy) = match config.general.card_format {
        CardFormat::MessageCard => (
            json!({"@type": "MessageCard", "@context": "https://schema.org/extensions", "text": text}),
            true,
        ),
        CardFormat::AdaptiveCard => (
            json!({"type": "message", "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard", "version": "1.4",
                    "body": [{"type": "TextBlock", "text": text, "wrap": true}]
                }
            }]}),
            false,
        ),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    match teams.post(&hook, payload.to_string(), legacy, deadline).await {
        Ok(_) => Check::Ok(format!(
            "{} resolves; a test card was posted",
            describe(&config.general.webhook)
        )),
        Err(e) => Check::Fail(
            e.to_string(),
            "check that the workflow (or connector) behind the webhook still exists and accepts posts".into(),
        ),
    }
}

/// Where a webhook reference points, never the URL itself.
fn describe(reference: &WebhookRef) -> String {
    match reference {
        WebhookRef::Ssm(name) => format!("SSM parameter {name}"),
        WebhookRef::SecretArn(arn) => format!("secret {arn}"),
        WebhookRef::Literal(_) => {
            "the URL written in the config (plain text: better an SSM SecureString)".to_owned()
        }
    }
}
