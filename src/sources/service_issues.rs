//! Incidents and advisories: `GET /v1.0/admin/serviceAnnouncement/issues?$filter=isResolved eq false`,
//! for the services chosen in the config. Only unresolved issues are exported; the count of
//! active incidents and advisories is exported for every chosen service, 0 included.

use super::Context;
use crate::graph::odata::{optional_datetime, snake_case, Request, Shape};
use crate::metrics::catalog::{SERVICE_ISSUES_ACTIVE, SERVICE_ISSUE_INFO, SERVICE_ISSUE_START};
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/admin/serviceAnnouncement/issues",
    select: &[
        "id",
        "title",
        "service",
        "classification",
        "status",
        "featureGroup",
        "feature",
        "isResolved",
        "startDateTime",
    ],
    shape: Shape::Collection,
    filter: Some("isResolved eq false"),
};

/// The classifications counted; anything else (`unknownFutureValue`) is exported as it comes.
pub const CLASSIFICATIONS: [&str; 2] = ["incident", "advisory"];

/// Graph's `serviceHealthIssue`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceIssue {
    /// e.g. `IT123456`.
    #[serde(default)]
    pub id: String,
    /// The headline.
    #[serde(default)]
    pub title: String,
    /// The service's name, e.g. `Microsoft Intune`.
    #[serde(default)]
    pub service: String,
    /// `incident` or `advisory`.
    pub classification: Option<String>,
    /// A `serviceHealthStatus` member.
    pub status: Option<String>,
    /// The feature group affected.
    pub feature_group: Option<String>,
    /// The feature affected.
    pub feature: Option<String>,
    /// Whether it is over.
    #[serde(default)]
    pub is_resolved: bool,
    /// When it started.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub start_date_time: Option<DateTime<Utc>>,
}

/// The unresolved issues of the watched services.
pub fn active<'a>(issues: &'a [ServiceIssue], ctx: &Context<'_>) -> Vec<&'a ServiceIssue> {
    issues
        .iter()
        .filter(|i| !i.is_resolved && ctx.options.watches(&i.service))
        .collect()
}

/// Counts, info and start time of every unresolved issue of the chosen services.
pub fn families(issues: &[ServiceIssue], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
    for service in &ctx.options.services {
        for c in CLASSIFICATIONS {
            counts.insert((service.clone(), c.to_string()), 0);
        }
    }
    for i in active(issues, ctx) {
        let classification = i
            .classification
            .as_deref()
            .map_or_else(|| "unknown".to_string(), snake_case);
        let service = ctx
            .options
            .services
            .iter()
            .find(|s| s.eq_ignore_ascii_case(&i.service))
            .cloned()
            .unwrap_or_else(|| i.service.clone());
        *counts.entry((service, classification.clone())).or_default() += 1;
        set.gauge(
            &SERVICE_ISSUE_INFO,
            &[
                ctx.tenant_id,
                &i.service,
                &i.id,
                &classification,
                &super::service_health::status_label(i.status.as_deref()),
                i.feature_group.as_deref().unwrap_or(""),
                i.feature.as_deref().unwrap_or(""),
                &i.title,
            ],
            1.0,
        );
        if let Some(start) = i.start_date_time {
            set.gauge(
                &SERVICE_ISSUE_START,
                &[ctx.tenant_id, &i.id],
                start.timestamp() as f64,
            );
        }
    }
    for ((service, classification), n) in counts {
        set.gauge(
            &SERVICE_ISSUES_ACTIVE,
            &[ctx.tenant_id, &service, &classification],
            f64::from(n),
        );
    }
    set
}
