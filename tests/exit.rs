//! Exit codes and what a failure prints, through the real binary: a mistake in the flags or
//! files is refused before anything starts, with exit code 2 and exactly one plain message on
//! stderr; a failure after logging is set up is exactly one error log line, with exit code 1
//! (or 2 when the flags are at fault). Each message appears once, never both plain and logged.

#![allow(clippy::unwrap_used)]

mod common;

use common::run_to_end;

/// `(code, stdout, stderr)` of a run, for one exact comparison.
fn ended(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let e = run_to_end(args, env);
    (e.code, e.stdout, e.stderr)
}

/// The log on stderr without each line's `ts=` field, which changes from run to run.
fn without_timestamps(log: &str) -> String {
    log.lines()
        .map(|line| match line.strip_prefix("ts=") {
            Some(rest) => rest.split_once(' ').map_or("", |(_, l)| l),
            None => line,
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn config_check_without_a_config_file_is_a_usage_error() {
    assert_eq!(
        ended(&["--config.check"], &[]),
        (
            Some(2),
            String::new(),
            "--config.check needs --config.file\n".to_string()
        )
    );
}

#[test]
fn config_check_reports_the_web_config_after_a_bad_tenant_file() {
    // Every problem of every file is printed: a bad tenant file used to end the check before
    // the web config was read, hiding its problem until the next run.
    let dir = common::TempDir::new("exit-check-all");
    let web = dir.0.join("web.yml");
    std::fs::write(&web, "rate_limit:\n  interval: 1s\n").unwrap();
    let web = web.to_str().unwrap();
    let (code, stdout, stderr) = ended(
        &[
            "--config.check",
            "--config.file",
            "tests/fixtures/config/fleet-bad/config.yaml",
            "--web.config.file",
            web,
        ],
        &[],
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        stdout,
        "tests/fixtures/config/fleet-bad/config.yaml: valid (1 tenant(s))\n"
    );
    assert_eq!(
        stderr,
        format!(
            "tests/fixtures/config/fleet-bad/tenants.d/eu.yml: 3 problem(s):\n  \
             [2].lables: unknown key\n  \
             [0].labels.job: is reserved (intune_tenant_info already has it, or Prometheus sets it); reserved: tenant_id, tenant_name, country_code, mdm_authority, instance, job\n  \
             [1].tenant_id: \"not-a-tenant\" is not a directory (tenant) id; expected a GUID like 00000000-0000-0000-0000-000000000000 or a domain like contoso.onmicrosoft.com\n\
             {web}: rate_limit: not supported by intune-exporter (the connection cap, --web.max-connections, bounds the load instead)\n"
        )
    );
}

#[test]
fn a_malformed_listen_address_is_refused_in_one_line() {
    assert_eq!(
        ended(&["--demo", "--web.listen-address", "10468"], &[]),
        (
            Some(2),
            String::new(),
            "--web.listen-address \"10468\": expected host:port or :port\n".to_string()
        )
    );
}

#[test]
fn systemd_sockets_that_systemd_did_not_pass_are_a_usage_error() {
    assert_eq!(
        ended(&["--demo", "--web.systemd-socket"], &[]),
        (
            Some(2),
            String::new(),
            "--web.systemd-socket: systemd passed no socket (LISTEN_FDS/LISTEN_PID unset or for \
             another process); start the exporter from a .socket unit\n"
                .to_string()
        )
    );
}

#[test]
fn a_host_name_without_an_ordinal_is_refused_before_the_demo_starts() {
    // Nothing is logged before the refusal: the shard is checked before anything starts.
    assert_eq!(
        ended(
            &["--demo", "--sharding.from-hostname"],
            &[("HOSTNAME", "exporter")]
        ),
        (
            Some(2),
            String::new(),
            "intune-exporter: --sharding.from-hostname: host name \"exporter\" does not end in \
             -<ordinal> (a StatefulSet pod name such as intune-exporter-2)\n"
                .to_string()
        )
    );
}

#[test]
fn simulate_with_a_missing_scenario_is_a_configuration_error() {
    assert_eq!(
        ended(&["simulate", "--scenario", "missing-scenario.yaml"], &[]),
        (
            Some(2),
            String::new(),
            "cannot read scenario missing-scenario.yaml: No such file or directory (os error 2)\n"
                .to_string()
        )
    );
}

#[test]
fn azure_variables_naming_no_tenant_are_a_configuration_error() {
    let env = [
        ("AZURE_TENANT_ID", "not-a-tenant"),
        ("AZURE_CLIENT_ID", "9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b"),
        ("AZURE_CLIENT_SECRET", "do-not-print"),
    ];
    assert_eq!(
        ended(&["--web.listen-address", "127.0.0.1:0"], &env),
        (
            Some(2),
            String::new(),
            "<environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, ...>: 1 problem(s):\n  \
             tenants[0].tenant_id: \"not-a-tenant\" is not a directory (tenant) id; expected a \
             GUID like 00000000-0000-0000-0000-000000000000 or a domain like \
             contoso.onmicrosoft.com\n"
                .to_string()
        )
    );
}

#[test]
fn a_ca_file_the_simulator_cannot_write_is_one_error_log_line() {
    let dir = common::TempDir::new("exit-ca-out");
    let ca = dir.0.join("missing").join("ca.pem");
    let ca = ca.to_str().unwrap();
    let (code, stdout, stderr) = ended(
        &[
            "--log.level=error",
            "simulate",
            "--scenario",
            "deploy/demo/scenario.yaml",
            "--listen",
            "127.0.0.1:0",
            "--ca-out",
            ca,
        ],
        &[],
    );
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    assert_eq!(
        without_timestamps(&stderr),
        format!(
            "level=error target=intune_exporter message=\"cannot write the CA certificate\" \
             error=\"No such file or directory (os error 2)\" path={ca}\n"
        )
    );
}

#[test]
fn an_address_in_use_is_one_error_log_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (code, stdout, stderr) = ended(
        &[
            "--demo",
            "--log.level=error",
            "--web.listen-address",
            &address,
        ],
        &[],
    );
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    assert_eq!(
        without_timestamps(&stderr),
        format!(
            "level=error target=intune_exporter message=\"cannot listen\" error=\"cannot listen \
             on {address}: Address already in use (os error 98)\"\n"
        )
    );
}
