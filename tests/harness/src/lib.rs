//! Real local servers for syncscope's end-to-end tests, the local lifecycle
//! (`task local`) and the benchmarks. Everything binds 127.0.0.1 and stops by itself.
//!
//! # Layout
//! - [`paths`]: where the workspace, its built binaries and the tool venv are.
//! - [`moto`]: a moto server process (SSM, S3, Identity Store, sso-admin).
//! - [`access`]: the access map's seed in moto: accounts with names, permission sets,
//!   account assignments.
//! - [`sink`]: an HTTP sink that records requests and answers scripted statuses
//!   (the Teams webhook, CloudFormation's ResponseURL).
//! - [`github`]: a stand-in for GitHub's issue-comments API (list with pagination,
//!   create, update), for the plan-and-comment script of the CI workflow.
//! - [`runtime_api`]: the Lambda Runtime API, to drive the real Lambda binary.
//! - [`lambda`]: the Lambda binary as a child process, its logs captured.
//! - [`world`]: all of the above wired together for one test, with CloudFormation
//!   events and SSM filters written the way the deployment writes them.

// Test support: when a local server cannot start, panicking with the reason is the
// right failure for the test that asked for it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod access;
pub mod github;
pub mod lambda;
pub mod moto;
pub mod paths;
pub mod runtime_api;
pub mod sink;
pub mod world;

/// Starts a small tokio runtime on its own thread and runs `future` on it until
/// `shutdown` fires; returns once the future has been started.
pub(crate) fn spawn_server<F>(name: &str, future: F) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || runtime.block_on(future))
}
