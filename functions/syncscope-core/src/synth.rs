//! The deployment: a CloudFormation template synthesised from a config.
//!
//! Pure and deterministic: the same config and options give byte-identical text. The
//! template holds, for the stack `{prefix}-{produkt}-{stage}`:
//!
//! - the desired filters as SSM parameters in the shard format of [`crate::store`],
//!   named by content ([`ParameterNames::filters_version`]), Standard tier unless a
//!   shard needs Advanced. Logical ids are stable per shard index (`FiltersShard000`,
//!   ...), so a config change renames the parameters, which CloudFormation does by
//!   replacement: the new version is created before the custom resource is updated,
//!   and the old one is deleted only in the cleanup phase, after success. A rollback
//!   therefore finds the previous version still in place;
//! - the Lambda (`provided.al2023`, arm64, reserved concurrency 1, JSON logs into its
//!   own log group), its role, and a separate least-privilege policy resource;
//! - the custom resource `Custom::SyncScope` with every property of
//!   [`properties_for`], depending on the policy (so a Delete still has its
//!   permissions) and on every shard (so the filters exist before it runs);
//! - optionally the docs bucket, and a schedule for report-only drift runs.
//!
//! The template uses no transform and needs `CAPABILITY_IAM` (the role is unnamed).
//!
//! The mapping from a config to the properties, and what it reads besides the config
//! ([`Context`], [`deployed_webhook`]), are the settings table's; the parameters'
//! names ([`ParameterNames`]) are the store's. Both are re-exported here.

use serde_json::{Map, Value, json};

use crate::choice::Engine;
use crate::config::Config;
use crate::directory::DirectoryCheck;
use crate::names::WebhookRef;
use crate::properties::Properties;
pub use crate::settings::{Context, deployed_webhook};
pub use crate::store::ParameterNames;
use crate::store::{self, Shard};

/// Memory of the function, in MB. The work is I/O-bound (one HTTPS call per change,
/// 8 in flight); 256 MB holds 10,000 filters many times over and gives more CPU
/// than 128 MB for TLS and JSON. Re-check with `task bench` and the REPORT lines.
pub const FUNCTION_MEMORY_MB: u32 = 256;
/// Timeout of the function, in seconds. 2,000 creates at 8 in flight and ~100 ms a
/// call take well under a minute; 300 s leaves room for throttling and retries while
/// keeping a stuck run far below CloudFormation's one-hour default wait.
pub const FUNCTION_TIMEOUT_SECONDS: u32 = 300;
/// The oldest an event may be when the function starts on it
/// (`AWS::Lambda::EventInvokeConfig`, at least 60): CloudFormation invokes the
/// function asynchronously, and an event that waited longer (behind a drift run, the
/// reserved concurrency of 1) is dropped instead of run after CloudFormation gave up
/// on it, out of order with the rollback it started.
pub const MAX_EVENT_AGE_SECONDS: u32 = 60;
/// The custom resource's `ServiceTimeout`: above the oldest event's start plus the
/// function's timeout, so the function's own deadline guard (which answers FAILED
/// before the Lambda deadline) always speaks first, and a lost answer fails the stack
/// in minutes.
pub const SERVICE_TIMEOUT_SECONDS: u32 = MAX_EVENT_AGE_SECONDS + FUNCTION_TIMEOUT_SECONDS + 30;
const _: () = assert!(SERVICE_TIMEOUT_SECONDS > MAX_EVENT_AGE_SECONDS + FUNCTION_TIMEOUT_SECONDS);
/// Retention of the function's log group (the audit trail of every run).
pub const LOG_RETENTION_DAYS: u32 = 365;
/// Shard parameters are created in this many parallel chains: SSM's default
/// `PutParameter` throughput is a few calls per second, and CloudFormation creating
/// dozens of parameters at once meets `TooManyUpdates`/throttling.
pub const SHARD_LANES: usize = 3;
/// Most resources in one stack.
pub const MAX_RESOURCES: usize = 500;
/// Largest template CloudFormation accepts from S3 (1 MB).
pub const MAX_TEMPLATE_BYTES: usize = 1_048_576;
/// Largest template that can be passed inline (deploy uploads larger ones to S3).
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;

/// The custom resource's properties for a config, as the deployment writes them
/// (the mapping is the settings table's: [`Properties::of_config`]).
pub fn properties_for(
    config: &Config,
    names: &ParameterNames,
    filters_hash: &str,
) -> Map<String, Value> {
    Properties::of_config(
        config,
        &Context {
            names,
            filters_hash,
        },
    )
    .to_map()
}

/// The key and value that mark an EventBridge event as a drift run.
pub const DRIFT_MARKER: (&str, &str) = ("syncscope", "drift");

/// Logical ids of the template's resources and parameters.
pub mod ids {
    /// The Lambda function.
    pub const FUNCTION: &str = "Function";
    /// The function's role.
    pub const ROLE: &str = "FunctionRole";
    /// The function's policy (a separate resource the custom resource depends on).
    pub const POLICY: &str = "FunctionPolicy";
    /// The function's log group.
    pub const LOG_GROUP: &str = "FunctionLogGroup";
    /// The function's asynchronous invocation settings (event age, retries).
    pub const EVENT_INVOKE_CONFIG: &str = "FunctionEventInvokeConfig";
    /// The custom resource.
    pub const SYNC_SCOPE: &str = "SyncScope";
    /// The optional docs bucket.
    pub const DOCS_BUCKET: &str = "DocsBucket";
    /// The optional docs bucket's TLS-only policy.
    pub const DOCS_BUCKET_POLICY: &str = "DocsBucketPolicy";
    /// The optional drift schedule.
    pub const DRIFT_SCHEDULE: &str = "DriftSchedule";
    /// The permission for EventBridge to invoke the function.
    pub const DRIFT_PERMISSION: &str = "DriftInvokePermission";
    /// Template parameter: the S3 bucket of the function's zip.
    pub const CODE_BUCKET: &str = "CodeBucket";
    /// Template parameter: the S3 key of the function's zip.
    pub const CODE_KEY: &str = "CodeKey";
}

/// The logical id of filter shard `index`.
pub fn shard_id(index: usize) -> String {
    format!("FiltersShard{index:03}")
}

/// Choices that are not in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Create the docs bucket (`s3_DOKUBUCKET`) in the stack: private, encrypted,
    /// TLS only, versioned. Without it the bucket must exist.
    pub create_docs_bucket: bool,
}

/// A synthesised deployment.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// The stack name (`{prefix}-{produkt}-{stage}`).
    pub stack_name: String,
    /// The template.
    pub template: Value,
    /// The template as written to disk (pretty JSON, trailing newline).
    pub text: String,
    /// The filters' hash.
    pub hash: String,
    /// The shards, as the parameters hold them.
    pub shards: Vec<Shard>,
    /// Where the parameters live.
    pub names: ParameterNames,
    /// The custom resource's properties (without ServiceToken/ServiceTimeout).
    pub properties: Map<String, Value>,
    /// Where the config's literal webhook URL must be stored (an SSM SecureString;
    /// `task deploy` stores it), or None when the config names a reference.
    pub webhook_parameter: Option<String>,
}

impl Synthesis {
    /// The number of resources in the template.
    pub fn resource_count(&self) -> usize {
        self.template["Resources"].as_object().map_or(0, Map::len)
    }

    /// The number of shards on the Advanced tier.
    pub fn advanced_shards(&self) -> usize {
        self.shards.iter().filter(|s| s.advanced).count()
    }
}

/// Why a config cannot be deployed as one stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthError {
    /// More resources than a stack may hold.
    #[error(
        "the template would have {count} resources ({shards} filter shards), {} over CloudFormation's {MAX_RESOURCES} per stack: split the config or shorten descriptions", count - MAX_RESOURCES
    )]
    TooManyResources {
        /// Resources in the template.
        count: usize,
        /// Of which shards.
        shards: usize,
    },
    /// A template larger than CloudFormation accepts.
    #[error(
        "the template would be {bytes} bytes, {} over the {MAX_TEMPLATE_BYTES} CloudFormation accepts (from S3): split the config or shorten descriptions", bytes - MAX_TEMPLATE_BYTES
    )]
    TooLarge {
        /// The template's size.
        bytes: usize,
    },
    /// Text that CloudFormation would resolve as a dynamic reference.
    #[error(
        "the config contains \"{{{{resolve:\", which CloudFormation would replace with a secret or parameter value; remove it from names, descriptions and URLs"
    )]
    DynamicReference,
}

/// `Fn::Sub` of a string.
pub(crate) fn sub(text: impl Into<String>) -> Value {
    json!({ "Fn::Sub": text.into() })
}

/// A literal part of an `Fn::Sub` string (`${` escaped).
pub(crate) fn lit(text: &str) -> String {
    text.replace("${", "${!")
}

pub(crate) fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

pub(crate) fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}

/// A checkov skip with its reason, for a resource's `Metadata`.
fn checkov_skips(skips: &[(&str, &str)]) -> Value {
    let skip: Vec<Value> = skips
        .iter()
        .map(|(id, comment)| json!({ "id": id, "comment": comment }))
        .collect();
    json!({ "checkov": { "skip": skip } })
}

/// Synthesises the template for a config.
pub fn synthesize(config: &Config, options: &Options) -> Result<Synthesis, SynthError> {
    let stack = config.general.stack_name.as_str().to_owned();
    let names = ParameterNames::for_stack(&stack);
    let entries = store::entries_of(&config.desired());
    let hash = store::hash(&entries);
    // Packed (gzipped JSON in base64 pieces of at most 4 KB): 10,000 filters with
    // 200-character descriptions fit CloudFormation's template size and resource count,
    // which one entry per line of JSON (format 1, still read) does not.
    let shards = store::encode_packed(&entries);
    let version = names.filters_version(&hash);
    let properties = properties_for(config, &names, &hash);

    let mut resources = Map::new();
    for shard in &shards {
        resources.insert(
            shard_id(shard.index),
            shard_resource(&stack, &version, shard, shards.len()),
        );
    }
    resources.insert(ids::LOG_GROUP.into(), log_group());
    resources.insert(ids::ROLE.into(), role(&stack));
    resources.insert(ids::POLICY.into(), policy(config, &names));
    resources.insert(ids::FUNCTION.into(), function(config));
    resources.insert(ids::EVENT_INVOKE_CONFIG.into(), event_invoke_config());
    resources.insert(
        ids::SYNC_SCOPE.into(),
        custom_resource(&properties, &shards, options),
    );
    if options.create_docs_bucket {
        resources.insert(ids::DOCS_BUCKET.into(), docs_bucket(config));
        resources.insert(ids::DOCS_BUCKET_POLICY.into(), docs_bucket_policy());
    }
    if let Some(schedule) = &config.general.drift_schedule {
        resources.insert(
            ids::DRIFT_SCHEDULE.into(),
            drift_schedule(&stack, schedule.as_str(), &properties),
        );
        resources.insert(ids::DRIFT_PERMISSION.into(), drift_permission());
    }

    let count = resources.len();
    if count > MAX_RESOURCES {
        return Err(SynthError::TooManyResources {
            count,
            shards: shards.len(),
        });
    }

    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description(config),
        "Metadata": {
            "syncscope": {
                "Stack": stack,
                "FiltersHash": hash,
                "Filters": entries.len(),
                "Shards": shards.len(),
                "AdvancedShards": shards.iter().filter(|s| s.advanced).count(),
                "GeneratedBy": "syncscope synth (do not edit: edit the config and synthesise again)",
            }
        },
        "Parameters": {
            ids::CODE_BUCKET: {
                "Type": "String",
                "Description": "S3 bucket holding the function's zip (the artifact bucket; set by task deploy)",
                "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            },
            ids::CODE_KEY: {
                "Type": "String",
                "Description": "S3 key of the function's zip (an arm64 bootstrap built by cargo lambda; set by task deploy)",
                "MinLength": 1,
            },
        },
        "Resources": resources,
        "Outputs": outputs(config, &names, &hash, options),
    });
    let text = render(&template);
    if text.contains("{{resolve:") {
        return Err(SynthError::DynamicReference);
    }
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(SynthError::TooLarge { bytes: text.len() });
    }
    Ok(Synthesis {
        stack_name: stack,
        template,
        text,
        hash,
        shards,
        webhook_parameter: config
            .general
            .webhook
            .is_literal()
            .then(|| names.webhook.clone()),
        names,
        properties,
    })
}

/// The template as written to disk: pretty JSON with a trailing newline.
pub fn render(template: &Value) -> String {
    let mut text = serde_json::to_string_pretty(template).unwrap_or_default();
    text.push('\n');
    text
}

fn description(config: &Config) -> String {
    let text = format!(
        "syncscope {}: keeps the IAM Identity Center sync scope of {} (profile {}) equal to the config's {} group and {} user filters",
        config.general.stack_name,
        config.sso.domain,
        config.sso.sync_profile,
        config.sso.groups.len(),
        config.sso.users.len(),
    );
    text.chars().take(1024).collect()
}

fn shard_resource(stack: &str, version: &str, shard: &Shard, of: usize) -> Value {
    let mut resource = json!({
        "Type": "AWS::SSM::Parameter",
        "Properties": {
            "Name": store::shard_name(version, shard.index),
            "Type": "String",
            "Tier": if shard.advanced { "Advanced" } else { "Standard" },
            "DataType": "text",
            "Description": format!("syncscope filters of {stack}: shard {} of {of}", shard.index + 1),
            "Value": shard.value,
        },
    });
    if shard.index >= SHARD_LANES {
        resource["DependsOn"] = json!([shard_id(shard.index - SHARD_LANES)]);
    }
    resource
}

fn log_group() -> Value {
    json!({
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "RetentionInDays": LOG_RETENTION_DAYS,
        },
        "Metadata": checkov_skips(&[(
            "CKV_AWS_158",
            "the logs hold no secrets (syncscope never logs the webhook URL, the ResponseURL or credentials); the service's default encryption applies, a customer key would add cost and a key policy to run",
        )]),
    })
}

fn role(stack: &str) -> Value {
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": format!("syncscope function of {stack}"),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "lambda.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }],
            },
        },
    })
}

/// The region of IAM Identity Center in `Fn::Sub` form.
pub(crate) fn identity_center_region(config: &Config) -> String {
    config
        .general
        .region
        .as_ref()
        .map_or_else(|| "${AWS::Region}".to_owned(), |r| lit(r.as_str()))
}

/// The ARN of an SSM parameter of the stack's account and region, in `Fn::Sub` form.
pub(crate) fn ssm_arn(path: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{}",
        lit(path)
    ))
}

/// A statement allowing `actions` on the parameter `base` and everything under it.
pub(crate) fn ssm_statement(sid: &str, actions: &[&str], base: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": [ssm_arn(base), ssm_arn(&format!("{base}/*"))],
    })
}

/// The directory check's reads (`SSO.DirectoryCheck` not `off`): the ds-data actions
/// the check calls, and `ds:AccessDSData`, on the one configured directory. Without
/// `SSO.DirectoryId` the directory is the sync profile's, known only at run time: the
/// function may then read the profile, and the directories of its account and
/// region (set `DirectoryId` to narrow this to one).
fn directory_statements(config: &Config, region: &str) -> Vec<Value> {
    let mut statements = vec![directory_read_statement(config, region)];
    if config.sso.directory_id.is_none() {
        statements.push(json!({
            "Sid": "FindSyncedDirectory",
            "Effect": "Allow",
            "Action": "identity-sync:GetSyncProfile",
            "Resource": sync_profile_arn(config, region),
        }));
    }
    statements
}

/// The directory check's reads (`CheckNamesInDirectory`): the ds-data actions it
/// calls and `ds:AccessDSData` (which ds-data requires beside each action), on the
/// configured directory, or on every directory of the account in `region`.
pub(crate) fn directory_read_statement(config: &Config, region: &str) -> Value {
    let directory = config
        .sso
        .directory_id
        .as_ref()
        .map_or("*", |id| id.as_str());
    json!({
        "Sid": "CheckNamesInDirectory",
        "Effect": "Allow",
        "Action": [
            "ds-data:DescribeUser",
            "ds-data:ListGroupMembers",
            "ds-data:ListGroups",
            "ds-data:ListUsers",
            "ds:AccessDSData",
        ],
        "Resource": directory_arn(region, directory),
    })
}

/// The ARN of the config's sync profile in IAM Identity Center's `region` (`Fn::Sub`
/// form).
pub(crate) fn sync_profile_arn(config: &Config, region: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:identity-sync:{region}:${{AWS::AccountId}}:profile/{}",
        lit(config.sso.sync_profile.as_str())
    ))
}

/// What changes the scope, by engine: identity-sync's filter calls on the one sync
/// profile, or Directory Service Data's member calls (and `ds:AccessDSData`, which
/// ds-data requires beside each) on the one directory, with nothing of identity-sync.
fn scope_statement(config: &Config, region: &str) -> Value {
    match (config.sso.engine, &config.sso.directory_id) {
        (Engine::ParentGroup, Some(directory)) => json!({
            "Sid": "ReconcileParentGroup",
            "Effect": "Allow",
            "Action": [
                "ds-data:AddGroupMember",
                "ds-data:DescribeGroup",
                "ds-data:ListGroupMembers",
                "ds-data:RemoveGroupMember",
                "ds:AccessDSData",
            ],
            "Resource": directory_arn(region, directory.as_str()),
        }),
        _ => json!({
            "Sid": "ReconcileSyncFilters",
            "Effect": "Allow",
            "Action": [
                "identity-sync:CreateSyncFilter",
                "identity-sync:DeleteSyncFilter",
                "identity-sync:ListSyncFilters",
            ],
            "Resource": sync_profile_arn(config, region),
        }),
    }
}

/// The parent-group engine's reads for `plan` and `doctor` (the plan role): the
/// parent group and its members, on the one directory (None under `sync-filters`).
pub(crate) fn parent_group_read_statement(config: &Config, region: &str) -> Option<Value> {
    let directory = config.sso.directory_id.as_ref()?;
    (config.sso.engine == Engine::ParentGroup).then(|| {
        json!({
            "Sid": "ReadParentGroup",
            "Effect": "Allow",
            "Action": [
                "ds-data:DescribeGroup",
                "ds-data:ListGroupMembers",
                "ds:AccessDSData",
            ],
            "Resource": directory_arn(region, directory.as_str()),
        })
    })
}

/// The ARN of a directory (or `*`: every directory) of the account in `region`
/// (`Fn::Sub` form).
fn directory_arn(region: &str, directory: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:ds:{region}:${{AWS::AccountId}}:directory/{}",
        lit(directory)
    ))
}

/// The statements of the function's policy, in `Fn::Sub` form. Every statement has a
/// `Sid` naming its purpose; `docs/deployment.md` explains each.
pub fn policy_statements(config: &Config, names: &ParameterNames) -> Vec<Value> {
    let region = identity_center_region(config);
    let mut statements = vec![
        scope_statement(config, &region),
        ssm_statement(
            "ReadDesiredFilters",
            &["ssm:GetParameter", "ssm:GetParametersByPath"],
            &names.filters_base,
        ),
        ssm_statement(
            "KeepLedger",
            &[
                "ssm:DeleteParameters",
                "ssm:GetParameter",
                "ssm:GetParametersByPath",
                "ssm:PutParameter",
            ],
            &names.ledger,
        ),
        // Every stack of a sync profile keeps its record under one path and reads the
        // others'; a run removes the records of stacks that no longer exist. The
        // whole owners' path, because the Delete of a replaced resource acts on the
        // record of a profile the template no longer names.
        ssm_statement(
            "KeepOwnershipRecords",
            &[
                "ssm:DeleteParameters",
                "ssm:GetParameter",
                "ssm:GetParametersByPath",
                "ssm:PutParameter",
            ],
            &names.owners,
        ),
        json!({
            "Sid": "LookUpCoOwningStacks",
            "Effect": "Allow",
            "Action": "cloudformation:DescribeStacks",
            "Resource": sub("arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/*/*"),
        }),
        json!({
            "Sid": "PublishDocs",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": sub(format!(
                "arn:${{AWS::Partition}}:s3:::{}/{}/{}/*",
                lit(config.general.docs_bucket.as_str()),
                lit(config.general.docs_prefix.as_str()),
                lit(&config.general.stage)
            )),
            // A bucket of that name in another account is never written.
            "Condition": { "StringEquals": { "aws:ResourceAccount": sub("${AWS::AccountId}") } },
        }),
    ];
    statements.push(identity_store_statement(config));
    if config.sso.directory_check != DirectoryCheck::Off {
        statements.extend(directory_statements(config, &region));
    }
    // The instance's ARN (the access map asks for it) and, without IdentityStoreId,
    // its identity store.
    statements.push(json!({
        "Sid": "FindIdentityStore",
        "Effect": "Allow",
        "Action": "sso:ListInstances",
        "Resource": "*",
    }));
    statements.extend(access_map_statements());
    match &deployed_webhook(config, names) {
        WebhookRef::Ssm(name) => {
            statements.push(json!({
                "Sid": "ReadTeamsWebhook",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": ssm_arn(name),
            }));
            statements.push(json!({
                "Sid": "DecryptTeamsWebhook",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),
                // Only through SSM, and only for the webhook's parameter (SSM names it in
                // the encryption context of every SecureString).
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": sub("ssm.${AWS::Region}.${AWS::URLSuffix}"),
                        "kms:EncryptionContext:PARAMETER_ARN": ssm_arn(name),
                    },
                },
            }));
        }
        WebhookRef::SecretArn(arn) => {
            let parsed = crate::arn::Arn::parse(arn);
            let (secret_region, secret_account) = (
                parsed.map_or("", |a| a.region),
                parsed.map_or("", |a| a.account),
            );
            statements.push(json!({
                "Sid": "ReadTeamsWebhook",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                // A partial ARN (without the 6-character suffix) matches with `-??????`.
                "Resource": [arn, format!("{arn}-??????")],
            }));
            statements.push(json!({
                "Sid": "DecryptTeamsWebhook",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": sub(format!(
                    "arn:${{AWS::Partition}}:kms:{}:{}:key/*",
                    lit(secret_region),
                    lit(secret_account)
                )),
                // Only through Secrets Manager, and only for the webhook's secret.
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": sub(format!("secretsmanager.{}.${{AWS::URLSuffix}}", lit(secret_region))),
                    },
                    "StringLike": {
                        "kms:EncryptionContext:SecretARN": [arn, format!("{arn}-??????")],
                    },
                },
            }));
        }
        WebhookRef::Literal(_) => {}
    }
    statements.push(json!({
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": get_att(ids::LOG_GROUP, "Arn"),
    }));
    statements
}

/// The access map's reads: the assignments and permission sets of the IAM Identity
/// Center instance (`ReadAccessMap`, reads only), and the accounts' names
/// (`NameAccounts`: `organizations:ListAccounts` takes no resource).
pub(crate) fn access_map_statements() -> [Value; 2] {
    [
        json!({
            "Sid": "ReadAccessMap",
            "Effect": "Allow",
            "Action": [
                "sso:DescribePermissionSet",
                "sso:ListAccountAssignments",
                "sso:ListAccountAssignmentsForPrincipal",
                "sso:ListAccountsForProvisionedPermissionSet",
                "sso:ListPermissionSets",
            ],
            "Resource": [
                sub("arn:${AWS::Partition}:sso:::instance/*"),
                sub("arn:${AWS::Partition}:sso:::permissionSet/*/*"),
                sub("arn:${AWS::Partition}:sso:::account/*"),
            ],
        }),
        json!({
            "Sid": "NameAccounts",
            "Effect": "Allow",
            "Action": "organizations:ListAccounts",
            "Resource": "*",
        }),
    ]
}

/// The identity store reads (`ReadIdentityStore`): groups and their members for the
/// docs; users and the groups they are in for the impact of a removal (who loses
/// access). On the configured store, or every store of the account.
pub(crate) fn identity_store_statement(config: &Config) -> Value {
    let store_arn = match &config.sso.identity_store_id {
        Some(id) => format!(
            "arn:${{AWS::Partition}}:identitystore::${{AWS::AccountId}}:identitystore/{}",
            lit(id.as_str())
        ),
        None => "arn:${AWS::Partition}:identitystore::${AWS::AccountId}:identitystore/*".to_owned(),
    };
    json!({
        "Sid": "ReadIdentityStore",
        "Effect": "Allow",
        // Groups and their members for the docs; users and the groups they are in
        // for the impact of a removal (who loses access).
        "Action": [
            "identitystore:DescribeUser",
            "identitystore:GetUserId",
            "identitystore:ListGroupMemberships",
            "identitystore:ListGroupMembershipsForMember",
            "identitystore:ListGroups",
        ],
        "Resource": [
            sub(store_arn),
            sub("arn:${AWS::Partition}:identitystore:::group/*"),
            sub("arn:${AWS::Partition}:identitystore:::membership/*"),
            sub("arn:${AWS::Partition}:identitystore:::user/*"),
        ],
    })
}

fn policy(config: &Config, names: &ParameterNames) -> Value {
    json!({
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "syncscope",
            "Roles": [reference(ids::ROLE)],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": policy_statements(config, names),
            },
        },
    })
}

fn function(config: &Config) -> Value {
    let description = format!(
        "syncscope: reconciles the sync scope of {} to the filters of {}",
        config.sso.domain, config.general.stack_name
    );
    json!({
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Description": description.chars().take(256).collect::<String>(),
            "Runtime": "provided.al2023",
            "Architectures": ["arm64"],
            "Handler": "bootstrap",
            "Code": {
                "S3Bucket": reference(ids::CODE_BUCKET),
                "S3Key": reference(ids::CODE_KEY),
            },
            "MemorySize": FUNCTION_MEMORY_MB,
            "Timeout": FUNCTION_TIMEOUT_SECONDS,
            "ReservedConcurrentExecutions": 1,
            "Role": get_att(ids::ROLE, "Arn"),
            // The function acts only for its own stack (syncscope's `trust` module).
            "Environment": { "Variables": { "SYNCSCOPE_STACK_ID": reference("AWS::StackId") } },
            "LoggingConfig": {
                "LogFormat": "JSON",
                "ApplicationLogLevel": "INFO",
                "SystemLogLevel": "INFO",
                "LogGroup": reference(ids::LOG_GROUP),
            },
        },
        "Metadata": checkov_skips(&[
            ("CKV_AWS_116", "CloudFormation invokes the function asynchronously and the function always answers CloudFormation itself (success, failure, panic and timeout); a dead-letter queue would only collect events whose stack has already been answered"),
            ("CKV_AWS_117", "the function calls only AWS APIs and the Teams webhook over HTTPS; a VPC would need NAT or endpoints for identity-sync, which has no VPC endpoint"),
            ("CKV_AWS_173", "the one environment variable is the stack's own StackId, not a secret; a customer managed key would add a key policy and cost for no confidentiality"),
        ]),
    })
}

/// Asynchronous invocations: an event older than [`MAX_EVENT_AGE_SECONDS`] is
/// dropped, and none is retried (the function answers CloudFormation itself, and a
/// retry of a request it already answered would run it twice).
fn event_invoke_config() -> Value {
    json!({
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": reference(ids::FUNCTION),
            "Qualifier": "$LATEST",
            "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
            "MaximumRetryAttempts": 0,
        },
    })
}

fn custom_resource(properties: &Map<String, Value>, shards: &[Shard], options: &Options) -> Value {
    let mut props = properties.clone();
    props.insert("ServiceToken".into(), get_att(ids::FUNCTION, "Arn"));
    props.insert("ServiceTimeout".into(), json!(SERVICE_TIMEOUT_SECONDS));
    let mut depends: Vec<Value> = vec![json!(ids::POLICY)];
    depends.extend(shards.iter().map(|s| json!(shard_id(s.index))));
    if options.create_docs_bucket {
        depends.push(json!(ids::DOCS_BUCKET_POLICY));
    }
    json!({
        "Type": "Custom::SyncScope",
        "DependsOn": depends,
        "Properties": props,
    })
}

fn docs_bucket(config: &Config) -> Value {
    json!({
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": config.general.docs_bucket.as_str(),
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" },
                    "BucketKeyEnabled": true,
                }],
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true,
            },
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "VersioningConfiguration": { "Status": "Enabled" },
            "LifecycleConfiguration": {
                "Rules": [{
                    "Id": "expire-old-versions",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": { "NoncurrentDays": 90 },
                    "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 7 },
                }],
            },
        },
        "Metadata": checkov_skips(&[(
            "CKV_AWS_18",
            "the only writer is the function (its role may put objects under one prefix); CloudTrail records every write, and access logs would need a second bucket for a page of documentation",
        )]),
    })
}

fn docs_bucket_policy() -> Value {
    json!({
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": reference(ids::DOCS_BUCKET),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [
                        get_att(ids::DOCS_BUCKET, "Arn"),
                        sub(format!("${{{}.Arn}}/*", ids::DOCS_BUCKET)),
                    ],
                    "Condition": { "Bool": { "aws:SecureTransport": "false" } },
                }],
            },
        },
    })
}

/// The drift event's `ResourceProperties`: the custom resource's, with `DryRun` on.
pub fn drift_properties(properties: &Map<String, Value>) -> Map<String, Value> {
    let mut props = properties.clone();
    props.insert("DryRun".into(), json!("true"));
    props
}

/// The constant input of the drift schedule, the event the handler reads as a drift
/// check: `{"ResourceProperties":{...,"DryRun":"true"},"StackName":"...","syncscope":"drift"}`.
pub fn drift_input(stack: &str, properties: &Map<String, Value>) -> String {
    let mut event = Map::new();
    event.insert(DRIFT_MARKER.0.into(), json!(DRIFT_MARKER.1));
    event.insert("StackName".into(), json!(stack));
    event.insert(
        "ResourceProperties".into(),
        Value::Object(drift_properties(properties)),
    );
    Value::Object(event).to_string()
}

fn drift_schedule(stack: &str, expression: &str, properties: &Map<String, Value>) -> Value {
    json!({
        "Type": "AWS::Events::Rule",
        // After the custom resource: the schedule names the filters it deployed.
        "DependsOn": [ids::SYNC_SCOPE],
        "Properties": {
            "Description": format!("syncscope {stack}: report-only drift run"),
            "ScheduleExpression": expression,
            "State": "ENABLED",
            "Targets": [{
                "Id": "syncscope-drift",
                "Arn": get_att(ids::FUNCTION, "Arn"),
                "Input": drift_input(stack, properties),
            }],
        },
    })
}

fn drift_permission() -> Value {
    json!({
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": get_att(ids::FUNCTION, "Arn"),
            "Principal": "events.amazonaws.com",
            "SourceAccount": reference("AWS::AccountId"),
            "SourceArn": get_att(ids::DRIFT_SCHEDULE, "Arn"),
        },
    })
}

fn outputs(config: &Config, names: &ParameterNames, hash: &str, options: &Options) -> Value {
    let g = &config.general;
    let mut outputs = json!({
        "FunctionArn": {
            "Description": "The syncscope function",
            "Value": get_att(ids::FUNCTION, "Arn"),
        },
        "FunctionLogGroup": {
            "Description": "The function's logs (one JSON line per run with the outcome)",
            "Value": reference(ids::LOG_GROUP),
        },
        "DocsLocation": {
            "Description": "Where the documentation is published",
            "Value": format!("s3://{}/{}/{}/", g.docs_bucket.as_str(), g.docs_prefix.as_str(), g.stage),
        },
        "DocsWebsite": {
            "Description": "The page the Teams card links to",
            "Value": g.docs_website.as_str(),
        },
        "FiltersParameter": {
            "Description": "The SSM path of the deployed filters (this version)",
            "Value": names.filters_version(hash),
        },
        "LedgerParameter": {
            "Description": "The SSM path of the ledger of filters this stack manages (written by the function; kept when the stack is deleted)",
            "Value": names.ledger,
        },
    });
    if options.create_docs_bucket {
        outputs["DocsBucket"] = json!({
            "Description": "The docs bucket created by this stack (retained when the stack is deleted)",
            "Value": reference(ids::DOCS_BUCKET),
        });
    }
    outputs
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::config;

    fn config_with(general_extra: Value, sso_extra: Value, groups: usize) -> Config {
        config::from_value(&doc_with(general_extra, sso_extra, groups))
            .unwrap()
            .config
    }

    /// The seed config with `groups` generated group filters and these keys set.
    fn doc_with(general_extra: Value, sso_extra: Value, groups: usize) -> Value {
        let filters: Vec<Value> = (0..groups)
            .map(|i| json!({ "Name": format!("AWS-Group-{i:05}"), "Description": format!("Team {i}: access to its accounts") }))
            .collect();
        let mut doc: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/config/valid/seed-only.json"
        ))
        .unwrap();
        doc["SSO"]["GroupFilters"] = Value::Array(filters);
        for (section, extra) in [("general", general_extra), ("SSO", sso_extra)] {
            if let Value::Object(extra) = extra {
                for (k, v) in extra {
                    doc[section][k] = v;
                }
            }
        }
        doc
    }

    fn config(groups: usize) -> Config {
        config_with(json!({}), json!({}), groups)
    }

    fn statement<'a>(s: &'a Synthesis, sid: &str) -> &'a Value {
        s.template["Resources"][ids::POLICY]["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid}"))
    }

    #[test]
    fn the_same_config_gives_byte_identical_text() {
        let a = synthesize(&config(50), &Options::default()).unwrap();
        let b = synthesize(&config(50), &Options::default()).unwrap();
        assert_eq!(a.text, b.text);
        assert!(a.text.ends_with("}\n"));
    }

    #[test]
    fn shards_are_parameters_named_by_content_in_the_store_format() {
        let c = config(2000);
        let s = synthesize(&c, &Options::default()).unwrap();
        let entries = store::entries_of(&c.desired());
        let expected = store::encode_packed(&entries);
        assert!(expected.len() > 1, "{}", expected.len());
        let base = s.names.filters_version(&store::hash(&entries));
        for shard in &expected {
            let p = &s.template["Resources"][shard_id(shard.index)]["Properties"];
            assert_eq!(p["Name"], store::shard_name(&base, shard.index));
            assert_eq!(p["Value"], shard.value.as_str());
            assert_eq!(p["Type"], "String");
            assert_eq!(p["Tier"], "Standard");
        }
        assert_eq!(s.resource_count(), expected.len() + 6);
    }

    /// `len` letters that hardly compress (a deterministic xorshift of `seed`).
    fn noise(seed: u64, len: usize) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    }

    /// Descriptions of `len` characters drawn from a small vocabulary, as people write.
    fn wordy(seed: u64, len: usize) -> String {
        const WORDS: [&str; 21] = [
            "access", "account", "admin", "audit", "billing", "cloud", "cost", "data", "deploy",
            "dev", "finance", "infra", "network", "ops", "platform", "prod", "read", "security",
            "support", "team", "write",
        ];
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut text = String::new();
        while text.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push_str(WORDS[(x % 21) as usize]);
            text.push(' ');
        }
        text.truncate(len);
        text
    }

    #[test]
    fn packed_shards_stay_on_the_standard_tier_even_with_the_longest_descriptions() {
        let c = config_with(
            json!({}),
            json!({"UserFilters": [{"Name": "svc-big", "Description": "😀".repeat(1000)}]}),
            3,
        );
        let s = synthesize(&c, &Options::default()).unwrap();
        for shard in &s.shards {
            let p = &s.template["Resources"][shard_id(shard.index)]["Properties"];
            assert_eq!(p["Tier"], "Standard");
            assert!(shard.value.len() <= store::STANDARD_LIMIT);
        }
        assert_eq!(s.advanced_shards(), 0);
    }

    #[test]
    fn shard_creation_runs_in_a_few_lanes() {
        let filters: Vec<Value> = (0..600)
            .map(|i| json!({ "Name": format!("AWS-Group-{i:05}"), "Description": noise(i, 200) }))
            .collect();
        let c = config_with(json!({}), json!({"GroupFilters": filters}), 0);
        let s = synthesize(&c, &Options::default()).unwrap();
        assert!(s.shards.len() > SHARD_LANES + 1, "{}", s.shards.len());
        let r = &s.template["Resources"];
        for i in 0..SHARD_LANES {
            assert!(r[shard_id(i)].get("DependsOn").is_none());
        }
        assert_eq!(
            r[shard_id(SHARD_LANES + 1)]["DependsOn"],
            json!([shard_id(1)])
        );
    }

    #[test]
    fn the_custom_resource_carries_every_property_and_depends_on_the_policy_and_shards() {
        let c = config(10);
        let s = synthesize(&c, &Options::default()).unwrap();
        let r = &s.template["Resources"][ids::SYNC_SCOPE];
        assert_eq!(r["Type"], "Custom::SyncScope");
        let props = r["Properties"].as_object().unwrap();
        let expected = properties_for(
            &c,
            &ParameterNames::for_stack("COMPANY-SSO-AD-GroupSync-TEST"),
            &s.hash,
        );
        for (k, v) in &expected {
            assert_eq!(&props[k], v, "{k}");
        }
        assert_eq!(props.len(), expected.len() + 2);
        assert_eq!(props["ServiceToken"], get_att(ids::FUNCTION, "Arn"));
        assert_eq!(props["ServiceTimeout"], json!(SERVICE_TIMEOUT_SECONDS));
        let depends = r["DependsOn"].as_array().unwrap();
        assert_eq!(depends[0], ids::POLICY);
        assert_eq!(depends.len(), 1 + s.shards.len());
        // The Lambda parses what the template gives it.
        let mut as_sent = expected.clone();
        as_sent.insert(
            "ServiceToken".into(),
            json!("arn:aws:lambda:eu-central-1:123456789012:function:f"),
        );
        let parsed = crate::properties::parse(&as_sent).unwrap();
        assert_eq!(
            parsed.filters_hash.as_ref().map(|h| h.as_str()),
            Some(s.hash.as_str())
        );
    }

    #[test]
    fn the_function_is_arm64_al2023_with_reserved_concurrency_and_json_logs() {
        let s = synthesize(&config(1), &Options::default()).unwrap();
        let p = &s.template["Resources"][ids::FUNCTION]["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023");
        assert_eq!(p["Architectures"], json!(["arm64"]));
        assert_eq!(p["Handler"], "bootstrap");
        assert_eq!(p["ReservedConcurrentExecutions"], 1);
        assert_eq!(p["LoggingConfig"]["LogFormat"], "JSON");
        assert_eq!(
            p["Environment"],
            json!({ "Variables": { "SYNCSCOPE_STACK_ID": { "Ref": "AWS::StackId" } } }),
            "the function knows its own stack, and nothing else comes from the environment"
        );
        assert_eq!(p["Code"]["S3Key"], reference(ids::CODE_KEY));
    }

    #[test]
    fn events_older_than_a_minute_are_dropped_and_none_is_retried() {
        let s = synthesize(&config(1), &Options::default()).unwrap();
        let c = &s.template["Resources"][ids::EVENT_INVOKE_CONFIG];
        assert_eq!(c["Type"], "AWS::Lambda::EventInvokeConfig");
        let p = &c["Properties"];
        assert_eq!(p["FunctionName"], reference(ids::FUNCTION));
        assert_eq!(p["MaximumRetryAttempts"], 0);
        let age = p["MaximumEventAgeInSeconds"].as_u64().unwrap();
        assert!((60..=21_600).contains(&age), "Lambda's allowed range");
        let service = s.template["Resources"][ids::SYNC_SCOPE]["Properties"]["ServiceTimeout"]
            .as_u64()
            .unwrap();
        assert!(
            age + u64::from(FUNCTION_TIMEOUT_SECONDS) < service,
            "the oldest event still answers before CloudFormation gives up"
        );
    }

    #[test]
    fn co_owners_records_and_stack_lookups_are_scoped_to_the_owners_path_and_the_account() {
        let s = synthesize(&config(1), &Options::default()).unwrap();
        let records = statement(&s, "KeepOwnershipRecords");
        assert_eq!(
            records["Resource"][1],
            sub(
                "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/syncscope/owners/*"
            )
        );
        let lookup = statement(&s, "LookUpCoOwningStacks");
        assert_eq!(lookup["Action"], "cloudformation:DescribeStacks");
        assert_eq!(
            lookup["Resource"],
            sub("arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/*/*")
        );
        let props = &s.template["Resources"][ids::SYNC_SCOPE]["Properties"];
        assert_eq!(props["OwnersParameter"], "/syncscope/owners");
    }

    #[test]
    fn the_policy_grants_no_action_wildcards_and_scopes_identity_sync_to_the_profile() {
        let s = synthesize(&config(1), &Options::default()).unwrap();
        let statements =
            s.template["Resources"][ids::POLICY]["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap();
        for st in statements {
            let actions: Vec<&str> = match &st["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
                _ => panic!(),
            };
            assert!(actions.iter().all(|a| !a.contains('*')), "{st}");
            if st["Resource"] == "*" {
                assert!(
                    actions == ["sso:ListInstances"] || actions == ["organizations:ListAccounts"],
                    "only a non-restrictable action may use *: {actions:?}"
                );
            }
        }
        assert_eq!(
            statement(&s, "ReconcileSyncFilters")["Resource"],
            sub(
                "arn:${AWS::Partition}:identity-sync:${AWS::Region}:${AWS::AccountId}:profile/SynchronizationToActiveDirectoryAwsSso"
            )
        );
        assert_eq!(
            statement(&s, "PublishDocs")["Resource"],
            sub("arn:${AWS::Partition}:s3:::company-sso-docs/sso/TEST/*")
        );
        assert_eq!(
            statement(&s, "ReadTeamsWebhook")["Resource"],
            sub(
                "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/company/sso/teams-webhook"
            )
        );
        let decrypt = &statement(&s, "DecryptTeamsWebhook")["Condition"]["StringEquals"];
        assert!(decrypt["kms:ViaService"].is_object());
        assert_eq!(
            decrypt["kms:EncryptionContext:PARAMETER_ARN"],
            sub(
                "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/company/sso/teams-webhook"
            ),
            "the key decrypts the webhook's parameter only"
        );
        assert_eq!(
            statement(&s, "PublishDocs")["Condition"]["StringEquals"]["aws:ResourceAccount"],
            sub("${AWS::AccountId}")
        );
    }

    #[test]
    fn the_parent_group_engine_changes_members_of_its_one_directory_and_never_calls_identity_sync()
    {
        let c = config_with(
            json!({}),
            json!({
                "Engine": "parent-group",
                "ParentGroup": "IAMIdentityCenterAllUsersAndGroups",
                "DirectoryId": "d-0123456789",
            }),
            1,
        );
        let s = synthesize(&c, &Options::default()).unwrap();
        let policy = s.template["Resources"][ids::POLICY].to_string();
        assert!(!policy.contains("identity-sync"), "{policy}");
        let members = statement(&s, "ReconcileParentGroup");
        assert_eq!(
            members["Action"],
            json!([
                "ds-data:AddGroupMember",
                "ds-data:DescribeGroup",
                "ds-data:ListGroupMembers",
                "ds-data:RemoveGroupMember",
                "ds:AccessDSData"
            ])
        );
        assert_eq!(
            members["Resource"],
            sub("arn:${AWS::Partition}:ds:${AWS::Region}:${AWS::AccountId}:directory/d-0123456789")
        );
        let props = &s.template["Resources"][ids::SYNC_SCOPE]["Properties"];
        assert_eq!(props["Engine"], "parent-group");
        assert_eq!(props["ParentGroup"], "IAMIdentityCenterAllUsersAndGroups");
    }

    #[test]
    fn a_configured_region_and_identity_store_narrow_the_policy() {
        let c = config_with(
            json!({"Region": "eu-west-1", "WebhookUrlTeams": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:teams"}),
            json!({"IdentityStoreId": "d-0123456789", "SyncProfileName": "my-profile"}),
            1,
        );
        let s = synthesize(&c, &Options::default()).unwrap();
        assert_eq!(
            statement(&s, "ReconcileSyncFilters")["Resource"],
            sub(
                "arn:${AWS::Partition}:identity-sync:eu-west-1:${AWS::AccountId}:profile/my-profile"
            )
        );
        assert_eq!(
            statement(&s, "ReadIdentityStore")["Resource"][0],
            sub(
                "arn:${AWS::Partition}:identitystore::${AWS::AccountId}:identitystore/d-0123456789"
            )
        );
        // The instance's ARN is still looked up (the access map asks for it).
        assert_eq!(
            statement(&s, "FindIdentityStore")["Action"],
            "sso:ListInstances"
        );
        let read = statement(&s, "ReadTeamsWebhook");
        assert_eq!(read["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(
            read["Resource"][1],
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:teams-??????"
        );
        assert_eq!(
            statement(&s, "DecryptTeamsWebhook")["Condition"]["StringEquals"]["kms:ViaService"],
            sub("secretsmanager.eu-west-1.${AWS::URLSuffix}")
        );
        assert_eq!(
            statement(&s, "DecryptTeamsWebhook")["Condition"]["StringLike"]["kms:EncryptionContext:SecretARN"],
            json!([
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:teams",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:teams-??????"
            ]),
            "the key decrypts the webhook's secret only"
        );
    }

    #[test]
    fn the_directory_check_reads_one_directory_and_only_when_it_is_on() {
        let on = config_with(json!({}), json!({"DirectoryId": "d-0123456789"}), 1);
        let s = synthesize(&on, &Options::default()).unwrap();
        let check = statement(&s, "CheckNamesInDirectory");
        assert_eq!(
            check["Action"],
            json!([
                "ds-data:DescribeUser",
                "ds-data:ListGroupMembers",
                "ds-data:ListGroups",
                "ds-data:ListUsers",
                "ds:AccessDSData"
            ])
        );
        assert_eq!(
            check["Resource"],
            sub("arn:${AWS::Partition}:ds:${AWS::Region}:${AWS::AccountId}:directory/d-0123456789")
        );
        assert!(
            !s.text.contains("identity-sync:GetSyncProfile"),
            "the id is known"
        );

        let default = synthesize(&config(1), &Options::default()).unwrap();
        assert_eq!(
            statement(&default, "CheckNamesInDirectory")["Resource"],
            sub("arn:${AWS::Partition}:ds:${AWS::Region}:${AWS::AccountId}:directory/*")
        );
        assert_eq!(
            statement(&default, "FindSyncedDirectory")["Action"],
            "identity-sync:GetSyncProfile"
        );

        let off = config_with(json!({}), json!({"DirectoryCheck": "off"}), 1);
        let s = synthesize(&off, &Options::default()).unwrap();
        assert!(!s.text.contains("ds-data:") && !s.text.contains("ds:AccessDSData"));
        assert!(!s.text.contains("GetSyncProfile"));
        assert_eq!(
            s.template["Resources"][ids::SYNC_SCOPE]["Properties"]["DirectoryCheck"],
            "off"
        );
    }

    #[test]
    fn a_literal_webhook_never_reaches_the_template_which_names_the_stacks_secure_string() {
        let url = "https://example.webhook.office.com/webhookb2/x?sig=LITERALSECRET0123";
        let c = config_with(
            json!({"WebhookUrlTeams": url, "DriftSchedule": "rate(1 day)"}),
            json!({}),
            1,
        );
        let s = synthesize(&c, &Options::default()).unwrap();
        assert!(
            !s.text.contains("LITERALSECRET"),
            "the URL is in the template"
        );
        assert!(
            !s.text.contains("webhook.office.com"),
            "the URL is in the template"
        );
        let parameter = "/syncscope/COMPANY-SSO-AD-GroupSync-TEST/teams-webhook";
        assert_eq!(s.webhook_parameter.as_deref(), Some(parameter));
        assert_eq!(
            s.properties["TeamsWebhook"],
            json!(format!("ssm:{parameter}"))
        );
        let rule = &s.template["Resources"][ids::DRIFT_SCHEDULE];
        let input = rule["Properties"]["Targets"][0]["Input"].as_str().unwrap();
        assert!(input.contains(&format!("ssm:{parameter}")), "{input}");
        assert_eq!(
            statement(&s, "ReadTeamsWebhook")["Resource"],
            sub(format!(
                "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{parameter}"
            )),
        );
        // A reference stays as it is.
        let referenced = synthesize(&config(1), &Options::default()).unwrap();
        assert_eq!(referenced.webhook_parameter, None);
    }

    #[test]
    fn webhook_hosts_travel_to_the_function_only_when_the_config_names_some() {
        let plain = synthesize(&config(1), &Options::default()).unwrap();
        assert!(!plain.properties.contains_key("WebhookHosts"));
        let c = config_with(
            json!({"WebhookHosts": ["teams-proxy.corp.example", "Hooks.Example.NET"]}),
            json!({}),
            1,
        );
        let s = synthesize(&c, &Options::default()).unwrap();
        assert_eq!(
            s.properties["WebhookHosts"],
            json!("hooks.example.net,teams-proxy.corp.example")
        );
    }

    #[test]
    fn the_outputs_name_the_function_its_logs_the_docs_and_the_filters() {
        let s = synthesize(&config(2), &Options::default()).unwrap();
        let outputs = &s.template["Outputs"];
        assert_eq!(
            outputs["FunctionArn"]["Value"],
            get_att(ids::FUNCTION, "Arn")
        );
        assert_eq!(
            outputs["FunctionLogGroup"]["Value"],
            reference(ids::LOG_GROUP)
        );
        assert!(
            outputs["DocsLocation"]["Value"]
                .as_str()
                .unwrap()
                .starts_with("s3://company-sso-docs/"),
            "{outputs}"
        );
        assert_eq!(
            outputs["FiltersParameter"]["Value"],
            ParameterNames::for_stack(&s.stack_name).filters_version(&s.hash)
        );
        assert!(outputs.get("DocsBucket").is_none());
    }

    #[test]
    fn the_docs_bucket_is_optional_private_encrypted_and_tls_only() {
        let without = synthesize(&config(1), &Options::default()).unwrap();
        assert!(
            without.template["Resources"]
                .get(ids::DOCS_BUCKET)
                .is_none()
        );
        let s = synthesize(
            &config(1),
            &Options {
                create_docs_bucket: true,
            },
        )
        .unwrap();
        let b = &s.template["Resources"][ids::DOCS_BUCKET];
        assert_eq!(b["Properties"]["BucketName"], "company-sso-docs");
        assert_eq!(
            b["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"],
            true
        );
        // Encrypted, versioned, and kept when the stack goes (README's promise).
        assert_eq!(
            b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                ["SSEAlgorithm"],
            "AES256"
        );
        assert_eq!(
            b["Properties"]["VersioningConfiguration"]["Status"],
            "Enabled"
        );
        assert_eq!(b["DeletionPolicy"], "Retain");
        assert_eq!(b["UpdateReplacePolicy"], "Retain");
        let deny = &s.template["Resources"][ids::DOCS_BUCKET_POLICY]["Properties"]["PolicyDocument"]
            ["Statement"][0];
        assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert!(
            s.template["Resources"][ids::SYNC_SCOPE]["DependsOn"]
                .as_array()
                .unwrap()
                .contains(&json!(ids::DOCS_BUCKET_POLICY))
        );
    }

    #[test]
    fn a_drift_schedule_invokes_the_function_with_report_only_properties() {
        let c = config_with(json!({"DriftSchedule": "rate(6 hours)"}), json!({}), 2);
        let s = synthesize(&c, &Options::default()).unwrap();
        let rule = &s.template["Resources"][ids::DRIFT_SCHEDULE];
        assert_eq!(rule["Properties"]["ScheduleExpression"], "rate(6 hours)");
        let input = rule["Properties"]["Targets"][0]["Input"].as_str().unwrap();
        let event: Value = serde_json::from_str(input).unwrap();
        assert_eq!(event["syncscope"], "drift");
        assert_eq!(event["StackName"], "COMPANY-SSO-AD-GroupSync-TEST");
        assert_eq!(event["ResourceProperties"]["DryRun"], "true");
        assert_eq!(event["ResourceProperties"]["FiltersHash"], s.hash.as_str());
        assert!(
            crate::properties::parse(event["ResourceProperties"].as_object().unwrap())
                .unwrap()
                .dry_run
        );
        assert_eq!(
            s.template["Resources"][ids::DRIFT_PERMISSION]["Properties"]["SourceArn"],
            get_att(ids::DRIFT_SCHEDULE, "Arn")
        );
        assert!(
            synthesize(&config(2), &Options::default())
                .unwrap()
                .template["Resources"]
                .get(ids::DRIFT_SCHEDULE)
                .is_none()
        );
    }

    #[test]
    fn dynamic_references_in_the_config_are_refused_and_packed_filters_carry_none() {
        let c = config_with(
            json!({"DocuWebsite": "https://wiki.example.com/{{resolve:ssm:/secret}}"}),
            json!({}),
            1,
        );
        assert_eq!(
            synthesize(&c, &Options::default()).unwrap_err(),
            SynthError::DynamicReference
        );
        // In a description it travels packed (base64), which CloudFormation never
        // resolves, and comes back as written.
        let c = config_with(
            json!({}),
            json!({"GroupFilters": [{"Name": "A", "Description": "{{resolve:ssm:/secret}}"}]}),
            0,
        );
        let s = synthesize(&c, &Options::default()).unwrap();
        assert!(!s.text.contains("{{resolve:"));
        let stored: Vec<(String, String)> = s
            .shards
            .iter()
            .map(|sh| (store::shard_name("/p", sh.index), sh.value.clone()))
            .collect();
        let entries = store::decode("/p", &stored).unwrap();
        assert_eq!(entries.entries[0].description, "{{resolve:ssm:/secret}}");
    }

    #[test]
    fn ten_thousand_filters_with_200_character_descriptions_deploy_and_one_more_is_refused() {
        let filter = |i: u64| json!({ "Name": format!("AWS-Team-{i:05}-Access"), "Description": wordy(i, 200) });
        let filters: Vec<Value> = (0..config::MAX_FILTERS as u64).map(filter).collect();
        let mut doc = doc_with(json!({}), json!({"GroupFilters": filters}), 0);
        let c = config::from_value(&doc).unwrap().config;
        let s = synthesize(&c, &Options::default()).unwrap();
        assert!(s.text.len() <= MAX_TEMPLATE_BYTES, "{}", s.text.len());
        assert!(
            s.resource_count() <= MAX_RESOURCES,
            "{}",
            s.resource_count()
        );
        doc["SSO"]["GroupFilters"]
            .as_array_mut()
            .unwrap()
            .push(filter(config::MAX_FILTERS as u64));
        let e = config::from_value(&doc).unwrap_err();
        let e = format!("{:?}", e.problems);
        assert!(
            e.contains(&format!("at most {}", config::MAX_FILTERS)),
            "{e}"
        );
    }

    #[test]
    fn a_template_over_cloudformations_limits_names_the_limit_and_how_far_over() {
        let noisy = |count: u64| {
            let filters: Vec<Value> = (0..count)
                .map(|i| json!({ "Name": format!("AWS-Team-{i:05}"), "Description": noise(i, 1024) }))
                .collect();
            config_with(json!({}), json!({"GroupFilters": filters}), 0)
        };
        let e = synthesize(&noisy(1_500), &Options::default()).unwrap_err();
        let SynthError::TooLarge { bytes } = e else {
            panic!("{e}")
        };
        assert!(
            e.to_string().contains(&format!(
                "the template would be {bytes} bytes, {} over the {MAX_TEMPLATE_BYTES} CloudFormation accepts",
                bytes - MAX_TEMPLATE_BYTES
            )),
            "{e}"
        );
        let e = synthesize(&noisy(5_000), &Options::default()).unwrap_err();
        let SynthError::TooManyResources { count, .. } = e else {
            panic!("{e}")
        };
        assert!(
            e.to_string().contains(&format!(
                "{} over CloudFormation's {MAX_RESOURCES} per stack",
                count - MAX_RESOURCES
            )),
            "{e}"
        );
    }
}
