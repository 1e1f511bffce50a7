//! Counts the requests the AWS SDK clients send (SSM and S3, retries included), for
//! the outcome log line: with the identity-sync client's own counters, every call a
//! run makes is on one line (`task bench` reads it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// An interceptor counting every attempt of the client it is attached to.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    /// The attempts counted since the last take, and a fresh start (the function runs
    /// one invocation at a time, so a take at the end of a run is that run's count).
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "syncscope::CallCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The counters of the clients a run uses besides identity-sync.
#[derive(Debug, Clone, Default)]
pub struct AwsCalls {
    /// SSM: the filters, the ledger, the webhook parameter.
    pub ssm: CallCounter,
    /// S3: the documentation.
    pub s3: CallCounter,
}
