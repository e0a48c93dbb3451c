//! GDAP relationships: when the partner's delegated admin access to each customer ends.
//!
//! `GET /v1.0/tenantRelationships/delegatedAdminRelationships`, in the partner tenant with the
//! client and permission of GDAP discovery (`DelegatedAdminRelationship.Read.All`), listed
//! after each listing of the customers. At a relationship's `endDateTime` the partner's
//! technicians lose the admin roles it grants in the customer tenant, unless it auto-extends
//! (`autoExtendDuration`, `PT0S` by default: it does not). The exporter itself signs in with
//! the customer's app consent and keeps reading the tenant; the people who act on its alerts
//! are the ones locked out.
//!
//! [`families`] is a pure function of the listing, the replica's shard and the listing time:
//! each relationship is exported under the customer's tenant id, by the replica that owns
//! that tenant, so shards never export one twice. Relationships that expired or were terminated
//! more than [`ENDED_KEPT`] before the listing are left out: an old relationship replaced by a
//! new one would otherwise stay in every scrape for good, while a recently ended one is still
//! worth an alert. A failed listing keeps the last good series (see the supervisor).

use super::Shard;
use crate::graph::odata::{lenient, parse_datetime, snake_case, Request, Shape};
use crate::graph::{GraphClient, GraphError};
use crate::metrics::catalog::{
    GDAP_RELATIONSHIP_AUTO_EXTEND, GDAP_RELATIONSHIP_END, GDAP_RELATIONSHIP_INFO,
};
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The `discovery` label value of this listing's health metrics.
pub const NAME: &str = "delegated_admin_relationships";

/// How long after its end an expired or terminated relationship is still exported.
pub const ENDED_KEPT: chrono::Duration = chrono::Duration::days(30);

/// The listing request. `customer` is a complex property: Graph selects it whole.
pub static REQUEST: Request = Request {
    path: "v1.0/tenantRelationships/delegatedAdminRelationships",
    select: &[
        "id",
        "displayName",
        "status",
        "endDateTime",
        "autoExtendDuration",
        "customer",
    ],
    shape: Shape::Collection,
    filter: None,
};

/// The documented members of `delegatedAdminRelationshipStatus`, in snake_case; anything
/// else is exported as `unknown`.
const STATUSES: &[&str] = &[
    "activating",
    "active",
    "approval_pending",
    "approved",
    "created",
    "expired",
    "expiring",
    "terminated",
    "terminating",
    "termination_requested",
];

/// One `delegatedAdminRelationship`, every property read leniently.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    #[serde(default, deserialize_with = "lenient")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    end_date_time: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    auto_extend_duration: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    customer: Option<Customer>,
}

/// `delegatedAdminRelationshipCustomerParticipant`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    #[serde(default, deserialize_with = "lenient")]
    tenant_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    display_name: Option<String>,
}

/// Lists the partner's relationships and turns them into series (see [`families`]).
pub async fn list(
    client: &GraphClient,
    shard: Shard,
    now: DateTime<Utc>,
) -> Result<MetricSet, GraphError> {
    let raw = client.fetch(NAME, &REQUEST).await?;
    let items: Vec<serde_json::Value> = raw.items(REQUEST.path)?;
    Ok(families(items, shard, now))
}

/// The series of the relationships this replica exports, listed at `now`: the info series of
/// each, its end when Graph gives one, and its auto-extension when it can be read. A
/// relationship without a relationship id or a customer tenant id is skipped, with one log line.
pub fn families(items: Vec<serde_json::Value>, shard: Shard, now: DateTime<Utc>) -> MetricSet {
    let mut set = MetricSet::new();
    let mut skipped = 0usize;
    // A relationship listed twice (pages that shifted while they were read) must not give
    // duplicate series, which Prometheus refuses.
    let mut seen = std::collections::HashSet::new();
    for value in items {
        let Ok(r) = serde_json::from_value::<Relationship>(value) else {
            skipped += 1;
            continue;
        };
        let customer = r.customer.unwrap_or(Customer {
            tenant_id: None,
            display_name: None,
        });
        let tenant_id = customer
            .tenant_id
            .as_deref()
            .and_then(|id| crate::config::tenant_identifier(id).ok());
        let (Some(id), Some(tenant_id)) = (r.id.filter(|id| !id.is_empty()), tenant_id) else {
            skipped += 1;
            continue;
        };
        if !shard.owns(&tenant_id) || !seen.insert(id.clone()) {
            continue;
        }
        let status = r
            .status
            .as_deref()
            .map(snake_case)
            .filter(|s| STATUSES.contains(&s.as_str()))
            .unwrap_or_else(|| "unknown".to_string());
        let end = r.end_date_time.as_deref().and_then(parse_datetime);
        let ended = matches!(status.as_str(), "expired" | "terminated");
        if ended && end.is_none_or(|end| now - end > ENDED_KEPT) {
            continue;
        }
        set.gauge(
            &GDAP_RELATIONSHIP_INFO,
            &[
                &tenant_id,
                &id,
                r.display_name.as_deref().unwrap_or_default(),
                customer.display_name.as_deref().unwrap_or_default(),
                &status,
            ],
            1.0,
        );
        if let Some(end) = end {
            set.gauge(
                &GDAP_RELATIONSHIP_END,
                &[&tenant_id, &id],
                end.timestamp() as f64,
            );
        }
        // Absent means PT0S, Graph's default.
        match iso8601_seconds(r.auto_extend_duration.as_deref().unwrap_or("PT0S")) {
            Some(seconds) => set.gauge(
                &GDAP_RELATIONSHIP_AUTO_EXTEND,
                &[&tenant_id, &id],
                seconds as f64,
            ),
            None => tracing::warn!(
                relationship_id = %id,
                auto_extend_duration = r.auto_extend_duration.as_deref().unwrap_or_default(),
                "a GDAP relationship's autoExtendDuration is not a duration of days, hours, minutes and seconds; exporting it without one"
            ),
        }
    }
    if skipped > 0 {
        tracing::warn!(
            skipped,
            "skipping GDAP relationships without a relationship id or a customer tenant id"
        );
    }
    set
}

/// An ISO 8601 duration of weeks, days, hours, minutes and whole seconds (`P180D`, `PT0S`,
/// `P1DT12H`), in seconds. Years and months have no fixed length and give `None`, like
/// anything else that is not such a duration; Graph documents only `PT0S` and `P180D` here.
pub fn iso8601_seconds(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = 0u64;
    let mut any = false;
    let mut add = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            // Units appear at most once each, largest first.
            let at = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            let n: u64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(units[at].1)?)?;
            number.clear();
            next_unit = at + 1;
            any = true;
        }
        number.is_empty().then_some(())
    };
    add(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(time) = time {
        add(time, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_durations_graph_documents_and_refuses_the_rest() {
        assert_eq!(iso8601_seconds("PT0S"), Some(0));
        assert_eq!(iso8601_seconds("P0D"), Some(0));
        assert_eq!(iso8601_seconds("P180D"), Some(180 * 86_400));
        assert_eq!(iso8601_seconds("P1W"), Some(7 * 86_400));
        assert_eq!(iso8601_seconds("P1DT1H1M1S"), Some(90_061));
        for bad in [
            "", "P", "PT", "180D", "P1Y", "P6M", "P1.5D", "PT1D", "P1H", "P1D1D", "PDT",
        ] {
            assert_eq!(iso8601_seconds(bad), None, "{bad}");
        }
    }
}
