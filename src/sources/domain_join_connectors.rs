//! The Intune Connector for Active Directory: `GET /beta/deviceManagement/domainJoinConnectors`
//! (beta only).
//!
//! Health: `lastConnectionDateTime` by the page's rules. Microsoft defines the `state` members
//! by heartbeats (`deviceManagementDomainJoinConnectorState`, beta docs
//! `intune-odj-devicemanagementdomainjoinconnectorstate.md`): `error` is no heartbeat in the
//! last hour and `inactive` none in the last five days. The page's own rules are one day
//! (warning) and three days (unhealthy), so:
//! - `error` does not make a connector unhealthy by itself: the date decides (an `error` two
//!   hours after the last heartbeat is healthy), and the state shows in the `state` label of `intune_connector_info`.
//!   Without a date it is a warning: a heartbeat was missed and nothing says for how long.
//! - `inactive` (five days or more) is unhealthy, which is what the three-day rule says anyway,
//!   date or not.
//!
//! Version: Intune 2501 replaced the legacy connector with an updated one that runs as a
//! managed service account; the legacy connector "will continue to work through sometime in May
//! 2025" (Learn, Windows Autopilot, `includes/intune-connector.md`), and now "versions older than
//! [`UPDATED_CONNECTOR`] are deprecated and can no longer process enrollment requests" (Learn,
//! *Deploy Microsoft Entra hybrid joined devices by using Intune and Windows Autopilot*,
//! `autopilot/windows-autopilot-hybrid`, 2025-05-29). So a version older than that is
//! unhealthy (`support="may_fail"`) from [`LEGACY_RETIRED`], the first day after May 2025.
//! Microsoft documents no support window for the updated connector's releases, so from
//! [`UPDATED_CONNECTOR`] on a version is supported; an unparseable version is not judged, and
//! health is left to the date and the state.

use super::connector::{self, member_is, parse_version, ConnectorKind, Instance, Release, Support};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::{Facts, Health};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/domainJoinConnectors",
    select: &[
        "id",
        "displayName",
        "lastConnectionDateTime",
        "state",
        "version",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "ad_connector",
    description: "Intune Connector for Active Directory",
    states: &STATES,
    blade: connector::CONNECTORS_AND_TOKENS,
};

/// `deviceManagementDomainJoinConnectorState` in snake_case, and `unknown`.
pub const STATES: [&str; 4] = ["active", "error", "inactive", "unknown"];

/// Graph's `deviceManagementDomainJoinConnector`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AdConnector {
    /// Graph's id of the connector.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// Its name (usually the server's).
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// Last contact with Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_connection_date_time: Option<DateTime<Utc>>,
    /// `active`, `error`, `inactive`.
    #[serde(default, deserialize_with = "lenient")]
    pub state: Option<String>,
    /// The installed version.
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<String>,
}

/// The first version of the updated connector; older versions are the retired legacy one.
pub const UPDATED_CONNECTOR: &str = "6.2501.2000.5";

/// When the legacy connector stopped working: 2025-06-01T00:00:00Z, the first instant after
/// "sometime in May 2025".
pub const LEGACY_RETIRED: DateTime<Utc> = match DateTime::from_timestamp(1_748_736_000, 0) {
    Some(t) => t,
    None => DateTime::<Utc>::MIN_UTC,
};

/// The release of a connector reporting `version`: a legacy version is retired, an updated one
/// current, anything else not judged.
pub fn release(version: Option<&str>) -> Release {
    let support = version
        .and_then(parse_version)
        .zip(parse_version(UPDATED_CONNECTOR))
        .map(|(installed, updated)| {
            if installed < updated {
                Support::Until {
                    ends: LEGACY_RETIRED,
                    fails: LEGACY_RETIRED,
                }
            } else {
                Support::Current
            }
        });
    Release {
        version: version.map(str::to_string),
        support,
    }
}


fn floor(c: &AdConnector) -> Health {
    let state = c.state.as_deref();
    if member_is(state, &["inactive"]) {
        Health::Unhealthy
    } else if member_is(state, &["error"]) && c.last_connection_date_time.is_none() {
        Health::Warning
    } else {
        Health::Healthy
    }
}

/// The connector instances of every AD connector.
fn instances(connectors: &[AdConnector]) -> Vec<Instance> {
    connector::instances_of(
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: c.display_name.clone().unwrap_or_default(),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_connection_date_time,
                    floor: floor(c),
                },
                state: c.state.clone(),
                release: release(c.version.as_deref()),
            })
        },
    )
}

/// The `domain_join_connectors` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<AdConnector>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}
