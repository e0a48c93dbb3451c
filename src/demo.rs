//! `--demo`: the Graph simulator with the bundled Contoso scenario, and a configuration that
//! points the exporter at it exactly as an operator would point it at a private Graph
//! (`graph_url`, `authority_host`, `ca_file`). The exporter code path is the production one.

use crate::config::{
    Auth, Config, GraphSettings, PollSettings, SecretString, SourceSettings, TenantConfig,
};
use crate::graph::Cloud;
use crate::health::Thresholds;
use crate::simulator::{Scenario, ScenarioError, Simulator};
use crate::sources::{Options, Source};
use std::time::Duration;
use url::Url;

/// The bundled scenario, `deploy/demo/scenario.yaml`.
pub const SCENARIO: &str = include_str!("../deploy/demo/scenario.yaml");

/// How often the demo polls each source: often enough to see changes while exploring.
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);

/// The bundled scenario, parsed.
pub fn scenario() -> Result<Scenario, ScenarioError> {
    Scenario::from_yaml(SCENARIO)
}

/// A configuration that reads every tenant of `scenario` from `simulator`.
pub fn config(simulator: &Simulator, scenario: &Scenario) -> Result<Config, url::ParseError> {
    let root = Url::parse(&format!("{}/", simulator.base_url()))?;
    Ok(Config {
        graph: GraphSettings {
            cloud: Cloud::Public,
            graph_root: root.clone(),
            authority_host: root,
            extra_roots_pem: simulator.ca_pem().as_bytes().to_vec(),
            request_timeout: Duration::from_secs(10),
        },
        poll: PollSettings {
            interval: POLL_INTERVAL,
            timeout: Duration::from_secs(30),
        },
        health: Thresholds::default(),
        sources: Source::ALL
            .iter()
            .map(|&source| SourceSettings {
                source,
                interval: POLL_INTERVAL,
            })
            .collect(),
        options: Options::default(),
        tenants: scenario
            .tenants()
            .iter()
            .map(|t| TenantConfig {
                tenant_id: t.tenant_id().to_string(),
                auth: Auth::ClientSecret {
                    client_id: t.client_id().to_string(),
                    secret: SecretString::new(t.client_secret().to_string()),
                },
            })
            .collect(),
    })
}
