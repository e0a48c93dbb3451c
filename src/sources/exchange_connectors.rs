//! Exchange connectors: `GET /v1.0/deviceManagement/exchangeConnectors`.
//!
//! Health: `lastSyncDateTime` by the page's rules, with the `status` member
//! (`deviceManagementExchangeConnectorStatus`, v1.0 schema) read as Microsoft describes it:
//! `none` is "No Connector exists" (not configured), `connectionPending` is "Pending Connection
//! to the Exchange Environment" (set up, not connected yet: a warning), `disconnected` is
//! unhealthy, `connected` leaves it to the date.
//!
//! Version: `version` is exported as Graph reports it and does not affect health: Microsoft
//! publishes no release list or support window for the on-premises Exchange connector's
//! versions (the v1.0 schema only says "The version of the ExchangeConnectorAgent"), so there
//! is nothing to judge a version by.

use super::connector::{self, first_name, member_is, ConnectorKind, Instance, Release};
use super::definition::{Definition, Spec, DM_CONFIGURATION, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::{Facts, Health};
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
        "version",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "exchange_connector",
    description: "Exchange connector",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// `deviceManagementExchangeConnectorStatus` in snake_case, and `unknown`.
pub const STATES: [&str; 5] = [
    "none",
    "connection_pending",
    "connected",
    "disconnected",
    "unknown",
];

/// Graph's `deviceManagementExchangeConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeConnector {
    /// Graph's id of the connector.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The Exchange server.
    #[serde(default, deserialize_with = "lenient")]
    pub server_name: Option<String>,
    /// The machine the connector runs on.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_server_name: Option<String>,
    /// Last sync.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_sync_date_time: Option<DateTime<Utc>>,
    /// `none`, `connectionPending`, `connected`, `disconnected`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// The connector agent's version.
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<String>,
}

/// The connector instances of every Exchange connector.
fn instances(connectors: &[ExchangeConnector]) -> Vec<Instance> {
    connector::instances_of(
        connectors,
        |c| {
            let status = c.status.as_deref();
            if member_is(status, &["none"]) {
                return None;
            }
            let floor = if member_is(status, &["disconnected"]) {
                Health::Unhealthy
            } else if member_is(status, &["connectionPending"]) {
                Health::Warning
            } else {
                Health::Healthy
            };
            Some(Instance {
                id: c.id.clone(),
                display_name: first_name(&[
                    c.server_name.as_deref(),
                    c.connector_server_name.as_deref(),
                ]),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_sync_date_time,
                    floor,
                },
                state: c.status.clone(),
                // Exported only: no documented support policy (see the module docs).
                release: Release {
                    version: c.version.clone(),
                    support: None,
                },
            })
        },
    )
}

/// The `exchange_connectors` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[DM_CONFIGURATION],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<ExchangeConnector>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
