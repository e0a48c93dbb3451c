//! Wiring: from a validated [`Config`] to a running exporter (registry, Graph clients, state,
//! supervisor and server).

use crate::clients::{ClientFactory, HttpClientError, Instruments};
use crate::config::{Config, TenantConfig};
use crate::fleet::Shard;
use crate::graph::{GraphClient, GraphError, GraphMetrics};
use crate::http::Endpoints;
use crate::metrics::catalog::{CREDENTIAL_EXPIRY, LIMITER_WAIT};
use crate::metrics::collector::BuildInfo;
use crate::metrics::RenderCache;
use crate::state::{Settings, State};
use crate::supervisor::{FleetMetrics, Supervisor};
use prometheus::{Counter, GaugeVec, Opts, Registry};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Why the exporter could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The HTTP client could not be built (bad trust roots, TLS set-up).
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
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
