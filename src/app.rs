//! Wiring: from a validated [`Config`] to a running exporter (HTTP client, credentials, Graph
//! clients, state, registry, poller and server).

use crate::config::{Auth, Config, TenantConfig};
use crate::fleet::Shard;
use crate::graph::auth::{Authority, EntraCredential};
use crate::graph::client::RetryPolicy;
use crate::graph::limiter::Limiter;
use crate::graph::{Caps, GraphClient, GraphError, GraphMetrics, TokenSource};
use crate::http::Endpoints;
use crate::metrics::catalog::{CREDENTIAL_EXPIRY, LIMITER_WAIT};
use crate::metrics::collector::BuildInfo;
use crate::metrics::RenderCache;
use crate::state::{Settings, State};
use crate::supervisor::{FleetMetrics, Supervisor};
use prometheus::{Counter, GaugeVec, Opts, Registry};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
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
        /// Why (boxed: a `GraphError` is large for an error that travels in `Result`s).
        source: Box<GraphError>,
    },
    /// A collector could not be registered.
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The instruments every tenant's Graph client shares.
#[derive(Debug, Clone)]
pub struct Instruments {
    /// Requests, throttling and durations.
    pub graph: GraphMetrics,
    /// Seconds waited for the client-side limiter, all tenants together.
    pub limiter_wait: Counter,
    /// Expiry of the certificates the exporter signs in with.
    pub credential_expiry: GaugeVec,
}

/// Builds each tenant's Graph client from the shared HTTP client, URLs and instruments.
#[derive(Debug)]
pub struct ClientFactory {
    http: reqwest::Client,
    managed_identity_http: Result<reqwest::Client, String>,
    graph_root: url::Url,
    retry: RetryPolicy,
    caps: Caps,
    authority: Authority,
    instruments: Instruments,
}

impl ClientFactory {
    /// A factory for `config`'s Graph settings.
    pub fn new(config: &Config, instruments: Instruments) -> Result<Self, AppError> {
        Ok(Self {
            http: http_client(config)?,
            managed_identity_http: managed_identity_client(config).map_err(|e| e.to_string()),
            graph_root: config.graph.graph_root.clone(),
            // Shared by every tenant: hundreds of tenants must not open hundreds of
            // connections, or ask for hundreds of tokens, in the same second.
            caps: Caps::new(
                config.graph.max_concurrent_requests,
                config.graph.max_concurrent_sign_ins,
            ),
            retry: RetryPolicy {
                max_pages: config.graph.max_pages,
                max_response_bytes: config.graph.max_response_bytes,
                ..RetryPolicy::default()
            },
            authority: Authority {
                host: config.graph.authority_host.clone(),
                scope: config.graph.scope(),
            },
            instruments,
        })
    }

    /// The shared instruments, for a factory that replaces this one.
    pub fn instruments(&self) -> Instruments {
        self.instruments.clone()
    }

    /// A Graph client for `tenant_id` signing in with `auth`; no request is sent yet.
    pub fn client(&self, tenant_id: &str, auth: &Auth) -> Result<GraphClient, GraphError> {
        let token = self.caps.sign_ins(self.credential(tenant_id, auth)?);
        if let Auth::Certificate {
            client_id,
            certificate,
            ..
        } = auth
        {
            self.instruments
                .credential_expiry
                .with_label_values(&[client_id.as_str(), &certificate.thumbprint_hex()])
                .set(certificate.not_after().timestamp() as f64);
        }
        tracing::debug!(tenant_id, credential = auth.kind(), "credential ready");
        Ok(GraphClient::new(
            self.http.clone(),
            self.graph_root.clone(),
            tenant_id.to_string(),
            token,
            Arc::new(Limiter::documented().counting_waits(self.instruments.limiter_wait.clone())),
            self.instruments.graph.clone(),
            self.retry,
        )
        .capped(&self.caps))
    }

    fn credential(&self, tenant_id: &str, auth: &Auth) -> Result<Arc<dyn TokenSource>, GraphError> {
        let authority = &self.authority;
        let http = &self.http;
        let credential = match auth {
            // A secret read from a file is read again when the file changes, so a rotated
            // secret is used from the next sign-in on.
            Auth::ClientSecret {
                client_id,
                secret_file: Some(file),
                ..
            } => EntraCredential::client_secret_file(
                tenant_id,
                client_id,
                file.clone(),
                authority,
                http.clone(),
            )?,
            Auth::ClientSecret {
                client_id, secret, ..
            } => EntraCredential::client_secret(
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
                let local = self
                    .managed_identity_http
                    .clone()
                    .map_err(|e| GraphError::Token(format!("building the HTTP client: {e}")))?;
                EntraCredential::managed_identity(client_id.as_deref(), &authority.scope, local)?
            }
        };
        Ok(Arc::new(credential))
    }
}

/// An assembled exporter, ready to run.
pub struct App {
    /// The snapshots the pollers write and the handlers read.
    pub state: Arc<State>,
    /// Each tenant's rendered series, published by the poller and served by the handlers.
    pub renders: Arc<RenderCache>,
    /// The HTTP handlers.
    pub endpoints: Arc<Endpoints>,
    supervisor: Supervisor,
    configs: watch::Receiver<Arc<Config>>,
    config_tx: watch::Sender<Arc<Config>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// Builds every part from `config`; no request is sent yet. Reads the tenants of this
    /// replica's `shard`.
    pub fn build(config: &Config, telemetry_path: &str, shard: Shard) -> Result<App, AppError> {
        let registry = Registry::new();
        let graph = GraphMetrics::new()?;
        graph.register(&registry)?;
        let credential_expiry = GaugeVec::new(
            Opts::new(CREDENTIAL_EXPIRY.name, CREDENTIAL_EXPIRY.help),
            CREDENTIAL_EXPIRY.labels,
        )?;
        registry.register(Box::new(credential_expiry.clone()))?;
        let limiter_wait = Counter::with_opts(Opts::new(LIMITER_WAIT.name, LIMITER_WAIT.help))?;
        registry.register(Box::new(limiter_wait.clone()))?;
        // Start each source's throttle counter at 0, so the first throttle is an increase
        // that rate() and increase() can see.
        for settings in &config.sources {
            graph.throttled.with_label_values(&[settings.source.name()]);
        }
        let fleet_metrics = FleetMetrics::register(&registry)?;
        let factory = ClientFactory::new(
            config,
            Instruments {
                graph,
                limiter_wait,
                credential_expiry,
            },
        )?;

        let state = Arc::new(State::new(Settings {
            thresholds: config.health,
            options: Arc::new(config.options.clone()),
            cloud: config.graph.cloud,
            sources: config.sources.clone(),
        }));
        let renders = state.renders();
        BuildInfo::current().register(&registry)?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;

        let endpoints = Arc::new(Endpoints {
            registry,
            renders: Arc::clone(&renders),
            state: Arc::clone(&state),
            telemetry_path: telemetry_path.to_string(),
            lifecycle: std::sync::OnceLock::new(),
            status: Default::default(),
        });
        let config = Arc::new(config.clone());
        let (config_tx, configs) = watch::channel(Arc::clone(&config));
        let supervisor = Supervisor::new(
            Arc::clone(&state),
            Arc::new(factory),
            fleet_metrics,
            shard,
            config,
        );
        Ok(App {
            state,
            renders,
            endpoints,
            supervisor,
            configs,
            config_tx,
        })
    }

    /// A Graph client for one tenant, built as the pollers' are (for tools and benchmarks).
    pub fn client(&self, tenant: &TenantConfig) -> Result<GraphClient, GraphError> {
        self.supervisor
            .factory()
            .client(&tenant.tenant_id, &tenant.auth)
    }

    /// Where a reloaded config goes: the running exporter applies it (tenants and sources that
    /// did not change keep their state and schedule).
    pub fn reloader(&self) -> watch::Sender<Arc<Config>> {
        self.config_tx.clone()
    }

    /// Polls and serves on `listeners` until `shutdown`.
    pub async fn run(
        self,
        listeners: Vec<TcpListener>,
        web: Arc<crate::web::WebConfigFile>,
        limits: crate::web::Limits,
        shutdown: CancellationToken,
    ) {
        let supervisor = tokio::spawn(self.supervisor.run(self.configs, shutdown.clone()));
        crate::web::serve(listeners, web, self.endpoints, limits, shutdown).await;
        if let Err(err) = supervisor.await {
            tracing::error!(error = %err, "the poller stopped abnormally");
        }
    }
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

/// Every client follows no redirect: a sign-in redirected to another host would re-send the
/// client secret or assertion there, and a redirected Graph GET would read another host's body
/// as tenant data.
fn client_builder(config: &Config) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
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
