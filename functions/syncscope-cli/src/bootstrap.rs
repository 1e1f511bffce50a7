//! `syncscope bootstrap`: the initial setup of an Active Directory sync, idempotent.
//!
//! The steps, in the order the IAM Identity Center user guide gives them: the sync
//! profile for the directory, the first filters (the config's, creates only), the sync
//! target to the instance's identity store, and starting the sync. Everything is read
//! first (caller, identity store, profile, target, scope); a conflict (a profile or
//! target that points elsewhere) stops the run before anything is written. Each step
//! prints what it found and what it did. Nothing is ever removed.

use std::process::ExitCode;
use std::time::Duration;
use syncscope_core::arn::Arn;

use syncscope::engine;
use syncscope::executor::{self, DEFAULT_CONCURRENCY, ExecOptions};
use syncscope::identity_sync::{IdentitySyncClient, IdentitySyncError, wire};
use syncscope_core::choice::Engine;
use syncscope_core::config::Config;
use syncscope_core::outcome::ChangeStatus;
use syncscope_core::plan::{self, Mode, Op};
use syncscope_core::scope::{CoOwners, Ledger};
use tokio::time::Instant;

use crate::live::{self, Clients, explain};

/// The sync target's name unless `--target-name` says otherwise.
pub const DEFAULT_TARGET_NAME: &str = "IdentityStoreForSSO";
/// How long the whole bootstrap may take.
const TIME: Duration = Duration::from_secs(600);

/// What to bootstrap.
pub struct Request<'a> {
    /// The validated config.
    pub config: &'a Config,
    /// `d-xxxxxxxxxx` (None: the config's `SSO.DirectoryId`).
    pub directory_id: Option<&'a str>,
    /// The identity store's ARN, if given.
    pub identity_store_arn: Option<&'a str>,
    /// The sync target's name.
    pub target_name: &'a str,
    /// Change nothing.
    pub dry_run: bool,
    /// The engine to set up.
    pub engine: Engine,
    /// Remove the individual filters the parent group covers (parent-group only).
    pub retire_filters: bool,
}

/// A failure of the bootstrap, already explained.
struct Stop(String);

impl<T: std::fmt::Display> From<T> for Stop {
    fn from(e: T) -> Self {
        Self(e.to_string())
    }
}

/// Runs the bootstrap; prints every step.
pub async fn run(request: &Request<'_>) -> ExitCode {
    match steps(request).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop(reason)) => {
            eprintln!("error: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// The forms' values, comma-separated, in order.
fn values(forms: &[wire::TargetForm]) -> String {
    forms
        .iter()
        .map(|f| f.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The partition of an ARN (`arn:PARTITION:...`).
fn partition_of(arn: &str) -> &str {
    Arn::parse(arn).map_or("aws", |a| a.partition)
}

/// The id at the end of a `...:directory/d-...` or `...:identitystore/d-...` ARN.
fn id_of(arn: &str) -> &str {
    Arn::parse(arn).map_or(arn, |a| a.resource_id())
}

fn valid_directory_id(id: &str) -> bool {
    syncscope_core::names::is_d_id(id)
}

async fn identity_store_arn(
    request: &Request<'_>,
    clients: &Clients,
    partition: &str,
    account: &str,
) -> Result<String, Stop> {
    if let Some(arn) = request.identity_store_arn {
        let ok = arn.starts_with("arn:")
            && arn.contains(":identitystore::")
            && arn.contains(":identitystore/d-");
        if !ok {
            return Err(Stop(format!(
                "--identity-store-arn {arn:?} is not an identity store ARN (arn:aws:identitystore::ACCOUNT:identitystore/d-xxxxxxxxxx)"
            )));
        }
        println!("    identity store: {arn} (given)");
        return Ok(arn.to_owned());
    }
    let wanted = request
        .config
        .sso
        .identity_store_id
        .as_ref()
        .map(|i| i.as_str());
    let instance = live::identity_center(clients, wanted).await?;
    let arn = live::identity_store_arn(&instance, partition, account);
    println!(
        "    identity store: {arn} (instance {})",
        instance.instance_arn().unwrap_or("?")
    );
    Ok(arn)
}

/// Creates the sync target, trying each of [`wire::target_forms`] in order while the
/// service refuses the form (a validation error naming `TargetResourceArn`). Returns
/// what to print: the form that worked, and every form refused before it with the
/// service's words.
async fn create_target(
    client: &IdentitySyncClient,
    profile: &str,
    target: &str,
    forms: &[wire::TargetForm],
    deadline: Instant,
) -> Result<String, Stop> {
    let mut refused: Vec<String> = Vec::new();
    for form in forms {
        let request = wire::create_sync_target(profile, target, &form.value);
        match client.post::<wire::SyncTarget>(&request, deadline).await {
            Ok(_) if refused.is_empty() => {
                return Ok(format!("{} ({})", form.value, form.label));
            }
            Ok(_) => {
                return Ok(format!(
                    "{} ({}); refused first: {}",
                    form.value,
                    form.label,
                    refused.join("; ")
                ));
            }
            Err(IdentitySyncError::Service { code, message, .. })
                if wire::refuses_target_arn_form(&code, &message) =>
            {
                refused.push(format!(
                    "{} ({}): {code}: {message}",
                    form.value, form.label
                ));
            }
            Err(e) if refused.is_empty() => return Err(Stop(e.to_string())),
            Err(e) => {
                return Err(Stop(format!(
                    "{e} (refused before: {})",
                    refused.join("; ")
                )));
            }
        }
    }
    Err(Stop(format!(
        "the service refused every form of TargetResourceArn for sync target {target}: {}; nothing else was changed (report it with `syncscope doctor --capture DIR` attached)",
        refused.join("; ")
    )))
}

/// Starts the sync with the body syncscope sends (`{}`), or, when the service refuses
/// that body, the one S1-py sends (the JSON string `""`); returns a note saying so.
async fn start_sync(
    client: &IdentitySyncClient,
    profile: &str,
    deadline: Instant,
) -> Result<String, Stop> {
    match client.send(&wire::start_sync(profile), deadline).await {
        Ok(_) => Ok(String::new()),
        Err(IdentitySyncError::Service { code, message, .. }) if wire::refuses_body(&code) => {
            client
                .send(&wire::start_sync_string_body(profile), deadline)
                .await
                .map_err(|e| {
                    Stop(format!(
                        "{e} (the body {{}} was refused too: {code}: {message})"
                    ))
                })?;
            Ok(format!(
                " (the service refused the body {{}}: {code}: {message}; the JSON string \"\" worked)"
            ))
        }
        Err(e) => Err(Stop(e.to_string())),
    }
}

async fn steps(request: &Request<'_>) -> Result<(), Stop> {
    let config = request.config;
    let profile = config.sso.sync_profile.as_str();
    let domain = config.sso.domain.as_str();
    let directory_id = request
        .directory_id
        .or(config.sso.directory_id.as_ref().map(|d| d.as_str()))
        .ok_or("--directory-id is required (or SSO.DirectoryId in the config)")?;
    if !valid_directory_id(directory_id) {
        return Err(Stop(format!(
            "--directory-id {directory_id:?} is not a directory id (\"d-\" and 10 lowercase hex digits)"
        )));
    }
    let parent_group = request.engine == Engine::ParentGroup;
    if parent_group {
        crate::migrate::parent_of(config)?;
    } else if request.retire_filters {
        return Err(Stop(
            "--retire-filters moves a scope to the parent group: pass --engine parent-group (or set SSO.Engine)".to_owned(),
        ));
    }
    let clients = Clients::from_env(config).await?;
    let client = &clients.identity_sync;
    let deadline = Instant::now() + TIME;
    let region = clients.region.clone();
    let would = |done: &str, planned: &str| -> String {
        if request.dry_run {
            format!("would {planned}")
        } else {
            done.to_owned()
        }
    };

    println!(
        "Bootstrap of {} for {domain}: identity-sync in {region} at {}, profile {profile}{}",
        config.general.stack_name,
        client.endpoint(),
        if request.dry_run {
            " (dry run: nothing is changed)"
        } else {
            ""
        }
    );

    // Reads first: who we are, where things go, what exists.
    let sts = aws_sdk_sts::Client::new(&clients.sdk);
    let caller = sts.get_caller_identity().send().await.map_err(|e| {
        format!(
            "failed to identify the caller (sts:GetCallerIdentity): {}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        )
    })?;
    let account = caller.account().unwrap_or_default().to_owned();
    let partition = partition_of(caller.arn().unwrap_or("arn:aws:")).to_owned();
    let directory_arn = format!(
        "arn:{partition}:ds:{region}:{account}:directory/{}",
        directory_id
    );
    println!(
        "    caller: {} (account {account})",
        caller.arn().unwrap_or("?")
    );
    println!("    directory: {directory_arn}");
    let store_arn = identity_store_arn(request, &clients, &partition, &account).await?;

    let existing = client
        .get::<wire::SyncProfile>(&wire::get_sync_profile(profile), deadline)
        .await
        .map_err(|e| explain(&e, profile, &region))?;
    if let Some(found) = &existing {
        let source = found.source_arn.as_deref().unwrap_or_default();
        if !source.is_empty() && id_of(source) != directory_id {
            return Err(Stop(format!(
                "sync profile {profile} exists and syncs from {source}, not {}; nothing was changed (pass --directory-id {} or remove the old profile first)",
                directory_id,
                id_of(source)
            )));
        }
    }
    let target = match existing {
        Some(_) => client
            .get::<wire::SyncTarget>(
                &wire::get_sync_target(profile, request.target_name),
                deadline,
            )
            .await
            .map_err(|e| explain(&e, profile, &region))?,
        None => None,
    };
    let forms = wire::target_forms(&store_arn, directory_id);
    if let Some(found) = &target {
        let arn = found.target_arn.as_deref().unwrap_or_default();
        if !arn.is_empty() && !wire::names_store(arn, &store_arn, directory_id) {
            return Err(Stop(format!(
                "sync target {} of profile {profile} writes to {arn}, not to the identity store {store_arn} (in any of its forms: {}); nothing was changed (delete the sync target in the IAM Identity Center console and run `syncscope bootstrap` again, or pass --target-name of the target that writes to {})",
                request.target_name,
                values(&forms),
                id_of(&store_arn)
            )));
        }
    }

    // 1. The sync profile.
    let mut state = existing.as_ref().and_then(|p| p.state.clone());
    match &existing {
        Some(found) => println!(
            "1/4 sync profile {profile}: found (source {}, state {}); nothing to do",
            found.source_arn.as_deref().unwrap_or("?"),
            found.state.as_deref().unwrap_or("?")
        ),
        None if request.dry_run => {
            println!("1/4 sync profile {profile}: not found; would create it for {directory_arn}")
        }
        None => {
            let created = client
                .post::<wire::SyncProfile>(
                    &wire::create_sync_profile(profile, &directory_arn),
                    deadline,
                )
                .await
                .map_err(|e| format!("{e}"))?;
            state = created.state.clone();
            println!(
                "1/4 sync profile {profile}: not found; created it for {directory_arn} (state {})",
                created.state.as_deref().unwrap_or("?")
            );
        }
    }

    let mut failed = Vec::new();
    if parent_group {
        // 2. The parent group and its one filter.
        crate::migrate::ensure_parent(&clients, config, request.dry_run, deadline).await?;
    } else {
        failed = first_filters(request, client, existing.is_some(), deadline).await?;
    }

    // 3. The sync target.
    match &target {
        Some(found) => println!(
            "3/4 sync target {}: found (-> {}); nothing to do",
            found.name,
            found.target_arn.as_deref().unwrap_or("?")
        ),
        None if request.dry_run => println!(
            "3/4 sync target {}: not found; would create it -> the identity store {store_arn}, trying {} in this order",
            request.target_name,
            values(&forms)
        ),
        None => {
            let used =
                create_target(client, profile, request.target_name, &forms, deadline).await?;
            println!(
                "3/4 sync target {}: not found; created it -> {used}",
                request.target_name
            );
        }
    }

    // 4. Synchronisation.
    match state.as_deref() {
        Some("ACTIVE") => println!("4/4 synchronisation: ACTIVE; nothing to do"),
        other => {
            let mut note = String::new();
            if !request.dry_run {
                note = start_sync(client, profile, deadline).await?;
            }
            println!(
                "4/4 synchronisation: {}; {}{note}",
                other.unwrap_or("no profile yet"),
                would("started", "start it")
            );
        }
    }

    if request.retire_filters {
        crate::migrate::retire(&clients, config, request.dry_run, deadline).await?;
    }

    if !failed.is_empty() {
        return Err(Stop(format!(
            "{} filter{} could not be created ({}); run bootstrap again, or deploy: the stack's first run creates the rest",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        )));
    }
    println!(
        "{}",
        if parent_group {
            "Done. The parent group is synced at the next sync cycle; deploy the stack (task deploy) to make the config's names its members."
        } else {
            "Done. New filters are synced at the next sync cycle; deploy the stack (task deploy) to keep the scope equal to the config."
        }
    );
    Ok(())
}

/// Bootstrap's step 2 under the sync-filters engine: the config's filters, creates only
/// (the same planner as the Lambda, in managed mode with no ledger, so nothing is ever
/// removed). Returns the names that could not be created.
async fn first_filters(
    request: &Request<'_>,
    client: &IdentitySyncClient,
    exists: bool,
    deadline: Instant,
) -> Result<Vec<String>, Stop> {
    let config = request.config;
    let profile = config.sso.sync_profile.as_str();
    let current = if exists || !request.dry_run {
        client
            .list_filters(profile, deadline)
            .await
            .map_err(|e| explain(&e, profile, client.region()))?
            .filters
    } else {
        Vec::new()
    };
    let mut plan = plan::plan(
        &config.desired(),
        &current,
        &Ledger::default(),
        Mode::Managed,
        &CoOwners::default(),
    );
    let counts = plan.counts();
    plan.actions.retain(|a| a.op == Op::Create);
    let wanted = config.sso.groups.len() + config.sso.users.len();
    let mut summary = format!(
        "2/4 first filters: {wanted} in the config, {} already in the scope, {} other filter{} left alone",
        counts.adopt + counts.keep,
        counts.unmanaged,
        if counts.unmanaged == 1 { "" } else { "s" }
    );
    let mut failed = Vec::new();
    if plan.actions.is_empty() {
        summary.push_str("; nothing to create");
        println!("{summary}");
    } else if request.dry_run {
        println!("{summary}; would create {}", plan.actions.len());
        for a in &plan.actions {
            println!("      + {:<5}  {}", a.kind.as_str(), a.name);
        }
    } else {
        let applied = executor::apply(
            &engine::Engine::sync_filters(client, profile),
            &plan,
            ExecOptions::until(DEFAULT_CONCURRENCY, deadline),
        )
        .await;
        let created = applied
            .results
            .iter()
            .filter(|r| r.status == ChangeStatus::Applied)
            .count();
        let already = applied
            .results
            .iter()
            .filter(|r| r.status == ChangeStatus::AlreadyDone)
            .count();
        println!(
            "{summary}; created {created}{}",
            if already > 0 {
                format!(" ({already} appeared meanwhile)")
            } else {
                String::new()
            }
        );
        for r in &applied.results {
            if let Some(why) = r.why_not() {
                println!(
                    "      ! {:<5}  {}: {why}",
                    r.action.kind.as_str(),
                    r.action.name
                );
                failed.push(r.action.name.clone());
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_ids_and_arns_are_read() {
        assert!(valid_directory_id("d-1234567890"));
        assert!(!valid_directory_id("d-12345678"));
        assert!(!valid_directory_id("d-ABCDEF1234"));
        assert_eq!(
            id_of("arn:aws:ds:eu-central-1:1:directory/d-1234567890"),
            "d-1234567890"
        );
        assert_eq!(partition_of("arn:aws-cn:iam::1:user/x"), "aws-cn");
    }
}
