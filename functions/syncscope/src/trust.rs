//! Trust boundaries as checked lists: which stack the function acts for, and where a
//! CloudFormation answer may go. Whoever can invoke the function (or write its event)
//! chooses the event; these checks decide what of it is obeyed.
//!
//! - **Its own stack.** The template hands the function its StackId
//!   (`SYNCSCOPE_STACK_ID`); a CloudFormation or drift event of any other stack
//!   changes nothing. Without the variable (a function deployed by hand, the tests'
//!   worlds) every stack's events are served.
//! - **CloudFormation's response hosts.** A ResponseURL is `https` on a host that
//!   begins `cloudformation-custom-resource-response-` and ends `.amazonaws.com` or
//!   `.amazonaws.com.cn` (every partition's S3 endpoints). With the `test-hooks`
//!   feature, never in the shipped zip, also a loopback address (the tests' sinks).

use syncscope_core::arn::Arn;

/// The environment variable with the function's own StackId (set by the template).
pub const STACK_ID_ENV: &str = "SYNCSCOPE_STACK_ID";

/// The StackId the function acts for (None: any; the variable is unset).
pub fn own_stack_id() -> Option<String> {
    std::env::var(STACK_ID_ENV)
        .ok()
        .filter(|id| !id.trim().is_empty())
}

/// The account of the function's own stack (from its StackId): the one its docs
/// bucket must belong to.
pub fn own_account() -> Option<String> {
    own_stack_id().and_then(|id| account_of(&id).map(str::to_owned))
}

/// The 12-digit account of a StackId.
fn account_of(stack_id: &str) -> Option<&str> {
    Arn::parse(stack_id)?.account_id()
}

pub use syncscope_core::request::{is_own_stack, stack_name};

/// Whether `host` is a loopback address the tests' local sinks listen on, allowed only
/// with the `test-hooks` feature (never in the shipped zip): the one exemption of the
/// ResponseURL and webhook checks.
pub fn is_test_loopback(host: &str) -> bool {
    cfg!(feature = "test-hooks")
        && (host.eq_ignore_ascii_case("localhost")
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
}

/// Whether CloudFormation's answer may be PUT to `url`; `Err` says why not (never
/// repeating the URL, which is a secret).
pub fn check_response_url(url: &str) -> Result<(), &'static str> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "it is not a URL")?;
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if is_test_loopback(&host) {
        return Ok(());
    }
    if parsed.scheme() != "https" {
        return Err("it is not https");
    }
    let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
    if host.starts_with("cloudformation-custom-resource-response-") && aws {
        Ok(())
    } else {
        Err("its host is not one of CloudFormation's response hosts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cloudformations_response_hosts_over_https_are_answered() {
        for ok in [
            "https://cloudformation-custom-resource-response-useast1.s3-us-east-1.amazonaws.com/a?X-Amz-Signature=s",
            "https://cloudformation-custom-resource-response-euc1.s3.amazonaws.com/a",
            "https://cloudformation-custom-resource-response-eucentral1.s3.eu-central-1.amazonaws.com/a",
            "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/a",
        ] {
            assert_eq!(check_response_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a",
            "https://attacker.example.com/cloudformation-custom-resource-response-x",
            "https://cloudformation-custom-resource-response-x.amazonaws.com.attacker.example/a",
            "https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1/a",
            "not a url",
        ] {
            assert!(check_response_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_response_url("http://127.0.0.1:9/response").is_ok(),
            cfg!(feature = "test-hooks"),
            "loopback only with test-hooks"
        );
    }

    #[test]
    fn the_docs_buckets_expected_owner_is_the_stacks_account() {
        assert_eq!(
            account_of("arn:aws:cloudformation:eu-central-1:123456789012:stack/P/1"),
            Some("123456789012")
        );
        assert_eq!(
            account_of("arn:aws:cloudformation:eu-central-1::stack/P/1"),
            None
        );
        assert_eq!(account_of("Prod"), None);
    }
}
