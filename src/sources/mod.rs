//! One module per Graph data source, listed once in the registry below.
//!
//! A source module is named after its source (the `source` label value and config key) and
//! implements [`Definition`] on its unit struct `Source`: what to request and with
//! which permission ([`Spec`]), the decoded data's type, the instances of each connector kind
//! it reports (pure; health is evaluated from them once, for the metrics and the status page
//! alike) and its other metric families (pure). The only I/O is [`Source::fetch`], through
//! [`GraphClient`]. Everything that lists sources or connector kinds ([`Source::ALL`],
//! [`connector_kinds`], the README's tables, the mixin's `connectors.json`, the status page,
//! the demo scenario's coverage) derives from the registry or is checked against it by a test
//! that names what is missing. `docs/adding-a-source.md` has the whole procedure.
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

pub mod connector;
pub mod context;
pub mod definition;
pub mod partner;

pub use context::{first_of_each, Context, Horizon, Options};
pub use definition::{Definition, Spec};

use crate::graph::odata::{Raw, Request};
use crate::graph::{GraphClient, GraphError};
use crate::metrics::set::MetricSet;
use connector::{ConnectorKind, KindHealth};
use definition::Decode;

/// Writes the registry: one `pub mod` per source, the [`Source`] and [`SourceData`] enums and
/// every dispatch over them, from one list of `Variant => module` lines. The module's name is
/// the source's name; its unit struct `Source` implements [`Definition`].
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $module:ident,)+) => {
        $(pub mod $module;)+

        /// A Graph data source.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Source {
            $($(#[$doc])* $variant,)+
        }

        /// The decoded data of one successful poll.
        #[derive(Debug, Clone, PartialEq)]
        pub enum SourceData {
            $(#[doc = concat!("See [`", stringify!($module), "`].")]
            $variant(<$module::Source as Definition>::Data),)+
        }

        const COUNT: usize = [$(stringify!($module)),+].len();

        impl Source {
            /// Every source, in polling order (the order of the registry).
            pub const ALL: [Source; COUNT] = [$(Source::$variant),+];

            /// The `source` label value and config key: the module's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Source::$variant => stringify!($module),)+
                }
            }

            /// Permissions, request, default interval and connector kinds.
            pub fn spec(self) -> &'static Spec {
                match self {
                    $(Source::$variant => &<$module::Source as Definition>::SPEC,)+
                }
            }

            /// Whether it is polled when the config does not say.
            pub fn enabled_by_default(self) -> bool {
                match self {
                    $(Source::$variant => <$module::Source as Definition>::ENABLED_BY_DEFAULT,)+
                }
            }

            /// Decodes a raw response into this source's data.
            pub fn decode(self, raw: Raw) -> Result<SourceData, GraphError> {
                let path = self.request().path;
                Ok(match self {
                    $(Source::$variant => SourceData::$variant(Decode::decode(raw, path)?),)+
                })
            }
        }

        impl SourceData {
            /// The source this is the data of.
            pub fn source(&self) -> Source {
                match self {
                    $(SourceData::$variant(_) => Source::$variant,)+
                }
            }

            /// The instances of each of the source's connector kinds.
            fn instances(&self) -> Vec<(&'static ConnectorKind, Vec<connector::Instance>)> {
                match self {
                    $(SourceData::$variant(d) => <$module::Source as Definition>::connectors(d),)+
                }
            }

            /// The families other than the connector ones.
            fn own_families(&self, ctx: &Context<'_>) -> MetricSet {
                match self {
                    $(SourceData::$variant(d) => <$module::Source as Definition>::families(d, ctx),)+
                }
            }
        }
    };
}

registry! {
    /// Tenant name, country and MDM authority.
    Organization => organization,
    /// The Intune subscription state.
    DeviceManagement => device_management,
    /// Microsoft's own connector verdict (beta).
    ConnectorStatus => connector_status,
    /// User licences.
    SubscribedSkus => subscribed_skus,
    /// Commercial subscriptions that carry Intune (off by default).
    Subscriptions => subscriptions,
    /// The Apple MDM push certificate.
    Apns => apns,
    /// Apple VPP tokens.
    VppTokens => vpp_tokens,
    /// Apple ADE/DEP tokens (beta).
    DepOnboardingSettings => dep_onboarding_settings,
    /// Windows Autopilot sync (beta).
    WindowsAutopilotSettings => windows_autopilot_settings,
    /// Microsoft Store for Business sync.
    DeviceAppManagement => device_app_management,
    /// iOS/iPadOS in-house (line-of-business) apps and their expiry.
    IosLobApps => ios_lob_apps,
    /// iOS/iPadOS app provisioning profiles and their expiry (beta).
    IosLobAppProvisioningConfigurations => ios_lob_app_provisioning_configurations,
    /// Managed Google Play (beta).
    ManagedGooglePlay => managed_google_play,
    /// Exchange connectors.
    ExchangeConnectors => exchange_connectors,
    /// Legacy NDES connectors (beta).
    NdesConnectors => ndes_connectors,
    /// Certificate Connectors for Microsoft Intune (beta).
    CertificateConnectors => certificate_connectors,
    /// Mobile threat defense connectors, Defender for Endpoint included (beta).
    MobileThreatDefenseConnectors => mobile_threat_defense_connectors,
    /// Device management partners (Jamf and others).
    DeviceManagementPartners => device_management_partners,
    /// Compliance partners.
    ComplianceManagementPartners => compliance_management_partners,
    /// Intune Connectors for Active Directory (beta).
    DomainJoinConnectors => domain_join_connectors,
    /// Remote assistance partners.
    RemoteAssistancePartners => remote_assistance_partners,
    /// Chromebook onboarding (beta).
    ChromeOsOnboardingSettings => chromeos_onboarding_settings,
    /// Android Enterprise enrollment tokens of corporate-owned devices (beta).
    AndroidDeviceOwnerEnrollmentProfiles => android_device_owner_enrollment_profiles,
    /// Service health of the watched services.
    ServiceHealth => service_health,
    /// Unresolved incidents and advisories of the watched services.
    ServiceIssues => service_issues,
    /// Message center posts of the watched services.
    Messages => messages,
}

impl Source {
    /// The Graph application permission the exporter asks for to read this source.
    pub fn permission(self) -> &'static str {
        self.spec().permission
    }

    /// What to ask Graph for.
    pub fn request(self) -> &'static Request {
        self.spec().request
    }

    /// The sources polled when the config does not say, in polling order.
    pub fn defaults() -> Vec<Source> {
        Source::ALL
            .into_iter()
            .filter(|s| s.enabled_by_default())
            .collect()
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
}

/// Every connector kind, in the order of the sources that report them: the status page's
/// kinds, the README's table and the mixin's `connectors.json` come from here.
pub fn connector_kinds() -> Vec<&'static ConnectorKind> {
    Source::ALL
        .into_iter()
        .flat_map(|s| s.spec().kinds.iter().copied())
        .collect()
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
            "| `{}`{} | `GET /{}` | `{}` | {} |\n",
            s.name(),
            if s.enabled_by_default() {
                ""
            } else {
                " (off by default)"
            },
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

impl SourceData {
    /// The connector kinds this data describes, each instance with its health at `ctx.now`
    /// (noting in `ctx`'s horizon when it next changes): the one evaluation that both the
    /// families and the status page read. Empty for sources without connectors.
    pub fn connectors(&self, ctx: &Context<'_>) -> Vec<KindHealth> {
        self.instances()
            .into_iter()
            .map(|(kind, instances)| connector::evaluate_kind(kind, &instances, ctx))
            .collect()
    }

    /// The metric families of this data at `ctx.now`: the connector families built from
    /// [`SourceData::connectors`], and the source's own.
    pub fn families(&self, ctx: &Context<'_>) -> MetricSet {
        let mut set = MetricSet::new();
        for kind in self.connectors(ctx) {
            set.extend(connector::families(&kind, ctx));
        }
        set.extend(self.own_families(ctx));
        set
    }
}
