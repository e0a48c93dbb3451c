//! What every source module implements ([`Definition`]), with the [`Context`] its pure
//! functions get. Source modules import it, the registry in [`super`] lists the modules, and
//! nothing here knows any particular source.

use super::connector::{ConnectorKind, Instance};
pub use super::context::{first_of_each, Context, Horizon, Options};
use crate::graph::odata::{Raw, Request};
use crate::graph::GraphError;
use crate::metrics::set::MetricSet;
use serde::de::DeserializeOwned;

/// One Graph data source, implemented by a unit struct in the module of the same name (the
/// module's name is the `source` label value and the config key).
pub trait Definition {
    /// Permissions, request, default interval and connector kinds.
    const SPEC: Spec;
    /// Whether it is polled when the config does not say (`sources.<name>.enabled`). A source
    /// that needs a permission earlier versions did not ask for is off by default, so that an
    /// upgrade does not take it down for a missing grant.
    const ENABLED_BY_DEFAULT: bool = true;
    /// The decoded answer: `Vec<T>` for a collection, `Option<T>` for a singleton (`None`
    /// when Graph has none).
    type Data: Decode + std::fmt::Debug + Clone + PartialEq + Send + Sync + 'static;

    /// The instances of each connector kind this data lists (every kind of
    /// [`Spec::kinds`], in that order, also when it has none); empty for sources without
    /// connectors. Pure: health is evaluated from these by the caller.
    fn connectors(_data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        Vec::new()
    }

    /// The families other than the `intune_connector_*` ones, at `ctx.now`. Pure.
    fn families(_data: &Self::Data, _ctx: &Context<'_>) -> MetricSet {
        MetricSet::new()
    }
}

/// What the poller and the docs need to know about a source.
#[derive(Debug)]
pub struct Spec {
    /// The Graph application permission the exporter asks for: the one Microsoft's permission
    /// map marks least privileged for the path, unless the module says why not.
    pub permission: &'static str,
    /// Other read-only application permissions the map accepts for the path.
    pub also_accepted: &'static [&'static str],
    /// What to ask Graph for.
    pub request: &'static Request,
    /// Its default poll interval, when it differs from `poll.interval`.
    pub default_interval: Option<&'static str>,
    /// The connector kinds it reports, in the order the page lists them.
    pub kinds: &'static [&'static ConnectorKind],
}

// Permissions, checked row by row against Microsoft's permission map
// (microsoftgraph/microsoft-graph-devx-content, permissions/new/permissions.json, the `least=`
// marks of the `Application` scheme for GET on each path). The map does not tell v1.0 from beta.
/// `DeviceManagementServiceConfig.Read.All`.
pub const DM_SERVICE_CONFIG: &str = "DeviceManagementServiceConfig.Read.All";
/// `DeviceManagementConfiguration.Read.All`.
pub const DM_CONFIGURATION: &str = "DeviceManagementConfiguration.Read.All";
/// `DeviceManagementApps.Read.All`.
pub const DM_APPS: &str = "DeviceManagementApps.Read.All";
/// `DeviceManagementManagedDevices.Read.All`.
pub const DM_DEVICES: &str = "DeviceManagementManagedDevices.Read.All";
/// `ServiceHealth.Read.All`.
pub const SERVICE_HEALTH: &str = "ServiceHealth.Read.All";

/// The default interval of the service communications sources (health, issues). The API allows
/// 800 requests an hour per app and tenant; health and issues are one request per page (100
/// items) per poll and Message center posts a few pages: at the defaults a tenant costs well
/// under 100 requests an hour there.
pub const SERVICE_COMMS_INTERVAL: &str = "5m";

/// A decoded answer of one of Graph's two shapes.
pub trait Decode: Sized {
    /// Decodes `raw`, the answer for `path`.
    fn decode(raw: Raw, path: &str) -> Result<Self, GraphError>;
}

impl<T: DeserializeOwned> Decode for Vec<T> {
    fn decode(raw: Raw, path: &str) -> Result<Self, GraphError> {
        raw.items(path)
    }
}

impl<T: DeserializeOwned> Decode for Option<T> {
    fn decode(raw: Raw, path: &str) -> Result<Self, GraphError> {
        raw.entity(path)
    }
}
