//! Tenant details: `GET /v1.0/organization` (name, country, MDM authority).

use super::definition::{Context, Definition, Spec, DM_CONFIGURATION, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, lenient_or_default, snake_case, Request, Shape};
use crate::metrics::catalog::TENANT_INFO;
use crate::metrics::set::MetricSet;
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/organization",
    select: &[
        "id",
        "displayName",
        "countryLetterCode",
        "mobileDeviceManagementAuthority",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// Graph's `organization`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The tenant id.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub id: String,
    /// The tenant name.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// Two-letter country code.
    #[serde(default, deserialize_with = "lenient")]
    pub country_letter_code: Option<String>,
    /// `intune`, `sccm`, `office365` or `unknown` (kept as Graph sent it).
    #[serde(default, deserialize_with = "lenient")]
    pub mobile_device_management_authority: Option<String>,
}

/// `intune_tenant_info` for the organization whose id is the tenant's (or the only one).
pub fn families(orgs: &[Organization], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let org = orgs
        .iter()
        .find(|o| o.id.eq_ignore_ascii_case(ctx.tenant_id))
        .or(orgs.first());
    if let Some(org) = org {
        let mdm = org
            .mobile_device_management_authority
            .as_deref()
            .map_or_else(|| "unknown".to_string(), snake_case);
        set.gauge(
            &TENANT_INFO,
            &[
                ctx.tenant_id,
                org.display_name.as_deref().unwrap_or(""),
                org.country_letter_code.as_deref().unwrap_or(""),
                &mdm,
            ],
            1.0,
        );
    }
    set
}

/// The `organization` source.
pub struct Source;

impl Definition for Source {
    // Least: DeviceManagementServiceConfig.Read.All, which other sources need anyway.
    const SPEC: Spec = Spec {
        permission: DM_SERVICE_CONFIG,
        also_accepted: &[
            "Organization.Read.All",
            "Directory.Read.All",
            "User.Read.All",
            DM_CONFIGURATION,
        ],
        request: &REQUEST,
        default_interval: None,
        kinds: &[],
    };
    type Data = Vec<Organization>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
