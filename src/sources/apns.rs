//! The Apple MDM push certificate: `GET /v1.0/deviceManagement/applePushNotificationCertificate`.
//!
//! A singleton; Graph answers 404 when no certificate was ever uploaded, which is "not
//! configured". Health comes from `expirationDateTime` alone: it has no sync.

use super::connector::{ConnectorKind, Instance};
use super::definition::{Definition, Spec, DM_CONFIGURATION, DM_DEVICES};
use crate::graph::odata::{lenient, optional_datetime, Request, Shape};
use crate::health::Facts;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What this source asks Graph for (`certificate` itself is left out).
pub const REQUEST: Request = Request {
    path: "v1.0/deviceManagement/applePushNotificationCertificate",
    select: &[
        "id",
        "appleIdentifier",
        "topicIdentifier",
        "expirationDateTime",
        "certificateSerialNumber",
    ],
    shape: Shape::Entity,
    filter: None,
};

/// The connector kind this source reports.
pub const KIND: ConnectorKind = ConnectorKind {
    label: "apns",
    description: "Apple MDM push certificate",
    states: &[],
    blade: "Microsoft_Intune_Enrollment/AppleMdmPushCertificateBlade",
};

/// Graph's `applePushNotificationCertificate`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// Graph's id of the singleton.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// The Apple ID that created the certificate: renewal must use the same one.
    #[serde(default, deserialize_with = "lenient")]
    pub apple_identifier: Option<String>,
    /// The push topic.
    #[serde(default, deserialize_with = "lenient")]
    pub topic_identifier: Option<String>,
    /// When the certificate expires.
    #[serde(default, deserialize_with = "optional_datetime")]
    pub expiration_date_time: Option<DateTime<Utc>>,
}

/// The connector instances of the certificate, or `not_configured` when there is none.
fn instances(cert: Option<&Certificate>) -> Vec<Instance> {
    let instances: Vec<Instance> = cert
        .map(|c| Instance {
            id: c
                .id
                .clone()
                .or_else(|| c.topic_identifier.clone())
                .unwrap_or_else(|| "applePushNotificationCertificate".to_string()),
            display_name: c.apple_identifier.clone().unwrap_or_default(),
            facts: Facts {
                expiry: c.expiration_date_time,
                ..Facts::default()
            },
            state: None,
            release: super::connector::Release::default(),
        })
        .into_iter()
        .collect();
    instances
}

/// The `apns` source.
pub struct Source;

impl Definition for Source {
    // The map's least is DeviceManagementServiceConfig.ReadWrite.All, a write permission; of
    // the read-only ones it lists, this is the one other sources need.
    const SPEC: Spec = Spec {
        permission: DM_CONFIGURATION,
        also_accepted: &[DM_DEVICES],
        request: &REQUEST,
        default_interval: None,
        kinds: &[&KIND],
    };
    type Data = Option<Certificate>;

    fn connectors(data: &Self::Data) -> Vec<(&'static ConnectorKind, Vec<Instance>)> {
        vec![(&KIND, instances(data.as_ref()))]
    }
}
