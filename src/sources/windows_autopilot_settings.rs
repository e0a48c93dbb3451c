//! Windows Autopilot device sync: `GET /beta/deviceManagement/windowsAutopilotSettings` (beta
//! only, a singleton).
//!
//! Health: `lastSyncDateTime` by the page's rules; `syncStatus` `failed` is unhealthy. Graph
//! answering 404, or a sync that never happened, is "not configured".

use super::connector::{self, member_is, unhealthy_if, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/windowsAutopilotSettings",
    select: &["id", "lastSyncDateTime", "syncStatus"],
    shape: Shape::Entity,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "windows_autopilot",
    description: "Windows Autopilot device sync",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// `windowsAutopilotSyncStatus` in snake_case (`unknown` is one of its members).
pub const STATES: [&str; 4] = ["unknown", "in_progress", "completed", "failed"];

/// Graph's `windowsAutopilotSettings`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AutopilotSettings {
    /// Graph's id of the singleton.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Last sync with the Autopilot deployment service.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_sync_date_time: Option<DateTime<Utc>>,
    /// `unknown`, `inProgress`, `completed` or `failed`.
    #[serde(default, deserialize_with = "lenient")]
    pub sync_status: Option<String>,
}

/// The connector instances of the Autopilot sync.
fn instances(settings: Option<&AutopilotSettings>) -> Vec<Instance> {
    let instances: Vec<Instance> = settings
        .filter(|s| s.last_sync_date_time.is_some())
        .map(|s| Instance {
            id: s
                .id
                .clone()
                .unwrap_or_else(|| "windowsAutopilotSettings".to_string()),
            display_name: "Windows Autopilot".to_string(),
            facts: Facts {
                expiry: None,
                last_sync: s.last_sync_date_time,
                floor: unhealthy_if(member_is(s.sync_status.as_deref(), &["failed"])),
            },
            state: s.sync_status.clone(),
            release: super::connector::Release::default(),
        })
        .into_iter()
        .collect();
    instances
}

/// The `windows_autopilot_settings` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Option<AutopilotSettings>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data.as_ref()))]
    }
}
