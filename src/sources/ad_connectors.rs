//! The Intune Connector for Active Directory: `GET /beta/deviceManagement/domainJoinConnectors`
//! (beta only).
//!
//! Health: `lastConnectionDateTime` by the page's rules; `state` `error` is unhealthy.

use super::connector::{self, member_is, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/domainJoinConnectors",
    select: &["id", "displayName", "lastConnectionDateTime", "state"],
    shape: Shape::Collection,
    filter: None,
};

/// Graph's `deviceManagementDomainJoinConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AdConnector {
    /// Graph's id of the connector.
    #[serde(default)]
    pub id: String,
    /// Its name (usually the server's).
    pub display_name: Option<String>,
    /// Last contact with Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_connection_date_time: Option<DateTime<Utc>>,
    /// `active`, `error`, `inactive`.
    pub state: Option<String>,
}

/// The connector families for every AD connector.
pub fn families(connectors: &[AdConnector], ctx: &Context<'_>) -> MetricSet {
    connector::families_of(
        ConnectorKind::AdConnector,
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: c.display_name.clone().unwrap_or_default(),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_connection_date_time,
                    failed: member_is(c.state.as_deref(), &["error"]),
                },
            })
        },
        ctx,
    )
}
