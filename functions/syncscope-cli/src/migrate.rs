//! The parent-group engine's setup and the move to it: `plan --engine parent-group`
//! (what moves where), and `bootstrap --engine parent-group` (the parent group, its
//! one sync filter, and, with `--retire-filters`, removing the individual filters it
//! covers). The only identity-sync calls are here, made with the user's credentials:
//! the stack's function under this engine makes none.

use std::process::ExitCode;

use syncscope::directory::DirectoryReader;
use syncscope::engine::Engine;
use syncscope::executor::{self, DEFAULT_CONCURRENCY, ExecOptions};
use syncscope::parent_group::ParentGroup;
use syncscope_core::config::Config;
use syncscope_core::migration::{self, Migration};
use syncscope_core::plan::{Action, Mode, Op, Plan};
use syncscope_core::scope::{CurrentFilter, FilterKind};
use tokio::time::Instant;

use crate::live::{self, Clients, explain};

/// The parent group and directory the config names (the `parent-group` engine's
/// settings, needed here whatever `SSO.Engine` says, so the move can be previewed
/// before the engine is switched).
pub fn parent_of(config: &Config) -> Result<(&str, &str), String> {
    match (&config.sso.parent_group, &config.sso.directory_id) {
        (Some(group), Some(directory)) => Ok((group.as_str(), directory.as_str())),
        _ => Err(
            "the parent-group engine needs SSO.ParentGroup and SSO.DirectoryId in the config"
                .to_owned(),
        ),
    }
}

/// The parent group of the config, read with the user's credentials.
fn parent(clients: &Clients, config: &Config) -> Result<ParentGroup, String> {
    let (group, directory) = parent_of(config)?;
    Ok(ParentGroup::new(
        &DirectoryReader::new(&clients.sdk, &clients.region),
        directory,
        group,
        config.sso.domain.as_str(),
        "syncscope-cli".to_owned(),
    ))
}

/// The sync scope's filters and the parent group's members (none when the group does
/// not exist yet), and what moves where.
pub async fn preview(clients: &Clients, config: &Config) -> Result<Migration, String> {
    let profile = config.sso.sync_profile.as_str();
    let parent = parent(clients, config)?;
    let deadline = Instant::now() + live::LIST_TIME;
    let (filters, members) = tokio::join!(
        clients.identity_sync.list_filters(profile, deadline),
        parent.list(deadline)
    );
    let filters = filters
        .map_err(|e| explain(&e, profile, &clients.region))?
        .filters;
    let members = match members {
        Ok(members) => members.filters,
        Err(e) if e.is_missing() => Vec::new(),
        Err(e) => return Err(e.reason),
    };
    Ok(migration::migration(
        &config.desired(),
        &filters,
        &members,
        parent.group(),
    ))
}

/// `plan --engine parent-group`: prints what moves where (text, or JSON).
pub fn print_preview(rt: &tokio::runtime::Runtime, config: &Config, json: bool) -> ExitCode {
    let result = rt.block_on(async {
        let clients = Clients::from_env(config).await?;
        preview(&clients, config).await
    });
    match result {
        Ok(m) if json => {
            println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(m) => {
            print!("{}", m.text());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Bootstrap's step 2 under the parent-group engine: the parent group exists (created
/// if not), and is the one filter the function's scope needs in the sync profile.
pub async fn ensure_parent(
    clients: &Clients,
    config: &Config,
    dry_run: bool,
    deadline: Instant,
) -> Result<(), String> {
    let profile = config.sso.sync_profile.as_str();
    let (group, directory) = parent_of(config)?;
    let reader = DirectoryReader::new(&clients.sdk, &clients.region);
    let found = reader
        .describe_group(directory, config.sso.domain.as_str(), group)
        .await?;
    match (found, dry_run) {
        (true, _) => println!("2/4 parent group {group} in {directory}: found; nothing to do"),
        (false, true) => {
            println!("2/4 parent group {group} in {directory}: not found; would create it")
        }
        (false, false) => {
            reader.create_group(directory, group).await?;
            println!("2/4 parent group {group} in {directory}: not found; created it");
        }
    }
    let filters = clients
        .identity_sync
        .list_filters(profile, deadline)
        .await
        .map_err(|e| explain(&e, profile, &clients.region))?
        .filters;
    let in_scope = filters
        .iter()
        .any(|f| migration::is_parent_filter(f, group));
    match (in_scope, dry_run) {
        (true, _) => println!("    its sync filter: in the sync scope; nothing to do"),
        (false, true) => println!("    its sync filter: not in the sync scope; would add it"),
        (false, false) => {
            clients
                .identity_sync
                .create_filter(
                    profile,
                    FilterKind::Group,
                    config.sso.domain.as_str(),
                    group,
                    deadline,
                )
                .await
                .map_err(|e| explain(&e, profile, &clients.region))?;
            println!("    its sync filter: not in the sync scope; added it");
        }
    }
    Ok(())
}

/// `--retire-filters`: removes the individual filters the parent group covers (their
/// name is its direct member), and says which stay.
pub async fn retire(
    clients: &Clients,
    config: &Config,
    dry_run: bool,
    deadline: Instant,
) -> Result<(), String> {
    let profile = config.sso.sync_profile.as_str();
    let m = preview(clients, config).await?;
    let retirable: Vec<&CurrentFilter> = m.retirable.iter().collect();
    println!(
        "then: individual filters: {} covered by the parent group, {} stay",
        retirable.len(),
        m.staying.len()
    );
    if retirable.is_empty() {
        return Ok(());
    }
    if dry_run {
        for f in &retirable {
            println!("      would remove {:<5}  {}", f.kind.as_str(), f.name);
        }
        return Ok(());
    }
    let plan = Plan {
        mode: Mode::Managed,
        domain: config.sso.domain.as_str().to_owned(),
        scope_size: retirable.len() + m.staying.len(),
        actions: retirable.iter().map(|f| removal(f)).collect(),
    };
    let engine = Engine::sync_filters(&clients.identity_sync, profile);
    let applied = executor::apply(
        &engine,
        &plan,
        ExecOptions::until(DEFAULT_CONCURRENCY, deadline),
    )
    .await;
    let mut failed = Vec::new();
    for r in &applied.results {
        match r.why_not() {
            Some(why) => {
                println!(
                    "      ! {:<5}  {}: {why}",
                    r.action.kind.as_str(),
                    r.action.name
                );
                failed.push(r.action.name.clone());
            }
            None => println!("      - {:<5}  {}", r.action.kind.as_str(), r.action.name),
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} filter(s) could not be removed ({}); run it again: the rest are kept",
        failed.len(),
        failed.join(", ")
    ))
}

/// The removal of an individual filter.
fn removal(filter: &CurrentFilter) -> Action {
    Action {
        op: Op::Remove,
        kind: filter.kind,
        name: filter.name.clone(),
        domain: filter.domain.clone(),
        id: Some(filter.id.clone()),
        description: String::new(),
        wanted_by: Vec::new(),
        undo: false,
    }
}
