//! The Intune subscription: `GET /v1.0/deviceManagement` (`subscriptionState`).

use super::definition::{Context, Definition, Spec, DM_APPS, DM_CONFIGURATION, DM_DEVICES, DM_SERVICE_CONFIG};
use crate::graph::odata::{lenient, snake_case, Request, Shape};
use crate::metrics::catalog::TENANT_SUBSCRIPTION_STATE;
use crate::metrics::set::MetricSet;
use serde::Deserialize;

/// What this source asks Graph for.
pub const REQUEST: Request = Request {
    path: "v1.0/deviceManagement",
    select: &["id", "subscriptionState"],
    shape: Shape::Entity,
    filter: None,
};

/// The members of `deviceManagementSubscriptionState`, in snake_case: the stateset's states.
/// A member Graph adds later sets all of them to 0 rather than failing the poll.
pub const STATES: [&str; 7] = [
    "pending",
    "active",
    "warning",
    "disabled",
    "deleted",
    "blocked",
    "locked_out",
];

/// Graph's `deviceManagement`, the properties used.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceManagement {
    /// The state of the tenant's Intune subscription.
    #[serde(default, deserialize_with = "lenient")]
    pub subscription_state: Option<String>,
}

/// `intune_tenant_subscription_state`.
pub fn families(dm: Option<&DeviceManagement>, ctx: &Context<'_>) -> MetricSet {
    let mut set = MetricSet::new();
    if let Some(state) = dm.and_then(|d| d.subscription_state.as_deref()) {
        set.stateset(
            &TENANT_SUBSCRIPTION_STATE,
            &[ctx.tenant_id],
            &STATES,
            &snake_case(state),
        );
    }
    set
}

/// The `device_management` source.
pub struct Source;

impl Definition for Source {
    const SPEC: Spec = Spec {
        permission: DM_APPS,
        also_accepted: &[DM_SERVICE_CONFIG, DM_CONFIGURATION, DM_DEVICES],
        request: &REQUEST,
        default_interval: None,
        kinds: &[],
    };
    type Data = Option<DeviceManagement>;

    fn families(data: &Self::Data, ctx: &Context<'_>) -> MetricSet {
        families(data.as_ref(), ctx)
    }
}
