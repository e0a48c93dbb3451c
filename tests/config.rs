//! Config validation through the real binary: `--config.check` on every file under
//! `tests/fixtures/config/invalid/` exits 2 with exactly the message in
//! `tests/golden/config/<name>.txt`; the valid files exit 0. Inputs that used to hang the
//! parser (deep nesting, a FIFO, `/dev/zero`) are refused promptly.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

fn check(file: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .current_dir(common::root())
        .args(["--config.check", "--config.file", file])
        .output()
        .expect("run intune-exporter");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn invalid_configs_exit_2_naming_every_problem() {
    let dir = common::root().join("tests/fixtures/config/invalid");
    let files = common::files_in(&dir);
    assert_eq!(files.len(), 15);
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let rel = format!("tests/fixtures/config/invalid/{name}.yaml");
        let (code, stdout, stderr) = check(&rel);
        assert_eq!(code, 2, "{rel}: {stderr}");
        assert_eq!(stdout, "", "{rel}");
        common::assert_golden(&format!("tests/golden/config/{name}.txt"), &stderr);
        assert!(
            !stderr.contains("do-not-put-secrets-here"),
            "{rel} echoed a secret"
        );
    }
}

#[test]
fn valid_config_passes_the_check() {
    let (code, stdout, stderr) = check("tests/fixtures/config/valid/multi_tenant.yaml");
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        "tests/fixtures/config/valid/multi_tenant.yaml: valid (2 tenant(s))\n"
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let (code, stdout, stderr) = check("tests/fixtures/config/valid/byte_order_mark.yaml");
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        "tests/fixtures/config/valid/byte_order_mark.yaml: valid (1 tenant(s))\n"
    );
}

/// Runs `--config.check` on `file`, failing the test if it has not exited within a minute
/// (before, some of these inputs never finished).
fn check_bounded(file: &std::path::Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .args(["--config.check", "--config.file"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("--config.check {} did not finish", file.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn deeply_nested_input_is_refused_without_parsing_it() {
    let dir = common::TempDir::new("config-nesting");
    for n in [100_000usize, 1_000_000] {
        let file = dir.0.join(format!("nested-{n}.yaml"));
        std::fs::write(&file, format!("tenants: {}", "[".repeat(n))).unwrap();
        let (code, stderr) = check_bounded(&file);
        assert_eq!(code, Some(2));
        assert_eq!(
            stderr,
            format!(
                "{}: line 1: collections nested more than 64 levels deep\n",
                file.display()
            )
        );
    }
}

#[test]
fn a_fifo_or_a_device_as_config_file_is_refused() {
    let dir = common::TempDir::new("config-fifo");
    let fifo = dir.0.join("config.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, stderr) = check_bounded(&fifo);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        format!(
            "cannot read {}: not a regular file but a FIFO\n",
            fifo.display()
        )
    );
    let (code, stderr) = check_bounded(std::path::Path::new("/dev/zero"));
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "cannot read /dev/zero: not a regular file but a character device\n"
    );
}

#[test]
fn without_any_config_the_exporter_refuses_to_start_and_mentions_demo() {
    let out = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .env_remove("INTUNE_EXPORTER_CONFIG_FILE")
        .env_remove("INTUNE_EXPORTER_DEMO")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    common::assert_golden(
        "tests/golden/config/no_config.txt",
        &String::from_utf8_lossy(&out.stderr),
    );
}

#[test]
fn type_errors_name_the_key_and_never_an_internal_struct() {
    let tenant = "tenants:\n  - tenant_id: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n    auth: {client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b, client_secret_env: X}\n";
    let cases = [
        "graph: 1\n".to_string(),
        "poll: [1]\n".to_string(),
        "health: yes\n".to_string(),
        "sources: {messages: 5}\n".to_string(),
        "service_communications: x\n".to_string(),
        "tenants: [5]\n".to_string(),
        "tenants:\n  - tenant_id: x\n    auth: 5\n".to_string(),
        "tenants:\n  - tenant_id: x\n    auth: {workload_identity: 5}\n".to_string(),
        "tenants:\n  - tenant_id: x\n    auth: {managed_identity: [1]}\n".to_string(),
    ];
    for text in cases {
        let text = format!(
            "{text}{}",
            if text.starts_with("tenants") {
                ""
            } else {
                tenant
            }
        );
        let err = intune_exporter::config::Config::parse_with_env(
            &text,
            std::path::Path::new("c.yaml"),
            &|_| Some("secret".to_string()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("expected a"), "{text}: {err}");
        assert!(!err.contains("Raw"), "{text}: {err}");
    }
}

#[test]
fn the_check_reads_the_tenant_files_too() {
    let (code, stdout, stderr) = check("tests/fixtures/config/fleet/config.yaml");
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        "tests/fixtures/config/fleet/config.yaml: valid (1 tenant(s))\n\
         tests/fixtures/config/fleet/tenants.d/eu.yml: valid (2 tenant(s))\n"
    );
    let (code, stdout, stderr) = check("tests/fixtures/config/fleet-bad/config.yaml");
    assert_eq!(code, 2);
    assert_eq!(
        stdout,
        "tests/fixtures/config/fleet-bad/config.yaml: valid (1 tenant(s))\n"
    );
    assert_eq!(
        stderr,
        "tests/fixtures/config/fleet-bad/tenants.d/eu.yml: 3 problem(s):\n  \
         [2].lables: unknown key\n  \
         [0].labels.job: is reserved (intune_tenant_info already has it, or Prometheus sets it); reserved: tenant_id, tenant_name, country_code, mdm_authority, instance, job\n  \
         [1].tenant_id: \"not-a-tenant\" is not a directory (tenant) id; expected a GUID like 00000000-0000-0000-0000-000000000000 or a domain like contoso.onmicrosoft.com\n"
    );
}
