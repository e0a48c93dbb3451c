//! Licences: `GET /v1.0/subscribedSkus`, the SKUs that carry an Intune service plan.
//!
//! A SKU counts when one of its service plans is Intune's: `INTUNE_A` (Plan 1) or `INTUNE_EDU`
//! by id, or any plan named `INTUNE_*` except `INTUNE_O365` (basic mobility in Microsoft 365,
//! not Intune) and `INTUNE_DEFENDER*`. Only SKUs that apply to users are counted, as on the
//! page ("user licences"); device licences are out of scope.

use super::Context;
use crate::graph::odata::{Request, Shape};
use crate::metrics::catalog::{LICENSE_CONSUMED_UNITS, LICENSE_PREPAID_UNITS};
use crate::metrics::MetricSet;
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/subscribedSkus",
    select: &[
        "skuId",
        "skuPartNumber",
        "appliesTo",
        "capabilityStatus",
        "consumedUnits",
        "prepaidUnits",
        "servicePlans",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// Service plan ids of Intune, from Microsoft's licensing service plan reference.
const INTUNE_PLAN_IDS: [&str; 2] = [
    "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", // INTUNE_A
    "da24caf9-af8e-485c-b7c8-e73336da2693", // INTUNE_EDU
];

/// Graph's `subscribedSku`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    /// The SKU's part number, e.g. `EMSPREMIUM`; the `sku` label.
    #[serde(default)]
    pub sku_part_number: String,
    /// `User` or `Company`.
    pub applies_to: Option<String>,
    /// Units assigned.
    #[serde(default)]
    pub consumed_units: i64,
    /// Units bought, by state.
    #[serde(default)]
    pub prepaid_units: PrepaidUnits,
    /// The service plans the SKU includes.
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

/// Graph's `licenseUnitsDetail`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidUnits {
    /// Active units.
    #[serde(default)]
    pub enabled: i64,
    /// Units of a suspended subscription.
    #[serde(default)]
    pub suspended: i64,
    /// Units in the grace period after expiry.
    #[serde(default)]
    pub warning: i64,
    /// Units of a subscription that was cancelled.
    #[serde(default)]
    pub locked_out: i64,
}

/// Graph's `servicePlanInfo`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    /// The plan's id.
    #[serde(default)]
    pub service_plan_id: String,
    /// The plan's name, e.g. `INTUNE_A`.
    #[serde(default)]
    pub service_plan_name: String,
}

impl SubscribedSku {
    /// Whether this SKU gives users Intune.
    pub fn carries_intune(&self) -> bool {
        let for_users = self
            .applies_to
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("user"));
        for_users
            && self.service_plans.iter().any(|p| {
                let name = p.service_plan_name.to_ascii_uppercase();
                INTUNE_PLAN_IDS
                    .iter()
                    .any(|id| id.eq_ignore_ascii_case(&p.service_plan_id))
                    || (name.starts_with("INTUNE_")
                        && !name.starts_with("INTUNE_O365")
                        && !name.starts_with("INTUNE_DEFENDER"))
            })
    }
}

/// `intune_license_prepaid_units` and `intune_license_consumed_units` per Intune SKU.
pub fn families(skus: &[SubscribedSku], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    for sku in skus.iter().filter(|s| s.carries_intune()) {
        let name = sku.sku_part_number.as_str();
        let p = &sku.prepaid_units;
        for (state, units) in [
            ("enabled", p.enabled),
            ("suspended", p.suspended),
            ("warning", p.warning),
            ("locked_out", p.locked_out),
        ] {
            set.gauge(
                &LICENSE_PREPAID_UNITS,
                &[ctx.tenant_id, name, state],
                units as f64,
            );
        }
        set.gauge(
            &LICENSE_CONSUMED_UNITS,
            &[ctx.tenant_id, name],
            sku.consumed_units as f64,
        );
    }
    set
}
