//! Legacy NDES connectors: `GET /beta/deviceManagement/ndesConnectors` (beta only).
//!
//! Health: `lastConnectionDateTime` by the page's rules; `state` `inactive` is unhealthy.

use super::connector::{self, first_name, member_is, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/ndesConnectors",
    select: &[
        "id",
        "displayName",
        "machineName",
        "lastConnectionDateTime",
        "state",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// Graph's `ndesConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NdesConnector {
    /// Graph's id of the connector.
    #[serde(default)]
    pub id: String,
    /// Its name.
    pub display_name: Option<String>,
    /// The machine it runs on.
    pub machine_name: Option<String>,
    /// Last contact with Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_connection_date_time: Option<DateTime<Utc>>,
    /// `none`, `active`, `inactive`.
    pub state: Option<String>,
}

/// The connector families for every NDES connector.
pub fn families(connectors: &[NdesConnector], ctx: &Context<'_>) -> MetricSet {
    connector::families_of(
        ConnectorKind::NdesConnector,
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: first_name(&[c.display_name.as_deref(), c.machine_name.as_deref()]),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_connection_date_time,
                    failed: member_is(c.state.as_deref(), &["inactive"]),
                },
            })
        },
        ctx,
    )
}
