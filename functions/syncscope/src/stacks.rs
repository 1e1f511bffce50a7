//! The CloudFormation adapter: whether the stack behind another ownership record of
//! the same sync profile still exists (`DescribeStacks` by its StackId).
//!
//! A stack that is `DELETE_COMPLETE`, or that CloudFormation says does not exist, is
//! gone: its record counts for nothing and the next run of the profile removes it.
//! Anything else, an error or no answer in time included, counts as alive: a run
//! never removes a name on a doubt.

use aws_sdk_cloudformation::types::StackStatus;
use syncscope_core::scope::{CoOwners, ProfileKey};
use tokio::time::Instant;

use crate::ssm::{CoRecord, ParameterStore, SsmError};

/// The other stacks of a sync profile, as a run (or `syncscope plan`) must see them.
#[derive(Debug, Default)]
pub struct OtherStacks {
    /// What the live ones (and those that could not be looked up) list.
    pub co: CoOwners,
    /// Records of stacks that no longer exist, with why: they count for nothing.
    pub dead: Vec<(CoRecord, String)>,
    /// One line per stack that could not be looked up (it counts as alive).
    pub warnings: Vec<String>,
}

/// Reads every other stack's record of `key` under `owners` and asks CloudFormation,
/// before `by`, whether each stack still exists.
pub async fn other_stacks(
    ssm: &ParameterStore,
    stacks: &StackReader,
    owners: &str,
    key: &ProfileKey,
    own_stack: &str,
    by: Instant,
) -> Result<OtherStacks, SsmError> {
    let records = ssm.read_co_owners(owners, key, own_stack).await?;
    let looked_up = futures_util::future::join_all(records.iter().map(|r| async move {
        match &r.stack_id {
            Some(id) => stacks.liveness(id, by).await,
            None => Liveness::Unknown("its record names no StackId".to_owned()),
        }
    }))
    .await;
    let mut out = OtherStacks::default();
    for (record, liveness) in records.into_iter().zip(looked_up) {
        match liveness {
            Liveness::Gone(why) => out.dead.push((record, why)),
            Liveness::Alive => out.co.add(&record.stack, &record.record.ledger),
            Liveness::Unknown(why) => {
                tracing::warn!(stack = %record.stack, why = %why, "could not tell whether a co-owning stack exists; it counts as alive");
                out.warnings.push(format!(
                    "could not tell whether stack {} still exists ({why}); the names its record lists count as wanted",
                    record.stack
                ));
                out.co.add(&record.stack, &record.record.ledger);
            }
        }
    }
    Ok(out)
}

/// What CloudFormation says of a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// It exists (any status but `DELETE_COMPLETE`).
    Alive,
    /// It was deleted, or never existed: why.
    Gone(String),
    /// It could not be looked up (permission, throttling, no answer in time): why.
    /// Counts as alive.
    Unknown(String),
}

/// Looks stacks up in CloudFormation.
#[derive(Debug, Clone)]
pub struct StackReader {
    sdk: aws_config::SdkConfig,
}

impl StackReader {
    /// A reader with the function's SDK configuration; each lookup asks the region
    /// its StackId names.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { sdk: sdk.clone() }
    }

    /// Whether the stack `stack_id` (an ARN) still exists, asked before `by`.
    pub async fn liveness(&self, stack_id: &str, by: Instant) -> Liveness {
        let Some(region) = region_of(stack_id) else {
            return Liveness::Unknown(format!("{stack_id:?} is not a CloudFormation stack ARN"));
        };
        let client = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::config::Builder::from(&self.sdk)
                .region(aws_config::Region::new(region.to_owned()))
                .build(),
        );
        let asked = client.describe_stacks().stack_name(stack_id).send();
        match tokio::time::timeout_at(by, asked).await {
            Err(_) => Liveness::Unknown("CloudFormation did not answer in time".to_owned()),
            Ok(Ok(out)) => match out.stacks().first().and_then(|s| s.stack_status()) {
                Some(StackStatus::DeleteComplete) => Liveness::Gone("DELETE_COMPLETE".to_owned()),
                Some(_) => Liveness::Alive,
                None => Liveness::Unknown("CloudFormation described no stack".to_owned()),
            },
            Ok(Err(e)) => {
                // CloudFormation's documented answer for a stack it does not know: a
                // ValidationError "Stack with id ... does not exist".
                let service = e.as_service_error();
                let code = service.and_then(|s| s.meta().code()).unwrap_or_default();
                let message = service.and_then(|s| s.meta().message()).unwrap_or_default();
                if code == "ValidationError" && message.contains("does not exist") {
                    Liveness::Gone("does not exist".to_owned())
                } else {
                    Liveness::Unknown(crate::http::sdk_error(&e).to_string())
                }
            }
        }
    }
}

/// The region of a stack ARN (`arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/...`).
fn region_of(stack_id: &str) -> Option<&str> {
    let mut parts = stack_id.splitn(6, ':');
    let (arn, _, service, region) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (arn == "arn" && service == "cloudformation" && !region.is_empty()).then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_the_stack_arn_only() {
        assert_eq!(
            region_of("arn:aws:cloudformation:eu-west-1:123456789012:stack/A/uuid"),
            Some("eu-west-1")
        );
        assert_eq!(region_of("arn:aws:sns:eu-west-1:1:topic"), None);
        assert_eq!(region_of("stack-name"), None);
    }
}
