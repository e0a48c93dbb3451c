//! Certificate Connectors for Microsoft Intune: `GET /beta/deviceManagement/certificateConnectorDetails`
//! (beta only).
//!
//! Graph gives no state for these connectors: health comes from `lastCheckinDateTime` alone.

use super::connector::{self, first_name, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/certificateConnectorDetails",
    select: &["id", "connectorName", "machineName", "lastCheckinDateTime"],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "certificate_connector",
    description: "Certificate Connector for Microsoft Intune",
    states: &[],
    blade: connector::CERTIFICATE_CONNECTORS_BLADE,
};

/// Graph's `certificateConnectorDetails`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateConnector {
    /// Graph's id of the connector.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The name given at enrolment.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_name: Option<String>,
    /// The machine it runs on.
    #[serde(default, deserialize_with = "lenient")]
    pub machine_name: Option<String>,
    /// Last check-in with Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_checkin_date_time: Option<DateTime<Utc>>,
}

/// The connector instances of every certificate connector.
fn instances(connectors: &[CertificateConnector]) -> Vec<Instance> {
    connector::instances_of(
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: first_name(&[c.connector_name.as_deref(), c.machine_name.as_deref()]),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_checkin_date_time,
                    ..Facts::default()
                },
                state: None,
            })
        },
    )
}

/// The `certificate_connectors` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<CertificateConnector>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
