//! Apple VPP (Apps and Books) tokens: `GET /v1.0/deviceAppManagement/vppTokens`.
//!
//! Health: expiry and last sync by the page's rules, and what Graph says about the token
//! (v1.0 schema):
//! - `lastSyncDateTime` is "the last time when an application sync was done", whether it
//!   worked or not, and `lastSyncStatus` (`none`, `inProgress`, `completed`, `failed`) says how
//!   it ended: `failed` is unhealthy even when the date is fresh, since the page rates VPP by its
//!   last *completed* sync.
//! - `state` (`vppTokenState`): `expired`, `invalid` and `assignedToExternalMDM` (another MDM has
//!   claimed the token, so Intune can no longer use it) are unhealthy; `valid` and `unknown`
//!   (Graph does not know) leave health to the dates. Members Graph adds later (beta has
//!   `duplicateLocationId`) are exported as `unknown` and leave health to the dates too.
//!
//! The token itself is never requested.

use super::connector::{self, member_is, unhealthy_if, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceAppManagement/vppTokens",
    select: &[
        "id",
        "organizationName",
        "appleId",
        "expirationDateTime",
        "lastSyncDateTime",
        "state",
        "lastSyncStatus",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "vpp_token",
    description: "Apple VPP (Apps and Books) token",
    states: &STATES,
    blade: "Microsoft_Intune_DeviceSettings/TenantAdminConnectorsMenu/~/appleVpp",
};

/// `state` members that make a token unhealthy.
pub const FAILED_STATES: [&str; 3] = ["expired", "invalid", "assignedToExternalMDM"];

/// `lastSyncStatus` members that make a token unhealthy.
pub const FAILED_SYNC_STATUSES: [&str; 1] = ["failed"];

/// `vppTokenState` (v1.0) in snake_case (`unknown` is one of its members).
pub const STATES: [&str; 5] = [
    "unknown",
    "valid",
    "expired",
    "invalid",
    "assigned_to_external_mdm",
];

/// Graph's `vppToken`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VppToken {
    /// Graph's id of the token.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The organisation the token belongs to.
    #[serde(default, deserialize_with = "lenient")]
    pub organization_name: Option<String>,
    /// The Apple ID the token was created with.
    #[serde(default, deserialize_with = "lenient")]
    pub apple_id: Option<String>,
    /// When the token expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub expiration_date_time: Option<DateTime<Utc>>,
    /// When Intune last tried to sync with Apple (successfully or not).
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_sync_date_time: Option<DateTime<Utc>>,
    /// `unknown`, `valid`, `expired`, `invalid`, `assignedToExternalMDM` (kept as sent).
    #[serde(default, deserialize_with = "lenient")]
    pub state: Option<String>,
    /// `none`, `inProgress`, `completed` or `failed`: how the last sync ended.
    #[serde(default, deserialize_with = "lenient")]
    pub last_sync_status: Option<String>,
}

/// The connector instances of every token.
fn instances(tokens: &[VppToken]) -> Vec<Instance> {
    connector::instances_of(
        tokens,
        |t| {
            let failed = member_is(t.state.as_deref(), &FAILED_STATES)
                || member_is(t.last_sync_status.as_deref(), &FAILED_SYNC_STATUSES);
            Some(Instance {
                id: t.id.clone(),
                display_name: t
                    .organization_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or_else(|| t.apple_id.clone())
                    .unwrap_or_default(),
                facts: Facts {
                    expiry: t.expiration_date_time,
                    last_sync: t.last_sync_date_time,
                    floor: unhealthy_if(failed),
                },
                state: t.state.clone(),
                release: super::connector::Release::default(),
            })
        },
    )
}

/// The `vpp_tokens` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[DM_CONFIGURATION],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<VppToken>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
