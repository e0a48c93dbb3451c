//! `--demo`: the Graph simulator with the bundled Contoso scenario, and a configuration that
//! points the exporter at it exactly as an operator would point it at a private Graph
//! (`graph_url`, `authority_host`, `ca_file`). The exporter code path is the production one.
//!
//! The demo signs in the way production deployments should: with a certificate. It makes a
//! throw-away RSA certificate valid for [`CERTIFICATE_DAYS`] days, registers it with the
//! simulated app registration, and signs client assertions with it, so the credential-expiry
//! series and panels have data.

use crate::config::{
    defaults, Auth, Config, GraphSettings, PollSettings, SourceSettings, TenantConfig,
};
use crate::graph::certificate::{AssertionAlg, ClientCertificate};
use crate::graph::Cloud;
use crate::health::Thresholds;
use crate::sources::{Options, Source};
use intune_graph_simulator::{Scenario, ScenarioError, Simulator};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The bundled scenario, `deploy/demo/scenario.yaml`.
pub const SCENARIO: &str = include_str!("../deploy/demo/scenario.yaml");

/// How often the demo polls each source: often enough to see changes while exploring.
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);

/// How long the demo's certificate is valid.
pub const CERTIFICATE_DAYS: i64 = 90;

/// Why the demo could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The bundled scenario does not parse (a bug in the bundle).
    #[error("the bundled demo scenario: {0}")]
    Scenario(#[from] ScenarioError),
    /// Making the certificate failed.
    #[error("making the demo certificate: {0}")]
    Certificate(String),
}

/// The bundled scenario, parsed.
pub fn scenario() -> Result<Scenario, ScenarioError> {
    Scenario::from_yaml(SCENARIO)
}

/// The bundled scenario with a fresh certificate registered for every tenant's app, and the
/// certificate (with its key) the exporter signs in with.
pub fn prepare() -> Result<(Scenario, Arc<ClientCertificate>), DemoError> {
    let mut scenario = scenario()?;
    let err = |e: &dyn std::fmt::Display| DemoError::Certificate(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|e| err(&e))?;
    let mut params = rcgen::CertificateParams::new(vec!["intune-exporter-demo".to_string()])
        .map_err(|e| err(&e))?;
    let date = |d: chrono::DateTime<chrono::Utc>| {
        use chrono::Datelike;
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    let now = chrono::Utc::now();
    params.not_before = date(now - chrono::TimeDelta::days(1));
    params.not_after = date(now + chrono::TimeDelta::days(CERTIFICATE_DAYS));
    let cert = params.self_signed(&key).map_err(|e| err(&e))?;
    let ids: Vec<String> = scenario
        .tenants()
        .iter()
        .map(|t| t.tenant_id().to_string())
        .collect();
    for id in ids {
        scenario.register_certificate(&id, &cert.pem())?;
    }
    let certificate =
        ClientCertificate::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .map_err(|e| err(&e))?;
    Ok((scenario, Arc::new(certificate)))
}

/// A configuration that reads every tenant of `scenario` from `simulator`, signing in with
/// `certificate` (see [`prepare`]).
pub fn config(
    simulator: &Simulator,
    scenario: &Scenario,
    certificate: &Arc<ClientCertificate>,
) -> Result<Config, url::ParseError> {
    let root = Url::parse(&format!("{}/", simulator.base_url()))?;
    Ok(Config {
        graph: GraphSettings {
            cloud: Cloud::Public,
            graph_root: root.clone(),
            authority_host: root,
            extra_roots_pem: simulator.ca_pem().as_bytes().to_vec(),
            request_timeout: Duration::from_secs(10),
            max_response_bytes: crate::graph::body::DEFAULT_MAX_RESPONSE_BYTES,
            max_pages: crate::config::defaults::MAX_PAGES,
            max_concurrent_requests: defaults::MAX_CONCURRENT_REQUESTS,
            max_concurrent_sign_ins: defaults::MAX_CONCURRENT_SIGN_INS,
        },
        poll: PollSettings {
            interval: POLL_INTERVAL,
            timeout: Duration::from_secs(30),
            startup_spread: Duration::ZERO,
            retry_backoff: Duration::from_secs(30),
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
                labels: Default::default(),
                auth: Arc::new(Auth::Certificate {
                    client_id: t.client_id().to_string(),
                    certificate: Arc::clone(certificate),
                    assertion: AssertionAlg::default(),
                }),
            })
            .collect(),
        defaults_auth: None,
        tenant_files: Vec::new(),
        discovery: None,
        app_credentials: None,
    })
}
