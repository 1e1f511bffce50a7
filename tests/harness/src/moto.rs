//! A moto server (PyPI `moto[server]`) as a child process on 127.0.0.1.
//!
//! The process watches its parent and exits when the parent does, so a killed test
//! run leaves nothing behind.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
}

/// Starts moto under a wrapper that exits when its parent process does.
const WRAPPER: &str = r#"
import os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Moto {
    /// Starts a new moto server and waits until it answers.
    pub fn start() -> Result<Self, String> {
        let python = crate::paths::python();
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| e.to_string())?;
            let mut child = Command::new(&python)
                .arg("-c")
                .arg(WRAPPER)
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| {
                    format!(
                        "cannot start moto with {} ({e}); run `task setup` (or set SYNCSCOPE_PYTHON to a python with moto[server])",
                        python.display()
                    )
                })?;
            let url = format!("http://127.0.0.1:{port}");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    last = format!("moto exited: {}", err.lines().last().unwrap_or_default());
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Drain stderr so moto never blocks on a full pipe.
                    if let Some(mut e) = child.stderr.take() {
                        std::thread::spawn(move || {
                            let mut sink = Vec::new();
                            let _ = e.read_to_end(&mut sink);
                        });
                    }
                    return Ok(Self { url, child });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
        }
        Err(format!("moto did not start: {last}"))
    }

    /// One moto server shared by every test of this process (tests use unique names).
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(|| match Moto::start() {
            Ok(moto) => moto,
            Err(e) => panic!("{e}"),
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
