//! The status page's data as JSON (`/api/v1/tenants`, `/api/v1/tenants/{tenant_id}`), serialised
//! from the same views as the HTML, so scripts see exactly what the page shows.

use super::view::{FleetView, TenantView};

/// `GET /api/v1/tenants`: the fleet table.
pub fn fleet(view: &FleetView) -> String {
    to_json(view)
}

/// `GET /api/v1/tenants/{tenant_id}`: one tenant's page.
pub fn tenant(view: &TenantView) -> String {
    to_json(view)
}

/// The body of a 404.
pub fn not_found(tenant_id: &str) -> String {
    to_json(&serde_json::json!({ "error": format!("no tenant {tenant_id} is configured") }))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // The views hold strings, numbers, booleans and timestamps only: serialising cannot fail.
    let mut text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
