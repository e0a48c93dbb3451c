//! iOS/iPadOS line-of-business (in-house) apps: `GET /v1.0/deviceAppManagement/mobileApps`,
//! narrowed to `#microsoft.graph.iosLobApp` and `#microsoft.graph.managedIOSLobApp`.
//!
//! An in-house app is signed with an enterprise certificate and carries a provisioning profile;
//! `expirationDateTime` ("The expiration time", v1.0 schema of both types) is when the app stops
//! launching on devices. Intune's own notice comes 30 days ahead ("Intune gives a 30 day notice
//! before they expire", Intune docs `lob-apps-ios`). On the Tenant status page's terms that is a
//! certificate that lapses, so each app is a connector instance with an expiry and no sync, and
//! health is the page's expiry rule: expired is unhealthy, within 7 days a warning.
//!
//! `mobileApps` lists every app of the tenant, store and Win32 apps included, and can run to
//! thousands, so the request:
//! - sends `$filter=isof(…) or isof(…)`, the kind of filter the admin centre sends for app lists.
//!   The client drops a `$filter` Graph refuses, so the module keeps only those two
//!   `@odata.type`s of what it receives, whether Graph filtered or not;
//! - `$select`s only `id`, `displayName` and `expirationDateTime` (Graph sends `@odata.type` for
//!   every item of a collection of derived types), and relies on the client's paging.
//!
//! Only an app with an expiration date counts: an item without one (null, absent, Graph's
//! `0001-01-01` "never") has nothing that can lapse. A tenant without in-house apps is "not
//! configured".

use super::connector::{self, first_name, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_APPS};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::{Facts, Health};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceAppManagement/mobileApps",
    select: &["id", "displayName", "expirationDateTime"],
    shape: Shape::Collection,
    filter: Some("isof('microsoft.graph.iosLobApp') or isof('microsoft.graph.managedIOSLobApp')"),
};

/// The `@odata.type`s that are iOS/iPadOS line-of-business apps.
pub const LOB_APP_TYPES: [&str; 2] = [
    "#microsoft.graph.iosLobApp",
    "#microsoft.graph.managedIOSLobApp",
];

/// The admin centre's list of iOS/iPadOS apps.
pub const IOS_APPS_BLADE: &str = "Microsoft_Intune_DeviceSettings/AppsIosMenu/~/iosApps";

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "ios_lob_app",
    description: "iOS/iPadOS line-of-business (in-house) app",
    states: &[],
    blade: IOS_APPS_BLADE,
};

/// Graph's `mobileApp`, the properties used (`expirationDateTime` is the iOS LOB types').
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MobileApp {
    /// The app's type, e.g. `#microsoft.graph.iosLobApp`.
    #[serde(rename = "@odata.type", default, deserialize_with = "lenient")]
    pub odata_type: Option<String>,
    /// Graph's id of the app.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The app's name in Intune.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// When the app (its provisioning profile or signing certificate) expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub expiration_date_time: Option<DateTime<Utc>>,
}

impl MobileApp {
    /// Whether this is an iOS/iPadOS line-of-business app (the type compared without regard to
    /// case or the leading `#`).
    pub fn is_ios_lob_app(&self) -> bool {
        self.odata_type.as_deref().is_some_and(|t| {
            let t = t.trim_start_matches('#');
            LOB_APP_TYPES
                .iter()
                .any(|l| l.trim_start_matches('#').eq_ignore_ascii_case(t))
        })
    }
}

/// The connector instances: every iOS LOB app with an expiration date.
fn instances(apps: &[MobileApp]) -> Vec<Instance> {
    connector::instances_of(apps, |a| {
        let expiry = a.expiration_date_time.filter(|_| a.is_ios_lob_app())?;
        Some(Instance {
            id: a.id.clone(),
            display_name: first_name(&[a.display_name.as_deref()]),
            facts: Facts {
                expiry: Some(expiry),
                last_sync: None,
                floor: Health::Healthy,
            },
            state: None,
            release: super::connector::Release::default(),
        })
    })
}

/// The `ios_lob_apps` source.
pub struct Source;

impl Definition for Source {
    // The permission map's `/deviceappmanagement/mobileapps` row marks it least privileged; it
    // is the only read-only one it lists.
    const SPEC: Spec = Spec {
        permission: DM_APPS,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<MobileApp>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
