//! Wiring: from a validated [`Config`] to a running exporter (HTTP client, credentials, Graph
//! clients, state, registry, poller and server), and the listen-address rules.

use crate::config::{Auth, Config, PollSettings, TenantConfig};
use crate::graph::auth::{Authority, EntraCredential};
use crate::graph::client::RetryPolicy;
use crate::graph::limiter::Limiter;
use crate::graph::{GraphClient, GraphError, GraphMetrics, TokenSource};
use crate::http::{self, Endpoints};
use crate::metrics::catalog::{CREDENTIAL_EXPIRY, LIMITER_WAIT};
use crate::metrics::collector::{BuildInfo, SnapshotCollector};
use crate::poller;
use crate::state::State;
use prometheus::{CounterVec, GaugeVec, Opts, Registry};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Why the exporter could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The HTTP client could not be built (bad trust roots, TLS set-up).
    #[error("building the HTTP client: {0}")]
    HttpClient(String),
    /// A credential could not be built.
    #[error("tenant {tenant_id}: {source}")]
    Credential {
        /// The tenant.
        tenant_id: String,
        /// Why.
        source: GraphError,
    },
    /// A collector could not be registered.
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The listen address is not usable.
    #[error("listen address {address:?}: {message}")]
    Listen {
        /// As given.
        address: String,
        /// Why.
        message: String,
    },
}

/// An assembled exporter, ready to run.
#[derive(Debug)]
pub struct App {
    /// The snapshots the poller writes and the handlers read.
    pub state: Arc<State>,
    /// The HTTP handlers.
    pub endpoints: Arc<Endpoints>,
    clients: Vec<GraphClient>,
    poll: PollSettings,
}

impl App {
    /// Builds every part from `config`; no request is sent yet.
    pub fn build(config: &Config, telemetry_path: &str) -> Result<App, AppError> {
        let http = http_client(config)?;
        let registry = Registry::new();
        let metrics = GraphMetrics::new()?;
        metrics.register(&registry)?;
        let expiry = GaugeVec::new(
            Opts::new(CREDENTIAL_EXPIRY.name, CREDENTIAL_EXPIRY.help),
            CREDENTIAL_EXPIRY.labels,
        )?;
        registry.register(Box::new(expiry.clone()))?;
        let waited = CounterVec::new(
            Opts::new(LIMITER_WAIT.name, LIMITER_WAIT.help),
            LIMITER_WAIT.labels,
        )?;
        registry.register(Box::new(waited.clone()))?;

        let authority = Authority {
            host: config.graph.authority_host.clone(),
            scope: config.graph.scope(),
        };
        let mut clients = Vec::with_capacity(config.tenants.len());
        for tenant in &config.tenants {
            let token = credential(tenant, &authority, config, &http).map_err(|source| {
                AppError::Credential {
                    tenant_id: tenant.tenant_id.clone(),
                    source,
                }
            })?;
            if let Auth::Certificate { certificate, .. } = &tenant.auth {
                expiry
                    .with_label_values(&[tenant.tenant_id.as_str()])
                    .set(certificate.not_after().timestamp() as f64);
            }
            // Start the tenant's throttle counter at 0, so the first throttle is an increase
            // that rate() and increase() can see.
            metrics
                .throttled
                .with_label_values(&[tenant.tenant_id.as_str()]);
            tracing::debug!(tenant_id = %tenant.tenant_id, credential = tenant.auth.kind(), "credential ready");
            clients.push(GraphClient::new(
                http.clone(),
                config.graph.graph_root.clone(),
                tenant.tenant_id.clone(),
                token,
                Arc::new(
                    Limiter::documented()
                        .counting_waits(waited.with_label_values(&[tenant.tenant_id.as_str()])),
                ),
                metrics.clone(),
                RetryPolicy::default(),
            ));
        }

        let tenant_ids: Vec<String> = config.tenants.iter().map(|t| t.tenant_id.clone()).collect();
        let state = Arc::new(
            State::new(
                &tenant_ids,
                &config.sources,
                config.health,
                config.options.clone(),
            )
            .with_cloud(config.graph.cloud),
        );
        registry.register(Box::new(SnapshotCollector::new(
            Arc::clone(&state),
            BuildInfo::current(),
        )?))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;

        let endpoints = Arc::new(Endpoints {
            registry,
            state: Arc::clone(&state),
            telemetry_path: telemetry_path.to_string(),
        });
        Ok(App {
            state,
            endpoints,
            clients,
            poll: config.poll,
        })
    }

    /// The Graph client of every tenant, in config order.
    pub fn clients(&self) -> &[GraphClient] {
        &self.clients
    }

    /// Polls and serves until `shutdown`.
    pub async fn run(self, listener: TcpListener, shutdown: CancellationToken) {
        let poller = tokio::spawn(poller::run(
            Arc::clone(&self.state),
            self.clients,
            self.poll,
            shutdown.clone(),
        ));
        http::serve(listener, self.endpoints, shutdown).await;
        if let Err(err) = poller.await {
            tracing::error!(error = %err, "the poller stopped abnormally");
        }
    }
}

fn credential(
    tenant: &TenantConfig,
    authority: &Authority,
    config: &Config,
    http: &reqwest::Client,
) -> Result<Arc<dyn TokenSource>, GraphError> {
    let tenant_id = tenant.tenant_id.as_str();
    let credential = match &tenant.auth {
        Auth::ClientSecret { client_id, secret } => EntraCredential::client_secret(
            tenant_id,
            client_id,
            secret.expose().to_string(),
            authority,
            http.clone(),
        )?,
        Auth::Certificate {
            client_id,
            certificate,
            assertion,
        } => EntraCredential::certificate(
            tenant_id,
            client_id,
            Arc::clone(certificate),
            *assertion,
            authority,
            http.clone(),
        )?,
        Auth::WorkloadIdentity {
            client_id,
            token_file,
        } => EntraCredential::workload_identity(
            tenant_id,
            client_id,
            token_file.clone(),
            authority,
            http.clone(),
        )?,
        Auth::ManagedIdentity { client_id } => {
            let local = managed_identity_client(config)
                .map_err(|e| GraphError::Token(format!("building the HTTP client: {e}")))?;
            EntraCredential::managed_identity(client_id.as_deref(), &authority.scope, local)?
        }
    };
    Ok(Arc::new(credential))
}

/// The managed identity endpoints (IMDS at 169.254.169.254, App Service's IDENTITY_ENDPOINT on
/// localhost) are plain HTTP on the host itself: no `https_only`, and never through a proxy,
/// which could neither reach them nor be trusted with their tokens.
fn managed_identity_client(config: &Config) -> Result<reqwest::Client, AppError> {
    build_client(client_builder(config).no_proxy(), config)
}

/// The client for Graph and the login authority. reqwest honours `HTTPS_PROXY` (and
/// `HTTP_PROXY`, `ALL_PROXY`) and `NO_PROXY` from the environment by default.
fn http_client(config: &Config) -> Result<reqwest::Client, AppError> {
    build_client(client_builder(config).https_only(true), config)
}

fn client_builder(config: &Config) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("intune-exporter/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(config.graph.request_timeout)
}

/// Adds `graph.ca_file`'s trust roots to the system's and builds the client.
fn build_client(
    mut builder: reqwest::ClientBuilder,
    config: &Config,
) -> Result<reqwest::Client, AppError> {
    if !config.graph.extra_roots_pem.is_empty() {
        let roots = reqwest::Certificate::from_pem_bundle(&config.graph.extra_roots_pem)
            .map_err(|e| AppError::HttpClient(crate::graph::error::chain(&e)))?;
        builder = builder.tls_certs_merge(roots);
    }
    builder
        .build()
        .map_err(|e| AppError::HttpClient(crate::graph::error::chain(&e)))
}

/// Binds a Prometheus-style listen address: `:10468` (every interface), `127.0.0.1:10468`,
/// `[::1]:10468` or `localhost:10468`.
pub async fn bind(address: &str) -> Result<TcpListener, AppError> {
    let err = |message: String| AppError::Listen {
        address: address.to_string(),
        message,
    };
    let target = if address.starts_with(':') {
        format!("0.0.0.0{address}")
    } else {
        address.to_string()
    };
    let addrs: Vec<_> = tokio::net::lookup_host(&target)
        .await
        .map_err(|e| err(format!("expected host:port ({e})")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(err(last.map_or_else(
        || "resolves to no address".to_string(),
        |e| e.to_string(),
    )))
}
