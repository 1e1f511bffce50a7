//! The `identity-sync-emulator` binary: first line, flags, SIGTERM, parent exit.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

const EXE: &str = env!("CARGO_BIN_EXE_identity-sync-emulator");

fn temp_seed() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = std::env::temp_dir().join(format!(
        "identity-sync-emulator-seed-{}-{nanos}.json",
        std::process::id()
    ));
    std::fs::write(
        &path,
        serde_json::to_string(&crate::helpers::example_seed()).unwrap(),
    )
    .unwrap();
    path
}

fn port_of(line: &str) -> u16 {
    line.strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_binary_prints_its_port_serves_the_seed_and_stops_on_sigterm() {
    let seed = temp_seed();
    let mut child = Command::new(EXE)
        .arg("--seed")
        .arg(&seed)
        .args(["--page-size", "5", "--hang-ops", "StartSync,StopSync"])
        .args(["--fail-filters", "AWS-Broken=AccessDeniedException"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let port = port_of(&first);

    let state: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/_emulator/state"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["profiles"][0]["filters"][0]["name"], "AWS-Admins");
    assert_eq!(state["knobs"]["page_size"], 5);
    assert_eq!(
        state["knobs"]["hang_ops"],
        serde_json::json!(["StartSync", "StopSync"])
    );
    assert_eq!(
        state["knobs"]["fail_filters"]["AWS-Broken"],
        "AccessDeniedException"
    );

    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("the emulator exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_file(seed);
}

#[tokio::test]
async fn the_binary_exits_when_its_parent_exits() {
    // sh starts the emulator in the background and exits soon after (not at
    // once: a parent gone before the emulator starts cannot be noticed); the
    // emulator's stdout (shared with sh) reaches end of file only when both
    // have exited.
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!("'{EXE}' --port 0 & echo \"pid $!\"; sleep 0.3"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(shell.stdout.take().unwrap()).lines();
    assert!(shell.wait().await.unwrap().success());
    let mut pid = None;
    let mut port = None;
    let read_to_end = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(number) = line.strip_prefix("pid ") {
                pid = Some(number.to_owned());
            } else {
                port = Some(port_of(&line));
            }
        }
    };
    let ended = timeout(Duration::from_secs(10), read_to_end).await;
    if ended.is_err() {
        // Do not leave an orphan behind when the test fails.
        if let Some(pid) = &pid {
            let _ = std::process::Command::new("kill").arg(pid).status();
        }
        panic!("the orphaned emulator {pid:?} did not exit within 10 s");
    }
    let port = port.expect("the emulator printed its listening line");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port} any more"
    );
}

#[tokio::test]
async fn the_binary_refuses_bad_flags_with_a_message() {
    let output = Command::new(EXE)
        .args(["--fault-rate", "2"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("fault_rate must be between 0 and 1"),
        "{stderr}"
    );
    let output = Command::new(EXE)
        .args(["--fail-filters", "x=NoSuchError"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("NoSuchError"));
}
