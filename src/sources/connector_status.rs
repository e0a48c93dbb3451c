//! Microsoft's own verdict on the connectors: `GET /beta/deviceManagement?$select=connectorStatus`
//! (beta only; absent from the US Government and China schemas that could be checked).
//!
//! Exported next to the exporter's computed health, so a disagreement is visible.
//! `connector_name` is the `connectorName` enum member in snake_case
//! (`vpp_token_expiration_date_time`); `connector_id` is `connectorInstanceId`, possibly empty.

use super::Context;
use crate::graph::odata::{snake_case, Request, Shape};
use crate::metrics::catalog::CONNECTOR_REPORTED_HEALTH;
use crate::metrics::MetricSet;
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
    /// One element per connector (instance).
    #[serde(default)]
    pub connector_status: Vec<ConnectorStatusDetails>,
}

/// Graph's `connectorStatusDetails`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatusDetails {
    /// A `connectorName` member.
    #[serde(default)]
    pub connector_name: String,
    /// The instance, when Graph says.
    pub connector_instance_id: Option<String>,
    /// A `connectorHealthState` member.
    pub status: Option<String>,
}

/// `intune_connector_reported_health`.
pub fn families(report: Option<&ConnectorStatusReport>, ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    for d in report
        .map(|r| r.connector_status.as_slice())
        .unwrap_or_default()
    {
        let status = d
            .status
            .as_deref()
            .map(snake_case)
            .filter(|s| STATES.contains(&s.as_str()))
            .unwrap_or_else(|| "unknown".to_string());
        set.stateset(
            &CONNECTOR_REPORTED_HEALTH,
            &[
                ctx.tenant_id,
                &snake_case(&d.connector_name),
                d.connector_instance_id.as_deref().unwrap_or(""),
            ],
            &STATES,
            &status,
        );
    }
    set
}
