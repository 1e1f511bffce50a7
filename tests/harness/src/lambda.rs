//! The Lambda binary as a child process, pointed at a Runtime API, its logs captured.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running Lambda process. Killed when dropped.
pub struct LambdaProcess {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl LambdaProcess {
    /// Starts `binary` with the Lambda environment plus `env`.
    pub fn start(
        binary: PathBuf,
        runtime_api: &str,
        env: &[(String, String)],
    ) -> std::io::Result<Self> {
        Self::start_wrapped(&[], binary, runtime_api, env)
    }

    /// Starts `binary` through a wrapper command (e.g. `qemu-aarch64 -L
    /// /usr/aarch64-linux-gnu` for the arm64 build); an empty wrapper runs it as is.
    pub fn start_wrapped(
        wrapper: &[String],
        binary: PathBuf,
        runtime_api: &str,
        env: &[(String, String)],
    ) -> std::io::Result<Self> {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "syncscope")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/syncscope")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_REGION", "eu-central-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn()?;
        let logs: Arc<Mutex<Vec<String>>> = Arc::default();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("SYNCSCOPE_SHOW_LAMBDA_LOGS").is_some() {
                        eprintln!("[lambda] {line}");
                    }
                    logs.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        Ok(Self { child, logs })
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
