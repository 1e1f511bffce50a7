//! The deployment and the live CLI modes against local servers.
//!
//! - `infra/deploy.sh` and `infra/destroy.sh` drive moto's CloudFormation through the
//!   AWS CLI (`AWS_ENDPOINT_URL` points at moto), and the test then reads what moto
//!   built (SSM parameters, IAM role policy, Lambda function) and compares it with the
//!   synthesised template. Moto records the `Custom::SyncScope` resource as
//!   CREATE_COMPLETE without running it (invoking a Lambda needs Docker, which moto
//!   only tries in a background thread), so the full template deploys unchanged; what
//!   the custom resource does is tested through the real Lambda binary elsewhere.
//! - `syncscope plan` (live) and `syncscope bootstrap` run against the identity-sync
//!   emulator plus moto (SSM, STS, sso-admin).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{Value, json};
use syncscope_core::config;
use syncscope_core::synth::{self, Synthesis, ids};
use syncscope_harness::moto::Moto;
use syncscope_harness::paths;

const REGION: &str = "eu-central-1";
const ACCOUNT: &str = "123456789012";
const BUCKET: &str = "syncscope-artifacts";

/// One moto for this module: stacks and the ledger paths of the example config must
/// not meet other tests' state.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(moto_with_bucket)
}

/// A moto of its own, with the artifact bucket.
fn moto_with_bucket() -> Moto {
    let moto = Moto::start().unwrap_or_else(|e| panic!("{e}"));
    let out = aws(
        &moto,
        &[
            "s3api",
            "create-bucket",
            "--bucket",
            BUCKET,
            "--create-bucket-configuration",
            &format!("LocationConstraint={REGION}"),
        ],
    );
    assert!(out.status.success(), "create-bucket: {}", text(&out.stderr));
    moto
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The environment of every child: moto, dummy credentials, no user config.
fn local_env(cmd: &mut Command, moto: &Moto) {
    let none = paths::build_dir("e2e-deployment").join("no-aws-config");
    crate::helpers::aws_env(cmd, &moto.url, &none);
}

fn aws_bin() -> PathBuf {
    let aws = paths::workspace().join(".venv/bin/aws");
    assert!(
        aws.exists(),
        "{} is missing: run infra/setup-tools.sh",
        aws.display()
    );
    aws
}

/// Runs the AWS CLI against moto.
fn aws(moto: &Moto, args: &[&str]) -> Output {
    let mut cmd = Command::new(aws_bin());
    local_env(&mut cmd, moto);
    cmd.args(["--region", REGION, "--output", "json"])
        .args(args);
    cmd.output().expect("run aws")
}

/// Runs the AWS CLI against moto and parses its JSON answer.
fn aws_json(moto: &Moto, args: &[&str]) -> Value {
    let out = aws(moto, args);
    assert!(out.status.success(), "aws {args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Runs an infra script against moto; returns (exit code, stdout, stderr).
fn script(moto: &Moto, name: &str, args: &[&str]) -> (i32, String, String) {
    script_with(moto, name, args, &[])
}

/// [`script`] with more environment.
fn script_with(
    moto: &Moto,
    name: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> (i32, String, String) {
    let root = paths::workspace();
    let mut cmd = Command::new("bash");
    local_env(&mut cmd, moto);
    cmd.current_dir(&root)
        .arg(root.join("infra").join(name))
        .args(args)
        .env("AWS", aws_bin())
        .env("SYNCSCOPE", paths::binary("syncscope"))
        .env("SYNCSCOPE_DEPLOY_POLL", "1")
        .env("SYNCSCOPE_DEPLOY_TIMEOUT", "120")
        .envs(env.iter().map(|(k, v)| (*k, v)));
    let out = cmd.output().expect("run the script");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// `deploy.sh --config CONFIG --artifact-bucket BUCKET --zip ZIP --yes` against moto.
fn deploy_yes(moto: &Moto, config: &Path, zip: &Path) -> (i32, String, String) {
    script(
        moto,
        "deploy.sh",
        &[
            "--config",
            &config.display().to_string(),
            "--artifact-bucket",
            BUCKET,
            "--zip",
            &zip.display().to_string(),
            "--yes",
        ],
    )
}

fn synthesize(config_path: &Path) -> Synthesis {
    let text = std::fs::read_to_string(config_path).unwrap();
    let parsed =
        config::parse(&text).unwrap_or_else(|e| panic!("{config_path:?}: {:?}", e.problems));
    synth::synthesize(&parsed.config, &synth::Options::default()).unwrap()
}

/// A function zip (moto stores it; it does not run it), unique per call.
fn fake_zip(name: &str) -> PathBuf {
    let path = paths::build_dir("e2e-deployment").join(name);
    let bytes: Vec<u8> = (0..2048).map(|_| fastrand::u8(..)).collect();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Resolves the pseudo parameters of `Fn::Sub` strings, and `Fn::GetAtt`/`Ref` with
/// `resolve`, the way CloudFormation (and moto) would.
fn resolve(value: &Value, refs: &dyn Fn(&Value) -> Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Fn::Sub") => {
            let s = map["Fn::Sub"].as_str().unwrap();
            Value::String(
                s.replace("${AWS::Partition}", "aws")
                    .replace("${AWS::Region}", REGION)
                    .replace("${AWS::AccountId}", ACCOUNT)
                    .replace("${AWS::URLSuffix}", "amazonaws.com")
                    .replace("${!", "${"),
            )
        }
        Value::Object(map)
            if map.len() == 1 && (map.contains_key("Fn::GetAtt") || map.contains_key("Ref")) =>
        {
            refs(value)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, refs)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, refs)).collect()),
        other => other.clone(),
    }
}

/// Logical id -> physical id of the stack's resources.
fn physical_ids(moto: &Moto, stack: &str) -> BTreeMap<String, String> {
    let listed = aws_json(
        moto,
        &[
            "cloudformation",
            "list-stack-resources",
            "--stack-name",
            stack,
        ],
    );
    listed["StackResourceSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["LogicalResourceId"].as_str().unwrap().to_owned(),
                r["PhysicalResourceId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// The shard parameters of a template: name -> (value, tier).
fn template_shards(synthesis: &Synthesis) -> BTreeMap<String, (String, String)> {
    let none = |_: &Value| Value::Null;
    synthesis.template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::SSM::Parameter")
        .map(|r| {
            let p = resolve(&r["Properties"], &none);
            (
                p["Name"].as_str().unwrap().to_owned(),
                (
                    p["Value"].as_str().unwrap().to_owned(),
                    p["Tier"].as_str().unwrap_or("Standard").to_owned(),
                ),
            )
        })
        .collect()
}

/// The filter parameters moto holds for a stack: name -> (value, tier).
fn moto_shards(moto: &Moto, stack: &str) -> BTreeMap<String, (String, String)> {
    let path = format!("/syncscope/{stack}/filters");
    let values = aws_json(
        moto,
        &[
            "ssm",
            "get-parameters-by-path",
            "--path",
            &path,
            "--recursive",
        ],
    );
    let described = aws_json(
        moto,
        &[
            "ssm",
            "describe-parameters",
            "--parameter-filters",
            &format!("Key=Path,Option=Recursive,Values={path}"),
        ],
    );
    let tiers: BTreeMap<String, String> = described["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["Name"].as_str().unwrap().to_owned(),
                p["Tier"].as_str().unwrap_or("Standard").to_owned(),
            )
        })
        .collect();
    values["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["Name"].as_str().unwrap().to_owned();
            let tier = tiers.get(&name).cloned().unwrap_or_default();
            (name, (p["Value"].as_str().unwrap().to_owned(), tier))
        })
        .collect()
}

/// deploy.sh creates the example's stack in moto exactly as synthesised; a second run
/// has nothing to deploy; a config edit is an update; destroy.sh removes the stack.
#[test]
fn deploy_script_creates_updates_and_destroys_the_example_stack_in_moto() {
    let moto = moto();
    let example = paths::workspace().join("config/example.json");
    let synthesis = synthesize(&example);
    let stack = synthesis.stack_name.clone();
    let zip = fake_zip("example-bootstrap.zip");
    let zip_arg = zip.display().to_string();
    let example_arg = example.display().to_string();
    let deploy = |config: &str| deploy_yes(moto, Path::new(config), &zip);

    // Without --yes and without a terminal, nothing is deployed.
    let (code, _, stderr) = script(
        moto,
        "deploy.sh",
        &[
            "--config",
            &example_arg,
            "--artifact-bucket",
            BUCKET,
            "--zip",
            &zip_arg,
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no terminal to confirm on"), "{stderr}");

    let (code, stdout, stderr) = deploy(&example_arg);
    assert_eq!(code, 0, "deploy failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("inline"), "{stdout}");
    for id in [
        ids::FUNCTION,
        ids::ROLE,
        ids::POLICY,
        ids::LOG_GROUP,
        ids::SYNC_SCOPE,
        "FiltersShard000",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().take(2).eq(["Add", id])),
            "{id} missing from the change set table:\n{stdout}"
        );
    }
    assert!(stdout.contains("CREATE_COMPLETE"), "{stdout}");
    // The outputs, printed last. moto's change sets record no stack outputs, so here
    // the script says so; the template's outputs are synth's tests.
    assert!(
        stdout.contains(&format!(
            "Stack {stack}: CREATE_COMPLETE. Outputs:\n  (none reported)"
        )),
        "{stdout}"
    );

    // SSM: every shard, with exactly the synthesised value and tier.
    assert_eq!(moto_shards(moto, &stack), template_shards(&synthesis));

    // IAM: the inline policy is the synthesised one after Fn::Sub.
    let physical = physical_ids(moto, &stack);
    let role = &physical[ids::ROLE];
    let policy = &synthesis.template["Resources"][ids::POLICY]["Properties"];
    let policy_name = policy["PolicyName"].as_str().unwrap();
    let log_group = physical[ids::LOG_GROUP].clone();
    let refs = |v: &Value| -> Value {
        // AWS ends a log group's Arn attribute with `:*`; moto does not.
        if v["Fn::GetAtt"] == json!([ids::LOG_GROUP, "Arn"]) {
            json!(format!(
                "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}"
            ))
        } else {
            panic!("unexpected reference {v} in the policy")
        }
    };
    let expected = resolve(&policy["PolicyDocument"], &refs);
    let got = aws_json(
        moto,
        &[
            "iam",
            "get-role-policy",
            "--role-name",
            role,
            "--policy-name",
            policy_name,
        ],
    );
    assert_eq!(got["PolicyDocument"]["Statement"], expected["Statement"]);
    let sids: Vec<&str> = got["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert!(
        sids.contains(&"ReconcileSyncFilters") && sids.contains(&"WriteOwnLogs"),
        "{sids:?}"
    );

    // Lambda: runtime, memory, timeout, handler, reserved concurrency, the uploaded zip.
    let function = &physical[ids::FUNCTION];
    let conf = aws_json(
        moto,
        &[
            "lambda",
            "get-function-configuration",
            "--function-name",
            function,
        ],
    );
    assert_eq!(conf["Runtime"], "provided.al2023");
    assert_eq!(conf["MemorySize"], synth::FUNCTION_MEMORY_MB);
    assert_eq!(conf["Timeout"], synth::FUNCTION_TIMEOUT_SECONDS);
    assert_eq!(conf["Handler"], "bootstrap");
    assert_eq!(conf["CodeSize"], std::fs::metadata(&zip).unwrap().len());
    // moto records Architectures as x86_64 whatever the template says; the template's
    // value is what AWS uses.
    assert_eq!(
        synthesis.template["Resources"][ids::FUNCTION]["Properties"]["Architectures"],
        json!(["arm64"])
    );
    let concurrency = aws_json(
        moto,
        &[
            "lambda",
            "get-function-concurrency",
            "--function-name",
            function,
        ],
    );
    assert_eq!(concurrency["ReservedConcurrentExecutions"], 1);

    // Again: nothing to deploy.
    let (code, stdout, stderr) = deploy(&example_arg);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Nothing to deploy"), "{stdout}");
    assert!(
        stdout.contains("(already uploaded)"),
        "the zip is content-addressed: {stdout}"
    );

    // A config edit: an UPDATE; the new filters version is in place.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    doc["SSO"]["GroupFilters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Name": "AWS-New-Team", "Description": "added"}));
    let edited = paths::build_dir("e2e-deployment").join("example-edited.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let edited_synthesis = synthesize(&edited);
    assert_ne!(edited_synthesis.hash, synthesis.hash);
    let (code, stdout, stderr) = deploy(&edited.display().to_string());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("UPDATE change set") && stdout.contains("UPDATE_COMPLETE"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["Modify", ids::SYNC_SCOPE])),
        "{stdout}"
    );
    let now = moto_shards(moto, &stack);
    for (name, value) in template_shards(&edited_synthesis) {
        assert_eq!(now.get(&name), Some(&value), "{name}");
    }

    // Destroy.
    let (code, stdout, stderr) = script(moto, "destroy.sh", &["--config", &example_arg, "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("OnDelete: retain"), "{stdout}");
    let gone = aws(
        moto,
        &["cloudformation", "describe-stacks", "--stack-name", &stack],
    );
    assert!(
        text(&gone.stderr).contains("does not exist"),
        "{}",
        text(&gone.stderr)
    );
    assert!(moto_shards(moto, &stack).is_empty());
}

/// The largest config: 10,000 filters with 200-character descriptions. Its template
/// is over 51,200 bytes (packed filters keep it under CloudFormation's 1 MB and 500
/// resources), goes through the artifact bucket (TemplateURL), and every shard
/// parameter is deployed.
#[test]
fn deploy_script_passes_a_large_template_through_the_artifact_bucket() {
    // A moto of its own: creating 130 resources keeps one moto busy for a while, and
    // the other deployment tests must not wait on it.
    let moto = &moto_with_bucket();
    let config = paths::build_dir("e2e-deployment").join("filters-10000.json");
    let status = Command::new(paths::python())
        .arg(paths::workspace().join("infra/generate-config.py"))
        .args(["--filters", "10000"])
        .arg(&config)
        .args(["--description-chars", "200"])
        .status()
        .unwrap();
    assert!(status.success());
    let synthesis = synthesize(&config);
    assert!(synthesis.text.len() > synth::MAX_INLINE_TEMPLATE_BYTES);
    let zip = fake_zip("large-bootstrap.zip");
    let (code, stdout, stderr) = deploy_yes(moto, &config, &zip);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("over 51,200: via s3://"), "{stdout}");
    let shards = moto_shards(moto, &synthesis.stack_name);
    assert_eq!(shards.len(), synthesis.shards.len());
    assert_eq!(shards, template_shards(&synthesis));
}

#[test]
fn a_literal_webhook_url_is_stored_as_a_secure_string_and_never_reaches_the_template() {
    let moto = moto();
    let dir = paths::build_dir("e2e-deployment");
    let url = "https://contoso.webhook.office.com/webhookb2/LITERALHOOKCANARY0123/IncomingWebhook/x?sig=LITERALSIGCANARY0123";
    let mut doc: Value = serde_json::from_str(include_str!(
        "../fixtures/config/valid/literal-webhook.json"
    ))
    .unwrap();
    doc["general"]["stage"] = json!("LITERAL");
    doc["general"]["WebhookUrlTeams"] = json!(url);
    let config = dir.join("literal-webhook.json");
    std::fs::write(&config, doc.to_string()).unwrap();
    let synthesis = synthesize(&config);
    let stack = synthesis.stack_name.clone();
    let parameter = format!("/syncscope/{stack}/teams-webhook");
    let zip = fake_zip("literal-bootstrap.zip");
    let config_arg = config.display().to_string();
    let (code, stdout, stderr) = deploy_yes(moto, &config, &zip);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("kept in the SSM SecureString {parameter}")),
        "{stdout}"
    );
    let stored = aws_json(
        moto,
        &[
            "ssm",
            "get-parameter",
            "--name",
            &parameter,
            "--with-decryption",
        ],
    );
    assert_eq!(stored["Parameter"]["Type"], "SecureString");
    assert_eq!(stored["Parameter"]["Value"], url);
    let template = aws_json(
        moto,
        &["cloudformation", "get-template", "--stack-name", &stack],
    );
    let template = template["TemplateBody"].to_string();
    assert!(template.contains(&format!("ssm:{parameter}")), "{template}");
    let synthesised = std::fs::read_to_string(
        paths::workspace().join(format!("build/deploy/{stack}.template.json")),
    )
    .unwrap();
    for canary in ["LITERALHOOKCANARY0123", "LITERALSIGCANARY0123"] {
        assert!(
            !template.contains(canary),
            "{canary} in the deployed template"
        );
        assert!(
            !synthesised.contains(canary),
            "{canary} in the synthesised template"
        );
        assert!(
            !stdout.contains(canary) && !stderr.contains(canary),
            "{canary} printed"
        );
    }
    let (code, stdout, stderr) = script(moto, "destroy.sh", &["--config", &config_arg, "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("Deleted the SSM SecureString {parameter}")),
        "{stdout}"
    );
    assert!(
        !aws(moto, &["ssm", "get-parameter", "--name", &parameter])
            .status
            .success()
    );
}

/// With `OnDelete: remove`, destroy shows what the Delete will remove (the stack's own
/// plan of its Delete, `syncscope plan --teardown`) before it deletes.
#[test]
fn destroy_with_remove_shows_the_deletes_plan_first() {
    let moto = moto();
    let emulator = emulator_with_profile();
    let dir = paths::build_dir("e2e-deployment");
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(paths::workspace().join("config/example.json")).unwrap(),
    )
    .unwrap();
    doc["general"]["stage"] = json!("REMOVE");
    doc["SSO"]["OnDelete"] = json!("remove");
    let config = dir.join("remove.json");
    std::fs::write(&config, doc.to_string()).unwrap();
    let (code, stdout, stderr) = deploy_yes(moto, &config, &fake_zip("remove-bootstrap.zip"));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = script_with(
        moto,
        "destroy.sh",
        &["--config", &config.display().to_string(), "--yes"],
        &[("AWS_ENDPOINT_URL_IDENTITY_SYNC", emulator.base_url())],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let shown = stdout
        .split_once("What the Delete would remove now (read-only):")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        shown.contains("The stack's Delete with OnDelete remove")
            && shown.contains("Sync scope plan (mode managed")
            && shown.contains("not managed by this config: left alone"),
        "{stdout}"
    );
}

/// The identity-sync emulator with a profile holding one configured and one foreign group.
fn emulator_with_profile() -> identity_sync_emulator::Running {
    let seed = json!({"profiles": [{
        "name": "SynchronizationToActiveDirectoryAwsSso",
        "source_arn": format!("arn:aws:ds:{REGION}:{ACCOUNT}:directory/d-1234567890"),
        "targets": [{"name": "IdentityStoreForSSO", "target_arn": format!("arn:aws:identitystore::{ACCOUNT}:identitystore/d-1234567890")}],
        "filters": [
            {"type": "GROUP", "name": "AWS-Billing", "domain": "corp.example.com"},
            {"type": "GROUP", "name": "Console-Added", "domain": "corp.example.com"}
        ]
    }]});
    identity_sync_emulator::spawn(identity_sync_emulator::Options {
        seed: Some(identity_sync_emulator::Seed::from_json(&seed.to_string()).unwrap()),
        ..Default::default()
    })
    .unwrap()
}

/// Runs the syncscope CLI against moto and the emulator.
fn cli(
    moto: &Moto,
    emulator: &identity_sync_emulator::Running,
    args: &[&str],
) -> (i32, String, String) {
    let mut cmd = Command::new(paths::binary("syncscope"));
    local_env(&mut cmd, moto);
    cmd.env("AWS_ENDPOINT_URL_IDENTITY_SYNC", emulator.base_url())
        .args(args);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Runs `syncscope bootstrap` of the example config for directory d-1234567890, with
/// these extra arguments.
fn bootstrap(emulator: &identity_sync_emulator::Running, extra: &[&str]) -> (i32, String, String) {
    let example = paths::workspace()
        .join("config/example.json")
        .display()
        .to_string();
    let mut args = vec![
        "bootstrap",
        "--config",
        example.as_str(),
        "--directory-id",
        "d-1234567890",
    ];
    args.extend_from_slice(extra);
    cli(moto(), emulator, &args)
}

/// Signed requests per operation (ok or not), from the emulator's counters.
fn requests(emulator: &identity_sync_emulator::Running) -> BTreeMap<String, u64> {
    let snapshot = serde_json::to_value(emulator.emulator().snapshot()).unwrap();
    snapshot["counters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(op, c)| (op.clone(), c["requests"].as_u64().unwrap_or(0)))
        .collect()
}

fn profiles(emulator: &identity_sync_emulator::Running) -> Value {
    serde_json::to_value(emulator.emulator().snapshot()).unwrap()["profiles"].clone()
}

const WRITES: [&str; 5] = [
    "CreateSyncFilter",
    "DeleteSyncFilter",
    "CreateSyncProfile",
    "CreateSyncTarget",
    "StartSync",
];

/// `syncscope plan` without --current reads the live scope and the ledger, prints the
/// plan, and writes nothing.
#[test]
fn live_plan_reads_the_emulator_and_moto_and_writes_nothing() {
    let moto = moto();
    let emulator = emulator_with_profile();
    let before = profiles(&emulator);
    let example = paths::workspace().join("config/example.json");
    let (code, stdout, stderr) = cli(
        moto,
        &emulator,
        &["plan", "--config", &example.display().to_string()],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Live scope of sync profile SynchronizationToActiveDirectoryAwsSso"),
        "{stderr}"
    );
    assert!(
        stderr.contains("none yet"),
        "no ledger in SSM yet: {stderr}"
    );
    assert!(
        stdout.contains("Plan: 8 to create, 0 to remove, 1 to adopt, 0 unchanged, 1 not managed."),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("Console-Added") && l.contains("not managed")),
        "{stdout}"
    );
    let counts = requests(&emulator);
    assert!(
        counts.get("ListSyncFilters").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );
    for op in WRITES {
        assert_eq!(counts.get(op).copied().unwrap_or(0), 0, "{op}: {counts:?}");
    }
    assert_eq!(profiles(&emulator), before);
}

/// `syncscope bootstrap` creates the profile, filters, target and starts the sync; a
/// second run finds everything and changes nothing; `--dry-run` changes nothing.
#[test]
fn bootstrap_sets_up_the_sync_once_and_is_idempotent() {
    // Dry run on an empty emulator: says what it would do, changes nothing.
    let emulator =
        identity_sync_emulator::spawn(identity_sync_emulator::Options::default()).unwrap();
    let (code, stdout, stderr) = bootstrap(&emulator, &["--dry-run"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("would create it"), "{stdout}");
    assert_eq!(profiles(&emulator), json!([]));
    let counts = requests(&emulator);
    for op in WRITES {
        assert_eq!(counts.get(op).copied().unwrap_or(0), 0, "{op}: {counts:?}");
    }

    // First run: everything is created.
    let (code, stdout, stderr) = bootstrap(&emulator, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "1/4 sync profile SynchronizationToActiveDirectoryAwsSso: not found; created it"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("created 9"), "{stdout}");
    assert!(
        stdout.contains("3/4 sync target IdentityStoreForSSO: not found; created it"),
        "{stdout}"
    );
    let state = profiles(&emulator);
    let profile = &state[0];
    assert_eq!(
        profile["source_arn"],
        format!("arn:aws:ds:{REGION}:{ACCOUNT}:directory/d-1234567890")
    );
    assert_eq!(profile["state"], "ACTIVE");
    assert_eq!(profile["filters"].as_array().unwrap().len(), 9);
    // The first form tried is the one the public clients send.
    assert_eq!(
        profile["targets"][0]["target_arn"],
        "identitystore/d-1234567890"
    );
    assert!(
        stdout.contains(
            "created it -> identitystore/d-1234567890 (short form with the directory id)"
        ),
        "{stdout}"
    );
    let after_first = requests(&emulator);

    // Second run: found, nothing to do, no writes.
    let (code, stdout, stderr) = bootstrap(&emulator, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1/4 sync profile SynchronizationToActiveDirectoryAwsSso: found"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing to create"), "{stdout}");
    assert!(
        stdout.contains("3/4 sync target IdentityStoreForSSO: found"),
        "{stdout}"
    );
    assert!(
        stdout.contains("4/4 synchronisation: ACTIVE; nothing to do"),
        "{stdout}"
    );
    let after_second = requests(&emulator);
    for op in WRITES {
        assert_eq!(after_second.get(op), after_first.get(op), "{op}");
    }
    assert_eq!(profiles(&emulator), state);

    // A filter the config does not list (added in the console) is never removed.
    let rt = tokio::runtime::Runtime::new().unwrap();
    syncscope_harness::world::console_add_at(
        &rt,
        &emulator.base_url(),
        syncscope_harness::world::PROFILE,
        "Console-Only",
    );
    let (code, stdout, stderr) = bootstrap(&emulator, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let names: Vec<String> = profiles(&emulator)[0]["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(names.contains(&"Console-Only".to_owned()), "{names:?}");
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(
        requests(&emulator).get("DeleteSyncFilter"),
        after_first.get("DeleteSyncFilter"),
        "bootstrap never removes a filter"
    );
}

#[test]
fn bootstrap_starts_the_sync_with_the_other_public_body_when_the_first_is_refused() {
    let emulator = identity_sync_emulator::spawn(identity_sync_emulator::Options {
        knobs: identity_sync_emulator::Knobs {
            start_sync_string_body: true,
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let (code, stdout, stderr) = bootstrap(&emulator, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("4/4 synchronisation: ")
            && stdout.contains(
                "(the service refused the body {}: ValidationException: the request body must be the JSON string \"\"; the JSON string \"\" worked)"
            ),
        "{stdout}"
    );
    assert_eq!(profiles(&emulator)[0]["state"], "ACTIVE");
    assert_eq!(requests(&emulator).get("StartSync"), Some(&2));
}

/// The identity store of moto's IAM Identity Center instance.
fn instance_store(moto: &Moto) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sdk = syncscope_harness::world::moto_sdk_config(&moto.url).await;
        syncscope_harness::world::instance_store_id(&sdk).await
    })
}

/// A service that takes one form of `TargetResourceArn` only: bootstrap tries the
/// short form with the directory id, the short form with the identity store id and
/// the full ARN, in this order, stops at the first that works, names every form
/// refused before it, and a second run finds the target and creates nothing.
#[test]
fn bootstrap_tries_each_target_form_in_order_and_names_every_refusal() {
    use identity_sync_emulator::TargetForm;
    let store = instance_store(moto());
    let directory_form = "identitystore/d-1234567890 (short form with the directory id)";
    let store_form = format!("identitystore/{store} (short form with the identity store id)");
    let full = format!("arn:aws:identitystore::{ACCOUNT}:identitystore/{store}");
    let full_form = format!("{full} (full ARN)");
    // (the form taken, the value stored, the form that worked, the forms refused)
    let cases = [
        (
            TargetForm::Directory,
            "identitystore/d-1234567890".to_owned(),
            directory_form.to_owned(),
            vec![],
        ),
        (
            TargetForm::Store,
            format!("identitystore/{store}"),
            store_form.clone(),
            vec![directory_form.to_owned()],
        ),
        (
            TargetForm::Full,
            full.clone(),
            full_form,
            vec![directory_form.to_owned(), store_form.clone()],
        ),
    ];
    for (form, stored, worked, refused) in cases {
        let emulator = identity_sync_emulator::spawn(identity_sync_emulator::Options {
            knobs: identity_sync_emulator::Knobs {
                target_form: form,
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        let (code, stdout, stderr) = bootstrap(&emulator, &[]);
        assert_eq!(code, 0, "{form:?}: {stdout}\n{stderr}");
        let line = stdout
            .lines()
            .find(|l| {
                l.starts_with("3/4 sync target IdentityStoreForSSO: not found; created it -> ")
            })
            .unwrap_or_else(|| panic!("{form:?}: {stdout}"));
        assert!(
            line.contains(&format!("created it -> {worked}")),
            "{form:?}: {line}"
        );
        for r in &refused {
            assert!(
                line.contains(&format!("{r}: ValidationException")),
                "{form:?}: {r} not named in {line}"
            );
        }
        if refused.is_empty() {
            assert!(!line.contains("refused"), "{form:?}: {line}");
        }
        let state = profiles(&emulator);
        assert_eq!(state[0]["targets"][0]["target_arn"], stored, "{form:?}");
        assert_eq!(
            requests(&emulator)["CreateSyncTarget"],
            refused.len() as u64 + 1,
            "{form:?}: one try per form until one works"
        );

        let (code, stdout, stderr) = bootstrap(&emulator, &[]);
        assert_eq!(code, 0, "{form:?}: {stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!(
                "3/4 sync target IdentityStoreForSSO: found (-> {stored}); nothing to do"
            )),
            "{form:?}: {stdout}"
        );
        assert_eq!(
            requests(&emulator)["CreateSyncTarget"],
            refused.len() as u64 + 1,
            "{form:?}: nothing created again"
        );
    }
}

/// An emulator with the example's profile (directory d-1234567890, ACTIVE) and a sync
/// target writing to `target_arn`.
fn emulator_with_target(target_arn: &str) -> identity_sync_emulator::Running {
    let seed = json!({"profiles": [{
        "name": "SynchronizationToActiveDirectoryAwsSso",
        "source_arn": format!("arn:aws:ds:{REGION}:{ACCOUNT}:directory/d-1234567890"),
        "state": "ACTIVE",
        "targets": [{"name": "IdentityStoreForSSO", "target_arn": target_arn}],
    }]});
    identity_sync_emulator::spawn(identity_sync_emulator::Options {
        seed: Some(identity_sync_emulator::Seed::from_json(&seed.to_string()).unwrap()),
        ..Default::default()
    })
    .unwrap()
}

/// A target that names the instance's identity store in any of the three forms is
/// the right one: bootstrap finds it and has nothing to do. A full ARN of another
/// store (here the directory's id, which only the short form may carry) stops the
/// run before anything is written, naming both stores and the fix.
#[test]
fn bootstrap_takes_an_existing_target_in_any_of_the_three_forms_and_no_other() {
    let store = instance_store(moto());
    for target_arn in [
        format!("arn:aws:identitystore::{ACCOUNT}:identitystore/{store}"),
        format!("identitystore/{store}"),
        "identitystore/d-1234567890".to_owned(),
    ] {
        let emulator = emulator_with_target(&target_arn);
        let (code, stdout, stderr) = bootstrap(&emulator, &[]);
        assert_eq!(code, 0, "{target_arn}: {stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!(
                "3/4 sync target IdentityStoreForSSO: found (-> {target_arn}); nothing to do"
            )),
            "{target_arn}: {stdout}"
        );
        assert_eq!(
            requests(&emulator)
                .get("CreateSyncTarget")
                .copied()
                .unwrap_or(0),
            0,
            "{target_arn}"
        );
    }

    let elsewhere = format!("arn:aws:identitystore::{ACCOUNT}:identitystore/d-1234567890");
    let emulator = emulator_with_target(&elsewhere);
    let before = profiles(&emulator);
    let (code, stdout, stderr) = bootstrap(&emulator, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "sync target IdentityStoreForSSO of profile SynchronizationToActiveDirectoryAwsSso writes to {elsewhere}, not to the identity store arn:aws:identitystore::{ACCOUNT}:identitystore/{store}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "or pass --target-name of the target that writes to {store}"
        )),
        "{stderr}"
    );
    let counts = requests(&emulator);
    for op in WRITES {
        assert_eq!(counts.get(op).copied().unwrap_or(0), 0, "{op}: {counts:?}");
    }
    assert_eq!(profiles(&emulator), before);
}

/// The Lambda is linked at a fixed address (`functions/syncscope/build.rs`), so the
/// dynamic loader has no relative relocations to apply before `main`
/// (docs/benchmarks.md, "Start-up"). A position-independent build is `ET_DYN` (3).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_lambda_binary_is_a_fixed_address_executable() {
    use std::io::Read as _;

    let path = paths::binary("syncscope-lambda");
    let mut header = [0u8; 18];
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut header))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &header[..4],
        b"\x7fELF",
        "{} is not an ELF file",
        path.display()
    );
    let e_type = u16::from_le_bytes([header[16], header[17]]);
    assert_eq!(
        e_type,
        2,
        "{}: ELF type {e_type}, not ET_EXEC (2)",
        path.display()
    );
}
