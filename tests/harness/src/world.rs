//! One test's world: moto, the identity-sync emulator, a Teams sink, a ResponseURL sink,
//! the Runtime API and the real Lambda binary, wired together. Names are unique per
//! world, so worlds share one moto server safely.

use std::time::Duration;

use aws_config::BehaviorVersion;
use identity_sync_emulator::{Knobs, Operation, Options, Running, Seed, StateSnapshot};
use serde_json::{Map, Value, json};
use syncscope_core::config::Config;
use syncscope_core::store::{self, Entry};
use syncscope_core::synth::{ParameterNames, properties_for};

use crate::lambda::LambdaProcess;
use crate::moto::Moto;
use crate::runtime_api::{Ended, Invocation, RuntimeApi};
use crate::sink::{Recorded, Sink};

/// The sync profile every world seeds.
pub const PROFILE: &str = "SynchronizationToActiveDirectoryAwsSso";
/// The AD domain every world uses.
pub const DOMAIN: &str = "corp.example.com";
/// The directory of the worlds: the profile's source, and the parent group's.
pub const DIRECTORY_ID: &str = "d-1234567890";
/// The parent group of the parent-group engine's worlds.
pub const PARENT_GROUP: &str = "IAMIdentityCenterAllUsersAndGroups";
/// The region everything runs in.
pub const REGION: &str = "eu-central-1";
/// A secret planted in every ResponseURL: it must never show up in logs or output.
pub const RESPONSE_URL_CANARY: &str = "CANARYresponseurlSIG0123456789";
/// A secret planted in the Teams webhook URL.
pub const WEBHOOK_CANARY: &str = "CANARYwebhookSIG9876543210";

/// How to start a world.
#[derive(Debug, Clone, Default)]
pub struct WorldOptions {
    /// Filters already in the scope: (type, name).
    pub existing: Vec<(&'static str, String)>,
    /// Emulator fault knobs.
    pub knobs: Knobs,
    /// Extra environment for the Lambda process.
    pub lambda_env: Vec<(String, String)>,
    /// Do not seed the sync profile at all.
    pub no_profile: bool,
    /// More (empty) sync profiles to seed.
    pub extra_profiles: Vec<&'static str>,
    /// The Lambda binary to run (default: the debug build next to the test).
    pub lambda_binary: Option<std::path::PathBuf>,
    /// A command the binary runs under (e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`).
    pub lambda_wrapper: Vec<String>,
    /// The stack name (default `SyncScope-<ns>`; the local lifecycle uses the config's,
    /// so `syncscope plan` finds the stack's ledger as it would on AWS).
    pub stack_name: Option<String>,
    /// The directories Directory Service Data answers about (the emulator's seed
    /// `directories`; none: the profile's directory `d-1234567890` knows every name).
    pub directories: Vec<Value>,
}

/// Points a command at a local AWS endpoint with fixed test credentials, away from the
/// user's AWS configuration (`none` is a path that does not exist).
pub fn aws_env(cmd: &mut std::process::Command, endpoint: &str, none: &std::path::Path) {
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_IDENTITY_SYNC",
        "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", none)
        .env("AWS_SHARED_CREDENTIALS_FILE", none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
}

/// A user of a seeded identity store: `first.last` becomes the user name
/// `first.last@corp.example.com` and the display name `First Last`.
pub fn seeded_person(handle: &str) -> (String, String) {
    let display: Vec<String> = handle
        .split('.')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect();
    (format!("{handle}@{DOMAIN}"), display.join(" "))
}

/// A started world. Everything stops when it is dropped.
pub struct World {
    /// Unique name part of this world (stack, parameters, bucket).
    pub ns: String,
    /// The shared moto server.
    pub moto: &'static Moto,
    /// The identity-sync emulator.
    pub emulator: Running,
    /// The Teams webhook sink (answers 202).
    pub teams: Sink,
    /// The CloudFormation ResponseURL sink (answers 200).
    pub cfn: Sink,
    /// The Runtime API the Lambda polls.
    pub runtime: RuntimeApi,
    /// The Lambda binary (None after [`World::stop_lambda`]).
    pub lambda: Option<LambdaProcess>,
    /// A runtime for SDK calls from the (synchronous) test.
    pub rt: tokio::runtime::Runtime,
    /// SSM on moto.
    pub ssm: aws_sdk_ssm::Client,
    /// S3 on moto.
    pub s3: aws_sdk_s3::Client,
    /// The SDK configuration pointing at moto.
    pub sdk: aws_config::SdkConfig,
    /// The stack name.
    stack: String,
    /// How the Lambda process was started (binary, environment), to restart it.
    lambda_start: (Vec<String>, std::path::PathBuf, Vec<(String, String)>),
}

/// The SDK configuration for moto: fixed test credentials, one region.
pub async fn moto_sdk_config(moto_url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto_url)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "harness",
        ))
        .load()
        .await
}

/// The IAM Identity Center instance that `sdk` reaches (moto's one).
pub async fn instance(sdk: &aws_config::SdkConfig) -> aws_sdk_ssoadmin::types::InstanceMetadata {
    aws_sdk_ssoadmin::Client::new(sdk)
        .list_instances()
        .send()
        .await
        .expect("list moto's IAM Identity Center instances")
        .instances()
        .first()
        .cloned()
        .expect("moto has an IAM Identity Center instance")
}

/// The identity store of the IAM Identity Center instance that `sdk` reaches (moto's).
pub async fn instance_store_id(sdk: &aws_config::SdkConfig) -> String {
    instance(sdk)
        .await
        .identity_store_id()
        .expect("moto's instance has an identity store")
        .to_owned()
}

impl World {
    /// Starts a world with the default options.
    pub fn start() -> Self {
        Self::with(WorldOptions::default())
    }

    /// Starts a world.
    pub fn with(options: WorldOptions) -> Self {
        let ns = format!("t{:08x}", fastrand::u32(..));
        let moto = Moto::shared();
        let seed = seed(&options);
        let emulator = identity_sync_emulator::spawn(Options {
            seed: Some(seed),
            knobs: options.knobs.clone(),
            ..Options::default()
        })
        .expect("start the identity-sync emulator");
        let teams = Sink::start(202).expect("start the Teams sink");
        let cfn = Sink::start(200).expect("start the ResponseURL sink");
        let runtime = RuntimeApi::start().expect("start the Runtime API");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let sdk = rt.block_on(moto_sdk_config(&moto.url));
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        let mut env = vec![
            ("AWS_ENDPOINT_URL".to_owned(), moto.url.clone()),
            (
                "AWS_ENDPOINT_URL_IDENTITY_SYNC".to_owned(),
                emulator.base_url(),
            ),
            (
                "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA".to_owned(),
                emulator.base_url(),
            ),
        ];
        env.extend(options.lambda_env.iter().cloned());
        let binary = options
            .lambda_binary
            .clone()
            .unwrap_or_else(|| crate::paths::binary("syncscope-lambda"));
        let lambda = LambdaProcess::start_wrapped(
            &options.lambda_wrapper,
            binary.clone(),
            &runtime.endpoint(),
            &env,
        )
        .expect("start the Lambda binary");
        let stack = options
            .stack_name
            .clone()
            .unwrap_or_else(|| format!("SyncScope-{ns}"));
        let world = Self {
            stack,
            ns,
            moto,
            emulator,
            teams,
            cfn,
            runtime,
            lambda: Some(lambda),
            rt,
            ssm,
            s3,
            sdk,
            lambda_start: (options.lambda_wrapper.clone(), binary, env),
        };
        world.put_webhook(&world.teams.url(&format!(
            "/workflows/hook?api-version=1&sig={WEBHOOK_CANARY}"
        )));
        world
    }

    /// The stack name of this world.
    pub fn stack(&self) -> String {
        self.stack.clone()
    }

    /// Runs the `syncscope` CLI against this world (moto and the emulator); returns
    /// its exit code, stdout and stderr.
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out = self
            .cli_command(args)
            .output()
            .expect("run the syncscope CLI");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The `syncscope` CLI command [`Self::cli`] runs, for a test that starts it and
    /// watches the servers while it runs.
    pub fn cli_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(crate::paths::binary("syncscope"));
        let none = crate::paths::build_dir("world").join("no-aws-config");
        aws_env(&mut cmd, &self.moto.url, &none);
        cmd.env("SYNCSCOPE_OWNERS_PARAMETER", &self.names().owners)
            .env("AWS_ENDPOINT_URL_IDENTITY_SYNC", self.emulator.base_url())
            .env(
                "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA",
                self.emulator.base_url(),
            )
            .args(args);
        cmd
    }

    /// The identity store of moto's IAM Identity Center instance (what the Lambda
    /// finds by itself with sso-admin ListInstances).
    pub fn instance_store_id(&self) -> String {
        self.rt.block_on(instance_store_id(&self.sdk))
    }

    /// Seeds moto's identity store `store_id` the way a sync leaves it: one group per
    /// `(display name, member handles)`, its members as users ([`seeded_person`]),
    /// each user created once. Returns the user ids by handle.
    pub fn seed_identity_store(
        &self,
        store_id: &str,
        groups: &[(&str, &[&str])],
    ) -> std::collections::HashMap<String, String> {
        use aws_sdk_identitystore::types::{MemberId, Name};
        let store = aws_sdk_identitystore::Client::new(&self.sdk);
        let mut users = std::collections::HashMap::new();
        self.rt.block_on(async {
            for (group, members) in groups {
                let group_id = store
                    .create_group()
                    .identity_store_id(store_id)
                    .display_name(*group)
                    .send()
                    .await
                    .expect("create a group in moto's identity store")
                    .group_id()
                    .to_owned();
                for handle in *members {
                    let user_id = match users.get(*handle) {
                        Some(id) => String::clone(id),
                        None => {
                            let (user_name, display) = seeded_person(handle);
                            let id = store
                                .create_user()
                                .identity_store_id(store_id)
                                .user_name(user_name)
                                .display_name(&display)
                                .name(
                                    Name::builder()
                                        .given_name(&display)
                                        .family_name(*handle)
                                        .build(),
                                )
                                .send()
                                .await
                                .expect("create a user in moto's identity store")
                                .user_id()
                                .to_owned();
                            users.insert((*handle).to_owned(), id.clone());
                            id
                        }
                    };
                    store
                        .create_group_membership()
                        .identity_store_id(store_id)
                        .group_id(&group_id)
                        .member_id(MemberId::UserId(user_id))
                        .send()
                        .await
                        .expect("create a membership in moto's identity store");
                }
            }
        });
        users
    }

    /// The id of the group `display_name` in moto's identity store `store_id`.
    pub fn group_id(&self, store_id: &str, display_name: &str) -> String {
        use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
        let store = aws_sdk_identitystore::Client::new(&self.sdk);
        let attribute = UniqueAttribute::builder()
            .attribute_path("displayName")
            .attribute_value(aws_smithy_types::Document::String(display_name.to_owned()))
            .build()
            .expect("a unique attribute");
        self.rt
            .block_on(
                store
                    .get_group_id()
                    .identity_store_id(store_id)
                    .alternate_identifier(AlternateIdentifier::UniqueAttribute(attribute))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("group {display_name} in moto's identity store: {e:?}"))
            .group_id()
            .to_owned()
    }

    /// Seeds accounts and permission sets ([`crate::access::seed`]).
    pub fn seed_access(&self, accounts: &[&str], sets: &[&str]) -> crate::access::Seeded {
        self.rt
            .block_on(crate::access::seed(&self.sdk, accounts, sets))
    }

    /// Assigns a seeded permission set in a seeded account ([`crate::access::assign`]).
    pub fn assign(
        &self,
        seeded: &crate::access::Seeded,
        to: crate::access::To<'_>,
        account: &str,
        set: &str,
    ) {
        self.rt
            .block_on(crate::access::assign(&self.sdk, seeded, to, account, set));
    }

    /// The stack ARN CloudFormation would send.
    pub fn stack_id(&self) -> String {
        format!(
            "arn:aws:cloudformation:{REGION}:123456789012:stack/{}/0f9c2a50-c0de-11ef-9e1b-0a1b2c3d4e5f",
            self.stack()
        )
    }

    /// Where this world keeps its parameters: the stack's, and ownership records
    /// under an owners' path of this world's own (worlds share moto and the profile
    /// name, not their stacks).
    pub fn names(&self) -> ParameterNames {
        self.names_of(&self.stack())
    }

    /// [`Self::names`] of another stack of this world (same owners' path).
    pub fn names_of(&self, stack: &str) -> ParameterNames {
        ParameterNames {
            owners: format!("/syncscope-test/{}/owners", self.ns),
            ..ParameterNames::for_stack(stack)
        }
    }

    /// Creates a stack in moto's CloudFormation (one resource that does nothing),
    /// so the function's `DescribeStacks` finds it alive; returns its StackId.
    pub fn create_stack(&self, name: &str) -> String {
        let cfn = aws_sdk_cloudformation::Client::new(&self.sdk);
        self.rt
            .block_on(
                cfn.create_stack()
                    .stack_name(name)
                    .template_body(
                        r#"{"Resources":{"Nothing":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}"#,
                    )
                    .send(),
            )
            .expect("create a stack in moto")
            .stack_id()
            .expect("moto names the StackId")
            .to_owned()
    }

    /// Deletes a stack of moto's CloudFormation (it becomes `DELETE_COMPLETE`).
    pub fn delete_stack(&self, stack_id: &str) {
        let cfn = aws_sdk_cloudformation::Client::new(&self.sdk);
        self.rt
            .block_on(cfn.delete_stack().stack_name(stack_id).send())
            .expect("delete a stack in moto");
    }

    /// Writes a config's filters for another stack of this world (its own SSM paths,
    /// the world's owners' path); returns the properties its custom resource gets.
    pub fn deploy_as(&self, stack: &str, config: &Config) -> Map<String, Value> {
        let names = self.names_of(stack);
        let hash = self.put_synthesized_at(&names, config);
        let mut props = self.deploy(config);
        for (key, value) in properties_for(config, &names, &hash) {
            if key.ends_with("Parameter") {
                props.insert(key, value);
            }
        }
        props
    }

    /// [`Self::event`] for the stack `stack_id`.
    pub fn event_of(
        &self,
        stack_id: &str,
        request_type: &str,
        props: &Map<String, Value>,
        old_props: Option<&Map<String, Value>>,
        physical_id: Option<&str>,
    ) -> Value {
        let mut event = self.event(request_type, props, old_props, physical_id);
        event["StackId"] = json!(stack_id);
        event
    }

    /// The SSM name of the webhook secret.
    pub fn webhook_parameter(&self) -> String {
        format!("/syncscope-test/{}/teams-webhook", self.ns)
    }

    /// Stores the webhook URL as a SecureString.
    pub fn put_webhook(&self, url: &str) {
        self.rt
            .block_on(
                self.ssm
                    .put_parameter()
                    .name(self.webhook_parameter())
                    .value(url)
                    .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                    .overwrite(true)
                    .send(),
            )
            .expect("put the webhook parameter");
    }

    /// Writes a config's filters the way the deployment does; returns the properties
    /// the custom resource gets (webhook pointed at the Teams sink).
    pub fn deploy(&self, config: &Config) -> Map<String, Value> {
        let hash = self.put_synthesized(config);
        let mut props = properties_for(config, &self.names(), &hash);
        props.insert(
            "TeamsWebhook".into(),
            json!(format!("ssm:{}", self.webhook_parameter())),
        );
        props.insert("DocsBucket".into(), json!(self.bucket()));
        props.insert(
            "ServiceToken".into(),
            json!(format!(
                "arn:aws:lambda:{REGION}:123456789012:function:syncscope"
            )),
        );
        props
    }

    /// Writes the filter shards `syncscope synth`'s template holds for `config` (the
    /// same values) under this world's content-addressed path; returns the hash.
    pub fn put_synthesized(&self, config: &Config) -> String {
        self.put_synthesized_at(&self.names(), config)
    }

    /// [`Self::put_synthesized`] under another stack's parameter names.
    pub fn put_synthesized_at(&self, names: &ParameterNames, config: &Config) -> String {
        let synthesis = syncscope_core::synth::synthesize(config, &Default::default())
            .expect("the config synthesises");
        let base = names.filters_version(&synthesis.hash);
        let ssm = syncscope::ssm::ParameterStore::new(self.ssm.clone());
        self.rt
            .block_on(ssm.write_shards(&base, &synthesis.shards))
            .expect("write the filters to SSM");
        synthesis.hash
    }

    /// Writes entries as shards under their content-addressed path; returns the hash.
    pub fn put_entries(&self, entries: &[Entry]) -> String {
        let hash = store::hash(entries);
        let base = self.names().filters_version(&hash);
        let store = syncscope::ssm::ParameterStore::new(self.ssm.clone());
        self.rt
            .block_on(store.write_list(&base, entries))
            .expect("write the filters to SSM");
        hash
    }

    /// The docs bucket of this world (created on first use).
    pub fn bucket(&self) -> String {
        let bucket = format!("syncscope-docs-{}", self.ns);
        // Outside us-east-1, S3 (and moto) want the region as the location constraint.
        let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
            .build();
        let _ = self.rt.block_on(
            self.s3
                .create_bucket()
                .bucket(&bucket)
                .create_bucket_configuration(location)
                .send(),
        );
        bucket
    }

    /// A CloudFormation event for this world's resource.
    pub fn event(
        &self,
        request_type: &str,
        props: &Map<String, Value>,
        old_props: Option<&Map<String, Value>>,
        physical_id: Option<&str>,
    ) -> Value {
        let request_id = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            fastrand::u32(..),
            fastrand::u64(..) & 0xffff_ffff_ffff
        );
        let mut event = json!({
            "RequestType": request_type,
            "ServiceToken": props.get("ServiceToken").cloned().unwrap_or(Value::Null),
            "ResponseURL": self.cfn.url(&format!(
                "/cloudformation-custom-resource-response-euc1/{request_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={RESPONSE_URL_CANARY}"
            )),
            "StackId": self.stack_id(),
            "RequestId": request_id,
            "LogicalResourceId": "SyncScope",
            "ResourceType": "Custom::SyncScope",
            "ResourceProperties": props,
        });
        if let Some(old) = old_props {
            event["OldResourceProperties"] = json!(old);
        }
        if let Some(id) = physical_id {
            event["PhysicalResourceId"] = json!(id);
        }
        event
    }

    /// Delivers an event through the Runtime API; returns the invocation and every
    /// CloudFormation response PUT for this event's RequestId.
    pub fn send(&self, event: &Value, timeout: Duration) -> Delivered {
        let request_id = event["RequestId"].as_str().unwrap_or_default().to_owned();
        let invocation = self
            .runtime
            .invoke(event.clone(), timeout, Duration::from_secs(5));
        // Give a late second PUT (which must not happen) a moment to show up.
        std::thread::sleep(Duration::from_millis(150));
        let responses = self
            .cfn
            .requests()
            .into_iter()
            .filter(|r| !request_id.is_empty() && r.uri.contains(&request_id))
            .collect();
        Delivered {
            invocation,
            responses,
        }
    }

    /// The emulator's state.
    pub fn state(&self) -> StateSnapshot {
        self.emulator.emulator().snapshot()
    }

    /// The names in the scope now, sorted (`TYPE name`).
    pub fn scope(&self) -> Vec<String> {
        self.scope_of(PROFILE)
    }

    /// The names in a profile's scope now, sorted (`TYPE name`).
    pub fn scope_of(&self, profile: &str) -> Vec<String> {
        let state = self.state();
        let mut names: Vec<String> = state
            .profile(profile)
            .map(|p| {
                p.filters
                    .iter()
                    .map(|f| format!("{:?} {}", f.filter_type, f.name).to_uppercase_kind())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The ownership record of this world's stack for `profile` (in [`REGION`]).
    pub fn ledger_of(&self, profile: &str) -> syncscope::ssm::StoredLedger {
        self.record_of(&self.stack(), &self.stack_id(), profile)
    }

    /// The ownership record of a stack of this world for `profile` (in [`REGION`]).
    pub fn record_of(
        &self,
        stack: &str,
        stack_id: &str,
        profile: &str,
    ) -> syncscope::ssm::StoredLedger {
        let key = syncscope_core::scope::ProfileKey::parse(REGION, profile)
            .expect("a valid region and profile");
        let names = self.names_of(stack);
        let at = syncscope::ssm::RecordAt {
            owners: &names.owners,
            ledger_base: &names.ledger,
            key: &key,
            stack,
        };
        self.rt
            .block_on(
                syncscope::ssm::ParameterStore::new(self.ssm.clone()).read_ledger(
                    &at,
                    Some(stack_id),
                    false,
                ),
            )
            .expect("read the ledger")
    }

    /// The ownership record of this world's stack for [`PROFILE`].
    pub fn ledger(&self) -> syncscope::ssm::StoredLedger {
        self.ledger_of(PROFILE)
    }

    /// Adds a group filter to a profile the way the console does (through the
    /// signed API), so it is someone else's filter, not the stack's.
    pub fn console_add(&self, profile: &str, name: &str) {
        console_add_at(&self.rt, &self.emulator.base_url(), profile, name);
    }

    /// The direct members of `group` in the world's directory now, sorted (`TYPE name`,
    /// as [`Self::scope`] writes filters; computers as `COMPUTER name`).
    pub fn members_of(&self, group: &str) -> Vec<String> {
        let state = self.state();
        let mut names: Vec<String> = state
            .directory(DIRECTORY_ID)
            .and_then(|d| d.group(group))
            .map(|g| {
                g.users
                    .iter()
                    .map(|u| format!("USER {u}"))
                    .chain(g.groups.iter().map(|n| format!("GROUP {n}")))
                    .chain(g.computers.iter().map(|c| format!("COMPUTER {c}")))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The parent group's members now ([`Self::members_of`] of [`PARENT_GROUP`]).
    pub fn parent_members(&self) -> Vec<String> {
        self.members_of(PARENT_GROUP)
    }

    /// Identity-sync requests of any operation the emulator received (its own
    /// operations, not Directory Service Data's).
    pub fn identity_sync_calls(&self) -> u64 {
        let state = self.state();
        state
            .counters
            .iter()
            .filter(|(op, _)| {
                !op.starts_with("ds-data:")
                    && op.as_str() != identity_sync_emulator::UNAUTHENTICATED
                    && op.as_str() != identity_sync_emulator::UNKNOWN_OPERATION
            })
            .map(|(_, c)| c.requests)
            .sum()
    }

    /// Directory Service Data requests of `operation` (e.g. `ds-data:AddGroupMember`).
    pub fn ds_calls_of(&self, operation: &str) -> u64 {
        self.state()
            .counters
            .get(operation)
            .map_or(0, |c| c.requests)
    }

    /// Write calls (create + delete) the emulator received.
    pub fn write_calls(&self) -> u64 {
        let s = self.state();
        s.counters_of(Operation::CreateSyncFilter).requests
            + s.counters_of(Operation::DeleteSyncFilter).requests
    }

    /// ListSyncFilters requests the emulator received (0: the scope was not even read).
    pub fn list_calls(&self) -> u64 {
        self.state()
            .counters_of(Operation::ListSyncFilters)
            .requests
    }

    /// Every log line of the Lambda so far.
    pub fn lambda_logs(&self) -> Vec<String> {
        self.lambda
            .as_ref()
            .map(LambdaProcess::logs)
            .unwrap_or_default()
    }

    /// Stops the Lambda process (e.g. to restart it with other settings).
    pub fn stop_lambda(&mut self) {
        self.lambda = None;
    }

    /// Starts a fresh Lambda process (a cold start) the way the world started the
    /// first; the previous one, if any, is killed.
    pub fn restart_lambda(&mut self) {
        self.lambda = None;
        let (wrapper, binary, env) = &self.lambda_start;
        self.lambda = Some(
            LambdaProcess::start_wrapped(wrapper, binary.clone(), &self.runtime.endpoint(), env)
                .expect("restart the Lambda binary"),
        );
    }

    /// Kills the Lambda process at once (SIGKILL), as Lambda does at its timeout or
    /// when memory runs out; callable while another thread waits on an invocation.
    pub fn kill_lambda(&self) {
        if let Some(lambda) = &self.lambda {
            let _ = std::process::Command::new("kill")
                .arg("-9")
                .arg(lambda.pid().to_string())
                .status();
        }
    }
}

trait UpperKind {
    fn to_uppercase_kind(self) -> String;
}

impl UpperKind for String {
    /// `Group AWS-Admins` -> `GROUP AWS-Admins` (only the kind is upper-cased).
    fn to_uppercase_kind(self) -> String {
        match self.split_once(' ') {
            Some((kind, name)) => format!("{} {name}", kind.to_uppercase()),
            None => self,
        }
    }
}

/// The result of delivering one event.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// What the Runtime API got back.
    pub invocation: Invocation,
    /// The CloudFormation responses PUT for this event (exactly one is right).
    pub responses: Vec<Recorded>,
}

impl Delivered {
    /// The one response's body; panics unless exactly one response was PUT.
    pub fn response(&self) -> Value {
        assert_eq!(
            self.responses.len(),
            1,
            "expected exactly one CloudFormation response, got {}",
            self.responses.len()
        );
        self.responses[0].json()
    }

    /// Whether the handler returned normally (Ok) to the Runtime API.
    pub fn returned_ok(&self) -> bool {
        matches!(self.invocation.ended, Ended::Response(_))
    }
}

fn seed(options: &WorldOptions) -> Seed {
    if options.no_profile {
        return Seed::default();
    }
    let filters: Vec<Value> = options
        .existing
        .iter()
        .map(|(kind, name)| json!({ "type": kind, "name": name, "domain": DOMAIN }))
        .collect();
    let mut profiles = vec![json!({
        "name": PROFILE,
        "source_arn": format!("arn:aws:ds:{REGION}:123456789012:directory/d-1234567890"),
        "state": "ACTIVE",
        "targets": [{ "name": "IdentityStoreForSSO", "target_arn": "arn:aws:identitystore::123456789012:identitystore/d-1234567890" }],
        "filters": filters,
    })];
    for name in &options.extra_profiles {
        profiles.push(json!({
            "name": name,
            "source_arn": format!("arn:aws:ds:{REGION}:123456789012:directory/d-0987654321"),
        }));
    }
    // Unless a test seeds its own, the profile's directory knows every name asked, so
    // the default directory check (warn) runs in every test and finds nothing amiss.
    let directories = if options.directories.is_empty() {
        vec![json!({ "id": DIRECTORY_ID, "domain": DOMAIN, "any_name": true })]
    } else {
        options.directories.clone()
    };
    let doc = json!({ "profiles": profiles, "directories": directories });
    Seed::from_json(&doc.to_string()).expect("a valid seed")
}

/// Adds a group filter to a profile of the emulator at `base_url` the way the console
/// does (through the signed API).
pub fn console_add_at(rt: &tokio::runtime::Runtime, base_url: &str, profile: &str, name: &str) {
    let client = syncscope::identity_sync::IdentitySyncClient::new(
        base_url,
        REGION,
        aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "console"),
        ),
        syncscope::identity_sync::ClientOptions::default(),
    )
    .expect("a console client");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    rt.block_on(client.create_filter(
        profile,
        syncscope_core::scope::FilterKind::Group,
        DOMAIN,
        name,
        deadline,
    ))
    .expect("the console adds a filter");
}
