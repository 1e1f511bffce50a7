//! `syncscope`: validate a config, synthesise its CloudFormation template, preview the
//! plan (offline or against the live scope), bootstrap a new sync profile, and print
//! the config's JSON Schema, from a laptop or CI.
//!
//! Live modes (`plan` without `--current`, `bootstrap`, `doctor`) use the standard AWS
//! credential chain and the same identity-sync client as the Lambda; they honour
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`, so they also run against the
//! local emulators. `plan` and `doctor` never write.
//!
//! Exit codes: 0 success; 1 the config, the inputs or the plan were refused, or a live
//! call failed (every problem is listed); 2 wrong usage.

mod bootstrap;
mod doctor;
mod live;
mod migrate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use syncscope_core::choice::Engine;
use syncscope_core::config::{self, Problem};
use syncscope_core::directory::DirectoryReport;
use syncscope_core::impact::{Impact, Needs, check_people_guard};
use syncscope_core::names::WebhookRef;
use syncscope_core::plan::{self, Plan};
use syncscope_core::preview::Preview;
use syncscope_core::scope::{CoOwners, CurrentFilter, Ledger, Scope};
use syncscope_core::store;

/// How `plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PlanFormat {
    /// For a terminal.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For scripts.
    Json,
}

/// Keep the IAM Identity Center sync scope equal to a JSON file in git.
#[derive(Parser)]
#[command(name = "syncscope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a config file and list every problem in it.
    Validate {
        /// The config file (the seed's JSON format).
        #[arg(long, short)]
        config: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what a run would change (create, remove, adopt, keep, unmanaged) and who
    /// gains and who loses AWS access.
    ///
    /// Without `--current`, reads the live scope (ListSyncFilters), the ledger (SSM) and
    /// the identity store (who is in the groups that leave) with your AWS credentials,
    /// read-only.
    Plan {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// A JSON snapshot of the current scope (`{"filters":[{"id","type","name","domain"}]}`);
        /// without it, the live scope is read.
        #[arg(long)]
        current: Option<PathBuf>,
        /// A JSON ledger of the filters this config manages (`{"entries":[...]}`); without
        /// it, the live ledger in SSM (live mode) or none (first run).
        #[arg(long)]
        ledger: Option<PathBuf>,
        /// Write the live scope to this file (the format `--current` reads).
        #[arg(long, conflicts_with = "current")]
        save_current: Option<PathBuf>,
        /// Plan the stack's Delete with `OnDelete: remove` instead of a deployment:
        /// what it removes (the filters its ledger lists that no other live stack
        /// lists) and who loses access. The guards do not apply to a Delete.
        #[arg(long)]
        teardown: bool,
        /// The output: `text`, `markdown` (a pull-request comment, at most 65,000
        /// characters) or `json` (for scripts).
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Print the plan as JSON (the same as `--format json`).
        #[arg(long)]
        json: bool,
        /// Plan with this engine instead of the config's `SSO.Engine`: with
        /// `parent-group`, what moves where from the individual filters into the parent
        /// group (`SSO.ParentGroup`, `SSO.DirectoryId`), the move's preview.
        #[arg(long, value_parser = engine_arg)]
        engine: Option<Engine>,
    },
    /// Write the CloudFormation template of a config to `OUT/<stack>.template.json`.
    Synth {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The output directory.
        #[arg(long, default_value = "build/cfn")]
        out: PathBuf,
        /// Create the docs bucket in the stack (private, encrypted, TLS only, versioned).
        #[arg(long)]
        create_docs_bucket: bool,
        /// Print a JSON summary (stack name, template path, sizes).
        #[arg(long)]
        json: bool,
        /// With a literal webhook URL in the config (which never goes into the
        /// template): write the `aws ssm put-parameter --cli-input-json` input that
        /// stores it in the stack's SecureString to this file (mode 0600). `task
        /// deploy` uses it; the URL is never printed.
        #[arg(long, value_name = "FILE")]
        webhook_input: Option<PathBuf>,
        /// Also write the read-only plan role's template to
        /// `OUT/<stack>-plan-role.template.json`: an IAM role that GitHub Actions runs
        /// of `general.CiRepository` (pull requests, and `general.CiBranches`) assume
        /// through the account's OIDC provider to run `plan` and `doctor`; it cannot
        /// write anything.
        #[arg(long)]
        plan_role: bool,
    },
    /// The initial setup, idempotent: sync profile, first filters, sync target, start sync.
    ///
    /// Each step says what it found and what it did. Never removes anything.
    Bootstrap {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The directory (AWS Managed Microsoft AD or AD Connector) to sync from
        /// (default: the config's `SSO.DirectoryId`).
        #[arg(long, value_name = "d-xxxxxxxxxx")]
        directory_id: Option<String>,
        /// The identity store to sync to (default: the IAM Identity Center instance's).
        #[arg(long, value_name = "ARN")]
        identity_store_arn: Option<String>,
        /// The sync target's name.
        #[arg(long, default_value = bootstrap::DEFAULT_TARGET_NAME)]
        target_name: String,
        /// Say what would be done; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The engine to set up (default: the config's `SSO.Engine`). With
        /// `parent-group`, the first filter is the parent group's alone (created in AD
        /// if missing); the stack's runs make the config's names its members.
        #[arg(long, value_parser = engine_arg)]
        engine: Option<Engine>,
        /// With `--engine parent-group`: then remove the individual filters the parent
        /// group now covers (their name is its direct member), the move's last step.
        /// Run it after a sync cycle has synced the parent group.
        #[arg(long)]
        retire_filters: bool,
    },
    /// Check, read-only, everything a run needs: region, credentials, IAM Identity
    /// Center, the sync profile and target, both filter listings, the stack's SSM
    /// parameters, the docs bucket and the Teams webhook. One line per check.
    ///
    /// Run it first on a real account: it also compares every identity-sync answer
    /// with the documented contract and prints each difference.
    Doctor {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The sync target's name.
        #[arg(long, default_value = bootstrap::DEFAULT_TARGET_NAME)]
        target_name: String,
        /// Write every identity-sync exchange to this directory (no signatures, tokens
        /// or webhook URLs), to attach to a bug report.
        #[arg(long, value_name = "DIR")]
        capture: Option<PathBuf>,
        /// Post a test card to the Teams webhook (the only thing doctor ever sends).
        #[arg(long)]
        post_test_card: bool,
    },
    /// Print the config file's JSON Schema, generated from the settings table (the
    /// committed `config/schema.json` is this output).
    Schema {
        /// Write it to this file instead of printing it.
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema { write } => schema(write.as_deref()),
        Command::Validate { config, json } => validate(&config, json),
        Command::Plan {
            config,
            current,
            ledger,
            save_current,
            teardown,
            format,
            json,
            engine,
        } => {
            let format = if json { PlanFormat::Json } else { format };
            let sources = Sources {
                current: current.as_deref(),
                ledger: ledger.as_deref(),
                save_current: save_current.as_deref(),
            };
            if engine != Some(Engine::ParentGroup) {
                return plan(&config, sources, engine, teardown, format)
                    .unwrap_or_else(|code| code);
            }
            if current.is_some() || ledger.is_some() || save_current.is_some() || teardown {
                eprintln!(
                    "error: --engine parent-group previews the move from the live scope; it takes no --current, --ledger, --save-current or --teardown"
                );
                return ExitCode::from(2);
            }
            live(&config, |rt, config| {
                migrate::print_preview(rt, config, format == PlanFormat::Json)
            })
        }
        Command::Synth {
            config,
            out,
            create_docs_bucket,
            json,
            webhook_input,
            plan_role,
        } => synth(
            &config,
            &out,
            &SynthChoices {
                create_docs_bucket,
                as_json: json,
                webhook_input: webhook_input.as_deref(),
                plan_role,
            },
        ),
        Command::Bootstrap {
            config,
            directory_id,
            identity_store_arn,
            target_name,
            dry_run,
            engine,
            retire_filters,
        } => live(&config, |rt, config| {
            rt.block_on(bootstrap::run(&bootstrap::Request {
                config,
                directory_id: directory_id.as_deref(),
                identity_store_arn: identity_store_arn.as_deref(),
                target_name: &target_name,
                dry_run,
                engine: engine.unwrap_or(config.sso.engine),
                retire_filters,
            }))
        }),
        Command::Doctor {
            config,
            target_name,
            capture,
            post_test_card,
        } => live(&config, |rt, config| {
            rt.block_on(doctor::run(&doctor::Request {
                config,
                target_name: &target_name,
                capture: capture.as_deref(),
                post_test_card,
            }))
        }),
    }
}

/// Loads the config and runs a live mode on a runtime (bootstrap, doctor).
fn live(
    path: &Path,
    run: impl FnOnce(&tokio::runtime::Runtime, &config::Config) -> ExitCode,
) -> ExitCode {
    let parsed = match load_config(path, false) {
        Ok(parsed) => parsed,
        Err((code, _)) => return code,
    };
    match runtime() {
        Ok(rt) => run(&rt, &parsed.config),
        Err(code) => code,
    }
}

/// An engine's spelling on the command line.
fn engine_arg(value: &str) -> Result<Engine, String> {
    Engine::parse(value).ok_or_else(|| {
        format!(
            "{value:?} is not an engine: use {}",
            <Engine as syncscope_core::choice::Choice>::allowed()
        )
    })
}

/// A runtime for the live modes.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        })
}

/// What `synth` was asked besides the config and the output directory.
struct SynthChoices<'a> {
    create_docs_bucket: bool,
    as_json: bool,
    webhook_input: Option<&'a Path>,
    plan_role: bool,
}

fn synth(config_path: &Path, out: &Path, choices: &SynthChoices<'_>) -> ExitCode {
    use syncscope_core::synth::{self, MAX_INLINE_TEMPLATE_BYTES, Options};
    let SynthChoices {
        create_docs_bucket,
        as_json,
        webhook_input,
        plan_role,
    } = *choices;
    let parsed = match load_config(config_path, as_json) {
        Ok(parsed) => parsed,
        Err((code, _)) => return code,
    };
    // Refused before anything is written: a plan role needs a repository to trust.
    let plan_role = match plan_role
        .then(|| syncscope_core::plan_role::synthesize(&parsed.config))
        .transpose()
    {
        Ok(role) => role,
        Err(e) => {
            eprintln!("error: {}: {e}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let synthesis = match synth::synthesize(&parsed.config, &Options { create_docs_bucket }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let path = out.join(format!("{}.template.json", synthesis.stack_name));
    if let Err(e) =
        std::fs::create_dir_all(out).and_then(|()| std::fs::write(&path, &synthesis.text))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    if let (Some(file), Some(name), WebhookRef::Literal(url)) = (
        webhook_input,
        &synthesis.webhook_parameter,
        &parsed.config.general.webhook,
    ) {
        let input = json!({
            "Name": name,
            "Value": url.as_str(),
            "Type": "SecureString",
            "Overwrite": true,
            "Description": format!("syncscope: the Teams webhook URL of stack {}", synthesis.stack_name),
        });
        if let Err(e) = write_private(file, &input.to_string()) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    }
    let role_path = plan_role
        .as_ref()
        .map(|role| out.join(format!("{}.template.json", role.stack_name)));
    if let (Some(role), Some(role_path)) = (&plan_role, &role_path)
        && let Err(e) = std::fs::write(role_path, &role.text)
    {
        eprintln!("error: cannot write {}: {e}", role_path.display());
        return ExitCode::FAILURE;
    }
    let bytes = synthesis.text.len();
    if as_json {
        let out = json!({
            "stack_name": synthesis.stack_name,
            "template": path.display().to_string(),
            "bytes": bytes,
            "resources": synthesis.resource_count(),
            "shards": synthesis.shards.len(),
            "advanced_shards": synthesis.advanced_shards(),
            "filters_hash": synthesis.hash,
            "identity_center_region": parsed.config.general.region.as_ref().map(|r| r.as_str()),
            "on_delete": parsed.config.sso.on_delete.as_str(),
            "webhook_parameter": synthesis.webhook_parameter,
            "plan_role": plan_role.as_ref().zip(role_path.as_ref()).map(|(role, path)| json!({
                "stack_name": role.stack_name,
                "template": path.display().to_string(),
                "repository": role.repository.as_str(),
                "subjects": role.subjects,
            })),
        });
        println!("{out:#}");
    } else {
        println!(
            "{}: stack {}, {} resources, {} filter shard{} ({} Advanced), {} bytes{}",
            path.display(),
            synthesis.stack_name,
            synthesis.resource_count(),
            synthesis.shards.len(),
            plural(synthesis.shards.len()),
            synthesis.advanced_shards(),
            bytes,
            if bytes > MAX_INLINE_TEMPLATE_BYTES {
                " (over the 51,200-byte inline limit: deploy uploads it to the artifact bucket)"
            } else {
                ""
            }
        );
        if let Some(name) = &synthesis.webhook_parameter {
            println!(
                "The config's literal Teams webhook URL is not in the template: it names the SSM SecureString {name} instead. `task deploy` stores the URL there; deploying the template by other means, put it there first (aws ssm put-parameter --type SecureString --name {name} ...)."
            );
        }
        if let (Some(role), Some(path)) = (&plan_role, &role_path) {
            println!(
                "{}: the read-only plan role for GitHub Actions runs of {} ({}). Deploy it in the stack's region: aws cloudformation deploy --template-file {} --stack-name {} --capabilities CAPABILITY_IAM (add --parameter-overrides CreateOidcProvider=true if the account has no OIDC provider for token.actions.githubusercontent.com yet)",
                path.display(),
                role.repository,
                role.subjects.join(", "),
                path.display(),
                role.stack_name,
            );
        }
    }
    ExitCode::SUCCESS
}

/// Writes a file only its owner can read (it holds a secret).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

/// Where a plan reads the scope and the ledger from.
struct Sources<'a> {
    /// A scope snapshot (None: the live scope).
    current: Option<&'a Path>,
    /// A ledger file (None: the live ledger, or none offline).
    ledger: Option<&'a Path>,
    /// Where to save the live scope, if asked.
    save_current: Option<&'a Path>,
}

/// Plans from a scope snapshot (`current`) or, without one, from the live scope
/// (read-only), with the ledger of a file, else the live one (none offline). With
/// `teardown`, the plan of the stack's Delete under `OnDelete: remove`, which no guard
/// stops (deleting the stack is its confirmation).
fn plan(
    config_path: &Path,
    sources: Sources<'_>,
    engine: Option<Engine>,
    teardown: bool,
    format: PlanFormat,
) -> Result<ExitCode, ExitCode> {
    let Sources {
        current,
        ledger,
        save_current,
    } = sources;
    let mut loaded = load_config(config_path, false)
        .map_err(|(code, _)| code)?
        .config;
    if let Some(engine) = engine {
        loaded.sso.engine = engine;
    }
    if teardown {
        eprintln!(
            "The stack's Delete with OnDelete remove: it removes what its ledger lists and no other live stack lists; the guards do not apply to it."
        );
        loaded.sso.guard = plan::GuardLimits {
            max_removals: u32::MAX,
            max_removal_percent: 100,
            max_users_losing_access: None,
        };
    }
    let c = &loaded;
    let ledger_file = ledger.map(read_ledger).transpose()?;
    let (filters, live_ledger, directory, others) = match current {
        Some(path) => (
            read_json::<Scope>(path, "scope snapshot")?.filters,
            None,
            None,
            CoOwners::default(),
        ),
        None => read_live(c, ledger_file.is_none(), save_current)?,
    };
    let ledger = ledger_file.or(live_ledger).unwrap_or_default();
    // A Delete wants no name: the directory check has nothing to say about it.
    let directory = directory.filter(|_| !teardown);
    let plan = if teardown {
        plan::teardown(&c.sso.domain, &filters, &ledger, &others)
    } else {
        plan::plan(&c.desired(), &filters, &ledger, c.sso.mode, &others)
    };
    let (impact, impact_note) = match current {
        Some(_) => (
            None,
            Some("an offline plan (--current) reads no identity store; plan without --current to see who loses access".to_owned()),
        ),
        None => match runtime()?.block_on(live::impact(c, &plan)) {
            Ok(Some(impact)) => (Some(impact), None),
            Ok(None) => (None, Some("the plan adds and removes no filter".to_owned())),
            Err(e) => (None, Some(e)),
        },
    };
    // The access map's hygiene findings (live only: an offline plan reads nothing).
    let access = match current {
        Some(_) => live::Access::default(),
        None => runtime()?.block_on(live::access(c, &plan)),
    };
    Ok(report_plan(
        &plan,
        c,
        Read {
            impact: impact.as_ref(),
            impact_note,
            directory: directory.as_ref(),
            access,
        },
        format,
    ))
}

/// What the live reads found for a plan's report.
struct Read<'a> {
    impact: Option<&'a Impact>,
    /// Why there is no impact, when there is none.
    impact_note: Option<String>,
    directory: Option<&'a DirectoryReport>,
    access: live::Access,
}

/// The live scope (saved to `save_current` if asked), the live ledger if asked, and the
/// directory check of the config's names, which runs beside the listing (it needs
/// nothing from it). A failed read stops the check.
fn read_live(
    c: &config::Config,
    with_ledger: bool,
    save_current: Option<&Path>,
) -> Result<LiveRead, ExitCode> {
    let checked = async { Ok::<_, String>(live::directory(c).await) };
    let (live, directory) = runtime()?
        .block_on(async { tokio::try_join!(live::read(c, with_ledger), checked) })
        .map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        })?;
    let directory = directory.unwrap_or_else(|e| {
        eprintln!("warning: the directory check was skipped: {e}");
        None
    });
    eprintln!("{}", live.describe());
    if let Some(path) = save_current {
        let scope = Scope {
            filters: live.filters.clone(),
        };
        let text = serde_json::to_string_pretty(&scope).unwrap_or_default() + "\n";
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Err(ExitCode::FAILURE);
        }
        eprintln!(
            "Saved the live scope ({} filters) to {}",
            live.filters.len(),
            path.display()
        );
    }
    Ok((live.filters, live.ledger, directory, live.others.co))
}

/// The live scope, its ledger (when asked for), the directory's report and what the
/// other live stacks of the profile list.
type LiveRead = (
    Vec<CurrentFilter>,
    Option<Ledger>,
    Option<syncscope_core::directory::DirectoryReport>,
    CoOwners,
);

/// A ledger file: `{"entries": [{"Type": "GROUP", "Name": "...", "Domain": "..."}]}`
/// (the stored entries' format).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerFile {
    entries: Vec<store::Entry>,
}

/// Reads a ledger file, or prints why not.
fn read_ledger(path: &Path) -> Result<Ledger, ExitCode> {
    read_json::<LedgerFile>(path, "ledger").map(|file| store::ledger_from(&file.entries))
}

/// Reads a file, or prints why not.
fn read(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        ExitCode::FAILURE
    })
}

fn print_problems(file: &Path, problems: &[Problem]) {
    for p in problems {
        let level = match p.severity {
            config::Severity::Error => "error",
            config::Severity::Warning => "warning",
        };
        eprintln!("{level}: {}: {p}", file.display());
    }
}

fn problems_json(problems: &[Problem], severity: config::Severity) -> serde_json::Value {
    problems
        .iter()
        .filter(|p| p.severity == severity)
        .map(|p| json!({ "path": p.path, "message": p.message }))
        .collect()
}

/// Loads and validates a config; prints problems unless `quiet`.
fn load_config(path: &Path, quiet: bool) -> Result<config::Parsed, (ExitCode, Vec<Problem>)> {
    let text = read(path).map_err(|code| (code, Vec::new()))?;
    match config::parse(&text) {
        Ok(parsed) => {
            if !quiet {
                print_problems(path, &parsed.warnings);
            }
            Ok(parsed)
        }
        Err(invalid) => {
            if !quiet {
                print_problems(path, &invalid.problems);
            }
            Err((ExitCode::FAILURE, invalid.problems))
        }
    }
}

/// A valid config is also one a template can carry: CloudFormation's size and resource
/// limits are checked by synthesising it (the limit named, and how far over).
fn deployable(
    path: &Path,
    parsed: config::Parsed,
    quiet: bool,
) -> Result<config::Parsed, (ExitCode, Vec<Problem>)> {
    use syncscope_core::synth::{self, Options, SynthError};
    let Err(e) = synth::synthesize(&parsed.config, &Options::default()) else {
        return Ok(parsed);
    };
    let where_ = match e {
        SynthError::TooLarge { .. } | SynthError::TooManyResources { .. } => "SSO",
        SynthError::DynamicReference => "",
    };
    let mut problems = parsed.warnings;
    problems.insert(
        0,
        Problem {
            severity: config::Severity::Error,
            path: where_.to_owned(),
            message: e.to_string(),
        },
    );
    if !quiet {
        print_problems(path, &problems[..1]);
    }
    Err((ExitCode::FAILURE, problems))
}

/// `syncscope schema`: the config's JSON Schema, printed or written.
fn schema(write: Option<&Path>) -> ExitCode {
    let text = syncscope_core::settings::schema::render();
    match write {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}

fn validate(path: &Path, as_json: bool) -> ExitCode {
    let result = load_config(path, as_json).and_then(|parsed| deployable(path, parsed, as_json));
    if as_json {
        let (valid, problems, summary) = match &result {
            Ok(parsed) => {
                let c = &parsed.config;
                let summary = json!({
                    "stack_name": c.general.stack_name.as_str(),
                    "groups": c.sso.groups.len(),
                    "users": c.sso.users.len(),
                    "mode": c.sso.mode.as_str(),
                });
                (true, parsed.warnings.clone(), summary)
            }
            Err((_, problems)) => (false, problems.clone(), serde_json::Value::Null),
        };
        let out = json!({
            "file": path.display().to_string(),
            "valid": valid,
            "errors": problems_json(&problems, config::Severity::Error),
            "warnings": problems_json(&problems, config::Severity::Warning),
            "summary": summary,
        });
        println!("{out:#}");
        return if valid {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    match result {
        Ok(parsed) => {
            let c = &parsed.config;
            println!(
                "{}: valid: stack {}, {} group filter{}, {} user filter{}, mode {}{}",
                path.display(),
                c.general.stack_name,
                c.sso.groups.len(),
                plural(c.sso.groups.len()),
                c.sso.users.len(),
                plural(c.sso.users.len()),
                c.sso.mode.as_str(),
                match parsed.warnings.len() {
                    0 => String::new(),
                    n => format!(" ({n} warning{})", plural(n)),
                }
            );
            ExitCode::SUCCESS
        }
        Err((code, problems)) => {
            let errors = problems
                .iter()
                .filter(|p| p.severity == config::Severity::Error)
                .count();
            if errors > 0 {
                eprintln!(
                    "{}: invalid: {errors} error{}",
                    path.display(),
                    plural(errors)
                );
            }
            code
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Reads a JSON file into `T`, naming the file, line and column on error.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, ExitCode> {
    let text = read(path)?;
    serde_json::from_str(&text).map_err(|e| {
        eprintln!(
            "error: {}: not a valid {what} at line {}, column {}: {}",
            path.display(),
            e.line(),
            e.column(),
            config::json_error_text(&e)
        );
        ExitCode::FAILURE
    })
}

/// Prints a plan, its impact and the guards' verdicts; exit 1 if a guard would refuse
/// it.
fn report_plan(
    plan: &Plan,
    config: &config::Config,
    read: Read<'_>,
    format: PlanFormat,
) -> ExitCode {
    let Read {
        impact,
        impact_note,
        directory,
        access,
    } = read;
    let guard = plan.check_guard(&config.sso.guard);
    let max_users = config.sso.guard.max_users_losing_access;
    let people = match impact {
        Some(impact) => check_people_guard(impact, max_users),
        // Without an impact the people guard cannot be checked: a deployment reads
        // the identity store itself and refuses if it cannot tell.
        None => Ok(()),
    };
    let mut warnings: Vec<String> = access.warning.into_iter().collect();
    if impact.is_none() && max_users.is_some() && Needs::of(plan).removes_anything() {
        warnings.push(format!(
            "SSO.DeletionGuard.MaxUsersLosingAccess is set, and this plan could not be checked against it: {}",
            impact_note.as_deref().unwrap_or("no impact")
        ));
    }
    // The directory check's warnings and verdict, as a run reports them.
    let in_ad = match directory {
        Some(report) => {
            warnings.extend(report.warnings());
            config.sso.directory_check.judge(report, plan)
        }
        None => Ok(()),
    };
    let refused: Vec<String> = [
        guard.as_ref().err().map(ToString::to_string),
        people.as_ref().err().map(ToString::to_string),
        in_ad.as_ref().err().cloned(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let preview = Preview {
        profile: config.sso.sync_profile.as_str(),
        plan,
        impact,
        impact_note,
        directory,
        refused: refused.clone(),
        warnings,
        findings: access.findings,
    };
    match format {
        PlanFormat::Json => {
            let out = json!({
                "profile": preview.profile,
                "plan": plan,
                "counts": plan.counts(),
                "guard": guard.as_ref().err(),
                "people_guard": people.as_ref().err().map(ToString::to_string),
                "impact": impact,
                "impact_note": preview.impact_note,
                "directory": directory,
                "refused": refused,
                "warnings": preview.warnings,
                "findings": preview.findings,
            });
            println!("{out:#}");
        }
        PlanFormat::Markdown => print!("{}", preview.markdown()),
        PlanFormat::Text => {
            println!("Profile {}", config.sso.sync_profile);
            println!("{plan}");
            println!("{}", preview.impact_text());
            if let Some(text) = preview.directory_text() {
                println!("{text}");
            }
            if let Some(text) = preview.findings_text() {
                println!("{text}");
            }
            for warning in &preview.warnings {
                eprintln!("warning: {warning}");
            }
            for refusal in &refused {
                eprintln!("error: {refusal}");
            }
        }
    }
    if refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
