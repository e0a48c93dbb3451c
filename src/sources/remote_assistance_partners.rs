//! Remote assistance partners (TeamViewer): `GET /v1.0/deviceManagement/remoteAssistancePartners`.
//!
//! A partner whose `onboardingStatus` is `notOnboarded` is not counted ("not configured").
//! Health: `lastConnectionDateTime` by the page's rules.

use super::connector::{self, member_is, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceManagement/remoteAssistancePartners",
    select: &[
        "id",
        "displayName",
        "lastConnectionDateTime",
        "onboardingStatus",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "remote_assistance_partner",
    description: "Remote assistance partner (TeamViewer)",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// `remoteAssistanceOnboardingStatus` in snake_case, and `unknown`.
pub const STATES: [&str; 4] = ["not_onboarded", "onboarding", "onboarded", "unknown"];

/// Graph's `remoteAssistancePartner`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteAssistancePartner {
    /// Graph's id of the partner.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The partner's name.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// Last request from the partner to Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_connection_date_time: Option<DateTime<Utc>>,
    /// `notOnboarded`, `onboarding`, `onboarded`.
    #[serde(default, deserialize_with = "lenient")]
    pub onboarding_status: Option<String>,
}

/// The connector instances of every onboarded remote assistance partner.
fn instances(partners: &[RemoteAssistancePartner]) -> Vec<Instance> {
    connector::instances_of(
        partners,
        |p| {
            if member_is(p.onboarding_status.as_deref(), &["notOnboarded"]) {
                return None;
            }
            Some(Instance {
                id: p.id.clone(),
                display_name: p.display_name.clone().unwrap_or_default(),
                facts: Facts {
                    expiry: None,
                    last_sync: p.last_connection_date_time,
                    ..Facts::default()
                },
                state: p.onboarding_status.clone(),
                release: super::connector::Release::default(),
            })
        },
    )
}

/// The `remote_assistance_partners` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[DM_CONFIGURATION],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<RemoteAssistancePartner>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
