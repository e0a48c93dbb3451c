//! The monitoring bundle's inputs that come from the exporter: the metric list the bundle's
//! checker reads (`deploy/tools/metric-api.txt`) and the mixin's connector kinds
//! (`mixin/generated/connectors.json`) are generated from the code (`UPDATE_GOLDEN=1` rewrites
//! them).
//!
//! The checks of the bundle itself run in `deploy/check.sh` (part of `scripts/test`), once each:
//! `deploy/tools/catalog_check.py` compares every metric a dashboard or rule uses with that
//! list, `deploy/tools/render-mixin.sh --check` renders the mixin with jsonnet and diffs it with
//! the checked-in files, another `_config` renders rules promtool accepts, and the layout lint
//! must catch overlapping panels.

#![allow(clippy::unwrap_used)]

mod common;

use intune_exporter::metrics::catalog;

#[test]
fn the_bundle_checker_reads_the_catalog() {
    let mut list = String::from(
        "# Generated from the exporter's metric catalog by tests/bundle.rs (UPDATE_GOLDEN=1 cargo test --test bundle).\n\
         # deploy/tools/catalog_check.py compares the dashboards and rules against it.\n",
    );
    for f in catalog::ALL {
        list.push_str(f.name);
        list.push('\n');
    }
    for p in catalog::PROCESS_FAMILIES {
        list.push_str(p);
        list.push('\n');
    }
    common::assert_golden("deploy/tools/metric-api.txt", &list);
}

/// The connector kinds the mixin knows (mixin/generated/connectors.json) are the exporter's:
/// their `connector` label values, descriptions, admin centre blades and order come from the
/// registry of sources, so renaming or adding a kind changes the rules and dashboards (or fails
/// rendering) instead of silently breaking them. `UPDATE_GOLDEN=1` rewrites the file.
#[test]
fn mixin_connector_list_is_generated_from_the_exporter() {
    let kinds: Vec<serde_json::Value> = intune_exporter::sources::connector_kinds()
        .iter()
        .map(|k| {
            serde_json::json!({"connector": k.label, "description": k.description, "blade": k.blade})
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&kinds).unwrap();
    text.push('\n');
    common::assert_golden("mixin/generated/connectors.json", &text);
}

/// The admin centre hosts and blades the dashboards link to (mixin/generated/admin-centres.json)
/// are the status page's, so the two cannot point to different places.
#[test]
fn mixin_admin_centres_are_generated_from_the_exporter() {
    use intune_exporter::graph::Cloud;
    use intune_exporter::status::view;
    let hosts: serde_json::Map<String, serde_json::Value> = Cloud::ALL
        .iter()
        .map(|(cloud, name)| {
            let host = view::admin_center_host(*cloud).trim_start_matches("https://");
            (name.to_string(), serde_json::Value::from(host))
        })
        .collect();
    let doc = serde_json::json!({
        "hosts": hosts,
        "tenantStatusBlade": view::TENANT_STATUS_BLADE,
        "connectorOverviewBlade": intune_exporter::sources::connector::CONNECTORS_AND_TOKENS,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    common::assert_golden("mixin/generated/admin-centres.json", &text);
}
