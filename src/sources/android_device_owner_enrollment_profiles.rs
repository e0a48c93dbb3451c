//! Android Enterprise enrollment tokens of corporate-owned devices (dedicated, fully managed,
//! work profile, AOSP): `GET /beta/deviceManagement/androidDeviceOwnerEnrollmentProfiles`.
//!
//! A profile's token (the QR code or code a device is enrolled with) expires at
//! `tokenExpirationDateTime`. After that, new enrollments with that token fail; devices already
//! enrolled are not affected. Health: the page's expiry rules (expired is unhealthy, within
//! the expiry warning is a warning). A profile without a token date (no token was ever created,
//! or it was revoked) is not counted. An expired token on a profile nobody enrols with any more
//! is still reported: revoke it or delete the profile in Intune, or turn the source off.
//!
//! **The answer carries the token itself**: `tokenValue`, `qrCodeContent` (which embeds the
//! Wi-Fi password when the profile configures one), `qrCodeImage` and `wifiPassword`. None of
//! them is ever selected, and the decoded type has no field that could hold them, so they are
//! never requested, stored, logged or exported. `tests/hardening.rs` proves it against an
//! answer that ignores `$select`.

use super::connector::{self, first_name, ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for: never `tokenValue`, `qrCodeContent`, `qrCodeImage` or
/// `wifiPassword`.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/androidDeviceOwnerEnrollmentProfiles",
    select: &[
        "id",
        "displayName",
        "enrollmentMode",
        "tokenExpirationDateTime",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// Properties of the profile that hold the token or a password: never selected.
pub const NEVER_SELECTED: [&str; 4] = ["tokenValue", "qrCodeContent", "qrCodeImage", "wifiPassword"];

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "android_enrollment_token",
    description: "Android Enterprise enrollment token (corporate-owned)",
    states: &[],
    // No narrower blade of the Android enrollment profiles is verified.
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// Graph's `androidDeviceOwnerEnrollmentProfile`, the properties used (and none that holds a
/// secret).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentProfile {
    /// Graph's id of the profile.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The profile's name.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// `corporateOwnedDedicatedDevice`, `corporateOwnedFullyManaged`,
    /// `corporateOwnedWorkProfile`, `corporateOwnedAOSPUserlessDevice`,
    /// `corporateOwnedAOSPUserAssociatedDevice` (kept as sent).
    #[serde(default, deserialize_with = "lenient")]
    pub enrollment_mode: Option<String>,
    /// When the current token expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub token_expiration_date_time: Option<DateTime<Utc>>,
}

/// The connector instances: every profile with a token.
fn instances(profiles: &[EnrollmentProfile]) -> Vec<Instance> {
    connector::instances_of(profiles, |p| {
        let expiry = p.token_expiration_date_time?;
        Some(Instance {
            id: p.id.clone(),
            display_name: first_name(&[p.display_name.as_deref(), p.enrollment_mode.as_deref()]),
            facts: Facts {
                expiry: Some(expiry),
                ..Facts::default()
            },
            state: None,
        })
    })
}

/// The `android_device_owner_enrollment_profiles` source.
pub struct Source;

impl Definition for Source {
    // Least privileged for the path in Microsoft's permission map and on the API's page.
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<EnrollmentProfile>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_that_holds_a_secret_is_selected() {
        for field in NEVER_SELECTED {
            assert!(!REQUEST.select.contains(&field), "{field}");
        }
    }
}
