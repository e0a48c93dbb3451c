//! Chromebook (ChromeOS) onboarding: `GET /beta/deviceManagement/chromeOSOnboardingSettings`
//! (beta only).
//!
//! Microsoft publishes no example of this resource and its schema was not available here;
//! it is read as a collection of `chromeOSOnboardingSettings` (a singleton answer is accepted
//! too) and Graph answering 404 means "not configured". An `onboardingStatus` of `unknown` or
//! `offboarding` does not count as configured; `failed` is unhealthy. Health otherwise comes
//! from `lastDirectorySyncDateTime` by the page's rules.

use super::connector::{self, member_is, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::MetricSet;
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
    shape: Shape::Entity,
    filter: None,
};

/// Graph's `chromeOSOnboardingSettings`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChromeOsSettings {
    /// Graph's id of the settings.
    #[serde(default)]
    pub id: String,
    /// The Google Workspace administrator who onboarded the tenant.
    pub owner_user_principal_name: Option<String>,
    /// Last directory sync with Google.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_directory_sync_date_time: Option<DateTime<Utc>>,
    /// `unknown`, `inprogress`, `onboarded`, `failed`, `offboarding`.
    pub onboarding_status: Option<String>,
}

/// The connector families for Chromebook onboarding.
pub fn families(settings: &[ChromeOsSettings], ctx: &Context<'_>) -> MetricSet {
    connector::families_of(
        ConnectorKind::Chromebook,
        settings,
        |s| {
            if s.onboarding_status.is_none()
                || member_is(s.onboarding_status.as_deref(), &["unknown", "offboarding"])
            {
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
                    failed: member_is(s.onboarding_status.as_deref(), &["failed"]),
                },
            })
        },
        ctx,
    )
}
