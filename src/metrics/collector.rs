//! The scrape-time collector: turns the latest snapshots into families at the moment of the
//! scrape, so health computed from timestamps is always current. It reads; it never polls.

use super::catalog::{self, Origin, BUILD_INFO, SOURCE_DURATION, SOURCE_LAST_SUCCESS, SOURCE_UP};
use super::MetricSet;
use crate::sources::Context;
use crate::state::State;
use chrono::{DateTime, Utc};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use std::collections::HashMap;
use std::sync::Arc;

/// Version facts for `intune_exporter_build_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The crate version.
    pub version: &'static str,
    /// The git revision it was built from, or `unknown`.
    pub revision: &'static str,
    /// The compiler that built it.
    pub rustc_version: &'static str,
}

impl BuildInfo {
    /// The facts of this binary, recorded by `build.rs`.
    pub fn current() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION"),
            revision: env!("INTUNE_EXPORTER_REVISION"),
            rustc_version: env!("INTUNE_EXPORTER_RUSTC_VERSION"),
        }
    }
}

/// A `prometheus` collector over the shared [`State`].
#[derive(Debug)]
pub struct SnapshotCollector {
    state: Arc<State>,
    build: BuildInfo,
    descs: Vec<Desc>,
}

impl SnapshotCollector {
    /// A collector for `state`.
    pub fn new(state: Arc<State>, build: BuildInfo) -> prometheus::Result<Self> {
        let descs = catalog::ALL
            .iter()
            .filter(|f| f.origin == Origin::Snapshot)
            .map(|f| {
                Desc::new(
                    f.name.to_string(),
                    f.help.to_string(),
                    f.labels.iter().map(|l| l.to_string()).collect(),
                    HashMap::new(),
                )
            })
            .collect::<prometheus::Result<Vec<_>>>()?;
        Ok(Self {
            state,
            build,
            descs,
        })
    }
}

impl Collector for SnapshotCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        snapshot_families(&self.state, &self.build, Utc::now()).into_families()
    }
}

/// Every snapshot family at `now`: build info, each source's `up` / last success / duration,
/// and the families of each source's last good data.
pub fn snapshot_families(state: &State, build: &BuildInfo, now: DateTime<Utc>) -> MetricSet {
    let mut set = MetricSet::new();
    set.gauge(
        &BUILD_INFO,
        &[build.version, build.revision, build.rustc_version],
        1.0,
    );
    let settings = state.settings();
    for tenant in state.tenants() {
        for slot in tenant.slots() {
            let s = slot.load();
            if s.completed_polls == 0 {
                // Nothing is known yet; `up` 0 would claim a failure that has not happened.
                continue;
            }
            let labels = [tenant.tenant_id.as_str(), slot.source.name()];
            set.gauge(&SOURCE_UP, &labels, if s.up { 1.0 } else { 0.0 });
            if let Some(t) = s.last_success {
                set.gauge(&SOURCE_LAST_SUCCESS, &labels, t.timestamp() as f64);
            }
            if let Some(d) = s.duration {
                set.gauge(&SOURCE_DURATION, &labels, d.as_secs_f64());
            }
            if let Some(data) = &s.data {
                let ctx = Context {
                    tenant_id: &tenant.tenant_id,
                    now,
                    thresholds: &settings.thresholds,
                    options: &settings.options,
                };
                set.extend(data.families(&ctx));
            }
        }
    }
    set
}
