//! syncscope: the Lambda custom resource and its adapters (the CLI, package
//! `syncscope-cli`, uses the adapters for its live modes).
//!
//! # Layout
//! - [`app`]: every client, built once per cold start.
//! - [`handler`]: one CloudFormation event in, exactly one response out.
//! - [`reconcile`]: load, list, plan, guard, apply, verify, record.
//! - [`report`]: the outcome to logs, the docs bucket and Teams; problems become warnings.
//! - [`identity_store`]: which groups Identity Center has synced, and their members.
//! - [`access`]: the access map: each principal's permission sets in accounts
//!   (sso-admin, Organizations' account names).
//! - [`publish`]: the documentation into the S3 docs bucket (live and history).
//! - [`teams`]: the webhook URL (SSM, Secrets Manager, literal) and the card's POST.
//! - [`engine`]: what changes the scope, by `SSO.Engine`: identity-sync's filters, or a
//!   parent group's members.
//! - [`executor`]: applies a plan through an engine (bounded concurrency, a deadline,
//!   failed changes settled from a listing).
//! - [`identity_sync`]: the identity-sync API: wire contract, signed client.
//! - [`parent_group`]: the parent group's members (Directory Service Data).
//! - [`ssm`]: filters and the ownership records (every stack's of a profile) in SSM.
//! - [`stacks`]: whether the stack behind another ownership record still exists.
//! - [`directory`]: the directory check (Directory Service Data).
//! - [`aws_calls`]: counts of the SDK clients' requests, per run.
//! - [`http`]: the HTTPS client (compiled-in roots, no CA bundle to parse at start).
//! - [`cfn_response`]: the PUT to CloudFormation's ResponseURL.
//! - [`retry`]: the retry policy of the calls syncscope makes itself (backoff, jitter,
//!   deadline); the SDK clients keep the SDK's.
//! - [`logging`]: tracing set-up (JSON on Lambda).
//! - [`trust`]: which stack the function acts for, and where its answers may go.
//! - [`faults`]: the faults tests inject (the `test-hooks` feature only).
//!
//! The pure core (config, planner, outcome and response models) is `syncscope-core`.

pub mod access;
pub mod app;
pub mod aws_calls;
pub mod cfn_response;
pub mod directory;
pub mod engine;
pub mod executor;
pub mod faults;
pub mod handler;
pub mod http;
pub mod identity_store;
pub mod identity_sync;
pub mod logging;
pub mod parent_group;
pub mod publish;
pub mod reconcile;
pub mod report;
pub mod retry;
pub mod ssm;
pub mod stacks;
pub mod teams;
pub mod trust;

/// An environment of fixed variables, for the tests of what reads one.
#[cfg(test)]
pub(crate) fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// Small values for the unit tests of the run's modules.
#[cfg(test)]
pub(crate) mod fixtures {
    use syncscope_core::plan::{Action, Op};
    use syncscope_core::scope::{CurrentFilter, FilterKind};

    /// A group change in `corp.example.com`.
    pub(crate) fn action(op: Op, name: &str, id: Option<&str>) -> Action {
        Action {
            op,
            kind: FilterKind::Group,
            name: name.into(),
            domain: "corp.example.com".into(),
            id: id.map(str::to_owned),
            description: String::new(),
            wanted_by: Vec::new(),
            undo: false,
        }
    }

    /// Listed groups in `corp.example.com`, as (id, name).
    pub(crate) fn listed(names: &[(&str, &str)]) -> Vec<CurrentFilter> {
        names
            .iter()
            .map(|(id, name)| CurrentFilter {
                id: (*id).into(),
                kind: FilterKind::Group,
                name: (*name).into(),
                domain: "corp.example.com".into(),
            })
            .collect()
    }
}
