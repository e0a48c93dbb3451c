//! Mobile threat defense connectors, Microsoft Defender for Endpoint among them:
//! `GET /beta/deviceManagement/mobileThreatDefenseConnectors` (beta, which adds the
//! `notSetUp` and `error` partner states).
//!
//! Health: `lastHeartbeatDateTime` by the page's rules; a `partnerState` of `unavailable`,
//! `unresponsive`, `notSetUp` or `error` is unhealthy.
//!
//! Defender for Endpoint is exported as its own kind (`defender_for_endpoint`) when the
//! connector's id is the one Intune uses for it (`fc780465-2017-40d4-a0c5-307022471b92`, as
//! shown in Intune's admin center and Microsoft's samples), or when
//! `microsoftDefenderForEndpointAttachEnabled` is true. Graph documents neither as an identity:
//! both are inferences, so a third-party connector could be classified wrongly only if it had
//! that flag set.

use super::connector::{self, member_is, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/mobileThreatDefenseConnectors",
    select: &[
        "id",
        "lastHeartbeatDateTime",
        "partnerState",
        "microsoftDefenderForEndpointAttachEnabled",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector id Intune uses for Microsoft Defender for Endpoint.
pub const DEFENDER_CONNECTOR_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";

/// `partnerState` members that make a connector unhealthy.
pub const FAILED_STATES: [&str; 4] = ["unavailable", "unresponsive", "notSetUp", "error"];

/// Graph's `mobileThreatDefenseConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MtdConnector {
    /// Graph's id of the connector (fixed per partner).
    #[serde(default)]
    pub id: String,
    /// Last heartbeat from the partner.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_heartbeat_date_time: Option<DateTime<Utc>>,
    /// `unavailable`, `available`, `enabled`, `unresponsive`, `notSetUp`, `error`.
    pub partner_state: Option<String>,
    /// Whether Defender for Endpoint may attach to devices through this connector.
    #[serde(default)]
    pub microsoft_defender_for_endpoint_attach_enabled: bool,
}

impl MtdConnector {
    /// Whether this is the Defender for Endpoint connector (see the module docs).
    pub fn is_defender(&self) -> bool {
        self.id.eq_ignore_ascii_case(DEFENDER_CONNECTOR_ID)
            || self.microsoft_defender_for_endpoint_attach_enabled
    }
}

fn instance(c: &MtdConnector) -> Option<Instance> {
    Some(Instance {
        id: c.id.clone(),
        display_name: if c.is_defender() {
            "Microsoft Defender for Endpoint".to_string()
        } else {
            format!("Mobile threat defense partner {}", c.id)
        },
        facts: Facts {
            expiry: None,
            last_sync: c.last_heartbeat_date_time,
            failed: member_is(c.partner_state.as_deref(), &FAILED_STATES),
        },
    })
}

/// The connector families of both kinds.
pub fn families(connectors: &[MtdConnector], ctx: &Context<'_>) -> MetricSet {
    let (defender, others): (Vec<MtdConnector>, Vec<MtdConnector>) = connectors
        .iter()
        .cloned()
        .partition(MtdConnector::is_defender);
    let mut set =
        connector::families_of(ConnectorKind::DefenderForEndpoint, &defender, instance, ctx);
    set.extend(connector::families_of(
        ConnectorKind::MobileThreatDefense,
        &others,
        instance,
        ctx,
    ));
    set
}
