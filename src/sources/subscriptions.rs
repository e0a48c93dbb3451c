//! Commercial subscriptions: `GET /v1.0/directory/subscriptions`, the lifecycle of each
//! subscription that carries Intune.
//!
//! Graph's `companySubscription` (v1.0) has, per subscription: `id`, `skuId`, `skuPartNumber`,
//! `status` ("Enabled, Deleted, Suspended, Warning, LockedOut", a string, not an enum),
//! `isTrial`, `nextLifecycleDateTime` ("the date and time when the subscription will move to the
//! next state (as defined by the status property) if not renewed by the tenant") and
//! `serviceStatus`, the service plans it provisions. `subscribedSku.subscriptionIds` lists the
//! same `id`s.
//!
//! Microsoft's lifecycle for most offers ("What if my subscription expires", Microsoft 365
//! admin docs): active, then expired (30 days, users keep access), then disabled (90 days,
//! users lose access, admins only), then deleted. Graph says `Warning` for the first grace
//! state and `Suspended` or `LockedOut` for the later ones. A subscription that carries Intune
//! and leaves `Enabled` is on its way to devices dropping out of management.
//!
//! Graph has no auto-renew flag: `nextLifecycleDateTime` of an Enabled subscription is its
//! renewal (or end) date, whether or not it renews by itself. So the date alone is a reason to
//! look, not to page; a trial's date is its end, since trials do not renew unless bought.
//!
//! A subscription counts when one of its `serviceStatus` plans is Intune's, by the rule of
//! [`subscribed_skus`](super::subscribed_skus) (and, as there, applies to users or does not say),
//! so the series stay few: a tenant has a handful of such subscriptions. One without an id or
//! without `serviceStatus` is skipped (nothing says it carries Intune), and one listed twice is
//! exported once, the first. A status Graph adds later sets every state of the stateset to 0.
//!
//! Health on the status page: `Warning`, `Suspended` and `LockedOut` are unhealthy, `Deleted`
//! is a warning (a replacement may exist), and an Enabled one is a warning when its date is
//! within [`TRIAL_WARNING`] (trial) or [`LIFECYCLE_WARNING`] days; the alerting rules use the
//! same numbers.

use super::definition::{first_of_each, Context, Definition, Spec};
use super::subscribed_skus::ServicePlan;
use crate::graph::odata::{lenient, lenient_list, optional_datetime, snake_case, Request, Shape};
use crate::metrics::catalog::{
    SUBSCRIPTION_INFO, SUBSCRIPTION_NEXT_LIFECYCLE_TIMESTAMP, SUBSCRIPTION_STATUS,
};
use crate::metrics::set::MetricSet;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/directory/subscriptions",
    select: &[
        "id",
        "skuId",
        "skuPartNumber",
        "status",
        "isTrial",
        "nextLifecycleDateTime",
        "serviceStatus",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// `status` members in snake_case: the stateset's states.
pub const STATES: [&str; 5] = ["enabled", "warning", "suspended", "locked_out", "deleted"];

/// `status` members that mean users are losing, or have lost, the service.
pub const LAPSING: [&str; 3] = ["warning", "suspended", "locked_out"];

/// Days before a trial's end when it needs attention (the page alert's window).
pub const TRIAL_WARNING: i64 = 7;

/// Days before a subscription's next lifecycle date when it needs a look (the ticket's window).
pub const LIFECYCLE_WARNING: i64 = 30;

/// Graph's `companySubscription`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CompanySubscription {
    /// The subscription's id (as in `subscribedSku.subscriptionIds`).
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// The SKU's id.
    #[serde(default, deserialize_with = "lenient")]
    pub sku_id: Option<String>,
    /// The SKU's part number, e.g. `EMS`.
    #[serde(default, deserialize_with = "lenient")]
    pub sku_part_number: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, `LockedOut` or `Deleted`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// Whether it is a free trial.
    #[serde(default, deserialize_with = "lenient")]
    pub is_trial: Option<bool>,
    /// When it moves to the next state if not renewed.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub next_lifecycle_date_time: Option<DateTime<Utc>>,
    /// The service plans it provisions.
    #[serde(default, deserialize_with = "lenient_list")]
    pub service_status: Vec<ServicePlan>,
}

impl CompanySubscription {
    /// Whether this subscription gives users Intune.
    pub fn carries_intune(&self) -> bool {
        self.service_status
            .iter()
            .any(|p| p.for_users() && p.is_intune())
    }

    /// The `sku` label: the part number, else the SKU's id, else empty.
    pub fn sku(&self) -> &str {
        self.sku_part_number
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(self.sku_id.as_deref())
            .unwrap_or_default()
    }

    /// The `status` in snake_case, when Graph sent one.
    pub fn state(&self) -> Option<String> {
        self.status.as_deref().map(snake_case)
    }

    /// The `trial` label: `true`, `false` or `unknown`.
    pub fn trial(&self) -> &'static str {
        match self.is_trial {
            Some(true) => "true",
            Some(false) => "false",
            None => "unknown",
        }
    }

    /// Whether it needs attention at `now`, and why: `Some(true)` unhealthy, `Some(false)`
    /// warning, `None` nothing to do (or an unknown status).
    pub fn attention(&self, now: DateTime<Utc>) -> Option<bool> {
        let state = self.state()?;
        if LAPSING.contains(&state.as_str()) {
            return Some(true);
        }
        if state == "deleted" {
            return Some(false);
        }
        if state != "enabled" {
            return None;
        }
        let window = if self.is_trial == Some(true) {
            TRIAL_WARNING
        } else {
            LIFECYCLE_WARNING
        };
        let date = self.next_lifecycle_date_time?;
        (date - now < Duration::days(window)).then_some(false)
    }
}

/// The subscriptions that carry Intune and have an id, each once (the first).
pub fn intune_subscriptions(subs: &[CompanySubscription]) -> Vec<&CompanySubscription> {
    let with_id: Vec<(&str, &CompanySubscription)> = subs
        .iter()
        .filter(|s| s.carries_intune())
        .filter_map(|s| Some((s.id.as_deref().filter(|id| !id.is_empty())?, s)))
        .collect();
    first_of_each(&with_id, |(id, _)| *id)
        .into_iter()
        .map(|&(_, s)| s)
        .collect()
}

/// `intune_subscription_info`, `intune_subscription_status` and
/// `intune_subscription_next_lifecycle_timestamp_seconds` per Intune subscription.
pub fn families(subs: &[CompanySubscription], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    for sub in intune_subscriptions(subs) {
        let id = sub.id.as_deref().unwrap_or_default();
        set.gauge(
            &SUBSCRIPTION_INFO,
            &[ctx.tenant_id, id, sub.sku(), sub.trial()],
            1.0,
        );
        if let Some(state) = sub.state() {
            set.stateset(&SUBSCRIPTION_STATUS, &[ctx.tenant_id, id], &STATES, &state);
        }
        if let Some(date) = sub.next_lifecycle_date_time {
            set.gauge(
                &SUBSCRIPTION_NEXT_LIFECYCLE_TIMESTAMP,
                &[ctx.tenant_id, id],
                date.timestamp() as f64,
            );
        }
    }
    set
}

/// The `subscriptions` source.
pub struct Source;

impl Definition for Source {
    // The permission map has no entry for the path; Graph's API page lists Organization.Read.All
    // first (least privileged), then Directory.Read.All and two write permissions.
    const SPEC: Spec = Spec {
        permission: "Organization.Read.All",
        also_accepted: &["Directory.Read.All"],
        request: &REQUEST,
        default_interval: Some("1h"),
        kinds: &[],
    };
    // Installs from before this source have not granted Organization.Read.All: on by default it
    // would go down on upgrade and page for a missing permission. Turned on in the config.
    const ENABLED_BY_DEFAULT: bool = false;
    type Data = Vec<CompanySubscription>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
