//! Certificate Connectors for Microsoft Intune: `GET /beta/deviceManagement/certificateConnectorDetails`
//! (beta only).
//!
//! Graph gives no state for these connectors: health comes from `lastCheckinDateTime` and from
//! the installed `connectorVersion`.
//!
//! # Versions
//!
//! Microsoft's lifecycle (Learn, *Certificate Connector for Microsoft Intune*,
//! `intune/intune-service/protect/certificate-connector-overview`, "Lifecycle" and "Connector
//! status"): each release "is supported for six months after the release of a new version";
//! connectors out of support "will continue to function for up to 18 months after the release
//! of a new version. After 18 months, a connectors functionality might fail"; the admin center
//! shows deprecated connectors with a Warning that turns into an Error. Its worked example:
//! 6.2203.12.0 released on May 4, 2022, so 6.2202.38.0 drops from support on November 4, 2022
//! and might stop working after November 2023. So, for an installed version, with `superseded`
//! the release date of the first newer version in [`RELEASES`]:
//! - warning from `superseded` + 6 calendar months (out of support);
//! - unhealthy from `superseded` + 18 calendar months (may fail);
//! - supported when no newer release is known: the newest release, or a version newer than the
//!   table (then the table is stale, not the connector);
//! - not judged when the version is not dotted numbers (absent, `null`, words): unknown is never
//!   unhealthy, and the `support` label stays empty.
//!
//! A version between two listed releases (a build the notes do not name) counts as superseded
//! by the next listed one. Versions older than the first release (the retired *PFX Certificate
//! Connector* and *Microsoft Intune Connector*, whose support ended with 6.2109.51.0 and which
//! could no longer issue certificates from September 2022, by the same page) count as
//! superseded by it, so they have been unhealthy since January 2023.
//!
//! [`RELEASES`] is read off the page's "What's new for the Certificate Connector" section (and
//! its archived entries for 2021 and early 2022). It ages: when Microsoft ships a release the
//! table does not list, connectors on the release before it are flagged only once the exporter
//! is updated with the new row. Updating means adding one line at the end.

use super::connector::{self, first_name, parse_version, ConnectorKind, Instance, Release, Support};
use super::definition::{Definition, Spec, DM_CONFIGURATION};
use crate::graph::odata::{lenient, lenient_or_default, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "beta/deviceManagement/certificateConnectorDetails",
    select: &[
        "id",
        "connectorName",
        "machineName",
        "lastCheckinDateTime",
        "connectorVersion",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// Releases of the Certificate Connector for Microsoft Intune and their dates (UTC), oldest
/// first, as Microsoft's release notes list them (see the module docs). Add new releases at the
/// end; a test checks that versions and dates both ascend.
pub const RELEASES: &[(&str, &str)] = &[
    ("6.2107.45.0", "2021-07-29"),
    ("6.2108.18.0", "2021-08-16"),
    ("6.2109.51.0", "2021-09-23"),
    ("6.2110.201.0", "2021-10-11"),
    ("6.2112.1.0", "2022-01-06"),
    ("6.2201.7.0", "2022-02-18"),
    ("6.2202.38.0", "2022-03-10"),
    ("6.2203.12.0", "2022-05-04"),
    ("6.2205.201.0", "2022-06-30"),
    ("6.2206.122.0", "2022-09-21"),
    ("6.2301.1.0", "2023-02-15"),
    ("6.2406.0.1001", "2024-09-19"),
    ("6.2406.0.1002", "2025-06-12"),
    ("6.2406.0.2002", "2025-07-22"),
    ("6.2510.3.2002", "2026-02-18"),
];

/// Supported for this long after a newer release ships.
const SUPPORTED_FOR: Months = Months::new(6);
/// Keeps working (unsupported) for this long after a newer release ships.
const WORKS_FOR: Months = Months::new(18);

/// How long an installed certificate connector `version` is supported by `releases` (pairs of
/// version and `YYYY-MM-DD` date, oldest first): [`Support::Current`] when no newer release is
/// listed, `None` when the version is not a version. NDES connectors report versions of the
/// same connector (see [`super::ndes_connectors`]).
pub fn support(version: &str, releases: &[(&str, &str)]) -> Option<Support> {
    let installed = parse_version(version)?;
    let superseded = releases
        .iter()
        .filter_map(|(v, date)| Some((parse_version(v)?, date.parse::<NaiveDate>().ok()?)))
        .find(|(v, _)| *v > installed);
    let Some((_, superseded)) = superseded else {
        return Some(Support::Current);
    };
    let at = |months| {
        superseded
            .checked_add_months(months)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
    };
    Some(Support::Until {
        ends: at(SUPPORTED_FOR)?,
        fails: at(WORKS_FOR)?,
    })
}

/// The release of a connector reporting `version`, judged by [`RELEASES`].
pub fn release(version: Option<&str>) -> Release {
    Release {
        version: version.map(str::to_string),
        support: version.and_then(|v| support(v, RELEASES)),
    }
}

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "certificate_connector",
    description: "Certificate Connector for Microsoft Intune",
    states: &[],
    blade: connector::CERTIFICATE_CONNECTORS_BLADE,
};

/// Graph's `certificateConnectorDetails`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateConnector {
    /// Graph's id of the connector.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The name given at enrolment.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_name: Option<String>,
    /// The machine it runs on.
    #[serde(default, deserialize_with = "lenient")]
    pub machine_name: Option<String>,
    /// Last check-in with Intune.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub last_checkin_date_time: Option<DateTime<Utc>>,
    /// The installed version, e.g. `6.2406.0.1001`.
    #[serde(default, deserialize_with = "lenient")]
    pub connector_version: Option<String>,
}

/// The connector instances of every certificate connector.
fn instances(connectors: &[CertificateConnector]) -> Vec<Instance> {
    connector::instances_of(
        connectors,
        |c| {
            Some(Instance {
                id: c.id.clone(),
                display_name: first_name(&[c.connector_name.as_deref(), c.machine_name.as_deref()]),
                facts: Facts {
                    expiry: None,
                    last_sync: c.last_checkin_date_time,
                    ..Facts::default()
                },
                state: None,
                release: release(c.connector_version.as_deref()),
            })
        },
    )
}

/// The `certificate_connectors` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Vec<CertificateConnector>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{Health, Thresholds};
    use crate::sources::{Context, Horizon, Options};
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    /// The health `version` gets from its support at `now`, and the horizon it notes.
    fn judge(version: &str, now: DateTime<Utc>) -> (Health, Option<DateTime<Utc>>) {
        let thresholds = Thresholds::default();
        let options = Options::default();
        let horizon = Horizon::new();
        let ctx = Context {
            tenant_id: "t",
            now,
            thresholds: &thresholds,
            options: &options,
            horizon: &horizon,
        };
        let health =
            support(version, RELEASES).map_or(Health::Healthy, |s| s.status(&ctx).health());
        (health, horizon.get())
    }

    #[test]
    fn the_release_table_ascends_and_parses() {
        let parsed: Vec<([u32; 4], NaiveDate)> = RELEASES
            .iter()
            .map(|(v, d)| (parse_version(v).unwrap(), d.parse().unwrap()))
            .collect();
        for pair in parsed.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{pair:?}: versions must ascend");
            assert!(pair[0].1 < pair[1].1, "{pair:?}: dates must ascend");
        }
    }

    #[test]
    fn health_by_version() {
        let latest = RELEASES.last().unwrap().0;
        // 6.2406.0.2002 was superseded by 6.2510.3.2002 on 2026-02-18.
        type Case = (&'static str, DateTime<Utc>, Health, Option<DateTime<Utc>>);
        let cases: &[Case] = &[
            // The newest release: nothing to say, ever.
            (latest, at(2026, 11, 25), Health::Healthy, None),
            (latest, at(2040, 1, 1), Health::Healthy, None),
            // One release behind, within the six months.
            (
                "6.2406.0.2002",
                at(2026, 8, 17),
                Health::Healthy,
                Some(at(2026, 8, 18)),
            ),
            // Seven months behind the latest: out of support.
            (
                "6.2406.0.2002",
                at(2026, 9, 18),
                Health::Warning,
                Some(at(2027, 8, 18)),
            ),
            (
                "6.2406.0.2002",
                at(2026, 8, 18),
                Health::Warning,
                Some(at(2027, 8, 18)),
            ),
            // Nineteen months after it was superseded: past the failure horizon.
            ("6.2406.0.2002", at(2027, 9, 18), Health::Unhealthy, None),
            ("6.2406.0.2002", at(2027, 8, 18), Health::Unhealthy, None),
            // Microsoft's own example: 6.2202.38.0 left support on 2022-11-04 and may fail
            // from November 2023.
            (
                "6.2202.38.0",
                at(2022, 11, 3),
                Health::Healthy,
                Some(at(2022, 11, 4)),
            ),
            (
                "6.2202.38.0",
                at(2022, 11, 4),
                Health::Warning,
                Some(at(2023, 11, 4)),
            ),
            ("6.2202.38.0", at(2023, 11, 4), Health::Unhealthy, None),
            // A build the notes do not name counts as superseded by the next listed release
            // (6.2406.0.2002, 2025-07-22).
            (
                "6.2406.0.1500",
                at(2026, 1, 22),
                Health::Warning,
                Some(at(2027, 1, 22)),
            ),
            // A legacy connector, older than the first release of this one.
            ("6.2008.60.607", at(2026, 11, 25), Health::Unhealthy, None),
            // Newer than the table knows: the table is stale, not the connector.
            ("6.2604.1.0", at(2026, 11, 25), Health::Healthy, None),
            ("7", at(2026, 11, 25), Health::Healthy, None),
            // Not a version: unknown, never unhealthy.
            (
                "Connector Version value",
                at(2026, 11, 25),
                Health::Healthy,
                None,
            ),
            ("", at(2026, 11, 25), Health::Healthy, None),
            (
                "6.2406.0.1001-beta",
                at(2026, 11, 25),
                Health::Healthy,
                None,
            ),
            ("v6.2301.1.0", at(2026, 11, 25), Health::Healthy, None),
            ("6..1", at(2026, 11, 25), Health::Healthy, None),
            ("6.2301.1.0.0", at(2026, 11, 25), Health::Healthy, None),
            ("6.99999999999", at(2026, 11, 25), Health::Healthy, None),
        ];
        for (version, now, health, horizon) in cases {
            assert_eq!(
                judge(version, *now),
                (*health, *horizon),
                "{version:?} at {now}"
            );
        }
        // Surrounding blanks are not part of the version.
        assert_eq!(
            judge(" 6.2202.38.0 ", at(2026, 11, 25)),
            (Health::Unhealthy, None)
        );
    }

    #[test]
    fn support_window_of_microsofts_example() {
        assert_eq!(
            support("6.2202.38.0", RELEASES),
            Some(Support::Until {
                ends: at(2022, 11, 4),
                fails: at(2023, 11, 4),
            })
        );
        assert_eq!(
            support(RELEASES.last().unwrap().0, RELEASES),
            Some(Support::Current)
        );
        assert_eq!(support("6.2604.1.0", RELEASES), Some(Support::Current));
        assert_eq!(support("Connector Version value", RELEASES), None);
        // Month ends clamp like the calendar: 2022-08-31 + 6 months is 2023-02-28.
        assert_eq!(
            support("1.0", &[("1.0", "2022-01-01"), ("1.1", "2022-08-31")]),
            Some(Support::Until {
                ends: at(2023, 2, 28),
                fails: at(2024, 2, 29),
            })
        );
    }
}
