//! The Graph simulator for tests: the demo scenario's identities, scenario text built from the
//! demo tenant, a running simulator with a folder for the exporter's files, and Graph clients
//! that trust it.

use intune_exporter::demo;
use intune_exporter::graph::auth::{Authority, EntraCredential};
use intune_exporter::graph::client::RetryPolicy;
use intune_exporter::graph::limiter::Limiter;
use intune_exporter::graph::{GraphClient, GraphMetrics, TokenSource};
use intune_graph_simulator::{Scenario, Simulator};
use std::sync::Arc;
use std::time::Duration;

use super::TempDir;

/// The demo tenant (deploy/demo/scenario.yaml).
pub const DEMO_TENANT: &str = "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21";
/// The demo app's client id.
pub const DEMO_CLIENT: &str = "9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b";
/// The demo app's secret.
pub const DEMO_SECRET: &str = "demo-secret-not-for-production";
/// The partner tenant of the generated fleets in tests: its GDAP customers are the fleet.
pub const FLEET_PARTNER: &str = "0d3c5e7a-1b2c-4d3e-8f4a-5b6c7d8e9f01";
/// The demo tenant's secret line in the scenario: where its other tenant-level lines go.
pub const SECRET_LINE: &str = "    client_secret: demo-secret-not-for-production\n";

/// A tenant id for the `i`th tenant of a test scenario.
pub fn tenant_id(i: usize) -> String {
    format!("30000000-0000-4000-8000-{i:012}")
}

/// The demo scenario with the demo tenant's secret line replaced by `tenant_lines` (another
/// credential, faults, page size, ...).
pub fn demo_replacing_secret(tenant_lines: &str) -> String {
    demo::SCENARIO.replacen(SECRET_LINE, tenant_lines, 1)
}

/// The demo scenario with `extra` tenant-level lines (faults, page size) after the demo
/// tenant's secret.
pub fn demo_with(extra: &str) -> String {
    demo_replacing_secret(&format!("{SECRET_LINE}{extra}"))
}

/// The demo tenant's entry as tenant `id`, its secret line replaced by `tenant_lines`: a
/// `tenants:` list item, for scenarios of many tenants.
pub fn demo_tenant_as(id: &str, tenant_lines: &str) -> String {
    let block = &demo::SCENARIO[demo::SCENARIO.find("  - tenant_id:").expect("a tenant")..];
    block
        .replacen(DEMO_TENANT, id, 1)
        .replacen(SECRET_LINE, tenant_lines, 1)
}

/// The demo scenario and a partner tenant `partner` signing in as the demo app, with `extra`
/// lines at its tenant level; `fleets:` may follow.
pub fn demo_and_partner(partner: &str, extra: &str) -> String {
    format!(
        "{}  - tenant_id: {partner}\n    client_id: {DEMO_CLIENT}\n    client_secret: {DEMO_SECRET}\n{extra}",
        demo::SCENARIO.trim_end().to_string() + "\n"
    )
}

/// Scenario text giving the demo tenant the domain `contoso.onmicrosoft.com`, a fleet's
/// `template`.
pub fn with_contoso_domain(text: &str) -> String {
    text.replace(
        &format!("  - tenant_id: {DEMO_TENANT}\n"),
        &format!("  - tenant_id: {DEMO_TENANT}\n    domains: [contoso.onmicrosoft.com]\n"),
    )
}

/// Fault scripts as tenant-level scenario lines: `(path, items)`, the items of its sequence
/// (`{status: 503}, {status: 401}`).
pub fn faults(scripts: &[(&str, &str)]) -> String {
    let mut out = String::from("    faults:\n");
    for (path, items) in scripts {
        out.push_str(&format!(
            "      - path: \"{path}\"\n        sequence: [{items}]\n"
        ));
    }
    out
}

/// The simulator serving `scenario` on a free loopback port.
pub async fn start(scenario: Scenario) -> Simulator {
    Simulator::start(scenario, "127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("start the simulator")
}

/// The simulator serving the scenario `text`.
pub async fn start_yaml(text: &str) -> Simulator {
    start(Scenario::from_yaml(text).expect("a valid scenario")).await
}

/// The simulator serving `scenario`, and a folder holding its CA (`ca.pem`) and the demo app's
/// secret (`secret`), for a config written there.
pub async fn start_with_dir(scenario: Scenario, name: &str) -> (Simulator, TempDir) {
    let sim = start(scenario).await;
    let dir = TempDir::new(name);
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).expect("write ca.pem");
    std::fs::write(dir.0.join("secret"), format!("{DEMO_SECRET}\n")).expect("write secret");
    (sim, dir)
}

/// How many token requests the simulator answered.
pub fn token_requests(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .count()
}

/// The statuses the simulator answered for `path` (`/v1.0/...`), in order.
pub fn statuses(sim: &Simulator, path: &str) -> Vec<u16> {
    sim.requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect()
}

/// An HTTP client trusting the simulator's CA.
pub fn http(sim: &Simulator) -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .tls_certs_merge(
            reqwest::Certificate::from_pem_bundle(sim.ca_pem().as_bytes()).expect("the CA"),
        )
        .build()
        .expect("a client")
}

/// The simulator's base URL with a trailing slash: Graph's root and the sign-in authority.
pub fn root(sim: &Simulator) -> url::Url {
    url::Url::parse(&format!("{}/", sim.base_url())).expect("the base URL")
}

/// The simulator as the sign-in authority.
pub fn authority(sim: &Simulator) -> Authority {
    Authority {
        host: root(sim),
        scope: format!("{}/.default", sim.base_url()),
    }
}

/// Signs in to `tenant` as the demo app with `secret`.
pub fn secret_credential(sim: &Simulator, tenant: &str, secret: &str) -> EntraCredential {
    EntraCredential::client_secret(
        tenant,
        DEMO_CLIENT,
        secret.to_string(),
        &authority(sim),
        http(sim),
    )
    .expect("a credential")
}

/// A Graph client of `tenant` on the simulator, signing in with `token`, counting into
/// `metrics`, trying a request up to `max_attempts` times 10 ms apart.
pub fn graph_client(
    sim: &Simulator,
    tenant: &str,
    token: Arc<dyn TokenSource>,
    metrics: &GraphMetrics,
    max_attempts: u32,
) -> GraphClient {
    GraphClient::new(
        http(sim),
        root(sim),
        tenant.to_string(),
        token,
        Arc::new(Limiter::documented()),
        metrics.clone(),
        RetryPolicy {
            max_attempts,
            base_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    )
}

/// A fresh self-signed RSA certificate named `name`, and its key.
pub fn rsa_certificate(name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key");
    let cert = rcgen::CertificateParams::new(vec![name.into()])
        .expect("certificate parameters")
        .self_signed(&key)
        .expect("a certificate");
    (cert, key)
}

/// A PEM certificate as the tenant-level `certificate:` lines of a scenario.
pub fn certificate_lines(pem: &str) -> String {
    let mut out = String::from("    certificate: |\n");
    for line in pem.lines() {
        out.push_str(&format!("      {line}\n"));
    }
    out
}
