//! `syncscope doctor` against moto and the identity-sync emulator: all ok on a good
//! world, exactly one red line with its fix for each broken one, nothing written, no
//! secret in its output or its capture, and every answer outside the contract named.

use std::path::{Path, PathBuf};
use std::process::Command;

use identity_sync_emulator::{Knobs, Options, Running, Seed};
use serde_json::{Value, json};
use syncscope::ssm::ParameterStore;
use syncscope_core::store;
use syncscope_core::synth::ParameterNames;
use syncscope_harness::moto::Moto;
use syncscope_harness::paths;
use syncscope_harness::world::{DOMAIN, PROFILE, REGION, moto_sdk_config};

/// In the webhook URL stored in SSM: must never be printed or captured.
const WEBHOOK_CANARY: &str = "DOCTORWEBHOOKCANARY0123456789";
/// A session token: must never be printed or captured.
const TOKEN_CANARY: &str = "DOCTORSESSIONCANARY0123456789";

/// What a world is missing or gets wrong.
#[derive(Default, Clone, Copy)]
struct Broken {
    no_profile: bool,
    wrong_region: bool,
    no_bucket: bool,
    missing_shard: bool,
    no_data_access: bool,
    target: Target,
}

/// What the sync target's `TargetResourceArn` is.
#[derive(Default, Clone, Copy, Debug)]
enum Target {
    /// The full ARN of moto's instance's identity store.
    #[default]
    Full,
    /// `identitystore/<the instance's identity store id>`.
    StoreShort,
    /// `identitystore/<the profile's directory id>`.
    DirectoryShort,
    /// The full ARN of another identity store (the issue's case: `d-1234567890`,
    /// the directory's id, in an identity store ARN).
    OtherStore,
}

impl Target {
    fn arn(self, store: &str) -> String {
        match self {
            Target::Full => format!("arn:aws:identitystore::123456789012:identitystore/{store}"),
            Target::StoreShort => format!("identitystore/{store}"),
            Target::DirectoryShort => "identitystore/d-1234567890".to_owned(),
            Target::OtherStore => {
                "arn:aws:identitystore::123456789012:identitystore/d-1234567890".to_owned()
            }
        }
    }
}

/// A deployed stack on moto and a sync profile on the emulator, with a config file.
struct DoctorWorld {
    emulator: Running,
    config: PathBuf,
    dir: PathBuf,
    /// The identity store of moto's IAM Identity Center instance.
    store: String,
}

fn world(broken: Broken, knobs: Knobs) -> DoctorWorld {
    let moto = Moto::shared();
    let ns = format!("d{:08x}", fastrand::u32(..));
    let dir = paths::build_dir("e2e-doctor").join(&ns);
    std::fs::create_dir_all(&dir).unwrap();
    // Long enough descriptions, hard enough to compress, that the packed filters take
    // two shards.
    let count = if broken.missing_shard { 60 } else { 3 };
    let mut rng = fastrand::Rng::with_seed(7);
    let groups: Vec<Value> = (0..count)
        .map(|i| {
            let noise: String = (0..120).map(|_| rng.alphanumeric()).collect();
            json!({ "Name": format!("AWS-Team-{i:02}"), "Description": format!("Team {i}: {noise}") })
        })
        .collect();
    let mut general = json!({
        "produkt": "Doctor", "stage": ns, "prefix": "T",
        "s3_DOKUBUCKET": format!("doctor-{ns}"),
        "WebhookUrlTeams": format!("ssm:/doctor/{ns}/hook"),
        "DocuWebsite": "https://wiki.example.com/aws/sso",
    });
    if broken.wrong_region {
        general["Region"] = json!("us-west-2");
    }
    let doc =
        json!({ "general": general, "SSO": { "ad_DomainName": DOMAIN, "GroupFilters": groups } });
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, doc.to_string()).unwrap();
    let config = syncscope_core::config::from_value(&doc).unwrap().config;

    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(async {
        let sdk = moto_sdk_config(&moto.url).await;
        // The organization and a provisioned permission set: every access map line
        // has something to read.
        let seeded = syncscope_harness::access::seed(&sdk, &[], &["DoctorReadOnly"]).await;
        syncscope_harness::access::assign(
            &sdk,
            &seeded,
            syncscope_harness::access::To::Group("doctor-group"),
            syncscope_harness::access::MANAGEMENT_ACCOUNT,
            "DoctorReadOnly",
        )
        .await;
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        ssm.put_parameter()
            .name(format!("/doctor/{ns}/hook"))
            .value(format!(
                "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig={WEBHOOK_CANARY}"
            ))
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
        let names = ParameterNames::for_stack(config.general.stack_name.as_str());
        let entries = store::entries_of(&config.desired());
        let base = names.filters_version(&store::hash(&entries));
        ParameterStore::new(ssm.clone())
            .write_list(&base, &entries)
            .await
            .unwrap();
        if broken.missing_shard {
            ssm.delete_parameter()
                .name(store::shard_name(&base, 1))
                .send()
                .await
                .unwrap();
        }
        if !broken.no_bucket {
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            );
            let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                .build();
            s3.create_bucket()
                .bucket(format!("doctor-{ns}"))
                .create_bucket_configuration(location)
                .send()
                .await
                .unwrap();
        }
        syncscope_harness::world::instance_store_id(&sdk).await
    });

    let directory = json!({
        "id": "d-1234567890", "domain": DOMAIN, "data_access": !broken.no_data_access,
        "groups": { "AWS-Team-00": { "users": ["alice", "bob"] } }
    });
    let seed = if broken.no_profile {
        json!({ "profiles": [], "directories": [directory] })
    } else {
        json!({ "profiles": [{
            "name": PROFILE,
            "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
            "state": "ACTIVE",
            "targets": [{ "name": "IdentityStoreForSSO", "target_arn": broken.target.arn(&store) }],
            "filters": [{ "type": "GROUP", "name": "AWS-Team-00", "domain": DOMAIN },
                        { "type": "USER", "name": "svc-deploy", "domain": DOMAIN }]
        }], "directories": [directory]})
    };
    let emulator = identity_sync_emulator::spawn(Options {
        seed: Some(Seed::from_json(&seed.to_string()).unwrap()),
        knobs,
        ..Options::default()
    })
    .unwrap();
    DoctorWorld {
        emulator,
        config: config_path,
        dir,
        store,
    }
}

/// Runs `syncscope doctor` with these extra arguments and environment.
fn doctor(w: &DoctorWorld, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let none = w.dir.join("no-aws-config");
    let mut cmd = Command::new(paths::binary("syncscope"));
    crate::helpers::aws_env(&mut cmd, &Moto::shared().url, &none);
    cmd.env("AWS_ENDPOINT_URL_IDENTITY_SYNC", w.emulator.base_url())
        .env(
            "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA",
            w.emulator.base_url(),
        )
        .arg("doctor")
        .arg("--config")
        .arg(&w.config)
        .args(args);
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// Write requests the emulator received.
fn writes(w: &DoctorWorld) -> u64 {
    use identity_sync_emulator::Operation as Op;
    let state = w.emulator.emulator().snapshot();
    [
        Op::CreateSyncFilter,
        Op::DeleteSyncFilter,
        Op::CreateSyncProfile,
        Op::CreateSyncTarget,
        Op::StartSync,
        Op::StopSync,
    ]
    .into_iter()
    .map(|op| state.counters_of(op).requests)
    .sum()
}

#[test]
fn doctor_is_all_ok_on_a_good_world_and_writes_nothing() {
    let w = world(Broken::default(), Knobs::default());
    let (code, out) = doctor(&w, &[], &[]);
    assert_eq!(code, 0, "{out}");
    let ok = lines_starting(&out, "ok    ");
    assert_eq!(ok.len(), 18, "{out}");
    for check in [
        "region",
        "credentials",
        "IAM Identity Center",
        "access map (sso:ListPermissionSets): ",
        "access map (sso:DescribePermissionSet): ",
        "access map (sso:ListAccountsForProvisionedPermissionSet): ",
        "access map (sso:ListAccountAssignments): ",
        "access map (sso:ListAccountAssignmentsForPrincipal): allowed",
        "access map (organizations:ListAccounts): ",
        "sync profile",
        "sync target",
        "group filters: 1 in the scope",
        "user filters: 1 in the scope",
        "directory data: directory d-1234567890 in eu-central-1 answers (group AWS-Team-00: in AD: 2 members)",
        "stack filters (SSM)",
        "ledger (SSM): ",
        "docs bucket",
        "Teams webhook",
    ] {
        assert!(ok.iter().any(|l| l.contains(check)), "{check}: {out}");
    }
    assert!(lines_starting(&out, "FAIL").is_empty(), "{out}");
    assert!(!out.contains("contract difference"), "{out}");
    assert!(out.contains("Doctor: 18 checks, all ok."), "{out}");
    assert!(!out.contains(WEBHOOK_CANARY), "{out}");
    assert_eq!(writes(&w), 0);
}

#[test]
fn each_broken_world_gives_exactly_one_red_line_that_names_the_fix() {
    // (case, what is broken, extra environment, the red line, words of its fix)
    type Case<'a> = (&'a str, Broken, &'a [(&'a str, &'a str)], &'a str, &'a str);
    let refusing = syncscope_harness::sink::Sink::answering(
        syncscope_harness::sink::Reply::status(400).body(
            r#"{"__type":"AccessDeniedException","message":"not authorized to perform organizations:ListAccounts"}"#,
        ),
    )
    .unwrap();
    let organizations = refusing.url("");
    let cases: [Case<'_>; 8] = [
        (
            "no organizations:ListAccounts",
            Broken::default(),
            &[("AWS_ENDPOINT_URL_ORGANIZATIONS", organizations.as_str())],
            "FAIL  access map (organizations:ListAccounts): organizations:ListAccounts failed",
            "NameAccounts",
        ),
        (
            "sync target writes to another identity store",
            Broken {
                target: Target::OtherStore,
                ..Broken::default()
            },
            &[],
            "FAIL  sync target IdentityStoreForSSO: writes to arn:aws:identitystore::123456789012:identitystore/d-1234567890, not to the instance's identity store d-",
            "delete the sync target IdentityStoreForSSO in the IAM Identity Center console and run `syncscope bootstrap`, or pass --target-name of the target that writes to d-",
        ),
        (
            "directory data access disabled",
            Broken {
                no_data_access: true,
                ..Broken::default()
            },
            &[],
            "FAIL  directory data",
            "enable directory data access on d-1234567890",
        ),
        (
            "no profile",
            Broken {
                no_profile: true,
                ..Broken::default()
            },
            &[],
            "FAIL  sync profile",
            "bootstrap",
        ),
        (
            "wrong region",
            Broken {
                wrong_region: true,
                ..Broken::default()
            },
            &[],
            "FAIL  sync profile",
            "set general.Region",
        ),
        (
            "wrong credentials",
            Broken::default(),
            &[("AWS_ACCESS_KEY_ID", "AKIAWRONGKEY0000")],
            "FAIL  sync profile",
            "credentials were refused",
        ),
        (
            "missing SSM shard",
            Broken {
                missing_shard: true,
                ..Broken::default()
            },
            &[],
            "FAIL  stack filters (SSM)",
            "deploy again",
        ),
        (
            "no docs bucket",
            Broken {
                no_bucket: true,
                ..Broken::default()
            },
            &[],
            "FAIL  docs bucket",
            "create it",
        ),
    ];
    for (name, broken, env, red, fix) in cases {
        let w = world(broken, Knobs::default());
        let (code, out) = doctor(&w, &[], env);
        assert_eq!(code, 1, "{name}: {out}");
        let failed = lines_starting(&out, "FAIL");
        assert_eq!(failed.len(), 1, "{name}: {out}");
        assert!(failed[0].starts_with(red), "{name}: {out}");
        let after = out.split(red).nth(1).unwrap_or_default();
        let fix_line = after
            .lines()
            .find(|l| l.trim_start().starts_with("fix:"))
            .unwrap_or_default();
        assert!(
            fix_line.contains(fix),
            "{name}: {fix} not in {fix_line:?}\n{out}"
        );
        assert_eq!(writes(&w), 0, "{name}");
        // What depends on the failed check is skipped, saying on what.
        if name == "no profile" {
            for check in [
                "sync target IdentityStoreForSSO",
                "group filters",
                "user filters",
                "directory data",
            ] {
                let line = format!("skip  {check}: needs the sync profile");
                assert!(out.lines().any(|l| l == line), "{line}\n{out}");
            }
        }
    }
}

/// A target that names the instance's identity store in any of the three forms
/// bootstrap may create it with is ok, and says which form it is; one that writes to
/// another store is the one red line, naming both stores.
#[test]
fn the_sync_target_must_write_to_the_instance_store_in_one_of_the_three_forms() {
    for (target, form) in [
        (Target::Full, "full ARN"),
        (Target::StoreShort, "short form with the identity store id"),
        (Target::DirectoryShort, "short form with the directory id"),
    ] {
        let w = world(
            Broken {
                target,
                ..Broken::default()
            },
            Knobs::default(),
        );
        let (code, out) = doctor(&w, &[], &[]);
        assert_eq!(code, 0, "{target:?}: {out}");
        let line = format!(
            "ok    sync target IdentityStoreForSSO: -> {} (the instance's identity store {}, {form})",
            target.arn(&w.store),
            w.store
        );
        assert!(out.lines().any(|l| l == line), "{target:?}: {line}\n{out}");
    }

    let w = world(
        Broken {
            target: Target::OtherStore,
            ..Broken::default()
        },
        Knobs::default(),
    );
    let (code, out) = doctor(&w, &[], &[]);
    assert_eq!(code, 1, "{out}");
    let failed = lines_starting(&out, "FAIL");
    assert_eq!(failed.len(), 1, "{out}");
    let store = &w.store;
    assert_eq!(
        failed[0],
        format!(
            "FAIL  sync target IdentityStoreForSSO: writes to arn:aws:identitystore::123456789012:identitystore/d-1234567890, not to the instance's identity store {store} (identitystore/d-1234567890 or identitystore/{store} or arn:aws:identitystore::123456789012:identitystore/{store})"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "      fix: delete the sync target IdentityStoreForSSO in the IAM Identity Center console and run `syncscope bootstrap`, or pass --target-name of the target that writes to {store}\n"
        )),
        "{out}"
    );
    assert_eq!(writes(&w), 0);
}

#[test]
fn a_capture_holds_every_identity_sync_exchange_and_no_secret() {
    let w = world(Broken::default(), Knobs::default());
    let capture = w.dir.join("capture");
    let capture_arg = capture.display().to_string();
    // A wrong secret: the service's signature error echoes the signed headers, the
    // session token among them.
    let (code, out) = doctor(
        &w,
        &["--capture", &capture_arg],
        &[
            ("AWS_SECRET_ACCESS_KEY", "wrong-secret-0123456789"),
            ("AWS_SESSION_TOKEN", TOKEN_CANARY),
        ],
    );
    assert_eq!(code, 1, "{out}");
    let files = captured(&capture);
    assert!(!files.is_empty(), "{out}");
    let raw_echo = files
        .iter()
        .any(|(_, text)| text.contains("InvalidSignatureException"));
    assert!(raw_echo, "the refused exchange is captured: {files:?}");
    for (path, text) in &files {
        for canary in [TOKEN_CANARY, WEBHOOK_CANARY, "wrong-secret-0123456789"] {
            assert!(!text.contains(canary), "{canary} in {}", path.display());
        }
    }
    for canary in [TOKEN_CANARY, WEBHOOK_CANARY, "wrong-secret-0123456789"] {
        assert!(!out.contains(canary), "{canary} in the output: {out}");
    }

    // A good run captures the profile, the target and every listing page.
    let good = w.dir.join("capture-good");
    let good_arg = good.display().to_string();
    let (code, out) = doctor(&w, &["--capture", &good_arg], &[]);
    assert_eq!(code, 0, "{out}");
    let names: Vec<String> = captured(&good)
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "001-GetSyncProfile.json",
            "002-GetSyncTarget.json",
            "003-ListSyncFilters.json",
            "004-ListSyncFilters.json"
        ],
        "{out}"
    );
}

#[test]
fn answers_outside_the_contract_are_each_named_and_still_read() {
    let w = world(
        Broken::default(),
        Knobs {
            odd_shapes: true,
            ..Knobs::default()
        },
    );
    let (code, out) = doctor(&w, &[], &[]);
    assert_eq!(code, 0, "{out}");
    for difference in [
        "contract difference: GetSyncProfile: the profile has the field \"UnexpectedField\"",
        "contract difference: GetSyncProfile: the profile's CreateTime is neither a number nor a string",
        "contract difference: GetSyncTarget: the target has the field \"UnexpectedField\"",
        "contract difference: ListSyncFilters: a filter has the field \"UnexpectedField\"",
        "contract difference: ListSyncFilters: the page has the field \"UnexpectedField\"",
    ] {
        assert!(out.contains(difference), "{difference}\n{out}");
    }
    assert!(out.contains("group filters: 1 in the scope"), "{out}");
}

#[test]
fn credentials_from_a_profile_file_are_never_printed_or_captured_even_when_echoed() {
    // The service quotes the session token in its message (not in a signing echo),
    // and the credentials come from a file, not the environment.
    let w = world(
        Broken::default(),
        Knobs {
            echo_token: true,
            ..Knobs::default()
        },
    );
    let secret = "FILESECRETCANARY0123456789";
    let token = "FILETOKENCANARY0123456789";
    let credentials = w.dir.join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = testing\naws_secret_access_key = {secret}\naws_session_token = {token}\n"
        ),
    )
    .unwrap();
    let capture = w.dir.join("capture-file-credentials");
    let capture_arg = capture.display().to_string();
    let credentials_arg = credentials.display().to_string();
    let (code, out) = doctor(
        &w,
        &["--capture", &capture_arg],
        &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_SHARED_CREDENTIALS_FILE", &credentials_arg),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[removed]"), "the echoed token was cut: {out}");
    let files = captured(&capture);
    assert!(!files.is_empty(), "{out}");
    for canary in [token, secret] {
        assert!(!out.contains(canary), "{canary} in the output: {out}");
        for (path, text) in &files {
            assert!(!text.contains(canary), "{canary} in {}", path.display());
        }
    }
}

/// The files of a capture directory, in name order, with their text.
fn captured(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            (p, text)
        })
        .collect();
    files.sort();
    files
}
