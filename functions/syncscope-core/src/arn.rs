//! Amazon Resource Names, read in one place: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`
//! (the resource may hold further `:` and `/`). Every ARN syncscope reads (a StackId,
//! a secret's, a directory's, an identity store's) is taken apart here.

/// The parts of an ARN, borrowed from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// `cloudformation`, `secretsmanager`, `ds`, ...
    pub service: &'a str,
    /// The region (empty for global services such as the identity store).
    pub region: &'a str,
    /// The account (empty where the ARN has none).
    pub account: &'a str,
    /// Everything after the account: `stack/NAME/uuid`, `secret:NAME-AbCdEf`, ...
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Takes an ARN apart; None when the text is not one (fewer than six parts, or no
    /// `arn:` prefix).
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Self {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }

    /// The account when it is 12 digits.
    pub fn account_id(&self) -> Option<&'a str> {
        let account = self.account;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
    }

    /// The last segment of the resource (`d-1234567890` of `directory/d-1234567890`).
    pub fn resource_id(&self) -> &'a str {
        self.resource.rsplit('/').next().unwrap_or(self.resource)
    }

    /// The second segment of the resource (`NAME` of a StackId's `stack/NAME/uuid`).
    pub fn resource_name(&self) -> Option<&'a str> {
        self.resource.split('/').nth(1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_arn_syncscope_reads_comes_apart_the_same_way() {
        let stack =
            Arn::parse("arn:aws:cloudformation:eu-central-1:123456789012:stack/My-Stack/1111-2222")
                .unwrap();
        assert_eq!(
            (
                stack.service,
                stack.region,
                stack.account_id(),
                stack.resource_name()
            ),
            (
                "cloudformation",
                "eu-central-1",
                Some("123456789012"),
                Some("My-Stack")
            )
        );
        let secret = Arn::parse(
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a/b:c-AbCdEf",
        )
        .unwrap();
        assert_eq!(secret.partition, "aws-us-gov");
        assert_eq!(secret.resource, "secret:a/b:c-AbCdEf");
        let store =
            Arn::parse("arn:aws:identitystore::123456789012:identitystore/d-1234567890").unwrap();
        assert_eq!((store.region, store.resource_id()), ("", "d-1234567890"));
        assert_eq!(store.resource, "identitystore/d-1234567890");
        let directory =
            Arn::parse("arn:aws:ds:eu-west-1:123456789012:directory/d-9876543210").unwrap();
        assert_eq!(
            (directory.region, directory.resource_id()),
            ("eu-west-1", "d-9876543210")
        );
        for not_an_arn in [
            "",
            "arn:aws:s3",
            "My-Stack",
            "urn:aws:a:b:c:d",
            "arn:aws:x:r:12345",
        ] {
            assert_eq!(Arn::parse(not_an_arn), None, "{not_an_arn}");
        }
        assert_eq!(Arn::parse("arn:aws:x:r:12ab:y").unwrap().account_id(), None);
    }
}
