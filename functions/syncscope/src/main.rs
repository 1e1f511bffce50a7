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
    fixed_mmap_threshold();
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

/// Buffers of 128 KiB and more (the rendered page, `groups.json`, SSM and listing
/// bodies) are mapped on their own and unmapped when freed. glibc's default raises this
/// threshold after the first such free, so later large buffers land in the heap and
/// fragment it: at 10,000 filters a Create peaked at 37 MB RSS with the default and 31 MB
/// with a fixed threshold (docs/benchmarks.md, "Whole runs"). Setting any threshold
/// fixes it, which is also what `MALLOC_MMAP_THRESHOLD_` would do.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fixed_mmap_threshold() {
    const THRESHOLD: libc::c_int = 128 * 1024;
    // SAFETY: mallopt takes two integers, changes only the allocator's tuning and takes
    // the allocator's own lock; it runs first thing, before any large allocation.
    #[expect(unsafe_code, reason = "glibc's mallopt has no safe wrapper")]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fixed_mmap_threshold() {}
