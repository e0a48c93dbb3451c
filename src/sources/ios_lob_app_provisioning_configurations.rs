//! iOS/iPadOS app provisioning profiles:
//! `GET /beta/deviceAppManagement/iosLobAppProvisioningConfigurations` (beta only).
//!
//! An in-house app's provisioning profile lasts a year, its signing certificate about three
//! (Intune docs `app-provisioning-profile-ios`, "Use iOS app provisioning profiles to prevent
//! your apps from expiring"). An administrator uploads a renewed profile here and Intune pushes it
//! to the devices that have the apps; when that profile lapses too, the apps stop launching.
//! `expirationDateTime` is the "Optional profile expiration date" (beta docs
//! `intune-apps-ioslobappprovisioningconfiguration`). On the Tenant status page's terms that is a
//! certificate that lapses: each profile is a connector instance with an expiry and no sync, and
//! health is the page's expiry rule (expired: unhealthy; within 7 days: warning).
//!
//! Only a profile with an expiration date counts, as for the apps: one without (null, absent,
//! `0001-01-01`) has nothing that can lapse. `@odata.type` is not read: the collection holds
//! profiles only. The profile itself (`payload`) is never requested.

use super::connector::{self, first_name, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_APPS, DM_CONFIGURATION};
use super::ios_lob_apps::IOS_APPS_BLADE;
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::{Facts, Health};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceAppManagement/iosLobAppProvisioningConfigurations",
    select: &["id", "displayName", "payloadFileName", "expirationDateTime"],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports. The profiles' own list (*Apps > iOS app provisioning
/// profiles*) has no blade id Microsoft documents; the link opens the iOS/iPadOS apps, whose
/// expiry it is about.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "ios_app_provisioning_profile",
    description: "iOS/iPadOS app provisioning profile",
    states: &[],
    blade: IOS_APPS_BLADE,
};

/// Graph's `iosLobAppProvisioningConfiguration` (beta), the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningConfiguration {
    /// Graph's id of the profile.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The profile's name in Intune.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// The uploaded file's name, for a profile without a name.
    #[serde(default, deserialize_with = "lenient")]
    pub payload_file_name: Option<String>,
    /// When the profile expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub expiration_date_time: Option<DateTime<Utc>>,
}

/// The connector instances: every profile with an expiration date.
fn instances(profiles: &[ProvisioningConfiguration]) -> Vec<Instance> {
    connector::instances_of(profiles, |p| {
        Some(Instance {
            id: p.id.clone(),
            display_name: first_name(&[p.display_name.as_deref(), p.payload_file_name.as_deref()]),
            facts: Facts {
                expiry: Some(p.expiration_date_time?),
                last_sync: None,
                floor: Health::Healthy,
            },
            state: None,
            release: super::connector::Release::default(),
        })
    })
}

/// The `ios_lob_app_provisioning_configurations` source.
pub struct Source;

impl Definition for Source {
    // The permission map has no row for this path; the list page's table names
    // `DeviceManagementConfiguration.Read.All` first (least privileged) and also accepts
    // `DeviceManagementApps.Read.All`. Both are asked for by other sources already.
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[DM_APPS],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<ProvisioningConfiguration>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
