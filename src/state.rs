//! The latest result of every (tenant, source), and how each tenant's last sign-in went,
//! written by the tenant pollers and read by the HTTP handlers (a (tenant, source)'s own
//! snapshot is [`SourceState`], in [`crate::snapshot`]). Readers never wait for a poll: they clone an `Arc` and go.
//!
//! Tenants come and go at run time (tenant files, discovery, reload), so the state is a map of
//! tenants, each with a map of sources. Nothing here schedules or fetches.

use crate::config::SourceSettings;
use crate::fleet::Origin;
use crate::graph::Cloud;
use crate::health::Thresholds;
use crate::metrics::{render_tenant, RenderCache, TenantInput};
pub use crate::snapshot::{PollError, SourceState};
use crate::sources::{Options, Source};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How the tenant's last sign-in went. Every poll signs in first (the token is cached between
/// polls, so this is a token request only when the cached one is due for renewal).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignIn {
    /// Whether the last sign-in succeeded.
    pub up: bool,
    /// When it was last tried.
    pub at: DateTime<Utc>,
    /// Why the last failed sign-in failed; kept after a later success, like a source's.
    pub last_error: Option<PollError>,
}

/// One source of one tenant and its latest state.
#[derive(Debug)]
pub struct Slot {
    /// The source.
    pub source: Source,
    current: RwLock<Arc<SourceState>>,
}

impl Slot {
    fn new(source: Source) -> Self {
        Self {
            source,
            current: RwLock::default(),
        }
    }

    /// The latest state.
    pub fn load(&self) -> Arc<SourceState> {
        Arc::clone(&read(&self.current))
    }

    /// Replaces the state.
    pub fn publish(&self, state: SourceState) {
        *write(&self.current) = Arc::new(state);
    }
}

/// One tenant: who it is and its sources.
#[derive(Debug)]
pub struct TenantState {
    /// The `tenant_id` label: a GUID or a domain name, as configured.
    pub tenant_id: String,
    origin: RwLock<Origin>,
    labels: RwLock<Arc<BTreeMap<String, String>>>,
    slots: RwLock<BTreeMap<Source, Arc<Slot>>>,
    sign_in: RwLock<Option<Arc<SignIn>>>,
}

impl TenantState {
    /// Where the tenant comes from.
    pub fn origin(&self) -> Origin {
        *read(&self.origin)
    }

    /// The operator's labels for `intune_tenant_info`.
    pub fn labels(&self) -> Arc<BTreeMap<String, String>> {
        Arc::clone(&read(&self.labels))
    }

    /// How the last sign-in went; `None` until a poll tried one.
    pub fn sign_in(&self) -> Option<Arc<SignIn>> {
        read(&self.sign_in).clone()
    }

    /// Records the outcome of a sign-in.
    pub fn set_sign_in(&self, sign_in: SignIn) {
        *write(&self.sign_in) = Some(Arc::new(sign_in));
    }

    /// The tenant's sources, in [`Source::ALL`] order.
    pub fn slots(&self) -> Vec<Arc<Slot>> {
        read(&self.slots).values().cloned().collect()
    }

    /// The slot of `source`, if it is polled.
    pub fn slot(&self, source: Source) -> Option<Arc<Slot>> {
        read(&self.slots).get(&source).cloned()
    }

    /// Keeps exactly the slots of `sources`: new ones start empty, others keep their state.
    pub fn set_sources(&self, sources: impl IntoIterator<Item = Source>) {
        let mut slots = write(&self.slots);
        let wanted: BTreeMap<Source, Arc<Slot>> = sources
            .into_iter()
            .map(|s| {
                let slot = slots
                    .get(&s)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Slot::new(s)));
                (s, slot)
            })
            .collect();
        *slots = wanted;
    }

    /// True once every source has finished a first poll, successful or not.
    pub fn is_ready(&self) -> bool {
        read(&self.slots)
            .values()
            .all(|s| s.load().completed_polls > 0)
    }
}

/// What scrape-time evaluation needs besides the data; replaced whole on reload.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Thresholds for scrape-time health.
    pub thresholds: Thresholds,
    /// Watched services and list lengths.
    pub options: Arc<Options>,
    /// The cloud the tenants live in, for links into its admin center.
    pub cloud: Cloud,
    /// Every enabled source and its interval (the same for every tenant).
    pub sources: Vec<SourceSettings>,
}

/// Every tenant, plus what encoding needs besides them.
#[derive(Debug, Default)]
pub struct State {
    tenants: RwLock<BTreeMap<String, Arc<TenantState>>>,
    settings: RwLock<Arc<Settings>>,
    /// Set once every origin of tenants (config, files, discovery) has reported once.
    initialised: AtomicBool,
    /// Latched: once ready, a tenant discovered later does not make the exporter unready.
    ready: AtomicBool,
    /// Each tenant's series, rendered when its sources are published (what `/metrics` serves).
    renders: Arc<RenderCache>,
}

impl State {
    /// An empty state with these settings.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings: RwLock::new(Arc::new(settings)),
            ..Self::default()
        }
    }

    /// Thresholds and options in force.
    pub fn settings(&self) -> Arc<Settings> {
        Arc::clone(&read(&self.settings))
    }

    /// Replaces thresholds and options (reload); every tenant is rendered again with them.
    pub fn set_settings(&self, settings: Settings) {
        *write(&self.settings) = Arc::new(settings);
        for tenant in self.tenants() {
            self.render(&tenant);
        }
    }

    /// The rendered series of every tenant.
    pub fn renders(&self) -> Arc<RenderCache> {
        Arc::clone(&self.renders)
    }

    /// Renders `tenant`'s series from the latest state of its sources and publishes them for
    /// the next scrape. Called after every poll, so a scrape only copies bytes.
    pub fn render(&self, tenant: &TenantState) {
        let settings = self.settings();
        let input = TenantInput {
            tenant_id: tenant.tenant_id.clone(),
            labels: tenant
                .labels()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            sources: tenant
                .slots()
                .iter()
                .map(|s| (s.source, s.load()))
                .collect(),
            sign_in: tenant.sign_in().map(|s| s.up),
            thresholds: settings.thresholds,
            options: Arc::clone(&settings.options),
        };
        self.renders
            .publish(render_tenant(Arc::new(input), chrono::Utc::now()));
    }

    /// Every tenant, sorted by tenant id.
    pub fn tenants(&self) -> Vec<Arc<TenantState>> {
        read(&self.tenants).values().cloned().collect()
    }

    /// One tenant.
    pub fn tenant(&self, tenant_id: &str) -> Option<Arc<TenantState>> {
        read(&self.tenants).get(tenant_id).cloned()
    }

    /// Adds a tenant, or updates its origin and labels; its sources' state is kept.
    pub fn upsert_tenant(
        &self,
        tenant_id: &str,
        origin: Origin,
        labels: BTreeMap<String, String>,
        sources: impl IntoIterator<Item = Source>,
    ) -> Arc<TenantState> {
        let tenant = {
            let mut tenants = write(&self.tenants);
            Arc::clone(tenants.entry(tenant_id.to_string()).or_insert_with(|| {
                Arc::new(TenantState {
                    tenant_id: tenant_id.to_string(),
                    origin: RwLock::new(origin),
                    labels: RwLock::default(),
                    slots: RwLock::default(),
                    sign_in: RwLock::default(),
                })
            }))
        };
        *write(&tenant.origin) = origin;
        if **read(&tenant.labels) != labels {
            *write(&tenant.labels) = Arc::new(labels);
        }
        tenant.set_sources(sources);
        self.render(&tenant);
        tenant
    }

    /// Forgets a tenant: its series disappear from the next scrape.
    pub fn remove_tenant(&self, tenant_id: &str) -> bool {
        let removed = write(&self.tenants).remove(tenant_id).is_some();
        if removed {
            self.renders.remove(tenant_id);
        }
        removed
    }

    /// Marks that every origin of tenants has reported once.
    pub fn set_initialised(&self) {
        self.initialised.store(true, Ordering::Release);
    }

    /// True once every origin has reported and every tenant known then has finished a first
    /// poll of every source (successful or not); stays true after that.
    pub fn is_ready(&self) -> bool {
        if self.ready.load(Ordering::Acquire) {
            return true;
        }
        let ready = self.initialised.load(Ordering::Acquire)
            && read(&self.tenants).values().all(|t| t.is_ready());
        if ready {
            self.ready.store(true, Ordering::Release);
        }
        ready
    }

    /// How many (tenant, source) pairs have not finished a first poll.
    pub fn waiting(&self) -> usize {
        read(&self.tenants)
            .values()
            .flat_map(|t| t.slots())
            .filter(|s| s.load().completed_polls == 0)
            .count()
    }
}

// The writers only swap values in and out; none can panic while holding a lock, but if one
// ever did, the value inside is still whole, so a poisoned lock is used as it is.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_keep_their_sources_state_across_updates() {
        let state = State::new(Settings::default());
        let t = state.upsert_tenant(
            "t1",
            Origin::Config,
            BTreeMap::new(),
            [Source::Apns, Source::VppTokens],
        );
        if let Some(s) = t.slot(Source::Apns) {
            s.publish(SourceState {
                completed_polls: 1,
                ..SourceState::default()
            });
        }
        let labels = BTreeMap::from([("customer".to_string(), "acme".to_string())]);
        let t = state.upsert_tenant("t1", Origin::File, labels.clone(), [Source::Apns]);
        assert_eq!(t.origin(), Origin::File);
        assert_eq!(*t.labels(), labels);
        assert_eq!(
            t.slots().iter().map(|s| s.source).collect::<Vec<_>>(),
            [Source::Apns]
        );
        assert_eq!(
            t.slot(Source::Apns).map(|s| s.load().completed_polls),
            Some(1)
        );
        assert!(!state.is_ready(), "not initialised yet");
        state.set_initialised();
        assert!(state.is_ready());
        state.upsert_tenant("t2", Origin::Discovery, BTreeMap::new(), [Source::Apns]);
        assert!(state.is_ready(), "readiness is latched");
        assert_eq!(state.waiting(), 1);
        assert!(state.remove_tenant("t2"));
        assert_eq!(state.tenants().len(), 1);
    }
}
