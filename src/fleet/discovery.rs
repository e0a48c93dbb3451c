//! GDAP discovery: the partner tenant's delegated-admin customers become tenants to read.
//!
//! `GET /v1.0/tenantRelationships/delegatedAdminCustomers` (application permission
//! `DelegatedAdminRelationship.Read.All`, signed in to the partner tenant) lists the customers;
//! each then signs in with `defaults.auth`, the same multi-tenant app, wherever it has been
//! consented. A customer that has not consented fails its own sign-in (AADSTS700016 or
//! AADSTS65001 in the log) and only its sources are `up` 0.
//!
//! A failed listing keeps the last good list: a Graph outage must not drop every customer's
//! alerts.

use crate::config::{Auth, DiscoveryConfig, TenantConfig};
use crate::graph::odata::{Request, Shape};
use crate::graph::{GraphClient, GraphError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The `discovery` label value of this discovery's metrics.
pub const NAME: &str = "delegated_admin_customers";

/// The listing request.
pub static REQUEST: Request = Request {
    path: "v1.0/tenantRelationships/delegatedAdminCustomers",
    select: &["id", "tenantId", "displayName"],
    shape: Shape::Collection,
    filter: None,
};

/// One `delegatedAdminCustomer`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    /// Documented as the customer's tenant id too; used when `tenantId` is absent.
    id: Option<String>,
    tenant_id: Option<String>,
    display_name: Option<String>,
}

/// Lists the partner's customers as tenants signing in with `customer_auth`, minus the
/// excluded ones, sorted by tenant id.
pub async fn list(
    client: &GraphClient,
    config: &DiscoveryConfig,
    customer_auth: &Arc<Auth>,
) -> Result<Vec<TenantConfig>, GraphError> {
    let raw = client.fetch(NAME, &REQUEST).await?;
    // Decoded one by one: a customer of an unexpected shape (a number where Graph documents a
    // string) is skipped, not the whole listing.
    let customers: Vec<serde_json::Value> = raw.items(REQUEST.path)?;
    Ok(customers_to_tenants(customers, config, customer_auth))
}

fn customers_to_tenants(
    customers: Vec<serde_json::Value>,
    config: &DiscoveryConfig,
    customer_auth: &Arc<Auth>,
) -> Vec<TenantConfig> {
    let mut out = BTreeMap::new();
    let mut skipped = 0usize;
    let mut first_problem = None;
    let mut skip = |problem: String| {
        skipped += 1;
        // Bounded: a display name is whatever the customer typed.
        first_problem.get_or_insert_with(|| problem.chars().take(300).collect::<String>());
    };
    for value in customers {
        let c: Customer = match serde_json::from_value(value) {
            Ok(c) => c,
            Err(err) => {
                skip(format!("a customer of an unexpected shape: {err}"));
                continue;
            }
        };
        let Some(raw_id) = c.tenant_id.or(c.id) else {
            skip(format!("{:?} has no tenant id", c.display_name));
            continue;
        };
        let tenant_id = match crate::config::tenant_identifier(&raw_id) {
            Ok(id) => id,
            Err(err) => {
                skip(format!("{:?}: {err}", c.display_name));
                continue;
            }
        };
        if config.exclude.contains(&tenant_id) || tenant_id == config.partner_tenant_id {
            continue;
        }
        out.entry(tenant_id.clone()).or_insert(TenantConfig {
            tenant_id,
            labels: BTreeMap::new(),
            auth: Arc::clone(customer_auth),
        });
    }
    if skipped > 0 {
        // One line per listing however many are skipped; the others are read.
        tracing::warn!(
            skipped,
            first = first_problem.as_deref().unwrap_or_default(),
            "skipping GDAP customers without a usable tenant id; reading the others"
        );
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretString;
    use std::collections::BTreeSet;
    use std::time::Duration;

    #[test]
    fn customers_become_tenants_minus_exclusions_and_the_partner() {
        let auth = Arc::new(Auth::ClientSecret {
            client_id: "c".into(),
            secret: SecretString::new("s".into()),
            secret_file: None,
        });
        let config = DiscoveryConfig {
            partner_tenant_id: "00000000-0000-0000-0000-00000000000f".into(),
            auth: Arc::clone(&auth),
            interval: Duration::from_secs(3600),
            exclude: BTreeSet::from(["00000000-0000-0000-0000-000000000002".to_string()]),
        };
        let customers: Vec<serde_json::Value> = serde_json::from_str(
            r#"[
              {"id": "00000000-0000-0000-0000-000000000003", "tenantId": "00000000-0000-0000-0000-000000000003", "displayName": "C"},
              {"id": "00000000-0000-0000-0000-000000000001", "displayName": "A"},
              {"tenantId": "00000000-0000-0000-0000-000000000002", "displayName": "Excluded"},
              {"tenantId": "00000000-0000-0000-0000-00000000000F", "displayName": "The partner itself"},
              {"tenantId": "not a tenant", "displayName": "Broken"},
              {"tenantId": 12345, "displayName": "A number"},
              {"displayName": "No id"}
            ]"#,
        )
        .unwrap();
        let ids: Vec<String> = customers_to_tenants(customers, &config, &auth)
            .into_iter()
            .map(|t| t.tenant_id)
            .collect();
        assert_eq!(
            ids,
            [
                "00000000-0000-0000-0000-000000000001",
                "00000000-0000-0000-0000-000000000003"
            ]
        );
    }
}
