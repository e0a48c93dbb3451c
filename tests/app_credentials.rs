//! The exporter's own app registration: the application turned into series (fixture to golden
//! file), and the real binary reading it from the simulator's home tenant, or being refused.

#![allow(clippy::unwrap_used)]

mod common;

use common::config_text::{self, demo_app_defaults, only_sources};
use common::sim::{self, DEMO_CLIENT, DEMO_TENANT};
use common::{assert_golden, assert_promtool_clean, Exporter};
use intune_exporter::app_credentials::{families, Identity};
use intune_exporter::sources::Source;
use intune_graph_simulator::Scenario;
use std::time::Duration;

const HOME: &str = "f0000000-0000-4000-8000-00000000000b";

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(
        common::root().join("tests/fixtures/app_credentials/application.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn secrets_and_certificates_become_series_without_their_values() {
    // The reader signs in with the secret whose first three characters are "Ab~".
    let text = families(fixture(), DEMO_CLIENT, &Identity::Hint("Ab~".into())).to_text();
    assert_promtool_clean(&text, "app credentials");
    assert_golden("tests/golden/app_credentials/application.prom", &text);
}

/// The credentials of the fixture whose `in_use` is not false, as (key id, in_use).
fn in_use(own: Identity) -> Vec<(String, String)> {
    let text = families(fixture(), DEMO_CLIENT, &own).to_text();
    let label = |line: &str, name: &str| {
        let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        line[start..].split('"').next().unwrap().to_string()
    };
    text.lines()
        .filter(|l| l.starts_with("intune_exporter_app_credential_info{"))
        .filter(|l| !l.contains("in_use=\"false\""))
        .map(|l| (label(l, "key_id"), label(l, "in_use")))
        .collect()
}

#[test]
fn in_use_is_the_secret_or_certificate_the_reader_signs_in_with() {
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        in_use(Identity::Hint("Ab~".into())),
        [pair("f1a2b3c4-0000-4000-8000-000000000001", "true")]
    );
    // The lapsed secret's hint is "xY7"; hints are compared exactly.
    assert_eq!(
        in_use(Identity::Hint("xy7".into())),
        Vec::<(String, String)>::new()
    );
    // The certificate with the reader's thumbprint; the other one's identifier is no SHA-1
    // thumbprint, so whether it is the reader's cannot be told.
    assert_eq!(
        in_use(Identity::Thumbprint(
            "1F2E3D4C5B6A79880716253443526170ABCDEF01".into()
        )),
        [
            pair("c0ffee00-0000-4000-8000-000000000003", "true"),
            pair("c0ffee00-0000-4000-8000-000000000004", "unknown"),
        ]
    );
    // A federated credential is none of them.
    assert_eq!(in_use(Identity::Neither), Vec::<(String, String)>::new());
}

/// The exporter's app-credential families and their `up` in an exposition.
fn app_lines(text: &str) -> String {
    text.lines()
        .filter(|l| l.starts_with("intune_exporter_app_credential"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The exporter's config: the demo tenant's organization, and the app read from the home
/// tenant when `read_app`.
fn config(sim: &intune_graph_simulator::Simulator, read_app: bool) -> String {
    format!(
        "{}{}{}tenants:\n  - tenant_id: {DEMO_TENANT}\n{}",
        config_text::graph(sim.base_url()),
        demo_app_defaults(),
        only_sources(&[Source::Organization]),
        if read_app {
            format!("app_credentials:\n  home_tenant_id: {HOME}\n")
        } else {
            String::new()
        }
    )
}

/// Starts the simulator (the demo tenant, and the home tenant with `home_lines`) and an
/// exporter reading the demo tenant's organization and the app in the home tenant.
async fn start(
    home_lines: &str,
    name: &str,
) -> (intune_graph_simulator::Simulator, Exporter, common::TempDir) {
    let scenario = Scenario::from_yaml(&sim::demo_and_partner(HOME, home_lines)).unwrap();
    let (sim, dir) = sim::start_with_dir(scenario, name).await;
    std::fs::write(dir.0.join("config.yml"), config(&sim, true)).unwrap();
    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    (sim, exporter, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_credentials_are_read_from_its_home_tenant_without_secrets() {
    let (sim, exporter, _dir) = start(
        &format!(
            "    resources:\n      v1.0/applications(appId='{DEMO_CLIENT}'):\n        id: 03ef14b0-ca33-4840-8f4f-d6e91916010e\n        appId: {DEMO_CLIENT}\n        displayName: intune-exporter\n        passwordCredentials:\n          - {{keyId: f1a2b3c4-0000-4000-8000-000000000001, displayName: current, hint: dem, endDateTime: {{in: 10d}}, secretText: null}}\n        keyCredentials:\n          - {{keyId: c0ffee00-0000-4000-8000-000000000003, displayName: CN=intune-exporter, customKeyIdentifier: Hy49TFtqeYgHFiU0Q1JhcKvN7wE=, endDateTime: {{in: 300d}}, key: c2VjcmV0, type: AsymmetricX509Cert}}\n"
        ),
        "app-credentials",
    )
    .await;
    let text = common::scrape::scrape_until(
        &exporter,
        Duration::from_secs(10),
        "the app was not read",
        |t| t.contains("intune_exporter_app_credentials_up{"),
    )
    .await;
    let anchor = sim.anchor();
    let at = |days: i64| (anchor + chrono::Duration::days(days)).timestamp();
    assert_eq!(
        app_lines(&text),
        format!(
            "intune_exporter_app_credential_end_timestamp_seconds{{client_id=\"{DEMO_CLIENT}\",key_id=\"c0ffee00-0000-4000-8000-000000000003\"}} {}\n\
             intune_exporter_app_credential_end_timestamp_seconds{{client_id=\"{DEMO_CLIENT}\",key_id=\"f1a2b3c4-0000-4000-8000-000000000001\"}} {}\n\
             intune_exporter_app_credential_info{{client_id=\"{DEMO_CLIENT}\",key_id=\"c0ffee00-0000-4000-8000-000000000003\",kind=\"certificate\",display_name=\"CN=intune-exporter\",hint=\"\",thumbprint=\"1F2E3D4C5B6A79880716253443526170ABCDEF01\",in_use=\"false\"}} 1\n\
             intune_exporter_app_credential_info{{client_id=\"{DEMO_CLIENT}\",key_id=\"f1a2b3c4-0000-4000-8000-000000000001\",kind=\"password\",display_name=\"current\",hint=\"dem\",thumbprint=\"\",in_use=\"true\"}} 1\n\
             intune_exporter_app_credentials_up{{client_id=\"{DEMO_CLIENT}\"}} 1\n",
            at(300),
            at(10)
        ),
        "{}",
        exporter.log()
    );
    // The request named only what it needs: never secretText or key.
    let requests = sim.requests();
    let read: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1.0/applications"))
        .collect();
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].tenant_id.as_deref(), Some(HOME));
    assert_eq!(
        read[0].query.as_deref(),
        Some("%24select=id%2CappId%2CdisplayName%2CpasswordCredentials%2CkeyCredentials")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_read_names_the_permission_and_leaves_the_tenants_alone() {
    let path = format!("v1.0/applications(appId='{DEMO_CLIENT}')");
    let (sim, exporter, _dir) = start(
        &sim::faults(&[(&path, "{status: 403}, {status: 403}, {status: 403}")]),
        "app-credentials-403",
    )
    .await;
    let text = common::scrape::scrape_until(
        &exporter,
        Duration::from_secs(10),
        "the refusal did not show",
        |t| t.contains("intune_exporter_app_credentials_up{"),
    )
    .await;
    assert_eq!(
        app_lines(&text),
        format!("intune_exporter_app_credentials_up{{client_id=\"{DEMO_CLIENT}\"}} 0\n")
    );
    assert!(
        text.contains(&format!(
            "intune_exporter_source_up{{tenant_id=\"{DEMO_TENANT}\",source=\"organization\"}} 1"
        )),
        "{text}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let refusals = |log: &str| {
        log.lines()
            .filter(|l| {
                l.contains("app_credentials: cannot read")
                    && l.contains("permission=Application.Read.All")
            })
            .count()
    };
    while refusals(&exporter.log()) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = exporter.log();
    assert_eq!(refusals(&log), 1, "{log}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_removes_app_credentials_drops_its_series() {
    let (sim, exporter, dir) = start(
        &format!("    resources:\n      v1.0/applications(appId='{DEMO_CLIENT}'):\n        passwordCredentials:\n          - {{keyId: k1, hint: dem, endDateTime: {{in: 10d}}}}\n"),
        "app-credentials-reload",
    )
    .await;
    let end = (sim.anchor() + chrono::Duration::days(10)).timestamp();
    let read = format!(
        "intune_exporter_app_credential_end_timestamp_seconds{{client_id=\"{DEMO_CLIENT}\",key_id=\"k1\"}} {end}\n\
         intune_exporter_app_credential_info{{client_id=\"{DEMO_CLIENT}\",key_id=\"k1\",kind=\"password\",display_name=\"\",hint=\"dem\",thumbprint=\"\",in_use=\"true\"}} 1\n\
         intune_exporter_app_credentials_up{{client_id=\"{DEMO_CLIENT}\"}} 1\n"
    );
    common::scrape::scrape_until(
        &exporter,
        Duration::from_secs(10),
        "the app was not read",
        |t| app_lines(t) == read,
    )
    .await;
    std::fs::write(dir.0.join("config.yml"), config(&sim, false)).unwrap();
    exporter.signal("HUP");
    common::scrape::scrape_until(
        &exporter,
        Duration::from_secs(10),
        "the app's series outlived its reader",
        |t| app_lines(t).is_empty(),
    )
    .await;
    // And back: read again at once, not after an interval.
    std::fs::write(dir.0.join("config.yml"), config(&sim, true)).unwrap();
    exporter.signal("HUP");
    common::scrape::scrape_until(
        &exporter,
        Duration::from_secs(10),
        "the app was not read again",
        |t| app_lines(t) == read,
    )
    .await;
    let reads = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0/applications"))
        .count();
    assert_eq!(reads, 2);
    sim.shutdown().await;
}
