//! Apple Automated Device Enrollment (ADE/DEP) tokens:
//! `GET /beta/deviceManagement/depOnboardingSettings` (beta only).
//!
//! Health: `tokenExpirationDateTime` and `lastSuccessfulSyncDateTime` by the page's rules.
//! `lastSyncErrorCode` is "error code reported by Apple during last dep sync" (beta docs
//! `intune-enrollment-deponboardingsetting.md`); Microsoft documents no code values. So:
//! - any non-zero code means the last sync attempt after the last successful one failed: the
//!   token is at least a warning, and the stale sync that follows turns it unhealthy by the
//!   date rules;
//! - code 3 as "Apple Business Manager has new terms and conditions to accept" is inferred, not
//!   documented: community tools alert on it (KelvinTegelaar/CIPP among them). It is exported on
//!   its own as `intune_apple_enrollment_terms_pending`.

use super::connector::{self, first_name, ConnectorKind, Instance};
use super::definition::{first_of_each, Context, Definition, Spec, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::{Facts, Health};
use crate::metrics::catalog::APPLE_ENROLLMENT_TERMS_PENDING;
use crate::metrics::set::MetricSet;
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

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "dep_token",
    description: "Apple ADE/DEP token",
    states: &[],
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// The `lastSyncErrorCode` Apple reports while new terms wait to be accepted (inferred, see the
/// module docs).
pub const TERMS_PENDING_ERROR_CODE: i64 = 3;

/// Graph's `depOnboardingSetting`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DepToken {
    /// Graph's id of the token.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The token's name in Intune.
    #[serde(default, deserialize_with = "lenient")]
    pub token_name: Option<String>,
    /// The Apple ID the token was created with.
    #[serde(default, deserialize_with = "lenient")]
    pub apple_identifier: Option<String>,
    /// When the token expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub token_expiration_date_time: Option<DateTime<Utc>>,
    /// When Intune last synced with Apple successfully.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_successful_sync_date_time: Option<DateTime<Utc>>,
    /// Apple's error code of the last sync (0 when it worked).
    #[serde(default, deserialize_with = "lenient")]
    pub last_sync_error_code: Option<i64>,
}

impl DepToken {
    /// Whether the last sync attempt failed (a non-zero `lastSyncErrorCode`).
    pub fn last_sync_failed(&self) -> bool {
        self.last_sync_error_code.is_some_and(|c| c != 0)
    }
}

/// The connector instances of every token.
fn instances(tokens: &[DepToken]) -> Vec<Instance> {
    connector::instances_of(tokens, |t| {
        Some(Instance {
            id: t.id.clone(),
            display_name: first_name(&[t.token_name.as_deref(), t.apple_identifier.as_deref()]),
            facts: Facts {
                expiry: t.token_expiration_date_time,
                last_sync: t.last_successful_sync_date_time,
                floor: if t.last_sync_failed() {
                    Health::Warning
                } else {
                    Health::Healthy
                },
            },
            state: None,
            release: super::connector::Release::default(),
        })
    })
}

/// Whether each token waits for accepted terms.
fn families(tokens: &[DepToken], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    for t in first_of_each(tokens, |t| t.id.as_str()) {
        let pending = t.last_sync_error_code == Some(TERMS_PENDING_ERROR_CODE);
        set.gauge(
            &APPLE_ENROLLMENT_TERMS_PENDING,
            &[ctx.tenant_id, &t.id],
            if pending { 1.0 } else { 0.0 },
        );
    }
    set
}

/// The `dep_onboarding_settings` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<DepToken>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
