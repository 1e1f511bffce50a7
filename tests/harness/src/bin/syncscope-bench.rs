//! `syncscope-bench`: start-up, reconcile speed, API calls, memory and artifact size,
//! measured side by side in one run. Prints a table and writes `docs/benchmarks.md`.
//!
//! Run it with `./task bench` (which builds the release binaries first). Nothing here
//! asserts a time: the numbers and their ratios to the targets are reported.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use identity_sync_emulator::{Knobs, Operation as EmuOp, Options, Seed};
use serde_json::{Value, json};
use syncscope::engine::Engine;
use syncscope::executor::{self, ExecOptions};
use syncscope::identity_sync::wire::Operation;
use syncscope::identity_sync::{ClientOptions, IdentitySyncClient};
use syncscope_core::names::{Description, DomainName, FilterName};
use syncscope_core::plan::{self, Mode};
use syncscope_core::scope::{Desired, DesiredFilter, FilterKind, Ledger};
use syncscope_harness::runtime_api::RuntimeApi;
use syncscope_harness::world::{DOMAIN, PROFILE, World, WorldOptions};

/// Starts of each Rust function (about 3 ms each); they differ by fractions of a
/// millisecond, so the median needs many.
const INIT_RUNS: usize = 51;
/// Starts of the Python function (about 300 ms each).
const INIT_RUNS_PYTHON: usize = 21;
/// Start-up may take at most this many times a hello-world `lambda_runtime` function's.
const INIT_VS_HELLO: f64 = 1.35;
const LIMIT: usize = 8;
const PAGE_SIZE: usize = 100;

/// The middle value (the upper of the two middle ones of an even count); the default
/// when there is none.
fn median<T: Copy + Default + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Process start to the first Runtime API `next` poll of each program, `runs` rounds.
/// The programs take turns within each round, and each round starts with the next
/// program, so a slow spell of the machine (another process, the CPU's clock, a cold
/// cache after the previous start) falls on all of them alike. A program that fails
/// once is not started again.
fn init_times<const N: usize>(
    programs: [(&Path, &[&str]); N],
    env: &[(&str, String)],
    runs: usize,
) -> [Result<Vec<Duration>, String>; N] {
    let mut results: [Result<Vec<Duration>, String>; N] =
        std::array::from_fn(|_| Ok(Vec::with_capacity(runs)));
    for round in 0..runs {
        for turn in 0..N {
            let i = (round + turn) % N;
            let (program, args) = programs[i];
            if let Ok(times) = &mut results[i] {
                match init_time(program, args, env) {
                    Ok(time) => times.push(time),
                    Err(e) => results[i] = Err(e),
                }
            }
        }
    }
    results
}

/// The median over rounds of `a`'s time divided by `b`'s in the same round.
fn paired_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    median(
        a.iter()
            .zip(b)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(f64::MIN_POSITIVE))
            .collect(),
    )
}

/// Process start to the first Runtime API `next` poll, once.
fn init_time(program: &Path, args: &[&str], env: &[(&str, String)]) -> Result<Duration, String> {
    let api = RuntimeApi::start().map_err(|e| e.to_string())?;
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let polled = api.first_poll(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let polled =
        polled.ok_or_else(|| format!("{} never polled the Runtime API", program.display()))?;
    Ok(polled.duration_since(started))
}

fn desired(names: &[String]) -> Desired {
    Desired {
        domain: DomainName::parse(DOMAIN).unwrap_or_else(|e| panic!("{e}")),
        filters: names
            .iter()
            .map(|n| DesiredFilter {
                kind: FilterKind::Group,
                name: FilterName::parse(n, FilterKind::Group).unwrap_or_else(|e| panic!("{e}")),
                description: Description::default(),
            })
            .collect(),
    }
}

struct Row {
    n: usize,
    changed: bool,
    latency: u64,
    fault_rate: f64,
    wall: Duration,
    pages: usize,
    changes: usize,
    calls: u64,
    retries: u64,
    server_requests: u64,
    final_count: usize,
    complete: bool,
}

impl Row {
    fn bound(&self) -> Duration {
        let rounds = self.pages + self.changes.div_ceil(LIMIT);
        Duration::from_millis(self.latency * rounds as u64)
    }
}

/// One reconcile (list, plan, apply) against a fresh emulator.
fn reconcile(
    rt: &tokio::runtime::Runtime,
    n: usize,
    changed: bool,
    latency: u64,
    concurrency: usize,
    fault_rate: f64,
) -> Row {
    let names: Vec<String> = (0..n).map(|i| format!("AWS-Bench-Group-{i:05}")).collect();
    let existing: Vec<_> = if changed {
        Vec::new()
    } else {
        names
            .iter()
            .map(|name| json!({"type": "GROUP", "name": name, "domain": DOMAIN}))
            .collect()
    };
    let seed = json!({"profiles": [{"name": PROFILE, "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890", "filters": existing}]});
    let emulator = identity_sync_emulator::spawn(Options {
        seed: Some(Seed::from_json(&seed.to_string()).unwrap_or_else(|e| panic!("{e}"))),
        knobs: Knobs {
            latency_ms: latency,
            concurrency_limit: Some(LIMIT),
            page_size: PAGE_SIZE,
            fault_rate,
            fault_seed: Some(42),
            ..Knobs::default()
        },
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("emulator: {e}"));
    let credentials =
        SharedCredentialsProvider::new(Credentials::new("testing", "testing", None, None, "bench"));
    let client = IdentitySyncClient::new(
        emulator.base_url(),
        "eu-central-1",
        credentials,
        ClientOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let want = desired(&names);
    let (wall, pages, changes, applied) = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        let started = Instant::now();
        let listing = client
            .list_filters(PROFILE, deadline)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let plan = plan::plan(
            &want,
            &listing.filters,
            &Ledger::default(),
            Mode::Managed,
            &syncscope_core::scope::CoOwners::default(),
        );
        let changes = plan.changes().count();
        let applied = executor::apply(
            &Engine::sync_filters(&client, PROFILE),
            &plan,
            ExecOptions::until(concurrency, deadline),
        )
        .await;
        (started.elapsed(), listing.pages, changes, applied)
    });
    let stats = client.stats();
    let state = emulator.emulator().snapshot();
    let server_requests = [
        EmuOp::ListSyncFilters,
        EmuOp::CreateSyncFilter,
        EmuOp::DeleteSyncFilter,
    ]
    .iter()
    .map(|op| state.counters_of(*op).requests)
    .sum();
    let final_count = state.profile(PROFILE).map_or(0, |p| p.filters.len());
    Row {
        n,
        changed,
        latency,
        fault_rate,
        wall,
        pages,
        changes,
        calls: stats.calls_of(Operation::ListSyncFilters)
            + stats.calls_of(Operation::CreateSyncFilter)
            + stats.calls_of(Operation::DeleteSyncFilter),
        retries: stats.total_retries(),
        server_requests,
        final_count,
        complete: applied.complete(),
    }
}

/// One whole invocation of the release Lambda binary, in a fresh process.
struct WholeRow {
    n: usize,
    latency: u64,
    run: &'static str,
    wall: Duration,
    cpu: Duration,
    rss_kb: u64,
    /// identity-sync requests by operation (the emulator's counters).
    calls: std::collections::BTreeMap<&'static str, u64>,
    /// Changes the run should make, and listing pages a listing of the scope needs.
    changes: u64,
    pages: u64,
    ssm: u64,
    s3: u64,
    /// Directory Service Data requests (the directory check).
    ds_data: u64,
    response_bytes: u64,
    card_bytes: u64,
    /// The access map's sso-admin listings (its log line), and how it read them.
    access_calls: u64,
    access_strategy: String,
    ok: bool,
}

impl WholeRow {
    fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    fn writes(&self) -> u64 {
        self.calls.get("CreateSyncFilter").copied().unwrap_or(0)
            + self.calls.get("DeleteSyncFilter").copied().unwrap_or(0)
    }

    /// Calls beyond the listing pages and the changes (re-lists of what was in doubt).
    fn extra(&self) -> i64 {
        self.total_calls() as i64 - (self.pages + self.changes) as i64
    }

    /// The latency bound: one round of listing (the GROUP and USER listings run
    /// side by side; the longer one counts), then the changes `LIMIT` at a time.
    fn bound(&self, group_pages: u64) -> Duration {
        Duration::from_millis(self.latency * (group_pages + self.changes.div_ceil(LIMIT as u64)))
    }
}

/// The number logged as `key` on the last log line containing `marker` (JSON logs,
/// `"key":N`, as the harness runs the Lambda; or text logs, `key=N`).
fn logged(logs: &[String], marker: &str, key: &str) -> u64 {
    logs.iter()
        .rev()
        .filter(|l| l.contains(marker))
        .find_map(|l| {
            let (at, width) = [format!("\"{key}\":"), format!("{key}=")]
                .iter()
                .find_map(|k| l.find(k.as_str()).map(|at| (at, k.len())))?;
            let digits: String = l[at + width..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

/// The directory the whole runs check names in.
const DIRECTORY: &str = "d-1234567890";

/// The run of the whole-run sequence with the directory check off.
const UNCHECKED_CREATE: &str = "Create, empty scope, directory check off";

/// How many times the whole-run sequence runs at 0 ms latency.
const WHOLE_REPEATS: usize = 3;

/// Per run of the sequence, the row with the median CPU of several tries.
fn median_rows(tries: Vec<Vec<WholeRow>>) -> Vec<WholeRow> {
    let mut by_run: Vec<Vec<WholeRow>> = Vec::new();
    for sequence in tries {
        for (index, row) in sequence.into_iter().enumerate() {
            if by_run.len() <= index {
                by_run.push(Vec::new());
            }
            by_run[index].push(row);
        }
    }
    by_run
        .into_iter()
        .filter_map(|mut rows| {
            rows.sort_by_key(|r| r.cpu);
            let middle = rows.len() / 2;
            rows.into_iter().nth(middle)
        })
        .collect()
}

/// Create from an empty scope, one change, a descriptions-only update (no change to the scope), and Delete with `remove`, each
/// in a fresh process of the release binary, through the Runtime API, against moto and
/// the emulator (page size 100, concurrency limit `LIMIT`).
/// A description of `chars` characters from the vocabulary `infra/generate-config.py`
/// draws on (it compresses as people's descriptions do, not as one repeated text).
fn generated_description(seed: u64, chars: usize) -> String {
    const WORDS: [&str; 21] = [
        "access", "account", "admin", "audit", "billing", "cloud", "cost", "data", "deploy", "dev",
        "finance", "infra", "network", "ops", "platform", "prod", "read", "security", "support",
        "team", "write",
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut text = String::new();
    while text.len() < chars {
        text.push_str(WORDS[rng.usize(..WORDS.len())]);
        text.push(' ');
    }
    text.truncate(chars - 1);
    text.push('s');
    text
}

fn whole_runs(lambda: &Path, n: usize, latency: u64) -> Vec<WholeRow> {
    whole_runs_with(lambda, n, latency, Map::NotSynced)
}

/// What the identity store holds for a whole run, and whether the docs read the
/// access map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Map {
    /// No group synced yet: no member count, no access map (the whole runs above).
    NotSynced,
    /// Every group synced with a permission set, the access map not read (the
    /// `no-access-map` test hook): the docs count members only.
    SyncedWithout,
    /// Every group synced with a permission set, the access map read.
    On,
}

impl Map {
    fn label(self) -> &'static str {
        match self {
            Self::NotSynced => "off, no group synced",
            Self::SyncedWithout => "off, groups synced",
            Self::On => "on, groups synced",
        }
    }
}

/// The permission sets the access map's runs assign, round robin.
const MAP_SETS: usize = 10;

/// Seeds moto's identity store with the groups (as a sync leaves them, without
/// members) and assigns each group one of [`MAP_SETS`] permission sets in moto's own
/// account (moto provisions sets there only): what the access map of a Create reads.
fn seed_access_map(world: &World, names: &[String]) {
    use futures_util::StreamExt;
    let store = world.instance_store_id();
    let sets: Vec<String> = (0..MAP_SETS).map(|i| format!("BenchSet{i}")).collect();
    let set_refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    let seeded = world.seed_access(&[], &set_refs);
    let client = aws_sdk_identitystore::Client::new(&world.sdk);
    let sdk = world.sdk.clone();
    world.rt.block_on(async {
        futures_util::stream::iter(names.iter().enumerate())
            .map(|(i, name)| {
                let (client, sdk, seeded, store) = (&client, &sdk, &seeded, &store);
                let set = &sets[i % MAP_SETS];
                async move {
                    let id = client
                        .create_group()
                        .identity_store_id(store)
                        .display_name(format!("{name}@{DOMAIN}"))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("create group {name} in moto: {e:?}"))
                        .group_id()
                        .to_owned();
                    syncscope_harness::access::assign(
                        sdk,
                        seeded,
                        syncscope_harness::access::To::Group(&id),
                        syncscope_harness::access::MANAGEMENT_ACCOUNT,
                        set,
                    )
                    .await;
                }
            })
            .buffer_unordered(16)
            .collect::<Vec<()>>()
            .await;
    });
}

/// [`whole_runs`]; with `map`, the groups are in the identity store with permission
/// sets assigned, so the docs read their member counts and the access map
/// ([`seed_access_map`]), under names of their own.
fn whole_runs_with(lambda: &Path, n: usize, latency: u64, map: Map) -> Vec<WholeRow> {
    // For profiling by hand: SYNCSCOPE_BENCH_WRAPPER="perf record -g -o perf.data --".
    let wrapper: Vec<String> = std::env::var("SYNCSCOPE_BENCH_WRAPPER")
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    // The directory holds every name the runs want and as many groups again that are
    // not synced, listed first ("AD-Only" sorts before "AWS"), so a listing reads it all.
    let map_on = map != Map::NotSynced;
    let tag = if map_on {
        format!("Map{n}")
    } else {
        "Bench".to_owned()
    };
    let bench_name = |i: usize| format!("AWS-{tag}-Group-{i:05}");
    let held: serde_json::Map<String, Value> = (0..n - 1)
        .map(bench_name)
        .chain(["AWS-Bench-Last".to_owned(), "AWS-Bench-Renamed".to_owned()])
        .chain((0..n).map(|i| format!("AD-Only-Group-{i:05}")))
        .map(|g| (g, json!({})))
        .collect();
    let lambda_env = match map {
        Map::SyncedWithout => vec![(
            "SYNCSCOPE_TEST_FAULT".to_owned(),
            "no-access-map".to_owned(),
        )],
        _ => Vec::new(),
    };
    let mut world = World::with(WorldOptions {
        lambda_binary: Some(lambda.to_path_buf()),
        lambda_wrapper: wrapper,
        lambda_env,
        knobs: Knobs {
            page_size: PAGE_SIZE,
            latency_ms: latency,
            concurrency_limit: Some(LIMIT),
            ..Knobs::default()
        },
        directories: vec![json!({"id": DIRECTORY, "domain": DOMAIN, "groups": held})],
        ..Default::default()
    });
    // The first four runs have the directory check on, as deployed by default
    // (`warn`, with `SSO.DirectoryId` set so no profile read is needed); the fifth, a
    // Create again after the Delete, has it off: the reconcile alone.
    // Descriptions of 200 characters, as `infra/generate-config.py --description-chars
    // 200` writes them (a different one per group; `edition` 1 describes them all
    // anew): the size README promises, deployed through `syncscope synth`'s packed
    // shards.
    let config = |last: &str, edition: u64, check: bool| {
        let groups: Vec<_> = (0..n - 1)
            .map(bench_name)
            .chain(std::iter::once(last.to_owned()))
            .enumerate()
            .map(|(i, name)| {
                let description = generated_description(2 * i as u64 + edition, 200);
                json!({"Name": name, "Description": description})
            })
            .collect();
        let doc = json!({"general": {"produkt": "SSO", "stage": "BENCH", "prefix": "B", "s3_DOKUBUCKET": "bench-docs", "WebhookUrlTeams": "ssm:/bench/hook", "DocuWebsite": "https://wiki.example.com/x"},
            "SSO": {"ad_DomainName": DOMAIN, "GroupFilters": groups, "OnDelete": "remove",
                    "DirectoryCheck": if check { "warn" } else { "off" }, "DirectoryId": DIRECTORY}});
        syncscope_core::config::from_value(&doc)
            .unwrap_or_else(|e| panic!("{e}"))
            .config
    };
    // Once per size: the repeats of a sequence share moto's identity store.
    static SEEDED: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
    if map_on {
        let mut seeded = SEEDED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !seeded.contains(&n) {
            let names: Vec<String> = (0..n - 1).map(bench_name).collect();
            seed_access_map(&world, &names);
            seeded.push(n);
        }
    }
    let first = world.deploy(&config("AWS-Bench-Last", 0, true));
    let second = world.deploy(&config("AWS-Bench-Renamed", 0, true));
    // Descriptions only: a new version of the filters, the same scope.
    let third = world.deploy(&config("AWS-Bench-Renamed", 1, true));
    let unchecked = world.deploy(&config("AWS-Bench-Last", 0, false));
    let group_pages = |groups: usize| (groups.div_ceil(PAGE_SIZE)).max(1) as u64;
    let mut id = String::new();
    let mut rows = Vec::new();
    let runs: [(&'static str, &str, u64, u64); 5] = [
        ("Create, empty scope", "Create", n as u64, 2),
        ("Update, one change", "Update", 2, group_pages(n) + 1),
        ("Update, descriptions only", "Update", 0, group_pages(n) + 1),
        ("Delete, remove", "Delete", n as u64, group_pages(n) + 1),
        (UNCHECKED_CREATE, "Create", n as u64, 2),
    ];
    for (index, (run, kind, changes, pages)) in runs.into_iter().enumerate() {
        let (props, old) = match index {
            0 => (&first, None),
            1 => (&second, Some(&first)),
            2 => (&third, Some(&second)),
            3 => (&third, None),
            _ => (&unchecked, None),
        };
        let physical = (1..=3).contains(&index).then_some(id.as_str());
        let event = world.event(
            kind,
            props,
            if kind == "Update" { old } else { None },
            physical,
        );
        world.restart_lambda();
        let pid = world.lambda.as_ref().map(|l| l.pid()).unwrap_or(0);
        let before = world.state();
        let started = Instant::now();
        let _ = world.runtime.invoke(
            event.clone(),
            Duration::from_secs(300),
            Duration::from_secs(5),
        );
        let wall = started.elapsed();
        let cpu = cpu_time(pid).unwrap_or_default();
        let rss_kb = proc_field(pid, "status", "VmHWM:").unwrap_or(0);
        let after = world.state();
        let request_id = event["RequestId"].as_str().unwrap_or_default().to_owned();
        let response = world
            .cfn
            .requests()
            .into_iter()
            .find(|r| r.uri.contains(&request_id));
        let ok = response
            .as_ref()
            .is_some_and(|r| r.json()["Status"] == "SUCCESS");
        if index == 0
            && let Some(r) = &response
        {
            id = r.json()["PhysicalResourceId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        let logs = world.lambda_logs();
        let calls = EmuOp::ALL
            .iter()
            .map(|op| {
                let count = after.counters_of(*op).requests - before.counters_of(*op).requests;
                (op.as_str(), count)
            })
            .filter(|(_, c)| *c > 0)
            .collect();
        let row = WholeRow {
            n,
            latency,
            run,
            wall,
            cpu,
            rss_kb,
            calls,
            changes,
            pages,
            ssm: logged(&logs, "outcome", "ssm_calls"),
            s3: logged(&logs, "outcome", "s3_calls"),
            ds_data: identity_sync_emulator::ds_data::OPERATIONS
                .iter()
                .map(|op| {
                    let of = |s: &identity_sync_emulator::StateSnapshot| {
                        s.counters.get(*op).map_or(0, |c| c.requests)
                    };
                    of(&after) - of(&before)
                })
                .sum(),
            response_bytes: logged(&logs, "answered CloudFormation", "bytes"),
            access_calls: logged(&logs, "access map read", "assignment_calls"),
            access_strategy: logs
                .iter()
                .rev()
                .find(|l| l.contains("access map read"))
                .and_then(|l| {
                    ["per-permission-set-and-account", "per-principal"]
                        .into_iter()
                        .find(|s| l.contains(s))
                })
                .unwrap_or("-")
                .to_owned(),
            card_bytes: logged(&logs, "Teams card rendered", "bytes"),
            ok,
        };
        println!(
            "  n={n} latency={latency}ms {run}: wall {} ms, cpu {} ms, rss {:.1} MB, calls {}, ds-data {}",
            ms(row.wall),
            ms(row.cpu),
            row.rss_kb as f64 / 1024.0,
            row.total_calls(),
            row.ds_data
        );
        rows.push(row);
    }
    rows
}

fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user + system) of a process so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

fn main() {
    let workspace = syncscope_harness::paths::workspace();
    // The measured binaries come from the release profile (`--bins DIR` to override).
    let args: Vec<String> = std::env::args().collect();
    let exe_dir = args
        .iter()
        .position(|a| a == "--bins")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| workspace.join("target/release"), PathBuf::from);
    // `--only init|reconcile|memory|whole|access|artifact` measures one section and
    // writes no docs.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let want = |section: &str| only.as_deref().is_none_or(|o| o == section);
    let lambda = exe_dir.join("syncscope-lambda");
    let hello = exe_dir.join("bench-hello-lambda");
    let python = syncscope_harness::paths::python();
    let total = Instant::now();
    let mut out = String::new();
    let mut targets: Vec<(String, bool)> = Vec::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = writeln!(
        out,
        "# Benchmarks\n\nProduced by `./task bench` on {cores} cores ({cpu}); the measured binaries are release builds."
    );
    let _ = writeln!(
        out,
        "The numbers are measured, not asserted; each target says met or MISSED.\n"
    );

    if want("init") {
        // 1. Init time.
        println!(
            "measuring start-up ({INIT_RUNS} starts of each Rust function, taking turns; {INIT_RUNS_PYTHON} of Python)…"
        );
        let moto_env = [
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_owned()),
            ("FILTERS_PARAMETER", "/bench/filters".to_owned()),
        ];
        let script = workspace.join("tests/harness/bench/python_handler.py");
        let script_arg = script.to_string_lossy().into_owned();
        // The two Rust functions take turns; Python, a thousand times slower, starts
        // on its own and would leave a cold cache to whichever program came next.
        let [ours, base] = init_times([(&lambda, &[]), (&hello, &[])], &moto_env, INIT_RUNS);
        let [py] = init_times(
            [(&python, &[script_arg.as_str()])],
            &moto_env,
            INIT_RUNS_PYTHON,
        );
        let _ = writeln!(
            out,
            "## Start-up: process start to the first Runtime API `next`\n\nThe median of {INIT_RUNS} starts of each Rust function, the two taking turns, and of {INIT_RUNS_PYTHON} starts of Python.\n"
        );
        let _ = writeln!(
            out,
            "| function | median ms | min ms | max ms |\n| --- | ---: | ---: | ---: |"
        );
        let mut medians = Vec::new();
        for (label, result) in [
            ("syncscope-lambda (release)", &ours),
            ("hello-world lambda_runtime (release)", &base),
            ("Python 3 + boto3 (SSM client)", &py),
        ] {
            match result {
                Ok(times) => {
                    let m = median(times.clone());
                    medians.push(Some(m));
                    let min = times.iter().min().copied().unwrap_or_default();
                    let max = times.iter().max().copied().unwrap_or_default();
                    let _ = writeln!(out, "| {label} | {} | {} | {} |", ms(m), ms(min), ms(max));
                }
                Err(e) => {
                    medians.push(None);
                    let _ = writeln!(out, "| {label} | not measured: {e} | | |");
                }
            }
        }
        if let (Some(Some(o)), Some(Some(h)), Some(Some(p)), Ok(ours), Ok(base)) = (
            medians.first(),
            medians.get(1),
            medians.get(2),
            &ours,
            &base,
        ) {
            // Each round started both functions one right after the other: the median of
            // the rounds' ratios leaves out what a slow spell does to both.
            let vs_hello = paired_ratio(ours, base);
            let of_medians = o.as_secs_f64() / h.as_secs_f64();
            let vs_python = o.as_secs_f64() / p.as_secs_f64();
            let _ = writeln!(
                out,
                "\nsyncscope / hello-world = {vs_hello:.2}x, the median of the {INIT_RUNS} rounds' ratios (target <= {INIT_VS_HELLO}x; the ratio of the medians is {of_medians:.2}x); syncscope / Python = {vs_python:.3}x (target <= 0.1x).\n"
            );
            targets.push((
                format!("init <= {INIT_VS_HELLO}x hello-world ({vs_hello:.2}x)"),
                vs_hello <= INIT_VS_HELLO,
            ));
            targets.push((
                format!("init <= 1/10 of Python ({vs_python:.3}x)"),
                vs_python <= 0.1,
            ));
        }
    }
    if want("reconcile") {
        // 2. Reconcile.
        println!("measuring reconciles…");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut rows = Vec::new();
        for latency in [0u64, 50] {
            for n in [10usize, 100, 1000, 5000] {
                for changed in [false, true] {
                    let row =
                        reconcile(&rt, n, changed, latency, executor::DEFAULT_CONCURRENCY, 0.0);
                    println!(
                        "  n={n} changed={changed} latency={latency}ms: {} ms",
                        ms(row.wall)
                    );
                    rows.push(row);
                }
            }
        }
        let mut serial = Vec::new();
        for n in [10usize, 100, 1000] {
            let row = reconcile(&rt, n, true, 50, 1, 0.0);
            println!(
                "  n={n} changed latency=50ms concurrency 1: {} ms",
                ms(row.wall)
            );
            serial.push(row);
        }
        let faulty = reconcile(&rt, 1000, true, 50, executor::DEFAULT_CONCURRENCY, 0.2);

        let _ = writeln!(
            out,
            "## Reconcile: list, plan, apply (emulator: concurrency limit {LIMIT}, page size {PAGE_SIZE}; client concurrency {})\n",
            executor::DEFAULT_CONCURRENCY
        );
        let _ = writeln!(
            out,
            "Bound = latency x (list pages + ceil(changes / {LIMIT})). Calls are first attempts; retries are counted apart.\n"
        );
        let _ = writeln!(
            out,
            "| filters | change | latency | wall ms | list pages | changes | calls | = pages + changes | retries | bound ms | wall / bound | speed-up vs concurrency 1 |"
        );
        let _ = writeln!(
            out,
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
        );
        let mut calls_exact = true;
        for row in &rows {
            let exact = row.calls == (row.pages + row.changes) as u64;
            calls_exact &= exact;
            let bound = row.bound();
            let ratio = if bound.is_zero() {
                "n/a".to_owned()
            } else {
                format!("{:.2}", row.wall.as_secs_f64() / bound.as_secs_f64())
            };
            let speedup = serial
                .iter()
                .find(|s| s.n == row.n && row.changed && row.latency == 50)
                .map_or("".to_owned(), |s| {
                    format!("{:.1}x", s.wall.as_secs_f64() / row.wall.as_secs_f64())
                });
            let _ = writeln!(
                out,
                "| {} | {} | {} ms | {} | {} | {} | {} | {} | {} | {} | {ratio} | {speedup} |",
                row.n,
                if row.changed { "all created" } else { "none" },
                row.latency,
                ms(row.wall),
                row.pages,
                row.changes,
                row.calls,
                if exact { "yes" } else { "NO" },
                row.retries,
                ms(bound)
            );
            if row.n == 1000 && row.changed && row.latency == 50 {
                let ratio = row.wall.as_secs_f64() / bound.as_secs_f64();
                targets.push((
                    format!("wall <= 1.25x bound at 1,000 changes, 50 ms ({ratio:.2}x)"),
                    ratio <= 1.25,
                ));
                if let Some(s) = serial.iter().find(|s| s.n == 1000) {
                    let speedup = s.wall.as_secs_f64() / row.wall.as_secs_f64();
                    targets.push((
                        format!(">= 5x faster than concurrency 1 at 1,000 changes ({speedup:.1}x)"),
                        speedup >= 5.0,
                    ));
                }
            }
        }
        targets.push((
            "calls = list pages + changes, exactly, in every row".to_owned(),
            calls_exact,
        ));
        let _ = writeln!(
            out,
            "\nWith 20 % transient faults (1,000 creates, 50 ms): wall {} ms, {} retries, {} requests reached the server, {} filters in the scope afterwards ({}), run {}.\n",
            ms(faulty.wall),
            faulty.retries,
            faulty.server_requests,
            faulty.final_count,
            if faulty.final_count == 1000 {
                "none lost, none duplicated"
            } else {
                "MISMATCH"
            },
            if faulty.complete {
                "complete"
            } else {
                "INCOMPLETE"
            }
        );
        targets.push((
            format!(
                "20 % faults: converges in one run with exactly 1,000 filters ({})",
                faulty.final_count
            ),
            faulty.complete && faulty.final_count == 1000 && faulty.fault_rate > 0.0,
        ));
    }
    if want("memory") {
        // 3. Memory and CPU of the real Lambda process, a no-change run at 5,000 filters.
        println!("measuring memory and CPU at 5,000 filters…");
        let names: Vec<String> = (0..5000)
            .map(|i| format!("AWS-Bench-Group-{i:05}"))
            .collect();
        let world = World::with(WorldOptions {
            existing: names.iter().map(|n| ("GROUP", n.clone())).collect(),
            lambda_binary: Some(lambda.clone()),
            knobs: Knobs {
                page_size: PAGE_SIZE,
                ..Knobs::default()
            },
            ..Default::default()
        });
        let groups: Vec<_> = names.iter().map(|n| json!({"Name": n, "Description": "Benchmark group with a description of typical length"})).collect();
        let doc = json!({"general": {"produkt": "SSO", "stage": "BENCH", "prefix": "B", "s3_DOKUBUCKET": "bench-docs", "WebhookUrlTeams": "ssm:/bench/hook", "DocuWebsite": "https://wiki.example.com/x"},
        "SSO": {"ad_DomainName": DOMAIN, "GroupFilters": groups}});
        let config = syncscope_core::config::from_value(&doc)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let props = world.deploy(&config);
        let first = world.send(
            &world.event("Create", &props, None, None),
            Duration::from_secs(300),
        );
        let pid = world.lambda.as_ref().map(|l| l.pid()).unwrap_or(0);
        let cpu_before = cpu_time(pid).unwrap_or_default();
        let started = Instant::now();
        let second = world.send(
            &world.event("Create", &props, None, None),
            Duration::from_secs(300),
        );
        let wall = started.elapsed();
        let cpu_after = cpu_time(pid).unwrap_or_default();
        let hwm_kb = proc_field(pid, "status", "VmHWM:").unwrap_or(0);
        let ok = first.responses.len() == 1
            && second
                .responses
                .first()
                .is_some_and(|r| r.json()["Status"] == "SUCCESS");
        let _ = writeln!(
            out,
            "## Memory and CPU: the release Lambda binary, a no-change run at 5,000 filters\n"
        );
        let _ = writeln!(out, "| measure | value |\n| --- | ---: |");
        let _ = writeln!(
            out,
            "| peak RSS of the process (VmHWM, after adopting 5,000 filters and a no-change run) | {:.1} MB |",
            hwm_kb as f64 / 1024.0
        );
        let _ = writeln!(
            out,
            "| CPU time of the no-change run (user + system) | {} ms |",
            ms(cpu_after.saturating_sub(cpu_before))
        );
        let _ = writeln!(
            out,
            "| wall time of the no-change run (moto SSM + emulator, latency 0) | {} ms |",
            ms(wall)
        );
        let _ = writeln!(
            out,
            "| runs answered SUCCESS | {} |\n",
            if ok { "yes" } else { "NO" }
        );
        targets.push((
            format!(
                "peak RSS <= 32 MB at 5,000 filters ({:.1} MB)",
                hwm_kb as f64 / 1024.0
            ),
            ok && hwm_kb > 0 && hwm_kb <= 32 * 1024,
        ));
        drop(world);
    }
    if want("whole") {
        // 4. Whole runs of the release binary.
        println!("measuring whole runs of the release Lambda binary…");
        let mut rows = Vec::new();
        // SYNCSCOPE_BENCH_SIZES / _LATENCIES (comma-separated) narrow it down by hand.
        let list = |var: &str, default: &[u64]| -> Vec<u64> {
            std::env::var(var)
                .ok()
                .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_else(|| default.to_vec())
        };
        for latency in list("SYNCSCOPE_BENCH_LATENCIES", &[0, 50]) {
            for n in list("SYNCSCOPE_BENCH_SIZES", &[1000, 5000, 10_000]) {
                // At 0 ms the CPU targets are judged: the median of three sequences (a
                // single run varies by about +-15 % on a shared machine).
                let repeats = if latency == 0 { WHOLE_REPEATS } else { 1 };
                let tries = (0..repeats)
                    .map(|_| whole_runs(&lambda, n as usize, latency))
                    .collect();
                rows.extend(median_rows(tries));
            }
        }
        let _ = writeln!(
            out,
            "## Whole runs: the release Lambda binary through the Runtime API\n\nEach run is a fresh process (a cold start) of `target/release/syncscope-lambda` (built from the `syncscope` package, release profile, with the `test-hooks` feature only so that it may post its card to the harness's plain-http Teams sink), driven through the Lambda Runtime API against moto (SSM, S3) and the emulator (page size {PAGE_SIZE}, concurrency limit {LIMIT}), with the docs published and the card rendered. CPU is the process's user + system time, start-up included; RSS its peak (VmHWM). At 0 ms each row is the run with the median CPU of {WHOLE_REPEATS} sequences. identity-sync calls are the emulator's counts; \"extra\" is calls beyond the listing pages and the changes (re-lists of what was in doubt). Every filter has a 200-character description, and the filters reach SSM as `syncscope synth`'s template holds them (packed shards). The first four runs are deployed as a user deploys by default: the directory check on (`warn`, with `SSO.DirectoryId` set), against a directory that holds every name and as many groups again that are not synced, listed first. The fifth, a Create after the Delete, has the check off: the reconcile alone, so the difference between the first and the fifth row is the check's cost.\n"
        );
        let _ = writeln!(
            out,
            "| filters | latency | run | answer | wall ms | CPU ms | peak RSS MB | identity-sync calls | pages + changes | extra | ds-data calls | SSM calls | S3 calls | response bytes | card bytes |\n| ---: | ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for r in &rows {
            let calls: Vec<String> = r.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
            let _ = writeln!(
                out,
                "| {} | {} ms | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.n,
                r.latency,
                r.run,
                if r.ok { "SUCCESS" } else { "NOT SUCCESS" },
                ms(r.wall),
                ms(r.cpu),
                r.rss_kb as f64 / 1024.0,
                calls.join(", "),
                r.pages + r.changes,
                r.extra(),
                r.ds_data,
                r.ssm,
                r.s3,
                r.response_bytes,
                r.card_bytes
            );
        }
        let find = |n: usize, latency: u64, run: &str| {
            rows.iter()
                .find(|r| r.n == n && r.latency == latency && r.run == run)
        };
        // Where the CPU of a Create goes, from the differences between runs at 0 ms: a
        // descriptions-only update does everything but changes (read, list, plan,
        // docs, card); one change adds the ledger's two writes (intent and result);
        // a Create adds its n calls.
        let _ = writeln!(
            out,
            "\nWhere a Create's CPU goes (latency 0; differences between the runs above; the first four with the check on):\n\n| filters | run without changes | + ledger writes (one change) | + per create call | Create | of which the directory check (per name) |\n| ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for n in [1000usize, 5000, 10_000] {
            if let (Some(base), Some(one), Some(create)) = (
                find(n, 0, "Update, descriptions only"),
                find(n, 0, "Update, one change"),
                find(n, 0, "Create, empty scope"),
            ) {
                let per_call = create.cpu.saturating_sub(one.cpu).as_secs_f64() * 1e6 / n as f64;
                let check = find(n, 0, UNCHECKED_CREATE).map_or_else(
                    || "-".to_owned(),
                    |off| {
                        let extra = create.cpu.saturating_sub(off.cpu);
                        format!(
                            "{} ms ({:.0} µs)",
                            ms(extra),
                            extra.as_secs_f64() * 1e6 / n as f64
                        )
                    },
                );
                let _ = writeln!(
                    out,
                    "| {n} | {} ms | {} ms | {per_call:.0} µs | {} ms | {check} |",
                    ms(base.cpu),
                    ms(one.cpu.saturating_sub(base.cpu)),
                    ms(create.cpu)
                );
            }
        }
        let create = "Create, empty scope";
        if let (Some(small), Some(mid), Some(big)) = (
            find(1000, 0, create),
            find(5000, 0, create),
            find(10_000, 0, create),
        ) {
            let growth = big.cpu.as_secs_f64() / small.cpu.as_secs_f64().max(1e-3);
            let _ = writeln!(
                out,
                "\nCPU growth of a Create from 1,000 to 10,000 filters: {growth:.1}x (linear is 10x).\n"
            );
            targets.push((
                format!(
                    "whole-run CPU of a Create of 5,000 filters <= 0.5 s ({} ms)",
                    ms(mid.cpu)
                ),
                mid.ok && mid.cpu <= Duration::from_millis(500),
            ));
            targets.push((
                format!("CPU(10,000) / CPU(1,000) <= 12 ({growth:.1}x)"),
                growth <= 12.0,
            ));
            targets.push((
                format!(
                    "peak RSS of a Create of 5,000 <= 24 MB ({:.1} MB)",
                    mid.rss_kb as f64 / 1024.0
                ),
                mid.rss_kb > 0 && mid.rss_kb <= 24 * 1024,
            ));
            targets.push((
                format!(
                    "peak RSS of a Create of 10,000 <= 32 MB ({:.1} MB)",
                    big.rss_kb as f64 / 1024.0
                ),
                big.rss_kb > 0 && big.rss_kb <= 32 * 1024,
            ));
        }
        if let Some(r) = find(5000, 50, create) {
            let bound = r.bound(1);
            let ratio = r.wall.as_secs_f64() / bound.as_secs_f64();
            targets.push((
                format!("whole-run wall of 5,000 creates at 50 ms <= 1.1x the latency bound ({} ms / {} ms = {ratio:.2}x)", ms(r.wall), ms(bound)),
                r.ok && ratio <= 1.1,
            ));
        }
        targets.push((
            "every whole run answered SUCCESS with calls = pages + changes (no extra)".to_owned(),
            rows.iter()
                .all(|r| r.ok && r.extra() == 0 && r.writes() == r.changes),
        ));
    }
    if want("access") {
        // 5. The access map: Creates side by side, without it (the groups not synced
        // yet, as in the whole runs above) and with it (every group synced and
        // assigned a permission set).
        println!("measuring whole runs with the access map…");
        let _ = writeln!(
            out,
            "## The access map\n\nA Create of n groups (latency 0, the median CPU of {WHOLE_REPEATS} sequences each), side by side in this run: no group in the identity store yet (as in the whole runs above: no member count, no access map); every group synced without the map (the `no-access-map` test hook: the docs count members only); and every group synced with it (each assigned one of {MAP_SETS} permission sets in one account, so the docs count the groups' members and read the access map). moto provisions permission sets to one account, so the map is read per provisioned permission set and account (the cheaper way by counts); \"assignment calls\" are the sso-admin listings the map made (`ListPermissionSets`, `ListAccountsForProvisionedPermissionSet`, `ListAccountAssignments` pages), beside one `DescribePermissionSet` per set and one Organizations `ListAccounts` page per 20 accounts.\n\n| groups | access map | answer | wall ms | CPU ms | peak RSS MB | assignment calls | strategy |\n| ---: | --- | --- | ---: | ---: | ---: | ---: | --- |"
        );
        let create = "Create, empty scope";
        let sizes: Vec<usize> = std::env::var("SYNCSCOPE_BENCH_ACCESS_SIZES")
            .ok()
            .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1000, 5000]);
        for n in sizes {
            let mut pair = Vec::new();
            for map in [Map::NotSynced, Map::SyncedWithout, Map::On] {
                let tries = (0..WHOLE_REPEATS)
                    .map(|_| whole_runs_with(&lambda, n, 0, map))
                    .collect();
                let rows = median_rows(tries);
                if let Some(row) = rows.into_iter().find(|r| r.run == create) {
                    let _ = writeln!(
                        out,
                        "| {n} | {} | {} | {} | {} | {:.1} | {} | {} |",
                        map.label(),
                        if row.ok { "SUCCESS" } else { "NOT SUCCESS" },
                        ms(row.wall),
                        ms(row.cpu),
                        row.rss_kb as f64 / 1024.0,
                        row.access_calls,
                        row.access_strategy.as_str(),
                    );
                    pair.push(row);
                }
            }
            if let [unsynced, without, on] = pair.as_slice() {
                let ratio = |a: &WholeRow, b: &WholeRow| {
                    (
                        a.cpu.as_secs_f64() / b.cpu.as_secs_f64().max(1e-3),
                        a.rss_kb as f64 / (b.rss_kb as f64).max(1.0),
                    )
                };
                let (cpu, rss) = ratio(on, without);
                let (cpu_all, rss_all) = ratio(on, unsynced);
                let _ = writeln!(
                    out,
                    "| {n} | on / off, groups synced (the map's own cost) | | | {cpu:.2}x | {rss:.2}x | | |\n| {n} | on / off, no group synced | | | {cpu_all:.2}x | {rss_all:.2}x | | |"
                );
                if n == 5000 {
                    targets.push((
                        format!(
                            "whole-run CPU of a Create of 5,000 synced groups with the access map <= 1.5x without it ({} ms / {} ms = {cpu:.2}x)",
                            ms(on.cpu),
                            ms(without.cpu)
                        ),
                        on.ok && cpu <= 1.5,
                    ));
                    targets.push((
                        format!(
                            "peak RSS of a Create of 5,000 synced groups with the access map <= 1.5x without it ({:.1} MB / {:.1} MB = {rss:.2}x)",
                            on.rss_kb as f64 / 1024.0,
                            without.rss_kb as f64 / 1024.0
                        ),
                        on.ok && rss <= 1.5,
                    ));
                    targets.push((
                        format!(
                            "whole-run CPU of a Create of 5,000 synced groups with the access map <= 1.5x a Create of 5,000 groups not synced yet ({} ms / {} ms = {cpu_all:.2}x)",
                            ms(on.cpu),
                            ms(unsynced.cpu)
                        ),
                        on.ok && cpu_all <= 1.5,
                    ));
                }
            }
        }
        let _ = writeln!(out);
    }
    if want("artifact") {
        // 6. The artifact.
        let zip = workspace.join("target/lambda/syncscope-lambda/bootstrap.zip");
        let _ = writeln!(out, "## Artifact\n");
        match std::fs::metadata(&zip) {
            Ok(meta) => {
                let mb = meta.len() as f64 / 1_048_576.0;
                let _ = writeln!(
                    out,
                    "`target/lambda/syncscope-lambda/bootstrap.zip` (arm64, `./task build`): {mb:.2} MB (target <= 8 MB).\n"
                );
                targets.push((format!("zip <= 8 MB ({mb:.2} MB)"), mb <= 8.0));
            }
            Err(_) => {
                let _ = writeln!(
                    out,
                    "No arm64 zip found: run `./task build` first to measure it.\n"
                );
            }
        }
    }
    let _ = writeln!(out, "## Targets\n");
    for (what, ok) in &targets {
        let _ = writeln!(out, "- {}: {what}", verdict(*ok));
    }
    let _ = writeln!(
        out,
        "\nMeasured in {:.0} s (excluding the build).",
        total.elapsed().as_secs_f64()
    );
    println!("\n{out}");
    if only.is_some() {
        return;
    }
    let path: PathBuf = workspace.join("docs/benchmarks.md");
    // The Build section is infra/measure-build.sh's: kept as it is.
    if let Some(build) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|doc| build_section(&doc).map(str::to_owned))
    {
        let _ = writeln!(out, "\n{build}");
    }
    if let Err(e) = std::fs::write(&path, &out) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

/// The Build section of benchmarks.md (written by infra/measure-build.sh), markers
/// included.
fn build_section(doc: &str) -> Option<&str> {
    let start = doc.find("<!-- build:begin")?;
    let end_marker = "<!-- build:end -->";
    let end = doc[start..].find(end_marker)? + start + end_marker.len();
    Some(&doc[start..end])
}
