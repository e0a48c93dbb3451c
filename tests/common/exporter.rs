//! The real `intune-exporter` binary, started on a free loopback port and killed when dropped.

use super::golden::assert_promtool_clean;
use std::process::{Command, Stdio};

/// A running `intune-exporter` process, killed when dropped.
pub struct Exporter {
    child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Exporter {
    /// Starts the binary with `args` (plus a loopback listen address on a free port) and waits
    /// until it logs that it listens.
    pub fn start(args: &[&str]) -> Exporter {
        Self::start_with_env(args, &[])
    }

    /// [`Exporter::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Exporter {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
            .args(args)
            .envs(env.iter().copied())
            .args([
                "--web.listen-address",
                "127.0.0.1:0",
                "--log.format",
                "logfmt",
            ])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start intune-exporter");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let sink = std::sync::Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().expect("log buffer");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let log = stderr.lock().expect("log buffer").clone();
            if let Some(line) = log.lines().find(|l| l.contains("message=listening")) {
                let addr = line
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("address="))
                    .expect("listening line has an address")
                    .to_string();
                return Exporter {
                    child,
                    addr,
                    stderr,
                    reader: Some(reader),
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("intune-exporter exited with {status}:\n{log}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no listening line:\n{log}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The process id: the same one after a reload proves there was no restart.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`HUP`, `TERM`, ...) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success(), "kill -{name}");
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `/metrics`.
    pub async fn scrape(&self) -> String {
        super::scrape::get_text(&self.url("/metrics")).await
    }

    /// `/metrics`, checked by `promtool check metrics`.
    pub async fn scrape_linted(&self) -> String {
        let text = self.scrape().await;
        assert_promtool_clean(&text, "/metrics");
        text
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.stderr.lock().expect("log buffer").clone()
    }

    /// Waits until `/-/ready` answers 200.
    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(self.url("/-/ready")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never ready:\n{}",
                self.log()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit status (at most 15 seconds).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        self.wait_exit()
    }

    /// Waits for the process to exit (at most 15 seconds) and reads its log to the end.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // The log pipe closes with the process: read it to the end.
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "no exit");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
