//! What every connector source shares: the kinds, one instance's facts, and the families built
//! from them (`intune_connector_*`), with health evaluated at scrape time.

use super::Context;
use crate::health::{evaluate, Facts, Health, TypeHealth};
use crate::metrics::catalog::{
    CONNECTOR_EXPIRY, CONNECTOR_HEALTH, CONNECTOR_INFO, CONNECTOR_LAST_SYNC, CONNECTOR_TYPE_HEALTH,
};
use crate::metrics::MetricSet;

/// A kind of connector on the Tenant status page; its label value is the `connector` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    /// Apple MDM push certificate.
    Apns,
    /// Apple VPP (Apps and Books) token.
    VppToken,
}

impl ConnectorKind {
    /// The `connector` label value.
    pub fn label(self) -> &'static str {
        match self {
            ConnectorKind::Apns => "apns",
            ConnectorKind::VppToken => "vpp_token",
        }
    }
}

/// One connector, certificate or token, as the health rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Graph's id of the object.
    pub id: String,
    /// What an administrator recognises it by.
    pub display_name: String,
    /// The timestamps and failure state the rules look at.
    pub facts: Facts,
}

/// The `intune_connector_*` families for every instance of one kind, and the kind's health.
pub fn families(kind: ConnectorKind, instances: &[Instance], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let tenant = ctx.tenant_id;
    let connector = kind.label();
    let mut healths = Vec::with_capacity(instances.len());
    for inst in instances {
        let id = inst.id.as_str();
        set.gauge(
            &CONNECTOR_INFO,
            &[tenant, connector, id, &inst.display_name],
            1.0,
        );
        let health = evaluate(&inst.facts, ctx.now, ctx.thresholds);
        healths.push(health);
        set.stateset(
            &CONNECTOR_HEALTH,
            &[tenant, connector, id],
            &Health::STATES,
            health.as_str(),
        );
        if let Some(expiry) = inst.facts.expiry {
            set.gauge(
                &CONNECTOR_EXPIRY,
                &[tenant, connector, id],
                expiry.timestamp() as f64,
            );
        }
        if let Some(sync) = inst.facts.last_sync {
            set.gauge(
                &CONNECTOR_LAST_SYNC,
                &[tenant, connector, id],
                sync.timestamp() as f64,
            );
        }
    }
    set.stateset(
        &CONNECTOR_TYPE_HEALTH,
        &[tenant, connector],
        &TypeHealth::STATES,
        TypeHealth::of(healths).as_str(),
    );
    set
}

/// Compares a Graph enum member without regard to case (the schema says `expired`, some
/// documents say `Expired`).
pub fn member_is(value: Option<&str>, members: &[&str]) -> bool {
    value.is_some_and(|v| members.iter().any(|m| m.eq_ignore_ascii_case(v)))
}
