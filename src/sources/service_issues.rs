//! Incidents and advisories: `GET /v1.0/admin/serviceAnnouncement/issues`, for the services
//! chosen in the config.
//!
//! Two views of the same list, both judged at scrape time:
//! - unresolved issues: a count per watched service and classification (0 included), and an
//!   info series and start time per issue; the info series carries `origin`, since a
//!   `customer`-origin issue is the tenant's own and must not be grouped with other tenants'
//!   by its id, as Microsoft's (`microsoft`, `thirdParty`) issues are;
//! - issues resolved in the last 30 days (by `endDateTime`, else `lastModifiedDateTime`): a
//!   count per watched service and classification, what the Service health page shows behind
//!   its "past incidents and advisories" link.
//!
//! Why no `$filter`: the resolved issues are needed too, and a static filter cannot say "the
//! last 30 days". Graph documents no `$filter` for this list either. Without it the poll is
//! still one request per page of 100 issues (Microsoft's `serviceannouncement-list-issues`
//! page), well within the
//! service communications limit of 800 requests an hour per app and tenant at the 5-minute
//! default. The exporter filters by service and resolution itself, so the answer is the same
//! whatever Graph does with query options. An issue listed twice (same id) counts once.

use super::definition::{first_of_each, Context, Definition, Spec, SERVICE_COMMS_INTERVAL, SERVICE_HEALTH};
use crate::graph::odata::{
    lenient, lenient_or_default, optional_datetime, snake_case, Request, Shape,
};
use crate::metrics::catalog::{
    SERVICE_ISSUES_ACTIVE, SERVICE_ISSUES_RECENTLY_RESOLVED, SERVICE_ISSUE_INFO,
    SERVICE_ISSUE_START,
};
use crate::metrics::set::MetricSet;
use chrono::{DateTime, TimeDelta, Utc};
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
        "origin",
        "status",
        "featureGroup",
        "feature",
        "isResolved",
        "startDateTime",
        "endDateTime",
        "lastModifiedDateTime",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The classifications counted; anything else (`unknownFutureValue`) is exported as it comes.
pub const CLASSIFICATIONS: [&str; 2] = ["incident", "advisory"];

/// How far back resolved issues are counted: the Service health page's history.
pub const RESOLVED_WINDOW: TimeDelta = TimeDelta::days(30);

/// Graph's `serviceHealthIssue`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceIssue {
    /// e.g. `IT123456`.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The headline.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub title: String,
    /// The service's name, e.g. `Microsoft Intune`.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub service: String,
    /// `incident` or `advisory`.
    #[serde(default, deserialize_with = "lenient")]
    pub classification: Option<String>,
    /// A `serviceHealthOrigin` member: `microsoft`, `thirdParty`, `customer`.
    #[serde(default, deserialize_with = "lenient")]
    pub origin: Option<String>,
    /// A `serviceHealthStatus` member.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// The feature group affected.
    #[serde(default, deserialize_with = "lenient")]
    pub feature_group: Option<String>,
    /// The feature affected.
    #[serde(default, deserialize_with = "lenient")]
    pub feature: Option<String>,
    /// Whether it is over; unknown counts as not resolved, so it stays visible.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub is_resolved: bool,
    /// When it started.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub start_date_time: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub end_date_time: Option<DateTime<Utc>>,
    /// Last update.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
}

impl ServiceIssue {
    /// Whether it was resolved within [`RESOLVED_WINDOW`] before `ctx.now`; notes in the
    /// horizon the instant it leaves the window, where the count changes.
    pub fn resolved_recently(&self, ctx: &Context<'_>) -> bool {
        self.is_resolved
            && self
                .end_date_time
                .or(self.last_modified_date_time)
                .and_then(|end| end.checked_add_signed(RESOLVED_WINDOW))
                // In the window while `now - end <= window`: until the next instant after it.
                .and_then(|last| last.checked_add_signed(TimeDelta::nanoseconds(1)))
                .is_some_and(|until| ctx.before(until))
    }
}

/// The unresolved issues of the watched services (an id listed twice counts once).
pub fn active<'a>(issues: &'a [ServiceIssue], ctx: &Context<'_>) -> Vec<&'a ServiceIssue> {
    first_of_each(issues, |i| i.id.as_str())
        .into_iter()
        .filter(|i| !i.is_resolved && ctx.options.watches(&i.service))
        .collect()
}

/// Zero counts for every watched service and classification.
fn zero_counts(ctx: &Context<'_>) -> BTreeMap<(String, String), u32> {
    let mut counts = BTreeMap::new();
    for service in &ctx.options.services {
        for c in CLASSIFICATIONS {
            counts.insert((service.clone(), c.to_string()), 0);
        }
    }
    counts
}

/// Counts, info and start time of the chosen services' issues.
pub fn families(issues: &[ServiceIssue], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let mut active = zero_counts(ctx);
    let mut resolved = zero_counts(ctx);
    let watched = first_of_each(issues, |i| i.id.as_str())
        .into_iter()
        .filter(|i| ctx.options.watches(&i.service));
    for i in watched {
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
        if i.is_resolved {
            if i.resolved_recently(ctx) {
                *resolved.entry((service, classification)).or_default() += 1;
            }
            continue;
        }
        *active.entry((service, classification.clone())).or_default() += 1;
        set.gauge(
            &SERVICE_ISSUE_INFO,
            &[
                ctx.tenant_id,
                &i.service,
                &i.id,
                &classification,
                &i.origin
                    .as_deref()
                    .map_or_else(|| "unknown".to_string(), snake_case),
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
    for (family, counts) in [
        (&SERVICE_ISSUES_ACTIVE, active),
        (&SERVICE_ISSUES_RECENTLY_RESOLVED, resolved),
    ] {
        for ((service, classification), n) in counts {
            set.gauge(
                family,
                &[ctx.tenant_id, &service, &classification],
                f64::from(n),
            );
        }
    }
    set
}

/// The `service_issues` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: SERVICE_HEALTH,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: Some(SERVICE_COMMS_INTERVAL),
        kinds: &[],
    };
    type Data = Vec<ServiceIssue>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
