//! Reloads through the real binary: SIGHUP re-reads the configuration and keeps the process
//! (same PID, still serving); a broken configuration is refused, counted in
//! `intune_exporter_config_last_reload_successful` and the old one keeps running;
//! `POST /-/reload` works only with `--web.enable-lifecycle`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Exporter, TempDir};
use std::time::{Duration, Instant};

const GOOD: &str =
    "graph:\n  graph_url: https://127.0.0.1:9/\n  authority_host: https://127.0.0.1:9/\n\
poll:\n  interval: 1h\n\
tenants:\n  - tenant_id: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n    auth:\n      \
client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b\n      client_secret_file: secret.txt\n";

/// A config dir with a valid config and its secret.
fn config_dir(name: &str) -> (TempDir, String) {
    let dir = TempDir::new(name);
    std::fs::write(dir.0.join("secret.txt"), "s3cret\n").unwrap();
    std::fs::write(dir.0.join("config.yaml"), GOOD).unwrap();
    let path = dir.0.join("config.yaml").to_string_lossy().into_owned();
    (dir, path)
}

/// The value of an unlabelled series in `/metrics` (which promtool must find clean).
async fn sample(exporter: &Exporter, name: &str) -> f64 {
    let text = exporter.scrape_linted().await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .parse()
        .unwrap()
}

/// Waits until `name` has `value`.
async fn wait_for(exporter: &Exporter, name: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = sample(exporter, name).await;
        if v == value {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} stayed {v}, expected {value}:\n{}",
            exporter.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const OK: &str = "intune_exporter_config_last_reload_successful";
const AT: &str = "intune_exporter_config_last_reload_success_timestamp_seconds";

#[tokio::test]
async fn sighup_reloads_and_keeps_the_process() {
    let (dir, path) = config_dir("reload-hup");
    let mut exporter = Exporter::start(&["--config.file", &path]);
    let pid = exporter.pid();
    assert_eq!(sample(&exporter, OK).await, 1.0);
    let started_at = sample(&exporter, AT).await;

    // A broken config: refused, counted, logged with every problem; the exporter serves on.
    std::fs::write(
        dir.0.join("config.yaml"),
        GOOD.replace("interval: 1h", "interval: 1ms")
            .replace("secret.txt", "missing.txt"),
    )
    .unwrap();
    exporter.signal("HUP");
    wait_for(&exporter, OK, 0.0).await;
    assert!(exporter.running());
    assert_eq!(exporter.pid(), pid);
    let log = exporter.log();
    assert!(
        log.contains("message=\"SIGHUP received; reloading\""),
        "{log}"
    );
    assert!(
        log.contains("poll.interval: 1ms is too short: must be at least 5s")
            && log.contains("tenants[0].auth.client_secret_file: cannot read"),
        "{log}"
    );
    assert_eq!(sample(&exporter, AT).await, started_at);

    // Fixed again: accepted.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(dir.0.join("config.yaml"), GOOD).unwrap();
    exporter.signal("HUP");
    wait_for(&exporter, OK, 1.0).await;
    assert!(sample(&exporter, AT).await > started_at);
    assert_eq!(exporter.pid(), pid);
    assert!(exporter.terminate().success());
}

#[tokio::test]
async fn the_reload_endpoint_needs_the_lifecycle_flag() {
    let (dir, path) = config_dir("reload-endpoint");
    let client = reqwest::Client::new();

    let without = Exporter::start(&["--config.file", &path]);
    let r = client.post(without.url("/-/reload")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.text().await.unwrap(),
        "Lifecycle API is not enabled (--web.enable-lifecycle).\n"
    );
    drop(without);

    let with = Exporter::start(&["--config.file", &path, "--web.enable-lifecycle"]);
    let r = client.get(with.url("/-/reload")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST, PUT");
    let r = client.post(with.url("/-/reload")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "Configuration reloaded.\n");

    std::fs::write(dir.0.join("config.yaml"), "tenants: [\n").unwrap();
    let r = client.post(with.url("/-/reload")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(body.starts_with("failed to reload config: "), "{body}");
    assert_eq!(sample(&with, OK).await, 0.0);
    // Still serving.
    let r = client.get(with.url("/-/healthy")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn the_systemd_unit_reloads_with_sighup() {
    let unit =
        std::fs::read_to_string(common::root().join("deploy/systemd/intune-exporter.service"))
            .unwrap();
    let reload: Vec<&str> = unit
        .lines()
        .filter(|l| l.starts_with("ExecReload="))
        .collect();
    assert_eq!(reload, ["ExecReload=/bin/kill -HUP $MAINPID"]);
}
