//! Mobile threat defense connectors, Microsoft Defender for Endpoint among them:
//! `GET /beta/deviceManagement/mobileThreatDefenseConnectors` (beta, which adds the
//! `notSetUp` and `error` partner states).
//!
//! Health: `lastHeartbeatDateTime` by the page's rules; a `partnerState` of `unavailable`,
//! `unresponsive` or `error` is unhealthy. `notSetUp` is, in Microsoft's words, a connector that
//! "is not provisioned and Intune has not received a heartbeat" (beta docs
//! `intune-onboarding-mobilethreatpartnertenantstate.md`): the page shows such a partner as not
//! configured, so it is not counted. `available` and `enabled` leave health to the date.
//!
//! Defender for Endpoint is exported as its own kind (`defender_for_endpoint`) when the
//! connector's id is the one Intune uses for it (`fc780465-2017-40d4-a0c5-307022471b92`, as
//! shown in Intune's admin center and Microsoft's samples), or when
//! `microsoftDefenderForEndpointAttachEnabled` is true. Graph documents neither as an identity:
//! both are inferences, so a third-party connector could be classified wrongly only if it had
//! that flag set.

use super::connector::{self, member_is, unhealthy_if, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
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
pub const FAILED_STATES: [&str; 3] = ["unavailable", "unresponsive", "error"];

/// `mobileThreatPartnerTenantState` (beta) in snake_case, and `unknown`.
pub const STATES: [&str; 7] = [
    "unavailable",
    "available",
    "enabled",
    "unresponsive",
    "not_set_up",
    "error",
    "unknown",
];

/// Graph's `mobileThreatDefenseConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MtdConnector {
    /// Graph's id of the connector (fixed per partner).
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// Last heartbeat from the partner.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_heartbeat_date_time: Option<DateTime<Utc>>,
    /// `unavailable`, `available`, `enabled`, `unresponsive`, `notSetUp`, `error`.
    #[serde(default, deserialize_with = "lenient")]
    pub partner_state: Option<String>,
    /// Whether Defender for Endpoint may attach to devices through this connector.
    #[serde(default, deserialize_with = "lenient_or_default")]
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
    if member_is(c.partner_state.as_deref(), &["notSetUp"]) {
        return None;
    }
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
            floor: unhealthy_if(member_is(c.partner_state.as_deref(), &FAILED_STATES)),
        },
        state: c.partner_state.clone(),
        release: super::connector::Release::default(),
    })
}

/// Defender for Endpoint, and the other mobile threat defense connectors.
pub const DEFENDER_FOR_ENDPOINT: ConnectorKind = ConnectorKind {
    label: "defender_for_endpoint",
    description: "Microsoft Defender for Endpoint",
    states: &STATES,
    blade: "Microsoft_Intune_DeviceSettings/TenantAdminConnectorsMenu/~/windowsDefenderATP",
};

/// The mobile threat defense connectors other than Defender for Endpoint.
pub const MOBILE_THREAT_DEFENSE: ConnectorKind = ConnectorKind {
    label: "mobile_threat_defense",
    description: "Other mobile threat defense connectors",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// The `mobile_threat_defense_connectors` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[DM_CONFIGURATION],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&MOBILE_THREAT_DEFENSE, &DEFENDER_FOR_ENDPOINT],
    };
    type Data = Vec<MtdConnector>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        let (defender, others): (Vec<&MtdConnector>, Vec<&MtdConnector>) =
            data.iter().partition(|c| c.is_defender());
        vec![
            (
                &MOBILE_THREAT_DEFENSE,
                others.into_iter().filter_map(instance).collect(),
            ),
            (
                &DEFENDER_FOR_ENDPOINT,
                defender.into_iter().filter_map(instance).collect(),
            ),
        ]
    }
}
