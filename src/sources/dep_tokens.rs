//! Apple Automated Device Enrollment (ADE/DEP) tokens:
//! `GET /beta/deviceManagement/depOnboardingSettings` (beta only).
//!
//! Health: `tokenExpirationDateTime` and `lastSuccessfulSyncDateTime` by the page's rules.
//! `lastSyncErrorCode` 3 means Apple Business Manager has new terms and conditions that an
//! administrator must accept before syncs resume; it is exported on its own as
//! `intune_apple_enrollment_terms_pending`, and the stale sync that follows shows in health.

use super::connector::{self, first_name, ConnectorKind, Instance};
use super::Context;
use crate::graph::odata::{optional_datetime, Request, Shape};
use crate::health::Facts;
use crate::metrics::catalog::APPLE_ENROLLMENT_TERMS_PENDING;
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/depOnboardingSettings",
    select: &[
        "id",
        "tokenName",
        "appleIdentifier",
        "tokenExpirationDateTime",
        "lastSuccessfulSyncDateTime",
        "lastSyncErrorCode",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The `lastSyncErrorCode` Apple reports while new terms wait to be accepted.
pub const TERMS_PENDING_ERROR_CODE: i64 = 3;

/// Graph's `depOnboardingSetting`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DepToken {
    /// Graph's id of the token.
    #[serde(default)]
    pub id: String,
    /// The token's name in Intune.
    pub token_name: Option<String>,
    /// The Apple ID the token was created with.
    pub apple_identifier: Option<String>,
    /// When the token expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub token_expiration_date_time: Option<DateTime<Utc>>,
    /// When Intune last synced with Apple successfully.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_successful_sync_date_time: Option<DateTime<Utc>>,
    /// Apple's error code of the last sync (0 when it worked).
    pub last_sync_error_code: Option<i64>,
}

/// The connector families for every token, and whether each waits for accepted terms.
pub fn families(tokens: &[DepToken], ctx: &Context<'_>) -> MetricSet {
    let mut set = connector::families_of(
        ConnectorKind::DepToken,
        tokens,
        |t| {
            Some(Instance {
                id: t.id.clone(),
                display_name: first_name(&[t.token_name.as_deref(), t.apple_identifier.as_deref()]),
                facts: Facts {
                    expiry: t.token_expiration_date_time,
                    last_sync: t.last_successful_sync_date_time,
                    failed: false,
                },
            })
        },
        ctx,
    );
    for t in tokens {
        let pending = t.last_sync_error_code == Some(TERMS_PENDING_ERROR_CODE);
        set.gauge(
            &APPLE_ENROLLMENT_TERMS_PENDING,
            &[ctx.tenant_id, &t.id],
            if pending { 1.0 } else { 0.0 },
        );
    }
    set
}
