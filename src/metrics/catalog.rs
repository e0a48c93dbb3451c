//! The catalog: every metric family the exporter can expose, declared once.
//!
//! Names, help texts, types and label names are the exporter's public API: dashboards and
//! alerting rules depend on them, so renaming one is a breaking change (see CHANGELOG.md).
//! Code refers to these entries, never to a metric name as a string literal, and the README's
//! metric reference is generated from [`ALL`] (a test fails when the two differ).

/// The Prometheus type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that can go up and down; also used for statesets and info series.
    Gauge,
    /// A monotonically increasing count.
    Counter,
    /// A distribution of observations in buckets.
    Histogram,
}

impl Kind {
    /// The name used in `# TYPE` lines and in the README.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// Where a family's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Rendered per tenant from its latest poll snapshots when they are published; the first
    /// label is `tenant_id`, so that tenants' blocks sort like their series.
    Snapshot,
    /// An in-process instrument (counter, histogram, or a gauge set when it is known) updated
    /// as things happen; not per tenant.
    Instrument,
    /// The `process_*` families of the `prometheus` crate (Linux only).
    Process,
    /// Listed in the partner tenant by GDAP discovery and replaced by each successful
    /// listing; not rendered per tenant, though the first label is the customer's `tenant_id`.
    Partner,
}

/// One metric family: name, help, type and label names, in the order they are emitted.
#[derive(Debug, PartialEq, Eq)]
pub struct FamilyDef {
    /// The full metric name.
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// The Prometheus type.
    pub kind: Kind,
    /// Label names, in emission order.
    pub labels: &'static [&'static str],
    /// Where the values come from.
    pub origin: Origin,
}

macro_rules! family {
    ($ident:ident, $name:literal, $kind:ident, $origin:ident, [$($label:literal),*], $help:literal) => {
        #[doc = $help]
        pub static $ident: FamilyDef = FamilyDef {
            name: $name,
            help: $help,
            kind: Kind::$kind,
            labels: &[$($label),*],
            origin: Origin::$origin,
        };
    };
}

// Tenant details.
family!(
    TENANT_INFO,
    "intune_tenant_info",
    Gauge,
    Snapshot,
    ["tenant_id", "tenant_name", "country_code", "mdm_authority"],
    "Tenant details from Microsoft Graph /organization (polled); always 1."
);
family!(TENANT_SUBSCRIPTION_STATE, "intune_tenant_subscription_state", Gauge, Snapshot,
    ["tenant_id", "state"],
    "State of the tenant's Intune subscription from Graph /deviceManagement (polled); stateset over pending, active, warning, disabled, deleted, blocked, locked_out.");
family!(LICENSE_PREPAID_UNITS, "intune_license_prepaid_units", Gauge, Snapshot,
    ["tenant_id", "sku", "state"],
    "Prepaid licence units of a subscribed SKU that carries an Intune service plan, by state: enabled, suspended, warning, locked_out (polled).");
family!(LICENSE_CONSUMED_UNITS, "intune_license_consumed_units", Gauge, Snapshot,
    ["tenant_id", "sku"],
    "Licence units assigned to users for a subscribed SKU that carries an Intune service plan (polled).");
family!(SUBSCRIPTION_INFO, "intune_subscription_info", Gauge, Snapshot,
    ["tenant_id", "subscription_id", "sku", "trial"],
    "A commercial subscription that carries an Intune service plan, from Graph /directory/subscriptions (polled); always 1. `trial` is true, false or unknown.");
family!(SUBSCRIPTION_STATUS, "intune_subscription_status", Gauge, Snapshot,
    ["tenant_id", "subscription_id", "status"],
    "Lifecycle status of a commercial subscription that carries Intune (polled); stateset over enabled, warning, suspended, locked_out, deleted.");
family!(SUBSCRIPTION_NEXT_LIFECYCLE_TIMESTAMP, "intune_subscription_next_lifecycle_timestamp_seconds", Gauge, Snapshot,
    ["tenant_id", "subscription_id"],
    "When a commercial subscription that carries Intune moves to its next lifecycle state if not renewed, as Unix time (polled); Graph does not say whether it renews by itself.");

// Connectors.
family!(
    CONNECTOR_INFO,
    "intune_connector_info",
    Gauge,
    Snapshot,
    ["tenant_id", "connector", "connector_id", "display_name", "state", "version", "support"],
    "A configured Intune connector, certificate or token (polled); always 1. `state` is the state Graph reports for it (its state, status, partnerState, syncStatus, lastAppSyncStatus or onboardingStatus member in snake_case; unknown when absent or not listed; empty for kinds without one); health already takes it into account. `version` is the installed version Graph reports for certificate, NDES, AD and Exchange connectors, as sent (empty when absent and for other kinds). `support` is where that version stands at scrape time by Microsoft's documented support policy: supported, out_of_support (a warning) or may_fail (unhealthy); empty when the exporter cannot judge it (no version, not a version, or no documented policy, as for Exchange connectors); health already takes it into account."
);
family!(CONNECTOR_HEALTH, "intune_connector_health", Gauge, Snapshot,
    ["tenant_id", "connector", "connector_id", "status"],
    "Connector health by the Tenant status page rules, evaluated at scrape time from polled timestamps; stateset over healthy, warning, unhealthy.");
family!(CONNECTOR_TYPE_HEALTH, "intune_connector_type_health", Gauge, Snapshot,
    ["tenant_id", "connector", "status"],
    "Health of a connector kind: its worst instance, or not_configured when it has none (evaluated at scrape time); stateset over healthy, warning, unhealthy, not_configured.");
family!(
    CONNECTOR_EXPIRY,
    "intune_connector_expiry_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "connector", "connector_id"],
    "When the connector's certificate or token expires, as a Unix timestamp (polled)."
);
family!(CONNECTOR_LAST_SYNC, "intune_connector_last_sync_timestamp_seconds", Gauge, Snapshot,
    ["tenant_id", "connector", "connector_id"],
    "When the connector last synchronised (or sent a heartbeat or checked in), as a Unix timestamp (polled).");

family!(APPLE_ENROLLMENT_TERMS_PENDING, "intune_apple_enrollment_terms_pending", Gauge, Snapshot,
    ["tenant_id", "connector_id"],
    "1 when Apple Business Manager has new terms that must be accepted before this ADE/DEP token syncs again (lastSyncErrorCode 3), else 0 (polled).");
family!(CONNECTOR_REPORTED_HEALTH, "intune_connector_reported_health", Gauge, Snapshot,
    ["tenant_id", "connector_name", "connector_id", "status"],
    "Microsoft's own connector verdict from beta /deviceManagement connectorStatus (polled); stateset over healthy, warning, unhealthy, unknown.");

// Service health and Message center.
family!(SERVICE_HEALTH_STATUS, "intune_service_health_status", Gauge, Snapshot,
    ["tenant_id", "service_name", "status"],
    "Microsoft 365 service health of a watched service (polled); stateset over the serviceHealthStatus members in snake_case, and unknown.");
family!(SERVICE_ISSUES_ACTIVE, "intune_service_issues_active", Gauge, Snapshot,
    ["tenant_id", "service_name", "classification"],
    "Unresolved service health issues of a watched service, by classification: incident, advisory (polled).");
family!(SERVICE_ISSUES_RECENTLY_RESOLVED, "intune_service_issues_recently_resolved", Gauge, Snapshot,
    ["tenant_id", "service_name", "classification"],
    "Service health issues of a watched service resolved in the 30 days before the scrape (by end date), by classification: incident, advisory; the Service health page's past incidents and advisories (polled, judged at scrape time).");
family!(
    SERVICE_ISSUE_INFO,
    "intune_service_issue_info",
    Gauge,
    Snapshot,
    [
        "tenant_id",
        "service_name",
        "issue_id",
        "classification",
        "origin",
        "status",
        "feature_group",
        "feature",
        "title"
    ],
    "An unresolved service health issue of a watched service (polled); always 1. `origin` is who caused it: microsoft, third_party or customer (the tenant's own, not shared with other tenants), unknown when absent."
);
family!(
    SERVICE_ISSUE_START,
    "intune_service_issue_start_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "issue_id"],
    "When an unresolved service health issue started, as a Unix timestamp (polled)."
);
family!(MESSAGE_CENTER_ACTIVE, "intune_message_center_messages_active", Gauge, Snapshot,
    ["tenant_id", "category", "severity"],
    "Active Message center posts about a watched service, by category and severity (polled; active = no end date or one in the future, at scrape time).");
family!(MESSAGE_CENTER_INFO, "intune_message_center_message_info", Gauge, Snapshot,
    ["tenant_id", "message_id", "title", "category", "severity", "major_change", "tags"],
    "An active Message center post about a watched service, one of the most recently updated or one with an act-by date (polled); always 1. `tags` lists its tags among admin_impact, data_privacy, developer_impact, feature_update, new_feature, retirement, user_impact, comma-separated (empty when none).");
family!(
    MESSAGE_LAST_MODIFIED,
    "intune_message_center_message_last_modified_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "message_id"],
    "When one of the most recently updated active Message center posts was last modified, as a Unix timestamp (polled); the Message center sorts by it, and only those posts have it."
);
family!(
    MESSAGE_ACTION_REQUIRED,
    "intune_message_center_action_required_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "message_id"],
    "The action-required-by date of an active Message center post about a watched service, for every such post that has one, as a Unix timestamp (polled)."
);

// The partner's delegated admin access (GDAP).
family!(GDAP_RELATIONSHIP_INFO, "intune_gdap_relationship_info", Gauge, Partner,
    ["tenant_id", "relationship_id", "display_name", "customer_name", "status"],
    "A GDAP relationship between the partner tenant and the customer tenant `tenant_id`, from Graph /tenantRelationships/delegatedAdminRelationships, listed with discovery.delegated_admin_customers; always 1. `status` is Graph's status in snake_case (active, expiring, expired, terminated, approval_pending, ...; unknown when absent or not documented). A relationship that expired or was terminated more than 30 days before the listing is left out.");
family!(GDAP_RELATIONSHIP_END, "intune_gdap_relationship_end_timestamp_seconds", Gauge, Partner,
    ["tenant_id", "relationship_id"],
    "When a GDAP relationship ends (its endDateTime), as a Unix timestamp (listed): the partner's technicians then lose the admin roles it grants in the customer tenant, unless it auto-extends.");
family!(GDAP_RELATIONSHIP_AUTO_EXTEND, "intune_gdap_relationship_auto_extend_seconds", Gauge, Partner,
    ["tenant_id", "relationship_id"],
    "How long a GDAP relationship extends itself by when it reaches its end (autoExtendDuration, such as P180D), in seconds (listed); 0 when it does not (PT0S, the default). Absent when Graph sends a duration that is not in days, hours, minutes and seconds.");

// The exporter itself.
family!(
    BUILD_INFO,
    "intune_exporter_build_info",
    Gauge,
    Instrument,
    ["version", "revision", "rustc_version"],
    "The version of intune-exporter that is running; always 1."
);
family!(SOURCE_UP, "intune_exporter_source_up", Gauge, Snapshot,
    ["tenant_id", "source"],
    "1 if the last poll of this Graph source succeeded, 0 if it failed (its last good data is still exported).");
family!(
    SOURCE_LAST_SUCCESS,
    "intune_exporter_source_last_success_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "source"],
    "When this Graph source was last polled successfully, as a Unix timestamp."
);
family!(SIGN_IN_UP, "intune_exporter_sign_in_up", Gauge, Snapshot,
    ["tenant_id"],
    "1 if the last sign-in to this tenant (the token request that starts a poll, or its cached token) succeeded, 0 if it failed: then every source of the tenant is down with it.");
family!(GRAPH_REQUESTS, "intune_exporter_graph_requests_total", Counter, Instrument,
    ["source", "code"],
    "Requests sent to Microsoft Graph, by response status code (\"error\" when no response arrived); each item of a JSON batch counts as one.");
family!(GRAPH_THROTTLED, "intune_exporter_graph_throttled_total", Counter, Instrument,
    ["source"],
    "Answers 429 Too Many Requests from Microsoft Graph; every request of the tenant then waits for their Retry-After.");
family!(
    GRAPH_REQUEST_DURATION,
    "intune_exporter_graph_request_duration_seconds",
    Histogram,
    Instrument,
    ["source"],
    "Time from sending a Graph request to reading its whole answer, in seconds (retries are separate requests; a JSON batch item observes the round trip that carried it)."
);
family!(LIMITER_WAIT, "intune_exporter_graph_limiter_wait_seconds_total", Counter, Instrument,
    [],
    "Seconds Graph requests waited for their tenant's client-side rate limiter (Microsoft's documented limits) or for a Retry-After, all tenants together.");
family!(CREDENTIAL_EXPIRY, "intune_exporter_credential_expiry_timestamp_seconds", Gauge, Instrument,
    ["client_id", "thumbprint"],
    "When a certificate the exporter signs in with expires (its notAfter), as a Unix timestamp; one series per certificate (SHA-1 thumbprint, as the Entra portal shows it), however many tenants use it.");
family!(APP_CREDENTIALS_UP, "intune_exporter_app_credentials_up", Gauge, Instrument,
    ["client_id"],
    "With app_credentials configured: 1 if the last read of the exporter's app registration in its home tenant succeeded, 0 if it failed (a 403 means Application.Read.All is not granted there; the last credentials read are kept).");
family!(APP_CREDENTIAL_INFO, "intune_exporter_app_credential_info", Gauge, Instrument,
    ["client_id", "key_id", "kind", "display_name", "hint", "thumbprint", "in_use"],
    "A client secret (`kind` password) or certificate (`kind` certificate) of the exporter's app registration, read with app_credentials; always 1. `hint` is the first three characters of a secret, as Entra shows them; `thumbprint` the SHA-1 thumbprint of a certificate (as on intune_exporter_credential_expiry_timestamp_seconds), empty when Graph does not give one. `in_use` is true for the credential app_credentials signs in with (a secret with its first three characters, a certificate with its thumbprint), unknown when Graph gave no hint or thumbprint to compare, else false.");
family!(APP_CREDENTIAL_END, "intune_exporter_app_credential_end_timestamp_seconds", Gauge, Instrument,
    ["client_id", "key_id"],
    "When a client secret or certificate of the exporter's app registration ends (its endDateTime), as a Unix timestamp (read with app_credentials); ended ones stay until they are removed from the app.");
family!(TENANTS, "intune_exporter_tenants", Gauge, Instrument,
    ["origin"],
    "Tenants this exporter (this shard) reads, by where they come from: config, file (tenant_files), discovery (GDAP).");
family!(DISCOVERY_UP, "intune_exporter_discovery_up", Gauge, Instrument,
    ["discovery"],
    "1 if the last run of a tenant discovery succeeded (tenant_files: every file read; delegated_admin_customers: the GDAP listing; delegated_admin_relationships: the GDAP relationships listed with it), 0 if it failed (the last good tenants and relationships are kept).");
family!(
    DISCOVERY_LAST_SUCCESS,
    "intune_exporter_discovery_last_success_timestamp_seconds",
    Gauge,
    Instrument,
    ["discovery"],
    "When a tenant discovery last succeeded, as a Unix timestamp."
);
family!(CONFIG_LAST_RELOAD_SUCCESSFUL, "intune_exporter_config_last_reload_successful", Gauge, Instrument,
    [],
    "1 if the last configuration reload (SIGHUP or POST /-/reload) succeeded, 0 if the new configuration was refused and the previous one is still in force.");
family!(CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP, "intune_exporter_config_last_reload_success_timestamp_seconds", Gauge, Instrument,
    [],
    "When the configuration was last loaded successfully (at start or by a reload), as a Unix timestamp.");

/// Every family, in the order of the README reference.
pub static ALL: &[&FamilyDef] = &[
    &TENANT_INFO,
    &TENANT_SUBSCRIPTION_STATE,
    &LICENSE_PREPAID_UNITS,
    &LICENSE_CONSUMED_UNITS,
    &SUBSCRIPTION_INFO,
    &SUBSCRIPTION_STATUS,
    &SUBSCRIPTION_NEXT_LIFECYCLE_TIMESTAMP,
    &CONNECTOR_INFO,
    &CONNECTOR_HEALTH,
    &CONNECTOR_TYPE_HEALTH,
    &CONNECTOR_EXPIRY,
    &CONNECTOR_LAST_SYNC,
    &APPLE_ENROLLMENT_TERMS_PENDING,
    &CONNECTOR_REPORTED_HEALTH,
    &SERVICE_HEALTH_STATUS,
    &SERVICE_ISSUES_ACTIVE,
    &SERVICE_ISSUES_RECENTLY_RESOLVED,
    &SERVICE_ISSUE_INFO,
    &SERVICE_ISSUE_START,
    &MESSAGE_CENTER_ACTIVE,
    &MESSAGE_CENTER_INFO,
    &MESSAGE_LAST_MODIFIED,
    &MESSAGE_ACTION_REQUIRED,
    &GDAP_RELATIONSHIP_INFO,
    &GDAP_RELATIONSHIP_END,
    &GDAP_RELATIONSHIP_AUTO_EXTEND,
    &BUILD_INFO,
    &SOURCE_UP,
    &SOURCE_LAST_SUCCESS,
    &SIGN_IN_UP,
    &GRAPH_REQUESTS,
    &GRAPH_THROTTLED,
    &GRAPH_REQUEST_DURATION,
    &LIMITER_WAIT,
    &CREDENTIAL_EXPIRY,
    &APP_CREDENTIALS_UP,
    &APP_CREDENTIAL_INFO,
    &APP_CREDENTIAL_END,
    &TENANTS,
    &DISCOVERY_UP,
    &DISCOVERY_LAST_SUCCESS,
    &CONFIG_LAST_RELOAD_SUCCESSFUL,
    &CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP,
];

/// The `process_*` families exported on Linux by the `prometheus` crate's process collector.
pub static PROCESS_FAMILIES: &[&str] = &[
    "process_cpu_seconds_total",
    "process_max_fds",
    "process_open_fds",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_threads",
    "process_virtual_memory_bytes",
];

/// The README's metric reference: one Markdown table row per family.
pub fn markdown_reference() -> String {
    let mut out = String::from("| Metric | Type | Labels | Description |\n|---|---|---|---|\n");
    for f in ALL {
        let labels: Vec<String> = f.labels.iter().map(|l| format!("`{l}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            f.name,
            f.kind.as_str(),
            labels.join(", "),
            f.help.replace('|', "\\|")
        ));
    }
    out.push_str(&format!(
        "| `process_*` | | | On Linux: {}. |\n",
        PROCESS_FAMILIES
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_labels_follow_the_conventions() {
        let mut seen = HashSet::new();
        for f in ALL {
            assert!(seen.insert(f.name), "{} declared twice", f.name);
            assert!(f.name.starts_with("intune_"), "{}", f.name);
            assert_eq!(
                f.kind == Kind::Counter,
                f.name.ends_with("_total"),
                "{}",
                f.name
            );
            for label in f.labels {
                assert!(
                    !["instance", "job", "type", "service"].contains(label),
                    "{} uses the reserved label {label}",
                    f.name
                );
                assert!(label.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            }
            // Tenant data and per-tenant self-metrics are rendered per tenant and sorted by
            // tenant_id first; exporter-level families may go without it.
            // GDAP relationships are listed once in the partner tenant, under each customer's
            // tenant_id.
            if !f.name.starts_with("intune_exporter_") {
                assert!(
                    [Origin::Snapshot, Origin::Partner].contains(&f.origin),
                    "{}",
                    f.name
                );
            }
            if [Origin::Snapshot, Origin::Partner].contains(&f.origin)
                || f.labels.contains(&"tenant_id")
            {
                assert_eq!(f.labels.first(), Some(&"tenant_id"), "{}", f.name);
            }
        }
    }
}
