//! Service health: `GET /v1.0/admin/serviceAnnouncement/healthOverviews`, for the services
//! chosen in the config (Microsoft Intune by default, matched on the `service` name or the
//! `id`, without regard to case). A service listed twice is exported once, the first.

use super::definition::{first_of_each, Context, Definition, Spec, SERVICE_COMMS_INTERVAL, SERVICE_HEALTH};
use crate::graph::odata::{lenient, lenient_or_default, snake_case, Request, Shape};
use crate::metrics::catalog::SERVICE_HEALTH_STATUS;
use crate::metrics::set::MetricSet;
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/admin/serviceAnnouncement/healthOverviews",
    select: &["id", "service", "status"],
    shape: Shape::Collection,
    filter: None,
};

/// The members of `serviceHealthStatus` in snake_case, plus `unknown` for anything else.
pub const STATES: [&str; 18] = [
    "service_operational",
    "investigating",
    "restoring_service",
    "verifying_service",
    "service_restored",
    "post_incident_review_published",
    "service_degradation",
    "service_interruption",
    "extended_recovery",
    "false_positive",
    "investigation_suspended",
    "resolved",
    "mitigated_external",
    "mitigated",
    "resolved_external",
    "confirmed",
    "reported",
    "unknown",
];

/// Graph's `serviceHealth`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    /// The service's key, e.g. `Intune`.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The service's name, e.g. `Microsoft Intune`.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub service: String,
    /// A `serviceHealthStatus` member (camelCase or PascalCase).
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
}

/// `status` in snake_case, or `unknown`.
pub fn status_label(status: Option<&str>) -> String {
    status
        .map(snake_case)
        .filter(|s| STATES.contains(&s.as_str()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// `intune_service_health_status` for every chosen service.
pub fn families(overviews: &[ServiceHealth], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    for o in first_of_each(overviews, |o| o.service.as_str())
        .into_iter()
        .filter(|o| ctx.options.watches(&o.service) || ctx.options.watches(&o.id))
    {
        set.stateset(
            &SERVICE_HEALTH_STATUS,
            &[ctx.tenant_id, &o.service],
            &STATES,
            &status_label(o.status.as_deref()),
        );
    }
    set
}

/// The `service_health` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: SERVICE_HEALTH,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: Some(SERVICE_COMMS_INTERVAL),
        kinds: &[],
    };
    type Data = Vec<ServiceHealth>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
