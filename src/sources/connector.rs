//! What every connector source shares: the kinds, one instance's facts, and the families built
//! from them (`intune_connector_*`), with health evaluated at scrape time.
//!
//! Instances are told apart by Graph's `id`: when Graph lists the same id twice (a page boundary
//! that moved between two requests), the first one is kept, since Prometheus would drop one of
//! two identical series anyway and the kind's health must not count an object twice.

use super::{first_of_each, Context};
use crate::graph::odata::snake_case;
use crate::health::{Facts, Health, TypeHealth};
use crate::metrics::catalog::{
    CONNECTOR_EXPIRY, CONNECTOR_HEALTH, CONNECTOR_INFO, CONNECTOR_LAST_SYNC, CONNECTOR_TYPE_HEALTH,
};
use crate::metrics::MetricSet;

/// A kind of connector on the Tenant status page; its label value is the `connector` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    /// Apple MDM push certificate.
    Apns,
    /// Apple VPP (Apps and Books) token.
    VppToken,
    /// Apple Automated Device Enrollment (DEP) token.
    DepToken,
    /// Windows Autopilot device sync.
    WindowsAutopilot,
    /// Microsoft Store for Business sync (a retired product).
    MicrosoftStoreForBusiness,
    /// Managed Google Play.
    ManagedGooglePlay,
    /// Exchange connector.
    ExchangeConnector,
    /// Legacy NDES connector.
    NdesConnector,
    /// Certificate Connector for Microsoft Intune.
    CertificateConnector,
    /// Mobile threat defense partner connector.
    MobileThreatDefense,
    /// Microsoft Defender for Endpoint, among the mobile threat defense connectors.
    DefenderForEndpoint,
    /// Device management partner (Jamf and others).
    DeviceManagementPartner,
    /// Partner compliance management.
    CompliancePartner,
    /// Intune Connector for Active Directory (hybrid join).
    AdConnector,
    /// Remote assistance partner (TeamViewer).
    RemoteAssistancePartner,
    /// Chromebook (ChromeOS) tenant onboarding.
    Chromebook,
}

impl ConnectorKind {
    /// Every kind, in the order of the README.
    pub const ALL: [ConnectorKind; 16] = [
        ConnectorKind::Apns,
        ConnectorKind::VppToken,
        ConnectorKind::DepToken,
        ConnectorKind::WindowsAutopilot,
        ConnectorKind::MicrosoftStoreForBusiness,
        ConnectorKind::ManagedGooglePlay,
        ConnectorKind::ExchangeConnector,
        ConnectorKind::NdesConnector,
        ConnectorKind::CertificateConnector,
        ConnectorKind::MobileThreatDefense,
        ConnectorKind::DefenderForEndpoint,
        ConnectorKind::DeviceManagementPartner,
        ConnectorKind::CompliancePartner,
        ConnectorKind::AdConnector,
        ConnectorKind::RemoteAssistancePartner,
        ConnectorKind::Chromebook,
    ];

    /// The `connector` label value.
    pub fn label(self) -> &'static str {
        match self {
            ConnectorKind::Apns => "apns",
            ConnectorKind::VppToken => "vpp_token",
            ConnectorKind::DepToken => "dep_token",
            ConnectorKind::WindowsAutopilot => "windows_autopilot",
            ConnectorKind::MicrosoftStoreForBusiness => "microsoft_store_for_business",
            ConnectorKind::ManagedGooglePlay => "managed_google_play",
            ConnectorKind::ExchangeConnector => "exchange_connector",
            ConnectorKind::NdesConnector => "ndes_connector",
            ConnectorKind::CertificateConnector => "certificate_connector",
            ConnectorKind::MobileThreatDefense => "mobile_threat_defense",
            ConnectorKind::DefenderForEndpoint => "defender_for_endpoint",
            ConnectorKind::DeviceManagementPartner => "device_management_partner",
            ConnectorKind::CompliancePartner => "compliance_partner",
            ConnectorKind::AdConnector => "ad_connector",
            ConnectorKind::RemoteAssistancePartner => "remote_assistance_partner",
            ConnectorKind::Chromebook => "chromebook",
        }
    }

    /// The members of the enum Graph reports this kind's state in, in snake_case, plus
    /// `unknown`: the values of the `state` label of `intune_connector_info`. Empty for kinds without a state.
    pub fn states(self) -> &'static [&'static str] {
        use super::{
            ad_connectors, chromebook, exchange_connectors, managed_google_play,
            mobile_threat_defense, ndes_connectors, partners, remote_assistance, vpp_tokens,
            windows_autopilot,
        };
        match self {
            ConnectorKind::Apns
            | ConnectorKind::DepToken
            | ConnectorKind::MicrosoftStoreForBusiness
            | ConnectorKind::CertificateConnector => &[],
            ConnectorKind::VppToken => &vpp_tokens::STATES,
            ConnectorKind::WindowsAutopilot => &windows_autopilot::STATES,
            ConnectorKind::ManagedGooglePlay => &managed_google_play::STATES,
            ConnectorKind::ExchangeConnector => &exchange_connectors::STATES,
            ConnectorKind::NdesConnector => &ndes_connectors::STATES,
            ConnectorKind::MobileThreatDefense | ConnectorKind::DefenderForEndpoint => {
                &mobile_threat_defense::STATES
            }
            ConnectorKind::DeviceManagementPartner | ConnectorKind::CompliancePartner => {
                &partners::STATES
            }
            ConnectorKind::AdConnector => &ad_connectors::STATES,
            ConnectorKind::RemoteAssistancePartner => &remote_assistance::STATES,
            ConnectorKind::Chromebook => &chromebook::STATES,
        }
    }

    /// What it is, for the README.
    pub fn description(self) -> &'static str {
        match self {
            ConnectorKind::Apns => "Apple MDM push certificate",
            ConnectorKind::VppToken => "Apple VPP (Apps and Books) token",
            ConnectorKind::DepToken => "Apple ADE/DEP token",
            ConnectorKind::WindowsAutopilot => "Windows Autopilot device sync",
            ConnectorKind::MicrosoftStoreForBusiness => {
                "Microsoft Store for Business sync (retired)"
            }
            ConnectorKind::ManagedGooglePlay => "Managed Google Play",
            ConnectorKind::ExchangeConnector => "Exchange connector",
            ConnectorKind::NdesConnector => "NDES connector (legacy)",
            ConnectorKind::CertificateConnector => "Certificate Connector for Microsoft Intune",
            ConnectorKind::MobileThreatDefense => "Other mobile threat defense connectors",
            ConnectorKind::DefenderForEndpoint => "Microsoft Defender for Endpoint",
            ConnectorKind::DeviceManagementPartner => {
                "Device management partners (Jamf and others)"
            }
            ConnectorKind::CompliancePartner => "Partner compliance management",
            ConnectorKind::AdConnector => "Intune Connector for Active Directory",
            ConnectorKind::RemoteAssistancePartner => "Remote assistance partner (TeamViewer)",
            ConnectorKind::Chromebook => "Chromebook (ChromeOS) onboarding",
        }
    }
}

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
}

/// One instance with its health at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedInstance {
    /// The instance.
    pub instance: Instance,
    /// Its health by the page's rules.
    pub health: Health,
}

/// One kind of connector at a given time: every instance with its health, and the kind's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindHealth {
    /// The kind.
    pub kind: ConnectorKind,
    /// Its instances, in the order the source listed them.
    pub instances: Vec<EvaluatedInstance>,
    /// The worst instance, or not configured.
    pub health: TypeHealth,
}

/// Applies the page's rules to every instance of one kind at `ctx.now` (an id listed twice
/// counts once), noting in `ctx`'s horizon when the answer next changes. The families below are
/// built from this, and so is the status page, so the two cannot disagree.
pub fn evaluate_kind(kind: ConnectorKind, instances: &[Instance], ctx: &Context<'_>) -> KindHealth {
    let instances: Vec<EvaluatedInstance> = first_of_each(instances, |i| i.id.as_str())
        .into_iter()
        .map(|inst| EvaluatedInstance {
            health: ctx.health(&inst.facts),
            instance: inst.clone(),
        })
        .collect();
    KindHealth {
        kind,
        health: TypeHealth::of(instances.iter().map(|i| i.health)),
        instances,
    }
}

/// The `intune_connector_*` families for every instance of one kind, and the kind's health.
/// The evaluation travels with the set (see [`MetricSet::connectors`]).
pub fn families(kind: ConnectorKind, instances: &[Instance], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let tenant = ctx.tenant_id;
    let connector = kind.label();
    let evaluated = evaluate_kind(kind, instances, ctx);
    for e in &evaluated.instances {
        let inst = &e.instance;
        let id = inst.id.as_str();
        // The reported state is descriptive (its health is the stateset below), so it rides on
        // the info series: a stateset over every kind's enum would cost a demo-like tenant 47
        // series, a sixth of its budget, to say what one label says.
        let state = if kind.states().is_empty() {
            String::new()
        } else {
            state_label(inst.state.as_deref(), kind.states())
        };
        set.gauge(
            &CONNECTOR_INFO,
            &[tenant, connector, id, &inst.display_name, &state],
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
    set.record_connectors(evaluated);
    set
}

/// The families of one source that lists instances of one kind; `instance` returns `None` for
/// an item that does not count as configured.
pub fn families_of<T>(
    kind: ConnectorKind,
    items: &[T],
    instance: impl Fn(&T) -> Option<Instance>,
    ctx: &Context<'_>,
) -> MetricSet {
    let instances: Vec<Instance> = items.iter().filter_map(instance).collect();
    families(kind, &instances, ctx)
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
