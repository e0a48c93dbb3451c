//! Intune news: `GET /v1.0/admin/serviceAnnouncement/messages`, the Message center posts of the
//! chosen services.
//!
//! A post is active while it has no `endDateTime` or its end lies ahead, judged at scrape time.
//! Graph's `$filter` on `services` is not documented for this endpoint, so the exporter asks for
//! every post and filters itself. The most recent active posts (by `lastModifiedDateTime`, as
//! the Message center sorts them) are exported with their titles and last-modified times, so a
//! dashboard can list exactly those posts newest first; counts cover every active post.
//!
//! Every active post with an act-by date (`actionRequiredByDateTime`) has that date exported,
//! however far down the list it is, and an info series, so that every deadline joins to a
//! title. The cost stays low because Microsoft sets the date on few posts; the last-modified
//! series stays with the latest posts, which tells a dashboard which info series are those.
//!
//! `tags` become one label of the info series: only the tags in [`TAGS`], in that order and
//! comma-separated, so the label takes a bounded set of values whatever Microsoft adds. Left
//! out: `Updated message`, which comes and goes with every edit (the last-modified time says
//! so), and `Major update`, already the `major_change` label.
//!
//! `services` and `tags` are nullable in the schema: a post without services is about no
//! watched service. A post listed twice (same id) counts once.

use super::definition::{first_of_each, Context, Definition, Spec};
use crate::graph::odata::{
    lenient, lenient_list, lenient_or_default, optional_datetime, snake_case, Request, Shape,
};
use crate::metrics::catalog::{
    MESSAGE_ACTION_REQUIRED, MESSAGE_CENTER_ACTIVE, MESSAGE_CENTER_INFO, MESSAGE_LAST_MODIFIED,
};
use crate::metrics::set::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/admin/serviceAnnouncement/messages",
    select: &[
        "id",
        "title",
        "services",
        "category",
        "severity",
        "isMajorChange",
        "startDateTime",
        "endDateTime",
        "lastModifiedDateTime",
        "actionRequiredByDateTime",
        "tags",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// `serviceUpdateCategory` members in snake_case, always exported (0 when none).
pub const CATEGORIES: [&str; 3] = ["prevent_or_fix_issue", "plan_for_change", "stay_informed"];
/// `serviceUpdateSeverity` members in snake_case, always exported (0 when none).
pub const SEVERITIES: [&str; 3] = ["normal", "high", "critical"];

/// The Message center tags exported, as Graph spells them and as the label spells them.
pub const TAGS: [(&str, &str); 7] = [
    ("Admin impact", "admin_impact"),
    ("Data privacy", "data_privacy"),
    ("Developer impact", "developer_impact"),
    ("Feature update", "feature_update"),
    ("New feature", "new_feature"),
    ("Retirement", "retirement"),
    ("User impact", "user_impact"),
];

/// Graph's `serviceUpdateMessage`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// e.g. `MC123456`.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The headline.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub title: String,
    /// The services it is about (nullable: none then).
    #[serde(default, deserialize_with = "lenient_list")]
    pub services: Vec<String>,
    /// A `serviceUpdateCategory` member.
    #[serde(default, deserialize_with = "lenient")]
    pub category: Option<String>,
    /// A `serviceUpdateSeverity` member.
    #[serde(default, deserialize_with = "lenient")]
    pub severity: Option<String>,
    /// Whether Microsoft flags it as a major change.
    #[serde(default, deserialize_with = "lenient")]
    pub is_major_change: Option<bool>,
    /// When it stops being relevant, if ever.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub end_date_time: Option<DateTime<Utc>>,
    /// Last update.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    /// The deadline for an action, if any.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub action_required_by_date_time: Option<DateTime<Utc>>,
    /// Free-form tags such as `Admin impact` or `Retirement` (nullable: none then).
    #[serde(default, deserialize_with = "lenient_list")]
    pub tags: Vec<String>,
}

impl Message {
    /// The `tags` label: the post's tags found in [`TAGS`] (case and surrounding blanks
    /// ignored), in [`TAGS`] order, comma-separated; empty when none.
    pub fn tags_label(&self) -> String {
        TAGS.iter()
            .filter(|(graph, _)| {
                self.tags
                    .iter()
                    .any(|t| t.trim().eq_ignore_ascii_case(graph))
            })
            .map(|(_, label)| *label)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn label(member: Option<&str>) -> String {
    member.map_or_else(|| "unknown".to_string(), snake_case)
}

/// The active posts about a watched service at `ctx.now` (an id listed twice counts once), most
/// recently updated first (as the Message center sorts them).
pub fn active<'a>(messages: &'a [Message], ctx: &Context<'_>) -> Vec<&'a Message> {
    let mut active: Vec<&Message> = first_of_each(messages, |m| m.id.as_str())
        .into_iter()
        .filter(|m| m.services.iter().any(|s| ctx.options.watches(s)))
        .filter(|m| m.end_date_time.is_none_or(|end| ctx.before(end)))
        .collect();
    active.sort_by(|a, b| {
        b.last_modified_date_time
            .cmp(&a.last_modified_date_time)
            .then_with(|| b.id.cmp(&a.id))
    });
    active
}

/// Counts, the latest posts, and every active post with an action-required date.
pub fn families(messages: &[Message], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let active = active(messages, ctx);

    let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
    for c in CATEGORIES {
        for s in SEVERITIES {
            counts.insert((c.to_string(), s.to_string()), 0);
        }
    }
    for m in &active {
        *counts
            .entry((label(m.category.as_deref()), label(m.severity.as_deref())))
            .or_default() += 1;
    }
    for ((category, severity), n) in counts {
        set.gauge(
            &MESSAGE_CENTER_ACTIVE,
            &[ctx.tenant_id, &category, &severity],
            f64::from(n),
        );
    }
    let latest = ctx.options.message_center_latest;
    for (rank, m) in active.iter().enumerate() {
        let is_latest = rank < latest;
        if !is_latest && m.action_required_by_date_time.is_none() {
            continue;
        }
        set.gauge(
            &MESSAGE_CENTER_INFO,
            &[
                ctx.tenant_id,
                &m.id,
                &m.title,
                &label(m.category.as_deref()),
                &label(m.severity.as_deref()),
                if m.is_major_change == Some(true) {
                    "true"
                } else {
                    "false"
                },
                &m.tags_label(),
            ],
            1.0,
        );
        if let Some(modified) = m.last_modified_date_time.filter(|_| is_latest) {
            set.gauge(
                &MESSAGE_LAST_MODIFIED,
                &[ctx.tenant_id, &m.id],
                modified.timestamp() as f64,
            );
        }
        if let Some(by) = m.action_required_by_date_time {
            set.gauge(
                &MESSAGE_ACTION_REQUIRED,
                &[ctx.tenant_id, &m.id],
                by.timestamp() as f64,
            );
        }
    }
    set
}

// Message center posts are a few pages per poll against the service communications API's 800
// requests an hour per app and tenant.
const MESSAGE_CENTER_INTERVAL: &str = "15m";

/// The `messages` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: "ServiceMessage.Read.All",
        also_accepted: &[],
        request: &REQUEST,
        default_interval: Some(MESSAGE_CENTER_INTERVAL),
        kinds: &[],
    };
    type Data = Vec<Message>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
