//! What every connector source shares: the kinds, one instance's facts, and the families built
//! from them (`intune_connector_*`), with health evaluated at scrape time.
//!
//! Kinds whose Graph object reports the connector's installed version (certificate, NDES, AD and
//! Exchange connectors) give each instance a [`Release`]: the version, shown in the `version`
//! label of `intune_connector_info`, and when the source can judge it, its [`Support`]: where it
//! stands at scrape time is the `support` label, and the instance's health takes it into
//! account (out of support: warning; past the date it may stop working: unhealthy). Which kinds
//! are judged, and why, is said in each source's module docs.
//!
//! Instances are told apart by Graph's `id`: when Graph lists the same id twice (a page boundary
//! that moved between two requests), the first one is kept, since Prometheus would drop one of
//! two identical series anyway and the kind's health must not count an object twice.

use super::context::{first_of_each, Context};
use crate::graph::odata::snake_case;
use crate::health::{Facts, Health, TypeHealth};
use crate::metrics::catalog::{
    CONNECTOR_EXPIRY, CONNECTOR_HEALTH, CONNECTOR_INFO, CONNECTOR_LAST_SYNC, CONNECTOR_TYPE_HEALTH,
};
use crate::metrics::set::MetricSet;
use chrono::{DateTime, Utc};

/// A kind of connector on the Tenant status page, declared by the source module that reports
/// it (see [`Spec::kinds`](super::Spec::kinds)).
#[derive(Debug, PartialEq, Eq)]
pub struct ConnectorKind {
    /// The `connector` label value.
    pub label: &'static str,
    /// What it is, for the README, the status page and the dashboards.
    pub description: &'static str,
    /// The members of the enum Graph reports this kind's state in, in snake_case (with
    /// `unknown`): the values of the `state` label of `intune_connector_info`. Empty for kinds
    /// without a state.
    pub states: &'static [&'static str],
    /// The admin center blade where it is managed (the part after `#view/`), for the status
    /// page's and the dashboards' links.
    pub blade: &'static str,
}

/// The admin center's "Connectors and tokens" list: the blade of kinds that have no narrower one.
pub const CONNECTORS_AND_TOKENS: &str =
    "Microsoft_Intune_DeviceSettings/TenantAdminMenu/~/connectorsAndTokens";

/// The admin center's certificate connectors list (NDES and Certificate Connectors).
pub const CERTIFICATE_CONNECTORS_BLADE: &str =
    "Microsoft_Intune_DeviceSettings/TenantAdminConnectorsMenu/~/certConnectors";

/// One connector, certificate or token, as the health rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Graph's id of the object.
    pub id: String,
    /// What an administrator recognises it by.
    pub display_name: String,
    /// The timestamps and the floor the rules look at.
    pub facts: Facts,
    /// The state member Graph reported, as sent (`None` when absent or not a string).
    pub state: Option<String>,
    /// Its installed release (default for kinds that report no version).
    pub release: Release,
}

/// What a connector's installed release says, for the kinds whose Graph object reports a version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// The version as Graph reports it (`None` when absent or not a string).
    pub version: Option<String>,
    /// How long the version is supported, when the source can tell; `None` when it cannot (no
    /// version, not a version, or no documented support policy for the kind): then the version
    /// does not affect health.
    pub support: Option<Support>,
}

/// How long an installed version is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// No newer release is known: supported, with no end in sight (also a version newer than
    /// the source's release table: the table is stale, not the connector).
    Current,
    /// Superseded: out of support from `ends`, may stop working from `fails` (not before
    /// `ends`).
    Until {
        /// Out of support from this instant.
        ends: DateTime<Utc>,
        /// May stop working from this instant.
        fails: DateTime<Utc>,
    },
}

/// Where a version stands at a given time; the `support` label of `intune_connector_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportStatus {
    /// Supported: healthy.
    Supported,
    /// Out of support but expected to work: a warning, as the admin center shows it.
    OutOfSupport,
    /// Beyond the date it may stop working: unhealthy.
    MayFail,
}

impl SupportStatus {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            SupportStatus::Supported => "supported",
            SupportStatus::OutOfSupport => "out_of_support",
            SupportStatus::MayFail => "may_fail",
        }
    }

    /// The health it gives.
    pub fn health(self) -> Health {
        match self {
            SupportStatus::Supported => Health::Healthy,
            SupportStatus::OutOfSupport => Health::Warning,
            SupportStatus::MayFail => Health::Unhealthy,
        }
    }
}

impl Support {
    /// Where the version stands at `ctx.now`; notes in `ctx`'s horizon when that next changes.
    pub fn status(&self, ctx: &Context<'_>) -> SupportStatus {
        match *self {
            Support::Current => SupportStatus::Supported,
            Support::Until { ends, fails } => {
                if !ctx.before(fails) {
                    SupportStatus::MayFail
                } else if !ctx.before(ends) {
                    SupportStatus::OutOfSupport
                } else {
                    SupportStatus::Supported
                }
            }
        }
    }
}

/// A version as dotted numbers (`6.2406.0.1001`), up to four parts, missing parts zero; `None`
/// for anything else (empty, words, a suffix, a part beyond `u32`), which is an unknown version.
pub fn parse_version(text: &str) -> Option<[u32; 4]> {
    let mut parts = [0u32; 4];
    for (i, part) in text.trim().split('.').enumerate() {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *parts.get_mut(i)? = part.parse().ok()?;
    }
    Some(parts)
}

/// One instance with its health at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedInstance {
    /// The instance.
    pub instance: Instance,
    /// Where its version stands, when the source can tell.
    pub support: Option<SupportStatus>,
    /// Its health by the page's rules, made worse by a version out of support.
    pub health: Health,
}

/// One kind of connector at a given time: every instance with its health, and the kind's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindHealth {
    /// The kind.
    pub kind: &'static ConnectorKind,
    /// Its instances, in the order the source listed them.
    pub instances: Vec<EvaluatedInstance>,
    /// The worst instance, or not configured.
    pub health: TypeHealth,
}

/// Applies the page's rules to every instance of one kind at `ctx.now` (an id listed twice
/// counts once), noting in `ctx`'s horizon when the answer next changes. The families below are
/// built from this, and so is the status page, so the two cannot disagree.
pub fn evaluate_kind(
    kind: &'static ConnectorKind,
    instances: &[Instance],
    ctx: &Context<'_>,
) -> KindHealth {
    let instances: Vec<EvaluatedInstance> = first_of_each(instances, |i| i.id.as_str())
        .into_iter()
        .map(|inst| {
            // An instance's support counts like a rule: the worst of the two.
            let support = inst.release.support.map(|s| s.status(ctx));
            let by_version = support.map_or(Health::Healthy, SupportStatus::health);
            EvaluatedInstance {
                health: ctx.health(&inst.facts).max(by_version),
                support,
                instance: inst.clone(),
            }
        })
        .collect();
    KindHealth {
        kind,
        health: TypeHealth::of(instances.iter().map(|i| i.health)),
        instances,
    }
}

/// The `intune_connector_*` families of one evaluated kind: every instance and the kind's
/// health. Pure: the health was decided by [`evaluate_kind`].
pub fn families(evaluated: &KindHealth, ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let tenant = ctx.tenant_id;
    let kind = evaluated.kind;
    let connector = kind.label;
    for e in &evaluated.instances {
        let inst = &e.instance;
        let id = inst.id.as_str();
        // The reported state is descriptive (its health is the stateset below), so it rides on
        // the info series: a stateset over every kind's enum would cost a demo-like tenant 47
        // series, a sixth of its budget, to say what one label says.
        let state = if kind.states.is_empty() {
            String::new()
        } else {
            state_label(inst.state.as_deref(), kind.states)
        };
        let version = inst.release.version.as_deref().unwrap_or_default();
        let support = e.support.map_or("", SupportStatus::as_str);
        set.gauge(
            &CONNECTOR_INFO,
            &[
                tenant,
                connector,
                id,
                &inst.display_name,
                &state,
                version,
                support,
            ],
            1.0,
        );
        set.stateset(
            &CONNECTOR_HEALTH,
            &[tenant, connector, id],
            &Health::STATES,
            e.health.as_str(),
        );
        if let Some(expiry) = inst.facts.expiry {
            set.gauge(
                &CONNECTOR_EXPIRY,
                &[tenant, connector, id],
                expiry.timestamp() as f64,
            );
        }
        if let Some(sync) = inst.facts.last_sync {
            set.gauge(
                &CONNECTOR_LAST_SYNC,
                &[tenant, connector, id],
                sync.timestamp() as f64,
            );
        }
    }
    set.stateset(
        &CONNECTOR_TYPE_HEALTH,
        &[tenant, connector],
        &TypeHealth::STATES,
        evaluated.health.as_str(),
    );
    set
}

/// The instances among `items`, in order; `instance` returns `None` for an item that does not
/// count as configured.
pub fn instances_of<T>(items: &[T], instance: impl Fn(&T) -> Option<Instance>) -> Vec<Instance> {
    items.iter().filter_map(instance).collect()
}

/// A display name: the first non-empty candidate.
pub fn first_name(candidates: &[Option<&str>]) -> String {
    candidates
        .iter()
        .flatten()
        .find(|n| !n.trim().is_empty())
        .map_or_else(String::new, |n| n.to_string())
}

/// An enum member in snake_case when it is one of `states`, else `unknown` (absent, or a member
/// Graph added later).
pub fn state_label(member: Option<&str>, states: &[&str]) -> String {
    member
        .map(snake_case)
        .filter(|s| states.contains(&s.as_str()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// `Unhealthy` when Graph reports a failure state, else no floor.
pub fn unhealthy_if(failed: bool) -> Health {
    if failed {
        Health::Unhealthy
    } else {
        Health::Healthy
    }
}

/// Compares a Graph enum member without regard to case (the schema says `expired`, some
/// documents say `Expired`).
pub fn member_is(value: Option<&str>, members: &[&str]) -> bool {
    value.is_some_and(|v| members.iter().any(|m| m.eq_ignore_ascii_case(v)))
}
