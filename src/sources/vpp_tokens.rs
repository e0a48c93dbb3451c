//! Apple VPP (Apps and Books) tokens: `GET /v1.0/deviceAppManagement/vppTokens`.
//!
//! Health: expiry and last sync by the page's rules; a token whose `state` is `expired`,
//! `invalid` or `assignedToExternalMDM` (another MDM has claimed it) is unhealthy whatever its
//! dates say. The token itself is never requested.

use super::connector::{self, member_is, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::MetricSet;
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

/// `state` members that make a token unhealthy.
pub const FAILED_STATES: [&str; 3] = ["expired", "invalid", "assignedToExternalMDM"];

/// Graph's `vppToken`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VppToken {
    /// Graph's id of the token.
    #[serde(default)]
    pub id: String,
    /// The organisation the token belongs to.
    pub organization_name: Option<String>,
    /// The Apple ID the token was created with.
    pub apple_id: Option<String>,
    /// When the token expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub expiration_date_time: Option<DateTime<Utc>>,
    /// When Intune last synced with Apple.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_sync_date_time: Option<DateTime<Utc>>,
    /// `valid`, `expired`, `invalid`, `assignedToExternalMDM`, ... (kept as sent).
    pub state: Option<String>,
}

/// The connector families for every token.
pub fn families(tokens: &[VppToken], ctx: &Context<'_>) -> MetricSet {
    let instances: Vec<Instance> = tokens
        .iter()
        .map(|t| Instance {
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
                failed: member_is(t.state.as_deref(), &FAILED_STATES),
            },
        })
        .collect();
    connector::families(ConnectorKind::VppToken, &instances, ctx)
}
