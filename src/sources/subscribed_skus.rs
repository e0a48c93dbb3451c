//! Licences: `GET /v1.0/subscribedSkus`, the SKUs that carry an Intune service plan.
//!
//! A SKU counts when one of its service plans is Intune's: `INTUNE_A` (Plan 1) or `INTUNE_EDU`
//! by id, or any plan named `INTUNE_*` except `INTUNE_O365` (basic mobility in Microsoft 365,
//! not Intune) and `INTUNE_DEFENDER*`. Only SKUs that apply to users are counted, as on the
//! page ("user licences"); device licences are out of scope.
//!
//! The v1.0 schema allows null for `skuPartNumber`, `consumedUnits`, every `prepaidUnits` count
//! and `servicePlanId`/`servicePlanName`. A null count is unknown, not zero: its series is left
//! out. A SKU without a part number is named by its `skuId`, and one with neither is skipped
//! (it has no name to carry). A SKU listed twice is exported once, the first.

use super::definition::{first_of_each, Context, Definition, Spec};
use crate::graph::odata::{lenient, lenient_list, lenient_or_default, Request, Shape};
use crate::metrics::catalog::{LICENSE_CONSUMED_UNITS, LICENSE_PREPAID_UNITS};
use crate::metrics::set::MetricSet;
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
    /// The SKU's id.
    #[serde(default, deserialize_with = "lenient")]
    pub sku_id: Option<String>,
    /// The SKU's part number, e.g. `EMSPREMIUM`; the `sku` label.
    #[serde(default, deserialize_with = "lenient")]
    pub sku_part_number: Option<String>,
    /// `User` or `Company`.
    #[serde(default, deserialize_with = "lenient")]
    pub applies_to: Option<String>,
    /// Units assigned.
    #[serde(default, deserialize_with = "lenient")]
    pub consumed_units: Option<i64>,
    /// Units bought, by state.
    #[serde(default, deserialize_with = "lenient_or_default")]
    pub prepaid_units: PrepaidUnits,
    /// The service plans the SKU includes.
    #[serde(default, deserialize_with = "lenient_list")]
    pub service_plans: Vec<ServicePlan>,
}

/// Graph's `licenseUnitsDetail`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidUnits {
    /// Active units.
    #[serde(default, deserialize_with = "lenient")]
    pub enabled: Option<i64>,
    /// Units of a suspended subscription.
    #[serde(default, deserialize_with = "lenient")]
    pub suspended: Option<i64>,
    /// Units in the grace period after expiry.
    #[serde(default, deserialize_with = "lenient")]
    pub warning: Option<i64>,
    /// Units of a subscription that was cancelled.
    #[serde(default, deserialize_with = "lenient")]
    pub locked_out: Option<i64>,
}

/// Graph's `servicePlanInfo`, the properties used (also the items of a commercial
/// subscription's `serviceStatus`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    /// The plan's id.
    #[serde(default, deserialize_with = "lenient")]
    pub service_plan_id: Option<String>,
    /// The plan's name, e.g. `INTUNE_A`.
    #[serde(default, deserialize_with = "lenient")]
    pub service_plan_name: Option<String>,
    /// `User` or `Company`.
    #[serde(default, deserialize_with = "lenient")]
    pub applies_to: Option<String>,
}

impl ServicePlan {
    /// Whether this plan is Intune's, by id or name (see the module docs).
    pub fn is_intune(&self) -> bool {
        let name = self
            .service_plan_name
            .as_deref()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let id = self.service_plan_id.as_deref().unwrap_or_default();
        INTUNE_PLAN_IDS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(id))
            || (name.starts_with("INTUNE_")
                && !name.starts_with("INTUNE_O365")
                && !name.starts_with("INTUNE_DEFENDER"))
    }

    /// Whether it applies to users (or does not say).
    pub fn for_users(&self) -> bool {
        self.applies_to
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("user"))
    }
}

impl SubscribedSku {
    /// Whether this SKU gives users Intune.
    pub fn carries_intune(&self) -> bool {
        let for_users = self
            .applies_to
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("user"));
        for_users && self.service_plans.iter().any(ServicePlan::is_intune)
    }

    /// The `sku` label: the part number, else the SKU's id.
    pub fn label(&self) -> Option<&str> {
        self.sku_part_number
            .as_deref()
            .or(self.sku_id.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// `intune_license_prepaid_units` and `intune_license_consumed_units` per Intune SKU.
pub fn families(skus: &[SubscribedSku], ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    let intune: Vec<(&str, &SubscribedSku)> = skus
        .iter()
        .filter(|s| s.carries_intune())
        .filter_map(|s| Some((s.label()?, s)))
        .collect();
    for &(name, sku) in first_of_each(&intune, |(name, _)| *name) {
        let p = &sku.prepaid_units;
        for (state, units) in [
            ("enabled", p.enabled),
            ("suspended", p.suspended),
            ("warning", p.warning),
            ("locked_out", p.locked_out),
        ] {
            if let Some(units) = units {
                set.gauge(
                    &LICENSE_PREPAID_UNITS,
                    &[ctx.tenant_id, name, state],
                    units as f64,
                );
            }
        }
        if let Some(consumed) = sku.consumed_units {
            set.gauge(
                &LICENSE_CONSUMED_UNITS,
                &[ctx.tenant_id, name],
                consumed as f64,
            );
        }
    }
    set
}

/// The `subscribed_skus` source.
pub struct Source;

impl Definition for Source {
    // The map's least privileged is LicenseAssignment.Read.All (since mid-2025).
    const SPEC: Spec = Spec {
        permission: "LicenseAssignment.Read.All",
        also_accepted: &["Organization.Read.All", "Directory.Read.All"],
        request: &REQUEST,
        default_interval: None,
        kinds: &[],
    };
    type Data = Vec<SubscribedSku>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data, ctx)
    }
}
