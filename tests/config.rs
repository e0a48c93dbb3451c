//! Config validation through the real binary: `--config.check` on every file under
//! `tests/fixtures/config/invalid/` exits 2 with exactly the message in
//! `tests/golden/config/<name>.txt`; the valid files exit 0.

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
    assert_eq!(files.len(), 8);
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
