//! The status page's view model: what the fleet table and a tenant's page show, built from the
//! shared [`State`] at request time, with health evaluated by the same code as `/metrics`.
//!
//! Two functions read the state ([`fleet`] and [`tenant`]); everything below them is plain data
//! that the HTML and JSON renderers turn into text. The glue from the state lives in the
//! `from the state` section at the end, in one place. Nothing here does I/O or renders.

use crate::graph::Cloud;
use crate::health::{Facts, Health, TypeHealth};
use crate::sources::connector::KindHealth;
use crate::sources::{
    messages, service_health, service_issues, subscriptions, Context, Horizon, SourceData,
};
use crate::state::{PollError, SignIn, Slot, SourceState, State, TenantState};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A connector's (or a tenant's worst) status, in the order the page lists them: the worst
/// first, not configured last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Needs attention now.
    Unhealthy,
    /// Needs attention soon.
    Warning,
    /// The source that reports it has no data (never polled successfully, or disabled).
    Unknown,
    /// Nothing to do.
    Healthy,
    /// No instance exists.
    NotConfigured,
}

impl Status {
    /// Every status, in page order.
    pub const ALL: [Status; 5] = [
        Status::Unhealthy,
        Status::Warning,
        Status::Unknown,
        Status::Healthy,
        Status::NotConfigured,
    ];

    /// The machine name (as in the metrics' `status` label, plus `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unhealthy => "unhealthy",
            Status::Warning => "warning",
            Status::Unknown => "unknown",
            Status::Healthy => "healthy",
            Status::NotConfigured => "not_configured",
        }
    }

    /// What the page prints.
    pub fn label(self) -> &'static str {
        match self {
            Status::Unhealthy => "Unhealthy",
            Status::Warning => "Warning",
            Status::Unknown => "No data",
            Status::Healthy => "Healthy",
            Status::NotConfigured => "Not configured",
        }
    }
}

impl From<Health> for Status {
    fn from(h: Health) -> Self {
        match h {
            Health::Healthy => Status::Healthy,
            Health::Warning => Status::Warning,
            Health::Unhealthy => Status::Unhealthy,
        }
    }
}

impl From<TypeHealth> for Status {
    fn from(h: TypeHealth) -> Self {
        match h {
            TypeHealth::Configured(h) => h.into(),
            TypeHealth::NotConfigured => Status::NotConfigured,
        }
    }
}

/// How many connectors (kinds in the fleet table, rows of the connector table on a tenant's
/// page) are in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// Unhealthy kinds.
    pub unhealthy: usize,
    /// Kinds with a warning.
    pub warning: usize,
    /// Kinds whose source has no data.
    pub unknown: usize,
    /// Healthy kinds.
    pub healthy: usize,
    /// Kinds with no instance.
    pub not_configured: usize,
}

impl StatusCounts {
    /// Counts one more in `s`.
    pub fn add(&mut self, s: Status) {
        *self.get_mut(s) += 1;
    }

    fn get_mut(&mut self, s: Status) -> &mut usize {
        match s {
            Status::Unhealthy => &mut self.unhealthy,
            Status::Warning => &mut self.warning,
            Status::Unknown => &mut self.unknown,
            Status::Healthy => &mut self.healthy,
            Status::NotConfigured => &mut self.not_configured,
        }
    }

    /// The count of kinds in `s`.
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Unhealthy => self.unhealthy,
            Status::Warning => self.warning,
            Status::Unknown => self.unknown,
            Status::Healthy => self.healthy,
            Status::NotConfigured => self.not_configured,
        }
    }
}

/// Every tenant, worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetView {
    /// When the view was built (health is evaluated at this time).
    pub generated_at: DateTime<Utc>,
    /// The tenants, worst first.
    pub tenants: Vec<TenantSummary>,
}

impl FleetView {
    /// Keeps the tenants that match `query` (see [`TenantSummary::matches`]); an empty query
    /// keeps them all.
    pub fn filter(&mut self, query: &str) {
        let q = query.trim().to_lowercase();
        if !q.is_empty() {
            self.tenants.retain(|t| t.matches(&q));
        }
    }
}

/// One row of the fleet table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantSummary {
    /// The directory (tenant) ID.
    pub tenant_id: String,
    /// The tenant's name from Graph, once `organization` has been polled.
    pub name: Option<String>,
    /// The labels set for the tenant in the configuration.
    pub labels: BTreeMap<String, String>,
    /// The worst status of its connector kinds.
    pub worst_status: Status,
    /// Connector kinds per status.
    pub connectors: StatusCounts,
    /// Sources whose last poll failed.
    pub sources_down: Vec<&'static str>,
    /// Sources polled for this tenant.
    pub sources_total: usize,
    /// The most recent successful poll of any of its sources.
    pub last_success: Option<DateTime<Utc>>,
    /// How the last sign-in went; `None` before the first poll.
    pub sign_in: Option<SignIn>,
}

impl TenantSummary {
    /// Whether the last sign-in failed: then no source can be read, whatever the connectors
    /// last showed.
    pub fn cannot_sign_in(&self) -> bool {
        self.sign_in.as_ref().is_some_and(|s| !s.up)
    }

    /// The order of the fleet table: a tenant that cannot sign in first (nothing of it can be
    /// read, which is at least as bad as unhealthy), then by worst status, sources down, and
    /// the most unhealthy and warning connector kinds; by name and id within that.
    pub fn worst_first(&self, other: &Self) -> std::cmp::Ordering {
        other
            .cannot_sign_in()
            .cmp(&self.cannot_sign_in())
            .then(self.worst_status.cmp(&other.worst_status))
            .then(other.sources_down.len().cmp(&self.sources_down.len()))
            .then(other.connectors.unhealthy.cmp(&self.connectors.unhealthy))
            .then(other.connectors.warning.cmp(&self.connectors.warning))
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.tenant_id.cmp(&other.tenant_id))
    }

    /// Whether a lower-case `query` occurs in the name, the id, a label (`key=value`), the worst
    /// status or a source that is down.
    pub fn matches(&self, q: &str) -> bool {
        let has = |s: &str| s.to_lowercase().contains(q);
        self.name.as_deref().is_some_and(has)
            || has(&self.tenant_id)
            || self.labels.iter().any(|(k, v)| has(&format!("{k}={v}")))
            || has(self.worst_status.as_str())
            || (self.cannot_sign_in() && has(SIGN_IN_FAILED))
            || self.sources_down.iter().any(|s| has(s))
    }
}

/// What the fleet table's filter matches, and the row's `data-sign-in`, for a tenant that
/// cannot sign in.
pub const SIGN_IN_FAILED: &str = "sign_in_failed";

/// A tenant and its name, for the tenant picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantLink {
    /// The directory (tenant) ID.
    pub tenant_id: String,
    /// The tenant's name from Graph, once `organization` has been polled.
    pub name: Option<String>,
}

/// A tenant's page: the four areas of Intune's Tenant status page and the exporter's sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantView {
    /// When the view was built.
    pub generated_at: DateTime<Utc>,
    /// The fleet table's row of this tenant.
    pub summary: TenantSummary,
    /// Tenant details.
    pub details: TenantDetails,
    /// Licences of SKUs that carry Intune.
    pub licences: Vec<LicenceView>,
    /// Every connector, in the page's order: unhealthy, warning, no data, healthy, not
    /// configured; by kind and name within a status.
    pub connectors: Vec<ConnectorView>,
    /// The Tenant status blade of the admin center for this tenant.
    pub admin_center_url: String,
    /// Health of the watched services.
    pub service_health: Vec<ServiceHealthView>,
    /// Unresolved incidents and advisories of the watched services.
    pub issues: Vec<IssueView>,
    /// The latest active Message center posts, newest first.
    pub messages: Vec<MessageView>,
    /// What the exporter reads beyond Intune's page, worst first.
    pub beyond: Vec<BeyondRow>,
    /// Every source polled for this tenant, those that are down first.
    pub sources: Vec<SourceView>,
    /// Every tenant, by name (the id where the name is not known), for the tenant picker.
    #[serde(skip)]
    pub tenants: Vec<TenantLink>,
}

/// Tenant details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TenantDetails {
    /// The tenant's name.
    pub name: Option<String>,
    /// Two-letter country code.
    pub country_code: Option<String>,
    /// The MDM authority as Graph sends it.
    pub mdm_authority: Option<String>,
    /// The Intune subscription state as Graph sends it.
    pub subscription_state: Option<String>,
}

/// One SKU's licences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceView {
    /// The SKU part number.
    pub sku: String,
    /// Units assigned.
    pub consumed: i64,
    /// Active units.
    pub enabled: i64,
    /// Units of a suspended subscription.
    pub suspended: i64,
    /// Units in the grace period.
    pub warning: i64,
    /// Units of a cancelled subscription.
    pub locked_out: i64,
}

/// One row of the connector table: an instance, or a kind with none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorView {
    /// The `connector` label value.
    pub connector: &'static str,
    /// What kind of connector it is.
    pub kind_name: &'static str,
    /// Graph's id of the instance; `None` for a kind with no instance (or no data).
    pub connector_id: Option<String>,
    /// The instance's name.
    pub display_name: Option<String>,
    /// Its status.
    pub status: Status,
    /// When its certificate or token expires.
    pub expiry: Option<DateTime<Utc>>,
    /// When it last synchronised.
    pub last_sync: Option<DateTime<Utc>>,
    /// The admin center blade where it is managed, for this tenant and cloud.
    pub admin_center_url: String,
}

/// A watched service's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceHealthView {
    /// The service's name.
    pub service: String,
    /// Its status in snake_case (as the metric's `status` label).
    pub status: String,
}

/// An unresolved incident or advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueView {
    /// e.g. `IT123456`.
    pub id: String,
    /// The headline, as Microsoft wrote it.
    pub title: String,
    /// The service.
    pub service: String,
    /// `incident` or `advisory`.
    pub classification: String,
    /// Its status in snake_case.
    pub status: String,
    /// The feature affected.
    pub feature: Option<String>,
    /// When it started.
    pub start: Option<DateTime<Utc>>,
}

/// A Message center post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    /// e.g. `MC123456`.
    pub id: String,
    /// The headline, as Microsoft wrote it.
    pub title: String,
    /// A `serviceUpdateCategory` member as sent.
    pub category: Option<String>,
    /// A `serviceUpdateSeverity` member as sent.
    pub severity: Option<String>,
    /// Whether Microsoft flags it as a major change.
    pub major_change: bool,
    /// Last update.
    pub last_modified: Option<DateTime<Utc>>,
    /// The deadline for an action, if any.
    pub action_required_by: Option<DateTime<Utc>>,
}

/// One row of the "Beyond the page" area: something Intune's Tenant status page does not show
/// that a source reads, such as a commercial subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BeyondRow {
    /// What it is, in snake_case: e.g. `commercial_subscription`.
    pub kind: &'static str,
    /// Its display name.
    pub name: String,
    /// Healthy, warning, unhealthy, or unknown when its source does not say.
    pub status: Status,
    /// The date that matters for it, if any (a subscription's next lifecycle date).
    pub date: Option<DateTime<Utc>>,
    /// What the status rests on, in words.
    pub detail: String,
}

/// A commercial subscription that carries Intune, as a "Beyond the page" row at `now`.
fn subscription_row(s: &subscriptions::CompanySubscription, now: DateTime<Utc>) -> BeyondRow {
    let status = match (s.attention(now), s.state().as_deref()) {
        (Some(true), _) => Status::Unhealthy,
        (Some(false), _) => Status::Warning,
        (None, Some("enabled")) => Status::Healthy,
        (None, _) => Status::Unknown,
    };
    let trial = if s.is_trial == Some(true) {
        ", trial"
    } else {
        ""
    };
    BeyondRow {
        kind: "commercial_subscription",
        name: s.sku().to_string(),
        status,
        date: s.next_lifecycle_date_time,
        detail: format!(
            "{}{trial}; subscription {}",
            s.status.as_deref().unwrap_or("no status"),
            s.id.as_deref().unwrap_or_default()
        ),
    }
}

/// One source of the tenant: how its polls went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceView {
    /// The `source` label value.
    pub source: &'static str,
    /// `None` until the first poll finished; then whether the last one succeeded.
    pub up: Option<bool>,
    /// When the last poll started.
    pub last_poll: Option<DateTime<Utc>>,
    /// When a poll last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// How long the last poll took, in seconds.
    pub duration_seconds: Option<f64>,
    /// When the next poll is due: the last poll plus the interval (the poller spreads polls
    /// over a tenth of the interval, so it may come a little later).
    pub next_poll: Option<DateTime<Utc>>,
    /// The poll interval, in seconds.
    pub interval_seconds: u64,
    /// The last failure, if any (also after a later success). Holds no secret and no token.
    pub last_error: Option<PollError>,
}

/// The Intune admin center of a cloud. Microsoft Learn lists the sovereign ones: GCC High and
/// DoD share `intune.microsoft.us` (learn.microsoft.com/intune/fundamentals/endpoints-us-government),
/// 21Vianet's is `intune.microsoftonline.cn` (.../mem/intune/fundamentals/china-endpoints).
pub fn admin_center_host(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => "https://intune.microsoft.com",
        Cloud::UsGov | Cloud::UsGovDod => "https://intune.microsoft.us",
        Cloud::China => "https://intune.microsoftonline.cn",
    }
}

/// What a path segment must encode (RFC 3986 `pchar` keeps the rest, GUIDs pass unchanged).
pub const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The admin center blade of the Tenant status page.
pub const TENANT_STATUS_BLADE: &str =
    "Microsoft_Intune_DeviceSettings/TenantAdminMenu/~/tenantStatus";

/// `https://{admin center}/{tenant_id}/#view/{blade}`: the tenant in the path makes the admin
/// center open that directory, which matters to anyone who administers several.
pub fn admin_center_url(cloud: Cloud, tenant_id: &str, blade: &str) -> String {
    let tenant = percent_encoding::utf8_percent_encode(tenant_id, PATH_SEGMENT);
    format!("{}/{tenant}/#view/{blade}", admin_center_host(cloud))
}

// ---- from the state ----------------------------------------------------------------------
//
// The only code that knows how `State` is laid out. Everything above is independent of it.

/// Every tenant of `state` at `now`, worst first.
pub fn fleet(state: &State, now: DateTime<Utc>) -> FleetView {
    let tenants = state
        .tenants()
        .iter()
        .map(|t| summary(state, t, now).0)
        .collect();
    fleet_of(tenants, now)
}

/// The fleet table of these rows, worst first.
pub fn fleet_of(mut tenants: Vec<TenantSummary>, now: DateTime<Utc>) -> FleetView {
    tenants.sort_by(TenantSummary::worst_first);
    FleetView {
        generated_at: now,
        tenants,
    }
}

/// The page of the tenant `tenant_id` (compared without regard to case) at `now`.
pub fn tenant(state: &State, tenant_id: &str, now: DateTime<Utc>) -> Option<TenantView> {
    let tenant = state
        .tenant(tenant_id)
        .or_else(|| state.tenant(&tenant_id.to_ascii_lowercase()))?;
    let mut view = read_tenant(state, &tenant, now, true, &Horizon::new());
    view.tenants = state
        .tenants()
        .iter()
        .map(|t| TenantLink {
            tenant_id: t.tenant_id.clone(),
            name: tenant_name(t),
        })
        .collect();
    view.tenants.sort_by_cached_key(|t| {
        (
            t.name.as_deref().unwrap_or(&t.tenant_id).to_lowercase(),
            t.tenant_id.clone(),
        )
    });
    Some(view)
}

/// The tenant's name from its last good `organization` data.
fn tenant_name(tenant: &TenantState) -> Option<String> {
    let data = tenant
        .slot(crate::sources::Source::Organization)?
        .load()
        .data
        .clone()?;
    match data.as_ref() {
        SourceData::Organization(orgs) => {
            organization(orgs, &tenant.tenant_id).and_then(|o| o.display_name.clone())
        }
        _ => None,
    }
}

/// The tenant's own entry of `/organization` (the first one if none has its id).
fn organization<'a>(
    orgs: &'a [crate::sources::organization::Organization],
    tenant_id: &str,
) -> Option<&'a crate::sources::organization::Organization> {
    orgs.iter()
        .find(|o| o.id.eq_ignore_ascii_case(tenant_id))
        .or(orgs.first())
}

/// The fleet table's row of `tenant` at `now`, and the first instant at which it would read
/// differently (`None`: not before its state changes).
pub fn summary(
    state: &State,
    tenant: &TenantState,
    now: DateTime<Utc>,
) -> (TenantSummary, Option<DateTime<Utc>>) {
    let horizon = Horizon::new();
    let view = read_tenant(state, tenant, now, false, &horizon);
    (view.summary, horizon.get())
}

/// Reads one tenant. `full` also reads what only its page shows (licences, news, ...);
/// `horizon` learns when what was read stops describing the present.
fn read_tenant(
    state: &State,
    tenant: &TenantState,
    now: DateTime<Utc>,
    full: bool,
    horizon: &Horizon,
) -> TenantView {
    let settings = state.settings();
    let tenant_id = tenant.tenant_id.as_str();
    let slots = tenant.slots();
    let ctx = Context {
        tenant_id,
        now,
        thresholds: &settings.thresholds,
        options: &settings.options,
        horizon,
    };
    let mut view = TenantView {
        generated_at: now,
        summary: TenantSummary {
            tenant_id: tenant_id.to_string(),
            name: None,
            labels: (*tenant.labels()).clone(),
            worst_status: Status::NotConfigured,
            connectors: StatusCounts::default(),
            sources_down: Vec::new(),
            sources_total: slots.len(),
            last_success: None,
            sign_in: tenant.sign_in().as_deref().cloned(),
        },
        details: TenantDetails::default(),
        licences: Vec::new(),
        connectors: Vec::new(),
        admin_center_url: admin_center_url(settings.cloud, tenant_id, TENANT_STATUS_BLADE),
        service_health: Vec::new(),
        issues: Vec::new(),
        messages: Vec::new(),
        beyond: Vec::new(),
        sources: Vec::new(),
        tenants: Vec::new(),
    };
    let mut kinds: Vec<KindHealth> = Vec::new();
    for slot in &slots {
        let s = slot.load();
        if s.completed_polls > 0 && !s.up {
            view.summary.sources_down.push(slot.source.name());
        }
        view.summary.last_success = view.summary.last_success.max(s.last_success);
        if full {
            let interval = settings
                .sources
                .iter()
                .find(|x| x.source == slot.source)
                .map_or(Duration::ZERO, |x| x.interval);
            view.sources.push(source_view(slot, &s, interval));
        }
        let Some(data) = &s.data else { continue };
        kinds.extend(data.connectors(&ctx));
        match data.as_ref() {
            SourceData::Organization(orgs) => {
                if let Some(org) = organization(orgs, tenant_id) {
                    view.summary.name = org.display_name.clone();
                    view.details.name = org.display_name.clone();
                    view.details.country_code = org.country_letter_code.clone();
                    view.details.mdm_authority = org.mobile_device_management_authority.clone();
                }
            }
            _ if !full => {}
            SourceData::DeviceManagement(dm) => {
                view.details.subscription_state =
                    dm.as_ref().and_then(|d| d.subscription_state.clone());
            }
            SourceData::SubscribedSkus(skus) => {
                view.licences = skus
                    .iter()
                    .filter(|s| s.carries_intune())
                    .map(|s| LicenceView {
                        sku: s.sku_part_number.clone().unwrap_or_default(),
                        consumed: s.consumed_units.unwrap_or(0),
                        enabled: s.prepaid_units.enabled.unwrap_or(0),
                        suspended: s.prepaid_units.suspended.unwrap_or(0),
                        warning: s.prepaid_units.warning.unwrap_or(0),
                        locked_out: s.prepaid_units.locked_out.unwrap_or(0),
                    })
                    .collect();
            }
            SourceData::ServiceHealth(overviews) => {
                view.service_health = overviews
                    .iter()
                    .filter(|o| ctx.options.watches(&o.service) || ctx.options.watches(&o.id))
                    .map(|o| ServiceHealthView {
                        service: o.service.clone(),
                        status: service_health::status_label(o.status.as_deref()),
                    })
                    .collect();
            }
            SourceData::ServiceIssues(issues) => {
                view.issues = service_issues::active(issues, &ctx)
                    .into_iter()
                    .map(|i| IssueView {
                        id: i.id.clone(),
                        title: i.title.clone(),
                        service: i.service.clone(),
                        classification: i.classification.clone().unwrap_or_default(),
                        status: service_health::status_label(i.status.as_deref()),
                        feature: i.feature.clone(),
                        start: i.start_date_time,
                    })
                    .collect();
            }
            SourceData::Subscriptions(subs) => {
                view.beyond.extend(
                    subscriptions::intune_subscriptions(subs)
                        .into_iter()
                        .map(|s| subscription_row(s, now)),
                );
            }
            SourceData::Messages(posts) => {
                view.messages = messages::active(posts, &ctx)
                    .into_iter()
                    .take(settings.options.message_center_latest)
                    .map(|m| MessageView {
                        id: m.id.clone(),
                        title: m.title.clone(),
                        category: m.category.clone(),
                        severity: m.severity.clone(),
                        major_change: m.is_major_change == Some(true),
                        last_modified: m.last_modified_date_time,
                        action_required_by: m.action_required_by_date_time,
                    })
                    .collect();
            }
            _ => {}
        }
    }
    let cloud = settings.cloud;
    for kind in crate::sources::connector_kinds() {
        let link = admin_center_url(cloud, tenant_id, kind.blade);
        let row = |status, id, name, facts: Option<&Facts>| ConnectorView {
            connector: kind.label,
            kind_name: kind.description,
            connector_id: id,
            display_name: name,
            status,
            expiry: facts.and_then(|f| f.expiry),
            last_sync: facts.and_then(|f| f.last_sync),
            admin_center_url: link.clone(),
        };
        let mut found = kinds.iter().filter(|k| k.kind == kind).peekable();
        let kind_status = if found.peek().is_none() {
            if full {
                view.connectors.push(row(Status::Unknown, None, None, None));
            }
            Status::Unknown
        } else {
            let mut worst = Status::NotConfigured;
            for k in found {
                worst = worst.min(k.health.into());
                if !full {
                    continue;
                }
                if k.instances.is_empty() {
                    view.connectors
                        .push(row(Status::NotConfigured, None, None, None));
                }
                for e in &k.instances {
                    view.connectors.push(row(
                        e.health.into(),
                        Some(e.instance.id.clone()),
                        Some(e.instance.display_name.clone()).filter(|n| !n.is_empty()),
                        Some(&e.instance.facts),
                    ));
                }
            }
            worst
        };
        view.summary.connectors.add(kind_status);
        view.summary.worst_status = view.summary.worst_status.min(kind_status);
    }
    // Sources that are down first, so the reason a tenant is incomplete is the first thing read.
    view.sources.sort_by_key(|s| s.up != Some(false));
    view.beyond
        .sort_by(|a, b| (a.status, a.kind, &a.name).cmp(&(b.status, b.kind, &b.name)));
    // The page's order: by status, then the kind's name, then the instance's.
    view.connectors.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then_with(|| a.kind_name.to_lowercase().cmp(&b.kind_name.to_lowercase()))
            .then_with(|| a.display_name.cmp(&b.display_name))
    });
    view
}

fn source_view(slot: &Slot, s: &SourceState, every: Duration) -> SourceView {
    let interval = chrono::TimeDelta::from_std(every).unwrap_or(chrono::TimeDelta::MAX);
    SourceView {
        source: slot.source.name(),
        up: (s.completed_polls > 0).then_some(s.up),
        last_poll: s.last_poll,
        last_success: s.last_success,
        duration_seconds: s.duration.map(|d| d.as_secs_f64()),
        next_poll: s.last_poll.and_then(|t| t.checked_add_signed(interval)),
        interval_seconds: every.as_secs(),
        last_error: s.last_error.as_deref().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, name: &str, worst: Status) -> TenantSummary {
        TenantSummary {
            tenant_id: id.to_string(),
            name: Some(name.to_string()),
            labels: BTreeMap::from([("customer".to_string(), "Acme".to_string())]),
            worst_status: worst,
            connectors: StatusCounts::default(),
            sources_down: vec!["vpp_tokens"],
            sources_total: 22,
            last_success: None,
            sign_in: None,
        }
    }

    #[test]
    fn filter_matches_name_id_label_status_and_source() {
        let fleet = FleetView {
            generated_at: DateTime::<Utc>::MIN_UTC,
            tenants: vec![
                summary("t-1", "Contoso", Status::Unhealthy),
                summary("t-2", "Fabrikam", Status::Healthy),
            ],
        };
        let ids = |q: &str| {
            let mut f = fleet.clone();
            f.filter(q);
            f.tenants
                .into_iter()
                .map(|t| t.tenant_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("contoso"), ["t-1"]);
        assert_eq!(ids("T-2"), ["t-2"]);
        assert_eq!(ids("customer=acme"), ["t-1", "t-2"]);
        assert_eq!(ids("unhealthy"), ["t-1"]);
        assert_eq!(ids("vpp_tokens"), ["t-1", "t-2"]);
        assert_eq!(ids("  "), ["t-1", "t-2"]);
        assert_eq!(ids("northwind"), Vec::<String>::new());
    }

    #[test]
    fn statuses_sort_worst_first_and_admin_links_follow_the_cloud() {
        let mut all = Status::ALL;
        all.sort();
        assert_eq!(all, Status::ALL);
        assert_eq!(
            Status::from(TypeHealth::NotConfigured),
            Status::NotConfigured
        );
        assert_eq!(
            admin_center_url(Cloud::UsGovDod, "t 1", crate::sources::vpp_tokens::KIND.blade),
            "https://intune.microsoft.us/t%201/#view/Microsoft_Intune_DeviceSettings/TenantAdminConnectorsMenu/~/appleVpp"
        );
        assert_eq!(
            admin_center_host(Cloud::China),
            "https://intune.microsoftonline.cn"
        );
    }
}
