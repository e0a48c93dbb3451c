//! Families that are not per tenant, registered with the `prometheus` registry that holds the
//! instruments: `intune_exporter_build_info`, and the [`Listed`] families that one listing
//! replaces as a whole (GDAP relationships). Per-tenant families are rendered elsewhere (see
//! [`super::render`]).

use super::catalog::{FamilyDef, BUILD_INFO};
use super::set::MetricSet;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::Registry;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
        let desc = desc_of(&BUILD_INFO)?;
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

fn desc_of(def: &FamilyDef) -> prometheus::Result<Desc> {
    Desc::new(
        def.name.to_string(),
        def.help.to_string(),
        def.labels.iter().map(|l| l.to_string()).collect(),
        HashMap::new(),
    )
}

/// Families whose series are all replaced at once, by each successful listing of what they
/// describe, and kept as they are when a listing fails. Clones share the series.
#[derive(Debug, Clone)]
pub struct Listed {
    descs: Arc<Vec<Desc>>,
    families: Arc<RwLock<Vec<MetricFamily>>>,
}

impl Listed {
    /// Registers `defs` with `registry`, with no series yet.
    pub fn register(defs: &[&'static FamilyDef], registry: &Registry) -> prometheus::Result<Self> {
        let listed = Self {
            descs: Arc::new(defs.iter().map(|d| desc_of(d)).collect::<Result<_, _>>()?),
            families: Arc::default(),
        };
        registry.register(Box::new(listed.clone()))?;
        Ok(listed)
    }

    /// Replaces every series with those of `set`.
    pub fn replace(&self, set: MetricSet) {
        let families = set.into_families();
        // A panic elsewhere while holding the lock leaves whole families behind: still usable.
        *self.families.write().unwrap_or_else(|e| e.into_inner()) = families;
    }
}

impl Collector for Listed {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.families
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
