//! The syncscope Lambda: a CloudFormation custom resource that reconciles the IAM
//! Identity Center sync scope. Builds every client once, then serves events.

use lambda_runtime::{Error, service_fn};
use syncscope::app::App;
use syncscope::handler;

#[tokio::main]
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
            let http: &'static reqwest::Client = Box::leak(Box::new(reqwest::Client::new()));
            lambda_runtime::run(service_fn(move |event| {
                handler::handle_init_failure(http, reason, event)
            }))
            .await
        }
    }
}
