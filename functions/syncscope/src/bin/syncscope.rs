//! `syncscope`: validate a config and preview the plan, from a laptop or CI.
//!
//! Exit codes: 0 success; 1 the config, the inputs or the plan were refused (every
//! problem is listed); 2 wrong usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use syncscope_core::config::{self, Problem};
use syncscope_core::plan::{self, Plan};
use syncscope_core::scope::{Ledger, Scope};

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
    /// Show what a run would change: create, remove, adopt, keep, unmanaged.
    Plan {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// A JSON snapshot of the current scope (`{"filters":[{"id","type","name","domain"}]}`).
        #[arg(long)]
        current: PathBuf,
        /// A JSON ledger of the filters this config manages (`{"entries":[...]}`); none = first run.
        #[arg(long)]
        ledger: Option<PathBuf>,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { config, json } => validate(&config, json),
        Command::Plan {
            config,
            current,
            ledger,
            json,
        } => plan_offline(&config, &current, ledger.as_deref(), json),
    }
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

fn validate(path: &Path, as_json: bool) -> ExitCode {
    let result = load_config(path, as_json);
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

fn plan_offline(
    config_path: &Path,
    current: &Path,
    ledger: Option<&Path>,
    as_json: bool,
) -> ExitCode {
    let parsed = match load_config(config_path, false) {
        Ok(parsed) => parsed,
        Err((code, _)) => return code,
    };
    let scope: Scope = match read_json(current, "scope snapshot") {
        Ok(scope) => scope,
        Err(code) => return code,
    };
    let ledger: Ledger = match ledger.map(|l| read_json(l, "ledger")) {
        Some(Ok(ledger)) => ledger,
        Some(Err(code)) => return code,
        None => Ledger::default(),
    };
    let c = &parsed.config;
    let plan = plan::plan(&c.desired(), &scope.filters, &ledger, c.sso.mode);
    report_plan(&plan, c, as_json)
}

/// Prints a plan and the guard's verdict; exit 1 if the guard would refuse it.
fn report_plan(plan: &Plan, config: &config::Config, as_json: bool) -> ExitCode {
    let guard = plan.check_guard(&config.sso.guard);
    if as_json {
        let out = json!({
            "profile": config.sso.sync_profile.as_str(),
            "plan": plan,
            "counts": plan.counts(),
            "guard": guard.as_ref().err(),
        });
        println!("{out:#}");
    } else {
        println!("Profile {}", config.sso.sync_profile);
        println!("{plan}");
        if let Err(tripped) = &guard {
            eprintln!("error: {tripped}");
        }
    }
    if guard.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
