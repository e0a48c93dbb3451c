//! Exchange connectors: `GET /v1.0/deviceManagement/exchangeConnectors`.
//!
//! Health: `lastSyncDateTime` by the page's rules; `status` `disconnected` is unhealthy.

use super::connector::{self, first_name, member_is, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceManagement/exchangeConnectors",
    select: &[
        "id",
        "serverName",
        "connectorServerName",
        "lastSyncDateTime",
        "status",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// Graph's `deviceManagementExchangeConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeConnector {
    /// Graph's id of the connector.
    #[serde(default)]
    pub id: String,
    /// The Exchange server.
    pub server_name: Option<String>,
    /// The machine the connector runs on.
    pub connector_server_name: Option<String>,
    /// Last sync.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_sync_date_time: Option<DateTime<Utc>>,
    /// `none`, `connectionPending`, `connected`, `disconnected`.
    pub status: Option<String>,
}

/// The connector families for every Exchange connector.
pub fn families(connectors: &[ExchangeConnector], ctx: &Context<'_>) -> MetricSet {
    connector::families_of(
        ConnectorKind::ExchangeConnector,
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: first_name(&[
                    c.server_name.as_deref(),
                    c.connector_server_name.as_deref(),
                ]),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_sync_date_time,
                    failed: member_is(c.status.as_deref(), &["disconnected"]),
                },
            })
        },
        ctx,
    )
}
