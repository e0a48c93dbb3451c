//! What the two partner sources share: partner integrations that report a heartbeat and a
//! `deviceManagementPartnerTenantState`: device management partners (Jamf and others,
//! [`device_management_partners`](super::device_management_partners)) and compliance partners
//! ([`compliance_management_partners`](super::compliance_management_partners)).
//!
//! Health: `lastHeartbeatDateTime` by the page's rules; a `partnerState` of `unavailable`,
//! `terminated`, `rejected` or `unresponsive` is unhealthy. `unknown` ("partner state is
//! unknown", v1.0 schema) says nothing, so the date decides, as for `enabled`. A device
//! management partner whose `isConfigured` is false is not counted ("not configured").

use super::connector::{member_is, unhealthy_if, Instance};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `partnerState` members that make a partner unhealthy.
pub const FAILED_STATES: [&str; 4] = ["unavailable", "terminated", "rejected", "unresponsive"];

/// `deviceManagementPartnerTenantState` in snake_case (`unknown` is one of its members).
pub const STATES: [&str; 6] = [
    "unknown",
    "unavailable",
    "enabled",
    "terminated",
    "rejected",
    "unresponsive",
];

/// Graph's `deviceManagementPartner` or `complianceManagementPartner`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    /// Graph's id of the partner.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The partner's name.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// Last heartbeat from the partner.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_heartbeat_date_time: Option<DateTime<Utc>>,
    /// `unknown`, `unavailable`, `enabled`, `terminated`, `rejected`, `unresponsive`.
    #[serde(default, deserialize_with = "lenient")]
    pub partner_state: Option<String>,
    /// Device management partners only: whether it is set up.
    #[serde(default, deserialize_with = "lenient")]
    pub is_configured: Option<bool>,
}

/// A partner as a connector instance; `None` when it is not configured.
pub fn instance(p: &Partner) -> Option<Instance> {
    if p.is_configured == Some(false) {
        return None;
    }
    Some(Instance {
        id: p.id.clone(),
        display_name: p.display_name.clone().unwrap_or_default(),
        facts: Facts {
            expiry: None,
            last_sync: p.last_heartbeat_date_time,
            floor: unhealthy_if(member_is(p.partner_state.as_deref(), &FAILED_STATES)),
        },
        state: p.partner_state.clone(),
        release: super::connector::Release::default(),
    })
}
