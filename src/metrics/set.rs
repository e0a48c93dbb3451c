//! [`MetricSet`]: the families one pure function produces, in the catalog's shape.
//!
//! Sources build a `MetricSet` from a decoded Graph response and `now`; a tenant's render
//! merges the sets of all its sources when they are published. The set sorts exactly like the `prometheus`
//! registry does (families by name, series by label values), so golden files are stable.

use super::catalog::{FamilyDef, Kind};
use prometheus::proto;
use std::collections::BTreeMap;

/// Series grouped by family, ready to encode.
#[derive(Debug, Default, Clone)]
pub struct MetricSet {
    families: BTreeMap<&'static str, (&'static FamilyDef, Vec<proto::Metric>)>,
}

impl MetricSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one gauge series. `labels` are the values of `def.labels`, in that order.
    pub fn gauge(&mut self, def: &'static FamilyDef, labels: &[&str], value: f64) {
        debug_assert_eq!(def.kind, Kind::Gauge, "{} is not a gauge", def.name);
        let mut gauge = proto::Gauge::default();
        gauge.set_value(value);
        let mut metric = proto::Metric::from_gauge(gauge);
        metric.set_label(label_pairs(def, labels));
        self.push(def, metric);
    }

    /// Adds a stateset: one series per state, 1 for `current` and 0 for the others.
    /// `labels` are the values of every label but the last, which holds the state.
    pub fn stateset(
        &mut self,
        def: &'static FamilyDef,
        labels: &[&str],
        states: &[&str],
        current: &str,
    ) {
        let mut all = labels.to_vec();
        all.push("");
        for state in states {
            if let Some(last) = all.last_mut() {
                *last = state;
            }
            self.gauge(def, &all, if *state == current { 1.0 } else { 0.0 });
        }
    }

    /// Moves every series of `other` into this set.
    pub fn extend(&mut self, other: MetricSet) {
        for (_, (def, metrics)) in other.families {
            for m in metrics {
                self.push(def, m);
            }
        }
    }

    /// Appends `extra` label pairs, in order, to every series of `def` (the labels an operator
    /// sets on a tenant, on its info series). Nothing is validated here.
    pub fn append_labels(&mut self, def: &FamilyDef, extra: &[(String, String)]) {
        let Some((_, metrics)) = self.families.get_mut(def.name) else {
            return;
        };
        for m in metrics {
            let mut labels = m.take_label();
            for (name, value) in extra {
                let mut lp = proto::LabelPair::default();
                lp.set_name(name.clone());
                lp.set_value(value.clone());
                labels.push(lp);
            }
            m.set_label(labels);
        }
    }

    fn push(&mut self, def: &'static FamilyDef, metric: proto::Metric) {
        self.families
            .entry(def.name)
            .or_insert_with(|| (def, Vec::new()))
            .1
            .push(metric);
    }

    /// The families, sorted by name, each with its series sorted by label values.
    pub fn into_families(self) -> Vec<proto::MetricFamily> {
        self.into_catalog_families()
            .into_iter()
            .map(|(_, mf)| mf)
            .collect()
    }

    /// [`MetricSet::into_families`], each with its catalog entry.
    pub fn into_catalog_families(self) -> Vec<(&'static FamilyDef, proto::MetricFamily)> {
        self.families
            .into_values()
            .map(|(def, mut metrics)| {
                metrics.sort_by(|a, b| {
                    let va = a.get_label().iter().map(|l| l.value());
                    let vb = b.get_label().iter().map(|l| l.value());
                    va.cmp(vb)
                });
                let mut mf = proto::MetricFamily::default();
                mf.set_name(def.name.to_string());
                mf.set_help(def.help.to_string());
                mf.set_field_type(match def.kind {
                    Kind::Gauge => proto::MetricType::GAUGE,
                    Kind::Counter => proto::MetricType::COUNTER,
                    Kind::Histogram => proto::MetricType::HISTOGRAM,
                });
                mf.set_metric(metrics);
                (def, mf)
            })
            .collect()
    }

    /// The Prometheus text exposition of this set (used by golden tests).
    pub fn to_text(self) -> String {
        super::encode::text(&self.into_families())
    }
}

fn label_pairs(def: &FamilyDef, values: &[&str]) -> Vec<proto::LabelPair> {
    debug_assert_eq!(
        def.labels.len(),
        values.len(),
        "{} takes labels {:?}",
        def.name,
        def.labels
    );
    def.labels
        .iter()
        .zip(values)
        .map(|(name, value)| {
            let mut lp = proto::LabelPair::default();
            lp.set_name(name.to_string());
            lp.set_value(value.to_string());
            lp
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::{CONNECTOR_TYPE_HEALTH, SOURCE_UP};

    #[test]
    fn sorts_like_the_registry_and_encodes_statesets() {
        let mut set = MetricSet::new();
        set.gauge(&SOURCE_UP, &["t2", "vpp_tokens"], 1.0);
        set.gauge(&SOURCE_UP, &["t1", "vpp_tokens"], 0.0);
        set.stateset(
            &CONNECTOR_TYPE_HEALTH,
            &["t1", "apns"],
            &["healthy", "warning"],
            "warning",
        );
        assert_eq!(
            set.to_text(),
            "# HELP intune_connector_type_health Health of a connector kind: its worst instance, or not_configured when it has none (evaluated at scrape time); stateset over healthy, warning, unhealthy, not_configured.
# TYPE intune_connector_type_health gauge
intune_connector_type_health{tenant_id=\"t1\",connector=\"apns\",status=\"healthy\"} 0
intune_connector_type_health{tenant_id=\"t1\",connector=\"apns\",status=\"warning\"} 1
# HELP intune_exporter_source_up 1 if the last poll of this Graph source succeeded, 0 if it failed (its last good data is still exported).
# TYPE intune_exporter_source_up gauge
intune_exporter_source_up{tenant_id=\"t1\",source=\"vpp_tokens\"} 0
intune_exporter_source_up{tenant_id=\"t2\",source=\"vpp_tokens\"} 1
"
        );
    }
}
