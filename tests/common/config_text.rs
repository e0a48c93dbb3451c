//! Pieces of exporter config files for tests against the simulator. The config lives in a
//! folder next to the simulator's CA (`ca.pem`) and the demo app's secret (`secret`), as
//! [`super::sim::start_with_dir`] leaves them.

use intune_exporter::sources::Source;

use super::sim::DEMO_CLIENT;

/// The `graph:` section for a simulator at `url`, trusting `ca.pem`. More `graph` keys may
/// follow, indented two spaces.
pub fn graph(url: impl std::fmt::Display) -> String {
    format!("graph:\n  graph_url: {url}\n  authority_host: {url}\n  ca_file: ca.pem\n")
}

/// `defaults:` signing every tenant in as the demo app with the secret in `secret`.
pub fn demo_app_defaults() -> String {
    format!("defaults:\n  auth:\n    client_id: {DEMO_CLIENT}\n    client_secret_file: secret\n")
}

/// `discovery:` reading the GDAP customers of `partner`.
pub fn gdap(partner: &str) -> String {
    format!("discovery:\n  delegated_admin_customers:\n    partner_tenant_id: {partner}\n")
}

/// A `tenants:` item signing in to `id` as `client` with the secret in `secret_file`.
pub fn secret_tenant(id: &str, client: &str, secret_file: &str) -> String {
    format!(
        "  - tenant_id: {id}\n    auth:\n      client_id: {client}\n      client_secret_file: {secret_file}\n"
    )
}

/// `sources:` turning off every source but `keep`.
pub fn only_sources(keep: &[Source]) -> String {
    let mut out = String::from("sources:\n");
    for s in Source::ALL {
        if !keep.contains(&s) {
            out.push_str(&format!("  {}: {{enabled: false}}\n", s.name()));
        } else if !s.enabled_by_default() {
            out.push_str(&format!("  {}: {{enabled: true}}\n", s.name()));
        }
    }
    out
}
