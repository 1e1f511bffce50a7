//! The syncscope Lambda: a CloudFormation custom resource that reconciles the IAM
//! Identity Center sync scope. Builds every client once, then serves events.

// The runtime's future nests the SDK's futures deeply; the default limit (128) is not
// enough to compute its layout since the SDK's 2026 releases.
#![recursion_limit = "256"]

use std::time::Duration;

use lambda_runtime::{Error, service_fn};
use syncscope::app::App;
use syncscope::handler;

/// One thread: the work is I/O-bound, and a Lambda of 256 MB has a fraction of a vCPU;
/// one thread also keeps the allocator to one arena (peak RSS, docs/benchmarks.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    syncscope::logging::init();
    match App::from_env().await {
        Ok(app) => {
            let app: &'static App = Box::leak(Box::new(app));
            lambda_runtime::run(service_fn(move |event| handler::handle(app, event))).await
        }
        Err(reason) => {
            // Still answer CloudFormation, so the stack never waits for a timeout.
            tracing::error!(reason = %reason, "syncscope could not start");
            let reason: &'static str = Box::leak(reason.into_boxed_str());
            let http =
                syncscope::http::client(Duration::from_secs(3), Some(Duration::from_secs(10)))
                    .unwrap_or_default();
            let http: &'static reqwest::Client = Box::leak(Box::new(http));
            lambda_runtime::run(service_fn(move |event| {
                handler::handle_init_failure(http, reason, event)
            }))
            .await
        }
    }
}
