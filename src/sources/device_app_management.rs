//! Microsoft Store for Business sync: `GET /v1.0/deviceAppManagement` (a singleton).
//!
//! Microsoft retired the Store for Business; tenants that never enabled it, or turned it off,
//! are "not configured". When enabled, `microsoftStoreForBusinessLastSuccessfulSyncDateTime`
//! drives health by the page's rules.

use super::connector::{self, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_APPS, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceAppManagement",
    select: &[
        "id",
        "isEnabledForMicrosoftStoreForBusiness",
        "microsoftStoreForBusinessLastSuccessfulSyncDateTime",
    ],
    shape: Shape::Entity,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "microsoft_store_for_business",
    description: "Microsoft Store for Business sync (retired)",
    states: &[],
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// Graph's `deviceAppManagement`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAppManagement {
    /// Graph's id of the singleton.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Whether the Store for Business connection is on.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub is_enabled_for_microsoft_store_for_business: bool,
    /// Last successful sync with the Store for Business.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub microsoft_store_for_business_last_successful_sync_date_time: Option<DateTime<Utc>>,
}

/// The connector instances of the Store for Business sync.
fn instances(app_mgmt: Option<&DeviceAppManagement>) -> Vec<Instance> {
    let instances: Vec<Instance> = app_mgmt
        .filter(|a| a.is_enabled_for_microsoft_store_for_business)
        .map(|a| Instance {
            id: a
                .id
                .clone()
                .unwrap_or_else(|| "deviceAppManagement".to_string()),
            display_name: "Microsoft Store for Business".to_string(),
            facts: Facts {
                expiry: None,
                last_sync: a.microsoft_store_for_business_last_successful_sync_date_time,
                ..Facts::default()
            },
            state: None,
            release: super::connector::Release::default(),
        })
        .into_iter()
        .collect();
    instances
}

/// The `device_app_management` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_APPS,
        also_accepted: &[DM_CONFIGURATION],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Option<DeviceAppManagement>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data.as_ref()))]
    }
}
