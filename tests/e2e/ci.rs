//! The CI workflow's plan-and-comment script (ci/github/plan-comment.py), run as the
//! workflow runs it: the real `syncscope plan` against moto and the identity-sync
//! emulator, and a local stand-in for GitHub's issue-comments API. One comment per
//! stack, created once and then updated in place, found on any page; the plan's exit
//! code decides the step; the token never printed; and `task ci:init`'s files pass
//! jactionlint.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use syncscope_harness::github::{Failure, GitHubApi};
use syncscope_harness::paths;

use crate::helpers::*;

/// The token the script is given: it must never show up in its output.
const TOKEN: &str = "ghs_CANARYplanCommentTOKEN0123456789abcdef";
const REPO: &str = "acme/sso-config";
const PR: u64 = 7;
/// The stack of the seed fixture (`{prefix}-{produkt}-{stage}`): the marker's name.
const MARKER: &str = "<!-- syncscope-plan:COMPANY-SSO-AD-GroupSync-TEST -->";

/// A config file under build/e2e-ci/<name>/: the seed fixture with these groups and
/// extra SSO keys.
fn config_file(name: &str, groups: &[&str], sso: Value) -> String {
    let dir = paths::build_dir("e2e-ci").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut doc: Value =
        serde_json::from_str(include_str!("../fixtures/config/valid/seed-only.json")).unwrap();
    doc["SSO"]["ad_DomainName"] = json!(DOMAIN);
    doc["SSO"]["GroupFilters"] = groups
        .iter()
        .map(|g| json!({ "Name": g, "Description": "test" }))
        .collect();
    for (k, v) in sso.as_object().unwrap() {
        doc["SSO"][k] = v.clone();
    }
    let path = dir.join("config.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

/// The script with the environment `base` gives its `syncscope` (the world's AWS
/// endpoints, or none that answer), pointed at `api`.
fn script(base: &Command, api: &GitHubApi, config: &str) -> Command {
    let mut cmd = Command::new(paths::python());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    for var in [
        "GITHUB_STEP_SUMMARY",
        "GITHUB_EVENT_PATH",
        "GITHUB_REPOSITORY",
        "PR_NUMBER",
        "PR_HEAD_SHA",
    ] {
        cmd.env_remove(var);
    }
    let syncscope = paths::binary("syncscope");
    cmd.arg(paths::workspace().join("ci/github/plan-comment.py"))
        .args(["--config", config, "--repo", REPO, "--pr", &PR.to_string()])
        .arg("--syncscope")
        .arg(&syncscope)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", api.url())
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .stdin(Stdio::null());
    cmd
}

/// Runs the script: (exit code, stdout, stderr); fails the test if the token shows.
fn run(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("run the plan-and-comment script");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token was printed:\n{stdout}\n{stderr}"
    );
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// An environment whose AWS endpoints do not answer (a closed port): the plan cannot
/// run.
fn unreachable_aws() -> Command {
    let mut cmd = Command::new("true");
    let none = paths::build_dir("e2e-ci").join("no-aws-config");
    aws_env(&mut cmd, "http://127.0.0.1:9", &none);
    cmd.env("AWS_ENDPOINT_URL_IDENTITY_SYNC", "http://127.0.0.1:9")
        .env(
            "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA",
            "http://127.0.0.1:9",
        );
    cmd
}

/// Every request carried the token as a bearer token, and only there.
fn assert_authorized(api: &GitHubApi) {
    for r in api.requests() {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{r:?}"
        );
        assert!(!r.uri.contains(TOKEN), "{r:?}");
    }
}

fn methods(api: &GitHubApi) -> Vec<String> {
    api.requests().into_iter().map(|r| r.method).collect()
}

#[test]
fn the_plan_comment_is_created_once_then_updated_in_place() {
    let world = World::start();
    world.console_add(PROFILE, "AWS-Admins");
    let api = GitHubApi::start(100).unwrap();
    let config = config_file(&world.ns, &["AWS-Admins", "AWS-New"], json!({}));

    let (code, stdout, stderr) = run(script(&world.cli_command(&[]), &api, &config));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let comments = api.comments(PR);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let first = &comments[0];
    assert!(
        first.body.starts_with(&format!(
            "{MARKER}\n### syncscope plan for sync profile `{PROFILE}`"
        )),
        "{}",
        first.body
    );
    assert!(
        first.body.contains("| ➕ create | group | AWS\\-New |"),
        "{}",
        first.body
    );
    assert!(first.body.contains("✅ Within the deletion guards"));
    assert!(first.body.contains("at 0123456789ab"), "{}", first.body);
    assert_eq!(methods(&api), ["GET", "POST"]);
    assert!(
        api.requests()[1]
            .uri
            .ends_with(&format!("/repos/{REPO}/issues/{PR}/comments"))
    );
    assert_authorized(&api);
    assert!(
        stdout.contains("AWS\\-New"),
        "the plan is in the log: {stdout}"
    );
    assert!(
        stderr.contains(&format!("created comment {} on #{PR}", first.id)),
        "{stderr}"
    );
    assert!(stderr.contains("the plan is within the guards"), "{stderr}");

    // A second push: the same comment, updated, never a second one.
    api.clear_requests();
    let config = config_file(
        &world.ns,
        &["AWS-Admins", "AWS-New", "AWS-Other"],
        json!({}),
    );
    let (code, stdout, stderr) = run(script(&world.cli_command(&[]), &api, &config));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let comments = api.comments(PR);
    assert_eq!(comments.len(), 1, "never duplicated: {comments:?}");
    assert_eq!(comments[0].id, first.id);
    assert!(
        comments[0].body.contains("AWS\\-Other"),
        "{}",
        comments[0].body
    );
    assert_eq!(methods(&api), ["GET", "PATCH"]);
    assert!(
        api.requests()[1]
            .uri
            .ends_with(&format!("/repos/{REPO}/issues/comments/{}", first.id))
    );
    assert_authorized(&api);
    assert!(
        stderr.contains(&format!("updated comment {} on #{PR}", first.id)),
        "{stderr}"
    );
}

#[test]
fn the_marker_comment_on_a_later_page_is_updated_and_no_other_comment_is_touched() {
    let world = World::start();
    world.console_add(PROFILE, "AWS-Admins");
    // Two comments a page, as GitHub pages them by 100.
    let api = GitHubApi::start(2).unwrap();
    let others = [
        ("alice", "LGTM".to_owned()),
        // Quoting the marker is not the marker comment.
        ("bob", format!("> {MARKER}\n> the old plan")),
        // Another stack's plan comment.
        (
            "github-actions[bot]",
            "<!-- syncscope-plan:Other-Stack -->\n### syncscope plan".to_owned(),
        ),
    ];
    let mut ids: Vec<(u64, String)> = others
        .iter()
        .map(|(user, body)| (api.add_comment(PR, user, body), body.clone()))
        .collect();
    let ours = api.add_comment(
        PR,
        "github-actions[bot]",
        &format!("{MARKER}\nan older plan"),
    );
    ids.push((api.add_comment(PR, "carol", "after"), "after".to_owned()));
    // The same marker on another pull request is not this one's.
    let elsewhere = api.add_comment(PR + 1, "github-actions[bot]", &format!("{MARKER}\nx"));
    let config = config_file(&world.ns, &["AWS-Admins", "AWS-New"], json!({}));

    let (code, stdout, stderr) = run(script(&world.cli_command(&[]), &api, &config));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let comments = api.comments(PR);
    assert_eq!(comments.len(), 5, "nothing created: {comments:?}");
    let updated = comments.iter().find(|c| c.id == ours).unwrap();
    assert!(
        updated.body.starts_with(MARKER) && updated.body.contains("AWS\\-New"),
        "{}",
        updated.body
    );
    for (id, body) in &ids {
        let c = comments.iter().find(|c| c.id == *id).unwrap();
        assert_eq!(&c.body, body, "comment {id} untouched");
    }
    assert_eq!(api.comments(PR + 1)[0].id, elsewhere);
    assert_eq!(api.comments(PR + 1)[0].body, format!("{MARKER}\nx"));
    // Page 1, then the Link header's page 2, where the marker is; then the update.
    let requests = api.requests();
    assert_eq!(methods(&api), ["GET", "GET", "PATCH"], "{requests:?}");
    assert!(requests[1].uri.contains("page=2"), "{requests:?}");
    assert!(
        requests[2]
            .uri
            .ends_with(&format!("/issues/comments/{ours}")),
        "{requests:?}"
    );
    assert_authorized(&api);
}

#[test]
fn a_plan_that_breaks_a_guard_fails_the_step_and_the_comment_says_it_is_refused() {
    let world = World::with(WorldOptions {
        existing: vec![("GROUP", "Stay".to_owned()), ("GROUP", "Leave".to_owned())],
        ..Default::default()
    });
    let api = GitHubApi::start(100).unwrap();
    // Authoritative: the config removes what it lacks; one of two filters is over the
    // default 25 % deletion guard.
    let strict = config_file(&world.ns, &["Stay"], json!({ "Mode": "authoritative" }));
    let (code, stdout, stderr) = run(script(&world.cli_command(&[]), &api, &strict));
    assert_eq!(
        code, 1,
        "the plan's exit code fails the step:\n{stdout}\n{stderr}"
    );
    let comments = api.comments(PR);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let body = &comments[0].body;
    assert!(body.starts_with(MARKER), "{body}");
    assert!(body.contains("| ➖ remove | group | Leave |"), "{body}");
    assert!(
        body.contains("❌ **Refused:** refusing to remove 1 of 2 filters"),
        "{body}"
    );
    assert!(
        stderr.contains("error: the plan breaks a guard (syncscope plan exited 1)"),
        "{stderr}"
    );

    // The guard raised in the same pull request: the same comment now says it passes.
    let allowed = config_file(
        &world.ns,
        &["Stay"],
        json!({ "Mode": "authoritative", "DeletionGuard": { "MaxRemovalPercent": 100 } }),
    );
    let (code, stdout, stderr) = run(script(&world.cli_command(&[]), &api, &allowed));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let comments = api.comments(PR);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].body.contains("✅ Within the deletion guards")
            && !comments[0].body.contains("Refused"),
        "{}",
        comments[0].body
    );
    assert_authorized(&api);
}

#[test]
fn a_plan_that_cannot_run_is_commented_as_an_error_and_fails_the_step() {
    let api = GitHubApi::start(100).unwrap();
    let config = config_file("cannot-run", &["AWS-Admins"], json!({}));
    let (code, stdout, stderr) = run(script(&unreachable_aws(), &api, &config));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let comments = api.comments(PR);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let body = &comments[0].body;
    assert!(
        body.starts_with(&format!("{MARKER}\n### syncscope plan could not run\n")),
        "{body}"
    );
    assert!(
        body.contains(&format!("`syncscope plan --config {config}` exited with 1")),
        "{body}"
    );
    // The plan's own error, in a code block.
    assert!(body.contains("```text\n"), "{body}");
    assert!(body.contains("error: "), "{body}");
    assert!(
        stderr.contains("error: syncscope plan could not run (exit 1)"),
        "{stderr}"
    );
}

#[test]
fn a_github_api_failure_is_a_clear_exit_3_and_never_shows_the_token() {
    let config = config_file("api-failure", &["AWS-Admins"], json!({}));

    // Every call answers 401 with a body that echoes the Authorization header.
    let api = GitHubApi::start(100).unwrap();
    api.fail(Some(Failure {
        method: None,
        status: 401,
    }));
    let (code, stdout, stderr) = run(script(&unreachable_aws(), &api, &config));
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: GitHub API: GET /repos/{REPO}/issues/{PR}/comments answered 401: Bad credentials: Bearer ***; the plan comment was not posted"
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains(MARKER),
        "the comment is still in the log: {stdout}"
    );
    assert_authorized(&api);

    // The listing works, the create is refused.
    let api = GitHubApi::start(100).unwrap();
    api.fail(Some(Failure {
        method: Some("POST".to_owned()),
        status: 422,
    }));
    let (code, stdout, stderr) = run(script(&unreachable_aws(), &api, &config));
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "POST /repos/{REPO}/issues/{PR}/comments answered 422"
        )),
        "{stderr}"
    );
    assert!(api.comments(PR).is_empty());

    // A pagination link to another origin is not followed: the token stays home.
    let api = GitHubApi::start(1).unwrap();
    let elsewhere = GitHubApi::start(1).unwrap();
    api.add_comment(PR, "alice", "one");
    api.add_comment(PR, "bob", "two");
    api.link_base(Some(elsewhere.url()));
    let (code, stdout, stderr) = run(script(&unreachable_aws(), &api, &config));
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("is not the API at {}", api.url())),
        "{stderr}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
    assert_eq!(api.comments(PR).len(), 2, "nothing posted");

    // No GitHub API at all (a closed port): a clear message, not a traceback.
    let closed = "http://127.0.0.1:9".to_owned();
    let mut cmd = script(&unreachable_aws(), &api, &config);
    cmd.env("GITHUB_API_URL", &closed);
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("(is {closed} reachable?)")),
        "{stderr}"
    );
    assert!(!stderr.contains("Traceback"), "{stderr}");
}

/// `task ci:init` (ci/init.sh): copies both files, never over existing ones without
/// FORCE=1, and the workflow it writes passes jactionlint.
#[test]
fn ci_init_writes_a_workflow_that_jactionlint_accepts_and_keeps_existing_files() {
    let dest = paths::build_dir("e2e-ci").join(format!("init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).unwrap();
    let init = |force: bool| {
        let mut cmd = Command::new("bash");
        cmd.arg(paths::workspace().join("ci/init.sh"))
            .arg(&dest)
            .env_remove("FORCE")
            .stdin(Stdio::null());
        if force {
            cmd.env("FORCE", "1");
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let workflow = dest.join(".github/workflows/syncscope.yml");
    let script = dest.join(".github/syncscope/plan-comment.py");
    let source = |p: &str| std::fs::read_to_string(paths::workspace().join(p)).unwrap();

    let (code, out, err) = init(false);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        std::fs::read_to_string(&workflow).unwrap(),
        source("ci/github/workflows/syncscope.yml")
    );
    assert_eq!(
        std::fs::read_to_string(&script).unwrap(),
        source("ci/github/plan-comment.py")
    );
    for step in [
        "syncscope synth --config config/prod.json --plan-role",
        "AWS_PLAN_ROLE_ARN",
        "AWS_DEPLOY_ROLE_ARN",
        "AWS_REGION",
        "SYNCSCOPE_CONFIG",
    ] {
        assert!(
            out.contains(step),
            "{step} missing from the next steps:\n{out}"
        );
    }
    // The workflow calls the script where ci:init put it.
    assert!(
        source("ci/github/workflows/syncscope.yml")
            .contains("python3 .github/syncscope/plan-comment.py")
    );

    // An edited workflow is kept, unless FORCE=1.
    std::fs::write(&workflow, "# mine\n").unwrap();
    let (code, _, err) = init(false);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("already there, nothing copied (FORCE=1 overwrites)"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&workflow).unwrap(), "# mine\n");
    let (code, out, err) = init(true);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        std::fs::read_to_string(&workflow).unwrap(),
        source("ci/github/workflows/syncscope.yml")
    );

    let (code, out) = jactionlint(&workflow, &dest);
    assert_eq!(code, Some(0), "jactionlint:\n{out}");
    // And jactionlint finds problems when there are some (it is not a no-op).
    std::fs::write(
        &workflow,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n",
    )
    .unwrap();
    let (code, out) = jactionlint(&workflow, &dest);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("unpinned-uses"), "{out}");
    let _ = std::fs::remove_dir_all(&dest);
}

/// jactionlint (in the tool venv, `task setup:python`) on one workflow: (exit, output).
fn jactionlint(workflow: &Path, dir: &Path) -> (Option<i32>, String) {
    let bin: PathBuf = paths::python().with_file_name("jactionlint");
    assert!(
        bin.exists(),
        "{} is missing: run ./task setup:python",
        bin.display()
    );
    let out = Command::new(bin)
        .args(["--no-hints", "--no-color"])
        .arg(workflow)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}
