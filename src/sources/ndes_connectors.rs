//! Legacy NDES connectors: `GET /beta/deviceManagement/ndesConnectors` (beta only).
//!
//! Health: `lastConnectionDateTime` by the page's rules. `state` (`ndesConnectorState`, beta
//! docs): `inactive` ("no recent activity") is unhealthy; `none` ("state not available yet for
//! this connector") says nothing, so the date decides, as for `active`.
//!
//! Version: `connectorVersion` is judged by the Certificate Connector's release table and
//! lifecycle ([`certificate_connectors::support`]). The legacy *Microsoft Intune Connector*
//! (the NDES connector) was replaced by the Certificate Connector for Microsoft Intune on July
//! 29, 2021, its support ended with 6.2109.51.0 and from September 2022 it could no longer
//! issue certificates (Learn, `certificate-connector-overview` and `certificate-connectors`):
//! its versions are older than the Certificate Connector's first release, so the table finds
//! them past the failure horizon. Current Certificate Connectors may be listed here too
//! (Microsoft does not say; Maester's check MT.1097 reads this collection and holds its versions
//! to a Certificate Connector minimum, 6.2406.0.1001), and those get the Certificate Connector's
//! six and eighteen months. An unparseable version leaves health to the date and the state.

use super::certificate_connectors;
use super::connector::{self, first_name, member_is, unhealthy_if, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
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
        "connectorVersion",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "ndes_connector",
    description: "NDES connector (legacy)",
    states: &STATES,
    blade: connector::CERTIFICATE_CONNECTORS_BLADE,
};

/// `ndesConnectorState` in snake_case, and `unknown`.
pub const STATES: [&str; 4] = ["none", "active", "inactive", "unknown"];

/// Graph's `ndesConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NdesConnector {
    /// Graph's id of the connector.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// Its name.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// The machine it runs on.
    #[serde(default, deserialize_with = "lenient")]
    pub machine_name: Option<String>,
    /// Last contact with Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_connection_date_time: Option<DateTime<Utc>>,
    /// `none`, `active`, `inactive`.
    #[serde(default, deserialize_with = "lenient")]
    pub state: Option<String>,
    /// The installed version.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_version: Option<String>,
}

/// The connector instances of every NDES connector.
fn instances(connectors: &[NdesConnector]) -> Vec<Instance> {
    connector::instances_of(
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: first_name(&[c.display_name.as_deref(), c.machine_name.as_deref()]),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_connection_date_time,
                    floor: unhealthy_if(member_is(c.state.as_deref(), &["inactive"])),
                },
                state: c.state.clone(),
                release: certificate_connectors::release(c.connector_version.as_deref()),
            })
        },
    )
}

/// The `ndes_connectors` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<NdesConnector>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
