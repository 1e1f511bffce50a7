//! A stateful, model-based property test of the whole lifecycle.
//!
//! proptest generates sequences of what CloudFormation and people do ([`Step`]): a
//! deployment (Create, or an Update that adds, removes or renames filters and may
//! switch `Mode`, `OnDelete`, `DryRun`, `SyncProfileName` or `Region`), an Update
//! rolled back because another resource failed, the stack's Delete, a stale Delete
//! of an old id, Deletes of foreign and failed-create ids, redelivery of the last
//! request, console edits, the directory check (`warn` or `require`; the directory
//! lacks one config name), and faults (a hard failure in the middle of an apply,
//! transient 5xx, changes applied and then answered 500). A small CloudFormation
//! simulator turns each step into the requests CloudFormation sends (rollback
//! Updates after a FAILED Update, the old id's Delete after a replacement, the
//! rollback Delete after a FAILED Create), and after every request the test checks,
//! against a shadow model built only from what it observed:
//!
//! - every delivery gets exactly one answer;
//! - a request removes only filters its stack created or adopted, except in the
//!   profile of an `authoritative` run (console filters are never removed otherwise);
//! - after a successful non-dry Create or Update, every desired filter is in the scope
//!   of the profile it names;
//! - a Create or Update with `DirectoryCheck: require` whose config lists a name the
//!   directory does not have changes nothing, and a refusal by the check names it;
//! - a Create answered with the failed-create id created nothing;
//! - a Delete with `OnDelete: retain` removes nothing; a Delete of a foreign or a
//!   failed-create id touches nothing;
//! - a stack's ownership records claim only filters the stack created or adopted;
//! - when a stack whose every deployment said `OnDelete: remove` (no dry run) is
//!   deleted, no filter it created remains in any profile.
//!
//! Every sequence ends with faults cleared and the stack deleted, which must succeed.
//!
//! Each campaign runs under one [`Engine`], with the same steps and invariants: what
//! "the scope of a profile" is, how the console edits it and how the faults are made
//! is the engine's ([`Engine`] hides it). Under `sync-filters` the scope of (region,
//! profile) is the profile's identity-sync filters; under `parent-group` it is the
//! direct members of the group `Parent-<profile>` in the region's directory
//! ([`DIRECTORY_IDS`]), read and changed with Directory Service Data, and no request
//! makes any identity-sync call (the emulators' counters say so).
//!
//! The in-process driver runs [`syncscope::handler::respond`] against moto and two
//! emulators (two regions; Directory Service Data reaches each region's emulator
//! through [`RegionalDsData`]); the binary driver runs the real Lambda binary through
//! the Runtime API (one region: the binary has one identity-sync endpoint override,
//! as the AWS SDKs do). `SYNCSCOPE_MODEL_CASES` (default 300; the parent-group
//! twin runs a third of it) and `SYNCSCOPE_MODEL_BINARY_CASES` (default 20; the twin
//! half of it) scale the campaigns, and `SYNCSCOPE_MODEL_SEED` (default 1) picks
//! their sequences. A failure prints the shrunk sequence as Rust: paste it into
//! [`replay`] (or [`replay_with`] for the parent-group engine) as a regression test.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use identity_sync_emulator::{Emulator, Running, Seed};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{Map, Value, json};
use syncscope::app::App;
use syncscope::identity_sync::{ClientOptions, IdentitySyncClient};
use syncscope::ssm::{ParameterStore, RecordAt};
use syncscope_core::scope::{FilterKind, ProfileKey};
use syncscope_core::store;
use syncscope_core::synth::{ParameterNames, properties_for};
use syncscope_harness::moto::Moto;
use syncscope_harness::sink::Sink;
use syncscope_harness::world::moto_sdk_config;

use crate::helpers::*;

/// The regions of the in-process driver (the binary driver uses the first).
pub(crate) const REGIONS: [&str; 2] = ["eu-central-1", "eu-west-1"];
/// The sync profiles every region has.
pub(crate) const PROFILES: [&str; 2] = [PROFILE, "ProfileB"];
/// Names configs use.
pub(crate) const NAMES: [&str; 6] = ["G-0", "G-1", "G-2", "G-3", "G-4", "G-5"];
/// Requests delivered by every campaign of this process (for the summary line).
pub(crate) static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Deployments the directory check refused (`require` and a name not in AD).
static REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Names only the console adds: no config ever names them.
pub(crate) const CONSOLE: [&str; 3] = ["C-0", "C-1", "C-2"];
/// The directory of each region of [`REGIONS`] (every emulator holds both; the
/// parent-group engine's `DirectoryId` is its region's).
pub(crate) const DIRECTORY_IDS: [&str; 2] = ["d-1234567890", "d-0987654321"];

/// What changes the scope (`SSO.Engine`), and so what the model reads as the scope of
/// a (region, profile), how the console edits it and how faults are injected. The
/// steps, the simulator and the invariants do not know which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// The identity-sync filters of the profile.
    SyncFilters,
    /// The direct members of [`parent_of`] the profile, in the region's directory.
    ParentGroup,
}

/// One thing in a scope: a filter (its id) or a member of the parent group (its
/// lowercased name: a membership has no id of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// Every scope of every region: (region index, profile) to what it holds.
pub(crate) type Scopes = HashMap<(usize, String), Vec<Held>>;

/// The parent group that holds the scope of `profile` under the parent-group engine.
pub(crate) fn parent_of(profile: &str) -> String {
    format!("Parent-{profile}")
}

impl Engine {
    /// The config's `SSO` keys that choose the engine for a (region, profile).
    fn sso_keys(self, region: usize, profile: &str) -> Value {
        match self {
            Self::SyncFilters => json!({}),
            Self::ParentGroup => json!({
                "Engine": "parent-group",
                "ParentGroup": parent_of(profile),
                "DirectoryId": DIRECTORY_IDS[region],
            }),
        }
    }

    /// Every scope of every region now.
    pub(crate) fn scopes<D: Driver>(self, driver: &D) -> Scopes {
        let mut out = HashMap::new();
        for (region, directory_id) in DIRECTORY_IDS.iter().enumerate().take(driver.regions()) {
            let state = driver.emulator(region).snapshot();
            match self {
                Self::SyncFilters => {
                    for p in state.profiles {
                        let held = p
                            .filters
                            .into_iter()
                            .map(|f| Held {
                                id: f.id,
                                name: f.name,
                            })
                            .collect();
                        out.insert((region, p.name), held);
                    }
                }
                Self::ParentGroup => {
                    let directory = state.directory(directory_id);
                    for profile in PROFILES {
                        let members = directory
                            .and_then(|d| d.group(&parent_of(profile)))
                            .map(|g| g.users.iter().chain(&g.groups))
                            .into_iter()
                            .flatten()
                            .map(|name| Held {
                                id: name.to_lowercase(),
                                name: name.clone(),
                            })
                            .collect();
                        out.insert((region, profile.to_owned()), members);
                    }
                }
            }
        }
        out
    }

    /// The console adds the group `name` to the scope of (region, profile); an error
    /// (a fault, already there) is the console's business.
    fn console_add<D: Driver>(self, driver: &D, region: usize, profile: &str, name: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        match self {
            Self::SyncFilters => {
                let call = driver.console(region).create_filter(
                    profile,
                    FilterKind::Group,
                    DOMAIN,
                    name,
                    deadline,
                );
                let _ = driver.rt().block_on(call);
            }
            Self::ParentGroup => {
                let call = driver
                    .ds_console(region)
                    .add_group_member()
                    .directory_id(DIRECTORY_IDS[region])
                    .group_name(parent_of(profile))
                    .member_name(name)
                    .member_realm(DOMAIN)
                    .send();
                let _ = driver.rt().block_on(call);
            }
        }
    }

    /// The console removes `held` from the scope of (region, profile).
    fn console_remove<D: Driver>(self, driver: &D, region: usize, profile: &str, held: &Held) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        match self {
            Self::SyncFilters => {
                let call = driver
                    .console(region)
                    .delete_filter(profile, &held.id, &held.name, deadline);
                let _ = driver.rt().block_on(call);
            }
            Self::ParentGroup => {
                let call = driver
                    .ds_console(region)
                    .remove_group_member()
                    .directory_id(DIRECTORY_IDS[region])
                    .group_name(parent_of(profile))
                    .member_name(&held.name)
                    .member_realm(DOMAIN)
                    .send();
                let _ = driver.rt().block_on(call);
            }
        }
    }

    /// The emulators' knobs for `fault`, on the service the engine calls.
    fn knobs(self, fault: Fault) -> Value {
        let (rate, after_rate, fail, seed) = match fault {
            Fault::Clear => (0.0, 0.0, json!({}), None),
            Fault::HardFail(n) => (
                0.0,
                0.0,
                json!({ NAMES[usize::from(n) % NAMES.len()]: "ValidationException" }),
                None,
            ),
            Fault::Transient(seed) => (0.2, 0.0, json!({}), Some(seed)),
            Fault::AppliedThen500(seed) => (0.0, 0.3, json!({}), Some(seed)),
        };
        let mut knobs = match self {
            Self::SyncFilters => json!({
                "fault_rate": rate, "fault_after_rate": after_rate, "fail_filters": fail,
            }),
            Self::ParentGroup => json!({
                "ds_data_fault_rate": rate,
                "ds_data_fault_after_rate": after_rate,
                "ds_data_fail_members": fail,
            }),
        };
        if let Some(seed) = seed {
            knobs["fault_seed"] = json!(seed);
        }
        knobs
    }

    /// Whether the function may call identity-sync under this engine.
    fn calls_identity_sync(self) -> bool {
        self == Self::SyncFilters
    }
}

/// The identity-sync requests (any operation but Directory Service Data's) the
/// emulators of every region received since their reset.
fn identity_sync_calls<D: Driver>(driver: &D) -> u64 {
    (0..driver.regions())
        .flat_map(|region| driver.emulator(region).snapshot().counters)
        .filter(|(op, _)| {
            !op.starts_with("ds-data:")
                && op != identity_sync_emulator::UNAUTHENTICATED
                && op != identity_sync_emulator::UNKNOWN_OPERATION
        })
        .map(|(_, c)| c.requests)
        .sum()
}

/// One deployment's settings. Its `Debug` is Rust: a shrunk failure pastes as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cfg {
    /// Which of [`NAMES`] the config lists (bit i: `G-i`; never empty).
    pub groups: u8,
    /// `Mode: authoritative`.
    pub authoritative: bool,
    /// `OnDelete: remove`.
    pub remove: bool,
    /// The `DryRun` property.
    pub dry_run: bool,
    /// Index into [`PROFILES`].
    pub profile: u8,
    /// Index into [`REGIONS`] (0: the function's own, no `Region` key).
    pub region: u8,
    /// A deletion guard wide open (else the default 10 / 25 %).
    pub open_guard: bool,
    /// `DirectoryCheck: require` (else the default `warn`); the directory has every
    /// name but `G-5`.
    pub require: bool,
}

/// What CloudFormation or a person does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Create (no stack yet) or Update to this config. `cleanup_new` sends the new
    /// properties with the old id's Delete after a replacement (else the old ones).
    Deploy(Cfg, bool),
    /// An Update that succeeds here while another resource of the stack fails:
    /// CloudFormation rolls it back (and deletes the replaced resource, if any).
    DeployFailingElsewhere(Cfg),
    /// The stack's Delete.
    DeleteStack,
    /// A stale Delete of an id the stack had before (never the current one).
    DeleteOldId(u8),
    /// A Delete of an id syncscope never issued.
    DeleteForeignId,
    /// A Delete of a failed-create id.
    DeleteFailedCreateId,
    /// The last request delivered again (same RequestId).
    Redeliver,
    /// A console edit: add `C-n` (or `G-n` with `config_name`), or delete the n-th
    /// filter of the profile.
    Console {
        /// Add (else delete).
        add: bool,
        /// Add a config name (it may be adopted) instead of a console-only one.
        config_name: bool,
        /// Which name, or which filter to delete.
        n: u8,
        /// Index into [`PROFILES`].
        profile: u8,
        /// Index into [`REGIONS`].
        region: u8,
    },
    /// The emulators' faults from now on.
    Faults(Fault),
}

/// Faults the emulators inject until the next [`Step::Faults`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// None.
    Clear,
    /// Every create or delete of `G-n` fails with a ValidationException.
    HardFail(u8),
    /// 20 % of calls fail with a 500 before they are applied (retried).
    Transient(u64),
    /// 30 % of calls are applied and then answered 500.
    AppliedThen500(u64),
}

fn cfg(regions: u8) -> impl Strategy<Value = Cfg> {
    (
        1u8..64,
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.6),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
        0..regions,
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.25),
    )
        .prop_map(
            |(groups, authoritative, remove, dry_run, profile, region, open_guard, require)| Cfg {
                groups,
                authoritative,
                remove,
                dry_run,
                profile: u8::from(profile),
                region,
                open_guard,
                require,
            },
        )
}

fn step(regions: u8) -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (cfg(regions), any::<bool>()).prop_map(|(c, new)| Step::Deploy(c, new)),
        1 => cfg(regions).prop_map(Step::DeployFailingElsewhere),
        1 => Just(Step::DeleteStack),
        1 => (0u8..4).prop_map(Step::DeleteOldId),
        1 => Just(Step::DeleteForeignId),
        1 => Just(Step::DeleteFailedCreateId),
        1 => Just(Step::Redeliver),
        3 => (any::<bool>(), any::<bool>(), 0u8..6, any::<bool>(), 0..regions).prop_map(
            |(add, config_name, n, profile, region)| Step::Console {
                add,
                config_name,
                n,
                profile: u8::from(profile),
                region,
            }
        ),
        2 => prop_oneof![
            Just(Fault::Clear),
            (0u8..6).prop_map(Fault::HardFail),
            any::<u64>().prop_map(Fault::Transient),
            any::<u64>().prop_map(Fault::AppliedThen500),
        ]
        .prop_map(Step::Faults),
    ]
}

/// A sequence: at least 8 steps; half the sequences keep `OnDelete: remove` and no
/// dry run throughout, so the last check (nothing the stack created remains) applies.
fn sequence(regions: u8) -> impl Strategy<Value = Vec<Step>> {
    (any::<bool>(), prop::collection::vec(step(regions), 8..=14)).prop_map(|(strict, steps)| {
        if !strict {
            return steps;
        }
        steps
            .into_iter()
            .map(|s| match s {
                Step::Deploy(c, new) => Step::Deploy(strict_cfg(c), new),
                Step::DeployFailingElsewhere(c) => Step::DeployFailingElsewhere(strict_cfg(c)),
                other => other,
            })
            .collect()
    })
}

fn strict_cfg(c: Cfg) -> Cfg {
    Cfg {
        remove: true,
        dry_run: false,
        ..c
    }
}

// --- drivers ---------------------------------------------------------------------

/// How requests reach syncscope, and the world they act on.
pub(crate) trait Driver {
    /// The emulator of a region.
    fn emulator(&self, region: usize) -> &Emulator;
    /// Delivers an event; returns the CloudFormation responses PUT for its RequestId
    /// during this delivery.
    fn deliver(&self, event: &Value) -> Vec<Value>;
    /// A ResponseURL for a request.
    fn response_url(&self, request_id: &str) -> String;
    /// A runtime for SDK calls.
    fn rt(&self) -> &tokio::runtime::Runtime;
    /// SSM on moto.
    fn ssm(&self) -> &aws_sdk_ssm::Client;
    /// A signed client of a region's emulator (the console's).
    fn console(&self, region: usize) -> &IdentitySyncClient;
    /// A signed Directory Service Data client of a region's emulator (the console's).
    fn ds_console(&self, region: usize) -> &aws_sdk_directoryservicedata::Client;
    /// How many regions this driver has.
    fn regions(&self) -> usize;
    /// CloudFormation on moto (stacks the function finds alive or gone).
    fn cfn(&self) -> aws_sdk_cloudformation::Client;
}

pub(crate) fn seed() -> Seed {
    let profiles: Vec<Value> = PROFILES
        .iter()
        .map(|p| json!({ "name": p, "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890" }))
        .collect();
    Seed::from_json(&json!({ "profiles": profiles, "directories": directories() }).to_string())
        .unwrap()
}

/// The name configs may list that Active Directory does not have (a typo).
const NOT_IN_AD: &str = "G-5";

/// The directories the profiles sync from (the in-process profiles' and the binary
/// world's second profile's), and the parent-group engine's: every config name but
/// [`NOT_IN_AD`] and every console name is a group, and each profile's parent group
/// ([`parent_of`]) exists without members.
fn directories() -> Vec<Value> {
    let mut groups: Map<String, Value> = NAMES
        .iter()
        .chain(&CONSOLE)
        .filter(|n| **n != NOT_IN_AD)
        .map(|n| {
            (
                (*n).to_owned(),
                json!({ "users": [format!("{}-member", n.to_lowercase())] }),
            )
        })
        .collect();
    for profile in PROFILES {
        groups.insert(parent_of(profile), json!({}));
    }
    DIRECTORY_IDS
        .iter()
        .map(|id| json!({ "id": id, "domain": DOMAIN, "groups": groups }))
        .collect()
}

/// A signed Directory Service Data client of the emulator at `url` in `region`.
fn ds_console_client(
    sdk: &aws_config::SdkConfig,
    url: &str,
    region: &str,
) -> aws_sdk_directoryservicedata::Client {
    aws_sdk_directoryservicedata::Client::from_conf(
        aws_sdk_directoryservicedata::config::Builder::from(sdk)
            .endpoint_url(url)
            .region(aws_config::Region::new(region.to_owned()))
            .build(),
    )
}

/// Directory Service Data at one address for every region: the in-process
/// application has one endpoint override for it (as the binary has
/// `AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA`), while AWS's endpoints are regional.
/// Each request goes, unchanged (its `Host` header included, so its signature
/// holds), to the emulator of the region its signature is scoped to.
pub(crate) struct RegionalDsData {
    url: String,
}

impl RegionalDsData {
    /// Serves on `rt`, forwarding region `REGIONS[i]` to `urls[i]`.
    fn start(rt: &tokio::runtime::Runtime, urls: Vec<String>) -> Self {
        let routes: std::sync::Arc<BTreeMap<String, String>> =
            std::sync::Arc::new(REGIONS.iter().map(|r| (*r).to_owned()).zip(urls).collect());
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let (routes, http) = (routes.clone(), http.clone());
            async move { forward(&routes, &http, request).await }
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await });
        Self { url }
    }
}

/// Forwards one request to the emulator of its signature's region (the first
/// region's when unsigned: the emulator answers it as it answers any).
async fn forward(
    routes: &BTreeMap<String, String>,
    http: &reqwest::Client,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let region = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(2))
        .unwrap_or(REGIONS[0]);
    let base = routes.get(region).unwrap_or(&routes[REGIONS[0]]);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut sent = http.request(parts.method, format!("{base}{path}"));
    for (name, value) in &parts.headers {
        if name != "content-length" && name != "transfer-encoding" {
            sent = sent.header(name, value);
        }
    }
    let answer = match sent.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => {
            return axum::response::Response::builder()
                .status(502)
                .body(axum::body::Body::from(e.to_string()))
                .unwrap();
        }
    };
    let mut back = axum::response::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            back = back.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    back.body(axum::body::Body::from(bytes)).unwrap()
}

fn console_client(url: &str, region: &str) -> IdentitySyncClient {
    IdentitySyncClient::new(
        url,
        region,
        aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "console"),
        ),
        ClientOptions {
            max_attempts: 2,
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

/// The handler in this process, two emulators, moto and a ResponseURL sink.
pub(crate) struct InProcess {
    rt: tokio::runtime::Runtime,
    app: &'static App,
    emulators: Vec<Running>,
    consoles: Vec<IdentitySyncClient>,
    ds_consoles: Vec<aws_sdk_directoryservicedata::Client>,
    cfn: Sink,
    ssm: aws_sdk_ssm::Client,
    cloudformation: aws_sdk_cloudformation::Client,
}

impl InProcess {
    pub(crate) fn start() -> Self {
        let moto = Moto::shared();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulators: Vec<Running> = REGIONS
            .iter()
            .map(|region| {
                identity_sync_emulator::spawn(identity_sync_emulator::Options {
                    region: (*region).to_owned(),
                    seed: Some(seed()),
                    ..Default::default()
                })
                .unwrap()
            })
            .collect();
        let urls: BTreeMap<String, String> = REGIONS
            .iter()
            .zip(&emulators)
            .map(|(r, e)| ((*r).to_owned(), e.base_url()))
            .collect();
        let consoles = REGIONS
            .iter()
            .zip(&emulators)
            .map(|(r, e)| console_client(&e.base_url(), r))
            .collect();
        let sdk = rt.block_on(moto_sdk_config(&moto.url));
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        let cloudformation = aws_sdk_cloudformation::Client::new(&sdk);
        let ds_consoles = REGIONS
            .iter()
            .zip(&emulators)
            .map(|(r, e)| ds_console_client(&sdk, &e.base_url(), r))
            .collect();
        let fallback = emulators[0].base_url();
        let directory =
            RegionalDsData::start(&rt, emulators.iter().map(Running::base_url).collect());
        let app = App::with_endpoints(
            sdk,
            Box::new(move |region| urls.get(region).cloned().unwrap_or(fallback.clone())),
        )
        .unwrap()
        .with_directory_endpoint(directory.url);
        Self {
            rt,
            app: Box::leak(Box::new(app)),
            emulators,
            consoles,
            ds_consoles,
            cfn: Sink::start(200).unwrap(),
            ssm,
            cloudformation,
        }
    }
}

impl Driver for InProcess {
    fn emulator(&self, region: usize) -> &Emulator {
        self.emulators[region].emulator()
    }

    fn deliver(&self, event: &Value) -> Vec<Value> {
        let request_id = event["RequestId"].as_str().unwrap_or_default().to_owned();
        let before = self.cfn.requests().len();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        self.rt.block_on(syncscope::handler::respond(
            self.app,
            event.clone(),
            deadline,
            "model",
        ));
        self.cfn.requests()[before..]
            .iter()
            .filter(|r| r.uri.contains(&request_id))
            .map(|r| r.json())
            .collect()
    }

    fn response_url(&self, request_id: &str) -> String {
        self.cfn
            .url(&format!("/response/{request_id}?X-Amz-Signature=model"))
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }

    fn ssm(&self) -> &aws_sdk_ssm::Client {
        &self.ssm
    }

    fn console(&self, region: usize) -> &IdentitySyncClient {
        &self.consoles[region]
    }

    fn ds_console(&self, region: usize) -> &aws_sdk_directoryservicedata::Client {
        &self.ds_consoles[region]
    }

    fn regions(&self) -> usize {
        REGIONS.len()
    }

    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        self.cloudformation.clone()
    }
}

/// The real Lambda binary through the Runtime API (one region).
pub(crate) struct Binary {
    world: World,
    console: IdentitySyncClient,
    ds_console: aws_sdk_directoryservicedata::Client,
}

impl Binary {
    pub(crate) fn start() -> Self {
        let world = World::with(WorldOptions {
            extra_profiles: vec!["ProfileB"],
            directories: directories(),
            ..Default::default()
        });
        let console = console_client(&world.emulator.base_url(), REGIONS[0]);
        let ds_console = ds_console_client(&world.sdk, &world.emulator.base_url(), REGIONS[0]);
        Self {
            world,
            console,
            ds_console,
        }
    }
}

impl Driver for Binary {
    fn emulator(&self, _region: usize) -> &Emulator {
        self.world.emulator.emulator()
    }

    fn deliver(&self, event: &Value) -> Vec<Value> {
        let before = self.world.cfn.requests().len();
        let request_id = event["RequestId"].as_str().unwrap_or_default().to_owned();
        self.world.send(event, Duration::from_secs(30));
        self.world.cfn.requests()[before..]
            .iter()
            .filter(|r| r.uri.contains(&request_id))
            .map(|r| r.json())
            .collect()
    }

    fn response_url(&self, request_id: &str) -> String {
        self.world
            .cfn
            .url(&format!("/response/{request_id}?X-Amz-Signature=model"))
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        &self.world.rt
    }

    fn ssm(&self) -> &aws_sdk_ssm::Client {
        &self.world.ssm
    }

    fn console(&self, _region: usize) -> &IdentitySyncClient {
        &self.console
    }

    fn ds_console(&self, _region: usize) -> &aws_sdk_directoryservicedata::Client {
        &self.ds_console
    }

    fn regions(&self) -> usize {
        1
    }

    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.world.sdk)
    }
}

/// Writes a config's filters the way the deployment does; returns the properties a
/// model's stack gets (no docs, no card; `ModelGroups`, an unknown key as
/// CloudFormation allows, is the shadow model's copy of the names the config lists).
pub(crate) fn deployed<D: Driver>(
    driver: &D,
    config: &syncscope_core::config::Config,
    names: &ParameterNames,
    groups: &[&str],
) -> Map<String, Value> {
    let entries = store::entries_of(&config.desired());
    let hash = store::hash(&entries);
    driver
        .rt()
        .block_on(
            ParameterStore::new(driver.ssm().clone())
                .write_list(&names.filters_version(&hash), &entries),
        )
        .unwrap();
    let mut props = properties_for(config, names, &hash);
    props.insert(
        "ServiceToken".into(),
        json!("arn:aws:lambda:eu-central-1:123456789012:function:syncscope"),
    );
    props.insert("ModelGroups".into(), json!(groups.join(",")));
    props.remove("DocsBucket");
    props.remove("TeamsWebhook");
    props
}

/// A CloudFormation request of `stack_id`, answered at the driver's ResponseURL.
pub(crate) fn cfn_event<D: Driver>(
    driver: &D,
    request_type: &str,
    stack_id: &str,
    props: &Map<String, Value>,
    old: Option<&Map<String, Value>>,
    id: Option<&str>,
) -> Value {
    let request_id = format!("{:016x}-{:08x}", fastrand::u64(..), fastrand::u32(..));
    let mut event = json!({
        "RequestType": request_type,
        "ServiceToken": props.get("ServiceToken").cloned().unwrap_or(Value::Null),
        "ResponseURL": driver.response_url(&request_id),
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": "SyncScope",
        "ResourceType": "Custom::SyncScope",
        "ResourceProperties": props,
    });
    if let Some(old) = old {
        event["OldResourceProperties"] = json!(old);
    }
    if let Some(id) = id {
        event["PhysicalResourceId"] = json!(id);
    }
    event
}

/// What a console edit did.
pub(crate) enum ConsoleEdit {
    /// Added this name (it may have been there already).
    Added(String),
    /// Deleted this (a filter, a member).
    Deleted(Located, String),
    /// Nothing to delete.
    Nothing,
}

/// Someone in the console adds `C-n` (or `G-n` with `config_name`) to a profile's
/// scope, or deletes the n-th thing it holds, through the signed API.
pub(crate) fn console_edit<D: Driver>(
    driver: &D,
    engine: Engine,
    edit: (bool, bool, u8),
    profile: &str,
    region: usize,
) -> ConsoleEdit {
    let (add, config_name, n) = edit;
    if add {
        let name = if config_name {
            NAMES[usize::from(n) % NAMES.len()]
        } else {
            CONSOLE[usize::from(n) % CONSOLE.len()]
        };
        engine.console_add(driver, region, profile, name);
        return ConsoleEdit::Added(name.to_owned());
    }
    let held = engine
        .scopes(driver)
        .remove(&(region, profile.to_owned()))
        .unwrap_or_default();
    match held.get(usize::from(n) % held.len().max(1)) {
        Some(h) => {
            engine.console_remove(driver, region, profile, h);
            ConsoleEdit::Deleted((region, profile.to_owned(), h.id.clone()), h.name.clone())
        }
        None => ConsoleEdit::Nothing,
    }
}

// --- the CloudFormation simulator and the shadow model ------------------------------

/// A filter (or member) where it lives: (region index, profile, [`Held::id`]).
pub(crate) type Located = (usize, String, String);
/// A name where it lives: (region index, profile, lowercase name). Ownership is by
/// name: the ledger records names, and a filter re-added under a managed name is
/// still the config's.
type Named = (usize, String, String);

/// A stack as CloudFormation sees it.
#[derive(Debug, Clone)]
struct Stack {
    stack_id: String,
    id: String,
    props: Map<String, Value>,
    /// Ids this stack had before, with the properties they had.
    old: Vec<(String, Map<String, Value>)>,
    delete_failed: bool,
}

/// One sequence's simulation: the stack, and what the test observed.
struct Sim<'d, D: Driver> {
    driver: &'d D,
    engine: Engine,
    name: String,
    incarnation: u32,
    stack: Option<Stack>,
    last_event: Option<Value>,
    /// Per StackId: names it wanted (created or adopted) in a non-dry run.
    owned: HashMap<String, HashSet<Named>>,
    /// Per StackId: filters created during its requests (and not gone since: a
    /// member added again later is another one, as a filter created again is).
    created: HashMap<String, HashSet<Located>>,
    /// StackIds the last check does not apply to: a Delete (or an Update's old
    /// properties) said retain or dry run, or a Delete CloudFormation does not retry
    /// (a clean-up, a rollback) failed.
    lenient: HashSet<String>,
    /// What happened, for the failure message.
    log: Vec<String>,
}

pub(crate) fn ids(all: &Scopes) -> HashMap<Located, String> {
    all.iter()
        .flat_map(|((r, p), filters)| {
            filters
                .iter()
                .map(move |f| ((*r, p.clone(), f.id.clone()), f.name.clone()))
        })
        .collect()
}

/// What a request's properties say, as the shadow model needs it.
struct Said {
    region: usize,
    profile: String,
    desired: Vec<String>,
    authoritative: bool,
    remove: bool,
    dry_run: bool,
    require: bool,
}

fn said(props: &Map<String, Value>) -> Said {
    let text = |k: &str| props.get(k).and_then(Value::as_str).unwrap_or_default();
    let region = REGIONS
        .iter()
        .position(|r| *r == text("Region"))
        .unwrap_or(0);
    Said {
        region,
        profile: text("SyncProfileName").to_owned(),
        desired: text("ModelGroups")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        authoritative: text("Mode") == "authoritative",
        remove: text("OnDelete") == "remove",
        dry_run: text("DryRun") == "true",
        require: text("DirectoryCheck") == "require",
    }
}

impl<'d, D: Driver> Sim<'d, D> {
    fn new(driver: &'d D, engine: Engine, case: u32) -> Self {
        Self {
            driver,
            engine,
            name: format!("SyncScope-m{:08x}", fastrand::u32(..) ^ case),
            incarnation: 0,
            stack: None,
            last_event: None,
            owned: HashMap::new(),
            created: HashMap::new(),
            lenient: HashSet::new(),
            log: Vec::new(),
        }
    }

    fn stack_id(&self, incarnation: u32) -> String {
        format!(
            "arn:aws:cloudformation:eu-central-1:123456789012:stack/{}/00000000-0000-4000-8000-{incarnation:012x}",
            self.name
        )
    }

    /// Where this sequence's stack keeps its parameters (an owners' path of its own:
    /// sequences share moto and the profiles, not their stacks).
    fn names(&self) -> ParameterNames {
        ParameterNames {
            owners: format!("/syncscope-model/{}/owners", self.name),
            ..ParameterNames::for_stack(&self.name)
        }
    }

    /// Writes a config's filters the way the deployment does; returns the properties.
    fn deploy(&self, c: Cfg) -> Map<String, Value> {
        let groups: Vec<&str> = NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| c.groups & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        let profile = PROFILES[usize::from(c.profile)];
        let mut extra = self
            .engine
            .sso_keys(usize::from(c.region) % self.driver.regions(), profile);
        extra["Mode"] = json!(if c.authoritative {
            "authoritative"
        } else {
            "managed"
        });
        extra["OnDelete"] = json!(if c.remove { "remove" } else { "retain" });
        extra["SyncProfileName"] = json!(profile);
        if c.open_guard {
            extra["DeletionGuard"] = json!({ "MaxRemovals": 100, "MaxRemovalPercent": 100 });
        }
        if c.require {
            extra["DirectoryCheck"] = json!("require");
        }
        let mut config = config_with(&groups, extra);
        if c.region > 0 {
            config.general.region =
                Some(syncscope_core::names::Region::parse(REGIONS[usize::from(c.region)]).unwrap());
        }
        let mut props = deployed(self.driver, &config, &self.names(), &groups);
        props.insert("DryRun".into(), json!(c.dry_run.to_string()));
        props
    }

    fn event(
        &self,
        request_type: &str,
        stack_id: &str,
        props: &Map<String, Value>,
        old: Option<&Map<String, Value>>,
        id: Option<&str>,
    ) -> Value {
        cfn_event(self.driver, request_type, stack_id, props, old, id)
    }

    /// Delivers one request and checks every invariant a single request has; returns
    /// its one answer.
    fn send(&mut self, event: Value) -> Value {
        let before = self.engine.scopes(self.driver);
        let request_type = event["RequestType"].as_str().unwrap_or_default().to_owned();
        let stack_id = event["StackId"].as_str().unwrap_or_default().to_owned();
        let props = event["ResourceProperties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let s = said(&props);
        let physical = event["PhysicalResourceId"].as_str().map(str::to_owned);

        // The names the request manages from now on, in its profile.
        if matches!(request_type.as_str(), "Create" | "Update") && !s.dry_run {
            let owned = self.owned.entry(stack_id.clone()).or_default();
            for d in &s.desired {
                owned.insert((s.region, s.profile.clone(), d.to_lowercase()));
            }
        }
        // A Delete (or the undo of a failed replacement, inside a rollback Update,
        // which follows the abandoned properties) that keeps the scope.
        let keeps = |p: &Said| !p.remove || p.dry_run;
        let old_keeps = event["OldResourceProperties"]
            .as_object()
            .is_some_and(|old| keeps(&said(old)));
        if (request_type == "Delete" && keeps(&s)) || old_keeps {
            self.lenient.insert(stack_id.clone());
        }

        let responses = self.driver.deliver(&event);
        REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.last_event = Some(event.clone());
        let after = self.engine.scopes(self.driver);
        let (was, now) = (ids(&before), ids(&after));
        let answer = responses.first().cloned().unwrap_or(Value::Null);
        self.log.push(format!(
            "{request_type} {} -> {} {} ({})",
            physical.as_deref().unwrap_or("-"),
            answer["Status"].as_str().unwrap_or("NO ANSWER"),
            answer["PhysicalResourceId"].as_str().unwrap_or(""),
            answer["Reason"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        ));
        assert_eq!(
            responses.len(),
            1,
            "exactly one answer per delivery\n{}",
            self.trail()
        );

        let created: Vec<&Located> = now.keys().filter(|k| !was.contains_key(*k)).collect();
        let removed: Vec<(&Located, &String)> =
            was.iter().filter(|(k, _)| !now.contains_key(*k)).collect();
        for (gone, _) in &removed {
            self.forget(gone);
        }
        for c in &created {
            self.created
                .entry(stack_id.clone())
                .or_default()
                .insert((*c).clone());
        }
        if answer["Data"]["Warnings"]
            .as_str()
            .is_some_and(|w| w.contains("were not all removed"))
        {
            self.lenient.insert(stack_id.clone());
        }
        if !self.engine.calls_identity_sync() {
            let calls = identity_sync_calls(self.driver);
            assert_eq!(
                calls,
                0,
                "{request_type} under {:?} made {calls} identity-sync call(s)\n{}",
                self.engine,
                self.trail()
            );
        }
        let owned = self.owned.get(&stack_id).cloned().unwrap_or_default();
        for (located, name) in &removed {
            let authoritative_here = matches!(request_type.as_str(), "Create" | "Update")
                && s.authoritative
                && !s.dry_run
                && located.0 == s.region
                && located.1 == s.profile;
            let named = (located.0, located.1.clone(), name.to_lowercase());
            assert!(
                owned.contains(&named) || authoritative_here,
                "{request_type} removed {name:?} ({located:?}), which this stack neither created nor adopted\n{}",
                self.trail()
            );
        }
        let status = answer["Status"].as_str().unwrap_or_default();
        let answered_id = answer["PhysicalResourceId"].as_str().unwrap_or_default();
        // A deployment that requires every name in AD and lists one that is not
        // changes nothing; when the check refused it, the reason names it.
        if matches!(request_type.as_str(), "Create" | "Update")
            && s.require
            && s.desired.iter().any(|d| d == NOT_IN_AD)
        {
            assert!(
                created.is_empty() && removed.is_empty(),
                "{request_type} with DirectoryCheck require and {NOT_IN_AD} (not in AD) changed the scope: created {created:?}, removed {removed:?}\n{}",
                self.trail()
            );
            let why = answer["Reason"].as_str().unwrap_or_default();
            if why.contains("SSO.DirectoryCheck is require") {
                REFUSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            assert!(
                !why.contains("SSO.DirectoryCheck is require")
                    || why.contains(&format!("group {NOT_IN_AD}")),
                "{why}\n{}",
                self.trail()
            );
        }
        match request_type.as_str() {
            "Create" | "Update" if status == "SUCCESS" && !s.dry_run => {
                let names: HashSet<String> = after
                    .get(&(s.region, s.profile.clone()))
                    .into_iter()
                    .flatten()
                    .map(|f| f.name.to_lowercase())
                    .collect();
                for d in &s.desired {
                    assert!(
                        names.contains(&d.to_lowercase()),
                        "{request_type} answered SUCCESS but {d} is not in {} ({})\n{}",
                        s.profile,
                        REGIONS[s.region],
                        self.trail()
                    );
                }
            }
            "Create" if answered_id.starts_with("syncscope:failed-create:") => {
                assert!(
                    created.is_empty(),
                    "a Create answered the failed-create id after creating {created:?}\n{}",
                    self.trail()
                );
            }
            "Delete" => {
                let id = physical.as_deref().unwrap_or_default();
                if !id.starts_with("syncscope:") || id.starts_with("syncscope:failed-create:") {
                    assert!(
                        created.is_empty() && removed.is_empty(),
                        "a Delete of {id} touched the scope\n{}",
                        self.trail()
                    );
                }
                if !s.remove {
                    assert!(
                        removed.is_empty(),
                        "a Delete with OnDelete retain removed {removed:?}\n{}",
                        self.trail()
                    );
                }
            }
            _ => {}
        }
        let mut touched = vec![(s.region, s.profile.clone())];
        if let Some(id) = &physical
            && let syncscope_core::cfn::IdKind::Managed(key) = syncscope_core::cfn::classify_id(id)
        {
            touched.push((
                REGIONS
                    .iter()
                    .position(|r| *r == key.region.as_str())
                    .unwrap_or(0),
                key.profile.to_string(),
            ));
        }
        if let Some(old) = event["OldResourceProperties"].as_object() {
            let o = said(old);
            touched.push((o.region, o.profile));
        }
        self.check_records(&stack_id, &touched);
        answer
    }

    /// The stack's records of the resources a request touched claim only names the
    /// stack managed there.
    fn check_records(&self, stack_id: &str, touched: &[(usize, String)]) {
        let owned = self.owned.get(stack_id).cloned().unwrap_or_default();
        let store = ParameterStore::new(self.driver.ssm().clone());
        let names = self.names();
        for (region, profile) in touched {
            let (region, profile) = (*region, profile.as_str());
            {
                let key = ProfileKey::parse(REGIONS[region], profile).expect("a valid key");
                let record = self
                    .driver
                    .rt()
                    .block_on(store.read_ledger(
                        &RecordAt {
                            owners: &names.owners,
                            ledger_base: &names.ledger,
                            key: &key,
                            stack: &self.name,
                        },
                        Some(stack_id),
                        false,
                    ))
                    .unwrap();
                for entry in &record.ledger.entries {
                    assert!(
                        !CONSOLE.iter().any(|c| c.eq_ignore_ascii_case(&entry.name)),
                        "the record of {key} claims the console's {}\n{}",
                        entry.name,
                        self.trail()
                    );
                    if entry.kind != FilterKind::Group {
                        continue;
                    }
                    assert!(
                        owned.contains(&(region, profile.to_owned(), entry.name.to_lowercase())),
                        "the record of {key} claims {}, a name this stack never managed there\n{}",
                        entry.name,
                        self.trail()
                    );
                }
            }
        }
    }

    fn trail(&self) -> String {
        format!("what happened:\n  {}", self.log.join("\n  "))
    }

    /// CloudFormation deleting the stack until it succeeds; then the last check.
    fn delete_stack(&mut self, must_succeed: bool) {
        let Some(stack) = self.stack.clone() else {
            return;
        };
        for attempt in 0..3 {
            let event = self.event(
                "Delete",
                &stack.stack_id,
                &stack.props,
                None,
                Some(&stack.id),
            );
            if self.send(event)["Status"] == "SUCCESS" {
                self.stack = None;
                self.check_nothing_left(&stack.stack_id);
                return;
            }
            if !must_succeed {
                if let Some(s) = &mut self.stack {
                    s.delete_failed = true;
                }
                return;
            }
            assert!(
                attempt < 2,
                "the stack's Delete never succeeded\n{}",
                self.trail()
            );
        }
    }

    /// After a stack that always said `remove` (no dry run) is gone, nothing it
    /// created remains anywhere.
    fn check_nothing_left(&self, stack_id: &str) {
        if self.lenient.contains(stack_id) {
            return;
        }
        let now = ids(&self.engine.scopes(self.driver));
        let left: Vec<_> = self
            .created
            .get(stack_id)
            .into_iter()
            .flatten()
            .filter(|c| now.contains_key(*c))
            .map(|c| format!("{} {:?}", now[c], c))
            .collect();
        assert!(
            left.is_empty(),
            "the stack was deleted with OnDelete remove, but what it created remains: {left:?}\n{}",
            self.trail()
        );
    }

    /// Create (when there is no stack): new StackId; a FAILED Create is rolled back
    /// with a Delete of the id it answered.
    fn create(&mut self, props: Map<String, Value>) {
        self.incarnation += 1;
        let stack_id = self.stack_id(self.incarnation);
        let answer = self.send(self.event("Create", &stack_id, &props, None, None));
        let id = answer["PhysicalResourceId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if answer["Status"] == "SUCCESS" {
            self.stack = Some(Stack {
                stack_id,
                id,
                props,
                old: Vec::new(),
                delete_failed: false,
            });
        } else {
            // ROLLBACK: CloudFormation deletes what the Create answered.
            let rollback = self.event("Delete", &stack_id, &props, None, Some(&id));
            if self.send(rollback)["Status"] != "SUCCESS" {
                self.lenient.insert(stack_id.clone());
            }
            self.check_nothing_left(&stack_id);
        }
    }

    /// An Update; on FAILED, the rollback Update; on a new id, the old id's Delete.
    fn update(&mut self, props: Map<String, Value>, cleanup_new: bool, fails_elsewhere: bool) {
        let Some(mut stack) = self.stack.clone() else {
            return self.create(props);
        };
        if props == stack.props {
            // Nothing changed: CloudFormation sends no Update.
            return;
        }
        let answer = self.send(self.event(
            "Update",
            &stack.stack_id,
            &props,
            Some(&stack.props),
            Some(&stack.id),
        ));
        if answer["Status"] != "SUCCESS" {
            let rollback = self.event(
                "Update",
                &stack.stack_id,
                &stack.props,
                Some(&props),
                Some(&stack.id),
            );
            let back = self.send(rollback);
            let back_id = back["PhysicalResourceId"].as_str().unwrap_or_default();
            if back["Status"] != "SUCCESS" {
                self.rollback_failed(&stack.stack_id);
            } else if back_id != stack.id {
                self.cleanup(
                    &stack.stack_id,
                    &stack.id,
                    &stack.props,
                    &props,
                    cleanup_new,
                );
                stack.old.push((stack.id.clone(), stack.props.clone()));
                stack.id = back_id.to_owned();
            }
            self.stack = Some(stack);
            return;
        }
        let new_id = answer["PhysicalResourceId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if fails_elsewhere {
            // Another resource failed: roll this one back to the old properties.
            let rollback = self.event(
                "Update",
                &stack.stack_id,
                &stack.props,
                Some(&props),
                Some(&new_id),
            );
            let back = self.send(rollback);
            let back_id = back["PhysicalResourceId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if back["Status"] == "SUCCESS" && back_id != new_id {
                // The resource the failed update made is the one cleaned up.
                self.cleanup(&stack.stack_id, &new_id, &props, &stack.props, cleanup_new);
                stack.old.push((new_id, props));
                stack.id = back_id;
            } else if back["Status"] == "SUCCESS" {
                stack.id = back_id;
            } else {
                self.rollback_failed(&stack.stack_id);
            }
            self.stack = Some(stack);
            return;
        }
        if new_id != stack.id {
            self.cleanup(
                &stack.stack_id,
                &stack.id,
                &stack.props,
                &props,
                cleanup_new,
            );
            stack.old.push((stack.id.clone(), stack.props.clone()));
        }
        stack.id = new_id;
        stack.props = props;
        self.stack = Some(stack);
    }

    /// UPDATE_ROLLBACK_FAILED: a person continues the rollback and skips the
    /// resource, which CloudFormation then takes to be as before the update (its old
    /// id and properties). What the update made may stay behind: that is the
    /// person's call, so the last check does not apply to this stack.
    fn rollback_failed(&mut self, stack_id: &str) {
        self.log.push(
            "UPDATE_ROLLBACK_FAILED: the rollback is continued, skipping the resource".into(),
        );
        self.lenient.insert(stack_id.to_owned());
    }

    /// The Delete of a replaced resource (CloudFormation ignores its answer).
    fn cleanup(
        &mut self,
        stack_id: &str,
        id: &str,
        old_props: &Map<String, Value>,
        new_props: &Map<String, Value>,
        with_new: bool,
    ) {
        let props = if with_new { new_props } else { old_props };
        let event = self.event("Delete", stack_id, props, None, Some(id));
        if self.send(event)["Status"] != "SUCCESS" {
            // CloudFormation does not retry the clean-up of a replaced resource.
            self.lenient.insert(stack_id.to_owned());
        }
    }

    /// A filter or member that is gone: if the same comes back, it is another one.
    fn forget(&mut self, gone: &Located) {
        for created in self.created.values_mut() {
            created.remove(gone);
        }
    }

    fn set_faults(&self, fault: Fault) {
        let knobs = self.engine.knobs(fault);
        for region in 0..self.driver.regions() {
            self.driver.emulator(region).update_knobs(&knobs).unwrap();
        }
    }

    fn console(&mut self, add: bool, config_name: bool, n: u8, profile: u8, region: u8) {
        let region = usize::from(region) % self.driver.regions();
        let profile = PROFILES[usize::from(profile)];
        let edit = console_edit(
            self.driver,
            self.engine,
            (add, config_name, n),
            profile,
            region,
        );
        let (verb, name) = match edit {
            ConsoleEdit::Added(name) => ("adds", name),
            ConsoleEdit::Deleted(gone, name) => {
                self.forget(&gone);
                ("deletes", name)
            }
            ConsoleEdit::Nothing => return,
        };
        self.log.push(format!(
            "console {verb} {name} in {profile} in {}",
            REGIONS[region]
        ));
    }

    fn step(&mut self, step: Step) {
        self.log.push(format!("-- {step:?}"));
        // A stack whose Delete failed can only be deleted again.
        if self.stack.as_ref().is_some_and(|s| s.delete_failed)
            && matches!(
                step,
                Step::Deploy(..) | Step::DeployFailingElsewhere(_) | Step::DeleteStack
            )
        {
            return self.delete_stack(false);
        }
        match step {
            Step::Deploy(c, cleanup_new) => {
                let props = self.deploy(c);
                self.update(props, cleanup_new, false);
            }
            Step::DeployFailingElsewhere(c) => {
                let props = self.deploy(c);
                if self.stack.is_some() {
                    self.update(props, false, true);
                } else {
                    self.create(props);
                }
            }
            Step::DeleteStack => self.delete_stack(false),
            Step::DeleteOldId(n) => {
                let Some(stack) = self.stack.clone() else {
                    return;
                };
                let olds: Vec<_> = stack.old.iter().filter(|(id, _)| *id != stack.id).collect();
                if let Some((id, props)) = olds.get(usize::from(n) % olds.len().max(1)) {
                    let event = self.event("Delete", &stack.stack_id, props, None, Some(id));
                    self.send(event);
                }
            }
            Step::DeleteForeignId | Step::DeleteFailedCreateId => {
                let Some(stack) = self.stack.clone() else {
                    return;
                };
                let id = if step == Step::DeleteForeignId {
                    "SyncScope-1A2B3C4D5E6F".to_owned()
                } else {
                    syncscope_core::cfn::failed_create_id("0f0f0f0f-0000-4000-8000-000000000000")
                };
                let event = self.event("Delete", &stack.stack_id, &stack.props, None, Some(&id));
                self.send(event);
            }
            Step::Redeliver => {
                if let Some(event) = self.last_event.clone() {
                    self.send(event);
                }
            }
            Step::Console {
                add,
                config_name,
                n,
                profile,
                region,
            } => self.console(add, config_name, n, profile, region),
            Step::Faults(fault) => self.set_faults(fault),
        }
    }
}

/// Runs one sequence, then clears the faults and deletes the stack (which must
/// succeed, and leave nothing behind if it always said remove).
fn run<D: Driver>(driver: &D, engine: Engine, case: u32, steps: &[Step]) {
    for region in 0..driver.regions() {
        driver.emulator(region).reset(Some(&seed())).unwrap();
    }
    let mut sim = Sim::new(driver, engine, case);
    for step in steps {
        sim.step(*step);
    }
    sim.set_faults(Fault::Clear);
    sim.log
        .push("-- the end: faults cleared, the stack deleted".into());
    if let Some(stack) = &mut sim.stack {
        stack.delete_failed = false;
    }
    sim.delete_stack(true);
}

/// The seed of the model campaigns (`SYNCSCOPE_MODEL_SEED`, default 1).
fn cases_seed() -> u64 {
    std::env::var("SYNCSCOPE_MODEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

pub(crate) fn cases(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cases` sequences of `strategy` through `run` (each a fresh case number),
/// shrinking a failure; returns how many sequences ran, or the shrunk failure.
pub(crate) fn run_sequences<S: Strategy>(
    cases: u32,
    max_shrink_iters: u32,
    strategy: &S,
    run: impl Fn(u32, &S::Value),
) -> (u32, Result<(), String>) {
    // One seed (SYNCSCOPE_MODEL_SEED, default 1): the campaign CI runs is the one a
    // developer ran; another seed explores other sequences.
    let seed = cases_seed();
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            cases,
            failure_persistence: None,
            max_shrink_iters,
            ..ProptestConfig::default()
        },
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &bytes,
        ),
    );
    let counter = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(strategy, |steps| {
        let case = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(case, &steps))).map_err(
            |panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                TestCaseError::fail(message)
            },
        )
    });
    (
        counter.load(std::sync::atomic::Ordering::Relaxed),
        result.map_err(|e| e.to_string()),
    )
}

fn campaign<D: Driver>(driver: &D, engine: Engine, cases: u32, regions: u8) {
    let started = std::time::Instant::now();
    let (ran, result) = run_sequences(cases, 400, &sequence(regions), |case, steps| {
        run(driver, engine, case, steps)
    });
    let refused = REFUSED.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "lifecycle model ({engine:?}): {ran} sequences ({} requests, {refused} refused by the directory check) in {:.1} s",
        REQUESTS.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!(
            "the lifecycle model found a failing sequence; replay it with `replay(&[...])`:\n{e}"
        );
    }
    // A campaign of this size meets the directory check's refusal, or the invariant
    // about it was never put to the test.
    assert!(
        cases < 100 || refused > 0,
        "no deployment reached the directory check's refusal"
    );
}

/// The in-process driver, one test at a time (its emulators are reset per sequence).
pub(crate) fn in_process<R>(f: impl FnOnce(&InProcess) -> R) -> R {
    static DRIVER: OnceLock<InProcess> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(DRIVER.get_or_init(InProcess::start))
}

/// Replays one sequence in process (kept failures become named tests with this).
fn replay(steps: &[Step]) {
    replay_with(Engine::SyncFilters, steps);
}

/// [`replay`] under `engine`.
fn replay_with(engine: Engine, steps: &[Step]) {
    in_process(|driver| run(driver, engine, 0, steps));
}

#[test]
fn the_lifecycle_model_holds_in_process() {
    in_process(|driver| {
        campaign(
            driver,
            Engine::SyncFilters,
            cases("SYNCSCOPE_MODEL_CASES", 300),
            2,
        );
    });
}

#[test]
fn the_lifecycle_model_holds_in_process_under_the_parent_group_engine() {
    let cases = cases("SYNCSCOPE_MODEL_CASES", 300).div_ceil(3);
    in_process(|driver| campaign(driver, Engine::ParentGroup, cases, 2));
}

#[test]
fn the_lifecycle_model_holds_through_the_real_binary() {
    let driver = Binary::start();
    campaign(
        &driver,
        Engine::SyncFilters,
        cases("SYNCSCOPE_MODEL_BINARY_CASES", 20),
        1,
    );
}

#[test]
fn the_lifecycle_model_holds_through_the_real_binary_under_the_parent_group_engine() {
    let driver = Binary::start();
    let cases = cases("SYNCSCOPE_MODEL_BINARY_CASES", 20).div_ceil(2);
    campaign(&driver, Engine::ParentGroup, cases, 1);
}

const BASE: Cfg = Cfg {
    groups: 0b11,
    authoritative: false,
    remove: true,
    dry_run: false,
    profile: 0,
    region: 0,
    open_guard: true,
    require: false,
};

#[test]
fn kept_case_a_replacement_across_regions_and_a_stale_delete_of_the_old_id() {
    use Step::*;
    replay(&[
        Deploy(BASE, false),
        Deploy(
            Cfg {
                profile: 1,
                region: 1,
                ..BASE
            },
            false,
        ),
        DeleteOldId(0),
        DeleteStack,
    ]);
}

#[test]
fn kept_case_the_rollback_of_a_failed_replacement_removes_what_it_created() {
    // Found by the model: the replacement's Update creates G-0 in the other region,
    // fails on G-5, and CloudFormation rolls back with the old id; nothing would
    // ever delete the abandoned resource, so the rollback removes what it created.
    use Step::*;
    replay(&[
        Faults(Fault::HardFail(5)),
        Deploy(
            Cfg {
                groups: 0b1,
                ..BASE
            },
            false,
        ),
        Deploy(
            Cfg {
                groups: 0b100001,
                region: 1,
                ..BASE
            },
            false,
        ),
        DeleteStack,
    ]);
}

#[test]
fn kept_case_parent_group_the_clean_up_delete_with_the_new_properties_leaves_the_other_group_alone()
{
    // Found by the model: a replacement moves the stack to the other region, and the
    // old id's Delete carries the new properties. The teardown of the old resource
    // took the new properties' parent group and directory for its own, so it found
    // none of its members there (another profile in the same directory would have
    // lost the names the new resource had just added). It now refuses, saying so.
    use Step::*;
    replay_with(
        Engine::ParentGroup,
        &[
            Deploy(BASE, false),
            Deploy(Cfg { region: 1, ..BASE }, true),
            Deploy(
                Cfg {
                    profile: 1,
                    region: 1,
                    ..BASE
                },
                true,
            ),
            DeleteStack,
        ],
    );
}
