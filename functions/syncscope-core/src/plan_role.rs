//! The read-only plan role: a second CloudFormation template (`syncscope synth
//! --plan-role`) with an IAM role that CI runs of one GitHub repository assume through
//! the account's OIDC provider for `token.actions.githubusercontent.com`, to run
//! `syncscope plan` (live) and `syncscope doctor` against the stack.
//!
//! Pure and deterministic, as [`crate::synth`]. The role:
//!
//! - trusts only tokens whose audience is `sts.amazonaws.com` and whose subject is
//!   one of [`subjects`]: the repository's pull-request runs and its runs on
//!   `general.CiBranches`, compared exactly (`StringEquals`, no wildcard);
//! - lasts at most [`MAX_SESSION_SECONDS`] a session;
//! - may only read ([`policy_statements`]): what `plan` and `doctor` call, on the
//!   stack's own resources (the identity-sync profile, the stack's SSM paths, the
//!   identity store, the directory, the docs bucket), and nothing that writes. The
//!   Teams webhook is not readable: it is a secret, and a pull request's workflow
//!   must not be able to read it (doctor's webhook line fails under this role).
//!
//! The account needs an OIDC provider for GitHub once; the template creates it when
//! its parameter [`ids::CREATE_OIDC_PROVIDER`] is `true`.

use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::directory::DirectoryCheck;
use crate::names::CiRepository;
use crate::store::ParameterNames;
use crate::synth::{
    access_map_statements, directory_read_statement, get_att, identity_center_region,
    identity_store_statement, lit, parent_group_read_statement, reference, render, ssm_statement,
    sub, sync_profile_arn,
};

/// The host of GitHub Actions' OIDC tokens (the provider's URL, without `https://`,
/// and the prefix of its condition keys).
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";
/// The audience GitHub's `aws-actions/configure-aws-credentials` asks for.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// The longest session the role gives, in seconds: a plan takes minutes.
pub const MAX_SESSION_SECONDS: u32 = 3600;
/// The verbs of read actions: every action of the role's policy starts with one of
/// them, or is in [`READ_GATES`].
pub const READ_VERBS: &[&str] = &["Get", "List", "Describe", "Search", "BatchGet"];
/// Actions that are not named by a read verb but grant no write: `ds:AccessDSData`
/// is the gate every Directory Service Data call needs beside its own action (it is
/// in the AWS managed policy `AWSDirectoryServiceDataReadOnlyAccess`); the role's
/// only ds-data actions are reads.
pub const READ_GATES: &[&str] = &["ds:AccessDSData"];

/// Logical ids of the plan role's template.
pub mod ids {
    /// The role.
    pub const ROLE: &str = "PlanRole";
    /// The optional OIDC provider for GitHub.
    pub const OIDC_PROVIDER: &str = "GitHubOidcProvider";
    /// Template parameter: create the OIDC provider (`true`) or use the account's
    /// (`false`, the default).
    pub const CREATE_OIDC_PROVIDER: &str = "CreateOidcProvider";
    /// Condition: the parameter is `true`.
    pub const CREATING_OIDC_PROVIDER: &str = "CreatingOidcProvider";
}

/// Why there is no plan role for a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRoleError {
    /// The config names no repository to trust.
    #[error(
        "general.CiRepository is not set: the plan role trusts the runs of one GitHub repository; set it to owner/name (e.g. \"acme/sso-config\")"
    )]
    NoRepository,
}

/// A synthesised plan role.
#[derive(Debug, Clone)]
pub struct PlanRole {
    /// The stack the template is meant for: `{stack}-plan-role`.
    pub stack_name: String,
    /// The repository whose runs may assume it.
    pub repository: CiRepository,
    /// The token subjects it trusts.
    pub subjects: Vec<String>,
    /// The template.
    pub template: Value,
    /// The template as written to disk (pretty JSON, trailing newline).
    pub text: String,
}

/// The subjects (`sub`) of GitHub's OIDC tokens the role trusts: pull-request runs of
/// the repository, then runs on each of `general.CiBranches`.
pub fn subjects(repository: &CiRepository, config: &Config) -> Vec<String> {
    std::iter::once(repository.pull_request_subject())
        .chain(
            config
                .general
                .ci_branches
                .branches()
                .iter()
                .map(|b| repository.branch_subject(b)),
        )
        .collect()
}

/// The ARN of the account's OIDC provider for GitHub (`Fn::Sub` form).
fn provider_arn() -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{GITHUB_OIDC_HOST}"
    ))
}

/// The role's trust policy: `sts:AssumeRoleWithWebIdentity` through GitHub's OIDC
/// provider, for the audience [`AUDIENCE`] and exactly these subjects.
pub fn trust_policy(subjects: &[String]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsOfTheRepository",
            "Effect": "Allow",
            "Principal": {
                "Federated": {
                    "Fn::If": [ids::CREATING_OIDC_PROVIDER, reference(ids::OIDC_PROVIDER), provider_arn()],
                },
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    format!("{GITHUB_OIDC_HOST}:aud"): AUDIENCE,
                    format!("{GITHUB_OIDC_HOST}:sub"): subjects,
                },
            },
        }],
    })
}

/// The role's policy statements: what `plan` (live) and `doctor` read, on the stack's
/// resources. Every statement has a `Sid` naming its purpose; `docs/deployment.md`
/// explains each.
pub fn policy_statements(config: &Config, names: &ParameterNames) -> Vec<Value> {
    let region = identity_center_region(config);
    let profile = lit(config.sso.sync_profile.as_str());
    // The ownership records of this profile (every stack's: plan counts what the
    // others still want), and this stack's records from before co-ownership.
    let owners = format!("{}/{region}/{profile}", lit(&names.owners));
    let owners_arn = |path: &str| {
        sub(format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{path}"
        ))
    };
    let mut statements = vec![
        json!({
            "Sid": "ReadSyncScope",
            "Effect": "Allow",
            // plan: ListSyncFilters (and GetSyncProfile for the directory check without
            // SSO.DirectoryId); doctor: the profile, its target, both listings.
            "Action": [
                "identity-sync:GetSyncProfile",
                "identity-sync:GetSyncTarget",
                "identity-sync:ListSyncFilters",
            ],
            "Resource": [
                sync_profile_arn(config, &region),
                sub(format!(
                    "arn:${{AWS::Partition}}:identity-sync:{region}:${{AWS::AccountId}}:target/{profile}/*"
                )),
            ],
        }),
        ssm_statement(
            "ReadDesiredFilters",
            &["ssm:GetParameter", "ssm:GetParametersByPath"],
            &names.filters_base,
        ),
        ssm_statement(
            "ReadLedger",
            &["ssm:GetParameter", "ssm:GetParametersByPath"],
            &names.ledger,
        ),
        json!({
            "Sid": "ReadOwnershipRecords",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
            "Resource": [owners_arn(&owners), owners_arn(&format!("{owners}/*"))],
        }),
        json!({
            "Sid": "LookUpCoOwningStacks",
            "Effect": "Allow",
            // Whether the stack behind another record still exists (any stack name).
            "Action": "cloudformation:DescribeStacks",
            "Resource": sub("arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/*/*"),
        }),
        identity_store_statement(config),
        json!({
            "Sid": "FindIdentityCenter",
            "Effect": "Allow",
            // No resource type: sso:ListInstances takes only "*". doctor always asks.
            "Action": "sso:ListInstances",
            "Resource": "*",
        }),
    ];
    // The plan names what users lose: the same reads as the function's access map.
    statements.extend(access_map_statements());
    if config.sso.directory_check != DirectoryCheck::Off {
        statements.push(directory_read_statement(config, &region));
    }
    statements.extend(parent_group_read_statement(config, &region));
    statements.push(json!({
        "Sid": "CheckDocsBucket",
        "Effect": "Allow",
        // doctor's HeadBucket; nothing is read from the bucket.
        "Action": "s3:ListBucket",
        "Resource": sub(format!(
            "arn:${{AWS::Partition}}:s3:::{}",
            lit(config.general.docs_bucket.as_str())
        )),
        "Condition": { "StringEquals": { "aws:ResourceAccount": sub("${AWS::AccountId}") } },
    }));
    statements.push(json!({
        "Sid": "WhoAmI",
        "Effect": "Allow",
        // doctor's credentials check. No resource type: "*" only.
        "Action": "sts:GetCallerIdentity",
        "Resource": "*",
    }));
    statements
}

/// Synthesises the plan role's template for a config.
pub fn synthesize(config: &Config) -> Result<PlanRole, PlanRoleError> {
    let repository = config
        .general
        .ci_repository
        .clone()
        .ok_or(PlanRoleError::NoRepository)?;
    let stack = config.general.stack_name.as_str();
    let names = ParameterNames::for_stack(stack);
    let subjects = subjects(&repository, config);
    let mut resources = Map::new();
    resources.insert(
        ids::OIDC_PROVIDER.into(),
        json!({
            "Type": "AWS::IAM::OIDCProvider",
            "Condition": ids::CREATING_OIDC_PROVIDER,
            // Other roles of the account may trust it: deleting this stack keeps it.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Url": format!("https://{GITHUB_OIDC_HOST}"),
                "ClientIdList": [AUDIENCE],
            },
        }),
    );
    resources.insert(
        ids::ROLE.into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": format!("syncscope {stack}: read-only plan role for GitHub Actions runs of {repository}"),
                "MaxSessionDuration": MAX_SESSION_SECONDS,
                "AssumeRolePolicyDocument": trust_policy(&subjects),
                "Policies": [{
                    "PolicyName": "syncscope-plan-read-only",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": policy_statements(config, &names),
                    },
                }],
            },
        }),
    );
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "syncscope {stack}: a read-only role for syncscope plan and doctor in CI, assumable by GitHub Actions runs of {repository}"
        ),
        "Metadata": {
            "syncscope": {
                "Stack": stack,
                "Repository": repository.as_str(),
                "Subjects": subjects,
                "GeneratedBy": "syncscope synth --plan-role (do not edit: edit the config and synthesise again)",
            }
        },
        "Parameters": {
            ids::CREATE_OIDC_PROVIDER: {
                "Type": "String",
                "Description": "true: create the account's OIDC provider for token.actions.githubusercontent.com (once per account; kept when the stack is deleted). false: the account has it already",
                "AllowedValues": ["false", "true"],
                "Default": "false",
            },
        },
        "Conditions": {
            ids::CREATING_OIDC_PROVIDER: { "Fn::Equals": [reference(ids::CREATE_OIDC_PROVIDER), "true"] },
        },
        "Resources": resources,
        "Outputs": {
            "PlanRoleArn": {
                "Description": "The role CI assumes (role-to-assume of aws-actions/configure-aws-credentials)",
                "Value": get_att(ids::ROLE, "Arn"),
            },
            "PlanRoleSubjects": {
                "Description": "The GitHub OIDC token subjects the role trusts",
                "Value": subjects.join(","),
            },
        },
    });
    let text = render(&template);
    Ok(PlanRole {
        stack_name: format!("{stack}-plan-role"),
        repository,
        subjects,
        template,
        text,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::config;

    /// The seed config with these keys set.
    fn config_with(general_extra: Value, sso_extra: Value) -> Config {
        let mut doc: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/config/valid/seed-only.json"
        ))
        .unwrap();
        for (section, extra) in [("general", general_extra), ("SSO", sso_extra)] {
            if let Value::Object(extra) = extra {
                for (k, v) in extra {
                    doc[section][k] = v;
                }
            }
        }
        config::from_value(&doc).unwrap().config
    }

    fn ci() -> Config {
        config_with(json!({"CiRepository": "acme/sso-config"}), json!({}))
    }

    fn statements(role: &PlanRole) -> &Vec<Value> {
        role.template["Resources"][ids::ROLE]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap()
    }

    fn actions(statement: &Value) -> Vec<&str> {
        match &statement["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
            other => panic!("Action {other}"),
        }
    }

    /// Whether an action only reads: its verb is a read verb, or it is a read gate.
    fn reads_only(action: &str) -> bool {
        let Some((service, verb)) = action.split_once(':') else {
            return false;
        };
        !service.is_empty()
            && !verb.contains('*')
            && !verb.contains('?')
            && (READ_VERBS.iter().any(|v| verb.starts_with(v)) || READ_GATES.contains(&action))
    }

    #[test]
    fn the_read_classifier_refuses_writes_and_wildcards() {
        for write in [
            "identity-sync:CreateSyncFilter",
            "identity-sync:DeleteSyncFilter",
            "identity-sync:StartSync",
            "ssm:PutParameter",
            "ssm:DeleteParameters",
            "s3:PutObject",
            "kms:Decrypt",
            "ds-data:CreateUser",
            "ssm:Get*",
            "ssm:*",
            "*",
        ] {
            assert!(!reads_only(write), "{write}");
        }
        assert!(reads_only("identity-sync:ListSyncFilters"));
    }

    #[test]
    fn the_plan_roles_policy_has_no_write_action_whatever_the_config() {
        let configs = [
            ci(),
            config_with(
                json!({"CiRepository": "acme/sso-config", "Region": "eu-west-1"}),
                json!({"IdentityStoreId": "d-0123456789", "DirectoryId": "d-0123456789", "DirectoryCheck": "require"}),
            ),
            config_with(
                json!({"CiRepository": "acme/sso-config", "WebhookUrlTeams": "https://example.webhook.office.com/webhookb2/x"}),
                json!({"DirectoryCheck": "off"}),
            ),
            config_with(
                json!({"CiRepository": "acme/sso-config"}),
                json!({"Engine": "parent-group", "ParentGroup": "Parent", "DirectoryId": "d-0123456789", "DirectoryCheck": "off"}),
            ),
        ];
        for config in &configs {
            let role = synthesize(config).unwrap();
            for st in statements(&role) {
                assert_eq!(st["Effect"], "Allow");
                for action in actions(st) {
                    assert!(reads_only(action), "{action} is not a read: {st}");
                }
                if st["Resource"] == "*" {
                    let a = actions(st);
                    assert!(
                        a == ["sso:ListInstances"]
                            || a == ["sts:GetCallerIdentity"]
                            || a == ["organizations:ListAccounts"],
                        "only actions without a resource type may use *: {st}"
                    );
                }
            }
            // No secret: neither the webhook nor a key to decrypt it.
            assert!(!role.text.contains("kms:"), "{}", role.text);
            assert!(!role.text.contains("secretsmanager:"));
            assert!(!role.text.contains("teams-webhook"));
        }
    }

    #[test]
    fn under_the_parent_group_engine_the_role_reads_the_parents_members_and_writes_none() {
        let config = config_with(
            json!({"CiRepository": "acme/sso-config"}),
            json!({"Engine": "parent-group", "ParentGroup": "Parent", "DirectoryId": "d-0123456789"}),
        );
        let role = synthesize(&config).unwrap();
        let read = statements(&role)
            .iter()
            .find(|st| st["Sid"] == "ReadParentGroup")
            .expect("a ReadParentGroup statement");
        assert_eq!(
            actions(read),
            [
                "ds-data:DescribeGroup",
                "ds-data:ListGroupMembers",
                "ds:AccessDSData"
            ]
        );
        assert!(
            read["Resource"]
                .to_string()
                .contains("directory/d-0123456789"),
            "{read}"
        );
        assert!(!role.text.contains("AddGroupMember") && !role.text.contains("RemoveGroupMember"));
    }

    #[test]
    fn the_policy_grants_what_plan_and_doctor_read_on_the_stacks_resources() {
        let role = synthesize(&ci()).unwrap();
        let mut all: Vec<&str> = statements(&role).iter().flat_map(actions).collect();
        all.sort_unstable();
        assert_eq!(
            all,
            [
                "cloudformation:DescribeStacks",
                "ds-data:DescribeUser",
                "ds-data:ListGroupMembers",
                "ds-data:ListGroups",
                "ds-data:ListUsers",
                "ds:AccessDSData",
                "identity-sync:GetSyncProfile",
                "identity-sync:GetSyncTarget",
                "identity-sync:ListSyncFilters",
                "identitystore:DescribeUser",
                "identitystore:GetUserId",
                "identitystore:ListGroupMemberships",
                "identitystore:ListGroupMembershipsForMember",
                "identitystore:ListGroups",
                "organizations:ListAccounts",
                "s3:ListBucket",
                "ssm:GetParameter",
                "ssm:GetParameter",
                "ssm:GetParameter",
                "ssm:GetParametersByPath",
                "ssm:GetParametersByPath",
                "ssm:GetParametersByPath",
                "sso:DescribePermissionSet",
                "sso:ListAccountAssignments",
                "sso:ListAccountAssignmentsForPrincipal",
                "sso:ListAccountsForProvisionedPermissionSet",
                "sso:ListInstances",
                "sso:ListPermissionSets",
                "sts:GetCallerIdentity",
            ]
        );
        let find = |sid: &str| {
            statements(&role)
                .iter()
                .find(|st| st["Sid"] == sid)
                .unwrap_or_else(|| panic!("no statement {sid}"))
                .clone()
        };
        assert_eq!(
            find("ReadSyncScope")["Resource"][0],
            sub(
                "arn:${AWS::Partition}:identity-sync:${AWS::Region}:${AWS::AccountId}:profile/SynchronizationToActiveDirectoryAwsSso"
            )
        );
        let ssm = |path: &str| {
            sub(format!(
                "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{path}"
            ))
        };
        assert_eq!(
            find("ReadDesiredFilters")["Resource"],
            json!([
                ssm("/syncscope/COMPANY-SSO-AD-GroupSync-TEST/filters"),
                ssm("/syncscope/COMPANY-SSO-AD-GroupSync-TEST/filters/*")
            ])
        );
        assert_eq!(
            find("ReadOwnershipRecords")["Resource"],
            json!([
                ssm("/syncscope/owners/${AWS::Region}/SynchronizationToActiveDirectoryAwsSso"),
                ssm("/syncscope/owners/${AWS::Region}/SynchronizationToActiveDirectoryAwsSso/*")
            ]),
            "the records of this profile only"
        );
        assert_eq!(
            find("CheckDocsBucket")["Resource"],
            sub("arn:${AWS::Partition}:s3:::company-sso-docs")
        );
        // A configured region narrows identity-sync and the records to it.
        let west = synthesize(&config_with(
            json!({"CiRepository": "acme/sso-config", "Region": "eu-west-1"}),
            json!({"DirectoryCheck": "off"}),
        ))
        .unwrap();
        assert!(
            west.text
                .contains("identity-sync:eu-west-1:${AWS::AccountId}:profile/")
        );
        assert!(west.text.contains("parameter/syncscope/owners/eu-west-1/"));
        assert!(
            !west.text.contains("ds-data:"),
            "the directory check is off"
        );
    }

    #[test]
    fn only_the_configured_repositorys_pull_requests_and_branches_may_assume_the_role() {
        let role = synthesize(&config_with(
            json!({"CiRepository": "acme/sso-config", "CiBranches": ["main", "release/2025", "main"]}),
            json!({}),
        ))
        .unwrap();
        let trust = &role.template["Resources"][ids::ROLE]["Properties"]["AssumeRolePolicyDocument"]
            ["Statement"];
        let trust = trust.as_array().unwrap();
        assert_eq!(trust.len(), 1, "one way in");
        let st = &trust[0];
        assert_eq!(st["Effect"], "Allow");
        assert_eq!(st["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            st["Principal"]["Federated"]["Fn::If"][2],
            sub(
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"
            )
        );
        assert_eq!(
            st["Condition"],
            json!({
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": [
                        "repo:acme/sso-config:pull_request",
                        "repo:acme/sso-config:ref:refs/heads/main",
                        "repo:acme/sso-config:ref:refs/heads/release/2025",
                    ],
                },
            }),
            "exact subjects, no StringLike, no wildcard"
        );
        // The default: pull requests and main; [] leaves pull requests only.
        assert_eq!(
            synthesize(&ci()).unwrap().subjects,
            [
                "repo:acme/sso-config:pull_request",
                "repo:acme/sso-config:ref:refs/heads/main"
            ]
        );
        let prs = synthesize(&config_with(
            json!({"CiRepository": "acme/sso-config", "CiBranches": []}),
            json!({}),
        ))
        .unwrap();
        assert_eq!(prs.subjects, ["repo:acme/sso-config:pull_request"]);
    }

    #[test]
    fn the_template_is_json_with_the_role_its_arn_and_an_optional_provider() {
        let role = synthesize(&ci()).unwrap();
        let parsed: Value = serde_json::from_str(&role.text).unwrap();
        assert_eq!(parsed, role.template);
        assert!(role.text.ends_with("}\n"));
        assert_eq!(role.stack_name, "COMPANY-SSO-AD-GroupSync-TEST-plan-role");
        let resources = parsed["Resources"].as_object().unwrap();
        assert_eq!(resources.len(), 2);
        let r = &resources[ids::ROLE];
        assert_eq!(r["Type"], "AWS::IAM::Role");
        assert_eq!(r["Properties"]["MaxSessionDuration"], 3600);
        let provider = &resources[ids::OIDC_PROVIDER];
        assert_eq!(provider["Condition"], ids::CREATING_OIDC_PROVIDER);
        assert_eq!(
            provider["Properties"]["Url"],
            "https://token.actions.githubusercontent.com"
        );
        assert_eq!(
            parsed["Parameters"][ids::CREATE_OIDC_PROVIDER]["Default"],
            "false"
        );
        let outputs = parsed["Outputs"].as_object().unwrap();
        assert_eq!(outputs["PlanRoleArn"]["Value"], get_att(ids::ROLE, "Arn"));
        assert_eq!(
            outputs["PlanRoleSubjects"]["Value"],
            "repo:acme/sso-config:pull_request,repo:acme/sso-config:ref:refs/heads/main"
        );
        assert_eq!(synthesize(&ci()).unwrap().text, role.text, "deterministic");
    }

    #[test]
    fn without_a_repository_there_is_no_plan_role() {
        let e = synthesize(&config_with(json!({}), json!({}))).unwrap_err();
        assert_eq!(e, PlanRoleError::NoRepository);
        assert!(e.to_string().contains("general.CiRepository is not set"));
    }
}
