//! The exporter's own facts that are not per tenant: `intune_exporter_build_info`, registered
//! with the `prometheus` registry that holds the instruments. Per-tenant families are rendered
//! elsewhere (see [`super::render`]).

use super::catalog::BUILD_INFO;
use super::set::MetricSet;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::Registry;
use std::collections::HashMap;

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

    /// Registers `intune_exporter_build_info` (always 1) with `registry`.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        let desc = Desc::new(
            BUILD_INFO.name.to_string(),
            BUILD_INFO.help.to_string(),
            BUILD_INFO.labels.iter().map(|l| l.to_string()).collect(),
            HashMap::new(),
        )?;
        let mut set = MetricSet::new();
        set.gauge(
            &BUILD_INFO,
            &[self.version, self.revision, self.rustc_version],
            1.0,
        );
        registry.register(Box::new(Constant {
            desc,
            families: set.into_families(),
        }))
    }
}

/// Families that never change. Unlike the crate's own vectors, it keeps the labels in the
/// catalog's order rather than sorting them by name.
#[derive(Debug)]
struct Constant {
    desc: Desc,
    families: Vec<MetricFamily>,
}

impl Collector for Constant {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.families.clone()
    }
}
