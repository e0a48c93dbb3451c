//! Compliance partners: `GET /v1.0/deviceManagement/complianceManagementPartners`.
//!
//! Health as for every partner (see [`partner`](super::partner)).

use super::connector::{self, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION, DM_SERVICE_CONFIG};
use super::partner::{instance, Partner, STATES};
use crate::graph::odata::{Request, Shape};

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceManagement/complianceManagementPartners",
    select: &["id", "displayName", "lastHeartbeatDateTime", "partnerState"],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "compliance_partner",
    description: "Partner compliance management",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// The `compliance_management_partners` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[DM_CONFIGURATION],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<Partner>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, connector::instances_of(data, instance))]
    }
}
