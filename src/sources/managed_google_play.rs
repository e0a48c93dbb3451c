//! Managed Google Play: `GET /beta/deviceManagement/androidManagedStoreAccountEnterpriseSettings`
//! (beta only, a singleton).
//!
//! `bindStatus` `notBound` (or 404) is "not configured". Health: `lastAppSyncDateTime` by the
//! page's rules; a `lastAppSyncStatus` other than `success` or `none` (`credentialsNotValid`,
//! `androidForWorkApiError`, `managementServiceError`, `unknownError`) is unhealthy, and it is
//! the `state` label of `intune_connector_info` (the bind status only decides whether the
//! connector counts).

use super::connector::{self, first_name, member_is, unhealthy_if, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/androidManagedStoreAccountEnterpriseSettings",
    select: &[
        "id",
        "bindStatus",
        "lastAppSyncDateTime",
        "lastAppSyncStatus",
        "ownerOrganizationName",
        "ownerUserPrincipalName",
    ],
    shape: Shape::Entity,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "managed_google_play",
    description: "Managed Google Play",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// `lastAppSyncStatus` members that are not failures.
pub const OK_SYNC_STATUSES: [&str; 2] = ["success", "none"];

/// `androidManagedStoreAccountAppSyncStatus` in snake_case, and `unknown`.
pub const STATES: [&str; 7] = [
    "success",
    "credentials_not_valid",
    "android_for_work_api_error",
    "management_service_error",
    "unknown_error",
    "none",
    "unknown",
];

/// Graph's `androidManagedStoreAccountEnterpriseSettings`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GooglePlaySettings {
    /// Graph's id of the singleton.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// `notBound`, `bound`, `boundAndValidated` or `unbinding`.
    #[serde(default, deserialize_with = "lenient")]
    pub bind_status: Option<String>,
    /// Last completed app sync.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_app_sync_date_time: Option<DateTime<Utc>>,
    /// Result of the last app sync.
    #[serde(default, deserialize_with = "lenient")]
    pub last_app_sync_status: Option<String>,
    /// The Google organisation bound to the tenant.
    #[serde(default, deserialize_with = "lenient")]
    pub owner_organization_name: Option<String>,
    /// The account that bound it.
    #[serde(default, deserialize_with = "lenient")]
    pub owner_user_principal_name: Option<String>,
}

/// The connector instances of Managed Google Play.
fn instances(settings: Option<&GooglePlaySettings>) -> Vec<Instance> {
    let instances: Vec<Instance> = settings
        .filter(|s| s.bind_status.is_some() && !member_is(s.bind_status.as_deref(), &["notBound"]))
        .map(|s| Instance {
            id: s
                .id
                .clone()
                .unwrap_or_else(|| "androidManagedStoreAccountEnterpriseSettings".to_string()),
            display_name: first_name(&[
                s.owner_organization_name.as_deref(),
                s.owner_user_principal_name.as_deref(),
                Some("Managed Google Play"),
            ]),
            facts: Facts {
                expiry: None,
                last_sync: s.last_app_sync_date_time,
                floor: unhealthy_if(
                    s.last_app_sync_status.is_some()
                        && !member_is(s.last_app_sync_status.as_deref(), &OK_SYNC_STATUSES),
                ),
            },
            state: s.last_app_sync_status.clone(),
            release: super::connector::Release::default(),
        })
        .into_iter()
        .collect();
    instances
}

/// The `managed_google_play` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Option<GooglePlaySettings>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data.as_ref()))]
    }
}
