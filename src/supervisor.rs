//! The supervisor: keeps one [`poller::run_tenant`] task per tenant this replica reads, as the
//! set of tenants changes (tenant files, GDAP discovery, reload), without disturbing the others.
//!
//! It owns the run-time tenant set: it merges the origins ([`fleet::desired`]), starts pollers
//! for new tenants (their first polls spread over a window), stops the pollers of removed
//! tenants and forgets their state (their series disappear), and restarts a tenant's poller
//! only when its credential changed. A reload hands it a new [`Config`]: settings that every
//! tenant shares (sources, intervals, thresholds) reach the running pollers through a watch
//! channel, so their schedules and last data are kept.

use crate::app_credentials;
use crate::clients::ClientFactory;
use crate::config::{Config, DiscoveryConfig, TenantConfig};
use crate::fleet::files::TenantFiles;
use crate::fleet::{self, discovery, relationships, Origin, Shard};
use crate::metrics::collector::Listed;
use crate::metrics::MetricSet;
use crate::poller::{self, Plan};
use crate::state::{Settings, State};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The exporter's own gauges about its tenants, their discovery, the partner's GDAP
/// relationships and its own app registration.
#[derive(Debug, Clone)]
pub struct FleetMetrics {
    /// `intune_exporter_tenants{origin}`.
    pub tenants: prometheus::IntGaugeVec,
    /// `intune_exporter_discovery_up{discovery}`.
    pub discovery_up: prometheus::IntGaugeVec,
    /// `intune_exporter_discovery_last_success_timestamp_seconds{discovery}`.
    pub discovery_last_success: prometheus::GaugeVec,
    /// The partner's GDAP relationships, `intune_gdap_relationship_*`.
    pub relationships: Listed,
    /// The exporter's own app registration, `intune_exporter_app_credential*`.
    pub app_credentials: app_credentials::Metrics,
}

impl FleetMetrics {
    /// New instruments, registered with `registry`.
    pub fn register(registry: &prometheus::Registry) -> prometheus::Result<Self> {
        use crate::metrics::catalog::{
            DISCOVERY_LAST_SUCCESS, DISCOVERY_UP, GDAP_RELATIONSHIP_AUTO_EXTEND,
            GDAP_RELATIONSHIP_END, GDAP_RELATIONSHIP_INFO, TENANTS,
        };
        use prometheus::Opts;
        let m = Self {
            tenants: prometheus::IntGaugeVec::new(
                Opts::new(TENANTS.name, TENANTS.help),
                TENANTS.labels,
            )?,
            discovery_up: prometheus::IntGaugeVec::new(
                Opts::new(DISCOVERY_UP.name, DISCOVERY_UP.help),
                DISCOVERY_UP.labels,
            )?,
            discovery_last_success: prometheus::GaugeVec::new(
                Opts::new(DISCOVERY_LAST_SUCCESS.name, DISCOVERY_LAST_SUCCESS.help),
                DISCOVERY_LAST_SUCCESS.labels,
            )?,
            relationships: Listed::register(
                &[
                    &GDAP_RELATIONSHIP_INFO,
                    &GDAP_RELATIONSHIP_END,
                    &GDAP_RELATIONSHIP_AUTO_EXTEND,
                ],
                registry,
            )?,
            app_credentials: app_credentials::Metrics::register(registry)?,
        };
        registry.register(Box::new(m.tenants.clone()))?;
        registry.register(Box::new(m.discovery_up.clone()))?;
        registry.register(Box::new(m.discovery_last_success.clone()))?;
        for origin in Origin::ALL {
            m.tenants.with_label_values(&[origin.as_str()]).set(0);
        }
        Ok(m)
    }

    fn discovery(&self, name: &str, ok: bool) {
        self.discovery_up
            .with_label_values(&[name])
            .set(i64::from(ok));
        if ok {
            self.discovery_last_success
                .with_label_values(&[name])
                .set(chrono::Utc::now().timestamp() as f64);
        }
    }
}

/// The `discovery` label of the tenant files' health.
pub const TENANT_FILES: &str = "tenant_files";

struct Running {
    origin: Origin,
    config: TenantConfig,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// Everything the supervisor needs to start pollers.
pub struct Supervisor {
    state: Arc<State>,
    factory: Arc<ClientFactory>,
    metrics: FleetMetrics,
    shard: Shard,
    config: Arc<Config>,
    plan: watch::Sender<Arc<Plan>>,
    running: BTreeMap<String, Running>,
}

/// What [`Supervisor::run`] listens to besides its config.
enum Event {
    Discovered(Result<Vec<TenantConfig>, String>),
}

impl Supervisor {
    /// A supervisor for `config`, publishing into `state`.
    pub fn new(
        state: Arc<State>,
        factory: Arc<ClientFactory>,
        metrics: FleetMetrics,
        shard: Shard,
        config: Arc<Config>,
    ) -> Self {
        let (plan, _) = watch::channel(Arc::new(plan_of(&config)));
        Self {
            state,
            factory,
            metrics,
            shard,
            config,
            plan,
            running: BTreeMap::new(),
        }
    }

    /// The factory that builds the tenants' Graph clients.
    pub fn factory(&self) -> &ClientFactory {
        &self.factory
    }

    /// Runs until `shutdown`, applying every config sent on `configs` (reload).
    pub async fn run(
        mut self,
        mut configs: watch::Receiver<Arc<Config>>,
        shutdown: CancellationToken,
    ) {
        let (events_tx, mut events) = mpsc::channel::<Event>(4);
        let mut files = TenantFiles::new(
            self.config.tenant_files.clone(),
            self.config.defaults_auth.clone(),
        );
        let mut file_tenants = Vec::new();
        let mut discovered: Vec<TenantConfig> = Vec::new();
        let mut discovery = self.start_discovery(&events_tx, &shutdown);
        let mut discovery_pending = discovery.is_some();
        let mut app_reader = self.start_app_credentials(&shutdown);
        let mut refresh = tokio::time::interval(fleet::files::REFRESH);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut dirty = true;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = refresh.tick() => {
                    if let Some(t) = files.refresh() {
                        file_tenants = t;
                        dirty = true;
                    }
                    if files.is_configured() {
                        self.metrics.discovery(TENANT_FILES, files.healthy());
                    }
                }
                event = events.recv() => {
                    discovery_pending = false;
                    match event {
                        Some(Event::Discovered(Ok(list))) => {
                            self.metrics.discovery(discovery::NAME, true);
                            tracing::info!(customers = list.len(), "GDAP discovery listed the partner's customers");
                            discovered = list;
                            dirty = true;
                        }
                        Some(Event::Discovered(Err(err))) => {
                            self.metrics.discovery(discovery::NAME, false);
                            tracing::warn!(error = %err, "GDAP discovery failed; keeping the last list of customers");
                        }
                        None => {}
                    }
                }
                changed = configs.changed() => {
                    if changed.is_err() { break; }
                    let new = Arc::clone(&configs.borrow_and_update());
                    let old = std::mem::replace(&mut self.config, Arc::clone(&new));
                    let defaults_changed =
                        !same_auth(old.defaults_auth.as_deref(), new.defaults_auth.as_deref());
                    if old.tenant_files != new.tenant_files || defaults_changed {
                        files = TenantFiles::new(new.tenant_files.clone(), new.defaults_auth.clone());
                        file_tenants = files.refresh().unwrap_or_default();
                    }
                    let graph_changed = self.apply_shared_settings(&old);
                    if graph_changed
                        || defaults_changed
                        || !same_discovery(old.discovery.as_ref(), new.discovery.as_ref())
                    {
                        if let Some((cancel, _)) = discovery.take() { cancel.cancel(); }
                        discovered.clear();
                        discovery = self.start_discovery(&events_tx, &shutdown);
                        discovery_pending = discovery.is_some();
                    }
                    let same_app = match (&old.app_credentials, &new.app_credentials) {
                        (None, None) => true,
                        (Some(a), Some(b)) => a.same_as(b),
                        _ => false,
                    };
                    if graph_changed || !same_app {
                        if let Some((cancel, _)) = app_reader.take() { cancel.cancel(); }
                        app_reader = self.start_app_credentials(&shutdown);
                    }
                    dirty = true;
                }
            }
            if dirty {
                let desired = fleet::desired(
                    [
                        (Origin::Config, &self.config.tenants[..]),
                        (Origin::File, &file_tenants[..]),
                        (Origin::Discovery, &discovered[..]),
                    ],
                    &excluded(&self.config),
                    self.shard,
                );
                self.reconcile(desired, &shutdown);
                dirty = false;
            }
            if !discovery_pending {
                self.state.set_initialised();
            }
        }
        for (cancel, task) in [discovery, app_reader].into_iter().flatten() {
            cancel.cancel();
            let _ = task.await;
        }
        for (_, r) in std::mem::take(&mut self.running) {
            r.cancel.cancel();
            let _ = r.task.await;
        }
    }

    /// Settings every tenant shares: the factory (Graph URLs, trust roots, timeouts), the
    /// plan (sources and intervals) and scrape-time settings (thresholds, options). Says
    /// whether the Graph settings changed (every poller was then stopped, to restart).
    fn apply_shared_settings(&mut self, old: &Config) -> bool {
        let new = Arc::clone(&self.config);
        self.state.set_settings(Settings {
            thresholds: new.health,
            options: Arc::new(new.options.clone()),
            cloud: new.graph.cloud,
            sources: new.sources.clone(),
        });
        let plan = plan_of(&new);
        if **self.plan.borrow() != plan {
            tracing::info!("reload: new sources, intervals or poll settings");
            self.plan.send_replace(Arc::new(plan));
        }
        if old.graph == new.graph {
            return false;
        }
        match ClientFactory::new(&new, self.factory.instruments()) {
            Ok(f) => {
                tracing::info!("reload: new Graph settings; restarting every tenant's poller");
                self.factory = Arc::new(f);
                // Reconcile starts them again; their state and schedules are kept.
                for (_, r) in std::mem::take(&mut self.running) {
                    r.cancel.cancel();
                }
                true
            }
            Err(err) => {
                tracing::error!(error = %err, "reload: cannot apply the new Graph settings; keeping the old ones");
                false
            }
        }
    }

    fn start_discovery(
        &self,
        events: &mpsc::Sender<Event>,
        shutdown: &CancellationToken,
    ) -> Option<(CancellationToken, JoinHandle<()>)> {
        // The relationships of a partner no longer configured are not its to report.
        self.metrics.relationships.replace(MetricSet::new());
        let config = self.config.discovery.clone()?;
        let customer_auth = self.config.defaults_auth.clone()?;
        let client = match self.factory.client(&config.partner_tenant_id, &config.auth) {
            Ok(c) => c,
            Err(err) => {
                tracing::error!(error = %err, "GDAP discovery: cannot build the partner tenant's client");
                self.metrics.discovery(discovery::NAME, false);
                self.metrics.discovery(relationships::NAME, false);
                return None;
            }
        };
        let cancel = shutdown.child_token();
        let events = events.clone();
        let stop = cancel.clone();
        let metrics = self.metrics.clone();
        let shard = self.shard;
        let task = tokio::spawn(async move {
            loop {
                let listed = tokio::select! {
                    _ = stop.cancelled() => return,
                    r = discovery::list(&client, &config, &customer_auth) => r,
                };
                // Before the customers are handed over, so that the relationships are there
                // when the exporter first reports ready.
                let relations = tokio::select! {
                    _ = stop.cancelled() => return,
                    r = relationships::list(&client, shard, chrono::Utc::now()) => r,
                };
                match relations {
                    Ok(set) => {
                        metrics.relationships.replace(set);
                        metrics.discovery(relationships::NAME, true);
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "listing the partner's GDAP relationships (DelegatedAdminRelationship.Read.All, as for the customers) failed; keeping the last ones");
                        metrics.discovery(relationships::NAME, false);
                    }
                }
                if events
                    .send(Event::Discovered(listed.map_err(|e| e.to_string())))
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(config.interval) => {}
                }
            }
        });
        Some((cancel, task))
    }

    /// Starts reading the app registration's credentials, when `app_credentials` is set.
    fn start_app_credentials(
        &self,
        shutdown: &CancellationToken,
    ) -> Option<(CancellationToken, JoinHandle<()>)> {
        let metrics = self.metrics.app_credentials.clone();
        metrics.clear();
        let config = self.config.app_credentials.clone()?;
        let client = match self.factory.client(&config.home_tenant_id, &config.auth) {
            Ok(c) => c,
            Err(err) => {
                tracing::error!(error = %err, "app_credentials: cannot build the home tenant's client");
                return None;
            }
        };
        let cancel = shutdown.child_token();
        let own = app_credentials::Own::of(&config.auth);
        let task = tokio::spawn(metrics.run(
            client,
            config.client_id,
            own,
            config.interval,
            cancel.clone(),
        ));
        Some((cancel, task))
    }

    /// Makes the running pollers match `desired`.
    fn reconcile(
        &mut self,
        desired: BTreeMap<String, (Origin, TenantConfig)>,
        shutdown: &CancellationToken,
    ) {
        let removed: Vec<String> = self
            .running
            .keys()
            .filter(|id| !desired.contains_key(*id))
            .cloned()
            .collect();
        for id in removed {
            if let Some(r) = self.running.remove(&id) {
                r.cancel.cancel();
                self.state.remove_tenant(&id);
                tracing::info!(tenant_id = %id, origin = r.origin.as_str(), "tenant removed; stopped polling it");
            }
        }
        let plan = Arc::clone(&self.plan.borrow());
        let window = spread_window(self.config.poll.startup_spread, &plan, desired.len());
        let mut counts: BTreeMap<Origin, i64> = Origin::ALL.iter().map(|o| (*o, 0)).collect();
        for (id, (origin, tenant)) in desired {
            *counts.entry(origin).or_default() += 1;
            let sources = plan.sources.iter().map(|s| s.source);
            if let Some(r) = self.running.get_mut(&id) {
                if r.config.tenant_id == id && r.config.auth.same_credential(&tenant.auth) {
                    if r.origin != origin || r.config.labels != tenant.labels {
                        self.state
                            .upsert_tenant(&id, origin, tenant.labels.clone(), sources);
                        r.origin = origin;
                        r.config.labels = tenant.labels;
                    }
                    continue;
                }
                r.cancel.cancel();
                tracing::info!(tenant_id = %id, "tenant's credential changed; restarting its poller");
            }
            let state_tenant =
                self.state
                    .upsert_tenant(&id, origin, tenant.labels.clone(), sources);
            let client = match self.factory.client(&id, &tenant.auth) {
                Ok(c) => c,
                Err(err) => {
                    tracing::error!(tenant_id = %id, error = %err, "cannot build the tenant's credential; not polling it");
                    self.running.remove(&id);
                    continue;
                }
            };
            let cancel = shutdown.child_token();
            let first_delay = offset(&id, window);
            let task = tokio::spawn(poller::run_tenant(
                Arc::clone(&self.state),
                state_tenant,
                client,
                self.plan.subscribe(),
                first_delay,
                cancel.clone(),
            ));
            tracing::debug!(tenant_id = %id, origin = origin.as_str(), first_poll_in_seconds = first_delay.as_secs_f64(), "tenant added");
            self.running.insert(
                id,
                Running {
                    origin,
                    config: tenant,
                    cancel,
                    task,
                },
            );
        }
        for (origin, n) in counts {
            self.metrics
                .tenants
                .with_label_values(&[origin.as_str()])
                .set(n);
        }
    }
}

fn plan_of(config: &Config) -> Plan {
    Plan {
        sources: config.sources.clone(),
        timeout: config.poll.timeout,
        retry_backoff: config.poll.retry_backoff,
    }
}

fn same_auth(a: Option<&crate::config::Auth>, b: Option<&crate::config::Auth>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_credential(b),
        _ => false,
    }
}

fn same_discovery(a: Option<&DiscoveryConfig>, b: Option<&DiscoveryConfig>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.partner_tenant_id == b.partner_tenant_id
                && a.interval == b.interval
                && a.exclude == b.exclude
                && a.auth.same_credential(&b.auth)
        }
        _ => false,
    }
}

/// The window first polls are spread over: 100 ms per tenant, at most `max` and at most the
/// shortest interval. One tenant starts at once; 1,000 tenants over a minute.
pub fn spread_window(max: Duration, plan: &Plan, tenants: usize) -> Duration {
    let shortest = plan.sources.iter().map(|s| s.interval).min().unwrap_or(max);
    let per_tenant = Duration::from_millis(100).saturating_mul(tenants.saturating_sub(1) as u32);
    per_tenant.min(max).min(shortest)
}

/// A tenant's stable place in the window, so restarts and replicas agree.
fn offset(tenant_id: &str, window: Duration) -> Duration {
    let millis = window.as_millis() as u64;
    if millis == 0 {
        return Duration::ZERO;
    }
    let mut h = DefaultHasher::new();
    tenant_id.hash(&mut h);
    Duration::from_millis(h.finish() % millis)
}

/// Excluded tenant ids in force.
pub fn excluded(config: &Config) -> BTreeSet<String> {
    config
        .discovery
        .as_ref()
        .map(|d| d.exclude.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceSettings;
    use crate::sources::Source;

    #[test]
    fn the_spread_grows_with_the_fleet_up_to_its_bounds() {
        let plan = Plan {
            sources: vec![SourceSettings {
                source: Source::Apns,
                interval: Duration::from_secs(300),
            }],
            timeout: Duration::from_secs(120),
            retry_backoff: Duration::from_secs(30),
        };
        let max = Duration::from_secs(60);
        assert_eq!(spread_window(max, &plan, 1), Duration::ZERO);
        assert_eq!(spread_window(max, &plan, 11), Duration::from_secs(1));
        assert_eq!(spread_window(max, &plan, 1000), max);
        assert_eq!(
            spread_window(Duration::from_secs(3600), &plan, 100_000),
            Duration::from_secs(300)
        );
        let o = offset("00000000-0000-0000-0000-000000000001", max);
        assert!(o < max);
        assert_eq!(o, offset("00000000-0000-0000-0000-000000000001", max));
    }
}
