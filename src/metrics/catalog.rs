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
    /// Built at scrape time from the latest poll snapshots.
    Snapshot,
    /// An in-process instrument (counter or histogram) updated as things happen.
    Instrument,
    /// The `process_*` families of the `prometheus` crate (Linux only).
    Process,
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

// Connectors.
family!(
    CONNECTOR_INFO,
    "intune_connector_info",
    Gauge,
    Snapshot,
    ["tenant_id", "connector", "connector_id", "display_name"],
    "A configured Intune connector, certificate or token (polled); always 1."
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
        "status",
        "feature_group",
        "feature",
        "title"
    ],
    "An unresolved service health issue of a watched service (polled); always 1."
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
    ["tenant_id", "message_id", "title", "category", "severity", "major_change"],
    "One of the most recently updated active Message center posts about a watched service (polled); always 1.");
family!(
    MESSAGE_LAST_MODIFIED,
    "intune_message_center_message_last_modified_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "message_id"],
    "When one of the most recently updated active Message center posts (those with an info series) was last modified, as a Unix timestamp (polled); the Message center sorts by it."
);
family!(
    MESSAGE_ACTION_REQUIRED,
    "intune_message_center_action_required_timestamp_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "message_id"],
    "The action-required-by date of an active Message center post, as a Unix timestamp (polled)."
);

// The exporter itself.
family!(
    BUILD_INFO,
    "intune_exporter_build_info",
    Gauge,
    Snapshot,
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
family!(
    SOURCE_DURATION,
    "intune_exporter_source_duration_seconds",
    Gauge,
    Snapshot,
    ["tenant_id", "source"],
    "How long the last poll of this Graph source took, in seconds."
);
family!(GRAPH_REQUESTS, "intune_exporter_graph_requests_total", Counter, Instrument,
    ["tenant_id", "source", "code"],
    "HTTP requests sent to Microsoft Graph, by response status code (\"error\" when no response arrived).");
family!(GRAPH_THROTTLED, "intune_exporter_graph_throttled_total", Counter, Instrument,
    ["tenant_id"],
    "Answers 429 Too Many Requests from Microsoft Graph; every request of the tenant then waits for their Retry-After.");
family!(
    GRAPH_REQUEST_DURATION,
    "intune_exporter_graph_request_duration_seconds",
    Histogram,
    Instrument,
    ["tenant_id", "source"],
    "Time from sending a Graph request to reading its whole answer, in seconds (retries are separate requests)."
);
family!(LIMITER_WAIT, "intune_exporter_graph_limiter_wait_seconds_total", Counter, Instrument,
    ["tenant_id"],
    "Seconds Graph requests of the tenant waited for the client-side rate limiter (Microsoft's documented limits) or for a Retry-After.");
family!(CREDENTIAL_EXPIRY, "intune_exporter_credential_expiry_timestamp_seconds", Gauge, Instrument,
    ["tenant_id"],
    "When the certificate the exporter signs in with expires (its notAfter), as a Unix timestamp; only for certificate credentials.");

/// Every family, in the order of the README reference.
pub static ALL: &[&FamilyDef] = &[
    &TENANT_INFO,
    &TENANT_SUBSCRIPTION_STATE,
    &LICENSE_PREPAID_UNITS,
    &LICENSE_CONSUMED_UNITS,
    &CONNECTOR_INFO,
    &CONNECTOR_HEALTH,
    &CONNECTOR_TYPE_HEALTH,
    &CONNECTOR_EXPIRY,
    &CONNECTOR_LAST_SYNC,
    &APPLE_ENROLLMENT_TERMS_PENDING,
    &CONNECTOR_REPORTED_HEALTH,
    &SERVICE_HEALTH_STATUS,
    &SERVICE_ISSUES_ACTIVE,
    &SERVICE_ISSUE_INFO,
    &SERVICE_ISSUE_START,
    &MESSAGE_CENTER_ACTIVE,
    &MESSAGE_CENTER_INFO,
    &MESSAGE_LAST_MODIFIED,
    &MESSAGE_ACTION_REQUIRED,
    &BUILD_INFO,
    &SOURCE_UP,
    &SOURCE_LAST_SUCCESS,
    &SOURCE_DURATION,
    &GRAPH_REQUESTS,
    &GRAPH_THROTTLED,
    &GRAPH_REQUEST_DURATION,
    &LIMITER_WAIT,
    &CREDENTIAL_EXPIRY,
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
            if f.name.starts_with("intune_") && !f.name.starts_with("intune_exporter_build") {
                let tenant_scoped = !f.name.starts_with("intune_exporter_")
                    || f.labels.first() == Some(&"tenant_id");
                assert!(tenant_scoped, "{} lacks tenant_id", f.name);
            }
        }
    }
}
