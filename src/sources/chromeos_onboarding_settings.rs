//! Chromebook (ChromeOS) onboarding: `GET /beta/deviceManagement/chromeOSOnboardingSettings`
//! (beta only).
//!
//! A collection of `chromeOSOnboardingSettings` (beta docs
//! `intune-chromebooksync-chromeosonboardingsettings-list.md` and the beta SDK model answer
//! `value: [...]`), read over every page; a tenant that never onboarded has an empty collection.
//! Since it is a collection, Graph answering 404 is an error of the source, not "not
//! configured". An `onboardingStatus` of `unknown` or `offboarding`, or none at all, does not
//! count as configured; `failed` is unhealthy. Health otherwise comes from
//! `lastDirectorySyncDateTime` by the page's rules.

use super::connector::{self, member_is, unhealthy_if, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/chromeOSOnboardingSettings",
    select: &[
        "id",
        "ownerUserPrincipalName",
        "lastDirectorySyncDateTime",
        "onboardingStatus",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "chromebook",
    description: "Chromebook (ChromeOS) onboarding",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// `onboardingStatus` members in snake_case (`inprogress` is spelled so by Graph).
pub const STATES: [&str; 5] = [
    "unknown",
    "inprogress",
    "onboarded",
    "failed",
    "offboarding",
];

/// Graph's `chromeOSOnboardingSettings`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChromeOsSettings {
    /// Graph's id of the settings.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The Google Workspace administrator who onboarded the tenant.
    #[serde(default, deserialize_with = "lenient")]
    pub owner_user_principal_name: Option<String>,
    /// Last directory sync with Google.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_directory_sync_date_time: Option<DateTime<Utc>>,
    /// `unknown`, `inprogress`, `onboarded`, `failed`, `offboarding`.
    #[serde(default, deserialize_with = "lenient")]
    pub onboarding_status: Option<String>,
}

/// The connector instances of Chromebook onboarding.
fn instances(settings: &[ChromeOsSettings]) -> Vec<Instance> {
    connector::instances_of(
        settings,
        |s| {
            let status = s.onboarding_status.as_deref();
            if status.is_none() || member_is(status, &["unknown", "offboarding"]) {
                return None;
            }
            Some(Instance {
                id: s.id.clone(),
                display_name: s
                    .owner_user_principal_name
                    .clone()
                    .unwrap_or_else(|| "Chromebook".to_string()),
                facts: Facts {
                    expiry: None,
                    last_sync: s.last_directory_sync_date_time,
                    floor: unhealthy_if(member_is(status, &["failed"])),
                },
                state: s.onboarding_status.clone(),
                release: super::connector::Release::default(),
            })
        },
    )
}

/// The `chromeos_onboarding_settings` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<ChromeOsSettings>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
