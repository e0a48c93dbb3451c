//! One module per Graph data source, listed explicitly in [`Source`].
//!
//! A source knows one Graph resource: what to request ([`Source::request`]), how to decode the
//! response ([`Source::decode`]), and a pure function from the decoded data and `now` to metric
//! families ([`SourceData::families`]). The only I/O is [`Source::fetch`], through
//! [`GraphClient`]. Adding a source means: a module here, a variant in [`Source`] and
//! [`SourceData`], catalog entries, a fixture and a golden file.
//!
//! Decoding is tolerant by construction, because one odd value on a real tenant must not take a
//! whole source down: every property a source reads goes through
//! [`lenient`](crate::graph::odata::lenient) (or its list and default variants, or
//! [`optional_datetime`](crate::graph::odata::optional_datetime)), so `null`, an absent property
//! or one of another JSON type makes that value unknown, and unknown properties and enum members
//! are ignored. `tests/sources.rs` keeps it so: it sweeps every property of every fixture and
//! feeds arbitrary JSON to every decoder. Only a body that is not Graph's shape at all (an item
//! that is not an object, a collection without its `value` array) is an error.
//!
//! Sources do not own the Graph client's behaviour (retries, paging, `$filter` fallbacks): a
//! source that sends a `$filter` filters what it receives again, so the answer is the same
//! whether Graph applied it or not.

pub mod ad_connectors;
pub mod apns;
pub mod certificate_connectors;
pub mod chromebook;
pub mod connector;
pub mod connector_status;
pub mod dep_tokens;
pub mod device_management;
pub mod exchange_connectors;
pub mod managed_google_play;
pub mod messages;
pub mod mobile_threat_defense;
pub mod ndes_connectors;
pub mod organization;
pub mod partners;
pub mod remote_assistance;
pub mod service_health;
pub mod service_issues;
pub mod store_for_business;
pub mod subscribed_skus;
pub mod vpp_tokens;
pub mod windows_autopilot;

use crate::graph::odata::{Raw, Request};
use crate::graph::{GraphClient, GraphError};
use crate::health::{self, Facts, Health, Thresholds};
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use std::cell::Cell;

/// The first item of each key, in order: Graph may list an object twice (a page boundary that
/// moved between two requests), and two series with the same labels would make Prometheus drop
/// one. Every source that emits a series per object keys it by the object's id this way.
pub fn first_of_each<'a, T, K>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T>
where
    K: Eq + std::hash::Hash,
{
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|i| seen.insert(key(i))).collect()
}

/// Settings some sources' families depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Service names (as Graph's `service`, e.g. `Microsoft Intune`) whose health, issues and
    /// Message center posts are exported.
    pub services: Vec<String>,
    /// How many of the most recent active Message center posts get an info series.
    pub message_center_latest: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            services: vec!["Microsoft Intune".to_string()],
            message_center_latest: 10,
        }
    }
}

impl Options {
    /// Whether `service` is one of the watched services (compared without regard to case).
    pub fn watches(&self, service: &str) -> bool {
        self.services
            .iter()
            .any(|s| s.eq_ignore_ascii_case(service))
    }
}

/// Everything a pure families function may depend on besides the data.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The tenant the data belongs to (`tenant_id` label).
    pub tenant_id: &'a str,
    /// The instant the families describe.
    pub now: DateTime<Utc>,
    /// The Tenant status page's health thresholds.
    pub thresholds: &'a Thresholds,
    /// Watched services and list lengths.
    pub options: &'a Options,
    /// Collects the instants at which families built from `now` stop being true. A function
    /// that looks at `now` goes through [`Context::health`] or [`Context::before`], which note
    /// them here.
    pub horizon: &'a Horizon,
}

impl Context<'_> {
    /// The health of an instance at `now`; notes when it next changes.
    pub fn health(&self, facts: &Facts) -> Health {
        if let Some(at) = health::next_change(facts, self.now, self.thresholds) {
            self.horizon.note(at);
        }
        health::evaluate(facts, self.now, self.thresholds)
    }

    /// Whether `now` is before `end`; when it is, notes `end`, where the answer flips.
    pub fn before(&self, end: DateTime<Utc>) -> bool {
        let before = self.now < end;
        if before {
            self.horizon.note(end);
        }
        before
    }
}

/// The earliest instant at which families built at some `now` change, gathered while they are
/// built (see [`Context::horizon`]); `None` when nothing they show depends on the clock.
#[derive(Debug, Default)]
pub struct Horizon(Cell<Option<DateTime<Utc>>>);

impl Horizon {
    /// No instant yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that something changes at `at`; the horizon keeps the earliest.
    pub fn note(&self, at: DateTime<Utc>) {
        let earliest = self.0.get().map_or(at, |t| t.min(at));
        self.0.set(Some(earliest));
    }

    /// The earliest instant noted.
    pub fn get(&self) -> Option<DateTime<Utc>> {
        self.0.get()
    }
}

/// A Graph data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Tenant name, country and MDM authority.
    Organization,
    /// The Intune subscription state.
    DeviceManagement,
    /// Microsoft's own connector verdict (beta).
    ConnectorStatus,
    /// User licences.
    SubscribedSkus,
    /// The Apple MDM push certificate.
    Apns,
    /// Apple VPP tokens.
    VppTokens,
    /// Apple ADE/DEP tokens (beta).
    DepOnboardingSettings,
    /// Windows Autopilot sync (beta).
    WindowsAutopilotSettings,
    /// Microsoft Store for Business sync.
    DeviceAppManagement,
    /// Managed Google Play (beta).
    ManagedGooglePlay,
    /// Exchange connectors.
    ExchangeConnectors,
    /// Legacy NDES connectors (beta).
    NdesConnectors,
    /// Certificate Connectors for Microsoft Intune (beta).
    CertificateConnectors,
    /// Mobile threat defense connectors, Defender for Endpoint included (beta).
    MobileThreatDefenseConnectors,
    /// Device management partners (Jamf and others).
    DeviceManagementPartners,
    /// Compliance partners.
    ComplianceManagementPartners,
    /// Intune Connectors for Active Directory (beta).
    DomainJoinConnectors,
    /// Remote assistance partners.
    RemoteAssistancePartners,
    /// Chromebook onboarding (beta).
    ChromeOsOnboardingSettings,
    /// Service health of the watched services.
    ServiceHealth,
    /// Unresolved incidents and advisories of the watched services.
    ServiceIssues,
    /// Message center posts of the watched services.
    Messages,
}

/// What the poller and the docs need to know about a source.
#[derive(Debug)]
pub struct Spec {
    /// The `source` label value and config key.
    pub name: &'static str,
    /// The Graph application permission the exporter asks for: the one Microsoft's permission
    /// map marks least privileged for the path, unless the README says why not.
    pub permission: &'static str,
    /// Other read-only application permissions the map accepts for the path.
    pub also_accepted: &'static [&'static str],
    /// What to ask Graph for.
    pub request: &'static Request,
    /// Its default poll interval, when it differs from `poll.interval`.
    pub default_interval: Option<&'static str>,
}

// Permissions, checked row by row against Microsoft's permission map
// (microsoftgraph/microsoft-graph-devx-content, permissions/new/permissions.json, the `least=`
// marks of the `Application` scheme for GET on each path). The map does not tell v1.0 from beta.
const DM_SERVICE_CONFIG: &str = "DeviceManagementServiceConfig.Read.All";
const DM_CONFIGURATION: &str = "DeviceManagementConfiguration.Read.All";
const DM_APPS: &str = "DeviceManagementApps.Read.All";
const DM_DEVICES: &str = "DeviceManagementManagedDevices.Read.All";
const SERVICE_HEALTH: &str = "ServiceHealth.Read.All";

// The service communications API allows 800 requests an hour per app and tenant. Health and
// issues are one request per page (100 items) per poll and Message center posts a few pages: at
// these defaults a tenant costs well under 100 requests an hour there.
const SERVICE_COMMS_INTERVAL: &str = "5m";
const MESSAGE_CENTER_INTERVAL: &str = "15m";

impl Source {
    /// Every source, in polling order.
    pub const ALL: [Source; 22] = [
        Source::Organization,
        Source::DeviceManagement,
        Source::ConnectorStatus,
        Source::SubscribedSkus,
        Source::Apns,
        Source::VppTokens,
        Source::DepOnboardingSettings,
        Source::WindowsAutopilotSettings,
        Source::DeviceAppManagement,
        Source::ManagedGooglePlay,
        Source::ExchangeConnectors,
        Source::NdesConnectors,
        Source::CertificateConnectors,
        Source::MobileThreatDefenseConnectors,
        Source::DeviceManagementPartners,
        Source::ComplianceManagementPartners,
        Source::DomainJoinConnectors,
        Source::RemoteAssistancePartners,
        Source::ChromeOsOnboardingSettings,
        Source::ServiceHealth,
        Source::ServiceIssues,
        Source::Messages,
    ];

    /// Name, permissions, request and default interval.
    pub fn spec(self) -> Spec {
        type Row = (
            &'static str,
            &'static str,
            &'static [&'static str],
            &'static Request,
            Option<&'static str>,
        );
        let (name, permission, also_accepted, request, default_interval): Row = match self {
            // Least: DeviceManagementServiceConfig.Read.All, which other sources need anyway.
            Source::Organization => (
                "organization",
                DM_SERVICE_CONFIG,
                &[
                    "Organization.Read.All",
                    "Directory.Read.All",
                    "User.Read.All",
                    DM_CONFIGURATION,
                ],
                &organization::REQUEST,
                None,
            ),
            Source::DeviceManagement => (
                "device_management",
                DM_APPS,
                &[DM_SERVICE_CONFIG, DM_CONFIGURATION, DM_DEVICES],
                &device_management::REQUEST,
                None,
            ),
            // The map's `/devicemanagement` row does not know the beta troubleshooting property;
            // its own page (intune-troubleshooting-devicemanagement-get) lists these two.
            Source::ConnectorStatus => (
                "connector_status",
                DM_CONFIGURATION,
                &[DM_DEVICES],
                &connector_status::REQUEST,
                None,
            ),
            // The map's least privileged is LicenseAssignment.Read.All (since mid-2025).
            Source::SubscribedSkus => (
                "subscribed_skus",
                "LicenseAssignment.Read.All",
                &["Organization.Read.All", "Directory.Read.All"],
                &subscribed_skus::REQUEST,
                None,
            ),
            // The map's least is DeviceManagementServiceConfig.ReadWrite.All, a write
            // permission; of the read-only ones it lists, this is the one other sources need.
            Source::Apns => (
                "apns",
                DM_CONFIGURATION,
                &[DM_DEVICES],
                &apns::REQUEST,
                None,
            ),
            Source::VppTokens => (
                "vpp_tokens",
                DM_SERVICE_CONFIG,
                &[DM_CONFIGURATION],
                &vpp_tokens::REQUEST,
                None,
            ),
            Source::DepOnboardingSettings => (
                "dep_onboarding_settings",
                DM_SERVICE_CONFIG,
                &[],
                &dep_tokens::REQUEST,
                None,
            ),
            Source::WindowsAutopilotSettings => (
                "windows_autopilot_settings",
                DM_SERVICE_CONFIG,
                &[],
                &windows_autopilot::REQUEST,
                None,
            ),
            Source::DeviceAppManagement => (
                "device_app_management",
                DM_APPS,
                &[DM_CONFIGURATION],
                &store_for_business::REQUEST,
                None,
            ),
            Source::ManagedGooglePlay => (
                "managed_google_play",
                DM_CONFIGURATION,
                &[],
                &managed_google_play::REQUEST,
                None,
            ),
            Source::ExchangeConnectors => (
                "exchange_connectors",
                DM_SERVICE_CONFIG,
                &[DM_CONFIGURATION],
                &exchange_connectors::REQUEST,
                None,
            ),
            Source::NdesConnectors => (
                "ndes_connectors",
                DM_CONFIGURATION,
                &[],
                &ndes_connectors::REQUEST,
                None,
            ),
            Source::CertificateConnectors => (
                "certificate_connectors",
                DM_CONFIGURATION,
                &[],
                &certificate_connectors::REQUEST,
                None,
            ),
            Source::MobileThreatDefenseConnectors => (
                "mobile_threat_defense_connectors",
                DM_SERVICE_CONFIG,
                &[DM_CONFIGURATION],
                &mobile_threat_defense::REQUEST,
                None,
            ),
            Source::DeviceManagementPartners => (
                "device_management_partners",
                DM_SERVICE_CONFIG,
                &[DM_CONFIGURATION],
                &partners::DEVICE_MANAGEMENT_REQUEST,
                None,
            ),
            Source::ComplianceManagementPartners => (
                "compliance_management_partners",
                DM_SERVICE_CONFIG,
                &[DM_CONFIGURATION],
                &partners::COMPLIANCE_REQUEST,
                None,
            ),
            Source::DomainJoinConnectors => (
                "domain_join_connectors",
                DM_CONFIGURATION,
                &[],
                &ad_connectors::REQUEST,
                None,
            ),
            Source::RemoteAssistancePartners => (
                "remote_assistance_partners",
                DM_SERVICE_CONFIG,
                &[DM_CONFIGURATION],
                &remote_assistance::REQUEST,
                None,
            ),
            Source::ChromeOsOnboardingSettings => (
                "chromeos_onboarding_settings",
                DM_CONFIGURATION,
                &[],
                &chromebook::REQUEST,
                None,
            ),
            Source::ServiceHealth => (
                "service_health",
                SERVICE_HEALTH,
                &[],
                &service_health::REQUEST,
                Some(SERVICE_COMMS_INTERVAL),
            ),
            Source::ServiceIssues => (
                "service_issues",
                SERVICE_HEALTH,
                &[],
                &service_issues::REQUEST,
                Some(SERVICE_COMMS_INTERVAL),
            ),
            Source::Messages => (
                "messages",
                "ServiceMessage.Read.All",
                &[],
                &messages::REQUEST,
                Some(MESSAGE_CENTER_INTERVAL),
            ),
        };
        Spec {
            name,
            permission,
            also_accepted,
            request,
            default_interval,
        }
    }

    /// The `source` label value and config key.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The Graph application permission the exporter asks for to read this source.
    pub fn permission(self) -> &'static str {
        self.spec().permission
    }

    /// What to ask Graph for.
    pub fn request(self) -> &'static Request {
        self.spec().request
    }

    /// The source called `name`.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Polls Graph once for this source.
    pub async fn fetch(self, client: &GraphClient) -> Result<SourceData, GraphError> {
        let raw = client.fetch(self.name(), self.request()).await?;
        self.decode(raw)
    }

    /// Decodes a raw response into this source's data.
    pub fn decode(self, raw: Raw) -> Result<SourceData, GraphError> {
        use SourceData as D;
        let path = self.request().path;
        Ok(match self {
            Source::Organization => D::Organization(raw.items(path)?),
            Source::DeviceManagement => D::DeviceManagement(raw.entity(path)?),
            Source::ConnectorStatus => D::ConnectorStatus(raw.entity(path)?),
            Source::SubscribedSkus => D::SubscribedSkus(raw.items(path)?),
            Source::Apns => D::Apns(raw.entity(path)?),
            Source::VppTokens => D::VppTokens(raw.items(path)?),
            Source::DepOnboardingSettings => D::DepTokens(raw.items(path)?),
            Source::WindowsAutopilotSettings => D::WindowsAutopilot(raw.entity(path)?),
            Source::DeviceAppManagement => D::StoreForBusiness(raw.entity(path)?),
            Source::ManagedGooglePlay => D::ManagedGooglePlay(raw.entity(path)?),
            Source::ExchangeConnectors => D::ExchangeConnectors(raw.items(path)?),
            Source::NdesConnectors => D::NdesConnectors(raw.items(path)?),
            Source::CertificateConnectors => D::CertificateConnectors(raw.items(path)?),
            Source::MobileThreatDefenseConnectors => D::MobileThreatDefense(raw.items(path)?),
            Source::DeviceManagementPartners => D::DeviceManagementPartners(raw.items(path)?),
            Source::ComplianceManagementPartners => D::CompliancePartners(raw.items(path)?),
            Source::DomainJoinConnectors => D::AdConnectors(raw.items(path)?),
            Source::RemoteAssistancePartners => D::RemoteAssistance(raw.items(path)?),
            Source::ChromeOsOnboardingSettings => D::Chromebook(raw.items(path)?),
            Source::ServiceHealth => D::ServiceHealth(raw.items(path)?),
            Source::ServiceIssues => D::ServiceIssues(raw.items(path)?),
            Source::Messages => D::Messages(raw.items(path)?),
        })
    }
}

/// The README's permission table: every source, its Graph request, the application
/// permission the exporter asks for and the other read-only ones Graph accepts.
pub fn markdown_permissions() -> String {
    let mut out = String::from(
        "| Source (`source` label) | Graph request | Application permission | Also accepted |\n|---|---|---|---|\n",
    );
    for s in Source::ALL {
        let spec = s.spec();
        let others: Vec<String> = spec
            .also_accepted
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        out.push_str(&format!(
            "| `{}` | `GET /{}` | `{}` | {} |\n",
            spec.name,
            spec.request.path,
            spec.permission,
            if others.is_empty() {
                "none".to_string()
            } else {
                others.join(", ")
            }
        ));
    }
    out
}

/// The decoded data of one successful poll.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceData {
    /// See [`organization`].
    Organization(Vec<organization::Organization>),
    /// See [`device_management`].
    DeviceManagement(Option<device_management::DeviceManagement>),
    /// See [`connector_status`].
    ConnectorStatus(Option<connector_status::ConnectorStatusReport>),
    /// See [`subscribed_skus`].
    SubscribedSkus(Vec<subscribed_skus::SubscribedSku>),
    /// See [`apns`]; `None` when no certificate is configured.
    Apns(Option<apns::Certificate>),
    /// See [`vpp_tokens`].
    VppTokens(Vec<vpp_tokens::VppToken>),
    /// See [`dep_tokens`].
    DepTokens(Vec<dep_tokens::DepToken>),
    /// See [`windows_autopilot`].
    WindowsAutopilot(Option<windows_autopilot::AutopilotSettings>),
    /// See [`store_for_business`].
    StoreForBusiness(Option<store_for_business::DeviceAppManagement>),
    /// See [`managed_google_play`].
    ManagedGooglePlay(Option<managed_google_play::GooglePlaySettings>),
    /// See [`exchange_connectors`].
    ExchangeConnectors(Vec<exchange_connectors::ExchangeConnector>),
    /// See [`ndes_connectors`].
    NdesConnectors(Vec<ndes_connectors::NdesConnector>),
    /// See [`certificate_connectors`].
    CertificateConnectors(Vec<certificate_connectors::CertificateConnector>),
    /// See [`mobile_threat_defense`].
    MobileThreatDefense(Vec<mobile_threat_defense::MtdConnector>),
    /// See [`partners`].
    DeviceManagementPartners(Vec<partners::Partner>),
    /// See [`partners`].
    CompliancePartners(Vec<partners::Partner>),
    /// See [`ad_connectors`].
    AdConnectors(Vec<ad_connectors::AdConnector>),
    /// See [`remote_assistance`].
    RemoteAssistance(Vec<remote_assistance::RemoteAssistancePartner>),
    /// See [`chromebook`].
    Chromebook(Vec<chromebook::ChromeOsSettings>),
    /// See [`service_health`].
    ServiceHealth(Vec<service_health::ServiceHealth>),
    /// See [`service_issues`].
    ServiceIssues(Vec<service_issues::ServiceIssue>),
    /// See [`messages`].
    Messages(Vec<messages::Message>),
}

impl SourceData {
    /// The connector kinds this data describes, each instance with its health at `ctx.now`:
    /// the very evaluation its families are built from. Empty for sources without connectors.
    pub fn connectors(&self, ctx: &Context<'_>) -> Vec<connector::KindHealth> {
        use SourceData as D;
        match self {
            // No connectors here: skip building families only to drop them.
            D::Organization(_)
            | D::DeviceManagement(_)
            | D::ConnectorStatus(_)
            | D::SubscribedSkus(_)
            | D::ServiceHealth(_)
            | D::ServiceIssues(_)
            | D::Messages(_) => Vec::new(),
            _ => self.families(ctx).connectors(),
        }
    }

    /// The metric families of this data at `ctx.now`.
    pub fn families(&self, ctx: &Context<'_>) -> MetricSet {
        use SourceData as D;
        match self {
            D::Organization(d) => organization::families(d, ctx),
            D::DeviceManagement(d) => device_management::families(d.as_ref(), ctx),
            D::ConnectorStatus(d) => connector_status::families(d.as_ref(), ctx),
            D::SubscribedSkus(d) => subscribed_skus::families(d, ctx),
            D::Apns(d) => apns::families(d.as_ref(), ctx),
            D::VppTokens(d) => vpp_tokens::families(d, ctx),
            D::DepTokens(d) => dep_tokens::families(d, ctx),
            D::WindowsAutopilot(d) => windows_autopilot::families(d.as_ref(), ctx),
            D::StoreForBusiness(d) => store_for_business::families(d.as_ref(), ctx),
            D::ManagedGooglePlay(d) => managed_google_play::families(d.as_ref(), ctx),
            D::ExchangeConnectors(d) => exchange_connectors::families(d, ctx),
            D::NdesConnectors(d) => ndes_connectors::families(d, ctx),
            D::CertificateConnectors(d) => certificate_connectors::families(d, ctx),
            D::MobileThreatDefense(d) => mobile_threat_defense::families(d, ctx),
            D::DeviceManagementPartners(d) => partners::device_management_families(d, ctx),
            D::CompliancePartners(d) => partners::compliance_families(d, ctx),
            D::AdConnectors(d) => ad_connectors::families(d, ctx),
            D::RemoteAssistance(d) => remote_assistance::families(d, ctx),
            D::Chromebook(d) => chromebook::families(d, ctx),
            D::ServiceHealth(d) => service_health::families(d, ctx),
            D::ServiceIssues(d) => service_issues::families(d, ctx),
            D::Messages(d) => messages::families(d, ctx),
        }
    }
}
