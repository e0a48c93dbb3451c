//! Microsoft's own verdict on the connectors: `GET /beta/deviceManagement?$select=connectorStatus`
//! (beta only; absent from the US Government and China schemas that could be checked).
//!
//! Exported next to the exporter's computed health, so a disagreement is visible.
//! `connector_name` is the `connectorName` enum member in snake_case
//! (`vpp_token_expiration_date_time`, `unknown` when absent); `connector_id` is
//! `connectorInstanceId`, possibly empty. The schema allows `connectorStatus` itself to be
//! null: that, like an empty list, exports nothing. An element listed twice (same name and
//! instance) is exported once, the first.

use super::connector::state_label;
use super::definition::{first_of_each, Context, Definition, Spec, DM_CONFIGURATION, DM_DEVICES};
use crate::graph::odata::{lenient, lenient_list, snake_case, Request, Shape};
use crate::metrics::catalog::CONNECTOR_REPORTED_HEALTH;
use crate::metrics::set::MetricSet;
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement",
    select: &["id", "connectorStatus"],
    shape: Shape::Entity,
    filter: None,
};

/// The members of `connectorHealthState`: the stateset's states. Anything else is `unknown`.
pub const STATES: [&str; 4] = ["healthy", "warning", "unhealthy", "unknown"];

/// Graph's `deviceManagement` (beta), the property used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatusReport {
    /// One element per connector (instance); nullable in the schema.
    #[serde(default, deserialize_with = "lenient_list")]
    pub connector_status: Vec<ConnectorStatusDetails>,
}

/// Graph's `connectorStatusDetails`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatusDetails {
    /// A `connectorName` member.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_name: Option<String>,
    /// The instance, when Graph says.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_instance_id: Option<String>,
    /// A `connectorHealthState` member.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
}

/// `intune_connector_reported_health`.
pub fn families(report: Option<&ConnectorStatusReport>, ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let keyed: Vec<(String, &str, &ConnectorStatusDetails)> = report
        .map(|r| r.connector_status.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let name = d
                .connector_name
                .as_deref()
                .map_or_else(|| "unknown".to_string(), snake_case);
            (name, d.connector_instance_id.as_deref().unwrap_or(""), d)
        })
        .collect();
    for (name, instance, d) in first_of_each(&keyed, |(n, i, _)| (n.as_str(), *i)) {
        set.stateset(
            &CONNECTOR_REPORTED_HEALTH,
            &[ctx.tenant_id, name, instance],
            &STATES,
            &state_label(d.status.as_deref(), &STATES),
        );
    }
    set
}

/// The `connector_status` source.
pub struct Source;

impl Definition for Source {
    // The map's `/devicemanagement` row does not know the beta troubleshooting property; its own
    // page (intune-troubleshooting-devicemanagement-get) lists these two.
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[DM_DEVICES],
        request: &REQUEST,
        default_interval: None,
        kinds: &[],
    };
    type Data = Option<ConnectorStatusReport>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data.as_ref(), ctx)
    }
}
