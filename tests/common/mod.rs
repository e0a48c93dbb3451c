//! Helpers shared by the integration tests, one module per concern:
//!
//! - [`golden`]: golden files and `promtool check metrics`;
//! - [`exporter`]: the real binary, started on a free loopback port;
//! - [`sim`]: the Graph simulator, scenario text built from the demo scenario, Graph clients
//!   that trust it;
//! - [`config_text`]: pieces of exporter config files pointing at a simulator;
//! - [`scrape`]: reading `/metrics` and picking series out of an exposition;
//!
//! and, here, the repository root, temporary folders, helper processes and basic-auth hashes.
//!
//! Every test binary compiles all of it and uses a part: unused items are allowed.

#![allow(dead_code, unused_imports)]

pub mod config_text;
pub mod exporter;
pub mod golden;
pub mod scrape;
pub mod sim;

pub use exporter::Exporter;
pub use golden::{assert_golden, assert_promtool_clean, promtool_check_metrics};
pub use scrape::current_health;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file in a folder, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// The basic-auth password of the web config tests.
pub const PASSWORD: &str = "correct horse battery staple";

/// A cost-4 bcrypt hash of `password` for `basic_auth_users`: quick to make and to check,
/// even in a debug build.
pub fn quick_hash(password: &str) -> String {
    bcrypt::hash(password, 4).expect("a bcrypt hash")
}

/// A temporary folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty folder under the system's temp dir.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "intune-exporter-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process (Prometheus, Alertmanager) killed and reaped when dropped.
pub struct Daemon(pub std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on loopback, for a server that takes a port number rather than a listener.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// What a run of the binary to its end left: exit code, stdout, stderr.
pub struct Ended {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

/// Runs the binary with `args` and `env` (no `RUST_LOG`, config or Azure variables from the
/// test's own environment) from the repository root, and fails the test if it has not ended
/// within a minute: a command meant to be refused must not start serving instead.
pub fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> Ended {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intune-exporter"));
    for name in [
        "RUST_LOG",
        "INTUNE_EXPORTER_CONFIG_FILE",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "LISTEN_FDS",
        "LISTEN_PID",
    ] {
        command.env_remove(name);
    }
    let child = command
        .current_dir(root())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start intune-exporter");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(output) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("intune-exporter {args:?} did not end");
    };
    let output = output.expect("wait for intune-exporter");
    Ended {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
