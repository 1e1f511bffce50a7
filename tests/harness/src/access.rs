//! Seeding the access map in moto: an organization's accounts (with names), permission
//! sets of moto's IAM Identity Center instance, and account assignments to groups and
//! users of its identity store.
//!
//! moto shares one organization and one instance between every world of a test run:
//! each seed makes accounts and permission sets of its own (their ids and ARNs are
//! new), so worlds never see each other's assignments through their own principals.
//! moto's `ListAccountsForProvisionedPermissionSet` answers only its own account
//! (`123456789012`), whatever the assignments say.

use std::collections::HashMap;

use aws_sdk_ssoadmin::types::{PrincipalType, TargetType};

/// moto's own account: the organization's management account.
pub const MANAGEMENT_ACCOUNT: &str = "123456789012";

/// What a seed made: account ids by name, permission set ARNs by name.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// The instance's ARN.
    pub instance_arn: String,
    /// Account ids by account name.
    pub accounts: HashMap<String, String>,
    /// Permission set ARNs by name.
    pub sets: HashMap<String, String>,
}

impl Seeded {
    /// The id of a seeded account (or moto's own for `MANAGEMENT_ACCOUNT`).
    pub fn account(&self, name: &str) -> String {
        if name == MANAGEMENT_ACCOUNT {
            return name.to_owned();
        }
        self.accounts
            .get(name)
            .unwrap_or_else(|| panic!("account {name} was not seeded"))
            .clone()
    }
}

/// A principal to assign.
#[derive(Debug, Clone, Copy)]
pub enum To<'a> {
    /// A group id.
    Group(&'a str),
    /// A user id.
    User(&'a str),
}

/// Creates the organization (once per moto), an account per name, and a permission
/// set per name (session duration 8 hours), provisioned.
pub async fn seed(sdk: &aws_config::SdkConfig, accounts: &[&str], sets: &[&str]) -> Seeded {
    let orgs = aws_sdk_organizations::Client::new(sdk);
    if let Err(e) = orgs
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
    {
        let exists = e
            .as_service_error()
            .is_some_and(|s| s.is_already_in_organization_exception());
        assert!(exists, "create moto's organization: {e:?}");
    }
    let mut seeded = Seeded {
        instance_arn: instance_arn(sdk).await,
        ..Seeded::default()
    };
    for name in accounts {
        let created = orgs
            .create_account()
            .account_name(*name)
            .email(format!("{}@example.com", name.replace(' ', "-")))
            .send()
            .await
            .expect("create an account in moto's organization");
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .expect("moto names the new account's id")
            .to_owned();
        seeded.accounts.insert((*name).to_owned(), id);
    }
    let admin = aws_sdk_ssoadmin::Client::new(sdk);
    for name in sets {
        let arn = admin
            .create_permission_set()
            .instance_arn(&seeded.instance_arn)
            .name(*name)
            .session_duration("PT8H")
            .send()
            .await
            .expect("create a permission set in moto")
            .permission_set()
            .and_then(|p| p.permission_set_arn())
            .expect("moto names the permission set's ARN")
            .to_owned();
        admin
            .provision_permission_set()
            .instance_arn(&seeded.instance_arn)
            .permission_set_arn(&arn)
            .target_type(aws_sdk_ssoadmin::types::ProvisionTargetType::AllProvisionedAccounts)
            .send()
            .await
            .expect("provision a permission set in moto");
        seeded.sets.insert((*name).to_owned(), arn);
    }
    seeded
}

/// Assigns `set` (a seeded name) in `account` (a seeded name, or moto's own id) to
/// `to`.
pub async fn assign(
    sdk: &aws_config::SdkConfig,
    seeded: &Seeded,
    to: To<'_>,
    account: &str,
    set: &str,
) {
    let (kind, id) = match to {
        To::Group(id) => (PrincipalType::Group, id),
        To::User(id) => (PrincipalType::User, id),
    };
    aws_sdk_ssoadmin::Client::new(sdk)
        .create_account_assignment()
        .instance_arn(&seeded.instance_arn)
        .target_id(seeded.account(account))
        .target_type(TargetType::AwsAccount)
        .permission_set_arn(
            seeded
                .sets
                .get(set)
                .unwrap_or_else(|| panic!("permission set {set} was not seeded")),
        )
        .principal_type(kind)
        .principal_id(id)
        .send()
        .await
        .expect("create an account assignment in moto");
}

/// The ARN of moto's IAM Identity Center instance.
pub async fn instance_arn(sdk: &aws_config::SdkConfig) -> String {
    crate::world::instance(sdk)
        .await
        .instance_arn()
        .expect("moto's instance has an ARN")
        .to_owned()
}
